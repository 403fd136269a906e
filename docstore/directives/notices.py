"""Tell the people a directive waits for that it does (in-app notifications, and e-mail when it is on)."""

from __future__ import annotations

from sqlalchemy import select

from docstore import notifications, registry
from docstore.extensions import db
from docstore.models import Directive, User, UserRole


def _clerks() -> list[int]:
    # every role that takes the clerks' steps (administrators act as clerks too), as routing tells them
    query = (
        select(UserRole.user_id)
        .join(User, User.id == UserRole.user_id)
        .where(UserRole.role.in_(registry.CLERK_ROLES), User.active)
    )
    return sorted(set(db.session.execute(query).scalars()))


def _members(department_ids: set[int]) -> list[int]:
    if not department_ids:
        return []
    query = select(User.id).where(User.department_id.in_(department_ids), User.active)
    return list(db.session.execute(query).scalars())


def holders(directive: Directive) -> list[int]:
    """Return the ids of the users whose step `directive` waits for in its current state."""
    state = directive.state
    if state in ("review", "recheck", "registered"):
        return _clerks()
    if state == "countersign":
        return _members({c.department_id for c in directive.countersigns if c.state == "pending"})
    if state == "signoff":
        if directive.signer_id is not None:
            return [directive.signer_id]
        query = select(UserRole.user_id).where(UserRole.role == "leader")
        return list(db.session.execute(query).scalars())
    if state == "draft":
        return [directive.drafted_by_id] if directive.drafted_by_id else []
    return []


def tell(directive: Directive, step: str) -> None:
    """Notify who holds `directive` now that it reached `step` (a state, or "returned" / "issued")."""
    if step == "issued":
        people, wording = ([directive.drafted_by_id] if directive.drafted_by_id else []), "issued"
    else:
        people, wording = holders(directive), directive.state
    if wording not in notifications.KINDS["directive"].wordings:
        return
    notifications.notify(people, "directive", None, title=directive.title[:200], step=wording)


def tell_departments(directive: Directive, department_ids: set[int], step: str) -> None:
    """Notify the members of `department_ids` that `directive` reached them (`step`: "received", "chase")."""
    notifications.notify(_members(department_ids), "directive", None, title=directive.title[:200], step=step)
