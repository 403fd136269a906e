"""The register book — every entry of a register over a period, void ones included — and the registration receipt.

The book comes out as CSV (for any tool), Excel and a printable Word document; the receipt as Word. This is domain
code, so it cannot translate: every text comes from a `labels` dict that the web layer builds in the user's language
(the English texts of `LABELS` stand in for any that are missing).

A year's book may hold 100,000 entries, so nothing here holds them all at once: `register_rows` reads plain column
tuples from the database in batches, the CSV and Excel writers write each row as it comes (openpyxl in write-only
mode), and the Word writer lets python-docx build everything but the body of the table, then streams the rows into
word/document.xml while it copies the package.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import BinaryIO
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import docx
from babel.dates import format_datetime
from babel.numbers import format_decimal
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from docstore import clock, numbering
from docstore.directives.package import clean_text
from docstore.errors import N_, Msg, ValidationFailed
from docstore.extensions import db
from docstore.models import (
    CLEARANCE_LEVELS,
    STATUSES,
    URGENCIES,
    Attachment,
    Correspondent,
    Department,
    Document,
    DocumentRecipient,
    DocumentType,
    Series,
)

#: The texts of the book and the receipt, in English; the web layer passes them translated.
LABELS: dict[str, str] = {
    "number": N_("Number"),
    "registered_at": N_("Registered at"),
    "received_at": N_("Received at"),
    "party": N_("From / to"),
    "sender": N_("Sender"),
    "main_recipients": N_("Main recipients"),
    "copy_recipients": N_("Copy to"),
    "signed_by": N_("Signed by"),
    "sender_reference": N_("Sender's reference"),
    "title": N_("Title"),
    "type": N_("Type"),
    "urgency": N_("Urgency"),
    "classification": N_("Classification"),
    "department": N_("Department"),
    "status": N_("Status"),
    "void_reason": N_("Reason for cancelling the number"),
    "attachments": N_("Attachments"),
    "register": N_("Register"),
    "book_title": N_("Register book — %(register)s — %(start)s to %(end)s"),
    "void_mark": N_("VOID: %(reason)s"),
    "withheld": N_("[classified]"),
    "no_entries": N_("No entries in this period."),
    "page": N_("Page %(page)s of %(pages)s"),
    "receipt_title": N_("Registration receipt"),
    "file": N_("File"),
    "size": N_("Size (bytes)"),
    "no_attachments": N_("No attachments."),
    "digests_note": N_("The SHA-256 digests prove that the files kept by the office are exactly the files received."),
    "printed": N_("Printed %(when)s"),
}


@dataclass(frozen=True)
class BookFormat:
    """A file format of the register book: its file name extension and MIME type."""

    extension: str
    mime: str


DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FORMATS: dict[str, BookFormat] = {
    "docx": BookFormat("docx", DOCX_MIME),
    "xlsx": BookFormat("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": BookFormat("csv", "text/csv; charset=utf-8"),
}

#: Rows fetched from the database at a time.
#: Separate names for the recipients' tables (the query also joins the sender and the department).
RecipientCorrespondent = aliased(Correspondent)
RecipientDepartment = aliased(Department)
BATCH_SIZE = 500
#: The days a book may cover (beyond them the bounds of the period cannot be computed in every time zone).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)

#: Fonts of the Word files: Latin text, and Chinese text (SimSun, 宋体, is on every Chinese Windows; DOMAIN.md §6.1).
LATIN_FONT = "Times New Roman"
EAST_ASIAN_FONT = "SimSun"
MONOSPACE_FONT = "Courier New"
THEME_FONT_ATTRIBUTES = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
#: Grey behind the rows of void entries in the printed book.
VOID_FILL = "D9D9D9"

#: Columns of the CSV and Excel books, with the Excel column widths (in characters).
COLUMNS: dict[str, int] = {
    "number": 20,
    "registered_at": 17,
    "received_at": 17,
    "party": 32,
    "sender_reference": 20,
    "title": 60,
    "type": 14,
    "urgency": 12,
    "classification": 14,
    "department": 24,
    "status": 12,
    "void_reason": 30,
    "attachments": 12,
}
#: Columns of the printed book, with their widths in millimetres (267 = A4 landscape less two 15 mm margins).
PRINTED_COLUMNS: dict[str, int] = {
    "number": 32,
    "registered_at": 26,
    "party": 44,
    "sender_reference": 30,
    "title": 87,
    "type": 22,
    "status": 26,
}
PRINTED_MARGIN_MM = 15

#: Cell starts that spreadsheets take for a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class BookRow:
    """One entry of the register book; times are in office time."""

    number: str
    registered_at: datetime
    received_at: datetime | None
    direction: str
    sender: str
    department: str
    sender_reference: str
    title: str
    document_type: str
    urgency: str
    classification: int
    status: str
    void_reason: str
    attachment_count: int
    #: The entry is classified above the reader's clearance: its title and reference are not shown.
    withheld: bool = False
    #: The main recipients of an outgoing entry, joined with "; ".
    recipients: str = ""

    @property
    def party(self) -> str:
        """Return who the entry is from or to: an incoming document's sender, an outgoing one's main recipients."""
        if self.direction == "incoming":
            return self.sender
        if self.direction == "outgoing":
            return self.recipients or self.department
        return self.department


# --- reading the register --------------------------------------------------------------------------------------


def check_period(start: date, end: date) -> None:
    """Raise ValidationFailed unless `start`..`end` is a usable period of a book."""
    errors: dict[str, Msg] = {}
    if not FIRST_DAY <= start <= LAST_DAY:
        errors["from"] = Msg(N_("Choose a day from 1900 to 9998."))
    if not FIRST_DAY <= end <= LAST_DAY:
        errors["until"] = Msg(N_("Choose a day from 1900 to 9998."))
    if not errors and end < start:
        errors["until"] = Msg(N_("The last day is before the first day."))
    if errors:
        raise ValidationFailed(errors)


def register_rows(
    series_id: int, start: date, end: date, timezone: str, clearance: int | None = None
) -> Iterator[BookRow]:
    """Yield the entries of a register registered from `start` to `end` (office days, both included), by number.

    Void entries are included, with their reason. With `clearance`, entries classified above it keep their place
    but not their title or reference. Rows are read `BATCH_SIZE` at a time, as tuples, so the session holds none.
    The period is checked at once (ValidationFailed), the rows are read as they are asked for.
    """
    check_period(start, end)
    since = clock.as_utc(numbering.office_day_start(start, timezone))
    before = clock.as_utc(numbering.office_day_start(end + timedelta(days=1), timezone))
    attachment_count = (
        select(func.count(Attachment.id))
        .where(Attachment.document_id == Document.id)
        .correlate(Document)
        .scalar_subquery()
    )
    recipient_name = func.coalesce(RecipientCorrespondent.name, RecipientDepartment.name)
    joined = (
        func.string_agg(recipient_name, "; ")
        if db.session.get_bind().dialect.name == "postgresql"
        else func.group_concat(recipient_name, "; ")
    )
    recipients = (
        select(joined)
        .select_from(DocumentRecipient)
        .outerjoin(RecipientCorrespondent, DocumentRecipient.correspondent_id == RecipientCorrespondent.id)
        .outerjoin(RecipientDepartment, DocumentRecipient.department_id == RecipientDepartment.id)
        .where(DocumentRecipient.document_id == Document.id, DocumentRecipient.role == "main")
        .correlate(Document)
        .scalar_subquery()
    )
    query = (
        select(
            Document.number,
            Document.registered_at,
            Document.received_at,
            Document.direction,
            Correspondent.name.label("sender"),
            Department.name.label("department"),
            Document.sender_reference,
            Document.title,
            DocumentType.name.label("document_type"),
            Document.urgency,
            Document.classification,
            Document.status,
            Document.void_reason,
            attachment_count.label("attachment_count"),
            recipients.label("recipients"),
        )
        .outerjoin(Correspondent, Document.correspondent_id == Correspondent.id)
        .outerjoin(Department, Document.department_id == Department.id)
        .outerjoin(DocumentType, Document.document_type_id == DocumentType.id)
        .where(Document.series_id == series_id, Document.registered_at >= since, Document.registered_at < before)
        .order_by(Document.year, Document.seq)
        .execution_options(yield_per=BATCH_SIZE)
    )
    return _book_rows(query, ZoneInfo(timezone), clearance)


def _book_rows(query, zone: ZoneInfo, clearance: int | None) -> Iterator[BookRow]:
    for row in db.session.execute(query):
        withheld = clearance is not None and row.classification > clearance
        yield BookRow(
            number=row.number,
            registered_at=office_time(row.registered_at, zone),
            received_at=office_time(row.received_at, zone),
            direction=row.direction,
            sender=row.sender or "",
            department=row.department or "",
            sender_reference="" if withheld else row.sender_reference or "",
            title="" if withheld else row.title,
            document_type=row.document_type or "",
            urgency=row.urgency,
            classification=row.classification,
            status=row.status,
            void_reason="" if withheld else row.void_reason or "",
            attachment_count=row.attachment_count,
            withheld=withheld,
            recipients=row.recipients or "",
        )


def office_name() -> str:
    """Return the name of the office (the topmost active department of kind 'office'), or '' when there is none."""
    query = (
        select(Department.name)
        .where(Department.kind == "office", Department.active)
        .order_by(Department.parent_id.is_not(None), Department.id)
        .limit(1)
    )
    return db.session.execute(query).scalar() or ""


def write_book(
    fmt: str,
    series: Series,
    start: date,
    end: date,
    out: BinaryIO,
    *,
    timezone: str,
    labels: Mapping | None = None,
    clearance: int | None = None,
) -> None:
    """Write the register book of `series` from `start` to `end` to `out` as `fmt` (a key of FORMATS)."""
    errors: dict[str, Msg] = {}
    if fmt not in FORMATS:
        errors["format"] = Msg(N_("Choose Word, Excel or CSV."))
    try:
        check_period(start, end)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    rows = register_rows(series.id, start, end, timezone, clearance)
    if fmt == "csv":
        book_csv(rows, out, labels)
    elif fmt == "xlsx":
        book_xlsx(rows, out, labels, sheet_title=series.code)
    else:
        book_docx(rows, out, labels, register_name=series.name, start=start, end=end, office_name=office_name())


def download_name(series: Series, start: date, end: date, fmt: str) -> str:
    """Return the file name of a book, e.g. register-book-IN-2026-01-01-2026-12-31.docx."""
    return _file_name(f"register-book-{series.code}-{start.isoformat()}-{end.isoformat()}.{FORMATS[fmt].extension}")


def receipt_name(document: Document) -> str:
    """Return the file name of a document's receipt, e.g. receipt-IN-2026-000001.docx."""
    return _file_name(f"receipt-{document.number}.docx")


# --- CSV and Excel ---------------------------------------------------------------------------------------------


def default_labels() -> dict:
    """Return the labels in English, with the names of urgencies, statuses and classification levels."""
    return {
        **LABELS,
        "urgencies": dict(URGENCIES),
        "statuses": dict(STATUSES),
        "classifications": list(CLEARANCE_LEVELS),
    }


def book_csv(rows: Iterable[BookRow], out: BinaryIO, labels: Mapping | None = None) -> None:
    """Write `rows` to `out` as CSV in UTF-8 with a byte order mark (so that Excel reads it right), one per entry."""
    labels = _with_defaults(labels)
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow([labels[key] for key in COLUMNS])
        for row in rows:
            writer.writerow([_csv_value(value) for value in _row_values(row, labels)])
        text.flush()
    finally:
        text.detach()  # `out` belongs to the caller: leave it open


def book_xlsx(rows: Iterable[BookRow], out: BinaryIO, labels: Mapping | None = None, sheet_title: str = "") -> None:
    """Write `rows` to `out` as an Excel workbook: a header row, frozen panes, a filter, real dates."""
    labels = _with_defaults(labels)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(safe_sheet_title(sheet_title) or "Book")
    for index, width in enumerate(COLUMNS.values(), 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    write_table(sheet, [labels[key] for key in COLUMNS], (_row_values(row, labels) for row in rows))
    workbook.save(out)


def write_table(sheet, headers: list[str], rows: Iterable[list]) -> int:
    """Append a bold header row and `rows` (streamed) to a write-only `sheet`, with a filter over them all;
    return how many rows were written."""
    bold = Font(bold=True)
    header = []
    for text in headers:
        cell = WriteOnlyCell(sheet, clean_text(text))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for values in rows:
        sheet.append([xlsx_cell(sheet, value) for value in values])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    return count


def _row_values(row: BookRow, labels: Mapping) -> list:
    """Return the cells of `row` in the order of COLUMNS: text, office-time datetimes and counts."""
    return [
        row.number,
        row.registered_at,
        row.received_at,
        row.party,
        row.sender_reference,
        labels["withheld"] if row.withheld else row.title,
        row.document_type,
        labels["urgencies"].get(row.urgency, row.urgency),
        classification_name(row.classification, labels),
        row.department,
        labels["statuses"].get(row.status, row.status),
        row.void_reason,
        row.attachment_count,
    ]


def _csv_value(value) -> str | int:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value  # shown as text, never run as a formula
    return value


def xlsx_cell(sheet, value):
    """Return `value` as Excel should store it: office-time dates as dates, text always as text."""
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value.replace(tzinfo=None))  # Excel has no time zones: office time
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, str):
        value = clean_text(value)
        if value.startswith("="):  # openpyxl would store it as a formula
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            return cell
    return value  # plain values are written much faster than cells


def safe_sheet_title(text: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "-", text)[:31]


# --- Word ------------------------------------------------------------------------------------------------------


def book_docx(
    rows: Iterable[BookRow],
    out: BinaryIO,
    labels: Mapping | None = None,
    *,
    register_name: str,
    start: date,
    end: date,
    office_name: str = "",
) -> None:
    """Write `rows` to `out` as a printable register book: A4 landscape, the header row on every page, void rows
    shaded and marked, page numbers in the footer."""
    labels = _with_defaults(labels)
    document = new_document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(PRINTED_MARGIN_MM))
    section.footer_distance = Mm(8)
    if office_name:
        add_heading(document, office_name, 12)
    title = labels["book_title"] % {"register": register_name, "start": start.isoformat(), "end": end.isoformat()}
    add_heading(document, title, 15)
    cell_style = add_cell_style(document)
    widths = [Mm(width) for width in PRINTED_COLUMNS.values()]
    table = document.add_table(rows=2, cols=len(widths))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width
    header, placeholder = table.rows
    for cell, key in zip(header.cells, PRINTED_COLUMNS, strict=True):
        paragraph = cell.paragraphs[0]
        paragraph.style = cell_style
        paragraph.add_run(labels[key]).bold = True
    repeat_as_header(header)
    marker = "DOCSTORE-BOOK-ROWS"
    placeholder.cells[0].paragraphs[0].text = marker
    add_page_numbers(section.footer.paragraphs[0], labels["page"])
    skeleton = io.BytesIO()
    document.save(skeleton)
    twips = [width.twips for width in widths]
    body = _printed_rows(rows, labels, twips, cell_style.style_id)
    replace_row(skeleton, out, marker, body)


def _printed_rows(rows: Iterable[BookRow], labels: Mapping, widths: list[int], style_id: str) -> Iterator[str]:
    """Yield the XML of the table rows of the printed book (a single notice row when there are none)."""
    empty = True
    for row in rows:
        empty = False
        status = labels["statuses"].get(row.status, row.status)
        if row.status == "void":
            status = labels["void_mark"] % {"reason": row.void_reason}
        cells = [
            row.number,
            stamp(row.registered_at),
            row.party,
            row.sender_reference,
            labels["withheld"] if row.withheld else row.title,
            row.document_type,
            status,
        ]
        fill = VOID_FILL if row.status == "void" else ""
        yield "<w:tr><w:trPr><w:cantSplit/></w:trPr>{}</w:tr>".format(
            "".join(cell_xml(text, width, style_id, fill) for text, width in zip(cells, widths, strict=True))
        )
    if empty:
        span = f'<w:gridSpan w:val="{len(widths)}"/>'
        yield f"<w:tr>{cell_xml(labels['no_entries'], sum(widths), style_id, '', span)}</w:tr>"


def cell_xml(text: str, width: int, style_id: str, fill: str, extra: str = "") -> str:
    shading = f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else ""
    lines = clean_text(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    run = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in lines)
    return (
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{extra}{shading}</w:tcPr>'
        f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/></w:pPr><w:r>{run}</w:r></w:p></w:tc>'
    )


def replace_row(skeleton: io.BytesIO, out: BinaryIO, marker: str, rows: Iterator[str]) -> None:
    """Copy the package in `skeleton` to `out`, streaming `rows` into word/document.xml instead of the table row
    that holds `marker`."""
    skeleton.seek(0)
    with zipfile.ZipFile(skeleton) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename != "word/document.xml":
                target.writestr(item, data)
                continue
            xml = data.decode("utf-8")
            at = xml.index(marker)
            row_start = max(xml.rfind("<w:tr>", 0, at), xml.rfind("<w:tr ", 0, at))
            row_end = xml.index("</w:tr>", at) + len("</w:tr>")
            info = zipfile.ZipInfo(item.filename, date_time=item.date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            with target.open(info, "w") as stream:
                stream.write(xml[:row_start].encode("utf-8"))
                for row in rows:
                    stream.write(row.encode("utf-8"))
                stream.write(xml[row_end:].encode("utf-8"))


def receipt_docx(
    document: Document,
    labels: Mapping | None = None,
    *,
    timezone: str = "UTC",
    locale: str = "en",
    office: str | None = None,
) -> bytes:
    """Return the registration receipt of `document` as a Word file: its register data, and each attachment's name,
    size and SHA-256 digest (the content of the printable receipt page). `office` defaults to `office_name()`."""
    labels = _with_defaults(labels)
    office = office_name() if office is None else office
    zone = ZoneInfo(timezone)

    def when(value: datetime) -> str:
        return format_datetime(clock.as_utc(value), "full", tzinfo=zone, locale=locale)

    word = new_document()
    section = word.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    if office:
        add_heading(word, office, 12)
    add_heading(word, labels["receipt_title"], 16)
    status = labels["statuses"].get(document.status, document.status)
    if document.status == "void":
        status = labels["void_mark"] % {"reason": document.void_reason}
    fields = [
        ("number", document.number),
        ("register", document.series.name),
        ("registered_at", when(document.registered_at)),
        ("received_at", when(document.received_at) if document.received_at else ""),
        ("sender", document.correspondent.name if document.correspondent else ""),
        ("sender_reference", document.sender_reference),
        ("title", document.title),
        ("department", document.department.name if document.department else ""),
        ("main_recipients", "; ".join(r.name for r in document.recipients if r.role == "main")),
        ("copy_recipients", "; ".join(r.name for r in document.recipients if r.role == "copy")),
        ("signed_by", document.signer.full_name if document.signer else ""),
        ("status", status),
    ]
    fields = [(key, value) for key, value in fields if value]
    table = word.add_table(rows=len(fields), cols=2)
    table.style = word.styles["Table Grid"]
    for row, (key, value) in zip(table.rows, fields, strict=True):
        row.cells[0].paragraphs[0].add_run(labels[key]).bold = True
        row.cells[1].paragraphs[0].add_run(clean_text(value)).bold = key == "number"
        row.cells[0].width, row.cells[1].width = Mm(45), Mm(125)
    word.add_paragraph()
    add_heading(word, labels["attachments"], 13, align=WD_ALIGN_PARAGRAPH.LEFT)
    if document.attachments:
        files = word.add_table(rows=1, cols=4)
        files.style = word.styles["Table Grid"]
        widths = (Mm(8), Mm(62), Mm(25), Mm(75))
        for cell, text in zip(files.rows[0].cells, ("#", labels["file"], labels["size"], "SHA-256"), strict=True):
            cell.paragraphs[0].add_run(text).bold = True
        repeat_as_header(files.rows[0])
        for position, attachment in enumerate(document.attachments, 1):
            cells = files.add_row().cells
            cells[0].text = str(position)
            cells[1].text = clean_text(attachment.filename)
            cells[2].text = format_decimal(attachment.size, locale=locale)
            digest = cells[3].paragraphs[0].add_run(attachment.sha256)
            digest.font.name = MONOSPACE_FONT
            digest.font.size = Pt(7.5)
        for row in files.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = width
    else:
        word.add_paragraph(labels["no_attachments"])
    word.add_paragraph()
    note = word.add_paragraph()
    note.add_run(labels["digests_note"]).font.size = Pt(9)
    note.add_run().add_break()
    note.add_run(labels["printed"] % {"when": when(clock.now())}).font.size = Pt(9)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def new_document() -> docx.document.Document:
    """Return an empty Word document whose text, Latin and Chinese, is set in named fonts (not the theme's)."""
    word = docx.Document()
    for fonts in word.styles.element.iter(qn("w:rFonts")):  # theme fonts win over names: the template's go
        for name in THEME_FONT_ATTRIBUTES:
            fonts.attrib.pop(qn(name), None)
    defaults = word.styles.element.find(qn("w:docDefaults"))
    fonts = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:rFonts"))
    set_fonts(fonts)
    for style in (word.styles["Normal"], word.styles["Table Grid"]):
        set_fonts(style.element.get_or_add_rPr().get_or_add_rFonts())
    word.styles["Normal"].font.size = Pt(10.5)
    return word


def set_fonts(fonts) -> None:
    """Name the fonts of an rFonts element, and drop its theme fonts (which would win over the names)."""
    for name in THEME_FONT_ATTRIBUTES:
        fonts.attrib.pop(qn(name), None)
    for name, font in (("w:ascii", LATIN_FONT), ("w:hAnsi", LATIN_FONT), ("w:cs", LATIN_FONT)):
        fonts.set(qn(name), font)
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)


def add_heading(word, text: str, size: float, align=WD_ALIGN_PARAGRAPH.CENTER) -> None:
    paragraph = word.add_paragraph()
    paragraph.alignment = align
    run = paragraph.add_run(clean_text(text))
    run.bold = True
    run.font.size = Pt(size)
    set_fonts(run._element.get_or_add_rPr().get_or_add_rFonts())


def add_cell_style(word):
    """Return the paragraph style of the book's cells (compact, so that more entries fit on a page)."""
    style = word.styles.add_style("Register cell", WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = word.styles["Normal"]
    style.font.size = Pt(9)
    style.paragraph_format.space_before = Pt(0)
    style.paragraph_format.space_after = Pt(0)
    style.paragraph_format.line_spacing = 1.0
    set_fonts(style.element.get_or_add_rPr().get_or_add_rFonts())
    return style


def repeat_as_header(row) -> None:
    """Make a table row repeat at the top of every page (w:tblHeader), and never split across pages."""
    properties = row._tr.get_or_add_trPr()
    for name in ("w:cantSplit", "w:tblHeader"):
        element = OxmlElement(name)
        properties.append(element)


def add_page_numbers(paragraph, template: str) -> None:
    """Fill a footer paragraph from a text like 'Page %(page)s of %(pages)s', as PAGE and NUMPAGES fields."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for part in re.split(r"(%\(pages?\)s)", template):
        if part in ("%(page)s", "%(pages)s"):
            field = OxmlElement("w:fldSimple")
            field.set(qn("w:instr"), "PAGE" if part == "%(page)s" else "NUMPAGES")
            run = OxmlElement("w:r")
            text = OxmlElement("w:t")
            text.text = "1"
            run.append(text)
            field.append(run)
            paragraph._p.append(field)
        elif part:
            paragraph.add_run(part.replace("%%", "%"))


# --- small helpers ---------------------------------------------------------------------------------------------


def _with_defaults(labels: Mapping | None) -> dict:
    return {**default_labels(), **(labels or {})}


def office_time(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    return None if value is None else clock.as_utc(value).astimezone(zone)


def stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def classification_name(level: int, labels: Mapping) -> str:
    names = labels["classifications"]
    return names[level] if 0 <= level < len(names) else str(level)


def _file_name(name: str) -> str:
    """Return `name` with the characters that file systems refuse replaced by '-'."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "-", name)
