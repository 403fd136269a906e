"""Audit events as a person reads them: what happened, and each changed field with its old and new value.

The audit log stores raw values (ids, codes); here ids become names (one query per kind of object, not per event)
and every action and field gets a translatable label. Formatting of codes such as urgencies is left to the web
layer, which knows the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from docstore import audit
from docstore.errors import N_
from docstore.extensions import db
from docstore.models import AuditEvent, Correspondent, Department, Document, DocumentType, Series, User
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
}

#: Which kind of object an id field names.
ID_FIELDS = {
    "department_id": Department,
    "parent_id": Department,
    "correspondent_id": Correspondent,
    "document_type_id": DocumentType,
    "signer_id": User,
    "substitute_id": User,
    "user_id": User,
    "series_id": Series,
}

#: Fields never shown (internal, or repeated elsewhere).
HIDDEN = {"id", "created_at", "last_used_at"}


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


def withheld_documents(events: list[AuditEvent], viewer: User | None) -> set[str]:
    """Return the ids (as the log writes them) of the documents in `events` classified above `viewer`'s clearance."""
    ids = {int(e.object_id) for e in events if e.object_type == "document" and (e.object_id or "").isdigit()}
    if viewer is None or not ids:
        return set()
    query = select(Document.id).where(Document.id.in_(ids), Document.classification > viewer.clearance)
    return {str(ident) for ident in db.session.execute(query).scalars()}


def describe(events: list[AuditEvent], viewer: User | None = None) -> list[Entry]:
    """Return `events` with readable labels and the names of the objects their ids point to.

    The details of events about documents classified above `viewer`'s clearance are withheld (the event itself
    stays visible: an administrator still sees that something happened, and when, and by whom).
    """
    withheld = withheld_documents(events, viewer)
    decoded = [(event, audit.decode(event.before) or {}, audit.decode(event.after) or {}) for event in events]
    wanted: dict[type, set[int]] = {}
    for _event, before, after in decoded:
        for values in (before, after):
            for key, value in values.items():
                if key in ID_FIELDS and isinstance(value, int):
                    wanted.setdefault(ID_FIELDS[key], set()).add(value)
                if key == "recipients" and isinstance(value, list):
                    for item in value:
                        if isinstance(item, list) and len(item) == 3 and isinstance(item[2], int):
                            model = Correspondent if item[1] == "correspondent" else Department
                            wanted.setdefault(model, set()).add(item[2])
    names: dict[type, dict[int, str]] = {}
    for model, ids in wanted.items():
        column = model.full_name if model is User else model.name
        rows = db.session.execute(select(model.id, column).where(model.id.in_(ids))).all()
        names[model] = dict(rows)

    def readable(key: str, value: Any) -> Any:
        if key in ID_FIELDS and isinstance(value, int):
            return names.get(ID_FIELDS[key], {}).get(value, f"#{value}")
        if key == "recipients" and isinstance(value, list):
            shown = []
            for item in value:
                if isinstance(item, list) and len(item) == 3:
                    model = Correspondent if item[1] == "correspondent" else Department
                    shown.append(
                        names.get(model, {}).get(item[2], f"#{item[2]}") + (" (cc)" if item[0] == "copy" else "")
                    )
            return shown
        if key == "attachments" and isinstance(value, list):
            return [item[0] if isinstance(item, list) and item else item for item in value]
        return value

    entries = []
    for event, before, after in decoded:
        if event.object_type == "document" and event.object_id in withheld:
            entries.append(Entry(event, ACTIONS.get(event.action, event.action), [], withheld=True))
            continue
        keys = [key for key in after if key not in HIDDEN] + [
            key for key in before if key not in after and key not in HIDDEN
        ]
        if event.action.endswith(".create") or event.action == "document.register":
            keys = [key for key in keys if after.get(key) not in (None, "", [], False)]
        changes = [
            Change(key, FIELDS.get(key, key), readable(key, before.get(key)), readable(key, after.get(key)))
            for key in keys
        ]
        entries.append(Entry(event, ACTIONS.get(event.action, event.action), changes))
    return entries


def of(object_type: str, object_id: int, limit: int = 50, viewer: User | None = None) -> list[Entry]:
    """Return the latest `limit` changes to one object, newest first, ready to read by `viewer` (sign-ins left out)."""
    criteria = audit.EventFilter(object_type=object_type, object_id=str(object_id), without_action="auth.")
    page = audit.list_events(criteria, 1, limit)
    return describe(page.items, viewer)


def page(criteria: audit.EventFilter, number: int, per_page: int, viewer: User | None = None) -> Page[Entry]:
    """Return one page of the audit log (as `audit.list_events`), its events ready to read by `viewer`."""
    events = audit.list_events(criteria, number, per_page)
    return Page(describe(events.items, viewer), events.page, events.per_page, events.total)
