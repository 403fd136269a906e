"""Models of the registers: series and their yearly counters, documents, recipients and attachments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docstore import clock
from docstore.errors import N_
from docstore.extensions import db
from docstore.models.people import Correspondent, Department, Recorded, User

DIRECTIONS: dict[str, str] = {
    "incoming": N_("Incoming"),
    "outgoing": N_("Outgoing"),
    "internal": N_("Internal"),
}

CHANNELS: dict[str, str] = {
    "paper": N_("Paper"),
    "email": N_("E-mail"),
    "portal": N_("Portal"),
    "fax": N_("Fax"),
    "hand": N_("Hand delivery"),
    "other": N_("Other"),
}

URGENCIES: dict[str, str] = {
    "normal": N_("Normal"),
    "urgent": N_("Urgent"),
    "extra_urgent": N_("Extra urgent"),
}

STATUSES: dict[str, str] = {
    "registered": N_("Registered"),
    "void": N_("Void"),
    "archived": N_("Archived"),
    "destroyed": N_("Destroyed"),
    "transferred": N_("Transferred"),
}

#: The statuses of a document filed in the archive (kept, or the residual entry of a disposal): it never changes.
FILED_STATUSES = ("archived", "destroyed", "transferred")

#: What became of an attachment's text extraction.
EXTRACTION_STATES: dict[str, str] = {
    "pending": N_("Text extraction pending"),
    "running": N_("Extracting text"),
    "done": N_("Text extracted"),
    "no_text": N_("No text layer"),
    "encrypted": N_("Encrypted"),
    "unsupported": N_("Unsupported variant"),
    "failed": N_("Extraction failed"),
}


class DocumentType(Recorded, db.Model):
    """A kind of document (通知, oficio, …); the list is the administrator's."""

    __tablename__ = "document_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    FIELDS = ("code", "name", "active", "position")


class Series(Recorded, db.Model):
    """A register: one sequence of numbers per year, formatted by `pattern` (see docstore.numbering)."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(16))
    pattern: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())

    department: Mapped[Department | None] = relationship()

    FIELDS = ("code", "name", "direction", "pattern", "department_id", "active")


class SeriesCounter(db.Model):
    """The last number taken in a series in a year."""

    __tablename__ = "series_counter"

    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class Document(db.Model):
    """One entry of a register: an incoming, outgoing or internal document with its number."""

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(120), unique=True)
    direction: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="registered")
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str | None] = mapped_column(String(16))
    correspondent_id: Mapped[int | None] = mapped_column(ForeignKey("correspondent.id"), index=True)
    sender_reference: Mapped[str] = mapped_column(String(120), default="")
    sender_date: Mapped[date | None] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(500))
    document_type_id: Mapped[int | None] = mapped_column(ForeignKey("document_type.id"))
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    classification: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int | None] = mapped_column(Integer)
    copies: Mapped[int | None] = mapped_column(Integer)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    deadline: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    document_date: Mapped[date | None] = mapped_column(Date)
    sent_on: Mapped[date | None] = mapped_column(Date)
    void_reason: Mapped[str] = mapped_column(String(500), default="")
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    series: Mapped[Series] = relationship()
    correspondent: Mapped[Correspondent | None] = relationship()
    document_type: Mapped[DocumentType | None] = relationship()
    department: Mapped[Department | None] = relationship()
    registered_by: Mapped[User | None] = relationship(foreign_keys=[registered_by_id])
    signer: Mapped[User | None] = relationship(foreign_keys=[signer_id])
    voided_by: Mapped[User | None] = relationship(foreign_keys=[voided_by_id])
    recipients: Mapped[list[DocumentRecipient]] = relationship(
        order_by="DocumentRecipient.position", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.position", back_populates="document")

    __table_args__ = (
        UniqueConstraint("series_id", "year", "seq", name="uq_document_series_year_seq"),
        CheckConstraint("classification BETWEEN 0 AND 3", name="classification_range"),
        Index("ix_document_series_registered", "series_id", "registered_at"),
        Index("ix_document_status", "status"),
        # the register views' orders (see registry.SORTS) and the year filter
        Index("ix_document_year_seq", "year", "seq", "id"),
        Index("ix_document_registered_at", "registered_at", "id"),
        Index("ix_document_deadline", "deadline", "id"),
    )


class DocumentRecipient(db.Model):
    """A main or copy recipient of an outgoing document: a correspondent or one of our departments."""

    __tablename__ = "document_recipient"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    role: Mapped[str] = mapped_column(String(8))
    correspondent_id: Mapped[int | None] = mapped_column(ForeignKey("correspondent.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    correspondent: Mapped[Correspondent | None] = relationship()
    department: Mapped[Department | None] = relationship()

    __table_args__ = (
        CheckConstraint("role IN ('main', 'copy')", name="role_known"),
        CheckConstraint("(correspondent_id IS NULL) <> (department_id IS NULL)", name="one_target"),
    )

    @property
    def name(self) -> str:
        return self.correspondent.name if self.correspondent else self.department.name


class Attachment(db.Model):
    """A file attached to a document; the bytes live in the content-addressed store under `sha256`."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    extraction_state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    extraction_reason: Mapped[str] = mapped_column(String(500), default="")
    extraction_attempts: Mapped[int] = mapped_column(Integer, default=0)
    extraction_claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    text_chars: Mapped[int | None] = mapped_column(Integer)
    page_count: Mapped[int | None] = mapped_column(Integer)

    document: Mapped[Document] = relationship(back_populates="attachments")

    def as_dict(self) -> dict:
        """Return the fields the API shows and the audit log records."""
        return {
            "id": self.id,
            "filename": self.filename,
            "sha256": self.sha256,
            "size": self.size,
            "mime": self.mime,
            "kind": self.kind,
            "extraction_state": self.extraction_state,
            "extraction_reason": self.extraction_reason,
            "text_chars": self.text_chars,
            "page_count": self.page_count,
        }


class AttachmentText(db.Model):
    """The text extracted from an attachment, kept apart so that lists never load it."""

    __tablename__ = "attachment_text"

    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
