"""Chasing (催办): the clerks' chase list, their one-click reminders, and the scheduled reminders and escalations.

Every reminder is a notification with a key (see `docstore.notifications`), which the database keeps once per
person, so a reminder happens at most once however often the job runs, and however many schedulers run it at once
(the embedded one of each web process, and cron):

- ``due_soon:<task>:<deadline>`` — the task's people, when the deadline is a few working days away;
- ``overdue:<task>:<deadline>`` — the task's people, once the deadline has passed;
- ``escalation:<task>:<deadline>`` — an extra-urgent task overdue: the head of the assignee's department and the
  leader whose instruction created the task, but not those who get the overdue reminder of the task at the same
  time (a head who is the assignee, or a member of the department it is for, is told once);
- ``chase:<task>:<day>`` — a clerk's reminder, at most once per task per office day.

The keys carry the deadline, so more time given re-arms the reminders for the new deadline. A task's people are
its user, or the active members of its department, and whoever acts for one of them today (a substitute). Due-soon
and overdue reminders wait for a working day; escalations of extra-urgent tasks go out on any day. The tasks of a
void document are neither listed nor reminded of.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from docstore import audit, clock, database, notifications, workdays
from docstore.errors import N_, Conflict, Msg
from docstore.extensions import db
from docstore.models import TASK_STATES, Department, Document, Notification, RoutingItem, Substitution, Task, User
from docstore.pagination import Page
from docstore.routing.inboxes import DUE_SOON_DAYS, _in_force, _urgency_first
from docstore.routing.permissions import _calendar, _clerk
from docstore.routing.states import IllegalTransition, _name, get_task
from docstore.routing.transitions import _recipients

log = logging.getLogger(__name__)

#: The kinds of notification that remind a task's people of it (a clerk's, or the job's).
REMINDER_KINDS = ("chase", "task_due_soon", "task_overdue")
#: Notification keys looked up per query (the IN list stays well under the databases' limits).
KEYS_PER_QUERY = 500


# --- the chase list ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChaseRow:
    """An open task that is due soon or overdue, as the chase list shows it.

    `department` is the task's department, or its user's. `days_overdue` counts the working days past the deadline
    (0 while it is not overdue, and on the days off right after it), `days_left` those until it (0 once overdue).
    """

    task: Task
    document: Document
    user: User | None
    department: Department | None
    deadline: date
    overdue: bool
    days_overdue: int
    days_left: int
    last_reminder: datetime | None
    reminded_today: bool
    escalated: bool

    @property
    def extra_urgent(self) -> bool:
        return self.document.urgency == "extra_urgent"

    @property
    def assignee(self) -> str:
        """Return whom the task is for: its user's name, or its department's."""
        if self.user is not None:
            return _name(self.user)
        return self.department.name if self.department is not None else ""


@dataclass(frozen=True)
class DepartmentCount:
    """How many tasks of a department (None: of people without one) are due soon and overdue."""

    department: Department | None
    due_soon: int
    overdue: int
    extra_urgent: int


@dataclass(frozen=True)
class ChaseBoard:
    """The chase page: one page of rows (of one department, or all), and the counts of every department."""

    page: Page[ChaseRow]
    counts: list[DepartmentCount]
    department: Department | None
    today: date
    overdue_to_remind: int = 0

    @property
    def total_overdue(self) -> int:
        return sum(count.overdue for count in self.counts)

    @property
    def total_due_soon(self) -> int:
        return sum(count.due_soon for count in self.counts)


def _owner_department():
    """Return the department a task counts for: its own, or its user's (User must be joined)."""
    return func.coalesce(Task.department_id, User.department_id)


def chase_list(calendar: workdays.Calendar | None, department_id: int | None = None) -> list[ChaseRow]:
    """Return the open tasks due within DUE_SOON_DAYS working days or overdue (of one department, or all).

    Extra-urgent tasks come first, then by deadline (so overdue before due soon), with each one's last reminder.
    """
    calendar = _calendar(calendar)
    today = calendar.today()
    until = calendar.add_working_days(today, DUE_SOON_DAYS)
    owner = _owner_department()
    query = (
        select(Task, owner)
        .join(RoutingItem, RoutingItem.id == Task.item_id)
        .join(Document, Document.id == RoutingItem.document_id)
        .outerjoin(User, User.id == Task.user_id)
        .where(Task.state == "open", Task.deadline <= until, _in_force())
        .options(joinedload(Task.item).joinedload(RoutingItem.document), joinedload(Task.user))
        .order_by(_urgency_first(), Task.deadline, Task.id)
    )
    if department_id is not None:
        query = query.where(owner == department_id)
    found = db.session.execute(query).all()
    department_ids = {owner_id for _task, owner_id in found if owner_id is not None}
    departments = {
        row.id: row for row in db.session.scalars(select(Department).where(Department.id.in_(department_ids)))
    }
    reminders = _sent_reminders([task for task, _owner in found])
    rows = []
    for task, owner_id in found:
        overdue = task.deadline < today
        sent = reminders.get(task.id, {})
        rows.append(
            ChaseRow(
                task=task,
                document=task.item.document,
                user=task.user,
                department=departments.get(owner_id),
                deadline=task.deadline,
                overdue=overdue,
                days_overdue=max(0, calendar.working_days_between(task.deadline, today)) if overdue else 0,
                days_left=0 if overdue else max(0, calendar.working_days_between(today, task.deadline)),
                last_reminder=max(
                    (at for key, at in sent.items() if key.split(":", 1)[0] in ("chase", "due_soon", "overdue")),
                    default=None,
                ),
                reminded_today=f"chase:{task.id}:{today.isoformat()}" in sent,
                escalated=f"escalation:{task.id}:{task.deadline.isoformat()}" in sent,
            )
        )
    return rows


def _sent_reminders(tasks: list[Task]) -> dict[int, dict[str, datetime]]:
    """Return, for each of `tasks`, the keys of the reminders and escalations sent about it, with when (the latest)."""
    if not tasks:
        return {}
    document_ids = {task.item.document_id for task in tasks}
    wanted = {str(task.id) for task in tasks}
    query = (
        select(Notification.dedupe_key, func.max(Notification.created_at))
        .where(
            Notification.document_id.in_(document_ids),
            Notification.kind.in_((*REMINDER_KINDS, "escalation")),
            Notification.dedupe_key.is_not(None),
        )
        .group_by(Notification.dedupe_key)
    )
    sent: dict[int, dict[str, datetime]] = {}
    for key, at in db.session.execute(query):
        parts = key.split(":")
        if len(parts) == 3 and parts[1] in wanted:
            sent.setdefault(int(parts[1]), {})[key] = clock.as_utc(at)
    return sent


def chase_counts(rows: Iterable[ChaseRow]) -> list[DepartmentCount]:
    """Return the due-soon and overdue counts of `rows` by department, the most overdue first."""
    totals: dict[int | None, list] = {}
    for row in rows:
        ident = row.department.id if row.department is not None else None
        entry = totals.setdefault(ident, [row.department, 0, 0, 0])
        entry[2 if row.overdue else 1] += 1
        entry[3] += row.extra_urgent
    counts = [DepartmentCount(*entry) for entry in totals.values()]
    return sorted(
        counts,
        key=lambda c: (-c.overdue, -c.due_soon, c.department is None, c.department.name if c.department else ""),
    )


def chase_board(calendar: workdays.Calendar | None, department_id: int | None, page: int, per_page: int) -> ChaseBoard:
    """Return the chase page: one page of the rows (of a department, or all) and every department's counts."""
    calendar = _calendar(calendar)
    rows = chase_list(calendar, None)
    counts = chase_counts(rows)
    department = db.session.get(Department, department_id) if department_id is not None else None
    if department is not None:
        rows = [row for row in rows if row.department is not None and row.department.id == department.id]
    page = max(1, page)
    per_page = max(1, per_page)
    start = (page - 1) * per_page
    return ChaseBoard(
        page=Page(rows[start : start + per_page], page, per_page, len(rows)),
        counts=counts,
        department=department,
        today=calendar.today(),
        overdue_to_remind=sum(1 for row in rows if row.overdue and not row.reminded_today),
    )


# --- a clerk's reminders -----------------------------------------------------------------------------------------


def _with_substitutes(user_ids: Iterable[int], day: date) -> list[int]:
    """Return the active users among `user_ids` and those acting for any of them on `day`, without repeats."""
    user_ids = set(user_ids)
    if not user_ids:
        return []
    substitutes = select(Substitution.substitute_id).where(
        Substitution.user_id.in_(user_ids),
        ~Substitution.cancelled,
        Substitution.starts_on <= day,
        Substitution.ends_on >= day,
    )
    query = select(User.id).where(User.active, User.id.in_(user_ids) | User.id.in_(substitutes)).order_by(User.id)
    return list(db.session.scalars(query))


def _chase(user: User, ctx: audit.Context, task: Task, today: date) -> int | None:
    """Remind the people of `task` for the clerk `user`; return how many were told (None: nobody can be)."""
    people = _with_substitutes(_recipients(task), today)
    if not people:
        return None
    count = notifications.notify(
        people,
        "chase",
        task.item.document,
        key=f"chase:{task.id}:{today.isoformat()}",
        actor=_name(user),
        deadline=task.deadline,
        status="overdue" if task.deadline < today else "due",
    )
    if count:
        audit.record_event(
            ctx,
            "routing.task.remind",
            "task",
            task.id,
            after={"people": people, "reminded": count, "deadline": task.deadline.isoformat()},
        )
    return count


def remind(ctx: audit.Context, task_id: int, calendar: workdays.Calendar | None = None) -> int:
    """Remind the people of an open task of it (a clerk's 催办), at most once per office day; return how many were told.

    They are the task's user, or its department's active members, and whoever acts for one of them today. 0 means
    they were all reminded today already.
    """
    user, ctx = _clerk(ctx)
    task = get_task(task_id)
    if task.state != "open":
        raise IllegalTransition(
            Msg(N_("This task is %(state)s: there is nothing to chase."), state=Msg(TASK_STATES[task.state]))
        )
    document = task.item.document
    if document.status == "void":
        raise IllegalTransition(
            Msg(N_("Number %(number)s is void: there is nothing to chase."), number=document.number)
        )
    count = _chase(user, ctx, task, _calendar(calendar).today())
    if count is None:
        raise Conflict(Msg(N_("Nobody can be reminded of this task: its department has no active member.")))
    return count


@dataclass(frozen=True)
class Reminded:
    """What "remind all overdue" did: the tasks whose people were reminded, and how many people were told."""

    tasks: int
    people: int


def remind_overdue(
    ctx: audit.Context, calendar: workdays.Calendar | None = None, department_id: int | None = None
) -> Reminded:
    """Remind the people of every overdue task (of a department, or all) not reminded today; a clerk's action."""
    user, ctx = _clerk(ctx)
    calendar = _calendar(calendar)
    today = calendar.today()
    tasks = people = 0
    for row in chase_list(calendar, department_id):
        if row.overdue and not row.reminded_today:
            count = _chase(user, ctx, row.task, today)
            if count:
                tasks += 1
                people += count
    return Reminded(tasks, people)


# --- the scheduled job -----------------------------------------------------------------------------------------


@dataclass
class ReminderReport:
    """What a run of `send_reminders` sent: new notifications of each kind."""

    due_soon: int = 0
    overdue: int = 0
    escalation: int = 0

    @property
    def total(self) -> int:
        return self.due_soon + self.overdue + self.escalation

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class _Due:
    """A reminder the job may have to send: for which task, of which kind, with which key."""

    task_id: int
    document_id: int
    deadline: date
    kind: str
    key: str = field(init=False)

    def __post_init__(self):
        prefix = {"task_due_soon": "due_soon", "task_overdue": "overdue", "escalation": "escalation"}[self.kind]
        object.__setattr__(self, "key", f"{prefix}:{self.task_id}:{self.deadline.isoformat()}")


def _due_reminders(today: date, until: date, working: bool) -> list[_Due]:
    """Return the reminders that today calls for, sent or not (the caller leaves out those sent already)."""
    query = (
        select(Task.id, Task.deadline, RoutingItem.document_id, Document.urgency)
        .join(RoutingItem, RoutingItem.id == Task.item_id)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(Task.state == "open", Task.deadline <= until, _in_force())
        .order_by(Task.id)
    )
    due = []
    for task_id, deadline, document_id, urgency in db.session.execute(query):
        if deadline >= today:
            if working:
                due.append(_Due(task_id, document_id, deadline, "task_due_soon"))
            continue
        if working:
            due.append(_Due(task_id, document_id, deadline, "task_overdue"))
        if urgency == "extra_urgent":
            due.append(_Due(task_id, document_id, deadline, "escalation"))
    return due


def _sent_keys(due: list[_Due]) -> set[str]:
    """Return the keys among `due` that someone was notified with already."""
    sent: set[str] = set()
    for start in range(0, len(due), KEYS_PER_QUERY):
        chunk = due[start : start + KEYS_PER_QUERY]
        query = select(Notification.dedupe_key).where(
            Notification.document_id.in_({item.document_id for item in chunk}),
            Notification.dedupe_key.in_([item.key for item in chunk]),
        )
        sent.update(db.session.scalars(query))
    return sent


def _escalation_people(task: Task) -> list[int]:
    """Return whom an overdue extra-urgent task escalates to: the head of its department and its instructing leader."""
    department_id = task.department_id
    if department_id is None and task.user is not None:
        department_id = task.user.department_id
    people = []
    department = db.session.get(Department, department_id) if department_id is not None else None
    if department is not None and department.head_id is not None:
        people.append(department.head_id)
    if task.instruction is not None:
        people.append(task.instruction.leader_id)
    return people


def _send(item: _Due, today: date, working: bool) -> int:
    """Send one reminder in the current transaction, unless the task changed meanwhile; return how many were told.

    On a working day the task's people get its overdue reminder, so its escalation leaves them out: a head who is
    also the assignee hears of the task once. On a day off they get no reminder, and the escalation tells them too.
    """
    task = db.session.get(Task, item.task_id)
    if task is None or task.state != "open" or task.deadline != item.deadline or task.item.document.status == "void":
        return 0  # done, forwarded, given more time or voided since it was read: the next run sees it as it is now
    document = task.item.document
    reminded = _with_substitutes(_recipients(task), today)
    if item.kind == "escalation":
        assignee = _name(task.user) if task.user is not None else task.department.name
        told = set(reminded) if working else set()
        people = [person for person in _with_substitutes(_escalation_people(task), today) if person not in told]
        return notifications.notify(
            people, "escalation", document, key=item.key, assignee=assignee, deadline=task.deadline
        )
    return notifications.notify(reminded, item.kind, document, key=item.key, deadline=task.deadline)


def send_reminders(calendar: workdays.Calendar | None = None, days_before: int = DUE_SOON_DAYS) -> ReminderReport:
    """Send the reminders due today: due soon (within `days_before` working days), overdue, and escalations.

    Each reminder is saved in a transaction of its own, which this function commits (the caller's transaction is
    ended first). Safe to run at any time, as often as wanted, and from several processes at once.
    """
    calendar = _calendar(calendar)
    db.session.commit()
    today = calendar.today()
    until = calendar.add_working_days(today, days_before)
    working = calendar.is_working_day(today)
    due = _due_reminders(today, until, working)
    sent = _sent_keys(due)
    db.session.commit()
    report = ReminderReport()
    for item in due:
        if item.key in sent:
            continue
        with database.writing():
            try:
                count = _send(item, today, working)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
        name = {"task_due_soon": "due_soon", "task_overdue": "overdue"}.get(item.kind, item.kind)
        setattr(report, name, getattr(report, name) + count)
    return report


# --- the embedded scheduler --------------------------------------------------------------------------------------


def run_reminders(
    app, stop: threading.Event, poll_seconds: float = 300.0, report: Callable[[ReminderReport], None] | None = None
) -> None:
    """Send the reminders that fall due until `stop` is set, every `poll_seconds` (the first pass at once).

    Each pass that sent something is logged, and given to `report` if any.
    """
    while not stop.is_set():
        try:
            with app.app_context():
                sent = send_reminders(workdays.calendar_for(app.config), app.config["REMINDER_DAYS_BEFORE"])
                db.session.remove()
            if sent.total:
                log.info("reminders sent: %s", sent.as_dict())
                if report is not None:
                    report(sent)
        except Exception:  # keep the scheduler alive: the failure is logged and the next pass tries again
            log.exception("the reminder scheduler failed; retrying")
        stop.wait(poll_seconds)


def start_reminder_scheduler(app) -> threading.Thread:
    """Start the reminder scheduler thread of this process (once); set its `stop` event to end it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_reminders,
        args=(app, stop, app.config["REMINDER_POLL_SECONDS"]),
        name="docstore-reminders",
        daemon=True,
    )
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
