"""Registering incoming, outgoing and internal documents: numbers, fields, attachments, edits and voiding.

A registration is one transaction: the number is allocated, the document, its recipients and attachment rows are
inserted and the audit event is written together, so a failure leaves no gap and nothing half-saved. The file bytes
are stored first, content-addressed: if the transaction then fails, the stored bytes are unreferenced copies that
change nothing (and a second upload of the same bytes stores nothing new).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from docstore import accounts, attachments, audit, clock, numbering
from docstore.errors import (
    N_,
    Conflict,
    Msg,
    NotFound,
    NumberingConflict,
    RecordFiled,
    StoredFileMissing,
    ValidationFailed,
)
from docstore.extensions import db, office_timezone
from docstore.models import (
    CHANNELS,
    DIRECTIONS,
    FILED_STATUSES,
    URGENCIES,
    Attachment,
    Correspondent,
    Department,
    Document,
    DocumentRecipient,
    DocumentType,
    Reader,
    RoutingItem,
    Series,
    SeriesCounter,
    Task,
    User,
)
from docstore.models.routing import HANDLING_TASK_STATES
from docstore.pagination import Page, code_taken, contains_pattern, fetch, paginate

log = logging.getLogger(__name__)

#: direction -> the error for a register of another direction (whole sentences, so that each translates well).
WRONG_DIRECTION = {
    "incoming": N_("This register is not for incoming documents."),
    "outgoing": N_("This register is not for outgoing documents."),
    "internal": N_("This register is not for internal documents."),
}


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: the name the client gave and a stream of its bytes."""

    filename: str
    stream: BinaryIO


@dataclass(frozen=True)
class UploadPolicy:
    """What the office accepts: the sniffed kinds allowed and the largest size."""

    allowed_kinds: frozenset[str]
    max_bytes: int
    timezone: str = "UTC"


def upload_policy(config: Mapping) -> UploadPolicy:
    """Return what the office accepts, as `config` (the app's settings) sets it."""
    kinds = frozenset(kind.strip() for kind in config["ALLOWED_FILE_KINDS"].split(",") if kind.strip())
    return UploadPolicy(kinds, config["MAX_UPLOAD_MB"] << 20, config["OFFICE_TIMEZONE"])


def uploads_from(parts: Iterable) -> list[Upload]:
    """Return the file parts of a form (objects with `filename` and `stream`, as Werkzeug gives them) as uploads.

    A browser sends an empty part without a name when no file was chosen: it is left out.
    """
    return [Upload(part.filename or "", part.stream) for part in parts if part.filename or part.content_length]


@dataclass
class Registration:
    """The fields of a register entry; which ones apply depends on the direction."""

    series_id: int | None = None
    title: str = ""
    document_type_id: int | None = None
    urgency: str = "normal"
    classification: int = 0
    pages: int | None = None
    copies: int | None = None
    department_id: int | None = None
    deadline: date | None = None
    summary: str = ""
    notes: str = ""
    # incoming
    received_at: datetime | None = None
    channel: str | None = None
    correspondent_id: int | None = None
    #: A sender to add to the address book in the same transaction, when `correspondent_id` is empty.
    new_correspondent_name: str = ""
    sender_reference: str = ""
    sender_date: date | None = None
    # outgoing
    signer_id: int | None = None
    document_date: date | None = None
    sent_on: date | None = None
    main_recipients: list[tuple[str, int]] = field(default_factory=list)
    copy_recipients: list[tuple[str, int]] = field(default_factory=list)


#: The fields of a registration that apply only to documents of one direction.
DIRECTION_FIELDS = {
    "incoming": (
        "received_at",
        "channel",
        "correspondent_id",
        "new_correspondent_name",
        "sender_reference",
        "sender_date",
    ),
    "outgoing": ("signer_id", "document_date", "sent_on", "main_recipients", "copy_recipients"),
    "internal": (),
}


def fields_for(direction: str) -> tuple[str, ...]:
    """Return the names of the `Registration` fields that apply to documents of `direction`."""
    others = {name for fields in DIRECTION_FIELDS.values() for name in fields} - set(DIRECTION_FIELDS[direction])
    return tuple(f.name for f in dataclass_fields(Registration) if f.name not in others)


#: Fields a clerk may edit after registration (the number, series and direction never change).
EDITABLE_FIELDS = (
    "title",
    "document_type_id",
    "urgency",
    "classification",
    "pages",
    "copies",
    "department_id",
    "deadline",
    "summary",
    "notes",
    "received_at",
    "channel",
    "correspondent_id",
    "sender_reference",
    "sender_date",
    "signer_id",
    "document_date",
    "sent_on",
)


# --- series ----------------------------------------------------------------------------------------------------


def list_series(direction: str | None = None, include_inactive: bool = False) -> list[Series]:
    """Return the registers, by code."""
    query = select(Series).order_by(Series.code)
    if direction:
        query = query.where(Series.direction == direction)
    if not include_inactive:
        query = query.where(Series.active)
    return list(db.session.execute(query).scalars())


def get_series(series_id: int) -> Series:
    """Return the series with `series_id`, or raise NotFound."""
    return fetch(Series, series_id, Msg(N_("No such register.")))


def _validate_series(values: dict, series: Series | None) -> None:
    errors: dict[str, Msg] = {}
    if "code" in values:
        values["code"] = (values["code"] or "").strip().upper()
        if not values["code"] or len(values["code"]) > 32 or not values["code"].replace("-", "").isalnum():
            errors["code"] = Msg(N_("Use 1 to 32 letters, digits or dashes."))
        else:
            if code_taken(Series, values["code"], series):
                errors["code"] = Msg(N_("Another register has this code."))
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"] or len(values["name"]) > 200:
            errors["name"] = Msg(N_("Enter the name."))
    if "direction" in values and values["direction"] not in DIRECTIONS:
        errors["direction"] = Msg(N_("Choose incoming, outgoing or internal."))
    if "pattern" in values:
        try:
            values["pattern"] = numbering.parse_pattern(values["pattern"]).text
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if values.get("department_id") is not None and db.session.get(Department, values["department_id"]) is None:
        errors["department_id"] = Msg(N_("Choose an existing department."))
    pattern = values.get("pattern", series.pattern if series else "")
    department = values.get("department_id", series.department_id if series else None)
    if "pattern" not in errors and "{dept}" in pattern and department is None:
        errors["department_id"] = Msg(N_("The pattern uses {dept}: choose the department."))
    if "pattern" not in errors and "{code}" not in pattern:
        query = select(Series).where(Series.pattern == pattern, Series.id != (series.id if series else -1))
        for other in db.session.execute(query).scalars():
            if "{dept}" not in pattern or other.department_id == department:
                errors["pattern"] = Msg(
                    N_("Register %(code)s has this pattern: the numbers would be the same. Change a prefix."),
                    code=other.code,
                )
                break
    if errors:
        raise ValidationFailed(errors)


def create_series(ctx: audit.Context, **values) -> Series:
    """Create a register from code, name, direction, pattern and (optional) department_id."""
    values = {"code": "", "name": "", "direction": "incoming", "pattern": "", "department_id": None, **values}
    _validate_series(values, None)
    series = Series(**values, active=True)
    db.session.add(series)
    db.session.flush()
    audit.record_event(ctx, "series.create", "series", series.id, after=series.as_dict())
    db.session.commit()
    return series


def update_series(ctx: audit.Context, series_id: int, values: dict) -> Series:
    """Change a register's name, pattern, department or active flag (numbers already given never change)."""
    series = get_series(series_id)
    values = {key: value for key, value in values.items() if key in ("name", "pattern", "department_id", "active")}
    _validate_series(values, series)
    audit.record_update(ctx, series, values, "series.update", "series")
    db.session.commit()
    return series


def document_types(include_inactive: bool = False) -> list[DocumentType]:
    """Return the document types in their order."""
    query = select(DocumentType).order_by(DocumentType.position, DocumentType.id)
    if not include_inactive:
        query = query.where(DocumentType.active)
    return list(db.session.execute(query).scalars())


# --- registering -----------------------------------------------------------------------------------------------


def _check_text(values: Registration, errors: dict, name: str, limit: int, required: bool = False) -> None:
    value = (getattr(values, name) or "").strip()
    setattr(values, name, value)
    if required and not value:
        errors[name] = Msg(N_("This field is required."))
    elif len(value) > limit:
        errors[name] = Msg(N_("Use at most %(n)s characters."), n=limit)


def _check_count(values: Registration, errors: dict, name: str) -> None:
    value = getattr(values, name)
    if value is not None and (not isinstance(value, int) or not 0 < value <= 100_000):
        errors[name] = Msg(N_("Enter a whole number from 1 to 100000."))


def _check_not_future(values: Registration, errors: dict, name: str, today: date) -> None:
    value = getattr(values, name)
    day = value.date() if isinstance(value, datetime) else value
    if day is not None and day > today:
        errors[name] = Msg(N_("This date is in the future."))


def validate_registration(
    data: Registration,
    direction: str,
    now: datetime,
    timezone: str,
    actor: User | None = None,
    kept: frozenset[str] = frozenset(),
) -> None:
    """Check every rule of a registration by `actor` (None: the system), collecting all the errors.

    `kept` names the fields an edit leaves as they were: what they refer to may have been retired since, and an
    old document must stay editable.
    """
    errors: dict[str, Msg] = {}

    def _exists(model, ident, name: str) -> bool:
        row = db.session.get(model, ident) if ident is not None else None
        return row is not None and (name in kept or getattr(row, "active", True))

    if actor is not None and isinstance(data.classification, int) and data.classification > actor.clearance:
        errors["classification"] = Msg(N_("This is above your own clearance: ask a colleague cleared for it."))
    series = db.session.get(Series, data.series_id) if data.series_id is not None else None
    if series is None or not (series.active or "series_id" in kept):
        errors["series_id"] = Msg(N_("Choose a register."))
    elif series.direction != direction:
        errors["series_id"] = Msg(WRONG_DIRECTION[direction])
    _check_text(data, errors, "title", 500, required=True)
    _check_text(data, errors, "sender_reference", 120)
    _check_text(data, errors, "summary", 10_000)
    _check_text(data, errors, "notes", 10_000)
    if data.document_type_id is not None and not _exists(DocumentType, data.document_type_id, "document_type_id"):
        errors["document_type_id"] = Msg(N_("Choose a document type."))
    if data.urgency not in URGENCIES:
        errors["urgency"] = Msg(N_("Choose an urgency."))
    if not isinstance(data.classification, int) or not 0 <= data.classification <= 3:
        errors["classification"] = Msg(N_("Choose a classification level."))
    _check_count(data, errors, "pages")
    _check_count(data, errors, "copies")
    if data.department_id is not None and not _exists(Department, data.department_id, "department_id"):
        errors["department_id"] = Msg(N_("Choose an active department."))
    today = numbering.office_date(now, timezone)
    if direction == "incoming":
        if data.received_at is None:
            errors["received_at"] = Msg(N_("Enter when the document was received."))
        else:
            data.received_at = clock.as_utc(data.received_at)  # SQLite keeps no offset: every instant is kept in UTC
            if data.received_at > now:
                errors["received_at"] = Msg(N_("This date is in the future."))
        if data.channel not in CHANNELS:
            errors["channel"] = Msg(N_("Choose how the document arrived."))
        _check_text(data, errors, "new_correspondent_name", 300)
        if data.correspondent_id is None and not data.new_correspondent_name:
            errors["correspondent_id"] = Msg(N_("Choose the sender, or add them to the address book."))
        elif data.correspondent_id is not None and not _exists(
            Correspondent, data.correspondent_id, "correspondent_id"
        ):
            errors["correspondent_id"] = Msg(N_("This sender is not in the address book."))
        _check_not_future(data, errors, "sender_date", today)
    if direction == "outgoing":
        if data.department_id is None and "department_id" not in errors:
            errors["department_id"] = Msg(N_("Choose the issuing department."))
        if data.signer_id is not None and not _exists(User, data.signer_id, "signer_id"):
            errors["signer_id"] = Msg(N_("Choose an active user as signer."))
        _check_not_future(data, errors, "document_date", today)
        if not data.main_recipients:
            errors["main_recipients"] = Msg(N_("Name at least one main recipient."))
        for name in ("main_recipients", "copy_recipients"):
            for target, ident in getattr(data, name):
                model = Correspondent if target == "correspondent" else Department
                if target not in ("correspondent", "department") or not _exists(model, ident, name):
                    errors[name] = Msg(N_("A recipient is not in the address book or the organisation."))
    received_on = numbering.office_date(clock.as_utc(data.received_at), timezone) if data.received_at else None
    if data.deadline is not None and received_on is not None and data.deadline < received_on:
        errors["deadline"] = Msg(N_("The deadline cannot be before the document was received."))
    if errors:
        raise ValidationFailed(errors)


def register_document(
    ctx: audit.Context, direction: str, data: Registration, files: list, policy: UploadPolicy, store
) -> Document:
    """Register a document of `direction` with its attachments; return it with its new number."""
    if direction not in DIRECTIONS:
        raise ValidationFailed({"direction": Msg(N_("Choose incoming, outgoing or internal."))})
    now = clock.now()
    validate_registration(data, direction, now, policy.timezone, _actor(ctx))
    if files:
        # Hashing and writing files is slow: do it outside any transaction (on SQLite a POST's transaction holds
        # the write lock), then check again inside the one that takes the number.
        db.session.commit()
        stored = attachments.store_uploads(files, policy, store)
        validate_registration(data, direction, now, policy.timezone, _actor(ctx))
    else:
        stored = []
    document = insert_document(ctx, direction, data, stored, now, policy.timezone)
    db.session.commit()
    return document


def insert_document(
    ctx: audit.Context, direction: str, data: Registration, stored: list, now: datetime, timezone: str
) -> Document:
    """Take the next number and insert a checked registration with its stored files, in the current transaction.

    The caller has validated `data` (`register_document` does) and commits; on a number that another register
    already gave, the transaction is rolled back and NumberingConflict raised.
    """
    series = db.session.get(Series, data.series_id)
    year = numbering.office_year(now, timezone)
    seq = numbering.next_sequence(SeriesCounter.__table__, series.id, year)
    number = numbering.parse_pattern(series.pattern).format(
        year=year, seq=seq, dept=series.department.code if series.department else "", code=series.code
    )
    document = Document(
        series_id=series.id,
        year=year,
        seq=seq,
        number=number,
        direction=direction,
        status="registered",
        registered_at=now,
        registered_by_id=ctx.actor_id,
        title=data.title,
        document_type_id=data.document_type_id,
        urgency=data.urgency,
        classification=data.classification,
        pages=data.pages,
        copies=data.copies,
        department_id=data.department_id,
        deadline=data.deadline,
        summary=data.summary,
        notes=data.notes,
    )
    if direction == "incoming":
        if data.correspondent_id is None:
            data.correspondent_id = _add_sender(ctx, data.new_correspondent_name)
        document.received_at = data.received_at
        document.channel = data.channel
        document.correspondent_id = data.correspondent_id
        document.sender_reference = data.sender_reference
        document.sender_date = data.sender_date
    if direction == "outgoing":
        document.signer_id = data.signer_id
        document.document_date = data.document_date
        document.sent_on = data.sent_on
        position = 0
        for role, targets in (("main", data.main_recipients), ("copy", data.copy_recipients)):
            for target, ident in targets:
                document.recipients.append(DocumentRecipient(role=role, position=position, **{f"{target}_id": ident}))
                position += 1
    db.session.add(document)
    try:
        db.session.flush()
    except IntegrityError as exc:  # another register's pattern made the same number: say so, take nothing
        db.session.rollback()
        log.error("number %s of register %s is taken by another register", number, series.code)
        raise NumberingConflict(
            Msg(
                N_(
                    "Number %(number)s is already used by another register: an administrator must change the "
                    "pattern of register %(code)s."
                ),
                number=number,
                code=series.code,
            )
        ) from exc
    attachments.add_rows(document, stored, ctx, now)
    audit.record_event(ctx, "document.register", "document", document.id, after=document_snapshot(document))
    if direction == "incoming":  # routed from the start: pending on the clerks' board (see docstore.routing)
        db.session.add(RoutingItem(**RoutingItem.pending_values(document.id, now)))
    return document


def _add_sender(ctx: audit.Context, name: str) -> int:
    """Add a sender to the address book inside the registration's transaction (reusing an exact name match)."""
    existing = db.session.execute(
        select(Correspondent.id).where(func.lower(Correspondent.name) == name.lower(), Correspondent.active)
    ).scalar()
    if existing is not None:
        return existing
    correspondent = Correspondent(name=name, kind="organisation")
    db.session.add(correspondent)
    db.session.flush()
    audit.record_event(ctx, "correspondent.create", "correspondent", correspondent.id, after=correspondent.as_dict())
    return correspondent.id


def document_snapshot(document: Document) -> dict:
    """Return the fields of a document as the audit log records them."""
    snapshot = {"number": document.number, "direction": document.direction, "status": document.status}
    for name in EDITABLE_FIELDS:
        value = getattr(document, name)
        snapshot[name] = value.isoformat() if isinstance(value, date | datetime) else value
    snapshot["recipients"] = [
        [
            recipient.role,
            "correspondent" if recipient.correspondent_id else "department",
            recipient.correspondent_id or recipient.department_id,
        ]
        for recipient in document.recipients
    ]
    snapshot["attachments"] = [[a.filename, a.sha256] for a in document.attachments]
    return snapshot


# --- reading, editing, voiding ---------------------------------------------------------------------------------


def get_document(document_id: int, viewer: User | None = None) -> Document:
    """Return the document with `document_id`, or raise NotFound.

    With a `viewer`, a document they may not open is NotFound too, so that its existence is not revealed.
    """
    document = db.session.get(Document, document_id)
    if document is None or (viewer is not None and not can_view(viewer, document)):
        raise NotFound(Msg(N_("No such document.")))
    return document


def attachment_file(attachment_id: int, viewer: User, store) -> tuple[Attachment, Path]:
    """Return an attachment `viewer` may open and the path of its stored bytes; raise StoredFileMissing if gone."""
    attachment = visible_attachment(attachment_id, viewer)
    path = store.path(attachment.sha256)
    if not path.is_file():
        log.error("stored file %s of attachment %s is missing", attachment.sha256, attachment.id)
        raise StoredFileMissing(
            Msg(N_("The stored file of “%(name)s” is missing. Tell an administrator."), name=attachment.filename)
        )
    return attachment, path


def visible_attachment(attachment_id: int, viewer: User) -> Attachment:
    """Return the attachment with `attachment_id` if `viewer` may open its document; raise NotFound otherwise.

    Both failures give the same answer, so that neither the attachment nor its document is revealed.
    """
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or not can_view(viewer, attachment.document):
        raise NotFound(Msg(N_("No such attachment.")))
    return attachment


def _editable(document_id: int) -> Document:
    """Return the document locked until the transaction ends, or raise if it can no longer change: a filing or a
    void at the same moment waits, then is seen."""
    query = select(Document).where(Document.id == document_id).with_for_update()
    document = db.session.scalar(query.execution_options(populate_existing=True))
    if document is None:
        raise NotFound(Msg(N_("No such document.")))
    _ensure_editable(document)
    return document


def _ensure_editable(document: Document) -> None:
    if document.status == "void":
        raise Conflict(Msg(N_("Number %(number)s is void: it can no longer change."), number=document.number))
    if document.status == "archived":
        raise RecordFiled(
            Msg(
                N_("Number %(number)s is filed in the archive: add an annotation to its record instead."),
                number=document.number,
            )
        )
    if document.status in FILED_STATUSES:
        raise RecordFiled(
            Msg(N_("Number %(number)s was disposed of: only its description remains."), number=document.number)
        )


def _actor(ctx: audit.Context) -> User | None:
    return db.session.get(User, ctx.actor_id) if ctx.actor_id is not None else None


def editable_fields(direction: str) -> tuple[str, ...]:
    """Return the fields a clerk may change on a document of `direction`."""
    applies = set(fields_for(direction))
    return tuple(name for name in EDITABLE_FIELDS if name in applies)


def update_document(ctx: audit.Context, document_id: int, values: dict, timezone: str = "UTC") -> Document:
    """Change the metadata of a registered document; the edit is audited with before and after values."""
    document = _editable(document_id)
    unknown = set(values) - set(editable_fields(document.direction))
    if unknown:
        raise ValidationFailed({name: Msg(N_("This field cannot be changed.")) for name in sorted(unknown)})
    data = Registration(series_id=document.series_id, **{name: getattr(document, name) for name in EDITABLE_FIELDS})
    data.main_recipients = [
        ("correspondent" if r.correspondent_id else "department", r.correspondent_id or r.department_id)
        for r in document.recipients
        if r.role == "main"
    ]
    for name, value in values.items():
        setattr(data, name, value)
    unchanged = {name for name in EDITABLE_FIELDS if name not in values or values[name] == getattr(document, name)}
    kept = frozenset({"series_id", "main_recipients", "copy_recipients"} | unchanged)
    validate_registration(data, document.direction, clock.now(), timezone, _actor(ctx), kept)
    before = document_snapshot(document)
    for name in values:
        setattr(document, name, getattr(data, name))
    document.updated_at = clock.now()
    db.session.flush()
    old, new = audit.changes(before, document_snapshot(document))
    if new:
        audit.record_event(ctx, "document.update", "document", document.id, before=old, after=new)
    db.session.commit()
    return document


def attach_files(ctx: audit.Context, document_id: int, files: list, policy: UploadPolicy, store) -> list[Attachment]:
    """Attach more files to a registered document (stored outside the transaction, as when registering)."""
    _ensure_editable(get_document(document_id))
    if not files:
        raise ValidationFailed({"attachments": Msg(N_("Choose at least one file."))})
    db.session.commit()
    stored = attachments.store_uploads(files, policy, store)
    document = _editable(document_id)
    rows = attachments.add_rows(document, stored, ctx, clock.now())
    audit.record_event(
        ctx,
        "document.attach",
        "document",
        document.id,
        after={"attachments": [[row.filename, row.sha256] for row in rows]},
    )
    db.session.commit()
    return rows


def void_document(ctx: audit.Context, document_id: int, reason: str) -> Document:
    """Cancel a number with a reason; the entry stays in the register, marked void."""
    document = get_document(document_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": Msg(N_("Say why the number is cancelled."))})
    if len(reason) > 500:
        raise ValidationFailed({"reason": Msg(N_("Use at most %(n)s characters."), n=500)})
    document = _editable(document_id)
    document.status = "void"
    document.void_reason = reason
    document.voided_at = clock.now()
    document.voided_by_id = ctx.actor_id
    audit.record_event(
        ctx,
        "document.void",
        "document",
        document.id,
        before={"status": "registered"},
        after={"status": "void", "void_reason": reason},
    )
    db.session.commit()
    return document


@dataclass(frozen=True)
class DocumentFilter:
    """Criteria for a register view; empty fields match everything."""

    series_id: int | None = None
    direction: str = ""
    year: int | None = None
    document_type_id: int | None = None
    urgency: str = ""
    correspondent_id: int | None = None
    department_id: int | None = None
    status: str = ""
    registered_from: datetime | None = None
    registered_until: datetime | None = None
    text: str = ""
    sort: str = "-registered"


#: The order of a register view unless asked otherwise: the latest registered first, whatever the register.
DEFAULT_SORT = "-registered"
#: Orders of a register view; each ends with the id, so that pages never overlap (IN-2026-7 and OUT-2026-7 tie).
SORTS = {
    "number": (Document.year, Document.seq, Document.id),
    "-number": (Document.year.desc(), Document.seq.desc(), Document.id.desc()),
    "registered": (Document.registered_at, Document.id),
    "-registered": (Document.registered_at.desc(), Document.id.desc()),
    "title": (Document.title, Document.id),
    "deadline": (Document.deadline.asc().nulls_last(), Document.id),  # no deadline last, on SQLite too
}


#: Roles that see the registers of the whole office (within their clearance); others see their department's.
OFFICE_WIDE_ROLES = ("admin", "clerk", "leader", "archivist")
#: Roles that register documents, edit them, void numbers and attach files.
CLERK_ROLES = ("clerk", "admin")


def represented_today(user: User, today: date | None = None) -> list[User]:
    """Return the active users `user` acts for on `today` (an acting substitute; default: the office's today)."""
    if today is None:
        today = numbering.office_date(clock.now(), office_timezone())
    return [person for person in accounts.represented_by(user.id, today) if person.active]


def office_wide(people: Iterable[User]) -> bool:
    """Return True when one of `people` holds an office-wide role: a user and whom they act for today see the
    registers of the whole office (always within the user's own clearance)."""
    return any(person.has_role(*OFFICE_WIDE_ROLES) for person in people)


def sees_office_wide(user: User, today: date | None = None) -> bool:
    """Return True when `user` sees the registers of the whole office (within their clearance): they hold an
    office-wide role, or act on `today` (default: the office's today) for someone who does."""
    return user.has_role(*OFFICE_WIDE_ROLES) or office_wide(represented_today(user, today))


def _routed_to(people: list[User]):
    """Return the conditions "the document was routed to one of `people`" (a user and whom they act for today).

    Routed to a person: they have an open or done task on it (a department's task without a user is its members'),
    or it was sent to them to read. Each condition is an uncorrelated ``IN`` over the few tasks and readers of those
    people (found by the indexes on their user and department), so a register page does not probe the routing
    tables once per document.
    """
    user_ids = sorted({person.id for person in people})
    department_ids = sorted({person.department_id for person in people if person.department_id is not None})
    tasks = (
        select(RoutingItem.document_id)
        .join(Task, Task.item_id == RoutingItem.id)
        .where(Task.state.in_(HANDLING_TASK_STATES))
    )
    readers = select(RoutingItem.document_id).join(Reader, Reader.item_id == RoutingItem.id)
    # one condition per index (by user, by department): SQLite would read every open and done task for an OR
    routed = [
        Document.id.in_(tasks.where(Task.user_id.in_(user_ids))),
        Document.id.in_(readers.where(Reader.user_id.in_(user_ids))),
    ]
    if department_ids:
        theirs = and_(Task.user_id.is_(None), Task.department_id.in_(department_ids))
        routed.append(Document.id.in_(tasks.where(theirs)))
    return routed


def can_view(user: User, document: Document, today: date | None = None) -> bool:
    """Return True when `user` may open `document`: clearance high enough, and an office-wide role, the same
    department, having registered it, or its routing: handling it, or reading it, or acting today for who does.

    A substitute acting today for someone with an office-wide role (a leader, say) sees office-wide too, always
    within their own clearance. `today` (default: the office's today) decides whose substitute `user` is.
    `visible_to` is the same rule in SQL.
    """
    if document.classification > user.clearance:
        return False
    if (
        user.has_role(*OFFICE_WIDE_ROLES)
        or (document.department_id is not None and document.department_id == user.department_id)
        or document.registered_by_id == user.id
    ):
        return True
    represented = represented_today(user, today)
    if office_wide(represented):
        return True
    query = select(Document.id).where(Document.id == document.id, or_(*_routed_to([user, *represented])))
    return db.session.execute(query).first() is not None


def visible_to(query, user: User, today: date | None = None):
    """Restrict a query of documents to those `user` may open (the SQL twin of `can_view`)."""
    query = query.where(Document.classification <= user.clearance)
    if user.has_role(*OFFICE_WIDE_ROLES):
        return query
    represented = represented_today(user, today)
    if office_wide(represented):
        return query
    mine = [Document.registered_by_id == user.id]
    if user.department_id is not None:
        mine.append(Document.department_id == user.department_id)
    return query.where(or_(*mine, *_routed_to([user, *represented])))


def visible_ids(user: User, document_ids: Iterable[int], today: date | None = None) -> set[int]:
    """Return those of `document_ids` that `user` may open, in one query (for lists that show others' work)."""
    wanted = sorted(set(document_ids))
    if not wanted:
        return set()
    return set(db.session.scalars(visible_to(select(Document.id).where(Document.id.in_(wanted)), user, today)))


def list_documents(
    criteria: DocumentFilter, page: int, per_page: int, viewer: User, with_details: bool = False
) -> Page[Document]:
    """Return one page of register entries matching `criteria` that `viewer` may open.

    `with_details` also loads each entry's recipients and attachments (the API shows them; the page does not).
    """
    query = visible_to(select(Document), viewer)
    for name in ("series_id", "year", "document_type_id", "correspondent_id", "department_id"):
        value = getattr(criteria, name)
        if value is not None:
            query = query.where(getattr(Document, name) == value)
    for name in ("direction", "urgency", "status"):
        value = getattr(criteria, name)
        if value:
            query = query.where(getattr(Document, name) == value)
    if criteria.registered_from is not None:  # compared in UTC, as stored (SQLite keeps no offset)
        query = query.where(Document.registered_at >= clock.as_utc(criteria.registered_from))
    if criteria.registered_until is not None:
        query = query.where(Document.registered_at < clock.as_utc(criteria.registered_until))
    if criteria.text.strip():
        pattern = contains_pattern(criteria.text.strip().lower())
        query = query.where(
            or_(
                func.lower(Document.number).like(pattern, escape="\\"),
                func.lower(Document.title).like(pattern, escape="\\"),
                func.lower(Document.sender_reference).like(pattern, escape="\\"),
            )
        )
    query = query.options(
        selectinload(Document.correspondent),
        selectinload(Document.department),
        selectinload(Document.series),
        selectinload(Document.document_type),
        selectinload(Document.recipients),
        *((selectinload(Document.attachments),) if with_details else ()),
    )
    return paginate(query.order_by(*SORTS.get(criteria.sort, SORTS[DEFAULT_SORT])), page, per_page)


def duplicates_of(document: Document, viewer: User) -> dict[int, list[Document]]:
    """Return, per attachment of `document`, the other documents `viewer` may see that hold the same file."""
    hashes = {attachment.sha256: attachment.id for attachment in document.attachments}
    if not hashes:
        return {}
    query = (
        select(Attachment.sha256, Document)
        .join(Document, Attachment.document_id == Document.id)
        .where(Attachment.sha256.in_(hashes), Document.id != document.id)
        .order_by(Document.id)
    )
    found: dict[int, list[Document]] = {}
    for sha256, other in db.session.execute(visible_to(query, viewer)).all():
        bucket = found.setdefault(hashes[sha256], [])
        if other not in bucket:
            bucket.append(other)
    return found


def active_correspondents() -> list[Correspondent]:
    """Return the correspondents in use, by name (for pickers)."""
    query = select(Correspondent).where(Correspondent.active).order_by(Correspondent.name)
    return list(db.session.execute(query).scalars())


def series_overview(viewer: User, year: int) -> list[tuple[Series, int, int]]:
    """Return every register with the number of entries `viewer` may see, and the last number taken in `year`."""
    counts = dict(
        db.session.execute(
            visible_to(select(Document.series_id, func.count()), viewer).group_by(Document.series_id)
        ).all()
    )
    last = dict(
        db.session.execute(
            select(SeriesCounter.series_id, SeriesCounter.last_value).where(SeriesCounter.year == year)
        ).all()
    )
    return [(series, counts.get(series.id, 0), last.get(series.id, 0)) for series in list_series(include_inactive=True)]


def years_in_use() -> list[int]:
    """Return the years that have register entries, newest first (from the few counter rows, not the documents)."""
    query = select(SeriesCounter.year).distinct().order_by(SeriesCounter.year.desc())
    return list(db.session.execute(query).scalars())


# --- document types --------------------------------------------------------------------------------------------


def _validate_document_type(values: dict, current: DocumentType | None) -> None:
    errors: dict[str, Msg] = {}
    if "code" in values:
        values["code"] = (values["code"] or "").strip().upper()
        if not values["code"] or len(values["code"]) > 32:
            errors["code"] = Msg(N_("Use 1 to 32 characters."))
        else:
            if code_taken(DocumentType, values["code"], current):
                errors["code"] = Msg(N_("Another document type has this code."))
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"] or len(values["name"]) > 100:
            errors["name"] = Msg(N_("Enter the name (at most 100 characters)."))
    if "position" in values and (not isinstance(values["position"], int) or not 0 <= values["position"] <= 9999):
        errors["position"] = Msg(N_("Enter a whole number from 0 to 9999."))
    if "active" in values and not isinstance(values["active"], bool):
        errors["active"] = Msg(N_("Say yes or no."))
    if errors:
        raise ValidationFailed(errors)


def create_document_type(ctx: audit.Context, code: str, name: str, position: int | None = None) -> DocumentType:
    """Add a document type at the end of the list (or at `position`)."""
    if position is None:
        position = (db.session.execute(select(func.max(DocumentType.position))).scalar() or 0) + 1
    values = {"code": code, "name": name, "position": position}
    _validate_document_type(values, None)
    document_type = DocumentType(**values, active=True)
    db.session.add(document_type)
    db.session.flush()
    audit.record_event(ctx, "document_type.create", "document_type", document_type.id, after=document_type.as_dict())
    db.session.commit()
    return document_type


def get_document_type(type_id: int) -> DocumentType:
    """Return the document type with `type_id`, or raise NotFound."""
    return fetch(DocumentType, type_id, Msg(N_("No such document type.")))


def update_document_type(ctx: audit.Context, type_id: int, values: dict) -> DocumentType:
    """Rename, reorder or (de)activate a document type; documents keep the type they have."""
    document_type = get_document_type(type_id)
    values = {key: value for key, value in values.items() if key in ("code", "name", "active", "position")}
    _validate_document_type(values, document_type)
    audit.record_update(ctx, document_type, values, "document_type.update", "document_type")
    db.session.commit()
    return document_type
