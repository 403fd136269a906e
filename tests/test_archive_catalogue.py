"""The archive catalogue (Word, Excel) and the disposal certificate: the DA/T 22 columns from what was captured at
filing, in code order, readable files, the header on every printed page, the same bytes for the same records, and
memory that does not grow with the catalogue."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
import zipfile
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from sqlalchemy import select

from docstore import audit, clock, registry
from docstore.archive import catalogue
from docstore.directives.package import ZIP_DATE
from docstore.extensions import db
from docstore.models import ArchiveClass, Disposal, DisposalItem, Record, RecordFile, Series
from tests.word_support import pdf_reader_of, read_docx

POLICY = registry.UploadPolicy(frozenset({"pdf", "text", "png"}), 5 << 20, "UTC")
TITLE = "J001 文书档案 2026 年 永久 归档文件目录"
#: Names of the clearance levels as an office sets them in CLEARANCE_NAMES.
SECRECY = ["无", "秘密", "机密", "绝密"]
CHINESE_COLUMNS = {
    "number": "序号",
    "code": "档号",
    "reference": "文号",
    "author": "责任者",
    "title": "题名",
    "date": "日期",
    "classification": "密级",
    "pages": "页数",
    "remarks": "备注",
}


def _captured(reference: str, title: str, day: str, classification: int = 0, pages: int | None = 2) -> dict:
    """Return the metadata filing captures, with the catalogue columns of DA/T 22."""
    return {
        "document": {"number": reference, "title": title.strip("[]"), "classification": classification},
        "catalogue": {
            "reference": reference,
            "author": "某市人民政府办公室",
            "title": title,
            "date": day,
            "classification": classification,
            "pages": pages,
            "remarks": "",
        },
        "replies": [],
        "instructions": [],
        "timeline": [],
    }


@pytest.fixture
def plan(app):
    """The file plan J001 > WS (文书档案) > BGS; return (fonds, class, sub-class)."""
    fonds = ArchiveClass(level="fonds", code="J001", name="某市人民政府", retention="Y", disposal_action="destroy")
    db.session.add(fonds)
    db.session.flush()
    documents = ArchiveClass(level="class", code="WS", name="文书档案", parent_id=fonds.id)
    db.session.add(documents)
    db.session.flush()
    office = ArchiveClass(level="subclass", code="BGS", name="办公室", parent_id=documents.id)
    db.session.add(office)
    db.session.commit()
    return fonds, documents, office


@pytest.fixture
def clerk(make_user):
    return make_user("lucia", "clerk", clearance=3)


@pytest.fixture
def file_record(app, clerk, sender, store):
    """Return `file(node, item, captured, year=2026, retention="Y")`: a registered document filed as a record."""

    def file(node: ArchiveClass, item: int, captured: dict, year: int = 2026, retention: str = "Y") -> Record:
        data = registry.Registration(
            series_id=db.session.query(Series).filter_by(code="IN").one().id,
            title=captured["document"]["title"],
            received_at=clock.now() - timedelta(hours=1),
            channel="paper",
            correspondent_id=sender.id,
        )
        document = registry.register_document(audit.Context(clerk.id), "incoming", data, [], POLICY, store)
        prefix = f"J001-WS·{year}-{retention}-BGS-"
        record = Record(
            document_id=document.id,
            class_id=node.id,
            year=year,
            prefix=prefix,
            item=item,
            code=f"{prefix}{item:04d}",
            retention=retention,
            disposal_action="destroy",
            due_on=None if retention == "Y" else date(year + 1 + int(retention[1:]), 1, 1),
            pages=captured["catalogue"]["pages"],
            filed_by_id=clerk.id,
            captured=captured,
        )
        db.session.add(record)
        db.session.commit()
        return record

    return file


@pytest.fixture
def year_2026(plan, file_record):
    """Four records of 2026 filed out of order (one made-up title, one classified, one destroyed) and two that the
    catalogue of WS 2026 permanent leaves out (another year, another retention). Return the four in code order."""
    _fonds, documents, office = plan
    third = file_record(office, 3, _captured("京办发〔2026〕12号", "[关于春节值班安排的便函]", "20260120"))
    first = file_record(office, 1, _captured("国办发〔2026〕1号", "关于做好2026年度档案归档工作的通知", "20260315", 1))
    second = file_record(documents, 2, _captured("S/REF 12/2026", "Solicitud de información", "20260402", 0, None))
    fourth = file_record(office, 4, _captured("京办发〔2026〕30号", "关于撤销临时机构的通知", "20261230", 3, 11))
    file_record(office, 1, _captured("国办发〔2025〕9号", "去年的通知", "20251201"), year=2025)
    file_record(office, 1, _captured("京办发〔2026〕2号", "十年期的通知", "20260105"), retention="D10")
    disposal = Disposal(action="transfer", reason="移交市档案馆", state="approved")
    db.session.add(disposal)
    db.session.flush()
    fourth.state, fourth.disposal_id = "transferred", disposal.id
    db.session.commit()
    return first, second, third, fourth


def _rows(documents: ArchiveClass) -> list[catalogue.CatalogueRow]:
    return list(catalogue.catalogue_rows(catalogue.catalogue_records(documents.id, 2026, "Y")))


def _labels() -> dict:
    return {**CHINESE_COLUMNS, "classifications": SECRECY}


def _transient_records(count: int):
    """Yield `count` records as filing makes them, without a database (the writers only read them)."""
    for item in range(1, count + 1):
        title = "[会议纪要]" if item % 5 == 0 else f"关于做好2026年度档案归档工作的通知（第{item}号）"
        captured = _captured(f"国办发〔2026〕{item}号", title, "20260315", item % 4, 3)
        yield Record(code=f"J001-WS·2026-Y-BGS-{item:04d}", retention="Y", state="kept", pages=3, captured=captured)


# --- the rows --------------------------------------------------------------------------------------------------


def test_catalogue_rows_are_the_class_year_and_retention_in_code_order_numbered_from_one(year_2026, plan):
    first, second, third, fourth = year_2026
    rows = _rows(plan[1])
    assert [row.code for row in rows] == [first.code, second.code, third.code, fourth.code]
    assert [row.number for row in rows] == [1, 2, 3, 4]
    assert (rows[0].reference, rows[0].author, rows[0].date) == ("国办发〔2026〕1号", "某市人民政府办公室", "20260315")
    assert rows[2].title == "[关于春节值班安排的便函]"
    assert (rows[3].state, rows[3].disposal_id, rows[3].pages) == ("transferred", fourth.disposal_id, 11)


def test_the_catalogue_of_a_sub_class_holds_only_its_own_records(year_2026, plan):
    first, _second, third, fourth = year_2026
    rows = list(catalogue.catalogue_rows(catalogue.catalogue_records(plan[2].id, 2026, "Y")))
    assert [row.code for row in rows] == [first.code, third.code, fourth.code]


# --- Excel -----------------------------------------------------------------------------------------------------


def test_xlsx_catalogue_has_the_columns_a_frozen_header_and_dates_as_eight_digit_text(year_2026, plan):
    data = catalogue.catalogue_xlsx(_rows(plan[1]), title=TITLE, labels=_labels())
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(CHINESE_COLUMNS.values())
    assert [row[1] for row in rows[1:]] == [record.code for record in year_2026]
    assert [row[0] for row in rows[1:]] == [1, 2, 3, 4]
    dates = [sheet.cell(row=n, column=6) for n in range(2, 6)]
    assert [cell.value for cell in dates] == ["20260315", "20260402", "20260120", "20261230"]
    assert all(cell.data_type == "s" for cell in dates)  # text, as the catalogue writes it, not the number 20260315
    assert rows[1][6] == "秘密" and rows[4][6] == "绝密"
    assert rows[3][4] == "[关于春节值班安排的便函]"
    assert rows[2][7] is None and rows[4][7] == 11
    assert rows[4][8] == f"Transferred by disposal no. {year_2026[3].disposal_id}"
    assert sheet.freeze_panes == "A2"
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.column_dimensions["E"].width == catalogue.XLSX_WIDTHS["title"]
    assert TITLE in sheet.oddHeader.center.text


# --- Word ------------------------------------------------------------------------------------------------------


def test_docx_catalogue_is_a4_landscape_with_the_header_on_every_page_and_a_row_per_record(year_2026, plan):
    data = catalogue.catalogue_docx(_rows(plan[1]), title=TITLE, subtitle="全宗名称：某市人民政府", labels=_labels())
    word = read_docx(data)
    section = word.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE and section.page_width > section.page_height
    assert [p.text for p in word.paragraphs[:2]] == [TITLE, "全宗名称：某市人民政府"]
    (table,) = word.tables
    header, *body = table.rows
    assert [cell.text for cell in header.cells] == list(CHINESE_COLUMNS.values())
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(row._tr.trPr is None or row._tr.trPr.find(qn("w:tblHeader")) is None for row in body)
    cells = [[cell.text for cell in row.cells] for row in body]
    assert [row[1] for row in cells] == [record.code for record in year_2026]
    assert cells[0] == ["1", year_2026[0].code, "国办发〔2026〕1号", "某市人民政府办公室"] + [
        "关于做好2026年度档案归档工作的通知",
        "20260315",
        "秘密",
        "2",
        "",
    ]
    assert cells[2][4] == "[关于春节值班安排的便函]"
    assert cells[3][6:] == ["绝密", "11", f"Transferred by disposal no. {year_2026[3].disposal_id}"]
    assert "NUMPAGES" in section.footer._element.xml


def test_an_empty_catalogue_still_has_its_header_and_says_so(plan):
    word = read_docx(catalogue.catalogue_docx(iter(()), title=TITLE))
    header, notice = word.tables[0].rows
    assert header.cells[1].text == "Archival code"
    assert notice.cells[0].text == "No records."
    sheet = openpyxl.load_workbook(io.BytesIO(catalogue.catalogue_xlsx(iter(()), title=TITLE))).active
    assert list(sheet.iter_rows(values_only=True)) == [tuple(catalogue.COLUMNS.values())]


def test_the_same_records_always_give_the_same_word_bytes(year_2026, plan):
    once = catalogue.catalogue_docx(_rows(plan[1]), title=TITLE, labels=_labels())
    again = catalogue.catalogue_docx(_rows(plan[1]), title=TITLE, labels=_labels())
    assert once == again
    with zipfile.ZipFile(io.BytesIO(once)) as package:
        assert {item.date_time for item in package.infolist()} == {ZIP_DATE}  # not the time it was written
    assert catalogue.catalogue_docx(_rows(plan[1]), title=TITLE + " ") != once


def test_a_printed_catalogue_of_sixty_records_repeats_its_header_on_the_second_page():
    rows = catalogue.catalogue_rows(_transient_records(60))
    pdf = pdf_reader_of(catalogue.catalogue_docx(rows, title=TITLE, labels=_labels()))
    assert len(pdf.pages) > 1
    second = pdf.pages[1].extract_text()
    assert "档号" in second and "题名" in second and "备注" in second
    assert "J001-WS·2026-Y-BGS-0060" in pdf.pages[-1].extract_text()
    assert "J001-WS·2026-Y-BGS-0060" not in pdf.pages[0].extract_text()


@pytest.mark.parametrize("writer", ["docx", "xlsx"])
def test_memory_does_not_grow_with_the_number_of_records(writer):
    def peak(count: int) -> int:
        rows = catalogue.catalogue_rows(_transient_records(count))
        tracemalloc.start()
        try:
            if writer == "docx":
                catalogue.catalogue_docx(rows, title=TITLE)
            else:
                catalogue.catalogue_xlsx(rows, title=TITLE)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(300), peak(3000)
    # Ten times the records may cost their compressed output (about 100 bytes a row), never the rows themselves:
    # a python-docx table keeps about 13 kB a row (2.4 kB of it seen by tracemalloc, the rest is libxml2's).
    assert large - small < 1_000_000, (small, large)


# --- the certificate -------------------------------------------------------------------------------------------


@pytest.fixture
def destruction(plan, file_record, make_user, fake_clock):
    """A destruction of three records of 2015 (D10), proposed and approved; return (disposal, records)."""
    _fonds, _documents, office = plan
    proposer = make_user("wang", "archivist", full_name="王档案")
    approver = make_user("li", "admin", full_name="李主任")
    records = []
    for item, files in ((2, 2), (1, 1), (3, 0)):
        record = file_record(
            office,
            item,
            _captured(f"京办发〔2015〕{item}号", f"2015年第{item}号通知", f"201503{item:02d}"),
            2015,
            "D10",
        )
        for position in range(files):
            content = f"{record.code} file {position}".encode()
            db.session.add(
                RecordFile(
                    record_id=record.id,
                    document_id=record.document_id,
                    attachment_id=None,
                    role="document",
                    position=position,
                    filename=f"file-{position}.pdf",
                    sha256=hashlib.sha256(content).hexdigest(),
                    size=1000 * (position + 1),
                    mime="application/pdf",
                )
            )
        records.append(record)
    disposal = Disposal(
        action="destroy",
        reason="保管期限已满，经鉴定无继续保存价值",
        state="approved",
        proposed_at=datetime(2026, 3, 1, 17, 30, tzinfo=UTC),
        proposed_by_id=proposer.id,
        decided_at=datetime(2026, 3, 4, 1, 15, tzinfo=UTC),
        decided_by_id=approver.id,
        decision_note="同意销毁，由办公室监销",
    )
    db.session.add(disposal)
    db.session.flush()
    for record in records:
        db.session.add(DisposalItem(disposal_id=disposal.id, record_id=record.id))
        record.state, record.disposal_id, record.disposed_at = "destroyed", disposal.id, clock.now()
    db.session.commit()
    in_order = select(Record).where(Record.disposal_id == disposal.id).order_by(Record.prefix, Record.item)
    return disposal, list(db.session.scalars(in_order))


def _text(word) -> str:
    parts = [p.text for p in word.paragraphs]
    for table in word.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


def test_the_certificate_states_the_decision_and_every_record_with_its_files_digests(destruction):
    disposal, records = destruction
    data = catalogue.certificate_docx(disposal, records, office="某市人民政府办公室", timezone="Asia/Shanghai")
    word = read_docx(data)
    assert [p.text for p in word.paragraphs[:2]] == ["某市人民政府办公室", "Certificate of destruction"]
    decision, listed = word.tables
    facts = {row.cells[0].text: row.cells[1].text for row in decision.rows}
    assert facts == {
        "Disposal no.": str(disposal.id),
        "Action": "Destroy",
        "Reason": "保管期限已满，经鉴定无继续保存价值",
        "Proposed by": "王档案",
        "Proposed at": "2026-03-02 01:30",  # office time in Shanghai
        "Approved by": "李主任",
        "Approved at": "2026-03-04 09:15",
        "Approver's note": "同意销毁，由办公室监销",
    }
    header, *body, total = listed.rows
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None
    cells = [[cell.text for cell in row.cells] for row in body]
    assert [row[0] for row in cells] == ["J001-WS·2015-D10-BGS-0001", "J001-WS·2015-D10-BGS-0002", records[2].code]
    assert cells[1][:6] == ["J001-WS·2015-D10-BGS-0002", "2015年第2号通知", "20150302", "10 years", "2", "3000"]
    assert cells[1][6].split("\n") == [item.sha256 for item in records[1].files]
    assert cells[2][4:] == ["0", "0", ""]
    assert total.cells[0].text == "Total: 3 records, 3 files, 4000 bytes"
    text = _text(word)
    assert "Witness (Signature)" in text and "Destroyed by (Signature)" in text
    assert word.sections[0].orientation == WD_ORIENT.LANDSCAPE


def test_the_same_disposal_always_gives_the_same_certificate_bytes(destruction):
    disposal, records = destruction
    once = catalogue.certificate_docx(disposal, records, timezone="Asia/Shanghai")
    assert catalogue.certificate_docx(disposal, records, timezone="Asia/Shanghai") == once
    with zipfile.ZipFile(io.BytesIO(once)) as package:
        assert {item.date_time for item in package.infolist()} == {ZIP_DATE}


def test_a_transfer_certificate_is_titled_and_signed_for_a_transfer_in_the_labels_given(destruction):
    disposal, records = destruction
    disposal.action = "transfer"
    labels = {
        "certificate_transfer": "移交清册",
        "handed_over_by": "移交人",
        "received_by": "接收人",
        "signature": "签字",
        "retentions": {"Y": "永久", "D30": "30年", "D10": "10年"},
    }
    word = read_docx(catalogue.certificate_docx(disposal, records, labels=labels))
    text = _text(word)
    assert word.paragraphs[0].text == "移交清册"
    assert "移交人 (签字)" in text and "接收人 (签字)" in text and "Witness" not in text
    assert "10年" in text and "Records transferred" in text
