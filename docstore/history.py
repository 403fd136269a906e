"""Audit events as a person reads them: what happened, and each changed field with its old and new value.

The audit log stores raw values (ids, codes); here ids become names (one query per kind of object, not per event)
and every action and field gets a translatable label. Formatting of codes such as urgencies is left to the web
layer, which knows the user's language; the fields of routing events come as messages (states, kinds, tasks), dates
and datetimes, which it translates and formats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from docstore import audit
from docstore.errors import N_, Msg
from docstore.extensions import db
from docstore.models import (
    EXTENSION_STATES,
    ITEM_KINDS,
    ITEM_STATES,
    TASK_ROLES,
    TASK_STATES,
    AuditEvent,
    Correspondent,
    Department,
    Document,
    DocumentType,
    RoutingItem,
    Series,
    Task,
    User,
)
from docstore.pagination import Page

ACTIONS: dict[str, str] = {
    "auth.sign_in": N_("Signed in"),
    "auth.sign_out": N_("Signed out"),
    "auth.sign_in_failed": N_("Failed sign-in"),
    "auth.sign_in_refused": N_("Sign-in refused"),
    "user.create": N_("User created"),
    "user.update": N_("User changed"),
    "user.deactivate": N_("User deactivated"),
    "user.reactivate": N_("User reactivated"),
    "user.password_reset": N_("Password reset by an administrator"),
    "user.password_change": N_("Password changed"),
    "substitution.create": N_("Substitute named"),
    "substitution.cancel": N_("Substitution cancelled"),
    "department.create": N_("Department created"),
    "department.update": N_("Department changed"),
    "department.deactivate": N_("Department deactivated"),
    "department.reactivate": N_("Department reactivated"),
    "correspondent.create": N_("Correspondent added"),
    "correspondent.update": N_("Correspondent changed"),
    "token.create": N_("API token created"),
    "token.revoke": N_("API token revoked"),
    "series.create": N_("Register created"),
    "series.update": N_("Register changed"),
    "document_type.create": N_("Document type added"),
    "document_type.update": N_("Document type changed"),
    "document.register": N_("Registered"),
    "document.update": N_("Details changed"),
    "document.void": N_("Number cancelled"),
    "document.attach": N_("Files attached"),
    "calendar_day.create": N_("Calendar day added"),
    "calendar_day.update": N_("Calendar day changed"),
    "calendar_day.delete": N_("Calendar day removed"),
    # routing: the steps of an incoming document's handling (docstore.routing), then those of its tasks
    "routing.accept": N_("Received"),
    "routing.return": N_("Returned to the sender"),
    "routing.propose": N_("Handling proposed"),
    "routing.instruct": N_("Sent for handling"),
    "routing.instruction.create": N_("Instruction recorded"),
    "routing.handle": N_("Handling finished"),
    "routing.circulate": N_("Sent to read"),
    "routing.read": N_("Read"),
    "routing.close": N_("Closed"),
    "routing.reopen": N_("Reopened"),
    "routing.task.comment": N_("Comment on a task"),
    "routing.task.request_extension": N_("More time asked for"),
    "routing.task.decide_extension": N_("Request for more time decided"),
    "routing.task.forward": N_("Task forwarded"),
    "routing.task.complete": N_("Task result reported"),
    "routing.task.cancel": N_("Task cancelled"),
    "routing.task.remind": N_("Reminder sent"),
}

FIELDS: dict[str, str] = {
    "username": N_("Username"),
    "full_name": N_("Full name"),
    "email": N_("E-mail"),
    "roles": N_("Roles"),
    "clearance": N_("Security clearance"),
    "locale": N_("Language"),
    "active": N_("Enabled"),
    "department_id": N_("Department"),
    "parent_id": N_("Belongs to"),
    "head_id": N_("Head"),
    "code": N_("Code"),
    "name": N_("Name"),
    "kind": N_("Kind"),
    "contact_person": N_("Contact person"),
    "phone": N_("Phone"),
    "address": N_("Address"),
    "notes": N_("Notes"),
    "substitute_id": N_("Substitute"),
    "starts_on": N_("From"),
    "ends_on": N_("Until"),
    "reason": N_("Reason"),
    "cancelled": N_("Cancelled"),
    "number": N_("Number"),
    "direction": N_("Direction"),
    "status": N_("Status"),
    "title": N_("Title"),
    "document_type_id": N_("Document type"),
    "urgency": N_("Urgency"),
    "classification": N_("Classification"),
    "pages": N_("Number of pages"),
    "copies": N_("Copies"),
    "deadline": N_("Deadline"),
    "summary": N_("Summary"),
    "received_at": N_("Received at"),
    "channel": N_("Channel"),
    "correspondent_id": N_("Sender"),
    "sender_reference": N_("Sender's reference"),
    "sender_date": N_("Sender's date"),
    "signer_id": N_("Signed by"),
    "document_date": N_("Date of the document"),
    "sent_on": N_("Sent on"),
    "recipients": N_("Recipients"),
    "attachments": N_("Attachments"),
    "void_reason": N_("Reason for cancelling"),
    "pattern": N_("Number pattern"),
    "position": N_("Position"),
    "prefix": N_("Starts with"),
    "expires_at": N_("Expires"),
    "revoked_at": N_("Revoked"),
    "series_id": N_("Register"),
    "user_id": N_("User"),
    "day": N_("Date"),
    # routing
    "state": N_("State"),
    "note": N_("Note"),
    "text": N_("Text"),
    "return_reason": N_("Reason for returning it"),
    "proposal": N_("Proposed handling"),
    "proposed_leader_id": N_("Leader to instruct"),
    "proposed_department_ids": N_("Departments"),
    "proposed_deadline": N_("Proposed deadline"),
    "result": N_("Result"),
    "close_reason": N_("Reason for closing without a result"),
    "reply_document_id": N_("Reply"),
    "closed_at": N_("Closed"),
    "closed_by_id": N_("Closed by"),
    "tasks": N_("Tasks"),
    "to_task": N_("Forwarded to"),
    "readers": N_("Readers"),
    "required": N_("Required before closing"),
    "made_required": N_("Now required before closing"),
    "reader_id": N_("Reader"),
    "read_at": N_("Read at"),
    "new_deadline": N_("New deadline"),
    "people": N_("People reminded"),
    "reminded": N_("Reminders sent"),
}

#: What the audit log's object types are called.
OBJECT_TYPES: dict[str, str] = {
    "user": N_("User"),
    "department": N_("Department"),
    "correspondent": N_("Correspondent"),
    "document": N_("Document"),
    "api_token": N_("API token"),
    "series": N_("Register"),
    "document_type": N_("Document type"),
    "calendar_day": N_("Calendar day"),
    "routing_item": N_("Handling"),
    "task": N_("Task"),
}

#: Which kind of object an id field names.
ID_FIELDS = {
    "department_id": Department,
    "parent_id": Department,
    "head_id": User,
    "correspondent_id": Correspondent,
    "document_type_id": DocumentType,
    "signer_id": User,
    "substitute_id": User,
    "user_id": User,
    "series_id": Series,
    "proposed_leader_id": User,
    "closed_by_id": User,
    "reader_id": User,
    "reply_document_id": Document,
}

#: Which kind of object each id of a list field names.
ID_LIST_FIELDS = {
    "proposed_department_ids": Department,
    "readers": User,
    "made_required": User,
    "people": User,
}

#: Fields never shown (internal, or repeated elsewhere).
HIDDEN = {"id", "created_at", "last_used_at", "instruction_id", "comment_id", "request_id", "not_required"}

#: Returns the name of an object (a model and an id), or "#<id>" when it is gone.
Namer = Callable[[type, Any], str]

#: Fields of routing events holding a day, or an instant, as ISO text.
ROUTING_DAYS = {"deadline", "proposed_deadline", "new_deadline"}
ROUTING_INSTANTS = {"closed_at", "read_at"}


@dataclass(frozen=True)
class Change:
    """One field of an event: its key, its label, and its values before and after (names instead of ids)."""

    key: str
    label: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Entry:
    """One event as a person reads it."""

    event: AuditEvent
    label: str
    changes: list[Change]
    withheld: bool = False


#: The kinds of logged objects that belong to a document: the document itself, its handling and its tasks.
DOCUMENT_OBJECTS = ("document", "routing_item", "task")


def withheld_events(events: list[AuditEvent], viewer: User | None) -> set[int]:
    """Return the ids of those of `events` whose document is classified above `viewer`'s clearance.

    An event concerns a document when its object is the document itself, the document's handling (a routing item)
    or one of its tasks: their details (instructions, comments, results, reasons) are the document's business too.
    One query per kind of object, whatever the number of events.
    """
    if viewer is None:
        return set()
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.object_type in DOCUMENT_OBJECTS and (event.object_id or "").isdigit():
            wanted.setdefault(event.object_type, set()).add(int(event.object_id))
    hidden = {
        (object_type, str(ident))
        for object_type, ids in wanted.items()
        for ident in _classified_above(object_type, ids, viewer.clearance)
    }
    return {event.id for event in events if (event.object_type, event.object_id) in hidden}


def _classified_above(object_type: str, ids: set[int], clearance: int) -> set[int]:
    """Return those of `ids` (objects of `object_type`, one of `DOCUMENT_OBJECTS`) whose document is classified
    above `clearance`."""
    if object_type == "document":
        query = select(Document.id).where(Document.id.in_(ids))
    elif object_type == "routing_item":
        query = select(RoutingItem.id).join(RoutingItem.document).where(RoutingItem.id.in_(ids))
    else:
        query = select(Task.id).join(Task.item).join(RoutingItem.document).where(Task.id.in_(ids))
    return set(db.session.scalars(query.where(Document.classification > clearance)))


def describe(events: list[AuditEvent], viewer: User | None = None) -> list[Entry]:
    """Return `events` with readable labels and the names of the objects their ids point to.

    The details of events about documents classified above `viewer`'s clearance, their handling and their tasks
    are withheld (the event itself stays visible: an administrator still sees that something happened, and when,
    and by whom).
    """
    withheld = withheld_events(events, viewer)
    decoded = [(event, audit.decode(event.before) or {}, audit.decode(event.after) or {}) for event in events]
    wanted: dict[type, set[int]] = {}
    for _event, before, after in decoded:
        for values in (before, after):
            for key, value in values.items():
                _want(key, value, wanted)
    names: dict[type, dict[int, str]] = {}
    for model, ids in wanted.items():
        column = User.full_name if model is User else Document.number if model is Document else model.name
        rows = db.session.execute(select(model.id, column).where(model.id.in_(ids))).all()
        names[model] = dict(rows)

    def name(model: type, ident: Any) -> str:
        return names.get(model, {}).get(ident, f"#{ident}")

    def readable(event: AuditEvent, key: str, value: Any) -> Any:
        if event.action.startswith("routing."):
            value = _routing_value(event, key, value, name)
        if key in ID_FIELDS and isinstance(value, int):
            return name(ID_FIELDS[key], value)
        if key == "recipients" and isinstance(value, list):
            shown = []
            for item in value:
                if isinstance(item, list) and len(item) == 3:
                    model = Correspondent if item[1] == "correspondent" else Department
                    shown.append(name(model, item[2]) + (" (cc)" if item[0] == "copy" else ""))
            return shown
        if key == "attachments" and isinstance(value, list):
            return [item[0] if isinstance(item, list) and item else item for item in value]
        return value

    entries = []
    for event, before, after in decoded:
        if event.id in withheld:
            entries.append(Entry(event, ACTIONS.get(event.action, event.action), [], withheld=True))
            continue
        keys = [key for key in after if key not in HIDDEN] + [
            key for key in before if key not in after and key not in HIDDEN
        ]
        if event.action.endswith(".create") or event.action == "document.register":
            keys = [key for key in keys if after.get(key) not in (None, "", [], False)]
        elif event.action.startswith("routing."):  # a step writes the columns it clears too: say only what it set
            keys = [key for key in keys if (before.get(key), after.get(key)) != (None, None) and after.get(key) != ""]
            if "note" in keys and any(after.get(key) == after["note"] for key in keys if key != "note"):
                keys.remove("note")  # the step's note repeats its reason or result
        changes = [
            Change(
                key, FIELDS.get(key, key), readable(event, key, before.get(key)), readable(event, key, after.get(key))
            )
            for key in keys
        ]
        entries.append(Entry(event, ACTIONS.get(event.action, event.action), changes))
    return entries


def _want(key: str, value: Any, wanted: dict[type, set[int]]) -> None:
    """Note the ids that the field `key` holds in `value`, by the kind of object they name."""

    def add(model: type, ident: Any) -> None:
        if isinstance(ident, int) and not isinstance(ident, bool):
            wanted.setdefault(model, set()).add(ident)

    if key in ID_FIELDS:
        add(ID_FIELDS[key], value)
    elif key in ID_LIST_FIELDS and isinstance(value, list):
        for ident in value:
            add(ID_LIST_FIELDS[key], ident)
    elif key == "recipients" and isinstance(value, list):
        for item in value:
            if isinstance(item, list) and len(item) == 3:
                add(Correspondent if item[1] == "correspondent" else Department, item[2])
    elif key in ("tasks", "to_task"):  # the tasks an instruction or a forwarding created, as `Task.as_dict` writes them
        for task in value if isinstance(value, list) else [value]:
            if isinstance(task, dict):
                add(User, task.get("user_id"))
                add(Department, task.get("department_id"))


def _states(event: AuditEvent) -> dict[str, str]:
    """Return the labels of the states a routing event names: a request's for more time, a task's, or the item's."""
    if event.action == "routing.task.decide_extension":
        return EXTENSION_STATES
    return TASK_STATES if event.object_type == "task" else ITEM_STATES


def _routing_value(event: AuditEvent, key: str, value: Any, name: Namer) -> Any:
    """Return a field of a routing event as a person reads it: states and kinds as messages, days as dates, the
    departments and the tasks by name (`name(model, id)` names an object noted by `_want`)."""
    if value is None:
        return value
    if key == "state" and isinstance(value, str):
        labels = _states(event)
        return Msg(labels[value]) if value in labels else value
    if key == "kind" and value in ITEM_KINDS:
        return Msg(ITEM_KINDS[value])
    try:
        if key in ROUTING_DAYS:
            return date.fromisoformat(value)
        if key in ROUTING_INSTANTS:
            return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    if key == "proposed_department_ids" and isinstance(value, list):  # the first one leads
        shown = [name(Department, ident) for ident in value]
        return [Msg(N_("%(department)s (lead)"), department=shown[0]), *shown[1:]] if shown else shown
    if key in ID_LIST_FIELDS and isinstance(value, list):
        return [name(ID_LIST_FIELDS[key], ident) for ident in value]
    if key == "tasks" and isinstance(value, list):
        return [_task(task, name) for task in value]
    if key == "to_task":
        return _task(value, name)
    return value


def _task(task: Any, name: Namer) -> Any:
    """Return a task as `Task.as_dict` wrote it into an event: whose it is, in which role, by when."""
    if not isinstance(task, dict):
        return task
    if task.get("user_id") is not None:
        assignee = name(User, task["user_id"])
    else:
        assignee = name(Department, task.get("department_id"))
    role = task.get("role")
    try:
        deadline = date.fromisoformat(task.get("deadline"))
    except (TypeError, ValueError):
        deadline = task.get("deadline")
    return Msg(
        N_("%(assignee)s, %(role)s, due %(deadline)s"),
        assignee=assignee,
        role=Msg(TASK_ROLES[role]) if role in TASK_ROLES else role,
        deadline=deadline,
    )


def of(object_type: str, object_id: int, limit: int = 50, viewer: User | None = None) -> list[Entry]:
    """Return the latest `limit` changes to one object, newest first, ready to read by `viewer` (sign-ins left out)."""
    criteria = audit.EventFilter(object_type=object_type, object_id=str(object_id), without_action="auth.")
    page = audit.list_events(criteria, 1, limit)
    return describe(page.items, viewer)


def page(criteria: audit.EventFilter, number: int, per_page: int, viewer: User | None = None) -> Page[Entry]:
    """Return one page of the audit log (as `audit.list_events`), its events ready to read by `viewer`."""
    events = audit.list_events(criteria, number, per_page)
    return Page(describe(events.items, viewer), events.page, events.per_page, events.total)
