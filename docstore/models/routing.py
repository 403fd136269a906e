"""Models of routing: an incoming document's handling, its steps, instructions, tasks, comments and readers."""

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
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docstore import clock
from docstore.errors import N_
from docstore.extensions import db
from docstore.models.people import Department, User, one_of
from docstore.models.registers import Document

#: States of a routing item, in the order an item usually passes them.
ITEM_STATES: dict[str, str] = {
    "pending": N_("awaiting receipt"),
    "returned": N_("returned to the sender"),
    "accepted": N_("received"),
    "proposed": N_("proposed to a leader"),
    "handling": N_("being handled"),
    "handled": N_("handled"),
    "closed": N_("closed"),
}

#: Kinds of item: one that needs action, or one only to be read (it skips to circulation and closing).
ITEM_KINDS: dict[str, str] = {
    "action": N_("For action"),
    "information": N_("For information"),
}

#: States of a task. The label of "open" is not "open", whose msgid is the verb of "open this file" elsewhere.
TASK_STATES: dict[str, str] = {
    "open": N_("to do"),
    "done": N_("done"),
    "forwarded": N_("forwarded"),
    "cancelled": N_("cancelled"),
}

#: States of a task whose people handle the document: they may open it (see `registry.can_view`) and find it.
HANDLING_TASK_STATES = ("open", "done")

#: Roles of a task: the one lead handler, or a co-handler.
TASK_ROLES: dict[str, str] = {
    "lead": N_("Lead handler"),
    "co": N_("Co-handler"),
}

#: States of a request for more time.
EXTENSION_STATES: dict[str, str] = {
    "pending": N_("pending"),
    "approved": N_("approved"),
    "refused": N_("refused"),
}


class RoutingItem(db.Model):
    """The handling of one incoming document, from receipt to closing; its `state` says where it stands."""

    __tablename__ = "routing_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="action")
    state: Mapped[str] = mapped_column(String(16), default="pending")
    #: The office's proposed handling (拟办): the text, the leader, the departments (ids) and the deadline.
    proposal: Mapped[str] = mapped_column(Text, default="")
    proposed_leader_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    proposed_department_ids: Mapped[list] = mapped_column(JSON, default=list)
    proposed_deadline: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)
    result: Mapped[str] = mapped_column(Text, default="")
    close_reason: Mapped[str] = mapped_column(String(500), default="")
    reply_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    return_reason: Mapped[str] = mapped_column(String(500), default="")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())

    document: Mapped[Document] = relationship(foreign_keys=[document_id])
    reply_document: Mapped[Document | None] = relationship(foreign_keys=[reply_document_id])
    proposed_leader: Mapped[User | None] = relationship(foreign_keys=[proposed_leader_id])

    __table_args__ = (
        CheckConstraint(one_of("state", ITEM_STATES), name="state_known"),
        CheckConstraint(one_of("kind", ITEM_KINDS), name="kind_known"),
        Index("ix_routing_item_state_deadline", "state", "deadline"),
    )

    @staticmethod
    def pending_values(document_id: int, now: datetime) -> dict:
        """Return the columns of a new item of the document `document_id`, awaiting receipt (on the clerks' board).

        Registering an incoming document inserts it; `routing.ensure_item` does for a document registered earlier.
        """
        return {
            "document_id": document_id,
            "kind": "action",
            "state": "pending",
            "proposal": "",
            "proposed_department_ids": [],
            "result": "",
            "close_reason": "",
            "return_reason": "",
            "created_at": now,
            "updated_at": now,
        }

    def as_dict(self) -> dict:
        """Return the fields the API shows and the audit log records."""
        return {
            "id": self.id,
            "document_id": self.document_id,
            "kind": self.kind,
            "state": self.state,
            "proposal": self.proposal,
            "proposed_leader_id": self.proposed_leader_id,
            "proposed_department_ids": list(self.proposed_department_ids or []),
            "proposed_deadline": _iso(self.proposed_deadline),
            "deadline": _iso(self.deadline),
            "result": self.result,
            "close_reason": self.close_reason,
            "reply_document_id": self.reply_document_id,
            "return_reason": self.return_reason,
        }


class RoutingStep(db.Model):
    """One change of an item's state (accepted, returned, proposed, handled, closed, reopened), for its timeline."""

    __tablename__ = "routing_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("routing_item.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    acting_for_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    acting_for: Mapped[User | None] = relationship(foreign_keys=[acting_for_id])


class Instruction(db.Model):
    """A leader's instruction (批示). `author` recorded it; with `acting_for`, for that leader, as a substitute."""

    __tablename__ = "routing_instruction"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("routing_item.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    acting_for_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str] = mapped_column(Text)
    instructed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    deadline: Mapped[date] = mapped_column(Date)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    acting_for: Mapped[User | None] = relationship(foreign_keys=[acting_for_id])

    @property
    def leader_id(self) -> int:
        """Return the leader whose instruction this is (the one replaced, when a substitute recorded it)."""
        return self.acting_for_id or self.author_id


class Task(db.Model):
    """A handler's part of an item: for a user, or for a department (any of its members may act), by a deadline."""

    __tablename__ = "routing_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("routing_item.id"), index=True)
    instruction_id: Mapped[int | None] = mapped_column(ForeignKey("routing_instruction.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    role: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), default="open")
    deadline: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(Text, default="")
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: Whom `completed_by` acted for (or, for a forwarded or cancelled task, whoever did that).
    acting_for_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    forwarded_from_id: Mapped[int | None] = mapped_column(ForeignKey("routing_task.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    item: Mapped[RoutingItem] = relationship()
    instruction: Mapped[Instruction | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    department: Mapped[Department | None] = relationship()
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    acting_for: Mapped[User | None] = relationship(foreign_keys=[acting_for_id])

    __table_args__ = (
        CheckConstraint(one_of("state", TASK_STATES), name="state_known"),
        CheckConstraint(one_of("role", TASK_ROLES), name="role_known"),
        CheckConstraint("user_id IS NOT NULL OR department_id IS NOT NULL", name="has_assignee"),
        Index("ix_routing_task_state_deadline", "state", "deadline"),
        # one lead handler at a time: the database refuses a second open lead task on an item
        Index(
            "uq_routing_task_open_lead",
            "item_id",
            unique=True,
            sqlite_where=text("role = 'lead' AND state = 'open'"),
            postgresql_where=text("role = 'lead' AND state = 'open'"),
        ),
    )

    def as_dict(self) -> dict:
        """Return the fields the API shows and the audit log records."""
        return {
            "id": self.id,
            "item_id": self.item_id,
            "instruction_id": self.instruction_id,
            "user_id": self.user_id,
            "department_id": self.department_id,
            "role": self.role,
            "state": self.state,
            "deadline": _iso(self.deadline),
            "result": self.result,
            "forwarded_from_id": self.forwarded_from_id,
        }


class TaskComment(db.Model):
    """A comment on a task by one of its handlers (or their substitute)."""

    __tablename__ = "routing_task_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("routing_task.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    acting_for_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    acting_for: Mapped[User | None] = relationship(foreign_keys=[acting_for_id])


class ExtensionRequest(db.Model):
    """A handler's request for a later deadline on a task, decided by a clerk; at most one pending per task."""

    __tablename__ = "routing_extension_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("routing_task.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    acting_for_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    new_deadline: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, default="")

    task: Mapped[Task] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    acting_for: Mapped[User | None] = relationship(foreign_keys=[acting_for_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        CheckConstraint(one_of("state", EXTENSION_STATES), name="state_known"),
        Index(
            "uq_routing_extension_request_pending",
            "task_id",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )


class Reader(db.Model):
    """A reader of an item in circulation (传阅): when it was sent to them and when they read it."""

    __tablename__ = "routing_reader"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("routing_item.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])

    __table_args__ = (UniqueConstraint("item_id", "user_id"),)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
