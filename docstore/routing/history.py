"""The timeline of a document's handling, rebuilt from the routing tables."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

from docstore import clock
from docstore.extensions import db
from docstore.models import ExtensionRequest, Instruction, Reader, RoutingStep, Task, TaskComment
from docstore.routing.states import get_item


@dataclass(frozen=True)
class Entry:
    """One step on a document's timeline: what happened, when, who did it (and for whom), and its details."""

    at: datetime
    what: str
    actor_id: int | None
    acting_for_id: int | None = None
    text: str = ""
    details: dict | None = None


def timeline(document_id: int) -> list[Entry]:
    """Return every step of a document's handling in time order, from the routing tables themselves."""
    item = get_item(document_id)
    entries: list[tuple[datetime, int, int, Entry]] = []

    def add(order: int, ident: int, entry: Entry) -> None:
        entries.append((clock.as_utc(entry.at), order, ident, replace(entry, at=clock.as_utc(entry.at))))

    for step in db.session.scalars(select(RoutingStep).where(RoutingStep.item_id == item.id)):
        details = {"from": step.from_state, "to": step.to_state}
        order = 6 if step.action == "handle" else 0  # the lead's result comes before the handling it ends
        add(order, step.id, Entry(step.at, step.action, step.actor_id, step.acting_for_id, step.note, details))
    for instruction in db.session.scalars(select(Instruction).where(Instruction.item_id == item.id)):
        details = {"deadline": instruction.deadline.isoformat(), "instruction_id": instruction.id}
        entry = Entry(
            instruction.instructed_at,
            "instruction",
            instruction.author_id,
            instruction.acting_for_id,
            instruction.text,
            details,
        )
        add(1, instruction.id, entry)
    tasks = list(db.session.scalars(select(Task).where(Task.item_id == item.id)))
    for task in tasks:
        details = {
            "task_id": task.id,
            "role": task.role,
            "user_id": task.user_id,
            "department_id": task.department_id,
            "deadline": task.deadline.isoformat(),
            "forwarded_from_id": task.forwarded_from_id,
        }
        add(2, task.id, Entry(task.created_at, "task", task.created_by_id, None, "", details))
        if task.completed_at is not None:
            end = {"done": "result", "forwarded": "forwarded", "cancelled": "cancelled"}[task.state]
            add(
                5,
                task.id,
                Entry(
                    task.completed_at, end, task.completed_by_id, task.acting_for_id, task.result, {"task_id": task.id}
                ),
            )
    task_ids = [task.id for task in tasks]
    for row in db.session.scalars(select(TaskComment).where(TaskComment.task_id.in_(task_ids))):
        add(
            3,
            row.id,
            Entry(row.created_at, "comment", row.author_id, row.acting_for_id, row.text, {"task_id": row.task_id}),
        )
    for row in db.session.scalars(select(ExtensionRequest).where(ExtensionRequest.task_id.in_(task_ids))):
        details = {"task_id": row.task_id, "new_deadline": row.new_deadline.isoformat(), "request_id": row.id}
        add(
            3,
            row.id,
            Entry(row.created_at, "extension_requested", row.requested_by_id, row.acting_for_id, row.reason, details),
        )
        if row.decided_at is not None:
            add(4, row.id, Entry(row.decided_at, f"extension_{row.state}", row.decided_by_id, None, row.note, details))
    for row in db.session.scalars(select(Reader).where(Reader.item_id == item.id)):
        details = {"reader_id": row.user_id, "required": row.required}
        add(3, row.id, Entry(row.sent_at, "sent_to_read", row.sent_by_id, None, "", details))
        if row.read_at is not None:
            add(4, row.id, Entry(row.read_at, "read", row.user_id, None, "", details))
    return [entry for *_key, entry in sorted(entries, key=lambda value: value[:3])]
