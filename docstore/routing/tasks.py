"""The handling of tasks: comments, requests for more time, forwarding and results."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from docstore import audit, clock, notifications, workdays
from docstore.errors import N_, Msg, NotFound, ValidationFailed
from docstore.extensions import db
from docstore.models import EXTENSION_STATES, TASK_STATES, ExtensionRequest, Task, TaskComment, User, UserRole
from docstore.registry import CLERK_ROLES
from docstore.routing.permissions import LEADER_ROLE, _actor, _clerk, _handler, _may_handle
from docstore.routing.states import (
    IllegalTransition,
    _illegal,
    _lock_item,
    _move,
    _move_task,
    _name,
    _not_past,
    _text,
    get_item,
    get_task,
)


def _open_task_for(ctx: audit.Context, task_id: int, action: str, calendar) -> tuple[Task, User, audit.Context]:
    """Return an open task the actor may handle, with the item locked, the actor and the context to record."""
    task = get_task(task_id)
    user, ctx = _handler(ctx, task, calendar)
    _lock_item(task.item)
    db.session.refresh(task)
    if task.state != "open":
        raise _illegal(action, task.state, TASK_STATES)
    return task, user, ctx


def comment(ctx: audit.Context, task_id: int, text: str, calendar: workdays.Calendar | None = None) -> TaskComment:
    """Add a comment to a task: by its handlers (or their substitutes), or by a clerk or a leader."""
    task = get_task(task_id)
    user = _actor(ctx)
    if user.has_role(*CLERK_ROLES, LEADER_ROLE) and not _may_handle(user, task):
        ctx = replace(ctx, acting_for_id=None)
    else:
        user, ctx = _handler(ctx, task, calendar)
    text = _text(text, "text")
    if task.state in ("forwarded", "cancelled"):
        raise _illegal("comment", task.state, TASK_STATES)
    row = TaskComment(
        task_id=task.id, author_id=user.id, acting_for_id=ctx.acting_for_id, text=text, created_at=clock.now()
    )
    db.session.add(row)
    db.session.flush()
    audit.record_event(ctx, "routing.task.comment", "task", task.id, after={"comment_id": row.id, "text": text})
    return row


def _clerk_ids() -> list[int]:
    """Return the active users who decide requests for more time: the clerks, and the admins who act as clerks."""
    query = (
        select(UserRole.user_id)
        .join(User, User.id == UserRole.user_id)
        .where(UserRole.role.in_(CLERK_ROLES), User.active)
    )
    return sorted(set(db.session.scalars(query)))


def request_extension(
    ctx: audit.Context, task_id: int, new_deadline: date, reason: str, calendar: workdays.Calendar | None = None
) -> ExtensionRequest:
    """Ask for more time on an open task (its handler); the clerks are told and one of them decides.

    The new deadline is after the current one and not before the office's today (an overdue task asks for a day
    still to come).
    """
    task, user, ctx = _open_task_for(ctx, task_id, "extend", calendar)
    reason = _text(reason, "reason")
    if not isinstance(new_deadline, date) or new_deadline <= task.deadline:
        raise ValidationFailed({"new_deadline": Msg(N_("Choose a day after the current deadline."))})
    _not_past(new_deadline, "new_deadline", calendar)
    request = ExtensionRequest(
        task_id=task.id,
        requested_by_id=user.id,
        acting_for_id=ctx.acting_for_id,
        new_deadline=new_deadline,
        reason=reason,
        state="pending",
        note="",
        created_at=clock.now(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(request)
    except IntegrityError as exc:  # the partial unique index: one pending request per task
        raise IllegalTransition(
            Msg(N_("More time was asked for on this task already; wait for the decision."))
        ) from exc
    audit.record_event(
        ctx,
        "routing.task.request_extension",
        "task",
        task.id,
        after={"request_id": request.id, "new_deadline": new_deadline.isoformat(), "reason": reason},
    )
    notifications.notify(
        _clerk_ids(), "extension_requested", task.item.document, actor=_name(user), deadline=new_deadline
    )
    return request


def decide_extension(ctx: audit.Context, request_id: int, approve: bool, note: str = "") -> ExtensionRequest:
    """Approve or refuse a request for more time (a clerk); approving moves the task's deadline."""
    user, ctx = _clerk(ctx)
    request = db.session.get(ExtensionRequest, request_id)
    if request is None:
        raise NotFound(Msg(N_("No such request.")))
    note = _text(note, "note", required=False)
    task = request.task
    _lock_item(task.item)
    db.session.refresh(task)
    db.session.refresh(request)
    if request.state != "pending":
        raise _illegal("decide", request.state, EXTENSION_STATES)
    if approve and task.state != "open":
        raise _illegal("extend", task.state, TASK_STATES)
    decision = "approved" if approve else "refused"
    now = clock.now()
    changed = db.session.execute(
        update(ExtensionRequest)
        .where(ExtensionRequest.id == request.id, ExtensionRequest.state == "pending")
        .values(state=decision, decided_by_id=user.id, decided_at=now, note=note)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(request)
    if changed != 1:
        raise _illegal("decide", request.state, EXTENSION_STATES)
    before = {"state": "pending", "deadline": task.deadline.isoformat()}
    if approve:
        task.deadline = request.new_deadline
        if task.role == "lead":
            task.item.deadline = request.new_deadline
    db.session.flush()
    audit.record_event(
        ctx,
        "routing.task.decide_extension",
        "task",
        task.id,
        before=before,
        after={"request_id": request.id, "state": decision, "deadline": task.deadline.isoformat(), "note": note},
    )
    notifications.notify(
        [request.requested_by_id],
        "extension_decided",
        task.item.document,
        actor=_name(user),
        decision=decision,
        deadline=task.deadline,
    )
    return request


def forward_task(ctx: audit.Context, task_id: int, user_id: int, calendar: workdays.Calendar | None = None) -> Task:
    """Pass an open task on to a colleague in the assignee's department: the task is forwarded and a new one opens."""
    task, user, ctx = _open_task_for(ctx, task_id, "forward", calendar)
    department_id = task.department_id
    if department_id is None:
        department_id = db.session.get(User, task.user_id).department_id
    target = db.session.get(User, user_id) if user_id else None
    if target is None or not target.active or target.department_id is None or target.department_id != department_id:
        raise ValidationFailed({"user_id": Msg(N_("Choose an active colleague of the same department."))})
    if target.id == task.user_id:
        raise ValidationFailed({"user_id": Msg(N_("The task is theirs already."))})
    now = clock.now()
    _move_task(task, "forward", "forwarded", completed_at=now, completed_by_id=user.id, acting_for_id=ctx.acting_for_id)
    new = Task(
        item_id=task.item_id,
        instruction_id=task.instruction_id,
        user_id=target.id,
        department_id=task.department_id,
        role=task.role,
        state="open",
        deadline=task.deadline,
        result="",
        forwarded_from_id=task.id,
        created_at=now,
        created_by_id=user.id,
    )
    db.session.add(new)
    db.session.flush()
    audit.record_event(
        ctx,
        "routing.task.forward",
        "task",
        task.id,
        before={"state": "open"},
        after={"state": "forwarded", "to_task": new.as_dict()},
    )
    notifications.notify([target.id], "task_assigned", task.item.document, actor=_name(user), deadline=new.deadline)
    return new


def complete_task(ctx: audit.Context, task_id: int, result: str, calendar: workdays.Calendar | None = None) -> Task:
    """Report a task's result; the lead handler's result ends the handling (the item becomes handled)."""
    task, user, ctx = _open_task_for(ctx, task_id, "complete", calendar)
    result = _text(result, "result")
    _move_task(
        task,
        "complete",
        "done",
        result=result,
        completed_at=clock.now(),
        completed_by_id=user.id,
        acting_for_id=ctx.acting_for_id,
    )
    audit.record_event(
        ctx,
        "routing.task.complete",
        "task",
        task.id,
        before={"state": "open"},
        after={"state": "done", "result": result},
    )
    if task.role == "lead":
        _move(ctx, task.item, "handle", ("handling",), "handled", note=result)
    return task


def co_handler_results(document_id: int) -> list[Task]:
    """Return the co-handlers' tasks of a document with their results, for the lead handler to see."""
    item = get_item(document_id)
    query = (
        select(Task)
        .where(Task.item_id == item.id, Task.role == "co", Task.state.in_(("open", "done")))
        .options(joinedload(Task.user), joinedload(Task.department), joinedload(Task.completed_by))
        .order_by(Task.id)
    )
    return list(db.session.scalars(query))
