"""The OpenAPI description of routing: one document's handling, the tasks, the inboxes, chasing and the dashboard."""

from __future__ import annotations

from docstore.api.schemas import PAGING, _json, _ok, _op, _page_of, _path, _query, _ref
from docstore.models import EXTENSION_STATES, ITEM_KINDS, ITEM_STATES, TASK_ROLES, TASK_STATES, URGENCIES
from docstore.routing import BOARD_STATES, BUCKETS

BY_CLERK = "admin or clerk"
HIDDEN = "A document the caller may not open (nor handles, nor was sent to read) is 404, as if it did not exist."
ILLEGAL = "A step the current state does not allow is 409 with code illegal_transition."
#: The steps of an item the caller may be offered (POST /documents/{document_id}/routing/<action>).
ITEM_ACTIONS = ("accept", "return", "propose", "instruct", "circulate", "read", "close", "reopen")
#: What the caller may be offered on a task (POST /tasks/{task_id}/<action>).
TASK_ACTIONS = ("comment", "extension", "forward", "complete")


def _nullable(schema: dict) -> dict:
    """Return `schema` also allowing null."""
    return {**schema, "type": [schema["type"], "null"]}


DAY = {"type": "string", "format": "date"}
INSTANT = {"type": "string", "format": "date-time"}
TEXT = {"type": "string", "maxLength": 10_000}
REASON = {"type": "string", "maxLength": 500}
ACTING_FOR = {
    "type": ["integer", "null"],
    "description": "The user a substitute acts for today, when they stand in for several (else the services choose)",
}
ASSIGNEE = {
    "type": "object",
    "description": 'A user or a department: {"user_id": 1} or {"department_id": 2}',
    "properties": {"user_id": {"type": "integer"}, "department_id": {"type": "integer"}},
    "minProperties": 1,
    "maxProperties": 1,
}


def routing_schemas() -> dict:
    """Return the schemas of routing's answers and of the bodies its steps take."""
    person = {"oneOf": [_ref("Person"), {"type": "null"}]}
    department = {"oneOf": [_ref("DepartmentRef"), {"type": "null"}]}
    return {
        "Person": {
            "type": "object",
            "description": "A user, with the name to show",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        },
        "DepartmentRef": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        },
        "DocumentSummary": {
            "type": "object",
            "description": "In a list, a document the caller may not open shows only its id and number (withheld)",
            "properties": {
                "id": {"type": "integer"},
                "number": {"type": "string"},
                "title": {"type": "string"},
                "urgency": {"enum": list(URGENCIES)},
                "deadline": _nullable(DAY),
                "url": {"type": "string", "description": "The document in the API"},
                "withheld": {"type": "boolean"},
            },
        },
        "Proposal": {
            "type": "object",
            "description": "The office's proposed handling (拟办)",
            "properties": {
                "text": {"type": "string"},
                "leader": person,
                "departments": {"type": "array", "items": _ref("DepartmentRef")},
                "deadline": _nullable(DAY),
            },
        },
        "Instruction": {
            "type": "object",
            "description": "A leader's instruction (批示): author recorded it, for the leader when a substitute",
            "properties": {
                "id": {"type": "integer"},
                "leader": person,
                "author": person,
                "acting_for": person,
                "text": {"type": "string"},
                "instructed_at": INSTANT,
                "deadline": DAY,
            },
        },
        "Task": {"type": "object", "properties": _task_properties(person, department)},
        "TaskComment": {
            "type": "object",
            "description": "A comment on a task (id and task_id: in the answer to adding one)",
            "properties": {
                "id": {"type": "integer"},
                "task_id": {"type": "integer"},
                "author": person,
                "acting_for": person,
                "text": {"type": "string"},
                "created_at": INSTANT,
            },
        },
        "ExtensionRequest": {
            "type": "object",
            "description": "A request for more time on a task, decided by a clerk",
            "properties": {
                "id": {"type": "integer"},
                "task_id": {"type": "integer"},
                "requested_by": person,
                "acting_for": person,
                "new_deadline": DAY,
                "reason": {"type": "string"},
                "state": {"enum": list(EXTENSION_STATES)},
                "created_at": INSTANT,
                "decided_by": person,
                "decided_at": _nullable(INSTANT),
                "note": {"type": "string"},
                "actions": {
                    "type": "array",
                    "items": {"enum": ["decide"]},
                    "description": '["decide"] when the caller may approve or refuse it now',
                },
            },
        },
        "RoutingTask": {
            "type": "object",
            "description": "A task on its document's routing, with its comments, requests and the caller's actions",
            "properties": {
                **_task_properties(person, department),
                "comments": {"type": "array", "items": _ref("TaskComment")},
                "extension_requests": {"type": "array", "items": _ref("ExtensionRequest")},
                "actions": {
                    "type": "array",
                    "items": {"enum": list(TASK_ACTIONS)},
                    "description": "What the caller may do to the task now (POST /tasks/{task_id}/<action>)",
                },
                "act_for": {**person, "description": "Whom the caller would act for on it, as a substitute"},
            },
        },
        "Reader": {
            "type": "object",
            "description": "A reader of the document in circulation (传阅); read_at null: not read yet",
            "properties": {
                "user": person,
                "required": {"type": "boolean", "description": "Closing waits until they have read it"},
                "sent_at": INSTANT,
                "read_at": _nullable(INSTANT),
            },
        },
        "Routing": {
            "type": "object",
            "description": "A document's whole routing and what the caller may do to it now. routed is false for "
            "an incoming document registered before routing began: receiving it starts its routing.",
            "properties": {
                "document": _ref("DocumentSummary"),
                "routed": {"type": "boolean"},
                "kind": {"enum": [*ITEM_KINDS, None]},
                "state": {"enum": list(ITEM_STATES)},
                "deadline": _nullable(DAY),
                "overdue": {"type": "boolean", "description": "Still being handled, and its deadline has passed"},
                "proposal": {"oneOf": [_ref("Proposal"), {"type": "null"}]},
                "result": {"type": "string"},
                "close_reason": {"type": "string"},
                "return_reason": {"type": "string"},
                "reply_document": {
                    "type": ["object", "null"],
                    "properties": {"id": {"type": "integer"}, "number": {"type": "string"}},
                },
                "closed_at": _nullable(INSTANT),
                "closed_by": person,
                "instructions": {"type": "array", "items": _ref("Instruction")},
                "tasks": {"type": "array", "items": _ref("RoutingTask")},
                "readers": {"type": "array", "items": _ref("Reader"), "description": "Unread first, required first"},
                "actions": {
                    "type": "array",
                    "items": {"enum": list(ITEM_ACTIONS)},
                    "description": "The steps the caller may take now (POST /documents/{document_id}/routing/<action>)",
                },
                "instruct_for": {**person, "description": "The leader a substitute would instruct for"},
            },
        },
        "TimelineEntry": {
            "type": "object",
            "properties": {
                "at": INSTANT,
                "what": {
                    "type": "string",
                    "description": "accept, return, propose, instruct, instruction, task, comment, "
                    "extension_requested, extension_approved, extension_refused, forwarded, result, cancelled, handle, "
                    "sent_to_read, read, close, reopen",
                },
                "actor": person,
                "acting_for": {**person, "description": "Whom the actor stood in for"},
                "text": {"type": "string"},
                "details": {"type": "object"},
            },
        },
        "Timeline": {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": _ref("TimelineEntry")}},
        },
        "ListedTask": {
            "type": "object",
            "description": "A task in an inbox; held_for: the person the caller stands in for (null: their own)",
            "properties": {
                **_task_properties(person, department),
                "document": _ref("DocumentSummary"),
                "item_state": {"enum": list(ITEM_STATES)},
                "held_for": person,
            },
        },
        "ReadingEntry": {
            "type": "object",
            "properties": {
                "document": _ref("DocumentSummary"),
                "required": {"type": "boolean", "description": "Closing waits until the caller has read it"},
                "sent_at": INSTANT,
                "sent_by": person,
                "read_at": _nullable(INSTANT),
            },
        },
        "ProposedItem": {
            "type": "object",
            "description": "An item proposed to the caller (or a leader they stand in for: held_for) to instruct",
            "properties": {
                "document": _ref("DocumentSummary"),
                "state": {"enum": list(ITEM_STATES)},
                "deadline": _nullable(DAY),
                "proposal": _ref("Proposal"),
                "held_for": person,
            },
        },
        "BoardItem": {
            "type": "object",
            "description": "An item on the clerks' board, with its lead handler's task (null before instruction)",
            "properties": {
                "document": _ref("DocumentSummary"),
                "kind": {"enum": list(ITEM_KINDS)},
                "state": {"enum": list(BOARD_STATES)},
                "deadline": _nullable(DAY),
                "overdue": {"type": "boolean"},
                "updated_at": INSTANT,
                "lead": {"oneOf": [_ref("Task"), {"type": "null"}]},
            },
        },
        **_input_schemas(),
        **_chase_schemas(person, department),
    }


def _task_properties(person: dict, department: dict) -> dict:
    return {
        "id": {"type": "integer"},
        "document_id": {"type": "integer"},
        "role": {"enum": list(TASK_ROLES)},
        "state": {"enum": list(TASK_STATES)},
        "user": {**person, "description": "Its user (null: any member of the department may act)"},
        "department": department,
        "deadline": DAY,
        "overdue": {"type": "boolean", "description": "Open, and its deadline has passed"},
        "result": {"type": "string"},
        "completed_at": _nullable(INSTANT),
        "completed_by": person,
        "acting_for": {**person, "description": "Whom completed_by acted for, as a substitute"},
        "forwarded_from_id": {"type": ["integer", "null"]},
    }


def _input_schemas() -> dict:
    """Return the schemas of the bodies routing's steps take."""
    return {
        "RoutingAccept": {
            "type": "object",
            "properties": {"kind": {"enum": list(ITEM_KINDS), "default": "action"}},
        },
        "RoutingReason": {"type": "object", "required": ["reason"], "properties": {"reason": REASON}},
        "RoutingProposal": {
            "type": "object",
            "required": ["leader_id", "text"],
            "properties": {
                "leader_id": {"type": "integer", "description": "An active user with the leader role"},
                "department_ids": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "description": "The proposed departments, the lead first: it leads when the leader instructs as "
                    "proposed.",
                },
                "deadline": {**_nullable(DAY), "description": "Not in the past"},
                "text": TEXT,
            },
        },
        "RoutingInstruction": {
            "type": "object",
            "required": ["text"],
            "properties": {
                "text": TEXT,
                "lead": {
                    **ASSIGNEE,
                    "type": ["object", "null"],
                    "description": "The lead handler; it replaces an open lead. Without one, an open lead must exist.",
                },
                "co_handlers": {"type": "array", "items": ASSIGNEE},
                "deadline": {
                    **_nullable(DAY),
                    "description": "Default: the document's deadline, else its urgency's, in working days",
                },
                "acting_for": ACTING_FOR,
            },
        },
        "RoutingCirculation": {
            "type": "object",
            "required": ["reader_ids"],
            "properties": {
                "reader_ids": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
                "required": {"type": "boolean", "description": "Closing waits until they have read it"},
            },
        },
        "RoutingClosing": {
            "type": "object",
            "description": "A result, or the reason for closing without one (needed while still being handled)",
            "properties": {
                "result": TEXT,
                "reason": REASON,
                "reply_document_id": {
                    "type": ["integer", "null"],
                    "description": "The registered outgoing or internal document that answers it",
                },
            },
        },
        "TaskCommentInput": {
            "type": "object",
            "required": ["text"],
            "properties": {"text": TEXT, "acting_for": ACTING_FOR},
        },
        "ExtensionInput": {
            "type": "object",
            "required": ["new_deadline", "reason"],
            "properties": {
                "new_deadline": {**DAY, "description": "After the task's current deadline"},
                "reason": TEXT,
                "acting_for": ACTING_FOR,
            },
        },
        "TaskForward": {
            "type": "object",
            "required": ["user_id"],
            "properties": {
                "user_id": {"type": "integer", "description": "An active colleague in the task's department"},
                "acting_for": ACTING_FOR,
            },
        },
        "TaskResult": {
            "type": "object",
            "required": ["result"],
            "properties": {"result": TEXT, "acting_for": ACTING_FOR},
        },
        "ExtensionDecision": {
            "type": "object",
            "required": ["approve"],
            "properties": {"approve": {"type": "boolean"}, "note": TEXT},
        },
    }


def _chase_schemas(person: dict, department: dict) -> dict:
    """Return the schemas of the chase list, of reminders and of the dashboard."""
    count = {"type": "integer"}
    handling_time = {
        "type": "object",
        "properties": {
            "id": {"type": ["integer", "null"]},
            "name": {"type": ["string", "null"]},
            "cases": count,
            "average_working_days": {"type": "number"},
            "median_working_days": {"type": "number"},
            "average_calendar_days": {"type": "number"},
            "median_calendar_days": {"type": "number"},
        },
    }
    return {
        "ChaseRow": {
            "type": "object",
            "description": "An open task due soon or overdue",
            "properties": {
                **_task_properties(person, department),
                "document": _ref("DocumentSummary"),
                "owner_department": {**department, "description": "The task's department, or its user's"},
                "days_overdue": {"type": "integer", "description": "Working days past the deadline"},
                "days_left": {"type": "integer", "description": "Working days to the deadline (0 once overdue)"},
                "last_reminder": _nullable(INSTANT),
                "reminded_today": {"type": "boolean", "description": "A clerk reminded its people today already"},
                "escalated": {"type": "boolean", "description": "Overdue and extra urgent: its heads were told"},
            },
        },
        "ChaseList": {
            "type": "object",
            "required": ["items", "page", "per_page", "total", "departments"],
            "properties": {
                **_page_of("ChaseRow")["properties"],
                "today": DAY,
                "overdue_to_remind": {"type": "integer", "description": "Overdue tasks not reminded today"},
                "departments": {
                    "type": "array",
                    "description": "Every department's counts (not only the one asked for), the most overdue first",
                    "items": {
                        "type": "object",
                        "properties": {
                            "department": {**department, "description": "null: people without a department"},
                            "due_soon": count,
                            "overdue": count,
                            "extra_urgent": count,
                        },
                    },
                },
            },
        },
        "RemindOverdue": {
            "type": "object",
            "properties": {"department_id": {"type": ["integer", "null"], "description": "Only this department's"}},
        },
        "RemindedOverdue": {
            "type": "object",
            "properties": {
                "tasks": {"type": "integer", "description": "Tasks whose people were reminded"},
                "people": {"type": "integer", "description": "Notifications sent"},
            },
        },
        "Reminded": {
            "type": "object",
            "required": ["notified"],
            "properties": {
                "notified": {"type": "integer", "description": "People told (0: all reminded today already)"}
            },
        },
        "Dashboard": {
            "type": "object",
            "description": "Open items and tasks today; what was closed, returned or handled since `since`",
            "properties": {
                "today": DAY,
                "since": _nullable(DAY),
                "department_id": {"type": ["integer", "null"]},
                "open_items": count,
                "open_by_state": {"type": "object", "properties": {state: count for state in BOARD_STATES}},
                "extra_urgent_open": count,
                "closed": count,
                "returned": count,
                "open_tasks": count,
                "overdue_tasks": count,
                "due_soon_tasks": count,
                "tasks_by_department": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": ["integer", "null"]},
                            "name": {"type": ["string", "null"]},
                            **{name: count for name in ("open", "overdue", "due_soon", "extra_urgent")},
                        },
                    },
                },
                "handling_by_department": {"type": "array", "items": handling_time},
                "handling_by_type": {"type": "array", "items": handling_time},
            },
        },
    }


def _step(summary: str, body: str | None, role: str = "") -> dict:
    """Return the operation of one step of a document's routing, answering with its routing as it now stands."""
    operation = _op(
        f"{summary}. {ILLEGAL}",
        _ok("Routing", description="The document's routing after the step"),
        role=role,
        params=[_path("document_id")],
        body=body,
        tag="routing",
    )
    operation["description"] = HIDDEN
    return operation


def _task_step(summary: str, ok: dict, body: str, status: str = "200") -> dict:
    operation = _op(
        f"{summary}. {ILLEGAL}",
        ok,
        role="its handlers or their acting substitutes",
        params=[_path("task_id")],
        body=body,
        status=status,
        tag="tasks",
    )
    operation["description"] = "A task on a document the caller may not open is 404."
    return operation


def routing_paths() -> dict:
    """Return the operations of routing."""
    document = [_path("document_id")]
    return {
        "/documents/{document_id}/routing": {
            "get": {
                **_op(
                    "A document's routing: its state, proposal, instructions, tasks, readers and the caller's actions",
                    _ok("Routing"),
                    params=document,
                    tag="routing",
                ),
                "description": HIDDEN + " A document that is not routed is 404 too.",
            }
        },
        "/documents/{document_id}/routing/timeline": {
            "get": {
                **_op("Every step of a document's handling, in time order", _ok("Timeline"), params=document),
                "tags": ["routing"],
                "description": HIDDEN,
            }
        },
        "/documents/{document_id}/routing/accept": {
            "post": _step(
                "Receive an incoming document, for action or for information (签收)", "RoutingAccept", BY_CLERK
            )
        },
        "/documents/{document_id}/routing/return": {
            "post": _step("Return a document awaiting receipt to its sender, saying why", "RoutingReason", BY_CLERK)
        },
        "/documents/{document_id}/routing/propose": {
            "post": _step(
                "Propose the handling (拟办): the leader, the departments, the deadline", "RoutingProposal", BY_CLERK
            )
        },
        "/documents/{document_id}/routing/instruct": {
            "post": _step(
                "Record a leader's instruction (批示) and create the tasks of the lead and co-handlers",
                "RoutingInstruction",
                "leader, or a leader's acting substitute",
            )
        },
        "/documents/{document_id}/routing/circulate": {
            "post": _step("Send the document to readers (传阅)", "RoutingCirculation", BY_CLERK)
        },
        "/documents/{document_id}/routing/read": {
            "post": _step("Record that the caller has read a document sent to them (once)", None, "its readers")
        },
        "/documents/{document_id}/routing/close": {
            "post": _step(
                "Close the handling (办结) with a result or a reason; required readers must have read it",
                "RoutingClosing",
                BY_CLERK,
            )
        },
        "/documents/{document_id}/routing/reopen": {
            "post": _step("Reopen a closed or returned item, saying why", "RoutingReason", BY_CLERK)
        },
        "/tasks/{task_id}/comments": {
            "post": {
                **_task_step("Comment on a task", _ok("TaskComment", description="Added"), "TaskCommentInput", "201"),
                "summary": "Comment on a task (role: its handlers or their substitutes, clerks, leaders). " + ILLEGAL,
            }
        },
        "/tasks/{task_id}/extension": {
            "post": _task_step(
                "Ask for more time on an open task; the clerks decide",
                _ok("ExtensionRequest", description="Asked"),
                "ExtensionInput",
                "201",
            )
        },
        "/tasks/{task_id}/forward": {
            "post": _task_step(
                "Pass an open task on to a colleague in its department; answers with the new task",
                _ok("Task", description="The new task"),
                "TaskForward",
                "201",
            )
        },
        "/tasks/{task_id}/complete": {
            "post": _task_step(
                "Report a task's result; the lead handler's result ends the handling", _ok("Task"), "TaskResult"
            )
        },
        "/extensions/{request_id}/decide": {
            "post": _op(
                "Approve (moving the task's deadline) or refuse a request for more time. " + ILLEGAL,
                _ok("ExtensionRequest"),
                role=BY_CLERK,
                params=[_path("request_id")],
                body="ExtensionDecision",
                tag="tasks",
            )
        },
        "/tasks": {
            "get": _op(
                "The caller's tasks (and those of whom they act for today), extra-urgent first",
                _ok(schema=_page_of("ListedTask")),
                params=[
                    _query(
                        "bucket",
                        {"enum": list(BUCKETS), "default": "todo"},
                        "todo: open; due_soon: open and due within 2 working days; overdue; done",
                    ),
                    *PAGING,
                ],
                tag="tasks",
            )
        },
        "/tasks/department": {
            "get": _op(
                "The open tasks of the caller's department and of its members, extra-urgent first",
                _ok(schema=_page_of("ListedTask")),
                params=PAGING,
                tag="tasks",
            )
        },
        "/reading": {
            "get": _op(
                "What the caller has been sent to read and has not read yet, extra-urgent and required first",
                _ok(schema=_page_of("ReadingEntry")),
                params=PAGING,
                tag="tasks",
            )
        },
        "/proposals": {
            "get": _op(
                "The items proposed to the caller, or to a leader they act for today, waiting for instruction",
                _ok(schema=_page_of("ProposedItem")),
                params=PAGING,
                tag="tasks",
            )
        },
        "/routing/board": {
            "get": _op(
                "The items in progress (not closed or returned), extra-urgent first, then by deadline",
                _ok(schema=_page_of("BoardItem")),
                role=BY_CLERK,
                params=[
                    _query("state", {"enum": BOARD_STATES}),
                    _query("department_id", {"type": "integer"}, "Items the department handles"),
                    _query("urgency", {"enum": list(URGENCIES)}),
                    *PAGING,
                ],
                tag="routing",
            )
        },
        "/chase": {
            "get": _op(
                "The chase list (催办): open tasks due soon or overdue, extra-urgent first, then overdue",
                _ok("ChaseList"),
                role=BY_CLERK,
                params=[_query("department_id", {"type": "integer"}, "Only this department's tasks"), *PAGING],
                tag="routing",
            )
        },
        "/chase/remind-overdue": {
            "post": _op(
                "Remind the people of every overdue task not reminded today (of one department, or all)",
                _ok("RemindedOverdue"),
                role=BY_CLERK,
                body="RemindOverdue",
                tag="routing",
            )
        },
        "/tasks/{task_id}/remind": {
            "post": _op(
                "Remind an open task's people now (at most once per task per office day). " + ILLEGAL,
                _ok("Reminded"),
                role=BY_CLERK,
                params=[_path("task_id")],
                tag="routing",
            )
        },
        "/dashboard": {
            "get": _op(
                "Open items by state, open and overdue tasks by department, handling times in working days",
                {"description": "OK", **_json(_ref("Dashboard"))},
                role="leader, admin or clerk",
                params=[
                    _query("since", DAY, "Count what was closed, returned and handled from this office day"),
                    _query("department_id", {"type": "integer"}),
                ],
                tag="routing",
            )
        },
    }
