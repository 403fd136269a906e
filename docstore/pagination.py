"""Reading rows for the services: one row by id, and pages of results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select

from docstore.errors import Msg, NotFound
from docstore.extensions import db

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of `items` out of `total`, numbered from 1."""

    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def fetch(model: type[T], ident: int, missing: Msg) -> T:
    """Return the row of `model` with id `ident`, or raise NotFound with the message `missing`."""
    row = db.session.get(model, ident)
    if row is None:
        raise NotFound(missing)
    return row


def code_taken(model, code: str, current=None) -> bool:
    """Return True when another row of `model` than `current` already has `code` (codes are unique)."""
    other = db.session.execute(select(model.id).where(model.code == code)).scalar()
    return other is not None and (current is None or other != current.id)


def contains_pattern(text: str) -> str:
    """Return a LIKE pattern matching values that contain `text` literally (its % and _ are escaped with \\)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def paginate(query: Select, page: int, per_page: int) -> Page:
    """Run `query` (already ordered) for one page of ORM rows, with the total count."""
    page = max(1, page)
    per_page = max(1, per_page)
    total = db.session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    items = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return Page(list(items), page, per_page, total)
