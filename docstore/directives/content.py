"""What a directive says, as the Word renderers take it: plain values, already in the document's language.

The renderers (`docstore.directives.wordgb`, `docstore.directives.wordes`, `docstore.directives.placeholders`) read a
`Content` and nothing else: no database, no Flask. The drafting service builds one from a draft; tests build them
by hand.

The body is written as plain text, one block per line or paragraph (see `parse_body`):

==============================  ===========================================================================
``一、总体要求`` / ``# text``     a level-1 heading (黑体); ``#`` numbers it 一、二、… in Chinese, 1. 2. … otherwise
``（一）工作目标`` / ``## text``  a level-2 heading (楷体); ``##`` numbers it （一）（二）…, or 1.1. 1.2. …
``1.具体任务`` / ``### text``     a level-3 heading (仿宋); ``###`` numbers it 1. 2. …, or 1.1.1. …
``（1）细则`` / ``#### text``     a level-4 heading (仿宋); ``####`` numbers it （1）（2）…, or a) b) …
``- text``                       a numbered point: 1. 2. … (Spanish: PRIMERO. SEGUNDO. … in a resolución)
``| a | b |``                    a table row; consecutive rows make one table, the first is its header
anything else                    a paragraph; a blank line ends it, a single line break continues it
==============================  ===========================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

BLOCK_KINDS = ("paragraph", "heading1", "heading2", "heading3", "heading4", "point", "table")

CHINESE_DIGITS = "〇一二三四五六七八九"

#: Typed Chinese heading prefixes -> level; the prefix is kept as typed.
_TYPED_HEADINGS = (
    (re.compile(r"^[一二三四五六七八九十百]+、"), 1),
    (re.compile(r"^[（(][一二三四五六七八九十百]+[）)]"), 2),
    (re.compile(r"^\d+[.．](?!\d)"), 3),
    (re.compile(r"^[（(]\d+[）)]"), 4),
)
_MARKED_HEADING = re.compile(r"^(#{1,4})\s+(.*)$")
_POINT = re.compile(r"^[-*•]\s+(.*)$")


@dataclass(frozen=True)
class Block:
    """One block of a body: a paragraph, a heading of level 1–4, a numbered point or a table.

    `number` is the prefix to print before `text` ("一、", "（一）", "1.", "（1）" …); it is empty when the writer typed
    the prefix into the text. A table has `rows` (the first is the header) and no text.
    """

    kind: str
    text: str = ""
    number: str = ""
    rows: tuple[tuple[str, ...], ...] = ()

    @property
    def full_text(self) -> str:
        """Return the number and the text as one line."""
        return f"{self.number}{self.text}"


@dataclass(frozen=True)
class Content:
    """Everything a directive's Word file shows, in the document's own language.

    Empty strings and tuples mean "not shown". `number` is empty until the directive is registered (a draft prints
    without it). `extra` holds a type's own sections as text in the body syntax (see `docstore.directives.kinds`):
    a resolución's ``background``, ``grounds``, ``resolved`` and ``appeal``; minutes' ``present``, ``absent`` and
    ``attending``.
    """

    kind: str
    language: str  # "zh" or "es"
    issuer: str
    title: str
    body: tuple[Block, ...] = ()
    issuer_mark: str = ""  # the red header (GB) or the letterhead lines, "\n"-separated (es); default: issuer
    number: str = ""
    main_recipients: tuple[str, ...] = ()
    copy_recipients: tuple[str, ...] = ()
    urgency: str = ""  # as printed: "特急", "加急", "URGENTE" or ""
    classification: str = ""  # as printed: "机密★1年", "RESERVADO" or ""
    copy_number: str = ""  # 份号: six digits, required on classified GB documents
    signer: str = ""  # the signer's name
    signer_title: str = ""  # the signer's post (antefirma); GB: the signing body when it differs from the issuer
    signed_on: date | None = None  # 成文日期 / the date of signature
    attachments: tuple[str, ...] = ()  # names of the attachments, in order
    note: str = ""  # 附注
    printer: str = ""  # 印发机关 (default: issuer)
    printed_on: date | None = None  # 印发日期 (default: signed_on)
    place: str = ""  # the place of the date line (es): "Madrid"
    their_reference: str = ""  # S/REF
    subject: str = ""  # ASUNTO (es); default: title
    address: str = ""  # the unit's address, for the footer (es)
    extra: dict[str, tuple[Block, ...]] = field(default_factory=dict)

    @property
    def mark(self) -> str:
        return self.issuer_mark or self.issuer


def chinese_date(day: date) -> str:
    """Return `day` as GB/T 9704 writes it: ``2026年7月1日`` (Arabic digits, no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


SPANISH_MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


def spanish_date(day: date) -> str:
    """Return `day` as a Spanish date line writes it: ``1 de julio de 2026``."""
    return f"{day.day} de {SPANISH_MONTHS[day.month - 1]} de {day.year}"


def chinese_number(n: int) -> str:
    """Return 1..99 in Chinese numerals: 1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 21 -> 二十一."""
    if n < 10:
        return CHINESE_DIGITS[n]
    tens, units = divmod(n, 10)
    return ("" if tens == 1 else CHINESE_DIGITS[tens]) + "十" + (CHINESE_DIGITS[units] if units else "")


SPANISH_ORDINALS = (
    "PRIMERO",
    "SEGUNDO",
    "TERCERO",
    "CUARTO",
    "QUINTO",
    "SEXTO",
    "SÉPTIMO",
    "OCTAVO",
    "NOVENO",
    "DÉCIMO",
)


def _marked_number(level: int, counters: list[int], language: str) -> str:
    n = counters[level - 1]
    if language == "zh":
        return (f"{chinese_number(n)}、", f"（{chinese_number(n)}）", f"{n}.", f"（{n}）")[level - 1]
    if level == 4:
        return f"{'abcdefghijklmnopqrstuvwxyz'[(n - 1) % 26]}) "
    return ".".join(str(c) for c in counters[:level]) + ". "


def parse_body(text: str, language: str = "zh") -> tuple[Block, ...]:
    """Return the blocks of a body written in the syntax of this module's docstring."""
    blocks: list[Block] = []
    paragraph: list[str] = []
    table: list[tuple[str, ...]] = []
    counters = [0, 0, 0, 0]
    points = 0

    def flush() -> None:
        nonlocal table
        if paragraph:
            blocks.append(Block("paragraph", " ".join(paragraph) if language != "zh" else "".join(paragraph)))
            paragraph.clear()
        if table:
            width = max(len(row) for row in table)
            blocks.append(Block("table", rows=tuple(row + ("",) * (width - len(row)) for row in table)))
            table = []

    for raw in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("|"):
            if paragraph:
                flush()
            cells = line.strip("|").split("|")
            if all(set(cell.strip()) <= set("-: ") for cell in cells):  # a Markdown rule line under the header
                continue
            table.append(tuple(cell.strip() for cell in cells))
            continue
        if table:
            flush()
        if marked := _MARKED_HEADING.match(line):
            flush()
            level = len(marked.group(1))
            counters[level - 1] += 1
            counters[level:] = [0] * (4 - level)
            points = 0
            blocks.append(Block(f"heading{level}", marked.group(2).strip(), _marked_number(level, counters, language)))
            continue
        if point := _POINT.match(line):
            flush()
            points += 1
            blocks.append(Block("point", point.group(1).strip(), f"{points}. " if language != "zh" else f"{points}."))
            continue
        typed = next((level for pattern, level in _TYPED_HEADINGS if pattern.match(line)), None)
        if typed is not None and len(line) <= 60 and not paragraph:
            flush()
            counters[typed - 1] += 1
            counters[typed:] = [0] * (4 - typed)
            points = 0
            blocks.append(Block(f"heading{typed}", line))
            continue
        paragraph.append(line)
    flush()
    return tuple(blocks)


def body_text(blocks: tuple[Block, ...]) -> str:
    """Return the plain text of `blocks`, one block per line (for search and for checks)."""
    lines = []
    for block in blocks:
        if block.kind == "table":
            lines.extend(" | ".join(row) for row in block.rows)
        else:
            lines.append(block.full_text)
    return "\n".join(lines)
