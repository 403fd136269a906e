"""The states of routing: finding items and tasks, locking them, moving them and refusing illegal steps."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update

from docstore import audit, clock, notifications, workdays
from docstore.errors import N_, Conflict, Msg, NotFound, RecordFiled, ValidationFailed
from docstore.extensions import db
from docstore.models import FILED_STATUSES, ITEM_STATES, TASK_STATES, Document, RoutingItem, RoutingStep, Task, User
from docstore.routing.permissions import _calendar

TEXT_LIMIT = 10_000
REASON_LIMIT = 500

#: Why a transition is refused, by action; each names the current state (whole sentences, to translate well).
REFUSALS: dict[str, str] = {
    "accept": N_("This document is %(state)s: it cannot be received now."),
    "return": N_("This document is %(state)s: it cannot be returned to the sender now."),
    "propose": N_("This document is %(state)s: a handling cannot be proposed now."),
    "instruct": N_("This document is %(state)s: it cannot be instructed now."),
    "handle": N_("This document is %(state)s: its handling cannot be reported now."),
    "circulate": N_("This document is %(state)s: it cannot be circulated now."),
    "close": N_("This document is %(state)s: it cannot be closed now."),
    "reopen": N_("This document is %(state)s: it cannot be reopened."),
    "comment": N_("This task is %(state)s: it cannot be commented on."),
    "extend": N_("This task is %(state)s: more time cannot be asked for."),
    "decide": N_("This request for more time is %(state)s already."),
    "forward": N_("This task is %(state)s: it cannot be forwarded."),
    "complete": N_("This task is %(state)s: it cannot be completed."),
    "cancel": N_("This task is %(state)s: it cannot be cancelled."),
}


class IllegalTransition(Conflict):
    """A step that the current state of an item, a task or a request does not allow (409 in the API)."""

    code = "illegal_transition"


def _illegal(action: str, state: str, labels: dict[str, str] = ITEM_STATES) -> IllegalTransition:
    return IllegalTransition(Msg(REFUSALS[action], state=Msg(labels.get(state, state))))


def get_item(document_id: int) -> RoutingItem:
    """Return the routing item of the document `document_id`, or raise NotFound."""
    item = db.session.execute(select(RoutingItem).where(RoutingItem.document_id == document_id)).scalar_one_or_none()
    if item is None:
        raise NotFound(Msg(N_("This document is not being routed.")))
    return item


def get_task(task_id: int) -> Task:
    """Return the task `task_id`, or raise NotFound."""
    task = db.session.get(Task, task_id)
    if task is None:
        raise NotFound(Msg(N_("No such task.")))
    return task


def _incoming(document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if document is None:
        raise NotFound(Msg(N_("No such document.")))
    if document.direction != "incoming":
        raise Conflict(Msg(N_("Only incoming documents are received and routed.")))
    if document.status in FILED_STATUSES:
        raise RecordFiled(
            Msg(N_("Number %(number)s is filed in the archive: its handling is over."), number=document.number)
        )
    if document.status != "registered":
        raise Conflict(Msg(N_("Number %(number)s is void: it cannot be routed."), number=document.number))
    return document


def ensure_item(document_id: int) -> RoutingItem:
    """Return the routing item of an incoming document, creating it (pending) if it has none yet.

    Registering an incoming document creates its item; this creates those of documents registered before that.
    Safe when two people do it at once: the database keeps one item per document.
    """
    _incoming(document_id)
    existing = db.session.execute(select(RoutingItem).where(RoutingItem.document_id == document_id)).scalar()
    if existing is not None:
        return existing
    statement = (
        notifications._insert(RoutingItem.__table__)
        .values(**RoutingItem.pending_values(document_id, clock.now()))
        .on_conflict_do_nothing(index_elements=[RoutingItem.__table__.c.document_id])
    )
    db.session.execute(statement)
    return get_item(document_id)


def _lock_item(item: RoutingItem) -> str:
    """Lock the item's row until the transaction ends (PostgreSQL) and return its current state."""
    query = select(RoutingItem.state).where(RoutingItem.id == item.id).with_for_update()
    return db.session.execute(query).scalar_one()


def _move(
    ctx: audit.Context,
    item: RoutingItem,
    action: str,
    allowed: Iterable[str],
    to_state: str,
    note: str = "",
    **values: Any,
) -> str:
    """Move `item` from one of the `allowed` states to `to_state` with `values`, record the step; return the old state.

    Raise IllegalTransition naming the current state when it is not allowed (or changed under our feet).
    """
    allowed = tuple(allowed)
    current = _lock_item(item)
    if item.document.status in FILED_STATUSES:
        raise RecordFiled(
            Msg(N_("Number %(number)s is filed in the archive: its handling is over."), number=item.document.number)
        )
    if current not in allowed:
        raise _illegal(action, current)
    now = clock.now()
    changed = db.session.execute(
        update(RoutingItem)
        .where(RoutingItem.id == item.id, RoutingItem.state == current)
        .values(state=to_state, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.expire(item)
        raise _illegal(action, db.session.execute(select(RoutingItem.state).where(RoutingItem.id == item.id)).scalar())
    db.session.expire(item)
    db.session.add(
        RoutingStep(
            item_id=item.id,
            action=action,
            from_state=current,
            to_state=to_state,
            note=note,
            actor_id=ctx.actor_id,
            acting_for_id=ctx.acting_for_id,
            at=now,
        )
    )
    after = {"state": to_state, **{name: _plain(value) for name, value in values.items()}}
    if note:
        after["note"] = note
    audit.record_event(ctx, f"routing.{action}", "routing_item", item.id, before={"state": current}, after=after)
    return current


def _move_task(task: Task, action: str, to_state: str, **values: Any) -> None:
    """Move an open `task` to `to_state` with `values`, or raise IllegalTransition naming its state."""
    changed = db.session.execute(
        update(Task)
        .where(Task.id == task.id, Task.state == "open")
        .values(state=to_state, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(task)
    if changed != 1:
        raise _illegal(action, task.state, TASK_STATES)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _text(value: str | None, name: str, limit: int = TEXT_LIMIT, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed({name: Msg(N_("Enter the text."))})
    if len(value) > limit:
        raise ValidationFailed({name: Msg(N_("Use at most %(n)s characters."), n=limit)})
    return value


def _not_past(value: date | None, name: str, calendar: workdays.Calendar | None) -> None:
    if value is not None and value < _calendar(calendar).today():
        raise ValidationFailed({name: Msg(N_("The deadline cannot be in the past."))})


def _name(user: User) -> str:
    return user.full_name or user.username
