"""Departments as a tree: validation, cycles, deactivation rules and tree order."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from docstore import accounts, audit, organisation
from docstore.errors import Conflict, ValidationFailed
from docstore.extensions import db
from docstore.models import AuditEvent, Department

SYSTEM = audit.SYSTEM


def test_tree_lists_parents_before_children(app):
    office = organisation.create_department(SYSTEM, code="bgs", name="Office", kind="office")
    finance = organisation.create_department(SYSTEM, code="CW", name="Finance", parent_id=office.id)
    organisation.create_department(SYSTEM, code="CW-1", name="Budget", kind="unit", parent_id=finance.id)
    organisation.create_department(SYSTEM, code="AA", name="Archive", parent_id=office.id)
    rows = [(row.department.code, row.depth) for row in organisation.department_tree()]
    assert rows == [("BGS", 0), ("AA", 1), ("CW", 1), ("CW-1", 2)]


def test_code_is_unique_and_upper_cased(app):
    organisation.create_department(SYSTEM, code="fin", name="Finance")
    with pytest.raises(ValidationFailed) as failure:
        organisation.create_department(SYSTEM, code="FIN", name="Other")
    assert set(failure.value.errors) == {"code"}


def test_invalid_fields_are_all_reported_and_nothing_saved(app):
    with pytest.raises(ValidationFailed) as failure:
        organisation.create_department(SYSTEM, code="bad code!", name=" ", kind="planet", parent_id=999)
    assert set(failure.value.errors) == {"code", "name", "kind", "parent_id"}
    assert organisation.department_tree() == []


def test_a_department_cannot_move_below_itself(app):
    office = organisation.create_department(SYSTEM, code="A", name="A")
    child = organisation.create_department(SYSTEM, code="B", name="B", parent_id=office.id)
    grandchild = organisation.create_department(SYSTEM, code="C", name="C", parent_id=child.id)
    for parent in (office, grandchild):
        with pytest.raises(ValidationFailed) as failure:
            organisation.update_department(SYSTEM, office.id, {"parent_id": parent.id})
        assert "parent_id" in failure.value.errors
    assert organisation.get_department(office.id).parent_id is None


def test_department_with_active_members_or_units_cannot_be_deactivated(app, make_user):
    office = organisation.create_department(SYSTEM, code="A", name="A")
    unit = organisation.create_department(SYSTEM, code="B", name="B", parent_id=office.id)
    with pytest.raises(Conflict):
        organisation.set_department_active(SYSTEM, office.id, False)
    user = make_user("clerk1", "clerk", department_id=unit.id)
    with pytest.raises(Conflict):
        organisation.set_department_active(SYSTEM, unit.id, False)
    accounts.update_user(SYSTEM, user.id, {"active": False})
    organisation.set_department_active(SYSTEM, unit.id, False)
    organisation.set_department_active(SYSTEM, office.id, False)
    assert not organisation.get_department(office.id).active
    with pytest.raises(Conflict):  # a unit cannot come back under a deactivated parent
        organisation.set_department_active(SYSTEM, unit.id, True)


def test_users_cannot_join_a_deactivated_department(app, make_user):
    department = organisation.create_department(SYSTEM, code="OLD", name="Old")
    organisation.set_department_active(SYSTEM, department.id, False)
    with pytest.raises(ValidationFailed) as failure:
        make_user("late", department_id=department.id)
    assert "department_id" in failure.value.errors


# --- the head of a department ----------------------------------------------------------------------------------


def test_a_department_head_is_an_active_user_and_its_changes_are_audited(app, make_user):
    fay = make_user("fay", "staff", full_name="Fay Head")
    finance = organisation.create_department(SYSTEM, code="FIN", name="Finance", head_id=fay.id)
    assert (finance.head_id, finance.head.full_name, finance.as_dict()["head_id"]) == (fay.id, "Fay Head", fay.id)
    bo = make_user("bo", "staff", department_id=finance.id)
    organisation.update_department(SYSTEM, finance.id, {"head_id": bo.id})
    changes = [
        (json.loads(event.before or "{}"), json.loads(event.after))
        for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "department").order_by(AuditEvent.seq)
        )
    ]
    assert changes[0][1]["head_id"] == fay.id  # department.create
    assert changes[1] == ({"head_id": fay.id}, {"head_id": bo.id})  # department.update: only what changed

    gone = make_user("gone", "staff")
    accounts.update_user(SYSTEM, gone.id, {"active": False})
    for bad in (gone.id, 999_999):
        with pytest.raises(ValidationFailed) as failure:
            organisation.update_department(SYSTEM, finance.id, {"head_id": bad})
        assert set(failure.value.errors) == {"head_id"}
    organisation.update_department(SYSTEM, finance.id, {"head_id": None})
    assert organisation.get_department(finance.id).head_id is None


def test_a_head_deactivated_since_stays_until_replaced(app, make_user):
    leo = make_user("leo", "staff")
    legal = organisation.create_department(SYSTEM, code="LEG", name="Legal", head_id=leo.id)
    accounts.update_user(SYSTEM, leo.id, {"active": False})
    # the form sends the head back with any other change
    organisation.update_department(SYSTEM, legal.id, {"name": "Legal affairs", "head_id": leo.id})
    department = organisation.get_department(legal.id)
    assert (department.name, department.head_id) == ("Legal affairs", leo.id)


def test_head_candidates_list_the_departments_members_first(app, make_user):
    finance = organisation.create_department(SYSTEM, code="FIN", name="Finance")
    make_user("zoe", "staff", full_name="Zoe Zhang", department_id=finance.id)
    make_user("al", "staff", full_name="Al Other")
    old = make_user("old", "staff", full_name="Old Timer", department_id=finance.id)
    accounts.update_user(SYSTEM, old.id, {"active": False})
    members, others = organisation.head_candidates(finance.id)
    assert ([user.full_name for user in members], [user.full_name for user in others]) == (["Zoe Zhang"], ["Al Other"])
    members, others = organisation.head_candidates(None)  # a new department has no members yet
    assert (members, [user.full_name for user in others]) == ([], ["Al Other", "Zoe Zhang"])


def test_the_department_head_migration_goes_down_and_up_with_data(app, make_user):
    from flask_migrate import downgrade, upgrade

    finance = organisation.create_department(SYSTEM, code="FIN", name="Finance")
    fay = make_user("fay", "staff", department_id=finance.id)  # a user refers to the department
    organisation.update_department(SYSTEM, finance.id, {"head_id": fay.id})
    finance_id, fay_id, directory = finance.id, fay.id, app.extensions["migrate"].directory
    db.session.remove()
    downgrade(directory=directory, revision="0006")
    columns = {column["name"] for column in sa.inspect(db.engine).get_columns("department")}
    assert "head_id" not in columns and "parent_id" in columns
    upgrade(directory=directory, revision="0007")
    db.session.remove()
    department = organisation.get_department(finance_id)
    assert (department.name, department.head_id) == ("Finance", None)
    organisation.update_department(SYSTEM, finance_id, {"head_id": fay_id})
    assert organisation.get_department(finance_id).head_id == fay_id
    with pytest.raises(sa.exc.IntegrityError):  # the reference is enforced again
        db.session.execute(sa.update(Department).where(Department.id == finance_id).values(head_id=999_999))
        db.session.commit()
    db.session.rollback()
