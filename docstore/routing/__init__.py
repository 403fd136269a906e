"""Routing: the handling of an incoming document, from receipt to closing.

An incoming document gets a `RoutingItem` when it is registered (pending on the clerks' board; `ensure_item` for
documents registered earlier), which moves through explicit states:

    pending ─accept─▶ accepted ─propose─▶ proposed ─instruct─▶ handling ─lead's result─▶ handled ─close─▶ closed
       └─return_to_sender─▶ returned        (information items: accepted ─close─▶ closed)
    handled ─instruct (a new lead)─▶ handling;  closed / returned ──reopen──▶ accepted (proposed or instructed anew)

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
whom), `history` (the timeline), `panel` (one document's routing as a viewer sees it, with what they may do),
`chasing` (the chase list, reminders, escalation and their scheduler) and `dashboard` (the figures of the charts).
Import from `docstore.routing` itself: the modules are its inner layout.
"""

from docstore.routing.chasing import (
    REMINDER_KINDS,
    ChaseBoard,
    ChaseRow,
    DepartmentCount,
    Reminded,
    ReminderReport,
    chase_board,
    chase_counts,
    chase_list,
    remind,
    remind_overdue,
    run_reminders,
    send_reminders,
    start_reminder_scheduler,
)
from docstore.routing.dashboard import Dashboard, DepartmentTasks, HandlingTime, dashboard
from docstore.routing.history import Entry, timeline
from docstore.routing.inboxes import (
    BOARD_STATES,
    BUCKETS,
    DUE_SOON_DAYS,
    BoardFilter,
    BoardRow,
    ExtensionRow,
    OfficeCounts,
    OfficeWork,
    ProposalRow,
    ReadingRow,
    TaskRow,
    Waiting,
    board_counts,
    board_page,
    department_tasks,
    department_tasks_page,
    handler_ids,
    in_progress,
    instructing_for,
    my_tasks,
    my_tasks_page,
    office_counts,
    office_work,
    task_counts,
    to_instruct_count,
    to_instruct_page,
    to_read,
    to_read_count,
    to_read_page,
    waiting_for,
)
from docstore.routing.panel import Panel, extension_document_id, find_reply, panel, task_document_id
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
    INSTRUCTABLE,
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
    "BOARD_STATES",
    "BUCKETS",
    "DUE_SOON_DAYS",
    "LEADER_ROLE",
    "REASON_LIMIT",
    "REFUSALS",
    "REMINDER_KINDS",
    "TEXT_LIMIT",
    "Assignee",
    "BoardFilter",
    "BoardRow",
    "ChaseBoard",
    "ChaseRow",
    "DepartmentCount",
    "Dashboard",
    "DepartmentTasks",
    "HandlingTime",
    "Entry",
    "ExtensionRow",
    "INSTRUCTABLE",
    "IllegalTransition",
    "OfficeCounts",
    "OfficeWork",
    "Panel",
    "ProposalRow",
    "ReadingRow",
    "Reminded",
    "ReminderReport",
    "TaskRow",
    "Waiting",
    "accept",
    "acting_as",
    "board_counts",
    "board_page",
    "chase_board",
    "chase_counts",
    "chase_list",
    "circulate",
    "close",
    "co_handler_results",
    "comment",
    "complete_task",
    "dashboard",
    "decide_extension",
    "department_tasks",
    "department_tasks_page",
    "ensure_item",
    "extension_document_id",
    "find_reply",
    "forward_task",
    "get_item",
    "get_task",
    "handler_ids",
    "in_progress",
    "instruct",
    "instructing_for",
    "mark_read",
    "my_tasks",
    "my_tasks_page",
    "office_counts",
    "office_work",
    "panel",
    "propose",
    "remind",
    "remind_overdue",
    "run_reminders",
    "reopen",
    "request_extension",
    "return_to_sender",
    "send_reminders",
    "start_reminder_scheduler",
    "task_counts",
    "task_document_id",
    "timeline",
    "to_instruct_count",
    "to_instruct_page",
    "to_read",
    "to_read_count",
    "to_read_page",
    "unread_readers",
    "waiting_for",
]
