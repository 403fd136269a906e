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


def members(department_ids: set[int]) -> list[int]:
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
        return members({c.department_id for c in directive.countersigns if c.state == "pending"})
    if state == "signoff":
        if directive.signer_id is not None:
            return [directive.signer_id]
        query = select(UserRole.user_id).where(UserRole.role == "leader")
        return list(db.session.execute(query).scalars())
    if state == "draft":
        return [directive.drafted_by_id] if directive.drafted_by_id else []
    return []


def notify(directive: Directive, people: list[int], step: str, key: str | None = None) -> int:
    """Notify those of `people` cleared for `directive` that it reached `step`; return how many were notified.

    The notification carries the directive's title, so someone below its classification is not told at all.
    """
    if not people:
        return 0
    query = select(User.id).where(User.id.in_(set(people)), User.clearance >= directive.classification)
    cleared = list(db.session.execute(query).scalars())
    return notifications.notify(cleared, "directive", None, key=key, title=directive.title[:200], step=step)


def tell(directive: Directive, step: str) -> None:
    """Notify who holds `directive` now that it reached `step` (a state, or "returned" / "issued")."""
    if step == "issued":
        people, wording = ([directive.drafted_by_id] if directive.drafted_by_id else []), "issued"
    else:
        people, wording = holders(directive), directive.state
    if wording not in notifications.KINDS["directive"].wordings:
        return
    notify(directive, people, wording)


def tell_departments(directive: Directive, department_ids: set[int], step: str) -> None:
    """Notify the members of `department_ids` that `directive` reached them (`step`: "received", "chase")."""
    notify(directive, members(department_ids), step)
