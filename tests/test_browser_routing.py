"""The routing of incoming documents in a real browser (Chromium), as an office works it: several people, each at a
browser of their own, carry documents from receipt to closing.

The cast: Lucía (clerk of the General Office), Diana (the director, a leader), Finance (department A: its head Fay,
and Ana), Legal (department B: Carl), Dora (a reader), Eve (of the General Office, Ana's acting substitute in one
test) and an administrator who reads the audit log.

1. The clerk returns one document to its sender with a reason.
2. She receives another and proposes its handling: Diana to instruct, Finance to lead, Legal to help, a deadline.
3. Diana, in Chinese, instructs it as proposed from "Tasks → To instruct" in one click: Finance and Legal get tasks.
4. Carl (Legal) comments and reports his contribution; Ana (Finance) sees it on the document, asks for more time,
   and the clerk gives it: the deadline moves on the page.
5. The clerk sends it to Dora to read (required); Ana reports the result; closing waits (no form) while Dora has not
   read it; Dora, in Spanish, marks it read from "To read"; the clerk closes it. The timeline lists every step in order
   with who did it, and the audit log the routing events.
6. Eve, acting for Ana today, finds Finance's task in "My tasks" marked "for Ana Ruiz", reports its result, and the
   document records "Eve Eng for Ana Ruiz".
7. An extra-urgent task passes its deadline (the fake clock moves on); the cron command sends the reminders; Diana
   finds the escalation behind the bell, and Fay (the head of Finance, and a member) the overdue reminder only; the
   clerk's chase list shows it first, in red with its label, and her "Remind" says whom it reminded.

The harness is the one of tests/test_browser.py: the app served from a thread of the test process with real CSRF
protection, on the test's own database, with the application clock faked (the server thread reads the same clock).
What is not the point of a step is seeded through the real services. Texts of the Spanish and Chinese pages are
computed with the app's own catalogues (English until the translations land, translated after), and no page any of
the people open may log a console error, which is where Chromium reports Content-Security-Policy violations.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask_babel import ngettext
from playwright.sync_api import Locator, Page, expect

import tests.test_browser as harness
from docstore import accounts, audit, clock, correspondents, database, organisation, registry, routing
from docstore.errors import Msg
from docstore.extensions import db
from docstore.messages import in_language, translate
from docstore.models import ITEM_STATES, TASK_ROLES, TASK_STATES, URGENCIES
from tests.browser_support import VIEWPORT, ConsoleWatch, sign_in
from tests.conftest import PASSWORD
from tests.test_browser import choose_language, stored

pytestmark = pytest.mark.browser

# The fixtures of tests/test_browser.py (assigned, not imported by name: see tests/test_browser_registers.py).
browser = harness.browser
live_server = harness.live_server
settings = harness.settings

SYSTEM = audit.SYSTEM
POLICY = registry.UploadPolicy(frozenset({"text"}), 1 << 20, "UTC")
MONDAY = date(2026, 3, 2)  # the fake clock's first day (tests/conftest.py)
DEADLINE = date(2026, 3, 13)  # the proposed deadline: Friday of the next week
LATER = date(2026, 3, 20)  # the deadline Finance asks for


# --- the office and its people ----------------------------------------------------------------------------------------


@pytest.fixture
def office(app, make_user, fake_clock):
    """Seed the departments (Legal before Finance: the lead is chosen, not the first by id), a sender and the people.

    Return their ids by name, and `clock`, the fake clock the server reads too.
    """

    def seed():
        general = organisation.create_department(SYSTEM, code="BGS", name="General Office", kind="office")
        legal = organisation.create_department(SYSTEM, code="LEG", name="Legal")
        finance = organisation.create_department(SYSTEM, code="FIN", name="Finance")
        ministry = correspondents.create_correspondent(SYSTEM, name="Ministerio de Hacienda", code="E0506")

        def person(username: str, role: str, full_name: str, department=None) -> int:
            department_id = department.id if department is not None else None
            return make_user(username, role, full_name=full_name, department_id=department_id).id

        ids = SimpleNamespace(
            general=general.id,
            legal=legal.id,
            finance=finance.id,
            ministry=ministry.id,
            clerk=person("lucia", "clerk", "Lucía Fernández", general),
            director=person("director", "leader", "Diana Director", general),
            fay=person("fay", "staff", "Fay Head", finance),
            ana=person("ana", "staff", "Ana Ruiz", finance),
            carl=person("carl", "staff", "Carl Cruz", legal),
            eve=person("eve", "staff", "Eve Eng", general),
            dora=person("dora", "staff", "Dora Diaz"),
            admin=person("admin", "admin", "Ada Admin"),
        )
        organisation.update_department(SYSTEM, finance.id, {"head_id": ids.fay})
        return ids

    ids = stored(seed)
    ids.clock = fake_clock
    return ids


@pytest.fixture
def desk(browser, live_server):
    """Return `sit(username)`: a browser of that person's own (cookies, language), signed in, on the home page.

    No page that any of them opened may log a console error (a CSP violation, a script or stylesheet that failed).
    """
    opened: list[tuple[str, object, ConsoleWatch]] = []

    def sit(username: str) -> Page:
        context = browser.new_context(base_url=live_server, locale="en-US", viewport=VIEWPORT)
        context.set_default_timeout(10_000)
        opened.append((username, context, ConsoleWatch(context)))
        page = context.new_page()
        sign_in(page, username, PASSWORD)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")  # in before going anywhere
        return page

    yield sit
    errors = {username: watch.errors() for username, _context, watch in opened if watch.errors()}
    for _username, context, _watch in opened:
        context.close()
    assert errors == {}, "the pages logged errors"


# --- seeding through the services -------------------------------------------------------------------------------------


def register(office, title: str, urgency: str = "normal") -> SimpleNamespace:
    """Register an incoming document from the ministry, received an hour ago; return its id and number."""

    def work():
        data = registry.Registration(
            series_id=registry.list_series("incoming")[0].id,
            title=title,
            urgency=urgency,
            received_at=clock.now() - timedelta(hours=1),
            channel="paper",
            correspondent_id=office.ministry,
            department_id=office.general,
        )
        document = registry.register_document(audit.Context(office.clerk), "incoming", data, [], POLICY, None)
        return SimpleNamespace(id=document.id, number=document.number)

    return stored(work)


def act(function, *args, **kwargs) -> None:
    """Call a routing service in a writing transaction and commit, as a request does."""

    def work():
        with database.writing():
            try:
                function(*args, **kwargs)
            except Exception:
                db.session.rollback()
                raise
            db.session.commit()

    stored(work)


def instructed(office, title: str, lead: tuple[str, int], deadline: date, urgency: str = "normal") -> SimpleNamespace:
    """Register a document, receive it and have the director instruct it with one lead handler; return it."""
    document = register(office, title, urgency)
    act(routing.accept, audit.Context(office.clerk), document.id, "action")
    act(routing.instruct, audit.Context(office.director), document.id, "Handle it today.", lead, [], deadline)
    return document


# --- reading the pages ------------------------------------------------------------------------------------------------


def words(locale: str, text: str, **params) -> str:
    """Return `text` as the app words it in `locale` (translated once the catalogue has it, English until then)."""
    with in_language(locale):
        return translate(Msg(text, **params))


def plural(locale: str, singular: str, several: str, num: int) -> str:
    with in_language(locale):
        return ngettext(singular, several, num)


def state(page: Page) -> Locator:
    """The badge of the routing panel that says where the document stands."""
    return page.locator("#routing-state")


def done(page: Page) -> Locator:
    """The message of the step just done (a success or an information flash)."""
    return page.get_by_role("status")


def task_row(page: Page, assignee: str) -> Locator:
    """The row of the document's task table for `assignee` (a department's or a person's name)."""
    first_cell = page.locator("td:first-child", has_text=re.compile("^" + re.escape(assignee)))
    return page.locator("#routing-tasks tbody tr").filter(has=first_cell)


def open_tasks(page: Page) -> None:
    """Open the work pages from the header's "Tasks" link, whatever the language."""
    page.get_by_role("banner").locator("a.tasks-link").click()
    expect(page.locator("nav.work-tabs")).to_be_visible()


def tab(page: Page, label: str) -> Locator:
    """A tab of the work pages, by the start of its name (a count may follow)."""
    return page.locator("nav.work-tabs").get_by_role("link", name=re.compile("^" + re.escape(label)))


def confirm(page: Page) -> list[str]:
    """Accept the next question the page asks (a form with `data-confirm`); return the list it is recorded in."""
    questions: list[str] = []

    def accept(dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    return questions


def later(office, minutes: int = 5) -> None:
    """Let some minutes pass, so that the timeline orders the steps as they happened."""
    office.clock.advance(minutes=minutes)


# --- 1 to 5. from receipt to closing ----------------------------------------------------------------------------------


def test_a_document_goes_from_receipt_to_closing_through_every_hand_in_three_languages(office, desk):
    wrong = register(office, "Solicitud de becas escolares")
    budget = register(office, "Request for the 2026 budget report")

    # 1. The clerk returns the first one to its sender, with the reason.
    clerk = desk("lucia")
    clerk.goto(f"/documents/{wrong.id}")
    expect(state(clerk)).to_have_text(ITEM_STATES["pending"])
    receive = clerk.locator("#routing-receive")
    receive.get_by_text("Return to the sender…").click()
    receive.get_by_label("Reason for returning it").fill("Not in our remit: it is for the Ministry of Education.")
    receive.get_by_role("button", name="Return to the sender", exact=True).click()
    expect(done(clerk)).to_have_text(f"{wrong.number} is returned to the sender.")
    expect(state(clerk)).to_have_text(ITEM_STATES["returned"])
    expect(clerk.locator("#routing-returned")).to_contain_text("Not in our remit: it is for the Ministry of Education.")

    # 2. She receives the second for action and proposes its handling: the director, Finance leading, Legal helping.
    later(office)
    clerk.goto(f"/documents/{budget.id}")
    clerk.locator("#routing-accept-form").get_by_role("button", name="Receive for action").click()
    expect(done(clerk)).to_have_text(f"{budget.number} is received for action: propose its handling.")
    expect(state(clerk)).to_have_text(ITEM_STATES["accepted"])
    later(office)
    proposal = clerk.locator("#routing-propose-form")
    proposal.get_by_label("Leader to instruct").select_option(label="Diana Director")
    proposal.get_by_label("Lead department").select_option(label="Finance")
    proposal.get_by_role("group", name="Other departments").get_by_label("Legal", exact=True).check()
    proposal.get_by_label("Deadline").fill(DEADLINE.isoformat())
    proposal.get_by_label("Proposed handling").fill("Finance drafts the report with Legal's opinion.")
    proposal.get_by_role("button", name="Propose").click()
    expect(done(clerk)).to_have_text("The proposed handling is saved: the leader can instruct now.")
    expect(state(clerk)).to_have_text(ITEM_STATES["proposed"])

    # 3. The director, in Chinese, instructs it as proposed from her list, in one click.
    later(office)
    zh = "zh_Hans"
    leader = desk("director")
    choose_language(leader, zh)
    expect(leader.locator("html")).to_have_attribute("lang", "zh-Hans")
    open_tasks(leader)
    tab(leader, words(zh, "To instruct")).click()
    expect(leader.get_by_role("heading", level=1)).to_have_text(words(zh, "To instruct"))
    waiting = leader.locator("ol.proposals > li").filter(has_text=budget.number)
    expect(waiting).to_contain_text(words(zh, "%(department)s leads", department="Finance"))
    expect(waiting).to_contain_text(words(zh, "with %(departments)s", departments="Legal"))
    waiting.locator("form.quick-instruct").get_by_role("button").click()
    expect(done(leader)).to_have_text(
        plural(
            zh,
            "The instruction is recorded; %(num)s task is assigned.",
            "The instruction is recorded; %(num)s tasks are assigned.",
            2,
        )
    )
    expect(leader.get_by_text(words(zh, "Nothing waits for your instruction."))).to_be_visible()
    leader.goto(f"/documents/{budget.id}")
    expect(state(leader)).to_have_text(words(zh, ITEM_STATES["handling"]))
    expect(task_row(leader, "Finance")).to_contain_text(words(zh, TASK_ROLES["lead"]))
    expect(task_row(leader, "Legal")).to_contain_text(words(zh, TASK_ROLES["co"]))
    open_tasks(leader)
    tab(leader, words(zh, "Dashboard")).click()  # the leaders' overview draws its charts without errors
    expect(leader.get_by_role("heading", level=1)).to_contain_text(words(zh, "Dashboard"))

    # 4. Carl (Legal) finds his task, comments and reports Legal's contribution.
    later(office)
    carl = desk("carl")
    open_tasks(carl)
    expect(carl.get_by_role("heading", level=1)).to_have_text("My tasks")
    mine = carl.locator("table.work-table tbody tr").filter(has_text=budget.number)
    expect(mine).to_contain_text("Co-handler")
    expect(mine).to_contain_text("Legal (department)")
    mine.get_by_role("link", name=budget.number).click()
    task = carl.locator("article.my-task")
    expect(task).to_have_count(1)
    task.get_by_label("Comment").fill("Clause 4 needs the ministry's consent.")
    task.get_by_role("button", name="Add the comment").click()
    expect(done(carl)).to_have_text("Your comment is added.")
    expect(carl.locator("#routing-messages")).to_be_focused()  # the message, in the panel, where the page lands
    later(office)
    task.get_by_label("Result", exact=True).fill("Legal: no objection once clause 4 is agreed.")
    task.get_by_role("button", name="Report the result").click()
    expect(done(carl)).to_have_text("Your result is recorded; the lead handler sees it.")
    expect(task).to_have_count(0)  # nothing left for Carl to do

    # Ana (Finance) follows her notification to the document, sees Legal's contribution and asks for more time.
    later(office)
    ana = desk("ana")
    ana.get_by_role("banner").locator("a.bell").click()
    assigned = ana.locator("ol.notifications > li").filter(has_text="New task").filter(has_text=budget.number)
    assigned.locator(".notification-document a").click()
    legal = task_row(ana, "Legal")
    expect(legal).to_contain_text(TASK_STATES["done"])
    expect(legal.locator(".task-result")).to_have_text("Legal: no objection once clause 4 is agreed.")
    expect(legal.locator(".task-comments")).to_contain_text("Carl Cruz")
    expect(legal.locator(".task-comments")).to_contain_text("Clause 4 needs the ministry's consent.")
    lead_task = ana.locator("article.my-task")
    lead_task.get_by_text("Ask for more time…").click()
    lead_task.get_by_label("New deadline").fill(LATER.isoformat())
    lead_task.get_by_label("Why more time is needed").fill("The ministry's consent arrives on 18 March.")
    lead_task.get_by_role("button", name="Ask for more time", exact=True).click()
    expect(done(ana)).to_have_text("Your request for more time is sent to the office.")
    expect(lead_task).to_contain_text("More time asked for: until Mar 20, 2026. The office decides.")

    # The clerk is told, and gives the time: the deadline moves on the page.
    later(office)
    clerk.reload()
    clerk.get_by_role("banner").locator("a.bell").click()
    asked = clerk.locator("ol.notifications > li").filter(has_text="More time asked for")
    expect(asked).to_contain_text("Ana Ruiz asks for more time on")
    asked.locator(".notification-document a").click()
    expect(clerk.locator("#routing-deadline")).to_have_text("Due Mar 13, 2026")
    request = clerk.locator("article[id^='extension-']")
    expect(request).to_contain_text(
        "Ana Ruiz asks for more time on the task of Finance: until Mar 20, 2026 instead of Mar 13, 2026."
    )
    request.get_by_role("button", name="Give more time").click()
    expect(done(clerk)).to_have_text("More time is given, until Mar 20, 2026.")
    expect(clerk.locator("#routing-deadline")).to_have_text("Due Mar 20, 2026")
    expect(task_row(clerk, "Finance")).to_contain_text("Mar 20, 2026")

    # 5. The clerk sends it to Dora to read, before closing; Ana reports Finance's result.
    later(office)
    circulation = clerk.locator("#routing-circulate")
    circulation.get_by_text("Send to read…").click()
    circulation.get_by_label("Dora Diaz").check()
    circulation.get_by_label("Required: closing waits until they have read it").check()
    circulation.get_by_role("button", name="Send to read").click()
    expect(done(clerk)).to_have_text("Sent to 1 reader.")
    expect(clerk.locator(f"#reader-{office.dora}")).to_contain_text("not read yet")

    later(office)
    ana.reload()
    lead_task.get_by_label("Result", exact=True).fill("Report drafted and sent to the ministry.")
    questions = confirm(ana)
    lead_task.get_by_role("button", name="Report the result").click()
    expect(done(ana)).to_have_text("Your result is recorded: the handling is finished, the office closes it.")
    assert questions == [f"Report this result and end the handling of {budget.number}?"]
    expect(state(ana)).to_have_text(ITEM_STATES["handled"])

    # Closing waits while Dora has not read it, naming her: no form is offered that would fail.
    later(office)
    clerk.reload()
    closing = clerk.locator("#routing-close-form")
    expect(clerk.locator("#routing-blocking")).to_have_text("Closing waits for: Dora Diaz.")
    expect(clerk.locator("#routing-close-waits")).to_have_text("Closing waits for: Dora Diaz.")
    expect(closing).to_have_count(0)
    expect(state(clerk)).to_have_text(ITEM_STATES["handled"])

    # Dora, in Spanish, marks it read from her list.
    later(office)
    es = "es"
    dora = desk("dora")
    choose_language(dora, es)
    expect(dora.locator("html")).to_have_attribute("lang", "es")
    open_tasks(dora)
    tab(dora, words(es, "To read")).click()
    expect(dora.get_by_role("heading", level=1)).to_have_text(words(es, "To read"))
    sent = dora.locator("table.work-table tbody tr").filter(has_text=budget.number)
    expect(sent.locator(".required-label")).to_have_text(words(es, "Required reading"))
    sent.get_by_role("button", name=re.compile("^" + re.escape(words(es, "Mark as read")))).click()
    expect(done(dora)).to_have_text(words(es, "Marked as read."))
    expect(dora.get_by_text(words(es, "Nothing waits for you to read."))).to_be_visible()

    # The clerk closes it now.
    later(office)
    clerk.reload()
    expect(clerk.locator(f"#reader-{office.dora}")).not_to_contain_text("not read yet")
    expect(clerk.locator("#routing-blocking")).to_have_count(0)
    expect(closing.get_by_label("Result", exact=True)).to_have_value("Report drafted and sent to the ministry.")
    closing.get_by_role("button", name="Close").click()
    expect(done(clerk)).to_have_text(f"{budget.number} is closed.")
    expect(state(clerk)).to_have_text(ITEM_STATES["closed"])
    expect(clerk.locator("#routing-closed")).to_contain_text("Report drafted and sent to the ministry.")

    # The timeline: every step, in order, with who did it.
    entries = clerk.locator("#routing-timeline > li")
    expect(entries.locator(".timeline-what")).to_have_text(
        [
            "Received",
            "Handling proposed",
            "Sent for handling",
            "Instruction, due Mar 13, 2026",
            "Task for Finance (Lead handler)",
            "Task for Legal (Co-handler)",
            "Comment on the task of Legal",
            "Result of Legal (Co-handler)",
            "More time asked for on the task of Finance, until Mar 20, 2026",
            "More time given to Finance, until Mar 20, 2026",
            "Sent to Dora Diaz to read (required before closing)",
            "Result of Finance (Lead handler)",
            "Handling finished",
            "Read",
            "Closed",
        ]
    )
    expect(entries.locator(".timeline-who")).to_have_text(
        ["Lucía Fernández"] * 2
        + ["Diana Director"] * 4
        + ["Carl Cruz"] * 2
        + ["Ana Ruiz", "Lucía Fernández", "Lucía Fernández", "Ana Ruiz", "Ana Ruiz", "Dora Diaz", "Lucía Fernández"]
    )

    # The audit log shows the routing events, newest first, with who did each.
    admin = desk("admin")
    admin.goto("/admin/audit")
    admin.get_by_label("Action starts with").fill("routing.")
    admin.get_by_role("button", name="Filter").click()
    events = admin.locator("table.history tbody tr")
    expect(events.locator("code.action")).to_have_text(
        [
            "routing.close",
            "routing.read",
            "routing.handle",
            "routing.task.complete",
            "routing.circulate",
            "routing.task.decide_extension",
            "routing.task.request_extension",
            "routing.task.complete",
            "routing.task.comment",
            "routing.instruction.create",
            "routing.instruct",
            "routing.propose",
            "routing.accept",
            "routing.return",
        ]
    )
    expect(events.first).to_contain_text("Lucía Fernández")
    expect(events.first).to_contain_text("Closed")
    expect(events.nth(1)).to_contain_text("Dora Diaz")
    proposed = events.filter(has=admin.locator("code.action", has_text=re.compile(r"^routing\.propose$")))
    expect(proposed).to_contain_text("Finance (lead)")  # the department chosen to lead, though Legal's id is lower


# --- 6. a substitute --------------------------------------------------------------------------------------------------


def test_a_substitute_finds_the_task_of_whom_they_stand_in_for_and_the_record_says_so(office, desk):
    document = instructed(office, "Inventario de bienes muebles", ("department", office.finance), DEADLINE)
    stored(lambda: accounts.add_substitution(SYSTEM, office.ana, office.eve, MONDAY, MONDAY + timedelta(days=4)))

    eve = desk("eve")
    open_tasks(eve)
    row = eve.locator("table.work-table tbody tr").filter(has_text=document.number)
    expect(row.locator(".for-label")).to_have_text("for Ana Ruiz")
    row.get_by_role("link", name=document.number).click()
    task = eve.locator("article.my-task")
    expect(task.locator(".for-label")).to_have_text("for Ana Ruiz")
    later(office)
    task.get_by_label("Result", exact=True).fill("Inventory checked: 412 items.")
    confirm(eve)  # the lead's result ends the handling: the page asks first
    task.get_by_role("button", name="Report the result").click()
    expect(done(eve)).to_have_text("Your result is recorded: the handling is finished, the office closes it.")
    expect(state(eve)).to_have_text(ITEM_STATES["handled"])
    expect(task_row(eve, "Finance")).to_contain_text("Eve Eng for Ana Ruiz")
    last = eve.locator("#routing-timeline > li").filter(has_text="Result of Finance (Lead handler)")
    expect(last.locator(".timeline-who")).to_have_text("Eve Eng for Ana Ruiz")
    expect(last.locator(".timeline-text")).to_have_text("Inventory checked: 412 items.")


# --- 7. an emergency: escalation and chasing --------------------------------------------------------------------------


def test_an_overdue_extra_urgent_task_escalates_and_leads_the_chase_list(app, office, desk):
    flood = instructed(
        office, "Flood warning: secure the archive", ("department", office.finance), date(2026, 3, 4), "extra_urgent"
    )
    late = instructed(office, "Annual statistics", ("user", office.carl), date(2026, 3, 3))  # earlier, not urgent
    office.clock.current = datetime(2026, 3, 5, 9, tzinfo=UTC)  # Thursday: both deadlines have passed

    db.session.commit()  # the command runs as cron would: nothing of the test's holds SQLite's lock meanwhile
    result = app.test_cli_runner().invoke(args=["routing", "remind", "--once"], catch_exceptions=False)
    db.session.remove()
    assert result.exit_code == 0, result.output
    # Fay and Ana (Finance) and Carl are reminded; the director hears of the flood. Fay, the head of Finance, is
    # reminded as its member: she is not told of it twice.
    assert result.output == "0 due-soon reminder(s), 3 overdue reminder(s), 1 escalation(s) sent\n"

    escalation = f"The task of Finance on {flood.number} was due on Mar 4, 2026 and is not done."
    # Fay heard of the task (a member of Finance) and of its passing the deadline; the director only of this.
    for username, unread, escalated in (("fay", "2 unread notifications", 0), ("director", "1 unread notification", 1)):
        person = desk(username)
        person.get_by_role("banner").get_by_role("link", name=unread).click()
        expect(person.get_by_role("heading", level=1)).to_have_text("Notifications")
        told = person.locator("ol.notifications > li").filter(has_text="Overdue task")
        expect(told).to_have_count(escalated)
        if escalated:
            expect(told.locator(".notification-text")).to_have_text(escalation)
            expect(told.locator(".notification-document")).to_contain_text(flood.number)

    clerk = desk("lucia")
    open_tasks(clerk)
    tab(clerk, "Chase list").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("Chase list")
    rows = clerk.locator("table.chase-list tbody tr")
    expect(rows).to_have_count(2)
    first = rows.first
    expect(first).to_contain_text(flood.number)
    expect(rows.nth(1)).to_contain_text(late.number)  # overdue longer, yet after the extra-urgent one
    expect(first).to_have_class(re.compile(r"\bchase-pinned\b"))
    cell = first.locator("td").first
    expect(cell).to_have_css("box-shadow", "rgb(179, 38, 30) 4px 0px 0px 0px inset")  # the red bar of extra urgency
    expect(cell).to_have_css("background-color", "rgb(253, 236, 234)")  # and the red tint of the pinned rows
    expect(first.locator(".urgency-badge").first).to_have_text(URGENCIES["extra_urgent"])
    expect(first).to_contain_text("Escalated")
    first.get_by_role("button", name=re.compile(r"^Remind\b")).click()
    expect(done(clerk)).to_have_text("Reminded 2 people.")
    expect(rows.first).to_contain_text("Reminded today")
