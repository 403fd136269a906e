"""Named domain failures, and the messages they carry.

Domain code does not import Flask, so it cannot translate. It builds messages as `Msg` (an English text marked for
translation with `N_`, plus its parameters); the web layer and the API translate them into the user's language and
map each failure class to one HTTP status, in one place each.
"""

from __future__ import annotations

from typing import Any


def N_(text: str) -> str:
    """Mark `text` for translation without translating it (the web layer translates it later)."""
    return text


class Msg:
    """A user-facing message: an English text with ``%(name)s`` placeholders, and the values to put in them."""

    __slots__ = ("text", "params")

    def __init__(self, text: str, /, **params: Any):
        self.text = text
        self.params = params

    def __str__(self) -> str:
        return self.text % self.params if self.params else self.text

    @classmethod
    def join(cls, messages: list[Msg]) -> Msg:
        """Return several messages as one, each still translated on its own."""
        if len(messages) == 1:
            return messages[0]
        parts = {f"part{n}": message for n, message in enumerate(messages)}
        return cls(" ".join(f"%({name})s" for name in parts), **parts)

    def __repr__(self) -> str:
        return f"Msg({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and (self.text, self.params) == (other.text, other.params)


class DocstoreError(Exception):
    """Base of every failure the user is told about; `code` is stable and used by the API."""

    code = "error"
    status = 400

    def __init__(self, message: str | Msg):
        self.msg = message if isinstance(message, Msg) else Msg(message)
        super().__init__(str(self.msg))


class ValidationFailed(DocstoreError):
    """Input broke one or more rules; `errors` maps field names to messages."""

    code = "validation_failed"
    status = 422

    def __init__(self, errors: dict[str, Msg]):
        self.errors = errors
        super().__init__(Msg(N_("Please correct the marked fields.")))

    def __str__(self) -> str:
        return "; ".join(f"{name}: {message}" for name, message in self.errors.items())


class NotFound(DocstoreError):
    code = "not_found"
    status = 404


class Forbidden(DocstoreError):
    code = "forbidden"
    status = 403


class Conflict(DocstoreError):
    """The request is valid but clashes with the current state (a duplicate, an illegal step)."""

    code = "conflict"
    status = 409


class SignInRefused(DocstoreError):
    code = "sign_in_refused"
    status = 401


class SignInLocked(DocstoreError):
    code = "sign_in_locked"
    status = 429


class TokenRefused(DocstoreError):
    """An API token that is unknown, expired or revoked."""

    code = "invalid_token"
    status = 401


class StoredFileMissing(DocstoreError):
    """A file the database refers to is gone from the store (the integrity check reports it)."""

    code = "file_missing"
    status = 404


class NumberingConflict(Conflict):
    """A register produced a number that another register already gave (their patterns overlap)."""

    code = "numbering_conflict"


class TemplateInvalid(ValidationFailed):
    """An uploaded Word template cannot be used: unreadable, or with placeholders Docstore does not know."""

    code = "template_invalid"


class PdfUnavailable(DocstoreError):
    """PDF export needs LibreOffice, which is not installed (or failed on this file)."""

    code = "pdf_unavailable"
    status = 503


class RecordOnHold(Conflict):
    """A record under a legal hold cannot be disposed of until the hold is released."""

    code = "record_on_hold"


class RecordFiled(Conflict):
    """A filed record, and the documents in it, cannot change: add an annotation instead."""

    code = "record_filed"
