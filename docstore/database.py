"""Database engine behaviour that SQLAlchemy does not set by itself.

SQLite: WAL journal, a busy timeout, foreign keys on, and transactions that take the write lock at BEGIN
(``BEGIN IMMEDIATE``) unless the caller said it only reads. A deferred transaction that reads and then writes fails
at once with "database is locked" when another writer got there first; an immediate one waits its turn instead.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

_read_only: contextvars.ContextVar[bool] = contextvars.ContextVar("docstore_read_only", default=False)


def set_read_only(value: bool) -> contextvars.Token:
    """Declare whether transactions begun from now on in this context only read."""
    return _read_only.set(value)


def reset_read_only(token: contextvars.Token) -> None:
    """Undo `set_read_only`."""
    _read_only.reset(token)


@contextmanager
def writing() -> Iterator[None]:
    """Let the transactions begun inside take the write lock at once, even in a read-only request."""
    token = _read_only.set(False)
    try:
        yield
    finally:
        _read_only.reset(token)


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Install the per-connection settings of `engine` (a no-op for databases other than SQLite)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN" if _read_only.get() else "BEGIN IMMEDIATE")
