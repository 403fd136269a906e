"""Outgoing directives in the browser: the work list, drafting, the approval steps, the Word file, issue, replies.

Each step's view parses its form, calls one service in a writing transaction and goes back to the directive's page
with what happened; a refused step says why and changes nothing. A directive the user may not open is 404.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from docstore import accounts, database, extraction, organisation, registry
from docstore.directives import (
    drafts,
    flow,
    inbox,
    issuing,
    kinds,
    office_templates,
    pdf,
    placeholders,
    render,
    summary,
)
from docstore.directives.content import parse_body
from docstore.errors import DocstoreError, Forbidden, NotFound, ValidationFailed
from docstore.extensions import db
from docstore.models import CHANNELS, COUNTERSIGN_STATES, DIRECTIVE_STATES, URGENCIES
from docstore.web.common import (
    audit_context,
    clearance_names,
    form_status,
    office_today,
    optional_int,
    page_number,
    page_size,
    roles_required,
    show_errors,
    translate,
)
from docstore.web.directive_forms import (
    SECTION_NAMES,
    CountersignForm,
    DirectiveForm,
    IssueForm,
    OpinionForm,
    ReasonForm,
    ReplyForm,
    TemplateForm,
)
from docstore.web.registers import file_store, parse_targets, recipient_choices, upload_policy

bp = Blueprint("directives", __name__, url_prefix="/directives")

TABS = ("waiting", "mine", "all")


# --- lists -----------------------------------------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    tab = request.args.get("tab", "waiting")
    if tab not in TABS:
        tab = "waiting"
    state = request.args.get("state", "")
    state = state if state in DIRECTIVE_STATES else ""
    if tab == "waiting":
        page = inbox.waiting_list(current_user, page_number(), page_size())
    else:
        page = drafts.list_directives(current_user, page_number(), page_size(), state=state or None, mine=tab == "mine")
    if page.page > page.pages > 0:
        return redirect(url_for("directives.index", **dict(request.args, page=page.pages)))
    return render_template(
        "directives/index.html",
        page=page,
        tab=tab,
        state=state,
        waiting_count=inbox.waiting_count(current_user) if tab != "waiting" else page.total,
        DIRECTIVE_STATES=DIRECTIVE_STATES,
        KINDS=kinds.KINDS,
    )


# --- drafting --------------------------------------------------------------------------------------------------


def _kind_choices() -> list[tuple[str, str]]:
    choices = [(code, translate(kind.label)) for code, kind in kinds.KINDS.items()]
    choices += [(f"template:{t.id}", t.name) for t in office_templates.list_templates()]
    return choices


def _fill_choices(form: DirectiveForm, department_id: int | None) -> None:
    form.kind.choices = _kind_choices()
    tree = organisation.department_tree(include_inactive=False)
    form.department_id.choices = [(row.department.id, "\u2003" * row.depth + row.department.name) for row in tree]
    series = drafts.outgoing_series(department_id)
    form.series_id.choices = [(None, _("— the department's own —"))] + [
        (s.id, f"{s.name} ({s.code})") for s in registry.list_series("outgoing")
    ]
    if series and form.series_id.data is None and request.method == "GET":
        form.series_id.data = series[0].id
    form.urgency.choices = [(key, translate(label)) for key, label in URGENCIES.items()]
    form.classification.choices = list(enumerate(clearance_names()))[: current_user.clearance + 1]
    form.signer_id.choices = [(None, _("— any leader —"))] + [
        (u.id, u.full_name) for u in accounts.active_users() if u.has_role("leader")
    ]
    targets = recipient_choices()
    form.main_recipients.choices = targets
    form.copy_recipients.choices = targets
    form.countersign_department_ids.choices = [(row.department.id, row.department.name) for row in tree]


def _default_issuer() -> str:
    configured = current_app.config.get("DIRECTIVE_ISSUER") or ""
    if configured:
        return configured
    department = current_user.department
    while department is not None and department.parent is not None:
        department = department.parent
    return department.name if department else ""


def _draft_from(form: DirectiveForm) -> drafts.Draft:
    kind, template_id = form.kind.data or "", None
    if kind.startswith("template:"):
        kind, template_id = "template", optional_int(kind.partition(":")[2])
    return drafts.Draft(
        kind=kind,
        template_id=template_id,
        title=form.title.data or "",
        issuer=form.issuer.data or "",
        issuer_mark=form.issuer_mark.data or "",
        department_id=form.department_id.data,
        series_id=form.series_id.data,
        urgency=form.urgency.data or "normal",
        classification=form.classification.data or 0,
        signer_id=form.signer_id.data,
        signer_title=form.signer_title.data or "",
        body=form.body.data or "",
        sections={name: getattr(form, f"section_{name}").data or "" for name in SECTION_NAMES},
        attachments_note=form.attachments_note.data or "",
        note=form.note.data or "",
        their_reference=form.their_reference.data or "",
        place=form.place.data or "",
        feedback_requested=bool(form.feedback_requested.data),
        feedback_deadline=form.feedback_deadline.data,
        reply_to_id=optional_int(form.reply_to_id.data),
        main_recipients=parse_targets(form.main_recipients.data),
        copy_recipients=parse_targets(form.copy_recipients.data),
        countersign_department_ids=list(form.countersign_department_ids.data or []),
    )


def _prefill(form: DirectiveForm, draft: drafts.Draft) -> None:
    form.kind.data = f"template:{draft.template_id}" if draft.kind == "template" else draft.kind
    for name in drafts.COLUMNS:
        if name in ("kind", "template_id", "sections", "reply_to_id"):  # set apart: they take another shape
            continue
        getattr(form, name).data = getattr(draft, name)
    form.reply_to_id.data = str(draft.reply_to_id or "")
    for name in SECTION_NAMES:
        getattr(form, f"section_{name}").data = draft.sections.get(name, "")
    form.main_recipients.data = [f"{target}:{ident}" for target, ident in draft.main_recipients]
    form.copy_recipients.data = [f"{target}:{ident}" for target, ident in draft.copy_recipients]
    form.countersign_department_ids.data = draft.countersign_department_ids


def _sections(form: DirectiveForm) -> list[tuple[object, str]]:
    """Return each type's section fields with the codes of the types that have them (the page shows only those)."""
    return [
        (
            getattr(form, f"section_{name}"),
            " ".join(code for code, kind in kinds.KINDS.items() if any(s.name == name for s in kind.sections)),
        )
        for name in SECTION_NAMES
    ]


def _reply_to(document_id: int | None):
    if document_id is None:
        return None
    try:
        return registry.get_document(document_id, viewer=current_user)
    except NotFound:
        return None


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = DirectiveForm()
    if request.method == "GET":
        reply_to = _reply_to(optional_int(request.args.get("reply_to")))
        draft = drafts.Draft(
            kind=request.args.get("kind", "notice"),
            issuer=_default_issuer(),
            department_id=current_user.department_id,
            place=current_app.config.get("DIRECTIVE_PLACE") or "",
            sections={"appeal": kinds.DEFAULT_APPEAL},
        )
        if reply_to is not None:
            draft.reply_to_id = reply_to.id
            draft.title = reply_to.title
            draft.their_reference = reply_to.sender_reference
            if reply_to.correspondent_id:
                draft.main_recipients = [("correspondent", reply_to.correspondent_id)]
        _prefill(form, draft)
    _fill_choices(form, form.department_id.data)
    if form.validate_on_submit():
        try:
            with database.writing():
                directive = drafts.create_draft(audit_context(), _draft_from(form))
        except ValidationFailed as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash(_("The draft is saved. Submit it for review when it is ready."), "success")
            return redirect(url_for("directives.show", directive_id=directive.id))
    reply_to = _reply_to(optional_int(form.reply_to_id.data))
    return (
        render_template("directives/form.html", form=form, directive=None, reply_to=reply_to, sections=_sections(form)),
        form_status(form),
    )


@bp.route("/<int:directive_id>/edit", methods=["GET", "POST"])
@login_required
def edit(directive_id: int):
    directive = drafts.get_directive(directive_id, current_user)
    if "edit" not in flow.actions_for(current_user, directive):
        flash(_("This directive cannot be edited now."), "error")
        return redirect(url_for("directives.show", directive_id=directive.id))
    form = DirectiveForm()
    if request.method == "GET":
        _prefill(form, drafts.Draft.of(directive))
        form.version.data = directive.version
    _fill_choices(form, form.department_id.data)
    if form.validate_on_submit():
        state = directive.state
        try:
            with database.writing():
                directive = drafts.update_draft(
                    audit_context(), directive_id, _draft_from(form), optional_int(form.version.data)
                )
        except ValidationFailed as exc:
            db.session.rollback()
            show_errors(form, exc)
        except DocstoreError as exc:
            db.session.rollback()
            if isinstance(exc, Forbidden | NotFound):
                raise
            form.form_errors.append(translate(exc.msg))
        else:
            if state == "recheck" and directive.state == "signoff":
                flash(_("Saved. The text changed after sign-off, so it goes back to its signer."), "info")
            else:
                flash(_("Saved."), "success")
            return redirect(url_for("directives.show", directive_id=directive.id))
    reply_to = _reply_to(optional_int(form.reply_to_id.data))
    return (
        render_template(
            "directives/form.html", form=form, directive=directive, reply_to=reply_to, sections=_sections(form)
        ),
        form_status(form),
    )


# --- the directive's page --------------------------------------------------------------------------------------


def directive_page(directive, forms: dict | None = None, status: int = 200):
    """Render a directive's page; a step that failed validation passes its form back (with 422)."""
    forms = forms or {}
    actions = flow.actions_for(current_user, directive)
    countersign_form = forms.get("countersign") or CountersignForm(formdata=None)
    mine = flow.countersigning_for(current_user, directive)
    countersign_form.department_id.choices = [
        (c.department_id, c.department.name) for c in directive.countersigns if c.department_id in mine
    ]
    steps = drafts.steps_of(directive.id)
    language = drafts.language_of(directive)
    feedback = issuing.feedback(directive, office_today()) if directive.state == "issued" else []
    return render_template(
        "directives/show.html",
        directive=directive,
        kind=drafts.kind_of(directive),
        actions=actions,
        warnings=drafts.warnings(directive) if directive.state in drafts.EDITABLE_STATES else [],
        blocks=parse_body(directive.body, language),
        sections=[
            (section, parse_body((directive.sections or {}).get(section.name, ""), language))
            for section in drafts.kind_of(directive).sections
        ],
        steps=steps,
        feedback=feedback,
        openable=issuing.openable(directive, current_user, feedback),
        forms={
            "opinion": forms.get("opinion") or OpinionForm(formdata=None),
            "countersign": countersign_form,
            "reason": forms.get("reason") or ReasonForm(formdata=None),
            "issue": IssueForm(formdata=None),
            "reply": forms.get("reply") or ReplyForm(formdata=None),
        },
        DIRECTIVE_STATES=DIRECTIVE_STATES,
        COUNTERSIGN_STATES=COUNTERSIGN_STATES,
        STEP_LABELS=drafts.STEP_LABELS,
        CHANNELS=CHANNELS,
        URGENCIES=URGENCIES,
        FEEDBACK_STATES=issuing.FEEDBACK_STATES,
        office_pdf=pdf.office_binary() is not None,
    ), status


@bp.route("/<int:directive_id>")
@login_required
def show(directive_id: int):
    return directive_page(drafts.get_directive(directive_id, current_user))


def _step(directive_id: int, key: str, form, call: Callable[[], object], done: str | Callable[[object], str]):
    """Run one step (a service call) for a valid `form` in a writing transaction, then go back to the page.

    `done` is the message of success, or makes it from what the service returned.
    """
    directive = drafts.get_directive(directive_id, current_user)
    if form.validate_on_submit():
        try:
            with database.writing():
                outcome = call()
        except ValidationFailed as exc:
            db.session.rollback()
            if not all(name in form for name in exc.errors):  # a rule of the directive itself, not of this form
                flash(" ".join(translate(message) for message in exc.errors.values()), "error")
                return redirect(url_for("directives.show", directive_id=directive_id))
            show_errors(form, exc)
            return directive_page(drafts.get_directive(directive_id, current_user), {key: form}, 422)
        except (Forbidden, NotFound):
            db.session.rollback()
            raise
        except DocstoreError as exc:
            db.session.rollback()
            flash(translate(exc.msg), "error")
        else:
            extraction.wake()  # registering and issuing attach the Word file: its text becomes searchable
            flash(done(outcome) if callable(done) else done, "success")
        return redirect(url_for("directives.show", directive_id=directive_id))
    return directive_page(directive, {key: form}, 422)


@bp.route("/<int:directive_id>/submit", methods=["POST"])
@login_required
def submit(directive_id: int):
    form = OpinionForm()
    return _step(
        directive_id,
        "opinion",
        form,
        lambda: flow.submit(audit_context(), directive_id),
        _("Submitted: the office reviews it next."),
    )


@bp.route("/<int:directive_id>/approve-review", methods=["POST"])
@login_required
def approve_review(directive_id: int):
    form = OpinionForm()
    return _step(
        directive_id,
        "opinion",
        form,
        lambda: flow.approve_review(audit_context(), directive_id, form.opinion.data or ""),
        _("Review passed."),
    )


@bp.route("/<int:directive_id>/countersign", methods=["POST"])
@login_required
def countersign(directive_id: int):
    form = CountersignForm()
    agree = request.form.get("decision") != "decline"
    return _step(
        directive_id,
        "countersign",
        form,
        lambda: flow.countersign(
            audit_context(), directive_id, form.department_id.data, agree, form.opinion.data or ""
        ),
        _("Countersigned.") if agree else _("Declined: the directive goes back to the office's review."),
    )


@bp.route("/<int:directive_id>/sign-off", methods=["POST"])
@login_required
def sign_off(directive_id: int):
    form = OpinionForm()
    return _step(
        directive_id,
        "opinion",
        form,
        lambda: flow.sign_off(audit_context(), directive_id, form.opinion.data or ""),
        _("Signed off: the office re-checks it and gives it its number."),
    )


@bp.route("/<int:directive_id>/send-back", methods=["POST"])
@login_required
def send_back(directive_id: int):
    form = ReasonForm()
    return _step(
        directive_id,
        "reason",
        form,
        lambda: flow.send_back(audit_context(), directive_id, form.reason.data or ""),
        _("Sent back one step."),
    )


@bp.route("/<int:directive_id>/withdraw", methods=["POST"])
@login_required
def withdraw(directive_id: int):
    form = ReasonForm()
    return _step(
        directive_id,
        "reason",
        form,
        lambda: flow.withdraw(audit_context(), directive_id, form.reason.data or ""),
        _("Withdrawn."),
    )


@bp.route("/<int:directive_id>/register", methods=["POST"])
@roles_required(*registry.CLERK_ROLES)
def register(directive_id: int):
    return _step(
        directive_id,
        "opinion",
        OpinionForm(),
        lambda: issuing.register(audit_context(), directive_id, upload_policy(), file_store()),
        lambda directive: _("Registered as %(number)s; its Word file is attached.", number=directive.document.number),
    )


@bp.route("/<int:directive_id>/issue", methods=["POST"])
@roles_required(*registry.CLERK_ROLES)
def issue(directive_id: int):
    directive = drafts.get_directive(directive_id, current_user)
    dispatches = []
    for recipient in directive.recipients:
        if recipient.internal:
            continue
        channel = request.form.get(f"channel-{recipient.id}") or "email"
        dispatches.append(issuing.Dispatch(recipient.id, channel, office_today()))
    return _step(
        directive_id,
        "issue",
        IssueForm(),
        lambda: issuing.issue(audit_context(), directive_id, upload_policy(), dispatches),
        lambda issued: (
            _("Issued: the recipient departments find it in their incoming register.")
            if any(recipient.internal for recipient in issued.recipients)
            else _("Issued: its dispatch to each outside recipient is logged below.")
        ),
    )


@bp.route("/<int:directive_id>/replies", methods=["POST"])
@roles_required(*registry.CLERK_ROLES)
def link_reply(directive_id: int):
    form = ReplyForm()
    return _step(
        directive_id,
        "reply",
        form,
        lambda: issuing.link_reply(audit_context(), directive_id, form.recipient_id.data or 0, form.number.data or ""),
        _("The reply is linked."),
    )


@bp.route("/<int:directive_id>/chase", methods=["POST"])
@roles_required(*registry.CLERK_ROLES)
def chase(directive_id: int):
    return _step(
        directive_id,
        "chase",
        IssueForm(),
        lambda: issuing.chase(audit_context(), directive_id, office_today()),
        _("The departments whose reply is awaited were reminded (once a day at most)."),
    )


# --- files -----------------------------------------------------------------------------------------------------


@bp.route("/<int:directive_id>/word")
@login_required
def word(directive_id: int):
    directive = drafts.get_directive(directive_id, current_user)
    data, name = render.word_file(directive, file_store())
    return send_file(io.BytesIO(data), mimetype=render.DOCX_MIME, as_attachment=True, download_name=name)


@bp.route("/<int:directive_id>/pdf")
@login_required
def as_pdf(directive_id: int):
    directive = drafts.get_directive(directive_id, current_user)
    data, name = render.word_file(directive, file_store())
    try:
        converted = pdf.convert_to_pdf(data)
    except DocstoreError as exc:
        flash(translate(exc.msg), "error")
        return redirect(url_for("directives.show", directive_id=directive_id))
    return send_file(
        io.BytesIO(converted), mimetype="application/pdf", as_attachment=True, download_name=name[:-5] + ".pdf"
    )


@bp.route("/<int:directive_id>/replies.docx")
@login_required
def replies_summary(directive_id: int):
    directive = drafts.get_directive(directive_id, current_user)
    if directive.state != "issued":
        abort(404)
    data = summary.feedback_summary(directive, office_today(), current_user)
    stem = render.file_name(directive)[:-5]
    return send_file(
        io.BytesIO(data), mimetype=render.DOCX_MIME, as_attachment=True, download_name=f"{stem}-replies.docx"
    )


# --- the office's templates ------------------------------------------------------------------------------------


@bp.route("/templates/", methods=["GET", "POST"])
@roles_required("admin")
def templates():
    form = TemplateForm()
    form.language.choices = [(code, translate(label)) for code, label in office_templates.LANGUAGES.items()]
    if form.validate_on_submit():
        upload = request.files.get("file")
        data = upload.read() if upload else b""
        try:
            with database.writing():
                template = office_templates.upload_template(
                    audit_context(),
                    form.name.data or "",
                    form.language.data or "",
                    upload.filename if upload else "",
                    data,
                    file_store(),
                )
        except ValidationFailed as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash(_("Template “%(name)s” is ready for drafters.", name=template.name), "success")
            if template.foreign_markers:
                flash(
                    _(
                        "It also holds markers of another system, which Docstore leaves as they are: %(markers)s. "
                        "Replace them with placeholders if they should be filled.",
                        markers=", ".join(template.foreign_markers[:10]),
                    ),
                    "info",
                )
            return redirect(url_for("directives.templates"))
    return (
        render_template(
            "directives/templates.html",
            form=form,
            templates=office_templates.list_templates(include_inactive=True),
            placeholders=[(name, translate(text)) for name, text in placeholders.PLACEHOLDERS.items()],
        ),
        form_status(form),
    )


@bp.route("/templates/<int:template_id>/active", methods=["POST"])
@roles_required("admin")
def template_active(template_id: int):
    active = request.form.get("active") == "1"
    with database.writing():
        template = office_templates.set_active(audit_context(), template_id, active)
    if active:
        flash(_("“%(name)s” is offered to drafters.", name=template.name), "success")
    else:
        flash(_("“%(name)s” is no longer offered.", name=template.name), "success")
    return redirect(url_for("directives.templates"))
