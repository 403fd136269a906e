"""The archive catalogue (归档文件目录, Word and Excel) and the certificate of a disposal (销毁清册, Word).

The catalogue has the columns of DA/T 22-2015: 序号, 档号, 文号, 责任者, 题名, 日期, 密级, 页数, 备注, read from the
metadata captured at filing (`Record.captured["catalogue"]`), so that it shows what was filed, and still shows it after
a disposal (with a remark saying by which decision the record went).

This is domain code, so it cannot translate: every text comes from a `labels` dict that the web layer builds in the
user's language (the English texts of `COLUMNS` and `LABELS` stand in for any that are missing). The Word files are
made as the register book is (`docstore.books`): python-docx builds everything but the body of the table, and the rows
are streamed into word/document.xml while the package is copied, so a catalogue of 10,000 records never exists as
python-docx objects. The package is written with fixed dates, so the same records always give the same bytes.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from docstore.archive import scheme
from docstore.books import LABELS as BOOK_LABELS
from docstore.books import (
    MONOSPACE_FONT,
    PRINTED_MARGIN_MM,
    add_cell_style,
    add_heading,
    add_page_numbers,
    cell_xml,
    classification_name,
    new_document,
    office_time,
    repeat_as_header,
    replace_row,
    safe_sheet_title,
    set_fonts,
    stamp,
    write_table,
)
from docstore.directives.package import clean_text, package_bytes
from docstore.errors import N_
from docstore.extensions import db
from docstore.models import CLEARANCE_LEVELS, DISPOSAL_ACTIONS, RETENTIONS, Disposal, Record, User

#: The columns of the catalogue (DA/T 22-2015 §7), in order; the web layer passes them translated.
COLUMNS: dict[str, str] = {
    "number": N_("No."),  # 序号
    "code": N_("Archival code"),  # 档号
    "reference": N_("Reference"),  # 文号
    "author": N_("Author"),  # 责任者
    "title": N_("Item title"),  # 题名 (not "Title", which the pages translate as 标题)
    "date": N_("Date"),  # 日期
    "classification": N_("Classification"),  # 密级
    "pages": N_("Page count"),  # 页数 (not "Pages", which the pages translate as 分页)
    "remarks": N_("Remarks"),  # 备注
}

#: The other texts of the catalogue and of the certificate.
LABELS: dict[str, str] = {
    "page": BOOK_LABELS["page"],
    "no_records": N_("No records."),
    "destroyed_remark": N_("Destroyed by disposal no. %(disposal)s"),
    "transferred_remark": N_("Transferred by disposal no. %(disposal)s"),
    "certificate_destroy": N_("Certificate of destruction"),  # 销毁清册
    "certificate_transfer": N_("Certificate of transfer"),  # 移交清册
    "decision": N_("Decision"),
    "disposal": N_("Disposal no."),
    "action": N_("Action"),
    "reason": N_("Reason"),
    "proposed_by": N_("Proposed by"),
    "proposed_at": N_("Proposed at"),
    "approved_by": N_("Approved by"),
    "approved_at": N_("Approved at"),
    "decision_note": N_("Approver's note"),
    "records_destroyed": N_("Records destroyed"),
    "records_transferred": N_("Records transferred"),
    "retention": N_("Retention"),
    "retention_years": N_("%(years)s years"),
    "files": N_("Files"),
    "bytes": N_("Bytes"),
    "digests": N_("SHA-256 of each file"),
    "total": N_("Total: %(records)s records, %(files)s files, %(bytes)s bytes"),
    "witness": N_("Witness"),  # 监销人
    "destroyed_by": N_("Destroyed by"),  # 销毁人
    "handed_over_by": N_("Handed over by"),  # 移交人
    "received_by": N_("Received by"),  # 接收人
    "signature": N_("Signature"),
    "signed_on": N_("Date"),
}

#: Excel column widths, in characters.
XLSX_WIDTHS: dict[str, int] = {
    "number": 7,
    "code": 28,
    "reference": 22,
    "author": 24,
    "title": 60,
    "date": 10,
    "classification": 12,
    "pages": 7,
    "remarks": 30,
}
#: Printed column widths in millimetres (267 = A4 landscape less two PRINTED_MARGIN_MM margins).
PRINTED_WIDTHS: dict[str, int] = {
    "number": 12,
    "code": 46,
    "reference": 34,
    "author": 32,
    "title": 73,
    "date": 18,
    "classification": 16,
    "pages": 12,
    "remarks": 24,
}
#: Printed columns of the certificate's table of records, in millimetres; a SHA-256 takes 64 characters of
#: DIGEST_POINTS Courier, about 81 mm.
CERTIFICATE_WIDTHS: dict[str, int] = {
    "code": 44,
    "title": 66,
    "date": 18,
    "retention": 20,
    "files": 12,
    "bytes": 20,
    "digests": 87,
}
DIGEST_POINTS = 6
#: Records read from the database at a time by `catalogue_records`.
BATCH_SIZE = 500


@dataclass(frozen=True)
class CatalogueRow:
    """One line of the catalogue: a record as it was captured at filing, and what became of it."""

    number: int
    code: str
    reference: str
    author: str
    title: str
    #: YYYYMMDD, kept as text (a catalogue date is a code, not a number).
    date: str
    classification: int
    pages: int | None
    remarks: str
    state: str = "kept"
    disposal_id: int | None = None


def default_labels(translate: Callable[[str], str] = str, classifications: list[str] | None = None) -> dict:
    """Return the texts of the catalogue and certificate, with the names of levels, periods and actions, passed
    through `translate` (the edges give theirs; English without one) and the clearance names as configured."""
    return {
        **{key: translate(text) for key, text in {**COLUMNS, **LABELS}.items()},
        "classifications": list(classifications or [translate(name) for name in CLEARANCE_LEVELS]),
        "retentions": {key: translate(text) for key, text in RETENTIONS.items()},
        "actions": {key: translate(text) for key, text in DISPOSAL_ACTIONS.items()},
    }


def withheld_above(rows: Iterable[CatalogueRow], clearance: int) -> Iterator[CatalogueRow]:
    """Yield catalogue lines, without the reference and title of those classified above `clearance`."""
    for row in rows:
        yield replace(row, reference="", title="") if row.classification > clearance else row


# --- the rows --------------------------------------------------------------------------------------------------


def catalogue_records(class_id: int, year: int, retention: str = "") -> Iterator[Record]:
    """Yield the records of a class (with its sub-classes) and year, and of one retention if given, in code order.

    They are read `BATCH_SIZE` at a time, so a catalogue of a whole year never holds them all.
    """
    query = select(Record).where(Record.class_id.in_(scheme.descendants(class_id)), Record.year == year)
    if retention:
        query = query.where(Record.retention == retention)
    query = query.order_by(Record.prefix, Record.item).execution_options(yield_per=BATCH_SIZE)
    return iter(db.session.scalars(query))


def catalogue_rows(records: Iterable[Record]) -> Iterator[CatalogueRow]:
    """Yield the catalogue line of each of `records`, numbered from 1 in the order given (code order, as a rule)."""
    for number, record in enumerate(records, 1):
        entry = _entry(record)
        pages = entry.get("pages")
        yield CatalogueRow(
            number=number,
            code=record.code,
            reference=entry.get("reference") or "",
            author=entry.get("author") or "",
            title=entry.get("title") or "",
            date=str(entry.get("date") or ""),
            classification=int(entry.get("classification") or 0),
            pages=record.pages if pages is None else int(pages),
            remarks=entry.get("remarks") or "",
            state=record.state,
            disposal_id=record.disposal_id,
        )


def _entry(record: Record) -> dict:
    """Return the catalogue columns captured when `record` was filed."""
    return (record.captured or {}).get("catalogue") or {}


def _cells(row: CatalogueRow, labels: Mapping) -> list:
    """Return the cells of `row` in the order of COLUMNS: the running number and pages as numbers, the rest as text."""
    remarks = [row.remarks] if row.remarks else []
    if row.state in ("destroyed", "transferred"):
        remarks.append(labels[f"{row.state}_remark"] % {"disposal": row.disposal_id})
    return [
        row.number,
        row.code,
        row.reference,
        row.author,
        row.title,
        row.date,
        classification_name(row.classification, labels),
        row.pages,
        "; ".join(remarks),
    ]


# --- Excel -----------------------------------------------------------------------------------------------------


def catalogue_xlsx(rows: Iterable[CatalogueRow], *, title: str, labels: Mapping | None = None) -> bytes:
    """Return `rows` as an Excel workbook: a frozen header row that also repeats on printed pages, the dates as
    8-digit text, A4 landscape with `title` at the top of each printed page.

    The sheet is written in write-only mode: each row goes to a temporary file as it comes.
    """
    labels = _with_defaults(labels)
    workbook = Workbook(write_only=True)
    workbook.properties.title = clean_text(title)
    sheet = workbook.create_sheet(safe_sheet_title(clean_text(title)) or "Catalogue")
    for index, width in enumerate(XLSX_WIDTHS.values(), 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins = PageMargins(left=0.6, right=0.6, top=0.8, bottom=0.8)
    sheet.oddHeader.center.text = clean_text(title).replace("&", "&&")
    page = labels["page"].replace("&", "&&") % {"page": "&P", "pages": "&N"}
    sheet.oddFooter.center.text = page
    write_table(sheet, [labels[key] for key in COLUMNS], (_cells(row, labels) for row in rows))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- Word ------------------------------------------------------------------------------------------------------


def catalogue_docx(
    rows: Iterable[CatalogueRow], *, title: str, subtitle: str = "", labels: Mapping | None = None
) -> bytes:
    """Return `rows` as a printable catalogue: A4 landscape, `title` and `subtitle` on top, the header row repeated
    on every page, page numbers in the footer. The same rows always give the same bytes."""
    labels = _with_defaults(labels)
    word = _landscape_document()
    add_heading(word, title, 15)
    if subtitle:
        add_heading(word, subtitle, 11)
    style = add_cell_style(word)
    widths = [Mm(width) for width in PRINTED_WIDTHS.values()]
    marker = _table_with_marker(word, style, [labels[key] for key in PRINTED_WIDTHS], widths)
    add_page_numbers(word.sections[0].footer.paragraphs[0], labels["page"])
    twips = [width.twips for width in widths]
    body = _catalogue_xml(rows, labels, twips, style.style_id)
    return _stream_rows(word, marker, body)


def _catalogue_xml(rows: Iterable[CatalogueRow], labels: Mapping, widths: list[int], style_id: str) -> Iterator[str]:
    empty = True
    for row in rows:
        empty = False
        cells = ["" if value is None else str(value) for value in _cells(row, labels)]
        yield _row_xml(cells, widths, style_id)
    if empty:
        yield _notice_xml(labels["no_records"], widths, style_id)


def certificate_docx(
    disposal: Disposal,
    records: Iterable[Record],
    *,
    office: str = "",
    labels: Mapping | None = None,
    timezone: str = "UTC",
) -> bytes:
    """Return the certificate of `disposal` (销毁清册, or 移交清册 for a transfer) as a Word file: the decision, every
    record it disposed of with its files' count, size and SHA-256 digests, and lines for the signatures.

    The same disposal and records always give the same bytes.
    """
    labels = _with_defaults(labels)
    zone = ZoneInfo(timezone)
    destroy = disposal.action == "destroy"
    word = _landscape_document()
    if office:
        add_heading(word, office, 12)
    add_heading(word, labels["certificate_destroy" if destroy else "certificate_transfer"], 16)
    add_heading(word, labels["decision"], 12, align=WD_ALIGN_PARAGRAPH.LEFT)
    facts = [
        ("disposal", str(disposal.id)),
        ("action", labels["actions"].get(disposal.action, disposal.action)),
        ("reason", disposal.reason),
        ("proposed_by", _person(disposal.proposed_by)),
        ("proposed_at", stamp(office_time(disposal.proposed_at, zone))),
        ("approved_by", _person(disposal.decided_by)),
        ("approved_at", stamp(office_time(disposal.decided_at, zone))),
        ("decision_note", disposal.decision_note),
    ]
    table = word.add_table(rows=len(facts), cols=2)
    table.style = word.styles["Table Grid"]
    for row, (key, value) in zip(table.rows, facts, strict=True):
        row.cells[0].paragraphs[0].add_run(labels[key]).bold = True
        row.cells[1].paragraphs[0].add_run(clean_text(value))
        row.cells[0].width, row.cells[1].width = Mm(45), Mm(222)
    word.add_paragraph()
    add_heading(
        word, labels["records_destroyed" if destroy else "records_transferred"], 12, align=WD_ALIGN_PARAGRAPH.LEFT
    )
    style = add_cell_style(word)
    digest_style = _digest_style(word)
    widths = [Mm(width) for width in CERTIFICATE_WIDTHS.values()]
    headers = [labels["code"], labels["title"], labels["date"], labels["retention"]]
    headers += [labels["files"], labels["bytes"], labels["digests"]]
    marker = _table_with_marker(word, style, headers, widths)
    word.add_paragraph()
    signers = ("witness", "destroyed_by") if destroy else ("handed_over_by", "received_by")
    _signature_line(word, labels, *signers)
    add_page_numbers(word.sections[0].footer.paragraphs[0], labels["page"])
    twips = [width.twips for width in widths]
    body = _certificate_xml(records, labels, twips, style.style_id, digest_style.style_id)
    return _stream_rows(word, marker, body)


def _certificate_xml(
    records: Iterable[Record], labels: Mapping, widths: list[int], style_id: str, digest_style_id: str
) -> Iterator[str]:
    count = files = size = 0
    for record in records:
        entry = _entry(record)
        record_size = sum(item.size for item in record.files)
        cells = [
            record.code,
            entry.get("title") or "",
            str(entry.get("date") or ""),
            _retention_name(record.retention, labels),
            str(len(record.files)),
            str(record_size),
        ]
        digests = "\n".join(item.sha256 for item in record.files)
        yield "<w:tr><w:trPr><w:cantSplit/></w:trPr>{}{}</w:tr>".format(
            "".join(cell_xml(text, width, style_id, "") for text, width in zip(cells, widths[:-1], strict=True)),
            cell_xml(digests, widths[-1], digest_style_id, ""),
        )
        count, files, size = count + 1, files + len(record.files), size + record_size
    if count == 0:
        yield _notice_xml(labels["no_records"], widths, style_id)
    else:
        total = labels["total"] % {"records": count, "files": files, "bytes": size}
        yield _notice_xml(total, widths, style_id)


# --- shared pieces of the Word files ---------------------------------------------------------------------------


def _landscape_document():
    """Return an empty Word document on A4 landscape, with the margins of the register book."""
    word = new_document()
    section = word.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(PRINTED_MARGIN_MM))
    section.footer_distance = Mm(8)
    return word


def _table_with_marker(word, style, headers: list[str], widths: list) -> str:
    """Add a table of `headers` (repeated on every page) and one row holding a marker, which `_stream_rows` replaces
    with the rows of the table; return the marker.

    The marker is random, so that no text of the document (a title, a reason) can be taken for it.
    """
    table = word.add_table(rows=2, cols=len(widths))
    table.style = word.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width
    header, placeholder = table.rows
    for cell, text in zip(header.cells, headers, strict=True):
        paragraph = cell.paragraphs[0]
        paragraph.style = style
        paragraph.add_run(clean_text(text)).bold = True
    repeat_as_header(header)
    marker = f"DOCSTORE-ROWS-{secrets.token_hex(8)}"
    placeholder.cells[0].paragraphs[0].text = marker
    return marker


def _stream_rows(word, marker: str, rows: Iterator[str]) -> bytes:
    """Return the package of `word` with `rows` in place of the table row that holds `marker`, with fixed dates."""
    skeleton = io.BytesIO(package_bytes(word))
    out = io.BytesIO()
    replace_row(skeleton, out, marker, rows)
    return out.getvalue()


def _row_xml(cells: list[str], widths: list[int], style_id: str) -> str:
    return "<w:tr><w:trPr><w:cantSplit/></w:trPr>{}</w:tr>".format(
        "".join(cell_xml(text, width, style_id, "") for text, width in zip(cells, widths, strict=True))
    )


def _notice_xml(text: str, widths: list[int], style_id: str) -> str:
    """Return a row of one cell across the whole table."""
    span = f'<w:gridSpan w:val="{len(widths)}"/>'
    return f"<w:tr>{cell_xml(text, sum(widths), style_id, '', span)}</w:tr>"


def _digest_style(word):
    """Return the paragraph style of the SHA-256 digests: small monospaced text, one digest per line."""
    style = word.styles.add_style("Digest", WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = word.styles["Normal"]
    style.font.size = Pt(DIGEST_POINTS)
    style.paragraph_format.space_before = Pt(0)
    style.paragraph_format.space_after = Pt(0)
    style.paragraph_format.line_spacing = 1.0
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    set_fonts(fonts)
    for name in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(name), MONOSPACE_FONT)
    return style


def _signature_line(word, labels: Mapping, left: str, right: str) -> None:
    """Add a line with room for two signatures (and their dates)."""
    blank = "_" * 24
    day = "_" * 14
    paragraph = word.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(18)
    text = (
        f"{labels[left]} ({labels['signature']}): {blank}  {labels['signed_on']}: {day}        "
        f"{labels[right]} ({labels['signature']}): {blank}  {labels['signed_on']}: {day}"
    )
    paragraph.add_run(clean_text(text))


# --- small helpers ---------------------------------------------------------------------------------------------


def _with_defaults(labels: Mapping | None) -> dict:
    return {**default_labels(), **(labels or {})}


def _person(user: User | None) -> str:
    return (user.full_name or user.username) if user is not None else ""


def _retention_name(code: str, labels: Mapping) -> str:
    """Return the name of a retention period: Permanent, 30 years, 10 years, or a custom D<n> as 'n years'."""
    if code in labels["retentions"]:
        return labels["retentions"][code]
    if code.startswith("D") and code[1:].isdigit():
        return labels["retention_years"] % {"years": code[1:]}
    return code
