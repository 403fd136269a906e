"""The dashboard: open items by state, open and overdue tasks by department, handling times, and its page."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from docstore import audit, clock, organisation, registry, routing, workdays
from docstore.extensions import db
from docstore.models import Series
from docstore.routing.dashboard import OPEN_STATES, _WorkingDays
from docstore.web.dashboard import chart_label
from tests.service_support import act, ctx

SYSTEM = audit.SYSTEM
POLICY = registry.UploadPolicy(frozenset({"text"}), 1 << 20, "UTC")
MONDAY = date(2026, 3, 2)  # the fake clock's day
HOLIDAY = date(2026, 3, 9)  # a Monday
TUESDAY_AFTER = date(2026, 3, 10)


def register(clerk, sender, title: str, **fields):
    data = registry.Registration(
        series_id=db.session.query(Series).filter_by(code="IN").one().id,
        title=title,
        received_at=clock.now() - timedelta(hours=1),
        channel="paper",
        correspondent_id=sender.id,
        **fields,
    )
    return registry.register_document(ctx(clerk), "incoming", data, [], POLICY, None)


def calendar() -> workdays.Calendar:
    return workdays.Calendar()  # Monday to Friday, UTC, with the holidays in the database


@pytest.fixture
def people(app, make_user, clerk, fake_clock):
    """Finance (Ana, Bo), Legal (Carl), a leader, Dora with no department, and Stan, staff who may not look."""
    finance = organisation.create_department(SYSTEM, code="FIN", name="Finance")
    legal = organisation.create_department(SYSTEM, code="LEG", name="Legal")
    return SimpleNamespace(
        clerk=clerk,
        finance=finance,
        legal=legal,
        director=make_user("director", "leader", full_name="Diana Director"),
        ana=make_user("ana", "staff", full_name="Ana Ruiz", department_id=finance.id),
        bo=make_user("bo", "staff", full_name="Bo Li", department_id=finance.id),
        carl=make_user("carl", "staff", full_name="Carl Cruz", department_id=legal.id),
        dora=make_user("dora", "staff", full_name="Dora Diaz"),
        stan=make_user("stan", "staff", full_name="Stan Staff", department_id=finance.id),
    )


def instruct(p, document, lead, deadline, co=()):
    act(routing.accept, ctx(p.clerk), document.id, "action")
    act(routing.instruct, ctx(p.director), document.id, "Handle it.", lead, list(co), deadline)


@pytest.fixture
def office(people, sender, fake_clock):
    """Build an office's fortnight with the fake clock, from Monday 2 to Tuesday 10 March 2026 (Monday 9: holiday).

    Open on Tuesday 10: D3 pending (addressed to Finance), D4 accepted, D5 proposed; D1, D2, D9, D10 being handled;
    D11 handled. Closed: D7 (Monday 2, same day) and D8 (Tuesday 10); D6 returned on Monday 2.
    Open tasks: Finance leads D1 (due Friday 6: overdue) and D9 (due Wednesday 11: due soon), Ana D10 (due 20th);
    Dora, with no department, leads D2 (extra urgent, due Wednesday 4: overdue).
    Done: Carl's contribution to D1 and Legal's D11, both from Monday 2 to Tuesday 10, and Legal's D8 from Thursday 5.
    """
    p = people
    oficio = registry.create_document_type(SYSTEM, "OF", "Oficio")
    informe = registry.create_document_type(SYSTEM, "IN", "Informe")
    workdays.set_day(SYSTEM, HOLIDAY, "holiday", "Fiesta local")
    finance, legal = ("department", p.finance.id), ("department", p.legal.id)

    # Monday 2 March
    d1 = register(p.clerk, sender, "D1", document_type_id=oficio.id, department_id=p.finance.id)
    instruct(p, d1, finance, date(2026, 3, 6), co=[("user", p.carl.id)])
    d2 = register(p.clerk, sender, "D2", document_type_id=informe.id, urgency="extra_urgent")
    instruct(p, d2, ("user", p.dora.id), date(2026, 3, 4))
    register(p.clerk, sender, "D3", department_id=p.finance.id)
    d4 = register(p.clerk, sender, "D4")
    act(routing.accept, ctx(p.clerk), d4.id, "action")
    d5 = register(p.clerk, sender, "D5")
    act(routing.accept, ctx(p.clerk), d5.id, "action")
    act(routing.propose, ctx(p.clerk), d5.id, p.director.id, [p.legal.id], None, "Legal, please.")
    d6 = register(p.clerk, sender, "D6")
    act(routing.return_to_sender, ctx(p.clerk), d6.id, "Not ours.")
    d7 = register(p.clerk, sender, "D7", document_type_id=oficio.id)
    act(routing.accept, ctx(p.clerk), d7.id, "information")
    act(routing.close, ctx(p.clerk), d7.id, result="Noted.")
    d11 = register(p.clerk, sender, "D11", document_type_id=informe.id)
    instruct(p, d11, legal, date(2026, 3, 20))
    monday = routing.dashboard(calendar(), None)
    assert (monday.open_tasks, monday.overdue_tasks) == (4, 0)  # nothing is late yet

    # Thursday 5 March
    fake_clock.advance(days=3)
    d8 = register(p.clerk, sender, "D8", document_type_id=informe.id)
    instruct(p, d8, legal, date(2026, 3, 20))

    # Tuesday 10 March, after the weekend and Monday's holiday
    fake_clock.advance(days=5)
    assert clock.now().date() == TUESDAY_AFTER
    carl_co = next(task for task in routing.co_handler_results(d1.id) if task.user_id == p.carl.id)
    act(routing.complete_task, ctx(p.carl), carl_co.id, "No objection.")
    for document in (d8, d11):
        lead = next(task for task in routing.my_tasks(p.carl) if task.item.document_id == document.id)
        act(routing.complete_task, ctx(p.carl), lead.id, "Done.")
    act(routing.close, ctx(p.clerk), d8.id, result="Replied.")
    d9 = register(p.clerk, sender, "D9")
    instruct(p, d9, finance, date(2026, 3, 11))
    d10 = register(p.clerk, sender, "D10")
    instruct(p, d10, ("user", p.ana.id), date(2026, 3, 20))
    return SimpleNamespace(p=p, oficio=oficio, informe=informe, d1=d1, d2=d2, d10=d10)


# --- the figures ---------------------------------------------------------------------------------------------------


def test_open_items_are_counted_by_state_with_the_period_s_closed_and_returned(office):
    figures = routing.dashboard(calendar(), None)
    assert figures.today == TUESDAY_AFTER
    assert figures.open_by_state == {"pending": 1, "accepted": 1, "proposed": 1, "handling": 4, "handled": 1}
    assert list(figures.open_by_state) == list(OPEN_STATES)
    assert figures.open_items == 8
    assert (figures.closed, figures.returned) == (2, 1)
    assert figures.extra_urgent_open == 1


def test_open_tasks_by_department_count_overdue_and_due_soon_by_the_clock(office):
    p = office.p
    figures = routing.dashboard(calendar(), None)
    rows = [(r.id, r.name, r.open, r.overdue, r.due_soon, r.extra_urgent) for r in figures.tasks_by_department]
    # Finance: its own D1 (overdue) and D9 (due tomorrow), and Ana's D10; Dora's D2 has no department
    assert rows == [(p.finance.id, "Finance", 3, 1, 1, 0), (None, None, 1, 1, 0, 1)]
    assert (figures.open_tasks, figures.overdue_tasks, figures.due_soon_tasks) == (4, 2, 1)


def test_overdue_follows_the_clock(office, fake_clock):
    fake_clock.advance(days=2)  # Thursday 12: D9, due Wednesday 11, is late too
    finance = routing.dashboard(calendar(), None).tasks_by_department[0]
    assert (finance.name, finance.overdue, finance.due_soon) == ("Finance", 2, 0)


def test_handling_time_counts_working_days_across_a_weekend_and_a_holiday(office):
    p = office.p
    figures = routing.dashboard(calendar(), None)
    # Carl's contribution to D1 and Legal's D11: Monday 2 to Tuesday 10 = 8 calendar days, 5 working days
    # (3, 4, 5, 6 and 10 March: the weekend and Monday 9's holiday do not count); D8: Thursday 5 to Tuesday 10 =
    # 5 calendar days, 2 working days (Friday 6 and Tuesday 10).
    assert [(row.id, row.name, row.cases) for row in figures.handling_by_department] == [(p.legal.id, "Legal", 3)]
    legal = figures.handling_by_department[0]
    assert (legal.average_working_days, legal.median_working_days) == (4.0, 5.0)
    assert (legal.average_calendar_days, legal.median_calendar_days) == (7.0, 8.0)
    # by type, from receipt to closing: D8 (Informe) as above; D7 (Oficio), closed the day it came, took 0 days
    by_type = [
        (row.id, row.name, row.cases, row.average_working_days, row.average_calendar_days)
        for row in figures.handling_by_type
    ]
    assert by_type == [(office.informe.id, "Informe", 1, 2.0, 5.0), (office.oficio.id, "Oficio", 1, 0.0, 0.0)]


def test_a_forwarded_task_counts_from_its_first_assignment(office, fake_clock):
    p = office.p
    task = next(task for task in routing.my_tasks(p.ana) if task.item.document_id == office.d10.id)  # from Tuesday 10
    fake_clock.advance(days=1)  # Wednesday 11
    forwarded = act(routing.forward_task, ctx(p.ana), task.id, p.bo.id)
    fake_clock.advance(days=1)  # Thursday 12
    act(routing.complete_task, ctx(p.bo), forwarded.id, "Done.")
    finance = next(row for row in routing.dashboard(calendar(), None).handling_by_department if row.name == "Finance")
    assert (finance.cases, finance.average_working_days, finance.average_calendar_days) == (1, 2.0, 2.0)


def test_the_period_bounds_what_was_done_but_not_what_is_open(office):
    today = routing.dashboard(calendar(), TUESDAY_AFTER)
    assert today.since == TUESDAY_AFTER
    assert today.open_by_state == {"pending": 1, "accepted": 1, "proposed": 1, "handling": 4, "handled": 1}
    assert (today.closed, today.returned) == (1, 0)  # D8 today; D7 and D6 were on Monday 2
    assert [row.cases for row in today.handling_by_department] == [3]  # all completed today
    assert [row.name for row in today.handling_by_type] == ["Informe"]
    later = routing.dashboard(calendar(), TUESDAY_AFTER + timedelta(days=1))
    assert (later.closed, later.handling_by_department, later.handling_by_type) == (0, (), ())
    assert later.open_items == 8


def test_a_department_narrows_every_figure(office):
    p = office.p
    finance = routing.dashboard(calendar(), None, p.finance.id)
    # D3 is addressed to Finance; D1, D9 (Finance's tasks) and D10 (Ana's) are handled there
    assert finance.open_by_state == {"pending": 1, "accepted": 0, "proposed": 0, "handling": 3, "handled": 0}
    assert [(r.name, r.open, r.overdue) for r in finance.tasks_by_department] == [("Finance", 3, 1)]
    assert (finance.closed, finance.returned, finance.extra_urgent_open) == (0, 0, 0)
    assert (finance.handling_by_department, finance.handling_by_type) == ((), ())

    legal = routing.dashboard(calendar(), None, p.legal.id)
    # D1 through Carl's contribution, D11 handled, D8 closed
    assert legal.open_by_state == {"pending": 0, "accepted": 0, "proposed": 0, "handling": 1, "handled": 1}
    assert legal.tasks_by_department == ()
    assert legal.closed == 1
    assert [(row.name, row.cases) for row in legal.handling_by_department] == [("Legal", 3)]
    assert [(row.name, row.cases) for row in legal.handling_by_type] == [("Informe", 1)]


def test_void_documents_count_nowhere(office):
    p = office.p
    d3, d8 = (
        registry.list_documents(registry.DocumentFilter(text=title), 1, 1, p.clerk).items[0] for title in ("D3", "D8")
    )
    for document in (office.d2, d3, d8):  # D2 being handled (extra urgent, Dora's), D3 pending, D8 closed
        registry.void_document(ctx(p.clerk), document.id, "Registered by mistake.")
    figures = routing.dashboard(calendar(), None)
    assert figures.open_by_state == {"pending": 0, "accepted": 1, "proposed": 1, "handling": 3, "handled": 1}
    assert (figures.closed, figures.returned, figures.extra_urgent_open) == (1, 1, 0)
    rows = [(r.id, r.open, r.overdue, r.due_soon, r.extra_urgent) for r in figures.tasks_by_department]
    assert rows == [(p.finance.id, 3, 1, 1, 0)]  # Dora's D2 is gone
    assert [(row.name, row.cases) for row in figures.handling_by_department] == [("Legal", 2)]  # not D8's task
    assert [(row.name, row.cases) for row in figures.handling_by_type] == [("Oficio", 1)]  # not D8
    finance = routing.dashboard(calendar(), None, p.finance.id)
    assert finance.open_by_state["pending"] == 0  # D3 was addressed to Finance


def test_an_empty_office_has_zeros_everywhere(app, fake_clock):
    figures = routing.dashboard(calendar(), MONDAY - timedelta(days=89))
    assert figures.open_by_state == dict.fromkeys(OPEN_STATES, 0)
    assert (figures.open_items, figures.closed, figures.returned, figures.extra_urgent_open) == (0, 0, 0, 0)
    assert (figures.tasks_by_department, figures.handling_by_department, figures.handling_by_type) == ((), (), ())


def test_the_figures_are_plain_json(office):
    data = json.loads(json.dumps(routing.dashboard(calendar(), TUESDAY_AFTER).as_dict()))
    assert data["today"] == "2026-03-10" and data["since"] == "2026-03-10"
    assert data["open_items"] == 8 and data["open_by_state"]["handling"] == 4
    assert (data["open_tasks"], data["overdue_tasks"], data["due_soon_tasks"]) == (4, 2, 1)
    assert data["tasks_by_department"][1] == {
        "id": None,
        "name": None,
        "open": 1,
        "overdue": 1,
        "due_soon": 0,
        "extra_urgent": 1,
    }
    assert data["handling_by_department"][0]["median_working_days"] == 5.0


def test_working_days_between_days_agree_with_the_calendar(app):
    workdays.set_day(SYSTEM, HOLIDAY, "holiday", "Fiesta local")
    office_calendar = calendar()
    counter = _WorkingDays(office_calendar)
    days = [date(2026, 2, 20) + timedelta(days=n) for n in range(0, 40, 3)]
    for start in days:
        for end in days:
            assert counter.between(start, end) == office_calendar.working_days_between(start, end), (start, end)


def test_chart_labels_are_cut_by_display_width():
    assert chart_label("Finance") == "Finance"
    assert chart_label("x" * 24) == "x" * 24
    assert chart_label("x" * 25) == "x" * 23 + "…"
    assert chart_label("Dirección General de Infraestructuras") == "Dirección General de In…"
    assert chart_label("办公室综合协调与督查督办处理中心") == "办公室综合协调与督查督…"  # 2 columns a character


# --- the page --------------------------------------------------------------------------------------------------------


def svg_of(html: str, chart_id: str) -> str:
    match = re.search(rf'<svg class="chart"[^>]*id="{chart_id}".*?</svg>', html, re.S)
    assert match, f"no chart {chart_id}"
    return match.group(0)


def test_staff_may_not_see_the_dashboard(people, client, sign_in):
    assert client.get("/dashboard/").status_code == 302  # to the sign-in page
    sign_in("stan")
    assert client.get("/dashboard/").status_code == 403


def test_the_page_draws_the_figures_as_charts_and_tables(office, client, sign_in):
    sign_in("director")
    response = client.get("/dashboard/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert not re.search(r"\sstyle=", html)  # the CSP would drop it
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert html.count('role="img"') == 4

    states = svg_of(html, "chart-by-state")
    assert '<title id="chart-by-state-title">Open items by state</title>' in states
    assert 'aria-labelledby="chart-by-state-title chart-by-state-desc"' in states
    assert re.findall(r'class="bar bar-state" data-value="(\d+)"', states) == ["1", "1", "1", "4", "1"]
    assert ">being handled<" in states and ">4<" in states

    departments = svg_of(html, "chart-by-department")
    assert re.findall(r'class="bar bar-(\w+)" data-value="(\d+)"', departments) == [
        ("open", "3"),
        ("overdue", "1"),
        ("open", "1"),
        ("overdue", "1"),
    ]
    assert ">1 overdue<" in departments and ">3 open<" in departments  # overdue in words, not only in red
    assert ">No department<" in departments

    times = svg_of(html, "chart-by-department-time")
    assert 'data-value="4.0"' in times and ">4 working days · 3 cases<" in times
    types = svg_of(html, "chart-by-type-time")
    assert ">2 working days · 1 case<" in types and ">0 working days · 1 case<" in types

    assert html.count("Show as table") == 4
    assert '<td class="number">7</td>' in html  # Legal's average in calendar days, in the table
    assert "/chase/" not in html  # the chase list is the clerks'


def test_clerks_are_led_from_the_departments_to_the_chase_list(office, client, sign_in, app):
    sign_in("lucia")
    html = client.get("/dashboard/").get_data(as_text=True)
    if "chase.index" in app.view_functions:
        assert f'href="/chase/?department={office.p.finance.id}"' in html
    if "tasks.board" in app.view_functions:
        assert 'href="/tasks/board"' in html


def test_a_long_department_name_is_cut_in_the_chart_and_whole_in_its_title(office, sender, client, sign_in):
    long_name = "Dirección General de Infraestructuras y Servicios Tecnológicos"
    department = organisation.create_department(SYSTEM, code="DGI", name=long_name)
    document = register(office.p.clerk, sender, "D12")
    instruct(office.p, document, ("department", department.id), date(2026, 3, 20))
    sign_in("director")
    chart = svg_of(client.get("/dashboard/").get_data(as_text=True), "chart-by-department")
    assert ">Dirección General de In…<" in chart
    assert f"<title>{long_name}: 1 open, 0 overdue</title>" in chart


def test_the_filters_narrow_the_page_and_bad_values_come_back_with_a_message(office, client, sign_in):
    sign_in("director")
    html = client.get(f"/dashboard/?period=30&department={office.p.legal.id}").get_data(as_text=True)
    assert '<option value="30" selected>' in html
    assert "No task is open." in html
    assert ">Legal<" in svg_of(html, "chart-by-department-time")

    response = client.get("/dashboard/?period=7&department=nine")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Choose one of the periods in the list." in html and "Choose a department in the list." in html
    assert '<option value="90" selected>' in html  # the default period


def test_the_period_of_the_page_counts_back_from_today(office, client, sign_in, fake_clock):
    fake_clock.advance(days=40)  # 19 April: what was done in March is outside the last 30 days
    sign_in("director")
    html = client.get("/dashboard/?period=30").get_data(as_text=True)
    assert "No task was completed in this period." in html and "No item was closed in this period." in html
    html = client.get("/dashboard/?period=all").get_data(as_text=True)
    assert "chart-by-department-time" in html and "chart-by-type-time" in html


def test_an_empty_dashboard_says_so_instead_of_drawing_empty_axes(people, client, sign_in):
    sign_in("director")
    html = client.get("/dashboard/").get_data(as_text=True)
    assert '<svg class="chart"' not in html
    for message in (
        "No item is open.",
        "No task is open.",
        "No task was completed in this period.",
        "No item was closed in this period.",
    ):
        assert message in html


@pytest.mark.parametrize("language", ["es", "zh_Hans"])
def test_the_page_renders_in_every_language(office, client, sign_in, language):
    sign_in("lucia")
    response = client.get("/dashboard/?period=all", headers={"Accept-Language": language.replace("_", "-")})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'lang="{language.replace("_", "-")}"' in html
    assert html.count('role="img"') == 4
    assert not re.search(r"\sstyle=", html)
