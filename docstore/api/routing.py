"""The routing of incoming documents in the JSON API: each step, the tasks, the inboxes, chasing and the dashboard.

A document answers 404 to whoever may not open it (`registry.can_view`: among others its handlers, its readers and
their acting substitutes may, and the substitute of a leader sees what the leader sees, within their own
clearance); a list shows such a document by its number only, "withheld". Each step is one service call in the
request's transaction, committed here; a step the state does not allow (`routing.IllegalTransition`) is 409 with the
code ``illegal_transition``. A substitute standing in for several people may name whom they act for
(``acting_for``); the services record it, and the timeline shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import current_app, g, jsonify, request, url_for

from docstore import accounts, organisation, registry, routing, workdays
from docstore.api.common import (
    _body,
    _choice_arg,
    _ctx,
    _date_value,
    _int_arg,
    _json_value,
    _page_json,
    _paging,
    authenticated,
    bp,
)
from docstore.api.routing_spec import ITEM_ACTIONS, TASK_ACTIONS
from docstore.errors import N_, Msg, NotFound, ValidationFailed
from docstore.extensions import db
from docstore.models import URGENCIES, Document, ExtensionRequest, Task, User
from docstore.pagination import Page

if TYPE_CHECKING:
    from docstore.routing.panel import ExtensionView, TaskView

CLERKS = registry.CLERK_ROLES
#: The two ways of naming whom a task goes to, and the services' names for them.
ASSIGNEE_KEYS = {"user_id": "user", "department_id": "department"}


def _calendar() -> workdays.Calendar:
    """Return the office's working-day calendar, once per request."""
    if "api_calendar" not in g:
        g.api_calendar = workdays.calendar_for(current_app.config)
    return g.api_calendar


# --- parsing -------------------------------------------------------------------------------------------------------


def _visible_document(document_id: int) -> Document:
    """Return the document if the caller may open it; NotFound otherwise, as if it did not exist."""
    return registry.get_document(document_id, viewer=g.api_user)


def _check_visible(document_id: int, missing: Msg) -> None:
    """Raise NotFound with `missing` unless the caller may open the document of a task or a request."""
    if not registry.can_view(g.api_user, registry.get_document(document_id)):
        raise NotFound(missing)


def _check_task_visible(task_id: int) -> None:
    """Raise NotFound unless the caller may open the task's document, as if the task did not exist."""
    _check_visible(routing.task_document_id(task_id), Msg(N_("No such task.")))


def _acting_for(data: dict) -> int | None:
    """Return the user a substitute names with "acting_for"; refuse someone they do not act for today."""
    acting_for = data.get("acting_for")
    if acting_for is None:
        return None
    represented = {person.id for person in accounts.represented_by(g.api_user.id, _calendar().today())}
    if acting_for not in represented:
        raise ValidationFailed({"acting_for": Msg(N_("You do not act for this user today."))})
    return acting_for


def _assignee(value) -> routing.Assignee | None:
    """Return {"user_id": n} or {"department_id": n} as the services take it (None when malformed)."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((key, ident),) = value.items()
    if key not in ASSIGNEE_KEYS or type(ident) is not int:
        return None
    return routing.Assignee(ASSIGNEE_KEYS[key], ident)


def _assignees(data: dict) -> tuple[routing.Assignee | None, list[routing.Assignee]]:
    """Return the lead handler and the co-handlers of an instruction; name every malformed one."""
    errors = {}
    lead = _assignee(data["lead"]) if data.get("lead") is not None else None
    if data.get("lead") is not None and lead is None:
        errors["lead"] = Msg(N_('Name a user or a department: {"user_id": n} or {"department_id": n}.'))
    co_handlers = [_assignee(value) for value in data.get("co_handlers") or []]
    if None in co_handlers:
        errors["co_handlers"] = Msg(N_('Name each one as {"user_id": n} or {"department_id": n}.'))
    if errors:
        raise ValidationFailed(errors)
    return lead, co_handlers


def _department_arg() -> int | None:
    """Return ?department_id= when it names an existing department; refuse an unknown one."""
    department_id = _int_arg("department_id")
    if department_id is not None:
        try:
            organisation.get_department(department_id)
        except NotFound:
            raise ValidationFailed({"department_id": Msg(N_("No such department."))}) from None
    return department_id


# --- how routing looks in JSON ---------------------------------------------------------------------------------


def person_json(person) -> dict | None:
    """Return a user (or the panel's `Person`) as routing shows them: id and name."""
    if person is None:
        return None
    if isinstance(person, User):
        return {"id": person.id, "name": person.full_name or person.username}
    return {"id": person.id, "name": person.name}


def department_json(department) -> dict | None:
    """Return a department (or the panel's `Person` naming one) as routing shows it: id and name."""
    return None if department is None else {"id": department.id, "name": department.name}


def document_summary(document: Document) -> dict:
    """Return what routing shows of a document: its number, title, urgency and where to get it."""
    return {
        "id": document.id,
        "number": document.number,
        "title": document.title,
        "urgency": document.urgency,
        "deadline": _json_value(document.deadline),
        "url": url_for("api.get_document", document_id=document.id),
    }


def _listed_document(document: Document, openable: set[int]) -> dict:
    """Return a document in a list: in full when the caller may open it (its id is in `openable`), else only its id
    and number."""
    if document.id in openable:
        return document_summary(document)
    return {"id": document.id, "number": document.number, "withheld": True}


def _rows_json(page: Page, render: Callable[[Any, set[int]], dict]):
    """Answer with one page of rows (each with a `document`), rendered knowing which documents the caller may open:
    one query for the page (`registry.visible_ids`), not one per row."""
    openable = registry.visible_ids(g.api_user, [row.document.id for row in page.items])
    return _page_json(page, lambda row: render(row, openable))


def task_json(task: Task) -> dict:
    """Return a task: whose it is, its deadline and state, and its result once done."""
    return {
        "id": task.id,
        "document_id": task.item.document_id,
        "role": task.role,
        "state": task.state,
        "user": person_json(task.user),
        "department": department_json(task.department),
        "deadline": _json_value(task.deadline),
        "overdue": task.state == "open" and task.deadline < _calendar().today(),
        "result": task.result,
        "completed_at": _json_value(task.completed_at),
        "completed_by": person_json(task.completed_by),
        "acting_for": person_json(task.acting_for),
        "forwarded_from_id": task.forwarded_from_id,
    }


def extension_json(row: ExtensionRequest | ExtensionView, created_at, may_decide: bool) -> dict:
    """Return a request for more time (a row, or the panel's view of one); "decide" when the caller may decide it."""
    return {
        "id": row.id,
        "task_id": row.task_id,
        "requested_by": person_json(row.requested_by),
        "acting_for": person_json(row.acting_for),
        "new_deadline": _json_value(row.new_deadline),
        "reason": row.reason,
        "state": row.state,
        "created_at": _json_value(created_at),
        "decided_by": person_json(row.decided_by),
        "decided_at": _json_value(row.decided_at),
        "note": row.note,
        "actions": ["decide"] if may_decide and row.state == "pending" else [],
    }


def proposal_json(text: str, leader, departments, deadline) -> dict:
    """Return the office's proposed handling (拟办): the text, the leader, the departments and the deadline."""
    return {
        "text": text,
        "leader": person_json(leader),
        "departments": [department_json(department) for department in departments],
        "deadline": _json_value(deadline),
    }


def _task_actions(task: TaskView, panel: routing.Panel) -> list[str]:
    """Return what the caller may do to a task of the panel, in `TASK_ACTIONS` order."""
    overseer = g.api_user.has_role(*CLERKS, routing.LEADER_ROLE)
    allowed = {
        "comment": task.state in ("open", "done") and (task.may_act or overseer),
        "extension": task.may_act and task.pending_extension is None,
        "forward": task.may_act,
        "complete": task.may_act,
    }
    return [action for action in TASK_ACTIONS if allowed[action]]


def _panel_task_json(task: TaskView, panel: routing.Panel) -> dict:
    """Return a task of a document's routing, with its comments, requests for more time and the caller's actions."""
    if task.assignee_kind == "user":
        user = {"id": task.user_id, "name": task.assignee}
        department = {"id": task.department_id, "name": task.department} if task.department_id else None
    else:
        user, department = None, {"id": task.department_id, "name": task.assignee}
    return {
        "id": task.id,
        "document_id": panel.document_id,
        "role": task.role,
        "state": task.state,
        "user": user,
        "department": department,
        "deadline": _json_value(task.deadline),
        "overdue": task.overdue,
        "result": task.result,
        "completed_at": _json_value(task.completed_at),
        "completed_by": person_json(task.completed_by),
        "acting_for": person_json(task.acting_for),
        "forwarded_from_id": task.forwarded_from_id,
        "comments": [
            {
                "author": person_json(row.author),
                "acting_for": person_json(row.acting_for),
                "text": row.text,
                "created_at": _json_value(row.at),
            }
            for row in task.comments
        ],
        "extension_requests": [extension_json(row, row.at, panel.can.decide_extensions) for row in task.extensions],
        "actions": _task_actions(task, panel),
        "act_for": person_json(task.act_for),
    }


def _item_actions(panel: routing.Panel) -> list[str]:
    """Return the steps the caller may take on the item now, in `ITEM_ACTIONS` order."""
    can = panel.can
    allowed = {
        "accept": can.receive,
        "return": can.receive,
        "propose": can.propose,
        "instruct": can.instruct,
        "circulate": can.circulate,
        "read": can.mark_read,
        "close": can.close,
        "reopen": can.reopen,
    }
    return [action for action in ITEM_ACTIONS if allowed[action]]


def routing_json(document: Document) -> dict:
    """Return a document's whole routing for the caller, with what they may do to it and to each task."""
    panel = routing.panel(g.api_user, document, _calendar())
    if panel is None:
        raise NotFound(Msg(N_("This document is not being routed.")))
    proposal = panel.proposal
    return {
        "document": document_summary(document),
        "routed": panel.routed,
        "kind": panel.kind or None,
        "state": panel.state,
        "deadline": _json_value(panel.deadline),
        "overdue": panel.overdue,
        "proposal": None
        if proposal is None
        else proposal_json(proposal.text, proposal.leader, proposal.departments, proposal.deadline),
        "result": panel.result,
        "close_reason": panel.close_reason,
        "return_reason": panel.return_reason,
        "reply_document": None if panel.reply is None else {"id": panel.reply.id, "number": panel.reply.name},
        "closed_at": _json_value(panel.closed_at),
        "closed_by": person_json(panel.closed_by),
        "instructions": [
            {
                "id": row.id,
                "leader": person_json(row.leader),
                "author": person_json(row.author),
                "acting_for": person_json(row.acting_for),
                "text": row.text,
                "instructed_at": _json_value(row.at),
                "deadline": _json_value(row.deadline),
            }
            for row in panel.instructions
        ],
        "tasks": [_panel_task_json(task, panel) for task in panel.tasks],
        "readers": [
            {
                "user": person_json(row.user),
                "required": row.required,
                "sent_at": _json_value(row.sent_at),
                "read_at": _json_value(row.read_at),
            }
            for row in panel.readers
        ],
        "actions": _item_actions(panel),
        "instruct_for": person_json(panel.can.instruct_for),
    }


def _changed(document: Document):
    """Commit the step just taken and answer with the document's routing as it now stands."""
    db.session.commit()
    return jsonify(routing_json(document))


# --- one document's routing --------------------------------------------------------------------------------------


@bp.get("/documents/<int:document_id>/routing")
@authenticated()
def get_routing(document_id: int):
    return jsonify(routing_json(_visible_document(document_id)))


@bp.get("/documents/<int:document_id>/routing/timeline")
@authenticated()
def get_routing_timeline(document_id: int):
    document = _visible_document(document_id)
    people: dict[int, User] = {}

    def person(user_id: int | None) -> dict | None:
        if user_id is None:
            return None
        if user_id not in people:
            people[user_id] = accounts.get_user(user_id)
        return person_json(people[user_id])

    entries = routing.timeline(document.id)
    return jsonify(
        {
            "items": [
                {
                    "at": _json_value(entry.at),
                    "what": entry.what,
                    "actor": person(entry.actor_id),
                    "acting_for": person(entry.acting_for_id),
                    "text": entry.text,
                    "details": entry.details or {},
                }
                for entry in entries
            ]
        }
    )


@bp.post("/documents/<int:document_id>/routing/accept")
@authenticated()
def accept_document(document_id: int):
    document = _visible_document(document_id)
    data = _body(("kind",))
    routing.accept(_ctx(), document.id, data.get("kind", "action"))
    return _changed(document)


@bp.post("/documents/<int:document_id>/routing/return")
@authenticated()
def return_document(document_id: int):
    document = _visible_document(document_id)
    data = _body(("reason",))
    routing.return_to_sender(_ctx(), document.id, data.get("reason", ""))
    return _changed(document)


@bp.post("/documents/<int:document_id>/routing/propose")
@authenticated()
def propose_handling(document_id: int):
    document = _visible_document(document_id)
    data = _body(("leader_id", "department_ids", "deadline", "text"))
    deadline = _date_value(data, "deadline")
    routing.propose(
        _ctx(),
        document.id,
        data.get("leader_id"),
        data.get("department_ids") or [],
        deadline,
        data.get("text", ""),
        calendar=_calendar(),
    )
    return _changed(document)


@bp.post("/documents/<int:document_id>/routing/instruct")
@authenticated()
def instruct_handling(document_id: int):
    document = _visible_document(document_id)
    data = _body(("text", "lead", "co_handlers", "deadline", "acting_for"))
    lead, co_handlers = _assignees(data)
    deadline = _date_value(data, "deadline")
    ctx = _ctx(_acting_for(data))
    routing.instruct(ctx, document.id, data.get("text", ""), lead, co_handlers, deadline, calendar=_calendar())
    return _changed(document)


@bp.post("/documents/<int:document_id>/routing/circulate")
@authenticated()
def circulate_document(document_id: int):
    document = _visible_document(document_id)
    data = _body(("reader_ids", "required"))
    routing.circulate(_ctx(), document.id, data.get("reader_ids") or [], required=data.get("required") is True)
    return _changed(document)


@bp.post("/documents/<int:document_id>/routing/read")
@authenticated()
def mark_document_read(document_id: int):
    document = _visible_document(document_id)
    routing.mark_read(_ctx(), document.id)
    return _changed(document)


@bp.post("/documents/<int:document_id>/routing/close")
@authenticated()
def close_routing(document_id: int):
    document = _visible_document(document_id)
    data = _body(("result", "reason", "reply_document_id"))
    routing.close(_ctx(), document.id, data.get("result"), data.get("reason"), data.get("reply_document_id"))
    return _changed(document)


@bp.post("/documents/<int:document_id>/routing/reopen")
@authenticated()
def reopen_routing(document_id: int):
    document = _visible_document(document_id)
    data = _body(("reason",))
    routing.reopen(_ctx(), document.id, data.get("reason", ""))
    return _changed(document)


# --- tasks ---------------------------------------------------------------------------------------------------------


@bp.post("/tasks/<int:task_id>/comments")
@authenticated()
def comment_task(task_id: int):
    _check_task_visible(task_id)
    data = _body(("text", "acting_for"))
    row = routing.comment(_ctx(_acting_for(data)), task_id, data.get("text", ""), calendar=_calendar())
    db.session.commit()
    comment = {
        "id": row.id,
        "task_id": row.task_id,
        "author": person_json(row.author),
        "acting_for": person_json(row.acting_for),
        "text": row.text,
        "created_at": _json_value(row.created_at),
    }
    return jsonify(comment), 201


@bp.post("/tasks/<int:task_id>/extension")
@authenticated()
def request_task_extension(task_id: int):
    _check_task_visible(task_id)
    data = _body(("new_deadline", "reason", "acting_for"))
    new_deadline = _date_value(data, "new_deadline")
    ctx = _ctx(_acting_for(data))
    row = routing.request_extension(ctx, task_id, new_deadline, data.get("reason", ""), calendar=_calendar())
    db.session.commit()
    return jsonify(extension_json(row, row.created_at, may_decide=g.api_user.has_role(*CLERKS))), 201


@bp.post("/tasks/<int:task_id>/forward")
@authenticated()
def forward_task(task_id: int):
    _check_task_visible(task_id)
    data = _body(("user_id", "acting_for"))
    new = routing.forward_task(_ctx(_acting_for(data)), task_id, data.get("user_id"), calendar=_calendar())
    db.session.commit()
    return jsonify(task_json(new)), 201


@bp.post("/tasks/<int:task_id>/complete")
@authenticated()
def complete_task(task_id: int):
    _check_task_visible(task_id)
    data = _body(("result", "acting_for"))
    done = routing.complete_task(_ctx(_acting_for(data)), task_id, data.get("result", ""), calendar=_calendar())
    db.session.commit()
    return jsonify(task_json(done))


@bp.post("/extensions/<int:request_id>/decide")
@authenticated()
def decide_extension(request_id: int):
    _check_visible(routing.extension_document_id(request_id), Msg(N_("No such request.")))
    data = _body(("approve", "note"))
    if not isinstance(data.get("approve"), bool):
        raise ValidationFailed({"approve": Msg(N_("Send true to approve or false to refuse."))})
    decided = routing.decide_extension(_ctx(), request_id, data["approve"], data.get("note", ""))
    db.session.commit()
    return jsonify(extension_json(decided, decided.created_at, may_decide=True))


# --- what waits for whom ---------------------------------------------------------------------------------------


def listed_task_json(row: routing.TaskRow, openable: set[int]) -> dict:
    """Return a task in an inbox: with its document, where that stands, and whom the caller holds it for as a
    substitute."""
    task = row.task
    return task_json(task) | {
        "document": _listed_document(task.item.document, openable),
        "item_state": task.item.state,
        "held_for": person_json(row.acting_for),
    }


@bp.get("/tasks")
@authenticated()
def list_my_tasks():
    bucket = _choice_arg("bucket", routing.BUCKETS) or "todo"
    page = routing.my_tasks_page(g.api_user, bucket, *_paging(), calendar=_calendar())
    return _rows_json(page, listed_task_json)


@bp.get("/tasks/department")
@authenticated()
def list_department_tasks():
    return _rows_json(routing.department_tasks_page(g.api_user, *_paging()), listed_task_json)


def reading_json(row: routing.ReadingRow, openable: set[int]) -> dict:
    """Return a document sent to the caller to read, with the record of its sending."""
    reader = row.reader
    return {
        "document": _listed_document(row.document, openable),
        "required": reader.required,
        "sent_at": _json_value(reader.sent_at),
        "sent_by": person_json(reader.sent_by),
        "read_at": _json_value(reader.read_at),
    }


@bp.get("/reading")
@authenticated()
def list_reading():
    return _rows_json(routing.to_read_page(g.api_user, *_paging()), reading_json)


def proposed_item_json(row: routing.ProposalRow, openable: set[int]) -> dict:
    """Return an item proposed for instruction: its document, the proposal, and the leader it waits for."""
    item = row.item
    return {
        "document": _listed_document(item.document, openable),
        "state": item.state,
        "deadline": _json_value(item.deadline),
        "proposal": proposal_json(item.proposal, item.proposed_leader, row.departments, item.proposed_deadline),
        "held_for": person_json(row.acting_for),
    }


@bp.get("/proposals")
@authenticated()
def list_proposals():
    return _rows_json(routing.to_instruct_page(g.api_user, *_paging(), calendar=_calendar()), proposed_item_json)


def board_json(row: routing.BoardRow, openable: set[int]) -> dict:
    """Return an item on the clerks' board, with its lead handler's task."""
    item = row.item
    return {
        "document": _listed_document(item.document, openable),
        "kind": item.kind,
        "state": item.state,
        "deadline": _json_value(item.deadline),
        "overdue": item.state in ("accepted", "proposed", "handling")
        and item.deadline is not None
        and item.deadline < _calendar().today(),
        "updated_at": _json_value(item.updated_at),
        "lead": None if row.lead is None else task_json(row.lead),
    }


@bp.get("/routing/board")
@authenticated(*CLERKS)
def routing_board():
    criteria = routing.BoardFilter(
        state=_choice_arg("state", routing.BOARD_STATES),
        department_id=_department_arg(),
        urgency=_choice_arg("urgency", URGENCIES),
    )
    return _rows_json(routing.board_page(criteria, *_paging()), board_json)


# --- chasing -------------------------------------------------------------------------------------------------------


def chase_json(row: routing.ChaseRow, openable: set[int]) -> dict:
    """Return a row of the chase list: the task, its document, how late it is and when it was last chased."""
    return task_json(row.task) | {
        "document": _listed_document(row.document, openable),
        "owner_department": department_json(row.department),
        "days_overdue": row.days_overdue,
        "days_left": row.days_left,
        "last_reminder": _json_value(row.last_reminder),
        "reminded_today": row.reminded_today,
        "escalated": row.escalated,
    }


@bp.get("/chase")
@authenticated(*CLERKS)
def get_chase_list():
    board = routing.chase_board(_calendar(), _department_arg(), *_paging())
    openable = registry.visible_ids(g.api_user, [row.document.id for row in board.page.items])
    return jsonify(
        {
            "items": [chase_json(row, openable) for row in board.page.items],
            "page": board.page.page,
            "per_page": board.page.per_page,
            "total": board.page.total,
            "today": _json_value(board.today),
            "overdue_to_remind": board.overdue_to_remind,
            "departments": [
                {
                    "department": department_json(count.department),
                    "due_soon": count.due_soon,
                    "overdue": count.overdue,
                    "extra_urgent": count.extra_urgent,
                }
                for count in board.counts
            ],
        }
    )


@bp.post("/tasks/<int:task_id>/remind")
@authenticated()
def remind_task(task_id: int):
    _check_task_visible(task_id)
    notified = routing.remind(_ctx(), task_id, calendar=_calendar())
    db.session.commit()
    return jsonify({"notified": notified})


@bp.post("/chase/remind-overdue")
@authenticated()
def remind_overdue_tasks():
    data = _body(("department_id",))
    department_id = data.get("department_id")
    if department_id is not None:
        try:
            organisation.get_department(department_id)
        except NotFound:
            raise ValidationFailed({"department_id": Msg(N_("No such department."))}) from None
    reminded = routing.remind_overdue(_ctx(), _calendar(), department_id)
    db.session.commit()
    return jsonify({"tasks": reminded.tasks, "people": reminded.people})


# --- the dashboard ---------------------------------------------------------------------------------------------


@bp.get("/dashboard")
@authenticated(routing.LEADER_ROLE, *CLERKS)
def get_dashboard():
    since = _date_value({"since": request.args.get("since") or None}, "since")
    return jsonify(routing.dashboard(_calendar(), since, _department_arg()).as_dict())
