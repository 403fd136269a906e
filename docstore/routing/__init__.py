"""Routing: the handling of an incoming document, from receipt to closing.

An incoming document gets a `RoutingItem`, which moves through explicit states:

    pending ─accept─▶ accepted ─propose─▶ proposed ─instruct─▶ handling ─lead's result─▶ handled ─close─▶ closed
       └─return_to_sender─▶ returned        (information items: accepted ─close─▶ closed)
    closed / returned ──reopen──▶ handling (when it has tasks) or accepted

Every change happens in the caller's transaction (the caller commits; on an error it rolls back, as the web layer
and the API do) and writes an audit event with the actor and, when a substitute acts, whom they act for. Each
transition first locks the item's row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite writers take the lock up
front, see `docstore.database.writing`) and then changes the state with a conditional ``UPDATE ... WHERE state IN
(...)`` whose row count is checked, so two people acting at once leave one result and the other gets
`IllegalTransition`, never a half-written record. Locks are always taken item first, then task, then the audit head,
so concurrent transitions cannot deadlock.

Functions that need today's date or default deadlines take a `calendar` (`workdays.calendar_for(app.config)` in the
web layer); without one they use the default working week in UTC.

The package: `permissions` (who may act), `states` (finding, locking and moving items and tasks), `transitions` (the
item's steps, circulation, closing), `tasks` (comments, more time, forwarding, results), `inboxes` (what waits for
whom) and `history` (the timeline). Import from `docstore.routing` itself: the modules are its inner layout.
"""

from docstore.routing.history import Entry, timeline
from docstore.routing.inboxes import (
    BUCKETS,
    DUE_SOON_DAYS,
    department_tasks,
    handler_ids,
    in_progress,
    my_tasks,
    to_read,
)
from docstore.routing.permissions import LEADER_ROLE, acting_as
from docstore.routing.states import (
    REASON_LIMIT,
    REFUSALS,
    TEXT_LIMIT,
    IllegalTransition,
    ensure_item,
    get_item,
    get_task,
)
from docstore.routing.tasks import (
    co_handler_results,
    comment,
    complete_task,
    decide_extension,
    forward_task,
    request_extension,
)
from docstore.routing.transitions import (
    Assignee,
    accept,
    circulate,
    close,
    instruct,
    mark_read,
    propose,
    reopen,
    return_to_sender,
    unread_readers,
)

__all__ = [
    "BUCKETS",
    "DUE_SOON_DAYS",
    "LEADER_ROLE",
    "REASON_LIMIT",
    "REFUSALS",
    "TEXT_LIMIT",
    "Assignee",
    "Entry",
    "IllegalTransition",
    "accept",
    "acting_as",
    "circulate",
    "close",
    "co_handler_results",
    "comment",
    "complete_task",
    "decide_extension",
    "department_tasks",
    "ensure_item",
    "forward_task",
    "get_item",
    "get_task",
    "handler_ids",
    "in_progress",
    "instruct",
    "mark_read",
    "my_tasks",
    "propose",
    "reopen",
    "request_extension",
    "return_to_sender",
    "timeline",
    "to_read",
    "unread_readers",
]
