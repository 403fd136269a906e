"""The file plan (分类方案): fonds, classes and sub-classes, each giving its records a retention and a disposal action.

A fonds (全宗, e.g. J001) is a root; its classes (门类, e.g. WS 文书) and their sub-classes refine it. A class without
its own retention or disposal action takes its parent's ("class determines destiny", MoReq2010); a fonds has both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from docstore import audit
from docstore.errors import N_, Conflict, Msg, ValidationFailed
from docstore.extensions import db
from docstore.models import CLASS_LEVELS, DISPOSAL_ACTIONS, RETENTIONS, ArchiveClass, Record
from docstore.pagination import fetch

#: The level a node's parent must have.
PARENT_LEVEL = {"fonds": None, "class": "fonds", "subclass": "class"}
#: What a class or sub-class without the right parent is told.
PARENT_NEEDED = {
    "class": Msg(N_("Choose the fonds this class belongs to.")),
    "subclass": Msg(N_("Choose the class this sub-class belongs to.")),
}
_CODE = re.compile(r"[A-Za-z0-9]{1,16}")
_CUSTOM = re.compile(r"D([1-9][0-9]?|[1-9][0-9]{2})")
EDITABLE = ("code", "name", "retention", "disposal_action", "description", "active", "position")


def retention_years(code: str) -> int | None:
    """Return the years a retention code keeps a record (None for permanent); raise ValueError for a bad code."""
    if code == "Y":
        return None
    match = _CUSTOM.fullmatch(code)
    if match is None:
        raise ValueError(f"not a retention code: {code!r}")
    return int(match.group(1))


def retention_valid(code: str) -> bool:
    """Return True for Y, D30, D10 and a custom period D1..D999."""
    return code in RETENTIONS or _CUSTOM.fullmatch(code) is not None


@dataclass(frozen=True)
class Effective:
    """What a class gives the records filed in it: the codes of its path, its retention and disposal action."""

    fonds: str
    category: str
    path: tuple[str, ...]
    retention: str
    disposal_action: str


def get_class(class_id: int) -> ArchiveClass:
    """Return the class `class_id`; raise NotFound."""
    return fetch(ArchiveClass, class_id, Msg(N_("No such class in the file plan.")))


def ancestry(node: ArchiveClass) -> list[ArchiveClass]:
    """Return the path from the fonds down to `node`."""
    path = [node]
    while path[-1].parent is not None:
        path.append(path[-1].parent)
    return path[::-1]


def effective(node: ArchiveClass) -> Effective:
    """Return what `node` gives its records, taking the nearest retention and disposal action up the tree."""
    path = ancestry(node)
    retention = next((n.retention for n in reversed(path) if n.retention), "Y")
    action = next((n.disposal_action for n in reversed(path) if n.disposal_action), "review")
    codes = tuple(n.code for n in path)
    return Effective(
        fonds=codes[0],
        category=codes[1] if len(codes) > 1 else "",
        path=codes[1:],
        retention=retention,
        disposal_action=action,
    )


def list_classes(include_inactive: bool = False) -> list[ArchiveClass]:
    """Return the file plan in tree order: each fonds, then its classes, each followed by its sub-classes."""
    query = select(ArchiveClass)
    if not include_inactive:
        query = query.where(ArchiveClass.active.is_(True))
    rows = list(db.session.scalars(query.order_by(ArchiveClass.position, ArchiveClass.code, ArchiveClass.id)))
    children: dict[int | None, list[ArchiveClass]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    ordered: list[ArchiveClass] = []

    def walk(parent_id: int | None) -> None:
        for row in children.get(parent_id, []):
            ordered.append(row)
            walk(row.id)

    walk(None)
    return ordered


def fileable_classes() -> list[ArchiveClass]:
    """Return the active classes records can be filed into (classes and sub-classes, not fonds)."""
    return [node for node in list_classes() if node.level != "fonds"]


def _validate(values: dict, node: ArchiveClass | None) -> None:
    errors: dict[str, Msg] = {}
    level = values.get("level", node.level if node else "")
    if level not in CLASS_LEVELS:
        errors["level"] = Msg(N_("Choose a level: fonds, class or sub-class."))
    parent_id = values.get("parent_id", node.parent_id if node else None)
    expected = PARENT_LEVEL.get(level)
    parent = db.session.get(ArchiveClass, parent_id) if parent_id else None
    if level in CLASS_LEVELS:
        if expected is None and parent_id:
            errors["parent_id"] = Msg(N_("A fonds has no parent."))
        elif expected is not None and (parent is None or parent.level != expected):
            errors["parent_id"] = PARENT_NEEDED[level]
    code = values.get("code", node.code if node else "")
    if not _CODE.fullmatch(code or ""):
        errors["code"] = Msg(N_("Use 1 to 16 letters or digits (J001, WS, BGS)."))
    else:
        twin = select(ArchiveClass.id).where(
            ArchiveClass.code == code,
            ArchiveClass.parent_id.is_(None) if parent_id is None else ArchiveClass.parent_id == parent_id,
        )
        other = db.session.scalar(twin)
        if other is not None and (node is None or other != node.id):
            errors["code"] = Msg(N_("This code is already used at this place of the file plan."))
    name = (values.get("name", node.name if node else "") or "").strip()
    if not name or len(name) > 200:
        errors["name"] = Msg(N_("Give a name of up to 200 characters."))
    retention = values.get("retention", node.retention if node else "") or ""
    if retention and not retention_valid(retention):
        errors["retention"] = Msg(N_("Choose Y, D30, D10, or a custom period such as D5."))
    if level == "fonds" and not retention:
        errors["retention"] = Msg(N_("A fonds needs a default retention."))
    action = values.get("disposal_action", node.disposal_action if node else "") or ""
    if action and action not in DISPOSAL_ACTIONS:
        errors["disposal_action"] = Msg(N_("Choose destroy, transfer or review."))
    if level == "fonds" and not action:
        errors["disposal_action"] = Msg(N_("A fonds needs a default disposal action."))
    if errors:
        raise ValidationFailed(errors)


def create_class(ctx: audit.Context, **values) -> ArchiveClass:
    """Add a fonds, class or sub-class to the file plan."""
    values = {key: value for key, value in values.items() if key in ("parent_id", "level", *EDITABLE)}
    values["name"] = (values.get("name") or "").strip()
    values.setdefault("retention", "")
    values.setdefault("disposal_action", "")
    _validate(values, None)
    if values.get("position") is None:
        values["position"] = (db.session.scalar(select(func.max(ArchiveClass.position))) or 0) + 1
    node = ArchiveClass(**values)
    db.session.add(node)
    db.session.flush()
    audit.record_event(ctx, "archive_class.created", "archive_class", node.id, after=node.as_dict())
    db.session.commit()
    return node


def update_class(ctx: audit.Context, class_id: int, values: dict) -> ArchiveClass:
    """Change a node of the file plan; its code is fixed once records carry it."""
    node = get_class(class_id)
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValidationFailed({name: Msg(N_("This field cannot be changed.")) for name in sorted(unknown)})
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
    _validate(values, node)
    if "code" in values and values["code"] != node.code and _in_use(node):
        raise Conflict(Msg(N_("Records already carry the code %(code)s: it can no longer change."), code=node.code))
    audit.record_update(ctx, node, values, "archive_class.updated", "archive_class")
    db.session.commit()
    return node


def _in_use(node: ArchiveClass) -> bool:
    ids = descendants(node.id)
    return db.session.scalar(select(Record.id).where(Record.class_id.in_(ids)).limit(1)) is not None


def descendants(class_id: int) -> set[int]:
    """Return `class_id` and the ids of every class below it."""
    ids = {class_id}
    frontier = {class_id}
    while frontier:
        frontier = set(db.session.scalars(select(ArchiveClass.id).where(ArchiveClass.parent_id.in_(frontier))))
        ids |= frontier
    return ids
