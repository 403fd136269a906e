"""Working days: the week, holidays and make-up days, deadline arithmetic, and changing the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app import create_app
from docstore import audit, workdays
from docstore.errors import NotFound, ValidationFailed
from docstore.extensions import db
from docstore.models import AuditEvent, CalendarDay
from docstore.workdays import Calendar, Rules, parse_week

SYSTEM = audit.SYSTEM
D = date.fromisoformat


def holiday(day: str, name: str = "Holiday") -> None:
    workdays.set_day(SYSTEM, D(day), "holiday", name)


def makeup(day: str, name: str = "Make-up day") -> None:
    workdays.set_day(SYSTEM, D(day), "workday", name)


@pytest.fixture
def national_day(app):
    """China's National Day week of 2026: 1–7 October off, Saturday 10 October worked instead."""
    for offset in range(7):
        holiday((date(2026, 10, 1) + timedelta(days=offset)).isoformat(), "国庆节")
    makeup("2026-10-10", "国庆节调休")


@pytest.fixture
def calendar_queries(app):
    """Count the statements that read the calendar's table."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if "calendar_day" in statement and statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    yield statements
    sa.event.remove(db.engine, "before_cursor_execute", count)


# --- the working week ------------------------------------------------------------------------------------------


def test_weekdays_work_and_weekends_do_not(app):
    calendar = Calendar()
    week = [D("2026-10-12") + timedelta(days=offset) for offset in range(7)]  # Monday to Sunday
    assert [calendar.is_working_day(day) for day in week] == [True] * 5 + [False] * 2


def test_a_friday_plus_one_working_day_is_the_monday(app):
    assert Calendar().add_working_days(D("2026-10-16"), 1) == D("2026-10-19")


def test_a_start_on_a_saturday_counts_from_the_monday(app):
    calendar = Calendar()
    assert calendar.next_working_day(D("2026-10-17")) == D("2026-10-19")
    assert calendar.add_working_days(D("2026-10-17"), 0) == D("2026-10-19")
    assert calendar.add_working_days(D("2026-10-17"), 1) == D("2026-10-20")
    assert calendar.add_working_days(D("2026-10-18"), 5) == D("2026-10-26")


def test_zero_working_days_is_the_start_day_when_it_works(app):
    assert Calendar().add_working_days(D("2026-10-14"), 0) == D("2026-10-14")
    assert Calendar().next_working_day(D("2026-10-14")) == D("2026-10-14")


def test_a_sunday_to_thursday_week(app):
    calendar = Calendar(Rules(week=parse_week("sun,mon,tue,wed,thu")))
    assert calendar.is_working_day(D("2026-10-18"))  # Sunday
    assert not calendar.is_working_day(D("2026-10-16"))  # Friday
    assert calendar.add_working_days(D("2026-10-15"), 1) == D("2026-10-18")  # Thursday -> Sunday
    assert calendar.add_working_days(D("2026-10-16"), 0) == D("2026-10-18")  # received Friday: counts from Sunday
    assert calendar.working_days_between(D("2026-10-15"), D("2026-10-22")) == 5


def test_the_week_setting_is_read_in_any_case_and_order():
    assert parse_week(" Fri, mon ,TUE") == frozenset({1, 2, 5})
    assert workdays.week_names(parse_week("sun,mon")) == ["mon", "sun"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "at least one"), ("mon,xyz", "unknown day 'xyz'"), ("mon,tue,mon", "'mon' is given twice"), (",", "least")],
)
def test_a_malformed_week_is_refused_clearly(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_week(text)


# --- holidays and make-up working days -------------------------------------------------------------------------


def test_holidays_are_skipped_and_make_up_days_count(national_day):
    calendar = Calendar()
    assert not calendar.is_working_day(D("2026-10-01"))
    assert calendar.is_working_day(D("2026-10-10"))  # a Saturday, worked
    assert calendar.add_working_days(D("2026-09-30"), 1) == D("2026-10-08")
    assert calendar.add_working_days(D("2026-09-30"), 3) == D("2026-10-10")
    assert calendar.add_working_days(D("2026-09-30"), 4) == D("2026-10-12")


def test_a_start_on_a_holiday_counts_from_the_next_working_day(national_day):
    calendar = Calendar()
    assert calendar.next_working_day(D("2026-10-01")) == D("2026-10-08")
    assert calendar.add_working_days(D("2026-10-01"), 0) == D("2026-10-08")
    assert calendar.add_working_days(D("2026-10-01"), 1) == D("2026-10-09")


def test_a_holiday_on_a_weekend_changes_nothing(app):
    holiday("2026-10-04", "Sunday holiday")
    assert Calendar().add_working_days(D("2026-10-02"), 1) == D("2026-10-05")
    assert Calendar().working_days_between(D("2026-10-02"), D("2026-10-05")) == 1


def test_a_deadline_crosses_the_year_end_with_each_year_s_holidays(app, calendar_queries):
    holiday("2026-12-25", "Navidad")
    holiday("2027-01-01", "Año Nuevo")
    holiday("2027-01-06", "Epifanía del Señor")
    calendar = Calendar()
    calendar_queries.clear()
    assert calendar.add_working_days(D("2026-12-24"), 5) == D("2027-01-04")
    assert calendar.add_working_days(D("2026-12-24"), 60) == D("2027-03-23")
    assert calendar.working_days_between(D("2026-12-24"), D("2027-01-08")) == 8
    assert len(calendar_queries) == 2, "each year's exceptions are read once"


def test_a_long_deadline_reads_each_year_once(app, calendar_queries):
    calendar = Calendar()
    calendar.add_working_days(D("2026-06-01"), 3650)
    assert len(calendar_queries) <= 15  # one for each year the count reaches


def test_working_days_between_counts_after_the_start_up_to_the_end(national_day):
    calendar = Calendar()
    between = calendar.working_days_between
    assert between(D("2026-10-16"), D("2026-10-16")) == 0
    assert between(D("2026-10-16"), D("2026-10-19")) == 1  # Friday -> Monday
    assert between(D("2026-10-12"), D("2026-10-16")) == 4
    assert between(D("2026-10-19"), D("2026-10-16")) == -1  # one working day overdue
    assert between(D("2026-09-30"), D("2026-10-12")) == 4  # 8, 9, the make-up Saturday 10, 12
    assert between(D("2026-10-17"), D("2026-10-20")) == 2  # from a Saturday: Monday and Tuesday remain


def test_working_days_between_agrees_with_add_working_days(national_day):
    calendar = Calendar()
    start = D("2026-09-21")
    while start < D("2026-10-20"):
        if calendar.is_working_day(start):
            for days in (0, 1, 2, 5, 9, 23):
                assert calendar.working_days_between(start, calendar.add_working_days(start, days)) == days
        start += timedelta(days=1)


@pytest.mark.parametrize("days", [-1, workdays.MAX_DAYS + 1, True, 1.5])
def test_absurd_numbers_of_days_are_refused(app, days):
    with pytest.raises(ValueError, match="working days"):
        Calendar().add_working_days(D("2026-10-01"), days)


def test_a_week_without_a_working_day_is_refused():
    with pytest.raises(ValueError, match="no working day"):
        Calendar(Rules(week=frozenset()))


def test_a_year_without_a_working_day_is_reported_not_looped(app):
    calendar = Calendar(Rules(week=parse_week("sun")))
    for offset in range(0, 400, 7):
        sunday = D("2026-10-04") + timedelta(days=offset)
        workdays.set_day(SYSTEM, sunday, "holiday", "Closed")
    with pytest.raises(ValueError, match="no working day"):
        calendar.next_working_day(D("2026-10-04"))


# --- default deadlines by urgency ------------------------------------------------------------------------------


@pytest.fixture
def madrid():
    return Rules(timezone="Europe/Madrid", deadline_days={"normal": 15, "urgent": 5, "extra_urgent": 1})


def test_default_deadlines_by_urgency(app, madrid):
    calendar = Calendar(madrid)
    received = datetime(2026, 10, 14, 9, 0, tzinfo=UTC)  # a Wednesday
    assert calendar.default_deadline(received, "extra_urgent") == D("2026-10-15")
    assert calendar.default_deadline(received, "urgent") == D("2026-10-21")
    assert calendar.default_deadline(received, "normal") == D("2026-11-04")


def test_the_default_deadline_takes_the_day_in_the_office_time_zone(app, madrid):
    calendar = Calendar(madrid)
    # 23:30 on Friday in Madrid: received on Friday, due on Monday.
    assert calendar.default_deadline(datetime(2026, 10, 16, 21, 30, tzinfo=UTC), "extra_urgent") == D("2026-10-19")
    # 00:30 on Saturday in Madrid (still Friday in UTC): counts from Monday, due on Tuesday.
    assert calendar.default_deadline(datetime(2026, 10, 16, 22, 30, tzinfo=UTC), "extra_urgent") == D("2026-10-20")
    # Naive times are UTC, as the database gives them back.
    assert calendar.default_deadline(datetime(2026, 10, 16, 22, 30), "extra_urgent") == D("2026-10-20")
    assert calendar.default_deadline(D("2026-10-17"), "extra_urgent") == D("2026-10-20")


def test_the_default_deadline_of_an_unknown_urgency_is_refused(app):
    with pytest.raises(ValueError, match="unknown urgency"):
        Calendar().default_deadline(D("2026-10-14"), "whenever")


def test_the_deadline_question_reports_each_problem():
    calendar = Calendar()
    with pytest.raises(ValidationFailed) as caught:
        calendar.deadline(None, None, None)
    assert set(caught.value.errors) == {"from", "days"}
    with pytest.raises(ValidationFailed) as caught:
        calendar.deadline(D("2026-10-14"), 3, "urgent")
    assert set(caught.value.errors) == {"urgency"}
    with pytest.raises(ValidationFailed) as caught:
        calendar.deadline(D("2026-10-14"), workdays.MAX_DAYS + 1)
    assert set(caught.value.errors) == {"days"}


def test_the_deadline_answer_says_where_counting_starts(app):
    answer = Calendar().deadline(D("2026-10-17"), urgency="urgent")
    assert (answer.start, answer.counts_from, answer.days, answer.due) == (
        D("2026-10-17"),
        D("2026-10-19"),
        5,
        D("2026-10-26"),
    )


# --- settings --------------------------------------------------------------------------------------------------


def _settings(**changes) -> dict:
    settings = {
        "WORK_WEEK": "mon,tue,wed,thu,fri",
        "DEADLINE_DAYS_NORMAL": 15,
        "DEADLINE_DAYS_URGENT": 5,
        "DEADLINE_DAYS_EXTRA_URGENT": 1,
        "OFFICE_TIMEZONE": "Asia/Shanghai",
    }
    return settings | changes


def test_rules_come_from_the_settings():
    rules = workdays.rules_from(_settings(WORK_WEEK="sun,mon,tue,wed,thu", DEADLINE_DAYS_URGENT=3))
    assert rules.week == frozenset({7, 1, 2, 3, 4})
    assert rules.deadline_days == {"normal": 15, "urgent": 3, "extra_urgent": 1}
    assert rules.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"WORK_WEEK": "lunes"}, "WORK_WEEK: unknown day 'lunes'"),
        ({"WORK_WEEK": ""}, "WORK_WEEK"),
        ({"DEADLINE_DAYS_URGENT": -1}, "DEADLINE_DAYS_URGENT"),
        ({"DEADLINE_DAYS_NORMAL": 4000}, "DEADLINE_DAYS_NORMAL"),
        ({"OFFICE_TIMEZONE": "Mars/Olympus"}, "OFFICE_TIMEZONE"),
    ],
)
def test_a_bad_setting_is_named(changes, named):
    with pytest.raises(ValueError, match=named):
        workdays.rules_from(_settings(**changes))


def test_the_app_does_not_start_with_a_bad_working_week(tmp_path):
    with pytest.raises(ValueError, match="WORK_WEEK"):
        create_app({"WORK_WEEK": "mon,funday", "SECRET_KEY": "x"}, instance_path=str(tmp_path))


# --- changing the calendar -------------------------------------------------------------------------------------


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def test_adding_changing_and_removing_a_day_is_audited(app):
    row, created = workdays.set_day(SYSTEM, D("2026-01-01"), "holiday", "  Año Nuevo ")
    assert created and row.name == "Año Nuevo"
    _, created = workdays.set_day(SYSTEM, D("2026-01-01"), "holiday", "Año Nuevo")
    assert not created and _events("calendar_day.update") == []  # nothing changed, nothing recorded
    workdays.set_day(SYSTEM, D("2026-01-01"), "holiday", "New Year's Day")
    workdays.remove_day(SYSTEM, D("2026-01-01"))
    assert workdays.list_days(2026) == []
    (create,) = _events("calendar_day.create")
    (update,) = _events("calendar_day.update")
    (remove,) = _events("calendar_day.delete")
    assert create.object_type == "calendar_day" and create.object_id == "2026-01-01"
    assert audit.decode(update.before) == {"name": "Año Nuevo"} and audit.decode(update.after) == {
        "name": "New Year's Day"
    }
    assert audit.decode(remove.before)["kind"] == "holiday"
    assert audit.verify_chain().intact


def test_removing_a_day_the_calendar_does_not_have_is_not_found(app):
    with pytest.raises(NotFound):
        workdays.remove_day(SYSTEM, D("2026-01-02"))


@pytest.mark.parametrize(
    ("day", "kind", "name", "fields"),
    [
        (None, "holiday", "X", {"day"}),
        (D("1899-12-31"), "holiday", "X", {"day"}),
        (D("2026-01-01"), "feast", "X", {"kind"}),
        (D("2026-01-01"), "holiday", "  ", {"name"}),
        (D("2026-01-01"), "holiday", "x" * 101, {"name"}),
        (None, None, None, {"day", "kind", "name"}),
    ],
)
def test_a_day_with_mistakes_is_refused_field_by_field(app, day, kind, name, fields):
    with pytest.raises(ValidationFailed) as caught:
        workdays.set_day(SYSTEM, day, kind, name)
    assert set(caught.value.errors) == fields
    assert db.session.execute(select(CalendarDay)).first() is None


def test_importing_lines_adds_ranges_and_make_up_days(app):
    text = """
    # 2026, from the State Council's notice
    2026-01-01 元旦
    2026-10-01..2026-10-07 国庆节
    2026-10-10 workday 国庆节调休
    2026-12-25   Navidad del Señor
    """
    outcome = workdays.import_days(SYSTEM, 2026, text)
    assert (outcome.added, outcome.changed, outcome.unchanged, outcome.removed) == (10, 0, 0, 0)
    days = {row.day: (row.kind, row.name) for row in workdays.list_days(2026)}
    assert days[D("2026-10-04")] == ("holiday", "国庆节")
    assert days[D("2026-10-10")] == ("workday", "国庆节调休")
    assert days[D("2026-12-25")] == ("holiday", "Navidad del Señor")
    assert len(_events("calendar_day.create")) == 10


def test_importing_again_changes_only_what_differs_and_can_replace_the_year(app):
    workdays.import_days(SYSTEM, 2026, "2026-01-01 元旦\n2026-05-01 劳动节\n2026-06-19 端午节")
    outcome = workdays.import_days(SYSTEM, 2026, "2026-01-01 元旦\n2026-05-01 Día del Trabajo", replace=True)
    assert (outcome.added, outcome.changed, outcome.unchanged, outcome.removed) == (0, 1, 1, 1)
    assert [(row.day, row.name) for row in workdays.list_days(2026)] == [
        (D("2026-01-01"), "元旦"),
        (D("2026-05-01"), "Día del Trabajo"),
    ]


def test_an_import_with_a_wrong_line_saves_nothing_and_lists_every_problem(app):
    text = "\n".join(
        [
            "2026-01-01 Año Nuevo",  # 1: fine
            "1 de mayo Fiesta del Trabajo",  # 2: no date
            "2026-02-30 Nope",  # 3: no such date
            "2027-01-01 Año Nuevo",  # 4: another year
            "2026-03-19",  # 5: no name
            "2026-01-01 Again",  # 6: twice
            "2026-04-10..2026-04-02 Backwards",  # 7
        ]
    )
    with pytest.raises(workdays.LinesRefused) as caught:
        workdays.import_days(SYSTEM, 2026, text)
    assert [number for number, _line, _message in caught.value.lines] == [2, 3, 4, 5, 6, 7]
    assert caught.value.lines[1][1] == "2026-02-30 Nope"
    assert set(caught.value.errors) == {f"line {n}" for n in (2, 3, 4, 5, 6, 7)}
    assert "Lines to correct: 6" in str(caught.value.msg)
    assert workdays.list_days(2026) == [] and _events("calendar_day.create") == []


def test_an_empty_import_is_refused(app):
    with pytest.raises(ValidationFailed) as caught:
        workdays.import_days(SYSTEM, 2026, "\n# nothing\n")
    assert set(caught.value.errors) == {"lines"}


def test_an_import_is_limited_in_size(app):
    with pytest.raises(ValidationFailed) as caught:
        workdays.import_days(SYSTEM, 2026, "# " + "x" * workdays.MAX_IMPORT_CHARS)
    assert set(caught.value.errors) == {"lines"}


def test_a_whole_year_can_be_imported_as_one_range(app):
    outcome = workdays.import_days(SYSTEM, 2026, "2026-01-01..2026-12-31 Closed for works")
    assert outcome.added == 365
    assert Calendar().add_working_days(D("2026-06-01"), 1) == D("2027-01-04")


def test_the_months_of_a_year_show_each_day_s_status(national_day):
    months = Calendar().months(2026)
    assert len(months) == 12
    january = months[0]
    assert january.weeks[0][:3] == [None, None, None]  # 1 January 2026 is a Thursday
    assert january.weeks[0][3].day == D("2026-01-01")
    assert all(len(week) == 7 for month in months for week in month.weeks)
    october = {cell.day: cell for week in months[9].weeks for cell in week if cell}
    assert october[D("2026-10-01")].kind == "holiday" and october[D("2026-10-01")].special.name == "国庆节"
    assert october[D("2026-10-10")].kind == "workday" and october[D("2026-10-10")].working
    assert october[D("2026-10-11")].kind == "rest"
    assert october[D("2026-10-12")].kind == "working"


def test_a_year_out_of_range_is_refused(app):
    with pytest.raises(ValidationFailed):
        workdays.list_days(3000)
    with pytest.raises(ValidationFailed):
        Calendar().months(1899)


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("workday", "workday"),
        ("WorkDay", "workday"),
        ("laborable", "workday"),
        ("Laborable", "workday"),
        ("班", "workday"),
        ("补班", "workday"),
        ("holiday", "holiday"),
        ("Festivo", "holiday"),
        ("休", "holiday"),
        ("假", "holiday"),
    ],
)
def test_an_import_reads_the_kind_in_english_spanish_and_chinese_in_any_case(app, word, kind):
    days, problems = workdays.parse_lines(2026, f"2026-12-26 {word} Recuperación")  # a Saturday
    assert problems == []
    assert [(day["day"], day["kind"], day["name"]) for day in days] == [(D("2026-12-26"), kind, "Recuperación")]


def test_a_word_that_only_starts_like_a_kind_is_part_of_the_name(app):
    days, _problems = workdays.parse_lines(2026, "2026-10-10 国庆节调休\n2026-10-11 班会")
    assert [(day["kind"], day["name"]) for day in days] == [("holiday", "国庆节调休"), ("holiday", "班会")]


def test_a_make_up_working_day_on_a_working_weekday_is_refused(app):
    with pytest.raises(ValidationFailed) as caught:
        makeup("2026-10-12")  # a Monday: it works already
    assert set(caught.value.errors) == {"day"}
    assert "a make-up working day is for a day off of the working week" in str(caught.value.errors["day"])
    assert workdays.list_days(2026) == []


def test_a_make_up_working_day_follows_the_office_s_working_week(app):
    sunday_to_thursday = frozenset({7, 1, 2, 3, 4})
    with pytest.raises(ValidationFailed):
        workdays.set_day(SYSTEM, D("2026-10-11"), "workday", "Sunday", week=sunday_to_thursday)
    workdays.set_day(SYSTEM, D("2026-10-16"), "workday", "Friday", week=sunday_to_thursday)
    assert [row.day for row in workdays.list_days(2026)] == [D("2026-10-16")]


def test_a_holiday_can_be_changed_into_a_make_up_day_only_on_a_day_off(app):
    holiday("2026-10-12")
    with pytest.raises(ValidationFailed):
        makeup("2026-10-12")
    assert [(row.kind, row.name) for row in workdays.list_days(2026)] == [("holiday", "Holiday")]


def test_a_holiday_on_a_day_off_is_kept_for_its_name(app):
    holiday("2026-10-03", "国庆节")  # a Saturday of the National Day week
    assert [(row.day, row.kind) for row in workdays.list_days(2026)] == [(D("2026-10-03"), "holiday")]


def test_an_import_refuses_a_make_up_day_on_a_working_weekday_and_names_it(app):
    text = "2026-10-10 workday 国庆节调休\n2026-10-09..2026-10-11 laborable Wrong\n2026-10-01..2026-10-07 国庆节"
    with pytest.raises(workdays.LinesRefused) as caught:
        workdays.import_days(SYSTEM, 2026, text)
    [(number, _line, message)] = caught.value.lines
    assert number == 2 and message.params["day"] == D("2026-10-09")  # the Friday of the range
    assert workdays.list_days(2026) == []
