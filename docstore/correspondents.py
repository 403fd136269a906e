"""The address book of outside organisations and people that send documents to the office or receive them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from docstore import audit
from docstore.errors import N_, Msg, ValidationFailed
from docstore.extensions import db
from docstore.models import CORRESPONDENT_KINDS, Correspondent
from docstore.pagination import Page, code_taken, contains_pattern, fetch, paginate

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LIMITS = {"name": 300, "code": 32, "contact_person": 200, "email": 254, "phone": 50, "address": 2000, "notes": 4000}


def get_correspondent(correspondent_id: int) -> Correspondent:
    """Return the correspondent with `correspondent_id`, or raise NotFound."""
    return fetch(Correspondent, correspondent_id, Msg(N_("No such correspondent.")))


def _validate(values: dict, correspondent: Correspondent | None) -> None:
    errors: dict[str, Msg] = {}
    unknown = set(values) - set(Correspondent.FIELDS)
    for name in sorted(unknown):
        errors[name] = Msg(N_("This field cannot be set."))
    for name, limit in LIMITS.items():
        if name in values:
            values[name] = (values[name] or "").strip()
            if len(values[name]) > limit:
                errors[name] = Msg(N_("Use at most %(n)s characters."), n=limit)
    if "name" in values and not values["name"]:
        errors["name"] = Msg(N_("Enter the name."))
    if "kind" in values and values["kind"] not in CORRESPONDENT_KINDS:
        errors["kind"] = Msg(N_("Choose a kind."))
    if values.get("email") and "email" not in errors and not EMAIL_PATTERN.match(values["email"]):
        errors["email"] = Msg(N_("Enter a valid e-mail address."))
    if "code" in values:
        values["code"] = values["code"].upper() or None
        if values["code"] and "code" not in errors:
            if code_taken(Correspondent, values["code"], correspondent):
                errors["code"] = Msg(N_("Another correspondent has this code."))
    if "active" in values and not isinstance(values["active"], bool):
        errors["active"] = Msg(N_("Say yes or no."))
    if errors:
        raise ValidationFailed(errors)


def create_correspondent(ctx: audit.Context, **values) -> Correspondent:
    """Create a correspondent and return it."""
    values = {"kind": "organisation", "name": "", **values}
    _validate(values, None)
    correspondent = Correspondent(**values)
    db.session.add(correspondent)
    db.session.flush()
    audit.record_event(ctx, "correspondent.create", "correspondent", correspondent.id, after=correspondent.as_dict())
    db.session.commit()
    return correspondent


def update_correspondent(ctx: audit.Context, correspondent_id: int, values: dict) -> Correspondent:
    """Change the given fields of a correspondent (set `active` False to retire one; nothing is deleted)."""
    correspondent = get_correspondent(correspondent_id)
    values = dict(values)
    _validate(values, correspondent)
    audit.record_update(ctx, correspondent, values, "correspondent.update", "correspondent")
    db.session.commit()
    return correspondent


@dataclass(frozen=True)
class CorrespondentFilter:
    """Criteria for searching the address book; empty fields match everything."""

    text: str = ""
    kind: str = ""
    active: bool | None = True


def search_correspondents(criteria: CorrespondentFilter, page: int, per_page: int) -> Page[Correspondent]:
    """Return one page of correspondents whose name, code, contact or e-mail contains the text, by name."""
    query = select(Correspondent)
    text = criteria.text.strip().lower()
    if text:
        pattern = contains_pattern(text)
        columns = (Correspondent.name, Correspondent.code, Correspondent.contact_person, Correspondent.email)
        query = query.where(or_(*(func.lower(column).like(pattern, escape="\\") for column in columns)))
    if criteria.kind:
        query = query.where(Correspondent.kind == criteria.kind)
    if criteria.active is not None:
        query = query.where(Correspondent.active == criteria.active)
    return paginate(query.order_by(Correspondent.name, Correspondent.id), page, per_page)
