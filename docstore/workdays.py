"""Working days: the office's working week, its calendar of exceptions, and deadlines counted in working days.

A day works when its weekday is in the working week (the WORK_WEEK setting), unless the calendar says otherwise
for that date: a *holiday* does not work although its weekday does, and a *make-up working day* (China's 调休)
works although its weekday does not.

Deadlines follow the rule of Spain's Ley 39/2015, art. 31, which Chinese offices apply alike: something received
on a non-working day counts from the next working day, and a deadline of n working days is the n-th working day
after that (effective) start day. So a document received on Friday with 1 working day is due on Monday, and one
received on Saturday is due on Tuesday.

A `Calendar` reads each year's exceptions once, with one query, the first time it needs them: create one for a
request or a job and ask it as many questions as needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from docstore import audit, clock, numbering
from docstore.errors import N_, Msg, NotFound, ValidationFailed
from docstore.extensions import db
from docstore.models import CALENDAR_DAY_KINDS, URGENCIES, CalendarDay

#: The weekdays as the WORK_WEEK setting writes them, Monday first (ISO weekday = position + 1).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Monday to Friday, as ISO weekday numbers.
DEFAULT_WEEK = frozenset({1, 2, 3, 4, 5})
#: The default deadlines in working days by urgency (the DEADLINE_DAYS_* settings change them).
DEFAULT_DEADLINE_DAYS = {"normal": 15, "urgent": 5, "extra_urgent": 1}
#: The longest deadline accepted, in working days (about fourteen years): anything more is a mistake.
MAX_DAYS = 3650
#: The years a calendar day may fall in.
FIRST_YEAR, LAST_YEAR = 1900, 2999
#: The longest run of non-working days tolerated before the calendar counts as broken.
MAX_NON_WORKING_RUN = 366
#: The longest text an import reads (a year of days with long names and comments is a tenth of it).
MAX_IMPORT_CHARS = 100_000
NAME_LENGTH = 100
#: The words an import reads for the kind of a day, in the three languages of the pages (compared case-insensitively).
#: 调休 is left out on purpose: it names both the day off and the make-up day of a swap.
KIND_WORDS = {
    "holiday": "holiday",
    "festivo": "holiday",
    "休": "holiday",
    "假": "holiday",
    "workday": "workday",
    "laborable": "workday",
    "班": "workday",
    "补班": "workday",
}
LINE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\s*(?:\.\.|–|—)\s*(\d{4}-\d{2}-\d{2}))?(?:\s+(.*))?$")


# --- settings --------------------------------------------------------------------------------------------------


def parse_week(text: str) -> frozenset[int]:
    """Return the working weekdays written as "mon,tue,wed,thu,fri" as ISO weekday numbers (Monday is 1).

    Raise ValueError saying what is wrong: an unknown or repeated day, or no day at all.
    """
    names = [name.strip().lower() for name in (text or "").split(",") if name.strip()]
    unknown = [name for name in names if name not in WEEKDAYS]
    if unknown:
        raise ValueError(f"unknown day {unknown[0]!r}: use {', '.join(WEEKDAYS)}, separated by commas")
    repeated = sorted({name for name in names if names.count(name) > 1}, key=WEEKDAYS.index)
    if repeated:
        raise ValueError(f"{repeated[0]!r} is given twice")
    if not names:
        raise ValueError("name at least one working day, for example mon,tue,wed,thu,fri")
    return frozenset(WEEKDAYS.index(name) + 1 for name in names)


def week_names(week: Iterable[int]) -> list[str]:
    """Return ISO weekday numbers as the WORK_WEEK setting writes them, Monday first."""
    return [WEEKDAYS[number - 1] for number in sorted(week)]


def _check_days(days: int, what: str = "days") -> int:
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValueError(f"{what}: expected a whole number of working days, got {days!r}")
    if not 0 <= days <= MAX_DAYS:
        raise ValueError(f"{what}: expected 0 to {MAX_DAYS} working days, got {days}")
    return days


@dataclass(frozen=True)
class Rules:
    """The office's working week, its default deadlines by urgency, and its time zone."""

    week: frozenset[int] = DEFAULT_WEEK
    deadline_days: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DEADLINE_DAYS))
    timezone: str = "UTC"


def rules_from(settings: Mapping) -> Rules:
    """Return the rules that `settings` (the app's configuration) set; raise ValueError naming a bad setting."""
    try:
        week = parse_week(settings["WORK_WEEK"])
    except ValueError as exc:
        raise ValueError(f"WORK_WEEK: {exc}") from exc
    deadline_days = {}
    for urgency in URGENCIES:
        name = f"DEADLINE_DAYS_{urgency.upper()}"
        deadline_days[urgency] = _check_days(settings[name], name)
    timezone = settings["OFFICE_TIMEZONE"]
    try:
        ZoneInfo(timezone)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"OFFICE_TIMEZONE: unknown time zone {timezone!r}") from exc
    return Rules(week, deadline_days, timezone)


def calendar_for(settings: Mapping) -> Calendar:
    """Return a calendar with the rules that `settings` (the app's configuration) set."""
    return Calendar(rules_from(settings))


# --- arithmetic ------------------------------------------------------------------------------------------------


class Calendar:
    """The working week and the calendar's exceptions, read a year at a time and kept for this object's life."""

    def __init__(self, rules: Rules | None = None):
        self.rules = rules or Rules()
        if not self.rules.week:
            raise ValueError("the working week has no working day")
        self._years: dict[int, dict[date, Special]] = {}

    # The exceptions of a year, loaded once --------------------------------------------------------------------

    def _load(self, first: int, last: int) -> None:
        """Read the exceptions of the years `first` to `last` not read yet, with one query."""
        missing = [year for year in range(first, last + 1) if year not in self._years]
        if not missing:
            return
        low, high = min(missing), max(missing)
        query = select(CalendarDay.day, CalendarDay.kind, CalendarDay.name).where(
            CalendarDay.day >= date(low, 1, 1), CalendarDay.day <= date(high, 12, 31)
        )
        loaded: dict[int, dict[date, Special]] = {year: {} for year in range(low, high + 1)}
        for day, kind, name in db.session.execute(query):
            loaded[day.year][day] = Special(day, kind, name)
        for year, rows in loaded.items():
            self._years.setdefault(year, rows)

    def exceptions(self, year: int) -> dict[date, Special]:
        """Return the calendar's exceptions of `year` by date."""
        self._load(year, year)
        return self._years[year]

    def exception(self, day: date) -> Special | None:
        """Return the calendar's exception on `day`, if any."""
        return self.exceptions(day.year).get(day)

    # Questions -----------------------------------------------------------------------------------------------

    def in_week(self, day: date) -> bool:
        """Return True when the weekday of `day` is a working day of the week (exceptions aside)."""
        return day.isoweekday() in self.rules.week

    def is_working_day(self, day: date) -> bool:
        """Return True when the office works on `day`."""
        special = self.exception(day)
        if special is not None:
            return special.working
        return self.in_week(day)

    def next_working_day(self, day: date) -> date:
        """Return `day` when the office works on it, else the first working day after it."""
        for offset in range(MAX_NON_WORKING_RUN):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day in the {MAX_NON_WORKING_RUN} days from {day.isoformat()}: check the calendar")

    def add_working_days(self, start: date, days: int) -> date:
        """Return the `days`-th working day after `start`, counted from the next working day when `start` is not one.

        With 0 days that is the (effective) start day itself. Raise ValueError for fewer than 0 or more than
        MAX_DAYS days.
        """
        _check_days(days)
        day = self.next_working_day(start)
        remaining = days
        while remaining:
            day = self.next_working_day(day + timedelta(days=1))
            remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Return how many working days lie after `start` up to and including `end` (negative when `end` is earlier).

        "Due in N working days" is `working_days_between(today, deadline)`; "N working days overdue" is
        `working_days_between(deadline, today)`. It counts the same days as `add_working_days` when `start` works.
        """
        if end < start:
            return -self.working_days_between(end, start)
        span = (end - start).days
        if span > MAX_DAYS * 7:
            raise ValueError(f"the span from {start.isoformat()} to {end.isoformat()} is too long")
        weeks, rest = divmod(span, 7)
        count = weeks * len(self.rules.week)
        count += sum(1 for offset in range(1, rest + 1) if self.in_week(start + timedelta(days=offset)))
        self._load(start.year, end.year)
        for year in range(start.year, end.year + 1):
            for day, special in self._years[year].items():
                if start < day <= end and special.working != self.in_week(day):
                    count += 1 if special.working else -1
        return count

    def default_deadline(self, received: datetime | date, urgency: str) -> date:
        """Return the default deadline of a document of `urgency` received at `received`.

        A moment is taken on its calendar day in the office's time zone (naive datetimes are UTC, as the database
        returns them); a day received that is not a working day counts from the next working day.
        """
        if urgency not in self.rules.deadline_days:
            raise ValueError(f"unknown urgency {urgency!r}: use {', '.join(self.rules.deadline_days)}")
        if isinstance(received, datetime):
            received = numbering.office_date(clock.as_utc(received), self.rules.timezone)
        return self.add_working_days(received, self.rules.deadline_days[urgency])

    def deadline(self, start: date | None, days: int | None = None, urgency: str | None = None) -> Deadline:
        """Return the deadline `days` working days after `start`, or the default one for `urgency`.

        Raise ValidationFailed (fields "from", "days", "urgency") when the question cannot be answered.
        """
        errors: dict[str, Msg] = {}
        if start is None:
            errors["from"] = Msg(N_("Enter the date to count from."))
        elif not FIRST_YEAR <= start.year <= LAST_YEAR:
            errors["from"] = _year_range()
        if days is None and not urgency:
            errors["days"] = Msg(N_("Enter a number of working days or choose an urgency."))
        elif days is not None and urgency:
            errors["urgency"] = Msg(N_("Give the working days or the urgency, not both."))
        elif urgency and urgency not in self.rules.deadline_days:
            errors["urgency"] = Msg(N_("Use one of: %(choices)s."), choices=", ".join(self.rules.deadline_days))
        elif days is not None and not 0 <= days <= MAX_DAYS:
            errors["days"] = Msg(N_("Enter a whole number from 0 to %(n)s."), n=MAX_DAYS)
        if errors:
            raise ValidationFailed(errors)
        if urgency:
            days = self.rules.deadline_days[urgency]
        return Deadline(start, self.next_working_day(start), days, urgency or None, self.add_working_days(start, days))

    def today(self) -> date:
        """Return today's date in the office's time zone."""
        return numbering.office_date(clock.now(), self.rules.timezone)

    # The calendar page -----------------------------------------------------------------------------------------

    def months(self, year: int) -> list[Month]:
        """Return the twelve months of `year` as grids of weeks, Monday first, with each day's working status."""
        check_year(year)
        exceptions = self.exceptions(year)
        grids = []
        for month in range(1, 13):
            first = date(year, month, 1)
            following = date(year + (month == 12), month % 12 + 1, 1)
            cells: list[Day | None] = [None] * (first.isoweekday() - 1)
            day = first
            while day < following:
                special = exceptions.get(day)
                working = special.working if special is not None else self.in_week(day)
                cells.append(Day(day, working, self.in_week(day), special))
                day += timedelta(days=1)
            cells += [None] * (-len(cells) % 7)
            grids.append(Month(year, month, [cells[i : i + 7] for i in range(0, len(cells), 7)]))
        return grids


@dataclass(frozen=True)
class Deadline:
    """A deadline worked out: the day asked about, the working day it counts from, the working days, the date due."""

    start: date
    counts_from: date
    days: int
    urgency: str | None
    due: date


@dataclass(frozen=True)
class Special:
    """A calendar exception as the arithmetic reads it (a copy: it outlives the transaction it was read in)."""

    day: date
    kind: str
    name: str

    @property
    def working(self) -> bool:
        return self.kind == "workday"


@dataclass(frozen=True)
class Day:
    """A day of a month grid: whether the office works, whether its weekday does, and its exception if any."""

    day: date
    working: bool
    in_week: bool
    special: Special | None

    @property
    def kind(self) -> str:
        """Return "holiday", "workday" (a make-up working day), "rest" (a day off of the week) or "working"."""
        if self.special is not None:
            return self.special.kind
        return "working" if self.working else "rest"


@dataclass(frozen=True)
class Month:
    """A month as a grid: weeks of seven days, Monday first, None outside the month."""

    year: int
    month: int
    weeks: list[list[Day | None]]


def _year_range() -> Msg:
    return Msg(N_("Use a year from %(low)s to %(high)s."), low=FIRST_YEAR, high=LAST_YEAR)


def check_year(year: int) -> int:
    """Return `year` when the calendar covers it; else raise ValidationFailed."""
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed({"year": _year_range()})
    return year


# --- changing the calendar -------------------------------------------------------------------------------------


def list_days(year: int) -> list[CalendarDay]:
    """Return the calendar's exceptions of `year`, in date order."""
    check_year(year)
    query = select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    return list(db.session.execute(query.order_by(CalendarDay.day)).scalars())


def get_day(day: date) -> CalendarDay:
    """Return the calendar's exception on `day`, or raise NotFound."""
    row = db.session.execute(select(CalendarDay).where(CalendarDay.day == day)).scalar_one_or_none()
    if row is None:
        raise NotFound(Msg(N_("The calendar has nothing on %(day)s."), day=day.isoformat()))
    return row


def _validated(day, kind, name, week: Iterable[int]) -> dict:
    """Return the checked values of a calendar day, or raise ValidationFailed with every problem.

    A make-up working day on a weekday of the working `week` would change nothing, so it is refused. A holiday on
    a day off of the week is kept (China names the weekend days of its holiday weeks): it changes nothing either,
    but the calendar shows its name.
    """
    errors: dict[str, Msg] = {}
    if not isinstance(day, date) or isinstance(day, datetime):
        errors["day"] = Msg(N_("Enter a date."))
    elif not FIRST_YEAR <= day.year <= LAST_YEAR:
        errors["day"] = _year_range()
    elif kind == "workday" and day.isoweekday() in week:
        errors["day"] = Msg(
            N_("The office works on %(day)s already: a make-up working day is for a day off of the working week."),
            day=day,
        )
    if kind not in CALENDAR_DAY_KINDS:
        errors["kind"] = Msg(N_("Choose holiday or make-up working day."))
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = Msg(N_("Enter the name, for example New Year's Day."))
    elif len(name) > NAME_LENGTH:
        errors["name"] = Msg(N_("Use at most %(n)s characters."), n=NAME_LENGTH)
    if errors:
        raise ValidationFailed(errors)
    return {"day": day, "kind": kind, "name": name}


def _save(ctx: audit.Context, values: dict, current: CalendarDay | None) -> tuple[CalendarDay, bool]:
    """Add or change one day in the current transaction, with its audit event; return it and whether it is new."""
    if current is None:
        row = CalendarDay(**values)
        db.session.add(row)
        db.session.flush()
        audit.record_event(ctx, "calendar_day.create", "calendar_day", values["day"].isoformat(), after=row.as_dict())
        return row, True
    audit.record_update(ctx, current, values, "calendar_day.update", "calendar_day")
    return current, False


def set_day(
    ctx: audit.Context, day: date, kind: str, name: str, *, week: Iterable[int] = DEFAULT_WEEK
) -> tuple[CalendarDay, bool]:
    """Make `day` a holiday or a make-up working day named `name` (changing it if the calendar has it already).

    `week` is the office's working week (`Rules.week`): a make-up working day on one of its weekdays is refused.
    Return the day and True when it is new.
    """
    values = _validated(day, kind, name, week)
    current = db.session.execute(select(CalendarDay).where(CalendarDay.day == day)).scalar_one_or_none()
    row, created = _save(ctx, values, current)
    db.session.commit()
    return row, created


def remove_day(ctx: audit.Context, day: date) -> None:
    """Remove the calendar's exception on `day`: its weekday's rule applies again."""
    row = get_day(day)
    _remove(ctx, row)
    db.session.commit()


def _remove(ctx: audit.Context, row: CalendarDay) -> None:
    before = row.as_dict()
    db.session.delete(row)
    audit.record_event(ctx, "calendar_day.delete", "calendar_day", row.day.isoformat(), before=before)


class LinesRefused(ValidationFailed):
    """Lines of an import that cannot be read; `lines` holds (line number, line, message) for each. Nothing saved."""

    def __init__(self, lines: list[tuple[int, str, Msg]]):
        self.lines = lines
        errors: dict[str, list[Msg]] = {}
        for number, _text, message in lines:
            errors.setdefault(f"line {number}", []).append(message)
        super().__init__({key: Msg.join(messages) for key, messages in errors.items()})
        self.msg = Msg(
            N_("Nothing was saved. Lines to correct: %(count)s."), count=len({number for number, *_ in lines})
        )


@dataclass(frozen=True)
class ImportOutcome:
    """What an import changed: the days added, changed, left as they were, and removed."""

    added: int
    changed: int
    unchanged: int
    removed: int


def parse_lines(
    year: int, text: str, week: Iterable[int] = DEFAULT_WEEK
) -> tuple[list[dict], list[tuple[int, str, Msg]]]:
    """Return the days that the lines of `text` give for `year`, and each problem as (line number, line, message).

    A line is ``DATE [KIND] NAME`` or ``DATE..DATE [KIND] NAME`` (every day of the range, both ends included),
    where KIND is a holiday (the default) or a make-up working day, written in any of the languages of the pages
    (see KIND_WORDS, for example ``workday``, ``laborable`` or ``班``). Empty lines and lines starting with ``#``
    are skipped. `week` is the office's working week, as for `set_day`.
    """
    check_year(year)
    days: list[dict] = []
    problems: list[tuple[int, str, Msg]] = []
    seen: dict[date, int] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        if match is None:
            problems.append((number, line, Msg(N_("Start the line with a date written as YYYY-MM-DD."))))
            continue
        first_text, last_text, rest = match.groups()
        try:
            first = date.fromisoformat(first_text)
            last = date.fromisoformat(last_text) if last_text else first
        except ValueError:
            problems.append((number, line, Msg(N_("This date does not exist."))))
            continue
        kind, name = "holiday", (rest or "").strip()
        words = name.split(maxsplit=1)
        if words and words[0].casefold() in KIND_WORDS:
            kind, name = KIND_WORDS[words[0].casefold()], words[1] if len(words) > 1 else ""
        if first.year != year or last.year != year:
            problems.append((number, line, Msg(N_("The date is not in %(year)s."), year=year)))
            continue
        if last < first:
            problems.append((number, line, Msg(N_("The range ends before it starts."))))
            continue
        try:
            values = _validated(first, kind, name, week)
            if kind == "workday":  # every day of the range, not only the first, must be a day off of the week
                for day in _range(first, last):
                    _validated(day, kind, name, week)
        except ValidationFailed as exc:
            problems.extend((number, line, message) for message in exc.errors.values())
            continue
        for day in _range(first, last):
            if day in seen:
                problems.append(
                    (number, line, Msg(N_("%(day)s is already on line %(line)s."), day=day.isoformat(), line=seen[day]))
                )
                break
            seen[day] = number
            days.append(values | {"day": day})
    return days, problems


def _range(first: date, last: date) -> Iterable[date]:
    """Yield the days from `first` to `last`, both included."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def import_days(
    ctx: audit.Context, year: int, text: str, replace: bool = False, *, week: Iterable[int] = DEFAULT_WEEK
) -> ImportOutcome:
    """Add or change the days that the lines of `text` give for `year` (see `parse_lines`), each one audited.

    With `replace`, the year's other days are removed. All or nothing: when a line is wrong, nothing is saved and
    LinesRefused lists every problem.
    """
    if len(text or "") > MAX_IMPORT_CHARS:
        raise ValidationFailed({"lines": Msg(N_("Import at most %(n)s characters at a time."), n=MAX_IMPORT_CHARS)})
    days, problems = parse_lines(year, text, week)
    if problems:
        raise LinesRefused(problems)
    if not days and not replace:
        raise ValidationFailed({"lines": Msg(N_("Enter one day a line, for example 2026-10-01 National Day."))})
    current = {row.day: row for row in list_days(year)}
    added = changed = unchanged = removed = 0
    for values in days:
        row = current.pop(values["day"], None)
        if row is not None and (row.kind, row.name) == (values["kind"], values["name"]):
            unchanged += 1
            continue
        _, created = _save(ctx, values, row)
        added, changed = added + created, changed + (not created)
    if replace:
        for row in current.values():
            _remove(ctx, row)
            removed += 1
    db.session.commit()
    return ImportOutcome(added, changed, unchanged, removed)
