"""What a search keeps and computes per segment of the index, and how the queue's commits merge segments.

Segments never change once written (deletions aside, and deleted documents never match), so their column values,
field lengths and permission flags are read once and kept for as long as a searcher reads them. Used by
`search.engine`.
"""

from __future__ import annotations

import math
from array import array
from typing import TYPE_CHECKING

from whoosh import query, scoring
from whoosh.reading import SegmentReader

if TYPE_CHECKING:
    from search.engine import Access

#: The fields whose matched terms are reported with a hit (the others are filters).
_TEXT_FIELDS = frozenset({"title", "fold", "es", "en", "code", "sender_name", "recipient"})
#: Kinds of searcher (Access values) whose permitted documents a segment keeps flags for (a few KB each).
_KEPT_ACCESSES = 64


def scored_matches(q: query.Query, sub, segment: SegmentColumns, flags) -> tuple[list[int], list[float]]:
    """Return the documents of leaf searcher `sub` that match `q` and are flagged in `flags` (all when None), in
    ascending order, and their scores, with the field lengths read from `segment`.

    The scores are those of Whoosh's top-N collector (the same matchers, walked the same way), but every match is
    scored: not with its block-quality skipping, nor replacing matchers as the minimum score rises, which in
    whoosh-ng skip documents that belong on the page (union matchers bound a document's score by their largest
    clause's), so that pages came out in the wrong order, some documents on two pages and others on none.
    """
    matcher = q.matcher(sub, sub.context(weighting=segment.weighting))
    is_active, current, score, advance = matcher.is_active, matcher.id, matcher.score, matcher.next
    docs: list[int] = []
    scores: list[float] = []
    if flags is None:
        while is_active():
            docs.append(current())
            scores.append(score())
            advance()
    else:
        while is_active():
            docnum = current()
            if flags[docnum]:
                docs.append(docnum)
                scores.append(score())
            advance()
    return docs, scores


def within(flags: bytearray | None, docs, segment: SegmentColumns) -> bytearray:
    """Return a flag per document of `segment`: 1 for those of `docs` also flagged in `flags` (all when None)."""
    found = bytearray(segment.reader.doc_count_all())
    for docnum in docs:
        found[docnum] = 1 if flags is None else flags[docnum]
    return found


class _KnownLengths(scoring.BM25F):
    """Whoosh's BM25F with its default parameters (the searcher's weighting), reading a document's field lengths
    from lists kept per segment: the same numbers, hence the same scores, without a read of the segment's file for
    each document and field, which was a quarter of the time of a broad query."""

    def __init__(self, segment: SegmentColumns):
        super().__init__()
        self.segment = segment

    def scorer(self, searcher, fieldname, text, qf=1):
        found = super().scorer(searcher, fieldname, text, qf=qf)
        if isinstance(found, scoring.BM25FScorer):
            found.dfl = self.segment.lengths(fieldname).__getitem__
        return found


#: Segments of about the same size merged together once there are this many (a log-structured merge).
MERGE_FAN = 8
#: The most documents one merge of the queue's writes rewrites: the queue waits while it runs.
MERGE_MAX_DOCS = 10_000


def merge_small_tiers(writer, segments):
    """Whoosh merge policy for the queue's small commits: merge segments of similar size in groups of MERGE_FAN,
    and never touch one larger than MERGE_MAX_DOCS / MERGE_FAN (a rebuild's segments).

    Whoosh's default policy merges every segment when they are of equal size, which a rebuild's chunks are: the
    first change after a rebuild of 100,000 documents rewrote all of them, for many minutes, while the changes
    registered meanwhile waited in the queue. Large segments are merged only by the next rebuild.
    """
    largest = MERGE_MAX_DOCS // MERGE_FAN
    tiers: dict[int, list] = {}
    kept = []
    for segment in segments:
        count = segment.doc_count_all()
        if count > largest:
            kept.append(segment)
        else:
            tiers.setdefault(int(math.log(max(count, 1), MERGE_FAN)), []).append(segment)
    for members in tiers.values():
        if len(members) < MERGE_FAN:
            kept.extend(members)
            continue
        for segment in members:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            try:
                writer.add_reader(reader)
            finally:
                reader.close()
    return kept


def highlight_terms(q: query.Query, reader) -> frozenset[tuple[str, str]]:
    """Return the (field, word) pairs of `q` to highlight: the index's words it looks for in the text fields,
    prefixes and wildcards expanded, and none of those under NOT."""
    found: set[tuple[str, str]] = set()

    def walk(node: query.Query) -> None:
        if isinstance(node, query.Not):
            return
        if not node.is_leaf():
            for child in node.children():
                walk(child)
            return
        for name, text in node.existing_terms(reader, phrases=True, expand=True):
            if name in _TEXT_FIELDS:
                found.add((name, term_text(text)))

    walk(q)
    return frozenset(found)


class SegmentColumns:
    """The facet values, registration times and field lengths of one segment's documents, read from its columns
    once.

    Segments never change (deletions aside, and deleted documents never match), so the values are kept for as
    long as the segment is searched: counting the facets of a search is then a count of small integers, and
    scoring a match reads its field lengths from a list (`weighting`).
    """

    def __init__(self) -> None:
        self.reader = None
        self._facets: dict[str, tuple[array, list]] = {}
        self._registered: list[int] | None = None
        self._allowed: dict[object, bytearray] = {}
        self._lengths: dict[str, list] = {}
        self.weighting = _KnownLengths(self)

    def _values(self, name: str) -> list:
        reader = self.reader
        if not reader.has_column(name):
            return [None] * reader.doc_count_all()
        return list(reader.column_reader(name, translate=False))

    def facet(self, name: str) -> tuple[array, list]:
        """Return (code of each document, value of each code) for facet `name`."""
        found = self._facets.get(name)
        if found is None:
            values: list = []
            numbering: dict = {}
            codes = array("I")
            for value in self._values(name):
                code = numbering.get(value)
                if code is None:
                    code = numbering[value] = len(values)
                    values.append(value)
                codes.append(code)
            found = self._facets[name] = (codes, values)
        return found

    def allowed(self, access: Access, searcher) -> bytearray | None:
        """Return a flag per document of the segment (1: `access` may open it), or None when all may be opened.

        Worked out with Whoosh once per segment and kind of searcher (the level range expands into many terms,
        which made it the costliest part of a search), and kept for the next searches.
        """
        restriction = access.as_filter()
        if isinstance(restriction, query.Every):
            return None
        key = (access.max_level,) if access.everything else access  # office-wide users differ by level only
        flags = self._allowed.get(key)
        if flags is None:
            flags = bytearray(self.reader.doc_count_all())
            for docnum in restriction.docs(searcher):
                flags[docnum] = 1
            if len(self._allowed) >= _KEPT_ACCESSES:
                self._allowed.pop(next(iter(self._allowed)))
            self._allowed[key] = flags
        return flags

    def accepting(self, name: str, wanted: set[str]) -> tuple[array, bytearray]:
        """Return (code of each document, 1 for each code whose value is in `wanted`) for facet `name`."""
        codes, values = self.facet(name)
        ok = bytearray(len(values))
        for code, value in enumerate(values):
            if value not in (None, "", b"") and term_text(value) in wanted:
                ok[code] = 1
        return codes, ok

    def lengths(self, fieldname: str) -> list:
        """Return the length of field `fieldname` in each document, as the scorer reads it (default 1)."""
        found = self._lengths.get(fieldname)
        if found is None:
            length = self.reader.doc_field_length
            found = self._lengths[fieldname] = [length(d, fieldname, 1) for d in range(self.reader.doc_count_all())]
        return found

    def registered(self) -> list:
        """Return a sort key of each document's registration time (None sorts as the oldest)."""
        if self._registered is None:
            self._registered = [-1 if value is None else value for value in self._values("registered")]
        return self._registered


class Columns:
    """The SegmentColumns of the segments searched now, by segment id (used under the searcher's lock)."""

    def __init__(self) -> None:
        self._segments: dict[str, SegmentColumns] = {}

    def readers(self, searcher) -> list[SegmentColumns]:
        """Return the columns of each leaf searcher of `searcher`, in order; forget segments no longer searched."""
        current: dict[str, SegmentColumns] = {}
        found = []
        for sub, _offset in searcher.leaf_searchers():
            reader = sub.reader()
            segment = reader.segment()
            if segment is None:  # an empty index's reader: nothing to keep
                columns = SegmentColumns()
            else:
                key = segment.segment_id()
                columns = current[key] = self._segments.get(key) or SegmentColumns()
            columns.reader = reader
            found.append(columns)
        self._segments = current
        return found

    def clear(self) -> None:
        self._segments = {}


def term_text(text) -> str:
    return text.decode("utf-8") if isinstance(text, bytes) else str(text)
