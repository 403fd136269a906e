"""What every part of the JSON API shares: the blueprint, JSON errors, token authentication and request parsing."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import wraps
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, jsonify, request

from docstore import accounts, audit, clock
from docstore.api.openapi import build_spec
from docstore.errors import N_, DocstoreError, Msg, TokenRefused, ValidationFailed
from docstore.extensions import db
from docstore.messages import translate
from docstore.pagination import Page

API_PREFIX = "/api/v1"
MAX_PER_PAGE = 200

#: HTTP status -> the error code used when nothing more specific is known.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
}

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)


def _translate(message: Msg) -> str:
    return translate(message)


def json_error(status: int, code: str | None, message: str, fields: dict | None = None):
    """Return the JSON error response used by every API failure."""
    body = {"error": {"code": code or HTTP_CODES.get(status, "error"), "message": message}}
    if fields:
        body["error"]["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="docstore"'
    return response


@bp.errorhandler(DocstoreError)
def _domain_error(exc: DocstoreError):
    db.session.rollback()
    fields = {name: _translate(msg) for name, msg in exc.errors.items()} if isinstance(exc, ValidationFailed) else None
    return json_error(exc.status, exc.code, _translate(exc.msg), fields)


# --- authentication --------------------------------------------------------------------------------------------


def _bearer_secret() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise TokenRefused(Msg(N_("Send an API token as 'Authorization: Bearer <token>'.")))
    return secret.strip()


def authenticated(*roles: str):
    """Require a valid token (and, when given, one of `roles`); the user is then `g.api_user`."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            secret = _bearer_secret()
            g.api_user = accounts.authenticate_token(secret)
            accounts.touch_token(secret)
            if roles:
                accounts.require_role(g.api_user, *roles)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _ctx(acting_for_id: int | None = None) -> audit.Context:
    """Return the audit context of this request: its token's user, acting for `acting_for_id` when a substitute."""
    return audit.Context(actor_id=g.api_user.id, acting_for_id=acting_for_id, client_addr=request.remote_addr)


# --- request parsing -------------------------------------------------------------------------------------------


#: The whole numbers the database's INTEGER columns hold (PostgreSQL's are 32-bit); others are refused at the edge.
INT_RANGE = range(-(2**31), 2**31)

#: Python type of a parsed JSON value -> its JSON Schema type name.
JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}


def _json_types(schema: dict) -> set[str]:
    """Return the JSON types `schema` allows (empty: any)."""
    if "enum" in schema:
        return {JSON_TYPES.get(type(option), "null") for option in schema["enum"]}
    allowed = schema.get("type", [])
    return {allowed} if isinstance(allowed, str) else set(allowed)


def _fits_integer_columns(value) -> bool:
    """Return True when every whole number in `value` (a parsed JSON value) fits the database's INTEGER columns."""
    if isinstance(value, list | dict):
        return all(_fits_integer_columns(item) for item in (value.values() if isinstance(value, dict) else value))
    return not isinstance(value, int) or isinstance(value, bool) or value in INT_RANGE


def _has_json_type(value, schema: dict) -> bool:
    """Return True when `value` has a JSON type `schema` allows (values and ranges are the services' to check)."""
    allowed = _json_types(schema)
    kind = JSON_TYPES.get(type(value), "null")
    if allowed and kind not in allowed:
        return False
    return kind != "array" or all(_has_json_type(item, schema.get("items", {})) for item in value)


def _body_schema() -> dict:
    """Return the schema of this operation's JSON body, as the OpenAPI description documents it."""
    spec = build_spec(API_PREFIX)
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", request.url_rule.rule.removeprefix(API_PREFIX))
    ref = spec["paths"][path][request.method.lower()]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def _body(allowed: tuple[str, ...]) -> dict:
    """Return the JSON object of the request, keeping only `allowed` keys; reject anything else clearly.

    Each value must have the JSON type the API description gives it, so that the services get the types they expect.
    """
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed({"body": Msg(N_("Send a JSON object with Content-Type: application/json."))})
    return _checked_object(data, allowed)


def _checked_object(data: dict, allowed: tuple[str, ...]) -> dict:
    """Return `data`, this operation's JSON object, once its keys and the JSON types of its values are checked."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationFailed({name: Msg(N_("This field cannot be set.")) for name in unknown})
    properties = _body_schema().get("properties", {})
    mistyped = {}
    for name, value in data.items():
        schema = properties.get(name)
        if schema is not None and not _has_json_type(value, schema):
            types = ", ".join(sorted(_json_types(schema)))
            mistyped[name] = Msg(N_("Send a value of one of these JSON types: %(types)s."), types=types)
        elif not _fits_integer_columns(value):
            mistyped[name] = Msg(
                N_("Use a whole number from %(low)s to %(high)s."), low=INT_RANGE.start, high=INT_RANGE.stop - 1
            )
    if mistyped:
        raise ValidationFailed(mistyped)
    return data


def _paging() -> tuple[int, int]:
    def number(name: str, default: int) -> int:
        raw = request.args.get(name, str(default))
        if not _is_positive_int(raw):
            raise ValidationFailed({name: Msg(N_("Use a whole number from 1."))})
        return int(raw)

    return number("page", 1), min(number("per_page", current_app.config["PAGE_SIZE"]), MAX_PER_PAGE)


def _flag(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ValidationFailed({name: Msg(N_("Use true or false."))})


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not _is_positive_int(raw):
        raise ValidationFailed({name: Msg(N_("Use a whole number from 1."))})
    return int(raw)


def _is_positive_int(raw: str) -> bool:
    """Return True when `raw` is written with ASCII digits only and is a number from 1 that the database holds."""
    return raw.isascii() and raw.isdigit() and 1 <= int(raw) < INT_RANGE.stop


def _date_value(data: dict, name: str) -> date | None:
    raw = data.get(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except (TypeError, ValueError):
        raise ValidationFailed({name: Msg(N_("Use a date written as YYYY-MM-DD."))}) from None


def _office_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["OFFICE_TIMEZONE"])


def _datetime_value(data, name: str) -> datetime | None:
    """Return the ISO 8601 date and time `data[name]` as an aware datetime (office time when it has no offset)."""
    raw = data.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        raise ValidationFailed({name: Msg(N_("Use a date and time in ISO 8601."))}) from None
    return value if value.tzinfo else value.replace(tzinfo=_office_zone())


def _datetime_arg(name: str) -> datetime | None:
    return _datetime_value(request.args, name)


def _page_json(page: Page, render=lambda item: item.as_dict()):
    return jsonify(
        {
            "items": [render(item) for item in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
        }
    )


def _json_value(value):
    """Return a column value as JSON shows it: instants in UTC and days in ISO 8601."""
    if isinstance(value, datetime):
        return clock.as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _choice_arg(name: str, choices) -> str:
    value = request.args.get(name, "")
    if value and value not in choices:
        raise ValidationFailed({name: Msg(N_("Use one of: %(choices)s."), choices=", ".join(choices))})
    return value


#: The keys that name a recipient in JSON: one of our departments, or a correspondent of the address book.
RECIPIENT_TARGETS = ("correspondent_id", "department_id")


def recipient_target(item) -> tuple[str, int] | None:
    """Return {"correspondent_id": n} or {"department_id": n} as the services take it (None when malformed)."""
    if not isinstance(item, dict) or len(item) != 1:
        return None
    ((key, ident),) = item.items()
    if key not in RECIPIENT_TARGETS or type(ident) is not int:
        return None
    return key.removesuffix("_id"), ident
