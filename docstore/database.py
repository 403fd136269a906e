"""Database engine behaviour that SQLAlchemy does not set by itself.

SQLite: WAL journal, a busy timeout, foreign keys on, and a choice of how a transaction begins. A deferred
transaction that reads and then writes fails at once with "database is locked" when another writer got there
first; an immediate one (``BEGIN IMMEDIATE``) takes the write lock at its start and waits its turn instead. So the
code that is about to change something says so — the web layer for every POST/PUT/PATCH/DELETE request, the command
line for its commands, the extraction worker for its claims — with `writing()` or `set_immediate`, and everything
else reads in deferred transactions, which never block a writer.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine, Row

from docstore.extensions import db

T = TypeVar("T")

_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("docstore_immediate", default=False)


def set_immediate(value: bool) -> contextvars.Token:
    """Declare whether transactions begun from now on in this context take the write lock at once."""
    return _immediate.set(value)


def reset_immediate(token: contextvars.Token) -> None:
    """Undo `set_immediate`."""
    _immediate.reset(token)


@contextmanager
def writing() -> Iterator[None]:
    """Let the transactions begun inside take the write lock at their start."""
    token = _immediate.set(True)
    try:
        yield
    finally:
        _immediate.reset(token)


def write_after_reads(step: Callable[[], T]) -> T:
    """Run `step` (a service that writes and commits, such as logging a view) in a transaction that takes the write
    lock at its start, ending the reads made so far first: on SQLite a deferred transaction that has read cannot
    always begin to write, and fails at once instead of waiting."""
    db.session.commit()
    with writing():
        return step()


def claim_oldest(model, claimable, order_by, columns, values: dict) -> Row | None:
    """Claim one row of a work queue: the first row of `model` that `claimable` allows, in `order_by` order, is
    updated with `values` in one write transaction; return its `columns` (the first is the id), or None when none is.

    The update repeats the test: on PostgreSQL the read does not lock, so two workers may read the same row, and
    the one whose update finds it taken tries the next. The caller's transaction is ended first.
    """
    while True:
        db.session.commit()
        with writing():
            row = db.session.execute(select(*columns).where(claimable).order_by(*order_by).limit(1)).first()
            if row is None:
                db.session.commit()
                return None
            claimed = db.session.execute(
                update(model)
                .where(model.id == row[0], claimable)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
        if claimed.rowcount == 1:
            return row


def _lower(value):
    return value.lower() if isinstance(value, str) else value


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
        # SQLite's own lower() folds only A-Z: searches must match "Ávila" with "ávila" as PostgreSQL does
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")
