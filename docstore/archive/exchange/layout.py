"""The layout of an exchange package, and what export and import share: constants, JSON, dates, classes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select

from docstore import clock
from docstore.archive import scheme
from docstore.extensions import db
from docstore.models import ArchiveClass

#: The version of the package layout, in bag-info.txt as Docstore-Package-Format.
FORMAT = "1"
FORMAT_LABEL = "Docstore-Package-Format"
#: Records read or written together (one query each for their files, documents, events...); progress per CHUNK.
CHUNK = 200
#: Audit events of a record that are access logs, not its history; and the import's own, which is in the history.
IMPORTED = "archive_record.imported"
NOT_HISTORY = ("archive_record.viewed", "archive_record.downloaded", IMPORTED)
XML_NAMESPACE = "urn:docstore:archive-record:1"

Progress = Callable[[int, int], None]


def iso(value: date | datetime | None) -> str | None:
    """Return a date, or an instant in UTC, as ISO 8601 text (None stays None)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return clock.as_utc(value).isoformat()
    return value.isoformat()


def instant(value: str | None) -> datetime | None:
    """Return the aware UTC instant of ISO 8601 text (None stays None)."""
    return None if value is None else clock.as_utc(datetime.fromisoformat(value))


def day(value: str | None) -> date | None:
    """Return the date of ISO 8601 text (None stays None)."""
    return None if value is None else date.fromisoformat(value)


def canonical_json(value) -> bytes:
    """Return `value` as the package writes JSON: sorted keys, UTF-8 as is, indented by 2, ending with a newline."""
    return (json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def class_path(node: ArchiveClass) -> str:
    """Return the code path of a class of the file plan, from its fonds: "J001/WS/ZD"."""
    return "/".join(n.code for n in scheme.ancestry(node))


def find_class(path: str) -> ArchiveClass | None:
    """Return the class at the code path `path` ("J001/WS"), if the file plan has it."""
    node = None
    for code in [part for part in (path or "").strip().strip("/").split("/") if part]:
        parent = ArchiveClass.parent_id.is_(None) if node is None else ArchiveClass.parent_id == node.id
        node = db.session.scalar(select(ArchiveClass).where(parent, ArchiveClass.code == code.strip()))
        if node is None:
            return None
    return node
