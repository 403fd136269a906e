"""Helpers shared by the blueprints: who is acting, permissions, translation of domain messages, paging."""

from __future__ import annotations

from datetime import date
from functools import wraps

from flask import abort, current_app, request
from flask_login import current_user, login_required
from wtforms import Form

from docstore import accounts, audit, clock, numbering
from docstore.errors import ValidationFailed
from docstore.messages import clearance_names, translate  # noqa: F401  (clearance_names: for the pages)

#: The interface languages, each with its name in itself (never translated).
LANGUAGES = {"en": "English", "es": "Español", "zh_Hans": "简体中文"}


def audit_context() -> audit.Context:
    """Return the audit context of the current request."""
    actor = current_user.id if current_user.is_authenticated else None
    return audit.Context(actor_id=actor, client_addr=request.remote_addr)


def office_today() -> date:
    """Return today's date in the office's time zone."""
    return numbering.office_date(clock.now(), current_app.config["OFFICE_TIMEZONE"])


def password_min_length() -> int:
    return current_app.config["PASSWORD_MIN_LENGTH"]


def sign_in_policy() -> accounts.SignInPolicy:
    config = current_app.config
    return accounts.SignInPolicy(
        max_failures=config["LOGIN_MAX_FAILURES"],
        max_failures_per_address=config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
        window_minutes=config["LOGIN_WINDOW_MINUTES"],
    )


def roles_required(*roles: str):
    """Let only signed-in users holding one of `roles` reach the view; others get 403."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def page_number() -> int:
    """Return the ?page= of the request (1 when missing or invalid)."""
    value = request.args.get("page", "1")
    return int(value) if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID else 1


def page_size() -> int:
    return current_app.config["PAGE_SIZE"]


def form_status(form: Form) -> int:
    """Return the status of a form page: 422 when it comes back with errors, 200 when it is shown afresh."""
    return 422 if form.is_submitted() else 200


def show_errors(form: Form, failure: ValidationFailed) -> None:
    """Attach the domain's field errors to the form's fields (others go to the form itself)."""
    for name, message in failure.errors.items():
        field = getattr(form, name, None)
        text = translate(message)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*(field.errors or []), text]
        else:
            form.form_errors.append(text)


#: Larger numbers cannot be database ids (the integer columns hold 32 bits).
MAX_ID = 2**31 - 1


def optional_int(value: str | None) -> int | None:
    """Return `value` as an int, or None when it is empty or not a number."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and int(value) <= MAX_ID else None
