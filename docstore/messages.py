"""Translate domain messages (`errors.Msg`) into the request's language; shared by the pages and the API.

Like the extensions module, this one imports Flask (through Flask-Babel): domain code builds messages, and only
the edges — web, API, CLI — turn them into text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from flask import current_app
from flask_babel import force_locale, format_date, format_datetime, gettext

from docstore.errors import Msg
from docstore.models.people import CLEARANCE_LEVELS


def clearance_names() -> list[str]:
    """Return the four clearance level names in the user's language (or as configured: CLEARANCE_NAMES)."""
    configured = current_app.config.get("CLEARANCE_NAMES") or ""
    names = [name.strip() for name in configured.split("|") if name.strip()]
    if len(names) == len(CLEARANCE_LEVELS):
        return names
    return [gettext(name) for name in CLEARANCE_LEVELS]


def _parameter(value):
    """Return a message's parameter as the user reads it: messages translated, days and instants in their locale."""
    if isinstance(value, Msg):
        return translate(value)
    if isinstance(value, datetime):
        return format_datetime(value, "medium")
    if isinstance(value, date):
        return format_date(value, "medium")
    return value


def translate(message: Msg | str) -> str:
    """Return a domain message in the user's language (messages nested as parameters are translated too)."""
    if isinstance(message, Msg):
        if not message.params:
            return gettext(message.text)
        return gettext(message.text, **{key: _parameter(value) for key, value in message.params.items()})
    return gettext(message)


@contextmanager
def in_language(locale: str) -> Iterator[None]:
    """Translate into `locale` inside the block, whatever the request asked for (an e-mail to another user)."""
    with force_locale(locale):
        yield
