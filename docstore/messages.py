"""Translate domain messages (`errors.Msg`) into the request's language; shared by the pages and the API.

Like the extensions module, this one imports Flask (through Flask-Babel): domain code builds messages, and only
the edges — web, API, CLI — turn them into text.
"""

from __future__ import annotations

from flask_babel import gettext

from docstore.errors import Msg


def translate(message: Msg | str) -> str:
    """Return a domain message in the user's language (messages nested as parameters are translated too)."""
    if isinstance(message, Msg):
        if not message.params:
            return gettext(message.text)
        params = {key: translate(value) if isinstance(value, Msg) else value for key, value in message.params.items()}
        return gettext(message.text, **params)
    return gettext(message)
