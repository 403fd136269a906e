"""The archive in the JSON API: the file plan, filing, records that never change, holds, disposal with its
certificate, fixity, the catalogue, export packages, who may do what, and the OpenAPI description."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import func, select

from docstore import audit, clock, registry
from docstore.archive import bagit, fixity
from docstore.extensions import db
from docstore.models import AuditEvent, Document, Record
from tests.api_support import assert_error
from tests.archive_support import POLICY, Plan, closed_incoming, department, files, series_id
from tests.service_support import act, ctx
from tests.word_support import read_docx

API = "/api/v1"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YEAR = 2026  # the fake clock's
#: Days from the fake clock's day (2 March 2026) past the end of a 10-year retention (1 January 2037).
PAST_TEN_YEARS = 11 * 366


# --- the office --------------------------------------------------------------------------------------------------


@pytest.fixture
def office(app, make_user, token_for, clerk, sender, store, fake_clock):
    """The file plan of `Plan`, an archivist, an administrator, a leader, a clerk, an outsider (Dora, who sees no
    document) and a leader without clearance (Julio), each with a token that does not expire (the tests move the
    clock by years)."""
    department()
    people = {
        "archivist": make_user("archivo", "archivist", full_name="Ana Archivo", clearance=3),
        "admin": make_user("adela", "admin", full_name="Adela Admin", clearance=3),
        "leader": make_user("director", "leader", full_name="Diana Director", clearance=3),
        "clerk": clerk,
        "dora": make_user("dora", "staff", full_name="Dora Diaz"),
        "junior": make_user("junior", "leader", full_name="Julio Junior", clearance=0),
    }
    auth = {name: token_for(user, days=0) for name, user in people.items()}
    return SimpleNamespace(plan=Plan(), sender=sender, store=store, clock=fake_clock, auth=auth, **people)


def call(client, office, who: str, method: str, path: str, body: dict | None = None, status: int = 200):
    """Call the API as `who`; check the status and return the JSON answer."""
    response = client.open(f"{API}{path}", method=method, json=body, headers=office.auth[who])
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def refused(client, office, who: str, method: str, path: str, body: dict | None, status: int, code: str) -> dict:
    """Call the API as `who` and check it answers with the JSON error `status` and `code`; return the error."""
    response = client.open(f"{API}{path}", method=method, json=body, headers=office.auth[who])
    return assert_error(response, status, code)


def download(client, office, who: str, path: str, mime: str) -> bytes:
    """Return the bytes of a file the API sends as `mime`; close the stored file it streamed."""
    response = client.get(f"{API}{path}", headers=office.auth[who])
    try:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == mime
        return response.data
    finally:
        response.close()


def closed(office, title: str = "Solicitud de presupuesto", content: bytes = b"Carta del ministerio", **fields):
    """Register and close an incoming document with one text file (and `fields`); return it."""
    uploads = files(("carta.txt", content))
    return closed_incoming(office.clerk, office.sender, office.store, title=title, uploads=uploads, **fields)


def being_handled(office):
    """Register an incoming document that is not closed yet; return it."""
    data = registry.Registration(
        series_id=series_id("IN"),
        title="En trámite",
        received_at=clock.now() - timedelta(hours=1),
        channel="paper",
        correspondent_id=office.sender.id,
    )
    return act(registry.register_document, ctx(office.clerk), "incoming", data, [], POLICY, office.store)


def filed(client, office, document, class_id: int | None = None) -> dict:
    """File `document` through the API (into WS, ten years then destroy, unless told); return the record."""
    body = {"document_id": document.id, "class_id": class_id or office.plan.ws.id}
    return call(client, office, "archivist", "POST", "/archive/records", body, status=201)


def events(action: str, record_id: int) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_id == str(record_id))
    return list(db.session.scalars(query.order_by(AuditEvent.seq)))


def expired_record(client, office) -> dict:
    """Return a record filed into WS whose ten years have ended (the clock is moved past them)."""
    record = filed(client, office, closed(office))
    office.clock.advance(days=PAST_TEN_YEARS)
    return record


# --- the file plan -----------------------------------------------------------------------------------------------


def test_the_file_plan_is_read_by_anyone_and_kept_by_archivists(client, office):
    plan = call(client, office, "dora", "GET", "/archive/classes")["items"]
    assert [(node["path"], node["depth"]) for node in plan] == [
        ("J001", 0),
        ("J001-WS", 1),
        ("J001-WS-ZD", 2),
        ("J001-KJ", 1),
    ]
    permanent = next(node for node in plan if node["code"] == "ZD")
    assert permanent["retention"] == "Y" and permanent["disposal_action"] == ""
    assert permanent["effective_disposal_action"] == "destroy"  # inherited from WS

    body = {"level": "class", "parent_id": office.plan.fonds.id, "code": "HJ", "name": "会计", "retention": "D30"}
    refused(client, office, "dora", "POST", "/archive/classes", body, 403, "forbidden")
    refused(client, office, "leader", "POST", "/archive/classes", body, 403, "forbidden")
    response = client.post(f"{API}/archive/classes", json=body, headers=office.auth["archivist"])
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert response.headers["Location"].endswith(f"/archive/classes/{created['id']}")
    assert created["effective_retention"] == "D30" and created["effective_disposal_action"] == "review"

    changed = call(client, office, "admin", "PATCH", f"/archive/classes/{created['id']}", {"name": "会计档案"})
    assert changed["name"] == "会计档案"
    assert call(client, office, "dora", "GET", f"/archive/classes/{created['id']}")["name"] == "会计档案"
    refused(client, office, "dora", "PATCH", f"/archive/classes/{created['id']}", {"name": "x"}, 403, "forbidden")
    refused(client, office, "dora", "GET", "/archive/classes/999999", None, 404, "not_found")


def test_a_bad_node_of_the_file_plan_is_refused_field_by_field(client, office):
    body = {"level": "fonds", "code": "J 2", "name": "", "retention": ""}
    error = refused(client, office, "archivist", "POST", "/archive/classes", body, 422, "validation_failed")
    assert set(error["fields"]) == {"code", "name", "retention", "disposal_action"}
    error = refused(
        client, office, "archivist", "POST", "/archive/classes", {"level": "class", "code": 7}, 422, "validation_failed"
    )
    assert set(error["fields"]) == {"code"}  # the wrong JSON type, refused before the service sees it
    node = f"/archive/classes/{office.plan.ws.id}"
    error = refused(client, office, "archivist", "PATCH", node, {"level": "fonds"}, 422, "validation_failed")
    assert set(error["fields"]) == {"level"}  # a node's place in the plan is fixed


def test_a_class_code_records_carry_can_no_longer_change(client, office):
    filed(client, office, closed(office))
    node = f"/archive/classes/{office.plan.ws.id}"
    refused(client, office, "archivist", "PATCH", node, {"code": "WX"}, 409, "conflict")
    assert call(client, office, "archivist", "GET", node)["code"] == "WS"


# --- filing ------------------------------------------------------------------------------------------------------


def test_closed_documents_are_offered_until_filed(client, office):
    document = closed(office)
    being_handled(office)
    listed = call(client, office, "archivist", "GET", f"/archive/closed?year={YEAR}")
    assert [(item["id"], item["number"]) for item in listed["items"]] == [(document.id, document.number)]
    assert listed["total"] == 1
    assert call(client, office, "archivist", "GET", f"/archive/closed?year={YEAR - 1}")["total"] == 0
    refused(client, office, "clerk", "GET", "/archive/closed", None, 403, "forbidden")
    refused(client, office, "archivist", "GET", "/archive/closed?year=last", None, 422, "validation_failed")

    filed(client, office, document)
    assert call(client, office, "archivist", "GET", "/archive/closed")["total"] == 0


def test_filing_a_document_gives_it_a_code_and_freezes_it_with_its_files(client, office):
    document = closed(office)
    response = client.post(
        f"{API}/archive/records",
        json={"document_id": document.id, "class_id": office.plan.ws.id},
        headers=office.auth["archivist"],
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    record = response.get_json()
    assert response.headers["Location"].endswith(f"/archive/records/{record['id']}")
    assert record["code"] == f"J001-WS·{YEAR}-D10-BGS-0001"
    assert record["number"] == document.number and record["state"] == "kept"
    assert record["due_on"] == f"{YEAR + 11}-01-01" and record["due"] is False
    assert [(f["filename"], f["role"]) for f in record["files"]] == [("carta.txt", "document")]
    assert record["captured"]["document"]["title"] == "Solicitud de presupuesto"
    assert record["filed_by"]["name"] == "Ana Archivo"
    assert db.session.get(Document, document.id).status == "archived"

    second = filed(client, office, closed(office, title="Otra"))
    assert second["code"] == f"J001-WS·{YEAR}-D10-BGS-0002"  # items are consecutive in the class and year


def test_filing_is_refused_for_a_document_filed_already_a_fonds_and_missing_fields(client, office):
    document = closed(office)
    filed(client, office, document)
    body = {"document_id": document.id, "class_id": office.plan.ws.id}
    error = refused(client, office, "archivist", "POST", "/archive/records", body, 409, "conflict")
    assert document.number in error["message"]
    body = {"document_id": closed(office).id, "class_id": office.plan.fonds.id}
    error = refused(client, office, "archivist", "POST", "/archive/records", body, 422, "validation_failed")
    assert set(error["fields"]) == {"class_id"}
    error = refused(client, office, "archivist", "POST", "/archive/records", {}, 422, "validation_failed")
    assert set(error["fields"]) == {"document_id", "class_id"}
    refused(client, office, "clerk", "POST", "/archive/records", body, 403, "forbidden")
    refused(
        client,
        office,
        "archivist",
        "POST",
        "/archive/records",
        {"document_id": 999999, "class_id": office.plan.ws.id},
        404,
        "not_found",
    )


def test_a_batch_files_a_years_closed_documents_and_says_what_it_skipped(client, office):
    first, second = closed(office, title="Uno"), closed(office, title="Dos")
    filed(client, office, second)
    body = {"class_id": office.plan.kj.id, "document_ids": [first.id, second.id]}
    report = call(client, office, "archivist", "POST", "/archive/filings", body)
    assert len(report["record_ids"]) == 1
    assert report["skipped"] == [{"number": second.number, "reason": "not closed, or filed already"}]
    record = call(client, office, "archivist", "GET", f"/archive/records/{report['record_ids'][0]}")
    assert record["number"] == first.number and record["code"].startswith(f"J001-KJ·{YEAR}-D30-")

    third = closed(office, title="Tres")
    report = call(
        client, office, "archivist", "POST", "/archive/filings", {"class_id": office.plan.ws.id, "year": YEAR}
    )
    assert [db.session.get(Record, ident).document_id for ident in report["record_ids"]] == [third.id]
    assert report["skipped"] == []


def test_a_batch_needs_either_a_year_or_documents(client, office):
    for body in ({"class_id": office.plan.ws.id}, {"class_id": office.plan.ws.id, "year": YEAR, "document_ids": []}):
        error = refused(client, office, "archivist", "POST", "/archive/filings", body, 422, "validation_failed")
        assert set(error["fields"]) == {"year"}
    error = refused(client, office, "archivist", "POST", "/archive/filings", {"year": YEAR}, 422, "validation_failed")
    assert set(error["fields"]) == {"class_id"}
    error = refused(
        client,
        office,
        "archivist",
        "POST",
        "/archive/filings",
        {"class_id": 1, "year": "2026"},
        422,
        "validation_failed",
    )
    assert set(error["fields"]) == {"year"}
    refused(client, office, "leader", "POST", "/archive/filings", {"class_id": 1, "year": YEAR}, 403, "forbidden")


# --- records never change ----------------------------------------------------------------------------------------


def test_a_filed_record_and_its_document_cannot_change(client, office):
    document = closed(office)
    record = filed(client, office, document)
    path = f"/archive/records/{record['id']}"
    error = refused(client, office, "archivist", "PATCH", path, {"title": "Otro"}, 409, "record_filed")
    assert record["code"] in error["message"]
    refused(client, office, "admin", "DELETE", path, None, 409, "record_filed")
    error = refused(
        client, office, "clerk", "PATCH", f"/documents/{document.id}", {"title": "Otro"}, 409, "record_filed"
    )
    assert document.number in error["message"]
    refused(client, office, "clerk", "POST", f"/documents/{document.id}/void", {"reason": "x"}, 409, "record_filed")
    response = client.post(
        f"{API}/documents/{document.id}/attachments",
        data={"file": (io.BytesIO("Anexo tardío".encode()), "anexo.txt")},
        headers=office.auth["clerk"],
    )
    assert_error(response, 409, "record_filed")
    assert call(client, office, "archivist", "GET", path)["title"] == "Solicitud de presupuesto"
    assert db.session.get(Document, document.id).title == "Solicitud de presupuesto"
    refused(client, office, "dora", "PATCH", path, {"title": "Otro"}, 404, "not_found")  # hidden, not refused


def test_an_annotation_corrects_a_record_and_is_audited(client, office):
    record = filed(client, office, closed(office))
    path = f"/archive/records/{record['id']}/annotations"
    note = call(client, office, "archivist", "POST", path, {"text": "El remitente es la Subsecretaría."}, status=201)
    assert note["created_by"]["name"] == "Ana Archivo"
    shown = call(client, office, "archivist", "GET", f"/archive/records/{record['id']}")
    assert [a["text"] for a in shown["annotations"]] == ["El remitente es la Subsecretaría."]
    assert shown["captured"] == record["captured"]  # the record itself did not change
    [event] = events("archive_record.annotated", record["id"])
    assert audit.decode(event.after)["text"] == "El remitente es la Subsecretaría."

    error = refused(client, office, "archivist", "POST", path, {"text": "  "}, 422, "validation_failed")
    assert set(error["fields"]) == {"text"}
    error = refused(client, office, "archivist", "POST", path, {"text": 5}, 422, "validation_failed")
    assert set(error["fields"]) == {"text"}
    refused(client, office, "clerk", "POST", path, {"text": "x"}, 403, "forbidden")
    refused(client, office, "archivist", "POST", "/archive/records/999999/annotations", {"text": "x"}, 404, "not_found")


# --- finding and reading records ---------------------------------------------------------------------------------


def test_records_are_listed_to_whoever_may_see_their_document(client, office):
    first = filed(client, office, closed(office, title="Presupuesto"))
    second = filed(client, office, closed(office, title="Personal"), class_id=office.plan.kj.id)
    listed = call(client, office, "archivist", "GET", "/archive/records")
    assert [item["code"] for item in listed["items"]] == sorted([first["code"], second["code"]])
    assert listed["total"] == 2
    found = call(client, office, "clerk", "GET", "/archive/records?q=Presu")["items"]
    assert [item["id"] for item in found] == [first["id"]]
    within = call(client, office, "archivist", "GET", f"/archive/records?class_id={office.plan.kj.id}&year={YEAR}")
    assert [item["id"] for item in within["items"]] == [second["id"]]
    assert call(client, office, "archivist", "GET", "/archive/records?state=destroyed")["total"] == 0
    assert call(client, office, "dora", "GET", "/archive/records")["total"] == 0  # she sees none of their documents
    refused(client, office, "archivist", "GET", "/archive/records?state=lost", None, 422, "validation_failed")
    refused(client, office, "archivist", "GET", "/archive/records?held=maybe", None, 422, "validation_failed")


def test_reading_a_record_is_logged_and_hidden_from_who_may_not_see_it(client, office):
    record = filed(client, office, closed(office))
    path = f"/archive/records/{record['id']}"
    shown = call(client, office, "clerk", "GET", path)
    assert shown["document"]["number"] == record["number"] and shown["class"]["code"] == "WS"
    assert shown["held"] is False and shown["holds"] == []
    [viewed] = events("archive_record.viewed", record["id"])
    assert viewed.actor_id == office.clerk.id

    refused(client, office, "dora", "GET", path, None, 404, "not_found")
    refused(client, office, "archivist", "GET", "/archive/records/999999", None, 404, "not_found")
    assert len(events("archive_record.viewed", record["id"])) == 1  # a refused view is not logged


def test_downloading_a_file_of_a_record_is_logged(client, office):
    record = filed(client, office, closed(office, content=b"Texto original de la carta"))
    [item] = record["files"]
    path = f"/archive/records/{record['id']}/files/{item['id']}"
    assert item["content_url"].endswith(path)
    data = download(client, office, "clerk", path, "text/plain")
    assert data == b"Texto original de la carta"
    [event] = events("archive_record.downloaded", record["id"])
    assert event.actor_id == office.clerk.id and audit.decode(event.after)["sha256"] == item["sha256"]

    refused(client, office, "dora", "GET", path, None, 404, "not_found")
    other = filed(client, office, closed(office, title="Otra"))
    refused(
        client, office, "clerk", "GET", f"/archive/records/{other['id']}/files/{item['id']}", None, 404, "not_found"
    )
    assert len(events("archive_record.downloaded", record["id"])) == 1


# --- legal holds -------------------------------------------------------------------------------------------------


def test_a_hold_blocks_the_disposal_of_its_records_until_released(client, office):
    record = expired_record(client, office)
    hold = call(
        client,
        office,
        "archivist",
        "POST",
        "/archive/holds",
        {"reason": "Litigio 12/2037", "record_ids": [record["id"]]},
        201,
    )
    assert hold["in_force"] and hold["record_ids"] == [record["id"]] and hold["placed_by"]["name"] == "Ana Archivo"
    assert [h["id"] for h in call(client, office, "leader", "GET", "/archive/holds")["items"]] == [hold["id"]]
    shown = call(client, office, "archivist", "GET", f"/archive/records/{record['id']}")
    assert shown["held"] is True and [h["id"] for h in shown["holds"]] == [hold["id"]]
    [expired] = call(client, office, "archivist", "GET", "/archive/expired")["items"]
    assert expired["id"] == record["id"] and expired["held"] is True

    body = {"record_ids": [record["id"]], "reason": "Plazo cumplido"}
    error = refused(client, office, "archivist", "POST", "/archive/disposals", body, 409, "record_on_hold")
    assert record["code"] in error["message"]

    release = f"/archive/holds/{hold['id']}/release"
    error = refused(client, office, "archivist", "POST", release, {}, 422, "validation_failed")
    assert set(error["fields"]) == {"reason"}
    refused(client, office, "leader", "POST", release, {"reason": "Fin"}, 403, "forbidden")
    released = call(client, office, "archivist", "POST", release, {"reason": "Sentencia firme"})
    assert released["in_force"] is False and released["release_reason"] == "Sentencia firme"
    refused(client, office, "archivist", "POST", release, {"reason": "Otra vez"}, 409, "conflict")
    assert call(client, office, "archivist", "GET", "/archive/holds")["items"] == []
    assert [h["id"] for h in call(client, office, "archivist", "GET", "/archive/holds?state=released")["items"]] == [
        hold["id"]
    ]
    call(client, office, "archivist", "POST", "/archive/disposals", body, 201)


def test_a_hold_placed_after_the_proposal_stops_its_approval(client, office):
    record = expired_record(client, office)
    proposal = call(
        client,
        office,
        "archivist",
        "POST",
        "/archive/disposals",
        {"record_ids": [record["id"]], "reason": "Plazo"},
        201,
    )
    call(
        client, office, "admin", "POST", "/archive/holds", {"reason": "Inspección", "class_id": office.plan.ws.id}, 201
    )
    approve = f"/archive/disposals/{proposal['id']}/approve"
    refused(client, office, "leader", "POST", approve, {}, 409, "record_on_hold")
    assert call(client, office, "leader", "GET", f"/archive/disposals/{proposal['id']}")["state"] == "proposed"
    assert db.session.get(Record, record["id"]).state == "kept"


def test_holds_are_refused_to_who_does_not_keep_the_archive_and_without_a_reason(client, office):
    record = filed(client, office, closed(office))
    refused(client, office, "clerk", "GET", "/archive/holds", None, 403, "forbidden")
    body = {"reason": "Litigio", "record_ids": [record["id"]]}
    refused(client, office, "clerk", "POST", "/archive/holds", body, 403, "forbidden")
    error = refused(client, office, "archivist", "POST", "/archive/holds", {"reason": ""}, 422, "validation_failed")
    assert "reason" in error["fields"]
    error = refused(client, office, "archivist", "POST", "/archive/holds", {"reason": "x"}, 422, "validation_failed")
    assert set(error["fields"]) == {"record_ids"}
    refused(client, office, "archivist", "POST", "/archive/holds/999999/release", {"reason": "x"}, 404, "not_found")


# --- retention and disposal --------------------------------------------------------------------------------------


def test_an_approved_disposal_destroys_the_files_keeps_the_residual_entry_and_gives_a_certificate(client, office):
    record = expired_record(client, office)
    kept = filed(client, office, closed(office, title="Reciente", content=b"Sigue vigente"))
    [item] = record["files"]
    stored = office.store.path(item["sha256"])
    assert stored.is_file()
    listed = call(client, office, "leader", "GET", "/archive/expired")["items"]
    assert [row["id"] for row in listed] == [record["id"]]  # the one filed today is not due
    assert call(client, office, "archivist", "GET", "/archive/expired?action=transfer")["items"] == []

    proposal = call(
        client,
        office,
        "archivist",
        "POST",
        "/archive/disposals",
        {"record_ids": [record["id"]], "reason": "Plazo de conservación cumplido"},
        201,
    )
    assert proposal["state"] == "proposed" and proposal["action"] == "destroy"
    assert [row["id"] for row in proposal["records"]] == [record["id"]]
    assert call(client, office, "archivist", "GET", "/archive/expired")["items"] == []  # in a proposal now
    certificate = f"/archive/disposals/{proposal['id']}/certificate"
    refused(client, office, "leader", "GET", certificate, None, 404, "not_found")
    approve = f"/archive/disposals/{proposal['id']}/approve"
    refused(client, office, "archivist", "POST", approve, {}, 403, "forbidden")

    approved = call(client, office, "leader", "POST", approve, {"note": "Conforme"})
    assert approved["state"] == "approved" and approved["decided_by"]["name"] == "Diana Director"
    assert approved["files_not_removed"] == [] and approved["certificate_url"].endswith(certificate)
    assert not stored.exists()

    residual = call(client, office, "archivist", "GET", f"/archive/records/{record['id']}")
    assert residual["state"] == "destroyed" and residual["disposal_id"] == proposal["id"]
    assert residual["captured"] == record["captured"] and residual["files"][0]["content_url"] is None
    refused(
        client,
        office,
        "archivist",
        "GET",
        f"/archive/records/{record['id']}/files/{item['id']}",
        None,
        404,
        "not_found",
    )
    assert call(client, office, "archivist", "GET", f"/archive/records/{kept['id']}")["state"] == "kept"

    word = read_docx(download(client, office, "archivist", certificate, DOCX_MIME))
    text = "\n".join(
        [p.text for p in word.paragraphs]
        + [cell.text for table in word.tables for row in table.rows for cell in row.cells]
    )
    assert record["code"] in text and item["sha256"] in text
    assert "Diana Director" in text and "Ana Archivo" in text and "Plazo de conservación cumplido" in text
    assert [d["id"] for d in call(client, office, "leader", "GET", "/archive/disposals?state=approved")["items"]] == [
        proposal["id"]
    ]
    refused(client, office, "leader", "POST", approve, {}, 409, "conflict")  # decided already


def test_the_proposer_may_not_decide_and_a_rejection_needs_a_reason(client, office):
    record = expired_record(client, office)
    body = {"record_ids": [record["id"]], "reason": "Plazo cumplido"}
    proposal = call(client, office, "admin", "POST", "/archive/disposals", body, 201)
    approve, reject = (f"/archive/disposals/{proposal['id']}/{step}" for step in ("approve", "reject"))
    error = refused(client, office, "admin", "POST", approve, {}, 403, "forbidden")
    assert "proposed" in error["message"]
    refused(client, office, "admin", "POST", reject, {"note": "No"}, 403, "forbidden")
    refused(client, office, "dora", "POST", reject, {"note": "No"}, 403, "forbidden")
    error = refused(client, office, "leader", "POST", reject, {}, 422, "validation_failed")
    assert set(error["fields"]) == {"note"}

    rejected = call(client, office, "leader", "POST", reject, {"note": "Tiene valor histórico"})
    assert rejected["state"] == "rejected" and rejected["decision_note"] == "Tiene valor histórico"
    assert rejected["certificate_url"] is None
    assert db.session.get(Record, record["id"]).state == "kept"
    assert [row["id"] for row in call(client, office, "archivist", "GET", "/archive/expired")["items"]] == [
        record["id"]
    ]


def test_disposals_are_refused_before_retention_ends_and_to_who_does_not_keep_the_archive(client, office):
    record = filed(client, office, closed(office))
    body = {"record_ids": [record["id"]], "reason": "Plazo"}
    error = refused(client, office, "archivist", "POST", "/archive/disposals", body, 409, "conflict")
    assert record["code"] in error["message"]
    refused(client, office, "leader", "POST", "/archive/disposals", body, 403, "forbidden")
    refused(client, office, "clerk", "GET", "/archive/disposals", None, 403, "forbidden")
    refused(client, office, "clerk", "GET", "/archive/expired", None, 403, "forbidden")
    error = refused(
        client,
        office,
        "archivist",
        "POST",
        "/archive/disposals",
        {"record_ids": [], "reason": ""},
        422,
        "validation_failed",
    )
    assert "reason" in error["fields"]
    refused(client, office, "leader", "GET", "/archive/disposals/999999", None, 404, "not_found")
    refused(client, office, "leader", "POST", "/archive/disposals/999999/approve", {}, 404, "not_found")


def test_a_record_to_review_is_appraised_again(client, office):
    record = filed(client, office, closed(office))
    path = f"/archive/records/{record['id']}/reappraisal"
    body = {"retention": "D5", "action": "transfer", "reason": "Interés para la historia local"}
    reappraised = call(client, office, "archivist", "POST", path, body)
    assert reappraised["retention"] == "D5" and reappraised["disposal_action"] == "transfer"
    assert reappraised["due_on"] == f"{YEAR + 6}-01-01"
    [event] = events("archive_record.reappraised", record["id"])
    assert audit.decode(event.after)["reason"] == "Interés para la historia local"
    error = refused(client, office, "archivist", "POST", path, {**body, "retention": "D0"}, 422, "validation_failed")
    assert set(error["fields"]) == {"retention"}
    refused(client, office, "leader", "POST", path, body, 403, "forbidden")


# --- integrity, the catalogue, export ----------------------------------------------------------------------------


def test_fixity_shows_the_last_runs_and_the_files_found_altered(client, office):
    record = filed(client, office, closed(office, content=b"Documento intacto"))
    [item] = record["files"]
    office.store.path(item["sha256"]).chmod(0o644)
    office.store.path(item["sha256"]).write_bytes(b"Documento alterado")
    run = fixity.verify(office.store)
    report = call(client, office, "admin", "GET", "/archive/fixity")
    assert [(r["id"], r["checked"], r["altered"]) for r in report["runs"]] == [(run.id, 1, 1)]
    [problem] = report["problems"]
    assert problem["sha256"] == item["sha256"] and problem["outcome"] == "altered"
    assert {(use["kind"], use["reference"]) for use in problem["uses"]} >= {("record", record["code"])}
    refused(client, office, "leader", "GET", "/archive/fixity", None, 403, "forbidden")


def test_the_catalogue_is_a_word_file_and_a_workbook_of_the_class_and_year(client, office):
    first = filed(client, office, closed(office, title="Presupuesto 2026"))
    second = filed(client, office, closed(office, title="Plantilla"), class_id=office.plan.permanent.id)
    assert first["code"] < second["code"]  # D10 before Y
    query = f"/archive/catalogue?class_id={office.plan.ws.id}&year={YEAR}"
    word = read_docx(download(client, office, "archivist", query + "&format=docx", DOCX_MIME))
    cells = [cell.text for table in word.tables for row in table.rows for cell in row.cells]
    assert first["code"] in cells and second["code"] in cells and "Presupuesto 2026" in cells
    sheet = openpyxl.load_workbook(io.BytesIO(download(client, office, "leader", query + "&format=xlsx", XLSX_MIME)))
    rows = list(sheet.active.iter_rows(values_only=True))
    assert [(row[1], row[4]) for row in rows[1:]] == [
        (first["code"], "Presupuesto 2026"),
        (second["code"], "Plantilla"),
    ]

    error = refused(client, office, "archivist", "GET", "/archive/catalogue?format=pdf", None, 422, "validation_failed")
    assert set(error["fields"]) == {"class_id", "year", "format"}
    refused(client, office, "clerk", "GET", query + "&format=docx", None, 403, "forbidden")
    refused(
        client,
        office,
        "archivist",
        "GET",
        f"/archive/catalogue?class_id=999999&year={YEAR}&format=docx",
        None,
        404,
        "not_found",
    )


def test_a_record_above_the_callers_clearance_is_hidden_and_its_catalogue_line_has_no_title(client, office):
    secret = filed(client, office, closed(office, title="Expediente reservado", classification=1))
    plain = filed(client, office, closed(office, title="Circular"))
    refused(client, office, "junior", "GET", f"/archive/records/{secret['id']}", None, 404, "not_found")
    listed = call(client, office, "junior", "GET", "/archive/records")["items"]
    assert [item["id"] for item in listed] == [plain["id"]]
    query = f"/archive/catalogue?class_id={office.plan.ws.id}&year={YEAR}&format=xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(download(client, office, "junior", query, XLSX_MIME)))
    rows = list(sheet.active.iter_rows(values_only=True))[1:]
    assert [(row[1], row[2], row[4]) for row in rows] == [
        (secret["code"], None, None),  # its line keeps its place, without reference and title
        (plain["code"], plain["number"], "Circular"),
    ]


def exported(client, office, body: dict, folder) -> tuple[str, object]:
    """Export `body` as the archivist; return the package's download name and the bag, unpacked into `folder`."""
    response = client.post(f"{API}/archive/exports", json=body, headers=office.auth["archivist"])
    try:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "application/x-tar"
        package = folder / "package.tar"
        folder.mkdir()
        package.write_bytes(response.data)
        return response.headers["Content-Disposition"], bagit.unpack_bag(package, folder / "bag")
    finally:
        response.close()


def test_an_export_is_a_valid_bagit_package_of_the_chosen_records(client, office, tmp_path):
    first = filed(client, office, closed(office, title="Presupuesto", content=b"Carta uno"))
    second = filed(client, office, closed(office, title="Plantilla", content=b"Carta dos"), class_id=office.plan.kj.id)
    disposition, bag = exported(client, office, {"class_id": office.plan.ws.id, "year": YEAR}, tmp_path / "ws")
    assert f"records-J001-WS-{YEAR}.tar" in disposition
    report = bagit.validate_bag(bag)
    assert report.valid, report.problems
    assert (bag / "bagit.txt").read_text().startswith("BagIt-Version: 1.0")
    assert (bag / "manifest-sha512.txt").is_file() and (bag / "tagmanifest-sha512.txt").is_file()
    metadata = [json.loads(path.read_text()) for path in sorted(bag.glob("data/records/*/metadata.json"))]
    assert [entry["code"] for entry in metadata] == [first["code"]]  # KJ's record is not in WS
    assert [path.read_bytes() for path in bag.glob("data/records/*/files/*")] == [b"Carta uno"]

    _disposition, bag = exported(client, office, {"codes": [second["code"]]}, tmp_path / "chosen")
    metadata = [json.loads(path.read_text()) for path in bag.glob("data/records/*/metadata.json")]
    assert [entry["code"] for entry in metadata] == [second["code"]]


def test_an_export_names_what_it_cannot_find_and_is_kept_for_archivists(client, office):
    filed(client, office, closed(office))
    error = refused(
        client, office, "archivist", "POST", "/archive/exports", {"codes": ["J001-XX-1"]}, 422, "validation_failed"
    )
    assert "J001-XX-1" in error["fields"]["codes"]
    error = refused(
        client, office, "archivist", "POST", "/archive/exports", {"year": YEAR - 1}, 422, "validation_failed"
    )
    assert error["fields"]
    refused(client, office, "archivist", "POST", "/archive/exports", {"class_id": 999999}, 404, "not_found")
    refused(client, office, "leader", "POST", "/archive/exports", {"year": YEAR}, 403, "forbidden")


def test_a_package_sent_back_to_the_instance_it_came_from_is_refused_whole(client, office, tmp_path):
    record = filed(client, office, closed(office, title="Presupuesto", content=b"Carta uno"))
    response = client.post(f"{API}/archive/exports", json={"codes": [record["code"]]}, headers=office.auth["archivist"])
    package = response.data
    response.close()
    missing = client.post(f"{API}/archive/imports", data={}, headers=office.auth["archivist"])
    assert_error(missing, 422, "validation_failed")
    before = db.session.scalar(select(func.count()).select_from(Record))
    again = client.post(
        f"{API}/archive/imports",
        data={"file": (io.BytesIO(package), "records.tar")},
        headers=office.auth["archivist"],
        content_type="multipart/form-data",
    )
    error = assert_error(again, 409, "conflict")
    assert record["code"] in error["message"]  # the refusal names the code that exists
    assert db.session.scalar(select(func.count()).select_from(Record)) == before
    forbidden = client.post(
        f"{API}/archive/imports",
        data={"file": (io.BytesIO(package), "records.tar")},
        headers=office.auth["leader"],
        content_type="multipart/form-data",
    )
    assert_error(forbidden, 403, "forbidden")


# --- the OpenAPI description -------------------------------------------------------------------------------------


def test_openapi_describes_every_archive_operation_and_its_body(client, office):
    spec = client.get(f"{API}/openapi.json").get_json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    archive = {
        (path, method) for path, operations in paths.items() if path.startswith("/archive/") for method in operations
    }
    assert len(archive) == 28
    bodies = {
        ("/archive/classes", "post"): "ArchiveClassInput",
        ("/archive/classes/{class_id}", "patch"): "ArchiveClassChanges",
        ("/archive/records", "post"): "FilingInput",
        ("/archive/filings", "post"): "BatchFilingInput",
        ("/archive/records/{record_id}/annotations", "post"): "AnnotationInput",
        ("/archive/records/{record_id}/reappraisal", "post"): "ReappraisalInput",
        ("/archive/holds", "post"): "HoldInput",
        ("/archive/holds/{hold_id}/release", "post"): "HoldRelease",
        ("/archive/disposals", "post"): "DisposalInput",
        ("/archive/disposals/{disposal_id}/approve", "post"): "DisposalDecision",
        ("/archive/disposals/{disposal_id}/reject", "post"): "DisposalRejection",
        ("/archive/exports", "post"): "ExportInput",
    }
    for (path, method), name in bodies.items():
        ref = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{name}"
    shown = call(client, office, "archivist", "GET", "/archive/classes")["items"][0]
    assert set(shown) <= set(schemas["ArchiveClass"]["properties"])
    record = filed(client, office, closed(office))
    assert set(record) <= set(schemas["Record"]["properties"])
