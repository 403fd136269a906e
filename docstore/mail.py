"""The e-mail sender: sends the outbox that `notifications.notify` fills, one claimed mail at a time.

It runs in a background thread of each web process (started with the first request, when SMTP_HOST is set) or
alone with `flask --app app notifications send` (`--once` for cron). Claims are atomic in the database, so any number
of senders can run without sending a mail twice; a claim left by a sender that died is taken up again after
`STALE_AFTER` (the mail may then go out twice: better than never). A failed attempt is tried again later, waiting
twice as long each time (one minute, then two, four... up to an hour), until MAIL_MAX_ATTEMPTS; a mail the server
refuses for good (an unknown recipient) is not tried again. Each mail is plain text in its recipient's language.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

from sqlalchemy import func, select, update

from docstore import clock, database, notifications
from docstore.errors import N_, Msg
from docstore.extensions import db
from docstore.messages import in_language, translate
from docstore.models import MailOutbox, Notification, User

log = logging.getLogger(__name__)

#: How long a claimed mail may stay "sending" before another sender takes it up (its sender must have died).
STALE_AFTER = timedelta(minutes=10)
#: The wait after the first failed attempt, doubled after each further one, up to `LONGEST_WAIT`.
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)
#: Standard ports of each SMTP_SECURITY mode, used when SMTP_PORT is 0.
PORTS = {"none": 25, "starttls": 587, "ssl": 465}


class PermanentFailure(Exception):
    """The mail cannot be sent, however often it is tried (no address, a recipient the server refuses)."""


@dataclass(frozen=True)
class Settings:
    """How to reach the SMTP server and what to put in the mails; read from the app's settings by `settings_from`."""

    host: str
    port: int
    security: str = "starttls"
    user: str = ""
    password: str = ""
    timeout: float = 30.0
    sender: str = ""
    base_url: str = ""
    default_locale: str = "en"
    max_attempts: int = 8

    @property
    def sender_domain(self) -> str:
        """Return the domain of the sender's address (for Message-IDs)."""
        return parseaddr(self.sender)[1].rpartition("@")[2] or "docstore"

    def __repr__(self) -> str:  # never show the password in a log
        return f"Settings(host={self.host!r}, port={self.port}, security={self.security!r}, user={self.user!r})"


@dataclass(frozen=True)
class Claim:
    """A mail one sender has claimed: its row, its notification and the claim's time (which fences the claim)."""

    outbox_id: int
    notification_id: int
    attempts: int
    claimed_at: datetime


@dataclass
class Report:
    """What a pass over the outbox did."""

    sent: int = 0
    failed: int = 0


def settings_from(config: Mapping) -> Settings:
    """Return the sender's settings that `config` (the app's settings) gives."""
    security = config["SMTP_SECURITY"]
    return Settings(
        host=config["SMTP_HOST"],
        port=config["SMTP_PORT"] or PORTS[security],
        security=security,
        user=config["SMTP_USER"],
        password=config["SMTP_PASSWORD"],
        timeout=config["SMTP_TIMEOUT_SECONDS"],
        sender=config["MAIL_FROM"] or f"docstore@{socket.getfqdn()}",
        base_url=config["BASE_URL"].rstrip("/"),
        default_locale=config["DEFAULT_LOCALE"],
        max_attempts=config["MAIL_MAX_ATTEMPTS"],
    )


# --- the outbox ------------------------------------------------------------------------------------------------


def _claimable(now: datetime):
    due = (MailOutbox.status == "pending") & (MailOutbox.next_attempt_at <= now)
    abandoned = (MailOutbox.status == "sending") & (MailOutbox.claimed_at < now - STALE_AFTER)
    return due | abandoned


def claim_next() -> Claim | None:
    """Claim the oldest mail that is due (or one whose sender vanished), or return None when there is none."""
    now = clock.now()
    row = database.claim_oldest(
        MailOutbox,
        _claimable(now),
        (MailOutbox.next_attempt_at, MailOutbox.id),
        (MailOutbox.id, MailOutbox.notification_id, MailOutbox.attempts),
        {"status": "sending", "claimed_at": now, "attempts": MailOutbox.attempts + 1},
    )
    return None if row is None else Claim(row.id, row.notification_id, row.attempts + 1, now)


def _finish(claim: Claim, **values) -> None:
    """Record how the claimed mail went, unless another sender has taken the claim over meanwhile."""
    db.session.commit()  # end the reading done meanwhile: the update below takes the write lock at its start
    with database.writing():
        db.session.execute(
            update(MailOutbox)
            .where(
                MailOutbox.id == claim.outbox_id,
                MailOutbox.status == "sending",
                MailOutbox.claimed_at == claim.claimed_at,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


def record_sent(claim: Claim) -> None:
    _finish(claim, status="sent", sent_at=clock.now(), last_error="")


def record_failure(claim: Claim, error: str, settings: Settings, permanent: bool = False) -> None:
    """Record a failed attempt: try again after a wait that doubles each time, or give up."""
    if permanent or claim.attempts >= settings.max_attempts:
        _finish(claim, status="failed", last_error=error[:1000])
        return
    wait = min(FIRST_WAIT * 2 ** (claim.attempts - 1), LONGEST_WAIT)
    _finish(claim, status="pending", last_error=error[:1000], next_attempt_at=clock.now() + wait)


def count_by_status() -> dict[str, int]:
    """Return how many mails of the outbox are in each status."""
    rows = db.session.execute(select(MailOutbox.status, func.count()).group_by(MailOutbox.status)).all()
    return dict(rows)


def recent_errors(limit: int = 10) -> list:
    """Return the latest mails not sent whose last attempt failed (notification, status, attempts, error)."""
    query = (
        select(MailOutbox.notification_id, MailOutbox.status, MailOutbox.attempts, MailOutbox.last_error)
        .where(MailOutbox.status != "sent", MailOutbox.last_error != "")
        .order_by(MailOutbox.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(query))


# --- composing -------------------------------------------------------------------------------------------------


def compose(notification_id: int, settings: Settings) -> EmailMessage:
    """Return the plain-text e-mail of a notification, in its recipient's language; raise PermanentFailure if none."""
    notification = db.session.get(Notification, notification_id)
    user = db.session.get(User, notification.user_id)
    if not user.active:
        raise PermanentFailure("the user is deactivated")
    if not user.email:
        raise PermanentFailure("the user has no e-mail address")
    shown = notifications.show(notification, user)
    document = notification.document
    with in_language(user.locale or settings.default_locale):
        label = translate(shown.label)
        subject = f"{label}: {document.number}" if document is not None else label
        lines = [translate(shown.message), ""]
        # A title leaves the office only when the recipient may read it and the document is not classified.
        if shown.document is not None and shown.document.classification == 0:
            lines += [f"{document.number} — {document.title}", ""]
        if settings.base_url:
            if shown.document is not None:
                url = f"{settings.base_url}/documents/{document.id}"
                lines.append(translate(Msg(N_("Open the document: %(url)s"), url=url)))
            url = f"{settings.base_url}/notifications"
            lines.append(translate(Msg(N_("All your notifications: %(url)s"), url=url)))
            lines.append("")
        lines += [
            "-- ",
            translate(Msg(N_("Docstore sent this message to %(name)s. Replies are not read."), name=user.full_name)),
        ]
    message = EmailMessage()
    message["Subject"] = f"[Docstore] {subject}"
    message["From"] = settings.sender
    message["To"] = formataddr((user.full_name, user.email))
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid("docstore-notification", domain=settings.sender_domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message["X-Docstore-Notification"] = str(notification.id)
    message.set_content("\n".join(lines) + "\n")
    return message


# --- sending ---------------------------------------------------------------------------------------------------


def connect(settings: Settings) -> smtplib.SMTP:
    """Return a connection to the SMTP server, secured and logged in as `settings` say."""
    context = ssl.create_default_context()
    if settings.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        smtp.ehlo()
        if settings.security == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.user:
            smtp.login(settings.user, settings.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _is_permanent(exc: Exception) -> bool:
    """Return True when the server refused this very mail for good (5xx for its recipient or content)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def send_due(settings: Settings, max_items: int | None = None) -> Report:
    """Send the mails that are due, over one connection, until none is left (or `max_items` were tried).

    When the server cannot be reached the pass stops: the mail it was for is tried again later, the others wait.
    """
    report = Report()
    smtp: smtplib.SMTP | None = None
    try:
        while max_items is None or report.sent + report.failed < max_items:
            claim = claim_next()
            if claim is None:
                break
            try:
                message = compose(claim.notification_id, settings)
            except PermanentFailure as exc:
                record_failure(claim, str(exc), settings, permanent=True)
                report.failed += 1
                continue
            except Exception as exc:  # a bug: record it on the mail (tried again later) and carry on with the others
                log.exception("e-mail of notification %s could not be composed", claim.notification_id)
                record_failure(claim, _describe(exc), settings)
                report.failed += 1
                continue
            try:
                if smtp is None:
                    smtp = connect(settings)
                smtp.send_message(message)
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("e-mail of notification %s not sent: %s", claim.notification_id, _describe(exc))
                record_failure(claim, _describe(exc), settings, permanent=_is_permanent(exc))
                report.failed += 1
                if smtp is None or not isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused):
                    break  # no server, or the connection is broken: try again later
                continue
            record_sent(claim)
            report.sent += 1
            log.info("e-mail of notification %s sent", claim.notification_id)
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    return report


def start_embedded_sender(app) -> threading.Thread:
    """Start the sender thread of this process (once)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever,
        args=(app, settings_from(app.config), stop, app.config["MAIL_POLL_SECONDS"]),
        name="docstore-mail",
        daemon=True,
    )
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread


def run_forever(app, settings: Settings, stop: threading.Event, poll_seconds: float = 30.0) -> None:
    """Send mails as they fall due until `stop` is set, looking every `poll_seconds` (or when woken)."""
    while not stop.is_set():
        try:
            with app.app_context():
                send_due(settings)
                db.session.remove()
        except Exception:  # keep the sender alive: the failure is logged and the mail is tried again later
            log.exception("the e-mail sender failed; retrying")
        notifications.mail_queued.wait(poll_seconds)
        notifications.mail_queued.clear()
