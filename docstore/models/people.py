"""Models of the organisation, people, correspondents, API tokens and the audit log."""

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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docstore import clock
from docstore.errors import N_
from docstore.extensions import db

#: Roles a user can hold (several at once), with their English labels marked for translation.
ROLES: dict[str, str] = {
    "admin": N_("Administrator"),
    "clerk": N_("Clerk"),
    "staff": N_("Staff"),
    "leader": N_("Leader"),
    "archivist": N_("Archivist"),
}

#: Kinds of organisational unit, top to bottom.
DEPARTMENT_KINDS: dict[str, str] = {
    "office": N_("Office"),
    "department": N_("Department"),
    "unit": N_("Subordinate unit"),
}

#: Kinds of correspondent.
CORRESPONDENT_KINDS: dict[str, str] = {
    "organisation": N_("Organisation"),
    "person": N_("Person"),
}

#: Default names of the clearance levels 0..3 (the CLEARANCE_NAMES setting replaces them).
CLEARANCE_LEVELS: tuple[str, ...] = (N_("None"), N_("Confidential"), N_("Secret"), N_("Top secret"))


def one_of(column: str, values) -> str:
    """Return the SQL of a CHECK constraint that `column` holds one of `values` (the keys of a states table)."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Recorded:
    """A model whose `FIELDS` are what the API shows and the audit log records, through `as_dict`."""

    FIELDS: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        """Return the id and the `FIELDS` of this row."""
        return {"id": self.id, **{name: getattr(self, name) for name in self.FIELDS}}


class Department(Recorded, db.Model):
    """A unit of the organisation: the office, a department or a subordinate unit, arranged as a tree."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="department")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The head of the department, told when one of its extra-urgent tasks is overdue (see docstore.routing.chasing).
    #: `use_alter`: user and department refer to each other.
    head_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())

    parent: Mapped[Department | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Department]] = relationship(back_populates="parent")
    head: Mapped[User | None] = relationship(foreign_keys=[head_id])

    FIELDS = ("code", "name", "kind", "parent_id", "head_id", "active")


class UserRole(db.Model):
    """One role held by one user."""

    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class User(db.Model):
    """A person who signs in. Users are deactivated, never deleted: their history stays attached to them."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    clearance: Mapped[int] = mapped_column(Integer, default=0)
    locale: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Part of the session and remember-me identity: changing it signs the user out everywhere.
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    __table_args__ = (CheckConstraint("clearance BETWEEN 0 AND 3", name="clearance_range"),)

    @property
    def roles(self) -> set[str]:
        """Return the names of the roles this user holds."""
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        """Return True when the user holds any of `roles`."""
        return bool(self.roles.intersection(roles))

    # flask-login protocol (kept here so that no Flask import is needed)
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def as_dict(self) -> dict:
        """Return the fields the API shows and the audit log records (never the password hash)."""
        return {
            "id": self.id,
            "username": self.username,
            "full_name": self.full_name,
            "email": self.email,
            "department_id": self.department_id,
            "roles": sorted(self.roles),
            "clearance": self.clearance,
            "locale": self.locale,
            "active": self.active,
        }


class Substitution(db.Model):
    """`substitute` acts for `user` from `starts_on` to `ends_on`, both days included."""

    __tablename__ = "substitution"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    substitute_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(300), default="")
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    substitute: Mapped[User] = relationship(foreign_keys=[substitute_id])

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates_in_order"),)

    def as_dict(self) -> dict:
        """Return the fields the API shows and the audit log records."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "substitute_id": self.substitute_id,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "reason": self.reason,
            "cancelled": self.cancelled,
        }


class Correspondent(Recorded, db.Model):
    """An outside organisation or person the office exchanges documents with."""

    __tablename__ = "correspondent"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="organisation")
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    contact_person: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())

    #: Fields a clerk fills in; the API and the audit log show them too.
    FIELDS = ("name", "kind", "code", "contact_person", "email", "phone", "address", "notes", "active")


class ApiToken(db.Model):
    """A secret that lets a program act as a user through the JSON API. Only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: clock.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    def state(self, at: datetime) -> str:
        """Return 'active', 'expired' or 'revoked' as of `at`."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and clock.as_utc(self.expires_at) <= at:
            return "expired"
        return "active"

    def as_dict(self) -> dict:
        """Return the fields the API shows and the audit log records (never the secret)."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "revoked_at": _iso(self.revoked_at),
            "last_used_at": _iso(self.last_used_at),
        }


class LoginAttempt(db.Model):
    """One sign-in attempt, kept to rate-limit guessing across all web workers."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client_addr: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    succeeded: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_client_addr_at", "client_addr", "at"),
    )


class AuditEvent(db.Model):
    """One append-only entry of the audit log, chained to the one before by `prev_hash`."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    acting_for_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    client_addr: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    acting_for: Mapped[User | None] = relationship(foreign_keys=[acting_for_id])

    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)


class AuditHead(db.Model):
    """The single row that holds the end of the audit chain; locking it serialises writers of the log."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else clock.as_utc(value).isoformat()
