"""The JSON API under /api/v1: token authentication, JSON errors with stable codes, one view per operation."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import wraps
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, g, jsonify, request
from flask_wtf import CSRFProtect

from docstore import accounts, audit, clock, correspondents, organisation
from docstore.api.openapi import build_spec
from docstore.errors import N_, DocstoreError, Msg, TokenRefused, ValidationFailed
from docstore.extensions import db
from docstore.messages import translate
from docstore.models import ROLES
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


def _ctx() -> audit.Context:
    return audit.Context(actor_id=g.api_user.id, client_addr=request.remote_addr)


# --- request parsing -------------------------------------------------------------------------------------------


#: Python type of a parsed JSON value -> its JSON Schema type name.
JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}


def _json_types(schema: dict) -> set[str]:
    """Return the JSON types `schema` allows (empty: any)."""
    if "enum" in schema:
        return {JSON_TYPES.get(type(option), "null") for option in schema["enum"]}
    allowed = schema.get("type", [])
    return {allowed} if isinstance(allowed, str) else set(allowed)


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
    if mistyped:
        raise ValidationFailed(mistyped)
    return data


def _paging() -> tuple[int, int]:
    def number(name: str, default: int) -> int:
        raw = request.args.get(name, str(default))
        if not raw.isdigit() or int(raw) < 1:
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
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationFailed({name: Msg(N_("Use a whole number from 1."))})
    return int(raw)


def _date_value(data: dict, name: str) -> date | None:
    raw = data.get(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except (TypeError, ValueError):
        raise ValidationFailed({name: Msg(N_("Use a date written as YYYY-MM-DD."))}) from None


def _datetime_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed({name: Msg(N_("Use a date and time in ISO 8601."))}) from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(current_app.config["OFFICE_TIMEZONE"]))


def _page_json(page: Page, render=lambda item: item.as_dict()):
    return jsonify(
        {
            "items": [render(item) for item in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
        }
    )


# --- the spec and the caller -----------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_spec(API_PREFIX))


@bp.get("/me")
@authenticated()
def me():
    return jsonify(g.api_user.as_dict())


# --- users -----------------------------------------------------------------------------------------------------

USER_CREATE_FIELDS = ("username", "full_name", "password", "email", "department_id", "roles", "clearance", "locale")


@bp.get("/users")
@authenticated("admin")
def list_users():
    role = request.args.get("role", "")
    if role and role not in ROLES:
        raise ValidationFailed({"role": Msg(N_("Unknown role: %(roles)s."), roles=role)})
    criteria = accounts.UserFilter(
        text=request.args.get("q", ""),
        department_id=_int_arg("department_id"),
        role=role,
        active=_flag("active"),
    )
    return _page_json(accounts.list_users(criteria, *_paging()))


@bp.post("/users")
@authenticated("admin")
def create_user():
    data = _body(USER_CREATE_FIELDS)
    user = accounts.create_user(
        _ctx(),
        username=str(data.get("username") or ""),
        full_name=str(data.get("full_name") or ""),
        password=str(data.get("password") or ""),
        password_min_length=current_app.config["PASSWORD_MIN_LENGTH"],
        email=data.get("email"),
        department_id=data.get("department_id"),
        roles=data.get("roles") or [],
        clearance=data.get("clearance", 0),
        locale=data.get("locale"),
    )
    return jsonify(user.as_dict()), 201


@bp.get("/users/<int:user_id>")
@authenticated("admin")
def get_user(user_id: int):
    return jsonify(accounts.get_user(user_id).as_dict())


@bp.patch("/users/<int:user_id>")
@authenticated("admin")
def update_user(user_id: int):
    data = _body(accounts.USER_FIELDS)
    if "roles" in data and not isinstance(data["roles"], list):
        raise ValidationFailed({"roles": Msg(N_("Send a list of role names."))})
    return jsonify(accounts.update_user(_ctx(), user_id, data).as_dict())


@bp.post("/users/<int:user_id>/password")
@authenticated("admin")
def reset_password(user_id: int):
    data = _body(("password",))
    accounts.set_password(_ctx(), user_id, str(data.get("password") or ""), current_app.config["PASSWORD_MIN_LENGTH"])
    return "", 204


@bp.get("/users/<int:user_id>/substitutions")
@authenticated("admin")
def list_substitutions(user_id: int):
    accounts.get_user(user_id)
    return jsonify({"items": [s.as_dict() for s in accounts.substitutions_of(user_id)]})


@bp.post("/users/<int:user_id>/substitutions")
@authenticated("admin")
def add_substitution(user_id: int):
    data = _body(("substitute_id", "starts_on", "ends_on", "reason"))
    substitution = accounts.add_substitution(
        _ctx(),
        user_id,
        data.get("substitute_id"),
        _date_value(data, "starts_on"),
        _date_value(data, "ends_on"),
        str(data.get("reason") or ""),
    )
    return jsonify(substitution.as_dict()), 201


@bp.post("/substitutions/<int:substitution_id>/cancel")
@authenticated("admin")
def cancel_substitution(substitution_id: int):
    return jsonify(accounts.cancel_substitution(_ctx(), substitution_id).as_dict())


# --- departments -----------------------------------------------------------------------------------------------


@bp.get("/departments")
@authenticated()
def list_departments():
    include_inactive = _flag("include_inactive") or False
    rows = organisation.department_tree(include_inactive=include_inactive)
    return jsonify({"items": [row.department.as_dict() | {"depth": row.depth} for row in rows]})


@bp.post("/departments")
@authenticated("admin")
def create_department():
    data = _body(organisation.DEPARTMENT_FIELDS)
    return jsonify(organisation.create_department(_ctx(), **data).as_dict()), 201


@bp.get("/departments/<int:department_id>")
@authenticated()
def get_department(department_id: int):
    return jsonify(organisation.get_department(department_id).as_dict())


@bp.patch("/departments/<int:department_id>")
@authenticated("admin")
def update_department(department_id: int):
    data = _body((*organisation.DEPARTMENT_FIELDS, "active"))
    return jsonify(organisation.update_department(_ctx(), department_id, data).as_dict())


# --- correspondents --------------------------------------------------------------------------------------------


@bp.get("/correspondents")
@authenticated()
def list_correspondents():
    criteria = correspondents.CorrespondentFilter(
        text=request.args.get("q", ""), kind=request.args.get("kind", ""), active=_flag("active")
    )
    return _page_json(correspondents.search_correspondents(criteria, *_paging()))


@bp.post("/correspondents")
@authenticated("admin", "clerk")
def create_correspondent():
    data = _body(tuple(name for name in correspondents.Correspondent.FIELDS if name != "active"))
    return jsonify(correspondents.create_correspondent(_ctx(), **data).as_dict()), 201


@bp.get("/correspondents/<int:correspondent_id>")
@authenticated()
def get_correspondent(correspondent_id: int):
    return jsonify(correspondents.get_correspondent(correspondent_id).as_dict())


@bp.patch("/correspondents/<int:correspondent_id>")
@authenticated("admin", "clerk")
def update_correspondent(correspondent_id: int):
    data = _body(correspondents.Correspondent.FIELDS)
    return jsonify(correspondents.update_correspondent(_ctx(), correspondent_id, data).as_dict())


# --- tokens ----------------------------------------------------------------------------------------------------


@bp.get("/tokens")
@authenticated()
def list_tokens():
    return jsonify({"items": [token.as_dict() for token in accounts.list_tokens(g.api_user.id)]})


@bp.post("/tokens")
@authenticated()
def create_token():
    data = _body(("name", "days"))
    days = data.get("days", current_app.config["TOKEN_DAYS"])
    token, secret = accounts.create_token(_ctx(), g.api_user.id, str(data.get("name") or ""), days)
    return jsonify(token.as_dict() | {"token": secret}), 201


@bp.delete("/tokens/<int:token_id>")
@authenticated()
def revoke_token(token_id: int):
    accounts.revoke_token(_ctx(), token_id, g.api_user)
    return "", 204


# --- audit log -------------------------------------------------------------------------------------------------


def _event_json(event) -> dict:
    return {
        "seq": event.seq,
        "occurred_at": clock.as_utc(event.occurred_at).isoformat(),
        "actor_id": event.actor_id,
        "acting_for_id": event.acting_for_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": audit.decode(event.before),
        "after": audit.decode(event.after),
        "client_addr": event.client_addr,
        "hash": event.chain_hash,
        "prev_hash": event.prev_hash,
    }


@bp.get("/audit-events")
@authenticated("admin")
def list_audit_events():
    criteria = audit.EventFilter(
        action=request.args.get("action", ""),
        actor_id=_int_arg("actor_id"),
        object_type=request.args.get("object_type", ""),
        object_id=request.args.get("object_id", ""),
        since=_datetime_arg("since"),
        until=_datetime_arg("until"),
    )
    return _page_json(audit.list_events(criteria, *_paging()), _event_json)


@bp.get("/audit-events/verify")
@authenticated("admin")
def verify_audit_events():
    report = audit.verify_chain()
    return jsonify(
        {
            "intact": report.intact,
            "checked": report.checked,
            "problems": [{"seq": seq, "message": _translate(message)} for seq, message in report.findings],
        }
    )


def register_api(app: Flask, csrf: CSRFProtect) -> None:
    """Attach the API to `app`; it authenticates by token, not cookie, so it needs no CSRF token."""
    csrf.exempt(bp)
    app.register_blueprint(bp)
