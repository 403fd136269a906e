"""The browser face of Docstore: blueprints, language, security headers and error pages."""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime

from flask import Flask, current_app, flash, g, make_response, redirect, render_template, request, session, url_for
from flask_babel import Babel, format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from docstore import accounts, clock, database, extraction, indexing, mail, numbering
from docstore.api import API_PREFIX, json_error
from docstore.errors import DocstoreError, Msg, NotFound
from docstore.extensions import db, login_manager
from docstore.models import (
    CALENDAR_DAY_KINDS,
    CHANNELS,
    CORRESPONDENT_KINDS,
    DEPARTMENT_KINDS,
    DIRECTIONS,
    ROLES,
    STATUSES,
    URGENCIES,
)
from docstore.notifications import unread_count
from docstore.routing import start_reminder_scheduler
from docstore.web import (
    account,
    admin,
    archive,
    assets,
    auth,
    chase,
    correspondents,
    dashboard,
    directives,
    main,
    notifications,
    registers,
    routing,
    search,
    tasks,
)
from docstore.web.common import LANGUAGES, clearance_names, translate

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "object-src 'none'; frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def browser_locale() -> str | None:
    """Return the first interface language the browser asks for, if any."""
    for value, _quality in request.accept_languages:
        tag = value.lower().replace("_", "-")
        if tag.startswith("zh"):
            return "zh_Hans"
        if tag.startswith("es"):
            return "es"
        if tag.startswith("en"):
            return "en"
    return None


def select_locale() -> str:
    """Return the language of this request: the user's choice, then the session's, then the browser's."""
    if current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    if session.get("locale") in LANGUAGES:
        return session["locale"]
    return browser_locale() or current_app.config["DEFAULT_LOCALE"]


def format_file_size(size: int) -> str:
    """Return a byte count as the user's locale writes it (1.2 MB)."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{format_decimal(size / scale, '#,##0.#')} {unit}"
    return f"{format_decimal(size)} B"


DATE_KEYS = {"deadline", "sender_date", "document_date", "sent_on", "starts_on", "ends_on", "day"}
DATETIME_KEYS = {"received_at", "expires_at", "revoked_at"}


def history_value(value, key: str) -> str:
    """Return a value of an audit event's field as the user reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key == "roles" and isinstance(value, list):
        return ", ".join(translate(ROLES.get(role, role)) for role in value)
    if isinstance(value, list):
        return ", ".join(translate(item) if isinstance(item, Msg) else str(item) for item in value)
    if isinstance(value, Msg):  # made readable by docstore.history already: a label, a day or an instant
        return translate(value)
    if isinstance(value, datetime):
        return format_datetime(value, "medium")
    if isinstance(value, date):
        return format_date(value, "medium")
    if key in ("classification", "clearance") and isinstance(value, int) and 0 <= value < 4:
        return clearance_names()[value]
    labels = {"urgency": URGENCIES, "channel": CHANNELS, "status": STATUSES, "direction": DIRECTIONS}.get(key)
    if labels is not None and value in labels:
        return translate(labels[value])
    if key == "kind" and value in DEPARTMENT_KINDS | CORRESPONDENT_KINDS | CALENDAR_DAY_KINDS:
        return translate((DEPARTMENT_KINDS | CORRESPONDENT_KINDS | CALENDAR_DAY_KINDS)[value])
    if key == "locale":
        return LANGUAGES.get(value, value)
    try:
        if key in DATE_KEYS:
            return format_date(date.fromisoformat(value), "medium")
        if key in DATETIME_KEYS:
            return format_datetime(datetime.fromisoformat(value), "medium")
    except (TypeError, ValueError):
        pass
    return str(value)


def _unread_notifications() -> int:
    """Return the signed-in user's unread notifications for the header's bell (counted once per request)."""
    if "unread_notifications" not in g:
        g.unread_notifications = unread_count(current_user) if current_user.is_authenticated else 0
    return g.unread_notifications


def register_web(app: Flask, babel: Babel) -> None:
    """Attach the pages, the language selection, the headers and the error pages to `app`."""
    babel.init_app(app, locale_selector=select_locale)
    login_manager.login_view = "auth.sign_in"
    login_manager.session_protection = "basic"
    login_manager.user_loader(accounts.load_session_user)

    @login_manager.unauthorized_handler
    def _ask_to_sign_in():
        if request.path != "/":  # the home page itself needs no explanation
            flash(_("Please sign in to see this page."), "info")
        target = request.full_path.rstrip("?") if request.path != "/" else None
        return redirect(url_for("auth.sign_in", next=target))

    app.config["PERMANENT_SESSION_LIFETIME"] = app.config["SESSION_HOURS"] * 3600
    app.config["REMEMBER_COOKIE_DURATION"] = app.config["REMEMBER_DAYS"] * 86400

    for module in (
        auth,
        main,
        account,
        admin,
        correspondents,
        registers,
        routing,
        tasks,
        chase,
        dashboard,
        directives,
        archive,
        search,
        notifications,
        assets,
    ):
        app.register_blueprint(module.bp)

    worker_lock = threading.Lock()

    @app.before_request
    def _start_extraction_worker():
        if app.config["EXTRACTION_WORKER"] and "docstore_worker" not in app.extensions:
            with worker_lock:
                if "docstore_worker" not in app.extensions:
                    app.extensions["docstore_worker"] = extraction.start_embedded_worker(app)

    @app.before_request
    def _start_mail_sender():
        if app.config["MAIL_SENDER"] and app.config["SMTP_HOST"] and "docstore_mail_sender" not in app.extensions:
            with worker_lock:
                if "docstore_mail_sender" not in app.extensions:
                    app.extensions["docstore_mail_sender"] = mail.start_embedded_sender(app)

    @app.before_request
    def _start_reminder_scheduler():
        if app.config["REMINDERS"] and "docstore_reminders" not in app.extensions:
            with worker_lock:
                if "docstore_reminders" not in app.extensions:
                    app.extensions["docstore_reminders"] = start_reminder_scheduler(app)

    @app.before_request
    def _start_search_writer():
        if app.config["SEARCH_WRITER"] and "docstore_search_writer" not in app.extensions:
            with worker_lock:
                if "docstore_search_writer" not in app.extensions:
                    app.extensions["docstore_search_writer"] = indexing.start_embedded_writer(app)

    @app.before_request
    def _declare_reads():
        g.immediate_token = database.set_immediate(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.teardown_request
    def _forget_reads(_exc):
        token = g.pop("immediate_token", None)
        if token is not None:
            database.reset_immediate(token)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["SECURE_COOKIES"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if current_user.is_authenticated and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.context_processor
    def _template_globals():
        return {
            "unread_notifications": _unread_notifications,
            "LANGUAGES": LANGUAGES,
            "ROLES": ROLES,
            "DEPARTMENT_KINDS": DEPARTMENT_KINDS,
            "CORRESPONDENT_KINDS": CORRESPONDENT_KINDS,
            "DIRECTIONS": DIRECTIONS,
            "CHANNELS": CHANNELS,
            "URGENCIES": URGENCIES,
            "STATUSES": STATUSES,
            "clearance_names": clearance_names(),
            "current_locale": str(get_locale()),
            "html_lang": str(get_locale()).replace("_", "-"),
        }

    app.jinja_env.filters["msg"] = translate
    app.jinja_env.filters["history_value"] = history_value
    app.jinja_env.filters["office_date"] = lambda value: numbering.office_date(
        clock.as_utc(value), app.config["OFFICE_TIMEZONE"]
    )
    app.jinja_env.filters["role_names"] = lambda roles: ", ".join(translate(ROLES[role]) for role in sorted(roles))
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": format_datetime(value, fmt) if value else ""
    app.jinja_env.filters["date"] = lambda value, fmt="medium": format_date(value, fmt) if value else ""
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["filesize"] = lambda size: format_file_size(size or 0)

    def error_page(status: int, title: str, message: str):
        if request.path.startswith(API_PREFIX):
            return json_error(status, None, message)
        return render_template("errors/error.html", status=status, title=title, message=message), status

    @app.errorhandler(DocstoreError)
    def _domain_error(exc: DocstoreError):
        title = _("Page not found") if isinstance(exc, NotFound) else _("This cannot be done")
        return error_page(exc.status, title, translate(exc.msg))

    @app.errorhandler(CSRFError)
    def _csrf_error(_exc):
        return error_page(400, _("The form expired"), _("Go back, reload the page and send the form again."))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        titles = {
            403: (_("Not allowed"), _("You do not have permission to see this page.")),
            404: (_("Page not found"), _("There is nothing at this address. Check it, or go back to the home page.")),
            405: (_("Not allowed"), _("This address does not accept this kind of request.")),
            413: (_("Too large"), _("What you sent is larger than the office accepts.")),
        }
        title, message = titles.get(exc.code, (_("Something went wrong"), _("The request could not be handled.")))
        response = make_response(error_page(exc.code or 500, title, message))
        for name, value in exc.get_headers():  # e.g. Allow on 405, which clients rely on
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http_error(exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return error_page(
            500,
            _("Something went wrong"),
            _("The error was recorded. Nothing you sent was half-saved: try again, or tell an administrator."),
        )
