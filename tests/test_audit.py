"""The audit log: every change is an event, events are chained, and tampering is detected and named."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from docstore import audit, organisation
from docstore.extensions import db
from docstore.models import AuditEvent


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
