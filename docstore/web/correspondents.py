"""The address book of correspondents: everyone searches it, clerks and administrators keep it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from docstore import correspondents
from docstore.errors import ValidationFailed
from docstore.models import CORRESPONDENT_KINDS
from docstore.web.common import (
    audit_context,
    form_status,
    page_number,
    page_size,
    roles_required,
    show_errors,
    translate,
)
from docstore.web.forms import ConfirmForm, CorrespondentForm

bp = Blueprint("correspondents", __name__, url_prefix="/correspondents")
EDITORS = ("admin", "clerk")


def _form(**kwargs) -> CorrespondentForm:
    form = CorrespondentForm(**kwargs)
    form.kind.choices = [(key, translate(label)) for key, label in CORRESPONDENT_KINDS.items()]
    return form


@bp.route("/")
@login_required
def index():
    kind = request.args.get("kind", "")
    show = request.args.get("show", "active")
    criteria = correspondents.CorrespondentFilter(
        text=request.args.get("q", ""),
        kind=kind if kind in CORRESPONDENT_KINDS else "",
        active={"active": True, "retired": False}.get(show),
    )
    page = correspondents.search_correspondents(criteria, page_number(), page_size())
    return render_template(
        "correspondents/index.html",
        page=page,
        criteria=criteria,
        show=show,
        can_edit=current_user.has_role(*EDITORS),
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create():
    form = _form()
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in correspondents.LIMITS} | {"kind": form.kind.data}
        try:
            correspondent = correspondents.create_correspondent(audit_context(), **values)
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("Correspondent “%(name)s” is added.", name=correspondent.name), "success")
            return redirect(url_for("correspondents.index", q=correspondent.name))
    status = form_status(form)
    return render_template("correspondents/form.html", form=form, correspondent=None), status


@bp.route("/<int:correspondent_id>", methods=["GET", "POST"])
@login_required
def edit(correspondent_id: int):
    correspondent = correspondents.get_correspondent(correspondent_id)
    can_edit = current_user.has_role(*EDITORS)
    form = _form(obj=correspondent)
    if request.method == "POST":
        if not can_edit:
            abort(403)
        if form.validate_on_submit():
            values = {name: getattr(form, name).data for name in correspondents.LIMITS} | {"kind": form.kind.data}
            try:
                correspondents.update_correspondent(audit_context(), correspondent.id, values)
            except ValidationFailed as exc:
                show_errors(form, exc)
            else:
                flash(_("Changes to “%(name)s” are saved.", name=correspondent.name), "success")
                return redirect(url_for("correspondents.edit", correspondent_id=correspondent.id))
    status = form_status(form)
    return render_template(
        "correspondents/form.html",
        form=form,
        correspondent=correspondent,
        can_edit=can_edit,
        confirm_form=ConfirmForm(),
    ), status


@bp.route("/<int:correspondent_id>/active", methods=["POST"])
@roles_required(*EDITORS)
def set_active(correspondent_id: int):
    if ConfirmForm().validate_on_submit():
        active = request.form.get("active") == "1"
        correspondent = correspondents.update_correspondent(audit_context(), correspondent_id, {"active": active})
        flash(
            _("“%(name)s” is back in the address book.", name=correspondent.name)
            if active
            else _("“%(name)s” is retired from the address book.", name=correspondent.name),
            "success",
        )
    return redirect(url_for("correspondents.edit", correspondent_id=correspondent_id))
