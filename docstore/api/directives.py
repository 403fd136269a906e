"""Outgoing directives in the JSON API: drafting, each approval step, the Word file, distribution and feedback.

A directive answers 404 to whoever may not open it (`drafts.can_view`: within their clearance, office-wide roles,
its drafter and signer, the members of its issuing and countersigning departments, and whoever stands in for one of
them today). Each step is one service call, which commits; the request's transaction takes the write lock from its
start, as every POST and PATCH does (see `docstore.database`). A step the directive's state does not allow is 409, a
step that is someone else's is 403 (the services decide both); an edit that started from an older version is 409.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date

from flask import current_app, g, jsonify, send_file, url_for

from docstore import extraction, registry
from docstore.api.common import (
    _body,
    _choice_arg,
    _ctx,
    _date_value,
    _flag,
    _json_value,
    _page_json,
    _paging,
    _translate,
    authenticated,
    bp,
    recipient_target,
)
from docstore.api.routing import _calendar, _listed_document, department_json, person_json
from docstore.directives import drafts, flow, issuing, kinds, office_templates, render
from docstore.errors import N_, Conflict, Msg, ValidationFailed
from docstore.models import (
    DIRECTIVE_STATES,
    Countersign,
    Directive,
    DirectiveRecipient,
    DirectiveStep,
    DirectiveTemplate,
    Document,
)

#: The fields of a draft, as POST /directives takes them (PATCH takes them too, with "version").
DRAFT_FIELDS = tuple(field.name for field in fields(drafts.Draft))
RECIPIENT_FIELDS = ("main_recipients", "copy_recipients")
#: The fields of a draft kept in the directive's own columns (the others are its recipients and countersigners).
DRAFT_COLUMNS = tuple(name for name in DRAFT_FIELDS if name not in (*RECIPIENT_FIELDS, "countersign_department_ids"))
DISPATCH_KEYS = {"recipient_id", "channel", "sent_on"}


def _file_store():
    return extraction.file_store(current_app.config)


def _visible_directive(directive_id: int) -> Directive:
    """Return the directive if the caller may open it; NotFound otherwise, as if it did not exist."""
    return drafts.get_directive(directive_id, g.api_user)


# --- parsing -------------------------------------------------------------------------------------------------------


def _draft(data: dict, start: drafts.Draft) -> drafts.Draft:
    """Return `start` with the fields sent in `data` (whose JSON types are checked) parsed; report every bad one.

    A template_id without a kind drafts with that template; a built-in kind without a template_id drops the template.
    """
    changes, errors = {name: data[name] for name in data if name in DRAFT_FIELDS}, {}
    if "feedback_deadline" in data:
        try:
            changes["feedback_deadline"] = _date_value(data, "feedback_deadline")
        except ValidationFailed as exc:
            errors.update(exc.errors)
    for name in RECIPIENT_FIELDS:
        if name in data:
            changes[name] = [recipient_target(item) for item in data[name]]
            if None in changes[name]:
                errors[name] = Msg(N_('Name each one as {"correspondent_id": n} or {"department_id": n}.'))
    if not all(isinstance(text, str) for text in (data.get("sections") or {}).values()):
        errors["sections"] = Msg(N_("Give each section's text as a string."))
    if errors:
        raise ValidationFailed(errors)
    if "kind" not in data and data.get("template_id") is not None:
        changes["kind"] = "template"
    elif "kind" in data and data["kind"] != "template" and "template_id" not in data:
        changes["template_id"] = None
    return replace(start, **changes)


def _dispatch(item) -> issuing.Dispatch | None:
    """Return {"recipient_id": n, "channel": c, "sent_on": "YYYY-MM-DD"} as the service takes it (None when
    malformed; the service checks the channel and the day)."""
    if not isinstance(item, dict) or set(item) != DISPATCH_KEYS:
        return None
    recipient_id, channel, sent_on = item["recipient_id"], item["channel"], item["sent_on"]
    if type(recipient_id) is not int or not isinstance(channel, str) or not isinstance(sent_on, str):
        return None
    try:
        return issuing.Dispatch(recipient_id, channel, date.fromisoformat(sent_on))
    except ValueError:
        return None


# --- how directives look in JSON -------------------------------------------------------------------------------


def _targets_json(directive: Directive, role: str) -> list[dict]:
    return [
        {"department_id": r.department_id} if r.department_id else {"correspondent_id": r.correspondent_id}
        for r in directive.recipients
        if r.role == role
    ]


def recipient_json(recipient: DirectiveRecipient) -> dict:
    """Return a recipient of a directive and how its copy left."""
    return {
        "id": recipient.id,
        "role": recipient.role,
        "department_id": recipient.department_id,
        "correspondent_id": recipient.correspondent_id,
        "name": recipient.name,
        "internal": recipient.internal,
        "channel": recipient.channel,
        "dispatched_on": _json_value(recipient.dispatched_on),
        "dispatched_by": person_json(recipient.dispatched_by),
    }


def countersign_json(row: Countersign, mine: dict[int, int | None]) -> dict:
    """Return a department's countersignature; "countersign" when the caller may give it (`mine`: their
    departments, see `flow.countersigning_for`)."""
    return {
        "department": department_json(row.department),
        "state": row.state,
        "opinion": row.opinion,
        "decided_by": person_json(row.decided_by),
        "decided_at": _json_value(row.decided_at),
        "actions": ["countersign"] if row.state == "pending" and row.department_id in mine else [],
    }


def step_json(step: DirectiveStep) -> dict:
    """Return a step of a directive's history."""
    return {
        "action": step.action,
        "from_state": step.from_state,
        "to_state": step.to_state,
        "actor": person_json(step.actor),
        "acting_for": person_json(step.acting_for),
        "department": department_json(step.department),
        "text": step.text,
        "version": step.version,
        "at": _json_value(step.at),
    }


def _openable(documents: list[Document | None]) -> set[int]:
    """Return the ids of those of `documents` the caller may open, in one query."""
    return registry.visible_ids(g.api_user, [document.id for document in documents if document is not None])


def _document_ref(document: Document | None, openable: set[int]) -> dict | None:
    """Return a document a directive refers to, withheld (its id and number only) unless its id is in `openable`."""
    return None if document is None else _listed_document(document, openable)


def directive_json(directive: Directive) -> dict:
    """Return a directive as the caller sees it: its draft's fields, where it stands, its warnings and history, and
    what the caller may do to it now."""
    openable = _openable([directive.document, directive.reply_to])
    mine = flow.countersigning_for(g.api_user, directive) if directive.state == "countersign" else {}
    return {
        "id": directive.id,
        **{name: _json_value(getattr(directive, name)) for name in DRAFT_COLUMNS},
        "main_recipients": _targets_json(directive, "main"),
        "copy_recipients": _targets_json(directive, "copy"),
        "countersign_department_ids": [row.department_id for row in directive.countersigns],
        "language": drafts.language_of(directive),
        "state": directive.state,
        "state_label": _translate(drafts.state_label(directive)),
        "version": directive.version,
        "number": directive.document.number if directive.document else None,
        "document": _document_ref(directive.document, openable),
        "reply_to": _document_ref(directive.reply_to, openable),
        "signed_version": directive.signed_version,
        "signed_by": person_json(directive.signed_by),
        "signed_at": _json_value(directive.signed_at),
        "signed_on": _json_value(directive.signed_on),
        "sign_opinion": directive.sign_opinion,
        "return_reason": directive.return_reason,
        "drafted_by": person_json(directive.drafted_by),
        "created_at": _json_value(directive.created_at),
        "updated_at": _json_value(directive.updated_at),
        "issued_at": _json_value(directive.issued_at),
        "recipients": [recipient_json(recipient) for recipient in directive.recipients],
        "countersigns": [countersign_json(row, mine) for row in directive.countersigns],
        "warnings": [_translate(message) for message in drafts.warnings(directive)],
        "actions": [action.replace("_", "-") for action in flow.actions_for(g.api_user, directive)],
        "history": [step_json(step) for step in drafts.steps_of(directive.id)],
        "word_url": url_for("api.directive_word", directive_id=directive.id),
    }


def directive_summary(directive: Directive) -> dict:
    """Return a directive in a list."""
    return {
        "id": directive.id,
        "kind": directive.kind,
        "state": directive.state,
        "state_label": _translate(drafts.state_label(directive)),
        "title": directive.title,
        "department_id": directive.department_id,
        "urgency": directive.urgency,
        "classification": directive.classification,
        "number": directive.document.number if directive.document else None,
        "version": directive.version,
        "drafted_by": person_json(directive.drafted_by),
        "updated_at": _json_value(directive.updated_at),
        "waiting_for_me": flow.waiting_for(g.api_user, directive),
        "url": url_for("api.get_directive", directive_id=directive.id),
    }


def feedback_json(directive: Directive) -> dict:
    """Return each recipient's copy of an issued directive with what is known of it; 409 before it is issued."""
    if directive.state != "issued":
        raise Conflict(Msg(N_("The copies of a directive are followed up once it is issued.")))
    rows = issuing.feedback(directive, _calendar().today())
    openable = _openable([document for row in rows for document in (row.received, row.reply)])
    items = [
        {
            "recipient": recipient_json(row.recipient),
            "state": row.state,
            "state_label": _translate(Msg(issuing.FEEDBACK_STATES[row.state])),
            "expects_reply": row.expects_reply,
            "received": _document_ref(row.received, openable),
            "reply": _document_ref(row.reply, openable),
            "replied_at": _json_value(row.recipient.replied_at),
            "chased_at": _json_value(row.recipient.chased_at),
        }
        for row in rows
    ]
    return {
        "directive_id": directive.id,
        "feedback_requested": directive.feedback_requested,
        "feedback_deadline": _json_value(directive.feedback_deadline),
        "items": items,
    }


def kind_json(kind: kinds.Kind) -> dict:
    """Return a built-in directive type with its own sections, labelled in the request's language."""
    defaults = {("resolucion", "appeal"): kinds.DEFAULT_APPEAL}
    return {
        "code": kind.code,
        "label": _translate(Msg(kind.label)),
        "name": kind.name,
        "language": kind.language,
        "layout": kind.layout,
        "upward": kind.upward,
        "addressed": kind.addressed,
        "sections": [
            {
                "name": section.name,
                "label": _translate(Msg(section.label)),
                "required": section.required,
                "default": defaults.get((kind.code, section.name), ""),
            }
            for section in kind.sections
        ],
    }


def template_json(template: DirectiveTemplate) -> dict:
    """Return an uploaded template as drafters choose it."""
    return {
        "id": template.id,
        "name": template.name,
        "language": template.language,
        "filename": template.filename,
        "size": template.size,
        "placeholders": list(template.placeholders or []),
        "uploaded_at": _json_value(template.uploaded_at),
    }


# --- drafting ------------------------------------------------------------------------------------------------------


@bp.get("/directives")
@authenticated()
def list_directives():
    state = _choice_arg("state", DIRECTIVE_STATES) or None
    page = drafts.list_directives(g.api_user, *_paging(), state=state, mine=_flag("mine") or False)
    return _page_json(page, directive_summary)


@bp.post("/directives")
@authenticated()
def create_directive():
    draft = _draft(_body(DRAFT_FIELDS), drafts.Draft())
    directive = drafts.create_draft(_ctx(), draft)
    response = jsonify(directive_json(directive))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_directive", directive_id=directive.id)
    return response


@bp.get("/directives/<int:directive_id>")
@authenticated()
def get_directive(directive_id: int):
    return jsonify(directive_json(_visible_directive(directive_id)))


@bp.patch("/directives/<int:directive_id>")
@authenticated()
def update_directive(directive_id: int):
    directive = _visible_directive(directive_id)
    data = _body((*DRAFT_FIELDS, "version"))
    version = data.pop("version", None)
    if version is None:
        raise ValidationFailed({"version": Msg(N_("Send the version you edited, as GET gave it."))})
    draft = _draft(data, drafts.Draft.of(directive))
    return jsonify(directive_json(drafts.update_draft(_ctx(), directive.id, draft, version=version)))


# --- the approval steps ------------------------------------------------------------------------------------------


@bp.post("/directives/<int:directive_id>/submit")
@authenticated()
def submit_directive(directive_id: int):
    directive = _visible_directive(directive_id)
    return jsonify(directive_json(flow.submit(_ctx(), directive.id)))


@bp.post("/directives/<int:directive_id>/approve-review")
@authenticated()
def approve_directive_review(directive_id: int):
    directive = _visible_directive(directive_id)
    data = _body(("opinion",))
    return jsonify(directive_json(flow.approve_review(_ctx(), directive.id, data.get("opinion") or "")))


@bp.post("/directives/<int:directive_id>/countersign")
@authenticated()
def countersign_directive(directive_id: int):
    directive = _visible_directive(directive_id)
    data = _body(("department_id", "agree", "opinion"))
    if not isinstance(data.get("agree"), bool):
        raise ValidationFailed({"agree": Msg(N_("Send true to agree or false to decline."))})
    opinion = data.get("opinion") or ""
    countersigned = flow.countersign(_ctx(), directive.id, data.get("department_id"), data["agree"], opinion)
    return jsonify(directive_json(countersigned))


@bp.post("/directives/<int:directive_id>/sign-off")
@authenticated()
def sign_off_directive(directive_id: int):
    directive = _visible_directive(directive_id)
    data = _body(("opinion",))
    return jsonify(directive_json(flow.sign_off(_ctx(), directive.id, data.get("opinion") or "")))


@bp.post("/directives/<int:directive_id>/send-back")
@authenticated()
def send_directive_back(directive_id: int):
    directive = _visible_directive(directive_id)
    data = _body(("reason",))
    return jsonify(directive_json(flow.send_back(_ctx(), directive.id, data.get("reason") or "")))


@bp.post("/directives/<int:directive_id>/withdraw")
@authenticated()
def withdraw_directive(directive_id: int):
    directive = _visible_directive(directive_id)
    data = _body(("reason",))
    return jsonify(directive_json(flow.withdraw(_ctx(), directive.id, data.get("reason") or "")))


# --- numbering and distribution ----------------------------------------------------------------------------------


@bp.post("/directives/<int:directive_id>/register")
@authenticated()
def register_directive(directive_id: int):
    directive = _visible_directive(directive_id)
    policy = registry.upload_policy(current_app.config)
    registered = issuing.register(_ctx(), directive.id, policy, _file_store())
    extraction.wake()
    return jsonify(directive_json(registered))


@bp.post("/directives/<int:directive_id>/issue")
@authenticated()
def issue_directive(directive_id: int):
    directive = _visible_directive(directive_id)
    data = _body(("dispatches",))
    dispatches = [_dispatch(item) for item in data.get("dispatches") or []]
    if None in dispatches:
        raise ValidationFailed(
            {"dispatches": Msg(N_('Give each as {"recipient_id": n, "channel": "...", "sent_on": "YYYY-MM-DD"}.'))}
        )
    issued = issuing.issue(_ctx(), directive.id, registry.upload_policy(current_app.config), dispatches)
    extraction.wake()
    return jsonify(directive_json(issued))


@bp.get("/directives/<int:directive_id>/word")
@authenticated()
def directive_word(directive_id: int):
    directive = _visible_directive(directive_id)
    data, name = render.word_file(directive, _file_store())
    return send_file(render.as_stream(data), mimetype=render.DOCX_MIME, as_attachment=True, download_name=name)


# --- feedback ------------------------------------------------------------------------------------------------------


@bp.get("/directives/<int:directive_id>/feedback")
@authenticated()
def directive_feedback(directive_id: int):
    return jsonify(feedback_json(_visible_directive(directive_id)))


@bp.post("/directives/<int:directive_id>/feedback/<int:recipient_id>/reply")
@authenticated()
def link_directive_reply(directive_id: int, recipient_id: int):
    directive = _visible_directive(directive_id)
    data = _body(("number",))
    issuing.link_reply(_ctx(), directive.id, recipient_id, data.get("number") or "")
    return jsonify(feedback_json(directive))


@bp.post("/directives/<int:directive_id>/chase")
@authenticated()
def chase_directive_replies(directive_id: int):
    directive = _visible_directive(directive_id)
    reminded = issuing.chase(_ctx(), directive.id, _calendar().today())
    return jsonify({"reminded": reminded})


# --- what a draft starts from ------------------------------------------------------------------------------------


@bp.get("/directive-kinds")
@authenticated()
def list_directive_kinds():
    return jsonify({"items": [kind_json(kind) for kind in kinds.KINDS.values()]})


@bp.get("/directive-templates")
@authenticated()
def list_directive_templates():
    return jsonify({"items": [template_json(template) for template in office_templates.list_templates()]})
