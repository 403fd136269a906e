"""The OpenAPI description of outgoing directives: drafting, the approval steps, the Word file, distribution and
feedback, and the types and templates a draft starts from."""

from __future__ import annotations

from docstore.api.schemas import PAGING, _json, _list_of, _ok, _op, _page_of, _path, _query, _ref
from docstore.directives.flow import ACTIONS
from docstore.directives.issuing import FEEDBACK_STATES
from docstore.directives.kinds import LAYOUTS
from docstore.directives.office_templates import LANGUAGES
from docstore.models import CHANNELS, COUNTERSIGN_STATES, DIRECTIVE_STATES, URGENCIES

HIDDEN = (
    "A directive the caller may not open (above their clearance, or neither theirs, their department's, a department "
    "countersigning it, nor office-wide) is 404, as if it did not exist."
)
ILLEGAL = "A step the directive's state does not allow is 409 with code conflict; a caller who does not hold it, 403."
#: What the caller may be offered on a directive: "edit" is PATCH /directives/{directive_id}, each other
#: POST /directives/{directive_id}/<action>.
DIRECTIVE_ACTIONS = tuple(action.replace("_", "-") for action in ACTIONS)

DAY = {"type": "string", "format": "date"}
INSTANT = {"type": "string", "format": "date-time"}
NULLABLE_INT = {"type": ["integer", "null"]}
OPINION = {"type": "string", "maxLength": 1000}
PERSON = {"oneOf": [_ref("Person"), {"type": "null"}]}
TARGET = {
    "type": "object",
    "description": 'A correspondent or one of our departments: {"correspondent_id": 1} or {"department_id": 2}',
    "properties": {"correspondent_id": {"type": "integer"}, "department_id": {"type": "integer"}},
    "minProperties": 1,
    "maxProperties": 1,
}


def draft_properties() -> dict:
    """Return the JSON Schema of every field of a draft (`drafts.Draft`), as POST and PATCH take them."""
    return {
        "kind": {
            "type": "string",
            "description": "A built-in type (GET /directive-kinds), or template for an uploaded template. "
            "Default: notice, or template when template_id is given.",
        },
        "template_id": {**NULLABLE_INT, "description": "An active uploaded template (GET /directive-templates)"},
        "title": {"type": "string", "maxLength": 500},
        "issuer": {"type": "string", "maxLength": 200, "description": "The issuing body, as printed"},
        "issuer_mark": {
            "type": "string",
            "maxLength": 500,
            "description": "The red header (GB), or the letterhead lines separated by newlines; default: issuer",
        },
        "department_id": {**NULLABLE_INT, "description": "The issuing department; default: the drafter's"},
        "series_id": {
            **NULLABLE_INT,
            "description": "The outgoing register that numbers it; default: the issuing department's",
        },
        "urgency": {"enum": list(URGENCIES), "default": "normal"},
        "classification": {
            "type": "integer",
            "minimum": 0,
            "maximum": 3,
            "default": 0,
            "description": "At most the caller's own clearance",
        },
        "signer_id": {**NULLABLE_INT, "description": "The leader who signs it off; null: any leader"},
        "signer_title": {
            "type": "string",
            "maxLength": 200,
            "description": "The signer's post, as the signature block prints it (antefirma)",
        },
        "body": {
            "type": "string",
            "maxLength": 200_000,
            "description": "Paragraphs; headings 一、（一）1.（1） or # to ####; points '- '; table rows '| a | b |'",
        },
        "sections": {
            "type": "object",
            "additionalProperties": {"type": "string", "maxLength": 50_000},
            "description": "The type's own parts (GET /directive-kinds), name -> text in the body's syntax",
        },
        "attachments_note": {"type": "string", "maxLength": 5_000, "description": "One attachment per line"},
        "note": {"type": "string", "maxLength": 2_000},
        "their_reference": {"type": "string", "maxLength": 120, "description": "S/REF. of an oficio"},
        "place": {"type": "string", "maxLength": 100, "description": "Where it is signed (Spanish types)"},
        "feedback_requested": {"type": "boolean", "description": "The main recipients are to reply"},
        "feedback_deadline": {
            "type": ["string", "null"],
            "format": "date",
            "description": "When replies are due; required when feedback_requested",
        },
        "reply_to_id": {**NULLABLE_INT, "description": "The registered document this directive answers"},
        "main_recipients": {"type": "array", "items": TARGET},
        "copy_recipients": {"type": "array", "items": TARGET},
        "countersign_department_ids": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "The departments that countersign (会签), all of them, before sign-off",
        },
    }


def directive_schemas() -> dict:
    """Return the schemas of directives and of the bodies their steps take."""
    department = {"oneOf": [_ref("DepartmentRef"), {"type": "null"}]}
    document = {"oneOf": [_ref("DocumentSummary"), {"type": "null"}]}
    fields = draft_properties()
    return {
        "DirectiveSummary": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "kind": {"type": "string"},
                "state": {"enum": list(DIRECTIVE_STATES)},
                "state_label": {"type": "string", "description": "The state, in the request's language"},
                "title": {"type": "string"},
                "department_id": {"type": "integer"},
                "urgency": {"enum": list(URGENCIES)},
                "classification": {"type": "integer"},
                "number": {"type": ["string", "null"], "description": "Its number, once registered"},
                "version": {"type": "integer"},
                "drafted_by": PERSON,
                "updated_at": INSTANT,
                "waiting_for_me": {"type": "boolean", "description": "Its next step is the caller's to take"},
                "url": {"type": "string", "description": "The directive in the API"},
            },
        },
        "DirectiveRecipient": {
            "type": "object",
            "description": "A main or copy recipient, and how its copy left once issued",
            "properties": {
                "id": {"type": "integer", "description": "Names it in dispatches and replies"},
                "role": {"enum": ["main", "copy"]},
                "department_id": NULLABLE_INT,
                "correspondent_id": NULLABLE_INT,
                "name": {"type": "string"},
                "internal": {"type": "boolean", "description": "One of our departments: issue registers it there"},
                "channel": {"enum": [*CHANNELS, None]},
                "dispatched_on": {"type": ["string", "null"], "format": "date"},
                "dispatched_by": PERSON,
            },
        },
        "Countersign": {
            "type": "object",
            "description": "One department's countersignature (会签)",
            "properties": {
                "department": _ref("DepartmentRef"),
                "state": {"enum": list(COUNTERSIGN_STATES)},
                "opinion": {"type": "string"},
                "decided_by": PERSON,
                "decided_at": {"type": ["string", "null"], "format": "date-time"},
                "actions": {
                    "type": "array",
                    "items": {"enum": ["countersign"]},
                    "description": '["countersign"] when the caller may give it now',
                },
            },
        },
        "DirectiveStep": {
            "type": "object",
            "description": "A step of the directive's history, oldest first",
            "properties": {
                "action": {
                    "type": "string",
                    "description": "create, edit, submit, approve_review, countersign_agree, countersign_decline, "
                    "sign_off, edit_after_signoff, send_back, withdraw, register, issue, link_reply, chase",
                },
                "from_state": {"enum": list(DIRECTIVE_STATES)},
                "to_state": {"enum": list(DIRECTIVE_STATES)},
                "actor": PERSON,
                "acting_for": {**PERSON, "description": "Whom the actor stood in for"},
                "department": department,
                "text": {"type": "string", "description": "The opinion, the reason, or what changed"},
                "version": {"type": "integer"},
                "at": INSTANT,
            },
        },
        "Directive": {
            "type": "object",
            "description": "A directive: the fields of its draft (as PATCH takes them), where it stands, and what "
            "the caller may do to it now",
            "properties": {
                "id": {"type": "integer"},
                **fields,
                "language": {"enum": list(LANGUAGES)},
                "state": {"enum": list(DIRECTIVE_STATES)},
                "state_label": {"type": "string", "description": "The state, in the request's language"},
                "version": {"type": "integer", "description": "Send it back with PATCH"},
                "number": {"type": ["string", "null"], "description": "Its number (发文字号), once registered"},
                "document": {**document, "description": "The outgoing register entry, once registered"},
                "reply_to": {**document, "description": "The document it answers"},
                "signed_version": {**NULLABLE_INT, "description": "The version the signer approved"},
                "signed_by": PERSON,
                "signed_at": {"type": ["string", "null"], "format": "date-time"},
                "signed_on": {"type": ["string", "null"], "format": "date"},
                "sign_opinion": {"type": "string"},
                "return_reason": {"type": "string", "description": "Why it was last sent back"},
                "drafted_by": PERSON,
                "created_at": INSTANT,
                "updated_at": INSTANT,
                "issued_at": {"type": ["string", "null"], "format": "date-time"},
                "recipients": {"type": "array", "items": _ref("DirectiveRecipient")},
                "countersigns": {"type": "array", "items": _ref("Countersign")},
                "warnings": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "What the drafting rules say, in the request's language (advice: none blocks)",
                },
                "actions": {
                    "type": "array",
                    "items": {"enum": list(DIRECTIVE_ACTIONS)},
                    "description": "What the caller may do now: edit is PATCH, the others POST "
                    "/directives/{directive_id}/<action>",
                },
                "history": {"type": "array", "items": _ref("DirectiveStep")},
                "word_url": {"type": "string", "description": "Its Word file"},
            },
        },
        "DirectiveInput": {
            "type": "object",
            "required": ["title", "issuer"],
            "properties": fields,
        },
        "DirectiveChanges": {
            "type": "object",
            "description": "The fields to change; the others keep their values",
            "required": ["version"],
            "properties": {
                **fields,
                "version": {
                    "type": "integer",
                    "description": "The version the edit started from: 409 when someone saved since",
                },
            },
        },
        "DirectiveOpinion": {"type": "object", "properties": {"opinion": OPINION}},
        "DirectiveCountersignInput": {
            "type": "object",
            "required": ["agree"],
            "properties": {
                "department_id": {
                    **NULLABLE_INT,
                    "description": "The department countersigning; needed only when the caller may sign for several",
                },
                "agree": {"type": "boolean", "description": "false declines it, back to review"},
                "opinion": {**OPINION, "description": "Required when declining"},
            },
        },
        "DirectiveReason": {"type": "object", "required": ["reason"], "properties": {"reason": OPINION}},
        "DirectiveIssue": {
            "type": "object",
            "properties": {
                "dispatches": {
                    "type": "array",
                    "description": "How each external copy left (default: e-mail, today); internal recipients are "
                    "registered in their department's incoming register",
                    "items": {
                        "type": "object",
                        "required": ["recipient_id", "channel", "sent_on"],
                        "properties": {
                            "recipient_id": {"type": "integer", "description": "A recipient's id"},
                            "channel": {"enum": list(CHANNELS)},
                            "sent_on": {**DAY, "description": "Not in the future"},
                        },
                    },
                }
            },
        },
        "DirectiveFeedback": {
            "type": "object",
            "description": "Each recipient's copy of an issued directive, as the issuer follows it up",
            "properties": {
                "directive_id": {"type": "integer"},
                "feedback_requested": {"type": "boolean"},
                "feedback_deadline": {"type": ["string", "null"], "format": "date"},
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "recipient": _ref("DirectiveRecipient"),
                            "state": {"enum": list(FEEDBACK_STATES)},
                            "state_label": {"type": "string"},
                            "expects_reply": {"type": "boolean"},
                            "received": {**document, "description": "The incoming document registered for it"},
                            "reply": {**document, "description": "Its reply, once linked"},
                            "replied_at": {"type": ["string", "null"], "format": "date-time"},
                            "chased_at": {"type": ["string", "null"], "format": "date-time"},
                        },
                    },
                },
            },
        },
        "DirectiveReplyInput": {
            "type": "object",
            "required": ["number"],
            "properties": {"number": {"type": "string", "description": "The number of the registered reply"}},
        },
        "DirectiveChased": {
            "type": "object",
            "required": ["reminded"],
            "properties": {
                "reminded": {"type": "integer", "description": "Departments reminded now (once a day at most)"}
            },
        },
        "DirectiveKind": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "The kind to draft with"},
                "label": {"type": "string", "description": "In the request's language"},
                "name": {"type": "string", "description": "As the document itself names its type"},
                "language": {"enum": list(LANGUAGES)},
                "layout": {"enum": list(LAYOUTS)},
                "upward": {"type": "boolean", "description": "Goes up: one main recipient, no copies to subordinates"},
                "addressed": {"type": "boolean", "description": "Needs a main recipient"},
                "sections": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "label": {"type": "string"},
                            "required": {"type": "boolean"},
                            "default": {"type": "string", "description": "The text a new draft starts with"},
                        },
                    },
                },
            },
        },
        "DirectiveTemplate": {
            "type": "object",
            "description": "A Word template an administrator uploaded (draft with kind template)",
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "language": {"enum": list(LANGUAGES)},
                "filename": {"type": "string"},
                "size": {"type": "integer"},
                "placeholders": {"type": "array", "items": {"type": "string"}},
                "uploaded_at": INSTANT,
            },
        },
    }


def _step(summary: str, body: str | None, role: str) -> dict:
    """Return the operation of one step of a directive, answering with the directive as it now stands."""
    operation = _op(
        f"{summary}. {ILLEGAL}",
        _ok("Directive", description="The directive after the step"),
        role=role,
        params=[_path("directive_id")],
        body=body,
        tag="directives",
    )
    operation["description"] = HIDDEN
    return operation


def _hidden(operation: dict) -> dict:
    return {**operation, "description": HIDDEN}


def directive_paths() -> dict:
    """Return the operations on directives."""
    directive = [_path("directive_id")]
    clerk = "admin or clerk"
    word = {
        "description": "The registered Word file once numbered; before, a preview drawn now without a number",
        "content": {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
                "schema": {"type": "string", "format": "binary"}
            }
        },
    }
    created = {
        "description": "Drafted",
        "headers": {"Location": {"schema": {"type": "string"}, "description": "The new directive"}},
        **_json(_ref("Directive")),
    }
    return {
        "/directives": {
            "get": _op(
                "List the directives the caller may open, the latest changed first",
                _ok(schema=_page_of("DirectiveSummary")),
                params=[
                    _query("state", {"enum": list(DIRECTIVE_STATES)}),
                    _query("mine", {"type": "boolean"}, "Only those the caller drafted"),
                    *PAGING,
                ],
                tag="directives",
            ),
            "post": _op(
                "Start a draft; the caller is its drafter. Rules that a machine can check come back as warnings",
                created,
                body="DirectiveInput",
                status="201",
                tag="directives",
            ),
        },
        "/directives/{directive_id}": {
            "get": _hidden(
                _op(
                    "A directive: its fields, state, warnings, countersignatures, recipients, history and the "
                    "caller's actions",
                    _ok("Directive"),
                    params=directive,
                    tag="directives",
                )
            ),
            "patch": _hidden(
                _op(
                    "Edit a directive (in draft its department, in review and re-check the clerks); a substantive "
                    "edit in re-check goes back to the signer. A stale version is 409",
                    _ok("Directive"),
                    role="its drafter's department, admin or clerk",
                    params=directive,
                    body="DirectiveChanges",
                    tag="directives",
                )
            ),
        },
        "/directives/{directive_id}/submit": {
            "post": _step("Send a draft to the office's review (核稿)", None, "its drafter's department, or a clerk")
        },
        "/directives/{directive_id}/approve-review": {
            "post": _step(
                "Pass the review: on to countersigning, or to sign-off when none countersigns",
                "DirectiveOpinion",
                clerk,
            )
        },
        "/directives/{directive_id}/countersign": {
            "post": _step(
                "Countersign (会签) for a department: agree, or decline with an opinion (back to review)",
                "DirectiveCountersignInput",
                "a member of a countersigning department, or their acting substitute",
            )
        },
        "/directives/{directive_id}/sign-off": {
            "post": _step(
                "Sign it off (签发) with an opinion; the name and date are recorded",
                "DirectiveOpinion",
                "its signer (any leader when none is chosen), or their acting substitute",
            )
        },
        "/directives/{directive_id}/send-back": {
            "post": _step("Send it back one step, saying why", "DirectiveReason", "whoever holds the current step")
        },
        "/directives/{directive_id}/withdraw": {
            "post": _step(
                "Withdraw a directive not yet registered, saying why", "DirectiveReason", "its drafter, admin or clerk"
            )
        },
        "/directives/{directive_id}/register": {
            "post": _step(
                "Re-check (复核) and register a signed-off directive: it takes its number, and its Word file is kept",
                None,
                clerk,
            )
        },
        "/directives/{directive_id}/issue": {
            "post": _step(
                "Issue a registered directive: an incoming document for each internal recipient, a dispatch entry "
                "for each external one",
                "DirectiveIssue",
                clerk,
            )
        },
        "/directives/{directive_id}/word": {
            "get": _hidden(
                _op("Download the directive as a Word file (.docx)", word, params=directive, tag="directives")
            )
        },
        "/directives/{directive_id}/feedback": {
            "get": _hidden(
                _op(
                    "Each recipient's copy of an issued directive: sent, received, read, replied or overdue. "
                    "Before issue, 409",
                    _ok("DirectiveFeedback"),
                    params=directive,
                    tag="directives",
                )
            )
        },
        "/directives/{directive_id}/feedback/{recipient_id}/reply": {
            "post": _hidden(
                _op(
                    "Link the registered document with this number as a recipient's reply. " + ILLEGAL,
                    _ok("DirectiveFeedback"),
                    role=clerk,
                    params=[*directive, _path("recipient_id")],
                    body="DirectiveReplyInput",
                    tag="directives",
                )
            )
        },
        "/directives/{directive_id}/chase": {
            "post": _hidden(
                _op(
                    "Remind the internal recipients whose reply is awaited (催办), once a day each. " + ILLEGAL,
                    _ok("DirectiveChased"),
                    role=clerk,
                    params=directive,
                    tag="directives",
                )
            )
        },
        "/directive-kinds": {
            "get": _op(
                "The built-in directive types, their languages and their own sections",
                _ok(schema=_list_of("DirectiveKind")),
                tag="directives",
            )
        },
        "/directive-templates": {
            "get": _op(
                "The office's active uploaded Word templates",
                _ok(schema=_list_of("DirectiveTemplate")),
                tag="directives",
            )
        },
    }
