"""Check and fill the office's own Word templates: ``{{ title }}``, ``{% for r in main_recipients %}`` and friends.

An administrator uploads a .docx with placeholders; `inspect_template` checks it at upload (naming every unknown
placeholder and refusing anything that is not a placeholder, a loop or a condition), and `render_template` fills it
from a `Content`.

The template language is a small, hand-written subset of Jinja's syntax rather than Jinja itself (or docxtpl):

- a template is data uploaded by users, and the only things it may do are name a value, repeat a part for each item
  of a list and keep a part on a condition. A fixed grammar makes "cannot run code" true by construction instead of
  depending on a sandbox, and lets every problem be reported at upload, all at once;
- Word's XML, not the text, is what gets repeated: a loop must copy whole paragraphs, table rows or runs, which a
  text template engine cannot see (docxtpl needs special ``{%tr %}`` tags for it);
- values go into the XML tree as text nodes, so ``&``, ``<`` and ``>`` can never break the document (docxtpl with its
  default environment truncated documents on them).

The language (spaces inside the braces are optional, ``{%-`` and ``-%}`` are read as ``{%`` and ``%}``):

==========================================  =========================================================================
``{{ title }}``                              a value (see `PLACEHOLDERS`); lists come out joined: "A, B" or "A、B"
``{{ title | upper }}``                      the filters ``upper`` and ``lower``, and nothing else
``{{ body }}`` alone in a paragraph          one paragraph per block of the body, in that paragraph's formatting
                                             (headings of levels 1–2 bold, or in 黑体/楷体 in Chinese); tables
                                             become Word tables (likewise ``{{ extra.resolved }}`` …)
``{% for r in main_recipients %}`` …         repeat what lies between for each item; ``{{ r }}`` is the item,
``{% endfor %}``                             ``{{ loop.index }}`` its number (1, 2 …), ``loop.first``/``loop.last``
``{% if note %}`` … ``{% else %}`` …         keep one part or the other: the value is not blank (``if not`` too)
``{% endif %}``
==========================================  =========================================================================

Where the tags sit decides what repeats: both tags inside one paragraph repeat the text between them; each alone in
its own paragraph, the paragraphs between; each alone in its own table row, the rows between. Word splits typed text
into many runs (spelling marks, revisions, a formatting change inside the braces): a tag split over several runs is
joined into its first run, whose formatting the value then takes.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from collections import ChainMap
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import docx
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.part import XmlPart
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement

from docstore.directives.content import Block, Content, body_text, chinese_date, spanish_date
from docstore.directives.package import NOT_IN_XML
from docstore.directives.wordgb import HEITI, KAITI
from docstore.errors import N_, Msg, TemplateInvalid
from storage.parsers import Refused, check_zip
from storage.safexml import parse_xml

#: Every value a template may name -> what it is, for the administrators' page (English, marked for translation).
PLACEHOLDERS: dict[str, str] = {
    "number": N_("The directive's number, e.g. 代字〔2026〕12号 or 2026/000123; blank on a draft"),
    "title": N_("The title"),
    "issuer": N_("The issuing body"),
    "issuer_mark": N_("The issuing body as its letterhead or red header prints it (default: the issuer)"),
    "date": N_(
        "The date of signature as the document's language writes it: 2026年7月1日, 1 de julio de 2026; blank on a draft"
    ),
    "subject": N_("The subject (ASUNTO); the title when there is none"),
    "their_reference": N_("Their reference (S/REF)"),
    "place": N_("The place of the date line, e.g. Madrid"),
    "urgency": N_("The urgency as printed: 特急, URGENTE; blank when ordinary"),
    "classification": N_("The classification as printed: 机密★1年, RESERVADO; blank when unclassified"),
    "copy_number": N_("The copy number (份号) of a classified document"),
    "signer": N_("The signer's name"),
    "signer_title": N_("The signer's post (antefirma)"),
    "note": N_("The note (附注)"),
    "address": N_("The unit's address"),
    "printer": N_("The body that prints the document (印发机关); default: the issuer"),
    "print_date": N_("The printing date (印发日期), written like the date; default: the date of signature"),
    "body": N_(
        "The body. Alone in a paragraph: one paragraph per block, in that paragraph's formatting, headings "
        "and points numbered, tables as Word tables. Within other text: the plain text"
    ),
    "main_recipients": N_("The main recipients: a list to loop over, or all of them joined by commas"),
    "copy_recipients": N_("The copy recipients: a list to loop over, or all of them joined by commas"),
    "attachments": N_("The attachments' names: a list to loop over, or all of them joined by commas"),
    "extra.background": N_("Resolución: the antecedentes de hecho (blocks, like the body)"),
    "extra.grounds": N_("Resolución: the fundamentos de derecho (blocks, like the body)"),
    "extra.resolved": N_("Resolución: what is resolved, RESUELVO (blocks, like the body)"),
    "extra.appeal": N_("Resolución: the appeals footer (blocks, like the body)"),
    "extra.present": N_("Minutes: those present (出席) (blocks, like the body)"),
    "extra.absent": N_("Minutes: those excused (请假) (blocks, like the body)"),
    "extra.attending": N_("Minutes: those in attendance (列席) (blocks, like the body)"),
}

#: Values that are lists of strings, and lists of body blocks.
LISTS = ("main_recipients", "copy_recipients", "attachments")
BLOCK_LISTS = ("body", *(name for name in PLACEHOLDERS if name.startswith("extra.")))
FILTERS = {"upper": str.upper, "lower": str.lower}

_SEPARATORS = {"zh": "、", "es": ", "}

_W_P, _W_R, _W_T, _W_PPR, _W_RPR = qn("w:p"), qn("w:r"), qn("w:t"), qn("w:pPr"), qn("w:rPr")
_W_TBL, _W_TR, _W_TC, _W_SECTPR = qn("w:tbl"), qn("w:tr"), qn("w:tc"), qn("w:sectPr")
_W_SDT, _W_SDTCONTENT, _W_TXBX = qn("w:sdt"), qn("w:sdtContent"), qn("w:txbxContent")
_W_BODY, _W_HDR, _W_FTR = qn("w:body"), qn("w:hdr"), qn("w:ftr")
_W14_IDS = (qn("w14:paraId"), qn("w14:textId"))
_BOOKMARKS = (qn("w:bookmarkStart"), qn("w:bookmarkEnd"))
#: Elements whose runs are not the paragraph's own text: text boxes are processed as containers of their own,
#: deleted revisions hold no current text.
_NOT_OWN_TEXT = {_W_TXBX, qn("w:del"), qn("w:moveFrom"), _W_PPR}
#: Elements that hold runs inside a paragraph (links, tracked insertions, fields, content controls …).
_INLINE_CONTAINERS = {
    qn(f"w:{name}") for name in ("hyperlink", "ins", "moveTo", "smartTag", "customXml", "fldSimple", "dir", "bdo")
}
_MUST_HOLD_PARAGRAPH = {_W_TC, _W_HDR, _W_FTR, _W_TXBX}

_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_EXPR = rf"{_NAME}(?:\.{_NAME})?"  # no leading underscores: no __class__, no _private
_VALUE = re.compile(rf"({_EXPR})((?:\s*\|\s*{_NAME})*)")
_FOR = re.compile(rf"for\s+({_NAME})\s+in\s+({_EXPR})")
_IF = re.compile(rf"if\s+(not\s+)?({_EXPR})")
#: Placeholders of other systems (Velocity/Freemarker, Orfeo, Word mail merge), reported so the admin can fix them.
_FOREIGN = re.compile(r"\$\{[^{}]{1,60}\}|«[^«»]{1,60}»|\*{1,2}[A-Z][A-Z0-9_]{1,40}\*{1,2}|\[\[[^\[\]]{1,60}\]\]")
_MERGEFIELD = re.compile(r"MERGEFIELD\s+(\S+)")
#: Characters XML 1.0 cannot hold.

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_STRICT_OFFICE_DOCUMENT = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
_PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
#: The biggest XML part a template may have: python-docx holds the parsed tree, several times the size, in memory.
MAX_TEMPLATE_XML_BYTES = 32 * 1024 * 1024
_TEXT_WIDTH = 9026  # twips: A4 less 2.54 cm margins, when the template says nothing

# The error kinds, in the order their messages are given.
_UNCLOSED, _FORBIDDEN, _UNKNOWN, _UNMATCHED, _NOT_A_LIST, _LOOP_NAME = (
    "unclosed",
    "forbidden",
    "unknown",
    "unmatched",
    "not_a_list",
    "loop_name",
)
_MESSAGES = {
    _UNCLOSED: N_("Tags not closed within their paragraph: %(tags)s."),
    _FORBIDDEN: N_(
        "Not allowed in a template: %(tags)s. A template may only name values, such as {{ title }} or "
        "{{ title | upper }}, repeat with {%% for x in list %%}…{%% endfor %%} and choose with "
        "{%% if name %%}…{%% endif %%}."
    ),
    _UNKNOWN: N_("Unknown placeholders: %(tags)s."),
    _UNMATCHED: N_(
        "Unmatched tags: %(tags)s. Each {%% for %%} and {%% if %%} needs its {%% endfor %%} or "
        "{%% endif %%} in the same paragraph, the same table cell or the rows of the same table."
    ),
    _NOT_A_LIST: N_("Only lists can be repeated: %(tags)s."),
    _LOOP_NAME: N_("A loop's variable must not be named like a placeholder: %(tags)s."),
}


@dataclass(frozen=True)
class TemplateReport:
    """What an uploaded template uses, for the administrators' page."""

    placeholders: tuple[str, ...]  # the values it names, sorted: ("body", "date", "main_recipients", "number")
    loops: tuple[str, ...]  # the lists it repeats over, sorted
    conditions: tuple[str, ...]  # the values its {% if %} tags test, sorted
    parts: tuple[str, ...]  # the package parts holding tags: "/word/document.xml", "/word/header1.xml"
    paragraphs: int  # in the body, headers and footers
    tables: int
    #: Markers of other systems that Docstore leaves alone (``${name}``, ``*NAME*``, ``«name»``, MERGEFIELD name).
    foreign: tuple[str, ...] = ()


def inspect_template(data: bytes) -> TemplateReport:
    """Return what the template `data` uses; raise TemplateInvalid naming every problem found in it."""
    document = _open(data)
    filler = _Filler(_sample_values(), "es", inspecting=True)
    paragraphs = tables = 0
    foreign: dict[str, None] = {}
    for part in _story_parts(document):
        paragraphs += sum(1 for _ in part.element.iter(_W_P))
        tables += sum(1 for _ in part.element.iter(_W_TBL))
        foreign.update(dict.fromkeys(_foreign_markers(part.element)))
        filler.fill_part(part)
    filler.raise_errors()
    return TemplateReport(
        placeholders=tuple(sorted(filler.used)),
        loops=tuple(sorted(filler.loops)),
        conditions=tuple(sorted(filler.conditions)),
        parts=tuple(filler.parts),
        paragraphs=paragraphs,
        tables=tables,
        foreign=tuple(foreign),
    )


def render_template(data: bytes, content: Content) -> bytes:
    """Return the template `data` filled with `content`, as .docx bytes; raise TemplateInvalid if it is unusable."""
    document = _open(data)
    filler = _Filler(template_values(content), content.language, inspecting=False)
    for part in _story_parts(document):
        filler.fill_part(part)
    filler.raise_errors()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def template_values(content: Content) -> dict[str, Any]:
    """Return the value of every placeholder for `content`: strings, tuples of strings, tuples of blocks."""
    written = chinese_date if content.language == "zh" else spanish_date
    signed = written(content.signed_on) if content.signed_on else ""
    printed_on = content.printed_on or content.signed_on
    values: dict[str, Any] = {
        "number": content.number,
        "title": content.title,
        "issuer": content.issuer,
        "issuer_mark": content.mark,
        "date": signed,
        "subject": content.subject or content.title,
        "their_reference": content.their_reference,
        "place": content.place,
        "urgency": content.urgency,
        "classification": content.classification,
        "copy_number": content.copy_number,
        "signer": content.signer,
        "signer_title": content.signer_title,
        "note": content.note,
        "address": content.address,
        "printer": content.printer or content.issuer,
        "print_date": written(printed_on) if printed_on else "",
        "body": content.body,
        "main_recipients": content.main_recipients,
        "copy_recipients": content.copy_recipients,
        "attachments": content.attachments,
    }
    for name in BLOCK_LISTS[1:]:
        values[name] = content.extra.get(name.removeprefix("extra."), ())
    return values


def _sample_values() -> dict[str, Any]:
    """Return a value for every placeholder, each list with one item, so that inspecting walks every tag."""
    values: dict[str, Any] = dict.fromkeys(PLACEHOLDERS, "x")
    values.update(dict.fromkeys(LISTS, ("x",)))
    values.update(dict.fromkeys(BLOCK_LISTS, (Block("paragraph", "x"),)))
    return values


# ---------------------------------------------------------------------------------------------------------------
# Opening an upload safely


def _invalid(text: str, **params: Any) -> TemplateInvalid:
    return TemplateInvalid({"file": Msg(text, **params)})


def _open(data: bytes) -> docx.document.Document:
    """Return the python-docx document of `data` after checking, before python-docx sees it, that it is a safe .docx."""
    if not data:
        raise _invalid(N_("The file is empty."))
    if data.startswith(_OLE2):
        raise _invalid(
            N_(
                "The file is a password-protected Word document or an old Word 97–2003 .doc file. Remove "
                "the password, or save it in Word as “Word Document (.docx)”, and upload it again."
            )
        )
    if not data.startswith(b"PK"):
        raise _invalid(N_("The file is not a Word document (.docx)."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, EOFError) as exc:
        raise _invalid(N_("The file is damaged: it cannot be opened as a Word document (.docx).")) from exc
    with archive:
        try:
            check_zip(archive, "it")
        except Refused as exc:
            raise _invalid(N_("The file cannot be accepted: %(reason)s."), reason=exc.extraction.reason) from exc
        _check_xml_sizes(archive)
        _check_package(archive)
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:  # hostile or broken files raise KeyError, ValueError, XMLSyntaxError and more
        raise _invalid(
            N_(
                "The file cannot be read as a Word document (%(detail)s). Open it in Word or LibreOffice and save it "
                "again as .docx."
            ),
            detail=f"{type(exc).__name__}: {exc}"[:200],
        ) from exc


def _check_xml_sizes(archive: zipfile.ZipFile) -> None:
    """Raise TemplateInvalid when an XML part is too big to parse safely (no real template comes close)."""
    for entry in archive.infolist():
        if entry.filename.endswith((".xml", ".rels")) and entry.file_size > MAX_TEMPLATE_XML_BYTES:
            raise _invalid(
                N_(
                    "The file cannot be accepted: its part %(part)s would expand to %(size)s MB, "
                    "more than the %(limit)s MB a template may have."
                ),
                part=entry.filename,
                size=f"{entry.file_size / 2**20:,.0f}",
                limit=f"{MAX_TEMPLATE_XML_BYTES / 2**20:,.0f}",
            )


def _check_package(archive: zipfile.ZipFile) -> None:
    """Raise TemplateInvalid unless `archive` is a plain Word document: not strict, not macro-enabled, not a .dotx."""
    names = set(archive.namelist())
    if "_rels/.rels" not in names or "[Content_Types].xml" not in names:
        raise _invalid(N_("The file is not a Word document (.docx): it is a zip archive of something else."))
    try:
        rels = parse_xml(archive.read("_rels/.rels"))
        types = parse_xml(archive.read("[Content_Types].xml"))
    except Exception as exc:  # malformed XML, a damaged entry
        raise _invalid(N_("The file is damaged: its package description cannot be read.")) from exc
    targets = {rel.get("Type"): rel.get("Target", "") for rel in rels.iter(_PACKAGE_RELS)}
    if _STRICT_OFFICE_DOCUMENT in targets:
        raise _invalid(
            N_(
                "The file is saved as “Strict Open XML Document”, which cannot be read. Save it in Word as "
                "“Word Document (.docx)” and upload it again."
            )
        )
    if _OFFICE_DOCUMENT not in targets:
        raise _invalid(N_("The file is not a Word document (.docx)."))
    main = "/" + targets[_OFFICE_DOCUMENT].lstrip("/")
    content_type = next(
        (
            override.get("ContentType", "")
            for override in types.iter(f"{_CONTENT_TYPES}Override")
            if override.get("PartName", "").lower() == main.lower()
        ),
        "",
    )
    if content_type == CT.WML_DOCUMENT_MAIN:
        return
    if "macroEnabled" in content_type:
        raise _invalid(
            N_(
                "The file contains macros (.docm or .dotm), which are not accepted. Save it in Word as "
                "“Word Document (.docx)” and upload it again."
            )
        )
    if "wordprocessingml.template" in content_type:
        raise _invalid(
            N_("The file is a Word template (.dotx). Open it, save it as “Word Document (.docx)” and upload that.")
        )
    raise _invalid(N_("The file is not a Word document (.docx)."))


def _story_parts(document: docx.document.Document) -> Iterator[XmlPart]:
    """Yield the parts that hold text: the main document first, then headers and footers in name order."""
    wanted = (CT.WML_HEADER, CT.WML_FOOTER)
    yield document.part
    others = [
        part for part in document.part.package.iter_parts() if part.content_type in wanted and isinstance(part, XmlPart)
    ]
    yield from sorted(others, key=lambda part: str(part.partname))


def _foreign_markers(root: Any) -> Iterator[str]:
    for paragraph in root.iter(_W_P):
        yield from _FOREIGN.findall("".join(t.text or "" for t in _own_texts(paragraph)))
    for instruction in root.iter(qn("w:instrText")):
        if found := _MERGEFIELD.search(instruction.text or ""):
            yield f"MERGEFIELD {found.group(1)}"


# ---------------------------------------------------------------------------------------------------------------
# Tags


@dataclass(frozen=True)
class _Tag:
    """One parsed ``{{ }}`` or ``{% %}`` tag."""

    source: str
    kind: str  # "value", "for", "if", "else", "endfor", "endif"
    expr: str = ""
    var: str = ""
    filters: tuple[str, ...] = ()
    negated: bool = False


def _parse_tag(source: str) -> _Tag | None:
    """Return the tag `source` (``{{ … }}`` or ``{% … %}``), or None when the grammar does not allow it."""
    inner = source[2:-2].strip().removeprefix("-").removesuffix("-").strip()
    if source.startswith("{{"):
        if value := _VALUE.fullmatch(inner):
            filters = tuple(name.strip() for name in value.group(2).split("|")[1:])
            return _Tag(source, "value", expr=value.group(1), filters=filters)
        return None
    if inner in ("else", "endfor", "endif"):
        return _Tag(source, inner)
    if loop := _FOR.fullmatch(inner):
        return _Tag(source, "for", expr=loop.group(2), var=loop.group(1))
    if condition := _IF.fullmatch(inner):
        return _Tag(source, "if", expr=condition.group(2), negated=bool(condition.group(1)))
    return None


def _own_texts(element: Any) -> Iterator[Any]:
    """Yield the w:t elements of `element`'s own text, in order (not those of its text boxes)."""
    for child in element:
        if child.tag == _W_T:
            yield child
        elif isinstance(child.tag, str) and child.tag not in _NOT_OWN_TEXT:
            yield from _own_texts(child)


def _text_boxes(element: Any) -> Iterator[Any]:
    """Yield the outermost text boxes inside `element`."""
    for child in element:
        if child.tag == _W_TXBX:
            yield child
        elif isinstance(child.tag, str):
            yield from _text_boxes(child)


def _only_tag(element: Any) -> _Tag | None:
    """Return the tag that is the whole text of `element` (a paragraph, a row), or None."""
    text = "".join(t.text or "" for t in _own_texts(element)).strip()
    if text.startswith("{") and (found := _TAG.fullmatch(text)):
        return _parse_tag(found.group())
    return None


def _run_tag(run: Any) -> _Tag | str | None:
    """Return the tag a run holds alone (its source text when the tag is not allowed), or None."""
    children = [child for child in run if child.tag != _W_RPR]
    if len(children) != 1 or children[0].tag != _W_T:
        return None
    text = children[0].text or ""
    if not (text.startswith("{") and _TAG.fullmatch(text)):
        return None
    return _parse_tag(text) or text


def _new(tag: str, **attributes: str) -> Any:
    element = OxmlElement(tag)
    for name, value in attributes.items():
        element.set(qn(f"w:{name}"), value)
    return element


def _text_element(text: str) -> Any:
    element = OxmlElement("w:t")
    element.text = text
    element.set(qn("xml:space"), "preserve")
    return element


def _set_run_text(run: Any, text: str) -> None:
    """Make `text` the only content of `run`: line breaks become w:br, tabs w:tab; characters XML forbids go."""
    for child in list(run):
        if child.tag != _W_RPR:
            run.remove(child)
    text = NOT_IN_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    for number, line in enumerate(text.split("\n")):
        if number:
            run.append(_new("w:br"))
        for piece_number, piece in enumerate(line.split("\t")):
            if piece_number:
                run.append(_new("w:tab"))
            if piece:
                run.append(_text_element(piece))


def _set_bold(rpr: Any) -> None:
    """Make the run properties `rpr` bold (w:b goes after w:rStyle and w:rFonts, as the schema orders them)."""
    for old in rpr.findall(qn("w:b")):
        rpr.remove(old)
    position = sum(1 for child in rpr if child.tag in (qn("w:rStyle"), qn("w:rFonts")))
    rpr.insert(position, _new("w:b"))


def _set_east_asian_font(rpr: Any, font: str) -> None:
    """Set the font of the East Asian characters of the run properties `rpr` (a theme font would override it)."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = _new("w:rFonts")
        rpr.insert(1 if rpr.find(qn("w:rStyle")) is not None else 0, fonts)
    fonts.set(qn("w:eastAsia"), font)
    fonts.attrib.pop(qn("w:eastAsiaTheme"), None)


def _run(rpr: Any, text: str, bold: bool = False, east_asian_font: str = "") -> Any:
    run = OxmlElement("w:r")
    properties = copy.deepcopy(rpr) if rpr is not None else OxmlElement("w:rPr")
    if east_asian_font:
        _set_east_asian_font(properties, east_asian_font)
    if bold:
        _set_bold(properties)
    if len(properties):
        run.append(properties)
    _set_run_text(run, text)
    return run


def _copy(items: list[Any]) -> list[Any]:
    """Return a deep copy of a parsed sequence, without the ids and bookmarks that must stay unique in a document."""
    copied: list[Any] = []
    for item in items:
        if isinstance(item, _Node):
            start, end = copy.deepcopy(item.start), copy.deepcopy(item.end)
            copied.append(_Node(item.tag, start, _copy(item.body), _copy(item.orelse), end))
            continue
        element = copy.deepcopy(item)
        for descendant in element.iter():
            for name in _W14_IDS:
                descendant.attrib.pop(name, None)
        for bookmark in [e for e in element.iter(*_BOOKMARKS)]:
            bookmark.getparent().remove(bookmark)
        copied.append(element)
    return copied


@dataclass
class _Node:
    """A ``{% for %}`` or ``{% if %}`` and what it encloses, among the children of one element."""

    tag: _Tag
    start: Any
    body: list[Any] = field(default_factory=list)
    orelse: list[Any] = field(default_factory=list)
    end: Any = None
    in_else: bool = False


@dataclass(frozen=True)
class _Loop:
    index: int
    first: bool
    last: bool


# ---------------------------------------------------------------------------------------------------------------
# Filling


class _Filler:
    """Fill the parts of one document with `values`, collecting every problem on the way (one per call)."""

    def __init__(self, values: dict[str, Any], language: str, inspecting: bool) -> None:
        self.values = values
        self.language = language
        self.separator = _SEPARATORS.get(language, ", ")
        self.inspecting = inspecting  # walk both branches of every {% if %} and every loop at least once
        self.errors: dict[str, dict[str, None]] = {kind: {} for kind in _MESSAGES}
        self.used: set[str] = set()
        self.loops: set[str] = set()
        self.conditions: set[str] = set()
        self.parts: list[str] = []
        self.text_width = _TEXT_WIDTH

    def raise_errors(self) -> None:
        messages = [Msg(_MESSAGES[kind], tags=", ".join(tags)) for kind, tags in self.errors.items() if tags]
        if messages:
            raise TemplateInvalid({"file": Msg.join(messages)})

    def error(self, kind: str, source: str) -> None:
        self.errors[kind][source] = None

    def fill_part(self, part: XmlPart) -> None:
        root = part.element
        if not self._prepare(root):
            return
        self.parts.append(str(part.partname))
        body = root.find(_W_BODY)
        if body is not None:
            self.text_width = _text_width(body)
        self._container(body if body is not None else root, ChainMap(self.values), "block")

    def _prepare(self, root: Any) -> bool:
        """Join every tag split over several runs into its first run, then give each tag a run of its own.

        Return whether the part holds any tag.
        """
        found = False
        for paragraph in list(root.iter(_W_P)):
            texts = list(_own_texts(paragraph))
            full = "".join(t.text or "" for t in texts)
            if "{" not in full:
                continue
            rest = _TAG.sub("", full)
            for opening in re.finditer(r"\{[{%]", rest):
                snippet = rest[opening.start() : opening.start() + 30]
                self.error(_UNCLOSED, snippet.strip() + ("…" if len(snippet) == 30 else ""))
                found = True
            tags = [(match.start(), match.end()) for match in _TAG.finditer(full)]
            if not tags:
                continue
            found = True
            _join_split_tags(texts, full, tags)
            for run in {t.getparent() for t in texts if _TAG.search(t.text or "")}:
                _split_run(run)
        return found

    # Sequences of children: paragraphs and tables ("block"), table rows ("rows"), runs ("inline").

    def _container(self, parent: Any, scope: ChainMap, level: str) -> None:
        """Fill the children of `parent`, which are of `level`, repeating and dropping them as the tags say."""
        marker = {"block": self._block_marker, "rows": self._row_marker, "inline": self._inline_marker}[level]
        tree = self._nest([(child, marker(child)) for child in parent])
        parent[:] = self._emit(tree, scope, level)
        if level == "block":
            _keep_a_paragraph(parent)

    @staticmethod
    def _block_marker(child: Any) -> _Tag | None:
        if child.tag != _W_P:
            return None
        tag = _only_tag(child)
        return tag if tag is not None and tag.kind != "value" else None

    @staticmethod
    def _row_marker(child: Any) -> _Tag | None:
        if child.tag != _W_TR:
            return None
        tag = _only_tag(child)
        return tag if tag is not None and tag.kind != "value" else None

    @staticmethod
    def _inline_marker(child: Any) -> _Tag | None:
        if child.tag != _W_R:
            return None
        tag = _run_tag(child)
        return tag if isinstance(tag, _Tag) and tag.kind != "value" else None

    def _nest(self, items: list[tuple[Any, _Tag | None]]) -> list[Any]:
        """Return `items` as a tree: elements, and `_Node`s holding what their tags enclose; record strays."""
        root: list[Any] = []
        stack: list[_Node] = []

        def current() -> list[Any]:
            if not stack:
                return root
            return stack[-1].orelse if stack[-1].in_else else stack[-1].body

        for element, tag in items:
            if tag is None:
                current().append(element)
            elif tag.kind in ("for", "if"):
                node = _Node(tag, element)
                current().append(node)
                stack.append(node)
            elif tag.kind == "else" and stack and stack[-1].tag.kind == "if" and not stack[-1].in_else:
                stack[-1].in_else = True
            elif tag.kind in ("endfor", "endif") and stack and stack[-1].tag.kind == tag.kind[3:]:
                stack.pop().end = element
            else:
                self.error(_UNMATCHED, tag.source)
        for node in stack:
            self.error(_UNMATCHED, node.tag.source)
        return root

    def _emit(self, items: list[Any], scope: ChainMap, level: str) -> list[Any]:
        out: list[Any] = []
        for item in items:
            if isinstance(item, _Node):
                out.extend(self._emit_node(item, scope, level))
            else:
                out.extend(self._element(item, scope, level))
        return out

    def _emit_node(self, node: _Node, scope: ChainMap, level: str) -> list[Any]:
        out = _section_break(node.start)
        tag = node.tag
        if tag.kind == "for":
            items = self._iterable(tag, scope)
            if tag.var in PLACEHOLDERS or tag.var in ("loop", "extra"):
                self.error(_LOOP_NAME, tag.source)
            for index, item in enumerate(items):
                last = index == len(items) - 1
                inner = scope.new_child({tag.var: item, "loop": _Loop(index + 1, index == 0, last)})
                out.extend(self._emit(node.body if last else _copy(node.body), inner, level))
        else:
            value = self._lookup(tag.expr, tag.source, scope)
            if name := _base_name(tag.expr, scope):
                self.conditions.add(name)
            if self.inspecting:
                out.extend(self._emit(node.body, scope, level) + self._emit(node.orelse, scope, level))
            else:
                keep = bool(value) != tag.negated
                out.extend(self._emit(node.body if keep else node.orelse, scope, level))
        return out + _section_break(node.end)

    def _iterable(self, tag: _Tag, scope: ChainMap) -> tuple[Any, ...]:
        value = self._lookup(tag.expr, tag.source, scope)
        name = _base_name(tag.expr, scope)
        if name in PLACEHOLDERS:
            if name not in LISTS and name not in BLOCK_LISTS:
                self.error(_NOT_A_LIST, tag.source)
                value = ()
            else:
                self.loops.add(name)
        elif not isinstance(value, tuple):
            value = ()
        if self.inspecting and not value:
            value = ("",)  # still walk what the loop encloses, to check it
        return tuple(value)

    def _element(self, element: Any, scope: ChainMap, level: str) -> list[Any]:
        """Fill one element of `level`; return what replaces it (itself, nothing or several elements)."""
        name = element.tag
        if name == _W_SDT:  # a content control: its content is of the same level as itself
            content = element.find(_W_SDTCONTENT)
            if content is not None:
                self._container(content, scope, level)
        elif level == "block":
            return self._block_element(element, scope)
        elif level == "rows":
            if name == _W_TR:
                for cell in element.findall(_W_TC):
                    self._container(cell, scope, "block")
        elif name == _W_R:
            tag = _run_tag(element)
            if isinstance(tag, _Tag):
                return self._fill_run(element, tag, scope)
            if isinstance(tag, str):
                self.error(_FORBIDDEN, tag)
                return []
            for box in list(_text_boxes(element)):
                self._container(box, scope, "block")
        elif name in _INLINE_CONTAINERS:
            self._container(element, scope, "inline")
        return [element]

    def _block_element(self, element: Any, scope: ChainMap) -> list[Any]:
        if element.tag == _W_P:
            if (blocks := self._blocks_alone(element, scope)) is not None:
                return self._expand(element, blocks)
            self._container(element, scope, "inline")
        elif element.tag == _W_TBL:
            self._container(element, scope, "rows")
            if element.find(_W_TR) is None:
                return []  # every row was repeated zero times: Word refuses a table without rows
        elif element.tag == qn("w:customXml"):
            self._container(element, scope, "block")
        return [element]

    def _fill_run(self, run: Any, tag: _Tag, scope: ChainMap) -> list[Any]:
        text = self._text(self._lookup(tag.expr, tag.source, scope))
        for name in tag.filters:
            if name in FILTERS:
                text = FILTERS[name](text)
            else:
                self.error(_FORBIDDEN, tag.source)
        if not text:
            return []
        _set_run_text(run, text)
        return [run]

    def _lookup(self, expr: str, source: str, scope: ChainMap) -> Any:
        """Return the value `expr` names in `scope`; record it as used, or record why it cannot be used."""
        head, _, attribute = expr.partition(".")
        if head == "loop" and attribute:
            loop = scope.get("loop")
            if attribute not in ("index", "first", "last"):
                self.error(_FORBIDDEN, source)
            elif not isinstance(loop, _Loop):
                self.error(_UNKNOWN, f"{{{{ {expr} }}}}")  # loop.index outside any loop
            else:
                return getattr(loop, attribute)
            return ""
        if attribute and head != "extra":
            self.error(_FORBIDDEN, source)  # values have no attributes worth reaching for
            return ""
        if expr != "loop" and _is_loop_variable(expr, scope):
            return scope[expr]
        if expr in PLACEHOLDERS:
            self.used.add(expr)
            return self.values[expr]
        self.error(_UNKNOWN, f"{{{{ {expr} }}}}")
        return ""

    def _text(self, value: Any) -> str:
        """Return `value` as the text a run prints."""
        if isinstance(value, Block):
            return body_text((value,))
        if isinstance(value, bool):
            return ""
        if isinstance(value, int):
            return str(value)
        if isinstance(value, tuple):
            if value and isinstance(value[0], Block):
                return body_text(value)
            return self.separator.join(value)
        return str(value or "")

    def _blocks_alone(self, paragraph: Any, scope: ChainMap) -> tuple[Block, ...] | None:
        """Return the blocks of a block list (``{{ body }}``) when it is all `paragraph` says, else None."""
        tag = _only_tag(paragraph)
        if tag is None or tag.kind != "value" or tag.filters or tag.expr not in BLOCK_LISTS:
            return None
        if _is_loop_variable(tag.expr, scope):
            return None
        value = self._lookup(tag.expr, tag.source, scope)
        return value if isinstance(value, tuple) else ()

    def _expand(self, paragraph: Any, blocks: tuple[Block, ...]) -> list[Any]:
        """Return one paragraph per block in the formatting of `paragraph` and its tag's run; tables as tables."""
        tag_run = next((run for run in paragraph.iter(_W_R) if _run_tag(run) is not None), None)
        rpr = tag_run.find(_W_RPR) if tag_run is not None else None
        ppr = paragraph.find(_W_PPR)
        out: list[Any] = []
        for block in blocks:
            if block.kind == "table":
                if block.rows:
                    out.append(self._table(block.rows, rpr))
                continue
            new = OxmlElement("w:p")
            if ppr is not None:
                properties = copy.deepcopy(ppr)
                for section in properties.findall(_W_SECTPR):
                    properties.remove(section)  # only the original paragraph may end a section
                new.append(properties)
            new.append(self._heading_run(rpr, block))
            out.append(new)
        return out + _section_break(paragraph)

    def _heading_run(self, rpr: Any, block: Block) -> Any:
        """Return the run of `block`: GB headings take 黑体 (level 1) and 楷体 (level 2), others are bold."""
        if block.kind not in ("heading1", "heading2"):
            return _run(rpr, block.full_text)
        if self.language == "zh":
            return _run(rpr, block.full_text, east_asian_font=HEITI if block.kind == "heading1" else KAITI)
        return _run(rpr, block.full_text, bold=True)

    def _table(self, rows: tuple[tuple[str, ...], ...], rpr: Any) -> Any:
        """Return a bordered Word table of `rows` (the first is the header, bold and repeated on each page)."""
        columns = max(len(row) for row in rows)
        width = self.text_width // columns
        table = OxmlElement("w:tbl")
        properties = _new("w:tblPr")
        properties.append(_new("w:tblW", w="5000", type="pct"))
        borders = _new("w:tblBorders")
        for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
            borders.append(_new(f"w:{side}", val="single", sz="4", space="0", color="auto"))
        properties.append(borders)
        table.append(properties)
        grid = _new("w:tblGrid")
        for _ in range(columns):
            grid.append(_new("w:gridCol", w=str(width)))
        table.append(grid)
        for number, row in enumerate(rows):
            line = _new("w:tr")
            if number == 0:
                line_properties = _new("w:trPr")
                line_properties.append(_new("w:tblHeader"))
                line.append(line_properties)
            for text in row + ("",) * (columns - len(row)):
                cell = _new("w:tc")
                cell_properties = _new("w:tcPr")
                cell_properties.append(_new("w:tcW", w=str(width), type="dxa"))
                cell.append(cell_properties)
                paragraph = _new("w:p")
                paragraph.append(_run(rpr, text, bold=number == 0))
                cell.append(paragraph)
                line.append(cell)
            table.append(line)
        return table


def _join_split_tags(texts: list[Any], full: str, tags: list[tuple[int, int]]) -> None:
    """Move the text of each tag in `tags` (offsets into `full`) into the w:t where it starts."""
    position = 0
    for text in texts:
        start, end = position, position + len(text.text or "")
        position = end
        pieces: list[str] = []
        cursor = start
        for tag_start, tag_end in tags:
            if tag_end <= start or tag_start >= end:
                continue
            if tag_start > cursor:
                pieces.append(full[cursor:tag_start])
            if tag_start >= start:
                pieces.append(full[tag_start:tag_end])  # the tag starts here: all of it goes here
            cursor = min(tag_end, end)
        pieces.append(full[cursor:end])
        joined = "".join(pieces)
        if joined == (text.text or ""):
            continue
        text.text = joined
        text.set(qn("xml:space"), "preserve")
        run = text.getparent()
        if not joined and all(child.tag == _W_RPR or (child.tag == _W_T and not child.text) for child in run):
            run.getparent().remove(run)  # a run that only held the end of a tag


def _split_run(run: Any) -> None:
    """Replace `run` by runs of the same formatting in which every tag has a run of its own."""
    if run is None or run.tag != _W_R:
        return
    rpr = run.find(_W_RPR)
    groups: list[list[Any]] = []
    current: list[Any] = []
    for child in run:
        if child is rpr:
            continue
        text = (child.text or "") if child.tag == _W_T else ""
        if not _TAG.search(text):
            current.append(child)
            continue
        cursor = 0
        for found in _TAG.finditer(text):
            if found.start() > cursor:
                current.append(_text_element(text[cursor : found.start()]))
            if current:
                groups.append(current)
            groups.append([_text_element(found.group())])
            current = []
            cursor = found.end()
        if cursor < len(text):
            current.append(_text_element(text[cursor:]))
    if current:
        groups.append(current)
    if len(groups) <= 1:
        return
    runs = []
    for children in groups:
        new = OxmlElement("w:r")
        if rpr is not None:
            new.append(copy.deepcopy(rpr))
        new.extend(children)
        runs.append(new)
    parent = run.getparent()
    index = parent.index(run)
    parent[index : index + 1] = runs


def _section_break(marker: Any) -> list[Any]:
    """Return the emptied marker paragraph when it ends a section (its w:sectPr must stay), else nothing."""
    if marker is None or marker.tag != _W_P:
        return []
    properties = marker.find(_W_PPR)
    if properties is None or properties.find(_W_SECTPR) is None:
        return []
    marker[:] = [properties]
    return [marker]


def _keep_a_paragraph(container: Any) -> None:
    """Give `container` the paragraph Word requires when loops left it with none (or ending in a table)."""
    blocks = [child for child in container if child.tag in (_W_P, _W_TBL, _W_SDT)]
    if container.tag in _MUST_HOLD_PARAGRAPH:
        if not blocks or (container.tag == _W_TC and blocks[-1].tag == _W_TBL):
            container.append(_new("w:p"))
    elif container.tag == _W_BODY and not blocks:
        section = container.find(_W_SECTPR)
        if section is not None:
            section.addprevious(_new("w:p"))
        else:
            container.append(_new("w:p"))


def _text_width(body: Any) -> int:
    """Return the width between the margins of the document's last section, in twips."""
    section = body.find(_W_SECTPR)
    if section is None:
        return _TEXT_WIDTH
    size, margins = section.find(qn("w:pgSz")), section.find(qn("w:pgMar"))
    try:
        width = int(size.get(qn("w:w"))) - int(margins.get(qn("w:left"))) - int(margins.get(qn("w:right")))
    except (AttributeError, TypeError, ValueError):
        return _TEXT_WIDTH
    return width if width > 1000 else _TEXT_WIDTH


def _is_loop_variable(name: str, scope: ChainMap) -> bool:
    return any(name in level for level in scope.maps[:-1])


def _base_name(expr: str, scope: ChainMap) -> str:
    """Return the placeholder `expr` names, or "" for a loop's variable or loop.*."""
    if expr.startswith("loop.") or _is_loop_variable(expr, scope):
        return ""
    return expr
