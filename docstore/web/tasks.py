"""What waits for the signed-in user: my tasks, my department's, to read, to instruct, the office's work, the board."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from docstore import organisation, registry, routing, workdays
from docstore.directives import inbox
from docstore.models import ITEM_STATES, TASK_ROLES, URGENCIES
from docstore.pagination import Page
from docstore.web.common import optional_int, page_number, page_size, roles_required

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

#: The tabs of "My tasks", in order.
BUCKETS = routing.BUCKETS


def office_calendar() -> workdays.Calendar:
    """Return the working-day calendar of this request (one per request: it caches the year's exceptions)."""
    if "office_calendar" not in g:
        g.office_calendar = workdays.calendar_for(current_app.config)
    return g.office_calendar


def waiting() -> routing.Waiting:
    """Return what waits for the signed-in user, counted once per request (the header, the tabs, the home page)."""
    if "waiting" not in g:
        g.waiting = routing.waiting_for(current_user, office_calendar()) if current_user.is_authenticated else None
    return g.waiting or routing.Waiting()


def directives_waiting() -> int:
    """Return how many directives wait for a step of the signed-in user (review, countersign, sign-off, …)."""
    if "directives_waiting" not in g:
        g.directives_waiting = inbox.waiting_count(current_user) if current_user.is_authenticated else 0
    return g.directives_waiting


def waiting_total() -> int:
    """Return everything that waits for the signed-in user: routing work and directives (the header's count)."""
    return waiting().total + directives_waiting()


def has_endpoint(name: str) -> bool:
    """Return True when the app has the endpoint `name` (the work pages of other areas may not exist yet)."""
    return name in current_app.view_functions


def work_url() -> str:
    """Return where the header's "Tasks" entry leads: My tasks, or while they are empty, the first tab with work.

    The badge beside the entry counts what waits everywhere; a user with no open task of their own (a leader with
    proposals to instruct, a clerk with the office's work) lands where that work is. The "My tasks" tab itself
    always shows My tasks.
    """
    work = waiting()
    if not work.open_tasks:
        elsewhere = (
            (work.to_read, "tasks.read"),
            (work.to_instruct, "tasks.instruct"),
            (work.office_total, "tasks.office"),
            (directives_waiting(), "directives.index"),
        )
        for count, endpoint in elsewhere:
            if count:
                return url_for(endpoint)
    return url_for("tasks.index")


@bp.app_context_processor
def _work_globals():
    return {
        "waiting": waiting,
        "waiting_total": waiting_total,
        "directives_waiting": directives_waiting,
        "has_endpoint": has_endpoint,
        "work_url": work_url,
    }


def _past_the_end(page: Page, endpoint: str):
    """Return a redirect to the last page when `page` is past it (done or removed meanwhile, or a typed URL)."""
    if page.page > page.pages:
        return redirect(url_for(endpoint, **(request.args.to_dict(flat=False) | {"page": page.pages})))
    return None


def _here() -> str:
    """Return this page's local path with its query, for forms to come back to."""
    return request.full_path.rstrip("?")


def _dates() -> dict:
    """Return today and the last day that counts as due soon, for marking deadlines."""
    calendar = office_calendar()
    today = calendar.today()
    return {"today": today, "due_soon_until": calendar.add_working_days(today, routing.DUE_SOON_DAYS)}


@bp.route("/")
@login_required
def index():
    bucket = request.args.get("bucket", "todo")
    if bucket not in BUCKETS:
        bucket = "todo"
    page = routing.my_tasks_page(current_user, bucket, page_number(), page_size(), office_calendar())
    return _past_the_end(page, "tasks.index") or render_template(
        "tasks/index.html", page=page, bucket=bucket, TASK_ROLES=TASK_ROLES, **_dates()
    )


@bp.route("/department")
@login_required
def department():
    page = routing.department_tasks_page(current_user, page_number(), page_size())
    return _past_the_end(page, "tasks.department") or render_template(
        "tasks/department.html", page=page, TASK_ROLES=TASK_ROLES, **_dates()
    )


@bp.route("/read")
@login_required
def read():
    page = routing.to_read_page(current_user, page_number(), page_size())
    return _past_the_end(page, "tasks.read") or render_template("tasks/read.html", page=page, here=_here())


@bp.route("/instruct")
@login_required
def instruct():
    if not waiting().instructs:
        abort(403)
    page = routing.to_instruct_page(current_user, page_number(), page_size(), office_calendar())
    return _past_the_end(page, "tasks.instruct") or render_template(
        "tasks/instruct.html", page=page, here=_here(), **_dates()
    )


@bp.route("/office")
@roles_required(*registry.CLERK_ROLES)
def office():
    return render_template(
        "tasks/office.html",
        office=routing.office_work(page_size()),
        here=_here(),
        text_limit=routing.TEXT_LIMIT,
        **_dates(),
    )


@bp.route("/board")
@roles_required(*registry.CLERK_ROLES)
def board():
    criteria = routing.BoardFilter(
        state=request.args.get("state", "") if request.args.get("state") in routing.BOARD_STATES else "",
        department_id=optional_int(request.args.get("department_id")),
        urgency=request.args.get("urgency", "") if request.args.get("urgency") in URGENCIES else "",
    )
    page = routing.board_page(criteria, page_number(), page_size())
    return _past_the_end(page, "tasks.board") or render_template(
        "tasks/board.html",
        page=page,
        criteria=criteria,
        counts=routing.board_counts(criteria),
        departments=organisation.department_tree(include_inactive=False),
        ITEM_STATES=ITEM_STATES,
        BOARD_STATES=routing.BOARD_STATES,
        **_dates(),
    )
