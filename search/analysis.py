"""How text becomes index terms: one tokenizer for Latin and CJK scripts, and the three analyzers built on it.

Every text is indexed three ways (see FACTS: stemming and accent folding in one field lose matches either way):

- ``fold``: lower-cased and accent-folded words, and Chinese/Japanese runs cut into overlapping two-character
  terms (bigrams). `gestion` finds `gestión`, `ADMINISTRACION` finds `administración`, and `公文处理` (the phrase of
  bigrams 公文 文处 处理) finds `公文处理工作`. Positions are kept, so "exact phrases" work on this field.
- ``es``: Spanish Snowball stems of the Latin words: `documentos` finds `documento`.
- ``en``: English Snowball stems of the Latin words: `offices` finds `office`.

Bigrams instead of a dictionary segmenter (jieba): a bigram tokenizer is several times faster, needs no model
file loaded at start, and phrase queries over its terms work (FACTS, "Analyzers"); a highlighted match covers the
whole matched run of characters because overlapping bigram spans are merged (see search.snippets).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from whoosh.analysis import CharsetFilter, LowercaseFilter, StemFilter, Token, Tokenizer
from whoosh.support.charset import accent_map

#: Han ideographs (with extensions and compatibility forms), kana and Hangul: scripts written without spaces.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+)")
CJK_RUN = re.compile(rf"[{_CJK}]+")


class _PieceTokenizer(Tokenizer):
    """A tokenizer defined by `pieces`: (text, offset) pairs; positions count the pieces."""

    def pieces(self, value: str) -> Iterator[tuple[str, int]]:
        raise NotImplementedError

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pieces = self.pieces(value) if tokenize else iter(((value, 0),))
        for pos, (text, start) in enumerate(pieces, start_pos):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + start + len(text)
            yield token


class MixedTokenizer(_PieceTokenizer):
    """Words of alphabetic scripts and numbers as they are; runs of CJK characters as overlapping bigrams.

    With ``cjk=False`` the CJK runs are skipped (the stemming analyzers have nothing to do with them).
    """

    def __init__(self, cjk: bool = True):
        self.cjk = cjk

    def __eq__(self, other):
        return self.__class__ is other.__class__ and self.cjk == other.cjk

    def pieces(self, value: str) -> Iterator[tuple[str, int]]:
        for match in _TOKEN.finditer(value):
            run = match.group("cjk")
            if run is None:
                yield match.group("word"), match.start()
            elif not self.cjk:
                continue
            elif len(run) == 1:
                yield run, match.start()
            else:
                for i in range(len(run) - 1):
                    yield run[i : i + 2], match.start() + i


class CodeTokenizer(_PieceTokenizer):
    """Whole lines as terms: register and reference numbers are matched exactly as written (one per line)."""

    def __eq__(self, other):
        return self.__class__ is other.__class__

    def pieces(self, value: str) -> Iterator[tuple[str, int]]:
        offset = 0
        for line in value.split("\n"):
            text = line.strip()
            if text:
                yield text, offset + line.index(text)
            offset += len(line) + 1


def folding_analyzer():
    """Lower case, accents folded, CJK bigrams: the field that phrases, prefixes and exact words use."""
    return MixedTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


def spanish_analyzer():
    """Spanish Snowball stems of the alphabetic words (the stemmer drops the acute accents itself)."""
    return MixedTokenizer(cjk=False) | LowercaseFilter() | StemFilter(lang="es", cachesize=50000)


def english_analyzer():
    """English Snowball stems of the alphabetic words."""
    return MixedTokenizer(cjk=False) | LowercaseFilter() | StemFilter(lang="en", cachesize=50000)


def code_analyzer():
    """Numbers exactly as written, compared without case: `in-2026-000123` finds `IN-2026-000123`."""
    return CodeTokenizer() | LowercaseFilter()


#: field name -> analyzer factory, for the fields whose matches are highlighted
HIGHLIGHTED = {"fold": folding_analyzer, "es": spanish_analyzer, "en": english_analyzer}
