"""The append-only audit log: every change writes an event, and events are chained by SHA-256.

Each event stores the hash of the one before (`prev_hash`) and its own hash over its contents and `prev_hash`
(`chain_hash`). The single `audit_head` row holds the last sequence number and hash; it is locked while an event is
appended, so concurrent writers take turns and the chain never forks. Editing an event breaks its own hash; deleting
one leaves a gap in the sequence; rewriting the hashes breaks the link to the next event or to the head.
`verify_chain` checks all three.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from docstore import clock
from docstore.errors import N_, Msg
from docstore.extensions import db
from docstore.models import AuditEvent, AuditHead
from docstore.pagination import Page, paginate

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Context:
    """Who is acting, for whom, and from where: passed to every service that changes something."""

    actor_id: int | None
    acting_for_id: int | None = None
    client_addr: str | None = None


#: The context of changes made by the system itself (migrations, the command line without a user).
SYSTEM = Context(actor_id=None)


def canonical_json(value: Any) -> str:
    """Return `value` as JSON with sorted keys and no spaces, the form that is hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Return the parts of `before` and `after` that differ."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def record_update(ctx: Context, obj: Any, values: dict, action: str, object_type: str) -> dict:
    """Set `values` on `obj` (a model with `as_dict`) and record `action` with what changed; return the changes.

    Nothing is recorded when nothing changed. The caller commits.
    """
    before = obj.as_dict()
    for name, value in values.items():
        setattr(obj, name, value)
    db.session.flush()
    old, new = changes(before, obj.as_dict())
    if new:
        record_event(ctx, action, object_type, obj.id, before=old, after=new)
    return new


def _payload(event: AuditEvent) -> dict:
    return {
        "seq": event.seq,
        "occurred_at": clock.as_utc(event.occurred_at).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "acting_for_id": event.acting_for_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "client_addr": event.client_addr,
        "prev_hash": event.prev_hash,
    }


def compute_hash(event: AuditEvent) -> str:
    """Return the chain hash of `event` from its contents and `prev_hash`."""
    return hashlib.sha256(canonical_json(_payload(event)).encode("utf-8")).hexdigest()


def record_event(
    ctx: Context,
    action: str,
    object_type: str,
    object_id: Any,
    *,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append an event to the log in the current transaction (the caller commits it with the change itself)."""
    head = db.session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_seq=0, last_hash=GENESIS_HASH)
        db.session.add(head)
    occurred_at = clock.now()
    event = AuditEvent(
        seq=head.last_seq + 1,
        occurred_at=occurred_at,
        actor_id=ctx.actor_id,
        acting_for_id=ctx.acting_for_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=None if before is None else canonical_json(before),
        after=None if after is None else canonical_json(after),
        client_addr=ctx.client_addr,
        prev_hash=head.last_hash,
    )
    event.chain_hash = compute_hash(event)
    head.last_seq = event.seq
    head.last_hash = event.chain_hash
    db.session.add(event)
    return event


@dataclass
class ChainReport:
    """What `verify_chain` found: how many events it read, and each problem as (sequence number, message)."""

    checked: int = 0
    findings: list[tuple[int, Msg]] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def problems(self) -> list[tuple[int, str]]:
        """Return the findings with their messages in English, for the command line and the logs."""
        return [(seq, str(message)) for seq, message in self.findings]


def verify_chain(batch_size: int = 1000) -> ChainReport:
    """Re-compute every event's hash and check sequence, links and head; memory does not grow with the log."""
    report = ChainReport()
    expected_seq = 1
    prev_hash = GENESIS_HASH
    rows = db.session.execute(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch_size)
    ).scalars()
    for event in rows:
        report.checked += 1
        if event.seq != expected_seq:
            missing = f"{expected_seq}" if event.seq == expected_seq + 1 else f"{expected_seq}–{event.seq - 1}"
            jump = Msg(
                N_("event(s) %(missing)s missing: the sequence jumps to %(seq)s"), missing=missing, seq=event.seq
            )
            report.findings.append((expected_seq, jump))
        elif event.prev_hash != prev_hash:
            unlinked = Msg(N_("event %(seq)s does not link to the event before it"), seq=event.seq)
            report.findings.append((event.seq, unlinked))
        if compute_hash(event) != event.chain_hash:
            altered = Msg(N_("event %(seq)s was altered: its contents no longer match its hash"), seq=event.seq)
            report.findings.append((event.seq, altered))
        expected_seq = event.seq + 1
        prev_hash = event.chain_hash
    head = db.session.get(AuditHead, 1)
    last_seq = expected_seq - 1
    if head is not None and (head.last_seq != last_seq or head.last_hash != prev_hash):
        removed = Msg(
            N_("the log ends at event %(last)s but its head says %(head)s: events were removed"),
            last=last_seq,
            head=head.last_seq,
        )
        report.findings.append((head.last_seq, removed))
    return report


@dataclass(frozen=True)
class EventFilter:
    """Criteria for listing events; empty fields match everything."""

    action: str = ""
    actor_id: int | None = None
    object_type: str = ""
    object_id: str = ""
    since: datetime | None = None
    until: datetime | None = None
    #: Leave out the actions that start with this (e.g. "auth." to hide sign-ins from a user's history).
    without_action: str = ""


def list_events(criteria: EventFilter, page: int, per_page: int) -> Page[AuditEvent]:
    """Return one page of events matching `criteria`, newest first."""
    query = select(AuditEvent)
    if criteria.action:
        query = query.where(AuditEvent.action.startswith(criteria.action, autoescape=True))
    if criteria.without_action:
        query = query.where(~AuditEvent.action.startswith(criteria.without_action, autoescape=True))
    if criteria.actor_id is not None:
        query = query.where(AuditEvent.actor_id == criteria.actor_id)
    if criteria.object_type:
        query = query.where(AuditEvent.object_type == criteria.object_type)
    if criteria.object_id:
        query = query.where(AuditEvent.object_id == criteria.object_id)
    # in UTC, as events are stored: SQLite compares the stored text and would ignore another offset
    if criteria.since is not None:
        query = query.where(AuditEvent.occurred_at >= clock.as_utc(criteria.since))
    if criteria.until is not None:
        query = query.where(AuditEvent.occurred_at < clock.as_utc(criteria.until))
    return paginate(query.order_by(AuditEvent.seq.desc()), page, per_page)


def decode(value: str | None) -> Any:
    """Return the stored JSON of an event's `before` or `after` as Python values."""
    return None if value is None else json.loads(value)
