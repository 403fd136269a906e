"""The file plan: fonds, classes and sub-classes as a tree, with the retention and disposal action each gives its
records (its own, or inherited); adding and changing them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from docstore import database
from docstore.archive import scheme
from docstore.archive.records import ARCHIVE_ROLES
from docstore.errors import DocstoreError, ValidationFailed
from docstore.extensions import db
from docstore.models import CLASS_LEVELS, DISPOSAL_ACTIONS
from docstore.web.archive.common import (
    VIEWER_ROLES,
    action_choices,
    bp,
    class_label,
    retention_choices,
    retention_of,
    show_retention,
)
from docstore.web.archive_forms import ClassForm, NewClassForm
from docstore.web.common import audit_context, form_status, roles_required, show_errors, translate

# --- the file plan ---------------------------------------------------------------------------------------------


def _fill_class_form(form: ClassForm, node=None) -> None:
    fonds = node is not None and node.level == "fonds"
    form.retention.choices = retention_choices(inherit=not fonds)
    form.disposal_action.choices = action_choices(inherit=not fonds)
    if isinstance(form, NewClassForm):
        form.parent_id.choices = [
            (None, _("— nothing: a new fonds —")),
            *[(node.id, class_label(node)) for node in scheme.list_classes() if node.level != "subclass"],
        ]


def _class_values(form: ClassForm) -> dict:
    return {
        "code": (form.code.data or "").strip(),
        "name": form.name.data or "",
        "retention": retention_of(form),
        "disposal_action": form.disposal_action.data or "",
        "description": form.description.data or "",
        "active": bool(form.active.data),
    }


def _level_below(parent_id: int | None) -> str:
    """Return the level of a new node under `parent_id`: a fonds at the top, then a class, then a sub-class."""
    if parent_id is None:
        return "fonds"
    parent = scheme.get_class(parent_id)
    return "class" if parent.level == "fonds" else "subclass"


@bp.route("/plan", methods=["GET", "POST"])
@roles_required(*VIEWER_ROLES)
def plan():
    form = NewClassForm()
    _fill_class_form(form)
    if request.method == "POST":
        if not current_user.has_role(*ARCHIVE_ROLES):
            abort(403)
        if form.validate_on_submit():
            try:
                with database.writing():
                    node = scheme.create_class(
                        audit_context(),
                        parent_id=form.parent_id.data,
                        level=_level_below(form.parent_id.data),
                        **_class_values(form),
                    )
            except ValidationFailed as exc:
                db.session.rollback()
                show_errors(form, exc)
            else:
                flash(
                    _(
                        "%(level)s %(code)s is added to the file plan.",
                        level=translate(CLASS_LEVELS[node.level]),
                        code=node.code,
                    ),
                    "success",
                )
                return redirect(url_for("archive.plan") + f"#class-{node.id}")
    nodes = scheme.list_classes(include_inactive=True)
    tree = [(node, len(scheme.ancestry(node)) - 1, scheme.effective(node)) for node in nodes]
    return render_template(
        "archive/plan.html", form=form, tree=tree, CLASS_LEVELS=CLASS_LEVELS, DISPOSAL_ACTIONS=DISPOSAL_ACTIONS
    ), form_status(form)


@bp.route("/plan/<int:class_id>", methods=["GET", "POST"])
@roles_required(*ARCHIVE_ROLES)
def edit_class(class_id: int):
    node = scheme.get_class(class_id)
    form = ClassForm(obj=node if request.method == "GET" else None)
    _fill_class_form(form, node)
    if request.method == "GET":
        show_retention(form, node.retention)
    elif form.validate_on_submit():
        try:
            with database.writing():
                scheme.update_class(audit_context(), class_id, _class_values(form))
        except ValidationFailed as exc:
            db.session.rollback()
            show_errors(form, exc)
        except DocstoreError as exc:
            db.session.rollback()
            form.form_errors.append(translate(exc.msg))
        else:
            flash(_("%(code)s is saved.", code=form.code.data), "success")
            return redirect(url_for("archive.plan") + f"#class-{class_id}")
    return render_template(
        "archive/class_form.html",
        form=form,
        node=node,
        path=scheme.ancestry(node),
        effective=scheme.effective(node.parent) if node.parent else None,
        CLASS_LEVELS=CLASS_LEVELS,
        DISPOSAL_ACTIONS=DISPOSAL_ACTIONS,
    ), form_status(form)
