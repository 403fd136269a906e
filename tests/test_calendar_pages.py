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
    assert "Monday, Tuesday, Wednesday, Thursday, Friday" in page
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
    assert "is added to the calendar" in page
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
    assert "is changed in the calendar" in response.get_data(as_text=True)
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
    assert "is removed from the calendar" in response.get_data(as_text=True)
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


def test_the_deadline_calculator_counts_from_the_next_working_day(client, admin_in):
    workdays.set_day(audit.SYSTEM, D("2026-10-12"), "holiday", "Fiesta Nacional de España")
    page = client.get("/admin/calendar?from=2026-10-10&days=1").get_data(as_text=True)
    assert "Due on Wednesday, October 14, 2026" in page
    assert "1 working day counted from Tuesday, October 13, 2026." in page
    assert "Saturday, October 10, 2026 is not a working day." in page
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


def test_the_audit_log_reads_calendar_changes(client, admin_in):
    client.post("/admin/calendar/days", data={"day": "2026-05-01", "kind": "holiday", "name": "Fiesta del Trabajo"})
    page = client.get("/admin/audit?object_type=calendar_day").get_data(as_text=True)
    assert "Calendar day added" in page and "Calendar day 2026-05-01" in page
    assert "Fiesta del Trabajo" in page and "Holiday" in page and "May 1, 2026" in page
