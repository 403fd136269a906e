"""The query language clerks type: words, "phrases", AND/OR/NOT, prefixes and a few named fields.

Every bare word is looked for in the title, the folded text, both stemmed texts and the exact numbers; all words
must match unless OR says otherwise. Named fields:

- ``number:`` (also ``ref:``, ``número:``, ``编号:`` …) — register and reference numbers, exactly as written;
- ``sender:`` (``remitente:``, ``来文单位:``) and ``recipient:`` — names of the sender and recipients;
- ``title:`` (``título:``, ``标题:``) — the title only.
"""

from __future__ import annotations

import re

from whoosh import qparser, query
from whoosh.qparser import syntax

from search.errors import QueryError

#: The fields a bare word is looked for in, with their weight.
TEXT_FIELDS = {"title": 2.0, "fold": 1.0, "es": 0.6, "en": 0.6, "code": 4.0}

#: The names a user may put before a colon -> the field searched.
FIELD_NAMES = {
    "number": "code",
    "num": "code",
    "ref": "code",
    "reference": "code",
    "numero": "code",
    "número": "code",
    "referencia": "code",
    "编号": "code",
    "文号": "code",
    "字号": "code",
    "sender": "sender_name",
    "from": "sender_name",
    "remitente": "sender_name",
    "来文单位": "sender_name",
    "发文单位": "sender_name",
    "recipient": "recipient",
    "to": "recipient",
    "destinatario": "recipient",
    "主送": "recipient",
    "title": "title",
    "titulo": "title",
    "título": "title",
    "标题": "title",
}

#: The fields a phrase or a prefix can be matched in (the stemmed fields keep no positions).
_POSITIONAL = {"title", "fold", "sender_name", "recipient"}

_MIN_PREFIX = 2
_BARE_PREFIX = re.compile(r"(?:^|\s)[*?]")
_WILDCARD = re.compile(r"[*?]")


class _FieldNames(qparser.Plugin):
    """Map the names users type (``number:``) to the fields of the schema, and refuse unknown names."""

    def filters(self, parser):
        return [(self._rename, 50)]

    def _rename(self, parser, group):
        for i, node in enumerate(group):
            if isinstance(node, syntax.GroupNode):
                group[i] = self._rename(parser, node)
            elif isinstance(node, syntax.FieldnameNode):
                name = node.fieldname.lower()
                if name not in FIELD_NAMES:
                    raise QueryError("unknown_field", field=node.fieldname)
                node.fieldname = FIELD_NAMES[name]
                node.original = node.fieldname
        return group


def make_parser(schema) -> qparser.QueryParser:
    """Return the parser of the query language over `schema`."""
    parser = qparser.MultifieldParser(list(TEXT_FIELDS), schema, fieldboosts=TEXT_FIELDS, group=qparser.AndGroup)
    parser.remove_plugin_class(qparser.RangePlugin)
    parser.remove_plugin_class(qparser.BoostPlugin)
    parser.remove_plugin_class(qparser.EveryPlugin)
    parser.add_plugin(_FieldNames())
    # FieldsPlugin only recognises ASCII names followed by a colon by default: allow any word (número:, 编号:)
    parser.replace_plugin(qparser.FieldsPlugin(expr=r"(?P<text>[^\W\d_][\w-]*|[\u3400-\u9fff]+)[:：]"))
    return parser


def _prune(q: query.Query) -> query.Query:
    """Drop the parts that cannot match: phrases and prefixes on fields without positions, empty leaves."""
    if isinstance(q, query.Phrase | query.Ordered | query.Sequence):
        return q if q.field() in _POSITIONAL else query.NullQuery
    if isinstance(q, query.Every):  # number:* — every document, found the slow way
        raise QueryError("short_prefix")
    if isinstance(q, query.PatternQuery):  # Prefix, Wildcard
        text = q.text if isinstance(q.text, str) else q.text.decode("utf-8")
        if q.field() not in _POSITIONAL and q.field() != "code":
            return query.NullQuery
        # the letters before the first wildcard bound the terms scanned: (*ion), title:*ion and a*n scan them all
        if len(_WILDCARD.split(text, maxsplit=1)[0]) < _MIN_PREFIX:
            raise QueryError("short_prefix")
        return q
    if isinstance(q, query.Not):
        return query.Not(_prune(q.query))
    if isinstance(q, query.AndNot):  # the same, without whoosh-ng's AndNotMatcher: it reads past its end (IndexError)
        return query.And([_prune(q.a), query.Not(_prune(q.b))])
    if isinstance(q, query.BinaryQuery):  # ANDNOT, ANDMAYBE, REQUIRE: built from two queries, not a list
        return q.__class__(_prune(q.a), _prune(q.b))
    if isinstance(q, query.CompoundQuery):
        return q.__class__([_prune(sub) for sub in q.subqueries], boost=q.boost)
    return q


def parse(parser: qparser.QueryParser, text: str) -> query.Query:
    """Return the Whoosh query for what the user typed; raise QueryError with a reason when it cannot be used."""
    text = (text or "").strip()
    if len(text) > 1000:
        raise QueryError("too_long")
    if _BARE_PREFIX.search(text):
        raise QueryError("short_prefix")
    _refuse_loose_ends(text)
    try:
        q = parser.parse(text)
    except QueryError:
        raise
    except Exception as exc:  # the parser is lenient, but never let a query turn into an error page
        raise QueryError("malformed") from exc
    q = _prune(q).normalize()
    if q is query.NullQuery:
        raise QueryError("empty")
    if isinstance(q, query.Not):
        raise QueryError("only_not")
    return q


_QUOTED = re.compile(r'"[^"]*"?')
_EMPTY_FIELD = re.compile(r"(?:^|\s)([^\s:\"()]+):(?=\s|$)")


def _refuse_loose_ends(text: str) -> None:
    """Raise QueryError for an operator with nothing on one side ("gestión AND") or a field name with nothing
    after it ("sender:"): Whoosh would search for the words "and" or "sender name" and find nothing, silently."""
    bare = _QUOTED.sub("Q", text)  # a quoted phrase stands as one word
    words = bare.split()
    if words and (words[0] in ("AND", "OR") or words[-1] in ("AND", "OR", "NOT")):
        raise QueryError("dangling_operator", operator=words[0] if words[0] in ("AND", "OR") else words[-1])
    empty = _EMPTY_FIELD.search(bare)
    if empty:
        raise QueryError("empty_field", field=empty.group(1))


#: Bare words of a query (not quoted, not field names, not operators, not prefixes), for "did you mean".
_WORD = re.compile(r'"[^"]*"|\S+:\S*|[\w*?]*[*?][\w*?]*|(\w+)')
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}


def bare_words(text: str) -> list[tuple[int, int, str]]:
    """Return (start, end, word) for the words of `text` that a spelling suggestion may replace."""
    found = []
    for match in _WORD.finditer(text or ""):
        word = match.group(1)
        if word and word not in _OPERATORS and not word.isdigit():
            found.append((match.start(1), match.end(1), word))
    return found
