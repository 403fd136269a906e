"""Register numbers: patterns built from tokens, and allocation that never leaves a gap or a duplicate.

A pattern is literal text with tokens in braces:

=============  ==============================================================
``{year}``     the four-digit year of registration, in the office's time zone
``{seq}``      the sequence number, without padding (``71``)
``{seq:N}``    the sequence number zero-padded to N digits (``{seq:6}`` -> ``000123``)
``{dept}``     the code of the series' department (e.g. the issuing department)
``{code}``     the code of the series itself
=============  ==============================================================

So ``IN-{year}-{seq:6}`` gives ``IN-2026-000123``, ``国办函〔{year}〕{seq}号`` gives ``国办函〔2026〕71号``
and ``{year}-{dept}-{seq:4}`` gives ``2026-DG-0042``. The sequence restarts every year.

The number is taken in the same transaction that saves the document, by one statement that inserts or increments
the counter of (series, year) and returns the new value. On PostgreSQL the statement locks the counter row until the
transaction ends; on SQLite the transaction holds the write lock from its start (``BEGIN IMMEDIATE``). A failed
save rolls the counter back with it, so a number is never lost, and two clerks never get the same one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite

from docstore.errors import N_, Msg, ValidationFailed
from docstore.extensions import db

TOKEN = re.compile(r"\{([a-z]+)(?::(\d+))?\}")
KNOWN_TOKENS = {"year", "seq", "dept", "code"}
MAX_PADDING = 12


@dataclass(frozen=True)
class Pattern:
    """A checked number pattern."""

    text: str

    def format(self, *, year: int, seq: int, dept: str = "", code: str = "") -> str:
        """Return the number for these values."""

        def replace(match: re.Match) -> str:
            name, width = match.group(1), match.group(2)
            if name == "year":
                return f"{year:04d}"
            if name == "seq":
                return str(seq).zfill(int(width)) if width else str(seq)
            return dept if name == "dept" else code

        return TOKEN.sub(replace, self.text)

    @property
    def uses_department(self) -> bool:
        return any(match.group(1) == "dept" for match in TOKEN.finditer(self.text))


def parse_pattern(text: str) -> Pattern:
    """Return `text` as a Pattern, or raise ValidationFailed saying what is wrong with it."""
    text = (text or "").strip()
    problem = None
    tokens = [(match.group(1), match.group(2)) for match in TOKEN.finditer(text)]
    names = [name for name, _ in tokens]
    leftover = TOKEN.sub("", text)
    if not text:
        problem = Msg(N_("Enter a number pattern, for example IN-{year}-{seq:6}."))
    elif len(text) > 100:
        problem = Msg(N_("Use at most %(n)s characters."), n=100)
    elif unknown := sorted(set(names) - KNOWN_TOKENS):
        problem = Msg(N_("Unknown token {%(token)s}. Use {year}, {seq}, {seq:6}, {dept} or {code}."), token=unknown[0])
    elif "{" in leftover or "}" in leftover:
        problem = Msg(N_("A brace is not closed or not part of a token."))
    elif names.count("seq") != 1:
        problem = Msg(N_("The pattern needs exactly one {seq} (or {seq:6} for zero padding)."))
    elif names.count("year") != 1:
        problem = Msg(N_("The pattern needs exactly one {year}: the sequence restarts every year."))
    elif any(name == "seq" and width and not 1 <= int(width) <= MAX_PADDING for name, width in tokens):
        problem = Msg(N_("Zero padding must be from 1 to %(n)s digits."), n=MAX_PADDING)
    elif any(width and name != "seq" for name, width in tokens):
        problem = Msg(N_("Only {seq} takes a width."))
    if problem is not None:
        raise ValidationFailed({"pattern": problem})
    return Pattern(text)


def office_year(at: datetime, timezone: str) -> int:
    """Return the year of the instant `at` in the office's time zone."""
    return at.astimezone(ZoneInfo(timezone)).year


def office_date(at: datetime, timezone: str) -> date:
    """Return the calendar day of the instant `at` in the office's time zone."""
    return at.astimezone(ZoneInfo(timezone)).date()


def office_day_start(day: date, timezone: str) -> datetime:
    """Return the instant the calendar day `day` begins in the office's time zone (aware)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone))


def next_sequence(counter_table, series_id: int, year: int) -> int:
    """Increment and return the counter of (series, year) in the current transaction, creating it at 1."""
    return increment_counter(counter_table, series_id=series_id, year=year)


def increment_counter(counter_table, **key) -> int:
    """Increment and return the `last_value` of the row of `counter_table` with the primary `key`, creating it at 1.

    One statement inserts or increments, so the row stays locked until the transaction ends: two writers take
    consecutive values, and a rollback gives the value back.
    """
    statement = _upsert(counter_table, key, 1, counter_table.c.last_value + 1)
    return db.session.execute(statement.returning(counter_table.c.last_value)).scalar_one()


def raise_counter(counter_table, value: int, **key) -> None:
    """Set the counter of `counter_table` at the primary `key` to at least `value`, creating it (an import moves the
    counters past the numbers it brings, so the next number taken follows them)."""
    dialect = db.session.get_bind().dialect.name
    highest = func.max if dialect == "sqlite" else func.greatest  # SQLite's two-argument max() is the greatest
    db.session.execute(_upsert(counter_table, key, value, highest(counter_table.c.last_value, value)))


def _upsert(counter_table, key: dict, value: int, on_conflict):
    """Return the statement that inserts the counter at `key` with `value`, or sets it to `on_conflict`."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(counter_table)
        .values(**key, last_value=value)
        .on_conflict_do_update(index_elements=[counter_table.c[name] for name in key], set_={"last_value": on_conflict})
    )
