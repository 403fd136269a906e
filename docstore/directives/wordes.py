"""Render the Spanish directives (oficio, resolución, instrucción, comunicación interior) as Word files.

The layouts follow DOMAIN.md §4.4 and §6.2. No national rule fixes the page, so these are the common practice of the
State administration's documents:

- A4; margins 2.5 cm top and bottom, 3 cm left (the binding side) and 2.5 cm right; header and footer 1.25 cm from
  the edge of the page.
- Arial 11 pt, justified body. Debian has no Arial: LibreOffice takes Liberation Sans instead (through fontconfig's
  aliases), which has Arial's metrics, so lines and pages break in the same places. Gill Sans, the font of the
  official logo, is not free and is not used.
- A text-only letterhead at the top left: `Content.mark`, one line per "\\n" (no coat of arms is shipped).
- The footer holds the unit's address (`Content.address`; this is also the paragraph where an electronically signed
  copy would print its CSV and verification URL) and "Página X de Y" as PAGE and NUMPAGES fields.

Every element has its own named paragraph style (Membrete, Referencia, Sección, Firma, Destinatario …), so that a
produced file can be read back and checked, and restyled in Word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import docx
from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Length, Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from docstore.directives.content import SPANISH_ORDINALS, Block, Content, spanish_date
from docstore.directives.package import clean_text, package_bytes

LAYOUTS = ("oficio", "resolucion", "instruccion", "comunicacion")

FONT = "Arial"
BODY_SIZE = Pt(11)
PAGE_SIZE = (Mm(210), Mm(297))
MARGINS = {"top_margin": Cm(2.5), "bottom_margin": Cm(2.5), "left_margin": Cm(3), "right_margin": Cm(2.5)}
#: The reference blocks (S/REF., N/REF. … and DE, A …): labels, then values; together the 15.5 cm text width.
REFERENCE_COLUMNS = (Cm(2.5), Cm(13))
#: The date line, antefirma and name stand in the right half of the page.
SIGNATURE_INDENT = Cm(7)
#: Room for a handwritten signature between the antefirma and the name.
SIGNATURE_SPACE = Pt(54)

#: The sections of a resolución kept in `Content.extra`, in their order, with their headings.
RESOLUTION_SECTIONS = (
    ("background", "ANTECEDENTES DE HECHO"),
    ("grounds", "FUNDAMENTOS DE DERECHO"),
    ("resolved", "RESUELVO"),
)
#: Ordinals after DÉCIMO; later items are numbered with digits.
MORE_ORDINALS = (
    "UNDÉCIMO",
    "DUODÉCIMO",
    "DECIMOTERCERO",
    "DECIMOCUARTO",
    "DECIMOQUINTO",
    "DECIMOSEXTO",
    "DECIMOSÉPTIMO",
    "DECIMOCTAVO",
    "DECIMONOVENO",
    "VIGÉSIMO",
)
ORDINALS = SPANISH_ORDINALS + MORE_ORDINALS
#: A paragraph whose writer already typed its ordinal ("PRIMERO.- Con fecha …") is not numbered again.
_TYPED_ORDINAL = re.compile(r"^(?:{}|ÚNICO)\s*[.:\-–—]".format("|".join(ORDINALS)), re.IGNORECASE)
#: Characters that XML 1.0, so a Word file, cannot hold.
_THEME_FONTS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
_PAGE_NUMBERS = (
    f'<w:p {nsdecls("w")}><w:pPr><w:pStyle w:val="Pie"/><w:jc w:val="right"/></w:pPr>'
    '<w:r><w:t xml:space="preserve">Página </w:t></w:r>'
    '<w:fldSimple w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>'
    '<w:r><w:t xml:space="preserve"> de </w:t></w:r>'
    '<w:fldSimple w:instr=" NUMPAGES "><w:r><w:t>1</w:t></w:r></w:fldSimple></w:p>'
)


def render(content: Content, layout: str) -> bytes:
    """Return `content` laid out as `layout` (one of `LAYOUTS`) in a Word file."""
    draw = _LAYOUT_WRITERS.get(layout)
    if draw is None:
        raise ValueError(f"not a Spanish layout: {layout!r}")
    writer = _Writer(content)
    draw(writer)
    return writer.save()


class _Writer:
    """Build one directive: a fresh python-docx document, its named styles and the parts every layout shares.

    Paragraphs get their style by id (`_p.style`): python-docx's own setter looks the style up among the
    template's 160 styles on every call, which made rendering three times slower.
    """

    def __init__(self, content: Content) -> None:
        self.content = content
        self.document: Document = docx.Document()
        _set_up_styles(self.document)
        self._set_up_page()
        self._set_properties()

    # --- page and properties --------------------------------------------------------------------------------

    def _set_up_page(self) -> None:
        section = self.document.sections[0]
        section.page_width, section.page_height = PAGE_SIZE
        for side, length in MARGINS.items():
            setattr(section, side, length)
        section.header_distance = section.footer_distance = Cm(1.25)
        if self.content.classification:  # a classified document says so at the top of every page
            header = section.header.paragraphs[0]
            header._p.style = "Marca"
            header.alignment = WD_ALIGN_PARAGRAPH.CENTER
            header.add_run(clean_text(self.content.classification.upper()))
        footer = section.footer
        address = footer.paragraphs[0]  # also where a signed copy's CSV and verification URL would go
        address._p.style = "Pie"
        if self.content.address:
            address.add_run(clean_text(self.content.address))
        footer._element.append(parse_xml(_PAGE_NUMBERS))

    def _set_properties(self) -> None:
        properties = self.document.core_properties
        properties.title = clean_text(self.content.title)
        properties.subject = clean_text(self.content.subject or self.content.title)
        properties.author = clean_text(self.content.issuer)
        properties.identifier = clean_text(self.content.number)
        properties.language = "es-ES"

    def save(self) -> bytes:
        """Return the document as the bytes of a .docx file."""
        return package_bytes(self.document)

    # --- text -----------------------------------------------------------------------------------------------

    def paragraph(self, text: str = "", style: str = "Normal", *, bold: bool = False) -> Paragraph:
        """Add a paragraph of `text` in the style whose id is `style`."""
        paragraph = self.document.add_paragraph()
        if style != "Normal":
            paragraph._p.style = style
        if text:
            paragraph.add_run(clean_text(text)).bold = bold or None
        return paragraph

    def labelled(self, label: str, text: str, style: str = "Normal") -> Paragraph:
        """Add a paragraph that opens with a bold `label` ("PRIMERO.", "c.c.:")."""
        paragraph = self.paragraph(label, style, bold=True)
        paragraph.add_run(" " + clean_text(text))
        return paragraph

    def blocks(self, blocks: tuple[Block, ...], style: str = "Normal") -> None:
        """Add body blocks: paragraphs, headings, points and tables, each with its number before its text."""
        for block in blocks:
            self.block(block, style)

    def block(self, block: Block, style: str = "Normal") -> None:
        """Add one body block; a paragraph in `style`."""
        if block.kind == "table":
            self.table(block.rows)
        elif block.kind == "point":
            # The tab lines the text up at the hanging indent, whatever the width of the number.
            self.paragraph(f"{block.number.rstrip()}\t{block.text}" if block.number else block.text, "Punto")
        elif block.kind.startswith("heading"):
            self.paragraph(block.full_text, f"Epigrafe{block.kind[-1]}")
        else:
            self.paragraph(block.full_text, style)

    def ordinal_blocks(self, blocks: tuple[Block, ...]) -> None:
        """Add the blocks of a resolución's section, its items numbered PRIMERO., SEGUNDO. … (ÚNICO. when alone).

        The items are the section's points when it has any (the paragraphs around them then introduce or close
        them), else its paragraphs.
        """
        kind = "point" if any(block.kind == "point" for block in blocks) else "paragraph"
        count = sum(block.kind == kind for block in blocks)
        position = 0
        for block in blocks:
            if block.kind != kind:
                self.block(block)
                continue
            position += 1
            if _TYPED_ORDINAL.match(block.text):
                self.paragraph(block.text)
            else:
                self.labelled(_ordinal(position, count), block.text)

    def table(self, rows: tuple[tuple[str, ...], ...]) -> Table:
        """Add a ruled table of `rows`, the first being its header (bold, repeated on each page)."""
        table = self.document.add_table(rows=len(rows), cols=max((len(row) for row in rows), default=1))
        table._tbl.tblPr.style = "TableGrid"
        for index, (row, values) in enumerate(zip(table.rows, rows, strict=True)):
            for cell, value in zip(row.cells, values, strict=False):
                paragraph = cell.paragraphs[0]
                paragraph._p.style = "Celda"
                if value:
                    paragraph.add_run(clean_text(value)).bold = index == 0 or None
        if rows:
            table.rows[0]._tr.get_or_add_trPr().append(parse_xml(f"<w:tblHeader {nsdecls('w')}/>"))
        self.paragraph()  # Word needs a paragraph between a table and whatever follows
        return table

    # --- shared parts ---------------------------------------------------------------------------------------

    def letterhead(self) -> None:
        """Add the letterhead: the lines of `Content.mark`, those in capitals in bold as in the official logo."""
        lines = [line.strip() for line in self.content.mark.split("\n") if line.strip()]
        paragraph = None
        for line in lines:
            paragraph = self.paragraph(line, "Membrete", bold=line == line.upper())
        if paragraph is not None:
            paragraph.paragraph_format.space_after = Pt(18)

    def marks(self) -> None:
        """Add the urgency mark at the top right (the classification is in the page header)."""
        if self.content.urgency:
            self.paragraph(self.content.urgency.upper(), "Marca")

    def reference_block(self, rows: list[tuple[str, str]]) -> Table:
        """Add a borderless table of labels and values: S/REF., N/REF., FECHA, ASUNTO or DE, A, FECHA, ASUNTO."""
        table = self.document.add_table(rows=len(rows), cols=2)  # no style: the document's table style has no rules
        table.autofit = False
        for column, width in zip(table.columns, REFERENCE_COLUMNS, strict=True):
            column.width = width
        for row, (label, value) in zip(table.rows, rows, strict=True):
            label_cell, value_cell = row.cells
            label_cell.width, value_cell.width = REFERENCE_COLUMNS
            label_paragraph, value_paragraph = label_cell.paragraphs[0], value_cell.paragraphs[0]
            label_paragraph._p.style = value_paragraph._p.style = "Referencia"
            label_paragraph.add_run(label).bold = True
            if value:
                value_paragraph.add_run(clean_text(value))
        self.paragraph()  # a blank line between the block and the text
        return table

    def title(self, text: str) -> None:
        self.paragraph(text.upper(), "TituloDocumento")

    def signature(self, *, dated: bool = True) -> None:
        """Add the place and date line, the antefirma in capitals, room to sign and the signer's name."""
        content = self.content
        if dated:
            day = spanish_date(content.signed_on) if content.signed_on else ""
            if line := ", ".join(part for part in (content.place, day) if part):
                self.paragraph(line, "Firma").paragraph_format.space_before = Pt(18)
        if content.signer_title:
            self.paragraph(content.signer_title.upper(), "Firma").paragraph_format.space_before = Pt(12)
        if content.signer or content.signer_title:
            self.paragraph(content.signer, "Firma").paragraph_format.space_before = SIGNATURE_SPACE

    def addressees(self) -> None:
        """Add the main recipients at the bottom left, in capitals, as an oficio names them."""
        for position, name in enumerate(self.content.main_recipients):
            paragraph = self.paragraph(name.upper(), "Destinatario")
            if position == 0:
                paragraph.paragraph_format.space_before = Pt(30)

    def recipients_list(self) -> None:
        """Add the "DESTINATARIOS:" block of an instrucción."""
        if self.content.main_recipients:
            self.paragraph("DESTINATARIOS:", "Destinatario", bold=True).paragraph_format.space_before = Pt(30)
            for name in self.content.main_recipients:
                self.paragraph(name.upper(), "Destinatario")

    def copies(self) -> None:
        if self.content.copy_recipients:
            paragraph = self.labelled("c.c.:", "; ".join(self.content.copy_recipients), "Destinatario")
            paragraph.paragraph_format.space_before = Pt(12)


# --- the layouts --------------------------------------------------------------------------------------------------


def _draw_oficio(writer: _Writer) -> None:
    content = writer.content
    writer.letterhead()
    writer.marks()
    writer.reference_block(
        [
            ("S/REF.:", content.their_reference),
            ("N/REF.:", content.number),
            ("FECHA:", spanish_date(content.signed_on) if content.signed_on else ""),
            ("ASUNTO:", content.subject or content.title),
        ]
    )
    writer.blocks(content.body)  # an oficio has no salutation: the text starts straight away
    writer.signature()
    writer.addressees()
    writer.copies()


def _draw_resolucion(writer: _Writer) -> None:
    content = writer.content
    writer.letterhead()
    writer.marks()
    if content.number:
        writer.labelled("N/REF.:", content.number, "Referencia").paragraph_format.space_after = Pt(12)
    if content.issuer and content.issuer.casefold() not in content.mark.casefold():
        writer.paragraph(content.issuer.upper(), "TituloDocumento").paragraph_format.space_after = Pt(0)
    writer.title(_heading("Resolución", content.title))
    writer.blocks(content.body)  # a preamble, when there is one
    for name, heading in RESOLUTION_SECTIONS:
        if blocks := content.extra.get(name, ()):
            writer.paragraph(heading, "Seccion")
            writer.ordinal_blocks(blocks)
    writer.blocks(content.extra.get("appeal", ()), "Recursos")
    writer.signature()
    writer.addressees()
    writer.copies()


def _draw_instruccion(writer: _Writer) -> None:
    content = writer.content
    writer.letterhead()
    writer.marks()
    writer.title(_heading("Instrucción", content.title, content.number))
    writer.blocks(content.body)  # the reasons, then the instructions as numbered points
    writer.signature()
    writer.recipients_list()
    writer.copies()


def _draw_comunicacion(writer: _Writer) -> None:
    content = writer.content
    writer.letterhead()
    writer.marks()
    writer.title("Comunicación interior")
    rows = [
        ("DE:", content.issuer),
        ("A:", "\n".join(content.main_recipients)),
        ("FECHA:", spanish_date(content.signed_on) if content.signed_on else ""),
        ("ASUNTO:", content.subject or content.title),
    ]
    if content.number:
        rows.append(("N/REF.:", content.number))
    writer.reference_block(rows)
    writer.blocks(content.body)
    writer.signature(dated=False)  # the date is in the block above
    writer.copies()


_LAYOUT_WRITERS: dict[str, Callable[[_Writer], None]] = {
    "oficio": _draw_oficio,
    "resolucion": _draw_resolucion,
    "instruccion": _draw_instruccion,
    "comunicacion": _draw_comunicacion,
}


# --- helpers ------------------------------------------------------------------------------------------------------


def _heading(word: str, title: str, number: str = "") -> str:
    """Return a document's heading: "Instrucción 3/2026, sobre …", or the title itself when it names its type."""
    title = title.strip()
    if _unaccented(title).startswith(_unaccented(word)):  # "Resolución de …", "RESOLUCION DE …"
        return title
    if not title:
        return f"{word} {number}".strip()
    return f"{word} {number}, {title}" if number else f"{word} {title}"


def _unaccented(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(char))


def _ordinal(position: int, count: int) -> str:
    """Return the label of item `position` of `count`: "ÚNICO." for a single item, else "PRIMERO.", "SEGUNDO." …"""
    if count == 1:
        return "ÚNICO."
    return f"{ORDINALS[position - 1]}." if position <= len(ORDINALS) else f"{position}."


def _set_up_styles(document: Document) -> None:
    """Set the document's font, language and body text, and add the named paragraph styles of the layouts."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = defaults.find(qn("w:rFonts"))
    for name in _THEME_FONTS:  # a theme font wins over a named one: the template's must go
        fonts.attrib.pop(qn(name), None)
    for name in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(name), FONT)
    defaults.find(qn("w:lang")).set(qn("w:val"), "es-ES")  # Spanish spelling and hyphenation
    normal = document.styles["Normal"]
    normal.font.size = BODY_SIZE
    body = normal.paragraph_format
    body.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    body.space_before, body.space_after, body.line_spacing = Pt(0), Pt(6), 1.15
    styles.extend(list(parse_xml(_STYLES_XML)))


def _style(
    style_id: str,
    name: str,
    size: float,
    *,
    bold: bool = False,
    italic: bool = False,
    align: str = "left",
    before: float = 0,
    after: float = 0,
    keep: bool = False,
    indent: Length = Length(0),
    hanging: Length = Length(0),
) -> str:
    """Return the XML of a paragraph style based on Normal (sizes in points)."""
    paragraph = (
        ("<w:keepNext/>" if keep else "")
        + f'<w:spacing w:before="{round(before * 20)}" w:after="{round(after * 20)}"/>'
        + (f'<w:ind w:left="{(indent or hanging).twips}" w:hanging="{hanging.twips}"/>' if indent or hanging else "")
        + f'<w:jc w:val="{align}"/>'
    )
    run = ("<w:b/>" if bold else "") + ("<w:i/>" if italic else "") + f'<w:sz w:val="{round(size * 2)}"/>'
    return (
        f'<w:style w:type="paragraph" w:customStyle="1" w:styleId="{style_id}"><w:name w:val="{name}"/>'
        f'<w:basedOn w:val="Normal"/><w:qFormat/><w:pPr>{paragraph}</w:pPr><w:rPr>{run}</w:rPr></w:style>'
    )


#: The paragraph styles of the layouts, added to python-docx's template (ids in ASCII, as Word itself makes them).
_STYLES_XML = "<w:styles {}>{}</w:styles>".format(
    nsdecls("w"),
    "".join(
        (
            _style("Membrete", "Membrete", 9),
            _style("Marca", "Marca", 11, bold=True, align="right", after=12),
            _style("Referencia", "Referencia", 10, after=2),
            _style("TituloDocumento", "Título del documento", 12, bold=True, align="center", after=12, keep=True),
            _style("Seccion", "Sección", 11, bold=True, align="center", before=12, after=6, keep=True),
            _style("Epigrafe1", "Epígrafe 1", 11, bold=True, before=12, after=6, keep=True),
            _style("Epigrafe2", "Epígrafe 2", 11, bold=True, before=6, after=6, keep=True),
            _style("Epigrafe3", "Epígrafe 3", 11, italic=True, before=6, after=6, keep=True),
            _style("Epigrafe4", "Epígrafe 4", 11, after=6, keep=True),
            _style("Punto", "Punto", 11, align="both", after=6, hanging=Cm(0.75)),
            _style("Celda", "Celda", 10),
            _style("Recursos", "Recursos", 10, align="both", before=12, after=6),
            _style("Firma", "Firma", 11, align="center", keep=True, indent=SIGNATURE_INDENT),
            _style("Destinatario", "Destinatario", 10),
            _style("Pie", "Pie", 8),
        )
    ),
)
