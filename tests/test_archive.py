"""The archive: the file plan, filing closed documents, immutability, records, holds and disposal."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from docstore import audit, clock, registry, routing
from docstore.archive import disposal, filing, holds, records, scheme
from docstore.errors import Conflict, Forbidden, RecordFiled, RecordOnHold, ValidationFailed
from docstore.extensions import db
from docstore.models import Attachment, AuditEvent, Document, Record, RecordFile
from tests.archive_support import RULES, Plan, closed_incoming, department, files, outgoing
from tests.service_support import act, ctx, refused


@pytest.fixture
def plan(app):
    return Plan()


@pytest.fixture
def archivist(make_user):
    return make_user("archivo", "archivist", clearance=3)


def test_filing_a_closed_document_gives_consecutive_codes_per_class_and_year(clerk, sender, store, plan, archivist):
    department()
    first = closed_incoming(clerk, sender, store, uploads=files(("carta.txt", b"Primera carta")))
    second = closed_incoming(clerk, sender, store, title="Segunda", uploads=files(("otra.txt", b"Segunda carta")))
    one = act(filing.file_document, ctx(archivist), first.id, plan.ws.id, RULES)
    two = act(filing.file_document, ctx(archivist), second.id, plan.ws.id, RULES)
    year = first.year
    assert one.code == f"J001-WS·{year}-D10-BGS-0001"
    assert two.code == f"J001-WS·{year}-D10-BGS-0002"
    assert one.due_on == date(year + 11, 1, 1)
    assert [f.filename for f in one.files] == ["carta.txt"]
    assert db.session.get(Document, first.id).status == "archived"
    assert one.captured["document"]["number"] == first.number
    assert one.captured["catalogue"]["date"].isdigit() and len(one.captured["catalogue"]["date"]) == 8


@pytest.fixture
def leader(make_user):
    return make_user("director", "leader", clearance=3)


def filed(clerk, sender, store, archivist, node, title="Solicitud", content=b"texto", **fields):
    document = closed_incoming(clerk, sender, store, title=title, uploads=files(("carta.txt", content)), **fields)
    return act(filing.file_document, ctx(archivist), document.id, node.id, RULES)


# --- the file plan -------------------------------------------------------------------------------------------------


def test_a_class_takes_its_parents_retention_and_disposal_action_unless_it_has_its_own(plan):
    assert scheme.effective(plan.ws) == scheme.Effective("J001", "WS", ("WS",), "D10", "destroy")
    assert scheme.effective(plan.permanent) == scheme.Effective("J001", "WS", ("WS", "ZD"), "Y", "destroy")
    assert [node.code for node in scheme.list_classes()] == ["J001", "WS", "ZD", "KJ"]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"level": "class", "code": "XX", "name": "Sin fondo"}, "parent_id"),
        ({"level": "fonds", "code": "J002", "name": "Otro", "disposal_action": "destroy"}, "retention"),
        ({"level": "fonds", "code": "J 2", "name": "Otro", "retention": "Y", "disposal_action": "destroy"}, "code"),
        (
            {"level": "fonds", "code": "J002", "name": "Otro", "retention": "D0", "disposal_action": "review"},
            "retention",
        ),
        ({"level": "fonds", "code": "J001", "name": "Repetido", "retention": "Y", "disposal_action": "review"}, "code"),
    ],
)
def test_the_file_plan_refuses_invalid_nodes(plan, values, field):
    error = refused(ValidationFailed, scheme.create_class, audit.SYSTEM, **values)
    assert field in error.errors


def test_a_class_code_is_fixed_once_records_carry_it(clerk, sender, store, plan, archivist):
    filed(clerk, sender, store, archivist, plan.ws)
    refused(Conflict, scheme.update_class, audit.SYSTEM, plan.ws.id, {"code": "WZ"})
    assert act(scheme.update_class, audit.SYSTEM, plan.ws.id, {"name": "Documentos"}).name == "Documentos"


def test_custom_retention_periods_are_counted_in_years():
    assert scheme.retention_years("Y") is None
    assert scheme.retention_years("D5") == 5
    assert not scheme.retention_valid("D0") and not scheme.retention_valid("X10")


# --- filing --------------------------------------------------------------------------------------------------------


def test_only_closed_documents_are_offered_and_filed(clerk, sender, store, plan, archivist):
    from tests.archive_support import series_id

    open_one = act(
        registry.register_document,
        ctx(clerk),
        "incoming",
        registry.Registration(
            series_id=series_id("IN"),
            title="Abierto",
            correspondent_id=sender.id,
            channel="paper",
            received_at=clock.now(),
        ),
        [],
        registry.UploadPolicy(frozenset({"text"}), 1 << 20, "UTC"),
        store,
    )
    closed = closed_incoming(clerk, sender, store)
    out = outgoing(clerk, sender, store)
    ids = filing.closed_ids(None)
    assert closed.id in ids and out.id in ids and open_one.id not in ids
    error = refused(Conflict, filing.file_document, ctx(archivist), open_one.id, plan.ws.id, RULES)
    assert "still being handled" in str(error)
    act(filing.file_document, ctx(archivist), closed.id, plan.ws.id, RULES)
    assert closed.id not in filing.closed_ids(None)
    error = refused(Conflict, filing.file_document, ctx(archivist), closed.id, plan.ws.id, RULES)
    assert "already filed" in str(error)


def test_a_fonds_is_not_a_class_to_file_into(clerk, sender, store, plan, archivist):
    document = closed_incoming(clerk, sender, store)
    error = refused(ValidationFailed, filing.file_document, ctx(archivist), document.id, plan.fonds.id, RULES)
    assert "class_id" in error.errors


def test_a_reply_linked_to_its_letter_is_filed_in_the_same_item(clerk, sender, store, plan, archivist):
    from tests.archive_support import series_id

    reply = outgoing(clerk, sender, store, title="Contestación", uploads=files(("respuesta.txt", b"Respuesta")))
    data = registry.Registration(
        series_id=series_id("IN"),
        title="Consulta",
        correspondent_id=sender.id,
        channel="paper",
        received_at=clock.now(),
    )
    letter = act(
        registry.register_document,
        ctx(clerk),
        "incoming",
        data,
        files(("consulta.txt", b"Consulta")),
        registry.UploadPolicy(frozenset({"text"}), 1 << 20, "UTC"),
        store,
    )
    act(routing.accept, ctx(clerk), letter.id, "information")
    act(routing.close, ctx(clerk), letter.id, result="Contestado", reply_document_id=reply.id)
    assert reply.id not in filing.closed_ids(None)  # it waits for its letter
    record = act(filing.file_document, ctx(archivist), letter.id, plan.ws.id, RULES)
    assert [(f.role, f.filename) for f in record.files] == [("document", "consulta.txt"), ("reply", "respuesta.txt")]
    assert record.captured["replies"][0]["number"] == reply.number
    assert db.session.get(Document, reply.id).status == "archived"
    assert records.record_of(reply.id).id == record.id


def test_batch_filing_files_a_years_closed_documents_in_register_order(clerk, sender, store, plan, archivist):
    documents = [closed_incoming(clerk, sender, store, title=f"Carta {n}") for n in range(5)]
    seen = []
    report = act(
        filing.file_batch,
        ctx(archivist),
        plan.ws.id,
        documents[0].year,
        RULES,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert len(report.record_ids) == 5 and report.skipped == []
    codes = [db.session.get(Record, ident).code for ident in report.record_ids]
    assert [code[-4:] for code in codes] == ["0001", "0002", "0003", "0004", "0005"]
    assert [db.session.get(Record, i).document.number for i in report.record_ids] == [d.number for d in documents]
    assert seen[-1] == (5, 5)
    assert filing.closed_ids(documents[0].year) == []


def test_batch_filing_of_chosen_documents_reports_those_it_cannot_file(clerk, sender, store, plan, archivist):
    closed = closed_incoming(clerk, sender, store)
    already = filed(clerk, sender, store, archivist, plan.ws)
    report = act(
        filing.file_batch, ctx(archivist), plan.ws.id, None, RULES, document_ids=[closed.id, already.document_id]
    )
    assert len(report.record_ids) == 1
    assert report.skipped and report.skipped[0][0] == already.document.number


def test_the_archival_code_follows_the_configured_pattern(clerk, sender, store, plan, archivist):
    rules = filing.FilingRules("{fonds}/{year}/{category}-{item}", "GEN", "", "UTC")
    document = closed_incoming(clerk, sender, store)
    record = act(filing.file_document, ctx(archivist), document.id, plan.kj.id, rules)
    assert record.code == f"J001/{document.year}/KJ-0001"
    assert record.retention == "D30" and record.disposal_action == "transfer"


# --- immutability --------------------------------------------------------------------------------------------------


def test_a_filed_document_cannot_be_edited_attached_to_voided_or_reopened(clerk, sender, store, plan, archivist):
    record = filed(clerk, sender, store, archivist, plan.ws)
    document_id = record.document_id
    refused(RecordFiled, registry.update_document, ctx(clerk), document_id, {"title": "Cambiado"})
    policy = registry.UploadPolicy(frozenset({"text"}), 1 << 20, "UTC")
    refused(RecordFiled, registry.attach_files, ctx(clerk), document_id, files(("mas.txt", b"mas")), policy, store)
    refused(RecordFiled, registry.void_document, ctx(clerk), document_id, "error")
    refused(RecordFiled, routing.reopen, ctx(clerk), document_id, "otra vez")
    document = db.session.get(Document, document_id)
    assert document.title == "Solicitud" and document.status == "archived" and len(document.attachments) == 1


def test_annotations_correct_a_record_and_are_audited(clerk, sender, store, plan, archivist):
    record = filed(clerk, sender, store, archivist, plan.ws)
    act(records.annotate, ctx(archivist), record.id, "La fecha correcta es el 3 de marzo.")
    assert [note.text for note in records.get_record(record.id).annotations] == ["La fecha correcta es el 3 de marzo."]
    assert "archive_record.annotated" in [event.action for event in records.events_of(record.id)]
    refused(ValidationFailed, records.annotate, ctx(archivist), record.id, "  ")


def test_viewing_and_downloading_a_record_are_logged(clerk, sender, store, plan, archivist):
    record = filed(clerk, sender, store, archivist, plan.ws)
    act(records.view_record, ctx(archivist), record.id, archivist)
    row, path = act(records.record_file, ctx(archivist), record.id, record.files[0].id, archivist, store)
    assert path.read_bytes() == b"texto"
    actions = [event.action for event in records.events_of(record.id)]
    assert actions == ["archive_record.filed", "archive_record.viewed", "archive_record.downloaded"]


def test_a_record_is_hidden_from_those_who_may_not_see_its_document(clerk, sender, store, plan, archivist, make_user):
    record = filed(clerk, sender, store, archivist, plan.ws, classification=1)
    outsider = make_user("juan", "staff", clearance=0)
    with pytest.raises(Exception) as caught:
        records.get_record(record.id, outsider)
    assert caught.value.__class__.__name__ == "NotFound"
    assert records.list_records(records.RecordFilter(), outsider, 1, 10).total == 0
    assert records.list_records(records.RecordFilter(), archivist, 1, 10).total == 1


# --- holds and disposal --------------------------------------------------------------------------------------------


def expire(record_ids, year: int = 2000) -> None:
    """Back-date records so that their retention ended long ago."""
    for ident in record_ids:
        db.session.get(Record, ident).due_on = date(year, 1, 1)
    db.session.commit()


TODAY = date(2026, 11, 27)


def certificate(disposal_row, rows):
    return ("certificate of " + ",".join(r.code for r in rows)).encode()


def test_records_past_retention_are_listed_and_can_be_proposed(clerk, sender, store, plan, archivist):
    one = filed(clerk, sender, store, archivist, plan.ws)
    two = filed(clerk, sender, store, archivist, plan.ws, content=b"otro")
    expire([one.id])
    assert [r.id for r in disposal.expired(TODAY, 1, 10).items] == [one.id]
    refused(Conflict, disposal.propose, ctx(archivist), [two.id], "Fin del plazo", TODAY)
    proposal = act(disposal.propose, ctx(archivist), [one.id], "Fin del plazo", TODAY)
    assert proposal.action == "destroy" and proposal.state == "proposed"
    assert disposal.expired(TODAY, 1, 10).total == 0  # no longer waiting for a proposal
    refused(Conflict, disposal.propose, ctx(archivist), [one.id], "Otra vez", TODAY)


def test_a_hold_blocks_disposal_until_it_is_released(clerk, sender, store, plan, archivist, leader):
    record = filed(clerk, sender, store, archivist, plan.ws)
    expire([record.id])
    hold = act(holds.place_hold, ctx(archivist), "Litigio 12/2026", class_id=plan.fonds.id)
    assert holds.held_ids([record.id]) == {record.id}
    refused(RecordOnHold, disposal.propose, ctx(archivist), [record.id], "Fin del plazo", TODAY)
    act(holds.release_hold, ctx(archivist), hold.id, "Sentencia firme")
    proposal = act(disposal.propose, ctx(archivist), [record.id], "Fin del plazo", TODAY)
    direct = act(holds.place_hold, ctx(archivist), "Auditoría", record_ids=[record.id])
    error = refused(RecordOnHold, disposal.approve, ctx(leader), proposal.id, "", store, certificate, TODAY)
    assert record.code in str(error)
    assert db.session.get(Record, record.id).state == "kept"
    act(holds.release_hold, ctx(archivist), direct.id, "Terminada")
    refused(Conflict, holds.release_hold, ctx(archivist), direct.id, "Otra vez")
    approved, failed = act(disposal.approve, ctx(leader), proposal.id, "Conforme", store, certificate, TODAY)
    assert approved.state == "approved" and failed == []


def test_only_another_leader_administrator_or_archivist_decides_a_disposal(
    clerk, sender, store, plan, archivist, make_user
):
    record = filed(clerk, sender, store, archivist, plan.ws)
    expire([record.id])
    boss = make_user("jefa", "archivist", "leader", clearance=3)
    proposal = act(disposal.propose, ctx(boss), [record.id], "Fin del plazo", TODAY)
    refused(Forbidden, disposal.approve, ctx(clerk), proposal.id, "", store, certificate, TODAY)
    refused(Forbidden, disposal.approve, ctx(boss), proposal.id, "", store, certificate, TODAY)
    refused(Forbidden, disposal.reject, ctx(boss), proposal.id, "Mejor no")
    rejected = act(disposal.reject, ctx(archivist), proposal.id, "Aún se consulta")
    assert rejected.state == "rejected"
    assert disposal.expired(TODAY, 1, 10).total == 1  # it may be proposed again


def test_approval_destroys_the_files_keeps_a_residual_entry_and_a_certificate(
    clerk, sender, store, plan, archivist, leader
):
    gone = filed(clerk, sender, store, archivist, plan.ws, content=b"para destruir")
    shared = filed(clerk, sender, store, archivist, plan.ws, content=b"compartido")
    keeper = filed(clerk, sender, store, archivist, plan.kj, content=b"compartido")  # same bytes, another record
    expire([gone.id, shared.id])
    digests = {gone.files[0].sha256, shared.files[0].sha256}
    proposal = act(disposal.propose, ctx(archivist), [gone.id, shared.id], "Plazo cumplido", TODAY)
    approved, failed = act(disposal.approve, ctx(leader), proposal.id, "Conforme", store, certificate, TODAY)
    assert failed == []
    assert not store.exists(gone.files[0].sha256)
    assert store.exists(keeper.files[0].sha256)  # still used by a kept record
    for ident in (gone.id, shared.id):
        record = db.session.get(Record, ident)
        assert record.state == "destroyed" and record.disposal_id == approved.id
        assert record.captured["document"]["title"] == "Solicitud"  # the residual entry keeps the description
        assert record.document.status == "destroyed" and record.document.attachments == []
        assert all(row.attachment_id is None for row in record.files)
    assert (
        db.session.scalar(
            select(Attachment.id).where(Attachment.sha256.in_(sorted(digests - {keeper.files[0].sha256})))
        )
        is None
    )
    with store.open(approved.certificate_sha256) as stream:
        assert stream.read() == f"certificate of {gone.code},{shared.code}".encode()
    refused(Conflict, disposal.approve, ctx(leader), proposal.id, "", store, certificate, TODAY)
    actions = [
        e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "archive_disposal"))
    ]
    assert actions == ["archive_disposal.proposed", "archive_disposal.approved"]


def test_records_to_review_are_appraised_again_not_destroyed(clerk, sender, store, plan, archivist):
    review = scheme.create_class(
        audit.SYSTEM,
        level="class",
        parent_id=plan.fonds.id,
        code="RV",
        name="Revisar",
        retention="D10",
        disposal_action="review",
    )
    record = filed(clerk, sender, store, archivist, review)
    expire([record.id])
    refused(Conflict, disposal.propose, ctx(archivist), [record.id], "Fin", TODAY)
    act(disposal.reappraise, ctx(archivist), record.id, "D5", "destroy", "Valor administrativo", TODAY)
    record = db.session.get(Record, record.id)
    assert (record.retention, record.disposal_action, record.due_on) == ("D5", "destroy", date(2032, 1, 1))


def test_a_failed_filing_takes_no_item_number(clerk, sender, store, plan, archivist, monkeypatch):
    first = closed_incoming(clerk, sender, store)
    second = closed_incoming(clerk, sender, store, title="Segunda")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(filing.audit, "record_event", broken)
    with pytest.raises(RuntimeError):
        act(filing.file_document, ctx(archivist), first.id, plan.ws.id, RULES)
    monkeypatch.undo()
    assert db.session.get(Document, first.id).status == "registered"
    assert db.session.scalar(select(Record.id)) is None and db.session.scalar(select(RecordFile.id)) is None
    record = act(filing.file_document, ctx(archivist), second.id, plan.ws.id, RULES)
    assert record.code.endswith("-0001")


def test_archivists_filing_at_once_get_consecutive_items_and_one_record_per_document(
    app, clerk, sender, store, plan, archivist
):
    from concurrent.futures import ThreadPoolExecutor

    documents = [closed_incoming(clerk, sender, store, title=f"Carta {n}").id for n in range(8)]
    class_id, archivist_id = plan.ws.id, archivist.id
    db.session.commit()

    def file(document_id: int) -> str:
        with app.app_context():
            try:
                return act(filing.file_document, audit.Context(archivist_id), document_id, class_id, RULES).code
            except Conflict:
                return "conflict"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(file, documents + documents[:4]))  # the first four twice
    codes = sorted(result for result in results if result != "conflict")
    assert results.count("conflict") == 4
    assert [code[-4:] for code in codes] == [f"{n:04d}" for n in range(1, 9)]
    assert db.session.scalar(select(func.count()).select_from(Record)) == 8


def test_filed_documents_stay_searchable_with_the_archived_status_as_a_filter(
    client, clerk, sender, store, plan, archivist, index_now, token_for
):
    from docstore.api import API_PREFIX as API

    kept = closed_incoming(clerk, sender, store, title="Informe de archivo pendiente")
    record = filed(clerk, sender, store, archivist, plan.ws, title="Informe de archivo guardado")
    index_now()

    def ids(**args) -> list[int]:
        response = client.get(f"{API}/search", query_string={"q": "informe", **args}, headers=token_for(archivist))
        assert response.status_code == 200, response.get_data(as_text=True)
        return sorted(hit["id"] for hit in response.get_json()["results"])

    assert ids() == sorted([kept.id, record.document_id])
    assert ids(status="archived") == [record.document_id]
    assert ids(status="registered") == [kept.id]


def test_opening_a_filed_document_or_its_file_from_the_register_is_logged_on_the_record(
    browse, clerk, sender, store, plan, archivist
):
    record = filed(clerk, sender, store, archivist, plan.ws)
    attachment_id = record.files[0].attachment_id
    browser = browse(clerk)
    assert browser.get(f"/documents/{record.document_id}").status_code == 200
    with browser.get(f"/attachments/{attachment_id}/download") as response:
        assert response.status_code == 200 and response.data == b"texto"
    events = [(event.action, event.actor_id) for event in records.events_of(record.id)]
    assert events == [
        ("archive_record.filed", archivist.id),
        ("archive_record.viewed", clerk.id),
        ("archive_record.downloaded", clerk.id),
    ]


def test_a_record_in_a_proposal_is_not_appraised_again_until_it_is_decided(clerk, sender, store, plan, archivist):
    record = filed(clerk, sender, store, archivist, plan.ws)
    expire([record.id])
    act(disposal.propose, ctx(archivist), [record.id], "Fin del plazo", TODAY)
    error = refused(Conflict, disposal.reappraise, ctx(archivist), record.id, "Y", "review", "Valor histórico", TODAY)
    assert "disposal proposal" in str(error)
    assert db.session.get(Record, record.id).retention == "D10"


def test_an_approved_transfer_writes_the_package_before_the_files_go(
    app, clerk, sender, store, plan, archivist, leader, tmp_path
):
    from docstore.archive import bagit

    record = filed(clerk, sender, store, archivist, plan.kj, content=b"para el archivo central")
    expire([record.id])
    proposal = act(disposal.propose, ctx(archivist), [record.id], "Transferencia al archivo central", TODAY)
    assert proposal.action == "transfer"
    refused(Conflict, disposal.approve, ctx(leader), proposal.id, "", store, certificate, TODAY)  # no folder given
    assert store.exists(record.files[0].sha256)
    folder = tmp_path / "transfers"
    approved, failed = act(disposal.approve, ctx(leader), proposal.id, "", store, certificate, TODAY, folder)
    (package,) = folder.iterdir()
    assert bagit.validate_bag(package).valid and str(package) in approved.package
    copied = [
        path
        for path in (package / "data").rglob("*")
        if path.is_file() and path.read_bytes() == b"para el archivo central"
    ]
    assert len(copied) == 1
    record = db.session.get(Record, record.id)
    assert record.state == "transferred" and record.document.status == "transferred" and failed == []
    assert not store.exists(record.files[0].sha256)
