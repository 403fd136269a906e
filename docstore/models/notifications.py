"""Models of notifications: what a user is told in the app, and the outbox of the e-mails that tell them by mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docstore import clock
from docstore.extensions import db
from docstore.models.registers import Document

#: States of an e-mail in the outbox: waiting (perhaps to be tried again), being sent, sent, given up.
MAIL_STATUSES = ("pending", "sending", "sent", "failed")


class Notification(db.Model):
    """One thing a user is told: a `kind` (which says how to word it) with its parameters, perhaps about a document.

    `dedupe_key` makes a notification happen at most once per user (a reminder run twice, two schedulers racing):
    the database refuses the second one.
    """

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dedupe_key: Mapped[str | None] = mapped_column(String(200))

    document: Mapped[Document | None] = relationship()

    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notification_user_id_id", "user_id", "id"),  # a user's list, newest first
        Index("ix_notification_user_id_read_at", "user_id", "read_at"),  # the unread count of the bell
    )


class MailOutbox(db.Model):
    """The e-mail that tells a notification's user by mail; claimed by one sender at a time."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    #: When a pending mail may be tried (now, or later after a failed attempt).
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    notification: Mapped[Notification] = relationship()

    __table_args__ = (Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),)
