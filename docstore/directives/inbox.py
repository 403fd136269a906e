"""The directives that wait for a user's step, for their work list and the header's count."""

from __future__ import annotations

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import selectinload

from docstore import registry
from docstore.directives.drafts import Reach, reach, visible
from docstore.extensions import db
from docstore.models import Countersign, Directive, User
from docstore.pagination import Page, paginate


def _waiting(user: User, acting: Reach):
    """Return the condition "this directive waits for a step `user` may take" (the SQL twin of flow.waiting_for)."""
    people, ids, departments = acting.people, sorted(acting.ids), sorted(acting.departments)
    conditions = [and_(Directive.state == "signoff", Directive.signer_id.in_(ids))]
    if any(person.has_role("leader") for person in people):
        conditions.append(and_(Directive.state == "signoff", Directive.signer_id.is_(None)))
    if departments:
        pending = select(Countersign.directive_id).where(
            Countersign.department_id.in_(departments), Countersign.state == "pending"
        )
        conditions.append(and_(Directive.state == "countersign", Directive.id.in_(pending)))
    if user.has_role(*registry.CLERK_ROLES):
        conditions.append(Directive.state.in_(("review", "recheck", "registered")))
    return or_(*conditions) if conditions else false()


def waiting_list(user: User, page: int, per_page: int) -> Page:
    """Return a page of the directives waiting for `user`, the longest waiting first."""
    query = select(Directive).options(selectinload(Directive.department), selectinload(Directive.signer))
    acting = reach(user)
    query = query.where(_waiting(user, acting)).order_by(Directive.updated_at, Directive.id)
    return paginate(visible(query, user, acting), page, per_page)


def waiting_count(user: User) -> int:
    """Return how many directives wait for `user`."""
    acting = reach(user)
    query = visible(select(func.count(Directive.id)).where(_waiting(user, acting)), user, acting)
    return db.session.execute(query).scalar_one()
