"""The `flask --app app ...` commands, run through click's test runner against the test database."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from docstore import accounts, audit, organisation
from docstore.extensions import db
from docstore.models import ROLES, AuditEvent, Correspondent, Department, User
from tests import test_chasing
from tests.conftest import PASSWORD


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def run(app, monkeypatch):
    """Run a command as `flask --app app ...` would, with no password in the environment."""
    for name in ("DOCSTORE_ADMIN_PASSWORD", "DOCSTORE_NEW_PASSWORD", "DOCSTORE_DEMO_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    runner = app.test_cli_runner()

    def invoke(*args: str, env: dict | None = None):
        # a command runs in a process of its own: end the test's transaction, whose SQLite lock would block it
        db.session.commit()
        return runner.invoke(args=list(args), env=env, catch_exceptions=False)

    return invoke


# --- init ------------------------------------------------------------------------------------------------------


def test_init_creates_the_first_administrator_once_with_a_printed_password(app, run):
    result = run("init")
    assert result.exit_code == 0, result.output
    assert "is up to date" in result.stdout
    printed = re.search(r"administrator created: admin \(password: (\S+)\)", result.stdout)
    assert printed, result.stdout
    admin = accounts.find_user_by_username("admin")
    assert admin.roles == {"admin"} and admin.clearance == 3 and admin.active
    assert accounts.password_matches(admin.password_hash, printed.group(1))

    again = run("init")
    assert again.exit_code == 0
    assert "users exist already: no administrator created" in again.stdout
    assert "password" not in again.stdout
    assert count(User) == 1


def test_init_does_not_print_a_password_it_was_given(app, run):
    result = run("init", "--admin-username", "chief", env={"DOCSTORE_ADMIN_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    assert "administrator created: chief" in result.stdout
    assert PASSWORD not in result.output
    assert accounts.password_matches(accounts.find_user_by_username("chief").password_hash, PASSWORD)


def test_init_refuses_a_too_short_password_and_creates_nobody(app, run):
    result = run("init", "--admin-password", "short")
    assert result.exit_code == 1
    assert "error: password: Use at least 10 characters." in result.stderr
    assert count(User) == 0


# --- create-user and create-token ------------------------------------------------------------------------------


def test_create_user_with_department_and_roles(app, run):
    finance = organisation.create_department(audit.SYSTEM, code="CW", name="Finance")
    result = run(
        "create-user",
        "Juan",
        "--name",
        "Juan Pérez",
        "--role",
        "staff",
        "--role",
        "leader",
        "--department",
        "cw",
        "--clearance",
        "1",
        "--email",
        "juan@example.org",
        "--password",
        PASSWORD,
    )
    assert result.exit_code == 0, result.output
    juan = accounts.find_user_by_username("juan")
    assert f"user created: juan (id {juan.id})" in result.stdout
    assert (juan.full_name, juan.department_id, juan.roles, juan.clearance, juan.email) == (
        "Juan Pérez",
        finance.id,
        {"staff", "leader"},
        1,
        "juan@example.org",
    )
    assert accounts.password_matches(juan.password_hash, PASSWORD)


def test_create_user_with_a_bad_username_fails_naming_the_field(app, run):
    result = run("create-user", "Juan Pérez!", "--name", "Juan", "--password", PASSWORD)
    assert result.exit_code == 1
    assert "error: username: Use 2 to 64 lowercase letters" in result.stderr
    assert count(User) == 0


def test_create_user_with_an_unknown_department_fails(app, run):
    result = run("create-user", "juan", "--name", "Juan", "--department", "NOPE", "--password", PASSWORD)
    assert result.exit_code == 1
    assert "error: no department with code NOPE" in result.stderr
    assert count(User) == 0


def test_create_token_prints_a_working_token(app, run, make_user):
    make_user("robot", "clerk")
    result = run("create-token", "robot", "--name", "scanner", "--days", "7")
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith(accounts.TOKEN_PREFIX) and "\n" not in secret
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200 and response.get_json()["username"] == "robot"
    [token] = accounts.list_tokens(response.get_json()["id"])
    assert token.name == "scanner" and token.expires_at is not None


def test_create_token_for_an_unknown_user_fails(app, run):
    result = run("create-token", "nobody")
    assert result.exit_code == 1
    assert "error: no user nobody" in result.stderr


# --- demo ------------------------------------------------------------------------------------------------------


def test_demo_loads_an_office_once(app, run):
    result = run("demo", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert "demo office loaded" in result.stdout
    loaded = (count(Department), count(User), count(Correspondent), count(AuditEvent))
    assert loaded[0] >= 3 and loaded[2] >= 3
    roles = {role for user in accounts.active_users() for role in user.roles}
    assert roles == set(ROLES) - {"admin"}  # `init` creates the administrator
    assert organisation.find_department_by_code("BGS").parent_id is None
    assert any(row.depth == 1 for row in organisation.department_tree())
    lucia = accounts.find_user_by_username("lucia")
    assert lucia.department is not None and accounts.password_matches(lucia.password_hash, PASSWORD)

    again = run("demo", "--password", PASSWORD)
    assert again.exit_code == 0
    assert "already loaded" in again.stdout
    assert (count(Department), count(User), count(Correspondent), count(AuditEvent)) == loaded


# --- audit verify ----------------------------------------------------------------------------------------------


def test_audit_verify_exits_0_on_an_intact_chain(app, run):
    for code in ("A", "B", "C"):
        organisation.create_department(audit.SYSTEM, code=code, name=f"Department {code}")
    result = run("audit", "verify")
    assert result.exit_code == 0
    assert result.stdout.strip() == "audit chain intact: 3 events verified"


def test_audit_verify_exits_1_naming_a_tampered_event(app, run):
    for code in ("A", "B"):
        organisation.create_department(audit.SYSTEM, code=code, name=f"Department {code}")
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    else:
        db.session.execute(sa.text("DROP TRIGGER audit_event_no_update"))
    db.session.execute(sa.text("UPDATE audit_event SET after = '{}' WHERE seq = 2"))
    db.session.commit()
    result = run("audit", "verify")
    assert result.exit_code == 1
    assert "TAMPERED: event 2 was altered" in result.stderr
    assert "audit chain BROKEN: 1 problem(s) in 2 events" in result.stderr


def test_demo_registers_a_few_documents_with_text_attachments(app):
    from docstore import demo
    from docstore.models import Attachment, Document

    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert f"{len(demo.DOCUMENTS)} demo documents registered" in result.output
    assert "4 demo directives drafted" in result.output
    assert f"{len(demo.ARCHIVED)} demo records filed in the archive" in result.output
    # the demo documents with their text attachments (and the archived ones of 2015), and what the two issued
    # directives registered (their outgoing documents, the notice's four incoming copies and one reply), each
    # directive's with its Word file
    typed = [d for d in db.session.query(Document) if d.attachments and d.attachments[0].filename == "texto.txt"]
    assert len(typed) == len(demo.DOCUMENTS) + len(demo.ARCHIVED) and any(d.number.startswith("OUT-") for d in typed)
    assert db.session.query(Document).count() == len(demo.DOCUMENTS) + len(demo.ARCHIVED) + 2 + 4 + 1
    assert db.session.query(Attachment).count() == len(demo.DOCUMENTS) + len(demo.ARCHIVED) + 2 + 4


# --- routing ---------------------------------------------------------------------------------------------------

office = test_chasing.office  # a fixture: an office with departments, their heads and staff


def test_routing_remind_once_sends_what_is_due_for_cron(app, run, office, sender, fake_clock):
    test_chasing.task_for(office, sender, ("user", office.ana.id), date(2026, 3, 3))
    result = run("routing", "remind", "--once")
    assert result.exit_code == 0
    assert result.output == "1 due-soon reminder(s), 0 overdue reminder(s), 0 escalation(s) sent\n"
    again = run("routing", "remind", "--once")
    assert again.output.startswith("0 due-soon reminder(s)")
    assert len(test_chasing.received(office.ana, "task_due_soon")) == 1
    help_text = run("routing", "remind", "--help").output
    assert "--once" in help_text and "routing remind --once" in help_text and "REMINDERS off" in help_text
