"""The routing panel of a document's page: each role's actions through the forms, refusals, and the timeline."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from lxml import html
from sqlalchemy import event, func, select

from docstore import accounts, audit, clock, organisation, registry, routing
from docstore.extensions import db
from docstore.models import AuditEvent, Series, Task
from tests.conftest import Browser
from tests.service_support import act, ctx

SYSTEM = audit.SYSTEM
MONDAY = date(2026, 3, 2)  # the fake clock's day
POLICY = registry.UploadPolicy(frozenset({"text"}), 1 << 20, "UTC")


def register(clerk, sender, title: str = "Solicitud de presupuesto", urgency: str = "normal", **fields):
    data = registry.Registration(
        series_id=db.session.query(Series).filter_by(code="IN").one().id,
        title=title,
        urgency=urgency,
        received_at=clock.now() - timedelta(hours=1),
        channel="paper",
        correspondent_id=sender.id,
        **fields,
    )
    return registry.register_document(ctx(clerk), "incoming", data, [], POLICY, None)


def register_reply(clerk, sender, department):
    data = registry.Registration(
        series_id=db.session.query(Series).filter_by(code="OUT").one().id,
        title="Respuesta",
        department_id=department.id,
        main_recipients=[("correspondent", sender.id)],
    )
    return registry.register_document(ctx(clerk), "outgoing", data, [], POLICY, None)


def tasks_of(document) -> list[Task]:
    db.session.rollback()  # see what the requests committed
    item = routing.get_item(document.id)
    return list(db.session.scalars(select(Task).where(Task.item_id == item.id).order_by(Task.id)))


def state_of(document) -> str:
    db.session.rollback()
    return routing.get_item(document.id).state


def audit_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.fixture
def office(app, make_user, clerk, fake_clock):
    """An office: a clerk, a leader, Li (the office), Finance (Ana, Bo), Legal (Carl, Cleo), Dora (a reader)."""
    bgs = organisation.create_department(SYSTEM, code="BGS", name="Office", kind="office")
    finance = organisation.create_department(SYSTEM, code="FIN", name="Finance")
    legal = organisation.create_department(SYSTEM, code="LEG", name="Legal")
    return SimpleNamespace(
        clerk=clerk,
        bgs=bgs,
        finance=finance,
        legal=legal,
        director=make_user("director", "leader", full_name="Diana Director", department_id=bgs.id),
        li=make_user("li", "staff", full_name="Li Ming", department_id=bgs.id),
        ana=make_user("ana", "staff", full_name="Ana Ruiz", department_id=finance.id),
        bo=make_user("bo", "staff", full_name="Bo Li", department_id=finance.id),
        carl=make_user("carl", "staff", full_name="Carl Cruz", department_id=legal.id),
        cleo=make_user("cleo", "staff", full_name="Cleo Lam", department_id=legal.id),
        dora=make_user("dora", "staff", full_name="Dora Diaz"),
    )


def text_of(element) -> str:
    return " ".join(element.text_content().split())


def page(browser: Browser, document, status: int = 200):
    response = browser.get(f"/documents/{document.id}")
    assert response.status_code == status, response.text
    return html.fromstring(response.text)


def send(browser: Browser, url: str, data: dict | None = None, status: int = 302):
    """POST a form; return the page it leads to (the redirect followed), or the page sent back."""
    response = browser.post(url, data=data or {})
    assert response.status_code == status, response.text
    if status == 302:
        location = response.headers["Location"]
        return location, html.fromstring(browser.get(location).text)
    return None, html.fromstring(response.text)


def top_flashes(tree) -> list[str]:
    """Return the messages at the top of the page."""
    return [text_of(element) for element in tree.xpath("//main/p[contains(@class, 'flash')]")]


def panel_flashes(tree) -> list[str]:
    """Return the messages at the top of the routing panel (those of a routing step just done)."""
    return [text_of(element) for element in tree.xpath("//div[@id='routing-messages']/p[contains(@class, 'flash')]")]


def flashes(tree) -> list[str]:
    """Return every message of the page, wherever it is shown."""
    return top_flashes(tree) + panel_flashes(tree)


def state_badge(tree) -> str:
    return text_of(tree.get_element_by_id("routing-state"))


def field_error(tree, field_id: str) -> str:
    return text_of(tree.get_element_by_id(f"{field_id}-error"))


def timeline(tree) -> list[str]:
    return [text_of(li) for li in tree.xpath("//ol[@id='routing-timeline']/li")]


def has(tree, element_id: str) -> bool:
    return bool(tree.xpath(f"//*[@id='{element_id}']"))


def selected(tree, field_id: str) -> list[str]:
    return tree.xpath(f"//select[@id='{field_id}']//option[@selected]/@value")


# --- the whole flow ------------------------------------------------------------------------------------------------


def test_a_document_is_carried_from_receipt_to_closing_through_the_pages(office, sender, browse, fake_clock):
    o = office
    document = register(o.clerk, sender, department_id=o.finance.id)
    base = f"/documents/{document.id}/routing"
    clerk, director, ana, bo, carl, dora = (browse(u) for u in (o.clerk, o.director, o.ana, o.bo, o.carl, o.dora))

    tree = page(clerk, document)
    assert state_badge(tree) == "awaiting receipt"
    assert text_of(tree.get_element_by_id("routing-accept-action")) == "Receive for action"
    assert not has(page(ana, document), "routing-accept-form")  # Finance staff see the panel, not the clerk's forms

    location, tree = send(clerk, f"{base}/accept", {"kind": "action"})
    assert location == f"/documents/{document.id}#routing"
    assert flashes(tree) == [f"{document.number} is received for action: propose its handling."]
    assert state_badge(tree) == "received"
    assert has(tree, "routing-propose-form") and not has(tree, "routing-accept-form")

    fake_clock.advance(minutes=5)
    _location, tree = send(
        clerk,
        f"{base}/propose",
        {
            "leader_id": o.director.id,
            "lead_department_id": o.finance.id,
            "other_department_ids": [o.legal.id],
            "deadline": "2026-03-13",
            "text": "Finance to lead, Legal to advise.",
        },
    )
    assert flashes(tree) == ["The proposed handling is saved: the leader can instruct now."]
    assert state_badge(tree) == "proposed to a leader"
    proposal = text_of(tree.get_element_by_id("routing-proposal"))
    assert "Diana Director" in proposal and "Finance (lead), Legal" in proposal and "Legal to advise" in proposal
    assert not has(tree, "routing-instruct-form")  # the clerk does not instruct

    # the leader's form is prefilled from the proposal: a few clicks to instruct
    tree = page(director, document)
    assert selected(tree, "routing-instruct-lead") == [f"department:{o.finance.id}"]
    assert selected(tree, "routing-instruct-co_handlers") == [f"department:{o.legal.id}"]
    assert tree.get_element_by_id("routing-instruct-deadline").get("value") == "2026-03-13"
    assert tree.get_element_by_id("routing-instruct-text").text.strip() == "Agreed: handle as proposed."
    fake_clock.advance(minutes=5)
    _location, tree = send(
        director,
        f"{base}/instruct",
        {
            "text": "Agreed: Finance leads, Legal advises.",
            "lead": f"department:{o.finance.id}",
            "co_handlers": [f"department:{o.legal.id}"],
            "deadline": "2026-03-13",
        },
    )
    assert flashes(tree) == ["The instruction is recorded; 2 tasks are assigned."]
    assert state_badge(tree) == "being handled"
    assert "Agreed: Finance leads, Legal advises." in text_of(tree.get_element_by_id("routing-instructions"))
    lead, co = tasks_of(document)
    assert (lead.role, lead.department_id, co.role, co.department_id) == ("lead", o.finance.id, "co", o.legal.id)

    # the co-handler (Legal) comments and reports; their contribution shows in the tasks table
    tree = page(carl, document)
    assert has(tree, f"my-task-{co.id}") and not has(tree, f"my-task-{lead.id}")
    fake_clock.advance(minutes=5)
    _location, tree = send(carl, f"/tasks/{co.id}/comment", {"text": "Clause 4 needs a look."})
    assert flashes(tree) == ["Your comment is added."]
    fake_clock.advance(minutes=5)
    _location, tree = send(carl, f"/tasks/{co.id}/complete", {"result": "No legal objection."})
    assert flashes(tree) == ["Your result is recorded; the lead handler sees it."]
    assert not has(tree, f"my-task-{co.id}")
    row = text_of(page(ana, document).get_element_by_id(f"task-{co.id}"))
    assert "No legal objection." in row and "Clause 4 needs a look." in row and "Carl Cruz" in row

    # Finance asks for more time; the clerk gives it
    fake_clock.advance(minutes=5)
    _location, tree = send(
        ana, f"/tasks/{lead.id}/extension", {"new_deadline": "2026-03-20", "reason": "The figures come on the 18th."}
    )
    assert flashes(tree) == ["Your request for more time is sent to the office."]
    assert "More time asked for: until Mar 20, 2026" in text_of(tree.get_element_by_id(f"task-{lead.id}"))
    tree = page(clerk, document)
    (request_id,) = [int(e.get("id").split("-")[1]) for e in tree.xpath("//article[starts-with(@id, 'extension-')]")]
    decision = text_of(tree.get_element_by_id(f"extension-{request_id}"))
    assert "Ana Ruiz asks for more time on the task of Finance: until Mar 20, 2026 instead of Mar 13, 2026" in decision
    fake_clock.advance(minutes=5)
    _location, tree = send(clerk, f"/extensions/{request_id}/decide", {"decision": "approve", "note": "Agreed."})
    assert flashes(tree) == ["More time is given, until Mar 20, 2026."]
    assert tasks_of(document)[0].deadline == date(2026, 3, 20)
    assert not has(tree, f"extension-{request_id}")

    # Ana forwards the lead task to Bo, who reports the result that ends the handling
    tree = page(ana, document)
    assert tree.xpath(f"//select[@id='task-{lead.id}-forward-user_id']/option/text()") == [
        "— choose —",
        "Ana Ruiz",
        "Bo Li",
    ]
    fake_clock.advance(minutes=5)
    _location, tree = send(ana, f"/tasks/{lead.id}/forward", {"user_id": o.bo.id})
    assert flashes(tree) == ["The task is passed on to Bo Li."]
    forwarded = tasks_of(document)[-1]
    assert (forwarded.user_id, forwarded.role, forwarded.forwarded_from_id) == (o.bo.id, "lead", lead.id)
    assert not has(page(ana, document), f"my-task-{forwarded.id}")
    fake_clock.advance(minutes=5)
    _location, tree = send(bo, f"/tasks/{forwarded.id}/complete", {"result": "Budget approved; reply drafted."})
    assert flashes(tree) == ["Your result is recorded: the handling is finished, the office closes it."]
    assert state_badge(tree) == "handled"

    # circulation: Dora must read it before it closes; the director may
    fake_clock.advance(minutes=5)
    _location, tree = send(clerk, f"{base}/circulate", {"reader_ids": [o.dora.id], "required": "y"})
    assert flashes(tree) == ["Sent to 1 reader."]
    _location, tree = send(clerk, f"{base}/circulate", {"reader_ids": [o.director.id]})
    readers = [text_of(li) for li in tree.xpath("//ul[@id='routing-readers']/li")]
    assert readers == ["Dora Diaz required — not read yet", "Diana Director — not read yet"]
    assert not has(tree, "routing-close-form")  # closing waits for Dora: no form sure to fail
    reply = register_reply(o.clerk, sender, o.bgs)
    before = audit_count()
    _location, tree = send(clerk, f"{base}/close", {"result": "Replied.", "reply_number": reply.number})
    assert flashes(tree) == [
        "Closing waits for the required readers who have not read it yet: Dora Diaz."
    ]  # a form sent all the same: the message says who
    assert state_badge(tree) == "handled" and audit_count() == before
    assert "Closing waits for: Dora Diaz." in text_of(tree.get_element_by_id("routing-close"))

    tree = page(dora, document)
    assert "The office waits for you before closing it." in text_of(tree.get_element_by_id("routing-read"))
    fake_clock.advance(minutes=5)
    _location, tree = send(dora, f"{base}/read")
    assert flashes(tree) == ["Marked as read."]
    assert not has(tree, "routing-read-form")

    tree = page(clerk, document)
    assert tree.get_element_by_id("routing-close-result").text.strip() == "Budget approved; reply drafted."  # prefilled
    fake_clock.advance(minutes=5)
    _location, tree = send(
        clerk, f"{base}/close", {"result": "Replied with the budget.", "reply_number": f" {reply.number.lower()} "}
    )
    assert flashes(tree) == [f"{document.number} is closed."]
    assert state_badge(tree) == "closed"
    closing = text_of(tree.get_element_by_id("routing-closed"))
    assert "Replied with the budget." in closing and reply.number in closing
    assert tree.xpath("//dl[@id='routing-closed']//a/@href") == [f"/documents/{reply.id}"]
    assert not has(tree, "routing-close-form") and has(tree, "routing-reopen-form")

    fake_clock.advance(minutes=5)
    _location, tree = send(clerk, f"{base}/reopen", {"reason": "The sender asks a follow-up question."})
    assert flashes(tree) == [f"{document.number} is reopened."]
    assert state_badge(tree) == "received"  # to be handled anew: proposed or instructed again

    # every step is on the timeline, in order, with who did it and what was written
    steps = timeline(tree)
    expected = [
        ("Received", "Lucia"),
        ("Handling proposed", "Lucia"),
        ("Sent for handling", "Diana Director"),
        ("Instruction, due Mar 13, 2026", "Diana Director", "Agreed: Finance leads, Legal advises."),
        ("Task for Finance (Lead handler)", "Diana Director"),
        ("Task for Legal (Co-handler)", "Diana Director"),
        ("Comment on the task of Legal", "Carl Cruz", "Clause 4 needs a look."),
        ("Result of Legal (Co-handler)", "Carl Cruz", "No legal objection."),
        ("More time asked for on the task of Finance, until Mar 20, 2026", "Ana Ruiz", "The figures come on"),
        ("More time given to Finance, until Mar 20, 2026", "Lucia", "Agreed."),
        ("Task forwarded to Bo Li (Lead handler)", "Ana Ruiz"),
        ("Task of Finance passed on", "Ana Ruiz"),
        ("Result of Bo Li (Lead handler)", "Bo Li", "Budget approved; reply drafted."),
        ("Handling finished", "Bo Li", "Budget approved; reply drafted."),
        ("Sent to Dora Diaz to read (required before closing)", "Lucia"),
        ("Sent to Diana Director to read", "Lucia"),
        ("Read", "Dora Diaz"),
        ("Closed", "Lucia", "Replied with the budget."),
        ("Reopened", "Lucia", "The sender asks a follow-up question."),
    ]
    assert len(steps) == len(expected), steps
    for step, (what, who, *text) in zip(steps, expected, strict=True):
        assert f"{what} · {who}" in step, step
        assert not text or text[0] in step, step
    assert audit.verify_chain().intact


def test_a_document_returned_to_the_sender_shows_the_reason_and_can_be_reopened(office, sender, browse):
    o = office
    document = register(o.clerk, sender)
    base = f"/documents/{document.id}/routing"
    clerk = browse(o.clerk)

    before = audit_count()
    _location, tree = send(clerk, f"{base}/accept", {"kind": "urgent"}, status=422)
    assert "Choose for action or for information." in text_of(tree.get_element_by_id("routing-accept-form"))
    _location, tree = send(clerk, f"{base}/return", {"reason": "   "}, status=422)
    assert field_error(tree, "routing-return-reason") == "Enter the text."
    assert tree.xpath("//details[@id='routing-return']/@open")  # the form comes back open, at its mistake
    assert state_of(document) == "pending" and audit_count() == before

    _location, tree = send(clerk, f"{base}/return", {"reason": "Not in our remit."})
    assert flashes(tree) == [f"{document.number} is returned to the sender."]
    assert state_badge(tree) == "returned to the sender"
    assert "Not in our remit." in text_of(tree.get_element_by_id("routing-returned"))
    assert "Returned to the sender · Lucia Not in our remit." in timeline(tree)[0]

    _location, tree = send(clerk, f"{base}/reopen", {"reason": "Sent to us again by the ministry."})
    assert state_badge(tree) == "received"  # no tasks: back to received


def test_an_information_item_is_received_circulated_and_closed(office, sender, browse):
    o = office
    document = register(o.clerk, sender, title="Circular")
    base = f"/documents/{document.id}/routing"
    clerk = browse(o.clerk)
    _location, tree = send(clerk, f"{base}/accept", {"kind": "information"})
    assert flashes(tree) == [f"{document.number} is received for information: send it to its readers, then close it."]
    assert text_of(tree.get_element_by_id("routing-kind")) == "For information"
    assert not has(tree, "routing-propose-form")  # information items are not proposed or instructed
    assert not has(page(browse(o.director), document), "routing-instruct-form")
    _location, tree = send(clerk, f"{base}/circulate", {"reader_ids": [o.ana.id, o.bo.id]})
    assert flashes(tree) == ["Sent to 2 readers."]
    _location, tree = send(clerk, f"{base}/circulate", {"reader_ids": [o.ana.id]})
    assert flashes(tree) == ["Everyone chosen has it to read already."]
    _location, tree = send(clerk, f"{base}/close", {"result": "Read by Finance."})
    assert state_badge(tree) == "closed"


# --- substitutes ---------------------------------------------------------------------------------------------------


def test_a_substitute_instructs_and_handles_and_the_timeline_says_b_for_a(office, sender, browse):
    o = office
    document = register(o.clerk, sender)  # addressed to no department: Li opens it as the director would
    page(browse(o.li), document, 404)
    accounts.add_substitution(SYSTEM, o.director.id, o.li.id, MONDAY, MONDAY + timedelta(days=4))
    accounts.add_substitution(SYSTEM, o.carl.id, o.bo.id, MONDAY, MONDAY + timedelta(days=4))
    base = f"/documents/{document.id}/routing"
    send(browse(o.clerk), f"{base}/accept", {"kind": "action"})

    li = browse(o.li)
    tree = page(li, document)
    assert "You instruct for Diana Director." in text_of(tree.get_element_by_id("routing-instruct"))
    _location, tree = send(li, f"{base}/instruct", {"text": "Carl handles it.", "lead": f"user:{o.carl.id}"})
    assert flashes(tree) == ["The instruction is recorded; 1 task is assigned."]
    assert "Li Ming for Diana Director" in text_of(tree.get_element_by_id("routing-instructions"))
    (task,) = tasks_of(document)

    bo = browse(o.bo)  # Bo (Finance) stands in for Carl (Legal): he opens the document and acts for him
    tree = page(bo, document)
    assert "for Carl Cruz" in text_of(tree.get_element_by_id(f"my-task-{task.id}"))
    assert not has(tree, f"task-{task.id}-forward-form") or tree.xpath(
        f"//select[@id='task-{task.id}-forward-user_id']/option/text()"
    ) == ["— choose —", "Cleo Lam"]  # Carl's colleagues, in Legal
    send(bo, f"/tasks/{task.id}/comment", {"text": "On it, for Carl."})
    _location, tree = send(bo, f"/tasks/{task.id}/complete", {"result": "Answered."})
    steps = timeline(tree)
    assert any("Instruction, due" in step and "· Li Ming for Diana Director" in step for step in steps), steps
    assert any(
        step.endswith("Comment on the task of Carl Cruz · Bo Li for Carl Cruz On it, for Carl.") for step in steps
    )
    assert any("Result of Carl Cruz (Lead handler) · Bo Li for Carl Cruz Answered." in step for step in steps)
    assert "Bo Li for Carl Cruz" in text_of(tree.get_element_by_id(f"task-{task.id}"))


# --- refusals ------------------------------------------------------------------------------------------------------


def instructed(o, sender, browse, **fields):
    """Return a document received and instructed through the pages: Finance leads, Legal co-handles, by 13 March."""
    document = register(o.clerk, sender, **fields)
    base = f"/documents/{document.id}/routing"
    send(browse(o.clerk), f"{base}/accept", {"kind": "action"})
    send(
        browse(o.director),
        f"{base}/instruct",
        {
            "text": "Finance leads.",
            "lead": f"department:{o.finance.id}",
            "co_handlers": [f"department:{o.legal.id}"],
            "deadline": "2026-03-13",
        },
    )
    return document


def test_illegal_steps_are_refused_with_a_clear_message_and_change_nothing(office, sender, browse):
    o = office
    document = instructed(o, sender, browse, department_id=o.finance.id)  # Ana sees it after her task is cancelled
    base = f"/documents/{document.id}/routing"
    lead, co = tasks_of(document)
    clerk, director, carl, ana = browse(o.clerk), browse(o.director), browse(o.carl), browse(o.ana)

    before = audit_count()
    _location, tree = send(clerk, f"{base}/accept", {"kind": "action"})
    assert flashes(tree) == ["This document is being handled: it cannot be received now."]
    _location, tree = send(clerk, f"{base}/close", {"result": "Done already?"})
    assert flashes(tree) == ["This document is being handled: it cannot be closed now."]
    send(carl, f"/tasks/{co.id}/complete", {"result": "No objection."})
    after_result = audit_count()
    assert after_result == before + 1
    _location, tree = send(carl, f"/tasks/{co.id}/complete", {"result": "Again."})  # a second click, a stale page
    assert flashes(tree) == ["This task is done: it cannot be completed."]
    assert tasks_of(document)[1].result == "No objection." and audit_count() == after_result

    _location, tree = send(clerk, f"{base}/close", {"reason": "The sender withdrew the request."})
    assert state_badge(tree) == "closed"
    assert [task.state for task in tasks_of(document)] == ["cancelled", "done"]
    closed = audit_count()
    _location, tree = send(director, f"{base}/instruct", {"text": "More.", "lead": f"user:{o.ana.id}"})
    assert flashes(tree) == ["This document is closed: it cannot be instructed now."]
    assert state_of(document) == "closed" and audit_count() == closed
    _location, tree = send(ana, f"/tasks/{lead.id}/comment", {"text": "Late note."})
    assert flashes(tree) == ["This task is cancelled: it cannot be commented on."]
    assert audit_count() == closed


def test_people_without_the_right_get_403_or_404_and_nothing_changes(office, sender, browse):
    o = office
    document = instructed(o, sender, browse)  # addressed to no department: Dora may not open it
    base = f"/documents/{document.id}/routing"
    lead, co = tasks_of(document)
    ana, carl, dora, director, clerk = (browse(u) for u in (o.ana, o.carl, o.dora, o.director, o.clerk))
    before = audit_count()

    assert page(dora, document, status=404) is not None
    for url, data in [
        (f"{base}/instruct", {"text": "x", "lead": f"user:{o.dora.id}"}),
        (f"{base}/read", {}),
        (f"/tasks/{lead.id}/complete", {"result": "Mine now."}),
        (f"/tasks/{co.id}/comment", {"text": "Hello."}),
    ]:
        assert dora.post(url, data=data).status_code == 404, url  # she may not open it: its existence is not told
    assert dora.post(f"{base}/accept", data={"kind": "action"}).status_code == 403  # a clerk's step, for any document
    for url, data in [
        (f"{base}/accept", {"kind": "action"}),
        (f"{base}/close", {"reason": "Mine."}),
        (f"{base}/circulate", {"reader_ids": [o.bo.id]}),
        (f"{base}/reopen", {"reason": "Mine."}),
    ]:
        assert ana.post(url, data=data).status_code == 403, url  # the clerk's steps
    response = ana.post(f"{base}/instruct", data={"text": "I decide.", "lead": f"user:{o.ana.id}"})
    assert response.status_code == 403 and "Only a leader" in response.text
    response = carl.post(f"/tasks/{lead.id}/complete", data={"result": "Not mine."})
    assert response.status_code == 403 and "Only the handlers of this task" in response.text
    assert carl.post(f"/tasks/{lead.id}/forward", data={"user_id": o.cleo.id}).status_code == 403
    assert director.post(f"/tasks/{lead.id}/complete", data={"result": "I do it."}).status_code == 403
    assert ana.post(f"{base}/read", data={}).status_code == 404  # not sent to her to read
    assert ana.post("/tasks/999999/complete", data={"result": "x"}).status_code == 404
    assert clerk.post("/extensions/999999/decide", data={"decision": "approve"}).status_code == 404
    assert ana.get(f"{base}/accept").status_code == 405
    assert state_of(document) == "handling" and audit_count() == before
    assert [task.state for task in tasks_of(document)] == ["open", "open"]


#: Document forms with a mistake: who sends it, to which step, what, and the message expected at which field.
DOCUMENT_FORM_MISTAKES = [
    (
        "director",
        "instruct",
        {"text": " ", "lead": "department:{finance}"},
        "routing-instruct-text",
        "Enter the text.",
    ),
    (
        "director",
        "instruct",
        {"text": "Go.", "lead": "department:{finance}", "deadline": "2026-02-27"},
        "routing-instruct-deadline",
        "The deadline cannot be in the past.",
    ),
    (
        "director",
        "instruct",
        {"text": "Go.", "lead": "nonsense"},
        "routing-instruct-lead",
        "Choose an active user or department.",
    ),
    (
        "director",
        "instruct",
        {"text": "Go.", "lead": "user:999999"},
        "routing-instruct-lead",
        "Choose an active user or department.",
    ),
    (
        "director",
        "instruct",
        {"text": "Go.", "lead": "department:{finance}", "co_handlers": ["department:{finance}"]},
        "routing-instruct-co_handlers",
        "The lead handler cannot also be a co-handler.",
    ),
    (
        "director",
        "instruct",
        {"text": "Go.", "lead": "department:{finance}", "deadline": "2026-02-31"},
        "routing-instruct-deadline",
        "Not a valid date value.",
    ),
    ("director", "instruct", {"text": "Go."}, "routing-instruct-lead", "Name the lead handler."),
    (
        "clerk",
        "propose",
        {"leader_id": "abc", "lead_department_id": "{finance}", "text": "x"},
        "routing-propose-leader_id",
        "Choose an active leader.",
    ),
    (
        "clerk",
        "propose",
        {"leader_id": "{director}", "lead_department_id": "{finance}", "other_department_ids": ["x"], "text": "x"},
        "routing-propose-other_department_ids",
        "Choose existing, active departments.",
    ),
    (
        "clerk",
        "propose",
        {"leader_id": "{director}", "lead_department_id": "999999", "text": "x"},
        "routing-propose-lead_department_id",
        "Choose existing, active departments.",
    ),
    (
        "clerk",
        "propose",
        {"leader_id": "{director}", "other_department_ids": ["{finance}"], "text": "x"},
        "routing-propose-lead_department_id",
        "Choose the lead department: the others help it.",
    ),
    (
        "clerk",
        "propose",
        {"leader_id": "{ana}", "lead_department_id": "{finance}", "text": "x"},
        "routing-propose-leader_id",
        "Choose an active leader.",
    ),
    ("clerk", "circulate", {"required": "y"}, "routing-circulate-reader_ids", "Choose one or more active users."),
    (
        "clerk",
        "circulate",
        {"reader_ids": ["{ana}", "zzz"]},
        "routing-circulate-reader_ids",
        "Choose one or more active users.",
    ),
]


def test_invalid_document_forms_come_back_with_the_mistake_at_its_field(office, sender, browse):
    o = office
    document = register(o.clerk, sender)
    act(routing.accept, ctx(o.clerk), document.id, "action")
    ids = {"finance": o.finance.id, "director": o.director.id, "ana": o.ana.id}
    browsers = {"clerk": browse(o.clerk), "director": browse(o.director)}
    before = audit_count()
    for who, url, data, field, message in DOCUMENT_FORM_MISTAKES:
        data = {
            name: [item.format(**ids) for item in value] if isinstance(value, list) else value.format(**ids)
            for name, value in data.items()
        }
        _location, tree = send(browsers[who], f"/documents/{document.id}/routing/{url}", data, status=422)
        assert field_error(tree, field) == message, (url, data)
        alerts = " ".join(text_of(e) for e in tree.xpath("//*[@role='alert']"))
        assert "Please correct the marked fields." in alerts, (url, data)
        if "text" in data and data["text"].strip():
            assert tree.get_element_by_id(f"routing-{url}-text").text.strip() == data["text"]  # the input is kept
    assert state_of(document) == "accepted" and audit_count() == before


def test_invalid_task_and_closing_forms_never_fail_and_change_nothing(office, sender, browse):
    o = office
    document = instructed(o, sender, browse)
    base = f"/documents/{document.id}/routing"
    lead, co = tasks_of(document)
    ana, carl, clerk = browse(o.ana), browse(o.carl), browse(o.clerk)
    before = audit_count()

    cases = [
        (ana, f"/tasks/{lead.id}/comment", {"text": ""}, f"task-{lead.id}-comment-text", "Enter the text."),
        (ana, f"/tasks/{lead.id}/complete", {"result": "  "}, f"task-{lead.id}-complete-result", "Enter the text."),
        (
            ana,
            f"/tasks/{lead.id}/extension",
            {"new_deadline": "2026-03-10", "reason": "Later."},
            f"task-{lead.id}-extension-new_deadline",
            "Choose a day after the current deadline.",
        ),
        (
            ana,
            f"/tasks/{lead.id}/extension",
            {"new_deadline": "soon", "reason": "Later."},
            f"task-{lead.id}-extension-new_deadline",
            "Not a valid date value.",
        ),
        (
            ana,
            f"/tasks/{lead.id}/forward",
            {"user_id": o.carl.id},
            f"task-{lead.id}-forward-user_id",
            "Choose an active colleague of the same department.",
        ),
        (
            ana,
            f"/tasks/{lead.id}/forward",
            {"user_id": "x"},
            f"task-{lead.id}-forward-user_id",
            "Choose an active colleague of the same department.",
        ),
        (
            clerk,
            f"{base}/close",
            {},
            "routing-close-result",
            "Enter the result, or the reason for closing without one.",
        ),
        (
            clerk,
            f"{base}/close",
            {"reason": "Withdrawn.", "reply_number": "OUT-1999-404"},
            "routing-close-reply_number",
            "No document you may open is numbered OUT-1999-404.",
        ),
        (
            clerk,
            f"{base}/close",
            {"reason": "Withdrawn.", "reply_number": document.number},
            "routing-close-reply_number",
            "Choose a registered outgoing or internal document.",
        ),
    ]
    for browser, url, data, field, message in cases:
        _location, tree = send(browser, url, data, status=422)
        assert field_error(tree, field) == message, url
    _location, tree = send(clerk, f"{base}/reopen", {"reason": "Why not?"})  # not closed: refused by its state
    assert flashes(tree) == ["This document is being handled: it cannot be reopened."]
    _location, tree = send(clerk, f"{base}/reopen", {"reason": ""}, status=422)  # a stale page: no form to show
    assert flashes(tree) == ["Enter the text."]
    carl_tree = send(carl, f"/tasks/{co.id}/comment", {"text": ""}, status=422)[1]
    assert field_error(carl_tree, f"task-{co.id}-comment-text") == "Enter the text."

    # a request for more time decided with neither button
    act(routing.request_extension, ctx(o.bo), lead.id, date(2026, 3, 20), "More time")
    before = audit_count()
    (request,) = [
        int(e.get("id").split("-")[1]) for e in page(clerk, document).xpath("//article[starts-with(@id, 'extension-')]")
    ]
    _location, tree = send(clerk, f"/extensions/{request}/decide", {"decision": "maybe"}, status=422)
    assert "Approve or refuse the request." in text_of(tree.get_element_by_id(f"extension-{request}"))
    assert state_of(document) == "handling" and audit_count() == before
    assert [task.state for task in tasks_of(document)] == ["open", "open"]
    assert tasks_of(document)[0].deadline == date(2026, 3, 13)


def test_a_form_sent_from_a_work_page_comes_back_with_its_mistake_and_keeps_where_to_return(office, sender, browse):
    o = office
    document = register(o.clerk, sender)
    act(routing.accept, ctx(o.clerk), document.id, "action")
    director = browse(o.director)
    data = {
        "text": "Agreed.",
        "lead": f"department:{o.finance.id}",
        "deadline": "2026-02-27",
        "next": "/tasks/instruct",
    }
    _location, tree = send(director, f"/documents/{document.id}/routing/instruct", data, status=422)
    assert field_error(tree, "routing-instruct-deadline") == "The deadline cannot be in the past."
    assert tree.xpath("//form[@id='routing-instruct-form']//input[@name='next']/@value") == ["/tasks/instruct"]
    data["deadline"] = "2026-03-13"
    location, _tree = send(director, f"/documents/{document.id}/routing/instruct", data)
    assert location == "/tasks/instruct" and state_of(document) == "handling"


def test_next_returns_to_a_local_page_only(office, sender, browse):
    o = office
    clerk = browse(o.clerk)
    for target, expected in [
        ("/tasks/", "/tasks/"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("", None),
    ]:
        document = register(o.clerk, sender)
        response = clerk.post(f"/documents/{document.id}/routing/accept", data={"kind": "action", "next": target})
        assert response.status_code == 302
        assert response.headers["Location"] == (expected or f"/documents/{document.id}#routing"), target
        assert state_of(document) == "accepted"


# --- what the panel shows ------------------------------------------------------------------------------------------


def test_an_extra_urgent_overdue_item_is_marked_in_red_and_in_words(office, sender, browse, fake_clock):
    o = office
    document = register(o.clerk, sender, urgency="extra_urgent", deadline=date(2026, 3, 3))
    act(routing.accept, ctx(o.clerk), document.id, "action")
    act(routing.instruct, ctx(o.director), document.id, "Now.", ("user", o.ana.id), [], date(2026, 3, 3))
    fake_clock.advance(days=2)  # Wednesday 4 March: a day late
    tree = page(browse(o.ana), document)
    panel = tree.get_element_by_id("routing")
    assert "routing-extra-urgent" in panel.get("class")
    assert text_of(tree.get_element_by_id("routing-extra-urgent")) == "Extra urgent"
    assert text_of(tree.get_element_by_id("routing-overdue")) == "overdue"
    (task,) = tasks_of(document)
    assert "overdue" in text_of(tree.get_element_by_id(f"task-{task.id}"))
    assert "overdue" in text_of(tree.get_element_by_id(f"my-task-{task.id}"))


def test_outgoing_documents_have_no_routing_panel(office, sender, browse):
    reply = register_reply(office.clerk, sender, office.bgs)
    tree = page(browse(office.clerk), reply)
    assert not has(tree, "routing") and not has(tree, "timeline")


def test_the_panel_reads_the_same_number_of_queries_however_many_tasks(office, sender, browse, app):
    o = office
    small = instructed(o, sender, browse)
    large = instructed(o, sender, browse)
    more = [("user", user.id) for user in (o.ana, o.bo, o.carl, o.cleo, o.li)]
    act(routing.instruct, ctx(o.director), large.id, "Everyone helps.", None, more)
    for task in tasks_of(large)[2:]:
        act(routing.comment, ctx(o.director), task.id, "Please look.")
    clerk = browse(o.clerk)

    def queries(document) -> int:
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            page(clerk, document)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    queries(small)  # warm up what is read once per process
    assert queries(large) == queries(small)


@pytest.mark.parametrize(("locale", "lang"), [("es", "es"), ("zh_Hans", "zh-Hans")])
def test_the_panel_and_timeline_render_in_each_language(office, sender, browse, locale, lang):
    o = office
    accounts.update_user(SYSTEM, o.clerk.id, {"locale": locale})
    document = instructed(o, sender, browse)
    act(routing.comment, ctx(o.ana), tasks_of(document)[0].id, "Comentario · 意见")
    tree = page(browse(o.clerk), document)
    assert tree.xpath("/html/@lang") == [lang]
    assert has(tree, "routing-state") and has(tree, "routing-circulate-form")
    assert len(timeline(tree)) == 6 and "Comentario · 意见" in timeline(tree)[-1]


# --- the proposal's lead department --------------------------------------------------------------------------------


def test_the_proposal_names_its_lead_department_and_the_leader_instructs_it_as_proposed(office, sender, browse):
    o = office
    assert o.legal.id > o.finance.id  # the lead proposed is not the department with the lowest id
    document = register(o.clerk, sender)
    base = f"/documents/{document.id}/routing"
    clerk, director = browse(o.clerk), browse(o.director)
    send(clerk, f"{base}/accept", {"kind": "action"})
    tree = page(clerk, document)
    assert text_of(tree.xpath("//label[@for='routing-propose-lead_department_id']")[0]) == "Lead department"
    assert "Other departments" in text_of(tree.get_element_by_id("routing-propose-form"))

    # Legal leads and Finance helps; Legal ticked among the others as well counts once, as the lead
    _location, tree = send(
        clerk,
        f"{base}/propose",
        {
            "leader_id": o.director.id,
            "lead_department_id": o.legal.id,
            "other_department_ids": [o.finance.id, o.legal.id],
            "deadline": "2026-03-13",
            "text": "Legal to lead, Finance to give the figures.",
        },
    )
    assert flashes(tree) == ["The proposed handling is saved: the leader can instruct now."]
    db.session.rollback()
    assert routing.get_item(document.id).proposed_department_ids == [o.legal.id, o.finance.id]
    assert "Legal (lead), Finance" in text_of(tree.get_element_by_id("routing-proposal"))
    # changing the proposal starts from it, the lead in its own field
    assert selected(tree, "routing-propose-lead_department_id") == [str(o.legal.id)]
    assert tree.xpath("//input[@name='other_department_ids'][@checked]/@value") == [str(o.finance.id)]

    # the leader's form and the quick form of the leaders' list both make Legal lead
    tree = page(director, document)
    assert selected(tree, "routing-instruct-lead") == [f"department:{o.legal.id}"]
    assert selected(tree, "routing-instruct-co_handlers") == [f"department:{o.finance.id}"]
    response = director.get("/tasks/instruct")
    assert response.status_code == 200
    quick = html.fromstring(response.text).xpath("//form[contains(@class, 'quick-instruct')]")[0]
    assert quick.xpath(".//input[@name='lead']/@value") == [f"department:{o.legal.id}"]
    assert quick.xpath(".//input[@name='co_handlers']/@value") == [f"department:{o.finance.id}"]
    fields = {name: quick.xpath(f".//*[@name='{name}']/@value") for name in ("lead", "co_handlers", "deadline")}
    send(
        director,
        f"{base}/instruct",
        {"text": "Agreed: handle as proposed.", **{k: v if k == "co_handlers" else v[0] for k, v in fields.items()}},
    )
    lead, co = tasks_of(document)
    assert (lead.role, lead.department_id, co.role, co.department_id) == ("lead", o.legal.id, "co", o.finance.id)


# --- comments by clerks and leaders --------------------------------------------------------------------------------


def test_clerks_and_leaders_may_comment_on_any_task_from_its_row(office, sender, browse, fake_clock):
    o = office
    document = instructed(o, sender, browse, department_id=o.finance.id)
    lead, co = tasks_of(document)
    clerk, director, ana, bo = browse(o.clerk), browse(o.director), browse(o.ana), browse(o.bo)

    tree = page(clerk, document)
    for task in (lead, co):  # in the task's row, folded
        row = tree.get_element_by_id(f"task-{task.id}")
        assert row.xpath(f".//details[@id='task-{task.id}-comment']/form[@id='task-{task.id}-comment-form']")
        assert not row.xpath(f".//details[@id='task-{task.id}-comment']/@open")
        assert row.xpath(f".//label[@for='task-{task.id}-comment-text']")
    assert not has(tree, f"my-task-{lead.id}")  # the clerk handles neither
    fake_clock.advance(minutes=5)
    _location, tree = send(clerk, f"/tasks/{lead.id}/comment", {"text": "The sender called: the 10th is fine."})
    assert flashes(tree) == ["Your comment is added."]
    assert "Lucia" in text_of(tree.get_element_by_id(f"task-{lead.id}"))
    assert "The sender called: the 10th is fine." in text_of(tree.get_element_by_id(f"task-{lead.id}"))

    # a leader comments too; a mistake comes back at the row's field, its <details> open
    _location, tree = send(director, f"/tasks/{co.id}/comment", {"text": " "}, status=422)
    assert field_error(tree, f"task-{co.id}-comment-text") == "Enter the text."
    assert tree.xpath(f"//details[@id='task-{co.id}-comment']/@open")
    fake_clock.advance(minutes=5)
    _location, tree = send(director, f"/tasks/{co.id}/comment", {"text": "Legal: be brief."})
    assert "Legal: be brief." in text_of(tree.get_element_by_id(f"task-{co.id}"))

    # the handlers comment from their own task, not from the row; other staff get no form
    tree = page(ana, document)
    assert has(tree, f"my-task-{lead.id}") and has(tree, f"task-{lead.id}-comment-form")
    assert not tree.get_element_by_id(f"task-{lead.id}").xpath(".//form")
    assert not has(tree, f"task-{co.id}-comment-form")  # Ana is not on Legal's task, nor a clerk or a leader

    # a done task may still be commented on by the clerk; a cancelled one (a lead replaced) may not
    act(routing.complete_task, ctx(o.carl), co.id, "No objection.")
    act(routing.instruct, ctx(o.director), document.id, "Bo leads now.", ("user", o.bo.id), [])
    tree = page(clerk, document)
    assert has(tree, f"task-{co.id}-comment-form") and not has(tree, f"task-{lead.id}-comment-form")
    assert not has(page(bo, document), f"task-{co.id}-comment-form")


# --- instructing again --------------------------------------------------------------------------------------------


def test_a_leader_is_offered_to_instruct_a_handled_document_again_with_a_new_lead(office, sender, browse):
    o = office
    document = instructed(o, sender, browse)
    lead, _co = tasks_of(document)
    act(routing.complete_task, ctx(o.ana), lead.id, "Figures sent.")
    assert state_of(document) == "handled"
    director = browse(o.director)
    tree = page(director, document)
    assert has(tree, "routing-instruct-form")
    note = text_of(tree.get_element_by_id("routing-instruct"))
    assert "The lead handler has reported: name a new lead to handle it again." in note
    _location, tree = send(
        director,
        f"/documents/{document.id}/routing/instruct",
        {"text": "Legal checks it too.", "lead": f"user:{o.carl.id}"},
    )
    assert flashes(tree) == ["The instruction is recorded; 1 task is assigned."]
    assert state_badge(tree) == "being handled"
    assert not has(page(browse(o.clerk), document), "routing-instruct-form")  # the clerk is not a leader
    act(routing.close, ctx(o.clerk), document.id, None, "Withdrawn.")
    assert not has(page(director, document), "routing-instruct-form")  # closed: not instructable


# --- a substitute's panel ------------------------------------------------------------------------------------------


def test_a_substitutes_panel_reads_the_substitutions_once_however_many_tasks(office, sender, browse):
    o = office
    accounts.add_substitution(SYSTEM, o.carl.id, o.li.id, MONDAY, MONDAY + timedelta(days=4))
    small = instructed(o, sender, browse)  # Legal co-handles: Li may act for Carl
    large = instructed(o, sender, browse)
    for _ in range(3):
        act(routing.instruct, ctx(o.director), large.id, "Legal again.", None, [("department", o.legal.id)])
    act(routing.instruct, ctx(o.director), large.id, "Carl too.", None, [("user", o.carl.id)])
    li = browse(o.li)

    def substitution_reads(document) -> int:
        statements = []

        def note(_conn, _cursor, statement, *_args):
            if "substitution" in statement:
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", note)
        try:
            tree = page(li, document)
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        assert tree.xpath("//article[starts-with(@id, 'my-task-')]")  # Li acts for Carl on Legal's tasks
        return len(statements)

    substitution_reads(small)
    assert len(page(li, large).xpath("//article[starts-with(@id, 'my-task-')]")) == 5
    assert substitution_reads(large) == substitution_reads(small)


# --- where things are on the page ----------------------------------------------------------------------------------


def test_a_steps_message_is_shown_once_inside_the_panel_where_the_page_lands_and_is_focusable(office, sender, browse):
    o = office
    document = register(o.clerk, sender)
    base = f"/documents/{document.id}/routing"
    clerk = browse(o.clerk)

    location, tree = send(clerk, f"{base}/accept", {"kind": "action"})
    assert location.endswith("#routing")
    assert top_flashes(tree) == []  # not at the top of the page as well
    assert panel_flashes(tree) == [f"{document.number} is received for action: propose its handling."]
    (box,) = tree.xpath("//section[@id='routing']/div[@id='routing-messages']")  # inside the panel, at its top
    assert box.getparent().index(box) == 1  # right under the panel's heading
    assert box.get("tabindex") == "-1" and box.get("data-focus-on-load") is not None  # app.js moves the focus there
    assert box.xpath("./p/@role") == ["status"]
    script = clerk.get("/static/js/app.js")
    assert 'querySelector("[data-focus-on-load]")' in script.text
    script.close()
    assert panel_flashes(page(clerk, document)) == []  # said once

    _location, tree = send(clerk, f"{base}/accept", {"kind": "action"})  # refused: said as an alert, in the panel
    assert top_flashes(tree) == []
    assert tree.xpath("//div[@id='routing-messages']/p/@role") == ["alert"]
    assert panel_flashes(tree) == ["This document is received: it cannot be received now."]

    other = register(o.clerk, sender)  # a step sent from another page goes back there, with its message at the top
    location, tree = send(clerk, f"/documents/{other.id}/routing/accept", {"kind": "action", "next": "/tasks/"})
    assert location == "/tasks/"
    assert top_flashes(tree) == [f"{other.number} is received for action: propose its handling."]


def test_a_handlers_comment_comes_before_the_result_and_the_lead_is_told_the_result_ends_the_handling(
    office, sender, browse
):
    o = office
    document = instructed(o, sender, browse)
    lead, co = tasks_of(document)

    tree = page(browse(o.ana), document)  # Finance: the lead task
    article = tree.get_element_by_id(f"my-task-{lead.id}")
    forms = article.xpath("./form/@id")
    assert forms == [f"task-{lead.id}-comment-form", f"task-{lead.id}-complete-form"]  # a comment sent loses no result
    result = tree.get_element_by_id(f"task-{lead.id}-complete-form")
    assert result.get("data-confirm") == f"Report this result and end the handling of {document.number}?"
    assert text_of(tree.get_element_by_id(f"task-{lead.id}-complete-ends")) == "This ends the handling of the document."
    button = tree.get_element_by_id(f"task-{lead.id}-complete-submit")
    assert button.get("aria-describedby") == f"task-{lead.id}-complete-ends"
    assert "The co-handlers' results are in the table above." in text_of(article)

    tree = page(browse(o.carl), document)  # Legal: a co-handler's result ends nothing
    article = tree.get_element_by_id(f"my-task-{co.id}")
    assert article.xpath("./form/@id") == [f"task-{co.id}-comment-form", f"task-{co.id}-complete-form"]
    assert tree.get_element_by_id(f"task-{co.id}-complete-form").get("data-confirm") is None
    assert not has(tree, f"task-{co.id}-complete-ends")
    assert "The co-handlers' results are in the table above." not in text_of(article)

    # a result that comes back with a mistake keeps what was typed
    too_long = "Budget checked. " * 700  # over the limit of 10,000 characters
    _location, tree = send(browse(o.ana), f"/tasks/{lead.id}/complete", {"result": too_long}, status=422)
    assert tree.get_element_by_id(f"task-{lead.id}-complete-result").text.strip() == too_long.strip()


def test_the_lead_alone_is_not_told_about_co_handlers(office, sender, browse):
    o = office
    document = register(o.clerk, sender)
    act(routing.accept, ctx(o.clerk), document.id, "action")
    act(routing.instruct, ctx(o.director), document.id, "Ana handles it.", ("user", o.ana.id), [], date(2026, 3, 13))
    (task,) = tasks_of(document)
    article = page(browse(o.ana), document).get_element_by_id(f"my-task-{task.id}")
    assert "co-handlers" not in text_of(article)
    assert "This ends the handling of the document." in text_of(article)


def test_the_details_name_the_handling_deadline_when_the_document_has_none(office, sender, browse):
    o = office
    document = register(o.clerk, sender)
    clerk = browse(o.clerk)
    assert text_of(page(clerk, document).get_element_by_id("document-deadline")) == "—"  # not received yet

    act(routing.accept, ctx(o.clerk), document.id, "action")
    act(routing.instruct, ctx(o.director), document.id, "Go.", ("user", o.ana.id), [], date(2026, 3, 13))
    tree = page(clerk, document)
    deadline = tree.get_element_by_id("document-deadline")
    assert text_of(deadline) == "Handling due Mar 13, 2026"
    assert deadline.xpath(".//a/@href") == ["#routing"]
    assert text_of(tree.get_element_by_id("routing-deadline")) == "Due Mar 13, 2026"  # the panel agrees

    own = register(
        o.clerk, sender, deadline=date(2026, 3, 20)
    )  # the document's own deadline, the same as the handling's
    act(routing.accept, ctx(o.clerk), own.id, "action")
    act(routing.instruct, ctx(o.director), own.id, "Go.", ("user", o.ana.id), [], None)
    assert text_of(page(clerk, own).get_element_by_id("document-deadline")) == "Mar 20, 2026"

    act(routing.instruct, ctx(o.director), own.id, "Sooner.", ("user", o.bo.id), [], date(2026, 3, 16))
    both = "Mar 20, 2026 · Handling due Mar 16, 2026"
    assert text_of(page(clerk, own).get_element_by_id("document-deadline")) == both


def test_closing_is_not_offered_while_required_readers_have_not_read_it(office, sender, browse):
    o = office
    document = register(o.clerk, sender)
    act(routing.accept, ctx(o.clerk), document.id, "information")
    act(routing.circulate, ctx(o.clerk), document.id, [o.dora.id, o.ana.id], True)
    clerk = browse(o.clerk)
    tree = page(clerk, document)
    close = tree.get_element_by_id("routing-close")
    assert not has(tree, "routing-close-form") and not close.xpath(".//button")
    assert text_of(tree.get_element_by_id("routing-close-waits")) == "Closing waits for: Ana Ruiz, Dora Diaz."

    act(routing.mark_read, ctx(o.dora), document.id)
    assert not has(page(clerk, document), "routing-close-form")  # Ana still has to read it
    act(routing.mark_read, ctx(o.ana), document.id)
    tree = page(clerk, document)
    assert has(tree, "routing-close-form") and not has(tree, "routing-close-waits")


def test_an_information_items_closing_asks_for_its_outcome_and_no_reply(office, sender, browse):
    o = office
    document = register(o.clerk, sender)
    act(routing.accept, ctx(o.clerk), document.id, "information")
    tree = page(browse(o.clerk), document)
    form = tree.get_element_by_id("routing-close-form")
    assert form.xpath(".//*[@name]/@name") == ["csrf_token", "result"]  # no reason, no reply number
    assert text_of(form.xpath(".//label[@for='routing-close-result']")[0]) == "Outcome"
    assert tree.get_element_by_id("routing-close-result").get("required") is not None
    _location, tree = send(browse(o.clerk), f"/documents/{document.id}/routing/close", {"result": "Filed."})
    assert state_badge(tree) == "closed"


def test_an_action_items_closing_shows_a_reply_number_like_the_offices_own(office, sender, browse):
    o = office
    document = instructed(o, sender, browse)
    lead, _co = tasks_of(document)
    act(routing.complete_task, ctx(o.ana), lead.id, "Done.")
    clerk = browse(o.clerk)
    help_text = text_of(page(clerk, document).get_element_by_id("routing-close-reply_number-help"))
    assert help_text == "Optional: the register number of the reply."  # no outgoing document yet: no made-up one
    reply = register_reply(o.clerk, sender, o.bgs)
    help_text = text_of(page(clerk, document).get_element_by_id("routing-close-reply_number-help"))
    assert help_text == f"Optional: the register number of the reply, for example {reply.number}."
    assert reply.number.startswith("OUT-2026-")


def test_the_reader_picker_groups_checkboxes_by_department_and_leaves_out_those_sent_it(office, sender, browse):
    o = office
    document = register(o.clerk, sender)
    act(routing.accept, ctx(o.clerk), document.id, "information")
    act(routing.circulate, ctx(o.clerk), document.id, [o.ana.id], False)
    clerk = browse(o.clerk)
    tree = page(clerk, document)
    picker = tree.get_element_by_id("routing-circulate-reader_ids")
    assert picker.tag == "fieldset" and not tree.xpath("//select[@name='reader_ids']")  # no Ctrl-click list
    groups = {
        text_of(group.xpath("./legend")[0]): [text_of(label) for label in group.xpath(".//label")]
        for group in picker.xpath(".//fieldset[contains(@class, 'reader-group')]")
    }
    assert groups["Finance"] == ["Bo Li"]  # Ana has it already
    assert groups["Legal"] == ["Carl Cruz", "Cleo Lam"]
    assert "Dora Diaz" in groups["No department"]
    boxes = picker.xpath(".//input[@type='checkbox']")
    assert all(box.get("name") == "reader_ids" for box in boxes)
    assert all(tree.xpath(f"//label[@for='{box.get('id')}']") for box in boxes)  # each box has its label
    assert str(o.ana.id) not in [box.get("value") for box in boxes]

    _location, tree = send(clerk, f"/documents/{document.id}/routing/circulate", {"reader_ids": [o.bo.id, o.carl.id]})
    assert flashes(tree) == ["Sent to 2 readers."]
    names = [text_of(label) for label in tree.xpath("//fieldset[@id='routing-circulate-reader_ids']//label")]
    assert "Bo Li" not in names and "Carl Cruz" not in names and "Cleo Lam" in names


def test_the_document_pages_sections_stand_apart_and_the_history_points_to_the_timeline(office, sender, browse):
    o = office
    document = register(o.clerk, sender)
    act(routing.accept, ctx(o.clerk), document.id, "action")
    tree = page(browse(o.clerk), document)
    sections = [element.get("id") for element in tree.xpath("//main/*[contains(@class, 'doc-section')]")]
    assert sections == ["document-attachments", "timeline", "history", "void"]
    note = text_of(tree.get_element_by_id("history-note"))
    assert note == "The changes to the record itself; the steps of its routing are in the Timeline above."
    assert tree.xpath("//section[@id='history']/div[@class='table-scroll']/table")  # a wide table scrolls by itself
