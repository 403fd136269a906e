"""Attachments of register entries: storing uploads safely, duplicate warnings, and the text-extraction queue.

The bytes go to the content-addressed store (package `storage`), exactly as uploaded; the type is sniffed from the
content. Text is extracted later, outside the request: each attachment starts "pending", a worker claims it, runs
the extraction in a separate process with a time and memory budget, and records the outcome. The state lives in
the database, so pending work survives a restart, and a claim left behind by a dead worker is taken up again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

import storage
from docstore import audit, clock, database
from docstore.errors import N_, Msg, ValidationFailed
from docstore.extensions import db
from docstore.models import Attachment, AttachmentText, Document
from docstore.pagination import fetch

#: Human names of the sniffed kinds, for messages; the ones with ordinary words are marked for translation.
KIND_NAMES = {
    "pdf": "PDF",
    "docx": "Word (.docx)",
    "docx-strict": "Word Strict Open XML",
    "docm": N_("Word with macros (.docm)"),
    "dotx": N_("Word template (.dotx)"),
    "dotm": N_("Word template with macros (.dotm)"),
    "ooxml": "Office Open XML",
    "ooxml-encrypted": N_("password-protected Office"),
    "odt": N_("OpenDocument text (.odt)"),
    "text": N_("plain text"),
    "png": "PNG",
    "jpeg": "JPEG",
    "tiff": "TIFF",
    "gif": "GIF",
    "doc": "Word 97-2003 (.doc)",
    "xls": "Excel 97-2003 (.xls)",
    "ppt": "PowerPoint 97-2003 (.ppt)",
    "ole2": N_("an OLE2 compound file"),
    "xlsx": "Excel (.xlsx)",
    "pptx": "PowerPoint (.pptx)",
    "zip": N_("a ZIP archive"),
    "unknown": N_("of an unknown type"),
}


@dataclass(frozen=True)
class StoredUpload:
    """An upload after it was checked and stored."""

    filename: str
    sha256: str
    size: int
    kind: str
    mime: str


class _Refused(Exception):
    """An upload of a type the office does not accept (raised before its bytes are kept)."""

    def __init__(self, kind: storage.FileKind):
        super().__init__(kind.kind)
        self.kind = kind


def store_uploads(files: list, policy, store: storage.FileStore) -> list[StoredUpload]:
    """Check and store every upload (name, emptiness, size, sniffed type); report all the bad ones together.

    A file of a refused type is never kept. When one file of several is refused, the acceptable ones are already
    stored: unreferenced, they change nothing, and the same bytes sent again are not stored twice.
    """
    stored: list[StoredUpload] = []
    problems: list[str] = []
    for upload in files:
        try:
            filename = storage.safe_filename(upload.filename)
        except storage.BadFilename:
            shown = "".join(ch if ch.isprintable() else "?" for ch in (upload.filename or ""))[:80]
            problems.append(
                Msg(
                    N_("“%(name)s”: the file name is not allowed (path separators or control characters)."),
                    name=shown or "?",
                )
            )
            continue
        sniffed: list[storage.FileKind] = []

        def accept(path, sniffed=sniffed) -> None:
            kind = storage.sniff(path)
            sniffed.append(kind)
            if kind.kind not in policy.allowed_kinds:
                raise _Refused(kind)

        try:
            item = store.put(upload.stream, check=accept)
        except _Refused as refused:
            problems.append(
                Msg(
                    N_("“%(name)s” is %(kind)s, which the office does not accept."),
                    name=filename,
                    kind=Msg(KIND_NAMES.get(refused.kind.kind, refused.kind.kind)),
                )
            )
            continue
        except storage.EmptyFile:
            problems.append(Msg(N_("“%(name)s” is empty."), name=filename))
            continue
        except storage.FileTooLarge:
            problems.append(
                Msg(N_("“%(name)s” is larger than %(mb)s MB."), name=filename, mb=policy.max_bytes // (1024 * 1024))
            )
            continue
        kind = sniffed[0]
        stored.append(StoredUpload(filename, item.sha256, item.size, kind.kind, kind.mime))
    if problems:
        raise ValidationFailed({"attachments": Msg.join(problems)})
    return stored


def add_rows(document: Document, stored: list[StoredUpload], ctx: audit.Context, now: datetime) -> list[Attachment]:
    """Attach stored uploads to `document` in the current transaction, queued for text extraction."""
    start = len(document.attachments)
    rows = []
    for offset, item in enumerate(stored):
        row = Attachment(
            document_id=document.id,
            sha256=item.sha256,
            size=item.size,
            filename=item.filename,
            mime=item.mime,
            kind=item.kind,
            position=start + offset,
            uploaded_at=now,
            uploaded_by_id=ctx.actor_id,
            extraction_state="pending",
        )
        db.session.add(row)
        document.attachments.append(row)
        rows.append(row)
    db.session.flush()
    return rows


def get_attachment(attachment_id: int) -> Attachment:
    """Return the attachment with `attachment_id`, or raise NotFound."""
    return fetch(Attachment, attachment_id, Msg(N_("No such attachment.")))


def extracted_text(attachment_id: int) -> str:
    """Return the text extracted from an attachment ('' when there is none)."""
    row = db.session.get(AttachmentText, attachment_id)
    return row.text if row else ""


# --- the extraction queue --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """An attachment claimed for extraction: what the worker needs, with no database session attached."""

    attachment_id: int
    sha256: str
    kind: str


def claim_next(stale_after: timedelta = timedelta(minutes=15)) -> Claim | None:
    """Claim the oldest pending attachment (or one whose worker vanished) for extraction, or return None."""
    now = clock.now()
    claimable = (Attachment.extraction_state == "pending") | (
        (Attachment.extraction_state == "running") & (Attachment.extraction_claimed_at < now - stale_after)
    )
    row = database.claim_oldest(
        Attachment,
        claimable,
        (Attachment.id,),
        (Attachment.id, Attachment.sha256, Attachment.kind),
        {
            "extraction_state": "running",
            "extraction_claimed_at": now,
            "extraction_attempts": Attachment.extraction_attempts + 1,
        },
    )
    return None if row is None else Claim(row.id, row.sha256, row.kind)


def record_extraction(attachment_id: int, result) -> None:
    """Store the outcome of an extraction (a `storage.Extraction`) and its text."""
    db.session.commit()
    with database.writing():
        _record(attachment_id, result)


def _record(attachment_id: int, result) -> None:
    attachment = get_attachment(attachment_id)
    attachment.extraction_state = result.state
    attachment.extraction_reason = (result.reason or "")[:500]
    attachment.page_count = result.pages
    attachment.text_chars = len(result.text) if result.state == "done" else None
    attachment.extraction_claimed_at = None
    existing = db.session.get(AttachmentText, attachment.id)
    if result.state == "done":
        if existing is None:
            db.session.add(AttachmentText(attachment_id=attachment.id, text=result.text))
        else:
            existing.text = result.text
    db.session.commit()


def count_by_state() -> dict[str, int]:
    """Return how many attachments are in each extraction state."""
    rows = db.session.execute(
        select(Attachment.extraction_state, func.count()).group_by(Attachment.extraction_state)
    ).all()
    return dict(sorted(rows))


def pending_count() -> int:
    """Return how many attachments wait for extraction."""
    query = select(func.count()).where(Attachment.extraction_state.in_(("pending", "running")))
    return db.session.execute(query).scalar_one()
