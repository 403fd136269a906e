"""Fixtures: a real database (a SQLite file, or PostgreSQL when DOCSTORE_TEST_POSTGRES_URL is set), a real app.

The schema is built once per session by the real migrations into a template (a SQLite file, or a PostgreSQL
database), and every test gets its own copy (a file copy, or CREATE DATABASE ... TEMPLATE), dropped afterwards.
With DOCSTORE_TEST_POSTGRES_URL set, an unreachable server fails the run: nothing is skipped for a missing
dependency.
"""

from __future__ import annotations

import os
import secrets
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from app import create_app
from docstore import accounts, audit, clock, correspondents, extraction, i18n
from docstore.extensions import db

POSTGRES_URL = os.environ.get("DOCSTORE_TEST_POSTGRES_URL", "")
PASSWORD = "correct-horse-battery"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + POSTGRES_URL if POSTGRES_URL else 'SQLite'}"


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """Compile the catalogues, as `make setup` does, so that translated pages are tested for real."""
    i18n.compile_catalogs()


def _settings(database_url: str) -> dict:
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "SECURE_COOKIES": False,
        "WTF_CSRF_ENABLED": False,
        "TESTING": True,
        "EXTRACTION_WORKER": False,  # tests drain the queue themselves (see test_registry)
        "SEARCH_WRITER": False,  # tests apply the index queue themselves (the `index_now` fixture)
        "REMINDERS": False,  # tests send reminders themselves (tests/test_chasing.py starts the scheduler once)
        "PASSWORD_MIN_LENGTH": 10,
    }


def _migrate(database_url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(_settings(database_url), instance_path=str(instance))
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Build a migrated template database once; return (kind, template) for `database_url` to copy."""
    base = tmp_path_factory.mktemp("db")
    if POSTGRES_URL:
        server = make_url(POSTGRES_URL)
        name = f"docstore_tpl_{secrets.token_hex(4)}"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except sa.exc.OperationalError as exc:
            pytest.exit(f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc}", returncode=3)
        _migrate(server.set(database=name).render_as_string(hide_password=False), base / "instance")
        yield ("postgresql", (admin, server, name))
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    else:
        template = base / "template.sqlite3"
        _migrate(f"sqlite:///{template}", base / "instance")
        yield ("sqlite", template)


@pytest.fixture
def database_url(database_template, tmp_path):
    """Return the URL of a fresh copy of the migrated template database, for this test alone."""
    kind, source = database_template
    if kind == "sqlite":
        target = tmp_path / "docstore.sqlite3"
        shutil.copyfile(source, target)
        yield f"sqlite:///{target}"
        return
    admin, server, template = source
    name = f"docstore_test_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(database_url):
    """The settings of the test app; a test may change them before asking for `app`."""
    return _settings(database_url)


@pytest.fixture
def app(settings, tmp_path):
    application = create_app(settings, instance_path=str(tmp_path / "instance"))
    with application.app_context():
        yield application
        index = application.extensions.get("docstore_search")
        if index is not None:
            index.close()  # its warm searcher holds the index files open
        db.session.remove()
        db.engine.dispose()


class Browser(FlaskClient):
    """A test client whose every request runs in an app context of its own, as in production.

    The `app` fixture keeps an app context pushed for the whole test, and a request reuses it when it finds one:
    `g` would then carry the signed-in user (Flask-Login caches it there) and the language from one request, and one
    client, to the next. Sessions, sign-outs and language choices could not be tested.
    """

    def open(self, *args, **kwargs):
        db.session.commit()  # end the test's own transaction, and see the request's changes afterwards
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    """A client that behaves like a browser: cookies, and a fresh app context per request."""
    return Browser(app, app.response_class)


@pytest.fixture
def make_user(app):
    """Create a user (password `PASSWORD`) through the real service and return it."""

    def make(username: str, *roles: str, **fields):
        fields.setdefault("full_name", username.title())
        user = accounts.create_user(
            audit.SYSTEM,
            username=username,
            password=fields.pop("password", PASSWORD),
            password_min_length=10,
            roles=roles,
            **fields,
        )
        return user

    return make


@pytest.fixture
def sign_in(client):
    """Sign `client` in as `username`; return the response."""

    def do(username: str, password: str = PASSWORD, **extra):
        return client.post("/sign-in", data={"username": username, "password": password, **extra})

    return do


@pytest.fixture
def browse(app):
    """Return `open_as(user)`: a browser of that user's own, signed in (several people act in one test)."""

    def open_as(user) -> Browser:
        browser = Browser(app, app.response_class)
        response = browser.post("/sign-in", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.text
        return browser

    return open_as


@pytest.fixture
def admin(make_user):
    return make_user("admin", "admin", full_name="Ada Admin")


@pytest.fixture
def clerk(make_user):
    """A clerk, Lucía, with clearance 1 (a test file may override this with its own `clerk`)."""
    return make_user("lucia", "clerk", clearance=1)


@pytest.fixture
def sender(app):
    """A correspondent to register documents from: the Ministerio de Hacienda."""
    return correspondents.create_correspondent(audit.SYSTEM, name="Ministerio de Hacienda", code="E05068001")


@pytest.fixture
def store(app):
    """The app's file store, where registered attachments are kept."""
    return extraction.file_store(app.config)


@pytest.fixture
def token_for(app):
    """Return an 'Authorization' header for a new API token of `user`."""

    def make(user, days: int = 30) -> dict:
        _token, secret = accounts.create_token(audit.SYSTEM, user.id, "tests", days)
        return {"Authorization": f"Bearer {secret}"}

    return make


class FakeClock:
    """A clock that stands still until moved."""

    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def fake_clock(monkeypatch):
    """Replace the application clock; the test moves it with `fake_clock.advance(minutes=...)`."""
    fake = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(clock, "now", fake)
    return fake


@pytest.fixture(scope="session")
def artifacts_dir():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def index_now(app):
    """Return a function that brings the search index up to date now, as the background writer would."""
    from docstore import indexing

    def run() -> None:
        writer = indexing.writer_for(app)
        assert writer.acquire(), "the search writer's lease is held by someone else"
        try:
            if writer.needs_rebuild():
                writer.rebuild()
            writer.drain()
        finally:
            writer.release()

    return run
