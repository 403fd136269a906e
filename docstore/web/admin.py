"""Administration: users, departments, substitutes, the audit log, document types, the search index and the
working-day calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.dates import get_day_names, get_month_names
from babel.lists import format_list
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from docstore import accounts, audit, clock, history, indexing, numbering, organisation, registry, workdays
from docstore.errors import N_, DocstoreError, Msg, ValidationFailed
from docstore.history import of as history_of
from docstore.models import CALENDAR_DAY_KINDS, DEPARTMENT_KINDS, ROLES, URGENCIES
from docstore.web.common import (
    LANGUAGES,
    audit_context,
    clearance_names,
    form_status,
    optional_int,
    page_number,
    page_size,
    password_min_length,
    roles_required,
    show_errors,
    translate,
)
from docstore.web.forms import (
    CalendarDayForm,
    CalendarImportForm,
    ConfirmForm,
    DepartmentForm,
    DocumentTypeForm,
    PasswordResetForm,
    SubstitutionForm,
    UserForm,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@roles_required("admin")
def _admins_only():
    return None


def _department_choices(blank: str, exclude: int | None = None) -> list[tuple]:
    rows = organisation.department_tree(include_inactive=False)
    return [(None, blank)] + [
        (row.department.id, "\u2003" * row.depth + f"{row.department.name} ({row.department.code})")
        for row in rows
        if row.department.id != exclude
    ]


def _user_form(**kwargs) -> UserForm:
    form = UserForm(**kwargs)
    form.department_id.choices = _department_choices(_("— none —"))
    form.roles.choices = [(key, translate(label)) for key, label in ROLES.items()]
    form.clearance.choices = list(enumerate(clearance_names()))
    form.locale.choices = [("", _("As the browser asks")), *LANGUAGES.items()]
    return form


# --- users -----------------------------------------------------------------------------------------------------


@bp.route("/users")
def users():
    show = request.args.get("show", "active")
    role = request.args.get("role", "")
    criteria = accounts.UserFilter(
        text=request.args.get("q", ""),
        department_id=optional_int(request.args.get("department")),
        role=role if role in ROLES else "",
        active={"active": True, "inactive": False}.get(show),
    )
    page = accounts.list_users(criteria, page_number(), page_size())
    return render_template(
        "admin/users.html",
        page=page,
        criteria=criteria,
        show=show,
        departments=organisation.department_tree(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
def create_user():
    form = _user_form()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                audit_context(),
                username=form.username.data,
                full_name=form.full_name.data,
                password=form.password.data or "",
                password_min_length=password_min_length(),
                email=form.email.data,
                department_id=form.department_id.data,
                roles=form.roles.data or [],
                clearance=form.clearance.data,
                locale=form.locale.data or None,
            )
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("User %(name)s is created and can sign in now.", name=user.username), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    status = form_status(form)
    return render_template("admin/user_form.html", form=form, user=None, min_length=password_min_length()), status


def _render_user(user, form=None, reset_form=None, substitution_form=None, status=200):
    if form is None:
        form = _user_form(obj=user, data={"roles": sorted(user.roles), "locale": user.locale or ""})
    if substitution_form is None:
        substitution_form = SubstitutionForm()
    substitution_form.substitute_id.choices = [(None, _("— choose —"))] + [
        (other.id, f"{other.full_name} ({other.username})") for other in accounts.active_users() if other.id != user.id
    ]
    history = history_of("user", user.id, 20)
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        reset_form=reset_form or PasswordResetForm(),
        substitution_form=substitution_form,
        substitutions=accounts.substitutions_of(user.id),
        confirm_form=ConfirmForm(),
        history=history,
        min_length=password_min_length(),
    ), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = accounts.get_user(user_id)
    if request.method == "GET":
        return _render_user(user)
    form = _user_form()
    if form.validate_on_submit():
        values = {
            "full_name": form.full_name.data,
            "email": form.email.data,
            "department_id": form.department_id.data,
            "roles": form.roles.data or [],
            "clearance": form.clearance.data,
            "locale": form.locale.data or None,
        }
        try:
            accounts.update_user(audit_context(), user.id, values)
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("Changes to %(name)s are saved.", name=user.username), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    form.username.data = user.username
    return _render_user(user, form=form, status=422)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def set_user_active(user_id: int):
    if ConfirmForm().validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            user = accounts.update_user(audit_context(), user_id, {"active": active})
        except ValidationFailed as exc:
            flash(" ".join(translate(message) for message in exc.errors.values()), "error")
        else:
            flash(
                _("%(name)s can sign in again.", name=user.username)
                if active
                else _("%(name)s is deactivated and signed out everywhere.", name=user.username),
                "success",
            )
    return redirect(url_for("admin.edit_user", user_id=user_id))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def reset_password(user_id: int):
    user = accounts.get_user(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            accounts.set_password(audit_context(), user.id, form.new_password.data, password_min_length())
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("The password of %(name)s is reset. Give it to them in person.", name=user.username), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return _render_user(user, reset_form=form, status=422)


@bp.route("/users/<int:user_id>/substitutions", methods=["POST"])
def add_substitution(user_id: int):
    user = accounts.get_user(user_id)
    form = SubstitutionForm()
    if form.validate_on_submit():
        try:
            accounts.add_substitution(
                audit_context(),
                user.id,
                form.substitute_id.data,
                form.starts_on.data,
                form.ends_on.data,
                form.reason.data,
            )
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("The substitute is named."), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id) + "#substitutes")
    return _render_user(user, substitution_form=form, status=422)


@bp.route("/substitutions/<int:substitution_id>/cancel", methods=["POST"])
def cancel_substitution(substitution_id: int):
    user_id = optional_int(request.form.get("user_id"))
    if ConfirmForm().validate_on_submit():
        try:
            substitution = accounts.cancel_substitution(audit_context(), substitution_id)
            user_id = substitution.user_id
        except DocstoreError as exc:
            flash(translate(exc.msg), "error")
        else:
            flash(_("The substitution is cancelled."), "success")
    return redirect(url_for("admin.edit_user", user_id=user_id) + "#substitutes" if user_id else url_for("admin.users"))


# --- departments -----------------------------------------------------------------------------------------------


def _department_form(exclude: int | None = None, **kwargs) -> DepartmentForm:
    form = DepartmentForm(**kwargs)
    form.kind.choices = [(key, translate(label)) for key, label in DEPARTMENT_KINDS.items()]
    form.parent_id.choices = _department_choices(_("— top level —"), exclude=exclude)
    form.head_id.choices = _head_choices(exclude, kwargs.get("obj"))
    return form


def _head_choices(department_id: int | None, department=None) -> dict:
    """Return the choices of a department's head: none, its members, then the other users (a select's groups)."""
    members, others = organisation.head_candidates(department_id)
    choices = {None: [(None, _("— none —"))]}
    if members:
        choices[_("Members of this department")] = [(user.id, user.full_name) for user in members]
    others_label = _("Other users") if members else _("Users")
    choices[others_label] = [(user.id, user.full_name) for user in others]
    head = department.head if department is not None else None
    if head is not None and not head.active:  # kept until replaced: show it, rather than drop it on the next save
        choices[None].append((head.id, _("%(name)s (deactivated)", name=head.full_name)))
    return choices


@bp.route("/departments")
def departments():
    return render_template("admin/departments.html", rows=organisation.department_tree(), confirm_form=ConfirmForm())


@bp.route("/departments/new", methods=["GET", "POST"])
def create_department():
    form = _department_form(parent_id=optional_int(request.args.get("parent")))
    if form.validate_on_submit():
        try:
            department = organisation.create_department(
                audit_context(),
                code=form.code.data,
                name=form.name.data,
                kind=form.kind.data,
                parent_id=form.parent_id.data,
                head_id=form.head_id.data,
            )
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("Department %(name)s is created.", name=department.name), "success")
            return redirect(url_for("admin.departments"))
    status = form_status(form)
    return render_template("admin/department_form.html", form=form, department=None), status


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
def edit_department(department_id: int):
    department = organisation.get_department(department_id)
    form = _department_form(exclude=department.id, obj=department)
    if form.validate_on_submit():
        values = {
            "code": form.code.data,
            "name": form.name.data,
            "kind": form.kind.data,
            "parent_id": form.parent_id.data,
            "head_id": form.head_id.data,
        }
        try:
            organisation.update_department(audit_context(), department.id, values)
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("Changes to %(name)s are saved.", name=department.name), "success")
            return redirect(url_for("admin.departments"))
    status = form_status(form)
    history = history_of("department", department.id, 20)
    return render_template(
        "admin/department_form.html",
        form=form,
        department=department,
        confirm_form=ConfirmForm(),
        history=history,
    ), status


@bp.route("/departments/<int:department_id>/active", methods=["POST"])
def set_department_active(department_id: int):
    if ConfirmForm().validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            department = organisation.set_department_active(audit_context(), department_id, active)
        except DocstoreError as exc:
            flash(translate(exc.msg), "error")
        else:
            flash(
                _("%(name)s is active again.", name=department.name)
                if active
                else _("%(name)s is deactivated.", name=department.name),
                "success",
            )
    return redirect(url_for("admin.departments"))


# --- audit log -------------------------------------------------------------------------------------------------


def _parse_day(value: str | None) -> datetime | None:
    """Return the start of the office-time day `value` (YYYY-MM-DD) as an aware datetime, or None."""
    try:
        day = datetime.strptime((value or "").strip(), "%Y-%m-%d").date()
    except ValueError:
        return None
    return numbering.office_day_start(day, current_app.config["OFFICE_TIMEZONE"])


@bp.route("/audit")
def audit_log():
    since = _parse_day(request.args.get("since"))
    until = _parse_day(request.args.get("until"))
    criteria = audit.EventFilter(
        action=request.args.get("action", "").strip(),
        actor_id=optional_int(request.args.get("actor")),
        object_type=request.args.get("object_type", "").strip(),
        object_id=request.args.get("object_id", "").strip(),
        since=since,
        until=until + timedelta(days=1) if until else None,
    )
    page = history.page(criteria, page_number(), page_size(), viewer=current_user)
    return render_template(
        "admin/audit.html",
        OBJECT_TYPES=history.OBJECT_TYPES,
        page=page,
        args=request.args,
        users=accounts.active_users(),
        confirm_form=ConfirmForm(),
        report=None,
    )


@bp.route("/audit/verify", methods=["POST"])
def verify_audit():
    report = audit.verify_chain() if ConfirmForm().validate_on_submit() else None
    page = history.page(audit.EventFilter(), 1, page_size(), viewer=current_user)
    return render_template(
        "admin/audit.html",
        OBJECT_TYPES=history.OBJECT_TYPES,
        page=page,
        args={},
        users=accounts.active_users(),
        confirm_form=ConfirmForm(),
        report=report,
    )


# --- document types --------------------------------------------------------------------------------------------


@bp.route("/document-types", methods=["GET", "POST"])
def document_types():
    form = DocumentTypeForm()
    if form.validate_on_submit():
        try:
            created = registry.create_document_type(audit_context(), form.code.data, form.name.data, form.position.data)
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("Document type %(name)s is added.", name=created.name), "success")
            return redirect(url_for("admin.document_types"))
    status = form_status(form)
    return render_template(
        "admin/document_types.html", form=form, types=registry.document_types(include_inactive=True)
    ), status


@bp.route("/document-types/<int:type_id>", methods=["GET", "POST"])
def edit_document_type(type_id: int):
    document_type = registry.get_document_type(type_id)
    form = DocumentTypeForm(obj=document_type)
    if form.validate_on_submit():
        values = {"code": form.code.data, "name": form.name.data, "active": form.active.data}
        if form.position.data is not None:
            values["position"] = form.position.data
        try:
            registry.update_document_type(audit_context(), document_type.id, values)
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("Document type %(name)s is saved.", name=document_type.name), "success")
            return redirect(url_for("admin.document_types"))
    status = form_status(form)
    return render_template("admin/document_type_form.html", form=form, document_type=document_type), status


# --- search index ----------------------------------------------------------------------------------------------


@bp.route("/search")
def search_index():
    state = indexing.status(indexing.index_for(current_app))
    return render_template("admin/search.html", state=state)


@bp.route("/search/rebuild", methods=["POST"])
def rebuild_index():
    if ConfirmForm().validate_on_submit():
        indexing.request_rebuild(f"asked by {current_user.username}")
        flash(_("The index will be rebuilt in the background. Until it is done, search says so."), "success")
    return redirect(url_for("admin.search_index"))


# --- working-day calendar --------------------------------------------------------------------------------------


def _calendar_year() -> int:
    """Return the ?year= of the request, or this year in the office when it is missing or out of range."""
    year = optional_int(request.values.get("year"))
    if year is None or not workdays.FIRST_YEAR <= year <= workdays.LAST_YEAR:
        return numbering.office_year(clock.now(), current_app.config["OFFICE_TIMEZONE"])
    return year


def _calendar_day_form(**kwargs) -> CalendarDayForm:
    form = CalendarDayForm(**kwargs)
    form.kind.choices = [(key, translate(label)) for key, label in CALENDAR_DAY_KINDS.items()]
    return form


def _deadline_question(calendar: workdays.Calendar) -> tuple[workdays.Deadline | None, dict[str, Msg]]:
    """Answer the deadline calculator's question in the query string (?from=&days= or &urgency=), if asked."""
    args = request.args
    if "from" not in args:
        return None, {}
    errors: dict[str, Msg] = {}
    start = None
    raw_start = args.get("from", "").strip()
    if raw_start:
        try:
            start = date.fromisoformat(raw_start)
        except ValueError:
            errors["from"] = Msg(N_("Use a date written as YYYY-MM-DD."))
    raw_days = args.get("days", "").strip()
    days = optional_int(raw_days)
    if raw_days and days is None:
        errors["days"] = Msg(N_("Enter a whole number from 0 to %(n)s."), n=workdays.MAX_DAYS)
    try:
        answer = calendar.deadline(start, days, args.get("urgency", "").strip() or None)
    except ValidationFailed as exc:
        return None, exc.errors | errors  # a malformed value is explained as such, not as a missing one
    return (None, errors) if errors else (answer, {})


def _render_calendar(year: int, day_form=None, import_form=None, problems=None, status=200):
    calendar = workdays.calendar_for(current_app.config)
    answer, answer_errors = _deadline_question(calendar)
    locale = get_locale()
    day_names = get_day_names("wide", context="format", locale=locale)
    return render_template(
        "admin/calendar.html",
        year=year,
        today=calendar.today(),
        rules=calendar.rules,
        months=calendar.months(year),
        days=workdays.list_days(year),
        month_names=get_month_names("wide", context="stand-alone", locale=locale),
        day_names=day_names,
        # Joined the language's way: "lunes, martes y miércoles", "星期一、星期二和星期三".
        working_week=format_list([day_names[number - 1] for number in sorted(calendar.rules.week)], locale=locale),
        short_day_names=get_day_names("abbreviated", context="stand-alone", locale=locale),
        day_form=day_form or _calendar_day_form(),
        import_form=import_form or CalendarImportForm(),
        problems=problems or [],
        answer=answer,
        answer_errors=answer_errors,
        args=request.args,
        CALENDAR_DAY_KINDS=CALENDAR_DAY_KINDS,
        URGENCIES=URGENCIES,
        confirm_form=ConfirmForm(),
    ), status


@bp.route("/calendar")
def calendar():
    return _render_calendar(_calendar_year())


@bp.route("/calendar/days", methods=["POST"])
def set_calendar_day():
    form = _calendar_day_form()
    if form.validate_on_submit():
        rules = workdays.rules_from(current_app.config)
        try:
            day, created = workdays.set_day(
                audit_context(), form.day.data, form.kind.data, form.name.data, week=rules.week
            )
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            # The date ends each message: a sentence that starts with a date starts in lower case in Spanish.
            when = format_date(day.day, "full")
            if created:
                flash(_("Added to the calendar: %(day)s.", day=when), "success")
            else:
                flash(_("Changed in the calendar: %(day)s.", day=when), "success")
            if day.kind == "holiday" and day.day.isoweekday() not in rules.week:
                flash(_("That day was not a working day anyway: the holiday changes no deadline."), "info")
            return redirect(url_for("admin.calendar", year=day.day.year) + "#days")
    year = form.day.data.year if form.day.data else _calendar_year()
    return _render_calendar(year, day_form=form, status=422)


@bp.route("/calendar/days/<day>/remove", methods=["POST"])
def remove_calendar_day(day: str):
    try:
        when = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if ConfirmForm().validate_on_submit():
        workdays.remove_day(audit_context(), when)
        flash(_("Removed from the calendar: %(day)s.", day=format_date(when, "full")), "success")
    return redirect(url_for("admin.calendar", year=when.year) + "#days")


@bp.route("/calendar/import", methods=["POST"])
def import_calendar_days():
    year = _calendar_year()
    form = CalendarImportForm()
    problems = []
    if form.validate_on_submit():
        try:
            outcome = workdays.import_days(
                audit_context(),
                year,
                form.lines.data or "",
                form.replace.data,
                week=workdays.rules_from(current_app.config).week,
            )
        except workdays.LinesRefused as exc:
            problems = exc.lines  # listed once, above the form, with their summary: not as the field's error too
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(
                _(
                    "Imported: %(added)s added, %(changed)s changed, %(unchanged)s unchanged, %(removed)s removed.",
                    added=outcome.added,
                    changed=outcome.changed,
                    unchanged=outcome.unchanged,
                    removed=outcome.removed,
                ),
                "success",
            )
            return redirect(url_for("admin.calendar", year=year) + "#days")
    return _render_calendar(year, import_form=form, problems=problems, status=422)
