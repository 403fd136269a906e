"""The working-day calendar in the JSON API: a year, one day, an import, and deadlines."""

from __future__ import annotations

from datetime import date

import pytest

from docstore import audit, workdays
from tests.api_support import assert_error

API = "/api/v1"
D = date.fromisoformat


@pytest.fixture
def admin_auth(admin, token_for):
    return token_for(admin)


@pytest.fixture
def staff_auth(make_user, token_for):
    return token_for(make_user("sam", "staff"))


def test_a_year_shows_the_week_the_default_deadlines_and_its_days(client, staff_auth):
    workdays.set_day(audit.SYSTEM, D("2026-10-10"), "workday", "国庆节调休")
    workdays.set_day(audit.SYSTEM, D("2026-10-01"), "holiday", "国庆节")
    workdays.set_day(audit.SYSTEM, D("2027-01-01"), "holiday", "元旦")
    response = client.get(f"{API}/calendar/2026", headers=staff_auth)
    assert response.status_code == 200
    assert response.get_json() == {
        "year": 2026,
        "week": ["mon", "tue", "wed", "thu", "fri"],
        "deadline_days": {"normal": 15, "urgent": 5, "extra_urgent": 1},
        "days": [
            {"day": "2026-10-01", "kind": "holiday", "name": "国庆节"},
            {"day": "2026-10-10", "kind": "workday", "name": "国庆节调休"},
        ],
    }


@pytest.fixture
def middle_east_week(settings):
    settings.update(WORK_WEEK="sun,mon,tue,wed,thu", DEADLINE_DAYS_NORMAL=10)


@pytest.fixture
def office_in_shanghai(settings):
    settings["OFFICE_TIMEZONE"] = "Asia/Shanghai"


def test_the_settings_shape_the_year(middle_east_week, client, staff_auth):
    body = client.get(f"{API}/calendar/2026", headers=staff_auth).get_json()
    assert body["week"] == ["mon", "tue", "wed", "thu", "sun"] and body["deadline_days"]["normal"] == 10


def test_a_year_out_of_range_is_refused(client, staff_auth):
    error = assert_error(client.get(f"{API}/calendar/3000", headers=staff_auth), 422, "validation_failed")
    assert "year" in error["fields"]


def test_the_calendar_needs_a_token(client):
    assert_error(client.get(f"{API}/calendar/2026"), 401, "invalid_token")


def test_an_admin_adds_changes_and_removes_a_day(client, admin_auth):
    url = f"{API}/calendar/days/2026-12-25"
    response = client.put(url, json={"kind": "holiday", "name": "Navidad"}, headers=admin_auth)
    assert response.status_code == 201
    assert response.get_json() == {"day": "2026-12-25", "kind": "holiday", "name": "Navidad"}
    response = client.put(url, json={"kind": "holiday", "name": "Natividad del Señor"}, headers=admin_auth)
    assert response.status_code == 200 and response.get_json()["name"] == "Natividad del Señor"
    assert client.delete(url, headers=admin_auth).status_code == 204
    assert workdays.list_days(2026) == []
    assert_error(client.delete(url, headers=admin_auth), 404, "not_found")


def test_a_day_with_mistakes_is_refused_field_by_field(client, admin_auth):
    response = client.put(f"{API}/calendar/days/2026-12-25", json={"kind": "feast", "name": ""}, headers=admin_auth)
    error = assert_error(response, 422, "validation_failed")
    assert set(error["fields"]) == {"kind", "name"}
    response = client.put(f"{API}/calendar/days/2026-12-25", json={"kind": "holiday", "name": 7}, headers=admin_auth)
    assert set(assert_error(response, 422, "validation_failed")["fields"]) == {"name"}
    response = client.put(f"{API}/calendar/days/2026-02-30", json={"kind": "holiday", "name": "X"}, headers=admin_auth)
    assert set(assert_error(response, 422, "validation_failed")["fields"]) == {"day"}
    response = client.put(f"{API}/calendar/days/2026-12-25", json={"kind": "holiday", "day": "x"}, headers=admin_auth)
    assert set(assert_error(response, 422, "validation_failed")["fields"]) == {"day"}
    assert workdays.list_days(2026) == []


def test_a_make_up_working_day_must_fall_on_a_day_off(client, admin_auth):
    monday = client.put(f"{API}/calendar/days/2026-10-12", json={"kind": "workday", "name": "X"}, headers=admin_auth)
    assert set(assert_error(monday, 422, "validation_failed")["fields"]) == {"day"}
    imported = client.post(f"{API}/calendar/2026/import", json={"lines": "2026-10-12 laborable X"}, headers=admin_auth)
    assert set(assert_error(imported, 422, "validation_failed")["fields"]) == {"line 1"}
    assert workdays.list_days(2026) == []


def test_a_make_up_working_day_follows_the_working_week_setting(middle_east_week, client, admin_auth):
    friday = client.put(f"{API}/calendar/days/2026-10-16", json={"kind": "workday", "name": "X"}, headers=admin_auth)
    assert friday.status_code == 201
    sunday = client.put(f"{API}/calendar/days/2026-10-11", json={"kind": "workday", "name": "X"}, headers=admin_auth)
    assert set(assert_error(sunday, 422, "validation_failed")["fields"]) == {"day"}


def test_only_admins_change_the_calendar(client, staff_auth):
    url = f"{API}/calendar/days/2026-12-25"
    assert_error(client.put(url, json={"kind": "holiday", "name": "X"}, headers=staff_auth), 403, "forbidden")
    assert_error(client.delete(url, headers=staff_auth), 403, "forbidden")
    imported = client.post(f"{API}/calendar/2026/import", json={"lines": "2026-12-25 X"}, headers=staff_auth)
    assert_error(imported, 403, "forbidden")


def test_an_admin_imports_days_all_or_nothing(client, admin_auth):
    url = f"{API}/calendar/2026/import"
    bad = client.post(url, json={"lines": "2026-01-01 元旦\n2026-1-2 x\n2026-10-01..2026-10-07"}, headers=admin_auth)
    error = assert_error(bad, 422, "validation_failed")
    assert set(error["fields"]) == {"line 2", "line 3"}
    assert workdays.list_days(2026) == []
    good = client.post(url, json={"lines": "2026-01-01 元旦\n2026-10-01..2026-10-07 国庆节"}, headers=admin_auth)
    assert good.status_code == 200
    assert good.get_json() == {"added": 8, "changed": 0, "unchanged": 0, "removed": 0}
    replaced = client.post(url, json={"lines": "2026-01-01 元旦", "replace": True}, headers=admin_auth)
    assert replaced.get_json() == {"added": 0, "changed": 0, "unchanged": 1, "removed": 7}


def test_a_deadline_in_working_days_counts_from_the_next_working_day(client, staff_auth):
    workdays.set_day(audit.SYSTEM, D("2026-10-12"), "holiday", "Fiesta Nacional")
    response = client.get(f"{API}/calendar/deadline?from=2026-10-10&days=1", headers=staff_auth)
    assert response.status_code == 200
    assert response.get_json() == {
        "from": "2026-10-10",
        "counts_from": "2026-10-13",
        "days": 1,
        "urgency": None,
        "deadline": "2026-10-14",
    }


def test_a_default_deadline_by_urgency(client, staff_auth):
    body = client.get(f"{API}/calendar/deadline?from=2026-10-14&urgency=normal", headers=staff_auth).get_json()
    assert (body["days"], body["urgency"], body["deadline"]) == (15, "normal", "2026-11-04")


def test_a_deadline_from_a_moment_takes_its_day_in_office_time(office_in_shanghai, client, staff_auth):
    # 17:00 on Friday in UTC is 01:00 on Saturday in Shanghai: counts from Monday.
    url = f"{API}/calendar/deadline?from=2026-10-16T17:00:00%2B00:00&urgency=extra_urgent"
    assert client.get(url, headers=staff_auth).get_json()["deadline"] == "2026-10-20"
    url = f"{API}/calendar/deadline?from=2026-10-16T23:30:00&urgency=extra_urgent"  # office time
    assert client.get(url, headers=staff_auth).get_json()["deadline"] == "2026-10-19"


def test_a_deadline_from_today_by_default(client, staff_auth, fake_clock):
    body = client.get(f"{API}/calendar/deadline?days=0", headers=staff_auth).get_json()
    assert body["from"] == body["deadline"] == "2026-03-02"


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("from=2026-10-10", {"days"}),
        ("from=2026-10-10&days=1&urgency=urgent", {"urgency"}),
        ("from=2026-10-10&urgency=soon", {"urgency"}),
        ("from=2026-10-10&days=-1", {"days"}),
        ("from=2026-10-10&days=3651", {"days"}),
        ("from=10/10/2026&days=1", {"from"}),
        ("from=1899-12-31&days=1", {"from"}),
    ],
)
def test_a_deadline_question_with_mistakes_is_refused(client, staff_auth, query, fields):
    response = client.get(f"{API}/calendar/deadline?{query}", headers=staff_auth)
    assert set(assert_error(response, 422, "validation_failed")["fields"]) == fields


def test_the_calendar_operations_are_described(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    assert set(spec["paths"]["/calendar/days/{day}"]) == {"put", "delete"}
    assert {p["name"] for p in spec["paths"]["/calendar/deadline"]["get"]["parameters"]} == {"from", "days", "urgency"}
    assert spec["components"]["schemas"]["CalendarDayInput"]["required"] == ["kind", "name"]
