"""What waits for whom: the task inboxes, the reading list, the leaders' list, the clerks' board and their own work.

Each list comes as a plain list (`my_tasks`, `department_tasks`, `to_read`, `in_progress`) and as a page of rows
for the work pages (`my_tasks_page`, `department_tasks_page`, `to_read_page`, `to_instruct_page`, `board_page`,
`office_work`), with the counts that label their tabs (`task_counts`, `board_counts`, `office_counts`,
`waiting_for`). Extra-urgent items come first everywhere: they are pinned to the top of every inbox. A void document
is in none of them (`_in_force`): a number cancelled after it was routed leaves its routing as it stood, with
nothing left to do, and the chase list and the dashboard leave it out too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from docstore import workdays
from docstore.extensions import db
from docstore.models import Department, Document, ExtensionRequest, Reader, RoutingItem, Task, User
from docstore.models.routing import HANDLING_TASK_STATES
from docstore.pagination import Page, paginate
from docstore.registry import CLERK_ROLES, visible_ids
from docstore.routing.permissions import LEADER_ROLE, _calendar, _may_handle, _represented

#: "Due soon" means due within this many working days.
DUE_SOON_DAYS = 2
#: The buckets of `my_tasks`.
BUCKETS = ("todo", "due_soon", "overdue", "done")
#: The states of the items on the clerks' board (those not closed or returned), in the order an item passes them.
BOARD_STATES = ("pending", "accepted", "proposed", "handling", "handled")


def _urgency_first():
    return case((Document.urgency == "extra_urgent", 0), else_=1)


def _in_force():
    """Return the condition "the document is not void" (the query joins Document), which every list and count of
    routing work applies: the routing of a number voided after registration stays on its page, but waits for nobody.
    """
    return Document.status != "void"


def _mine(people: list[User]):
    """Return the condition "the task is for one of `people`": theirs, or their department's without a user."""
    user_ids = [person.id for person in people]
    department_ids = [person.department_id for person in people if person.department_id is not None]
    return or_(Task.user_id.in_(user_ids), and_(Task.user_id.is_(None), Task.department_id.in_(department_ids)))


def _people(user: User, calendar: workdays.Calendar) -> list[User]:
    """Return `user` and the people they act for today (as a substitute)."""
    return [user, *_represented(user, calendar)]


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _rows_page(query: Select, page: int, per_page: int, make) -> Page:
    """Run `query` (already ordered, several columns) for one page, each row turned into an item by `make`."""
    page, per_page = max(1, page), max(1, per_page)
    total = db.session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page([make(*row) for row in rows], page, per_page, total)


# --- my tasks ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRow:
    """A task in an inbox, with the person the user holds it for (None: their own, or their department's).

    `may_open` says whether the user may open its document: on "My department" a colleague's own task may be on a
    document that is not open to the other members (see `registry.can_view`).
    """

    task: Task
    acting_for: User | None = None
    may_open: bool = True

    @property
    def document(self) -> Document:
        return self.task.item.document


def _my_tasks_query(people: list[User], bucket: str, calendar: workdays.Calendar) -> Select:
    if bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}; use {', '.join(BUCKETS)}")
    today = calendar.today()
    query = (
        select(Task)
        .join(RoutingItem, RoutingItem.id == Task.item_id)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(_in_force())
        .options(joinedload(Task.item).joinedload(RoutingItem.document), joinedload(Task.department))
    )
    if bucket == "done":
        ids = [person.id for person in people]
        query = query.where(Task.state == "done", or_(_mine(people), Task.completed_by_id.in_(ids)))
        return query.order_by(Task.completed_at.desc(), Task.id.desc())
    query = query.where(Task.state == "open", _mine(people))
    if bucket == "due_soon":
        query = query.where(Task.deadline >= today, Task.deadline <= calendar.add_working_days(today, DUE_SOON_DAYS))
    elif bucket == "overdue":
        query = query.where(Task.deadline < today)
    return query.order_by(_urgency_first(), Task.deadline, Task.id)


def my_tasks(user: User, bucket: str = "todo", calendar: workdays.Calendar | None = None) -> list[Task]:
    """Return the tasks of `user` in `bucket` (todo, due_soon, overdue, done), extra-urgent first, then by deadline.

    They include the tasks of the people `user` acts for today (as a substitute).
    """
    calendar = _calendar(calendar)
    return list(db.session.scalars(_my_tasks_query(_people(user, calendar), bucket, calendar)))


def _held_for(user: User, represented: list[User], task: Task) -> User | None:
    """Return whom `user` holds `task` for: None when it is theirs, else the person they stand in for."""
    if _may_handle(user, task):
        return None
    if task.state == "done" and task.completed_by_id == user.id:
        return task.acting_for
    return next((person for person in represented if _may_handle(person, task)), None)


def my_tasks_page(
    user: User, bucket: str, page: int, per_page: int, calendar: workdays.Calendar | None = None
) -> Page[TaskRow]:
    """Return one page of the tasks of `user` in `bucket` (as `my_tasks` orders them), each marked with whom it is for.

    A task that is the user's own, or their department's, is for nobody else; one they hold as a substitute names
    the person they stand in for ("for A").
    """
    calendar = _calendar(calendar)
    people = _people(user, calendar)
    result = paginate(_my_tasks_query(people, bucket, calendar), page, per_page)
    result.items = [TaskRow(task, _held_for(user, people[1:], task)) for task in result.items]
    return result


def task_counts(user: User, calendar: workdays.Calendar | None = None) -> dict[str, int]:
    """Return how many tasks `user` (and whoever they act for today) has in each bucket, with one query."""
    calendar = _calendar(calendar)
    return _task_counts(_people(user, calendar), calendar)


def _task_counts(people: list[User], calendar: workdays.Calendar) -> dict[str, int]:
    today = calendar.today()
    ids = [person.id for person in people]
    open_ = and_(Task.state == "open", _mine(people))
    done = and_(Task.state == "done", or_(_mine(people), Task.completed_by_id.in_(ids)))
    soon = calendar.add_working_days(today, DUE_SOON_DAYS)
    row = db.session.execute(
        select(
            _count(open_),
            _count(and_(open_, Task.deadline >= today, Task.deadline <= soon)),
            _count(and_(open_, Task.deadline < today)),
            _count(done),
        )
        .select_from(Task)
        .join(RoutingItem, RoutingItem.id == Task.item_id)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(or_(open_, done), _in_force())
    ).one()
    return dict(zip(BUCKETS, (int(value) for value in row), strict=True))


# --- my department -------------------------------------------------------------------------------------------------


def _department_query(department_id: int) -> Select:
    """Return the open tasks of a department: its own, those forwarded to its members and those of its members."""
    of_member = and_(Task.department_id.is_(None), Task.user.has(User.department_id == department_id))
    return (
        select(Task)
        .join(RoutingItem, RoutingItem.id == Task.item_id)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(Task.state == "open", or_(Task.department_id == department_id, of_member), _in_force())
        .options(
            joinedload(Task.item).joinedload(RoutingItem.document), joinedload(Task.user), joinedload(Task.department)
        )
        .order_by(_urgency_first(), Task.deadline, Task.id)
    )


def department_tasks(user: User) -> list[Task]:
    """Return the open tasks of the user's department (including those of its members), extra-urgent first."""
    if user.department_id is None:
        return []
    return list(db.session.scalars(_department_query(user.department_id)))


def department_tasks_page(user: User, page: int, per_page: int) -> Page[TaskRow]:
    """Return one page of the open tasks of the user's department, as `department_tasks` orders them.

    Each row says whether `user` may open its document (one query for the page): they may open the documents of
    the department's tasks and those addressed to it, not always those of a colleague's own task.
    """
    if user.department_id is None:
        return Page([], max(1, page), max(1, per_page), 0)
    result = paginate(_department_query(user.department_id), page, per_page)
    openable = visible_ids(user, [task.item.document_id for task in result.items])
    result.items = [TaskRow(task, may_open=task.item.document_id in openable) for task in result.items]
    return result


# --- to read -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadingRow:
    """A document sent to the user to read (传阅), with the record of its sending."""

    reader: Reader
    document: Document


def _to_read_query(user: User) -> Select:
    return (
        select(Reader, Document)
        .join(RoutingItem, RoutingItem.id == Reader.item_id)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(Reader.user_id == user.id, Reader.read_at.is_(None), _in_force())
        .options(joinedload(Reader.sent_by))
    )


def to_read(user: User) -> list[Reader]:
    """Return what was sent to `user` to read and is not read yet, required first, oldest first."""
    query = (
        select(Reader)
        .join(RoutingItem, RoutingItem.id == Reader.item_id)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(Reader.user_id == user.id, Reader.read_at.is_(None), _in_force())
        .options(joinedload(Reader.user))
        .order_by(Reader.required.desc(), Reader.sent_at, Reader.id)
    )
    return list(db.session.scalars(query))


def to_read_page(user: User, page: int, per_page: int) -> Page[ReadingRow]:
    """Return one page of what `user` has to read: extra-urgent first, then required, then oldest first."""
    query = _to_read_query(user).order_by(_urgency_first(), Reader.required.desc(), Reader.sent_at, Reader.id)
    return _rows_page(query, page, per_page, ReadingRow)


def to_read_count(user: User) -> int:
    """Return how many documents `user` has been sent to read and has not read yet."""
    query = select(func.count()).select_from(_to_read_query(user).subquery())
    return db.session.execute(query).scalar_one()


# --- to instruct ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalRow:
    """An item proposed to a leader for instruction (拟办), with its proposed departments in the proposal's order.

    `acting_for` is the leader the user stands in for (None: proposed to the user).
    """

    item: RoutingItem
    departments: list[Department]
    acting_for: User | None = None

    @property
    def document(self) -> Document:
        return self.item.document


def instructing_for(user: User, calendar: workdays.Calendar | None = None) -> list[User]:
    """Return the leaders whose proposals `user` may instruct today: themselves if a leader, and those they act for."""
    return _leaders([user, *_represented(user, calendar)])


def _leaders(people: list[User]) -> list[User]:
    return [person for person in people if person.active and person.has_role(LEADER_ROLE)]


def _to_instruct_query(leaders: list[User]) -> Select:
    """Return the items proposed to one of `leaders` and waiting for their instruction.

    Only proposed items: an item received without a proposal is still the office's to prepare (it chooses which
    leader instructs it), so it would be noise on every leader's list; a leader can still instruct it from its page.
    """
    return (
        select(RoutingItem)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(
            RoutingItem.state == "proposed",
            RoutingItem.kind == "action",
            RoutingItem.proposed_leader_id.in_([leader.id for leader in leaders]),
            _in_force(),
        )
        .options(joinedload(RoutingItem.document), joinedload(RoutingItem.proposed_leader))
        .order_by(_urgency_first(), RoutingItem.proposed_deadline.asc().nulls_last(), RoutingItem.id)
    )


def to_instruct_page(
    user: User, page: int, per_page: int, calendar: workdays.Calendar | None = None
) -> Page[ProposalRow]:
    """Return one page of the items proposed to `user`, or to a leader they act for today, extra-urgent first."""
    leaders = instructing_for(user, calendar)
    if not leaders:
        return Page([], max(1, page), max(1, per_page), 0)
    result = paginate(_to_instruct_query(leaders), page, per_page)
    wanted = {ident for item in result.items for ident in item.proposed_department_ids or ()}
    departments = {row.id: row for row in db.session.scalars(select(Department).where(Department.id.in_(wanted)))}
    result.items = [
        ProposalRow(
            item,
            [departments[ident] for ident in item.proposed_department_ids or () if ident in departments],
            None if item.proposed_leader_id == user.id else item.proposed_leader,
        )
        for item in result.items
    ]
    return result


def to_instruct_count(user: User, calendar: workdays.Calendar | None = None) -> int:
    """Return how many items wait for the instruction of `user` or of a leader they act for today."""
    return _to_instruct_count(instructing_for(user, calendar))


def _to_instruct_count(leaders: list[User]) -> int:
    if not leaders:
        return 0
    query = select(func.count()).select_from(_to_instruct_query(leaders).order_by(None).subquery())
    return db.session.execute(query).scalar_one()


# --- the clerks' board ---------------------------------------------------------------------------------------------


def in_progress() -> list[RoutingItem]:
    """Return the items not closed or returned (the clerks' board): extra-urgent first, then by deadline."""
    query = (
        select(RoutingItem)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(RoutingItem.state.not_in(("closed", "returned")), _in_force())
        .options(joinedload(RoutingItem.document))
        .order_by(_urgency_first(), RoutingItem.deadline.asc().nulls_last(), RoutingItem.id)
    )
    return list(db.session.scalars(query))


@dataclass
class BoardFilter:
    """What the clerks' board shows: one state (or all), the items one department handles, one urgency."""

    state: str = ""
    department_id: int | None = None
    urgency: str = ""


@dataclass(frozen=True)
class BoardRow:
    """An item on the clerks' board, with its lead handler's task (open, or done when handled; None before)."""

    item: RoutingItem
    lead: Task | None = None

    @property
    def document(self) -> Document:
        return self.item.document


def _board_query(criteria: BoardFilter, with_state: bool = True) -> Select:
    query = select(RoutingItem).join(Document, Document.id == RoutingItem.document_id).where(_in_force())
    if with_state and criteria.state in BOARD_STATES:
        query = query.where(RoutingItem.state == criteria.state)
    else:
        query = query.where(RoutingItem.state.in_(BOARD_STATES))
    if criteria.urgency:
        query = query.where(Document.urgency == criteria.urgency)
    if criteria.department_id is not None:
        department = criteria.department_id
        handles = (
            select(Task.id)
            .where(
                Task.item_id == RoutingItem.id,
                Task.state.in_(HANDLING_TASK_STATES),
                or_(Task.department_id == department, Task.user.has(User.department_id == department)),
            )
            .exists()
        )
        query = query.where(handles)
    return query


def board_page(criteria: BoardFilter, page: int, per_page: int) -> Page[BoardRow]:
    """Return one page of the items in progress matching `criteria`, extra-urgent first, then by deadline."""
    query = (
        _board_query(criteria)
        .options(joinedload(RoutingItem.document))
        .order_by(_urgency_first(), RoutingItem.deadline.asc().nulls_last(), RoutingItem.id)
    )
    result = paginate(query, page, per_page)
    leads: dict[int, Task] = {}
    if result.items:
        tasks = db.session.scalars(
            select(Task)
            .where(
                Task.item_id.in_([item.id for item in result.items]),
                Task.role == "lead",
                Task.state.in_(HANDLING_TASK_STATES),
            )
            .options(joinedload(Task.user), joinedload(Task.department))
            .order_by(Task.id)
        )
        for task in tasks:  # the open lead task wins; else the latest done one
            if leads.get(task.item_id) is None or leads[task.item_id].state != "open":
                leads[task.item_id] = task
    result.items = [BoardRow(item, leads.get(item.id)) for item in result.items]
    return result


def board_counts(criteria: BoardFilter) -> dict[str, int]:
    """Return how many items in progress are in each state, for `criteria`'s department and urgency."""
    subquery = _board_query(criteria, with_state=False).with_only_columns(RoutingItem.state).subquery()
    rows = db.session.execute(select(subquery.c.state, func.count()).group_by(subquery.c.state)).all()
    found = {state: count for state, count in rows}
    return {state: found.get(state, 0) for state in BOARD_STATES}


# --- the office's own work -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficeCounts:
    """How much of the office's own work waits for its clerks.

    `to_receive`: documents awaiting receipt; `to_close`: handled documents to close; `extensions`: requests for
    more time on open tasks, waiting for a decision.
    """

    to_receive: int = 0
    to_close: int = 0
    extensions: int = 0

    @property
    def total(self) -> int:
        return self.to_receive + self.to_close + self.extensions


@dataclass(frozen=True)
class ExtensionRow:
    """A request for more time waiting for a clerk's decision, with its task and document."""

    request: ExtensionRequest

    @property
    def task(self) -> Task:
        return self.request.task

    @property
    def document(self) -> Document:
        return self.request.task.item.document


@dataclass(frozen=True)
class OfficeWork:
    """The office's own work: the first rows of each group (as many as asked for), and the counts of all."""

    to_receive: list[BoardRow]
    to_close: list[BoardRow]
    extensions: list[ExtensionRow]
    counts: OfficeCounts


def _pending_extensions() -> Select:
    """Return the requests for more time waiting for a decision on open tasks of documents in force.

    A request left pending on a task done, forwarded or cancelled since needs no decision: it is not listed.
    """
    return (
        select(ExtensionRequest)
        .join(Task, Task.id == ExtensionRequest.task_id)
        .join(RoutingItem, RoutingItem.id == Task.item_id)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(ExtensionRequest.state == "pending", Task.state == "open", _in_force())
    )


def _pending_extension_count() -> int:
    return db.session.execute(select(func.count()).select_from(_pending_extensions().subquery())).scalar_one()


def office_counts() -> OfficeCounts:
    """Return how much of the office's own work waits: documents to receive, to close, requests to decide.

    Two queries; the header counts them for clerks through `waiting_for`.
    """
    states = board_counts(BoardFilter())
    return OfficeCounts(states["pending"], states["handled"], _pending_extension_count())


def office_work(limit: int) -> OfficeWork:
    """Return the office's own work for its clerks, at most `limit` rows of each group, extra-urgent first.

    Documents to receive and to close come as the board orders them (then by deadline, then oldest first); requests
    for more time by their task's deadline, then oldest first.
    """
    limit = max(1, limit)
    to_receive = board_page(BoardFilter(state="pending"), 1, limit)
    to_close = board_page(BoardFilter(state="handled"), 1, limit)
    task = joinedload(ExtensionRequest.task)
    query = (
        _pending_extensions()
        .options(
            task.joinedload(Task.item).joinedload(RoutingItem.document),
            task.joinedload(Task.user),
            task.joinedload(Task.department),
            joinedload(ExtensionRequest.requested_by),
            joinedload(ExtensionRequest.acting_for),
        )
        .order_by(_urgency_first(), Task.deadline, ExtensionRequest.created_at, ExtensionRequest.id)
    )
    extensions = paginate(query, 1, limit)
    return OfficeWork(
        to_receive=to_receive.items,
        to_close=to_close.items,
        extensions=[ExtensionRow(request) for request in extensions.items],
        counts=OfficeCounts(to_receive.total, to_close.total, extensions.total),
    )


# --- all of it at a glance -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """What waits for a user: their open tasks by bucket, what to read, what to instruct, the board (clerks)."""

    tasks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    to_read: int = 0
    to_instruct: int = 0
    #: Whether the user instructs (a leader, or a leader's substitute today): the "To instruct" list is theirs.
    instructs: bool = False
    #: The items in progress, for the office's clerks (None for others).
    in_progress: int | None = None
    #: The office's own work, for its clerks (None for others).
    office: OfficeCounts | None = None

    @property
    def open_tasks(self) -> int:
        return self.tasks["todo"]

    @property
    def office_total(self) -> int:
        return self.office.total if self.office is not None else 0

    @property
    def total(self) -> int:
        """Return what the header's badge counts: open tasks, documents to read and to instruct, the office's work.

        The office's work counts for its clerks only (None for the others).
        """
        return self.open_tasks + self.to_read + self.to_instruct + self.office_total


def waiting_for(user: User, calendar: workdays.Calendar | None = None) -> Waiting:
    """Return what waits for `user` today, in four to six small queries (the header shows it on every page)."""
    calendar = _calendar(calendar)
    people = _people(user, calendar)
    leaders = _leaders(people)
    in_progress_count = office = None
    if user.has_role(*CLERK_ROLES):
        states = board_counts(BoardFilter())
        in_progress_count = sum(states.values())
        office = OfficeCounts(states["pending"], states["handled"], _pending_extension_count())
    return Waiting(
        tasks=_task_counts(people, calendar),
        to_read=to_read_count(user),
        to_instruct=_to_instruct_count(leaders),
        instructs=bool(leaders),
        in_progress=in_progress_count,
        office=office,
    )


# --- who handles a document ----------------------------------------------------------------------------------------


def handler_ids(document_id: int) -> tuple[set[int], set[int]]:
    """Return the ids of the users and of the departments handling a document (with an open or done task).

    Handlers may open the document without department access: `registry.can_view` says so in SQL, and the search
    index keeps them as the `handlers` of the document's entry (see `docstore.indexing`).
    """
    rows = db.session.execute(
        select(Task.user_id, Task.department_id)
        .join(RoutingItem, RoutingItem.id == Task.item_id)
        .where(RoutingItem.document_id == document_id, Task.state.in_(HANDLING_TASK_STATES))
    ).all()
    users = {user_id for user_id, _ in rows if user_id is not None}
    departments = {department_id for user_id, department_id in rows if user_id is None and department_id is not None}
    return users, departments
