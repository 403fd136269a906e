"""The OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json."""

from __future__ import annotations

import functools

from docstore import fulltext, notifications, registry, workdays
from docstore.api.archive_spec import archive_paths, archive_schemas
from docstore.api.directives_spec import directive_paths, directive_schemas
from docstore.api.routing_spec import routing_paths, routing_schemas
from docstore.api.schemas import PAGING, _json, _list_of, _ok, _op, _page_of, _path, _query, _ref
from docstore.models import CALENDAR_DAY_KINDS, CHANNELS, DIRECTIONS, EXTRACTION_STATES, STATUSES, URGENCIES


@functools.cache
def build_spec(prefix: str) -> dict:
    """Return the OpenAPI document of the API mounted at `prefix` (built once; callers must not change it)."""
    nullable_str = {"type": ["string", "null"]}
    nullable_int = {"type": ["integer", "null"]}
    schemas = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "description": "Stable machine-readable code"},
                        "message": {"type": "string", "description": "Message in the server's language"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                }
            },
        },
        "User": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "username": {"type": "string"},
                "full_name": {"type": "string"},
                "email": nullable_str,
                "department_id": nullable_int,
                "roles": {"type": "array", "items": {"enum": ["admin", "clerk", "staff", "leader", "archivist"]}},
                "clearance": {"type": "integer", "minimum": 0, "maximum": 3},
                "locale": {"enum": ["en", "es", "zh_Hans", None]},
                "active": {"type": "boolean"},
            },
        },
        "NewUser": {
            "type": "object",
            "required": ["username", "full_name", "password"],
            "properties": {
                "username": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{1,63}$"},
                "full_name": {"type": "string"},
                "password": {"type": "string", "minLength": 10},
                "email": nullable_str,
                "department_id": nullable_int,
                "roles": {"type": "array", "items": {"type": "string"}},
                "clearance": {"type": "integer"},
                "locale": nullable_str,
            },
        },
        "UserChanges": {
            "type": "object",
            "properties": {
                "full_name": {"type": "string"},
                "email": nullable_str,
                "department_id": nullable_int,
                "roles": {"type": "array", "items": {"type": "string"}},
                "clearance": {"type": "integer"},
                "locale": nullable_str,
                "active": {"type": "boolean", "description": "false deactivates and signs the user out"},
            },
        },
        "Password": {"type": "object", "required": ["password"], "properties": {"password": {"type": "string"}}},
        "Substitution": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "user_id": {"type": "integer"},
                "substitute_id": {"type": "integer"},
                "starts_on": {"type": "string", "format": "date"},
                "ends_on": {"type": "string", "format": "date"},
                "reason": {"type": "string"},
                "cancelled": {"type": "boolean"},
            },
        },
        "NewSubstitution": {
            "type": "object",
            "required": ["substitute_id", "starts_on", "ends_on"],
            "properties": {
                "substitute_id": {"type": "integer"},
                "starts_on": {"type": "string", "format": "date"},
                "ends_on": {"type": "string", "format": "date"},
                "reason": {"type": "string"},
            },
        },
        "Department": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "code": {"type": "string"},
                "name": {"type": "string"},
                "kind": {"enum": ["office", "department", "unit"]},
                "parent_id": nullable_int,
                "head_id": {**nullable_int, "description": "The user who heads it (escalations reach them)"},
                "active": {"type": "boolean"},
                "depth": {"type": "integer", "description": "Depth in the tree (lists only)"},
            },
        },
        "DepartmentInput": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "name": {"type": "string"},
                "kind": {"enum": ["office", "department", "unit"]},
                "parent_id": nullable_int,
                "head_id": {**nullable_int, "description": "An active user; null for none"},
                "active": {"type": "boolean", "description": "PATCH only"},
            },
        },
        "Correspondent": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "kind": {"enum": ["organisation", "person"]},
                "code": nullable_str,
                "contact_person": {"type": "string"},
                "email": {"type": "string"},
                "phone": {"type": "string"},
                "address": {"type": "string"},
                "notes": {"type": "string"},
                "active": {"type": "boolean"},
            },
        },
        "Token": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "user_id": {"type": "integer"},
                "name": {"type": "string"},
                "prefix": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time"},
                "expires_at": {"type": ["string", "null"], "format": "date-time"},
                "revoked_at": {"type": ["string", "null"], "format": "date-time"},
                "last_used_at": {"type": ["string", "null"], "format": "date-time"},
                "token": {"type": "string", "description": "The secret; returned once, on creation"},
            },
        },
        "NewToken": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "days": {"type": "integer", "minimum": 0, "maximum": 3650}},
        },
        "AuditEvent": {
            "type": "object",
            "properties": {
                "seq": {"type": "integer"},
                "occurred_at": {"type": "string", "format": "date-time"},
                "actor_id": nullable_int,
                "acting_for_id": nullable_int,
                "action": {"type": "string"},
                "object_type": {"type": "string"},
                "object_id": nullable_str,
                "before": {},
                "after": {},
                "withheld": {
                    "type": "boolean",
                    "description": "True when before/after are hidden: the document is classified above the caller",
                },
                "client_addr": nullable_str,
                "hash": {"type": "string"},
                "prev_hash": {"type": "string"},
            },
        },
        "ChainReport": {
            "type": "object",
            "properties": {
                "intact": {"type": "boolean"},
                "checked": {"type": "integer"},
                "problems": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"seq": {"type": "integer"}, "message": {"type": "string"}},
                    },
                },
            },
        },
    }
    paths = {
        "/openapi.json": {
            "get": {
                "summary": "This description of the API (no token needed)",
                "tags": ["meta"],
                "security": [],
                "responses": {"200": _ok(schema={"type": "object"})},
            }
        },
        "/me": {"get": _op("The token's user", _ok("User"), tag="users")},
        "/users": {
            "get": _op(
                "List users",
                _ok(schema=_page_of("User")),
                role="admin",
                tag="users",
                params=[
                    _query("q", {"type": "string"}, "Text in the username or name"),
                    _query("department_id", {"type": "integer"}),
                    _query("role", {"type": "string"}),
                    _query("active", {"type": "boolean"}),
                    *PAGING,
                ],
            ),
            "post": _op(
                "Create a user",
                _ok("User", description="Created"),
                role="admin",
                body="NewUser",
                status="201",
                tag="users",
            ),
        },
        "/users/{user_id}": {
            "get": _op("Get a user", _ok("User"), role="admin", params=[_path("user_id")], tag="users"),
            "patch": _op(
                "Change a user (deactivate with active=false)",
                _ok("User"),
                role="admin",
                params=[_path("user_id")],
                body="UserChanges",
                tag="users",
            ),
        },
        "/users/{user_id}/password": {
            "post": _op(
                "Reset a user's password",
                _ok(description="Reset"),
                role="admin",
                params=[_path("user_id")],
                body="Password",
                status="204",
                tag="users",
            ),
        },
        "/users/{user_id}/substitutions": {
            "get": _op(
                "List a user's acting substitutes",
                _ok(schema=_list_of("Substitution")),
                role="admin",
                params=[_path("user_id")],
                tag="users",
            ),
            "post": _op(
                "Name an acting substitute for a date range",
                _ok("Substitution", description="Created"),
                role="admin",
                params=[_path("user_id")],
                body="NewSubstitution",
                status="201",
                tag="users",
            ),
        },
        "/substitutions/{substitution_id}/cancel": {
            "post": _op(
                "Cancel a substitution",
                _ok("Substitution"),
                role="admin",
                params=[_path("substitution_id")],
                tag="users",
            ),
        },
        "/departments": {
            "get": _op(
                "List departments in tree order",
                _ok(schema=_list_of("Department")),
                tag="departments",
                params=[_query("include_inactive", {"type": "boolean"})],
            ),
            "post": _op(
                "Create a department",
                _ok("Department", description="Created"),
                role="admin",
                body="DepartmentInput",
                status="201",
                tag="departments",
            ),
        },
        "/departments/{department_id}": {
            "get": _op("Get a department", _ok("Department"), params=[_path("department_id")], tag="departments"),
            "patch": _op(
                "Change or (de)activate a department",
                _ok("Department"),
                role="admin",
                params=[_path("department_id")],
                body="DepartmentInput",
                tag="departments",
            ),
        },
        "/correspondents": {
            "get": _op(
                "Search the address book",
                _ok(schema=_page_of("Correspondent")),
                tag="correspondents",
                params=[
                    _query("q", {"type": "string"}),
                    _query("kind", {"enum": ["organisation", "person"]}),
                    _query("active", {"type": "boolean"}),
                    *PAGING,
                ],
            ),
            "post": _op(
                "Add a correspondent",
                _ok("Correspondent", description="Created"),
                role="admin or clerk",
                body="Correspondent",
                status="201",
                tag="correspondents",
            ),
        },
        "/correspondents/{correspondent_id}": {
            "get": _op(
                "Get a correspondent", _ok("Correspondent"), params=[_path("correspondent_id")], tag="correspondents"
            ),
            "patch": _op(
                "Change a correspondent (retire with active=false)",
                _ok("Correspondent"),
                role="admin or clerk",
                params=[_path("correspondent_id")],
                body="Correspondent",
                tag="correspondents",
            ),
        },
        "/tokens": {
            "get": _op("List the caller's API tokens", _ok(schema=_list_of("Token")), tag="tokens"),
            "post": _op(
                "Create an API token for the caller",
                _ok("Token", description="Created; holds the secret"),
                body="NewToken",
                status="201",
                tag="tokens",
            ),
        },
        "/tokens/{token_id}": {
            "delete": _op(
                "Revoke a token (own, or anyone's for an admin)",
                _ok(description="Revoked"),
                params=[_path("token_id")],
                status="204",
                tag="tokens",
            ),
        },
        "/audit-events": {
            "get": _op(
                "List audit events, newest first",
                _ok(schema=_page_of("AuditEvent")),
                role="admin",
                tag="audit",
                params=[
                    _query("action", {"type": "string"}, "Prefix of the action, e.g. user."),
                    _query("actor_id", {"type": "integer"}),
                    _query("object_type", {"type": "string"}),
                    _query("object_id", {"type": "string"}),
                    _query("since", {"type": "string", "format": "date-time"}),
                    _query("until", {"type": "string", "format": "date-time"}),
                    *PAGING,
                ],
            ),
        },
        "/audit-events/verify": {
            "get": _op("Verify the hash chain of the audit log", _ok("ChainReport"), role="admin", tag="audit"),
        },
    }
    schemas.update(_register_schemas())
    paths.update(_register_paths())
    schemas.update(_search_schemas())
    paths.update(_search_paths())
    schemas.update(_notification_schemas())
    paths.update(_notification_paths())
    schemas.update(_calendar_schemas())
    paths.update(_calendar_paths())
    schemas.update(routing_schemas())
    paths.update(routing_paths())
    schemas.update(directive_schemas())
    paths.update(directive_paths())
    schemas.update(archive_schemas())
    paths.update(archive_paths())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Docstore API",
            "version": "1",
            "description": "Every capability of Docstore. Authenticate with 'Authorization: Bearer <token>'; "
            "create tokens on the account page or with 'flask --app app create-token'. Errors are JSON: "
            '{"error": {"code", "message", "fields"?}}.',
        },
        "servers": [{"url": prefix}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": paths,
    }


# --- the registers ---------------------------------------------------------------------------------------------

NEW_DOCUMENT_SCHEMAS = {
    "incoming": "NewIncomingDocument",
    "outgoing": "NewOutgoingDocument",
    "internal": "NewInternalDocument",
}
REQUIRED_TO_REGISTER = {
    "incoming": ["series_id", "title", "received_at", "channel"],
    "outgoing": ["series_id", "title", "department_id", "main_recipients"],
    "internal": ["series_id", "title"],
}


def _registration_properties() -> dict:
    """Return the JSON Schema of every field of a registration (`registry.Registration`)."""
    nullable_int = {"type": ["integer", "null"]}
    day = {"type": ["string", "null"], "format": "date"}
    target = {
        "type": "object",
        "description": 'A correspondent or one of our departments: {"correspondent_id": 1} or {"department_id": 2}',
        "properties": {"correspondent_id": {"type": "integer"}, "department_id": {"type": "integer"}},
        "minProperties": 1,
        "maxProperties": 1,
    }
    return {
        "series_id": {"type": "integer", "description": "A register of this direction (GET /series)"},
        "title": {"type": "string", "maxLength": 500},
        "document_type_id": {**nullable_int, "description": "GET /document-types"},
        "urgency": {"enum": list(URGENCIES), "default": "normal"},
        "classification": {"type": "integer", "minimum": 0, "maximum": 3, "default": 0},
        "pages": {**nullable_int, "minimum": 1, "maximum": 100_000},
        "copies": {**nullable_int, "minimum": 1, "maximum": 100_000},
        "department_id": {**nullable_int, "description": "The department in charge (outgoing: the issuing one)"},
        "deadline": day,
        "summary": {"type": "string", "maxLength": 10_000},
        "notes": {"type": "string", "maxLength": 10_000},
        "received_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "ISO 8601; without an offset it is the office's local time",
        },
        "channel": {"enum": list(CHANNELS)},
        "correspondent_id": {**nullable_int, "description": "The sender, from the address book"},
        "new_correspondent_name": {
            "type": "string",
            "maxLength": 300,
            "description": "A sender to add to the address book (or match by exact name) without correspondent_id",
        },
        "sender_reference": {"type": "string", "maxLength": 120},
        "sender_date": day,
        "signer_id": nullable_int,
        "document_date": day,
        "sent_on": day,
        "main_recipients": {"type": "array", "items": target},
        "copy_recipients": {"type": "array", "items": target},
    }


def _register_schemas() -> dict:
    """Return the schemas of the registers: series, document types, documents, attachments and receipts."""
    nullable_str = {"type": ["string", "null"]}
    nullable_int = {"type": ["integer", "null"]}
    instant = {"type": ["string", "null"], "format": "date-time"}
    fields = _registration_properties()
    schemas = {
        "Series": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "code": {"type": "string"},
                "name": {"type": "string"},
                "direction": {"enum": list(DIRECTIONS)},
                "pattern": {
                    "type": "string",
                    "description": "e.g. IN-{year}-{seq:6}; tokens {year} {seq} {dept} {code}",
                },
                "department_id": nullable_int,
                "active": {"type": "boolean"},
            },
        },
        "NewSeries": {
            "type": "object",
            "required": ["code", "name", "direction", "pattern"],
            "properties": {
                "code": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,32}$"},
                "name": {"type": "string"},
                "direction": {"enum": list(DIRECTIONS)},
                "pattern": {"type": "string"},
                "department_id": nullable_int,
            },
        },
        "SeriesChanges": {
            "type": "object",
            "description": "Numbers already given never change",
            "properties": {
                "name": {"type": "string"},
                "pattern": {"type": "string"},
                "department_id": nullable_int,
                "active": {"type": "boolean"},
            },
        },
        "DocumentType": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "code": {"type": "string"},
                "name": {"type": "string"},
                "active": {"type": "boolean"},
                "position": {"type": "integer"},
            },
        },
        "Recipient": {
            "type": "object",
            "properties": {
                "role": {"enum": ["main", "copy"]},
                "correspondent_id": nullable_int,
                "department_id": nullable_int,
            },
        },
        "Attachment": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "filename": {"type": "string"},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "size": {"type": "integer"},
                "mime": {"type": "string", "description": "Sniffed from the content, not taken from the client"},
                "kind": {"type": "string"},
                "extraction_state": {"enum": list(EXTRACTION_STATES)},
                "extraction_reason": {"type": "string"},
                "text_chars": nullable_int,
                "page_count": nullable_int,
                "content_url": {"type": "string", "description": "Where to download the bytes"},
            },
        },
        "Document": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "number": {"type": "string"},
                "series_id": {"type": "integer"},
                "series_code": {"type": "string"},
                "year": {"type": "integer"},
                "seq": {"type": "integer"},
                "direction": {"enum": list(DIRECTIONS)},
                "status": {"enum": list(STATUSES)},
                "registered_at": {"type": "string", "format": "date-time"},
                "registered_by_id": nullable_int,
                **{name: fields[name] for name in registry.EDITABLE_FIELDS},
                "channel": {"enum": [*CHANNELS, None]},
                "void_reason": {"type": "string"},
                "voided_at": instant,
                "voided_by_id": nullable_int,
                "updated_at": instant,
                "recipients": {"type": "array", "items": _ref("Recipient")},
                "attachments": {"type": "array", "items": _ref("Attachment")},
            },
        },
        "DocumentChanges": {
            "type": "object",
            "description": "Only the fields of the document's direction; number, register and direction never change",
            "properties": {name: fields[name] for name in registry.EDITABLE_FIELDS},
        },
        "Void": {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
        "Receipt": {
            "type": "object",
            "properties": {
                "number": {"type": "string"},
                "register": {"type": "string"},
                "registered_at": {"type": "string", "format": "date-time"},
                "received_at": instant,
                "sender": nullable_str,
                "sender_reference": {"type": "string"},
                "title": {"type": "string"},
                "department": nullable_str,
                "status": {"enum": list(STATUSES)},
                "void_reason": {"type": "string"},
                "attachments": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "filename": {"type": "string"},
                            "size": {"type": "integer"},
                            "sha256": {"type": "string"},
                        },
                    },
                },
            },
        },
    }
    for direction, name in NEW_DOCUMENT_SCHEMAS.items():
        schemas[name] = {
            "type": "object",
            "required": REQUIRED_TO_REGISTER[direction],
            "properties": {field: fields[field] for field in registry.fields_for(direction)},
        }
    return schemas


def _files(description: str) -> dict:
    return {"type": "array", "items": {"type": "string", "format": "binary"}, "description": description}


def _register_paths() -> dict:
    """Return the operations on the registers."""
    by_clerk = "admin or clerk"
    hidden = "A document the caller may not open is 404, as if it did not exist."
    created = {
        "description": "Registered",
        "headers": {"Location": {"schema": {"type": "string"}, "description": "The new document"}},
        **_json(_ref("Document")),
    }
    paths = {
        "/series": {
            "get": _op(
                "List the registers",
                _ok(schema=_list_of("Series")),
                tag="registers",
                params=[
                    _query("direction", {"enum": list(DIRECTIONS)}),
                    _query("include_inactive", {"type": "boolean"}),
                ],
            ),
            "post": _op(
                "Create a register",
                _ok("Series", description="Created"),
                role="admin",
                body="NewSeries",
                status="201",
                tag="registers",
            ),
        },
        "/series/{series_id}": {
            "patch": _op(
                "Rename, renumber from now on, or (de)activate a register",
                _ok("Series"),
                role="admin",
                params=[_path("series_id")],
                body="SeriesChanges",
                tag="registers",
            ),
        },
        "/document-types": {
            "get": _op(
                "List the document types",
                _ok(schema=_list_of("DocumentType")),
                tag="registers",
                params=[_query("include_inactive", {"type": "boolean"})],
            ),
        },
        "/documents": {
            "get": _op(
                "List the register entries the caller may open",
                _ok(schema=_page_of("Document")),
                tag="documents",
                params=[
                    _query("series_id", {"type": "integer"}),
                    _query("direction", {"enum": list(DIRECTIONS)}),
                    _query("year", {"type": "integer"}, "The numbering year"),
                    _query("document_type_id", {"type": "integer"}),
                    _query("urgency", {"enum": list(URGENCIES)}),
                    _query("correspondent_id", {"type": "integer"}, "The sender"),
                    _query("department_id", {"type": "integer"}),
                    _query("status", {"enum": list(STATUSES)}),
                    _query("since", {"type": "string", "format": "date"}, "Registered on or after this day"),
                    _query("until", {"type": "string", "format": "date"}, "Registered on or before this day"),
                    _query("q", {"type": "string"}, "Text in the number, title or sender's reference"),
                    _query("sort", {"enum": list(registry.SORTS), "default": "-number"}),
                    *PAGING,
                ],
            ),
        },
        "/documents/{document_id}": {
            "get": _op(
                "Get a register entry. " + hidden, _ok("Document"), params=[_path("document_id")], tag="documents"
            ),
            "patch": _op(
                "Change the fields of a register entry (409 when it is void)",
                _ok("Document"),
                role=by_clerk,
                params=[_path("document_id")],
                body="DocumentChanges",
                tag="documents",
            ),
        },
        "/documents/{document_id}/void": {
            "post": _op(
                "Cancel a number, saying why; it stays in the register (409 when already void)",
                _ok("Document"),
                role=by_clerk,
                params=[_path("document_id")],
                body="Void",
                tag="documents",
            ),
        },
        "/documents/{document_id}/attachments": {
            "post": _op(
                "Attach files to a register entry (each refused file is named in error.fields.attachments)",
                _ok(schema=_list_of("Attachment"), description="Attached"),
                role=by_clerk,
                params=[_path("document_id")],
                status="201",
                tag="documents",
            ),
        },
        "/documents/{document_id}/receipt": {
            "get": _op(
                "The registration receipt, with the SHA-256 of every file kept",
                _ok("Receipt"),
                params=[_path("document_id")],
                tag="documents",
            ),
        },
        "/attachments/{attachment_id}/content": {
            "get": _op(
                "Download an attachment's bytes (ETag: its SHA-256). " + hidden,
                {
                    "description": "The bytes, with the stored MIME type and file name (Content-Disposition)",
                    "headers": {"ETag": {"schema": {"type": "string"}, "description": "The SHA-256, quoted"}},
                    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                },
                params=[_path("attachment_id")],
                tag="documents",
            ),
        },
    }
    paths["/documents/{document_id}/attachments"]["post"]["requestBody"] = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": {"file": _files("The files")}}
            }
        },
    }
    for direction, schema in NEW_DOCUMENT_SCHEMAS.items():
        operation = _op(
            f"Register an {direction} document and give it its number",
            created,
            role=by_clerk,
            status="201",
            tag="documents",
        )
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": _ref(schema)},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["data"],
                        "properties": {
                            "data": {"type": "string", "description": f"The fields, as JSON ({schema})"},
                            "file": _files("Attachments (each refused file is named in error.fields.attachments)"),
                        },
                    },
                    "encoding": {"data": {"contentType": "application/json"}},
                },
            },
        }
        paths[f"/documents/{direction}"] = {"post": operation}
    return paths


# --- notifications ---------------------------------------------------------------------------------------------


def _notification_schemas() -> dict:
    """Return the schemas of a user's notifications and of marking them as read."""
    return {
        "Notification": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "kind": {"enum": list(notifications.KINDS), "description": "What it is about; decides the wording"},
                "label": {"type": "string", "description": "A short heading, in the request's language"},
                "message": {"type": "string", "description": "The notification, in the request's language"},
                "params": {"type": "object", "description": "The values the message is worded with"},
                "document": {
                    "type": ["object", "null"],
                    "description": "The document it is about, when there is one and the caller may open it",
                    "properties": {
                        "id": {"type": "integer"},
                        "number": {"type": "string"},
                        "title": {"type": "string"},
                        "url": {"type": "string", "description": "The document in the API"},
                    },
                },
                "created_at": {"type": "string", "format": "date-time"},
                "read_at": {"type": ["string", "null"], "format": "date-time", "description": "null: unread"},
            },
        },
        "NotificationPage": {
            "type": "object",
            "required": ["items", "page", "per_page", "total", "unread"],
            "properties": {
                **_page_of("Notification")["properties"],
                "unread": {"type": "integer", "description": "All the caller's unread notifications"},
            },
        },
        "MarkRead": {
            "type": "object",
            "description": 'Either "ids" or "all": true',
            "properties": {
                "ids": {"type": "array", "items": {"type": "integer"}, "maxItems": notifications.MAX_IDS},
                "all": {"type": "boolean"},
            },
        },
        "MarkedRead": {
            "type": "object",
            "required": ["marked", "unread"],
            "properties": {
                "marked": {"type": "integer", "description": "Notifications that were unread and now are read"},
                "unread": {"type": "integer", "description": "The caller's unread notifications left"},
            },
        },
    }


def _notification_paths() -> dict:
    """Return the operations on the caller's own notifications."""
    return {
        "/notifications": {
            "get": _op(
                "List the caller's notifications, newest first",
                _ok("NotificationPage"),
                tag="notifications",
                params=[_query("unread", {"type": "boolean"}, "Only the unread ones"), *PAGING],
            )
        },
        "/notifications/read": {
            "post": _op(
                "Mark some or all of the caller's notifications as read (others' ids are ignored)",
                _ok("MarkedRead"),
                body="MarkRead",
                tag="notifications",
            )
        },
    }


# --- search ----------------------------------------------------------------------------------------------------


def _search_schemas() -> dict:
    """Return the schemas of a full-text search's answer."""
    return {
        "SearchHit": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "number": {"type": "string"},
                "title": {"type": "string"},
                "title_html": {"type": "string", "description": "The title, escaped, with matches in <mark>"},
                "snippet_html": {
                    "type": "string",
                    "description": "A passage of the summary, notes or attachments, escaped, with matches in <mark>",
                },
                "registered_at": {"type": "string", "format": "date-time"},
                "series": {"type": "integer", "description": "The register's id, as the series filter takes it"},
                "series_code": {"type": "string"},
                "direction": {"enum": list(DIRECTIONS)},
                "status": {"enum": list(STATUSES)},
                "url": {"type": "string", "description": "The document in the API (GET /documents/{document_id})"},
            },
        },
        "FacetValue": {
            "type": "object",
            "properties": {
                "value": {"type": "string", "description": "What to pass in the facet's filter"},
                "label": {"type": "string", "description": "The name to show, in the request's language"},
                "count": {"type": "integer", "description": "Matching documents the caller may open"},
                "selected": {"type": "boolean"},
            },
        },
        "SearchResults": {
            "type": "object",
            "required": ["query", "total", "page", "per_page", "pages", "results", "facets", "suggestion"],
            "properties": {
                "query": {"type": "string"},
                "total": {"type": "integer", "description": "Matching documents the caller may open"},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "pages": {"type": "integer"},
                "results": {"type": "array", "items": _ref("SearchHit")},
                "facets": {
                    "type": "object",
                    "description": "Facet name -> its values among the matches, most frequent first",
                    "properties": {
                        name: {"type": "array", "items": _ref("FacetValue")} for name in fulltext.FACET_TITLES
                    },
                },
                "suggestion": {
                    "type": ["string", "null"],
                    "description": "The query with unknown words replaced by close ones, when nothing was found",
                },
            },
        },
    }


def _search_paths() -> dict:
    """Return the full-text search operation."""
    ids = {"type": "array", "items": {"type": "integer"}}
    operation = _op(
        "Search the full text of the documents the caller may open",
        _ok("SearchResults"),
        tag="documents",
        params=[
            _query("q", {"type": "string", "maxLength": 1000}, "What to look for (needed unless a filter is given)"),
            _query("series", ids, "Register ids (repeat for several)"),
            _query("year", ids, "Numbering years"),
            _query("type", ids, "Document type ids"),
            _query("urgency", {"type": "array", "items": {"enum": list(URGENCIES)}}),
            _query("status", {"type": "array", "items": {"enum": list(STATUSES)}}),
            _query("department", ids, "Department ids"),
            _query("sender", ids, "Correspondent ids"),
            _query("files", {"type": "array", "items": {"enum": ["yes", "no"]}}, "With or without attachments"),
            _query("date_from", {"type": "string", "format": "date"}, "Registered on or after this day"),
            _query("date_until", {"type": "string", "format": "date"}, "Registered on or before this day"),
            _query(
                "sort",
                {"enum": list(fulltext.SORTS)},
                "Default: relevance with q, otherwise -registered (newest first)",
            ),
            *PAGING,
        ],
    )
    operation["description"] = (
        'q takes words, "phrases", AND/OR/NOT, prefixes (gest*) and number:, sender:, recipient:, title:. '
        "A filter's values are alternatives; different filters must all hold. Hits, total and facet counts cover "
        "only documents the caller may open. A query that cannot be used is 422, explained in error.fields.q; "
        "while the index is rebuilt the answer is 503 (code search_unavailable) with Retry-After."
    )
    operation["responses"]["503"] = {
        "description": "The search index is being rebuilt; everything else works (see Retry-After)",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
        **_json(_ref("Error")),
    }
    return {"/search": {"get": operation}}


# --- the working-day calendar ----------------------------------------------------------------------------------


def _calendar_schemas() -> dict:
    """Return the schemas of the calendar: its days, a year, a deadline and an import."""
    day = {"type": "string", "format": "date"}
    days = {"type": "integer", "minimum": 0, "maximum": workdays.MAX_DAYS}
    return {
        "CalendarDay": {
            "type": "object",
            "properties": {
                "day": day,
                "kind": {"enum": list(CALENDAR_DAY_KINDS), "description": "workday: a make-up working day"},
                "name": {"type": "string"},
            },
        },
        "CalendarDayInput": {
            "type": "object",
            "required": ["kind", "name"],
            "properties": {
                "kind": {"enum": list(CALENDAR_DAY_KINDS)},
                "name": {"type": "string", "maxLength": workdays.NAME_LENGTH},
            },
        },
        "CalendarYear": {
            "type": "object",
            "properties": {
                "year": {"type": "integer"},
                "week": {
                    "type": "array",
                    "items": {"enum": list(workdays.WEEKDAYS)},
                    "description": "The working weekdays (the WORK_WEEK setting)",
                },
                "deadline_days": {
                    "type": "object",
                    "description": "Default deadline in working days by urgency (the DEADLINE_DAYS_* settings)",
                    "properties": {urgency: days for urgency in URGENCIES},
                },
                "days": {"type": "array", "items": _ref("CalendarDay"), "description": "In date order"},
            },
        },
        "Deadline": {
            "type": "object",
            "properties": {
                "from": day,
                "counts_from": {**day, "description": "The first working day from `from` (the same day if it works)"},
                "days": days,
                "urgency": {"enum": [*URGENCIES, None]},
                "deadline": {**day, "description": "The days-th working day after counts_from"},
            },
        },
        "CalendarImport": {
            "type": "object",
            "required": ["lines"],
            "properties": {
                "lines": {
                    "type": "string",
                    "description": "One day a line: DATE [holiday|workday] NAME, or DATE..DATE [holiday|workday] NAME "
                    "for every day of a range; empty lines and lines starting with # are skipped",
                },
                "replace": {"type": "boolean", "description": "Remove the year's days not listed"},
            },
        },
        "CalendarImportOutcome": {
            "type": "object",
            "properties": {name: {"type": "integer"} for name in ("added", "changed", "unchanged", "removed")},
        },
    }


def _calendar_paths() -> dict:
    """Return the operations of the working-day calendar."""
    year = _path("year")
    working_days = {"type": "integer", "minimum": 0, "maximum": workdays.MAX_DAYS}
    day = {"name": "day", "in": "path", "required": True, "schema": {"type": "string", "format": "date"}}
    importing = _op(
        "Add or change several days of a year; nothing is saved when a line is wrong",
        _ok("CalendarImportOutcome"),
        role="admin",
        tag="calendar",
        params=[year],
        body="CalendarImport",
    )
    importing["responses"]["422"] = {
        "description": "Lines that cannot be read: error.fields has one entry per line ('line 3')",
        **_json(_ref("Error")),
    }
    put = _op(
        "Make a date a holiday or a make-up working day (changed if the calendar has it)",
        _ok("CalendarDay", description="Changed"),
        role="admin",
        tag="calendar",
        params=[day],
        body="CalendarDayInput",
    )
    put["responses"]["201"] = _ok("CalendarDay", description="Added")
    return {
        "/calendar/{year}": {
            "get": _op(
                "The working week, the default deadlines and the year's exceptions",
                _ok("CalendarYear"),
                tag="calendar",
                params=[year],
            ),
        },
        "/calendar/{year}/import": {"post": importing},
        "/calendar/days/{day}": {
            "put": put,
            "delete": _op(
                "Remove a date from the calendar: its weekday's rule applies again",
                _ok(description="Removed"),
                role="admin",
                tag="calendar",
                params=[day],
                status="204",
            ),
        },
        "/calendar/deadline": {
            "get": _op(
                "Work out a deadline in working days: a non-working start counts from the next working day",
                _ok("Deadline"),
                tag="calendar",
                params=[
                    _query(
                        "from",
                        {"type": "string"},
                        "YYYY-MM-DD, or a date and time (office time without an offset); default: today in the office",
                    ),
                    _query("days", working_days, "Working days (give this or urgency)"),
                    _query("urgency", {"enum": list(URGENCIES)}, "Use the default deadline of this urgency"),
                ],
            ),
        },
    }
