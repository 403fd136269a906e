"""Departments as a tree: validation, cycles, deactivation rules and tree order."""

from __future__ import annotations

import pytest

from docstore import accounts, audit, organisation
from docstore.errors import Conflict, ValidationFailed

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
