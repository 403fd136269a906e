"""Disposal: records past their retention (one tab per action), proposals, the decision of a leader or an
administrator other than the proposer, and the certificate."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from docstore import books, database
from docstore.archive import catalogue, disposal, holds
from docstore.archive.disposal import APPROVER_ROLES
from docstore.archive.records import ARCHIVE_ROLES
from docstore.errors import DocstoreError, StoredFileMissing, ValidationFailed
from docstore.extensions import db
from docstore.models import DISPOSAL_ACTIONS, DISPOSAL_STATES
from docstore.web.archive.common import DOCX_MIME, VIEWER_ROLES, bp, catalogue_labels
from docstore.web.archive_forms import DecisionForm, ProposalForm
from docstore.web.common import (
    audit_context,
    office_today,
    page_number,
    page_size,
    roles_required,
    show_errors,
    translate,
)
from docstore.web.registers import file_store

#: The tabs of the records past their retention: one per action at its end.
DISPOSAL_TABS = ("destroy", "transfer", "review")


# --- disposal --------------------------------------------------------------------------------------------------


def _disposal_tab() -> str:
    tab = request.args.get("action", "destroy")
    return tab if tab in DISPOSAL_TABS else "destroy"


def disposal_page(form: ProposalForm | None = None, status: int = 200):
    """Render the records past their retention (one tab per action) and the proposals awaiting a decision."""
    tab = _disposal_tab()
    today = office_today()
    page = disposal.expired(today, page_number(), page_size(), tab)
    if page.page > page.pages > 0:
        return redirect(url_for("archive.disposal_index", action=tab, page=page.pages))
    return render_template(
        "archive/disposal.html",
        tab=tab,
        page=page,
        counts={action: disposal.expired(today, 1, 1, action).total for action in DISPOSAL_TABS},
        held=holds.held_ids(record.id for record in page.items),
        form=form or ProposalForm(formdata=None),
        proposed=disposal.list_disposals("proposed", 1, 100).items,
        DISPOSAL_ACTIONS=DISPOSAL_ACTIONS,
    ), status


@bp.route("/disposal")
@roles_required(*VIEWER_ROLES)
def disposal_index():
    return disposal_page()


@bp.route("/disposal", methods=["POST"])
@roles_required(*ARCHIVE_ROLES)
def propose():
    form = ProposalForm()
    if form.validate_on_submit():
        try:
            with database.writing():
                proposal = disposal.propose(
                    audit_context(), form.record_ids.data, form.reason.data or "", office_today()
                )
        except ValidationFailed as exc:
            db.session.rollback()
            show_errors(form, exc)
            if "record_ids" in exc.errors:
                form.form_errors.append(translate(exc.errors["record_ids"]))
        except DocstoreError as exc:
            db.session.rollback()
            form.form_errors.append(translate(exc.msg))
        else:
            flash(
                _(
                    "Disposal no. %(number)s is proposed: a leader or an administrator decides on it.",
                    number=proposal.id,
                ),
                "success",
            )
            return redirect(url_for("archive.disposal_show", disposal_id=proposal.id))
    return disposal_page(form, 422)


@bp.route("/disposal/decisions")
@roles_required(*VIEWER_ROLES)
def disposals():
    state = request.args.get("state", "")
    page = disposal.list_disposals(state if state in DISPOSAL_STATES else "", page_number(), page_size())
    return render_template(
        "archive/disposals.html",
        page=page,
        state=state,
        DISPOSAL_STATES=DISPOSAL_STATES,
        DISPOSAL_ACTIONS=DISPOSAL_ACTIONS,
    )


def _may_decide(decision) -> bool:
    return (
        decision.state == "proposed"
        and current_user.has_role(*APPROVER_ROLES)
        and decision.proposed_by_id != current_user.id
    )


def decision_page(disposal_id: int, form: DecisionForm | None = None, status: int = 200):
    """Render a disposal's page; a decision sent back with its mistakes comes in `form` (with 422)."""
    decision = disposal.get_disposal(disposal_id)
    return render_template(
        "archive/disposal_show.html",
        decision=decision,
        rows=disposal.records_of(decision.id),
        may_decide=_may_decide(decision),
        form=form or DecisionForm(formdata=None),
        DISPOSAL_STATES=DISPOSAL_STATES,
        DISPOSAL_ACTIONS=DISPOSAL_ACTIONS,
    ), status


@bp.route("/disposal/<int:disposal_id>")
@roles_required(*VIEWER_ROLES)
def disposal_show(disposal_id: int):
    return decision_page(disposal_id)


def _certificate(decision, rows) -> bytes:
    """Draw the certificate of an approved disposal, in the approver's language."""
    return catalogue.certificate_docx(
        decision,
        rows,
        office=books.office_name(),
        labels=catalogue_labels(),
        timezone=current_app.config["OFFICE_TIMEZONE"],
    )


@bp.route("/disposal/<int:disposal_id>/decide", methods=["POST"])
@roles_required(*APPROVER_ROLES)
def decide(disposal_id: int):
    disposal.get_disposal(disposal_id)
    form = DecisionForm()
    approve = request.form.get("decision") == "approve"
    if form.validate_on_submit():
        try:
            with database.writing():
                if approve:
                    decision, failed = disposal.approve(
                        audit_context(),
                        disposal_id,
                        form.note.data or "",
                        file_store(),
                        _certificate,
                        office_today(),
                        disposal.transfer_dir(current_app.config, current_app.instance_path),
                    )
                else:
                    decision, failed = disposal.reject(audit_context(), disposal_id, form.note.data or ""), []
        except ValidationFailed as exc:
            db.session.rollback()
            show_errors(form, exc)
            return decision_page(disposal_id, form, 422)
        except DocstoreError as exc:
            db.session.rollback()
            flash(translate(exc.msg), "error")
        else:
            if approve:
                flash(
                    _(
                        "Disposal no. %(number)s is approved and carried out; its certificate is ready.",
                        number=decision.id,
                    ),
                    "success",
                )
            else:
                flash(
                    _("Disposal no. %(number)s is rejected; its records stay as they are.", number=decision.id),
                    "success",
                )
            if failed:
                flash(
                    ngettext(
                        "%(num)s stored file could not be removed: the integrity checks list it.",
                        "%(num)s stored files could not be removed: the integrity checks list them.",
                        len(failed),
                    ),
                    "error",
                )
    return redirect(url_for("archive.disposal_show", disposal_id=disposal_id))


@bp.route("/disposal/<int:disposal_id>/certificate.docx")
@roles_required(*VIEWER_ROLES)
def certificate(disposal_id: int):
    try:
        decision, path, name = disposal.certificate_file(disposal_id, file_store())
    except StoredFileMissing as exc:
        flash(translate(exc.msg), "error")
        return redirect(url_for("archive.disposal_show", disposal_id=disposal_id))
    return send_file(path, mimetype=DOCX_MIME, as_attachment=True, download_name=name, etag=decision.certificate_sha256)
