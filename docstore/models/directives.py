"""Models of outgoing directives: the draft and its approvals, its recipients and their deliveries, templates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
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
from docstore.models.people import Correspondent, Department, Recorded, User, one_of
from docstore.models.registers import Document, Series

#: States of a directive, in the order it passes them (see docstore.directives.flow).
DIRECTIVE_STATES: dict[str, str] = {
    "draft": N_("being drafted"),
    "review": N_("in review"),
    "countersign": N_("being countersigned"),
    "signoff": N_("awaiting sign-off"),
    "recheck": N_("awaiting re-check"),
    "registered": N_("numbered"),
    "issued": N_("issued"),
    "withdrawn": N_("withdrawn"),
}

#: States of one department's countersignature.
COUNTERSIGN_STATES: dict[str, str] = {
    "pending": N_("to countersign"),
    "agreed": N_("agreed"),
    "declined": N_("declined"),
}


class DirectiveTemplate(Recorded, db.Model):
    """A Word template an administrator uploaded, with the placeholders it uses (checked at upload).

    Its bytes live in the content-addressed file store under `sha256`, like attachments.
    """

    __tablename__ = "directive_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="es")
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    placeholders: Mapped[list] = mapped_column(JSON, default=list)
    #: Markers of other template systems found in the file (${x}, «x», MERGEFIELD …), left as they are.
    foreign_markers: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    FIELDS = ("name", "language", "filename", "sha256", "size", "placeholders", "foreign_markers", "active")


class Directive(db.Model):
    """An outgoing directive from its first draft to its issue; registering it gives its outgoing `document`."""

    __tablename__ = "directive"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("directive_template.id"))
    state: Mapped[str] = mapped_column(String(16), default="draft")
    title: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(200))
    issuer_mark: Mapped[str] = mapped_column(String(500), default="")
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"))
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    classification: Mapped[int] = mapped_column(Integer, default=0)
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: The signer's post as the signature block prints it (antefirma: "EL DIRECTOR GENERAL"; 署名机关).
    signer_title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    #: The type's own sections (see docstore.directives.kinds), name -> text in the body syntax.
    sections: Mapped[dict] = mapped_column(JSON, default=dict)
    attachments_note: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    their_reference: Mapped[str] = mapped_column(String(120), default="")
    place: Mapped[str] = mapped_column(String(100), default="")
    feedback_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    feedback_deadline: Mapped[date | None] = mapped_column(Date)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), unique=True)
    #: Incremented by every edit; `signed_version` is the one the signer approved.
    version: Mapped[int] = mapped_column(Integer, default=1)
    signed_version: Mapped[int | None] = mapped_column(Integer)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_on: Mapped[date | None] = mapped_column(Date)
    sign_opinion: Mapped[str] = mapped_column(Text, default="")
    return_reason: Mapped[str] = mapped_column(String(1000), default="")
    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    department: Mapped[Department] = relationship(foreign_keys=[department_id])
    series: Mapped[Series | None] = relationship()
    template: Mapped[DirectiveTemplate | None] = relationship()
    signer: Mapped[User | None] = relationship(foreign_keys=[signer_id])
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])
    drafted_by: Mapped[User | None] = relationship(foreign_keys=[drafted_by_id])
    reply_to: Mapped[Document | None] = relationship(foreign_keys=[reply_to_id])
    document: Mapped[Document | None] = relationship(foreign_keys=[document_id])
    recipients: Mapped[list[DirectiveRecipient]] = relationship(
        order_by="DirectiveRecipient.position", cascade="all, delete-orphan", back_populates="directive"
    )
    countersigns: Mapped[list[Countersign]] = relationship(
        order_by="Countersign.id", cascade="all, delete-orphan", back_populates="directive"
    )

    __table_args__ = (
        CheckConstraint(one_of("state", DIRECTIVE_STATES), name="state_known"),
        CheckConstraint("classification BETWEEN 0 AND 3", name="classification_range"),
        Index("ix_directive_state_updated", "state", "updated_at"),
    )


class DirectiveRecipient(db.Model):
    """A main or copy recipient of a directive, and what became of its copy once issued.

    An internal recipient (one of our departments) gets an incoming document in its register on issue
    (`incoming_document_id`); an external one gets a dispatch entry (`channel`, `dispatched_on`, by whom).
    `reply_document_id` links the recipient's reply when feedback was asked for.
    """

    __tablename__ = "directive_recipient"

    id: Mapped[int] = mapped_column(primary_key=True)
    directive_id: Mapped[int] = mapped_column(ForeignKey("directive.id"), index=True)
    role: Mapped[str] = mapped_column(String(8))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    correspondent_id: Mapped[int | None] = mapped_column(ForeignKey("correspondent.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    incoming_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    dispatched_on: Mapped[date | None] = mapped_column(Date)
    dispatched_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reply_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    chased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    directive: Mapped[Directive] = relationship(back_populates="recipients")
    department: Mapped[Department | None] = relationship()
    correspondent: Mapped[Correspondent | None] = relationship()
    incoming_document: Mapped[Document | None] = relationship(foreign_keys=[incoming_document_id])
    reply_document: Mapped[Document | None] = relationship(foreign_keys=[reply_document_id])
    dispatched_by: Mapped[User | None] = relationship(foreign_keys=[dispatched_by_id])

    __table_args__ = (
        CheckConstraint("role IN ('main', 'copy')", name="role_known"),
        CheckConstraint("(correspondent_id IS NULL) <> (department_id IS NULL)", name="one_target"),
    )

    @property
    def name(self) -> str:
        return self.correspondent.name if self.correspondent else self.department.name

    @property
    def internal(self) -> bool:
        return self.department_id is not None


class Countersign(db.Model):
    """One department's countersignature (会签) of a directive: all must agree before sign-off."""

    __tablename__ = "countersign"

    id: Mapped[int] = mapped_column(primary_key=True)
    directive_id: Mapped[int] = mapped_column(ForeignKey("directive.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    opinion: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    directive: Mapped[Directive] = relationship(back_populates="countersigns")
    department: Mapped[Department] = relationship()
    decided_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("directive_id", "department_id", name="uq_countersign_department"),
        CheckConstraint(one_of("state", COUNTERSIGN_STATES), name="state_known"),
    )


class DirectiveStep(db.Model):
    """One step of a directive's history, with who took it (for whom) and their opinion or reason."""

    __tablename__ = "directive_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    directive_id: Mapped[int] = mapped_column(ForeignKey("directive.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    acting_for_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    acting_for: Mapped[User | None] = relationship(foreign_keys=[acting_for_id])
    department: Mapped[Department | None] = relationship()
