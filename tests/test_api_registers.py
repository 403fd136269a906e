"""The registers in the JSON API: registering by JSON or multipart, files kept byte for byte, lists, who sees what."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from docstore import audit, correspondents, extraction, organisation, registry
from docstore.extensions import db
from docstore.models import Attachment, Document
from tests.api_support import assert_error, series_id

API = "/api/v1"
SYSTEM = audit.SYSTEM
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "files"
PDF = CORPUS / "003-issue4061.pdf"
DOCX = CORPUS / "068-2006.docx"
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" * 8


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored_files(app) -> list[Path]:
    return [path for path in Path(app.config["FILES_DIR"]).rglob("*") if path.is_file()]


@pytest.fixture
def finance(app):
    return organisation.create_department(SYSTEM, code="FIN", name="Finance")


@pytest.fixture
def legal(app):
    return organisation.create_department(SYSTEM, code="LEG", name="Legal")


@pytest.fixture
def clerk_auth(make_user, token_for):
    return token_for(make_user("lucia", "clerk", clearance=3))


@pytest.fixture
def admin_auth(admin, token_for):
    return token_for(admin)


@pytest.fixture
def staff(make_user, finance):
    return make_user("sam", "staff", department_id=finance.id, clearance=0)


@pytest.fixture
def staff_auth(staff, token_for):
    return token_for(staff)


def incoming(sender, **fields) -> dict:
    """Return the JSON fields of a valid incoming registration (the fake clock stands at 2026-03-02 09:00 UTC)."""
    return {
        "series_id": series_id("IN"),
        "title": "Solicitud de información",
        "received_at": "2026-03-02T08:30:00+01:00",
        "channel": "paper",
        "correspondent_id": sender.id,
        **fields,
    }


def register(client, auth, fields: dict, direction: str = "incoming", files=None):
    """Register by JSON, or by multipart when `files` ([(name, bytes)]) is given; return the response."""
    if files is None:
        return client.post(f"{API}/documents/{direction}", json=fields, headers=auth)
    form = {"data": json.dumps(fields), "file": [(io.BytesIO(data), name) for name, data in files]}
    return client.post(f"{API}/documents/{direction}", data=form, headers=auth, content_type="multipart/form-data")


def registered(client, auth, fields: dict, **kwargs) -> dict:
    response = register(client, auth, fields, **kwargs)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


# --- registering -----------------------------------------------------------------------------------------------


def test_clerk_registers_incoming_by_json_and_numbers_follow_each_other(app, client, clerk_auth, sender, fake_clock):
    extraction._wake.clear()
    response = register(client, clerk_auth, incoming(sender, urgency="urgent", sender_date="2026-02-27", pages=3))
    assert response.status_code == 201, response.get_data(as_text=True)
    first = response.get_json()
    assert first["number"] == "IN-2026-000001"
    assert response.headers["Location"] == f"{API}/documents/{first['id']}"
    assert first["direction"] == "incoming" and first["status"] == "registered" and first["series_code"] == "IN"
    assert first["received_at"] == "2026-03-02T07:30:00+00:00"  # the offset is honoured; times come back in UTC
    assert first["registered_at"] == "2026-03-02T09:00:00+00:00"
    assert (first["urgency"], first["sender_date"], first["pages"]) == ("urgent", "2026-02-27", 3)
    assert first["correspondent_id"] == sender.id
    assert first["recipients"] == [] and first["attachments"] == []
    assert extraction._wake.is_set(), "the extraction worker is woken, as after a registration on the web"

    second = registered(client, clerk_auth, incoming(sender))
    assert second["number"] == "IN-2026-000002"
    assert client.get(response.headers["Location"], headers=clerk_auth).get_json() == first


@pytest.fixture
def office_in_madrid(settings):
    settings["OFFICE_TIMEZONE"] = "Europe/Madrid"


def test_received_at_without_offset_is_office_time(office_in_madrid, app, client, clerk_auth, sender, fake_clock):
    document = registered(client, clerk_auth, incoming(sender, received_at="2026-03-02T09:15"))
    assert document["received_at"] == "2026-03-02T08:15:00+00:00"  # 09:15 in Madrid (CET) is 08:15 UTC
    again = client.get(f"{API}/documents/{document['id']}", headers=clerk_auth).get_json()
    assert again["received_at"] == "2026-03-02T08:15:00+00:00"  # kept as the instant it is, on SQLite too


def test_a_deadline_is_compared_with_the_office_day_of_receipt(
    office_in_madrid, app, client, clerk_auth, sender, fake_clock
):
    fake_clock.advance(hours=15)  # 2026-03-03 00:00 UTC, 01:00 in Madrid
    late_evening = "2026-03-02T23:30:00+00:00"  # already 3 March in Madrid
    refused = register(client, clerk_auth, incoming(sender, received_at=late_evening, deadline="2026-03-02"))
    assert set(assert_error(refused, 422, "validation_failed")["fields"]) == {"deadline"}
    accepted = registered(client, clerk_auth, incoming(sender, received_at=late_evening, deadline="2026-03-03"))
    assert accepted["deadline"] == "2026-03-03"


def test_a_new_sender_is_added_to_the_address_book_by_name(app, client, clerk_auth, sender, fake_clock):
    fields = incoming(sender, correspondent_id=None, new_correspondent_name="Ayuntamiento de Soria")
    document = registered(client, clerk_auth, fields)
    assert document["correspondent_id"] not in (None, sender.id)
    receipt = client.get(f"{API}/documents/{document['id']}/receipt", headers=clerk_auth).get_json()
    assert receipt["sender"] == "Ayuntamiento de Soria"


def test_outgoing_and_internal_documents_are_registered_with_their_own_fields(
    app, client, clerk_auth, sender, finance, legal, fake_clock
):
    fields = {
        "series_id": series_id("OUT"),
        "title": "Respuesta a la solicitud",
        "department_id": finance.id,
        "document_date": "2026-03-01",
        "main_recipients": [{"correspondent_id": sender.id}],
        "copy_recipients": [{"department_id": legal.id}],
    }
    outgoing = registered(client, clerk_auth, fields, direction="outgoing")
    assert outgoing["number"] == "OUT-2026-000001"
    assert outgoing["recipients"] == [
        {"role": "main", "correspondent_id": sender.id, "department_id": None},
        {"role": "copy", "correspondent_id": None, "department_id": legal.id},
    ]
    internal = registered(client, clerk_auth, {"series_id": series_id("INT"), "title": "Nota"}, direction="internal")
    assert internal["number"] == "INT-2026-000001"

    wrong_register = register(client, clerk_auth, incoming(sender, series_id=series_id("OUT")))
    assert set(assert_error(wrong_register, 422, "validation_failed")["fields"]) == {"series_id"}
    not_for_incoming = register(client, clerk_auth, incoming(sender, signer_id=1, main_recipients=[]))
    assert set(assert_error(not_for_incoming, 422, "validation_failed")["fields"]) == {"main_recipients", "signer_id"}


def test_multipart_registration_keeps_two_files_byte_for_byte(app, client, clerk_auth, sender, fake_clock):
    pdf, docx = PDF.read_bytes(), DOCX.read_bytes()
    document = registered(client, clerk_auth, incoming(sender), files=[("oficio.pdf", pdf), ("anexo.docx", docx)])
    assert document["number"] == "IN-2026-000001"
    files = document["attachments"]
    assert [(f["filename"], f["kind"], f["size"]) for f in files] == [
        ("oficio.pdf", "pdf", len(pdf)),
        ("anexo.docx", "docx", len(docx)),
    ]
    assert [f["sha256"] for f in files] == [hashlib.sha256(pdf).hexdigest(), hashlib.sha256(docx).hexdigest()]
    assert {f["extraction_state"] for f in files} == {"pending"}

    download = client.get(files[0]["content_url"], headers=clerk_auth)
    body = download.get_data()
    download.close()  # the stored file it streamed from
    assert download.status_code == 200
    assert hashlib.sha256(body).hexdigest() == files[0]["sha256"]
    assert body == pdf
    assert download.mimetype == "application/pdf"
    assert download.headers["ETag"] == f'"{files[0]["sha256"]}"'
    assert "attachment" in download.headers["Content-Disposition"]
    assert "oficio.pdf" in download.headers["Content-Disposition"]
    cached = client.get(files[0]["content_url"], headers={**clerk_auth, "If-None-Match": download.headers["ETag"]})
    assert cached.status_code == 304 and cached.get_data() == b""
    cached.close()

    receipt = client.get(f"{API}/documents/{document['id']}/receipt", headers=clerk_auth).get_json()
    assert receipt["number"] == "IN-2026-000001" and receipt["register"] == "Incoming · Entrada · 收文"
    assert receipt["sender"] == "Ministerio de Hacienda" and receipt["title"] == "Solicitud de información"
    assert receipt["received_at"] == "2026-03-02T07:30:00+00:00"
    assert receipt["attachments"] == [{k: f[k] for k in ("filename", "size", "sha256")} for f in files]


def test_the_data_part_may_be_sent_as_a_json_file(app, client, clerk_auth, sender, fake_clock):
    form = {
        "data": (io.BytesIO(json.dumps(incoming(sender)).encode()), "entry.json", "application/json"),
        "file": (io.BytesIO(b"texto del oficio"), "oficio.txt"),
    }
    response = client.post(f"{API}/documents/incoming", data=form, headers=clerk_auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert [f["filename"] for f in response.get_json()["attachments"]] == ["oficio.txt"]


def test_more_files_are_attached_to_a_registered_document(app, client, clerk_auth, sender, fake_clock):
    document = registered(client, clerk_auth, incoming(sender), files=[("oficio.pdf", PDF.read_bytes())])
    form = {"file": [(io.BytesIO(b"primera"), "uno.txt"), (io.BytesIO(b"segunda"), "dos.txt")]}
    response = client.post(f"{API}/documents/{document['id']}/attachments", data=form, headers=clerk_auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert [f["filename"] for f in response.get_json()["items"]] == ["uno.txt", "dos.txt"]
    again = client.get(f"{API}/documents/{document['id']}", headers=clerk_auth).get_json()
    assert [f["filename"] for f in again["attachments"]] == ["oficio.pdf", "uno.txt", "dos.txt"]

    nothing = client.post(f"{API}/documents/{document['id']}/attachments", data={}, headers=clerk_auth)
    assert "attachments" in assert_error(nothing, 422, "validation_failed")["fields"]


# --- refusals: nothing half-saved ------------------------------------------------------------------------------


def test_invalid_fields_are_all_named_and_nothing_is_saved(app, client, clerk_auth, sender, fake_clock):
    fields = incoming(
        sender,
        title="  ",
        channel="pigeon",
        correspondent_id=987654,
        received_at="2026-03-05T10:00:00+00:00",
        classification=9,
        deadline="2026-02-30",
    )
    response = register(client, clerk_auth, fields, files=[("oficio.pdf", PDF.read_bytes())])
    error = assert_error(response, 422, "validation_failed")
    assert set(error["fields"]) == {"deadline"}  # a date that cannot be read is reported before the rest
    del fields["deadline"]
    response = register(client, clerk_auth, fields, files=[("oficio.pdf", PDF.read_bytes())])
    error = assert_error(response, 422, "validation_failed")
    assert set(error["fields"]) == {"title", "channel", "correspondent_id", "received_at", "classification"}
    assert (count(Document), count(Attachment)) == (0, 0)
    assert stored_files(app) == []
    assert registered(client, clerk_auth, incoming(sender))["number"] == "IN-2026-000001"  # no number was taken


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("x.pdf", EXE_BYTES, "does not accept"),
        ("vacío.pdf", b"", "is empty"),
        ("../x.pdf", b"%PDF-1.4\n", "not allowed"),
    ],
    ids=["executable-named-pdf", "empty", "path-in-name"],
)
def test_a_refused_file_is_named_and_nothing_is_registered(
    app, client, clerk_auth, sender, fake_clock, name, data, words
):
    response = register(client, clerk_auth, incoming(sender), files=[("bueno.txt", b"texto"), (name, data)])
    error = assert_error(response, 422, "validation_failed")
    message = error["fields"]["attachments"]
    assert name in message and words in message
    assert "bueno.txt" not in message
    assert (count(Document), count(Attachment)) == (0, 0)


def test_a_refused_file_is_not_attached_to_an_existing_document(app, client, clerk_auth, sender, fake_clock):
    document = registered(client, clerk_auth, incoming(sender))
    form = {"file": [(io.BytesIO(EXE_BYTES), "informe.pdf")]}
    response = client.post(f"{API}/documents/{document['id']}/attachments", data=form, headers=clerk_auth)
    assert "informe.pdf" in assert_error(response, 422, "validation_failed")["fields"]["attachments"]
    assert count(Attachment) == 0


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"series_id": "1"}, "series_id"),
        ({"title": 5}, "title"),
        ({"classification": "high"}, "classification"),
        ({"classification": True}, "classification"),
        ({"pages": 1.5}, "pages"),
        ({"urgency": 3}, "urgency"),
        ({"received_at": 20260302}, "received_at"),
        ({"received_at": "yesterday"}, "received_at"),
        ({"sender_date": "02/03/2026"}, "sender_date"),
        ({"correspondent_id": [1]}, "correspondent_id"),
        ({"summary": None}, "summary"),
        ({"number": "IN-2026-999999"}, "number"),
        ({"series_id": 2**31}, "series_id"),
        ({"correspondent_id": 10**30}, "correspondent_id"),
        ({"document_type_id": -(2**40)}, "document_type_id"),
    ],
)
def test_a_field_of_the_wrong_json_type_is_422_not_500(app, client, clerk_auth, sender, fake_clock, fields, named):
    for files in (None, [("nota.txt", b"hola")]):
        response = register(client, clerk_auth, incoming(sender) | fields, files=files)
        assert set(assert_error(response, 422, "validation_failed")["fields"]) == {named}
    assert count(Document) == 0


@pytest.mark.parametrize(
    "recipients",
    [
        [{"correspondent_id": "1"}],
        [{"correspondent_id": 1, "department_id": 1}],
        [{}],
        [{"user_id": 1}],
        [7],
        "x",
        [{"department_id": 2**63}],
    ],
)
def test_malformed_recipients_are_refused(app, client, clerk_auth, finance, fake_clock, recipients):
    fields = {"series_id": series_id("OUT"), "title": "Oficio", "department_id": finance.id}
    response = register(client, clerk_auth, fields | {"main_recipients": recipients}, direction="outgoing")
    assert set(assert_error(response, 422, "validation_failed")["fields"]) == {"main_recipients"}
    assert count(Document) == 0


@pytest.mark.parametrize("data", ["not json", "[1, 2]", "", None], ids=["text", "array", "empty", "missing"])
def test_multipart_without_a_json_object_in_data_is_refused(app, client, clerk_auth, fake_clock, data):
    form = {"file": (io.BytesIO(b"hola"), "nota.txt")} | ({"data": data} if data is not None else {})
    response = client.post(f"{API}/documents/incoming", data=form, headers=clerk_auth)
    assert set(assert_error(response, 422, "validation_failed")["fields"]) == {"data"}
    assert stored_files(app) == []


def test_json_body_that_is_not_an_object_is_refused(app, client, clerk_auth):
    response = client.post(f"{API}/documents/incoming", data="[]", content_type="application/json", headers=clerk_auth)
    assert set(assert_error(response, 422, "validation_failed")["fields"]) == {"body"}


# --- roles and visibility --------------------------------------------------------------------------------------


def test_staff_cannot_register_change_void_or_attach(app, client, clerk_auth, staff_auth, sender, fake_clock):
    assert_error(register(client, staff_auth, incoming(sender)), 403, "forbidden")
    assert_error(register(client, staff_auth, incoming(sender), files=[("a.txt", b"a")]), 403, "forbidden")
    assert count(Document) == 0 and stored_files(app) == []
    document = registered(client, clerk_auth, incoming(sender))
    url = f"{API}/documents/{document['id']}"
    assert_error(client.patch(url, json={"title": "Otro"}, headers=staff_auth), 403, "forbidden")
    assert_error(client.post(f"{url}/void", json={"reason": "error"}, headers=staff_auth), 403, "forbidden")
    form = {"file": (io.BytesIO(b"a"), "a.txt")}
    assert_error(client.post(f"{url}/attachments", data=form, headers=staff_auth), 403, "forbidden")
    assert client.get(url, headers=clerk_auth).get_json()["title"] == "Solicitud de información"


def test_hidden_documents_are_404_like_missing_ones_and_left_out_of_lists_and_totals(
    app, client, clerk_auth, staff_auth, sender, finance, legal, fake_clock
):
    mine = registered(client, clerk_auth, incoming(sender, department_id=finance.id, title="Para Finanzas"))
    secret = registered(
        client,
        clerk_auth,
        incoming(sender, department_id=finance.id, classification=2, title="Reservado"),
        files=[("secreto.txt", b"reservado")],
    )
    other = registered(client, clerk_auth, incoming(sender, department_id=legal.id, title="Para Jurídico"))

    assert client.get(f"{API}/documents/{mine['id']}", headers=staff_auth).status_code == 200
    missing = client.get(f"{API}/documents/999999", headers=staff_auth)
    assert_error(missing, 404, "not_found")
    for hidden in (secret, other):
        for suffix in ("", "/receipt"):
            response = client.get(f"{API}/documents/{hidden['id']}{suffix}", headers=staff_auth)
            assert_error(response, 404, "not_found")
            assert response.get_json() == missing.get_json()  # not a word more than for a number never given
    hidden_file = client.get(secret["attachments"][0]["content_url"], headers=staff_auth)
    no_file = client.get(f"{API}/attachments/999999/content", headers=staff_auth)
    assert_error(hidden_file, 404, "not_found")
    assert hidden_file.get_json() == no_file.get_json()

    listed = client.get(f"{API}/documents", headers=staff_auth).get_json()
    assert [d["title"] for d in listed["items"]] == ["Para Finanzas"]
    assert listed["total"] == 1
    everything = client.get(f"{API}/documents", headers=clerk_auth).get_json()
    assert everything["total"] == 3


def test_a_clerk_cannot_act_on_a_document_above_their_clearance(
    app, client, make_user, token_for, clerk_auth, sender, fake_clock
):
    secret = registered(client, clerk_auth, incoming(sender, classification=3))
    junior = token_for(make_user("pablo", "clerk", clearance=1))
    url = f"{API}/documents/{secret['id']}"
    assert_error(client.get(url, headers=junior), 404, "not_found")
    assert_error(client.patch(url, json={"title": "Otro"}, headers=junior), 404, "not_found")
    assert_error(client.post(f"{url}/void", json={"reason": "error"}, headers=junior), 404, "not_found")
    form = {"file": (io.BytesIO(b"a"), "a.txt")}
    assert_error(client.post(f"{url}/attachments", data=form, headers=junior), 404, "not_found")
    assert client.get(url, headers=clerk_auth).get_json()["status"] == "registered"


# --- lists -----------------------------------------------------------------------------------------------------


def test_register_list_filters_and_pages(app, client, clerk_auth, sender, finance, fake_clock):
    other_sender = correspondents.create_correspondent(SYSTEM, name="Diputación de Soria")
    types = client.get(f"{API}/document-types", headers=clerk_auth).get_json()["items"]
    oficio = next(t["id"] for t in types if t["code"] == "OFICIO")
    registered(client, clerk_auth, incoming(sender, title="Convocatoria de subvenciones", document_type_id=oficio))
    registered(client, clerk_auth, incoming(other_sender, title="Queja vecinal", urgency="urgent"))
    fake_clock.advance(days=2)
    registered(client, clerk_auth, incoming(sender, title="Subvención 50% anticipada", department_id=finance.id))
    fields = {
        "series_id": series_id("OUT"),
        "title": "Respuesta",
        "department_id": finance.id,
        "main_recipients": [{"correspondent_id": sender.id}],
    }
    registered(client, clerk_auth, fields, direction="outgoing")

    def titles(**query) -> list[str]:
        response = client.get(f"{API}/documents", query_string=query, headers=clerk_auth)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [d["title"] for d in response.get_json()["items"]]

    assert titles(direction="outgoing") == ["Respuesta"]
    assert titles(series_id=series_id("IN"), sort="number") == [
        "Convocatoria de subvenciones",
        "Queja vecinal",
        "Subvención 50% anticipada",
    ]
    assert titles(urgency="urgent") == ["Queja vecinal"]
    assert titles(document_type_id=oficio) == ["Convocatoria de subvenciones"]
    assert titles(correspondent_id=other_sender.id) == ["Queja vecinal"]
    assert titles(department_id=finance.id, sort="title") == ["Respuesta", "Subvención 50% anticipada"]
    assert titles(q="SUBVENC", sort="number") == ["Convocatoria de subvenciones", "Subvención 50% anticipada"]
    assert titles(q="50%") == ["Subvención 50% anticipada"]  # the wildcard is taken literally
    assert titles(until="2026-03-02", sort="number") == ["Convocatoria de subvenciones", "Queja vecinal"]
    assert titles(since="2026-03-04", direction="incoming") == ["Subvención 50% anticipada"]
    assert titles(year=2026, status="registered", direction="internal") == []
    assert titles(year=2025) == []

    first = client.get(f"{API}/documents", query_string={"per_page": 3, "sort": "registered"}, headers=clerk_auth)
    second = client.get(
        f"{API}/documents", query_string={"per_page": 3, "page": 2, "sort": "registered"}, headers=clerk_auth
    )
    assert (first.get_json()["total"], first.get_json()["per_page"], len(first.get_json()["items"])) == (4, 3, 3)
    assert [d["title"] for d in second.get_json()["items"]] == ["Respuesta"]
    numbers = [d["number"] for d in first.get_json()["items"] + second.get_json()["items"]]
    assert len(set(numbers)) == 4


def test_since_and_until_are_office_days(office_in_madrid, app, client, clerk_auth, sender, fake_clock):
    fake_clock.advance(hours=14, minutes=30)  # 2026-03-02 23:30 UTC is 3 March, 00:30 in Madrid
    registered(client, clerk_auth, incoming(sender, title="Pasada la medianoche"))

    def titles(**query) -> list[str]:
        return [
            d["title"] for d in client.get(f"{API}/documents", query_string=query, headers=clerk_auth).json["items"]
        ]

    assert titles(since="2026-03-03") == ["Pasada la medianoche"]
    assert titles(until="2026-03-02") == []
    assert titles(since="2026-03-03", until="2026-03-03") == ["Pasada la medianoche"]


@pytest.mark.parametrize(
    "query",
    [
        {"series_id": "99999999999"},
        {"correspondent_id": "²"},
        {"page": "99999999999"},
        {"direction": "sideways"},
        {"urgency": "panic"},
        {"status": "lost"},
        {"sort": "colour"},
        {"since": "last week"},
        {"until": "2026-13-01"},
        {"year": "MMXXVI"},
        {"series_id": "-1"},
        {"page": "0"},
    ],
)
def test_a_bad_list_filter_is_refused_naming_it(app, client, clerk_auth, query):
    response = client.get(f"{API}/documents", query_string=query, headers=clerk_auth)
    assert set(assert_error(response, 422, "validation_failed")["fields"]) == set(query)


# --- changing and voiding --------------------------------------------------------------------------------------


def test_clerk_changes_the_editable_fields_only(app, client, clerk_auth, sender, finance, fake_clock):
    document = registered(client, clerk_auth, incoming(sender))
    url = f"{API}/documents/{document['id']}"
    changes = {"title": "Solicitud corregida", "department_id": finance.id, "deadline": "2026-03-20"}
    response = client.patch(url, json=changes, headers=clerk_auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    changed = response.get_json()
    assert {name: changed[name] for name in changes} == changes
    assert changed["number"] == document["number"] and changed["updated_at"] == "2026-03-02T09:00:00+00:00"

    for fields in ({"number": "X-1"}, {"series_id": series_id("OUT")}, {"signer_id": 1}, {"main_recipients": []}):
        refused = client.patch(url, json=fields, headers=clerk_auth)
        assert set(assert_error(refused, 422, "validation_failed")["fields"]) == set(fields)
    invalid = client.patch(url, json={"title": "", "deadline": "2026-01-01"}, headers=clerk_auth)
    assert set(assert_error(invalid, 422, "validation_failed")["fields"]) == {"title", "deadline"}
    assert client.get(url, headers=clerk_auth).get_json() == changed


def test_a_void_document_cannot_change_or_be_voided_again(app, client, clerk_auth, sender, fake_clock):
    document = registered(client, clerk_auth, incoming(sender))
    url = f"{API}/documents/{document['id']}"
    no_reason = client.post(f"{url}/void", json={"reason": "  "}, headers=clerk_auth)
    assert set(assert_error(no_reason, 422, "validation_failed")["fields"]) == {"reason"}

    response = client.post(f"{url}/void", json={"reason": "Registrado dos veces"}, headers=clerk_auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    void = response.get_json()
    assert (void["status"], void["void_reason"], void["number"]) == ("void", "Registrado dos veces", "IN-2026-000001")
    assert void["voided_at"] == "2026-03-02T09:00:00+00:00"

    assert_error(client.patch(url, json={"title": "Otro"}, headers=clerk_auth), 409, "conflict")
    assert_error(client.post(f"{url}/void", json={"reason": "otra vez"}, headers=clerk_auth), 409, "conflict")
    form = {"file": (io.BytesIO(b"a"), "a.txt")}
    assert_error(client.post(f"{url}/attachments", data=form, headers=clerk_auth), 409, "conflict")
    assert client.get(url, headers=clerk_auth).get_json() == void
    listed = client.get(f"{API}/documents", query_string={"status": "void"}, headers=clerk_auth).get_json()
    assert [d["number"] for d in listed["items"]] == ["IN-2026-000001"]
    assert registered(client, clerk_auth, incoming(sender))["number"] == "IN-2026-000002"  # never reused


# --- registers and document types ------------------------------------------------------------------------------


def test_anyone_lists_registers_and_only_an_admin_manages_them(app, client, admin_auth, staff_auth, finance):
    listed = client.get(f"{API}/series", headers=staff_auth).get_json()["items"]
    assert [s["code"] for s in listed] == ["IN", "INT", "OUT"]
    outgoing_only = client.get(f"{API}/series", query_string={"direction": "outgoing"}, headers=staff_auth)
    assert [s["code"] for s in outgoing_only.get_json()["items"]] == ["OUT"]

    new = {"code": "fin-in", "name": "Finance incoming", "direction": "incoming", "pattern": "{dept}-{year}-{seq:4}"}
    assert_error(
        client.post(f"{API}/series", json=new | {"department_id": finance.id}, headers=staff_auth), 403, "forbidden"
    )
    missing_department = client.post(f"{API}/series", json=new, headers=admin_auth)
    assert set(assert_error(missing_department, 422, "validation_failed")["fields"]) == {"department_id"}
    created = client.post(f"{API}/series", json=new | {"department_id": finance.id}, headers=admin_auth)
    assert created.status_code == 201, created.get_data(as_text=True)
    series = created.get_json()
    assert (series["code"], series["department_id"], series["active"]) == ("FIN-IN", finance.id, True)

    url = f"{API}/series/{series['id']}"
    assert_error(client.patch(url, json={"active": False}, headers=staff_auth), 403, "forbidden")
    assert_error(client.patch(url, json={"direction": "outgoing"}, headers=admin_auth), 422, "validation_failed")
    assert_error(client.patch(url, json={"active": "no"}, headers=admin_auth), 422, "validation_failed")
    retired = client.patch(url, json={"active": False, "name": "Finance (old)"}, headers=admin_auth)
    assert retired.status_code == 200 and retired.get_json()["active"] is False
    assert "FIN-IN" not in [s["code"] for s in client.get(f"{API}/series", headers=staff_auth).get_json()["items"]]
    everything = client.get(f"{API}/series", query_string={"include_inactive": "true"}, headers=staff_auth)
    assert "FIN-IN" in [s["code"] for s in everything.get_json()["items"]]


def test_a_new_register_numbers_its_documents_with_its_own_pattern(
    app, client, admin_auth, clerk_auth, sender, finance, fake_clock
):
    new = {"code": "FIN", "name": "Finance", "direction": "incoming", "pattern": "{dept}/{year}/{seq:3}"}
    series = client.post(f"{API}/series", json=new | {"department_id": finance.id}, headers=admin_auth).get_json()
    document = registered(client, clerk_auth, incoming(sender, series_id=series["id"]))
    assert document["number"] == "FIN/2026/001"


def test_document_types_are_listed_in_order(app, client, staff_auth):
    items = client.get(f"{API}/document-types", headers=staff_auth).get_json()["items"]
    assert items[0] == {"id": items[0]["id"], "code": "JY", "name": "决议 · Resolution", "active": True, "position": 0}
    assert [t["position"] for t in items] == sorted(t["position"] for t in items)


# --- the description -------------------------------------------------------------------------------------------


def test_openapi_describes_every_field_the_registers_send_and_accept(app, client, clerk_auth, sender, fake_clock):
    spec = client.get(f"{API}/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    document = registered(client, clerk_auth, incoming(sender), files=[("nota.txt", b"hola")])
    assert set(document) == set(schemas["Document"]["properties"])
    assert set(document["attachments"][0]) == set(schemas["Attachment"]["properties"])
    receipt = client.get(f"{API}/documents/{document['id']}/receipt", headers=clerk_auth).get_json()
    assert set(receipt) == set(schemas["Receipt"]["properties"])
    for direction in ("incoming", "outgoing", "internal"):
        operation = spec["paths"][f"/documents/{direction}"]["post"]
        content = operation["requestBody"]["content"]
        name = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert set(schemas[name]["properties"]) == set(registry.fields_for(direction))
        multipart = content["multipart/form-data"]["schema"]["properties"]
        assert multipart["file"] == {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": multipart["file"]["description"],
        }
        assert multipart["data"]["type"] == "string"
