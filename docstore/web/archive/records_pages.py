"""The records: the list with its filters, a record's page (what was captured, its files, annotations, holds and
history; every view and download logged), annotating and appraising again, and the integrity checks."""

from __future__ import annotations

from datetime import date, datetime

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required

from docstore import audit, database
from docstore.archive import catalogue, disposal, fixity, holds, records, scheme
from docstore.archive.records import ARCHIVE_ROLES
from docstore.directives.drafts import STEP_LABELS as DIRECTIVE_STEPS
from docstore.errors import N_, DocstoreError, NotFound, ValidationFailed
from docstore.extensions import db
from docstore.models import (
    CHANNELS,
    DIRECTIONS,
    DISPOSAL_ACTIONS,
    FIXITY_OUTCOMES,
    RECORD_STATES,
    RETENTIONS,
    URGENCIES,
)
from docstore.routing.panel import WHAT as ROUTING_STEPS
from docstore.web.archive.common import (
    VIEWER_ROLES,
    action_choices,
    bp,
    class_choices,
    retention_choices,
    retention_name,
    retention_of,
    show_retention,
)
from docstore.web.archive_forms import AnnotationForm, ReviewForm
from docstore.web.common import (
    audit_context,
    clearance_names,
    office_today,
    optional_int,
    page_number,
    page_size,
    roles_required,
    show_errors,
    translate,
)
from docstore.web.registers import file_store

#: What each event of a record's history is called.
RECORD_EVENTS: dict[str, str] = {
    "archive_record.filed": N_("Filed"),
    "archive_record.viewed": N_("Viewed"),
    "archive_record.downloaded": N_("File downloaded"),
    "archive_record.annotated": N_("Annotation added"),
    "archive_record.held": N_("Put under a legal hold"),
    "archive_record.released": N_("Legal hold released"),
    "archive_record.proposed": N_("Proposed for disposal"),
    "archive_record.destroyed": N_("Destroyed"),
    "archive_record.transferred": N_("Transferred"),
    "archive_record.reappraised": N_("Appraised again"),
    "archive_record.imported": N_("Imported"),
}


# --- the records -----------------------------------------------------------------------------------------------


@bp.route("/")
@roles_required(*VIEWER_ROLES)
def index():
    args = request.args
    state = args.get("state", "")
    retention = args.get("retention", "").strip()
    criteria = records.RecordFilter(
        text=args.get("q", "")[:200],
        class_id=optional_int(args.get("class")),
        year=optional_int(args.get("year")),
        state=state if state in RECORD_STATES else "",
        retention=retention if scheme.retention_valid(retention) else "",
        held={"yes": True, "no": False}.get(args.get("held", "")),
    )
    page = records.list_records(criteria, current_user, page_number(), page_size())
    if page.page > page.pages > 0:
        return redirect(url_for("archive.index", **dict(args, page=page.pages)))
    retentions = dict.fromkeys([*RETENTIONS, *([criteria.retention] if criteria.retention else [])])
    return render_template(
        "archive/index.html",
        page=page,
        criteria=criteria,
        held=holds.held_ids(record.id for record in page.items),
        classes=class_choices(),
        years=records.record_years(),
        retentions=list(retentions),
        RECORD_STATES=RECORD_STATES,
    )


def _document_rows(fields: dict) -> list[tuple[str, str]]:
    """Return the captured fields of a document as (label, value) rows, leaving out those it does not have."""
    direction = fields.get("direction")
    recipients = [
        recipient["name"] + (f" ({_('copy')})" if recipient.get("role") == "copy" else "")
        for recipient in fields.get("recipients") or []
    ]
    rows = [
        (_("Number"), fields.get("number")),
        (_("Direction"), translate(DIRECTIONS[direction]) if direction in DIRECTIONS else direction),
        (_("Register"), fields.get("series")),
        (_("Title"), fields.get("title")),
        (_("Type"), fields.get("type")),
        (_("Sender"), fields.get("sender")),
        (_("Sender's reference"), fields.get("sender_reference")),
        (_("Sender's date"), _shown(fields.get("sender_date"))),
        (_("Received"), _shown(fields.get("received_at"))),
        (_("Channel"), translate(CHANNELS[fields["channel"]]) if fields.get("channel") in CHANNELS else None),
        (_("Registered"), " · ".join(filter(None, [_shown(fields.get("registered_at")), fields.get("registered_by")]))),
        (_("Department"), fields.get("department")),
        (_("Signed by"), fields.get("signer")),
        (_("Date of the document"), _shown(fields.get("document_date"))),
        (_("Sent on"), _shown(fields.get("sent_on"))),
        (_("Recipients"), "; ".join(recipients)),
        (_("Urgency"), translate(URGENCIES[fields["urgency"]]) if fields.get("urgency") in URGENCIES else None),
        (_("Classification"), _classification(fields.get("classification"))),
        (_("Pages / copies"), " / ".join(str(fields.get(key) or "—") for key in ("pages", "copies"))),
        (_("Deadline"), _shown(fields.get("deadline"))),
        (_("Summary"), fields.get("summary")),
        (_("Notes"), fields.get("notes")),
    ]
    return [(label, value) for label, value in rows if value not in (None, "", "— / —")]


def _classification(level) -> str | None:
    names = clearance_names()
    return names[level] if isinstance(level, int) and 0 <= level < len(names) else None


def _shown(value: str | None) -> str | None:
    """Return a captured ISO day or instant in the user's language."""
    if not value:
        return None
    try:
        if len(value) == 10:
            return format_date(date.fromisoformat(value), "medium")
        return format_datetime(datetime.fromisoformat(value), "medium")
    except ValueError:
        return value


def _step_name(action: str) -> str:
    """Return the name of a captured timeline step (routing, or a directive's); steps whose names take details
    (a task's assignee) are named by their details, shown beside."""
    if action.startswith("directive.") and action[10:] in DIRECTIVE_STEPS:
        return translate(DIRECTIVE_STEPS[action[10:]])
    label = ROUTING_STEPS.get(action, "")
    return translate(label) if label and "%(" not in label else ""


def _event_rows(record_id: int) -> list[tuple]:
    """Return the record's audit events as (event, what, details) rows."""
    rows = []
    for event in records.events_of(record_id):
        after = audit.decode(event.after) or {}
        details = []
        if after.get("file"):
            details.append(after["file"])
        if after.get("retention") and event.action == "archive_record.reappraised":
            details.append(retention_name(after["retention"]))
        for key in ("text", "reason", "note"):
            if after.get(key):
                details.append(str(after[key]))
        if after.get("disposal"):
            details.append(_("disposal no. %(number)s", number=after["disposal"]))
        rows.append((event, translate(RECORD_EVENTS.get(event.action, event.action)), " · ".join(details)))
    return rows


def record_page(record, forms: dict | None = None, status: int = 200):
    """Render a record's page; a form sent back with its mistakes comes in `forms` (with 422)."""
    forms = forms or {}
    review = forms.get("review") or ReviewForm(formdata=None)
    review.retention.choices = retention_choices(inherit=False)
    review.action.choices = action_choices(inherit=False)
    if "review" not in forms:
        show_retention(review, record.retention)
        review.action.data = record.disposal_action
    captured = record.captured or {}
    decision = disposal.get_disposal(record.disposal_id) if record.disposal_id else None
    return render_template(
        "archive/record.html",
        record=record,
        path=scheme.ancestry(record.archive_class),
        document_rows=_document_rows(captured.get("document") or {}),
        entry=captured.get("catalogue") or {},
        captured=captured,
        step_name=_step_name,
        shown=_shown,
        holds=holds.holds_of(record),
        held=bool(holds.held_ids([record.id])),
        events=_event_rows(record.id),
        decision=decision,
        due=records.due(record, office_today()),
        annotation_form=forms.get("annotation") or AnnotationForm(formdata=None),
        review_form=review,
        COLUMNS=catalogue.COLUMNS,
        RECORD_STATES=RECORD_STATES,
        DISPOSAL_ACTIONS=DISPOSAL_ACTIONS,
    ), status


@bp.route("/records/<int:record_id>")
@login_required
def record(record_id: int):
    return record_page(
        database.write_after_reads(lambda: records.view_record(audit_context(), record_id, current_user))
    )


@bp.route("/records/<int:record_id>/files/<int:file_id>")
@login_required
def record_file(record_id: int, file_id: int):
    record = records.get_record(record_id, current_user)  # 404 for a record the user may not open
    try:
        row, path = database.write_after_reads(
            lambda: records.record_file(audit_context(), record_id, file_id, current_user, file_store())
        )
    except DocstoreError as exc:
        db.session.rollback()
        if isinstance(exc, NotFound) and record.state == "kept":
            raise  # no such file: a wrong address
        flash(translate(exc.msg), "error")  # disposed of, or missing from the store
        return redirect(url_for("archive.record", record_id=record_id) + "#files")
    name = row.filename.replace("/", "_").replace("\\", "_") or f"file-{row.id}"
    return send_file(path, mimetype=row.mime, as_attachment=True, download_name=name, etag=row.sha256)


@bp.route("/records/<int:record_id>/annotations", methods=["POST"])
@roles_required(*ARCHIVE_ROLES)
def annotate(record_id: int):
    records.get_record(record_id, current_user)
    form = AnnotationForm()
    if form.validate_on_submit():
        try:
            with database.writing():
                records.annotate(audit_context(), record_id, form.text.data or "")
        except ValidationFailed as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash(_("The annotation is added to the record."), "success")
            return redirect(url_for("archive.record", record_id=record_id) + "#annotations")
    return record_page(records.get_record(record_id, current_user), {"annotation": form}, 422)


@bp.route("/records/<int:record_id>/review", methods=["POST"])
@roles_required(*ARCHIVE_ROLES)
def review(record_id: int):
    records.get_record(record_id, current_user)
    form = ReviewForm()
    form.retention.choices = retention_choices(inherit=False)
    form.action.choices = action_choices(inherit=False)
    if form.validate_on_submit():
        try:
            with database.writing():
                changed = disposal.reappraise(
                    audit_context(),
                    record_id,
                    retention_of(form),
                    form.action.data or "",
                    form.reason.data or "",
                    office_today(),
                )
        except ValidationFailed as exc:
            db.session.rollback()
            show_errors(form, exc)
        except DocstoreError as exc:
            db.session.rollback()
            flash(translate(exc.msg), "error")
            return redirect(url_for("archive.record", record_id=record_id))
        else:
            if changed.due_on is None:
                flash(_("Appraised again: the record is now kept permanently."), "success")
            else:
                flash(
                    _("Appraised again: the record is kept until %(day)s.", day=format_date(changed.due_on)), "success"
                )
            return redirect(url_for("archive.record", record_id=record_id))
    return record_page(records.get_record(record_id, current_user), {"review": form}, 422)


# --- integrity -------------------------------------------------------------------------------------------------


@bp.route("/integrity")
@roles_required(*ARCHIVE_ROLES)
def integrity():
    return render_template(
        "archive/integrity.html",
        runs=fixity.last_runs(10),
        problems=fixity.latest_problems(100),
        FIXITY_OUTCOMES=FIXITY_OUTCOMES,
    )
