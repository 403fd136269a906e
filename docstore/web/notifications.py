"""The signed-in user's notifications: the list behind the header's bell, and marking them as read."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from docstore import notifications
from docstore.web.common import page_number, page_size
from docstore.web.forms import ConfirmForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def _back():
    """Return to the list the user was looking at (its filter and page)."""
    args = {name: request.form[name] for name in ("unread", "page") if request.form.get(name)}
    return redirect(url_for("notifications.index", **args))


@bp.route("/")
@login_required
def index():
    unread_only = request.args.get("unread") == "1"
    page = notifications.list_notifications(current_user, page_number(), page_size(), unread_only=unread_only)
    if page.page > page.pages:  # past the end (read or removed meanwhile, or a typed URL): show the last page
        return redirect(url_for("notifications.index", **(request.args.to_dict(flat=False) | {"page": page.pages})))
    return render_template("notifications/index.html", page=page, unread_only=unread_only, form=ConfirmForm())


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    if ConfirmForm().validate_on_submit():
        notifications.mark_read(current_user, [notification_id])
    return _back()


@bp.route("/read", methods=["POST"])
@login_required
def mark_all_read():
    if ConfirmForm().validate_on_submit():
        notifications.mark_all_read(current_user)
    return _back()
