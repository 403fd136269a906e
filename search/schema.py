"""What the index holds for a document: the `Entry` handed in by the application, and the Whoosh schema."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from whoosh import fields, formats
from whoosh.system import _INT_SIZE, unpack_uint

from search.analysis import code_analyzer, english_analyzer, folding_analyzer, spanish_analyzer

#: The facets a search can filter on and count: name -> the Entry attribute it comes from.
FACETS = ("series", "year", "type", "urgency", "status", "department", "sender", "files")


@dataclass(frozen=True)
class Entry:
    """One document as the index sees it. Identifiers are the database's; names are shown from the database."""

    id: int
    title: str
    text: str = ""  # everything else that is searched: summary, notes, names, file names, attachment texts
    codes: tuple[str, ...] = ()  # register number, sender's reference, …: matched exactly as written
    sender_name: str = ""
    recipient_names: str = ""
    series: int | None = None
    year: int | None = None
    type: int | None = None
    urgency: str = ""
    status: str = ""
    department: int | None = None
    sender: int | None = None
    files: bool = False
    registered: datetime | None = None
    level: int = 0  # classification: readers need at least this clearance
    owner: int | None = None  # who registered it (may always open it)
    #: Who handles it and may open it: `Access.user_handler(id)` for the user of a task or a reader,
    #: `Access.department_handler(id)` for a department's task ("u7", "d3"); in a stable order.
    handlers: tuple[str, ...] = field(default=())

    def stamp(self) -> str:
        """Return a digest of everything indexed: `check` compares it with the index's to find stale entries."""
        values = asdict(self)
        if self.registered is not None:
            values["registered"] = self.registered.isoformat()
        raw = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.blake2b(raw.encode("utf-8"), digest_size=12).hexdigest()


class Positions(formats.Positions):
    """Whoosh's positions format, read by its own encoding first.

    whoosh-ng 5.4 takes any value whose last byte is "." (0x2E) for a pickled value of Whoosh 2.7: the postings of a
    word at position 46 of a text (or 46 words after its previous occurrence) are then unpickled, and every phrase
    query that reaches them fails with UnpicklingError. The encoding written is unchanged.
    """

    def decode_positions(self, valuestring):
        positions = _varint_positions(valuestring)
        return self._decode_positions_legacy(valuestring) if positions is None else positions


def _varint_positions(value: bytes) -> list[int] | None:
    """Return the positions `formats.Positions.encode` wrote in `value`, or None when `value` is not one of those."""
    if len(value) < _INT_SIZE:
        return None
    (count,) = unpack_uint(value[:_INT_SIZE])
    positions, position, at = [], 0, _INT_SIZE
    for _ in range(count):
        delta, shift = 0, 0
        while True:
            if at >= len(value):
                return None
            byte = value[at]
            at += 1
            delta |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        position += delta
        positions.append(position)
    return positions if at == len(value) else None


def _phrase_text(**options) -> fields.TEXT:
    """Return a TEXT field that keeps positions (for phrases), read with `Positions`."""
    field = fields.TEXT(phrase=True, **options)
    field.format = Positions(field_boost=field.format.field_boost)
    return field


def _key(value) -> str:
    return "" if value is None else str(value)


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime(1970, 1, 1)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def build_schema() -> fields.Schema:
    """Return the schema of the index (changing it needs `flask search reindex`)."""
    fold = folding_analyzer()
    keyword = fields.ID(sortable=True)
    return fields.Schema(
        id=fields.ID(unique=True, stored=True),
        stamp=fields.STORED(),
        code=fields.TEXT(analyzer=code_analyzer(), phrase=False, field_boost=4.0),
        title=_phrase_text(analyzer=fold, field_boost=2.0, multitoken_query="phrase"),
        fold=_phrase_text(analyzer=fold, multitoken_query="phrase"),
        es=fields.TEXT(analyzer=spanish_analyzer(), phrase=False, field_boost=0.6, multitoken_query="and"),
        en=fields.TEXT(analyzer=english_analyzer(), phrase=False, field_boost=0.6, multitoken_query="and"),
        sender_name=_phrase_text(analyzer=fold, multitoken_query="phrase"),
        recipient=_phrase_text(analyzer=fold, multitoken_query="phrase"),
        series=keyword,
        year=fields.ID(sortable=True),
        type=fields.ID(sortable=True),
        urgency=fields.ID(sortable=True),
        status=fields.ID(sortable=True),
        department=fields.ID(sortable=True),
        sender=fields.ID(sortable=True),
        files=fields.ID(sortable=True),
        registered=fields.DATETIME(sortable=True),
        level=fields.NUMERIC(int),  # not bits=8: Whoosh range queries on 8-bit fields match everything
        owner=fields.ID(),
        handlers=fields.KEYWORD(),
    )


def to_fields(entry: Entry) -> dict:
    """Return the Whoosh document of `entry`."""
    everything = "\n".join(
        part for part in (entry.title, *entry.codes, entry.sender_name, entry.recipient_names, entry.text) if part
    )
    return {
        "id": str(entry.id),
        "stamp": entry.stamp(),
        "code": "\n".join(entry.codes),
        "title": entry.title,
        "fold": everything,
        "es": everything,
        "en": everything,
        "sender_name": entry.sender_name,
        "recipient": entry.recipient_names,
        "series": _key(entry.series),
        "year": _key(entry.year),
        "type": _key(entry.type),
        "urgency": entry.urgency,
        "status": entry.status,
        "department": _key(entry.department),
        "sender": _key(entry.sender),
        "files": "yes" if entry.files else "no",
        "registered": _utc(entry.registered),
        "level": int(entry.level),
        "owner": _key(entry.owner),
        "handlers": " ".join(str(h) for h in entry.handlers),
    }
