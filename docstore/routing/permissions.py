"""Who may act on routing: the clerks, the leaders who instruct, a task's handlers and their substitutes."""

from __future__ import annotations

from dataclasses import replace

from docstore import accounts, audit, workdays
from docstore.errors import N_, Forbidden, Msg
from docstore.models import RoutingItem, Task, User
from docstore.registry import CLERK_ROLES

#: The role of the people who instruct (批示).
LEADER_ROLE = "leader"


def _calendar(calendar: workdays.Calendar | None) -> workdays.Calendar:
    return calendar if calendar is not None else workdays.Calendar()


_actor = accounts.acting_user


def _clerk(ctx: audit.Context) -> tuple[User, audit.Context]:
    """Return the acting clerk and the context to record (clerks act in their own right)."""
    user = _actor(ctx)
    if not user.has_role(*CLERK_ROLES):
        raise Forbidden(Msg(N_("Only the office's clerks may do this.")))
    return user, replace(ctx, acting_for_id=None)


def _represented(user: User, calendar: workdays.Calendar | None) -> list[User]:
    """Return the users `user` acts for today (an acting substitute), by the office's date."""
    return accounts.represented_by(user.id, _calendar(calendar).today())


def _may_handle(user: User, task: Task) -> bool:
    """Return True when `user` handles `task` in their own right: its user, or for a department task a member."""
    if task.user_id is not None:
        return task.user_id == user.id
    return task.department_id is not None and task.department_id == user.department_id


def acting_as(
    user: User,
    task: Task,
    calendar: workdays.Calendar | None = None,
    prefer: int | None = None,
    represented: list[User] | None = None,
) -> tuple[bool, int | None]:
    """Return whether `user` may act on `task`, and for whom (None: in their own right).

    The task's user may act, or for a department task any member of the department; and so may whoever acts for one
    of them today (by the office's date). `prefer` picks whom to act for when the substitute stands in for several.
    `represented`, when given, is whom `user` stands in for today (as `accounts.represented_by` returns it), read
    once by a caller asking about many tasks; without it, it is read here.
    """
    if user.active and _may_handle(user, task):
        return True, None
    if represented is None:
        represented = _represented(user, calendar)
    candidates = [person for person in represented if person.active and _may_handle(person, task)]
    if not candidates:
        return False, None
    chosen = next((person for person in candidates if person.id == prefer), candidates[0])
    return True, chosen.id


def _handler(ctx: audit.Context, task: Task, calendar: workdays.Calendar | None) -> tuple[User, audit.Context]:
    """Return the user acting on `task` and the context to record, or raise Forbidden."""
    user = _actor(ctx)
    allowed, acting_for = acting_as(user, task, calendar, prefer=ctx.acting_for_id)
    if not allowed:
        raise Forbidden(Msg(N_("Only the handlers of this task, or their substitutes, may do this.")))
    return user, replace(ctx, acting_for_id=acting_for)


def _leader(
    ctx: audit.Context,
    item: RoutingItem,
    calendar: workdays.Calendar | None,
    represented: list[User] | None = None,
) -> tuple[User, audit.Context]:
    """Return the instructing user and the context to record: a leader, or a substitute acting for one today.

    `represented`, when given, is whom the user stands in for today (read here without it), as for `acting_as`.
    """
    user = _actor(ctx)
    if user.has_role(LEADER_ROLE):
        return user, replace(ctx, acting_for_id=None)
    if represented is None:
        represented = _represented(user, calendar)
    leaders = [person for person in represented if person.active and person.has_role(LEADER_ROLE)]
    if not leaders:
        raise Forbidden(Msg(N_("Only a leader, or a leader's acting substitute, may instruct.")))
    for wanted in (ctx.acting_for_id, item.proposed_leader_id):
        chosen = next((person for person in leaders if person.id == wanted), None)
        if chosen is not None:
            return user, replace(ctx, acting_for_id=chosen.id)
    return user, replace(ctx, acting_for_id=leaders[0].id)
