"""The organisation: departments arranged as a tree (the office, its departments, subordinate units)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from docstore import audit
from docstore.errors import N_, Conflict, Msg, ValidationFailed
from docstore.extensions import db
from docstore.models import DEPARTMENT_KINDS, Department, User
from docstore.pagination import code_taken, fetch

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
#: Fields of a department that can be set.
DEPARTMENT_FIELDS = ("code", "name", "kind", "parent_id", "head_id")


def get_department(department_id: int) -> Department:
    """Return the department with `department_id`, or raise NotFound."""
    return fetch(Department, department_id, Msg(N_("No such department.")))


def find_department_by_code(code: str) -> Department | None:
    """Return the department whose code is `code` (any case), if any."""
    query = select(Department).where(Department.code == (code or "").strip().upper())
    return db.session.execute(query).scalar_one_or_none()


def _validate(values: dict, department: Department | None) -> None:
    errors: dict[str, Msg] = {}
    if "code" in values:
        values["code"] = (values["code"] or "").strip().upper()
        if not CODE_PATTERN.match(values["code"]):
            errors["code"] = Msg(N_("Use 1 to 32 letters, digits, dots, dashes or underscores."))
        else:
            if code_taken(Department, values["code"], department):
                errors["code"] = Msg(N_("Another department has this code."))
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            errors["name"] = Msg(N_("Enter the name."))
        elif len(values["name"]) > 200:
            errors["name"] = Msg(N_("Use at most %(n)s characters."), n=200)
    if "kind" in values and values["kind"] not in DEPARTMENT_KINDS:
        errors["kind"] = Msg(N_("Choose a kind."))
    if values.get("parent_id") is not None:
        parent = db.session.get(Department, values["parent_id"])
        if parent is None:
            errors["parent_id"] = Msg(N_("Choose an existing department."))
        elif not parent.active:
            errors["parent_id"] = Msg(N_("This department is deactivated."))
        elif department is not None and (parent.id == department.id or _is_below(parent, department)):
            errors["parent_id"] = Msg(N_("A department cannot sit below itself."))
    head_changed = department is None or values.get("head_id") != department.head_id
    if values.get("head_id") is not None and head_changed:  # a head deactivated since stays until replaced
        head = db.session.get(User, values["head_id"])
        if head is None or not head.active:
            errors["head_id"] = Msg(N_("Choose an active user."))
    if errors:
        raise ValidationFailed(errors)


def _is_below(candidate: Department, ancestor: Department) -> bool:
    """Return True when `candidate` lies somewhere under `ancestor`."""
    node = candidate.parent
    seen = set()
    while node is not None and node.id not in seen:
        if node.id == ancestor.id:
            return True
        seen.add(node.id)
        node = node.parent
    return False


def create_department(ctx: audit.Context, **values) -> Department:
    """Create a department from `code`, `name`, `kind`, `parent_id` and `head_id` (its head), and return it."""
    unknown = set(values) - set(DEPARTMENT_FIELDS)
    if unknown:
        raise ValidationFailed({name: Msg(N_("This field cannot be set.")) for name in sorted(unknown)})
    values = {"kind": "department", "parent_id": None, "head_id": None, "code": "", "name": "", **values}
    _validate(values, None)
    department = Department(**values, active=True)
    db.session.add(department)
    db.session.flush()
    audit.record_event(ctx, "department.create", "department", department.id, after=department.as_dict())
    db.session.commit()
    return department


def update_department(ctx: audit.Context, department_id: int, values: dict) -> Department:
    """Change the given fields of a department; `active` (de)activates it as `set_department_active` does.

    Everything is saved in one transaction: a refused (de)activation leaves the other fields unchanged too.
    """
    department = get_department(department_id)
    unknown = set(values) - {*DEPARTMENT_FIELDS, "active"}
    if unknown:
        raise ValidationFailed({name: Msg(N_("This field cannot be changed.")) for name in sorted(unknown)})
    values = dict(values)
    active = values.pop("active", None)
    if active is not None and not isinstance(active, bool):
        raise ValidationFailed({"active": Msg(N_("Say yes or no."))})
    _validate(values, department)
    audit.record_update(ctx, department, values, "department.update", "department")
    if active is not None:
        db.session.expire(department, ["parent"])  # parent_id may have just changed
        try:
            _change_active(ctx, department, active)
        except Conflict:
            db.session.rollback()  # the other changes are flushed already: undo them with it
            raise
    db.session.commit()
    return department


def set_department_active(ctx: audit.Context, department_id: int, active: bool) -> Department:
    """Deactivate (or reactivate) a department; one with active members or sub-units cannot be deactivated."""
    department = get_department(department_id)
    _change_active(ctx, department, active)
    db.session.commit()
    return department


def _change_active(ctx: audit.Context, department: Department, active: bool) -> None:
    """(De)activate `department` in the current transaction, or raise Conflict saying what stands in the way."""
    if department.active == active:
        return
    if not active:
        members = db.session.execute(
            select(func.count()).where(User.department_id == department.id, User.active)
        ).scalar_one()
        children = db.session.execute(
            select(func.count()).where(Department.parent_id == department.id, Department.active)
        ).scalar_one()
        if members or children:
            raise Conflict(
                Msg(
                    N_("Move or deactivate its %(users)s active users and %(units)s active sub-units first."),
                    users=members,
                    units=children,
                )
            )
    elif department.parent is not None and not department.parent.active:
        raise Conflict(Msg(N_("Reactivate the department above it first.")))
    department.active = active
    action = "department.reactivate" if active else "department.deactivate"
    audit.record_event(
        ctx, action, "department", department.id, before={"active": not active}, after={"active": active}
    )


@dataclass(frozen=True)
class TreeRow:
    """A department with its depth in the tree, for indented lists and pickers."""

    department: Department
    depth: int
    members: int


def department_tree(include_inactive: bool = True) -> list[TreeRow]:
    """Return every department in tree order (parents before their children, siblings by code)."""
    query = select(Department).options(selectinload(Department.head)).order_by(Department.code)
    if not include_inactive:
        query = query.where(Department.active)
    departments = list(db.session.execute(query).scalars())
    counts = dict(
        db.session.execute(
            select(User.department_id, func.count()).where(User.active).group_by(User.department_id)
        ).all()
    )
    known = {d.id for d in departments}
    children: dict[int | None, list[Department]] = {}
    for department in departments:
        parent = department.parent_id if department.parent_id in known else None
        children.setdefault(parent, []).append(department)
    rows: list[TreeRow] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for child in children.get(parent_id, []):
            rows.append(TreeRow(child, depth, counts.get(child.id, 0)))
            walk(child.id, depth + 1)

    walk(None, 0)
    return rows


def head_candidates(department_id: int | None) -> tuple[list[User], list[User]]:
    """Return the active users who may head a department: its own members, then everyone else, each by name."""
    users = list(db.session.execute(select(User).where(User.active).order_by(User.full_name, User.id)).scalars())
    members = [user for user in users if department_id is not None and user.department_id == department_id]
    return members, [user for user in users if department_id is None or user.department_id != department_id]
