"""Highlighted snippets: the passage of a text where the matched terms are densest, with the matches marked.

The index keeps no copy of the texts (the database has them), so the application passes the text of each hit on
the page with the terms that matched it (`Hit.terms`). The text is analysed again with character offsets; spans of
matching tokens are merged (overlapping CJK bigrams become one mark) and the output is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from html import escape

from search.analysis import HIGHLIGHTED

#: How much of a long text is scanned for matches (re-analysing megabytes for every hit would be slow).
SCAN_CHARS = 60_000


@cache
def _analyzer(field: str):
    return HIGHLIGHTED[field]()


def match_spans(text: str, terms: Iterable[tuple[str, str]], limit: int = SCAN_CHARS) -> list[tuple[int, int]]:
    """Return the merged (start, end) character spans of `text` whose tokens are among `terms`."""
    wanted: dict[str, set[str]] = {}
    for field, term in terms:
        if field in HIGHLIGHTED:
            wanted.setdefault(field, set()).add(term)
        elif field == "title":
            wanted.setdefault("fold", set()).add(term)
    if not wanted or not text:
        return []
    sample = text[:limit]
    spans = []
    for field, words in wanted.items():
        for token in _analyzer(field)(sample, chars=True, mode="query"):
            if token.text in words:
                spans.append((token.startchar, token.endchar))
    spans.sort()
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def mark(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """Return text[start:end] HTML-escaped, with `spans` inside it wrapped in <mark>."""
    end = len(text) if end is None else end
    out, at = [], start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out += [escape(text[at:s]), "<mark>", escape(text[s:e]), "</mark>"]
        at = e
    out.append(escape(text[at:end]))
    return "".join(out)


def highlight(text: str, terms: Iterable[tuple[str, str]]) -> str:
    """Return the whole of a short `text` (a title) escaped, with its matches marked."""
    return mark(text, match_spans(text, terms))


def snippet(text: str, terms: Iterable[tuple[str, str]], width: int = 240) -> str:
    """Return about `width` characters of `text` around its densest matches, escaped and marked ('' if none)."""
    spans = match_spans(text, terms)
    if not spans:
        return ""
    best, best_count = spans[0][0], 0
    j = 0
    for i, (start, _) in enumerate(spans):  # the window of `width` characters starting at a match with most matches
        j = max(j, i)
        while j + 1 < len(spans) and spans[j + 1][1] <= start + width:
            j += 1
        if j - i + 1 > best_count:
            best, best_count = start, j - i + 1
    start = max(0, best - width // 4)
    # start at a word boundary when one is near
    space = text.rfind(" ", max(0, start - 20), start + 1)
    if start > 0 and space > start - 20 and space != -1:
        start = space + 1
    end = min(len(text), start + width)
    body = mark(text, spans, start, end)
    body = " ".join(body.split())
    return ("… " if start > 0 else "") + body + (" …" if end < len(text) else "")
