"""The transitions of a routing item: receipt, proposal, instruction, circulation, closing and reopening."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from docstore import audit, clock, notifications, workdays
from docstore.errors import N_, Msg, NotFound, ValidationFailed
from docstore.extensions import db
from docstore.models import (
    ITEM_KINDS,
    Department,
    Document,
    Instruction,
    Reader,
    RoutingItem,
    RoutingStep,
    Task,
    User,
)
from docstore.routing.permissions import LEADER_ROLE, _actor, _calendar, _clerk, _leader
from docstore.routing.states import (
    REASON_LIMIT,
    IllegalTransition,
    _illegal,
    _lock_item,
    _move,
    _move_task,
    _name,
    _not_past,
    _text,
    ensure_item,
    get_item,
)

# --- receipt, proposal, instruction --------------------------------------------------------------------------------


def accept(ctx: audit.Context, document_id: int, kind: str = "action") -> RoutingItem:
    """Receive an incoming document after the initial review (签收/初审): for action, or for information only."""
    _user, ctx = _clerk(ctx)
    if kind not in ITEM_KINDS:
        raise ValidationFailed({"kind": Msg(N_("Choose for action or for information."))})
    item = ensure_item(document_id)
    _move(ctx, item, "accept", ("pending",), "accepted", kind=kind, deadline=item.document.deadline)
    return item


def return_to_sender(ctx: audit.Context, document_id: int, reason: str) -> RoutingItem:
    """Return a pending document to its sender with the reason (not ours, not compliant, …)."""
    _user, ctx = _clerk(ctx)
    reason = _text(reason, "reason", REASON_LIMIT)
    item = ensure_item(document_id)
    _move(ctx, item, "return", ("pending",), "returned", note=reason, return_reason=reason)
    return item


def propose(
    ctx: audit.Context,
    document_id: int,
    leader_id: int,
    department_ids: Iterable[int],
    deadline: date | None,
    text: str,
    calendar: workdays.Calendar | None = None,
) -> RoutingItem:
    """Write the office's proposed handling (拟办): the leader to instruct, the departments and the deadline.

    `department_ids` name the lead department first, then the others; the order is kept (a department named twice
    counts once, where it first appears), so that a leader who instructs as proposed makes the first one lead.
    """
    _user, ctx = _clerk(ctx)
    item = get_item(document_id)
    text = _text(text, "text")
    errors: dict[str, Msg] = {}
    leader = db.session.get(User, leader_id) if leader_id else None
    if leader is None or not leader.active or not leader.has_role(LEADER_ROLE):
        errors["leader_id"] = Msg(N_("Choose an active leader."))
    department_ids = list(department_ids or ())
    if all(isinstance(ident, int) and not isinstance(ident, bool) for ident in department_ids):
        department_ids = list(dict.fromkeys(department_ids))
        query = select(Department.id).where(Department.id.in_(department_ids), Department.active)
        known = set(db.session.scalars(query)) == set(department_ids)
    else:
        known = False  # not ids at all (a request to the API)
    if not known:
        errors["department_ids"] = Msg(N_("Choose existing, active departments."))
    if errors:
        raise ValidationFailed(errors)
    _not_past(deadline, "deadline", calendar)
    if item.kind != "action":
        raise IllegalTransition(Msg(N_("This document is for information only: circulate it and close it.")))
    values = {
        "proposal": text,
        "proposed_leader_id": leader_id,
        "proposed_department_ids": department_ids,
        "proposed_deadline": deadline,
    }
    if deadline is not None:
        values["deadline"] = deadline
    _move(ctx, item, "propose", ("accepted", "proposed"), "proposed", **values)
    return item


#: The states in which a leader may instruct: before handling, during it, and after the lead's report (again).
INSTRUCTABLE = ("accepted", "proposed", "handling", "handled")


@dataclass(frozen=True)
class Assignee:
    """Who a task goes to: ("user", id) or ("department", id), as the forms and the API name them."""

    target: str
    ident: int

    @property
    def columns(self) -> dict[str, int]:
        return {f"{self.target}_id": self.ident}


def _assignee(value: tuple[str, int] | Assignee, name: str) -> Assignee:
    assignee = value if isinstance(value, Assignee) else Assignee(*value)
    model = {"user": User, "department": Department}.get(assignee.target)
    row = db.session.get(model, assignee.ident) if model is not None else None
    if row is None or not row.active:
        raise ValidationFailed({name: Msg(N_("Choose an active user or department."))})
    return assignee


def _recipients(task: Task) -> list[int]:
    """Return whom to tell about `task`: its user, or the active members of its department."""
    if task.user_id is not None:
        return [task.user_id]
    return list(db.session.scalars(select(User.id).where(User.department_id == task.department_id, User.active)))


def _handling_start(item: RoutingItem, received: datetime) -> datetime:
    """Return when the current handling of `item` began: its latest reopening, else the document's receipt."""
    query = select(func.max(RoutingStep.at)).where(RoutingStep.item_id == item.id, RoutingStep.action == "reopen")
    reopened = db.session.execute(query).scalar()
    return clock.as_utc(reopened) if reopened is not None else received


def instruct(
    ctx: audit.Context,
    document_id: int,
    text: str,
    lead: tuple[str, int] | Assignee | None,
    co_handlers: Iterable[tuple[str, int] | Assignee] = (),
    deadline: date | None = None,
    calendar: workdays.Calendar | None = None,
) -> Instruction:
    """Record a leader's instruction (批示) and create the tasks of the lead handler and the co-handlers.

    Several leaders may instruct in turn. An item has one open lead task at a time: an instruction that names a
    lead replaces the open lead task (it is cancelled); one without a lead needs an open lead already. A handled
    item (its lead reported) is instructed again with a new lead: its handling resumes, the report stays done.
    Without a deadline, the document's own deadline applies, else the default deadline of its urgency counted from
    its receipt (or its latest reopening) in working days.
    """
    item = get_item(document_id)
    user, ctx = _leader(ctx, item, calendar)
    text = _text(text, "text")
    lead_assignee = _assignee(lead, "lead") if lead is not None else None
    co = [_assignee(value, "co_handlers") for value in co_handlers or ()]
    if lead_assignee is not None and lead_assignee in co:
        raise ValidationFailed({"co_handlers": Msg(N_("The lead handler cannot also be a co-handler."))})
    if len(set(co)) != len(co):
        raise ValidationFailed({"co_handlers": Msg(N_("Name each co-handler once."))})
    _not_past(deadline, "deadline", calendar)
    if item.kind != "action":
        raise IllegalTransition(Msg(N_("This document is for information only: circulate it and close it.")))
    document = item.document
    if deadline is None:
        received = _handling_start(item, document.received_at or document.registered_at)
        deadline = document.deadline or _calendar(calendar).default_deadline(received, document.urgency)
    old_state = _lock_item(item)
    if old_state not in INSTRUCTABLE:
        raise _illegal("instruct", old_state)
    open_leads = list(
        db.session.scalars(select(Task).where(Task.item_id == item.id, Task.role == "lead", Task.state == "open"))
    )
    if lead_assignee is None and not open_leads:
        if old_state == "handled":
            again = N_("The lead handler has reported: name a new lead to handle it again.")
            raise ValidationFailed({"lead": Msg(again)})
        raise ValidationFailed({"lead": Msg(N_("Name the lead handler."))})
    if old_state != "handling":
        _move(ctx, item, "instruct", (old_state,), "handling", deadline=deadline)  # a lead is named (checked above)
    elif lead_assignee is not None:
        item.deadline = deadline
    now = clock.now()
    instruction = Instruction(
        item_id=item.id,
        author_id=user.id,
        acting_for_id=ctx.acting_for_id,
        text=text,
        instructed_at=now,
        deadline=deadline,
    )
    db.session.add(instruction)
    db.session.flush()
    for replaced in open_leads if lead_assignee is not None else ():
        _move_task(
            replaced, "cancel", "cancelled", completed_at=now, completed_by_id=user.id, acting_for_id=ctx.acting_for_id
        )
        audit.record_event(
            ctx, "routing.task.cancel", "task", replaced.id, before={"state": "open"}, after={"state": "cancelled"}
        )
    tasks = []
    for role, assignee in ([("lead", lead_assignee)] if lead_assignee else []) + [("co", a) for a in co]:
        task = Task(
            item_id=item.id,
            instruction_id=instruction.id,
            role=role,
            state="open",
            deadline=deadline,
            result="",
            created_at=now,
            created_by_id=user.id,
            **assignee.columns,
        )
        db.session.add(task)
        tasks.append(task)
    db.session.flush()
    audit.record_event(
        ctx,
        "routing.instruction.create",
        "routing_item",
        item.id,
        after={
            "instruction_id": instruction.id,
            "text": text,
            "deadline": deadline.isoformat(),
            "tasks": [task.as_dict() for task in tasks],
        },
    )
    for task in tasks:
        notifications.notify(_recipients(task), "task_assigned", document, actor=_name(user), deadline=deadline)
    return instruction


# --- circulation ---------------------------------------------------------------------------------------------------


#: The states in which an item may be sent to readers.
CIRCULABLE = ("accepted", "proposed", "handling", "handled")


def circulate(ctx: audit.Context, document_id: int, reader_ids: Iterable[int], required: bool = False) -> list[Reader]:
    """Send a document to readers (传阅), required ones holding up its closing; return the readers added.

    A reader listed already is not sent it again; with `required`, one who was not required becomes so, and the
    audit event names them. A call that changes nothing records nothing.
    """
    user, ctx = _clerk(ctx)
    item = get_item(document_id)
    reader_ids = sorted(set(reader_ids or ()))
    active = set(db.session.scalars(select(User.id).where(User.id.in_(reader_ids), User.active)))
    if not reader_ids or active != set(reader_ids):
        raise ValidationFailed({"reader_ids": Msg(N_("Choose one or more active users."))})
    state = _lock_item(item)
    if state not in CIRCULABLE:
        raise _illegal("circulate", state)
    existing = {row.user_id: row for row in db.session.scalars(select(Reader).where(Reader.item_id == item.id))}
    now = clock.now()
    added: list[Reader] = []
    made_required: list[int] = []
    for reader_id in reader_ids:
        if reader_id in existing:
            if required and not existing[reader_id].required:
                existing[reader_id].required = True
                made_required.append(reader_id)
            continue
        row = Reader(item_id=item.id, user_id=reader_id, required=required, sent_at=now, sent_by_id=user.id)
        db.session.add(row)
        added.append(row)
    if not added and not made_required:
        return added
    db.session.flush()
    after: dict = {"readers": [row.user_id for row in added], "required": required}
    before: dict | None = None
    if made_required:
        before = {"not_required": made_required}
        after["made_required"] = made_required
    audit.record_event(ctx, "routing.circulate", "routing_item", item.id, before=before, after=after)
    notifications.notify([row.user_id for row in added], "circulation", item.document, actor=_name(user))
    return added


def mark_read(ctx: audit.Context, document_id: int) -> bool:
    """Record that the acting user has read a document sent to them; return False when it was recorded before."""
    user = _actor(ctx)
    ctx = replace(ctx, acting_for_id=None)
    item = get_item(document_id)
    reader = db.session.execute(select(Reader).where(Reader.item_id == item.id, Reader.user_id == user.id)).scalar()
    if reader is None:
        raise NotFound(Msg(N_("This document was not sent to you to read.")))
    now = clock.now()
    changed = db.session.execute(
        update(Reader)
        .where(Reader.id == reader.id, Reader.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(reader)
    if changed:
        audit.record_event(
            ctx, "routing.read", "routing_item", item.id, after={"reader_id": user.id, "read_at": now.isoformat()}
        )
    return bool(changed)


def unread_readers(document_id: int) -> list[Reader]:
    """Return the readers of a document who have not read it yet, the required ones first."""
    item = get_item(document_id)
    query = (
        select(Reader)
        .join(User, User.id == Reader.user_id)
        .where(Reader.item_id == item.id, Reader.read_at.is_(None))
        .options(joinedload(Reader.user))
        .order_by(Reader.required.desc(), User.full_name, Reader.id)
    )
    return list(db.session.scalars(query))


# --- closing and reopening -------------------------------------------------------------------------------------------


def close(
    ctx: audit.Context,
    document_id: int,
    result: str | None = None,
    reason: str | None = None,
    reply_document_id: int | None = None,
) -> RoutingItem:
    """Close an item (办结) with its result and/or an explicit reason, and the reply document if any.

    A handled item closes; an information item closes once received; an item still being handled closes only with a
    reason, which cancels its open tasks. Closing waits for every required reader.
    """
    user, ctx = _clerk(ctx)
    item = get_item(document_id)
    result = _text(result, "result", required=False)
    reason = _text(reason, "reason", REASON_LIMIT, required=False)
    if not result and not reason:
        raise ValidationFailed({"result": Msg(N_("Enter the result, or the reason for closing without one."))})
    if reply_document_id is not None:
        reply = db.session.get(Document, reply_document_id)
        if reply is None or reply.direction == "incoming" or reply.status == "void":
            raise ValidationFailed({"reply_document_id": Msg(N_("Choose a registered outgoing or internal document."))})
    allowed = ["handled"]
    if item.kind == "information":
        allowed.append("accepted")
    if reason:
        allowed.append("handling")
    state = _lock_item(item)
    if state not in allowed:
        raise _illegal("close", state)
    unread = [row for row in unread_readers(document_id) if row.required]
    if unread:
        raise IllegalTransition(
            Msg(
                N_("Closing waits for the required readers who have not read it yet: %(names)s."),
                names=", ".join(_name(row.user) for row in unread),
            )
        )
    now = clock.now()
    _move(
        ctx,
        item,
        "close",
        (state,),
        "closed",
        note=reason or result,
        result=result,
        close_reason=reason,
        reply_document_id=reply_document_id,
        closed_at=now,
        closed_by_id=user.id,
    )
    for task in db.session.scalars(select(Task).where(Task.item_id == item.id, Task.state == "open")).all():
        _move_task(task, "cancel", "cancelled", completed_at=now, completed_by_id=user.id)
        audit.record_event(
            ctx, "routing.task.cancel", "task", task.id, before={"state": "open"}, after={"state": "cancelled"}
        )
    return item


def reopen(ctx: audit.Context, document_id: int, reason: str) -> RoutingItem:
    """Reopen a closed or returned item with a reason: it is received again, for the office to handle anew.

    The item goes back to the clerks' board as received, whatever it went through: its earlier tasks are all done
    or cancelled, so handling it again needs a new proposal or a new instruction (a leader may instruct a received
    item). The tasks, instructions, proposal, result and reason stay on the record, and the reason on the timeline;
    the deadline is the document's own again, as on receipt, until a new instruction sets one. Nobody is notified:
    the clerks find it on their board, and a leader is asked through a new proposal.
    """
    _user, ctx = _clerk(ctx)
    reason = _text(reason, "reason", REASON_LIMIT)
    item = get_item(document_id)
    deadline = item.document.deadline
    _move(
        ctx,
        item,
        "reopen",
        ("closed", "returned"),
        "accepted",
        note=reason,
        deadline=deadline,
        closed_at=None,
        closed_by_id=None,
    )
    return item
