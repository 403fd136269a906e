"""The JSON API under /api/v1: token authentication, JSON errors with stable codes, one view per operation.

The shared parts (the blueprint, errors, authentication, request parsing) are in `docstore.api.common`; the routing
of incoming documents is in `docstore.api.routing`; outgoing directives in `docstore.api.directives`; the archive in
`docstore.api.archive`; the OpenAPI description in `docstore.api.openapi`.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from flask import Flask, current_app, g, jsonify, request, send_file, url_for
from flask_wtf import CSRFProtect

from docstore import (
    accounts,
    audit,
    clock,
    correspondents,
    database,
    extraction,
    fulltext,
    history,
    notifications,
    numbering,
    organisation,
    registry,
    workdays,
)
from docstore.api import archive as _archive  # noqa: F401  (its views register themselves on the blueprint)
from docstore.api import directives as _directives  # noqa: F401  (its views register themselves on the blueprint)
from docstore.api import routing as _routing  # noqa: F401  (its views register themselves on the blueprint)
from docstore.api.common import (
    API_PREFIX,
    MAX_PER_PAGE,
    _body,
    _checked_object,
    _choice_arg,
    _ctx,
    _date_value,
    _datetime_arg,
    _datetime_value,
    _flag,
    _int_arg,
    _json_value,
    _office_zone,
    _page_json,
    _paging,
    _translate,
    authenticated,
    bp,
    json_error,
    recipient_target,
)
from docstore.api.openapi import build_spec
from docstore.archive import records
from docstore.errors import N_, Msg, ValidationFailed
from docstore.models import DIRECTIONS, ROLES, STATUSES, URGENCIES, Attachment, Document

__all__ = ["API_PREFIX", "json_error", "register_api"]


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


def _event_json(event, withheld: bool = False) -> dict:
    """Return an audit event as the API shows it; `withheld` hides its values (see `history.withheld_events`)."""
    return {
        "seq": event.seq,
        "occurred_at": clock.as_utc(event.occurred_at).isoformat(),
        "actor_id": event.actor_id,
        "acting_for_id": event.acting_for_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": None if withheld else audit.decode(event.before),
        "after": None if withheld else audit.decode(event.after),
        "withheld": withheld,
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
    page = audit.list_events(criteria, *_paging())
    withheld = history.withheld_events(page.items, g.api_user)
    return _page_json(page, lambda e: _event_json(e, e.id in withheld))


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


# --- registers -------------------------------------------------------------------------------------------------

CLERKS = registry.CLERK_ROLES
DATE_FIELDS = ("deadline", "sender_date", "document_date", "sent_on")
RECIPIENT_FIELDS = ("main_recipients", "copy_recipients")
#: The columns of a register entry that the API shows, besides its recipients and attachments.
DOCUMENT_FIELDS = (
    "number",
    "series_id",
    "year",
    "seq",
    "direction",
    "status",
    "registered_at",
    "registered_by_id",
    *registry.EDITABLE_FIELDS,
    "void_reason",
    "voided_at",
    "voided_by_id",
    "updated_at",
)


def attachment_json(attachment: Attachment) -> dict:
    """Return an attachment as the API shows it, with the address of its bytes."""
    return attachment.as_dict() | {
        "content_url": url_for("api.attachment_content", attachment_id=attachment.id),
    }


def document_json(document: Document) -> dict:
    """Return a register entry as the API shows it: its number, every field, its recipients and attachments."""
    return {
        "id": document.id,
        **{name: _json_value(getattr(document, name)) for name in DOCUMENT_FIELDS},
        "series_code": document.series.code,
        "recipients": [
            {"role": r.role, "correspondent_id": r.correspondent_id, "department_id": r.department_id}
            for r in document.recipients
        ],
        "attachments": [attachment_json(attachment) for attachment in document.attachments],
    }


def receipt_json(document: Document) -> dict:
    """Return what the printed registration receipt shows, with the SHA-256 of every file kept."""
    return {
        "number": document.number,
        "register": document.series.name,
        "registered_at": _json_value(document.registered_at),
        "received_at": _json_value(document.received_at),
        "sender": document.correspondent.name if document.correspondent else None,
        "sender_reference": document.sender_reference,
        "title": document.title,
        "department": document.department.name if document.department else None,
        "status": document.status,
        "void_reason": document.void_reason,
        "attachments": [{"filename": a.filename, "size": a.size, "sha256": a.sha256} for a in document.attachments],
    }


def _file_store():
    return extraction.file_store(current_app.config)


def _field_values(data: dict) -> dict:
    """Return register-entry fields sent as JSON with their dates, times and recipients parsed; report every bad one."""
    values, errors = dict(data), {}
    for name in DATE_FIELDS:
        try:
            values[name] = _date_value(data, name)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    try:
        values["received_at"] = _datetime_value(data, "received_at")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    for name in RECIPIENT_FIELDS:
        targets = [recipient_target(item) for item in data.get(name) or []]
        if None in targets:
            errors[name] = Msg(N_("A recipient is not in the address book or the organisation."))
        values[name] = targets
    if errors:
        raise ValidationFailed(errors)
    return {name: value for name, value in values.items() if name in data}


def _registration_request(direction: str) -> tuple[registry.Registration, list[registry.Upload]]:
    """Return the registration and the files of this request: a JSON body, or multipart with `data` and `file`s."""
    allowed = registry.fields_for(direction)
    if request.mimetype != "multipart/form-data":
        return registry.Registration(**_field_values(_body(allowed))), []
    raw = request.form.get("data")
    if raw is None and "data" in request.files:  # curl -F data=@entry.json sends it as a file
        raw = request.files["data"].read()
    try:
        data = json.loads(raw or "")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ValidationFailed({"data": Msg(N_("Send the fields as a JSON object in the part named data."))})
    fields = _field_values(_checked_object(data, allowed))
    return registry.Registration(**fields), registry.uploads_from(request.files.getlist("file"))


def _day_start_arg(name: str, days_later: int = 0) -> datetime | None:
    """Return the start (in office time) of the day given as ?name=YYYY-MM-DD, moved `days_later`."""
    day = _date_value({name: request.args.get(name) or None}, name)
    if day is None:
        return None
    return numbering.office_day_start(day + timedelta(days=days_later), current_app.config["OFFICE_TIMEZONE"])


@bp.get("/series")
@authenticated()
def list_series():
    direction = _choice_arg("direction", DIRECTIONS)
    rows = registry.list_series(direction or None, include_inactive=_flag("include_inactive") or False)
    return jsonify({"items": [series.as_dict() for series in rows]})


@bp.post("/series")
@authenticated("admin")
def create_series():
    data = _body(("code", "name", "direction", "pattern", "department_id"))
    return jsonify(registry.create_series(_ctx(), **data).as_dict()), 201


@bp.patch("/series/<int:series_id>")
@authenticated("admin")
def update_series(series_id: int):
    data = _body(("name", "pattern", "department_id", "active"))
    return jsonify(registry.update_series(_ctx(), series_id, data).as_dict())


@bp.get("/document-types")
@authenticated()
def list_document_types():
    rows = registry.document_types(include_inactive=_flag("include_inactive") or False)
    return jsonify({"items": [document_type.as_dict() for document_type in rows]})


@bp.post("/documents/incoming", defaults={"direction": "incoming"})
@bp.post("/documents/outgoing", defaults={"direction": "outgoing"})
@bp.post("/documents/internal", defaults={"direction": "internal"})
@authenticated(*CLERKS)
def register_document(direction: str):
    data, files = _registration_request(direction)
    policy = registry.upload_policy(current_app.config)
    document = registry.register_document(_ctx(), direction, data, files, policy, _file_store())
    extraction.wake()
    response = jsonify(document_json(document))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_document", document_id=document.id)
    return response


@bp.get("/documents")
@authenticated()
def list_documents():
    criteria = registry.DocumentFilter(
        series_id=_int_arg("series_id"),
        direction=_choice_arg("direction", DIRECTIONS),
        year=_int_arg("year"),
        document_type_id=_int_arg("document_type_id"),
        urgency=_choice_arg("urgency", URGENCIES),
        correspondent_id=_int_arg("correspondent_id"),
        department_id=_int_arg("department_id"),
        status=_choice_arg("status", STATUSES),
        registered_from=_day_start_arg("since"),
        registered_until=_day_start_arg("until", days_later=1),
        text=request.args.get("q", ""),
        sort=_choice_arg("sort", registry.SORTS) or registry.DEFAULT_SORT,
    )
    page = registry.list_documents(criteria, *_paging(), viewer=g.api_user, with_details=True)
    return _page_json(page, document_json)


@bp.get("/documents/<int:document_id>")
@authenticated()
def get_document(document_id: int):
    document = registry.get_document(document_id, viewer=g.api_user)
    if document.status == "archived":  # reading a filed document is logged on its record, as on its page
        database.write_after_reads(lambda: records.note_document_view(_ctx(), document))
    return jsonify(document_json(document))


@bp.patch("/documents/<int:document_id>")
@authenticated(*CLERKS)
def update_document(document_id: int):
    document = registry.get_document(document_id, viewer=g.api_user)
    values = _field_values(_body(registry.editable_fields(document.direction)))
    timezone = current_app.config["OFFICE_TIMEZONE"]
    return jsonify(document_json(registry.update_document(_ctx(), document.id, values, timezone)))


@bp.post("/documents/<int:document_id>/void")
@authenticated(*CLERKS)
def void_document(document_id: int):
    document = registry.get_document(document_id, viewer=g.api_user)
    data = _body(("reason",))
    return jsonify(document_json(registry.void_document(_ctx(), document.id, data.get("reason") or "")))


@bp.post("/documents/<int:document_id>/attachments")
@authenticated(*CLERKS)
def add_attachments(document_id: int):
    document = registry.get_document(document_id, viewer=g.api_user)
    files = registry.uploads_from(request.files.getlist("file"))
    policy = registry.upload_policy(current_app.config)
    rows = registry.attach_files(_ctx(), document.id, files, policy, _file_store())
    extraction.wake()
    return jsonify({"items": [attachment_json(row) for row in rows]}), 201


@bp.get("/documents/<int:document_id>/receipt")
@authenticated()
def get_receipt(document_id: int):
    return jsonify(receipt_json(registry.get_document(document_id, viewer=g.api_user)))


@bp.get("/attachments/<int:attachment_id>/content")
@authenticated()
def attachment_content(attachment_id: int):
    attachment, path = database.write_after_reads(  # a filed document's download is logged on its record
        lambda: records.open_attachment(_ctx(), attachment_id, g.api_user, _file_store())
    )
    return send_file(
        path,
        mimetype=attachment.mime,
        as_attachment=True,
        download_name=attachment.filename,
        conditional=True,
        etag=attachment.sha256,
    )


# --- search ----------------------------------------------------------------------------------------------------

#: The search facets whose values are words, with the words they take (the others take ids).
WORD_FACETS = {"urgency": tuple(URGENCIES), "status": tuple(STATUSES), "files": ("yes", "no")}
#: Seconds a client is asked to wait while the search index is rebuilt.
SEARCH_RETRY_SECONDS = 30


def _search_params() -> fulltext.Params:
    """Return the search of this request's query string; report every argument refused at once."""
    params, errors = fulltext.params_from(request.args, current_app.config["SEARCH_PAGE_SIZE"], MAX_PER_PAGE)
    for name, choices in WORD_FACETS.items():
        if any(value not in choices for value in params.filters.get(name, ())):
            errors[name] = Msg(N_("Use one of: %(choices)s."), choices=", ".join(choices))
    if "sort" in errors:  # the page's wording names its menu; a client needs the values
        errors["sort"] = Msg(N_("Use one of: %(choices)s."), choices=", ".join(fulltext.SORTS))
    for name in ("page", "per_page"):  # the page forgives a bad page number; the API refuses it, as its lists do
        try:
            _int_arg(name)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if not errors and params.empty:
        errors["q"] = Msg(fulltext.QUERY_PROBLEMS["empty"])
    if errors:
        raise ValidationFailed(errors)
    return params


def found_json(found: fulltext.Found) -> dict:
    """Return a search hit as the API shows it: the document's key fields, its marked title and passage."""
    document = found.document
    return {
        "id": document.id,
        "number": document.number,
        "title": document.title,
        "title_html": str(found.title),
        "snippet_html": str(found.snippet),
        "registered_at": _json_value(document.registered_at),
        "series": document.series_id,
        "series_code": document.series.code,
        "direction": document.direction,
        "status": document.status,
        "url": url_for("api.get_document", document_id=document.id),
    }


def facet_json(value: fulltext.FacetValue) -> dict:
    """Return a facet value as the API shows it, labelled in the request's language."""
    label = _translate(value.label) if isinstance(value.label, Msg) else value.label
    return {"value": value.value, "label": label, "count": value.count, "selected": value.selected}


@bp.get("/search")
@authenticated()
def search_documents():
    params = _search_params()
    outcome = fulltext.run(g.api_user, params, current_app.config, current_app._get_current_object())
    if outcome.rebuilding or outcome.failed:
        reason = fulltext.REBUILDING if outcome.rebuilding else fulltext.FAILED
        response = json_error(503, "search_unavailable", _translate(Msg(reason)))
        response.headers["Retry-After"] = str(SEARCH_RETRY_SECONDS)
        return response
    if outcome.problem is not None:
        raise ValidationFailed({"q": outcome.problem})
    return jsonify(
        {
            "query": params.text,
            "total": outcome.total,
            "page": params.page,
            "per_page": params.per_page,
            "pages": outcome.pages,
            "results": [found_json(found) for found in outcome.items],
            "facets": {name: [facet_json(value) for value in values] for name, values in outcome.facets.items()},
            "suggestion": outcome.suggestion,
        }
    )


# --- working-day calendar --------------------------------------------------------------------------------------


def calendar_day_json(row) -> dict:
    """Return a holiday or make-up working day as the API shows it."""
    return {"day": row.day.isoformat(), "kind": row.kind, "name": row.name}


def _path_day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed({"day": Msg(N_("Use a date written as YYYY-MM-DD."))}) from None


def _deadline_start(calendar: workdays.Calendar) -> date:
    """Return the day of ?from= (a date, or a date and time taken in office time); today in the office when absent."""
    raw = request.args.get("from", "")
    if not raw:
        return calendar.today()
    if "T" in raw:
        moment = _datetime_value(request.args, "from")
        return moment.astimezone(_office_zone()).date()
    return _date_value(request.args, "from")


def _days_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and int(raw) <= workdays.MAX_DAYS):
        raise ValidationFailed({name: Msg(N_("Enter a whole number from 0 to %(n)s."), n=workdays.MAX_DAYS)})
    return int(raw)


@bp.get("/calendar/<int:year>")
@authenticated()
def get_calendar(year: int):
    rules = workdays.rules_from(current_app.config)
    days = workdays.list_days(year)
    return jsonify(
        {
            "year": year,
            "week": workdays.week_names(rules.week),
            "deadline_days": dict(rules.deadline_days),
            "days": [calendar_day_json(row) for row in days],
        }
    )


@bp.get("/calendar/deadline")
@authenticated()
def get_deadline():
    calendar = workdays.calendar_for(current_app.config)
    start = _deadline_start(calendar)
    answer = calendar.deadline(start, _days_arg("days"), _choice_arg("urgency", URGENCIES) or None)
    return jsonify(
        {
            "from": answer.start.isoformat(),
            "counts_from": answer.counts_from.isoformat(),
            "days": answer.days,
            "urgency": answer.urgency,
            "deadline": answer.due.isoformat(),
        }
    )


@bp.put("/calendar/days/<day>")
@authenticated("admin")
def set_calendar_day(day: str):
    when = _path_day(day)
    data = _body(("kind", "name"))
    week = workdays.rules_from(current_app.config).week
    row, created = workdays.set_day(_ctx(), when, data.get("kind"), data.get("name"), week=week)
    return jsonify(calendar_day_json(row)), 201 if created else 200


@bp.delete("/calendar/days/<day>")
@authenticated("admin")
def remove_calendar_day(day: str):
    workdays.remove_day(_ctx(), _path_day(day))
    return "", 204


@bp.post("/calendar/<int:year>/import")
@authenticated("admin")
def import_calendar_days(year: int):
    data = _body(("lines", "replace"))
    week = workdays.rules_from(current_app.config).week
    outcome = workdays.import_days(_ctx(), year, data.get("lines") or "", data.get("replace") is True, week=week)
    return jsonify(
        {
            "added": outcome.added,
            "changed": outcome.changed,
            "unchanged": outcome.unchanged,
            "removed": outcome.removed,
        }
    )


# --- notifications ---------------------------------------------------------------------------------------------


def notification_json(shown: notifications.Shown) -> dict:
    """Return a notification as the API shows it, worded in the request's language."""
    notification, document = shown.notification, shown.document
    return {
        "id": notification.id,
        "kind": notification.kind,
        "label": _translate(shown.label),
        "message": _translate(shown.message),
        "params": notification.params,
        "document": None
        if document is None
        else {
            "id": document.id,
            "number": document.number,
            "title": document.title,
            "url": url_for("api.get_document", document_id=document.id),
        },
        "created_at": _json_value(notification.created_at),
        "read_at": _json_value(notification.read_at),
    }


@bp.get("/notifications")
@authenticated()
def list_notifications():
    page = notifications.list_notifications(g.api_user, *_paging(), unread_only=_flag("unread") or False)
    return jsonify(
        {
            "items": [notification_json(item) for item in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "unread": notifications.unread_count(g.api_user),
        }
    )


@bp.post("/notifications/read")
@authenticated()
def mark_notifications_read():
    data = _body(("ids", "all"))
    if data.get("all") is True and "ids" not in data:
        marked = notifications.mark_all_read(g.api_user)
    elif "ids" in data and "all" not in data:
        marked = notifications.mark_read(g.api_user, data["ids"])
    else:
        raise ValidationFailed({"ids": Msg(N_('Send either "ids": [...] or "all": true.'))})
    return jsonify({"marked": marked, "unread": notifications.unread_count(g.api_user)})


def register_api(app: Flask, csrf: CSRFProtect) -> None:
    """Attach the API to `app`; it authenticates by token, not cookie, so it needs no CSRF token."""
    csrf.exempt(bp)
    app.register_blueprint(bp)
