"""Chasing (催办): the chase list, a clerk's reminders, the scheduled reminders and escalations, and the chase page."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from docstore import accounts, audit, mail, notifications, organisation, registry, routing, workdays
from docstore.errors import Conflict, Forbidden, NotFound
from docstore.extensions import db
from docstore.messages import in_language, translate
from docstore.models import MailOutbox, Notification, Task
from docstore.routing import IllegalTransition
from tests.service_support import act, ctx, refused
from tests.test_mail import SmtpServer, free_port
from tests.test_routing import events, register, tasks_of

SYSTEM = audit.SYSTEM
HOLIDAY = date(2026, 3, 9)  # a Monday


@pytest.fixture
def office(app, make_user, clerk, fake_clock):
    """An office: a clerk, a leader, Finance (its head Fay, Ana, Bo), Legal (its head Leo, Carl) and Eve."""
    office = organisation.create_department(SYSTEM, code="BGS", name="Office", kind="office")
    finance = organisation.create_department(SYSTEM, code="FIN", name="Finance")
    legal = organisation.create_department(SYSTEM, code="LEG", name="Legal")
    people = SimpleNamespace(
        clerk=clerk,
        office=office,
        finance=finance,
        legal=legal,
        director=make_user("director", "leader", full_name="Diana Director", department_id=office.id),
        fay=make_user("fay", "staff", full_name="Fay Head", department_id=finance.id, email="fay@example.org"),
        ana=make_user("ana", "staff", full_name="Ana Ruiz", department_id=finance.id, email="ana@example.org"),
        bo=make_user("bo", "staff", full_name="Bo Li", department_id=finance.id),
        leo=make_user("leo", "staff", full_name="Leo Head", department_id=legal.id),
        carl=make_user("carl", "staff", full_name="Carl Cruz", department_id=legal.id),
        eve=make_user("eve", "staff", full_name="Eve Eng", department_id=office.id),
    )
    organisation.update_department(SYSTEM, finance.id, {"head_id": people.fay.id})
    organisation.update_department(SYSTEM, legal.id, {"head_id": people.leo.id})
    return people


def task_for(office, sender, lead: tuple[str, int], deadline: date, urgency: str = "normal", title: str = "") -> Task:
    """Return the lead task of a new document received and instructed by the director, due on `deadline`."""
    document = register(office.clerk, sender, title=title or f"Due {deadline.isoformat()}", urgency=urgency)
    act(routing.accept, ctx(office.clerk), document.id, "action")
    act(routing.instruct, ctx(office.director), document.id, "Handle it.", lead, [], deadline)
    (task,) = tasks_of(document)
    return task


def move_to(fake_clock, day: date, hour: int = 9) -> None:
    fake_clock.current = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def received(user, kind: str) -> list[Notification]:
    db.session.rollback()  # see what other transactions (threads, requests) committed
    query = select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
    return list(db.session.scalars(query.order_by(Notification.id)))


def english(message) -> str:
    """Return a domain message in English, as a page or an e-mail would word it."""
    with in_language("en"):
        return translate(message)


def send(calendar=None, days_before: int = routing.DUE_SOON_DAYS) -> routing.ReminderReport:
    return routing.send_reminders(calendar or workdays.Calendar(), days_before)


def complete(user, task: Task) -> None:
    act(routing.complete_task, ctx(user), task.id, "Done.")


@pytest.fixture
def tasks(office, sender, fake_clock):
    """Tasks made on Monday 2 March; the clock then moves to Tuesday 10 March, after a holiday on Monday 9.

    Due soon on the 10th means due by Thursday 12 (two working days on).
    """
    p = office
    made = SimpleNamespace(
        finance_late=task_for(p, sender, ("department", p.finance.id), date(2026, 3, 5), title="Finance late"),
        ana_urgent=task_for(
            p, sender, ("user", p.ana.id), date(2026, 3, 12), urgency="extra_urgent", title="Ana urgent soon"
        ),
        carl_soon=task_for(p, sender, ("user", p.carl.id), date(2026, 3, 11), title="Carl soon"),
        carl_later=task_for(p, sender, ("user", p.carl.id), date(2026, 3, 13), title="Carl later"),
        legal_urgent=task_for(
            p, sender, ("department", p.legal.id), date(2026, 3, 6), urgency="extra_urgent", title="Legal urgent late"
        ),
        done=task_for(p, sender, ("user", p.bo.id), date(2026, 3, 4), title="Bo done"),
    )
    complete(p.bo, made.done)
    workdays.set_day(SYSTEM, HOLIDAY, "holiday", "A holiday")
    move_to(fake_clock, date(2026, 3, 10))
    return made


# --- the chase list ----------------------------------------------------------------------------------------------


def test_the_chase_list_puts_extra_urgent_first_then_overdue_then_by_deadline(office, tasks):
    rows = routing.chase_list(workdays.Calendar())
    assert [row.document.title for row in rows] == [
        "Legal urgent late",  # extra urgent, overdue
        "Ana urgent soon",  # extra urgent, due soon
        "Finance late",  # overdue
        "Carl soon",  # due soon; "Carl later" (13 March) is not due soon yet, Bo's is done
    ]
    legal_urgent, ana_urgent, finance_late, carl_soon = rows
    # working days past the deadline skip the weekend and the holiday on Monday 9
    assert (finance_late.overdue, finance_late.days_overdue, finance_late.days_left) == (True, 2, 0)
    assert (legal_urgent.overdue, legal_urgent.days_overdue) == (True, 1)
    assert (ana_urgent.overdue, ana_urgent.days_left, carl_soon.days_left) == (False, 2, 1)
    assert [row.extra_urgent for row in rows] == [True, True, False, False]
    assert (finance_late.assignee, finance_late.user, finance_late.department.id) == (
        "Finance",
        None,
        office.finance.id,
    )
    assert (ana_urgent.assignee, ana_urgent.department.id) == ("Ana Ruiz", office.finance.id)  # her department
    assert all(row.last_reminder is None and not row.reminded_today and not row.escalated for row in rows)

    legal = routing.chase_list(workdays.Calendar(), office.legal.id)
    assert [row.document.title for row in legal] == ["Legal urgent late", "Carl soon"]

    counts = routing.chase_counts(rows)
    assert [(c.department.code, c.overdue, c.due_soon, c.extra_urgent) for c in counts] == [
        ("FIN", 1, 1, 1),
        ("LEG", 1, 1, 1),
    ]


def test_the_holiday_moves_what_counts_as_due_soon(office, sender, fake_clock):
    task = task_for(office, sender, ("user", office.ana.id), date(2026, 3, 5))  # Thursday
    assert routing.chase_list(workdays.Calendar()) == []  # Monday: due soon means by Wednesday 4
    workdays.set_day(SYSTEM, date(2026, 3, 4), "holiday", "A holiday")
    (row,) = routing.chase_list(workdays.Calendar())  # Wednesday does not work: due soon runs to Thursday
    assert (row.task.id, row.days_left) == (task.id, 2)


def test_the_chase_board_counts_every_department_and_pages_one(office, tasks):
    board = routing.chase_board(workdays.Calendar(), office.legal.id, 1, 1)
    assert [row.document.title for row in board.page.items] == ["Legal urgent late"]
    assert (board.page.total, board.page.pages, board.department.id) == (2, 2, office.legal.id)
    assert [c.department.code for c in board.counts] == ["FIN", "LEG"]  # the summary is the whole office's
    assert (board.total_overdue, board.total_due_soon, board.overdue_to_remind) == (2, 2, 1)
    second = routing.chase_board(workdays.Calendar(), office.legal.id, 2, 1)
    assert [row.document.title for row in second.page.items] == ["Carl soon"]


# --- a clerk's reminders -----------------------------------------------------------------------------------------


def test_a_clerk_reminds_a_task_once_a_day_and_it_is_audited(office, tasks, fake_clock):
    p = office
    accounts.add_substitution(SYSTEM, p.carl.id, p.eve.id, date(2026, 3, 10), date(2026, 3, 12))
    assert act(routing.remind, ctx(p.clerk), tasks.carl_soon.id) == 2  # Carl, and Eve who acts for him
    assert act(routing.remind, ctx(p.clerk), tasks.carl_soon.id) == 0  # already today
    (carl_reminder,) = received(p.carl, "chase")
    assert carl_reminder.dedupe_key == f"chase:{tasks.carl_soon.id}:2026-03-10"
    assert len(received(p.eve, "chase")) == 1
    _label, text = notifications.wording_of(carl_reminder)
    assert english(text) == (
        f"Lucia reminds you of your task on {tasks.carl_soon.item.document.number}, due on Mar 11, 2026."
    )
    (event,) = events("routing.task.remind")
    assert (event.actor_id, event.object_type, event.object_id) == (p.clerk.id, "task", str(tasks.carl_soon.id))
    assert json.loads(event.after) == {"people": sorted([p.carl.id, p.eve.id]), "reminded": 2, "deadline": "2026-03-11"}

    row = next(r for r in routing.chase_list(workdays.Calendar()) if r.task.id == tasks.carl_soon.id)
    assert row.reminded_today and row.last_reminder == fake_clock.current

    fake_clock.advance(days=1)  # the next office day
    assert act(routing.remind, ctx(p.clerk), tasks.carl_soon.id) == 2
    assert len(events("routing.task.remind")) == 2
    assert audit.verify_chain().intact


def test_a_department_task_reminds_its_active_members_saying_it_is_overdue(office, tasks):
    p = office
    p.bo.active = False
    db.session.commit()
    assert act(routing.remind, ctx(p.clerk), tasks.finance_late.id) == 2  # Fay and Ana; Bo is deactivated
    (reminder,) = received(p.ana, "chase")
    _label, text = notifications.wording_of(reminder)
    assert "was due on Mar 5, 2026 and is not done" in english(text)
    assert received(p.bo, "chase") == []


def test_only_clerks_remind_and_only_open_tasks(office, tasks, make_user):
    p = office
    for user in (p.ana, p.director):
        refused(Forbidden, routing.remind, ctx(user), tasks.carl_soon.id)
    admin = make_user("root", "admin")
    assert act(routing.remind, ctx(admin), tasks.carl_soon.id) == 1
    error = refused(IllegalTransition, routing.remind, ctx(p.clerk), tasks.done.id)
    assert english(error.msg) == "This task is done: there is nothing to chase."
    refused(NotFound, routing.remind, ctx(p.clerk), 999_999)
    assert events("routing.task.remind")[0].actor_id == admin.id and len(events("routing.task.remind")) == 1


def test_a_department_without_active_members_cannot_be_reminded(office, sender):
    empty = organisation.create_department(SYSTEM, code="NEW", name="New unit")
    task = task_for(office, sender, ("department", empty.id), date(2026, 3, 3))
    error = refused(Conflict, routing.remind, ctx(office.clerk), task.id)
    assert "no active member" in english(error.msg)


def test_remind_all_overdue_skips_what_was_reminded_today(office, tasks):
    p = office
    act(routing.remind, ctx(p.clerk), tasks.legal_urgent.id)
    done = act(routing.remind_overdue, ctx(p.clerk))
    assert (done.tasks, done.people) == (1, 3)  # only Finance's (Fay, Ana, Bo); Legal's was reminded already
    assert act(routing.remind_overdue, ctx(p.clerk)) == routing.Reminded(0, 0)
    assert len(events("routing.task.remind")) == 2
    refused(Forbidden, routing.remind_overdue, ctx(p.ana))


def test_a_void_document_is_neither_chased_nor_reminded_of(office, tasks):
    p = office
    for task in (tasks.finance_late, tasks.legal_urgent):
        registry.void_document(ctx(p.clerk), task.item.document_id, "Registered twice.")
    rows = routing.chase_list(workdays.Calendar())
    assert [row.document.title for row in rows] == ["Ana urgent soon", "Carl soon"]
    board = routing.chase_board(workdays.Calendar(), None, 1, 20)
    assert (board.total_overdue, board.total_due_soon, board.overdue_to_remind) == (0, 2, 0)
    error = refused(IllegalTransition, routing.remind, ctx(p.clerk), tasks.finance_late.id)
    assert "is void" in english(error.msg)
    assert act(routing.remind_overdue, ctx(p.clerk)) == routing.Reminded(0, 0)
    assert send() == routing.ReminderReport(due_soon=2)  # Ana's and Carl's; nothing overdue, no escalation
    for user in (p.fay, p.ana, p.bo, p.leo, p.carl, p.director):
        assert received(user, "task_overdue") == [] and received(user, "escalation") == []
    assert received(p.fay, "chase") == [] and events("routing.task.remind") == []


# --- the scheduled reminders -------------------------------------------------------------------------------------


def test_reminders_before_and_after_the_deadline_are_sent_once_and_rearmed_by_more_time(office, sender, fake_clock):
    p = office
    task = task_for(office, sender, ("user", p.ana.id), date(2026, 3, 13))  # Friday
    assert send() == routing.ReminderReport()  # Monday 2: not due soon yet
    move_to(fake_clock, date(2026, 3, 11))  # Wednesday: Friday is two working days on
    assert send() == routing.ReminderReport(due_soon=1)
    assert send() == routing.ReminderReport()  # run again: nothing new
    (soon,) = received(p.ana, "task_due_soon")
    assert (soon.dedupe_key, soon.params) == (f"due_soon:{task.id}:2026-03-13", {"deadline": "2026-03-13"})

    move_to(fake_clock, date(2026, 3, 14))  # Saturday: overdue, but the office is closed
    assert send() == routing.ReminderReport()
    move_to(fake_clock, date(2026, 3, 16))  # Monday
    assert send() == routing.ReminderReport(overdue=1)
    assert send() == routing.ReminderReport()
    assert [n.dedupe_key for n in received(p.ana, "task_overdue")] == [f"overdue:{task.id}:2026-03-13"]
    assert received(p.fay, "escalation") == []  # a normal task does not escalate

    request = act(routing.request_extension, ctx(p.ana), task.id, date(2026, 3, 20), "Waiting for figures.")
    act(routing.decide_extension, ctx(p.clerk), request.id, True, "")
    assert send() == routing.ReminderReport()  # Friday 20 is three working days on
    move_to(fake_clock, date(2026, 3, 18))
    assert send() == routing.ReminderReport(due_soon=1)  # re-armed for the new deadline
    assert [n.dedupe_key for n in received(p.ana, "task_due_soon")] == [
        f"due_soon:{task.id}:2026-03-13",
        f"due_soon:{task.id}:2026-03-20",
    ]
    complete(p.ana, task)
    move_to(fake_clock, date(2026, 3, 23))
    assert send() == routing.ReminderReport()  # done: nothing more


def test_reminder_days_before_is_a_setting_and_substitutes_are_reminded(office, sender, fake_clock):
    p = office
    accounts.add_substitution(SYSTEM, p.ana.id, p.eve.id, date(2026, 3, 2), date(2026, 3, 6))
    task_for(office, sender, ("user", p.ana.id), date(2026, 3, 6))  # Friday: four working days on
    assert send(days_before=3) == routing.ReminderReport()
    assert send(days_before=4) == routing.ReminderReport(due_soon=2)
    assert len(received(p.ana, "task_due_soon")) == 1 and len(received(p.eve, "task_due_soon")) == 1


def test_an_overdue_extra_urgent_task_escalates_to_the_head_and_the_leader(office, sender, fake_clock):
    p = office
    urgent = task_for(p, sender, ("user", p.ana.id), date(2026, 3, 6), urgency="extra_urgent", title="Flood")
    legal = task_for(p, sender, ("department", p.legal.id), date(2026, 3, 6), urgency="extra_urgent")
    normal = task_for(p, sender, ("user", p.bo.id), date(2026, 3, 6))
    move_to(fake_clock, date(2026, 3, 7))  # Saturday: escalations go out at once, reminders wait for Monday
    assert send() == routing.ReminderReport(escalation=4)
    (to_head,) = received(p.fay, "escalation")
    assert to_head.dedupe_key == f"escalation:{urgent.id}:2026-03-06"
    _label, text = notifications.wording_of(to_head)
    number = urgent.item.document.number
    assert english(text) == f"The task of Ana Ruiz on {number} was due on Mar 6, 2026 and is not done."
    assert [n.dedupe_key for n in received(p.director, "escalation")] == [
        f"escalation:{urgent.id}:2026-03-06",
        f"escalation:{legal.id}:2026-03-06",
    ]
    assert [n.params["assignee"] for n in received(p.leo, "escalation")] == ["Legal"]
    assert received(p.ana, "task_overdue") == []
    assert all(received(user, "escalation") == [] for user in (p.ana, p.bo, p.carl))  # not Bo's normal task
    rows = {row.task.id: row for row in routing.chase_list(workdays.Calendar())}
    assert rows[urgent.id].escalated and rows[legal.id].escalated and not rows[normal.id].escalated

    move_to(fake_clock, date(2026, 3, 9))
    assert send() == routing.ReminderReport(overdue=4)  # Ana, Leo, Carl, Bo: the escalations are not repeated
    assert send() == routing.ReminderReport()


def test_a_head_acting_through_a_substitute_hears_of_the_escalation_too(office, sender, fake_clock):
    p = office
    accounts.add_substitution(SYSTEM, p.fay.id, p.eve.id, date(2026, 3, 2), date(2026, 3, 31))
    task_for(p, sender, ("user", p.bo.id), date(2026, 3, 3), urgency="extra_urgent")
    move_to(fake_clock, date(2026, 3, 4))
    assert send().escalation == 3  # Fay, Eve for her, and the director
    assert len(received(p.eve, "escalation")) == 1


def test_a_head_who_gets_the_overdue_reminder_is_not_sent_the_escalation_too(office, sender, fake_clock):
    p = office
    own = task_for(p, sender, ("user", p.fay.id), date(2026, 3, 5), urgency="extra_urgent", title="Fay's own")
    move_to(fake_clock, date(2026, 3, 6))  # Friday, a working day: the overdue reminder and the escalation at once
    assert send() == routing.ReminderReport(overdue=1, escalation=1)
    assert [n.dedupe_key for n in received(p.fay, "task_overdue")] == [f"overdue:{own.id}:2026-03-05"]
    assert received(p.fay, "escalation") == []  # the head is the assignee: one notification, not two
    assert [n.dedupe_key for n in received(p.director, "escalation")] == [f"escalation:{own.id}:2026-03-05"]
    assert {row.task.id: row.escalated for row in routing.chase_list(workdays.Calendar())} == {own.id: True}

    # A department task: its members are reminded, the head among them; the escalation goes to the leader only.
    team = task_for(p, sender, ("department", p.finance.id), date(2026, 3, 9), urgency="extra_urgent")
    move_to(fake_clock, date(2026, 3, 10))
    assert send() == routing.ReminderReport(overdue=3, escalation=1)
    assert [n.dedupe_key for n in received(p.fay, "task_overdue")][-1] == f"overdue:{team.id}:2026-03-09"
    assert received(p.fay, "escalation") == []
    assert [n.dedupe_key for n in received(p.director, "escalation")][-1] == f"escalation:{team.id}:2026-03-09"

    # On a day off no overdue reminder goes out, so the escalation tells the head too; the reminder follows on Monday.
    later = task_for(p, sender, ("user", p.fay.id), date(2026, 3, 13), urgency="extra_urgent")
    move_to(fake_clock, date(2026, 3, 14))  # Saturday
    assert send() == routing.ReminderReport(escalation=2)
    assert [n.dedupe_key for n in received(p.fay, "escalation")] == [f"escalation:{later.id}:2026-03-13"]
    move_to(fake_clock, date(2026, 3, 16))
    assert send() == routing.ReminderReport(overdue=1)
    assert send() == routing.ReminderReport()


def test_two_schedulers_at_once_send_each_reminder_once(app, office, sender, fake_clock):
    p = office
    task_for(p, sender, ("user", p.ana.id), date(2026, 3, 6), urgency="extra_urgent")
    task_for(p, sender, ("department", p.finance.id), date(2026, 3, 6))
    task_for(p, sender, ("user", p.carl.id), date(2026, 3, 11))
    task_for(p, sender, ("department", p.legal.id), date(2026, 3, 12), urgency="extra_urgent")
    move_to(fake_clock, date(2026, 3, 10))
    db.session.commit()  # end the test's own transaction before the schedulers start
    start, reports, errors = threading.Barrier(2), [], []

    def scheduler() -> None:
        try:
            with app.app_context():
                start.wait(10)
                reports.append(routing.send_reminders(workdays.Calendar()))
                db.session.remove()
        except Exception as exc:  # reported below: an assertion in a thread would go unnoticed
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(reports) == 2
    # Ana and Finance's three are overdue, the head (Fay) and the director hear of Ana's task, Carl and Legal's two
    # are due soon
    expected = routing.ReminderReport(due_soon=3, overdue=4, escalation=2)
    together = routing.ReminderReport(
        *(sum(getattr(report, name) for report in reports) for name in ("due_soon", "overdue", "escalation"))
    )
    assert together == expected
    db.session.rollback()
    keys = db.session.execute(
        select(Notification.user_id, Notification.dedupe_key).where(
            Notification.kind.in_(("task_due_soon", "task_overdue", "escalation"))
        )
    ).all()
    assert len(keys) == expected.total == len(set(keys))
    assert send() == routing.ReminderReport()  # and a third run finds nothing left


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def mail_settings(settings, smtp_port):
    settings.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_port,
        SMTP_SECURITY="none",
        SMTP_TIMEOUT_SECONDS=5,
        MAIL_FROM="Docstore <docstore@example.org>",
        MAIL_SENDER=False,  # the test sends the outbox itself
    )
    return settings


def test_reminders_are_mailed_when_smtp_is_configured(mail_settings, app, office, sender, fake_clock, smtp_port):
    p = office
    accounts.update_user(SYSTEM, p.director.id, {"email": "diana@example.org"})
    task = task_for(p, sender, ("department", p.finance.id), date(2026, 3, 3), urgency="extra_urgent")
    move_to(fake_clock, date(2026, 3, 4))
    assert send() == routing.ReminderReport(overdue=3, escalation=1)  # not Fay, the head: she is reminded
    assert act(routing.remind, ctx(p.clerk), task.id) == 3
    db.session.rollback()
    mailed = db.session.execute(
        select(Notification.user_id, Notification.kind)
        .join(MailOutbox, MailOutbox.notification_id == Notification.id)
        .where(Notification.kind != "task_assigned")  # Fay and Ana were mailed the task itself too
    ).all()
    # only Fay, Ana and the director have an address: the members are reminded, the director hears of the escalation
    assert sorted(mailed) == sorted(
        [(p.fay.id, "task_overdue"), (p.ana.id, "task_overdue"), (p.director.id, "escalation")]
        + [(p.fay.id, "chase"), (p.ana.id, "chase")]
    )
    server = SmtpServer(smtp_port).start()
    try:
        report = mail.send_due(mail.settings_from(app.config))
    finally:
        server.stop()
    assert report == mail.Report(sent=7)  # the two tasks assigned, and the five above
    subjects = sorted(message["Subject"] for message in server.inbox.messages)
    number = task.item.document.number
    assert (
        f"[Docstore] Reminder of an overdue task: {number}" in subjects
        and f"[Docstore] Overdue task: {number}" in subjects
    )


# --- the embedded scheduler (the command line: tests/test_cli.py) ----------------------------------------------


def test_the_embedded_scheduler_starts_with_the_first_request_and_stops(app, client, office, sender, fake_clock):
    task_for(office, sender, ("user", office.ana.id), date(2026, 3, 3))
    client.get("/sign-in")
    assert "docstore_reminders" not in app.extensions  # REMINDERS is off in the tests' settings
    app.config["REMINDERS"] = True
    app.config["REMINDER_POLL_SECONDS"] = 60
    client.get("/sign-in")  # the first request with REMINDERS on starts it
    scheduler = app.extensions["docstore_reminders"]
    try:
        deadline = time.monotonic() + 10
        while not received(office.ana, "task_due_soon") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(received(office.ana, "task_due_soon")) == 1  # its first pass runs at once
        client.get("/sign-in")
        assert app.extensions["docstore_reminders"] is scheduler  # one per process
    finally:
        scheduler.stop.set()
        scheduler.join(10)
    assert not scheduler.is_alive()


# --- the chase page ----------------------------------------------------------------------------------------------


def test_the_chase_page_shows_the_summary_and_pins_extra_urgent_rows(client, sign_in, office, tasks):
    sign_in("lucia")
    page = client.get("/chase/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    titles = ["Legal urgent late", "Ana urgent soon", "Finance late", "Carl soon"]
    positions = [html.index(title) for title in titles]
    assert positions == sorted(positions) and "Carl later" not in html and "Bo done" not in html
    assert html.count("chase-pinned") == 2 and html.count('class="badge urgency-badge">Extra urgent') == 2
    assert "2 working days overdue" in html and "1 working day overdue" in html and "1 working day left" in html
    assert (
        f'href="/chase/?department={office.legal.id}"' in html and f"/chase/tasks/{tasks.carl_soon.id}/remind" in html
    )
    assert "Remind all overdue (2 tasks)" in html

    legal = client.get(f"/chase/?department={office.legal.id}").get_data(as_text=True)
    assert "Legal urgent late" in legal and "Carl soon" in legal and "Finance late" not in legal
    assert "Remind all overdue (1 task)" in legal


def test_the_remind_buttons_say_what_they_did(client, sign_in, office, tasks):
    sign_in("lucia")
    response = client.post(f"/chase/tasks/{tasks.finance_late.id}/remind", data={"page": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/chase/?page=1"
    html = client.get("/chase/").get_data(as_text=True)
    assert "Reminded 3 people." in html and "Reminded today" in html
    again = client.post(f"/chase/tasks/{tasks.finance_late.id}/remind", follow_redirects=True)
    assert "Already reminded today" in again.get_data(as_text=True)

    everything = client.post("/chase/remind-overdue", data={"department": str(office.legal.id)}, follow_redirects=True)
    assert "Reminded the people of 1 overdue task (2 notifications)." in everything.get_data(as_text=True)
    assert everything.request.args.get("department") == str(office.legal.id)
    nothing = client.post("/chase/remind-overdue", follow_redirects=True).get_data(as_text=True)
    assert "Every overdue task was reminded today already." in nothing
    assert len(events("routing.task.remind")) == 2

    done = client.post(f"/chase/tasks/{tasks.done.id}/remind", follow_redirects=True)
    assert done.status_code == 200 and "This task is done: there is nothing to chase." in done.get_data(as_text=True)


def test_the_chase_page_is_for_clerks_and_administrators(client, sign_in, office, tasks, admin):
    assert client.get("/chase/").status_code == 302  # to the sign-in page
    sign_in("ana")
    assert client.get("/chase/").status_code == 403
    assert client.post(f"/chase/tasks/{tasks.carl_soon.id}/remind").status_code == 403
    assert client.post("/chase/remind-overdue").status_code == 403
    assert received(office.carl, "chase") == []
    client.post("/sign-out")
    sign_in("admin")
    assert client.get("/chase/").status_code == 200


def test_the_chase_page_pages_a_long_list(app, client, sign_in, office, tasks):
    app.config["PAGE_SIZE"] = 3
    sign_in("lucia")
    first = client.get("/chase/").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Carl soon" not in first
    assert "Carl soon" in client.get("/chase/?page=2").get_data(as_text=True)
    past = client.get("/chase/?page=7")
    assert past.status_code == 302 and past.headers["Location"].endswith("page=2")


def test_the_task_table_scrolls_in_its_own_box_on_a_phone(client, sign_in, office, tasks):
    sign_in("lucia")
    tree = lxml_html.fromstring(client.get("/chase/").get_data(as_text=True))
    for table in tree.xpath("//main//table"):  # the summary and the tasks: each in a box that scrolls sideways
        assert "table-scroll" in table.getparent().get("class", "").split()
    (tasks_table,) = tree.xpath("//main//table[contains(@class, 'chase-list')]")
    assert tasks_table.xpath(".//span[@class='visually-hidden']")  # the labels that stretched the page
    # ... which the box holds: it is their containing block (they are absolutely placed), so it clips them
    with open(Path(client.application.static_folder) / "css" / "app.css", encoding="utf-8") as css:
        assert ".table-scroll { position: relative; }" in css.read()


def test_an_empty_chase_list_says_so(client, sign_in, office):
    sign_in("lucia")
    html = client.get("/chase/").get_data(as_text=True)
    assert "Nothing is overdue or due soon." in html and "Remind all overdue" not in html


def test_the_page_withholds_titles_classified_above_the_clerk(client, sign_in, office, sender, make_user):
    document = register(office.clerk, sender, title="Secret plan", classification=1)
    act(routing.accept, ctx(office.clerk), document.id, "action")
    act(routing.instruct, ctx(office.director), document.id, "Go.", ("user", office.ana.id), [], date(2026, 3, 3))
    make_user("low", "clerk", clearance=0)
    sign_in("low")
    html = client.get("/chase/").get_data(as_text=True)
    assert document.number in html and "Secret plan" not in html and "Title withheld" in html


def test_counts_of_people_without_a_department_are_shown_apart(office, sender, make_user):
    loner = make_user("loner", "staff", full_name="Lone Wolf")
    task_for(office, sender, ("user", loner.id), date(2026, 3, 3))
    (count,) = routing.chase_counts(routing.chase_list(workdays.Calendar()))
    assert (count.department, count.due_soon) == (None, 1)
