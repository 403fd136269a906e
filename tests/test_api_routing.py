"""Routing in the JSON API: the whole flow with every kind of user, the inboxes, chasing, the dashboard and errors."""

from __future__ import annotations

import re
import threading
import time
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from docstore import accounts, audit, organisation, routing
from docstore.extensions import db
from docstore.models import AuditEvent, Notification, RoutingItem, Task
from tests.api_support import assert_error, series_id
from tests.conftest import Browser

API = "/api/v1"
SYSTEM = audit.SYSTEM
MONDAY = date(2026, 3, 2)  # the fake clock's day


# --- the office --------------------------------------------------------------------------------------------------


@pytest.fixture
def office(app, make_user, token_for, fake_clock):
    """A clerk, a leader, Finance (Ana, Bo), Legal (Carl), a reader (Dora), a substitute (Eve), each with a token."""
    head = organisation.create_department(SYSTEM, code="BGS", name="Office", kind="office")
    finance = organisation.create_department(SYSTEM, code="FIN", name="Finance")
    legal = organisation.create_department(SYSTEM, code="LEG", name="Legal")
    people = {
        "clerk": make_user("lucia", "clerk", full_name="Lucía Clerk", clearance=3, department_id=head.id),
        "director": make_user("director", "leader", full_name="Diana Director", department_id=head.id),
        "ana": make_user("ana", "staff", full_name="Ana Ruiz", department_id=finance.id),
        "bo": make_user("bo", "staff", full_name="Bo Li", department_id=finance.id),
        "carl": make_user("carl", "staff", full_name="Carl Cruz", department_id=legal.id),
        "dora": make_user("dora", "staff", full_name="Dora Diaz"),
        "eve": make_user("eve", "staff", full_name="Eve Eng", department_id=head.id),
    }
    tokens = {name: token_for(user) for name, user in people.items()}
    return SimpleNamespace(office=head, finance=finance, legal=legal, auth=tokens, **people)


@pytest.fixture
def sender_id(sender):
    return sender.id


def register(client, office, sender_id, department=None, **fields) -> int:
    """Register an incoming document through the API (as the clerk) and return its id."""
    data = {
        "series_id": series_id("IN"),
        "title": "Solicitud de presupuesto",
        "received_at": "2026-03-02T08:30:00+00:00",
        "channel": "paper",
        "correspondent_id": sender_id,
        "department_id": (department or office.finance).id,
        **fields,
    }
    response = client.post(f"{API}/documents/incoming", json=data, headers=office.auth["clerk"])
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def register_reply(client, office) -> int:
    data = {
        "series_id": series_id("OUT"),
        "title": "Respuesta",
        "department_id": office.finance.id,
        "main_recipients": [{"department_id": office.legal.id}],
    }
    response = client.post(f"{API}/documents/outgoing", json=data, headers=office.auth["clerk"])
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def step(client, office, who: str, document_id: int, action: str, body: dict | None = None, status: int = 200):
    """Take a step of a document's routing as `who`; check the status and return the JSON answer."""
    response = client.post(
        f"{API}/documents/{document_id}/routing/{action}",
        json=body if body is not None else {},
        headers=office.auth[who],
    )
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def on_task(client, office, who: str, task_id: int, action: str, body: dict, status: int = 200):
    response = client.post(f"{API}/tasks/{task_id}/{action}", json=body, headers=office.auth[who])
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def get(client, office, who: str, path: str, status: int = 200):
    response = client.get(f"{API}{path}", headers=office.auth[who])
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def instructed(client, office, sender_id, deadline: str = "2026-03-13", **fields) -> tuple[int, dict]:
    """Return a document received and instructed (Finance leads, Carl co-handles) and its routing for the clerk."""
    document_id = register(client, office, sender_id, **fields)
    step(client, office, "clerk", document_id, "accept", {"kind": "action"})
    body = {
        "text": "Finance leads.",
        "lead": {"department_id": office.finance.id},
        "co_handlers": [{"user_id": office.carl.id}],
        "deadline": deadline,
    }
    return document_id, step(client, office, "director", document_id, "instruct", body)


def lead_and_co(view: dict) -> tuple[dict, dict]:
    lead = next(task for task in view["tasks"] if task["role"] == "lead" and task["state"] == "open")
    co = next(task for task in view["tasks"] if task["role"] == "co")
    return lead, co


def substitute(user, substitute_user, days: int = 10) -> None:
    """Make `substitute_user` act for `user` from today for `days` days."""
    accounts.add_substitution(SYSTEM, user.id, substitute_user.id, MONDAY, MONDAY + timedelta(days=days), "Leave")


def resolved(value, office):
    """Return `value` (a JSON body) with every "@name" replaced by the id of that person of the office."""
    if isinstance(value, dict):
        return {key: resolved(item, office) for key, item in value.items()}
    if isinstance(value, list):
        return [resolved(item, office) for item in value]
    if isinstance(value, str) and value.startswith("@"):
        return getattr(office, value[1:]).id
    return value


def count_events(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


# --- the whole flow ----------------------------------------------------------------------------------------------


def test_a_document_goes_from_receipt_to_closing_through_the_api(client, office, sender_id, fake_clock):
    o = office
    document_id = register(client, o, sender_id, department_id=None)  # addressed to no department
    view = get(client, o, "clerk", f"/documents/{document_id}/routing")
    assert (view["routed"], view["state"], view["actions"]) == (True, "pending", ["accept", "return"])
    assert view["document"]["id"] == document_id and view["document"]["title"] == "Solicitud de presupuesto"
    assert get(client, o, "director", f"/documents/{document_id}/routing")["actions"] == []  # not proposed yet
    assert_error(client.get(f"{API}/documents/{document_id}/routing", headers=o.auth["eve"]), 404, "not_found")
    assert_error(client.get(f"{API}/documents/{document_id}/routing", headers=o.auth["ana"]), 404, "not_found")

    view = step(client, o, "clerk", document_id, "accept", {"kind": "action"})
    assert view["state"] == "accepted" and view["kind"] == "action"
    assert {"propose", "circulate"} <= set(view["actions"]) and "accept" not in view["actions"]

    fake_clock.advance(minutes=5)
    proposal = {
        "leader_id": o.director.id,
        "department_ids": [o.finance.id, o.legal.id],
        "deadline": "2026-03-13",
        "text": "Finance to lead, Legal to advise.",
    }
    view = step(client, o, "clerk", document_id, "propose", proposal)
    assert view["state"] == "proposed"
    assert view["proposal"]["leader"] == {"id": o.director.id, "name": "Diana Director"}
    assert [d["name"] for d in view["proposal"]["departments"]] == ["Finance", "Legal"]
    waiting = get(client, o, "director", "/proposals")
    assert [row["document"]["id"] for row in waiting["items"]] == [document_id] and waiting["total"] == 1

    # the director is away: Eve instructs for her, naming her, and sees what the director sees
    substitute(o.director, o.eve)
    view = get(client, o, "eve", f"/documents/{document_id}/routing")
    assert "instruct" in view["actions"] and view["instruct_for"]["id"] == o.director.id
    assert get(client, o, "eve", "/proposals")["items"][0]["held_for"]["id"] == o.director.id
    fake_clock.advance(minutes=5)
    instruction = {
        "text": "Agreed: Finance leads, Carl advises.",
        "lead": {"department_id": o.finance.id},
        "co_handlers": [{"user_id": o.carl.id}],
        "deadline": "2026-03-13",
        "acting_for": o.director.id,
    }
    view = step(client, o, "eve", document_id, "instruct", instruction)
    assert view["state"] == "handling" and view["deadline"] == "2026-03-13"
    (given,) = view["instructions"]
    assert (given["author"]["id"], given["acting_for"]["id"], given["leader"]["id"]) == (
        o.eve.id,
        o.director.id,
        o.director.id,
    )
    lead, co = lead_and_co(view)
    assert (lead["department"]["id"], lead["user"]) == (o.finance.id, None)
    assert (co["user"]["id"], co["department"]) == (o.carl.id, None)

    # the inboxes: Finance's task for Ana and Bo, Carl's own
    assert [t["id"] for t in get(client, o, "ana", "/tasks")["items"]] == [lead["id"]]
    assert [t["id"] for t in get(client, o, "bo", "/tasks/department")["items"]] == [lead["id"]]
    carls = get(client, o, "carl", "/tasks")["items"]
    assert [t["id"] for t in carls] == [co["id"]] and carls[0]["document"]["title"] == "Solicitud de presupuesto"

    # Carl (Legal) opens the Finance document because he handles it; comments and reports
    view = get(client, o, "carl", f"/documents/{document_id}/routing")
    assert next(t for t in view["tasks"] if t["id"] == co["id"])["actions"] == [
        "comment",
        "extension",
        "forward",
        "complete",
    ]
    assert next(t for t in view["tasks"] if t["id"] == lead["id"])["actions"] == []
    fake_clock.advance(minutes=5)
    comment = on_task(client, o, "carl", co["id"], "comments", {"text": "Clause 4 needs a look."}, 201)
    assert (comment["author"]["id"], comment["text"]) == (o.carl.id, "Clause 4 needs a look.")
    done = on_task(client, o, "carl", co["id"], "complete", {"result": "No legal objection."})
    assert (done["state"], done["result"], done["completed_by"]["id"]) == ("done", "No legal objection.", o.carl.id)
    assert get(client, o, "clerk", f"/documents/{document_id}/routing")["state"] == "handling"

    # more time: Ana asks, the clerk approves
    fake_clock.advance(minutes=5)
    asked = on_task(
        client, o, "ana", lead["id"], "extension", {"new_deadline": "2026-03-20", "reason": "Figures."}, 201
    )
    assert (asked["state"], asked["new_deadline"], asked["actions"]) == ("pending", "2026-03-20", [])
    view = get(client, o, "clerk", f"/documents/{document_id}/routing")
    pending = next(t for t in view["tasks"] if t["id"] == lead["id"])["extension_requests"]
    assert [(r["id"], r["actions"]) for r in pending] == [(asked["id"], ["decide"])]
    response = client.post(
        f"{API}/extensions/{asked['id']}/decide", json={"approve": True, "note": "Agreed."}, headers=o.auth["clerk"]
    )
    assert response.status_code == 200 and response.get_json()["state"] == "approved"
    view = get(client, o, "ana", f"/documents/{document_id}/routing")
    assert next(t for t in view["tasks"] if t["id"] == lead["id"])["deadline"] == "2026-03-20"

    # Ana passes the task to Bo, who reports the result
    fake_clock.advance(minutes=5)
    forwarded = on_task(client, o, "ana", lead["id"], "forward", {"user_id": o.bo.id}, 201)
    assert (forwarded["user"]["id"], forwarded["forwarded_from_id"], forwarded["role"]) == (o.bo.id, lead["id"], "lead")
    on_task(client, o, "bo", forwarded["id"], "complete", {"result": "Budget approved."})
    view = get(client, o, "clerk", f"/documents/{document_id}/routing")
    assert view["state"] == "handled" and "close" in view["actions"]
    assert [t["id"] for t in get(client, o, "bo", "/tasks?bucket=done")["items"]] == [forwarded["id"]]

    # circulation: Dora must read it before it closes
    fake_clock.advance(minutes=5)
    view = step(client, o, "clerk", document_id, "circulate", {"reader_ids": [o.dora.id], "required": True})
    assert [(r["user"]["id"], r["required"], r["read_at"]) for r in view["readers"]] == [(o.dora.id, True, None)]
    reading = get(client, o, "dora", "/reading")
    assert [(row["document"]["id"], row["required"]) for row in reading["items"]] == [(document_id, True)]
    reply_id = register_reply(client, o)
    closing = {"result": "Replied with the budget.", "reply_document_id": reply_id}
    error = assert_error(
        client.post(f"{API}/documents/{document_id}/routing/close", json=closing, headers=o.auth["clerk"]),
        409,
        "illegal_transition",
    )
    assert "Dora Diaz" in error["message"]
    assert get(client, o, "dora", f"/documents/{document_id}/routing")["actions"] == ["read"]
    fake_clock.advance(minutes=5)
    view = step(client, o, "dora", document_id, "read")
    assert view["readers"][0]["read_at"] is not None and view["actions"] == []
    assert get(client, o, "dora", "/reading")["total"] == 0

    fake_clock.advance(minutes=5)
    view = step(client, o, "clerk", document_id, "close", closing)
    assert (view["state"], view["result"], view["reply_document"]["id"]) == (
        "closed",
        "Replied with the budget.",
        reply_id,
    )
    assert view["closed_by"]["id"] == o.clerk.id and view["actions"] == ["reopen"]
    fake_clock.advance(minutes=5)
    view = step(client, o, "clerk", document_id, "reopen", {"reason": "A follow-up question."})
    assert view["state"] == "accepted" and view["closed_at"] is None  # received again, for a new instruction

    timeline = get(client, o, "clerk", f"/documents/{document_id}/routing/timeline")["items"]
    whats = [entry["what"] for entry in timeline]
    assert whats == [
        "accept",
        "propose",
        "instruct",
        "instruction",
        "task",
        "task",
        "comment",
        "result",
        "extension_requested",
        "extension_approved",
        "task",
        "forwarded",
        "result",
        "handle",
        "sent_to_read",
        "read",
        "close",
        "reopen",
    ]
    given = timeline[whats.index("instruction")]
    assert given["actor"] == {"id": o.eve.id, "name": "Eve Eng"}
    assert given["acting_for"] == {"id": o.director.id, "name": "Diana Director"}
    assert given["text"] == "Agreed: Finance leads, Carl advises." and given["details"]["deadline"] == "2026-03-13"
    assert timeline[0]["at"] == "2026-03-02T09:00:00+00:00"
    assert audit.verify_chain().intact


def test_a_substitute_handles_a_task_for_the_person_they_replace(client, office, sender_id):
    o = office
    document_id, view = instructed(client, o, sender_id)
    _lead, co = lead_and_co(view)
    substitute(o.carl, o.dora)  # Dora stands in for Carl, in Legal, though she has no department
    listed = get(client, o, "dora", "/tasks")["items"]
    assert [(t["id"], t["held_for"]["id"]) for t in listed] == [(co["id"], o.carl.id)]
    view = get(client, o, "dora", f"/documents/{document_id}/routing")
    task = next(t for t in view["tasks"] if t["id"] == co["id"])
    assert task["actions"] == ["comment", "extension", "forward", "complete"]
    assert task["act_for"]["id"] == o.carl.id
    done = on_task(client, o, "dora", co["id"], "complete", {"result": "Checked for Carl.", "acting_for": o.carl.id})
    assert (done["completed_by"]["id"], done["acting_for"]["id"]) == (o.dora.id, o.carl.id)
    timeline = get(client, o, "clerk", f"/documents/{document_id}/routing/timeline")["items"]
    result = next(entry for entry in timeline if entry["what"] == "result")
    assert (result["actor"]["name"], result["acting_for"]["name"]) == ("Dora Diaz", "Carl Cruz")


def test_a_substitute_for_two_handlers_records_the_one_they_name(client, office, sender_id):
    o = office
    document_id, view = instructed(client, o, sender_id)
    lead, _co = lead_and_co(view)
    substitute(o.ana, o.dora)  # Dora stands in for both of Finance's people: either may act on its task
    substitute(o.bo, o.dora)
    on_task(client, o, "dora", lead["id"], "comments", {"text": "For Bo.", "acting_for": o.bo.id}, 201)
    done = on_task(client, o, "dora", lead["id"], "complete", {"result": "Done for Bo.", "acting_for": o.bo.id})
    assert done["acting_for"]["id"] == o.bo.id
    timeline = get(client, o, "clerk", f"/documents/{document_id}/routing/timeline")["items"]
    recorded = [(e["what"], e["actor"]["id"], e["acting_for"]["id"]) for e in timeline if e["acting_for"]]
    assert recorded == [("comment", o.dora.id, o.bo.id), ("result", o.dora.id, o.bo.id), ("handle", o.dora.id, o.bo.id)]


def test_a_substitute_cannot_name_someone_they_do_not_act_for(client, office, sender_id):
    o = office
    _document_id, view = instructed(client, o, sender_id)
    _lead, co = lead_and_co(view)
    substitute(o.carl, o.dora)
    body = {"result": "For Ana?", "acting_for": o.ana.id}
    error = assert_error(
        client.post(f"{API}/tasks/{co['id']}/complete", json=body, headers=o.auth["dora"]), 422, "validation_failed"
    )
    assert set(error["fields"]) == {"acting_for"}
    assert db.session.get(Task, co["id"]).state == "open"


def test_an_information_document_is_circulated_and_closed(client, office, sender_id):
    o = office
    document_id = register(client, o, sender_id)
    view = step(client, o, "clerk", document_id, "accept", {"kind": "information"})
    assert view["kind"] == "information" and "propose" not in view["actions"] and "close" in view["actions"]
    assert_error(
        client.post(
            f"{API}/documents/{document_id}/routing/instruct",
            json={"text": "x", "lead": {"user_id": o.ana.id}},
            headers=o.auth["director"],
        ),
        409,
        "illegal_transition",
    )
    step(client, o, "clerk", document_id, "circulate", {"reader_ids": [o.dora.id, o.bo.id]})
    view = step(client, o, "clerk", document_id, "close", {"result": "Noted by all concerned."})
    assert view["state"] == "closed"


def test_a_substitute_for_a_reader_opens_what_was_sent_to_them(client, office, sender_id):
    o = office
    document_id = register(client, o, sender_id)  # Finance's: Carl, in Legal, may not open it
    step(client, o, "clerk", document_id, "accept", {"kind": "information"})
    step(client, o, "clerk", document_id, "circulate", {"reader_ids": [o.dora.id]})
    paths = (
        f"/documents/{document_id}",
        f"/documents/{document_id}/routing",
        f"/documents/{document_id}/routing/timeline",
    )
    for path in paths:
        assert_error(client.get(f"{API}{path}", headers=o.auth["carl"]), 404, "not_found")
    substitute(o.dora, o.carl)  # Carl stands in for Dora, who reads it
    for path in paths:
        get(client, o, "carl", path)
    assert get(client, o, "carl", f"/documents/{document_id}/routing")["readers"][0]["user"]["id"] == o.dora.id


def test_a_colleagues_own_task_on_a_document_not_open_to_me_is_withheld(client, office, sender_id):
    o = office
    document_id = register(client, o, sender_id, department_id=None)  # addressed to no department
    step(client, o, "clerk", document_id, "accept", {"kind": "action"})
    step(client, o, "director", document_id, "instruct", {"text": "Ana answers.", "lead": {"user_id": o.ana.id}})
    number = get(client, o, "clerk", f"/documents/{document_id}")["number"]
    (row,) = get(client, o, "bo", "/tasks/department")["items"]  # Ana's own task: Bo, in Finance, may not open it
    assert row["user"]["id"] == o.ana.id
    assert row["document"] == {"id": document_id, "number": number, "withheld": True}
    assert_error(client.get(f"{API}/documents/{document_id}", headers=o.auth["bo"]), 404, "not_found")
    (row,) = get(client, o, "ana", "/tasks/department")["items"]
    assert row["document"]["title"] == "Solicitud de presupuesto" and "withheld" not in row["document"]


def test_a_document_returned_to_its_sender_can_be_reopened(client, office, sender_id):
    o = office
    document_id = register(client, o, sender_id)
    view = step(client, o, "clerk", document_id, "return", {"reason": "Not in our remit."})
    assert (view["state"], view["return_reason"], view["actions"]) == ("returned", "Not in our remit.", ["reopen"])
    view = step(client, o, "clerk", document_id, "reopen", {"reason": "It is ours after all."})
    assert view["state"] == "accepted"


# --- errors, by endpoint family ------------------------------------------------------------------------------------


def routing_rules(app) -> list[tuple[str, str]]:
    """Return (method, path with ids filled in) of every routing operation of the API."""
    ours = re.compile(
        r"^/api/v1/(documents/<int:document_id>/routing|tasks|reading|proposals|routing|chase|extensions"
        r"|dashboard)"
    )
    found = []
    for rule in app.url_map.iter_rules():
        if ours.match(rule.rule):
            path = re.sub(r"<int:\w+>", "1", rule.rule)
            found += [(method, path) for method in rule.methods & {"GET", "POST"}]
    return sorted(found)


def test_every_routing_operation_needs_a_token(app, client):
    rules = routing_rules(app)
    assert len(rules) == 24
    for method, path in rules:
        response = client.open(path, method=method, json={})
        assert_error(response, 401, "invalid_token")


def test_every_routing_operation_is_described_with_its_body(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    bodies = {
        "/documents/{document_id}/routing/accept": {"kind"},
        "/documents/{document_id}/routing/return": {"reason"},
        "/documents/{document_id}/routing/propose": {"leader_id", "department_ids", "deadline", "text"},
        "/documents/{document_id}/routing/instruct": {"text", "lead", "co_handlers", "deadline", "acting_for"},
        "/documents/{document_id}/routing/circulate": {"reader_ids", "required"},
        "/documents/{document_id}/routing/close": {"result", "reason", "reply_document_id"},
        "/documents/{document_id}/routing/reopen": {"reason"},
        "/tasks/{task_id}/comments": {"text", "acting_for"},
        "/tasks/{task_id}/extension": {"new_deadline", "reason", "acting_for"},
        "/tasks/{task_id}/forward": {"user_id", "acting_for"},
        "/tasks/{task_id}/complete": {"result", "acting_for"},
        "/extensions/{request_id}/decide": {"approve", "note"},
        "/chase/remind-overdue": {"department_id"},
    }
    for path, fields in bodies.items():
        ref = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert set(schemas[ref.rsplit("/", 1)[-1]]["properties"]) == fields, path
    for path in ("/documents/{document_id}/routing/read", "/tasks/{task_id}/remind"):
        assert "requestBody" not in spec["paths"][path]["post"]
    routing_view = schemas["Routing"]["properties"]
    assert set(routing_view["actions"]["items"]["enum"]) == {
        "accept",
        "return",
        "propose",
        "instruct",
        "circulate",
        "read",
        "close",
        "reopen",
    }
    assert {"instructions", "tasks", "readers", "state", "kind", "deadline", "proposal", "result"} <= set(routing_view)


def test_steps_only_the_right_people_may_take_are_forbidden_to_others(client, office, sender_id):
    o = office
    document_id = register(client, o, sender_id)
    for action, body in (("accept", {}), ("return", {"reason": "No."})):
        assert_error(
            client.post(f"{API}/documents/{document_id}/routing/{action}", json=body, headers=o.auth["ana"]),
            403,
            "forbidden",
        )
    assert get(client, o, "clerk", f"/documents/{document_id}/routing")["state"] == "pending"
    step(client, o, "clerk", document_id, "accept", {"kind": "action"})
    instruction = {"text": "I lead.", "lead": {"user_id": o.ana.id}}
    assert_error(
        client.post(f"{API}/documents/{document_id}/routing/instruct", json=instruction, headers=o.auth["ana"]),
        403,
        "forbidden",
    )
    view = step(client, o, "director", document_id, "instruct", {**instruction, "text": "Ana leads."})
    lead = view["tasks"][0]
    # Bo sees the Finance document but the task is Ana's; the clerk may comment but not complete it
    assert_error(
        client.post(f"{API}/tasks/{lead['id']}/complete", json={"result": "x"}, headers=o.auth["bo"]), 403, "forbidden"
    )
    assert_error(
        client.post(f"{API}/tasks/{lead['id']}/complete", json={"result": "x"}, headers=o.auth["clerk"]),
        403,
        "forbidden",
    )
    on_task(client, o, "clerk", lead["id"], "comments", {"text": "Please hurry."}, 201)
    asked = on_task(client, o, "ana", lead["id"], "extension", {"new_deadline": "2026-04-30", "reason": "Busy."}, 201)
    assert_error(
        client.post(f"{API}/extensions/{asked['id']}/decide", json={"approve": True}, headers=o.auth["ana"]),
        403,
        "forbidden",
    )
    for path in ("/routing/board", "/chase", "/dashboard"):
        assert_error(client.get(f"{API}{path}", headers=o.auth["ana"]), 403, "forbidden")
    assert_error(client.post(f"{API}/tasks/{lead['id']}/remind", headers=o.auth["ana"]), 403, "forbidden")
    assert_error(client.post(f"{API}/chase/remind-overdue", json={}, headers=o.auth["ana"]), 403, "forbidden")
    assert db.session.get(Task, lead["id"]).state == "open"


def test_a_document_the_caller_may_not_open_is_404_like_a_missing_one(client, office, sender_id):
    o = office
    document_id, view = instructed(client, o, sender_id)
    lead, _co = lead_and_co(view)
    asked = on_task(client, o, "ana", lead["id"], "extension", {"new_deadline": "2026-04-30", "reason": "Busy."}, 201)
    missing = assert_error(client.get(f"{API}/documents/999999/routing", headers=o.auth["dora"]), 404, "not_found")
    for path in (f"/documents/{document_id}/routing", f"/documents/{document_id}/routing/timeline"):
        hidden = assert_error(client.get(f"{API}{path}", headers=o.auth["dora"]), 404, "not_found")
        assert hidden["message"] == missing["message"]
    for action in ("accept", "read", "close"):
        response = client.post(f"{API}/documents/{document_id}/routing/{action}", json={}, headers=o.auth["dora"])
        assert assert_error(response, 404, "not_found")["message"] == missing["message"]
    task_missing = assert_error(
        client.post(f"{API}/tasks/999999/complete", json={"result": "x"}, headers=o.auth["dora"]), 404, "not_found"
    )
    for action, body in (("complete", {"result": "x"}), ("comments", {"text": "x"}), ("forward", {"user_id": 1})):
        response = client.post(f"{API}/tasks/{lead['id']}/{action}", json=body, headers=o.auth["dora"])
        assert assert_error(response, 404, "not_found")["message"] == task_missing["message"]
    request_missing = assert_error(
        client.post(f"{API}/extensions/999999/decide", json={"approve": True}, headers=o.auth["clerk"]),
        404,
        "not_found",
    )
    response = client.post(f"{API}/extensions/{asked['id']}/decide", json={"approve": True}, headers=o.auth["dora"])
    assert assert_error(response, 404, "not_found")["message"] == request_missing["message"]
    # an outgoing document is not routed
    reply_id = register_reply(client, o)
    assert_error(client.get(f"{API}/documents/{reply_id}/routing", headers=o.auth["clerk"]), 404, "not_found")
    assert db.session.get(Task, lead["id"]).state == "open"


def test_a_classified_document_is_hidden_from_a_clerk_below_its_level(client, office, sender_id, make_user, token_for):
    o = office
    document_id = register(client, o, sender_id, classification=3)
    junior = token_for(make_user("junior", "clerk", clearance=1))
    assert_error(client.get(f"{API}/documents/{document_id}/routing", headers=junior), 404, "not_found")
    assert_error(
        client.post(f"{API}/documents/{document_id}/routing/accept", json={}, headers=junior), 404, "not_found"
    )
    board = client.get(f"{API}/routing/board", headers=junior).get_json()
    assert board["items"][0]["document"] == {
        "id": document_id,
        "number": board["items"][0]["document"]["number"],
        "withheld": True,
    }


def test_steps_out_of_order_are_409_illegal_transition(client, office, sender_id):
    o = office
    document_id = register(client, o, sender_id)
    step(client, o, "clerk", document_id, "accept", {})
    for action, body in (
        ("accept", {}),
        ("return", {"reason": "Late."}),
        ("reopen", {"reason": "Why?"}),
        ("close", {"result": "Done."}),
    ):
        error = assert_error(
            client.post(f"{API}/documents/{document_id}/routing/{action}", json=body, headers=o.auth["clerk"]),
            409,
            "illegal_transition",
        )
        assert "received" in error["message"]
    view = step(client, o, "director", document_id, "instruct", {"text": "Ana leads.", "lead": {"user_id": o.ana.id}})
    lead = view["tasks"][0]
    on_task(client, o, "ana", lead["id"], "complete", {"result": "Done."})
    for action, body in (
        ("complete", {"result": "Again."}),
        ("forward", {"user_id": o.bo.id}),
        ("extension", {"new_deadline": "2026-04-30", "reason": "More."}),
    ):
        assert_error(
            client.post(f"{API}/tasks/{lead['id']}/{action}", json=body, headers=o.auth["ana"]),
            409,
            "illegal_transition",
        )
    assert_error(client.post(f"{API}/tasks/{lead['id']}/remind", headers=o.auth["clerk"]), 409, "illegal_transition")


def test_a_request_for_more_time_is_decided_once(client, office, sender_id):
    o = office
    _document_id, view = instructed(client, o, sender_id)
    lead, _co = lead_and_co(view)
    asked = on_task(client, o, "ana", lead["id"], "extension", {"new_deadline": "2026-04-30", "reason": "Busy."}, 201)
    assert_error(
        client.post(
            f"{API}/tasks/{lead['id']}/extension",
            json={"new_deadline": "2026-05-29", "reason": "x"},
            headers=o.auth["bo"],
        ),
        409,
        "illegal_transition",
    )
    refused = client.post(
        f"{API}/extensions/{asked['id']}/decide", json={"approve": False, "note": "No."}, headers=o.auth["clerk"]
    )
    assert refused.status_code == 200 and refused.get_json()["state"] == "refused"
    assert_error(
        client.post(f"{API}/extensions/{asked['id']}/decide", json={"approve": True}, headers=o.auth["clerk"]),
        409,
        "illegal_transition",
    )
    assert db.session.get(Task, lead["id"]).deadline == date(2026, 3, 13)


#: Bodies of the steps of a document's routing that are refused, with the fields named ("@ana": Ana's id).
STEP_MISTAKES = [
    ("accept", {"kind": "urgent"}, {"kind"}),
    ("accept", {"kind": "action", "colour": "red"}, {"colour"}),
    ("return", {}, {"reason"}),
    ("return", {"reason": 7}, {"reason"}),
    ("propose", {"leader_id": "1", "text": "x"}, {"leader_id"}),
    ("propose", {"leader_id": None, "text": "x", "department_ids": "1"}, {"leader_id", "department_ids"}),
    ("propose", {"leader_id": 999999, "text": "x", "department_ids": [999999]}, {"leader_id", "department_ids"}),
    ("propose", {"leader_id": "@director", "text": "x", "deadline": "2026-03-01"}, {"deadline"}),
    ("propose", {"leader_id": "@director", "text": "x", "deadline": "13/03/2026"}, {"deadline"}),
    ("propose", {"leader_id": "@director", "text": ""}, {"text"}),
    ("instruct", {"text": "x", "lead": {"user_id": "ana"}}, {"lead"}),
    ("instruct", {"text": "x", "lead": {"user_id": 1, "department_id": 1}}, {"lead"}),
    ("instruct", {"text": "x", "lead": {"team_id": 1}}, {"lead"}),
    ("instruct", {"text": "x", "lead": {"user_id": 999999}}, {"lead"}),
    (
        "instruct",
        {"text": "x", "lead": {"user_id": "ana"}, "co_handlers": [{"user_id": "bo"}]},
        {"lead", "co_handlers"},
    ),
    ("instruct", {"text": "x", "lead": {"user_id": "@ana"}, "co_handlers": [7]}, {"co_handlers"}),
    ("instruct", {"text": "x", "lead": {"user_id": "@ana"}, "co_handlers": {"user_id": "@bo"}}, {"co_handlers"}),
    ("instruct", {"text": "x", "lead": {"user_id": "@ana"}, "co_handlers": [{"user_id": "@ana"}]}, {"co_handlers"}),
    ("instruct", {"text": "x", "lead": {"user_id": "@ana"}, "deadline": "2026-02-27"}, {"deadline"}),
    ("instruct", {"text": "x", "lead": {"user_id": "@ana"}, "acting_for": "diana"}, {"acting_for"}),
    ("instruct", {"text": "x", "lead": {"user_id": "@ana"}, "acting_for": "@bo"}, {"acting_for"}),
    ("instruct", {"text": "x", "lead": {"user_id": "@ana"}, "acting_for": 2**40}, {"acting_for"}),
    ("instruct", {"text": "x"}, {"lead"}),
    ("circulate", {"reader_ids": []}, {"reader_ids"}),
    ("circulate", {"reader_ids": [999999]}, {"reader_ids"}),
    ("circulate", {"reader_ids": 5}, {"reader_ids"}),
    ("circulate", {"reader_ids": ["5"]}, {"reader_ids"}),
    ("circulate", {"reader_ids": ["@dora"], "required": "yes"}, {"required"}),
    ("close", {}, {"result"}),
    ("close", {"result": "x", "reply_document_id": 999999}, {"reply_document_id"}),
    ("close", {"result": ["x"]}, {"result"}),
    ("reopen", {"reason": None}, {"reason"}),
]


def test_invalid_input_to_a_step_is_422_naming_the_fields_and_changes_nothing(client, office, sender_id):
    o = office
    pending = register(client, o, sender_id)
    accepted = register(client, o, sender_id)
    step(client, o, "clerk", accepted, "accept", {})
    before = {ident: get(client, o, "clerk", f"/documents/{ident}/routing") for ident in (pending, accepted)}
    for action, body, fields in STEP_MISTAKES:
        document_id = accepted if action in ("propose", "instruct", "circulate") else pending
        who = "director" if action == "instruct" else "clerk"
        path = f"{API}/documents/{document_id}/routing/{action}"
        response = client.post(path, json=resolved(body, o), headers=o.auth[who])
        error = assert_error(response, 422, "validation_failed")
        assert set(error["fields"]) == fields, (action, body, error)
    for ident, view in before.items():
        assert get(client, o, "clerk", f"/documents/{ident}/routing") == view


def test_a_body_that_is_not_a_json_object_is_422(client, office, sender_id):
    o = office
    document_id = register(client, o, sender_id)
    for data in ("[]", "not json", '"accept"'):
        response = client.post(
            f"{API}/documents/{document_id}/routing/accept",
            data=data,
            content_type="application/json",
            headers=o.auth["clerk"],
        )
        assert set(assert_error(response, 422, "validation_failed")["fields"]) == {"body"}


#: Bodies of the steps of a task that are refused, with the fields named.
TASK_MISTAKES = [
    ("comments", {"text": ""}, {"text"}),
    ("comments", {"text": "x", "mood": "sad"}, {"mood"}),
    ("extension", {"new_deadline": "2026-03-10", "reason": "Earlier?"}, {"new_deadline"}),
    ("extension", {"new_deadline": "next week", "reason": "x"}, {"new_deadline"}),
    ("extension", {"new_deadline": "2026-04-30", "reason": ""}, {"reason"}),
    ("extension", {"new_deadline": 20260430, "reason": "x"}, {"new_deadline"}),
    ("forward", {"user_id": "carl"}, {"user_id"}),
    ("forward", {"user_id": "@carl"}, {"user_id"}),
    ("forward", {"user_id": "@dora", "acting_for": "@bo"}, {"acting_for"}),
    ("forward", {}, {"user_id"}),
    ("complete", {"result": ""}, {"result"}),
    ("complete", {"result": True}, {"result"}),
]


def test_invalid_input_to_a_task_is_422_naming_the_fields_and_changes_nothing(client, office, sender_id):
    o = office
    document_id, view = instructed(client, o, sender_id)
    lead, _co = lead_and_co(view)
    view = get(client, o, "ana", f"/documents/{document_id}/routing")
    for action, body, fields in TASK_MISTAKES:
        response = client.post(f"{API}/tasks/{lead['id']}/{action}", json=resolved(body, o), headers=o.auth["ana"])
        error = assert_error(response, 422, "validation_failed")
        assert set(error["fields"]) == fields, (action, body, error)
    assert get(client, o, "ana", f"/documents/{document_id}/routing") == view


def test_a_decision_needs_approve_as_true_or_false(client, office, sender_id):
    o = office
    _document_id, view = instructed(client, o, sender_id)
    lead, _co = lead_and_co(view)
    asked = on_task(client, o, "ana", lead["id"], "extension", {"new_deadline": "2026-04-30", "reason": "Busy."}, 201)
    for body in ({}, {"approve": "yes"}, {"approve": 1}, {"approve": True, "why": "x"}):
        response = client.post(f"{API}/extensions/{asked['id']}/decide", json=body, headers=o.auth["clerk"])
        assert assert_error(response, 422, "validation_failed")["fields"]
    assert get(client, o, "clerk", "/routing/board")["items"][0]["lead"]["deadline"] == "2026-03-13"


#: List arguments that are refused, with the fields named.
LIST_MISTAKES = [
    ("/tasks?bucket=later", {"bucket"}),
    ("/tasks?page=0", {"page"}),
    ("/tasks/department?per_page=x", {"per_page"}),
    ("/reading?page=-1", {"page"}),
    ("/routing/board?state=closed", {"state"}),
    ("/routing/board?urgency=asap", {"urgency"}),
    ("/routing/board?department_id=999999", {"department_id"}),
    ("/chase?department_id=abc", {"department_id"}),
    ("/chase?department_id=999999", {"department_id"}),
    ("/dashboard?since=yesterday", {"since"}),
    ("/dashboard?department_id=999999", {"department_id"}),
]


def test_bad_list_arguments_are_422_naming_them(client, office):
    for path, fields in LIST_MISTAKES:
        error = assert_error(client.get(f"{API}{path}", headers=office.auth["clerk"]), 422, "validation_failed")
        assert set(error["fields"]) == fields, (path, error)


# --- two people at once ------------------------------------------------------------------------------------------


def test_two_people_completing_a_task_at_once_leave_one_result(app, client, office, sender_id, monkeypatch):
    o = office
    document_id, view = instructed(client, o, sender_id)
    lead, _co = lead_and_co(view)
    complete = routing.complete_task

    def slow_complete(*args, **kwargs):
        task = complete(*args, **kwargs)
        time.sleep(0.3)  # hold the transaction open while the other request tries
        return task

    monkeypatch.setattr(routing, "complete_task", slow_complete)
    start, outcomes = threading.Barrier(2), {}

    def post(name: str) -> None:
        try:
            with app.app_context():
                browser = Browser(app, app.response_class)
                start.wait(10)
                response = browser.post(
                    f"{API}/tasks/{lead['id']}/complete", json={"result": f"Result by {name}"}, headers=o.auth[name]
                )
                outcomes[name] = (response.status_code, response.get_json())
                db.session.remove()
        except Exception as exc:  # reported below: an assertion in a thread would go unnoticed
            outcomes[name] = (None, repr(exc))

    threads = [threading.Thread(target=post, args=(name,)) for name in ("ana", "bo")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(status for status, _body in outcomes.values())
    assert statuses == [200, 409], outcomes
    winner = next(name for name, (status, _body) in outcomes.items() if status == 200)
    loser_body = next(body for status, body in outcomes.values() if status == 409)
    assert loser_body["error"]["code"] == "illegal_transition"
    db.session.rollback()  # see what the requests committed
    task = db.session.get(Task, lead["id"])
    users = {"ana": o.ana.id, "bo": o.bo.id}
    assert (task.state, task.result, task.completed_by_id) == ("done", f"Result by {winner}", users[winner])
    assert count_events("routing.task.complete") == 1 and count_events("routing.handle") == 1
    item = db.session.scalars(select(RoutingItem).where(RoutingItem.document_id == document_id)).one()
    assert item.state == "handled"
    assert audit.verify_chain().intact


# --- the inboxes, pages and buckets --------------------------------------------------------------------------------


def test_my_tasks_are_paged_and_sorted_into_buckets_by_the_office_date(client, office, sender_id, fake_clock):
    o = office
    deadlines = {"2026-03-03": "normal", "2026-03-13": "normal", "2026-03-20": "extra_urgent"}
    documents = {}
    for deadline, urgency in deadlines.items():
        document_id = register(client, o, sender_id, title=f"Due {deadline}", urgency=urgency)
        step(client, o, "clerk", document_id, "accept", {})
        body = {"text": "Ana, please.", "lead": {"user_id": o.ana.id}, "deadline": deadline}
        documents[deadline] = step(client, o, "director", document_id, "instruct", body)["tasks"][0]["id"]

    first = get(client, o, "ana", "/tasks?per_page=2")
    assert (first["total"], first["page"], first["per_page"], len(first["items"])) == (3, 1, 2, 2)
    # extra-urgent first, then by deadline
    assert [t["id"] for t in first["items"]] == [documents["2026-03-20"], documents["2026-03-03"]]
    second = get(client, o, "ana", "/tasks?per_page=2&page=2")
    assert [t["id"] for t in second["items"]] == [documents["2026-03-13"]]
    assert get(client, o, "ana", "/tasks?page=9")["items"] == []
    due_soon = get(client, o, "ana", "/tasks?bucket=due_soon")["items"]
    assert [t["id"] for t in due_soon] == [documents["2026-03-03"]] and due_soon[0]["overdue"] is False
    assert get(client, o, "ana", "/tasks?bucket=overdue")["total"] == 0

    fake_clock.advance(days=2)  # Wednesday 4 March: the task due on the 3rd is late
    overdue = get(client, o, "ana", "/tasks?bucket=overdue")["items"]
    assert [(t["id"], t["overdue"]) for t in overdue] == [(documents["2026-03-03"], True)]
    on_task(client, o, "ana", documents["2026-03-13"], "complete", {"result": "Done."})
    assert [t["id"] for t in get(client, o, "ana", "/tasks?bucket=done")["items"]] == [documents["2026-03-13"]]
    assert get(client, o, "ana", "/tasks")["total"] == 2
    assert get(client, o, "bo", "/tasks")["total"] == 0  # Ana's own tasks, not Finance's
    assert get(client, o, "bo", "/tasks/department")["total"] == 2  # but Bo's department sees its members' tasks


def test_the_clerks_board_filters_by_state_and_department(client, office, sender_id):
    o = office
    _handled, _view = instructed(client, o, sender_id, title="Finance's")
    waiting = register(client, o, sender_id, title="Waiting")
    board = get(client, o, "clerk", "/routing/board")
    assert board["total"] == 2
    assert [row["document"]["id"] for row in get(client, o, "clerk", "/routing/board?state=pending")["items"]] == [
        waiting
    ]
    handling = get(client, o, "clerk", f"/routing/board?state=handling&department_id={o.legal.id}")["items"]
    assert [row["document"]["title"] for row in handling] == ["Finance's"]
    assert handling[0]["lead"]["department"]["id"] == o.finance.id
    assert get(client, o, "clerk", "/routing/board?per_page=1&page=2")["items"][0]["document"]["id"] in (
        waiting,
        _handled,
    )


# --- chasing and the dashboard -------------------------------------------------------------------------------------


def test_the_chase_list_shows_late_tasks_and_a_clerk_reminds_once_a_day(client, office, sender_id, fake_clock):
    o = office
    _late_id, view = instructed(client, o, sender_id, deadline="2026-03-03")
    lead, co = lead_and_co(view)
    _later, _view = instructed(client, o, sender_id, deadline="2026-03-27")
    fake_clock.advance(days=2)  # Wednesday: both tasks of the first document are a working day late
    chase = get(client, o, "clerk", "/chase")
    assert chase["total"] == 2 and chase["today"] == "2026-03-04"
    assert {row["id"] for row in chase["items"]} == {lead["id"], co["id"]}
    assert all(row["overdue"] and row["days_overdue"] == 1 for row in chase["items"])
    assert {row["department"]["name"] for row in chase["departments"] if row["department"]} == {"Finance", "Legal"}
    only_legal = get(client, o, "clerk", f"/chase?department_id={o.legal.id}")
    assert [row["id"] for row in only_legal["items"]] == [co["id"]]
    assert len(only_legal["departments"]) == 2  # the counts of every department stay

    response = client.post(f"{API}/tasks/{lead['id']}/remind", headers=o.auth["clerk"])
    assert response.status_code == 200 and response.get_json() == {"notified": 2}  # Ana and Bo, Finance's people
    told = db.session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "chase"))
    assert told == 2
    assert client.post(f"{API}/tasks/{lead['id']}/remind", headers=o.auth["clerk"]).get_json() == {"notified": 0}
    assert next(row for row in get(client, o, "clerk", "/chase")["items"] if row["id"] == lead["id"])["reminded_today"]
    reminded = client.post(f"{API}/chase/remind-overdue", json={}, headers=o.auth["clerk"])
    assert reminded.status_code == 200 and reminded.get_json() == {"tasks": 1, "people": 1}  # Carl's task only


def test_the_dashboard_counts_for_leaders_and_clerks(client, office, sender_id):
    o = office
    instructed(client, o, sender_id)
    register(client, o, sender_id)
    for who in ("clerk", "director"):
        figures = get(client, o, who, "/dashboard?since=2026-03-01")
        assert figures["since"] == "2026-03-01" and figures["today"] == "2026-03-02"
        assert figures["open_by_state"]["handling"] == 1 and figures["open_by_state"]["pending"] == 1
        assert figures["open_items"] == 2 and figures["open_tasks"] == 2
    only_legal = get(client, o, "clerk", f"/dashboard?department_id={o.legal.id}")
    assert only_legal["department_id"] == o.legal.id and only_legal["open_tasks"] == 1
