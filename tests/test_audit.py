"""The audit log: every change is an event, events are chained, and tampering is detected and named."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask_babel import format_date
from lxml import html

from docstore import accounts, audit, clock, history, organisation, routing
from docstore.errors import N_, Msg
from docstore.extensions import db
from docstore.messages import in_language, translate
from docstore.models import EXTENSION_STATES, ITEM_KINDS, ITEM_STATES, TASK_ROLES, TASK_STATES, AuditEvent
from tests.test_routing import act, ctx, register, tasks_of

MARCH_13, MARCH_20 = date(2026, 3, 13), date(2026, 3, 20)


def _disable_append_only_guard() -> None:
    """Remove the database's own protection, as an attacker with database access could."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    else:
        db.session.execute(sa.text("DROP TRIGGER audit_event_no_update"))
        db.session.execute(sa.text("DROP TRIGGER audit_event_no_delete"))
    db.session.commit()


def _make_events(count: int) -> None:
    for number in range(count):
        organisation.create_department(audit.SYSTEM, code=f"D{number}", name=f"Department {number}")


def _verify_cli(app):
    return CliRunner().invoke(app.cli, ["audit", "verify"], catch_exceptions=False)


def test_changes_write_chained_events(app):
    _make_events(3)
    events = db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
    assert [event.seq for event in events] == [1, 2, 3]
    assert events[0].prev_hash == audit.GENESIS_HASH
    assert events[1].prev_hash == events[0].chain_hash
    assert events[2].prev_hash == events[1].chain_hash
    assert audit.decode(events[0].after)["code"] == "D0"
    report = audit.verify_chain()
    assert report.intact and report.checked == 3


def test_update_records_before_and_after_values(app):
    department = organisation.create_department(audit.SYSTEM, code="FIN", name="Finance")
    organisation.update_department(
        audit.Context(actor_id=None, client_addr="10.1.2.3"), department.id, {"name": "Hacienda"}
    )
    event = db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.seq.desc())).scalars().first()
    assert event.action == "department.update"
    assert audit.decode(event.before) == {"name": "Finance"}
    assert audit.decode(event.after) == {"name": "Hacienda"}
    assert event.client_addr == "10.1.2.3"


def test_database_refuses_to_change_or_delete_an_event(app):
    _make_events(1)
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        try:
            db.session.execute(sa.text(statement))
            db.session.commit()
        except sa.exc.DatabaseError as exc:
            db.session.rollback()
            assert "append-only" in str(exc)
        else:
            raise AssertionError(f"{statement} was accepted")
    assert audit.verify_chain().intact


def test_verify_names_an_altered_event(app):
    _make_events(5)
    _disable_append_only_guard()
    db.session.execute(sa.text("UPDATE audit_event SET after = :value WHERE seq = 3"), {"value": '{"code":"EVIL"}'})
    db.session.commit()
    report = audit.verify_chain()
    assert not report.intact
    assert [seq for seq, _ in report.problems] == [3]
    result = _verify_cli(app)
    assert result.exit_code == 1
    assert "event 3 was altered" in result.output


def test_verify_detects_a_deleted_event(app):
    _make_events(5)
    _disable_append_only_guard()
    db.session.execute(sa.text("DELETE FROM audit_event WHERE seq = 2"))
    db.session.commit()
    report = audit.verify_chain()
    assert not report.intact
    assert "event(s) 2 missing" in report.problems[0][1]


def test_verify_detects_a_removed_last_event(app):
    _make_events(4)
    _disable_append_only_guard()
    db.session.execute(sa.text("DELETE FROM audit_event WHERE seq = 4"))
    db.session.commit()
    report = audit.verify_chain()
    assert not report.intact
    assert "ends at event 3" in report.problems[0][1]


def test_verify_detects_a_rewritten_hash(app):
    _make_events(4)
    _disable_append_only_guard()
    event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.seq == 2)).scalar_one()
    event.action = "department.forged"
    event.chain_hash = audit.compute_hash(event)  # the forger recomputes this event's own hash...
    db.session.commit()
    report = audit.verify_chain()
    assert [seq for seq, _ in report.problems] == [3]  # ...but the next event still points at the old one
    assert "does not link" in report.problems[0][1]


def test_verify_cli_reports_intact_chain(app):
    _make_events(2)
    result = _verify_cli(app)
    assert result.exit_code == 0
    assert "audit chain intact: 2 events verified" in result.output


# --- routing events, as a person reads them ------------------------------------------------------------------------

ROUTING_ACTIONS = {
    "routing.accept",
    "routing.return",
    "routing.propose",
    "routing.instruct",
    "routing.instruction.create",
    "routing.handle",
    "routing.close",
    "routing.reopen",
    "routing.circulate",
    "routing.read",
    "routing.task.comment",
    "routing.task.request_extension",
    "routing.task.decide_extension",
    "routing.task.forward",
    "routing.task.complete",
    "routing.task.cancel",
    "routing.task.remind",
}


@pytest.fixture
def routed(app, make_user, clerk, sender, fake_clock):
    """A document carried through every routing step (and a second one returned to its sender)."""
    finance = organisation.create_department(audit.SYSTEM, code="FIN", name="Finance")
    legal = organisation.create_department(audit.SYSTEM, code="LEG", name="Legal")
    o = SimpleNamespace(
        clerk=clerk,
        finance=finance,
        legal=legal,
        director=make_user("director", "leader", full_name="Diana Director"),
        ana=make_user("ana", "staff", full_name="Ana Ruiz", department_id=finance.id),
        bo=make_user("bo", "staff", full_name="Bo Li", department_id=finance.id),
        carl=make_user("carl", "staff", full_name="Carl Cruz", department_id=legal.id),
        dora=make_user("dora", "staff", full_name="Dora Diaz"),
    )
    document = register(clerk, sender)
    act(routing.accept, ctx(clerk), document.id, "action")
    act(routing.propose, ctx(clerk), document.id, o.director.id, [legal.id, finance.id], MARCH_13, "Legal leads.")
    act(
        routing.instruct,
        ctx(o.director),
        document.id,
        "Finance leads.",
        ("department", finance.id),
        [("user", o.carl.id)],
        MARCH_13,
    )
    lead, co = tasks_of(document)
    act(routing.comment, ctx(o.carl), co.id, "A legal remark.")
    request = act(routing.request_extension, ctx(o.ana), lead.id, MARCH_20, "The figures come later.")
    act(routing.decide_extension, ctx(clerk), request.id, True, "Agreed.")
    forwarded = act(routing.forward_task, ctx(o.ana), lead.id, o.bo.id)
    act(routing.remind, ctx(clerk), forwarded.id)
    act(routing.complete_task, ctx(o.carl), co.id, "No objection.")
    act(routing.complete_task, ctx(o.bo), forwarded.id, "Budget approved.")
    act(routing.circulate, ctx(clerk), document.id, [o.dora.id], True)
    act(routing.mark_read, ctx(o.dora), document.id)
    act(routing.close, ctx(clerk), document.id, "Replied.")
    act(routing.reopen, ctx(clerk), document.id, "A follow-up question.")
    act(routing.instruct, ctx(o.director), document.id, "Ana answers it.", ("user", o.ana.id), [], MARCH_20)
    act(routing.close, ctx(clerk), document.id, None, "Withdrawn by the sender.")  # cancels Ana's open task
    returned = register(clerk, sender, title="Not for us")
    act(routing.return_to_sender, ctx(clerk), returned.id, "Not in our remit.")
    o.document, o.lead, o.co, o.forwarded = document, lead, co, forwarded
    return o


def routing_entries(action: str) -> list:
    events = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
    return history.describe(list(events.scalars()))


def changes(entry) -> dict:
    return {change.key: (change.before, change.after) for change in entry.changes}


def test_every_routing_action_has_a_label_and_readable_values(routed):
    recorded = set(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("routing.%"))))
    assert recorded == ROUTING_ACTIONS  # the flow above records each of them...
    assert recorded <= set(history.ACTIONS)  # ...and each has a label
    assert {"routing_item", "task"} <= set(history.OBJECT_TYPES)

    (propose,) = routing_entries("routing.propose")
    assert propose.label == "Handling proposed"
    fields = changes(propose)
    assert fields["state"] == (Msg(ITEM_STATES["accepted"]), Msg(ITEM_STATES["proposed"]))
    assert fields["proposed_leader_id"] == (None, "Diana Director")
    assert fields["proposed_department_ids"][1] == [Msg("%(department)s (lead)", department="Legal"), "Finance"]
    assert fields["proposed_deadline"] == (None, MARCH_13) and fields["deadline"] == (None, MARCH_13)
    (accept,) = routing_entries("routing.accept")
    assert changes(accept)["kind"] == (None, Msg(ITEM_KINDS["action"]))

    (created, _again) = routing_entries("routing.instruction.create")
    assert "instruction_id" not in changes(created)
    assert changes(created)["tasks"][1] == [
        Msg(
            "%(assignee)s, %(role)s, due %(deadline)s",
            assignee="Finance",
            role=Msg(TASK_ROLES["lead"]),
            deadline=MARCH_13,
        ),
        Msg(
            "%(assignee)s, %(role)s, due %(deadline)s",
            assignee="Carl Cruz",
            role=Msg(TASK_ROLES["co"]),
            deadline=MARCH_13,
        ),
    ]
    (decided,) = routing_entries("routing.task.decide_extension")
    assert changes(decided)["state"] == (Msg(EXTENSION_STATES["pending"]), Msg(EXTENSION_STATES["approved"]))
    assert changes(decided)["deadline"] == (MARCH_13, MARCH_20)
    (asked,) = routing_entries("routing.task.request_extension")
    assert changes(asked)["new_deadline"] == (None, MARCH_20) and "request_id" not in changes(asked)
    (forward,) = routing_entries("routing.task.forward")
    assert changes(forward)["state"] == (Msg(TASK_STATES["open"]), Msg(TASK_STATES["forwarded"]))
    assert changes(forward)["to_task"][1].params["assignee"] == "Bo Li"
    (remind,) = routing_entries("routing.task.remind")
    assert changes(remind)["people"] == (None, ["Bo Li"])
    (circulate,) = routing_entries("routing.circulate")
    assert changes(circulate)["readers"] == (None, ["Dora Diaz"]) and changes(circulate)["required"] == (None, True)
    (read,) = routing_entries("routing.read")
    assert changes(read)["reader_id"] == (None, "Dora Diaz")
    assert changes(read)["read_at"][1] == clock.now()  # an instant (the fake clock stands still)
    first_close, second_close = routing_entries("routing.close")
    assert changes(first_close)["closed_by_id"] == (None, "Lucia")
    assert "close_reason" not in changes(first_close) and "reply_document_id" not in changes(first_close)
    assert changes(first_close)["result"] == (None, "Replied.") and "note" not in changes(first_close)  # no repeat
    assert changes(second_close)["close_reason"] == (None, "Withdrawn by the sender.")
    assert "result" not in changes(second_close)
    (reopen,) = routing_entries("routing.reopen")
    assert set(changes(reopen)) == {"state", "note"}  # not the closing columns it clears
    (cancel,) = routing_entries("routing.task.cancel")
    assert changes(cancel)["state"] == (Msg(TASK_STATES["open"]), Msg(TASK_STATES["cancelled"]))


@pytest.mark.parametrize(("locale", "lang"), [("en", "en"), ("es", "es"), ("zh_Hans", "zh-Hans")])
def test_the_audit_log_shows_routing_events_in_each_language(app, routed, admin, client, sign_in, locale, lang):
    accounts.update_user(audit.SYSTEM, admin.id, {"locale": locale})
    app.config["PAGE_SIZE"] = 200  # every routing event on one page
    assert sign_in("admin").status_code == 302
    response = client.get("/admin/audit?action=routing.")
    assert response.status_code == 200
    tree = html.fromstring(response.text)
    assert tree.xpath("/html/@lang") == [lang]
    rows = tree.xpath("//table[contains(@class, 'history')]/tbody/tr")
    assert len(rows) == db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action.like("routing.%"))
    )
    text = " ".join(tree.text_content().split())
    with in_language(locale):
        expected = [
            translate(Msg(N_("Sent for handling"))),
            translate(Msg(ITEM_STATES["handling"])),
            translate(Msg(TASK_STATES["cancelled"])),
            translate(Msg(N_("%(department)s (lead)"), department="Legal")),
            translate(Msg(N_("Handling"))),
            format_date(MARCH_20, "medium"),
            "Diana Director",
            "Dora Diaz",
        ]
    for words in expected:
        assert words in text, words
    assert "routing_item" not in text  # the object type is named, not its table
    assert "2026-03-13" not in text  # days are written as the language writes them


# --- withholding what an administrator is not cleared for ----------------------------------------------------------

#: What the handling of a secret document writes into the log, none of which a less cleared admin may read.
SECRETS = ("Plan secreto", "Propose the secret reply.", "Draft the secret reply.", "A secret remark.", "Budget cut.")


def route_a_secret(make_user, sender) -> SimpleNamespace:
    """Register a secret document (classified 3) and carry it through proposal, instruction, a comment and a result
    (events of the item and of its task); and an open document, only accepted. Return both."""
    clerk = make_user("wang.fang", "clerk", clearance=3)
    director = make_user("director", "leader", clearance=3)
    ana = make_user("ana", "staff", clearance=3)
    secret = register(clerk, sender, title=SECRETS[0], classification=3)
    act(routing.accept, ctx(clerk), secret.id, "action")
    act(routing.propose, ctx(clerk), secret.id, director.id, [], MARCH_13, SECRETS[1])
    act(routing.instruct, ctx(director), secret.id, SECRETS[2], ("user", ana.id), [], MARCH_13)
    (task,) = tasks_of(secret)
    act(routing.comment, ctx(ana), task.id, SECRETS[3])
    act(routing.complete_task, ctx(ana), task.id, SECRETS[4])
    public = register(clerk, sender, title="Solicitud abierta")
    act(routing.accept, ctx(clerk), public.id, "action")
    return SimpleNamespace(secret=secret, public=public, item=routing.get_item(secret.id), task=task)


def test_the_audit_page_withholds_the_handling_of_a_document_above_the_admins_clearance(
    app, make_user, sender, fake_clock, client, sign_in
):
    route_a_secret(make_user, sender)
    make_user("boss", "admin", clearance=0)
    make_user("chief", "admin", clearance=3)
    app.config["PAGE_SIZE"] = 200  # every event on one page

    def rows(username: str) -> dict[str, list[str]]:
        """Return the text of each row of the audit page as `username` reads it, by kind of object."""
        assert sign_in(username).status_code == 302
        found = {}
        for object_type in ("document", "routing_item", "task"):
            tree = html.fromstring(client.get("/admin/audit", query_string={"object_type": object_type}).text)
            rows = tree.xpath("//table[contains(@class, 'history')]/tbody/tr")
            found[object_type] = [" ".join(row.text_content().split()) for row in rows]
        client.post("/sign-out")
        return found

    low = rows("boss")
    text = " ".join(row for kind in low.values() for row in kind)
    assert [secret for secret in SECRETS if secret in text] == []
    withheld = {kind: len([row for row in kind_rows if "Details withheld" in row]) for kind, kind_rows in low.items()}
    # registered; accepted, proposed, instructed, its instruction, handled; commented on, its result reported
    assert withheld == {"document": 1, "routing_item": 5, "task": 2}
    assert "Solicitud abierta" in text and len(low["routing_item"]) == 5 + 1  # the open document's shown in full
    high = rows("chief")
    text = " ".join(row for kind in high.values() for row in kind)
    assert [secret for secret in SECRETS if secret not in text] == [] and "Details withheld" not in text


def test_withheld_events_reads_one_query_per_kind_of_object(app, make_user, sender, fake_clock):
    route_a_secret(make_user, sender)
    boss = make_user("boss", "admin", clearance=0)
    events = list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)))
    assert boss.clearance == 0  # loaded now, not counted below
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        withheld = history.withheld_events(events, boss)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 3, statements  # documents, routing items, tasks: whatever the number of events
    assert {event.object_type for event in events if event.id in withheld} == {"document", "routing_item", "task"}
    assert history.withheld_events(events, None) == set()  # no viewer (the system): nothing to withhold
