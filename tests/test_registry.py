"""Registering documents: numbers, fields, attachments kept byte for byte, edits, voiding and who sees what."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from docstore import accounts, audit, correspondents, extraction, organisation, registry, routing
from docstore.errors import Conflict, NotFound, NumberingConflict, ValidationFailed
from docstore.extensions import db
from docstore.models import Attachment, Correspondent, Document, RoutingItem, Series

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "files"
POLICY = registry.UploadPolicy(
    frozenset({"pdf", "docx", "docm", "dotx", "docx-strict", "ooxml-encrypted", "odt", "text", "png", "jpeg"}),
    5 << 20,
    "Europe/Madrid",
)


def _series(code: str) -> Series:
    return db.session.query(Series).filter_by(code=code).one()


def _incoming(sender, **fields) -> registry.Registration:
    values = {
        "series_id": _series("IN").id,
        "title": "Solicitud de información",
        "received_at": datetime.now(UTC) - timedelta(hours=1),
        "channel": "paper",
        "correspondent_id": sender.id,
    }
    values.update(fields)
    return registry.Registration(**values)


def _upload(name: str, data: bytes) -> registry.Upload:
    return registry.Upload(name, io.BytesIO(data))


def _register(clerk, data, files=(), store=None, direction="incoming"):
    return registry.register_document(audit.Context(clerk.id), direction, data, list(files), POLICY, store)


def test_numbers_are_consecutive_per_register(app, clerk, sender, store):
    numbers = [_register(clerk, _incoming(sender), store=store).number for _ in range(3)]
    year = datetime.now(ZoneInfo(POLICY.timezone)).year
    assert numbers == [f"IN-{year}-{n:06d}" for n in (1, 2, 3)]


def test_attachments_are_kept_byte_for_byte_and_deduplicated(app, clerk, sender, store):
    pdf = (CORPUS / "003-issue4061.pdf").read_bytes()
    first = _register(clerk, _incoming(sender), [_upload("oficio.pdf", pdf), _upload("nota.txt", b"hola")], store)
    second = _register(clerk, _incoming(sender), [_upload("copia.pdf", pdf)], store)
    digest = hashlib.sha256(pdf).hexdigest()
    assert [a.sha256 for a in first.attachments][0] == digest
    assert store.path(digest).read_bytes() == pdf
    assert [a.kind for a in first.attachments] == ["pdf", "text"]
    duplicates = registry.duplicates_of(second, clerk)
    assert [d.number for d in duplicates[second.attachments[0].id]] == [first.number]
    stored_files = [p for p in Path(app.config["FILES_DIR"]).rglob("*") if p.is_file()]
    assert len(stored_files) == 2  # the second upload of the same bytes stored nothing new


def test_a_refused_registration_saves_nothing_and_takes_no_number(app, clerk, sender, store):
    with pytest.raises(ValidationFailed) as failure:
        _register(clerk, _incoming(sender, title=""), [_upload("nota.txt", b"hola")], store)
    assert set(failure.value.errors) == {"title"}
    with pytest.raises(ValidationFailed) as failure:
        _register(clerk, _incoming(sender), [_upload("vacío.txt", b""), _upload("x.exe", b"MZ\x90\x00" * 10)], store)
    message = str(failure.value.errors["attachments"])
    assert "vacío.txt" in message and "x.exe" in message
    assert db.session.query(Document).count() == 0
    assert _register(clerk, _incoming(sender), store=store).seq == 1  # no gap


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b.pdf", "c\\d.pdf", "bad\x00.pdf", "tab\t.pdf"])
def test_unsafe_file_names_are_refused(app, clerk, sender, store, name):
    with pytest.raises(ValidationFailed) as failure:
        _register(clerk, _incoming(sender), [_upload(name, b"%PDF-1.4\n")], store)
    assert "attachments" in failure.value.errors
    assert db.session.query(Attachment).count() == 0


def test_a_file_over_the_limit_is_refused(app, clerk, sender, store):
    small = registry.UploadPolicy(POLICY.allowed_kinds, 1024, "UTC")
    small_store = type(store)(store.root, max_bytes=1024)
    with pytest.raises(ValidationFailed) as failure:
        registry.register_document(
            audit.Context(clerk.id),
            "incoming",
            _incoming(sender),
            [_upload("big.txt", b"a" * 2048)],
            small,
            small_store,
        )
    assert "larger than" in str(failure.value.errors["attachments"])


def test_content_decides_the_type_not_the_name(app, clerk, sender, store):
    document = _register(clerk, _incoming(sender), [_upload("scan.pdf", "solo texto, ñandú".encode())], store)
    assert document.attachments[0].kind == "text"


def test_incoming_rules_are_checked_together(app, clerk, sender, store):
    future = datetime.now(UTC) + timedelta(days=2)
    data = _incoming(
        sender,
        received_at=future,
        channel="pigeon",
        correspondent_id=None,
        urgency="panic",
        classification=9,
        pages=0,
        sender_date=date.today() + timedelta(days=3),
    )
    with pytest.raises(ValidationFailed) as failure:
        _register(clerk, data, store=store)
    assert set(failure.value.errors) == {
        "received_at",
        "channel",
        "correspondent_id",
        "urgency",
        "classification",
        "pages",
        "sender_date",
    }


def test_a_new_sender_is_added_in_the_same_transaction(app, clerk, sender, store):
    document = _register(
        clerk, _incoming(sender, correspondent_id=None, new_correspondent_name="Ayuntamiento de Ávila"), store=store
    )
    assert document.correspondent.name == "Ayuntamiento de Ávila"
    assert db.session.query(Correspondent).count() == 2


def test_back_dated_entry_keeps_both_dates_and_the_current_sequence(app, clerk, sender, store):
    _register(clerk, _incoming(sender), store=store)
    late = _register(clerk, _incoming(sender, received_at=datetime(2025, 12, 30, 9, tzinfo=UTC)), store=store)
    assert late.seq == 2 and late.year == datetime.now(UTC).year
    assert late.received_at.year == 2025


def test_outgoing_needs_an_issuing_department_and_a_main_recipient(app, clerk, sender, store):
    office = organisation.create_department(audit.SYSTEM, code="BGS", name="Office")
    with pytest.raises(ValidationFailed) as failure:
        _register(
            clerk,
            registry.Registration(series_id=_series("OUT").id, title="Respuesta"),
            store=store,
            direction="outgoing",
        )
    assert set(failure.value.errors) == {"department_id", "main_recipients"}
    data = registry.Registration(
        series_id=_series("OUT").id,
        title="Respuesta",
        department_id=office.id,
        main_recipients=[("correspondent", sender.id)],
        copy_recipients=[("department", office.id)],
    )
    document = _register(clerk, data, store=store, direction="outgoing")
    assert document.number.startswith("OUT-")
    assert [(r.role, r.name) for r in document.recipients] == [("main", "Ministerio de Hacienda"), ("copy", "Office")]


def test_a_register_is_used_only_for_its_direction(app, clerk, sender, store):
    with pytest.raises(ValidationFailed) as failure:
        _register(clerk, _incoming(sender, series_id=_series("OUT").id), store=store)
    assert "series_id" in failure.value.errors


def test_edits_are_audited_with_before_and_after(app, clerk, sender, store):
    document = _register(clerk, _incoming(sender), store=store)
    registry.update_document(audit.Context(clerk.id), document.id, {"title": "Nuevo asunto", "urgency": "urgent"})
    event = audit.list_events(audit.EventFilter(action="document.update"), 1, 1).items[0]
    assert audit.decode(event.before) == {"title": "Solicitud de información", "urgency": "normal"}
    assert audit.decode(event.after) == {"title": "Nuevo asunto", "urgency": "urgent"}


def test_voided_number_stays_in_the_register_and_cannot_change(app, clerk, sender, store):
    document = _register(clerk, _incoming(sender), store=store)
    with pytest.raises(ValidationFailed):
        registry.void_document(audit.Context(clerk.id), document.id, "  ")
    registry.void_document(audit.Context(clerk.id), document.id, "Registered twice")
    assert registry.get_document(document.id).status == "void"
    with pytest.raises(Conflict):
        registry.update_document(audit.Context(clerk.id), document.id, {"title": "x"})
    with pytest.raises(Conflict):
        registry.void_document(audit.Context(clerk.id), document.id, "again")
    assert _register(clerk, _incoming(sender), store=store).seq == 2  # a void number is never reused


def test_users_see_only_what_their_clearance_and_department_allow(app, clerk, sender, make_user, store):
    finance = organisation.create_department(audit.SYSTEM, code="CW", name="Finance")
    legal = organisation.create_department(audit.SYSTEM, code="FJ", name="Legal")
    public = _register(clerk, _incoming(sender, department_id=finance.id), store=store)
    secret = _register(clerk, _incoming(sender, department_id=finance.id, classification=1), store=store)
    other = _register(clerk, _incoming(sender, department_id=legal.id), store=store)
    staff = make_user("juan", "staff", department_id=finance.id, clearance=0)
    leader = make_user("director", "leader", clearance=3)
    seen = registry.list_documents(registry.DocumentFilter(), 1, 50, viewer=staff)
    assert [d.id for d in seen.items] == [public.id] and seen.total == 1
    assert registry.can_view(staff, public) and not registry.can_view(staff, secret)
    assert not registry.can_view(staff, other)
    assert registry.list_documents(registry.DocumentFilter(), 1, 50, viewer=leader).total == 3


def test_a_substitute_for_a_leader_sees_office_wide_within_their_own_clearance(app, clerk, sender, make_user, store):
    finance = organisation.create_department(audit.SYSTEM, code="CW", name="Finance")
    nobodys = _register(clerk, _incoming(sender), store=store)  # addressed to no department
    finances = _register(clerk, _incoming(sender, department_id=finance.id, classification=1), store=store)
    director = make_user("director", "leader", clearance=3)
    li = make_user("li", "staff", clearance=0)  # no department, and cleared for less than the director
    first = date(2026, 3, 2)
    accounts.add_substitution(audit.SYSTEM, director.id, li.id, first, first + timedelta(days=2))

    def sees(day: date) -> set[int]:
        ids = set(db.session.scalars(registry.visible_to(select(Document.id), li, day)))
        for document in (nobodys, finances):  # the Python rule and its SQL twin agree
            assert registry.can_view(li, document, day) == (document.id in ids)
        return ids

    assert sees(first) == {nobodys.id}  # office-wide as the director, but not above her own clearance
    assert sees(first + timedelta(days=2)) == {nobodys.id}
    assert sees(first - timedelta(days=1)) == set() and sees(first + timedelta(days=3)) == set()
    accounts.update_user(audit.SYSTEM, li.id, {"clearance": 1})
    assert sees(first) == {nobodys.id, finances.id}
    accounts.update_user(audit.SYSTEM, director.id, {"active": False})  # an inactive leader lends no one their view
    assert sees(first) == set()


def test_register_list_filters_and_sorts(app, clerk, sender, store):
    a = _register(clerk, _incoming(sender, title="Presupuesto 2027", urgency="urgent"), store=store)
    b = _register(clerk, _incoming(sender, title="Convocatoria"), store=store)
    found = registry.list_documents(registry.DocumentFilter(urgency="urgent"), 1, 10, viewer=clerk)
    assert [d.id for d in found.items] == [a.id]
    found = registry.list_documents(registry.DocumentFilter(text="CONVOC"), 1, 10, viewer=clerk)
    assert [d.id for d in found.items] == [b.id]
    found = registry.list_documents(registry.DocumentFilter(sort="number"), 1, 10, viewer=clerk)
    assert [d.id for d in found.items] == [a.id, b.id]


def test_extraction_queue_records_every_outcome(app, clerk, sender, store):
    files = [
        _upload("texto.txt", "Gestión de documentos".encode()),
        _upload("cifrado.docx", (CORPUS / "106-testWORD_protected_passtika.docx").read_bytes()),
    ]
    document = _register(clerk, _incoming(sender), files, store)
    assert {a.extraction_state for a in document.attachments} == {"pending"}
    assert extraction.drain(store, extraction.Limits(min_seconds=10, max_seconds=30)) == 2
    db.session.expire_all()
    states = {a.filename: a.extraction_state for a in registry.get_document(document.id).attachments}
    assert states == {"texto.txt": "done", "cifrado.docx": "encrypted"}
    from docstore import attachments

    assert attachments.extracted_text(document.attachments[0].id) == "Gestión de documentos"


def test_a_claim_left_by_a_dead_worker_is_taken_up_again(app, clerk, sender, store, fake_clock):
    from docstore import attachments

    _register(
        clerk, _incoming(sender, received_at=fake_clock() - timedelta(hours=1)), [_upload("a.txt", b"texto")], store
    )
    claim = attachments.claim_next()
    assert claim is not None and attachments.claim_next() is None  # running: not claimed twice
    fake_clock.advance(minutes=16)
    again = attachments.claim_next()
    assert again is not None and again.attachment_id == claim.attachment_id


def test_a_file_of_a_refused_type_leaves_no_bytes_behind(app, clerk, sender, store):
    with pytest.raises(ValidationFailed):
        _register(clerk, _incoming(sender), [_upload("x.pdf", b"MZ\x90\x00" + bytes(range(256)) * 8)], store)
    assert [p for p in Path(app.config["FILES_DIR"]).rglob("*") if p.is_file()] == []


def test_huge_ids_in_addresses_are_not_found(app, client, clerk, sign_in):
    sign_in("lucia")
    for url in ("/documents/1099511627776", "/documents/?series=99999999999999999999", "/admin/users/4294967296"):
        assert client.get(url).status_code in (200, 403, 404), url


def test_a_clerk_cannot_register_above_their_own_clearance(app, clerk, sender, store):
    with pytest.raises(ValidationFailed) as failure:
        _register(clerk, _incoming(sender, classification=clerk.clearance + 1), store=store)
    assert set(failure.value.errors) == {"classification"}
    assert db.session.query(Document).count() == 0


def test_duplicate_warnings_never_name_a_document_the_user_may_not_see(app, clerk, sender, store, make_user):
    secret_clerk = make_user("wang.fang", "clerk", clearance=3)
    payload = b"the same bytes in two documents"
    hidden = _register(secret_clerk, _incoming(sender, classification=3), [_upload("a.txt", payload)], store)
    mine = _register(clerk, _incoming(sender), [_upload("b.txt", payload)], store)
    assert registry.duplicates_of(mine, clerk) == {}
    assert [d.id for d in registry.duplicates_of(mine, secret_clerk)[mine.attachments[0].id]] == [hidden.id]


def test_a_missing_stored_file_is_reported_not_crashed_on(app, client, clerk, sender, store, sign_in):
    document = _register(clerk, _incoming(sender), [_upload("a.txt", b"will vanish")], store)
    path = store.path(document.attachments[0].sha256)
    path.chmod(0o644)
    path.unlink()
    sign_in("lucia")
    response = client.get(f"/attachments/{document.attachments[0].id}/download")
    assert response.status_code == 404
    assert "is missing" in response.get_data(as_text=True)


def test_two_registers_cannot_share_a_pattern_and_a_clash_takes_no_number(app, clerk, sender, store):
    with pytest.raises(ValidationFailed) as failure:
        registry.create_series(
            audit.SYSTEM, code="IN2", name="Other", direction="incoming", pattern="IN-{year}-{seq:6}"
        )
    assert "IN" in str(failure.value.errors["pattern"])
    other = registry.create_series(
        audit.SYSTEM, code="IN2", name="Other", direction="incoming", pattern="IN-{year}-{seq}"
    )
    _register(clerk, _incoming(sender, series_id=other.id), store=store)  # IN-<year>-1
    clash = registry.create_series(
        audit.SYSTEM, code="IN3", name="Clash", direction="incoming", pattern="IN-{year}-{seq:1}"
    )
    with pytest.raises(NumberingConflict):
        _register(clerk, _incoming(sender, series_id=clash.id), store=store)
    assert db.session.query(Document).filter_by(series_id=clash.id).count() == 0


def test_an_old_document_stays_editable_after_what_it_refers_to_is_retired(app, clerk, sender, store):
    finance = organisation.create_department(audit.SYSTEM, code="CW", name="Finance")
    document = _register(clerk, _incoming(sender, department_id=finance.id), store=store)
    correspondents.update_correspondent(audit.SYSTEM, sender.id, {"active": False})
    organisation.set_department_active(audit.SYSTEM, finance.id, False)
    registry.update_series(audit.SYSTEM, _series("IN").id, {"active": False})
    values = {name: getattr(document, name) for name in registry.editable_fields("incoming")}
    values["title"] = "Corrected title"
    registry.update_document(audit.Context(clerk.id), document.id, values)
    assert registry.get_document(document.id).title == "Corrected title"
    retired = organisation.create_department(audit.SYSTEM, code="OLD", name="Old")
    organisation.set_department_active(audit.SYSTEM, retired.id, False)
    with pytest.raises(ValidationFailed) as failure:  # but a retired department cannot be newly chosen
        registry.update_document(audit.Context(clerk.id), document.id, {"department_id": retired.id})
    assert set(failure.value.errors) == {"department_id"}


def test_editing_an_outgoing_document_keeps_its_recipients(app, client, clerk, sender, store, sign_in):
    office = organisation.create_department(audit.SYSTEM, code="BGS", name="Office")
    data = registry.Registration(
        series_id=_series("OUT").id,
        title="Respuesta",
        department_id=office.id,
        main_recipients=[("correspondent", sender.id)],
    )
    document = _register(clerk, data, store=store, direction="outgoing")
    sign_in("lucia")
    page = client.get(f"/documents/{document.id}/edit").get_data(as_text=True)
    assert "cannot be changed here" in page and 'name="main_recipients"' not in page
    response = client.post(
        f"/documents/{document.id}/edit",
        data={
            "title": "Respuesta definitiva",
            "urgency": "normal",
            "classification": "0",
            "department_id": str(office.id),
        },
    )
    assert response.status_code == 302
    edited = registry.get_document(document.id)
    assert edited.title == "Respuesta definitiva"
    assert [(r.role, r.name) for r in edited.recipients] == [("main", "Ministerio de Hacienda")]


def test_the_audit_log_withholds_classified_details_from_a_less_cleared_admin(
    app, client, sender, store, make_user, sign_in, token_for
):
    secret_clerk = make_user("wang.fang", "clerk", clearance=3)
    document = _register(secret_clerk, _incoming(sender, title="Plan secreto", classification=3), store=store)
    make_user("boss", "admin", clearance=1)
    sign_in("boss")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Plan secreto" not in page and "Details withheld" in page
    events = client.get(
        "/api/v1/audit-events?object_type=document",
        headers=token_for(db.session.query(type(secret_clerk)).filter_by(username="boss").one()),
    ).get_json()["items"]
    assert events and all(e["withheld"] and e["after"] is None for e in events if e["object_id"] == str(document.id))


# --- routing from registration ---------------------------------------------------------------------------------


def test_registering_an_incoming_document_puts_it_pending_on_the_clerks_board(app, clerk, sender, store):
    finance = organisation.create_department(audit.SYSTEM, code="CW", name="Finance")
    incoming = _register(clerk, _incoming(sender), store=store)
    item = routing.get_item(incoming.id)
    assert (item.state, item.kind, item.deadline) == ("pending", "action", None)
    assert [row.document_id for row in routing.in_progress()] == [incoming.id]
    reply = registry.Registration(
        series_id=_series("OUT").id,
        title="Respuesta",
        department_id=finance.id,
        main_recipients=[("correspondent", sender.id)],
    )
    outgoing = _register(clerk, reply, store=store, direction="outgoing")
    with pytest.raises(NotFound):  # only incoming documents are routed
        routing.get_item(outgoing.id)
    with pytest.raises(ValidationFailed):
        _register(clerk, _incoming(sender, title=""), store=store)
    assert list(db.session.scalars(select(RoutingItem.document_id))) == [incoming.id]  # none for the refused one


def test_the_register_page_puts_an_incoming_document_on_the_clerks_board(app, client, clerk, sender, sign_in):
    sign_in("lucia")
    received = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/documents/new/incoming",
        data={
            "series_id": str(_series("IN").id),
            "title": "Solicitud de archivo vecinal",
            "urgency": "urgent",
            "classification": "0",
            "received_at": received,
            "channel": "paper",
            "correspondent_id": str(sender.id),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    document = db.session.scalars(select(Document).where(Document.title == "Solicitud de archivo vecinal")).one()
    assert routing.get_item(document.id).state == "pending"
    assert [row.document_id for row in routing.in_progress()] == [document.id]


def test_a_voided_incoming_document_leaves_the_clerks_board(app, clerk, sender, store):
    kept = _register(clerk, _incoming(sender, title="Kept"), store=store)
    voided = _register(clerk, _incoming(sender, title="Voided"), store=store)
    registry.void_document(audit.Context(clerk.id), voided.id, "Registered twice.")
    assert routing.get_item(voided.id).state == "pending"  # its routing stays as it stood, on its page
    assert [row.document_id for row in routing.in_progress()] == [kept.id]
    assert routing.board_counts(routing.BoardFilter())["pending"] == 1
    assert [row.document.id for row in routing.board_page(routing.BoardFilter(), 1, 10).items] == [kept.id]
    assert routing.waiting_for(clerk).in_progress == 1
