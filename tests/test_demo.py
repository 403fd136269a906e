"""The demo office: `flask demo` routes its incoming documents into every state, once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from docstore import accounts, audit, demo, organisation, routing, workdays
from docstore.extensions import db
from docstore.models import (
    AuditEvent,
    Department,
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
    assert report.escalation == 2
    escalated = db.session.scalars(select(Notification.user_id).where(Notification.kind == "escalation")).all()
    assert sorted(escalated) == sorted([users["juan"].id, users["director"].id])

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
