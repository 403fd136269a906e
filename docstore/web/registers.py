"""The registers: registering incoming and outgoing documents, register views, document pages, attachments."""

from __future__ import annotations

import io
import tempfile
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

import storage
from docstore import accounts, books, clock, database, extraction, numbering, organisation, registry, routing, workdays
from docstore.archive import records
from docstore.directives.drafts import directive_of
from docstore.errors import DocstoreError, ValidationFailed
from docstore.history import of as history_of
from docstore.models import CHANNELS, DIRECTIONS, EXTRACTION_STATES, STATUSES, URGENCIES
from docstore.web.common import (
    audit_context,
    clearance_names,
    form_status,
    optional_int,
    page_number,
    page_size,
    roles_required,
    show_errors,
    translate,
)
from docstore.web.forms import AttachForm, IncomingForm, OutgoingForm, RegistrationForm, SeriesForm, VoidForm
from docstore.web.routing_forms import panel_forms

bp = Blueprint("registers", __name__)
CLERKS = registry.CLERK_ROLES
PREVIEWABLE = {"pdf", "png", "jpeg", "gif", "text"}


# --- helpers shared by the views -------------------------------------------------------------------------------


def file_store() -> storage.FileStore:
    """Return the content-addressed store of this instance."""
    return extraction.file_store(current_app.config)


def upload_policy() -> registry.UploadPolicy:
    return registry.upload_policy(current_app.config)


def uploads(field_name: str = "attachments") -> list[registry.Upload]:
    """Return the files sent in `field_name`."""
    return registry.uploads_from(request.files.getlist(field_name))


def visible_document(document_id: int):
    """Return the document if the current user may open it; 404 otherwise (its existence is not revealed)."""
    return registry.get_document(document_id, viewer=current_user)


def _office_datetime(value: datetime | None) -> datetime | None:
    """Return a naive local time typed by the user as an aware instant in the office's time zone."""
    if value is None:
        return None
    return value.replace(tzinfo=ZoneInfo(current_app.config["OFFICE_TIMEZONE"]))


def _fill_choices(form: RegistrationForm, direction: str) -> None:
    form.series_id.choices = [(s.id, f"{s.name} ({s.code})") for s in registry.list_series(direction)]
    form.document_type_id.choices = [(None, _("— choose —"))] + [(t.id, t.name) for t in registry.document_types()]
    form.urgency.choices = [(key, translate(label)) for key, label in URGENCIES.items()]
    form.classification.choices = list(enumerate(clearance_names()))
    departments = [(None, _("— none —"))] + [
        (row.department.id, "\u2003" * row.depth + row.department.name)
        for row in organisation.department_tree(include_inactive=False)
    ]
    form.department_id.choices = departments
    if isinstance(form, IncomingForm):
        form.channel.choices = [(key, translate(label)) for key, label in CHANNELS.items()]
        form.correspondent_id.choices = [(None, _("— choose —"))] + [
            (c.id, c.name) for c in registry.active_correspondents()
        ]
    if isinstance(form, OutgoingForm):
        form.department_id.label.text = _("Issuing department")
        form.signer_id.choices = [(None, _("— choose —"))] + [
            (u.id, u.full_name) for u in accounts.active_users() if u.has_role("leader", "admin")
        ]
        targets = recipient_choices()
        form.main_recipients.choices = targets
        form.copy_recipients.choices = targets


def recipient_choices() -> dict[str, list[tuple[str, str]]]:
    """Return the recipients a document can be sent to, as choices grouped so that a clerk sees at once who is
    outside (the address book) and who is one of ours (the departments)."""
    return {
        _("Address book"): [(f"correspondent:{c.id}", c.name) for c in registry.active_correspondents()],
        _("Our departments"): [
            (f"department:{row.department.id}", "\u2003" * row.depth + row.department.name)
            for row in organisation.department_tree(include_inactive=False)
        ],
    }


def parse_targets(values: list[str]) -> list[tuple[str, int]]:
    """Return recipients chosen as "correspondent:ID" / "department:ID" as (kind, id) pairs."""
    result = []
    for value in values or []:
        kind, _sep, ident = value.partition(":")
        if kind in ("correspondent", "department") and ident.isascii() and ident.isdigit() and len(ident) < 10:
            result.append((kind, int(ident)))
    return result


def _registration_from(form: RegistrationForm) -> registry.Registration:
    data = registry.Registration(
        series_id=form.series_id.data,
        title=form.title.data or "",
        document_type_id=form.document_type_id.data,
        urgency=form.urgency.data or "normal",
        classification=form.classification.data or 0,
        pages=form.pages.data,
        copies=form.copies.data,
        department_id=form.department_id.data,
        deadline=form.deadline.data,
        summary=form.summary.data or "",
        notes=form.notes.data or "",
    )
    if isinstance(form, IncomingForm):
        data.received_at = _office_datetime(form.received_at.data)
        data.channel = form.channel.data
        data.correspondent_id = form.correspondent_id.data
        data.new_correspondent_name = form.new_correspondent_name.data or "" if "new_correspondent_name" in form else ""
        data.sender_reference = form.sender_reference.data or ""
        data.sender_date = form.sender_date.data
    if isinstance(form, OutgoingForm):
        data.signer_id = form.signer_id.data
        data.document_date = form.document_date.data
        data.sent_on = form.sent_on.data
        if "main_recipients" in form:
            data.main_recipients = parse_targets(form.main_recipients.data)
            data.copy_recipients = parse_targets(form.copy_recipients.data)
    return data


def _warn_duplicates(document) -> None:
    """Say when an attached file is already attached to other documents (they are linked on the page)."""
    found = registry.duplicates_of(document, current_user)
    numbers = sorted({other.number for others in found.values() for other in others})
    if numbers:
        flash(_("A file you attached is already attached to %(numbers)s.", numbers=", ".join(numbers)), "info")


# --- registering -----------------------------------------------------------------------------------------------

FORMS = {"incoming": IncomingForm, "outgoing": OutgoingForm, "internal": RegistrationForm}


@bp.route("/documents/new/<direction>", methods=["GET", "POST"])
@roles_required(*CLERKS)
def register(direction: str):
    if direction not in FORMS:
        abort(404)
    form = FORMS[direction]()
    _fill_choices(form, direction)
    if request.method == "GET":
        local_now = clock.now().astimezone(ZoneInfo(current_app.config["OFFICE_TIMEZONE"]))
        if isinstance(form, IncomingForm):
            form.received_at.data = local_now.replace(second=0, microsecond=0, tzinfo=None)
            form.channel.data = "paper"
        series_id = optional_int(request.args.get("series"))
        form.series_id.data = series_id or (form.series_id.choices[0][0] if form.series_id.choices else None)
        if isinstance(form, IncomingForm):
            form.correspondent_id.data = optional_int(request.args.get("sender"))
    elif form.validate_on_submit():
        try:
            document = registry.register_document(
                audit_context(), direction, _registration_from(form), uploads(), upload_policy(), file_store()
            )
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            extraction.wake()
            flash(_("Registered as %(number)s.", number=document.number), "success")
            _warn_duplicates(document)
            return redirect(url_for("registers.show", document_id=document.id))
    status = form_status(form)
    return render_template("registers/register.html", form=form, direction=direction), status


# --- register views --------------------------------------------------------------------------------------------


def _day(value: str | None) -> date | None:
    """Return a day typed as YYYY-MM-DD, or None when it is not one."""
    try:
        return datetime.strptime((value or "").strip(), "%Y-%m-%d").date()
    except ValueError:
        return None


def _day_start(value: str | None) -> datetime | None:
    day = _day(value)
    return None if day is None else numbering.office_day_start(day, current_app.config["OFFICE_TIMEZONE"])


@bp.route("/documents/")
@login_required
def index():
    args = request.args
    until = _day_start(args.get("until"))
    direction = args.get("direction", "")
    criteria = registry.DocumentFilter(
        series_id=optional_int(args.get("series")),
        direction=direction if direction in DIRECTIONS else "",
        year=optional_int(args.get("year")),
        document_type_id=optional_int(args.get("type")),
        urgency=args.get("urgency", "") if args.get("urgency") in URGENCIES else "",
        correspondent_id=optional_int(args.get("sender")),
        department_id=optional_int(args.get("department")),
        status=args.get("status", "") if args.get("status") in STATUSES else "",
        registered_from=_day_start(args.get("since")),
        registered_until=until + timedelta(days=1) if until else None,
        text=args.get("q", ""),
        sort=args.get("sort") if args.get("sort") in registry.SORTS else registry.DEFAULT_SORT,
    )
    page = registry.list_documents(criteria, page_number(), page_size(), viewer=current_user)
    return render_template(
        "registers/index.html",
        page=page,
        criteria=criteria,
        args=args,
        series=registry.list_series(include_inactive=True),
        years=registry.years_in_use(),
        types=registry.document_types(include_inactive=True),
        departments=organisation.department_tree(),
        correspondents=registry.active_correspondents(),
        can_register=current_user.has_role(*CLERKS),
        office_wide=registry.sees_office_wide(current_user),
    )


@bp.route("/documents/<int:document_id>")
@login_required
def show(document_id: int):
    document = visible_document(document_id)
    if document.status == "archived":
        database.write_after_reads(lambda: records.note_document_view(audit_context(), document))
    return document_page(document)


def document_page(document, routing_forms: dict | None = None, status: int = 200):
    """Render a document's page; a routing view passes the form it sends back with its mistakes (and 422)."""
    history = history_of("document", document.id, 50, viewer=current_user)
    panel = routing.panel(current_user, document, workdays.calendar_for(current_app.config))
    return render_template(
        "registers/show.html",
        document=document,
        history=history,
        duplicates=registry.duplicates_of(document, current_user),
        void_form=VoidForm(formdata=None),  # blank, also when a routing form comes back with its input
        attach_form=AttachForm(formdata=None),
        can_edit=current_user.has_role(*CLERKS) and document.status == "registered",
        routing=panel,
        routing_forms=panel_forms(panel, routing_forms),
        directive=directive_of(document.id, current_user),
        EXTRACTION_STATES=EXTRACTION_STATES,
        PREVIEWABLE=PREVIEWABLE,
    ), status


@bp.route("/documents/<int:document_id>/receipt")
@login_required
def receipt(document_id: int):
    document = visible_document(document_id)
    return render_template("registers/receipt.html", document=document, printed_at=clock.now())


@bp.route("/documents/<int:document_id>/receipt.docx")
@login_required
def receipt_docx(document_id: int):
    document = visible_document(document_id)
    data = books.receipt_docx(
        document, book_labels(), timezone=current_app.config["OFFICE_TIMEZONE"], locale=str(get_locale())
    )
    return send_file(
        io.BytesIO(data), mimetype=books.DOCX_MIME, as_attachment=True, download_name=books.receipt_name(document)
    )


@bp.route("/documents/<int:document_id>/edit", methods=["GET", "POST"])
@roles_required(*CLERKS)
def edit(document_id: int):
    document = visible_document(document_id)
    form = FORMS[document.direction](obj=document)
    _fill_choices(form, document.direction)
    del form.attachments
    for name in ("main_recipients", "copy_recipients", "new_correspondent_name"):  # set when registering only
        if name in form:
            delattr(form, name)
    form.series_id.render_kw = {"disabled": True}
    if request.method == "GET":
        if isinstance(form, IncomingForm) and document.received_at:
            local = clock.as_utc(document.received_at).astimezone(ZoneInfo(current_app.config["OFFICE_TIMEZONE"]))
            form.received_at.data = local.replace(tzinfo=None)
    elif form.validate_on_submit():
        data = _registration_from(form)
        values = {name: getattr(data, name) for name in registry.editable_fields(document.direction)}
        if _same_minute(values.get("received_at"), document.received_at):
            del values["received_at"]  # the form shows minutes: an untouched field must not drop the seconds
        try:
            registry.update_document(audit_context(), document.id, values, current_app.config["OFFICE_TIMEZONE"])
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("Changes to %(number)s are saved.", number=document.number), "success")
            return redirect(url_for("registers.show", document_id=document.id))
    status = form_status(form)
    return render_template("registers/edit.html", form=form, document=document), status


def _same_minute(typed: datetime | None, stored: datetime | None) -> bool:
    if typed is None or stored is None:
        return False
    return clock.as_utc(typed).replace(second=0, microsecond=0) == clock.as_utc(stored).replace(second=0, microsecond=0)


@bp.route("/documents/<int:document_id>/void", methods=["POST"])
@roles_required(*CLERKS)
def void(document_id: int):
    document = visible_document(document_id)
    form = VoidForm()
    if form.validate_on_submit():
        try:
            registry.void_document(audit_context(), document.id, form.reason.data)
        except DocstoreError as exc:
            flash(translate(exc.errors["reason"] if isinstance(exc, ValidationFailed) else exc.msg), "error")
        else:
            flash(
                _("Number %(number)s is cancelled. It stays in the register, marked void.", number=document.number),
                "success",
            )
    return redirect(url_for("registers.show", document_id=document.id))


@bp.route("/documents/<int:document_id>/attachments", methods=["POST"])
@roles_required(*CLERKS)
def attach(document_id: int):
    document = visible_document(document_id)
    if AttachForm().validate_on_submit():
        try:
            rows = registry.attach_files(audit_context(), document.id, uploads(), upload_policy(), file_store())
        except DocstoreError as exc:
            message = exc.errors.get("attachments", exc.msg) if isinstance(exc, ValidationFailed) else exc.msg
            flash(translate(message), "error")
        else:
            extraction.wake()
            flash(ngettext("%(num)s file attached.", "%(num)s files attached.", len(rows)), "success")
            _warn_duplicates(document)
    return redirect(url_for("registers.show", document_id=document.id) + "#attachments")


def _attachment_file(attachment_id: int, inline: bool):
    attachment, path = database.write_after_reads(  # a filed document's download is logged on its record
        lambda: records.open_attachment(audit_context(), attachment_id, current_user, file_store())
    )
    if inline and attachment.kind not in PREVIEWABLE:
        abort(404)
    response = send_file(
        path,
        mimetype=attachment.mime,
        as_attachment=not inline,
        download_name=attachment.filename,
        conditional=True,
        etag=attachment.sha256,
    )
    if inline:  # the document page shows the preview in a frame of its own
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        policy = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
        if attachment.kind != "pdf":  # Chromium's PDF viewer needs scripts; an image or a text never does
            policy += "; sandbox"
        response.headers["Content-Security-Policy"] = policy
    return response


@bp.route("/attachments/<int:attachment_id>/download")
@login_required
def download(attachment_id: int):
    return _attachment_file(attachment_id, inline=False)


@bp.route("/attachments/<int:attachment_id>/preview")
@login_required
def preview(attachment_id: int):
    return _attachment_file(attachment_id, inline=True)


# --- the registers themselves (administrators) -----------------------------------------------------------------


def _series_form(**kwargs) -> SeriesForm:
    form = SeriesForm(**kwargs)
    form.direction.choices = [(key, translate(label)) for key, label in DIRECTIONS.items()]
    form.department_id.choices = [(None, _("— none —"))] + [
        (row.department.id, "\u2003" * row.depth + f"{row.department.name} ({row.department.code})")
        for row in organisation.department_tree(include_inactive=False)
    ]
    return form


@bp.route("/registers/")
@login_required
def registers():
    return render_template(
        "registers/registers.html",
        series=registry.series_overview(
            current_user, numbering.office_year(clock.now(), current_app.config["OFFICE_TIMEZONE"])
        ),
        can_manage=current_user.has_role("admin"),
        office_wide=current_user.has_role(*registry.OFFICE_WIDE_ROLES),
        can_register=current_user.has_role(*CLERKS),
        can_print_books=current_user.has_role(*registry.OFFICE_WIDE_ROLES),
    )


@bp.route("/registers/new", methods=["GET", "POST"])
@roles_required("admin")
def create_series():
    form = _series_form()
    if form.validate_on_submit():
        try:
            series = registry.create_series(
                audit_context(),
                code=form.code.data,
                name=form.name.data,
                direction=form.direction.data,
                pattern=form.pattern.data,
                department_id=form.department_id.data,
            )
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("Register %(name)s is created.", name=series.name), "success")
            return redirect(url_for("registers.registers"))
    status = form_status(form)
    return render_template("registers/series_form.html", form=form, series=None), status


@bp.route("/registers/<int:series_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_series(series_id: int):
    series = registry.get_series(series_id)
    form = _series_form(obj=series)
    form.code.render_kw = {"readonly": True}
    form.direction.render_kw = {"disabled": True}
    if form.validate_on_submit():
        values = {
            "name": form.name.data,
            "pattern": form.pattern.data,
            "department_id": form.department_id.data,
            "active": request.form.get("active") == "y",
        }
        try:
            registry.update_series(audit_context(), series.id, values)
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("Register %(name)s is saved.", name=series.name), "success")
            return redirect(url_for("registers.registers"))
    status = form_status(form)
    return render_template("registers/series_form.html", form=form, series=series), status


# --- the register book -----------------------------------------------------------------------------------------

#: A book larger than this is spooled to a temporary file rather than kept in memory while it is written.
BOOK_MEMORY_BYTES = 16 << 20


def book_labels() -> dict:
    """Return the texts of the register book and the receipt in the user's language."""
    labels = {key: translate(text) for key, text in books.LABELS.items()}
    labels["urgencies"] = {key: translate(text) for key, text in URGENCIES.items()}
    labels["statuses"] = {key: translate(text) for key, text in STATUSES.items()}
    labels["classifications"] = clearance_names()
    return labels


@bp.route("/registers/<int:series_id>/book")
@roles_required(*registry.OFFICE_WIDE_ROLES)
def book(series_id: int):
    series = registry.get_series(series_id)
    year = numbering.office_year(clock.now(), current_app.config["OFFICE_TIMEZONE"])
    values = {
        "from": request.args.get("from", "").strip() or f"{year}-01-01",
        "until": request.args.get("until", "").strip() or f"{year}-12-31",
        "format": request.args.get("format", ""),
    }
    if not values["format"]:
        return render_template("registers/book.html", series=series, values=values, errors={})
    start, end = _day(values["from"]), _day(values["until"])
    errors = {}
    if start is None:
        errors["from"] = _("Enter the first day as year-month-day, for example %(day)s.", day=f"{year}-01-01")
    if end is None:
        errors["until"] = _("Enter the last day as year-month-day, for example %(day)s.", day=f"{year}-12-31")
    if not errors:
        out = tempfile.SpooledTemporaryFile(max_size=BOOK_MEMORY_BYTES)  # the response closes it once sent
        try:
            books.write_book(
                values["format"],
                series,
                start,
                end,
                out,
                timezone=current_app.config["OFFICE_TIMEZONE"],
                labels=book_labels(),
                clearance=current_user.clearance,
            )
        except ValidationFailed as exc:
            out.close()
            errors = {name: translate(message) for name, message in exc.errors.items()}
        else:
            out.seek(0)
            return send_file(
                out,
                mimetype=books.FORMATS[values["format"]].mime,
                as_attachment=True,
                download_name=books.download_name(series, start, end, values["format"]),
            )
    return render_template("registers/book.html", series=series, values=values, errors=errors), 422
