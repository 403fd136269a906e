"""The register book (CSV, Excel, Word) and the Word receipt: the right entries, in order, void ones marked, readable
files, streaming from the database, and who may download what."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import docx
import openpyxl
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from flask_babel import force_locale, gettext
from sqlalchemy import event, insert

from docstore import audit, books, clock, correspondents, organisation, registry
from docstore.errors import ValidationFailed
from docstore.extensions import db
from docstore.models import Document, Series

TIMEZONE = "Europe/Madrid"
POLICY = registry.UploadPolicy(frozenset({"pdf", "text", "png"}), 5 << 20, TIMEZONE)
CHINESE_TITLE = "关于做好2026年度档案归档工作的通知"
APRIL = (date(2026, 4, 1), date(2026, 4, 30))


@pytest.fixture
def settings(settings):
    settings["OFFICE_TIMEZONE"] = TIMEZONE
    return settings


@pytest.fixture
def clerk(make_user):
    return make_user("lucia", "clerk", clearance=3)


@pytest.fixture
def incoming(app):
    return db.session.query(Series).filter_by(code="IN").one()


def _register(clerk, sender, store, title="Solicitud de información", files=(), **fields) -> Document:
    data = registry.Registration(
        series_id=db.session.query(Series).filter_by(code="IN").one().id,
        title=title,
        received_at=clock.now() - timedelta(hours=1),
        channel="paper",
        correspondent_id=sender.id,
        **fields,
    )
    uploads = [registry.Upload(name, io.BytesIO(data)) for name, data in files]
    return registry.register_document(audit.Context(clerk.id), "incoming", data, uploads, POLICY, store)


@pytest.fixture
def april_book(app, clerk, sender, store, fake_clock):
    """Five entries around April 2026 in Madrid: before, at midnight, Chinese, void, after. Return them."""
    march = _register(clerk, sender, store, title="Entrada de marzo")
    fake_clock.current = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)  # 00:30 on 1 April in Madrid (CEST)
    midnight = _register(
        clerk,
        sender,
        store,
        title='=HYPERLINK("http://example.invalid")',
        sender_reference="S/REF 12/2026",
        files=[("oficio.txt", b"oficio"), ("anexo.txt", b"anexo")],
    )
    fake_clock.current = datetime(2026, 4, 15, 8, 0, tzinfo=UTC)
    chinese = _register(clerk, sender, store, title=CHINESE_TITLE, urgency="urgent")
    void = _register(clerk, sender, store, title="Registrado dos veces")
    registry.void_document(audit.Context(clerk.id), void.id, "Registered twice")
    fake_clock.current = datetime(2026, 4, 30, 22, 0, tzinfo=UTC)  # 00:00 on 1 May in Madrid
    may = _register(clerk, sender, store, title="Entrada de mayo")
    return march, midnight, chinese, void, may


def _write(fmt: str, series: Series, period=APRIL, clearance=None) -> bytes:
    out = io.BytesIO()
    books.write_book(fmt, series, *period, out, timezone=TIMEZONE, clearance=clearance)
    return out.getvalue()


def _download(client, url: str):
    """GET `url`, read the body and close the response (which closes the file it was sent from)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _docx_text(word) -> str:
    parts = [p.text for p in word.paragraphs]
    for table in word.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


# --- the entries -----------------------------------------------------------------------------------------------


def test_book_rows_are_the_office_days_of_the_period_in_number_order_void_included(app, incoming, april_book):
    _march, midnight, chinese, void, _may = april_book
    rows = list(books.register_rows(incoming.id, *APRIL, TIMEZONE))
    assert [row.number for row in rows] == [midnight.number, chinese.number, void.number]
    assert rows[0].registered_at.strftime("%Y-%m-%d %H:%M") == "2026-04-01 00:30"
    assert rows[0].attachment_count == 2 and rows[0].party == "Ministerio de Hacienda"
    assert (rows[2].status, rows[2].void_reason) == ("void", "Registered twice")


def test_a_reversed_or_impossible_period_is_refused(app, incoming):
    with pytest.raises(ValidationFailed) as failure:
        books.register_rows(incoming.id, date(2026, 5, 1), date(2026, 4, 1), TIMEZONE)
    assert set(failure.value.errors) == {"until"}
    with pytest.raises(ValidationFailed) as failure:
        books.write_book("pdf", incoming, date(1, 1, 1), date(9999, 12, 31), io.BytesIO(), timezone=TIMEZONE)
    assert set(failure.value.errors) == {"format", "from", "until"}


def test_entries_above_the_readers_clearance_keep_their_number_but_not_their_title(
    app, clerk, sender, store, incoming, fake_clock
):
    open_entry = _register(clerk, sender, store, title="Convocatoria")
    secret = _register(clerk, sender, store, title="Plan de defensa", classification=2, sender_reference="R-9")
    period = (date(2026, 3, 1), date(2026, 3, 31))
    rows = _csv_rows(_write("csv", incoming, period, clearance=1))
    assert [row[0] for row in rows[1:]] == [open_entry.number, secret.number]
    assert "Plan de defensa" not in str(rows) and "R-9" not in str(rows)
    assert rows[2][5] == "[classified]" and rows[2][8] == "Secret"


# --- CSV and Excel ---------------------------------------------------------------------------------------------


def test_csv_book_has_a_bom_a_header_and_one_row_per_entry(app, incoming, april_book):
    _march, midnight, chinese, void, _may = april_book
    data = _write("csv", incoming)
    assert data.startswith(b"\xef\xbb\xbf")
    header, *rows = _csv_rows(data)
    assert header == [books.LABELS[key] for key in books.COLUMNS]
    assert [row[0] for row in rows] == [midnight.number, chinese.number, void.number]
    first = dict(zip(header, rows[0], strict=True))
    assert first["Registered at"] == "2026-04-01 00:30"
    assert first["Received at"] == "2026-03-31 23:30"
    assert first["From / to"] == "Ministerio de Hacienda"
    assert first["Sender's reference"] == "S/REF 12/2026"
    assert first["Title"] == '\'=HYPERLINK("http://example.invalid")'  # text, never a formula
    assert first["Attachments"] == "2" and first["Status"] == "Registered"
    assert rows[1][5] == CHINESE_TITLE and rows[1][7] == "Urgent"
    assert (rows[2][10], rows[2][11]) == ("Void", "Registered twice")


def test_xlsx_book_reopens_with_real_dates_frozen_header_and_text_kept_as_text(app, incoming, april_book):
    _march, midnight, chinese, void, _may = april_book
    workbook = openpyxl.load_workbook(io.BytesIO(_write("xlsx", incoming)))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [books.LABELS[key] for key in books.COLUMNS]
    assert [row[0] for row in rows[1:]] == [midnight.number, chinese.number, void.number]
    assert rows[1][1] == datetime(2026, 4, 1, 0, 30)
    assert sheet.cell(row=2, column=2).is_date
    assert sheet.cell(row=2, column=6).data_type == "s"
    assert rows[1][5] == '=HYPERLINK("http://example.invalid")'
    assert rows[2][5] == CHINESE_TITLE
    assert (rows[3][10], rows[3][11]) == ("Void", "Registered twice")
    assert rows[1][12] == 2
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["F"].width == books.COLUMNS["title"]


# --- Word ------------------------------------------------------------------------------------------------------


def test_docx_book_is_a4_landscape_with_a_repeated_header_and_void_rows_marked(app, incoming, april_book):
    organisation.create_department(audit.SYSTEM, code="BGS", name="Oficina General", kind="office")
    _march, midnight, chinese, void, _may = april_book
    data = _write("docx", incoming)
    word = docx.Document(io.BytesIO(data))
    section = word.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert (section.page_width.twips, section.page_height.twips) == (16838, 11906)
    texts = [p.text for p in word.paragraphs]
    assert "Oficina General" in texts
    assert f"Register book — {incoming.name} — 2026-04-01 to 2026-04-30" in texts
    table = word.tables[0]
    header, *rows = table.rows
    assert [cell.text for cell in header.cells] == [books.LABELS[key] for key in books.PRINTED_COLUMNS]
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None
    assert [row.cells[0].text for row in rows] == [midnight.number, chinese.number, void.number]
    assert rows[0].cells[1].text == "2026-04-01 00:30"
    assert rows[1].cells[4].text == CHINESE_TITLE
    assert rows[2].cells[6].text == "VOID: Registered twice"
    shading = rows[2].cells[0]._tc.tcPr.find(qn("w:shd"))
    assert shading.get(qn("w:fill")) == books.VOID_FILL
    assert rows[0].cells[0]._tc.tcPr.find(qn("w:shd")) is None
    styles = word.styles.element.xml
    assert f'w:eastAsia="{books.EAST_ASIAN_FONT}"' in styles and "w:eastAsiaTheme" not in styles
    footer = section.footer._element.xml
    assert 'w:instr="PAGE"' in footer and 'w:instr="NUMPAGES"' in footer


def test_an_empty_period_still_gives_a_valid_file_with_its_header(app, incoming, april_book):
    empty = (date(2025, 1, 1), date(2025, 12, 31))
    assert _csv_rows(_write("csv", incoming, empty)) == [[books.LABELS[key] for key in books.COLUMNS]]
    sheet = openpyxl.load_workbook(io.BytesIO(_write("xlsx", incoming, empty))).active
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["Number"]
    table = docx.Document(io.BytesIO(_write("docx", incoming, empty))).tables[0]
    assert [row.cells[0].text for row in table.rows] == ["Number", "No entries in this period."]


def test_books_are_written_in_the_labels_given(app, incoming, april_book):
    labels = {"number": "编号", "statuses": {"registered": "已登记", "void": "作废"}, "void_mark": "作废：%(reason)s"}
    out = io.BytesIO()
    rows = books.register_rows(incoming.id, *APRIL, TIMEZONE)
    books.book_docx(rows, out, labels, register_name="收文登记簿", start=APRIL[0], end=APRIL[1])
    table = docx.Document(io.BytesIO(out.getvalue())).tables[0]
    assert table.rows[0].cells[0].text == "编号"
    assert [row.cells[6].text for row in table.rows[1:]] == ["已登记", "已登记", "作废：Registered twice"]


def test_the_csv_of_thousands_of_entries_is_read_in_a_few_statements(app, clerk, sender, store, incoming, fake_clock):
    first = _register(clerk, sender, store, files=[("nota.txt", b"nota")])
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    db.session.execute(
        insert(Document),
        [
            {
                "series_id": incoming.id,
                "year": 2026,
                "seq": seq,
                "number": f"IN-2026-{seq:06d}",
                "direction": "incoming",
                "status": "registered",
                "registered_at": now + timedelta(seconds=seq),
                "received_at": now,
                "correspondent_id": sender.id,
                "title": f"Entrada {seq}",
                "sender_reference": "",
                "urgency": "normal",
                "classification": 0,
                "summary": "",
                "notes": "",
                "void_reason": "",
            }
            for seq in range(2, 3002)
        ],
    )
    db.session.commit()
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    out = io.BytesIO()
    identities = len(db.session.identity_map)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        books.book_csv(books.register_rows(incoming.id, date(2026, 3, 1), date(2026, 3, 31), TIMEZONE), out)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    rows = _csv_rows(out.getvalue())
    assert len(rows) == 1 + 3001 and rows[1][0] == first.number and rows[1][12] == "1"
    assert [row[0] for row in rows[1:]] == [f"IN-2026-{seq:06d}" for seq in range(1, 3002)]
    assert len(statements) <= 5, statements
    assert len(db.session.identity_map) == identities  # rows come as tuples: the session keeps none of them


# --- the receipt -----------------------------------------------------------------------------------------------


def test_receipt_docx_lists_every_attachment_with_its_digest(app, clerk, sender, store, fake_clock):
    files = [("oficio.txt", "Oficio nº 12".encode()), ("图片说明.txt", "附件二".encode()), ("anexo.txt", b"anexo")]
    document = _register(clerk, sender, store, title=CHINESE_TITLE, sender_reference="S/REF 7", files=files)
    word = docx.Document(io.BytesIO(books.receipt_docx(document, timezone=TIMEZONE)))
    text = _docx_text(word)
    assert "Registration receipt" in text and document.number in text and CHINESE_TITLE in text
    assert "S/REF 7" in text and "Ministerio de Hacienda" in text
    assert "Monday, March 2, 2026" in text  # registered 09:00 UTC = 10:00 in Madrid, in full
    files_table = word.tables[1]
    listed = [[cell.text for cell in row.cells] for row in files_table.rows[1:]]
    assert listed == [
        [str(n), name, f"{len(data):,}", hashlib.sha256(data).hexdigest()] for n, (name, data) in enumerate(files, 1)
    ]
    assert f'w:eastAsia="{books.EAST_ASIAN_FONT}"' in word.styles.element.xml


# --- the pages -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["clerk", "admin", "archivist", "leader"])
def test_office_wide_roles_download_the_book_of_the_current_year(
    client, make_user, sign_in, incoming, april_book, role
):
    make_user("reader", role, clearance=3)
    sign_in("reader")
    page = client.get(f"/registers/{incoming.id}/book")
    assert page.status_code == 200 and 'value="2026-01-01"' in page.text and 'value="2026-12-31"' in page.text
    response = _download(client, f"/registers/{incoming.id}/book?from=2026-01-01&until=2026-12-31&format=docx")
    assert response.status_code == 200
    assert response.mimetype == books.DOCX_MIME
    assert "register-book-IN-2026-01-01-2026-12-31.docx" in response.headers["Content-Disposition"]
    table = docx.Document(io.BytesIO(response.data)).tables[0]
    assert len(table.rows) == 1 + 5


def test_each_format_is_sent_with_its_type_and_name(client, clerk, sign_in, incoming, april_book):
    sign_in("lucia")
    for fmt, mime in (("csv", "text/csv"), ("xlsx", books.FORMATS["xlsx"].mime)):
        response = _download(client, f"/registers/{incoming.id}/book?from=2026-04-01&until=2026-04-30&format={fmt}")
        assert response.status_code == 200 and response.mimetype == mime
        assert f"register-book-IN-2026-04-01-2026-04-30.{fmt}" in response.headers["Content-Disposition"]


def test_the_book_comes_out_in_the_users_language(client, make_user, sign_in, incoming, april_book):
    make_user("maria", "clerk", clearance=3, locale="es")
    sign_in("maria")
    response = _download(client, f"/registers/{incoming.id}/book?from=2026-04-01&until=2026-04-30&format=csv")
    with force_locale("es"):
        number, void = gettext("Number"), gettext("Void")
    assert number != "Number"  # the catalogue translates it, so the check below means something
    header, *rows = _csv_rows(response.data)
    assert header[0] == number and rows[2][10] == void


def test_staff_may_not_download_the_book(client, make_user, sign_in, incoming):
    make_user("juan", "staff", clearance=3)
    sign_in("juan")
    assert client.get(f"/registers/{incoming.id}/book").status_code == 403
    assert client.get(f"/registers/{incoming.id}/book?format=csv").status_code == 403


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-13-01&until=2026-12-31", "from", "Enter the first day as year-month-day"),
        ("from=2026-01-01&until=yesterday", "until", "Enter the last day as year-month-day"),
        ("from=2026-05-01&until=2026-04-01", "until", "The last day is before the first day."),
        ("from=0001-01-01&until=2026-04-01", "from", "Choose a day from 1900 to 9998."),
        ("from=2026-01-01&until=9999-12-31", "until", "Choose a day from 1900 to 9998."),
    ],
)
def test_bad_dates_show_the_form_with_a_message(client, clerk, sign_in, incoming, query, field, message):
    sign_in("lucia")
    response = client.get(f"/registers/{incoming.id}/book?{query}&format=docx")
    assert response.status_code == 422
    assert message in response.text and f'id="{field}-error"' in response.text


def test_an_unknown_format_is_refused_with_a_message(client, clerk, sign_in, incoming):
    sign_in("lucia")
    response = client.get(f"/registers/{incoming.id}/book?from=2026-01-01&until=2026-12-31&format=pdf")
    assert response.status_code == 422 and "Choose Word, Excel or CSV." in response.text


def test_receipt_docx_follows_the_visibility_of_the_document(client, clerk, sender, store, make_user, sign_in):
    finance = organisation.create_department(audit.SYSTEM, code="CW", name="Finance")
    legal = organisation.create_department(audit.SYSTEM, code="FJ", name="Legal")
    ours = _register(clerk, sender, store, department_id=finance.id, files=[("a.txt", b"a")])
    theirs = _register(clerk, sender, store, department_id=legal.id)
    make_user("juan", "staff", department_id=finance.id)
    sign_in("juan")
    response = _download(client, f"/documents/{ours.id}/receipt.docx")
    assert response.status_code == 200 and response.mimetype == books.DOCX_MIME
    assert f"receipt-{ours.number}.docx" in response.headers["Content-Disposition"]
    assert hashlib.sha256(b"a").hexdigest() in _docx_text(docx.Document(io.BytesIO(response.data)))
    assert client.get(f"/documents/{theirs.id}/receipt.docx").status_code == 404
    page = client.get(f"/documents/{ours.id}")
    assert f"/documents/{ours.id}/receipt.docx" in page.text


def test_an_outgoing_book_names_the_main_recipients(app, clerk, sender, store, fake_clock):
    office = organisation.create_department(audit.SYSTEM, code="BGS", name="Oficina")
    other = correspondents.create_correspondent(audit.SYSTEM, name="Ayuntamiento de Ávila")
    out = db.session.query(Series).filter_by(code="OUT").one()
    data = registry.Registration(
        series_id=out.id,
        title="Respuesta",
        department_id=office.id,
        main_recipients=[("correspondent", sender.id), ("correspondent", other.id)],
        copy_recipients=[("department", office.id)],
    )
    registry.register_document(audit.Context(clerk.id), "outgoing", data, [], POLICY, store)
    day = clock.now().astimezone(ZoneInfo(TIMEZONE)).date()
    (row,) = list(books.register_rows(out.id, day, day, TIMEZONE))
    assert set(row.party.split("; ")) == {"Ministerio de Hacienda", "Ayuntamiento de Ávila"}  # not the copy
