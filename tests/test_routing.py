"""Routing: receipt, proposal, instruction, handling, extensions, forwarding, circulation, closing and reopening."""

from __future__ import annotations

import json
import threading
import time
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, select

from docstore import accounts, audit, clock, database, organisation, registry, routing, workdays
from docstore.errors import N_, Conflict, Forbidden, Msg, NotFound, ValidationFailed
from docstore.extensions import db
from docstore.messages import in_language, translate
from docstore.models import ITEM_STATES, TASK_STATES, AuditEvent, Document, Notification, RoutingItem, Series, Task
from docstore.routing import IllegalTransition
from tests.service_support import act, ctx, refused

POLICY = registry.UploadPolicy(frozenset({"text"}), 1 << 20, "UTC")
SYSTEM = audit.SYSTEM
MONDAY = date(2026, 3, 2)  # the fake clock's day


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
    item = routing.get_item(document.id)
    return list(db.session.scalars(select(Task).where(Task.item_id == item.id).order_by(Task.id)))


def told(user, kind: str) -> int:
    query = select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
    return len(db.session.scalars(query).all())


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


@pytest.fixture
def people(app, make_user, clerk, fake_clock):
    """An office: a clerk, a leader, Finance (Ana, Bo), Legal (Carl), a reader (Dora) and two would-be substitutes."""
    office = organisation.create_department(SYSTEM, code="BGS", name="Office", kind="office")
    finance = organisation.create_department(SYSTEM, code="FIN", name="Finance")
    legal = organisation.create_department(SYSTEM, code="LEG", name="Legal")
    return SimpleNamespace(
        clerk=clerk,
        office=office,
        finance=finance,
        legal=legal,
        director=make_user("director", "leader", full_name="Diana Director", department_id=office.id),
        li=make_user("li", "staff", full_name="Li Ming", department_id=office.id),
        ana=make_user("ana", "staff", full_name="Ana Ruiz", department_id=finance.id),
        bo=make_user("bo", "staff", full_name="Bo Li", department_id=finance.id),
        carl=make_user("carl", "staff", full_name="Carl Cruz", department_id=legal.id),
        eve=make_user("eve", "staff", full_name="Eve Eng", department_id=office.id),
        dora=make_user("dora", "staff", full_name="Dora Diaz"),
    )


def instructed(people, sender, **fields):
    """Return a document received, proposed and instructed: Finance leads, Carl co-handles, due 13 March."""
    document = register(people.clerk, sender, **fields)
    act(routing.accept, ctx(people.clerk), document.id, "action")
    act(
        routing.instruct,
        ctx(people.director),
        document.id,
        "Finance leads.",
        ("department", people.finance.id),
        [("user", people.carl.id)],
        date(2026, 3, 13),
    )
    return document


# --- the whole flow ----------------------------------------------------------------------------------------------


def test_a_document_goes_from_receipt_to_reply_and_every_step_is_recorded(people, sender, fake_clock):
    p, clerk = people, people.clerk
    document = register(clerk, sender)
    item = act(routing.accept, ctx(clerk), document.id, "action")
    assert item.state == "accepted"
    fake_clock.advance(minutes=5)
    act(
        routing.propose,
        ctx(clerk),
        document.id,
        p.director.id,
        [p.finance.id, p.legal.id],
        date(2026, 3, 13),
        "Finance to lead, Legal to advise.",
    )
    assert routing.get_item(document.id).state == "proposed"
    assert routing.get_item(document.id).proposed_department_ids == [p.finance.id, p.legal.id]  # the lead first

    fake_clock.advance(minutes=5)
    instruction = act(
        routing.instruct,
        ctx(p.director),
        document.id,
        "Agreed: Finance leads.",
        ("department", p.finance.id),
        [("user", p.carl.id)],
        date(2026, 3, 13),
    )
    assert instruction.leader_id == p.director.id and instruction.acting_for_id is None
    lead, co = tasks_of(document)
    assert (lead.role, lead.department_id, lead.user_id) == ("lead", p.finance.id, None)
    assert lead.deadline == date(2026, 3, 13)
    assert (co.role, co.user_id, co.state) == ("co", p.carl.id, "open")
    assert routing.get_item(document.id).state == "handling"
    assert [told(user, "task_assigned") for user in (p.ana, p.bo, p.carl, p.dora)] == [1, 1, 1, 0]
    assert routing.handler_ids(document.id) == ({p.carl.id}, {p.finance.id})

    # the co-handler comments and reports; the lead sees the contribution
    fake_clock.advance(minutes=5)
    act(routing.comment, ctx(p.carl), co.id, "Clause 4 needs a look.")
    fake_clock.advance(minutes=5)
    act(routing.complete_task, ctx(p.carl), co.id, "No legal objection.")
    contributions = routing.co_handler_results(document.id)
    assert [(t.user_id, t.result) for t in contributions] == [(p.carl.id, "No legal objection.")]
    assert routing.get_item(document.id).state == "handling"  # only the lead's result ends the handling

    # more time, asked for by Finance and given by the clerk
    fake_clock.advance(minutes=5)
    request = act(routing.request_extension, ctx(p.ana), lead.id, date(2026, 3, 20), "The figures come on the 18th.")
    assert told(clerk, "extension_requested") == 1
    refused(IllegalTransition, routing.request_extension, ctx(p.bo), lead.id, date(2026, 3, 27), "Again")
    fake_clock.advance(minutes=5)
    act(routing.decide_extension, ctx(clerk), request.id, True, "Agreed.")
    assert db.session.get(Task, lead.id).deadline == date(2026, 3, 20)
    assert routing.get_item(document.id).deadline == date(2026, 3, 20)
    assert told(p.ana, "extension_decided") == 1
    refused(IllegalTransition, routing.decide_extension, ctx(clerk), request.id, False, "")

    # Ana passes the lead task on to Bo, within Finance; Bo reports the result
    fake_clock.advance(minutes=5)
    forwarded = act(routing.forward_task, ctx(p.ana), lead.id, p.bo.id)
    assert db.session.get(Task, lead.id).state == "forwarded"
    assert (forwarded.user_id, forwarded.role, forwarded.deadline, forwarded.forwarded_from_id) == (
        p.bo.id,
        "lead",
        date(2026, 3, 20),
        lead.id,
    )
    assert [t.id for t in routing.my_tasks(p.bo)] == [forwarded.id]
    assert routing.my_tasks(p.ana) == []  # the task is Bo's now, no longer the department's
    assert [t.id for t in routing.department_tasks(p.ana)] == [forwarded.id]
    assert routing.handler_ids(document.id) == ({p.carl.id, p.bo.id}, set())  # no longer Finance's task
    fake_clock.advance(minutes=5)
    act(routing.complete_task, ctx(p.bo), forwarded.id, "Budget approved; reply drafted.")
    assert routing.get_item(document.id).state == "handled"
    assert [t.id for t in routing.my_tasks(p.bo, "done")] == [forwarded.id]

    # circulation: Dora must read it before it closes, the director may
    fake_clock.advance(minutes=5)
    act(routing.circulate, ctx(clerk), document.id, [p.dora.id], required=True)
    act(routing.circulate, ctx(clerk), document.id, [p.director.id])
    assert told(p.dora, "circulation") == 1 and [r.user_id for r in routing.to_read(p.dora)] == [p.dora.id]
    reply = register_reply(clerk, sender, p.office)
    blocked = refused(IllegalTransition, routing.close, ctx(clerk), document.id, "Replied.", None, reply.id)
    assert "Dora Diaz" in str(blocked)
    fake_clock.advance(minutes=5)
    assert act(routing.mark_read, ctx(p.dora), document.id) is True
    assert act(routing.mark_read, ctx(p.dora), document.id) is False  # once
    assert [r.user_id for r in routing.unread_readers(document.id)] == [p.director.id]
    assert routing.to_read(p.dora) == []

    fake_clock.advance(minutes=5)
    act(routing.close, ctx(clerk), document.id, result="Replied with the budget.", reply_document_id=reply.id)
    item = routing.get_item(document.id)
    assert (item.state, item.result, item.reply_document_id, item.closed_by_id) == (
        "closed",
        "Replied with the budget.",
        reply.id,
        clerk.id,
    )
    assert routing.in_progress() == []
    fake_clock.advance(minutes=5)
    act(routing.reopen, ctx(clerk), document.id, "The sender asks a follow-up question.")
    item = routing.get_item(document.id)
    assert (item.state, item.closed_at) == ("accepted", None)  # received again: back on the clerks' board
    assert [i.id for i in routing.in_progress()] == [item.id]

    steps = [(entry.what, entry.text) for entry in routing.timeline(document.id)]
    assert steps == [
        ("accept", ""),
        ("propose", ""),
        ("instruct", ""),
        ("instruction", "Agreed: Finance leads."),
        ("task", ""),
        ("task", ""),
        ("comment", "Clause 4 needs a look."),
        ("result", "No legal objection."),
        ("extension_requested", "The figures come on the 18th."),
        ("extension_approved", "Agreed."),
        ("task", ""),
        ("forwarded", ""),
        ("result", "Budget approved; reply drafted."),
        ("handle", "Budget approved; reply drafted."),
        ("sent_to_read", ""),
        ("sent_to_read", ""),
        ("read", ""),
        ("close", "Replied with the budget."),
        ("reopen", "The sender asks a follow-up question."),
    ]
    query = select(AuditEvent.action).where(AuditEvent.action.startswith("routing.")).order_by(AuditEvent.seq)
    actions = list(db.session.scalars(query))
    assert actions == [
        "routing.accept",
        "routing.propose",
        "routing.instruct",
        "routing.instruction.create",
        "routing.task.comment",
        "routing.task.complete",
        "routing.task.request_extension",
        "routing.task.decide_extension",
        "routing.task.forward",
        "routing.task.complete",
        "routing.handle",
        "routing.circulate",
        "routing.circulate",
        "routing.read",
        "routing.close",
        "routing.reopen",
    ]
    report = audit.verify_chain()
    assert report.intact, report.problems


def test_returned_to_the_sender_with_a_reason_and_reopened(people, sender):
    document = register(people.clerk, sender)
    refused(ValidationFailed, routing.return_to_sender, ctx(people.clerk), document.id, "  ")
    item = act(routing.return_to_sender, ctx(people.clerk), document.id, "Not in our remit.")
    assert (item.state, item.return_reason) == ("returned", "Not in our remit.")
    assert routing.in_progress() == []
    act(routing.reopen, ctx(people.clerk), document.id, "Sent to us again by the ministry.")
    assert routing.get_item(document.id).state == "accepted"  # no tasks: back to received


def test_a_reopened_document_is_received_again_for_a_new_proposal_and_instruction(people, sender, fake_clock):
    """Reopening once sent a handled item back to "handling" with every task done: nobody's to act on."""
    p = people
    document = register(p.clerk, sender)
    act(routing.accept, ctx(p.clerk), document.id, "action")
    act(routing.propose, ctx(p.clerk), document.id, p.director.id, [p.finance.id], None, "Finance leads.")
    lead_to = ("department", p.finance.id)
    act(routing.instruct, ctx(p.director), document.id, "Agreed.", lead_to, [("user", p.carl.id)], date(2026, 3, 13))
    lead, co = tasks_of(document)
    act(routing.complete_task, ctx(p.carl), co.id, "No objection.")
    act(routing.complete_task, ctx(p.ana), lead.id, "Answered.")
    act(routing.close, ctx(p.clerk), document.id, result="Replied.")
    fake_clock.advance(hours=2)
    notified = db.session.query(Notification).count()
    act(routing.reopen, ctx(p.clerk), document.id, "The sender asks a follow-up question.")

    item = routing.get_item(document.id)
    assert (item.state, item.closed_at, item.closed_by_id, item.deadline) == ("accepted", None, None, None)
    assert [i.id for i in routing.in_progress()] == [item.id]  # on the clerks' board, as received
    assert [(t.id, t.state) for t in tasks_of(document)] == [(lead.id, "done"), (co.id, "done")]  # on the record
    assert db.session.query(Notification).count() == notified  # nobody is told: the board shows it
    (entry,) = [e for e in routing.timeline(document.id) if e.what == "reopen"]
    assert (entry.text, entry.actor_id) == ("The sender asks a follow-up question.", p.clerk.id)
    assert routing.to_instruct_count(p.director) == 0  # the old proposal is no question to the leader

    # the office proposes again and the leader instructs anew: a new lead, the old tasks kept
    act(routing.propose, ctx(p.clerk), document.id, p.director.id, [p.legal.id], date(2026, 3, 20), "Legal now.")
    assert routing.get_item(document.id).state == "proposed"
    assert routing.to_instruct_count(p.director) == 1
    act(routing.instruct, ctx(p.director), document.id, "Legal answers.", ("department", p.legal.id))
    assert [(t.role, t.department_id or t.user_id, t.state) for t in tasks_of(document)] == [
        ("lead", p.finance.id, "done"),
        ("co", p.carl.id, "done"),
        ("lead", p.legal.id, "open"),
    ]
    item = routing.get_item(document.id)
    assert (item.state, item.deadline) == ("handling", date(2026, 3, 23))  # 15 working days from the receipt
    assert told(p.carl, "task_assigned") == 2  # the first task, then Legal's new one


def test_a_reopened_document_may_be_instructed_without_a_new_proposal(people, sender):
    document = instructed(people, sender, deadline=date(2026, 3, 31))
    act(routing.close, ctx(people.clerk), document.id, reason="Withdrawn.")
    act(routing.reopen, ctx(people.clerk), document.id, "Sent again.")
    item = routing.get_item(document.id)
    assert (item.state, item.deadline) == ("accepted", date(2026, 3, 31))  # the document's own deadline again
    act(routing.instruct, ctx(people.director), document.id, "Bo answers.", ("user", people.bo.id))
    assert [t.state for t in tasks_of(document)] == ["cancelled", "cancelled", "open"]
    assert routing.get_item(document.id).state == "handling"


def test_the_default_deadline_of_a_reopened_document_counts_from_its_reopening(people, sender, fake_clock):
    document = instructed(people, sender)  # received Monday 2 March, no deadline of its own
    act(routing.close, ctx(people.clerk), document.id, reason="Withdrawn.")
    fake_clock.advance(days=30)  # Wednesday 1 April
    act(routing.reopen, ctx(people.clerk), document.id, "Sent again.")
    act(routing.instruct, ctx(people.director), document.id, "Bo answers.", ("user", people.bo.id))
    # 15 working days from 1 April, not from the receipt (23 March, long past)
    assert [t.deadline for t in tasks_of(document) if t.state == "open"] == [date(2026, 4, 22)]


def test_an_information_item_is_circulated_and_closed_without_instruction(people, sender):
    document = register(people.clerk, sender, title="Circular")
    act(routing.accept, ctx(people.clerk), document.id, "information")
    refused(IllegalTransition, routing.propose, ctx(people.clerk), document.id, people.director.id, [], None, "x")
    act(routing.circulate, ctx(people.clerk), document.id, [people.ana.id, people.bo.id])
    act(routing.close, ctx(people.clerk), document.id, result="Read by Finance.")
    assert routing.get_item(document.id).state == "closed"


def test_closing_while_handling_needs_a_reason_and_cancels_the_open_tasks(people, sender):
    document = instructed(people, sender)
    error = refused(IllegalTransition, routing.close, ctx(people.clerk), document.id, result="Done")
    assert error.msg.params["state"] == Msg(ITEM_STATES["handling"])
    refused(ValidationFailed, routing.close, ctx(people.clerk), document.id)
    act(routing.close, ctx(people.clerk), document.id, reason="The sender withdrew the request.")
    assert [t.state for t in tasks_of(document)] == ["cancelled", "cancelled"]
    assert routing.handler_ids(document.id) == (set(), set())
    assert len(events("routing.task.cancel")) == 2


def test_a_new_instruction_with_a_lead_replaces_the_open_lead(people, sender):
    document = instructed(people, sender)
    act(routing.instruct, ctx(people.director), document.id, "Legal leads instead.", ("department", people.legal.id))
    assert [(t.role, t.department_id or t.user_id, t.state) for t in tasks_of(document)] == [
        ("lead", people.finance.id, "cancelled"),
        ("co", people.carl.id, "open"),
        ("lead", people.legal.id, "open"),
    ]
    act(routing.instruct, ctx(people.director), document.id, "Ana helps too.", None, [("user", people.ana.id)])
    assert [t.role for t in tasks_of(document) if t.state == "open"] == ["co", "lead", "co"]
    second = register(people.clerk, sender)
    act(routing.accept, ctx(people.clerk), second.id)
    error = refused(ValidationFailed, routing.instruct, ctx(people.director), second.id, "Go.", None)
    assert set(error.errors) == {"lead"}


# --- refusals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "state"),
    [
        (lambda p, d: routing.propose(ctx(p.clerk), d.id, p.director.id, [], None, "x"), "pending"),
        (lambda p, d: routing.instruct(ctx(p.director), d.id, "x", ("user", p.ana.id)), "pending"),
        (lambda p, d: routing.close(ctx(p.clerk), d.id, result="x"), "pending"),
        (lambda p, d: routing.reopen(ctx(p.clerk), d.id, "x"), "pending"),
        (lambda p, d: routing.circulate(ctx(p.clerk), d.id, [p.ana.id]), "pending"),
    ],
)
def test_a_step_the_state_does_not_allow_is_refused_naming_the_state(people, sender, step, state):
    document = register(people.clerk, sender)
    routing.ensure_item(document.id)
    db.session.commit()
    error = refused(IllegalTransition, step, people, document)
    assert error.msg.params["state"] == Msg(ITEM_STATES[state])
    assert isinstance(error, Conflict) and error.status == 409
    assert "awaiting receipt" in str(error)


def test_transitions_out_of_order_are_refused(people, sender):
    document = register(people.clerk, sender)
    act(routing.accept, ctx(people.clerk), document.id)
    assert "received" in str(refused(IllegalTransition, routing.accept, ctx(people.clerk), document.id))
    refused(IllegalTransition, routing.return_to_sender, ctx(people.clerk), document.id, "late")
    refused(IllegalTransition, routing.reopen, ctx(people.clerk), document.id, "why")
    act(routing.instruct, ctx(people.director), document.id, "Go.", ("user", people.ana.id))
    (task,) = tasks_of(document)
    act(routing.complete_task, ctx(people.ana), task.id, "Done.")
    error = refused(IllegalTransition, routing.complete_task, ctx(people.ana), task.id, "Again.")
    assert str(error) == "This task is done: it cannot be completed."
    refused(IllegalTransition, routing.forward_task, ctx(people.ana), task.id, people.bo.id)
    error = refused(ValidationFailed, routing.instruct, ctx(people.director), document.id, "More.", None)
    assert str(error.errors["lead"]) == "The lead handler has reported: name a new lead to handle it again."
    act(routing.close, ctx(people.clerk), document.id, result="Done.")
    refused(IllegalTransition, routing.instruct, ctx(people.director), document.id, "More.", ("user", people.bo.id))
    refused(IllegalTransition, routing.close, ctx(people.clerk), document.id, result="Again.")
    outgoing = register_reply(people.clerk, sender, people.office)
    error = refused(Conflict, routing.accept, ctx(people.clerk), outgoing.id)
    assert not isinstance(error, IllegalTransition)


def test_only_the_right_people_may_act(people, sender):
    p = people
    document = register(p.clerk, sender)
    refused(Forbidden, routing.accept, ctx(p.ana), document.id)
    act(routing.accept, ctx(p.clerk), document.id)
    refused(Forbidden, routing.propose, ctx(p.director), document.id, p.director.id, [], None, "x")
    refused(Forbidden, routing.instruct, ctx(p.clerk), document.id, "x", ("user", p.ana.id))
    refused(Forbidden, routing.instruct, ctx(p.li), document.id, "x", ("user", p.ana.id))  # not a substitute today
    act(routing.instruct, ctx(p.director), document.id, "Go.", ("department", p.finance.id), [("user", p.carl.id)])
    lead, co = tasks_of(document)
    refused(Forbidden, routing.complete_task, ctx(p.carl), lead.id, "Not mine.")
    refused(Forbidden, routing.complete_task, ctx(p.clerk), lead.id, "Not mine.")
    refused(Forbidden, routing.complete_task, ctx(p.ana), co.id, "Not mine.")
    refused(Forbidden, routing.request_extension, ctx(p.carl), lead.id, date(2026, 4, 1), "x")
    refused(ValidationFailed, routing.forward_task, ctx(p.ana), lead.id, p.carl.id)  # outside Finance
    refused(Forbidden, routing.circulate, ctx(p.ana), document.id, [p.bo.id])
    refused(NotFound, routing.mark_read, ctx(p.ana), document.id)  # not sent to her
    request = act(routing.request_extension, ctx(p.bo), lead.id, date(2026, 4, 1), "More time")
    refused(Forbidden, routing.decide_extension, ctx(p.director), request.id, True, "")
    refused(Forbidden, routing.close, ctx(p.director), document.id, reason="x")
    refused(Forbidden, routing.reopen, ctx(p.ana), document.id, "x")
    assert routing.get_item(document.id).state == "handling"


# --- substitutes -----------------------------------------------------------------------------------------------


def test_a_substitute_instructs_for_a_leader_and_handles_for_an_assignee(people, sender, fake_clock):
    p = people
    accounts.add_substitution(SYSTEM, p.director.id, p.li.id, MONDAY, MONDAY + timedelta(days=4))
    accounts.add_substitution(SYSTEM, p.carl.id, p.eve.id, MONDAY, MONDAY + timedelta(days=4))
    document = register(p.clerk, sender)
    act(routing.accept, ctx(p.clerk), document.id)
    instruction = act(routing.instruct, ctx(p.li), document.id, "Carl handles it.", ("user", p.carl.id))
    assert (instruction.author_id, instruction.acting_for_id) == (p.li.id, p.director.id)
    assert instruction.leader_id == p.director.id
    (event,) = events("routing.instruct")
    assert (event.actor_id, event.acting_for_id) == (p.li.id, p.director.id)

    (task,) = tasks_of(document)
    assert [t.id for t in routing.my_tasks(p.eve)] == [task.id]  # Eve receives Carl's tasks during his absence
    assert routing.acting_as(p.eve, task) == (True, p.carl.id)
    assert routing.acting_as(p.carl, task) == (True, None)
    assert routing.acting_as(p.bo, task) == (False, None)
    # whom Eve stands in for, read once by a caller asking about many tasks, is taken as given
    assert routing.acting_as(p.eve, task, represented=[p.carl]) == (True, p.carl.id)
    assert routing.acting_as(p.eve, task, represented=[]) == (False, None)
    assert routing.acting_as(p.carl, task, represented=[]) == (True, None)  # his own task, whoever he stands in for
    act(routing.comment, ctx(p.eve), task.id, "On it, for Carl.")
    act(routing.complete_task, ctx(p.eve), task.id, "Answered.")
    task = db.session.get(Task, task.id)
    assert (task.completed_by_id, task.acting_for_id) == (p.eve.id, p.carl.id)
    (event,) = events("routing.task.complete")
    assert (event.actor_id, event.acting_for_id) == (p.eve.id, p.carl.id)
    entries = [e for e in routing.timeline(document.id) if e.what in ("comment", "result")]
    assert [(e.what, e.actor_id, e.acting_for_id) for e in entries] == [
        ("comment", p.eve.id, p.carl.id),
        ("result", p.eve.id, p.carl.id),
    ]

    second = instructed(people, sender)
    fake_clock.advance(days=7)  # the substitution is over
    _lead, co = tasks_of(second)
    assert routing.my_tasks(p.eve) == []
    refused(Forbidden, routing.complete_task, ctx(p.eve), co.id, "Too late.")
    assert audit.verify_chain().intact


def test_a_proposal_keeps_its_departments_in_order_the_lead_first(people, sender):
    p = people
    assert p.legal.id > p.finance.id  # the lead is not the department with the lowest id
    document = register(p.clerk, sender)
    act(routing.accept, ctx(p.clerk), document.id)
    departments = [p.legal.id, p.finance.id, p.legal.id]  # a department named twice counts once, where it came first
    act(routing.propose, ctx(p.clerk), document.id, p.director.id, departments, None, "Legal leads.")
    item = routing.get_item(document.id)
    assert item.proposed_department_ids == [p.legal.id, p.finance.id]
    (event,) = events("routing.propose")
    assert json.loads(event.after)["proposed_department_ids"] == [p.legal.id, p.finance.id]
    (row,) = routing.to_instruct_page(p.director, 1, 10).items
    assert [department.id for department in row.departments] == [p.legal.id, p.finance.id]
    assert [d.id for d in routing.panel(p.director, document).proposal.departments] == [p.legal.id, p.finance.id]
    for wrong in (["1"], [True], [{"id": p.legal.id}], [p.legal.id, 999_999]):  # what a request to the API may hold
        error = refused(ValidationFailed, routing.propose, ctx(p.clerk), document.id, p.director.id, wrong, None, "x")
        assert error.errors == {"department_ids": Msg(N_("Choose existing, active departments."))}
    assert routing.get_item(document.id).proposed_department_ids == [p.legal.id, p.finance.id]


# --- deadlines and inboxes ---------------------------------------------------------------------------------------


def test_the_default_deadline_counts_working_days_past_a_holiday(people, sender, fake_clock):
    workdays.set_day(SYSTEM, date(2026, 3, 4), "holiday", "A holiday")
    document = register(people.clerk, sender, urgency="urgent")  # 5 working days from Monday 2 March
    act(routing.accept, ctx(people.clerk), document.id)
    act(routing.instruct, ctx(people.director), document.id, "Go.", ("user", people.ana.id))
    (task,) = tasks_of(document)
    assert task.deadline == date(2026, 3, 10)  # Wednesday 4 is a holiday: Tuesday 10, not Monday 9

    due_soon = instructed(people, sender, title="Soon")  # lead (Finance) and Carl, due 13 March
    act(
        routing.instruct,
        ctx(people.director),
        due_soon.id,
        "Quickly.",
        None,
        [("user", people.ana.id)],
        date(2026, 3, 5),
    )
    soon = tasks_of(due_soon)[-1]
    calendar = workdays.Calendar()
    assert [t.id for t in routing.my_tasks(people.ana, "due_soon", calendar)] == [soon.id]  # 5 March: 2 working days
    assert routing.my_tasks(people.ana, "overdue", calendar) == []
    assert len(routing.my_tasks(people.ana, "todo", calendar)) == 3
    fake_clock.advance(days=9)  # Wednesday 11 March
    assert [t.id for t in routing.my_tasks(people.ana, "overdue")] == [soon.id, task.id]
    refused(
        ValidationFailed,
        routing.instruct,
        ctx(people.director),
        due_soon.id,
        "Late.",
        None,
        [("user", people.bo.id)],
        date(2026, 3, 10),
    )


def test_the_clerks_board_puts_extra_urgent_items_first(people, sender):
    normal = register(people.clerk, sender, title="Normal", deadline=date(2026, 3, 5))
    later = register(people.clerk, sender, title="Later", deadline=date(2026, 3, 20))
    urgent = register(people.clerk, sender, title="Extra urgent", urgency="extra_urgent", deadline=date(2026, 3, 30))
    for document in (later, normal, urgent):
        act(routing.accept, ctx(people.clerk), document.id)
    assert [item.document.title for item in routing.in_progress()] == ["Extra urgent", "Normal", "Later"]


# --- concurrency ------------------------------------------------------------------------------------------------


def test_two_people_completing_a_task_at_once_leave_one_completion(app, people, sender):
    document = instructed(people, sender)
    lead, _co = tasks_of(document)
    start, outcomes, task_id = threading.Barrier(2), {}, lead.id
    users = {"ana": people.ana.id, "bo": people.bo.id}

    def complete(name: str) -> None:
        try:
            with app.app_context(), database.writing():
                start.wait(10)
                try:
                    routing.complete_task(audit.Context(users[name]), task_id, f"Result by {name}")
                    time.sleep(0.3)  # hold the transaction open while the other one tries
                    db.session.commit()
                    outcomes[name] = "done"
                except IllegalTransition as exc:
                    db.session.rollback()
                    outcomes[name] = str(exc)
                finally:
                    db.session.remove()
        except Exception as exc:  # reported below: an assertion in a thread would go unnoticed
            outcomes[name] = repr(exc)

    threads = [threading.Thread(target=complete, args=(name,)) for name in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes.values()) == ["This task is done: it cannot be completed.", "done"], outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome == "done")
    db.session.rollback()  # end the test's own read transaction: see what the threads committed
    task = db.session.get(Task, lead.id)
    assert (task.state, task.result, task.completed_by_id) == ("done", f"Result by {winner}", users[winner])
    assert len(events("routing.task.complete")) == 1 and len(events("routing.handle")) == 1
    item = db.session.scalars(select(RoutingItem).where(RoutingItem.document_id == document.id)).one()
    assert item.state == "handled"
    assert audit.verify_chain().intact


# --- registration, review fixes ----------------------------------------------------------------------------------


def test_a_document_registered_before_routing_existed_gets_its_item_when_received(people, sender):
    document = register(people.clerk, sender)
    assert routing.get_item(document.id).state == "pending"  # registering put it on the board
    db.session.execute(delete(RoutingItem).where(RoutingItem.document_id == document.id))  # as before routing
    db.session.commit()
    assert routing.in_progress() == []
    item = act(routing.accept, ctx(people.clerk), document.id, "action")
    assert (item.document_id, item.state) == (document.id, "accepted")


def test_a_leader_instructs_a_handled_document_again_with_a_new_lead(people, sender, make_user, fake_clock):
    p = people
    deputy = make_user("deputy", "leader", full_name="Deputy Director")
    document = instructed(people, sender)  # the director: Finance leads, Carl co-handles
    lead, _co = tasks_of(document)
    act(routing.complete_task, ctx(p.ana), lead.id, "Budget checked.")
    assert routing.get_item(document.id).state == "handled"
    fake_clock.advance(minutes=5)
    error = refused(ValidationFailed, routing.instruct, ctx(deputy), document.id, "Review.", None, [("user", p.eve.id)])
    assert set(error.errors) == {"lead"}  # a new lead, or nothing: the reported handling is over
    assert routing.get_item(document.id).state == "handled"
    act(
        routing.instruct,
        ctx(deputy),
        document.id,
        "Legal reviews the answer.",
        ("department", p.legal.id),
        deadline=date(2026, 3, 20),
    )
    item = routing.get_item(document.id)
    assert (item.state, item.deadline) == ("handling", date(2026, 3, 20))
    assert [(t.role, t.department_id or t.user_id, t.state) for t in tasks_of(document)] == [
        ("lead", p.finance.id, "done"),  # the first lead's report stands
        ("co", p.carl.id, "open"),
        ("lead", p.legal.id, "open"),
    ]
    steps = [entry for entry in routing.timeline(document.id) if entry.what == "instruct"]
    assert [(entry.actor_id, entry.details["from"]) for entry in steps] == [
        (p.director.id, "accepted"),
        (deputy.id, "handled"),
    ]
    refused(IllegalTransition, routing.close, ctx(p.clerk), document.id, result="Too early.")
    act(routing.complete_task, ctx(p.carl), tasks_of(document)[-1].id, "Reviewed by Legal.")  # Carl is in Legal
    assert routing.get_item(document.id).state == "handled"


def test_admins_who_act_as_clerks_are_told_of_a_request_for_more_time(people, sender, make_user):
    admin = make_user("root", "admin")
    document = instructed(people, sender)
    lead, _co = tasks_of(document)
    request = act(routing.request_extension, ctx(people.ana), lead.id, date(2026, 3, 20), "Figures late.")
    assert told(people.clerk, "extension_requested") == 1 and told(admin, "extension_requested") == 1
    act(routing.decide_extension, ctx(admin), request.id, True, "")  # and one of them may decide it
    assert told(people.bo, "extension_requested") == 0


def test_more_time_is_not_asked_for_until_a_day_already_past(people, sender, fake_clock):
    document = instructed(people, sender)  # due Friday 13 March
    lead, _co = tasks_of(document)
    act(
        routing.decide_extension,
        ctx(people.clerk),
        act(routing.request_extension, ctx(people.ana), lead.id, date(2026, 3, 16), "More figures.").id,
        False,
        "No.",
    )
    fake_clock.advance(days=16)  # Wednesday 18 March: the task is overdue
    error = refused(ValidationFailed, routing.request_extension, ctx(people.ana), lead.id, date(2026, 3, 17), "Late")
    assert str(error.errors["new_deadline"]) == "The deadline cannot be in the past."
    refused(ValidationFailed, routing.request_extension, ctx(people.ana), lead.id, date(2026, 3, 12), "Earlier")
    request = act(routing.request_extension, ctx(people.ana), lead.id, date(2026, 3, 18), "Today, at last.")
    assert request.new_deadline == date(2026, 3, 18)


def test_making_a_listed_reader_required_is_audited(people, sender):
    p = people
    document = register(p.clerk, sender)
    act(routing.accept, ctx(p.clerk), document.id, "information")
    act(routing.circulate, ctx(p.clerk), document.id, [p.dora.id, p.ana.id])
    assert act(routing.circulate, ctx(p.clerk), document.id, [p.dora.id]) == []  # nothing changes: nothing recorded
    assert len(events("routing.circulate")) == 1
    added = act(routing.circulate, ctx(p.clerk), document.id, [p.dora.id, p.bo.id], required=True)
    assert [row.user_id for row in added] == [p.bo.id]
    first, second = events("routing.circulate")
    assert json.loads(first.after) == {"readers": sorted([p.dora.id, p.ana.id]), "required": False}
    assert json.loads(second.before) == {"not_required": [p.dora.id]}
    assert json.loads(second.after) == {"readers": [p.bo.id], "required": True, "made_required": [p.dora.id]}
    assert [(r.user_id, r.required) for r in routing.unread_readers(document.id)] == [
        (p.bo.id, True),
        (p.dora.id, True),
        (p.ana.id, False),
    ]
    refused(IllegalTransition, routing.close, ctx(p.clerk), document.id, result="Read.")
    assert audit.verify_chain().intact


def test_the_open_state_of_a_task_is_not_labelled_with_the_verb_open(app):
    # "open" is the msgid of the verb elsewhere ("open" a file: "abrir", "打开"): a task to do is not that
    assert TASK_STATES["open"] == "to do"
    with in_language("es"):
        assert translate(Msg(TASK_STATES["open"])) != translate(Msg(N_("open")))


def test_the_people_a_document_is_routed_to_may_open_it_while_they_handle_it(people, sender, fake_clock):
    p = people
    secret = register(p.clerk, sender, title="Reservado", classification=1)
    document = instructed(people, sender)  # no department: Finance leads (its members), Carl co-handles
    act(routing.accept, ctx(p.clerk), secret.id)
    act(routing.instruct, ctx(p.director), secret.id, "Carl.", ("user", p.carl.id))

    def may_open(user, doc=document) -> bool:
        viewer = db.session.get(type(user), user.id)
        allowed = registry.can_view(viewer, db.session.get(Document, doc.id))
        listed = doc.id in set(db.session.scalars(registry.visible_to(select(Document.id), viewer)))
        assert allowed == listed, (user.username, doc.title)
        return allowed

    assert [may_open(u) for u in (p.ana, p.bo, p.carl, p.dora, p.eve, p.li)] == [True, True, True, False, False, False]
    assert not may_open(p.carl, secret)  # his task does not widen his clearance
    accounts.add_substitution(SYSTEM, p.carl.id, p.eve.id, MONDAY, MONDAY + timedelta(days=4))
    assert may_open(p.eve)  # she acts for Carl this week
    lead, _co = tasks_of(document)
    act(routing.forward_task, ctx(p.ana), lead.id, p.bo.id)  # the department's task becomes Bo's
    assert (may_open(p.ana), may_open(p.bo)) == (False, True)
    act(routing.circulate, ctx(p.clerk), document.id, [p.dora.id])
    assert may_open(p.dora)
    fake_clock.advance(days=7)  # Eve's week is over
    assert not may_open(p.eve)
    assert (may_open(p.carl), may_open(p.dora)) == (True, True)
