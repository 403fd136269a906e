"""Notifications: telling users what concerns them, in the app (the bell) and, when SMTP is configured, by e-mail.

A notification has a *kind* — a short code from `KINDS`, which says how it is worded — and parameters. It is stored
with its parameters, not its text, and worded when it is read, in the reader's language: the page and the API in the
request's, an e-mail in the recipient's. Services call `notify` inside their own transaction, so that a notification
exists exactly when the change it tells of was saved; with a `key` it happens at most once per user however many
times it is sent (a reminder job run twice, or by two schedulers at once), because the database refuses the copy.

When SMTP is configured, `notify` also queues an e-mail for each recipient who has an address; `docstore.mail`
sends the queue.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from docstore import clock, registry
from docstore.errors import N_, Msg, ValidationFailed
from docstore.extensions import db, mail_enabled
from docstore.models import Document, MailOutbox, Notification, User
from docstore.pagination import Page, paginate

#: Ids accepted by one call of `mark_read`.
MAX_IDS = 1000


@dataclass(frozen=True)
class Wording:
    """How a notification reads: a short `label` (a list's heading, an e-mail's subject) and its `text`."""

    label: str
    text: str


@dataclass(frozen=True)
class Kind:
    """A kind of notification: the parameters it needs and how it is worded.

    `number` is filled in from the document, which kinds with `needs_document` must have. Parameters named in
    `dates` are days (given as `date`, kept as ISO text) shown the reader's way. When `choose_by` names a
    parameter, its value picks the wording from `wordings`; otherwise the wording is `wordings[""]`.
    """

    params: tuple[str, ...]
    wordings: dict[str, Wording]
    needs_document: bool = True
    dates: tuple[str, ...] = ()
    choose_by: str = ""

    def wording(self, params: dict) -> Wording:
        """Return the wording for `params`."""
        return self.wordings[params[self.choose_by] if self.choose_by else ""]


#: Every kind of notification. Routing (tasks, reminders, escalation, circulation) sends the kinds after "message".
KINDS: dict[str, Kind] = {
    # A text written by a person or by the system, shown as it is (it is not translated).
    "message": Kind(("text",), {"": Wording(N_("Message"), "%(text)s")}, needs_document=False),
    "task_assigned": Kind(
        ("actor", "deadline"),
        {"": Wording(N_("New task"), N_("%(actor)s assigned you %(number)s, due on %(deadline)s."))},
        dates=("deadline",),
    ),
    "task_due_soon": Kind(
        ("deadline",),
        {"": Wording(N_("Task due soon"), N_("Your task on %(number)s is due on %(deadline)s."))},
        dates=("deadline",),
    ),
    "task_overdue": Kind(
        ("deadline",),
        {"": Wording(N_("Task overdue"), N_("Your task on %(number)s was due on %(deadline)s and is not done."))},
        dates=("deadline",),
    ),
    "escalation": Kind(
        ("assignee", "deadline"),
        {
            "": Wording(
                N_("Overdue task"),
                N_("The task of %(assignee)s on %(number)s was due on %(deadline)s and is not done."),
            )
        },
        dates=("deadline",),
    ),
    # A clerk's reminder (催办) of a task; `status` says whether its deadline is still ahead or past.
    "chase": Kind(
        ("actor", "deadline", "status"),
        {
            "due": Wording(
                N_("Reminder"), N_("%(actor)s reminds you of your task on %(number)s, due on %(deadline)s.")
            ),
            "overdue": Wording(
                N_("Reminder of an overdue task"),
                N_("%(actor)s reminds you of your task on %(number)s: it was due on %(deadline)s and is not done."),
            ),
        },
        dates=("deadline",),
        choose_by="status",
    ),
    "circulation": Kind(
        ("actor",),
        {"": Wording(N_("To read"), N_("%(actor)s sent you %(number)s to read."))},
    ),
    "extension_requested": Kind(
        ("actor", "deadline"),
        {"": Wording(N_("More time asked for"), N_("%(actor)s asks for more time on %(number)s, until %(deadline)s."))},
        dates=("deadline",),
    ),
    "extension_decided": Kind(
        ("actor", "decision", "deadline"),
        {
            "approved": Wording(
                N_("More time given"), N_("%(actor)s gave you more time on %(number)s: it is due on %(deadline)s.")
            ),
            "refused": Wording(
                N_("More time refused"),
                N_("%(actor)s refused more time on %(number)s: it stays due on %(deadline)s."),
            ),
        },
        dates=("deadline",),
        choose_by="decision",
    ),
    # A directive waits for the reader (see docstore.directives.notices); `step` says what it waits for.
    "directive": Kind(
        ("title", "step"),
        {
            "review": Wording(N_("Directive to review"), N_("“%(title)s” waits for the office's review.")),
            "countersign": Wording(
                N_("Directive to countersign"), N_("“%(title)s” waits for your department's countersignature.")
            ),
            "signoff": Wording(N_("Directive to sign off"), N_("“%(title)s” waits for your sign-off.")),
            "recheck": Wording(
                N_("Directive to re-check"), N_("“%(title)s” was signed off: re-check it and give it its number.")
            ),
            "draft": Wording(
                N_("Directive sent back"), N_("“%(title)s” was sent back to its drafter: its page says why.")
            ),
            "issued": Wording(N_("Directive issued"), N_("“%(title)s” was issued.")),
            "received": Wording(
                N_("Directive received"), N_("“%(title)s” has arrived in your department's incoming register.")
            ),
            "chase": Wording(
                N_("Reply awaited"), N_("A reply to the directive “%(title)s” is awaited from your department.")
            ),
        },
        needs_document=False,
        choose_by="step",
    ),
}

#: How a notification of a kind this version does not know (any more) reads.
UNKNOWN = Wording(N_("Notification"), N_("A notification of a kind this version of Docstore does not know."))

#: Woken when e-mail is queued and committed in this process, so that the embedded sender need not wait its poll.
mail_queued = threading.Event()


@dataclass(frozen=True)
class Shown:
    """A notification as its reader sees it: its wording, and its document when the reader may open it."""

    notification: Notification
    label: Msg
    message: Msg
    document: Document | None = field(default=None)

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None


def _checked_params(kind: str, document_id: int | None, params: dict) -> dict:
    """Return `params` as stored (days as ISO text), or raise ValueError: a wrong call is a programming error."""
    spec = KINDS.get(kind)
    if spec is None:
        raise ValueError(f"unknown notification kind {kind!r}; known: {', '.join(KINDS)}")
    if spec.needs_document and document_id is None:
        raise ValueError(f"a {kind} notification needs a document")
    if set(params) != set(spec.params):
        raise ValueError(f"a {kind} notification takes the parameters {spec.params}, not {tuple(params)}")
    if spec.choose_by and params[spec.choose_by] not in spec.wordings:
        raise ValueError(f"{spec.choose_by} of a {kind} notification is one of {tuple(spec.wordings)}")
    stored = {}
    for name, value in params.items():
        if name in spec.dates:
            if not isinstance(value, date):
                raise ValueError(f"{name} of a {kind} notification is a date")
            value = value.isoformat()
        elif not isinstance(value, str | int) or isinstance(value, bool):
            raise ValueError(f"{name} of a {kind} notification is text or a whole number")
        stored[name] = value
    return stored


def _insert(table):
    """Return an INSERT for `table` in the dialect of the current session (which can skip duplicate rows)."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def notify(
    recipients: Iterable[User | int],
    kind: str,
    document: Document | int | None = None,
    key: str | None = None,
    **params,
) -> int:
    """Notify each active user of `recipients` of `kind`, in the current transaction; return how many are new.

    With `key`, a user who was ever notified with that key is not notified again (a repeated or concurrent reminder).
    The caller commits; call it in a writing transaction (a POST request, or `database.writing()`), as any change.
    """
    document_id = document.id if isinstance(document, Document) else document
    stored = _checked_params(kind, document_id, params)
    if key is not None and not 1 <= len(key) <= 200:
        raise ValueError("a notification key has 1 to 200 characters")
    ids = {recipient.id if isinstance(recipient, User) else recipient for recipient in recipients}
    if not ids:
        return 0
    users = db.session.execute(select(User.id, User.email).where(User.id.in_(ids), User.active)).all()
    if not users:
        return 0
    now = clock.now()
    rows = [
        {
            "user_id": user_id,
            "kind": kind,
            "document_id": document_id,
            "params": stored,
            "created_at": now,
            "dedupe_key": key,
        }
        for user_id, _email in sorted(users)  # always in the same order: concurrent inserts lock keys alike
    ]
    table = Notification.__table__
    statement = (
        _insert(table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[table.c.user_id, table.c.dedupe_key])
        .returning(table.c.id, table.c.user_id)
    )
    created = db.session.execute(statement).all()
    if created and mail_enabled():
        addresses = {user_id for user_id, email in users if email}
        mails = [
            {"notification_id": ident, "status": "pending", "created_at": now, "next_attempt_at": now}
            for ident, user_id in created
            if user_id in addresses
        ]
        if mails:
            db.session.execute(MailOutbox.__table__.insert(), mails)
            db.session.info["mail_queued"] = True
    return len(created)


@event.listens_for(Session, "after_commit")
def _wake_sender(session: Session) -> None:
    if session.info.pop("mail_queued", False):
        mail_queued.set()


@event.listens_for(Session, "after_rollback")
def _forget_queued(session: Session) -> None:
    session.info.pop("mail_queued", None)


# --- reading ---------------------------------------------------------------------------------------------------


def wording_of(notification: Notification) -> tuple[Msg, Msg]:
    """Return the label and the message of `notification`, to be translated into its reader's language."""
    spec = KINDS.get(notification.kind)
    params = dict(notification.params or {})
    if spec is None or set(params) != set(spec.params):  # a kind removed or changed since it was stored
        return Msg(UNKNOWN.label), Msg(UNKNOWN.text)
    wording = spec.wording(params)
    for name in spec.dates:
        if isinstance(params.get(name), str):
            params[name] = date.fromisoformat(params[name])
    if notification.document is not None:
        params["number"] = notification.document.number
    return Msg(wording.label), Msg(wording.text, **params)


def show(notification: Notification, reader: User, openable: set[int] | None = None) -> Shown:
    """Return `notification` as `reader` sees it (its document only if they may open it).

    `openable`, when given, holds the ids of the documents `reader` may open (a list decides them in one query).
    """
    label, message = wording_of(notification)
    document = notification.document
    if document is None:
        visible = None
    elif openable is not None:
        visible = document if document.id in openable else None
    else:
        visible = document if registry.can_view(reader, document) else None
    return Shown(notification, label, message, visible)


def unread_count(user: User) -> int:
    """Return how many notifications of `user` are unread."""
    query = select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    return db.session.execute(query).scalar_one()


def list_notifications(user: User, page: int, per_page: int, unread_only: bool = False) -> Page[Shown]:
    """Return one page of the notifications of `user`, newest first (only the unread ones with `unread_only`)."""
    query = (
        select(Notification)
        .where(Notification.user_id == user.id)
        .options(joinedload(Notification.document))
        .order_by(Notification.id.desc())
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    found = paginate(query, page, per_page)
    # One query for the page: can_view per row would ask who the reader stands in for and where the document was
    # routed, for every reminder about someone else's department.
    openable = registry.visible_ids(user, [item.document_id for item in found.items if item.document_id is not None])
    return Page([show(item, user, openable) for item in found.items], found.page, found.per_page, found.total)


def mark_read(user: User, ids: Iterable[int]) -> int:
    """Mark the notifications of `user` among `ids` as read (others' are left alone); return how many changed."""
    ids = set(ids)
    if len(ids) > MAX_IDS:
        raise ValidationFailed({"ids": Msg(N_("Send at most %(n)s ids at a time."), n=MAX_IDS)})
    if not ids:
        return 0
    return _mark(user, Notification.id.in_(ids))


def mark_all_read(user: User) -> int:
    """Mark every notification of `user` as read; return how many changed."""
    return _mark(user)


def _mark(user: User, *criteria) -> int:
    statement = (
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None), *criteria)
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    changed = db.session.execute(statement).rowcount
    db.session.commit()
    return changed
