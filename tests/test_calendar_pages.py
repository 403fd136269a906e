"""The working-day calendar page: the year's month grids, adding, changing, removing and importing days, and the
deadline calculator."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from docstore import audit, workdays
from docstore.extensions import db
from docstore.models import AuditEvent

D = date.fromisoformat


@pytest.fixture
def admin_in(admin, sign_in, fake_clock):
    """The administrator, signed in, on 2 March 2026 (the fake clock's day)."""
    sign_in("admin")


def _days() -> dict:
    return {row.day: (row.kind, row.name) for row in workdays.list_days(2026)}


def test_the_page_shows_this_year_s_twelve_months_with_a_legend(client, admin_in):
    response = client.get("/admin/calendar")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Working-day calendar 2026" in page
    assert page.count('<table class="month">') == 12
    assert "<caption>January</caption>" in page and "<caption>December</caption>" in page
    assert 'class="calendar-legend"' in page and "Make-up working day (marked W)" in page
    assert 'aria-current="date"' in page  # today, 2 March 2026
    assert "<dd>Monday, Tuesday, Wednesday, Thursday, and Friday</dd>" in page
    assert "Normal: 15 working days · Urgent: 5 working days · Extra urgent: 1 working day" in page
    assert "No holidays or make-up working days in 2026 yet" in page
    assert 'href="/admin/calendar"' in page  # the navigation links here


def test_the_page_has_no_inline_script_or_style(client, admin_in):
    page = client.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "Working-day calendar 2027" in page
    assert "<script>" not in page and "style=" not in page and "<style" not in page


def test_a_year_out_of_range_shows_this_year(client, admin_in):
    assert "Working-day calendar 2026" in client.get("/admin/calendar?year=99999").get_data(as_text=True)


def test_admin_adds_a_holiday_and_the_grid_marks_it(client, admin_in):
    response = client.post("/admin/calendar/days", data={"day": "2026-10-01", "kind": "holiday", "name": "国庆节"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/calendar?year=2026#days")
    assert _days() == {D("2026-10-01"): ("holiday", "国庆节")}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Added to the calendar: Thursday, October 1, 2026." in page
    assert "not a working day anyway" not in page
    cell = re.search(
        r'<td class="day-holiday"[^>]*title="国庆节">1<span class="mark" aria-hidden="true">H</span>', page
    )
    assert cell is not None
    assert '<span class="visually-hidden">: Holiday, 国庆节</span>' in page
    assert "Thursday, October 1, 2026" in page  # in the list, with its remove button
    assert 'Remove<span class="visually-hidden">: Oct 1, 2026 国庆节</span>' in page


def test_admin_changes_a_day_by_saving_it_again(client, admin_in):
    workdays.set_day(audit.SYSTEM, D("2026-10-10"), "holiday", "Mistake")
    response = client.post(
        "/admin/calendar/days",
        data={"day": "2026-10-10", "kind": "workday", "name": "国庆节调休"},
        follow_redirects=True,
    )
    assert "Changed in the calendar: Saturday, October 10, 2026." in response.get_data(as_text=True)
    assert _days() == {D("2026-10-10"): ("workday", "国庆节调休")}
    assert 'class="day-workday"' in response.get_data(as_text=True)


def test_a_day_with_mistakes_comes_back_with_errors_next_to_its_fields(client, admin_in):
    response = client.post("/admin/calendar/days", data={"day": "", "kind": "feast", "name": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="day-error"' in page and 'id="kind-error"' in page and 'id="name-error"' in page
    assert 'aria-invalid="true"' in page
    assert _days() == {}


def test_admin_removes_a_day(client, admin_in):
    workdays.set_day(audit.SYSTEM, D("2026-05-01"), "holiday", "Fiesta del Trabajo")
    response = client.post("/admin/calendar/days/2026-05-01/remove", follow_redirects=True)
    assert "Removed from the calendar: Friday, May 1, 2026." in response.get_data(as_text=True)
    assert _days() == {}
    events = db.session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "calendar_day")).scalars()
    assert list(events) == ["calendar_day.create", "calendar_day.delete"]


def test_removing_a_day_that_is_not_there_is_not_found(client, admin_in):
    assert client.post("/admin/calendar/days/2026-05-01/remove").status_code == 404
    assert client.post("/admin/calendar/days/not-a-date/remove").status_code == 404


def test_admin_imports_a_year_of_days(client, admin_in):
    lines = "2026-01-01 元旦\r\n2026-10-01..2026-10-07 国庆节\r\n2026-10-10 workday 国庆节调休\r\n"
    response = client.post("/admin/calendar/import", data={"year": "2026", "lines": lines}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Imported: 9 added, 0 changed, 0 unchanged, 0 removed." in page
    assert len(_days()) == 9 and _days()[D("2026-10-10")] == ("workday", "国庆节调休")


def test_an_import_with_wrong_lines_reports_each_and_saves_nothing(client, admin_in):
    lines = "2026-01-01 Año Nuevo\n2026-13-01 Nope\n2027-01-06 Reyes\n"
    response = client.post("/admin/calendar/import", data={"year": "2026", "lines": lines})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was saved. Correct these lines and import again:" in page
    assert "Line 2: <code>2026-13-01 Nope</code> — This date does not exist." in page
    assert "Line 3: <code>2027-01-06 Reyes</code> — The date is not in 2026." in page
    assert "2026-13-01 Nope" in page.split('id="lines"')[1]  # the text comes back to be corrected
    assert _days() == {}


def test_an_import_error_is_told_once_above_the_form(client, admin_in):
    response = client.post("/admin/calendar/import", data={"year": "2026", "lines": "2026-13-01 Nope"})
    page = response.get_data(as_text=True)
    assert page.count("Nothing was saved") == 1 and "Lines to correct" not in page
    assert 'id="lines-error"' not in page  # no second summary under the text box...
    textarea = re.search(r"<textarea[^>]*>", page).group(0)
    assert "aria-invalid" not in textarea  # ...and its help keeps its colour (Pico reddens the help of a bad field)
    assert 'id="lines-help"' in page


def test_an_import_reads_the_kind_in_the_clerk_s_language(client, admin_in):
    lines = "2026-12-26 laborable Recuperación\n2026-10-10 班 国庆节调休\n2026-12-25 Festivo Navidad"
    response = client.post("/admin/calendar/import", data={"year": "2026", "lines": lines}, follow_redirects=True)
    assert "Imported: 3 added" in response.get_data(as_text=True)
    assert _days() == {
        D("2026-12-26"): ("workday", "Recuperación"),
        D("2026-10-10"): ("workday", "国庆节调休"),
        D("2026-12-25"): ("holiday", "Navidad"),
    }


@pytest.mark.parametrize(
    ("locale", "holiday", "workday"),
    [("en", "holiday", "workday"), ("es", "festivo", "laborable"), ("zh_Hans", "休", "班")],
)
def test_the_import_hint_shows_the_kind_words_of_the_page_s_language_and_its_example_imports(
    client, admin, make_user, sign_in, fake_clock, locale, holiday, workday
):
    make_user("clerk", "admin", locale=locale)
    sign_in("clerk")
    page = client.get("/admin/calendar").get_data(as_text=True)
    hint = re.search(r'<small id="lines-help">(.*?)</small>', page).group(1)
    assert f" {holiday} " in hint and f" {workday} " in hint
    example = re.split(r"[:：]\s*", hint)[-1].split(" · ")
    days, problems = workdays.parse_lines(2026, "\n".join(example))
    assert problems == [] and {day["kind"] for day in days} == {"holiday", "workday"}


def test_a_make_up_working_day_on_a_working_weekday_is_refused_next_to_its_date(client, admin_in):
    response = client.post(
        "/admin/calendar/days", data={"day": "2026-10-12", "kind": "workday", "name": "Recuperación"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'<small id="day-error" class="field-error">(.*?)</small>', page).group(1)
    assert error == (
        "The office works on Oct 12, 2026 already: a make-up working day is for a day off of the working week."
    )
    assert _days() == {}


def test_a_holiday_on_a_day_off_is_kept_and_said_to_change_nothing(client, admin_in):
    response = client.post(
        "/admin/calendar/days", data={"day": "2026-10-03", "kind": "holiday", "name": "国庆节"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "Added to the calendar: Saturday, October 3, 2026." in page
    assert "That day was not a working day anyway: the holiday changes no deadline." in page
    assert _days() == {D("2026-10-03"): ("holiday", "国庆节")}


@pytest.mark.parametrize(
    ("locale", "added", "received"),
    [
        (
            "es",
            "Se ha añadido al calendario: viernes, 25 de diciembre de 2026.",
            "El día de recepción, sábado, 10 de octubre de 2026, no es día hábil.",
        ),
        ("zh_Hans", "已添加到日历：2026年12月25日星期五。", "收文日（2026年10月10日星期六）不是工作日。"),
    ],
)
def test_messages_about_a_day_do_not_start_with_its_date(
    client, admin, make_user, sign_in, fake_clock, locale, added, received
):
    make_user("clerk", "admin", locale=locale)
    sign_in("clerk")
    response = client.post(
        "/admin/calendar/days", data={"day": "2026-12-25", "kind": "holiday", "name": "Navidad"}, follow_redirects=True
    )
    assert added in response.get_data(as_text=True)
    assert received in client.get("/admin/calendar?from=2026-10-10&days=1").get_data(as_text=True)


def test_the_deadline_calculator_counts_from_the_next_working_day(client, admin_in):
    workdays.set_day(audit.SYSTEM, D("2026-10-12"), "holiday", "Fiesta Nacional de España")
    page = client.get("/admin/calendar?from=2026-10-10&days=1").get_data(as_text=True)
    assert "Due on Wednesday, October 14, 2026" in page
    assert "1 working day counted from Tuesday, October 13, 2026." in page
    assert "The day received, Saturday, October 10, 2026, is not a working day." in page
    page = client.get("/admin/calendar?from=2026-10-09&urgency=urgent").get_data(as_text=True)
    assert "Due on Monday, October 19, 2026" in page


def test_the_deadline_calculator_explains_its_mistakes(client, admin_in):
    page = client.get("/admin/calendar?from=2026-02-30&days=x").get_data(as_text=True)
    assert 'id="calc-from-error"' in page and "Use a date written as YYYY-MM-DD." in page
    assert 'id="calc-days-error"' in page and "Due on" not in page
    page = client.get("/admin/calendar?from=2026-10-09&days=3&urgency=urgent").get_data(as_text=True)
    assert 'id="calc-urgency-error"' in page


def test_the_calendar_page_is_for_administrators_only(client, admin, make_user, sign_in):
    make_user("lucia", "clerk")
    sign_in("lucia")
    assert client.get("/admin/calendar").status_code == 403
    assert (
        client.post("/admin/calendar/days", data={"day": "2026-01-01", "kind": "holiday", "name": "X"}).status_code
        == 403
    )
    assert client.post("/admin/calendar/import", data={"year": "2026", "lines": "2026-01-01 X"}).status_code == 403
    assert _days() == {}
    assert 'href="/admin/calendar"' not in client.get("/").get_data(as_text=True)


def test_the_page_speaks_chinese(client, admin, make_user, sign_in, fake_clock):
    make_user("wang", "admin", locale="zh_Hans")
    sign_in("wang")
    workdays.set_day(audit.SYSTEM, D("2026-10-01"), "holiday", "国庆节")
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert "<caption>十月</caption>" in page
    assert 'aria-hidden="true">休</span>' in page
    assert "<dd>星期一、星期二、星期三、星期四和星期五</dd>" in page
    assert "普通：15 个工作日" in page and ": " not in page.split("<dl")[1].split("</dl>")[0]


def test_the_page_speaks_spanish(client, admin, make_user, sign_in, fake_clock):
    make_user("ana", "admin", locale="es")
    sign_in("ana")
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert "<dd>lunes, martes, miércoles, jueves y viernes</dd>" in page


def test_the_audit_log_reads_calendar_changes(client, admin_in):
    client.post("/admin/calendar/days", data={"day": "2026-05-01", "kind": "holiday", "name": "Fiesta del Trabajo"})
    page = client.get("/admin/audit?object_type=calendar_day").get_data(as_text=True)
    assert "Calendar day added" in page and "Calendar day 2026-05-01" in page
    assert "Fiesta del Trabajo" in page and "Holiday" in page and "May 1, 2026" in page
