"""Notification e-mails, sent to a real SMTP server (aiosmtpd) that the tests start on a local port."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from docstore import clock, database, mail, notifications
from docstore.config import read_settings
from docstore.extensions import db
from docstore.models import MailOutbox
from tests import test_notifications
from tests.test_notifications import DEADLINE, register_document

BASE_URL = "https://docstore.example.org"
ana = test_notifications.ana  # a fixture: a staff member who reads Spanish (see tests/test_browser_registers.py)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Inbox:
    """What the SMTP server received; it refuses the addresses in `refused` for good, and with `needs_login`
    every mail of a client that has not logged in."""

    messages: list[EmailMessage] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    needs_login: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.needs_login and not session.authenticated:
            return "530 5.7.0 Authentication required"
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def bodies(self) -> list[str]:
        """Return the text of each message received, with the line ends Python writes."""
        return [message.get_content().replace("\r\n", "\n") for message in self.messages]

    def wait_for(self, count: int, seconds: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


class SmtpServer:
    """A real SMTP server on 127.0.0.1:`port`, started and stopped by the test."""

    def __init__(self, port: int, **options):
        self.port, self.options, self.inbox, self.controller = port, options, Inbox(), None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def smtp(smtp_port):
    """The SMTP server, running."""
    server = SmtpServer(smtp_port).start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings, smtp_port):
    settings.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_port,
        SMTP_SECURITY="none",
        SMTP_TIMEOUT_SECONDS=5,
        MAIL_FROM="Docstore <docstore@example.org>",
        BASE_URL=BASE_URL + "/",
        MAIL_SENDER=False,  # the tests send themselves (one test starts the embedded sender)
        MAIL_MAX_ATTEMPTS=3,
    )
    return settings


@pytest.fixture
def wang(make_user):
    """A clerk who reads Chinese and may open the office's documents."""
    return make_user("wang", "clerk", full_name="王芳", locale="zh_Hans", email="wang@example.org", clearance=1)


def notify(recipients, kind: str = "message", document=None, **params) -> None:
    with database.writing():
        notifications.notify(recipients, kind, document, **(params or {"text": "Hola"}))
        db.session.commit()


def send(app) -> mail.Report:
    return mail.send_due(mail.settings_from(app.config))


def outbox() -> list[MailOutbox]:
    db.session.rollback()
    return list(db.session.scalars(select(MailOutbox).order_by(MailOutbox.id)))


# --- what is sent ----------------------------------------------------------------------------------------------


def test_mail_arrives_in_the_recipients_language_with_a_link(app, smtp, wang, clerk, sender):
    document = register_document(app, clerk, sender, title="Informe anual")
    notify([wang], "task_due_soon", document, deadline=DEADLINE)
    assert send(app) == mail.Report(sent=1)
    (message,) = smtp.inbox.messages
    assert message["Subject"] == f"[Docstore] 任务即将到期: {document.number}"
    assert message["To"] == "王芳 <wang@example.org>" and message["From"] == "Docstore <docstore@example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    (body,) = smtp.inbox.bodies()
    assert f"您在 {document.number} 上的任务将于 2026年3月16日 到期。" in body
    assert f"{document.number} — Informe anual" in body
    assert f"打开文件：{BASE_URL}/documents/{document.id}" in body
    assert f"您的全部通知：{BASE_URL}/notifications" in body
    (row,) = outbox()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "") and row.sent_at is not None


def test_mail_names_no_document_the_recipient_may_not_open(app, smtp, ana, clerk, sender):
    document = register_document(app, clerk, sender, title="Informe anual")
    notify([ana], "circulation", document, actor="Lucía")
    send(app)
    (message,) = smtp.inbox.messages
    assert message["Subject"] == f"[Docstore] Para leer: {document.number}"
    (body,) = smtp.inbox.bodies()
    assert f"Lucía le ha enviado {document.number} para que lo lea." in body
    assert "Informe anual" not in body and "/documents/" not in body
    assert f"Todas sus notificaciones: {BASE_URL}/notifications" in body


def test_mail_leaves_out_the_title_of_a_classified_document(app, smtp, wang, clerk, sender):
    document = register_document(app, clerk, sender, title="Plan reservado", classification=1)
    notify([wang], "circulation", document, actor="Lucía")
    send(app)
    (body,) = smtp.inbox.bodies()
    assert "Plan reservado" not in body and f"{BASE_URL}/documents/{document.id}" in body


def test_only_users_with_an_address_are_mailed(app, smtp, ana, make_user):
    nomail = make_user("nomail", "staff")
    notify([ana, nomail], text="Reunión")
    assert [row.notification.user_id for row in outbox()] == [ana.id]
    send(app)
    assert [message["To"] for message in smtp.inbox.messages] == ["Ana Ruiz <ana@example.org>"]
    assert smtp.inbox.bodies()[0].startswith("Reunión\n")


def test_nothing_is_queued_without_an_smtp_server(app, ana):
    app.config["SMTP_HOST"] = ""
    notify([ana])
    assert outbox() == []


# --- failures --------------------------------------------------------------------------------------------------


def test_an_unreachable_server_fails_the_attempt_which_is_retried_later(app, smtp_port, ana, fake_clock):
    notify([ana], text="Primero")
    notify([ana], text="Segundo")
    report = send(app)  # no server listens: the pass stops at the first mail
    assert report == mail.Report(failed=1)
    first, second = outbox()
    assert (first.status, first.attempts) == ("pending", 1) and "ConnectionRefusedError" in first.last_error
    assert clock.as_utc(first.next_attempt_at) == fake_clock() + timedelta(minutes=1)
    assert (second.status, second.attempts) == ("pending", 0)
    server = SmtpServer(smtp_port).start()
    try:
        assert send(app) == mail.Report(sent=1)  # the second; the first waits its minute
        fake_clock.advance(minutes=1)
        assert send(app) == mail.Report(sent=1)
    finally:
        server.stop()
    assert [body.split("\n")[0] for body in server.inbox.bodies()] == ["Segundo", "Primero"]
    assert [(row.status, row.attempts) for row in outbox()] == [("sent", 2), ("sent", 1)]


def test_waits_double_between_attempts_until_the_mail_is_given_up(app, ana, fake_clock):
    notify([ana])
    waits = []
    for _attempt in range(3):
        started = fake_clock()
        assert send(app) == mail.Report(failed=1)
        (row,) = outbox()
        waits.append(clock.as_utc(row.next_attempt_at) - started)
        fake_clock.advance(hours=1)
    assert waits[:2] == [timedelta(minutes=1), timedelta(minutes=2)]
    (row,) = outbox()
    assert (row.status, row.attempts) == ("failed", 3) and "ConnectionRefusedError" in row.last_error
    fake_clock.advance(days=1)
    assert send(app) == mail.Report()  # given up: MAIL_MAX_ATTEMPTS is 3 here


def test_a_refused_recipient_fails_for_good_and_the_others_are_sent(app, smtp, ana, make_user):
    ghost = make_user("ghost", "staff", email="ghost@example.org")
    smtp.inbox.refused.add("ghost@example.org")
    notify([ana], text="Para Ana")  # one at a time: the order of the outbox is known
    notify([ghost], text="Para nadie")
    notify([ana], text="Otra vez")
    assert send(app) == mail.Report(sent=2, failed=1)
    assert [(row.status, row.attempts) for row in outbox()] == [("sent", 1), ("failed", 1), ("sent", 1)]
    assert "550" in outbox()[1].last_error


def test_login_to_the_server(app, smtp_port, ana, fake_clock):
    def authenticate(server, session, envelope, mechanism, auth_data):
        accepted = auth_data.login == b"docstore" and auth_data.password == b"s3cret"
        return AuthResult(success=accepted, handled=False)  # not handled: the server answers 535 itself

    # plain-text AUTH on 127.0.0.1 (aiosmtpd warns when a server *requires* it without TLS: the inbox checks instead)
    server = SmtpServer(smtp_port, authenticator=authenticate, auth_require_tls=False)
    server.inbox.needs_login = True
    server.start()
    try:
        notify([ana])
        app.config.update(SMTP_USER="docstore", SMTP_PASSWORD="wrong")
        assert send(app) == mail.Report(failed=1)
        assert "SMTPAuthenticationError" in outbox()[0].last_error
        app.config["SMTP_PASSWORD"] = "s3cret"
        fake_clock.advance(minutes=5)
        assert send(app) == mail.Report(sent=1)
    finally:
        server.stop()
    assert len(server.inbox.messages) == 1


@pytest.fixture
def certificate(tmp_path):
    """Return the path of a self-signed certificate for 127.0.0.1, and a server's TLS context that presents it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "smtp-cert.pem", tmp_path / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return cert_path, context


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_the_connection_is_encrypted_and_the_certificate_checked(
    app, smtp_port, ana, certificate, monkeypatch, security
):
    cert_path, server_context = certificate
    options = {"ssl_context": server_context} if security == "ssl" else {"tls_context": server_context}
    server = SmtpServer(smtp_port, **options, **({"require_starttls": True} if security == "starttls" else {}))
    server.start()
    app.config["SMTP_SECURITY"] = security
    try:
        notify([ana], text="Cifrado")
        assert send(app) == mail.Report(failed=1)  # the certificate is signed by no authority this machine trusts
        assert "CERTIFICATE_VERIFY_FAILED" in outbox()[0].last_error
        trusted = ssl.create_default_context
        monkeypatch.setattr(ssl, "create_default_context", lambda: trusted(cafile=str(cert_path)))
        notify([ana], text="Cifrado y comprobado")
        assert send(app) == mail.Report(sent=1)
    finally:
        server.stop()
    assert server.inbox.bodies()[0].startswith("Cifrado y comprobado")


def test_an_unknown_security_mode_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="SMTP_SECURITY"):
        read_settings(tmp_path, environ={"DOCSTORE_SMTP_SECURITY": "tls"})


def test_settings_never_show_the_password(app):
    app.config["SMTP_PASSWORD"] = "s3cret"
    assert "s3cret" not in repr(mail.settings_from(app.config))


# --- several senders -------------------------------------------------------------------------------------------


def test_two_senders_at_once_send_each_mail_exactly_once(app, smtp, make_user):
    users = [make_user(f"user{n}", "staff", email=f"user{n}@example.org").id for n in range(4)]
    for number in range(6):
        notify(users, text=f"Aviso {number}")
    settings, start, reports, errors = mail.settings_from(app.config), threading.Barrier(2), [], []

    def sender():
        try:
            start.wait(10)
            with app.app_context():
                reports.append(mail.send_due(settings))
                db.session.remove()
        except Exception as exc:  # reported below: an assertion in a thread would go unnoticed
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and sum(report.sent for report in reports) == 24
    received = [message["X-Docstore-Notification"] for message in smtp.inbox.messages]
    assert len(received) == 24 and len(set(received)) == 24
    assert {row.status for row in outbox()} == {"sent"}


def test_a_claim_abandoned_by_a_dead_sender_is_taken_up_again(app, smtp, ana, fake_clock):
    notify([ana])
    dead = mail.claim_next()  # this sender dies before sending
    assert send(app) == mail.Report()  # a live claim is left alone
    fake_clock.advance(minutes=11)
    assert send(app) == mail.Report(sent=1)
    mail.record_failure(dead, "the dead sender wakes up", mail.settings_from(app.config))  # too late: ignored
    (row,) = outbox()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
    assert len(smtp.inbox.messages) == 1


def test_the_embedded_sender_mails_as_soon_as_the_notification_is_saved(app, client, smtp, ana):
    app.config["MAIL_POLL_SECONDS"] = 60  # so the mail can only come this fast if the commit wakes the sender
    app.config["MAIL_SENDER"] = True
    client.get("/sign-in")  # the first request starts the sender
    sender_thread = app.extensions["docstore_mail_sender"]
    try:
        notify([ana], text="Enseguida")
        assert len(smtp.inbox.wait_for(1)) == 1
    finally:
        sender_thread.stop.set()
        notifications.mail_queued.set()
        sender_thread.join(10)
    assert smtp.inbox.bodies()[0].startswith("Enseguida")


# --- the command line ------------------------------------------------------------------------------------------


def test_send_once_from_cron(app, smtp, ana):
    notify([ana], text="Desde cron")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["notifications", "send", "--once"], catch_exceptions=False)
    assert result.exit_code == 0 and "1 e-mail(s) sent, 0 attempt(s) failed" in result.output
    assert len(smtp.inbox.messages) == 1
    status = app.test_cli_runner().invoke(args=["notifications", "status"], catch_exceptions=False)
    assert "sent: 1" in status.output and "failed: 0" in status.output


def test_send_refuses_to_run_without_an_smtp_server(app):
    app.config["SMTP_HOST"] = ""
    result = app.test_cli_runner().invoke(args=["notifications", "send", "--once"])
    assert result.exit_code == 1 and "SMTP_HOST is not set" in result.output
