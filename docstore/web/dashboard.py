"""The dashboard of leaders and clerks: open items by state, overdue by department, handling times, with charts."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from docstore import organisation, registry, routing
from docstore.errors import N_
from docstore.models import ITEM_STATES
from docstore.web.common import optional_int, roles_required
from docstore.web.tasks import office_calendar

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

#: Who sees the dashboard.
VIEWERS = ("clerk", "admin", "leader")
#: The periods offered, by the value of ?period=: how many days back, today included (None: since the beginning).
PERIODS = {"30": 30, "90": 90, "365": 365, "all": None}
PERIOD_LABELS = {
    "30": N_("Last 30 days"),
    "90": N_("Last 90 days"),
    "365": N_("Last 365 days"),
    "all": N_("All time"),
}
DEFAULT_PERIOD = "90"
#: How wide a chart's label may be, in columns (a Chinese character takes two): longer names are cut.
LABEL_COLUMNS = 24
#: Where the figures by department lead clerks, when those pages exist (they are the clerks' pages).
CHASE_ENDPOINT = "chase.index"
BOARD_ENDPOINT = "tasks.board"


@bp.app_template_filter("chart_label")
def chart_label(text: str | None, columns: int = LABEL_COLUMNS) -> str:
    """Return `text` cut to `columns` display columns with an ellipsis (wide characters, as in Chinese, take two)."""
    text = text or ""
    widths = [2 if unicodedata.east_asian_width(character) in ("W", "F") else 1 for character in text]
    if sum(widths) <= columns:
        return text
    used = 0
    for position, width in enumerate(widths):
        if used + width > columns - 1:  # room for the ellipsis
            return text[:position].rstrip() + "…"
        used += width
    return text


def _clerk_page(endpoint: str) -> str | None:
    """Return `endpoint` when the app has that page and the user is a clerk (the chase list and board are theirs)."""
    if endpoint in current_app.view_functions and current_user.has_role(*registry.CLERK_ROLES):
        return endpoint
    return None


@bp.route("/")
@roles_required(*VIEWERS)
def index():
    errors = {}
    period = request.args.get("period") or DEFAULT_PERIOD
    if period not in PERIODS:
        errors["period"] = _("Choose one of the periods in the list.")
        period = DEFAULT_PERIOD
    departments = organisation.department_tree()
    department_id = None
    if request.args.get("department"):
        department_id = optional_int(request.args["department"])
        if department_id not in {row.department.id for row in departments}:
            errors["department"] = _("Choose a department in the list.")
            department_id = None
    calendar = office_calendar()
    days = PERIODS[period]
    since = calendar.today() - timedelta(days=days - 1) if days else None
    figures = routing.dashboard(calendar, since, department_id)
    department = next((row.department for row in departments if row.department.id == department_id), None)
    return render_template(
        "dashboard/index.html",
        figures=figures,
        period=period,
        periods=PERIOD_LABELS,
        departments=departments,
        department=department,
        errors=errors,
        ITEM_STATES=ITEM_STATES,
        chase_endpoint=_clerk_page(CHASE_ENDPOINT),
        board_endpoint=_clerk_page(BOARD_ENDPOINT),
    )
