"""What waits for whom: the task inboxes, the reading list, the clerks' board and who handles a document."""

from __future__ import annotations

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import joinedload

from docstore import workdays
from docstore.extensions import db
from docstore.models import Document, Reader, RoutingItem, Task, User
from docstore.routing.permissions import _calendar, _represented

#: "Due soon" means due within this many working days.
DUE_SOON_DAYS = 2
#: The buckets of `my_tasks`.
BUCKETS = ("todo", "due_soon", "overdue", "done")


def _urgency_first():
    return case((Document.urgency == "extra_urgent", 0), else_=1)


def _mine(people: list[User]):
    """Return the condition "the task is for one of `people`": theirs, or their department's without a user."""
    user_ids = [person.id for person in people]
    department_ids = [person.department_id for person in people if person.department_id is not None]
    return or_(Task.user_id.in_(user_ids), and_(Task.user_id.is_(None), Task.department_id.in_(department_ids)))


def my_tasks(user: User, bucket: str = "todo", calendar: workdays.Calendar | None = None) -> list[Task]:
    """Return the tasks of `user` in `bucket` (todo, due_soon, overdue, done), extra-urgent first, then by deadline.

    They include the tasks of the people `user` acts for today (as a substitute).
    """
    if bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}; use {', '.join(BUCKETS)}")
    calendar = _calendar(calendar)
    today = calendar.today()
    people = [user, *_represented(user, calendar)]
    query = (
        select(Task)
        .join(RoutingItem, RoutingItem.id == Task.item_id)
        .join(Document, Document.id == RoutingItem.document_id)
        .options(joinedload(Task.item).joinedload(RoutingItem.document))
    )
    if bucket == "done":
        ids = [person.id for person in people]
        query = query.where(Task.state == "done", or_(_mine(people), Task.completed_by_id.in_(ids)))
        return list(db.session.scalars(query.order_by(Task.completed_at.desc(), Task.id.desc())))
    query = query.where(Task.state == "open", _mine(people))
    if bucket == "due_soon":
        query = query.where(Task.deadline >= today, Task.deadline <= calendar.add_working_days(today, DUE_SOON_DAYS))
    elif bucket == "overdue":
        query = query.where(Task.deadline < today)
    return list(db.session.scalars(query.order_by(_urgency_first(), Task.deadline, Task.id)))


def department_tasks(user: User) -> list[Task]:
    """Return the open tasks of the user's department (including those forwarded to its members)."""
    if user.department_id is None:
        return []
    query = (
        select(Task)
        .join(RoutingItem, RoutingItem.id == Task.item_id)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(Task.state == "open", Task.department_id == user.department_id)
        .options(joinedload(Task.item).joinedload(RoutingItem.document), joinedload(Task.user))
        .order_by(_urgency_first(), Task.deadline, Task.id)
    )
    return list(db.session.scalars(query))


def to_read(user: User) -> list[Reader]:
    """Return what was sent to `user` to read and is not read yet, required first, oldest first."""
    query = (
        select(Reader)
        .where(Reader.user_id == user.id, Reader.read_at.is_(None))
        .options(joinedload(Reader.user))
        .order_by(Reader.required.desc(), Reader.sent_at, Reader.id)
    )
    return list(db.session.scalars(query))


def in_progress() -> list[RoutingItem]:
    """Return the items not closed or returned (the clerks' board): extra-urgent first, then by deadline."""
    query = (
        select(RoutingItem)
        .join(Document, Document.id == RoutingItem.document_id)
        .where(RoutingItem.state.not_in(("closed", "returned")))
        .options(joinedload(RoutingItem.document))
        .order_by(_urgency_first(), RoutingItem.deadline.asc().nulls_last(), RoutingItem.id)
    )
    return list(db.session.scalars(query))


def handler_ids(document_id: int) -> tuple[set[int], set[int]]:
    """Return the ids of the users and of the departments handling a document (with an open or done task).

    `registry.can_view` and the search index use them: handlers may open the document without department access.
    """
    rows = db.session.execute(
        select(Task.user_id, Task.department_id)
        .join(RoutingItem, RoutingItem.id == Task.item_id)
        .where(RoutingItem.document_id == document_id, Task.state.in_(("open", "done")))
    ).all()
    users = {user_id for user_id, _ in rows if user_id is not None}
    departments = {department_id for user_id, department_id in rows if user_id is None and department_id is not None}
    return users, departments
