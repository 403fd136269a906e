"""Records: finding and reading them, their files, annotations and history. Every view and download is logged.

A filed record never changes: its document and replies are "archived" (registry and routing refuse edits), and a
correction is an annotation, itself audited. Who may see a record is who may see its document
(`registry.can_view`); archivists see them all, within their clearance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import or_, select

from docstore import audit, registry
from docstore.archive import scheme
from docstore.errors import N_, Msg, NotFound, StoredFileMissing, ValidationFailed
from docstore.extensions import db
from docstore.models import Attachment, AuditEvent, Document, Record, RecordAnnotation, RecordFile, User
from docstore.pagination import Page, contains_pattern, paginate

#: Roles that keep the archive: the file plan, filing, annotations, holds, disposal proposals, exports.
ARCHIVE_ROLES = ("archivist", "admin")
#: Roles that follow the archive (its lists, the catalogue, holds, disposals): its keepers, and the leaders who
#: decide on disposals (see `disposal.APPROVER_ROLES`).
OVERSEER_ROLES = (*ARCHIVE_ROLES, "leader")
ANNOTATION_LIMIT = 4000


@dataclass(frozen=True)
class RecordFilter:
    """What the record list shows: text in the code, number or title; class (with its sub-classes); year; state."""

    text: str = ""
    class_id: int | None = None
    year: int | None = None
    state: str = ""
    retention: str = ""
    held: bool | None = None


def _visible(query, viewer: User):
    return registry.visible_to(query.join(Document, Document.id == Record.document_id), viewer)


def list_records(criteria: RecordFilter, viewer: User, page: int, per_page: int) -> Page[Record]:
    """Return one page of the records `viewer` may see, in archival code order."""
    from docstore.archive import holds

    query = _visible(select(Record), viewer)
    if criteria.text.strip():
        pattern = contains_pattern(criteria.text.strip())
        query = query.where(
            or_(
                Record.code.like(pattern, escape="\\"),
                Document.number.like(pattern, escape="\\"),
                Document.title.like(pattern, escape="\\"),
            )
        )
    if criteria.class_id is not None:
        query = query.where(Record.class_id.in_(scheme.descendants(criteria.class_id)))
    if criteria.year is not None:
        query = query.where(Record.year == criteria.year)
    if criteria.state:
        query = query.where(Record.state == criteria.state)
    if criteria.retention:
        query = query.where(Record.retention == criteria.retention)
    if criteria.held is not None:
        held = holds.held_condition()
        query = query.where(held if criteria.held else ~held)
    return paginate(query.order_by(Record.year, Record.prefix, Record.item), page, per_page)


def get_record(record_id: int, viewer: User | None = None) -> Record:
    """Return the record `record_id` (if `viewer` may see it); raise NotFound, which also hides forbidden ones."""
    record = db.session.get(Record, record_id)
    if record is None or (viewer is not None and not registry.can_view(viewer, record.document)):
        raise NotFound(Msg(N_("No such record.")))
    return record


def find_by_code(code: str) -> Record | None:
    """Return the record with the archival code `code`, if any."""
    return db.session.scalar(select(Record).where(Record.code == code.strip()))


def record_of(document_id: int) -> Record | None:
    """Return the record a document is filed in (as its main document or a reply), if any."""
    from docstore.models import RecordMember

    record_id = db.session.scalar(select(RecordMember.record_id).where(RecordMember.document_id == document_id))
    return db.session.get(Record, record_id) if record_id is not None else None


def view_record(ctx: audit.Context, record_id: int, viewer: User) -> Record:
    """Return the record for `viewer` to read, and log that they viewed it."""
    record = get_record(record_id, viewer)
    audit.record_event(ctx, "archive_record.viewed", "archive_record", record.id, after={"code": record.code})
    db.session.commit()
    return record


def record_file(ctx: audit.Context, record_id: int, file_id: int, viewer: User, store) -> tuple[RecordFile, Path]:
    """Return a file of a record and where its bytes are, and log the download."""
    record = get_record(record_id, viewer)
    row = db.session.get(RecordFile, file_id)
    if (
        row is None
        or row.record_id != record.id
        or not registry.can_view(viewer, db.session.get(Document, row.document_id))  # a reply may be classified higher
    ):
        raise NotFound(Msg(N_("No such file in this record.")))
    if record.state != "kept":
        raise NotFound(
            Msg(N_("The files of %(code)s were disposed of; only its description remains."), code=record.code)
        )
    path = store.path(row.sha256)
    if not path.is_file():
        raise StoredFileMissing(
            Msg(N_("The stored file of “%(name)s” is missing. Tell an administrator."), name=row.filename)
        )
    audit.record_event(
        ctx,
        "archive_record.downloaded",
        "archive_record",
        record.id,
        after={"code": record.code, "file": row.filename, "sha256": row.sha256},
    )
    db.session.commit()
    return row, path


def open_attachment(ctx: audit.Context, attachment_id: int, viewer: User, store) -> tuple[Attachment, Path]:
    """Return an attachment `viewer` may open and where its bytes are (see `registry.attachment_file`); when its
    document is filed, the download is logged on the record, as a download from the record's page is."""
    attachment, path = registry.attachment_file(attachment_id, viewer, store)
    if attachment.document.status == "archived" and (record := record_of(attachment.document_id)) is not None:
        after = {"code": record.code, "file": attachment.filename, "sha256": attachment.sha256}
        audit.record_event(ctx, "archive_record.downloaded", "archive_record", record.id, after=after)
        db.session.commit()
    return attachment, path


def note_document_view(ctx: audit.Context, document: Document) -> None:
    """Log, on its record, that someone opened the page of a filed document (viewing the record by another door)."""
    if document.status != "archived" or (record := record_of(document.id)) is None:
        return
    audit.record_event(
        ctx,
        "archive_record.viewed",
        "archive_record",
        record.id,
        after={"code": record.code, "document": document.number},
    )
    db.session.commit()


def annotate(ctx: audit.Context, record_id: int, text: str) -> RecordAnnotation:
    """Add a correction or remark to a record (the record itself never changes)."""
    record = get_record(record_id)
    text = (text or "").strip()
    if not text or len(text) > ANNOTATION_LIMIT:
        raise ValidationFailed(
            {"text": Msg(N_("Write the annotation (up to %(limit)s characters)."), limit=ANNOTATION_LIMIT)}
        )
    note = RecordAnnotation(record_id=record.id, text=text, created_by_id=ctx.actor_id)
    db.session.add(note)
    db.session.flush()
    audit.record_event(
        ctx, "archive_record.annotated", "archive_record", record.id, after={"annotation": note.id, "text": text}
    )
    db.session.commit()
    return note


def events_of(record_id: int, limit: int = 200) -> list[AuditEvent]:
    """Return the latest `limit` audit events of a record (filing, views, downloads, annotations, holds, disposal),
    oldest first: a record read every day still shows its latest hold or disposal."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.object_type == "archive_record", AuditEvent.object_id == str(record_id))
        .order_by(AuditEvent.seq.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))[::-1]


def record_years() -> list[int]:
    """Return the years that have records, newest first."""
    return list(db.session.scalars(select(Record.year).distinct().order_by(Record.year.desc())))


def due(record: Record, today: date) -> bool:
    """Return True when the retention of `record` has ended on `today`."""
    return record.state == "kept" and record.due_on is not None and record.due_on <= today
