"""Models of the archive: the file plan, records and their files, annotations, holds, disposals, fixity checks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
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
from docstore.models.people import Recorded, User, one_of
from docstore.models.registers import Document

#: Levels of the file plan: a fonds (全宗) holds classes (门类), a class holds sub-classes.
CLASS_LEVELS: dict[str, str] = {
    "fonds": N_("Fonds"),
    "class": N_("Class"),
    "subclass": N_("Sub-class"),
}

#: The retention periods of 国家档案局令第8号; a custom period is written D<years> (D5, D50).
RETENTIONS: dict[str, str] = {
    "Y": N_("Permanent"),
    "D30": N_("30 years"),
    "D10": N_("10 years"),
}

#: What happens to a record when its retention ends.
DISPOSAL_ACTIONS: dict[str, str] = {
    "destroy": N_("Destroy"),
    "transfer": N_("Transfer"),
    "review": N_("Review"),
}

#: States of a record: kept in custody, or the residual entry of one destroyed or transferred.
RECORD_STATES: dict[str, str] = {
    "kept": N_("kept"),
    "destroyed": N_("destroyed"),
    "transferred": N_("transferred"),
}

#: States of a disposal proposal.
DISPOSAL_STATES: dict[str, str] = {
    "proposed": N_("awaiting approval"),
    "approved": N_("approved and carried out"),
    "rejected": N_("rejected"),
}

#: Outcomes of one fixity check of a stored file (PREMIS "fixity check" events).
FIXITY_OUTCOMES: dict[str, str] = {
    "ok": N_("intact"),
    "missing": N_("missing"),
    "altered": N_("altered"),
}


class ArchiveClass(Recorded, db.Model):
    """A node of the file plan: a fonds, a class or a sub-class, with the retention and disposal it gives records.

    `retention` and `disposal_action` empty mean "as the parent"; a fonds always has both.
    """

    __tablename__ = "archive_class"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("archive_class.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    retention: Mapped[str] = mapped_column(String(8), default="")
    disposal_action: Mapped[str] = mapped_column(String(16), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[ArchiveClass | None] = relationship(remote_side=[id])

    FIELDS = ("parent_id", "level", "code", "name", "retention", "disposal_action", "description", "active", "position")

    __table_args__ = (
        UniqueConstraint("parent_id", "code", name="uq_archive_class_parent_code"),
        CheckConstraint(one_of("level", CLASS_LEVELS), name="level_known"),
    )


class RecordCounter(db.Model):
    """The last item number given under one archival code prefix (件号 restarts per lowest class)."""

    __tablename__ = "archive_record_counter"

    prefix: Mapped[str] = mapped_column(String(120), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class Record(db.Model):
    """One filed item (件): a closed document with its files, instructions, timeline and linked replies.

    `captured` is the metadata fixed at filing (point-of-capture, ISO 15489), kept after disposal as the residual
    entry. A record's document and its replies carry `status` "archived" and can no longer change.
    """

    __tablename__ = "archive_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), unique=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("archive_class.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    prefix: Mapped[str] = mapped_column(String(120))
    item: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(140), unique=True)
    retention: Mapped[str] = mapped_column(String(8))
    disposal_action: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="kept")
    pages: Mapped[int | None] = mapped_column(Integer)
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    captured: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Events of the record in the instances it came from (see docstore.archive.exchange); empty when filed here.
    history: Mapped[list] = mapped_column(JSON, default=list)
    disposal_id: Mapped[int | None] = mapped_column(ForeignKey("archive_disposal.id"))
    disposed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    document: Mapped[Document] = relationship(foreign_keys=[document_id])
    archive_class: Mapped[ArchiveClass] = relationship()
    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id])
    files: Mapped[list[RecordFile]] = relationship(order_by="RecordFile.position", back_populates="record")
    annotations: Mapped[list[RecordAnnotation]] = relationship(order_by="RecordAnnotation.id")

    __table_args__ = (
        UniqueConstraint("prefix", "item", name="uq_archive_record_prefix_item"),
        CheckConstraint(one_of("state", RECORD_STATES), name="state_known"),
        Index("ix_archive_record_year_code", "year", "code"),
        Index("ix_archive_record_state_due", "state", "due_on"),
    )


class RecordMember(db.Model):
    """A document filed in a record: its main document, or a reply linked to it. A document is filed once."""

    __tablename__ = "archive_record_member"

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))

    __table_args__ = (CheckConstraint("role IN ('document', 'reply')", name="role_known"),)


class RecordFile(db.Model):
    """A file of a record, fixed at filing: the main document's files first, then its replies' (DA/T 22 order)."""

    __tablename__ = "archive_record_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    #: The attachment while the file is kept; emptied when the record is disposed of.
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))
    role: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(100))

    record: Mapped[Record] = relationship(back_populates="files")

    __table_args__ = (CheckConstraint("role IN ('document', 'reply')", name="role_known"),)


class RecordAnnotation(db.Model):
    """A correction or remark added to a filed record, which is never edited itself."""

    __tablename__ = "archive_annotation"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    created_by: Mapped[User | None] = relationship()


class Hold(db.Model):
    """A legal hold: while it is in force, its records (or every record of its class) cannot be disposed of."""

    __tablename__ = "archive_hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(500))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("archive_class.id"), index=True)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    release_reason: Mapped[str] = mapped_column(String(500), default="")

    archive_class: Mapped[ArchiveClass | None] = relationship()
    placed_by: Mapped[User | None] = relationship(foreign_keys=[placed_by_id])
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])


class HoldRecord(db.Model):
    """A record named by a hold."""

    __tablename__ = "archive_hold_record"

    hold_id: Mapped[int] = mapped_column(ForeignKey("archive_hold.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), primary_key=True, index=True)


class Disposal(db.Model):
    """A disposal decision: proposed by an archivist, approved (and carried out) or rejected by another person."""

    __tablename__ = "archive_disposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    #: The destruction (or transfer) certificate, a Word file in the file store.
    certificate_sha256: Mapped[str] = mapped_column(String(64), default="")
    certificate_size: Mapped[int] = mapped_column(Integer, default=0)
    #: Where a transfer's BagIt package was written, and its External-Identifier.
    package: Mapped[str] = mapped_column(String(500), default="")

    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        CheckConstraint(one_of("state", DISPOSAL_STATES), name="state_known"),
        CheckConstraint("action IN ('destroy', 'transfer')", name="action_known"),
    )


class DisposalItem(db.Model):
    """A record named in a disposal proposal."""

    __tablename__ = "archive_disposal_item"

    disposal_id: Mapped[int] = mapped_column(ForeignKey("archive_disposal.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), primary_key=True, index=True)


class FixityRun(db.Model):
    """One run of `archive verify`: how many stored files it checked, and what it found."""

    __tablename__ = "archive_fixity_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scope: Mapped[str] = mapped_column(String(16))
    checked: Mapped[int] = mapped_column(Integer, default=0)
    intact: Mapped[int] = mapped_column(Integer, default=0)
    missing: Mapped[int] = mapped_column(Integer, default=0)
    altered: Mapped[int] = mapped_column(Integer, default=0)
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0)


class FixityEvent(db.Model):
    """One fixity check of one stored file (a PREMIS "fixity check" event)."""

    __tablename__ = "archive_fixity_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("archive_fixity_run.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(one_of("outcome", FIXITY_OUTCOMES), name="outcome_known"),
        Index("ix_archive_fixity_event_sha256", "sha256", "checked_at"),
    )
