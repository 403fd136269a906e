"""Legal holds: while a hold is in force, its records, or every record of its class and sub-classes, cannot be
disposed of. A hold is placed with a reason and released with one; both are audited."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, or_, select

from docstore import audit, clock
from docstore.archive import scheme
from docstore.errors import N_, Conflict, Msg, NotFound, ValidationFailed
from docstore.extensions import db
from docstore.models import Hold, HoldRecord, Record
from docstore.pagination import fetch

REASON_LIMIT = 500


def check_reason(text: str, field: str = "reason") -> str:
    """Return the reason given for a hold, a release or a disposal, stripped; raise ValidationFailed on `field` if
    it is empty or longer than REASON_LIMIT."""
    text = (text or "").strip()
    if not text or len(text) > REASON_LIMIT:
        raise ValidationFailed({field: Msg(N_("Give the reason (up to %(limit)s characters)."), limit=REASON_LIMIT)})
    return text


def get_hold(hold_id: int) -> Hold:
    """Return the hold `hold_id`; raise NotFound."""
    return fetch(Hold, hold_id, Msg(N_("No such hold.")))


def place_hold(ctx: audit.Context, reason: str, record_ids: Iterable[int] = (), class_id: int | None = None) -> Hold:
    """Place a hold on records, or on a whole class (with its sub-classes); return it."""
    reason = check_reason(reason)
    wanted = sorted(set(record_ids))
    if not wanted and class_id is None:
        raise ValidationFailed({"record_ids": Msg(N_("Choose the records or the class to hold."))})
    if class_id is not None:
        scheme.get_class(class_id)
    # the records are locked until the hold is in: a disposal being approved at the same moment waits, then sees it
    found = set(
        db.session.scalars(select(Record.id).where(Record.id.in_(wanted), Record.state == "kept").with_for_update())
    )
    if class_id is not None:
        covered = select(Record.id).where(Record.class_id.in_(scheme.descendants(class_id)), Record.state == "kept")
        db.session.execute(covered.with_for_update()).all()
    if set(wanted) - found:
        raise ValidationFailed({"record_ids": Msg(N_("Only records still kept can be held."))})
    hold = Hold(reason=reason, class_id=class_id, placed_by_id=ctx.actor_id, placed_at=clock.now())
    db.session.add(hold)
    db.session.flush()
    for record_id in wanted:
        db.session.add(HoldRecord(hold_id=hold.id, record_id=record_id))
        audit.record_event(
            ctx, "archive_record.held", "archive_record", record_id, after={"hold": hold.id, "reason": reason}
        )
    audit.record_event(
        ctx,
        "archive_hold.placed",
        "archive_hold",
        hold.id,
        after={"reason": reason, "class_id": class_id, "records": wanted},
    )
    db.session.commit()
    return hold


def release_hold(ctx: audit.Context, hold_id: int, reason: str) -> Hold:
    """Release a hold in force, with the reason."""
    reason = check_reason(reason, "release_reason")
    hold = db.session.scalar(select(Hold).where(Hold.id == hold_id).with_for_update())
    if hold is None:
        raise NotFound(Msg(N_("No such hold.")))
    if hold.released_at is not None:
        raise Conflict(Msg(N_("This hold was released already.")))
    hold.released_at = clock.now()
    hold.released_by_id = ctx.actor_id
    hold.release_reason = reason
    for record_id in record_ids_of(hold.id):
        audit.record_event(
            ctx, "archive_record.released", "archive_record", record_id, after={"hold": hold.id, "reason": reason}
        )
    audit.record_event(ctx, "archive_hold.released", "archive_hold", hold.id, after={"reason": reason})
    db.session.commit()
    return hold


def record_ids_of(hold_id: int) -> list[int]:
    """Return the records a hold names (not those of its class)."""
    return list(
        db.session.scalars(
            select(HoldRecord.record_id).where(HoldRecord.hold_id == hold_id).order_by(HoldRecord.record_id)
        )
    )


def list_holds(active: bool | None = True) -> list[Hold]:
    """Return the holds in force (or released, or all), newest first."""
    query = select(Hold)
    if active is True:
        query = query.where(Hold.released_at.is_(None))
    elif active is False:
        query = query.where(Hold.released_at.is_not(None))
    return list(db.session.scalars(query.order_by(Hold.placed_at.desc(), Hold.id.desc())))


def _held_classes() -> set[int]:
    roots = db.session.scalars(select(Hold.class_id).where(Hold.released_at.is_(None), Hold.class_id.is_not(None)))
    held: set[int] = set()
    for class_id in set(roots):
        held |= scheme.descendants(class_id)
    return held


def held_condition():
    """Return the SQL condition "this record is under a hold in force" (for queries of Record)."""
    direct = exists().where(
        HoldRecord.record_id == Record.id, HoldRecord.hold_id == Hold.id, Hold.released_at.is_(None)
    )
    classes = sorted(_held_classes())
    return or_(direct, Record.class_id.in_(classes)) if classes else direct


def held_ids(record_ids: Iterable[int]) -> set[int]:
    """Return those of `record_ids` that are under a hold in force."""
    wanted = sorted(set(record_ids))
    if not wanted:
        return set()
    return set(db.session.scalars(select(Record.id).where(Record.id.in_(wanted), held_condition())))


def holds_of(record: Record) -> list[Hold]:
    """Return the holds (in force or released) that name `record` or cover its class."""
    classes = {node.id for node in scheme.ancestry(record.archive_class)}
    query = select(Hold).where(
        or_(
            Hold.id.in_(select(HoldRecord.hold_id).where(HoldRecord.record_id == record.id)), Hold.class_id.in_(classes)
        )
    )
    return list(db.session.scalars(query.order_by(Hold.placed_at, Hold.id)))
