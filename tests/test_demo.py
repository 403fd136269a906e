"""The demo office: `flask demo` routes its incoming documents into every state, once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from docstore import accounts, audit, clock, demo, numbering, organisation, routing, workdays
from docstore.directives import inbox
from docstore.extensions import db
from docstore.models import (
    AuditEvent,
    Department,
    Directive,
    Document,
    Instruction,
    Notification,
    Reader,
    RoutingItem,
    RoutingStep,
    Task,
    User,
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def states() -> dict[str, str]:
    query = select(Document.title, RoutingItem.state).join(RoutingItem, RoutingItem.document_id == Document.id)
    return dict(db.session.execute(query).all())


def demo_command(app) -> str:
    db.session.commit()  # the command runs its own transactions: end the test's
    result = app.test_cli_runner().invoke(args=["demo", "--password", "docstore-demo"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_demo_routes_its_documents_into_every_state_and_loads_twice_without_duplicates(app):
    assert "demo office loaded" in demo_command(app)
    assert states() == {
        "Solicitud de información sobre el presupuesto 2027": "proposed",
        "关于做好2027年公文处理工作的通知": "accepted",
        "Request for the annual records transfer schedule": "pending",
        "关于做好防汛应急值守工作的紧急通知": "handling",
        "Requerimiento de datos de ejecución del gasto del tercer trimestre": "handling",
        "Consulta sobre la contratación de personal temporal": "proposed",
        "Invitation to the records management seminar": "closed",
        "Notificación de un expediente de otro organismo": "returned",
        # the issued demo notice: the departments' incoming copies wait on the clerks' board
        "关于开展2027年度公文处理工作自查的通知": "pending",
        # documents of 2015, closed and filed in the archive
        **{title: "closed" for title, _sender, _class in demo.ARCHIVED},
    }
    names = ("juan", "zhang.wei", "emma", "director", "li.ming")
    users = {name: accounts.find_user_by_username(name) for name in names}
    calendar = workdays.Calendar()

    # Juan (Finance) has the extra-urgent flood-duty task, overdue and first, then the spending request due soon
    overdue = routing.my_tasks(users["juan"], "overdue", calendar)
    assert [task.item.document.urgency for task in overdue] == ["extra_urgent"]
    assert [task.item.document.title for task in routing.my_tasks(users["juan"], "due_soon", calendar)] == [
        "Requerimiento de datos de ejecución del gasto del tercer trimestre"
    ]
    flood = overdue[0].item
    assert {(task.role, task.state) for task in db.session.scalars(select(Task).where(Task.item_id == flood.id))} == {
        ("lead", "open"),
        ("co", "done"),  # the Information Centre has contributed
    }
    # the circulated notice waits for Juan and Zhang Wei, not for Emma who read it
    assert routing.to_read_count(users["juan"]) == 1 and routing.to_read_count(users["zhang.wei"]) == 1
    assert routing.to_read_count(users["emma"]) == 0
    # each leader has one proposal waiting; the budget request names Finance as its lead, Legal Affairs with it
    assert routing.to_instruct_count(users["director"], calendar) == 1
    assert routing.to_instruct_count(users["li.ming"], calendar) == 1
    (proposal,) = routing.to_instruct_page(users["director"], 1, 10, calendar).items
    assert [department.code for department in proposal.departments] == ["CW", "ZCFG"]

    # every department has a head: the flood-duty escalation reaches Finance's head and the instructing director
    heads = {row.department.code: row.department.head for row in organisation.department_tree()}
    assert {code: head.username for code, head in heads.items() if head is not None} == demo.HEADS
    report = routing.send_reminders(calendar)
    escalated = db.session.scalars(select(Notification.user_id).where(Notification.kind == "escalation")).all()
    reminded = db.session.scalars(select(Notification.user_id).where(Notification.kind == "task_overdue")).all()
    if calendar.is_working_day(calendar.today()):  # Juan, Finance's head, has the overdue reminder: told once
        assert (report.overdue, report.escalation, reminded, escalated) == (
            1,
            1,
            [users["juan"].id],
            [users["director"].id],
        )
    else:  # no reminders on a day off: the escalation tells him
        assert report.escalation == 2 and sorted(escalated) == sorted([users["juan"].id, users["director"].id])

    models = (Document, RoutingItem, RoutingStep, Instruction, Task, Reader, Department, User, AuditEvent)
    loaded = [count(model) for model in models]
    assert "already loaded" in demo_command(app)
    assert demo.load_demo_routing() == 0  # routing twice changes nothing either
    db.session.commit()
    again = [count(model) for model in models]
    assert again == loaded
    assert audit.verify_chain().intact


def test_the_demo_counts_its_deadlines_with_the_offices_calendar(app):
    app.config["WORK_WEEK"] = "mon,tue,wed,thu,fri,sat,sun"  # every day a working day: 5 working days are 5 days
    demo_command(app)
    calendar = workdays.calendar_for(app.config)
    item = db.session.execute(
        select(RoutingItem)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(Document.title == "Solicitud de información sobre el presupuesto 2027")
    ).scalar_one()
    assert item.proposed_deadline == calendar.today() + timedelta(days=5)  # by the default week it is a weekend later


def test_the_demo_history_runs_in_order_from_each_receipt_until_now(app):
    """The demo once did every step at one instant: received a week late, instructed after its deadline."""
    the_clock = clock.now
    demo_command(app)
    assert clock.now is the_clock  # the demo gives the clock back
    now, calendar = clock.now(), workdays.Calendar()

    def day(moment) -> object:
        return numbering.office_date(clock.as_utc(moment), calendar.rules.timezone)

    # an issued directive's copies are registered at one instant: the id breaks the tie
    documents = db.session.scalars(select(Document).order_by(Document.registered_at, Document.id)).all()
    for series in {(document.series_id, document.year) for document in documents}:  # numbers follow registration
        numbers = [document.seq for document in documents if (document.series_id, document.year) == series]
        assert numbers == sorted(numbers)
    routed = 0
    for document in documents:
        registered = clock.as_utc(document.registered_at)
        assert registered <= now
        if document.direction != "incoming":
            continue
        received = clock.as_utc(document.received_at)
        # registered on the day, not late (a directive's copy for a department is received as it is registered)
        assert received <= registered and day(received) == day(registered)
        item = db.session.scalars(select(RoutingItem).where(RoutingItem.document_id == document.id)).one()
        steps = db.session.scalars(select(RoutingStep).where(RoutingStep.item_id == item.id).order_by(RoutingStep.id))
        moments = [clock.as_utc(step.at) for step in steps]
        assert moments == sorted(set(moments))  # one step after the other, minutes or hours apart
        entries = routing.timeline(document.id)
        assert all(registered < entry.at <= now for entry in entries)
        assert [entry.at for entry in entries] == sorted(entry.at for entry in entries)
        routed += bool(entries)
        assert not item.proposal.startswith("Propuesta")  # the page labels it already
    assert routed == 7 + len(demo.ARCHIVED)  # and the archived documents of 2015
    for instruction in db.session.scalars(select(Instruction)):
        assert instruction.deadline >= day(instruction.instructed_at)  # never due before it was given
    for task in db.session.scalars(select(Task).where(Task.state == "done")):
        assert clock.as_utc(task.created_at) < clock.as_utc(task.completed_at) <= now

    # whenever it is loaded, the extra-urgent task is overdue today and the spending request due soon
    juan = accounts.find_user_by_username("juan")
    (overdue,) = routing.my_tasks(juan, "overdue", calendar)
    assert overdue.deadline < calendar.today() and overdue.item.document.urgency == "extra_urgent"
    (soon,) = routing.my_tasks(juan, "due_soon", calendar)
    assert soon.deadline == calendar.add_working_days(calendar.today(), 2)


def test_the_demo_directives_stand_at_every_step_with_their_numbers_and_a_reply(app):
    demo_command(app)
    rows = db.session.execute(select(Directive.title, Directive.state).order_by(Directive.id)).all()
    assert rows == [
        (demo.DEMO_NOTICE, "issued"),
        (demo.DEMO_OFICIO, "issued"),
        (demo.DEMO_TO_SIGN, "signoff"),
        (demo.DEMO_RESOLUCION, "review"),
    ]
    notice = db.session.execute(select(Directive).where(Directive.title == demo.DEMO_NOTICE)).scalar_one()
    assert notice.document.number == f"市府办发〔{notice.document.year}〕1号"
    assert notice.document.attachments[0].filename.endswith(".docx")
    replied = [r.department.code for r in notice.recipients if r.reply_document_id]
    assert replied == ["RS"]
    # the director finds the notice countersigned by Legal Affairs waiting for her sign-off
    director = accounts.find_user_by_username("director")
    assert inbox.waiting_count(director) == 1
    assert "demo directives" not in demo_command(app)  # loading again adds nothing
    assert db.session.scalar(select(func.count()).select_from(Directive)) == 4


def test_the_demo_archive_has_a_file_plan_and_records_past_their_retention(app):
    from datetime import date

    from docstore.archive import disposal, scheme
    from docstore.models import Record

    demo_command(app)
    assert [node.code for node in scheme.list_classes()] == ["J001", "WS", "ZD", "KJ"]
    records = db.session.scalars(select(Record).order_by(Record.code)).all()
    assert [record.code for record in records] == [
        "J001-WS·2015-D10-BGS-0001",
        "J001-WS·2015-D10-BGS-0002",
        "J001-WS·2015-Y-BGS-0001",
    ]
    expired = disposal.expired(date(2026, 11, 27), 1, 10).items
    assert [record.code for record in expired] == ["J001-WS·2015-D10-BGS-0001", "J001-WS·2015-D10-BGS-0002"]
    assert all(record.document.status == "archived" for record in records)
