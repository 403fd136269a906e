"""Render a Chinese directive in the official format of GB/T 9704-2012 《党政机关公文格式》 as a Word file.

Three layouts (DOMAIN.md §1.2, §1.3, §6.1):

- ``gb``: the standard format (通知, 决定, 请示, 报告 …). 份号 / 密级 / 紧急程度 top left; the red issuing-body mark,
  its top 35 mm below the top of the text area; the number 2 lines below it (with the 签发人 on its line for upward
  types, 请示 and 报告); the red rule 4 mm below the number; the title; 主送; the body; 附件说明; the unsealed
  signature and date; 附注; the 版记 (抄送, 印发) at the foot of the last page between its rules.
- ``gb_letter``: the letter format (信函). The issuer's name 30 mm from the top edge of the paper and the red double
  line 4 mm below it sit in the first page's header; the number flush right below the line; the second red double line
  20 mm above the bottom edge in the first page's footer; no page number on page 1; no 印发 line and no rules in the
  版记.
- ``gb_minutes``: the minutes format (纪要). The red "××纪要" mark 35 mm below the top of the text area, the number,
  a line with the issuer and the date over the red rule, the body, then 出席 / 请假 / 列席 (`Content.extra`) with their
  labels in 黑体; no signature and no seal.

The page is A4 with margins 37 / 35 / 28 / 26 mm and a document grid of 22 lines × 28 characters (``linesAndChars``,
line pitch 579 twips, character spacing -849/4096 pt over the 16 pt default size), as Word's page set-up shows it.
The paragraphs themselves do not snap to the grid: LibreOffice (7.4) gives each 16 pt character two cells of a 15.79 pt
character grid, and would print 14 characters a line. Instead every paragraph has an exact line height of one grid line
(28.95 pt) and 3号 text is condensed by 0.3 pt, which gives 22 lines of 28 characters in Word and LibreOffice alike,
whatever font stands in; the elements placed at a given distance (the mark, the number, the title) are positioned
from those exact heights. Page numbers ``— 1 —`` are 4号 宋体, odd pages on the right and even pages on the left, one
character in, their dashes 7 mm below the text area.

Every element has its own named paragraph style (发文机关标志, 发文字号, 标题, 主送机关, 正文, 一级标题 … 四级标题,
附件说明, 署名, 成文日期, 附注, 出席人员, 表格, 版记, 页码 …), so a produced file can be parsed back and restyled.

Fonts. The standard names 仿宋 (body), 小标宋 (mark and title), 黑体 and 楷体 (headings); offices install the
GB2312-era faces, Windows ships their successors, Debian ships neither. So:

- the East Asian font is always set explicitly (``w:eastAsia`` on the styles and on every run) and the template's
  theme fonts are removed, since a theme font wins over a named one;
- the names written are the ones offices expect: 仿宋_GB2312, 楷体_GB2312, 黑体, 方正小标宋简体 and 宋体 (page
  numbers); Latin letters and digits in Times New Roman;
- the font table describes each one as Word itself writes them (GB2312 charset 86, family, pitch, PANOSE) with an
  ``altName``: 仿宋_GB2312 -> 仿宋 (FangSong), 楷体_GB2312 -> 楷体 (KaiTi), 黑体 -> SimHei, 宋体 -> SimSun,
  方正小标宋简体 (commercial) -> 华文中宋; the stand-ins have entries of their own. Word uses these to substitute a
  missing face (a Song face for 小标宋 rather than a sans), and WPS maps the _GB2312 names itself;
- LibreOffice ignores the font table: it asks fontconfig for the missing name and gets the system's default CJK face
  (on Debian with fonts-noto-cjk, Noto Sans CJK). The layout does not depend on which face it is (exact line heights,
  1 em ideographs); a server that wants closer PDFs adds fontconfig aliases (仿宋_GB2312, 楷体_GB2312, 方正小标宋简体 ->
  Noto Serif CJK SC; 黑体 -> Noto Sans CJK SC).
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

import docx
from docx.document import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.section import Section, _Footer, _Header
from docx.shared import Twips

from docstore.directives.content import Block, Content, chinese_date
from docstore.directives.package import clean_text, package_bytes

LAYOUTS = ("gb", "gb_letter", "gb_minutes")
#: Types that go up to a superior body and carry the 签发人 on the number's line.
UPWARD_KINDS = ("request", "report")

# Geometry, in twips (1/20 pt). 1 mm = 56.7 twips.
MM = 1440 / 25.4
PAGE_WIDTH, PAGE_HEIGHT = 11906, 16838
TOP, BOTTOM, LEFT, RIGHT = 2098, 1984, 1587, 1474  # 37 / 35 / 28 / 26 mm
TEXT_WIDTH = PAGE_WIDTH - LEFT - RIGHT  # 8845 = 156 mm
LINE = 579  # the grid's line pitch: 22 lines fill the 225 mm text area
CHAR_SPACE = -849  # 1/4096 pt added to the 16 pt default: 28 characters fill the 156 mm line
CHAR = 316  # one 3号 character on that grid (15.79 pt)
#: 3号 text is condensed by 0.3 pt (in twips), so that 28 characters fill a line off the grid too (15.7 pt each).
CONDENSED = -6
SMALL_CHAR = 280  # one 4号 character (14 pt), in the 版记 and the page numbers
#: Page numbers: their dashes 7 mm below the text area (footer line 20 pt exact, baseline 4 pt above its foot).
FOOTER_DISTANCE = round(25 * MM)
#: The letter's footer distance: its second double line (at the top of a 1 pt line) 20 mm above the bottom edge.
LETTER_FOOTER_DISTANCE = round(20 * MM) - 20
#: The letter format's lines stretch 7 mm past each side of the text area (170 mm).
LETTER_OVERHANG = round(7 * MM)

RED = "FF0000"
LATIN = "Times New Roman"
FANGSONG = "仿宋_GB2312"
KAITI = "楷体_GB2312"
HEITI = "黑体"
XIAOBIAOSONG = "方正小标宋简体"
SONGTI = "宋体"

# The fonts of a run: (Latin letters and digits, East Asian characters).
FS = (LATIN, FANGSONG)
HT = (LATIN, HEITI)
KT = (LATIN, KAITI)
XBS = (XIAOBIAOSONG, XIAOBIAOSONG)
ST = (SONGTI, SONGTI)

#: The font table: name, altName (the face to use when it is missing), PANOSE, family, pitch.
FONT_TABLE = (
    (FANGSONG, "仿宋", "02010609030101010101", "modern", "fixed"),
    ("仿宋", "FangSong", "02010609060101010101", "modern", "fixed"),
    (KAITI, "楷体", "02010609030101010101", "modern", "fixed"),
    ("楷体", "KaiTi", "02010609060101010101", "modern", "fixed"),
    (HEITI, "SimHei", "02010609060101010101", "modern", "fixed"),
    (XIAOBIAOSONG, "华文中宋", "02010600040101010101", "auto", "variable"),
    ("华文中宋", "STZhongsong", "02010600040101010101", "auto", "variable"),
    (SONGTI, "SimSun", "02010600030101010101", "auto", "variable"),
)

#: The mark's size in points: as large as fits 90 % of the line, within these bounds (the letter's is smaller).
MARK_SIZES = {"gb": (22, 52), "gb_letter": (22, 32), "gb_minutes": (22, 52)}
MARK_TOP = 35 * 72 / 25.4  # the mark's top below the top of the text area, in points (99.2)
LETTER_MARK_TOP = 30 * 72 / 25.4  # the letter's mark below the top edge of the paper, in points (85.0)
# Where the ink of a CJK line sits in a line of exact height h (Word and LibreOffice put the baseline at 0.8 h):
# the ideographs rise 0.84 em above the baseline and go 0.08 em below it.
INK_ASCENT, INK_DESCENT, MARK_LEADING = 0.84, 0.08, 1.15

#: The paragraph styles: id, name, fonts, size in points, paragraph properties (see `_ppr`), colour.
STYLES = (
    ("GbCopyNumber", "份号", FS, 16, {}),
    ("GbSecret", "密级", HT, 16, {}),
    ("GbUrgency", "紧急程度", HT, 16, {}),
    ("GbMark", "发文机关标志", XBS, 36, {"jc": "center"}, RED),
    ("GbNumber", "发文字号", FS, 16, {"jc": "center"}),
    ("GbTitle", "标题", XBS, 22, {"jc": "center", "keep": True}),
    ("GbRecipients", "主送机关", FS, 16, {"jc": "both"}),
    ("GbBody", "正文", FS, 16, {"jc": "both", "first_chars": 2}),
    ("GbHeading1", "一级标题", HT, 16, {"jc": "both", "first_chars": 2, "keep": True}),
    ("GbHeading2", "二级标题", KT, 16, {"jc": "both", "first_chars": 2, "keep": True}),
    ("GbHeading3", "三级标题", FS, 16, {"jc": "both", "first_chars": 2, "keep": True}),
    ("GbHeading4", "四级标题", FS, 16, {"jc": "both", "first_chars": 2}),
    ("GbTable", "表格", FS, 14, {"line": 0}),
    ("GbAttachments", "附件说明", FS, 16, {}),
    ("GbSignature", "署名", FS, 16, {"jc": "right", "keep": True}),
    ("GbDate", "成文日期", FS, 16, {"jc": "right"}),
    ("GbNote", "附注", FS, 16, {"jc": "both", "first_chars": 2}),
    ("GbAttendance", "出席人员", FS, 16, {"jc": "both"}),
    ("GbImprint", "版记", FS, 14, {}),
    ("GbPageNumber", "页码", ST, 14, {"line": 400}),
)
BLOCK_STYLES = {
    "paragraph": ("GbBody", FS),
    "point": ("GbBody", FS),
    "heading1": ("GbHeading1", HT),
    "heading2": ("GbHeading2", KT),
    "heading3": ("GbHeading3", FS),
    "heading4": ("GbHeading4", FS),
}
ATTENDANCE = (("present", "出席"), ("absent", "请假"), ("attending", "列席"))

#: The red rule: a 1.5 pt bottom border 7 pt under a line whose ink ends 4.2 pt above its foot, so 4 mm under the ink.
RED_RULE = f'<w:bottom w:val="single" w:sz="12" w:space="7" w:color="{RED}"/>'
_THEME_ATTRIBUTES = tuple(qn(f"w:{name}") for name in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"))
#: Brackets around a year that are not the 〔〕 the standard asks for.
_YEAR_IN_BRACKETS = re.compile(r"[\[【［(（〔〈]\s*(\d{4})\s*[\]】］)）〕〉]")
_NUMBER_AFTER_YEAR = re.compile(r"〕\s*第?\s*0*(\d)")


def render(content: Content, layout: str) -> bytes:
    """Return `content` as a .docx in the official Chinese format, laid out as `layout` (one of `LAYOUTS`)."""
    if layout not in LAYOUTS:
        raise ValueError(f"not a GB/T 9704 layout: {layout!r}")
    document = docx.Document()
    _set_up_styles(document)
    _set_up_fonts(document)
    _set_up_settings(document)
    section = document.sections[0]
    _set_up_page(document, section)
    _set_page_numbers(section, layout)
    mark_lines = [line.strip() for line in content.mark.splitlines() if line.strip()] or [content.issuer]
    if layout == "gb_letter":
        _set_letterhead(section, mark_lines)
        parts = _letter_head(content)
    elif layout == "gb_minutes":
        parts = _mark(mark_lines, layout) + _minutes_number(content)
    else:
        lead = [_p(style, _r(text, fonts)) for style, text, fonts in _lead(content)]
        parts = _mark(mark_lines, layout, lead) + [_number_line(content)]
    parts += _title(content)
    parts += _recipients(content)
    parts += [_block(block) for block in content.body]
    parts += _attachments(content)
    parts += _attendance(content) if layout == "gb_minutes" else _signature(content)
    parts += _note(content)
    parts += _imprint(content, layout)
    body = document.element.body
    for element in parse_xml(f"<w:body {nsdecls('w')}>{''.join(parts)}</w:body>"):
        body.sectPr.addprevious(element)
    document.core_properties.title = content.title
    return package_bytes(document)


def document_number(number: str) -> str:
    """Return `number` as GB/T 9704 writes it: the year in 〔〕, no 第, no leading zeros (``国办函〔2026〕12号``)."""
    return _NUMBER_AFTER_YEAR.sub(r"〕\1", _YEAR_IN_BRACKETS.sub(r"〔\1〕", number.strip()))


# --- the head -----------------------------------------------------------------------------------------------------


def _lead(content: Content) -> list[tuple[str, str, tuple[str, str]]]:
    """Return the 份号, 密级 and 紧急程度 that are given, as (style, text, fonts): the first lines of page 1."""
    lead = (
        ("GbCopyNumber", content.copy_number, FS),
        ("GbSecret", content.classification, HT),
        ("GbUrgency", content.urgency, HT),
    )
    return [(style, text.strip(), fonts) for style, text, fonts in lead if text.strip()]


def _mark_size(lines: list[str], layout: str) -> int:
    """Return the size in points of the mark: as large as fits 90 % of the line, within the layout's bounds."""
    low, high = MARK_SIZES[layout]
    widest = max(_width(line) for line in lines) or 1
    return max(low, min(high, int(TEXT_WIDTH / 20 * 0.9 / widest)))


def _mark(lines: list[str], layout: str, lead: list[str] | None = None) -> list[str]:
    """Return the red mark, its top 35 mm below the top of the text area (under `lead`), 2 lines above the number.

    The grid lines above it (份号, 密级, 紧急程度) are taken from the space before; the space after leaves two blank
    lines between its foot and the top of the next line.
    """
    lead = lead or []
    size = _mark_size(lines, layout)
    height = round(size * MARK_LEADING * 20)
    ink_top = 0.8 * height / 20 - INK_ASCENT * size  # points below the top of the line
    ink_foot = 0.2 * height / 20 - INK_DESCENT * size  # points above the foot of the line
    number_ink_top = 0.8 * LINE / 20 - INK_ASCENT * 16
    # Between the ink of two grid lines of 3号 text: the pitch less the ink's height; two blank lines add two pitches.
    gap = 3 * LINE / 20 - (INK_ASCENT + INK_DESCENT) * 16
    before = max(0, round((MARK_TOP - ink_top) * 20) - len(lead) * LINE)
    after = max(0, round((gap - ink_foot - number_ink_top) * 20))
    parts = list(lead)
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        parts.append(
            _p(
                "GbMark",
                _r(line, XBS, size=size, color=RED),
                before=before if index == 0 else 0,
                after=after if last else 0,
                line=height,
            )
        )
    return parts


def _number_line(content: Content) -> str:
    """Return the number centred over the red rule; for an upward type, with the 签发人 on the same line."""
    number = document_number(content.number)
    if content.kind in UPWARD_KINDS and content.signer.strip():
        runs = _r(f"\t{number}\t签发人：", FS) + _r(content.signer.strip(), KT)
        return _p("GbNumber", runs, border=RED_RULE, tabs=_ONE_IN_FROM_EACH_SIDE, jc="left")
    return _p("GbNumber", _r(number, FS) if number else "", border=RED_RULE)


#: Tab stops for a line of two items, one character in from each side (indents would shorten the rule under it).
_ONE_IN_FROM_EACH_SIDE = f'<w:tab w:val="left" w:pos="{CHAR}"/><w:tab w:val="right" w:pos="{TEXT_WIDTH - CHAR}"/>'


def _minutes_number(content: Content) -> list[str]:
    """Return the minutes' number (centred) and the issuer and date line that carries the red rule."""
    parts = [_p("GbNumber", _r(document_number(content.number), FS))] if content.number.strip() else []
    date = chinese_date(content.signed_on) if content.signed_on else ""
    runs = _r(f"\t{content.issuer}\t{date}", FS)
    parts.append(_p("GbNumber", runs, border=RED_RULE, tabs=_ONE_IN_FROM_EACH_SIDE, jc="left"))
    return parts


def _letter_head(content: Content) -> list[str]:
    """Return the letter's lines under the red double line: 份号 etc. flush left, the number flush right."""
    lead = _lead(content)
    number = document_number(content.number)
    # 7/8 of a 3号 character between the double line and the ink of the first line.
    before = 40
    tab = f'<w:tab w:val="right" w:pos="{TEXT_WIDTH}"/>'
    if not lead:
        return [_p("GbNumber", _r(number, FS) if number else "", jc="right", before=before)]
    parts = []
    for index, (style, text, fonts) in enumerate(lead):
        runs = _r(text, fonts)
        if index == 0 and number:
            runs += _r(f"\t{number}", FS)
        parts.append(_p(style, runs, tabs=tab if index == 0 else "", before=before if index == 0 else 0))
    return parts


# --- the main part ------------------------------------------------------------------------------------------------


def _title(content: Content) -> list[str]:
    """Return the title two blank lines below the red rule (or one blank line when there is none).

    Minutes often have no title but their mark ("××纪要"); a title that only repeats the mark is not printed twice.
    """
    title = content.title.strip()
    if not title or (content.kind == "minutes" and title == content.mark.strip()):
        return [_p("", "", snap=False, line=LINE)]
    return [_p("GbTitle", _r(title, XBS), before=2 * LINE)]


def _recipients(content: Content) -> list[str]:
    """Return the 主送 line one blank line below the title, flush left, ending with ：."""
    names = [name.strip().rstrip("，,、；;：:") for name in content.main_recipients if name.strip()]
    if not names:
        return []
    return [_p("GbRecipients", _r("，".join(names) + "：", FS), before=LINE)]


def _block(block: Block) -> str:
    """Return one block of the body: a paragraph or a heading indented 2 characters, or a table."""
    if block.kind == "table":
        return _table(block.rows)
    style, fonts = BLOCK_STYLES.get(block.kind, BLOCK_STYLES["paragraph"])
    return _p(style, _r(block.full_text, fonts))


def _table(rows: tuple[tuple[str, ...], ...]) -> str:
    """Return a simple bordered table across the text area, its header row in 黑体, its text in 4号仿宋."""
    if not rows:
        return ""
    columns = max(len(row) for row in rows)
    width = TEXT_WIDTH // columns
    borders = "".join(
        f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
        for side in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    xml = [
        f'<w:tbl><w:tblPr><w:tblW w:w="{width * columns}" w:type="dxa"/><w:jc w:val="center"/>'
        f'<w:tblBorders>{borders}</w:tblBorders><w:tblLayout w:type="fixed"/>'
        '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" w:noHBand="0" '
        'w:noVBand="1"/></w:tblPr><w:tblGrid>',
        f'<w:gridCol w:w="{width}"/>' * columns,
        "</w:tblGrid>",
    ]
    for index, row in enumerate(rows):
        header = index == 0
        xml.append(
            "<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>" if header else "<w:tr><w:trPr><w:cantSplit/></w:trPr>"
        )
        for cell in tuple(row) + ("",) * (columns - len(row)):
            paragraph = _p("GbTable", _r(cell, HT if header else FS), jc="center" if header else "left")
            xml.append(f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>')
            xml.append(f"{paragraph}</w:tc>")
        xml.append("</w:tr>")
    xml.append("</w:tbl>")
    return "".join(xml)


def _attachments(content: Content) -> list[str]:
    """Return the 附件说明 one blank line below the body: ``附件：1. 名称``, wrapped lines aligned with the names."""
    names = [name.strip().rstrip("。；;，,.") for name in content.attachments if name.strip()]
    if not names:
        return []
    label = 2 * CHAR + 3 * CHAR  # "附件：" starts 2 characters in
    if len(names) == 1:
        return [_p("GbAttachments", _r(f"附件：{names[0]}", FS), before=LINE, left=label, hanging=3 * CHAR)]
    # "1." in Times New Roman is 12 pt wide, "10." 20 pt; a 4 pt gap follows, as a space would.
    numbers = [f"{index}." for index in range(1, len(names) + 1)]
    start = label + round((8 * (len(numbers[-1]) - 1) + 4 + 4) * 20)
    parts = []
    for index, (number, name) in enumerate(zip(numbers, names, strict=True)):
        tab = f'<w:tab w:val="left" w:pos="{start}"/>'
        if index == 0:
            runs = _r(f"附件：{number}\t{name}", FS)
            parts.append(_p("GbAttachments", runs, before=LINE, tabs=tab, left=start, hanging=start - 2 * CHAR))
        else:
            parts.append(_p("GbAttachments", _r(f"{number}\t{name}", FS), tabs=tab, left=start, hanging=start - label))
    return parts


def _signature(content: Content) -> list[str]:
    """Return the unsealed signature and date (§7.3.5.2).

    The issuer one blank line below the body, 2 characters in from the right; the date on the next line, its first
    character 2 characters right of the issuer's; when the date is the longer, the issuer moves right so that the date
    keeps 2 characters from the right edge.
    """
    signer = (content.signer_title or content.issuer).strip()
    date = chinese_date(content.signed_on) if content.signed_on else ""
    if not signer and not date:
        return []
    signer_width, date_width = _width(signer), _width(date)
    signer_right = max(2.0, 4 + date_width - signer_width) if date else 2.0
    date_right = max(2.0, signer_width - date_width)
    parts = []
    if signer:
        parts.append(_p("GbSignature", _r(signer, FS), before=LINE, right=round(signer_right * CHAR)))
    if date:
        parts.append(_p("GbDate", _r(date, FS), right=round(date_right * CHAR), before=0 if signer else LINE))
    return parts


def _attendance(content: Content) -> list[str]:
    """Return the minutes' 出席 / 请假 / 列席 lists one blank line below the body, labels in 3号黑体."""
    parts = []
    label = 2 * CHAR + 3 * CHAR
    for name, word in ATTENDANCE:
        texts = [block.full_text for block in content.extra.get(name, ()) if block.full_text.strip()]
        for index, text in enumerate(texts):
            runs = (_r(f"{word}：", HT) if index == 0 else "") + _r(text, FS)
            hanging = 3 * CHAR if index == 0 else 0
            parts.append(_p("GbAttendance", runs, before=0 if parts else LINE, left=label, hanging=hanging))
    return parts


def _note(content: Content) -> list[str]:
    """Return the 附注 on the line after the date, indented 2 characters, in （）."""
    note = content.note.strip()
    if not note:
        return []
    if not (note.startswith(("（", "(")) and note.endswith(("）", ")"))):
        note = f"（{note}）"
    return [_p("GbNote", _r(note, FS))]


# --- the 版记 -------------------------------------------------------------------------------------------------------


def _imprint(content: Content, layout: str) -> list[str]:
    """Return the 版记 as a table floated to the foot of the text area, and the paragraph that anchors it.

    A table anchored at the bottom of the margin stays on the last page, whatever the length of the body: Word and
    LibreOffice both place it there and flow the text above it; when the page is full, it moves to a page of its own
    with the paragraph it is anchored to. The rules are the table's borders: the first and last thick (0.35 mm,
    sz 8), the one between the rows thin (0.25 mm, sz 6); the letter format has none.
    """
    copies = [name.strip().rstrip("，,、；;。.") for name in content.copy_recipients if name.strip()]
    rows = []
    if copies:
        text = "抄送：" + "，".join(copies) + "。"
        rows.append(
            _p("GbImprint", _r(text, FS, size=14), left=4 * SMALL_CHAR, hanging=3 * SMALL_CHAR, right=SMALL_CHAR)
        )
    if layout != "gb_letter":
        printer = (content.printer or content.issuer).strip()
        day = content.printed_on or content.signed_on
        printed = f"{chinese_date(day)}印发" if day else ""
        tab = f'<w:tab w:val="right" w:pos="{TEXT_WIDTH - SMALL_CHAR}"/>'
        rows.append(_p("GbImprint", _r(f"{printer}\t{printed}", FS, size=14), tabs=tab, left=SMALL_CHAR))
    if not rows:
        return []
    if layout == "gb_letter":
        borders = ""
    else:
        borders = (
            '<w:tblBorders><w:top w:val="single" w:sz="8" w:space="0" w:color="000000"/>'
            '<w:bottom w:val="single" w:sz="8" w:space="0" w:color="000000"/>'
            '<w:insideH w:val="single" w:sz="6" w:space="0" w:color="000000"/></w:tblBorders>'
        )
    cells = "".join(
        f'<w:tr><w:trPr><w:cantSplit/></w:trPr><w:tc><w:tcPr><w:tcW w:w="{TEXT_WIDTH}" w:type="dxa"/></w:tcPr>'
        f"{row}</w:tc></w:tr>"
        for row in rows
    )
    table = (
        '<w:tbl><w:tblPr><w:tblpPr w:leftFromText="0" w:rightFromText="0" w:topFromText="0" w:bottomFromText="0" '
        f'w:vertAnchor="margin" w:horzAnchor="page" w:tblpX="{LEFT}" w:tblpYSpec="bottom"/>'
        f'<w:tblOverlap w:val="never"/><w:tblW w:w="{TEXT_WIDTH}" w:type="dxa"/>{borders}'
        '<w:tblLayout w:type="fixed"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="0" w:type="dxa"/>'
        '<w:bottom w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/></w:tblCellMar>'
        '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" w:noHBand="0" '
        f'w:noVBand="0"/></w:tblPr><w:tblGrid><w:gridCol w:w="{TEXT_WIDTH}"/></w:tblGrid>{cells}</w:tbl>'
    )
    # The anchor: as small as a paragraph can be, so that it never pushes the 版记 to a page of its own.
    anchor = _p("", "", snap=False, line=20, size=1)
    return [table, anchor]


# --- page set-up, headers and footers -------------------------------------------------------------------------


def _set_up_page(document: Document, section: Section) -> None:
    """Set A4, the margins of the standard and the 22 × 28 document grid."""
    section.page_width, section.page_height = Twips(PAGE_WIDTH), Twips(PAGE_HEIGHT)
    section.top_margin, section.bottom_margin = Twips(TOP), Twips(BOTTOM)
    section.left_margin, section.right_margin = Twips(LEFT), Twips(RIGHT)
    section.gutter = Twips(0)
    section.footer_distance = Twips(FOOTER_DISTANCE)
    section.header_distance = Twips(round(15 * MM))
    grid = document.element.body.sectPr.find(qn("w:docGrid"))
    grid.attrib.clear()
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(LINE))
    grid.set(qn("w:charSpace"), str(CHAR_SPACE))


def _set_page_numbers(section: Section, layout: str) -> None:
    """Put ``— N —`` in the footers: odd pages on the right, even pages on the left, one 4号 character in."""
    lift = 0
    if layout == "gb_letter":
        # The letter's footer distance is set by its second double line; page numbers keep their own height.
        lift = FOOTER_DISTANCE - LETTER_FOOTER_DISTANCE
    number = (
        _r("— ", ST)
        + (f'<w:fldSimple w:instr=" PAGE "><w:r><w:rPr>{_rpr(ST)}</w:rPr><w:t>1</w:t></w:r></w:fldSimple>')
        + _r(" —", ST)
    )
    _replace_story(section.footer, _p("GbPageNumber", number, jc="right", right=SMALL_CHAR, after=lift))
    _replace_story(section.even_page_footer, _p("GbPageNumber", number, jc="left", left=SMALL_CHAR, after=lift))


def _set_letterhead(section: Section, mark_lines: list[str]) -> None:
    """Put the letter's issuer and first red double line in page 1's header, the second double line in its footer."""
    section.different_first_page_header_footer = True
    size = _mark_size(mark_lines, "gb_letter")
    height = round(size * MARK_LEADING * 20)
    ink_top = 0.8 * height / 20 - INK_ASCENT * size
    ink_foot = 0.2 * height / 20 - INK_DESCENT * size
    section.header_distance = Twips(round((LETTER_MARK_TOP - ink_top) * 20))
    # Thick over thin: a "thickThin" border draws its thick line on the side of the text, its thin line outside.
    space = max(0, round(4 * 72 / 25.4 - ink_foot))
    line = f'<w:bottom w:val="thickThinSmallGap" w:sz="18" w:space="{space}" w:color="{RED}"/>'
    paragraphs = [
        _p(
            "GbMark",
            _r(text, XBS, size=size, color=RED),
            line=height,
            left=-LETTER_OVERHANG,
            right=-LETTER_OVERHANG,
            border=line if index == len(mark_lines) - 1 else "",
        )
        for index, text in enumerate(mark_lines)
    ]
    _replace_story(section.first_page_header, *paragraphs)
    section.footer_distance = Twips(LETTER_FOOTER_DISTANCE)
    # Thin over thick: on a top border, the thin line is outside, above.
    line = f'<w:top w:val="thickThinSmallGap" w:sz="18" w:space="0" w:color="{RED}"/>'
    footer = _p("GbPageNumber", "", line=20, size=1, left=-LETTER_OVERHANG, right=-LETTER_OVERHANG, border=line)
    _replace_story(section.first_page_footer, footer)


def _replace_story(story: _Header | _Footer, *paragraphs: str) -> None:
    """Replace the content of a header or footer with `paragraphs`."""
    element = story._element  # python-docx has no public way to put raw paragraphs in a header or footer
    for child in list(element):
        element.remove(child)
    for paragraph in parse_xml(f"<w:hdr {nsdecls('w')}>{''.join(paragraphs)}</w:hdr>"):
        element.append(paragraph)


# --- styles, fonts, settings --------------------------------------------------------------------------------------


def _set_up_styles(document: Document) -> None:
    """Set 3号仿宋 as the default, drop the template's theme fonts and add the named styles of the elements."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault"))
    run_defaults.remove(run_defaults.find(qn("w:rPr")))
    # 16 pt: the grid's character spacing is added to this size, so it must be 三号 for 28 characters a line.
    run_defaults.append(
        parse_xml(
            f'<w:rPr {nsdecls("w")}>{_rfonts(FS)}<w:sz w:val="32"/><w:szCs w:val="32"/>'
            '<w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/></w:rPr>'
        )
    )
    paragraph_defaults = defaults.find(qn("w:pPrDefault"))
    paragraph_defaults.remove(paragraph_defaults.find(qn("w:pPr")))
    paragraph_defaults.append(
        parse_xml(f'<w:pPr {nsdecls("w")}><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>')
    )
    # A theme font wins over a named one: every style of the template must lose them.
    for fonts in styles.iter(qn("w:rFonts")):
        for attribute in _THEME_ATTRIBUTES:
            fonts.attrib.pop(attribute, None)
    # Normal carries the size too: LibreOffice takes the grid's character size from Normal, not from the defaults.
    normal = styles.xpath("w:style[@w:styleId='Normal']")[0]
    normal.append(parse_xml(f"<w:rPr {nsdecls('w')}>{_rfonts(FS)}{_size(16)}</w:rPr>"))
    added = "".join(_style_xml(*style) for style in STYLES)
    styles.extend(list(parse_xml(f"<w:styles {nsdecls('w')}>{added}</w:styles>")))


def _style_xml(style_id: str, name: str, fonts: tuple[str, str], size: int, ppr: dict, color: str = "") -> str:
    """Return the XML of a paragraph style based on Normal: off the grid, one grid line high, unless `ppr` says.

    No automatic space between Chinese and Latin letters or digits either (in Word; LibreOffice ignores the setting):
    2026年7月1日 and 〔2026〕12号 stay tight, as the standard prints them, and the signature can count on their width.
    """
    condensed = f'<w:spacing w:val="{CONDENSED}"/>' if size == 16 else ""
    rpr = _rfonts(fonts) + (f'<w:color w:val="{color}"/>' if color else "") + condensed + _size(size)
    ppr = {"snap": False, "tight": True, "line": LINE} | ppr
    return (
        f'<w:style w:type="paragraph" w:customStyle="1" w:styleId="{style_id}"><w:name w:val="{name}"/>'
        f'<w:basedOn w:val="Normal"/><w:qFormat/>{_ppr("", **ppr)}<w:rPr>{rpr}</w:rPr></w:style>'
    )


def _set_up_fonts(document: Document) -> None:
    """Describe the Chinese fonts in the font table, each with the face that stands in for it."""
    entries = "".join(
        f'<w:font w:name="{name}"><w:altName w:val="{alternative}"/><w:panose1 w:val="{panose}"/>'
        f'<w:charset w:val="86"/><w:family w:val="{family}"/><w:pitch w:val="{pitch}"/></w:font>'
        for name, alternative, panose, family, pitch in FONT_TABLE
    )
    table = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<w:fonts {nsdecls("w")}><w:font w:name="{LATIN}"><w:panose1 w:val="02020603050405020304"/>'
        '<w:charset w:val="00"/><w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>'
        f"{entries}</w:fonts>"
    )
    for rel in document.part.rels.values():
        if rel.reltype.endswith("/fontTable"):
            rel.target_part._blob = table.encode()  # a plain part: python-docx keeps its bytes and no setter


def _set_up_settings(document: Document) -> None:
    """Turn on separate odd and even page footers and make Chinese the theme's East Asian language."""
    settings = document.settings
    settings.odd_and_even_pages_header_footer = True
    language = settings.element.find(qn("w:themeFontLang"))
    if language is not None:
        language.set(qn("w:eastAsia"), "zh-CN")


# --- XML --------------------------------------------------------------------------------------------------------


def _ppr(
    style: str = "",
    *,
    keep: bool = False,
    border: str = "",
    tabs: str = "",
    snap: bool = True,
    tight: bool = False,
    before: int | None = None,
    after: int | None = None,
    line: int = 0,
    left: int | None = None,
    right: int | None = None,
    hanging: int = 0,
    first_chars: int = 0,
    jc: str = "",
    size: int = 0,
) -> str:
    """Return paragraph properties in the order the schema (and Word) requires; sizes in twips."""
    xml = [f'<w:pStyle w:val="{style}"/>' if style else ""]
    xml.append("<w:keepNext/><w:keepLines/>" if keep else "")
    xml.append(f"<w:pBdr>{border}</w:pBdr>" if border else "")
    xml.append(f"<w:tabs>{tabs}</w:tabs>" if tabs else "")
    xml.append('<w:autoSpaceDE w:val="0"/><w:autoSpaceDN w:val="0"/>' if tight else "")
    xml.append("" if snap else '<w:snapToGrid w:val="0"/>')
    spacing = ""
    if before is not None:
        spacing += f' w:before="{before}"'
    if after is not None:
        spacing += f' w:after="{after}"'
    if line:
        spacing += f' w:line="{line}" w:lineRule="exact"'
    xml.append(f"<w:spacing{spacing}/>" if spacing else "")
    indent = ""
    if left is not None:
        indent += f' w:left="{left}"'
    if right is not None:
        indent += f' w:right="{right}"'
    if hanging:
        indent += f' w:hanging="{hanging}"'
    if first_chars:
        indent += f' w:firstLineChars="{first_chars * 100}" w:firstLine="{first_chars * CHAR}"'
    xml.append(f"<w:ind{indent}/>" if indent else "")
    xml.append(f'<w:jc w:val="{jc}"/>' if jc else "")
    xml.append(f"<w:rPr>{_size(size)}</w:rPr>" if size else "")
    return f"<w:pPr>{''.join(xml)}</w:pPr>"


def _p(style: str, runs: str, **properties: Any) -> str:
    """Return a paragraph of `style` holding `runs`, with direct paragraph properties (see `_ppr`)."""
    return f"<w:p>{_ppr(style, **properties)}{runs}</w:p>"


def _rfonts(fonts: tuple[str, str]) -> str:
    """Return the fonts of a run: (Latin, East Asian)."""
    latin, east = fonts
    # hint: quotes and dashes, which both scripts share, take the East Asian (full-width) font.
    return f'<w:rFonts w:ascii="{latin}" w:hAnsi="{latin}" w:eastAsia="{east}" w:cs="{latin}" w:hint="eastAsia"/>'


def _size(points: float) -> str:
    """Return a size in points as Word writes it, in half-points."""
    return f'<w:sz w:val="{round(points * 2)}"/><w:szCs w:val="{round(points * 2)}"/>'


def _rpr(fonts: tuple[str, str], size: float = 0, color: str = "") -> str:
    """Return the properties of a run, in the order the schema requires."""
    return _rfonts(fonts) + (f'<w:color w:val="{color}"/>' if color else "") + (_size(size) if size else "")


def _r(text: str, fonts: tuple[str, str], *, size: float = 0, color: str = "") -> str:
    """Return a run of `text` with its fonts (East Asian included); tabs and line breaks become their elements."""
    content = []
    for piece in re.split(r"(\t|\n)", clean_text(text)):
        if piece == "\t":
            content.append("<w:tab/>")
        elif piece == "\n":
            content.append("<w:br/>")
        elif piece:
            content.append(f'<w:t xml:space="preserve">{escape(piece)}</w:t>')
    return f"<w:r><w:rPr>{_rpr(fonts, size, color)}</w:rPr>{''.join(content)}</w:r>"


def _width(text: str) -> float:
    """Return the width of `text` in 3号 characters: Chinese and full-width 1, Latin letters and digits 1/2."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)
