"""The building blocks of the OpenAPI description: references, JSON bodies, pages, parameters and operations."""

from __future__ import annotations


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _page_of(name: str) -> dict:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": _ref(name)},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
    }


def _list_of(name: str) -> dict:
    return {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": _ref(name)}}}


ERRORS = {
    "400": {"description": "Malformed request", **_json(_ref("Error"))},
    "401": {"description": "Missing, unknown, expired or revoked token", **_json(_ref("Error"))},
    "403": {"description": "The token's user lacks the role", **_json(_ref("Error"))},
    "404": {"description": "No such object", **_json(_ref("Error"))},
    "409": {"description": "Conflicts with the current state", **_json(_ref("Error"))},
    "422": {"description": "Invalid fields (see error.fields)", **_json(_ref("Error"))},
}

PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
]


def _query(name: str, schema: dict, description: str = "") -> dict:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _op(
    summary: str,
    ok: dict,
    *,
    role: str = "",
    params: list | None = None,
    body: str | None = None,
    status: str = "200",
    tag: str = "",
) -> dict:
    operation = {
        "summary": summary + (f" (role: {role})" if role else ""),
        "tags": [tag] if tag else [],
        "parameters": params or [],
        "responses": {status: ok, **ERRORS},
    }
    if body:
        operation["requestBody"] = {"required": True, **_json(_ref(body))}
    return operation


def _ok(schema_name: str | None = None, schema: dict | None = None, description: str = "OK") -> dict:
    if schema_name is None and schema is None:
        return {"description": description}
    return {"description": description, **_json(schema or _ref(schema_name))}
