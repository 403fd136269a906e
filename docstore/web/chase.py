"""The clerks' chase list (催办): what is due soon or overdue, by department, with one-click reminders."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from docstore import routing
from docstore.errors import DocstoreError
from docstore.extensions import db
from docstore.registry import CLERK_ROLES
from docstore.web.common import audit_context, optional_int, page_number, page_size, roles_required, translate
from docstore.web.forms import ConfirmForm
from docstore.web.tasks import office_calendar

bp = Blueprint("chase", __name__, url_prefix="/chase")


@bp.before_request
@roles_required(*CLERK_ROLES)
def _clerks_only():
    return None


def _back():
    """Return to the list the clerk was looking at (its department and page)."""
    args = {name: request.form[name] for name in ("department", "page") if optional_int(request.form.get(name))}
    return redirect(url_for("chase.index", **args))


@bp.route("/")
def index():
    department_id = optional_int(request.args.get("department"))
    board = routing.chase_board(office_calendar(), department_id, page_number(), page_size())
    page = board.page
    if page.page > page.pages:  # reminded, done or given more time meanwhile, or a typed URL: show the last page
        return redirect(url_for("chase.index", **(request.args.to_dict(flat=False) | {"page": page.pages})))
    return render_template("chase/index.html", board=board, page=page, due_soon_days=routing.DUE_SOON_DAYS)


@bp.route("/tasks/<int:task_id>/remind", methods=["POST"])
def remind(task_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            count = routing.remind(audit_context(), task_id, office_calendar())
            db.session.commit()
        except DocstoreError as exc:
            db.session.rollback()
            flash(translate(exc.msg), "error")
        else:
            if count:
                flash(ngettext("Reminded %(num)s person.", "Reminded %(num)s people.", count), "success")
            else:
                flash(_("Already reminded today: each task is reminded at most once a day."), "info")
    return _back()


@bp.route("/remind-overdue", methods=["POST"])
def remind_overdue():
    if ConfirmForm().validate_on_submit():
        department_id = optional_int(request.form.get("department"))
        try:
            done = routing.remind_overdue(audit_context(), office_calendar(), department_id)
            db.session.commit()
        except DocstoreError as exc:
            db.session.rollback()
            flash(translate(exc.msg), "error")
        else:
            if done.tasks:
                flash(
                    ngettext(
                        "Reminded the people of %(num)s overdue task (%(people)s notifications).",
                        "Reminded the people of %(num)s overdue tasks (%(people)s notifications).",
                        done.tasks,
                        people=done.people,
                    ),
                    "success",
                )
            else:
                flash(_("Every overdue task was reminded today already."), "info")
    return _back()
