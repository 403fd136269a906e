"""The archive pages: who may open each, filing (inline and in the background), records, annotations, holds, the
file plan, the catalogue, disposal with its certificate, integrity, and the archived document's own page."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import docx
import openpyxl
import pytest
from lxml import html
from sqlalchemy import select

from docstore import audit, organisation
from docstore.archive import bagit, filing, fixity, holds
from docstore.extensions import db
from docstore.models import ArchiveClass, AuditEvent, Disposal, Document, Hold, Record
from tests.archive_support import RULES, Plan, closed_incoming, department, files, outgoing
from tests.service_support import act, ctx


@pytest.fixture
def office(app, make_user, clerk, sender, store, fake_clock):
    """A file plan, an archivist, a leader, a staff member of another department, and three closed documents of
    2026: two outgoing letters of the office (BGS) and an incoming one, each with a file."""
    bgs = department()
    finance = organisation.create_department(audit.SYSTEM, code="FIN", name="Finanzas")
    documents = [
        outgoing(clerk, sender, store, title="Respuesta al ministerio", uploads=files(("respuesta.txt", b"Respuesta"))),
        outgoing(clerk, sender, store, title="Remisión del informe", uploads=files(("informe.txt", b"Informe"))),
        closed_incoming(clerk, sender, store, title="Solicitud de datos", uploads=files(("solicitud.txt", b"Datos"))),
    ]
    return SimpleNamespace(
        plan=Plan(),
        bgs=bgs,
        clerk=clerk,
        store=store,
        documents=documents,
        archivist=make_user("archivo", "archivist", full_name="Ana Archivera", clearance=3),
        leader=make_user("director", "leader", full_name="Diana Director", clearance=3),
        admin=make_user("admin", "admin", full_name="Ada Admin", clearance=3),
        staff=make_user("bo", "staff", full_name="Bo Li", department_id=finance.id),
    )


def text_of(response) -> str:
    return " ".join(html.fromstring(response.data).text_content().split())


def file_all(office) -> list[Record]:
    """File the office's three documents into WS with the service; return their records, in the documents' order."""
    act(filing.file_batch, ctx(office.archivist), office.plan.ws.id, 2026, RULES)
    filed = {record.document_id: record for record in db.session.scalars(select(Record))}
    return [filed[document.id] for document in office.documents]


def expire(fake_clock) -> None:
    """Move the clock past the end of a ten-year retention of 2026 records (due on 2037-01-01)."""
    fake_clock.current = datetime(2037, 2, 1, 9, 0, tzinfo=UTC)


# --- who may open what -----------------------------------------------------------------------------------------

OVERSEEN = ["/archive/", "/archive/plan", "/archive/catalogue", "/archive/holds", "/archive/disposal",
            "/archive/disposal/decisions"]  # fmt: skip
KEPT = ["/archive/file", "/archive/integrity", "/archive/export"]


def test_the_archive_pages_open_for_its_keepers_and_leaders_and_are_refused_to_others(office, browse):
    archivist, leader, staff = browse(office.archivist), browse(office.leader), browse(office.staff)
    for url in OVERSEEN + KEPT:
        assert archivist.get(url).status_code == 200, url
        assert staff.get(url).status_code == 403, url
    for url in OVERSEEN:
        assert leader.get(url).status_code == 200, url
    for url in KEPT:
        assert leader.get(url).status_code == 403, url

    def header_links(browser) -> list[str]:
        return html.fromstring(browser.get("/").data).xpath("//header//a/@href")

    assert "/archive/" in header_links(archivist) and "/archive/" in header_links(leader)
    assert "/archive/" not in header_links(staff)
    assert "/archive/integrity" in header_links(browse(office.admin))


def test_writes_are_refused_to_leaders_and_staff(office, browse):
    leader, staff = browse(office.leader), browse(office.staff)
    data = {"year": "2026", "class_id": office.plan.ws.id, "scope": "all"}
    assert leader.post("/archive/file", data=data).status_code == 403
    assert staff.post("/archive/plan", data={"code": "X", "name": "X"}).status_code == 403
    assert leader.post("/archive/plan", data={"code": "X", "name": "X"}).status_code == 403
    assert leader.post("/archive/holds", data={"reason": "x", "codes": ""}).status_code == 403
    assert staff.post("/archive/disposal/1/decide", data={"decision": "approve"}).status_code == 403
    assert db.session.scalar(select(Record.id)) is None


# --- filing ----------------------------------------------------------------------------------------------------


def test_an_archivist_files_a_years_closed_documents_and_the_document_page_says_where(office, browse):
    archivist = browse(office.archivist)
    page = text_of(archivist.get("/archive/file"))
    assert "File all 3 closed documents of 2026" in page
    assert all(document.number in page for document in office.documents)

    done = archivist.post(
        "/archive/file", data={"year": "2026", "class_id": office.plan.ws.id, "scope": "all"}, follow_redirects=True
    )

    assert "3 records filed: J001-WS·2026-D10-BGS-0001 to J001-WS·2026-D10-BGS-0003" in text_of(done)
    assert "nothing left to file" in text_of(done)
    statuses = db.session.scalars(select(Document.status).where(Document.id.in_([d.id for d in office.documents])))
    assert set(statuses) == {"archived"}
    record = db.session.scalar(select(Record).where(Record.document_id == office.documents[0].id))
    document_page = browse(office.clerk).get(f"/documents/{office.documents[0].id}")
    shown = text_of(document_page)
    assert f"Filed in the archive as {record.code}: it can no longer change." in shown
    tree = html.fromstring(document_page.data)
    assert tree.xpath(f"//a[@href='/archive/records/{record.id}']")
    # the buttons that would now be refused are not offered
    for gone in ("edit", "void", "attachments"):
        address = f"/documents/{record.document_id}/{gone}"
        assert not tree.xpath(f"//*[@href='{address}' or @action='{address}']"), gone
    assert "Draft a reply" not in shown


def test_filing_the_ticked_documents_files_only_those(office, browse):
    archivist = browse(office.archivist)
    chosen = office.documents[2]
    response = archivist.post(
        "/archive/file",
        data={"year": "2026", "class_id": office.plan.kj.id, "scope": "selected", "document_ids": [chosen.id]},
        follow_redirects=True,
    )
    assert "1 record filed: J001-KJ·2026-D30-BGS-0001." in text_of(response)
    assert [r.document_id for r in db.session.scalars(select(Record))] == [chosen.id]
    assert "File all 2 closed documents of 2026" in text_of(response)


def test_filing_without_a_class_or_a_tick_says_what_is_missing(office, browse):
    archivist = browse(office.archivist)
    no_class = archivist.post("/archive/file", data={"year": "2026", "scope": "all"}, follow_redirects=True)
    assert "Choose the class to file the documents into." in text_of(no_class)
    no_tick = archivist.post(
        "/archive/file",
        data={"year": "2026", "class_id": office.plan.ws.id, "scope": "selected"},
        follow_redirects=True,
    )
    assert "Tick the documents to file, or file them all." in text_of(no_tick)
    fonds = archivist.post(
        "/archive/file", data={"year": "2026", "class_id": office.plan.fonds.id, "scope": "all"}, follow_redirects=True
    )
    assert "Choose an active class or sub-class of the file plan." in text_of(fonds)
    assert db.session.scalar(select(Record.id)) is None


def test_a_large_year_is_filed_in_the_background_and_its_page_shows_the_result(app, office, browse):
    app.config["ARCHIVE_FILING_INLINE_LIMIT"] = 2  # the office's three documents are "many"
    archivist = browse(office.archivist)
    started = archivist.post("/archive/file", data={"year": "2026", "class_id": office.plan.ws.id, "scope": "all"})
    assert started.status_code == 302 and "/archive/file/jobs/" in started.location
    progress_url = started.location + ".json"
    deadline = time.monotonic() + 30
    while not (progress := archivist.get(progress_url).json)["finished"]:
        assert time.monotonic() < deadline, progress
        time.sleep(0.1)
    assert progress["known"] and progress["done"] == progress["total"] == 3
    page = text_of(archivist.get(started.location))
    assert "3 records filed: J001-WS·2026-D10-BGS-0001 to J001-WS·2026-D10-BGS-0003" in page
    assert db.session.scalar(select(db.func.count(Record.id))) == 3
    assert archivist.get("/archive/file/jobs/0123456789abcdef").status_code == 200  # unknown here: says so
    assert archivist.get("/archive/file/jobs/not-a-job").status_code == 404


# --- records ---------------------------------------------------------------------------------------------------


def test_the_record_page_shows_what_was_captured_and_logs_views_and_downloads(office, browse):
    first, _second, incoming = file_all(office)
    archivist = browse(office.archivist)
    listed = text_of(archivist.get("/archive/?q=Solicitud"))
    assert incoming.code in listed and first.code not in listed

    page = text_of(archivist.get(f"/archive/records/{incoming.id}"))
    assert incoming.code in page and "Solicitud de datos" in page
    assert "Ministerio de Hacienda" in page and "Leído y archivado." in page  # the sender, the closing result
    assert "solicitud.txt" in page
    download = archivist.get(f"/archive/records/{incoming.id}/files/{incoming.files[0].id}")
    assert download.status_code == 200 and download.data == b"Datos"
    assert "solicitud.txt" in download.headers["Content-Disposition"]
    download.close()  # the stored file is sent from disk
    actions = db.session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "archive_record", AuditEvent.object_id == str(incoming.id)
        )
    ).all()
    assert actions == ["archive_record.filed", "archive_record.viewed", "archive_record.downloaded"]
    history = text_of(archivist.get(f"/archive/records/{incoming.id}"))
    assert "Viewed" in history and "File downloaded" in history

    # Bo (Finance) may not open the office's documents, nor their records
    staff = browse(office.staff)
    assert staff.get(f"/archive/records/{incoming.id}").status_code == 404
    assert staff.get(f"/archive/records/{incoming.id}/files/{incoming.files[0].id}").status_code == 404


def test_an_annotation_is_added_and_an_empty_one_is_refused_at_its_field(office, browse):
    record = file_all(office)[0]
    archivist = browse(office.archivist)
    empty = archivist.post(f"/archive/records/{record.id}/annotations", data={"text": "  "})
    assert empty.status_code == 422
    assert "Write the annotation (up to 4000 characters)." in text_of(empty)
    added = archivist.post(
        f"/archive/records/{record.id}/annotations",
        data={"text": "El destinatario correcto es la Subdirección."},
        follow_redirects=True,
    )
    assert "The annotation is added to the record." in text_of(added)
    assert "El destinatario correcto es la Subdirección." in text_of(added)
    assert (
        browse(office.leader).post(f"/archive/records/{record.id}/annotations", data={"text": "x"}).status_code == 403
    )


def test_editing_an_archived_document_answers_with_a_clear_message(office, browse):
    record = file_all(office)[0]
    clerk = browse(office.clerk)
    edit = clerk.post(f"/documents/{record.document_id}/edit", data={"title": "Otro título"})
    assert edit.status_code == 409
    assert "is filed in the archive: add an annotation to its record instead." in text_of(edit)
    void = clerk.post(f"/documents/{record.document_id}/void", data={"reason": "error"}, follow_redirects=True)
    assert "is filed in the archive" in text_of(void)
    assert db.session.get(Document, record.document_id).title == "Respuesta al ministerio"


# --- the file plan ---------------------------------------------------------------------------------------------


def test_the_file_plan_takes_a_sub_class_with_a_custom_retention_and_shows_what_is_inherited(office, browse):
    archivist = browse(office.archivist)
    added = archivist.post(
        "/archive/plan",
        data={
            "parent_id": office.plan.ws.id,
            "code": "RS",
            "name": "Recursos humanos",
            "retention": "custom",
            "custom_years": "5",
            "disposal_action": "",
            "active": "y",
        },
        follow_redirects=True,
    )
    assert "Sub-class RS is added to the file plan." in text_of(added)
    node = db.session.scalar(select(ArchiveClass).where(ArchiveClass.code == "RS"))
    assert (node.level, node.retention, node.disposal_action) == ("subclass", "D5", "")
    row = html.fromstring(added.data).get_element_by_id(f"class-{node.id}").text_content()
    assert "5 years" in row and "Destroy" in row and "as the class above" in row

    refused = archivist.post(
        "/archive/plan",
        data={"parent_id": office.plan.ws.id, "code": "R S", "name": "", "retention": "custom", "active": "y"},
    )
    assert refused.status_code == 422
    assert "Use 1 to 16 letters or digits" in text_of(refused)
    assert "Choose Y, D30, D10, or a custom period such as D5." in text_of(refused)

    edited = archivist.post(
        f"/archive/plan/{node.id}",
        data={
            "code": "RS",
            "name": "Recursos humanos",
            "retention": "D30",
            "disposal_action": "transfer",
            "active": "y",
        },
        follow_redirects=True,
    )
    assert "RS is saved." in text_of(edited)
    db.session.refresh(node)
    assert (node.retention, node.disposal_action) == ("D30", "transfer")


# --- the catalogue ---------------------------------------------------------------------------------------------


def test_the_catalogue_downloads_as_word_and_excel(office, browse):
    records = file_all(office)
    leader = browse(office.leader)
    word = leader.get(f"/archive/catalogue?class_id={office.plan.fonds.id}&year=2026&format=docx")
    assert word.status_code == 200 and word.mimetype.endswith("wordprocessingml.document")
    assert "catalogue-J001-2026.docx" in word.headers["Content-Disposition"]
    cells = [c.text for t in docx.Document(io.BytesIO(word.data)).tables for r in t.rows for c in r.cells]
    assert all(record.code in cells for record in records) and "Archival code" in cells
    excel = leader.get(f"/archive/catalogue?class_id={office.plan.ws.id}&year=2026&format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(excel.data)).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == sorted(r.code for r in records)
    missing = leader.get("/archive/catalogue?year=&format=docx")
    assert missing.status_code == 422
    assert "Choose the class (or the whole fonds)." in text_of(missing) and "Choose the year." in text_of(missing)


# --- holds -----------------------------------------------------------------------------------------------------


def test_a_hold_is_placed_by_codes_and_released_with_a_reason(office, browse):
    first, second, _third = file_all(office)
    archivist = browse(office.archivist)
    unknown = archivist.post("/archive/holds", data={"reason": "Recurso 12/2026", "codes": "J001-XX·2026-Y-BGS-0009"})
    assert unknown.status_code == 422 and "No record has the code J001-XX·2026-Y-BGS-0009." in text_of(unknown)
    placed = archivist.post(
        "/archive/holds",
        data={"reason": "Recurso contencioso 12/2026", "codes": f"{first.code}\n{second.code}"},
        follow_redirects=True,
    )
    assert "Hold no. 1 is in force" in text_of(placed)
    assert "on hold" in text_of(archivist.get("/archive/?held=yes"))
    hold = db.session.scalar(select(Hold))
    released = archivist.post(
        f"/archive/holds/{hold.id}/release", data={"release_reason": "Sentencia firme"}, follow_redirects=True
    )
    assert "Hold no. 1 is released." in text_of(released)
    again = archivist.post(f"/archive/holds/{hold.id}/release", data={"release_reason": "x"}, follow_redirects=True)
    assert "This hold was released already." in text_of(again)
    db.session.refresh(hold)
    assert hold.release_reason == "Sentencia firme"


# --- disposal --------------------------------------------------------------------------------------------------


def test_a_disposal_is_proposed_approved_by_another_person_and_gives_a_word_certificate(office, browse, fake_clock):
    first, second, third = file_all(office)
    act(holds.place_hold, ctx(office.archivist), "Auditoría", [third.id])
    expire(fake_clock)
    archivist = browse(office.archivist)
    listed = archivist.get("/archive/disposal")
    tree = html.fromstring(listed.data)
    assert [box.get("value") for box in tree.xpath("//input[@name='record_ids']")] == [str(first.id), str(second.id)]
    assert "on hold" in text_of(listed)

    no_reason = archivist.post("/archive/disposal?action=destroy", data={"record_ids": [first.id], "reason": ""})
    assert no_reason.status_code == 422 and "Give the reason" in text_of(no_reason)
    held = archivist.post("/archive/disposal?action=destroy", data={"record_ids": [third.id], "reason": "Plazo"})
    assert held.status_code == 422 and "under a legal hold" in text_of(held)

    proposed = archivist.post(
        "/archive/disposal?action=destroy",
        data={"record_ids": [first.id, second.id], "reason": "Plazo de conservación cumplido"},
        follow_redirects=True,
    )
    assert "Disposal no. 1 is proposed" in text_of(proposed)
    decision = db.session.scalar(select(Disposal))
    refused = archivist.post(
        f"/archive/disposal/{decision.id}/decide", data={"decision": "approve"}, follow_redirects=True
    )
    assert "The person who proposed a disposal cannot approve or reject it." in text_of(refused)
    db.session.refresh(decision)
    assert decision.state == "proposed"  # the proposer does not decide

    leader = browse(office.leader)
    page = text_of(leader.get(f"/archive/disposal/{decision.id}"))
    assert "Your decision" in page and first.code in page
    approved = leader.post(
        f"/archive/disposal/{decision.id}/decide",
        data={"decision": "approve", "note": "Conforme con la tabla de plazos."},
        follow_redirects=True,
    )
    assert "Disposal no. 1 is approved and carried out; its certificate is ready." in text_of(approved)
    certificate = leader.get(f"/archive/disposal/{decision.id}/certificate.docx")
    data = certificate.get_data()
    certificate.close()  # the stored certificate is sent from disk
    assert certificate.status_code == 200 and certificate.mimetype.endswith("wordprocessingml.document")
    word = docx.Document(io.BytesIO(data))
    cells = [c.text for t in word.tables for r in t.rows for c in r.cells]
    assert first.code in cells and second.code in cells and "Conforme con la tabla de plazos." in cells

    residual = text_of(archivist.get(f"/archive/records/{first.id}"))
    assert "Destroyed on" in residual and "by the decision of Diana Director" in residual
    gone = archivist.get(f"/archive/records/{first.id}/files/{first.files[0].id}", follow_redirects=True)
    assert "were disposed of; only its description remains." in text_of(gone)
    document_page = text_of(browse(office.clerk).get(f"/documents/{first.document_id}"))
    assert "and disposed of: only its description remains." in document_page


def test_the_proposer_cannot_decide_and_a_rejection_needs_a_note(office, browse, fake_clock, make_user):
    first = file_all(office)[0]
    expire(fake_clock)
    admin = browse(office.admin)
    admin.post("/archive/disposal?action=destroy", data={"record_ids": [first.id], "reason": "Plazo cumplido"})
    decision = db.session.scalar(select(Disposal))
    own = admin.post(f"/archive/disposal/{decision.id}/decide", data={"decision": "approve"}, follow_redirects=True)
    assert "The person who proposed a disposal cannot approve or reject it." in text_of(own)
    leader = browse(office.leader)
    no_note = leader.post(f"/archive/disposal/{decision.id}/decide", data={"decision": "reject", "note": ""})
    assert no_note.status_code == 422 and "Give the reason" in text_of(no_note)
    rejected = leader.post(
        f"/archive/disposal/{decision.id}/decide",
        data={"decision": "reject", "note": "Falta informe"},
        follow_redirects=True,
    )
    assert "Disposal no. 1 is rejected" in text_of(rejected)
    db.session.refresh(decision)
    assert decision.state == "rejected" and db.session.get(Record, first.id).state == "kept"


def test_a_record_to_review_is_appraised_again_from_its_page(office, browse, fake_clock):
    record = act(filing.file_document, ctx(office.archivist), office.documents[0].id, office.plan.permanent.id, RULES)
    archivist = browse(office.archivist)
    response = archivist.post(
        f"/archive/records/{record.id}/review",
        data={"retention": "custom", "custom_years": "5", "action": "destroy", "reason": "Valor agotado"},
        follow_redirects=True,
    )
    assert "Appraised again: the record is kept until" in text_of(response)
    db.session.refresh(record)
    assert (record.retention, record.disposal_action) == ("D5", "destroy")
    refused = archivist.post(
        f"/archive/records/{record.id}/review", data={"retention": "Y", "action": "destroy", "reason": ""}
    )
    assert refused.status_code == 422 and "Give the reason" in text_of(refused)


# --- integrity -------------------------------------------------------------------------------------------------


def test_the_integrity_page_lists_the_files_found_missing(office, browse):
    record = file_all(office)[0]
    assert "No check has run yet." in text_of(browse(office.archivist).get("/archive/integrity"))
    office.store.path(record.files[0].sha256).unlink()
    fixity.verify(office.store)
    page = text_of(browse(office.archivist).get("/archive/integrity"))
    assert "missing" in page and record.code in page and record.files[0].sha256 in page
    assert "flask --app app archive verify" in page
    archivist = browse(office.archivist)
    download = archivist.get(f"/archive/records/{record.id}/files/{record.files[0].id}")
    assert download.status_code == 302
    missing = text_of(archivist.get(download.location))
    assert "is missing. Tell an administrator." in missing


# --- languages -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("locale", "lang"), [("es", "es"), ("zh_Hans", "zh-Hans")])
def test_the_archive_pages_render_in_spanish_and_chinese(office, browse, make_user, locale, lang):
    record = file_all(office)[0]
    keeper = browse(make_user(f"keeper_{locale.lower()}", "archivist", "leader", clearance=3, locale=locale))
    for url in OVERSEEN + KEPT + [f"/archive/records/{record.id}", f"/archive/plan/{office.plan.ws.id}"]:
        response = keeper.get(url)
        assert response.status_code == 200, url
        assert f'<html lang="{lang}"' in response.text, url


# --- export ----------------------------------------------------------------------------------------------------


def test_a_class_and_year_are_exported_as_a_valid_bagit_package(office, browse, tmp_path):
    records = file_all(office)
    archivist = browse(office.archivist)
    nothing = archivist.post("/archive/export", data={"codes": ""})
    assert nothing.status_code == 422 and "Choose a class, a year, or records by their codes." in text_of(nothing)
    unknown = archivist.post("/archive/export", data={"codes": "J001-WS·2026-D10-BGS-0099"})
    assert unknown.status_code == 422 and "No record has the code J001-WS·2026-D10-BGS-0099." in text_of(unknown)

    response = archivist.post("/archive/export", data={"class_id": office.plan.ws.id, "year": "2026"})
    data = response.get_data()
    response.close()  # the package is sent from a temporary file
    assert response.status_code == 200 and response.mimetype == "application/x-tar"
    assert "records-J001-WS-2026.tar" in response.headers["Content-Disposition"]
    package = tmp_path / "package.tar"
    package.write_bytes(data)
    bag = bagit.unpack_bag(package, tmp_path / "unpacked")
    assert bagit.validate_bag(bag).valid
    payload = {path.name for path in (bag / "data" / "records").iterdir()}
    assert len(payload) == len(records)


# --- odd input -------------------------------------------------------------------------------------------------


def test_odd_addresses_and_forms_get_an_answer_not_an_error(office, browse):
    record = file_all(office)[0]
    archivist = browse(office.archivist)
    for url in (
        "/archive/?q=%25_&class=x&year=abc&state=gone&retention=Z9&held=maybe&page=-3",
        "/archive/?page=999",
        "/archive/disposal?action=burn&page=abc",
        "/archive/disposal/decisions?state=odd",
        "/archive/file?year=1800",
        "/archive/catalogue?class_id=abc&year=&retention=Q&format=pdf",
    ):
        assert archivist.get(url, follow_redirects=True).status_code in (200, 422), url
    for url in (
        "/archive/records/999999",
        f"/archive/records/{record.id}/files/999999",
        "/archive/plan/999999",
        "/archive/disposal/999999",
        "/archive/disposal/999999/certificate.docx",
        "/archive/catalogue?class_id=999999&year=2026&format=docx",
    ):
        assert archivist.get(url).status_code == 404, url
    posts = {
        "/archive/file": {"year": "2026", "class_id": "abc", "document_ids": ["x"], "scope": "selected"},
        "/archive/holds": {"reason": "x", "class_id": "abc"},
        "/archive/plan": {"parent_id": "abc", "code": "X", "name": "X", "retention": "custom", "custom_years": "0"},
        "/archive/disposal": {"record_ids": ["abc"], "reason": "x"},
        f"/archive/records/{record.id}/review": {"retention": "custom", "custom_years": "x", "action": "burn"},
        "/archive/export": {"class_id": "abc", "year": "abc"},
    }
    for url, data in posts.items():
        response = archivist.post(url, data=data, follow_redirects=True)
        assert response.status_code in (200, 422), (url, response.status_code)
        assert "Something went wrong" not in text_of(response), url
