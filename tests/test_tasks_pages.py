"""The work pages: my tasks, my department, to read, to instruct, the board, their tabs and the header's count."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from flask import url_for
from lxml import html
from sqlalchemy import select

from docstore import accounts, audit, clock, organisation, registry, routing
from docstore.extensions import db
from docstore.models import Series, Task
from tests.conftest import Browser
from tests.service_support import act, ctx

SYSTEM = audit.SYSTEM
MONDAY = date(2026, 3, 2)  # the fake clock's day
POLICY = registry.UploadPolicy(frozenset({"text"}), 1 << 20, "UTC")


def register(clerk, sender, title: str, urgency: str = "normal", **fields):
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


def instructed(office, sender, title: str, lead, co=(), deadline=date(2026, 3, 13), urgency="normal"):
    """Return a document received and instructed by the director to `lead` (and `co`), due by `deadline`."""
    document = register(office.clerk, sender, title, urgency)
    act(routing.accept, ctx(office.clerk), document.id, "action")
    act(routing.instruct, ctx(office.director), document.id, f"Handle {title}.", lead, list(co), deadline)
    return document


def proposed(office, sender, title: str, leader, departments, deadline=date(2026, 3, 13), urgency="normal"):
    """Return a document received and proposed to `leader` with `departments` (in that order)."""
    document = register(office.clerk, sender, title, urgency)
    act(routing.accept, ctx(office.clerk), document.id, "action")
    act(
        routing.propose,
        ctx(office.clerk),
        document.id,
        leader.id,
        [department.id for department in departments],
        deadline,
        f"Proposal for {title}.",
    )
    return document


def tasks_of(document) -> list[Task]:
    item = routing.get_item(document.id)
    return list(db.session.scalars(select(Task).where(Task.item_id == item.id).order_by(Task.id)))


@pytest.fixture
def office(app, make_user, clerk, fake_clock):
    """An office: a clerk, two leaders, Finance (Ana, Bo), Legal (Carl), Eve and Li in the office, Dora nowhere."""
    bgs = organisation.create_department(SYSTEM, code="BGS", name="Office", kind="office")
    finance = organisation.create_department(SYSTEM, code="FIN", name="Finance")
    legal = organisation.create_department(SYSTEM, code="LEG", name="Legal")
    return SimpleNamespace(
        clerk=clerk,
        finance=finance,
        legal=legal,
        director=make_user("director", "leader", full_name="Diana Director", department_id=bgs.id),
        deputy=make_user("deputy", "leader", full_name="Dan Deputy", department_id=bgs.id),
        li=make_user("li", "staff", full_name="Li Ming", department_id=bgs.id),
        ana=make_user("ana", "staff", full_name="Ana Ruiz", department_id=finance.id),
        bo=make_user("bo", "staff", full_name="Bo Li", department_id=finance.id),
        carl=make_user("carl", "staff", full_name="Carl Cruz", department_id=legal.id),
        eve=make_user("eve", "staff", full_name="Eve Eng", department_id=bgs.id),
        dora=make_user("dora", "staff", full_name="Dora Diaz"),
    )


def page(browser: Browser, url: str, status: int = 200):
    response = browser.get(url)
    assert response.status_code == status, response.text
    return html.fromstring(response.text)


def rows(tree) -> list:
    return tree.xpath("//main//table/tbody/tr")


def numbers(tree) -> list[str]:
    """Return the document numbers of the page's rows (or proposals), in order."""
    return [text.strip() for text in tree.xpath("//main//*[contains(@class, 'doc-number')]/text()")]


def numbers_in(element) -> list[str]:
    """Return the document numbers within one part of a page (a section, a card), in order."""
    return [text.strip() for text in element.xpath(".//*[contains(@class, 'doc-number')]/text()")]


def text_of(element) -> str:
    return " ".join(element.text_content().split())


def tab_counts(tree) -> dict[str, str]:
    """Return the work tabs' labels with their counts ('' when the tab shows none)."""
    found = {}
    for link in tree.xpath("//nav[contains(@class, 'work-tabs')]/a"):
        count = link.xpath("string(.//span[contains(@class, 'tab-count')])").strip()
        found[link.text.strip()] = count
    return found


# --- my tasks ------------------------------------------------------------------------------------------------------


def test_my_tasks_pin_extra_urgent_first_and_mark_overdue_deadlines(office, sender, browse, fake_clock):
    o = office
    later = instructed(o, sender, "Later", ("user", o.ana.id), deadline=date(2026, 3, 13))
    early = instructed(o, sender, "Early", ("department", o.finance.id), deadline=date(2026, 3, 3))
    urgent = instructed(o, sender, "Fire", ("user", o.ana.id), deadline=date(2026, 3, 4), urgency="extra_urgent")
    fake_clock.advance(days=3)  # Thursday 5 March: the 3rd and the 4th have passed

    tree = page(browse(o.ana), "/tasks/")
    assert numbers(tree) == [urgent.number, early.number, later.number]
    first, second, third = rows(tree)
    assert "urgency-extra_urgent" in first.get("class") and "Extra urgent" in text_of(first)  # red, and in words
    assert "overdue" in first.get("class") and "Overdue" in text_of(first)
    assert "Overdue" in text_of(second)
    assert "Finance (department)" in text_of(second)  # a department task: any member may act
    assert "Overdue" not in text_of(third) and "overdue" not in third.get("class")
    link = first.xpath(".//a")[0].get("href")
    assert link == f"/documents/{urgent.id}#routing"
    tabs = {a.text.strip(): a.xpath("string(span)") for a in tree.xpath("//nav[contains(@class, 'subtabs')]/a")}
    assert tabs == {"To do": "3", "Due soon": "0", "Overdue": "2", "Done": "0"}

    overdue = page(browse(o.ana), "/tasks/?bucket=overdue")
    assert numbers(overdue) == [urgent.number, early.number]
    assert overdue.xpath("//nav[contains(@class, 'subtabs')]/a[@aria-current='true']")[0].text.strip() == "Overdue"


def test_done_tasks_show_their_result_and_bo_sees_the_forwarded_task(office, sender, browse):
    o = office
    document = instructed(o, sender, "Budget", ("department", o.finance.id))
    (task,) = tasks_of(document)
    forwarded = act(routing.forward_task, ctx(o.ana), task.id, o.bo.id)
    assert numbers(page(browse(o.ana), "/tasks/")) == []  # now Bo's
    assert numbers(page(browse(o.bo), "/tasks/")) == [document.number]
    act(routing.complete_task, ctx(o.bo), forwarded.id, "Figures sent.")

    tree = page(browse(o.bo), "/tasks/?bucket=done")
    (row,) = rows(tree)
    assert "Figures sent." in text_of(row) and "Overdue" not in text_of(row)
    assert "You have no open tasks." in text_of(page(browse(o.bo), "/tasks/"))
    assert page(browse(o.bo), "/tasks/?bucket=nonsense").xpath("//a[@aria-current='true']")[0].text.startswith("To do")


def test_a_substitute_sees_the_tasks_of_whom_they_stand_in_for_marked_for_them(office, sender, browse, fake_clock):
    o = office
    accounts.add_substitution(SYSTEM, o.carl.id, o.eve.id, MONDAY, MONDAY + timedelta(days=2))
    carls = instructed(o, sender, "For Carl", ("user", o.carl.id))
    eves = instructed(o, sender, "For Eve", ("user", o.eve.id))

    tree = page(browse(o.eve), "/tasks/")
    assert sorted(numbers(tree)) == sorted([carls.number, eves.number])
    by_number = {row.xpath("string(.//strong)").strip(): text_of(row) for row in rows(tree)}
    assert "for Carl Cruz" in by_number[carls.number]
    assert "for " not in by_number[eves.number] and "You" in by_number[eves.number]
    assert "for Carl Cruz" not in text_of(page(browse(o.carl), "/tasks/"))  # Carl sees his own task, unmarked

    fake_clock.advance(days=3)  # Thursday: the substitution ended on Wednesday
    assert numbers(page(browse(o.eve), "/tasks/")) == [eves.number]


# --- my department -------------------------------------------------------------------------------------------------


def test_a_department_member_sees_its_open_tasks_and_who_has_each(office, sender, browse):
    o = office
    whole = instructed(o, sender, "Whole", ("department", o.finance.id))
    passed = instructed(o, sender, "Passed", ("department", o.finance.id), deadline=date(2026, 3, 6))
    act(routing.forward_task, ctx(o.ana), tasks_of(passed)[0].id, o.bo.id)
    direct = instructed(o, sender, "Direct", ("user", o.ana.id), deadline=date(2026, 3, 5))
    legal = instructed(o, sender, "Legal", ("department", o.legal.id))

    tree = page(browse(o.bo), "/tasks/department")
    assert "Finance" in text_of(tree.xpath("//h1")[0])
    assert numbers(tree) == [direct.number, passed.number, whole.number]  # by deadline
    who = [text_of(row.xpath("td")[2]) for row in rows(tree)]
    assert who == ["Ana Ruiz", "Bo Li", "The whole department"]
    assert numbers(page(browse(o.carl), "/tasks/department")) == [legal.number]
    assert "You belong to no department" in text_of(page(browse(o.dora), "/tasks/department"))
    assert "My department" not in tab_counts(page(browse(o.dora), "/tasks/"))


def test_my_department_shows_a_colleagues_task_on_a_document_not_open_to_me_by_its_number_only(
    office, sender, browse, app
):
    o = office
    direct = instructed(o, sender, "Private matter", ("user", o.ana.id), deadline=date(2026, 3, 4))
    addressed = register(o.clerk, sender, "Finance letter", department_id=o.finance.id)
    act(routing.accept, ctx(o.clerk), addressed.id, "action")
    act(routing.instruct, ctx(o.director), addressed.id, "Ana.", ("user", o.ana.id), [], date(2026, 3, 5))
    whole = instructed(o, sender, "Department matter", ("department", o.finance.id), deadline=date(2026, 3, 6))

    tree = page(browse(o.bo), "/tasks/department")
    assert numbers(tree) == [direct.number, addressed.number, whole.number]
    hidden, letter, matter = rows(tree)
    assert hidden.xpath(".//a") == [] and "Not open to you." in text_of(hidden)  # Ana's own, addressed to nobody
    assert "Private matter" not in text_of(tree) and "Ana Ruiz" in text_of(hidden)
    assert letter.xpath(".//a/@href") == [f"/documents/{addressed.id}#routing"] and "Finance letter" in text_of(letter)
    assert matter.xpath(".//a/@href") == [f"/documents/{whole.id}#routing"] and "Department matter" in text_of(matter)
    assert browse(o.bo).get(f"/documents/{direct.id}").status_code == 404

    tree = page(browse(o.ana), "/tasks/department")  # her own task: she opens it
    assert "Not open to you." not in text_of(tree) and "Private matter" in text_of(tree)

    classified = instructed(o, sender, "Secret matter", ("department", o.finance.id), deadline=date(2026, 3, 9))
    db.session.get(type(classified), classified.id).classification = 2
    db.session.commit()
    (row,) = [row for row in rows(page(browse(o.bo), "/tasks/department")) if classified.number in text_of(row)]
    assert row.xpath(".//a") == [] and "Title withheld" in text_of(row) and "Secret matter" not in text_of(row)


# --- to read -------------------------------------------------------------------------------------------------------


def test_to_read_lists_unread_documents_with_a_one_click_mark_as_read(office, sender, browse, app):
    o = office
    first = register(o.clerk, sender, "Circular")
    second = register(o.clerk, sender, "Urgent circular", urgency="extra_urgent")
    for document in (first, second):
        act(routing.accept, ctx(o.clerk), document.id, "information")
        act(routing.circulate, ctx(o.clerk), document.id, [o.dora.id, o.eve.id], document is first)
    dora = browse(o.dora)

    tree = page(dora, "/tasks/read")
    assert numbers(tree) == [second.number, first.number]  # the extra-urgent one first
    assert "Required reading" in text_of(rows(tree)[1]) and "Required reading" not in text_of(rows(tree)[0])
    assert tab_counts(tree)["To read"] == "2"
    with app.test_request_context():
        action = url_for("routing.mark_read", document_id=first.id)
    (form,) = rows(tree)[1].xpath(".//form")
    assert (form.get("method"), form.get("action")) == ("post", action)
    assert form.xpath("string(.//input[@name='next']/@value)") == "/tasks/read"

    response = dora.post(action, data={"next": "/tasks/read"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks/read")
    tree = page(dora, "/tasks/read")
    assert numbers(tree) == [second.number]
    assert numbers(page(browse(o.eve), "/tasks/read")) == [second.number, first.number]  # Eve has not read it


# --- to instruct ---------------------------------------------------------------------------------------------------


def test_to_instruct_shows_each_proposal_with_a_quick_form_prefilled_from_it(office, sender, browse, app):
    o = office
    document = proposed(o, sender, "Budget", o.director, [o.legal, o.finance], deadline=date(2026, 3, 13))
    lead, co = o.legal, o.finance  # the proposal's order: the lead first
    urgent = proposed(o, sender, "Flood", o.director, [o.finance], deadline=None, urgency="extra_urgent")
    proposed(o, sender, "For the deputy", o.deputy, [o.legal])
    director = browse(o.director)

    tree = page(director, "/tasks/instruct")
    assert numbers(tree) == [urgent.number, document.number]  # the deputy's proposal is not hers
    assert tab_counts(tree)["To instruct"] == "2"
    proposal = tree.xpath("//ol[@class='proposals']/li")[1]
    assert "Proposal for Budget." in text_of(proposal)
    assert f"{lead.name} leads; with {co.name}" in text_of(proposal)
    (form,) = proposal.xpath(".//form")
    with app.test_request_context():
        action = url_for("routing.instruct", document_id=document.id)
    assert (form.get("method"), form.get("action")) == ("post", action)
    fields = {}
    for field in form.xpath(".//input[@name] | .//textarea[@name]"):
        value = field.text if field.tag == "textarea" else field.get("value")
        fields.setdefault(field.get("name"), []).append(value)
    assert fields.pop("csrf_token")
    assert fields == {
        "next": ["/tasks/instruct"],
        "lead": [f"department:{lead.id}"],
        "co_handlers": [f"department:{co.id}"],
        "deadline": ["2026-03-13"],
        "text": ["Agreed: handle as proposed."],
    }
    assert proposal.xpath(f".//a[@href='/documents/{document.id}#routing']")  # the full form
    urgent_form = tree.xpath("//ol[@class='proposals']/li")[0].xpath(".//form")[0]
    assert urgent_form.xpath("string(.//input[@name='deadline']/@value)") == ""  # no proposed deadline: the default

    response = director.post(action, data=fields)  # one click: the routing endpoint takes the fields as they are
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks/instruct")
    lead_task, co_task = tasks_of(document)
    assert (lead_task.role, lead_task.department_id, lead_task.deadline) == ("lead", lead.id, date(2026, 3, 13))
    assert (co_task.role, co_task.department_id) == ("co", co.id)
    assert numbers(page(director, "/tasks/instruct")) == [urgent.number]


def test_to_instruct_is_for_leaders_and_their_substitutes_today(office, sender, browse, fake_clock):
    o = office
    document = proposed(o, sender, "Budget", o.director, [o.finance])
    page(browse(o.ana), "/tasks/instruct", 403)
    assert "To instruct" not in tab_counts(page(browse(o.ana), "/tasks/"))
    assert numbers(page(browse(o.deputy), "/tasks/instruct")) == []
    assert "Nothing waits for your instruction." in text_of(page(browse(o.deputy), "/tasks/instruct"))

    accounts.add_substitution(SYSTEM, o.director.id, o.li.id, MONDAY, MONDAY + timedelta(days=1))
    tree = page(browse(o.li), "/tasks/instruct")
    assert numbers(tree) == [document.number]
    assert "for Diana Director" in text_of(tree.xpath("//ol[@class='proposals']/li")[0])
    assert "for Diana Director" not in text_of(page(browse(o.director), "/tasks/instruct"))
    fake_clock.advance(days=2)
    page(browse(o.li), "/tasks/instruct", 403)


def test_a_proposal_whose_deadline_passed_offers_the_full_form_only(office, sender, browse, fake_clock):
    o = office
    document = proposed(o, sender, "Budget", o.director, [o.finance], deadline=date(2026, 3, 3))
    fake_clock.advance(days=2)
    (proposal,) = page(browse(o.director), "/tasks/instruct").xpath("//ol[@class='proposals']/li")
    assert proposal.xpath(".//form") == []
    assert "The proposed deadline has passed" in text_of(proposal) and "Overdue" in text_of(proposal)
    assert proposal.xpath(f".//a[@href='/documents/{document.id}#routing']")


# --- the clerks' board ---------------------------------------------------------------------------------------------


def test_the_board_is_for_clerks_with_counts_filters_and_lead_handlers(office, sender, browse, admin, fake_clock):
    o = office
    waiting = register(o.clerk, sender, "Waiting")
    routing.ensure_item(waiting.id)
    db.session.commit()
    offered = proposed(o, sender, "Offered", o.director, [o.legal])
    finance = instructed(o, sender, "Finance", ("department", o.finance.id), deadline=date(2026, 3, 3))
    urgent = instructed(o, sender, "Urgent", ("user", o.carl.id), urgency="extra_urgent")
    closed = instructed(o, sender, "Closed", ("user", o.bo.id))
    act(routing.complete_task, ctx(o.bo), tasks_of(closed)[0].id, "Done.")
    act(routing.close, ctx(o.clerk), closed.id, "Done.")
    fake_clock.advance(days=2)  # Wednesday: Finance's deadline has passed
    for user in (o.ana, o.director):
        page(browse(user), "/tasks/board", 403)
    assert "In progress" not in tab_counts(page(browse(o.ana), "/tasks/"))

    clerk = browse(o.clerk)
    tree = page(clerk, "/tasks/board")
    assert numbers(tree)[0] == urgent.number  # pinned first
    assert set(numbers(tree)) == {waiting.number, offered.number, finance.number, urgent.number}
    states = {a.text.strip(): a.xpath("string(span)") for a in tree.xpath("//nav[contains(@class, 'subtabs')]/a")}
    assert states == {
        "All": "4",
        "Awaiting receipt": "1",
        "Received": "0",
        "Proposed to a leader": "1",
        "Being handled": "2",
        "Handled": "0",
    }
    by_number = {row.xpath("string(.//strong)").strip(): row for row in rows(tree)}
    assert "Carl Cruz" in text_of(by_number[urgent.number]) and "Extra urgent" in text_of(by_number[urgent.number])
    assert "Finance" in text_of(by_number[finance.number]) and "Overdue" in text_of(by_number[finance.number])
    assert "awaiting receipt" in text_of(by_number[waiting.number])
    assert tab_counts(tree)["In progress"] == "4"

    assert numbers(page(clerk, "/tasks/board?state=handling")) == [urgent.number, finance.number]
    assert numbers(page(clerk, f"/tasks/board?department_id={o.finance.id}")) == [finance.number]
    assert numbers(page(clerk, f"/tasks/board?department_id={o.legal.id}")) == [urgent.number]  # Carl is in Legal
    assert numbers(page(clerk, "/tasks/board?urgency=extra_urgent")) == [urgent.number]
    assert numbers(page(clerk, "/tasks/board?state=bogus&urgency=bogus&department_id=x"))[0] == urgent.number
    assert page(browse(admin), "/tasks/board") is not None


# --- the office's own work ----------------------------------------------------------------------------------------


def test_the_office_tab_lists_what_to_receive_close_and_decide_and_the_badge_counts_it(office, sender, browse, app):
    o = office
    waiting = register(o.clerk, sender, "Waiting", urgency="extra_urgent")
    routing.ensure_item(waiting.id)
    db.session.commit()
    handled = instructed(o, sender, "Handled", ("user", o.bo.id))
    act(routing.complete_task, ctx(o.bo), tasks_of(handled)[0].id, "Figures sent.")
    asked = instructed(o, sender, "Asked", ("user", o.ana.id), deadline=date(2026, 3, 6))
    (task,) = tasks_of(asked)
    request = act(routing.request_extension, ctx(o.ana), task.id, date(2026, 3, 20), "The figures come on the 19th.")
    moot = instructed(o, sender, "Moot", ("user", o.bo.id))
    act(routing.request_extension, ctx(o.bo), tasks_of(moot)[0].id, date(2026, 3, 27), "Later.")
    act(routing.forward_task, ctx(o.bo), tasks_of(moot)[0].id, o.ana.id)  # its request needs no decision now
    clerk = browse(o.clerk)

    home = page(clerk, "/")
    (entry,) = home.xpath("//header//a[contains(@class, 'tasks-link')]")
    assert entry.xpath("string(span[@class='nav-count'])") == "3"  # she has no task of her own: the office's work
    assert entry.get("href") == "/tasks/office"  # the badge leads to where the work is
    summary = text_of(home.xpath("//section[@class='waiting']")[0])
    for line in ("1 document to receive", "1 handled document to close", "1 request for more time to decide"):
        assert line in summary
    assert routing.office_counts() == routing.OfficeCounts(to_receive=1, to_close=1, extensions=1)

    tree = page(clerk, "/tasks/office")
    assert tab_counts(tree)["Office to do"] == "3"
    assert numbers_in(tree.xpath("//section[@id='to-receive']")[0]) == [waiting.number]
    (closing,) = tree.xpath("//section[@id='to-close']")
    assert numbers_in(closing) == [handled.number]
    assert "Bo Li" in text_of(closing) and "Figures sent." in text_of(closing)  # the lead and the result
    assert closing.xpath(f".//a[@href='/documents/{handled.id}#routing-close']")
    (card,) = tree.xpath("//section[@id='extensions']//ol[@class='office-requests']/li")
    assert numbers_in(card) == [asked.number] and moot.number not in text_of(tree)
    assert "Ana Ruiz asks for more time on the task of Ana Ruiz: until Mar 20, 2026 instead of Mar 6, 2026." in (
        text_of(card)
    )
    assert "The figures come on the 19th." in text_of(card)
    (form,) = card.xpath(".//form")
    with app.test_request_context():
        action = url_for("routing.decide_extension", request_id=request.id)
    assert (form.get("method"), form.get("action")) == ("post", action)
    assert form.xpath("string(.//input[@name='next']/@value)") == "/tasks/office"
    assert [b.get("value") for b in form.xpath(".//button[@name='decision']")] == ["approve", "refuse"]
    note = form.xpath(".//input[@name='note']")[0]
    assert form.xpath(f"string(.//label[@for='{note.get('id')}'])") == "Note to the requester"

    mine = page(clerk, "/tasks/")  # no task of her own: My tasks says where her work is
    assert "You have no open tasks." in text_of(mine)
    (elsewhere,) = mine.xpath("//section[@class='elsewhere']")
    assert elsewhere.xpath(".//a/@href") == ["/tasks/office"]
    assert "1 document to receive · 1 handled document to close · 1 request for more time to decide" in (
        text_of(elsewhere)
    )

    response = clerk.post(action, data={"decision": "approve", "note": "Fine.", "next": "/tasks/office"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks/office")
    db.session.expire_all()
    assert db.session.get(Task, task.id).deadline == date(2026, 3, 20)
    tree = page(clerk, "/tasks/office")
    assert "More time is given, until Mar 20, 2026." in text_of(tree)
    assert tree.xpath("//section[@id='extensions']//form") == [] and tab_counts(tree)["Office to do"] == "2"
    again = clerk.post(action, data={"decision": "refuse", "next": "/tasks/office"})  # decided already: said so
    assert again.status_code == 302 and again.headers["Location"].endswith("/tasks/office")
    assert db.session.get(Task, task.id).deadline == date(2026, 3, 20)

    page(browse(o.ana), "/tasks/office", 403)
    assert "Office to do" not in tab_counts(page(browse(o.ana), "/tasks/"))
    (entry,) = page(browse(o.ana), "/").xpath("//header//a[contains(@class, 'tasks-link')]")
    assert entry.get("href") == "/tasks/"  # her own task: My tasks
    assert "document to receive" not in text_of(page(browse(o.ana), "/"))


def test_the_office_tab_shows_the_first_rows_of_each_group_and_links_the_rest(small_pages, office, sender, browse):
    o = office
    for n in range(3):
        routing.ensure_item(register(o.clerk, sender, f"Waiting {n}").id)
    db.session.commit()
    tree = page(browse(o.clerk), "/tasks/office")
    (receiving,) = tree.xpath("//section[@id='to-receive']")
    assert len(numbers_in(receiving)) == 2 and "3" in receiving.xpath("string(h2/span)")
    assert receiving.xpath(".//a[text()='All 3 on the board']/@href") == ["/tasks/board?state=pending"]


def test_a_leader_without_tasks_is_pointed_to_what_waits_for_instruction(office, sender, browse):
    o = office
    for title in ("Budget", "Audit"):
        proposed(o, sender, title, o.director, [o.finance])
    director = browse(o.director)

    tree = page(director, "/tasks/")
    (entry,) = tree.xpath("//header//a[contains(@class, 'tasks-link')]")
    assert entry.xpath("string(span[@class='nav-count'])") == "2" and entry.get("href") == "/tasks/instruct"
    assert "You have no open tasks." in text_of(tree)
    (elsewhere,) = tree.xpath("//section[@class='elsewhere']")
    assert elsewhere.xpath(".//a/@href") == ["/tasks/instruct"]
    assert "To instruct: 2 documents to instruct" in text_of(elsewhere)
    assert "Office to do" not in tab_counts(tree)

    quiet = page(browse(o.deputy), "/tasks/")  # nothing waits anywhere: the plain sentence, the plain link
    assert quiet.xpath("//section[@class='elsewhere']") == []
    assert quiet.xpath("//header//a[contains(@class, 'tasks-link')]/@href") == ["/tasks/"]
    done_tab = page(director, "/tasks/?bucket=done")  # the pointers belong to "To do" only
    assert done_tab.xpath("//section[@class='elsewhere']") == []


def test_the_to_instruct_intro_has_no_chinese_terms_in_english(office, browse):
    intro = text_of(page(browse(office.director), "/tasks/instruct").xpath("//main/p")[0])
    assert intro.startswith("The documents the office has proposed to you for your instruction.")
    assert "拟办" not in intro and "批示" not in intro


# --- paging, tabs, header, home ------------------------------------------------------------------------------------


@pytest.fixture
def small_pages(settings):
    settings["PAGE_SIZE"] = 2


def test_the_work_pages_are_paginated_with_extra_urgent_rows_on_the_first_page(
    small_pages, office, sender, browse, fake_clock
):
    o = office
    normal = [
        instructed(o, sender, f"Normal {n}", ("user", o.ana.id), deadline=date(2026, 3, 10 + n)) for n in range(3)
    ]
    urgent = instructed(o, sender, "Urgent", ("user", o.ana.id), deadline=date(2026, 3, 20), urgency="extra_urgent")
    ana = browse(o.ana)

    first = page(ana, "/tasks/")
    assert numbers(first) == [urgent.number, normal[0].number]
    assert first.xpath("//a[@rel='next']")[0].get("href") == "/tasks/?page=2"
    assert numbers(page(ana, "/tasks/?page=2")) == [normal[1].number, normal[2].number]
    response = ana.get("/tasks/?page=9")
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks/?page=2")
    assert numbers(page(ana, "/tasks/department?page=2")) == [normal[1].number, normal[2].number]

    for n in range(3):
        proposed(o, sender, f"Proposal {n}", o.director, [o.finance])
    director = browse(o.director)
    assert len(numbers(page(director, "/tasks/instruct"))) == 2
    assert len(numbers(page(director, "/tasks/instruct?page=2"))) == 1
    clerk = browse(o.clerk)
    assert numbers(page(clerk, "/tasks/board"))[0] == urgent.number
    assert clerk.get("/tasks/board?page=5").status_code == 302


def test_the_header_counts_open_tasks_documents_to_read_and_to_instruct(office, sender, browse):
    o = office
    instructed(o, sender, "Task", ("user", o.director.id))
    proposed(o, sender, "Proposal", o.director, [o.finance])
    circulated = register(o.clerk, sender, "Circular")
    act(routing.accept, ctx(o.clerk), circulated.id, "information")
    act(routing.circulate, ctx(o.clerk), circulated.id, [o.director.id])

    tree = page(browse(o.director), "/")
    (entry,) = tree.xpath("//header//a[contains(@class, 'tasks-link')]")
    assert entry.get("href") == "/tasks/"
    assert entry.xpath("string(span[@class='nav-count'])") == "3"
    assert "3 items wait for you" in text_of(entry)
    summary = text_of(tree.xpath("//section[@class='waiting']")[0])
    assert "1 open task" in summary and "1 document to read" in summary and "1 document to instruct" in summary
    assert tree.xpath("//section[@class='waiting']//a[@href='/tasks/instruct']")

    quiet = page(browse(o.carl), "/tasks/")
    (entry,) = quiet.xpath("//header//a[contains(@class, 'tasks-link')]")
    assert entry.xpath("span") == [] and text_of(entry) == "Tasks"
    assert entry.get("aria-current") == "page"
    assert quiet.xpath("//nav[contains(@class, 'work-tabs')]/a[@aria-current='page']")[0].text.strip() == "My tasks"
    assert "documents to instruct" not in text_of(page(browse(o.carl), "/"))


def test_the_tabs_link_the_chase_list_and_dashboard_when_they_exist(office, browse, app):
    clerk_tabs = tab_counts(page(browse(office.clerk), "/tasks/"))
    assert ("Chase list" in clerk_tabs) == ("chase.index" in app.view_functions)
    assert ("Dashboard" in clerk_tabs) == ("dashboard.index" in app.view_functions)
    assert "In progress" in clerk_tabs
    staff_tabs = tab_counts(page(browse(office.ana), "/tasks/"))
    assert list(staff_tabs) == ["My tasks", "My department", "To read", "Directives"]


@pytest.mark.parametrize("locale", ["es", "zh_Hans"])
def test_the_work_pages_render_in_every_language(office, sender, browse, locale):
    o = office
    for user in (o.clerk, o.director):
        accounts.update_user(SYSTEM, user.id, {"locale": locale})
    proposed(o, sender, "Budget", o.director, [o.finance])
    instructed(o, sender, "Task", ("user", o.director.id), urgency="extra_urgent")
    for user, urls in ((o.director, ["/tasks/", "/tasks/department", "/tasks/read", "/tasks/instruct", "/"]),):
        browser = browse(user)
        for url in urls:
            tree = page(browser, url)
            assert tree.get("lang") == locale.replace("_", "-")
    tree = page(browse(o.clerk), "/tasks/board")
    assert len(rows(tree)) == 2


def test_a_title_classified_above_the_viewer_is_withheld(office, sender, browse):
    o = office
    document = instructed(o, sender, "Secret plan", ("user", o.ana.id))
    db.session.get(type(document), document.id).classification = 2
    db.session.commit()
    tree = page(browse(o.ana), "/tasks/")
    assert numbers(tree) == [document.number]
    assert "Secret plan" not in text_of(tree) and "Title withheld" in text_of(tree)


def test_a_void_document_leaves_every_work_page_and_count(office, sender, browse):
    o = office
    tasked = instructed(o, sender, "Tasked", ("department", o.finance.id))
    act(routing.comment, ctx(o.ana), tasks_of(tasked)[0].id, "Started.")
    done = instructed(o, sender, "Done", ("user", o.ana.id))
    act(routing.complete_task, ctx(o.ana), tasks_of(done)[0].id, "Answered.")
    circular = register(o.clerk, sender, "Circular")
    act(routing.accept, ctx(o.clerk), circular.id, "information")
    act(routing.circulate, ctx(o.clerk), circular.id, [o.ana.id])
    offered = proposed(o, sender, "Offered", o.director, [o.finance])
    waiting = register(o.clerk, sender, "Waiting")
    kept = instructed(o, sender, "Kept", ("user", o.bo.id))
    voided = (tasked, done, circular, offered, waiting)
    assert tab_counts(page(browse(o.clerk), "/tasks/board"))["Office to do"] == "2"  # Waiting to receive, Done to close

    def seen() -> dict[str, list[str]]:
        ana, director, clerk = browse(o.ana), browse(o.director), browse(o.clerk)
        return {
            "mine": numbers(page(ana, "/tasks/")),
            "done": numbers(page(ana, "/tasks/?bucket=done")),
            "department": numbers(page(ana, "/tasks/department")),
            "read": numbers(page(ana, "/tasks/read")),
            "instruct": numbers(page(director, "/tasks/instruct")),
            "board": sorted(numbers(page(clerk, "/tasks/board"))),
            "pending": numbers(page(clerk, "/tasks/board?state=pending")),
        }

    assert seen() == {
        "mine": [tasked.number],
        "done": [done.number],
        "department": [tasked.number, kept.number],  # Finance's task, and Bo's own
        "read": [circular.number],
        "instruct": [offered.number],
        "board": sorted(d.number for d in (tasked, done, circular, offered, waiting, kept)),
        "pending": [waiting.number],
    }
    for document in voided:
        registry.void_document(ctx(o.clerk), document.id, "Registered by mistake.")

    assert seen() == {
        "mine": [],
        "done": [],
        "department": [kept.number],
        "read": [],
        "instruct": [],
        "board": [kept.number],
        "pending": [],
    }
    assert tab_counts(page(browse(o.ana), "/tasks/")) == {
        "My tasks": "",
        "My department": "",
        "To read": "",
        "Directives": "",
    }
    assert tab_counts(page(browse(o.director), "/tasks/"))["To instruct"] == ""
    clerk_tree = page(browse(o.clerk), "/tasks/board")
    assert tab_counts(clerk_tree)["In progress"] == "1"
    assert tab_counts(clerk_tree)["Office to do"] == ""  # the voided document no longer waits for receipt
    states = {a.text.strip(): a.xpath("string(span)") for a in clerk_tree.xpath("//nav[contains(@class, 'subtabs')]/a")}
    assert states["All"] == "1" and states["Awaiting receipt"] == "0" and states["Being handled"] == "1"
    (entry,) = page(browse(o.ana), "/").xpath("//header//a[contains(@class, 'tasks-link')]")
    assert entry.xpath("span") == []  # nothing waits for Ana any more
    assert routing.task_counts(o.ana) == {"todo": 0, "due_soon": 0, "overdue": 0, "done": 0}
    assert routing.to_read(o.ana) == [] and routing.department_tasks(o.ana) == tasks_of(kept)
