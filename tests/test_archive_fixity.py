"""Integrity checks of stored files: altered and deleted files are found and named, every check is recorded,
samples go round the whole store, and `archive verify` exits 1 when anything is wrong."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from docstore import audit, clock, registry
from docstore.archive import fixity
from docstore.extensions import db
from docstore.models import (
    ArchiveClass,
    Attachment,
    AuditEvent,
    DirectiveTemplate,
    Disposal,
    FixityEvent,
    FixityRun,
    Record,
    RecordFile,
    Series,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "files"
POLICY = registry.UploadPolicy(frozenset({"pdf", "text", "docx"}), 5 << 20, "UTC")


def _register(clerk, sender, store, *files: tuple[str, bytes]):
    """Register an incoming document with `files` (name, bytes) through the registry; return it."""
    series = db.session.execute(select(Series).where(Series.code == "IN")).scalar_one()
    data = registry.Registration(
        series_id=series.id,
        title="Solicitud de información",
        received_at=clock.now() - timedelta(hours=1),
        channel="paper",
        correspondent_id=sender.id,
    )
    uploads = [registry.Upload(name, io.BytesIO(content)) for name, content in files]
    return registry.register_document(audit.Context(clerk.id), "incoming", data, uploads, POLICY, store)


def _file_record(document, state: str = "kept", code: str = "J001-WS·2026-Y-BGS-0001") -> Record:
    """Insert a record of `document` with its attachments as the record's files (as filing freezes them)."""
    fonds = db.session.execute(select(ArchiveClass).where(ArchiveClass.code == "J001")).scalar_one_or_none()
    if fonds is None:
        fonds = ArchiveClass(level="fonds", code="J001", name="Ayuntamiento", retention="Y", disposal_action="destroy")
        db.session.add(fonds)
        db.session.flush()
    prefix, item = code.rsplit("-", 1)
    record = Record(
        document_id=document.id,
        class_id=fonds.id,
        year=2026,
        prefix=prefix,
        item=int(item),
        code=code,
        retention="Y",
        disposal_action="destroy",
        state=state,
    )
    db.session.add(record)
    db.session.flush()
    for position, attachment in enumerate(document.attachments):
        db.session.add(
            RecordFile(
                record_id=record.id,
                document_id=document.id,
                attachment_id=attachment.id,
                role="document",
                position=position,
                filename=attachment.filename,
                sha256=attachment.sha256,
                size=attachment.size,
                mime=attachment.mime,
            )
        )
    db.session.commit()
    return record


def _alter(store, sha256: str, data: bytes = b"%PDF-1.4 tampered\n") -> None:
    path = store.path(sha256)
    os.chmod(path, 0o644)  # the store keeps its files read-only
    path.write_bytes(data)


def _events(run_id: int) -> dict[str, str]:
    rows = db.session.execute(select(FixityEvent.sha256, FixityEvent.outcome).where(FixityEvent.run_id == run_id))
    return dict(rows.tuples().all())


@pytest.fixture
def tampered(app, clerk, sender, store):
    """A store with an altered file (shared by two documents and a record) and a deleted one, and one intact."""
    pdf = (CORPUS / "003-issue4061.pdf").read_bytes()
    other = (CORPUS / "029-good.pdf").read_bytes()
    first = _register(clerk, sender, store, ("oficio.pdf", pdf), ("nota.txt", "nota de prueba, ñandú".encode()))
    second = _register(clerk, sender, store, ("informe.pdf", other))
    third = _register(clerk, sender, store, ("copia.pdf", pdf))
    record = _file_record(first)
    altered, missing = hashlib.sha256(pdf).hexdigest(), hashlib.sha256(other).hexdigest()
    intact = first.attachments[1].sha256
    _alter(store, altered)
    store.path(missing).unlink()
    return {
        "documents": (first.number, second.number, third.number),
        "record": record.code,
        "altered": altered,
        "missing": missing,
        "intact": intact,
    }


def test_an_altered_and_a_deleted_file_are_reported_with_their_documents_and_records(app, store, tampered):
    run = fixity.verify(store)

    first, second, third = tampered["documents"]
    assert (run.checked, run.intact, run.missing, run.altered) == (3, 1, 1, 1)
    assert run.scope == "all" and run.finished_at is not None
    assert run.bytes_read == len(b"%PDF-1.4 tampered\n") + len("nota de prueba, ñandú".encode())
    assert _events(run.id) == {tampered["altered"]: "altered", tampered["missing"]: "missing", tampered["intact"]: "ok"}
    found = {problem.sha256: problem for problem in fixity.problems(run.id)}
    assert set(found) == {tampered["altered"], tampered["missing"]}
    altered = found[tampered["altered"]]
    assert altered.outcome == "altered"
    assert altered.documents == [first, third]
    assert altered.records == [tampered["record"]]
    assert altered.filenames == ["oficio.pdf", "copia.pdf"]
    missing = found[tampered["missing"]]
    assert (missing.outcome, missing.documents, missing.records, missing.filenames) == (
        "missing",
        [second],
        [],
        ["informe.pdf"],
    )


def test_a_run_is_recorded_once_in_the_audit_log_with_its_counts(app, store, tampered):
    run = fixity.verify(store)

    events = db.session.execute(select(AuditEvent).where(AuditEvent.action == "archive.fixity_checked")).scalars()
    (event,) = events.all()
    assert (event.object_type, event.object_id) == ("fixity_run", str(run.id))
    assert audit.decode(event.after) == {
        "scope": "all",
        "checked": 3,
        "intact": 1,
        "missing": 1,
        "altered": 1,
        "bytes_read": run.bytes_read,
    }
    assert audit.verify_chain().intact


def test_a_clean_store_reports_nothing(app, clerk, sender, store):
    _register(clerk, sender, store, ("oficio.pdf", (CORPUS / "003-issue4061.pdf").read_bytes()))

    run = fixity.verify(store)

    assert (run.checked, run.intact, run.missing, run.altered) == (1, 1, 0, 0)
    assert run.bytes_read == (CORPUS / "003-issue4061.pdf").stat().st_size
    assert fixity.problems(run.id) == [] and fixity.latest_problems() == []


def test_templates_certificates_and_kept_records_are_checked_but_not_files_of_destroyed_records(
    app, clerk, sender, store
):
    template = store.put(io.BytesIO(b"a directive template"))
    certificate = store.put(io.BytesIO(b"a destruction certificate"))
    kept = store.put(io.BytesIO(b"a record's file"))
    office_template = DirectiveTemplate(name="Oficio", filename="oficio.docx", sha256=template.sha256, size=20)
    db.session.add(office_template)
    disposal = Disposal(action="destroy", reason="expired", state="approved", certificate_sha256=certificate.sha256)
    db.session.add(disposal)
    db.session.add(Disposal(action="destroy", reason="pending", state="proposed"))  # no certificate yet
    document = _register(clerk, sender, store, ("a.txt", b"first"))
    destroyed_document = _register(clerk, sender, store, ("b.txt", b"second"))
    record = _file_record(document)
    gone = _file_record(destroyed_document, state="destroyed", code="J001-WS·2026-Y-BGS-0002")
    only_in_record = RecordFile(
        record_id=record.id,
        document_id=document.id,
        role="document",
        position=5,
        filename="extra.txt",
        sha256=kept.sha256,
        size=kept.size,
        mime="text/plain",
    )
    db.session.add(only_in_record)
    # the destroyed record's file was removed with its attachment: only the residual entry names it
    destroyed_digest = gone.files[0].sha256
    gone.files[0].attachment_id = None
    db.session.flush()
    db.session.delete(destroyed_document.attachments[0])
    db.session.commit()
    store.path(destroyed_digest).unlink()
    for stored in (template, certificate, kept):
        store.path(stored.sha256).unlink()

    run = fixity.verify(store)

    events = _events(run.id)
    assert destroyed_digest not in events
    assert "" not in events  # the proposal without a certificate
    assert {events[s.sha256] for s in (template, certificate, kept)} == {"missing"}
    assert events[document.attachments[0].sha256] == "ok"
    uses = {problem.sha256: problem.uses for problem in fixity.problems(run.id)}
    assert uses[template.sha256] == (fixity.Use("template", "Oficio", "oficio.docx", office_template.id),)
    assert uses[certificate.sha256] == (fixity.Use("certificate", str(disposal.id), "", disposal.id),)
    assert uses[kept.sha256] == (fixity.Use("record", record.code, "extra.txt", record.id),)


def test_samples_go_round_the_whole_store_before_checking_a_file_again(app, clerk, sender, store, fake_clock):
    digests = {
        _register(clerk, sender, store, (f"{n}.txt", f"file {n}".encode())).attachments[0].sha256 for n in range(5)
    }

    runs: list[set[str]] = []
    for _ in range(3):
        fake_clock.advance(days=1)
        run = fixity.verify(store, sample=2)
        assert (run.scope, run.checked) == ("sample", 2)
        runs.append(set(_events(run.id)))

    first, second, third = runs
    assert not first & second  # no file checked twice before every file was checked once
    (never_checked,) = digests - first - second
    assert never_checked in third
    assert third - {never_checked} <= first  # then the files checked longest ago come round again


def test_a_stopped_run_keeps_the_batches_it_committed(app, clerk, sender, store, monkeypatch):
    for n in range(5):
        _register(clerk, sender, store, (f"{n}.txt", f"file {n}".encode()))
    monkeypatch.setattr(fixity, "BATCH_SIZE", 2)
    seen: list[fixity.Progress] = []

    def stop_after_two_batches(progress: fixity.Progress) -> None:
        seen.append(progress)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fixity.verify(store, progress=stop_after_two_batches)
    db.session.rollback()

    assert [(p.done, p.total) for p in seen] == [(2, 5), (4, 5)]
    (run,) = fixity.last_runs()
    assert run.finished_at is None
    assert (run.checked, run.intact) == (4, 4)
    assert db.session.scalar(select(func.count()).select_from(FixityEvent).where(FixityEvent.run_id == run.id)) == 4


def test_latest_problems_forget_a_file_found_intact_again_or_no_longer_used(app, store, tampered):
    original = (CORPUS / "003-issue4061.pdf").read_bytes()
    first = fixity.verify(store)
    assert {p.sha256 for p in fixity.latest_problems()} == {tampered["altered"], tampered["missing"]}

    _alter(store, tampered["altered"], original)  # restored from a backup
    second = fixity.verify(store)

    assert [run.id for run in fixity.last_runs()] == [second.id, first.id]
    assert (second.intact, second.missing, second.altered) == (2, 1, 0)
    assert [p.sha256 for p in fixity.latest_problems()] == [tampered["missing"]]

    db.session.execute(delete(Attachment).where(Attachment.sha256 == tampered["missing"]))  # nothing uses it now
    db.session.commit()
    assert fixity.latest_problems() == []


# --- the command ------------------------------------------------------------------------------------------------


@pytest.fixture
def run_command(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        db.session.commit()  # a command runs in a process of its own: end the test's transaction
        return runner.invoke(args=["archive", "verify", *args], catch_exceptions=False)

    return invoke


def test_verify_command_names_the_bad_files_and_exits_1(app, run_command, tampered):
    result = run_command()

    assert result.exit_code == 1, result.output
    first, second, third = tampered["documents"]
    out = result.stdout
    assert f"ALTERED: {tampered['altered']}" in out
    assert f"attachment “oficio.pdf” of document {first}" in out
    assert f"attachment “copia.pdf” of document {third}" in out
    assert f"file “oficio.pdf” of record {tampered['record']}" in out
    assert f"MISSING: {tampered['missing']}\n  attachment “informe.pdf” of document {second}" in out
    assert "3 file(s) checked, 1 intact, 1 missing, 1 altered" in out
    assert "checked 3 of 3 file(s)" in result.stderr
    assert db.session.scalar(select(func.count()).select_from(FixityRun)) == 1


def test_verify_command_exits_0_on_a_clean_store_and_is_silent_when_quiet(app, run_command, clerk, sender, store):
    _register(clerk, sender, store, ("a.txt", b"first"), ("b.txt", b"second"))

    result = run_command("--sample", "1")
    assert result.exit_code == 0, result.output
    assert "(a sample of 1): 1 file(s) checked, 1 intact, 0 missing, 0 altered" in result.stdout

    quiet = run_command("--quiet")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.output == ""
    assert [run.checked for run in fixity.last_runs()] == [2, 1]


def test_verify_command_quiet_still_reports_problems(app, run_command, tampered):
    result = run_command("--quiet")

    assert result.exit_code == 1
    assert result.stderr == ""
    assert f"MISSING: {tampered['missing']}" in result.stdout
