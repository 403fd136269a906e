"""Make a user-supplied file name safe to keep and to offer back for download."""

from __future__ import annotations

import unicodedata

from storage.errors import BadFilename

MAX_NAME_BYTES = 255
MAX_EXTENSION_CHARS = 16
# Bidirectional overrides and isolates make "report\u202efdp.exe" display as "reportexe.pdf".
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def safe_filename(name: str | None) -> str:
    """Return `name` as a safe file name: NFC-normalised, trimmed, at most 255 bytes of UTF-8.

    Raise `BadFilename` for a name with a path separator or a control character, or one that is empty or only dots.
    A name too long is shortened in its stem, keeping the extension.
    """
    name = unicodedata.normalize("NFC", name or "").strip()
    if "/" in name or "\\" in name:
        raise BadFilename(f"a file name cannot contain a path separator: {name!r}")
    if any(unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS for char in name):
        raise BadFilename(f"a file name cannot contain control characters: {name!r}")
    if not name.strip("."):
        raise BadFilename(f"not a usable file name: {name!r}")
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > MAX_EXTENSION_CHARS:
        stem, extension = name, ""
    suffix = f".{extension}" if extension else ""
    room = MAX_NAME_BYTES - len(suffix.encode())
    # Cutting the UTF-8 bytes may split a character: drop the broken tail rather than emit half of it.
    shortened = stem.encode()[:room].decode(errors="ignore").rstrip()
    return shortened + suffix
