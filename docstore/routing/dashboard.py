"""The dashboard of leaders and clerks: open items by state, open and overdue tasks by department, handling times.

Open items and open tasks are counted as they stand today; `since` bounds only what happened in the period (items
closed or returned, tasks completed, items closed for the handling times).

The counts come from the database, grouped there (GROUP BY). Handling times are counted in working days, which only
the calendar knows, so they are worked out here over the period's completed tasks and closed items: one query each,
and the calendar asked once per distinct day, never once per row.

Whose is what:
- a task belongs to its department, else to its user's department (None: a user with no department);
- an item belongs to a department when its document is addressed to it, or when the department handles it (an open
  or done task of the department or of one of its members).

Void documents count nowhere: their routing stopped when their number was cancelled.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import case, func, or_, select

from docstore import clock, numbering, workdays
from docstore.extensions import db
from docstore.models import Department, Document, DocumentType, Instruction, RoutingItem, Task, User
from docstore.models.routing import HANDLING_TASK_STATES
from docstore.routing.inboxes import BOARD_STATES, DUE_SOON_DAYS, _in_force

#: The states of an item still being dealt with, in the order it passes them.
OPEN_STATES = BOARD_STATES  # the states of an item not yet closed or returned


@dataclass(frozen=True)
class DepartmentTasks:
    """The open tasks of one department as they stand today; `id` and `name` are None for users with no department.

    `due_soon` counts the tasks due within `DUE_SOON_DAYS` working days (today included), `overdue` those whose
    deadline has passed; `extra_urgent` the open tasks of extra-urgent documents.
    """

    id: int | None
    name: str | None
    open: int
    overdue: int
    due_soon: int
    extra_urgent: int


@dataclass(frozen=True)
class HandlingTime:
    """How long a department or a document type took over `cases` cases, in working days and in calendar days.

    `id` and `name` are None for the group with no department (or no type).
    """

    id: int | None
    name: str | None
    cases: int
    average_working_days: float
    median_working_days: float
    average_calendar_days: float
    median_calendar_days: float


@dataclass(frozen=True)
class Dashboard:
    """The figures of the dashboard: plain values, `as_dict()` for JSON.

    `open_by_state` has every open state (OPEN_STATES order), zero included; `closed` and `returned` count the items
    closed or returned in the period. `tasks_by_department` is ordered most overdue first; the handling times
    slowest first (average working days).
    """

    today: date
    since: date | None
    department_id: int | None
    open_by_state: dict[str, int]
    extra_urgent_open: int
    closed: int
    returned: int
    tasks_by_department: tuple[DepartmentTasks, ...]
    handling_by_department: tuple[HandlingTime, ...]
    handling_by_type: tuple[HandlingTime, ...]

    @property
    def open_items(self) -> int:
        """Return how many items are open (not closed or returned)."""
        return sum(self.open_by_state.values())

    @property
    def open_tasks(self) -> int:
        return sum(row.open for row in self.tasks_by_department)

    @property
    def overdue_tasks(self) -> int:
        return sum(row.overdue for row in self.tasks_by_department)

    @property
    def due_soon_tasks(self) -> int:
        return sum(row.due_soon for row in self.tasks_by_department)

    def as_dict(self) -> dict:
        """Return the figures as JSON-friendly values (dates as ISO strings), the totals included."""
        return {
            "today": self.today.isoformat(),
            "since": self.since.isoformat() if self.since else None,
            "department_id": self.department_id,
            "open_items": self.open_items,
            "open_by_state": dict(self.open_by_state),
            "extra_urgent_open": self.extra_urgent_open,
            "closed": self.closed,
            "returned": self.returned,
            "open_tasks": self.open_tasks,
            "overdue_tasks": self.overdue_tasks,
            "due_soon_tasks": self.due_soon_tasks,
            "tasks_by_department": [asdict(row) for row in self.tasks_by_department],
            "handling_by_department": [asdict(row) for row in self.handling_by_department],
            "handling_by_type": [asdict(row) for row in self.handling_by_type],
        }


def dashboard(calendar: workdays.Calendar, since: date | None, department_id: int | None = None) -> Dashboard:
    """Return the dashboard's figures: open items and tasks as of today, and what was done from `since` (an office
    date; None: since the beginning), for every department or for `department_id` alone.
    """
    today = calendar.today()
    start = clock.as_utc(numbering.office_day_start(since, calendar.rules.timezone)) if since else None
    open_by_state, extra_urgent, closed, returned = _items(start, department_id)
    return Dashboard(
        today=today,
        since=since,
        department_id=department_id,
        open_by_state=open_by_state,
        extra_urgent_open=extra_urgent,
        closed=closed,
        returned=returned,
        tasks_by_department=_open_tasks(calendar, today, department_id),
        handling_by_department=_task_times(calendar, start, department_id),
        handling_by_type=_item_times(calendar, start, department_id),
    )


# --- whose is what ---------------------------------------------------------------------------------------------------


def _task_department():
    """Return the department a task counts for: its own, else its user's (the query must outer-join User)."""
    return func.coalesce(Task.department_id, User.department_id)


def _item_in(department_id: int):
    """Return the condition "the item is the department's": addressed to it, or handled by it (the query joins
    Document)."""
    handled = (
        select(Task.id)
        .outerjoin(User, User.id == Task.user_id)
        .where(
            Task.item_id == RoutingItem.id,
            Task.state.in_(HANDLING_TASK_STATES),
            _task_department() == department_id,
        )
        .exists()
    )
    return or_(Document.department_id == department_id, handled)


def _names(model, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {ident for ident in ids if ident is not None}
    if not wanted:
        return {}
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(wanted))).all())


def _count(value) -> int:
    return int(value or 0)  # SUM over no row is NULL


# --- counts ------------------------------------------------------------------------------------------------------


def _items(start: datetime | None, department_id: int | None) -> tuple[dict[str, int], int, int, int]:
    """Return the open items by state, the extra-urgent open ones, and the items closed and returned since `start`."""
    extra_urgent = func.sum(case((Document.urgency == "extra_urgent", 1), else_=0))
    query = (
        select(RoutingItem.state, func.count(), extra_urgent)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(_in_force())
        .group_by(RoutingItem.state)
    )
    if start is not None:
        # a returned item was last changed when it was returned (reopening moves it out of "returned")
        ended = func.coalesce(RoutingItem.closed_at, RoutingItem.updated_at)
        query = query.where(or_(RoutingItem.state.in_(OPEN_STATES), ended >= start))
    if department_id is not None:
        query = query.where(_item_in(department_id))
    counts = {state: 0 for state in OPEN_STATES}
    urgent = closed = returned = 0
    for state, count, urgent_count in db.session.execute(query):
        if state in counts:
            counts[state] = count
            urgent += _count(urgent_count)
        elif state == "closed":
            closed = count
        elif state == "returned":
            returned = count
    return counts, urgent, closed, returned


def _open_tasks(calendar: workdays.Calendar, today: date, department_id: int | None) -> tuple[DepartmentTasks, ...]:
    """Return the open tasks by department with the overdue, due-soon and extra-urgent ones, most overdue first."""
    department = _task_department()
    soon = calendar.add_working_days(today, DUE_SOON_DAYS)
    query = (
        select(
            department,
            func.count(),
            func.sum(case((Task.deadline < today, 1), else_=0)),
            func.sum(case((Task.deadline.between(today, soon), 1), else_=0)),
            func.sum(case((Document.urgency == "extra_urgent", 1), else_=0)),
        )
        .select_from(Task)
        .outerjoin(User, User.id == Task.user_id)
        .join(RoutingItem, RoutingItem.id == Task.item_id)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(Task.state == "open", _in_force())
        .group_by(department)
    )
    if department_id is not None:
        query = query.where(department == department_id)
    rows = db.session.execute(query).all()
    names = _names(Department, (row[0] for row in rows))
    result = [
        DepartmentTasks(ident, names.get(ident), count, _count(overdue), _count(due_soon), _count(urgent))
        for ident, count, overdue, due_soon, urgent in rows
    ]
    return tuple(sorted(result, key=lambda row: (-row.overdue, -row.open, row.name is None, row.name or "")))


# --- handling times ------------------------------------------------------------------------------------------------


class _WorkingDays:
    """Count working days between office dates, asking the calendar once per distinct day.

    The count from a to b is the count from a fixed day to b minus the count from that day to a
    (`Calendar.working_days_between` is signed, so this holds whatever the order).
    """

    def __init__(self, calendar: workdays.Calendar):
        self.calendar = calendar
        self.origin: date | None = None
        self.counts: dict[date, int] = {}

    def _from_origin(self, day: date) -> int:
        if self.origin is None:
            self.origin = day
        if day not in self.counts:
            self.counts[day] = self.calendar.working_days_between(self.origin, day)
        return self.counts[day]

    def between(self, start: date, end: date) -> int:
        return self._from_origin(end) - self._from_origin(start)


def _times(
    calendar: workdays.Calendar, rows: Iterable[tuple[int | None, datetime, datetime]], names: dict[int, str]
) -> tuple[HandlingTime, ...]:
    """Return the handling times of (group, began, ended) rows by group, slowest first.

    Both ends are taken as office dates: something begun and ended on the same day took 0 days.
    """
    zone = calendar.rules.timezone
    counter = _WorkingDays(calendar)
    working: dict[int | None, list[int]] = {}
    calendar_days: dict[int | None, list[int]] = {}
    for group, began, ended in rows:
        first = numbering.office_date(clock.as_utc(began), zone)
        last = numbering.office_date(clock.as_utc(ended), zone)
        working.setdefault(group, []).append(counter.between(first, last))
        calendar_days.setdefault(group, []).append((last - first).days)
    result = [
        HandlingTime(
            id=group,
            name=names.get(group) if group is not None else None,
            cases=len(days),
            average_working_days=round(statistics.fmean(days), 2),
            median_working_days=round(statistics.median(days), 2),
            average_calendar_days=round(statistics.fmean(calendar_days[group]), 2),
            median_calendar_days=round(statistics.median(calendar_days[group]), 2),
        )
        for group, days in working.items()
    ]
    return tuple(sorted(result, key=lambda row: (-row.average_working_days, row.name is None, row.name or "")))


def _task_times(
    calendar: workdays.Calendar, start: datetime | None, department_id: int | None
) -> tuple[HandlingTime, ...]:
    """Return the handling times of the tasks completed since `start`, by department.

    A task counts from its assignment: a forwarded task from the instruction that first assigned it, since passing
    it to a colleague does not restart the department's clock.
    """
    department = _task_department()
    query = (
        select(department, func.coalesce(Instruction.instructed_at, Task.created_at), Task.completed_at)
        .select_from(Task)
        .outerjoin(User, User.id == Task.user_id)
        .outerjoin(Instruction, Instruction.id == Task.instruction_id)
        .join(RoutingItem, RoutingItem.id == Task.item_id)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(Task.state == "done", Task.completed_at.is_not(None), _in_force())
    )
    if start is not None:
        query = query.where(Task.completed_at >= start)
    if department_id is not None:
        query = query.where(department == department_id)
    rows = db.session.execute(query).all()
    return _times(calendar, rows, _names(Department, (row[0] for row in rows)))


def _item_times(
    calendar: workdays.Calendar, start: datetime | None, department_id: int | None
) -> tuple[HandlingTime, ...]:
    """Return the handling times of the items closed since `start`, from receipt (else registration), by type."""
    query = (
        select(
            Document.document_type_id,
            func.coalesce(Document.received_at, Document.registered_at),
            RoutingItem.closed_at,
        )
        .join(Document, Document.id == RoutingItem.document_id)
        .where(RoutingItem.state == "closed", RoutingItem.closed_at.is_not(None), _in_force())
    )
    if start is not None:
        query = query.where(RoutingItem.closed_at >= start)
    if department_id is not None:
        query = query.where(_item_in(department_id))
    rows = db.session.execute(query).all()
    return _times(calendar, rows, _names(DocumentType, (row[0] for row in rows)))
