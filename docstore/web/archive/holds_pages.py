"""Legal holds: those in force and released, placing one on records (by their codes) or a class, releasing it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from docstore import database
from docstore.archive import holds, records
from docstore.archive.records import ARCHIVE_ROLES
from docstore.errors import DocstoreError, ValidationFailed
from docstore.extensions import db
from docstore.web.archive.common import VIEWER_ROLES, bp, class_choices, records_by_code, refused
from docstore.web.archive_forms import HoldForm, ReleaseForm
from docstore.web.common import audit_context, form_status, roles_required, show_errors

# --- legal holds -----------------------------------------------------------------------------------------------


#: Records named on the page for each hold, and released holds listed (the most recent).
SHOWN_CODES = 50
SHOWN_RELEASED = 50


def _hold_codes(hold_list) -> dict[int, tuple[list[str], int]]:
    """Return, for each hold, the codes of the first records it names and how many it names."""
    named = {hold.id: holds.record_ids_of(hold.id) for hold in hold_list}
    return {
        ident: ([records.get_record(record_id).code for record_id in ids[:SHOWN_CODES]], len(ids))
        for ident, ids in named.items()
    }


@bp.route("/holds", methods=["GET", "POST"])
@roles_required(*VIEWER_ROLES)
def holds_page():
    form = HoldForm()
    form.class_id.choices = class_choices(_("— no class —"))
    if request.method == "GET":
        form.codes.data = request.args.get("codes", "")
    else:
        if not current_user.has_role(*ARCHIVE_ROLES):
            abort(403)
        if form.validate_on_submit():
            record_ids, unknown = records_by_code(form.codes.data)
            if unknown:
                form.codes.errors = [_("No record has the code %(codes)s.", codes=", ".join(unknown))]
            else:
                try:
                    with database.writing():
                        hold = holds.place_hold(audit_context(), form.reason.data or "", record_ids, form.class_id.data)
                except ValidationFailed as exc:
                    db.session.rollback()
                    if "record_ids" in exc.errors:
                        exc.errors["codes"] = exc.errors.pop("record_ids")
                    show_errors(form, exc)
                else:
                    flash(
                        _("Hold no. %(number)s is in force: its records cannot be disposed of.", number=hold.id),
                        "success",
                    )
                    return redirect(url_for("archive.holds_page") + f"#hold-{hold.id}")
    in_force, released = holds.list_holds(True), holds.list_holds(False)[:SHOWN_RELEASED]
    return render_template(
        "archive/holds.html",
        form=form,
        in_force=in_force,
        released=released,
        codes=_hold_codes(in_force + released),
        release_form=ReleaseForm(formdata=None),
    ), form_status(form)


@bp.route("/holds/<int:hold_id>/release", methods=["POST"])
@roles_required(*ARCHIVE_ROLES)
def release_hold(hold_id: int):
    holds.get_hold(hold_id)
    form = ReleaseForm()
    if form.validate_on_submit():
        try:
            with database.writing():
                holds.release_hold(audit_context(), hold_id, form.release_reason.data or "")
        except DocstoreError as exc:
            db.session.rollback()
            flash(refused(exc), "error")
            return redirect(url_for("archive.holds_page") + f"#hold-{hold_id}")
        flash(_("Hold no. %(number)s is released.", number=hold_id), "success")
    return redirect(url_for("archive.holds_page"))
