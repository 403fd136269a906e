"""The routing panel of a document's page: where its handling stands, what happened, and what the viewer may do now.

`panel` loads everything the page shows in a fixed number of queries and returns plain values, so that the page
never reaches back into the database while it is drawn. The rules of who may act stay in `permissions`, `states`
and the transitions themselves: the panel only asks them, and a form it offers is still checked when it is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from docstore import audit, workdays
from docstore.errors import N_, Forbidden, Msg, NotFound, ValidationFailed
from docstore.extensions import db
from docstore.models import (
    EXTENSION_STATES,
    ITEM_KINDS,
    ITEM_STATES,
    TASK_ROLES,
    TASK_STATES,
    Department,
    Document,
    ExtensionRequest,
    Instruction,
    Reader,
    RoutingItem,
    Task,
    TaskComment,
    User,
)
from docstore.registry import CLERK_ROLES, visible_to
from docstore.routing.history import Entry, timeline
from docstore.routing.permissions import LEADER_ROLE, _calendar, _leader, _may_handle, _represented, acting_as
from docstore.routing.transitions import CIRCULABLE, INSTRUCTABLE

#: The label of an item not received yet (it has no routing item, or a pending one).
NOT_RECEIVED = ITEM_STATES["pending"]
#: The states in which an item's deadline still runs.
RUNNING = ("accepted", "proposed", "handling")
#: The states of a task that clerks and leaders may comment on (`tasks.comment` refuses forwarded and cancelled ones).
COMMENTABLE = ("open", "done")


@dataclass(frozen=True)
class Person:
    """Someone the panel names (or a department, or a document): the id, for forms and links, and the name to show."""

    id: int
    name: str


@dataclass(frozen=True)
class Proposal:
    """The office's proposed handling (拟办)."""

    text: str
    leader: Person | None
    departments: list[Person]
    deadline: date | None


@dataclass(frozen=True)
class InstructionView:
    """A leader's instruction (批示): `leader` gave it; `author` recorded it (a substitute, when not the leader)."""

    id: int
    leader: Person
    author: Person
    acting_for: Person | None
    text: str
    at: datetime
    deadline: date


@dataclass(frozen=True)
class CommentView:
    author: Person
    acting_for: Person | None
    text: str
    at: datetime


@dataclass(frozen=True)
class ExtensionView:
    """A request for more time on a task, and the clerk's decision once taken."""

    id: int
    task_id: int
    requested_by: Person
    acting_for: Person | None
    new_deadline: date
    reason: str
    state: str
    state_label: str
    at: datetime
    decided_by: Person | None
    decided_at: datetime | None
    note: str


@dataclass
class TaskView:
    """A task as the panel shows it, with what the viewing user may do on it."""

    id: int
    assignee: str
    assignee_kind: str  # "user" or "department"
    department: str  # the department of a user's task ("" when none)
    role: str
    role_label: str
    state: str
    state_label: str
    deadline: date
    overdue: bool
    result: str
    completed_at: datetime | None
    completed_by: Person | None
    acting_for: Person | None
    forwarded_from_id: int | None
    comments: list[CommentView] = field(default_factory=list)
    extensions: list[ExtensionView] = field(default_factory=list)
    #: The viewer may comment, ask for more time, forward it and report its result (the task is open).
    may_act: bool = False
    #: Whom the viewer acts for on this task, as a substitute (None: in their own right).
    act_for: Person | None = None
    #: The colleagues the viewer may forward the task to.
    colleagues: list[Person] = field(default_factory=list)
    #: The viewer may comment on it without handling it: a clerk or a leader (an open or a done task).
    may_comment: bool = False
    #: Whom the task is for, by id (the API names them): its user, and its department (a department's task).
    user_id: int | None = None
    department_id: int | None = None

    @property
    def pending_extension(self) -> ExtensionView | None:
        """Return the request for more time waiting for a decision, if any."""
        return next((row for row in self.extensions if row.state == "pending"), None)


@dataclass(frozen=True)
class ReaderView:
    user: Person
    required: bool
    sent_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class TimelineRow:
    """One line of the timeline: when, who (and for whom), what (a message to translate) and the text written."""

    at: datetime
    what: str
    label: Msg
    actor: Person | None
    acting_for: Person | None
    text: str


@dataclass(frozen=True)
class Actions:
    """What the viewing user may do on the document now (each form is checked again when it is sent)."""

    receive: bool = False  # receive, or return to the sender
    propose: bool = False
    instruct: bool = False
    instruct_for: Person | None = None  # the leader a substitute instructs for
    circulate: bool = False
    mark_read: bool = False
    close: bool = False
    close_needs_reason: bool = False  # still being handled: closing takes a reason and cancels the open tasks
    reopen: bool = False
    decide_extensions: bool = False

    @property
    def any(self) -> bool:
        return any((self.receive, self.propose, self.instruct, self.circulate, self.mark_read, self.close, self.reopen))


@dataclass
class Panel:
    """The routing of one incoming document, for one viewer."""

    document_id: int
    number: str
    routed: bool  # it has a routing item (else the office has not received it yet)
    state: str
    state_label: str
    kind: str
    kind_label: str
    urgency: str
    deadline: date | None
    overdue: bool
    today: date
    return_reason: str = ""
    result: str = ""
    close_reason: str = ""
    closed_at: datetime | None = None
    closed_by: Person | None = None
    reply: Person | None = None  # the reply document: its id and number
    proposal: Proposal | None = None
    instructions: list[InstructionView] = field(default_factory=list)
    tasks: list[TaskView] = field(default_factory=list)
    readers: list[ReaderView] = field(default_factory=list)
    timeline: list[TimelineRow] = field(default_factory=list)
    can: Actions = field(default_factory=Actions)
    is_clerk: bool = False
    viewer_id: int | None = None

    @property
    def extra_urgent(self) -> bool:
        return self.urgency == "extra_urgent"

    @property
    def my_tasks(self) -> list[TaskView]:
        """Return the open tasks the viewer may act on (theirs, or those of whom they stand in for)."""
        return [task for task in self.tasks if task.may_act]

    @property
    def pending_extensions(self) -> list[tuple[TaskView, ExtensionView]]:
        """Return the requests for more time waiting for a clerk, with their tasks."""
        return [(task, task.pending_extension) for task in self.tasks if task.pending_extension is not None]

    @property
    def open_lead(self) -> TaskView | None:
        return next((task for task in self.tasks if task.role == "lead" and task.state == "open"), None)

    @property
    def unread(self) -> list[ReaderView]:
        """Return the readers who have not read it yet, the required ones first."""
        return [reader for reader in self.readers if reader.read_at is None]

    @property
    def my_reading(self) -> ReaderView | None:
        """Return the viewer's own line on the reading list, if the document was sent to them to read."""
        return next((reader for reader in self.readers if reader.user.id == self.viewer_id), None)

    @property
    def blocking_readers(self) -> list[ReaderView]:
        """Return the required readers who have not read it yet: closing waits for them."""
        return [reader for reader in self.readers if reader.required and reader.read_at is None]

    @property
    def has_co_handlers(self) -> bool:
        """Return True when co-handlers work on it (or have reported): their results are beside the lead's."""
        return any(task.role == "co" and task.state in COMMENTABLE for task in self.tasks)


# --- loading -------------------------------------------------------------------------------------------------------


def _name(full_name: str | None, username: str) -> str:
    return full_name or username


def _people(ids: Iterable[int | None]) -> dict[int, tuple[Person, int | None]]:
    """Return the named users by id, each with their department id, in one query."""
    wanted = {ident for ident in ids if ident is not None}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(User.id, User.full_name, User.username, User.department_id).where(User.id.in_(wanted))
    )
    return {row.id: (Person(row.id, _name(row.full_name, row.username)), row.department_id) for row in rows}


def _departments(ids: Iterable[int | None]) -> dict[int, Person]:
    wanted = {ident for ident in ids if ident is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(Department.id, Department.name).where(Department.id.in_(wanted)))
    return {row.id: Person(row.id, row.name) for row in rows}


def _colleagues(department_ids: set[int]) -> dict[int, list[Person]]:
    """Return the active members of each department, by name, in one query."""
    if not department_ids:
        return {}
    rows = db.session.execute(
        select(User.id, User.full_name, User.username, User.department_id)
        .where(User.department_id.in_(department_ids), User.active)
        .order_by(User.full_name, User.id)
    )
    found: dict[int, list[Person]] = {}
    for row in rows:
        found.setdefault(row.department_id, []).append(Person(row.id, _name(row.full_name, row.username)))
    return found


def panel(user: User, document: Document, calendar: workdays.Calendar | None = None) -> Panel | None:
    """Return the routing panel of `document` for `user`, or None when the document is not one that is routed.

    Outgoing and internal documents have none; a void incoming document has one only when it was routed before
    it was voided (shown, with nothing left to do).
    """
    if document.direction != "incoming":
        return None
    calendar = _calendar(calendar)
    today = calendar.today()
    item = db.session.execute(select(RoutingItem).where(RoutingItem.document_id == document.id)).scalar_one_or_none()
    routable = document.status == "registered"
    if item is None and not routable:
        return None
    is_clerk = user.has_role(*CLERK_ROLES)
    if item is None:
        return Panel(
            document_id=document.id,
            number=document.number,
            routed=False,
            state="pending",
            state_label=NOT_RECEIVED,
            kind="",
            kind_label="",
            urgency=document.urgency,
            deadline=document.deadline,
            overdue=False,
            today=today,
            can=Actions(receive=is_clerk),
            is_clerk=is_clerk,
            viewer_id=user.id,
        )

    instructions = list(
        db.session.scalars(select(Instruction).where(Instruction.item_id == item.id).order_by(Instruction.id))
    )
    tasks = list(db.session.scalars(select(Task).where(Task.item_id == item.id).order_by(Task.id)))
    task_ids = [task.id for task in tasks]
    comments = list(
        db.session.scalars(
            select(TaskComment)
            .where(TaskComment.task_id.in_(task_ids))
            .order_by(TaskComment.created_at, TaskComment.id)
        )
    )
    requests = list(
        db.session.scalars(
            select(ExtensionRequest)
            .where(ExtensionRequest.task_id.in_(task_ids))
            .order_by(ExtensionRequest.created_at, ExtensionRequest.id)
        )
    )
    readers = list(db.session.scalars(select(Reader).where(Reader.item_id == item.id)))
    entries = timeline(document.id)

    user_ids: list[int | None] = [item.closed_by_id, item.proposed_leader_id]
    user_ids += [ident for row in instructions for ident in (row.author_id, row.acting_for_id)]
    user_ids += [
        ident
        for task in tasks
        for ident in (task.user_id, task.completed_by_id, task.acting_for_id, task.created_by_id)
    ]
    user_ids += [ident for row in comments for ident in (row.author_id, row.acting_for_id)]
    user_ids += [ident for row in requests for ident in (row.requested_by_id, row.acting_for_id, row.decided_by_id)]
    user_ids += [row.user_id for row in readers]
    user_ids += [ident for entry in entries for ident in (entry.actor_id, entry.acting_for_id)]
    represented = _represented(user, calendar) if user.active else []
    user_ids += [other.id for other in represented]
    people = _people(user_ids)
    department_ids = [task.department_id for task in tasks] + list(item.proposed_department_ids or [])
    department_ids += [department for _person, department in people.values()]
    departments = _departments(department_ids)

    def person(ident: int | None) -> Person | None:
        return people[ident][0] if ident in people else None

    views = [_task_view(task, people, departments, today) for task in tasks]
    by_id = {view.id: view for view in views}
    for row in comments:
        by_id[row.task_id].comments.append(
            CommentView(person(row.author_id), person(row.acting_for_id), row.text, row.created_at)
        )
    for row in requests:
        by_id[row.task_id].extensions.append(_extension_view(row, person))
    if document.status == "registered":
        _may_act(user, tasks, by_id, represented, people, calendar)
        if user.active and user.has_role(*CLERK_ROLES, LEADER_ROLE):
            for view in views:
                view.may_comment = not view.may_act and view.state in COMMENTABLE
    readers_seen = sorted(
        (ReaderView(person(row.user_id), row.required, row.sent_at, row.read_at) for row in readers),
        key=lambda row: (row.read_at is not None, not row.required, row.user.name.casefold(), row.user.id),
    )
    actions = _actions(user, document, item, readers_seen, requests, person, calendar, represented)

    proposal = None
    if item.proposal or item.proposed_leader_id or item.proposed_department_ids:
        proposal = Proposal(
            text=item.proposal,
            leader=person(item.proposed_leader_id),
            departments=[departments[ident] for ident in item.proposed_department_ids or [] if ident in departments],
            deadline=item.proposed_deadline,
        )
    reply = None
    if item.reply_document_id is not None:
        number = db.session.execute(select(Document.number).where(Document.id == item.reply_document_id)).scalar()
        reply = Person(item.reply_document_id, number or "")
    return Panel(
        document_id=document.id,
        number=document.number,
        routed=True,
        state=item.state,
        state_label=ITEM_STATES.get(item.state, item.state),
        kind=item.kind,
        kind_label=ITEM_KINDS.get(item.kind, item.kind),
        urgency=document.urgency,
        deadline=item.deadline,
        overdue=item.state in RUNNING and item.deadline is not None and item.deadline < today,
        today=today,
        return_reason=item.return_reason,
        result=item.result,
        close_reason=item.close_reason,
        closed_at=item.closed_at,
        closed_by=person(item.closed_by_id),
        reply=reply,
        proposal=proposal,
        instructions=[
            InstructionView(
                id=row.id,
                leader=person(row.acting_for_id or row.author_id),
                author=person(row.author_id),
                acting_for=person(row.acting_for_id),
                text=row.text,
                at=row.instructed_at,
                deadline=row.deadline,
            )
            for row in instructions
        ],
        tasks=views,
        readers=readers_seen,
        timeline=_timeline_rows(entries, people, by_id),
        can=actions,
        is_clerk=user.has_role(*CLERK_ROLES),
        viewer_id=user.id,
    )


def _task_view(task: Task, people: dict, departments: dict[int, Person], today: date) -> TaskView:
    """Return a task as the panel shows it (what the viewer may do on it comes later)."""
    if task.user_id is not None:
        assignee, department_id = people[task.user_id]
        department_id = task.department_id or department_id
        name, kind = assignee.name, "user"
    else:
        department_id = task.department_id
        name, kind = departments[department_id].name, "department"
    return TaskView(
        id=task.id,
        assignee=name,
        assignee_kind=kind,
        department=departments[department_id].name if kind == "user" and department_id else "",
        role=task.role,
        role_label=TASK_ROLES.get(task.role, task.role),
        state=task.state,
        state_label=TASK_STATES.get(task.state, task.state),
        deadline=task.deadline,
        overdue=task.state == "open" and task.deadline < today,
        result=task.result,
        completed_at=task.completed_at,
        completed_by=people[task.completed_by_id][0] if task.completed_by_id in people else None,
        acting_for=people[task.acting_for_id][0] if task.acting_for_id in people else None,
        forwarded_from_id=task.forwarded_from_id,
        user_id=task.user_id,
        department_id=task.department_id,
    )


def _extension_view(row: ExtensionRequest, person) -> ExtensionView:
    return ExtensionView(
        id=row.id,
        task_id=row.task_id,
        requested_by=person(row.requested_by_id),
        acting_for=person(row.acting_for_id),
        new_deadline=row.new_deadline,
        reason=row.reason,
        state=row.state,
        state_label=EXTENSION_STATES.get(row.state, row.state),
        at=row.created_at,
        decided_by=person(row.decided_by_id),
        decided_at=row.decided_at,
        note=row.note,
    )


def _may_act(
    user: User,
    tasks: list[Task],
    views: dict[int, TaskView],
    represented: list[User],
    people: dict,
    calendar: workdays.Calendar,
) -> None:
    """Mark the open tasks `user` may act on (and for whom), with the colleagues they may forward each one to."""
    forward_from: dict[int, tuple[int, int | None]] = {}
    for task in tasks:
        if task.state != "open" or not (represented or _may_handle(user, task)):
            continue
        view = views[task.id]
        view.may_act, acting_for = acting_as(user, task, calendar, represented=represented)
        view.act_for = people[acting_for][0] if acting_for in people else None
        department_id = task.department_id
        if department_id is None and task.user_id in people:
            department_id = people[task.user_id][1]
        if view.may_act and department_id is not None:
            forward_from[task.id] = (department_id, task.user_id)
    members = _colleagues({department_id for department_id, _owner in forward_from.values()})
    for task_id, (department_id, owner_id) in forward_from.items():
        views[task_id].colleagues = [member for member in members.get(department_id, []) if member.id != owner_id]


def _actions(
    user: User,
    document: Document,
    item: RoutingItem,
    readers: list[ReaderView],
    requests: list[ExtensionRequest],
    person,
    calendar: workdays.Calendar,
    represented: list[User],
) -> Actions:
    """Return what `user` may do on the item now, as the transitions would allow it.

    A leader (or their substitute) may instruct in every state the transition allows (`INSTRUCTABLE`), a handled
    item included: instructing it again names a new lead.
    """
    state, kind = item.state, item.kind
    routable = document.status == "registered"
    instruct, instruct_for = False, None
    if routable and kind == "action" and state in INSTRUCTABLE:
        try:
            _user, ctx = _leader(audit.Context(actor_id=user.id), item, calendar, represented)
        except Forbidden:
            pass
        else:
            instruct, instruct_for = True, person(ctx.acting_for_id)
    own_reading = next((row for row in readers if row.user.id == user.id), None)
    clerk = user.has_role(*CLERK_ROLES) and routable
    closable = state in ("handled", "handling") or (kind == "information" and state == "accepted")
    return Actions(
        receive=clerk and state == "pending",
        propose=clerk and kind == "action" and state in ("accepted", "proposed"),
        instruct=instruct,
        instruct_for=instruct_for,
        circulate=clerk and state in CIRCULABLE,
        mark_read=own_reading is not None and own_reading.read_at is None,
        close=clerk and closable,
        close_needs_reason=state == "handling",
        reopen=clerk and state in ("closed", "returned"),
        decide_extensions=clerk and any(row.state == "pending" for row in requests),
    )


# --- the timeline --------------------------------------------------------------------------------------------------

#: What each kind of timeline entry is called (item steps by their action, then the other records).
WHAT: dict[str, str] = {
    "accept": N_("Received"),
    "return": N_("Returned to the sender"),
    "propose": N_("Handling proposed"),
    "instruct": N_("Sent for handling"),
    "handle": N_("Handling finished"),
    "close": N_("Closed"),
    "reopen": N_("Reopened"),
    "instruction": N_("Instruction, due %(deadline)s"),
    "task": N_("Task for %(assignee)s (%(role)s)"),
    "forwarded_task": N_("Task forwarded to %(assignee)s (%(role)s)"),
    "comment": N_("Comment on the task of %(assignee)s"),
    "result": N_("Result of %(assignee)s (%(role)s)"),
    "forwarded": N_("Task of %(assignee)s passed on"),
    "cancelled": N_("Task of %(assignee)s cancelled"),
    "extension_requested": N_("More time asked for on the task of %(assignee)s, until %(new_deadline)s"),
    "extension_approved": N_("More time given to %(assignee)s, until %(new_deadline)s"),
    "extension_refused": N_("More time refused to %(assignee)s (asked until %(new_deadline)s)"),
    "sent_to_read": N_("Sent to %(reader)s to read"),
    "sent_to_read_required": N_("Sent to %(reader)s to read (required before closing)"),
    "read": N_("Read"),
}


def _label(entry: Entry, people: dict, tasks: dict[int, TaskView]) -> Msg:
    details = entry.details or {}
    task = tasks.get(details.get("task_id"))
    params: dict = {}
    what = entry.what
    if task is not None:
        params = {"assignee": task.assignee, "role": Msg(task.role_label)}
    if what == "task" and details.get("forwarded_from_id"):
        what = "forwarded_task"
    if what == "instruction":  # a task's deadline may move later: the timeline names the one instructed
        params["deadline"] = date.fromisoformat(details["deadline"])
    if what.startswith("extension_"):
        params["new_deadline"] = date.fromisoformat(details["new_deadline"])
    if what == "sent_to_read":
        reader = people.get(details.get("reader_id"))
        params["reader"] = reader[0].name if reader else "?"
        if details.get("required"):
            what = "sent_to_read_required"
    text = WHAT.get(what)
    if text is None:
        return Msg(entry.what)
    return Msg(text, **params)


def _timeline_rows(entries: list[Entry], people: dict, tasks: dict[int, TaskView]) -> list[TimelineRow]:
    def person(ident: int | None) -> Person | None:
        return people[ident][0] if ident in people else None

    return [
        TimelineRow(
            at=entry.at,
            what=entry.what,
            label=_label(entry, people, tasks),
            actor=person(entry.actor_id),
            acting_for=person(entry.acting_for_id),
            text=entry.text,
        )
        for entry in entries
    ]


# --- look-ups for the forms ----------------------------------------------------------------------------------------


def find_reply(number: str, viewer: User) -> int | None:
    """Return the id of the document registered as `number` that `viewer` may open (None for an empty number).

    Raise ValidationFailed on the field "reply_number" when there is none (case and spaces around do not matter).
    """
    number = (number or "").strip()
    if not number:
        return None
    query = visible_to(select(Document.id), viewer).where(func.lower(Document.number) == number.lower())
    found = db.session.execute(query.limit(1)).scalar()
    if found is None:
        raise ValidationFailed(
            {"reply_number": Msg(N_("No document you may open is numbered %(number)s."), number=number)}
        )
    return found


def reply_example(viewer: User) -> str | None:
    """Return the number of the latest outgoing or internal document `viewer` may open, as an example of a reply's.

    The closing form shows it so that the number asked for looks like the office's own (None when there is none).
    """
    query = (
        visible_to(select(Document.number), viewer)
        .where(Document.direction != "incoming", Document.status != "void")
        .order_by(Document.registered_at.desc(), Document.id.desc())
        .limit(1)
    )
    return db.session.execute(query).scalar()


def extension_document_id(request_id: int) -> int:
    """Return the id of the document whose task a request for more time is about, or raise NotFound."""
    query = (
        select(RoutingItem.document_id)
        .join(Task, Task.item_id == RoutingItem.id)
        .join(ExtensionRequest, ExtensionRequest.task_id == Task.id)
        .where(ExtensionRequest.id == request_id)
    )
    document_id = db.session.execute(query).scalar()
    if document_id is None:
        raise NotFound(Msg(N_("No such request.")))
    return document_id


def task_document_id(task_id: int) -> int:
    """Return the id of the document a task belongs to, or raise NotFound."""
    query = select(RoutingItem.document_id).join(Task, Task.item_id == RoutingItem.id).where(Task.id == task_id)
    document_id = db.session.execute(query).scalar()
    if document_id is None:
        raise NotFound(Msg(N_("No such task.")))
    return document_id
