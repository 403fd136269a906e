"""Export and re-import of records as BagIt packages: a package exported from one instance and imported into a second,
fresh one (its own database and folder) gives back the same records, numbers, codes, metadata, files and history;
a package whose records exist, or one tampered with, is refused and changes nothing."""

from __future__ import annotations

import contextlib
import io
import json
import secrets
import shutil
import tarfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from app import create_app
from docstore import accounts, audit, clock, correspondents, database, extraction, registry, routing
from docstore.archive import bagit, disposal, exchange, filing, holds, records
from docstore.errors import Conflict, NotFound, StoredFileMissing, ValidationFailed
from docstore.extensions import db
from docstore.models import (
    ArchiveClass,
    Attachment,
    AuditEvent,
    Correspondent,
    Department,
    Document,
    DocumentType,
    Hold,
    Record,
    RecordFile,
    Series,
)
from storage.safexml import parse_xml
from tests.archive_support import POLICY, RULES, Plan, department, files, outgoing, series_id
from tests.service_support import act, ctx

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "files"
PDF = CORPUS / "015-calgray.pdf"
DOCX = CORPUS / "067-chinese_watermark_with_font_size_color_specified.docx"
PASSWORD = "correct-horse-battery"
USERS = (("lucia", "clerk"), ("archivo", "archivist"), ("jefa", "leader"))


@pytest.fixture
def second_app(database_template, settings, tmp_path):
    """A second, fresh instance: a new database of the same kind as the test's, and a folder of its own."""
    kind, source = database_template
    if kind == "sqlite":
        target = tmp_path / "second.sqlite3"
        shutil.copyfile(source, target)
        url = f"sqlite:///{target}"
    else:
        admin, server, template = source
        name = f"docstore_test_{secrets.token_hex(4)}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        url = server.set(database=name).render_as_string(hide_password=False)
    application = create_app({**settings, "DATABASE_URL": url}, instance_path=str(tmp_path / "second-instance"))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if kind != "sqlite":
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def inside(application):
    """Act in `application` (its database and store) for a while, then come back to the test's own instance."""
    db.session.commit()
    with application.app_context():
        yield extraction.file_store(application.config)
        db.session.commit()


def people() -> dict:
    """Create the office's people (the same usernames in every instance); return them by username."""
    made = {}
    for username, role in USERS:
        made[username] = accounts.create_user(
            audit.SYSTEM,
            username=username,
            full_name=username.title(),
            password=PASSWORD,
            password_min_length=10,
            roles=[role],
            clearance=3,
        )
    return made


def register_incoming(clerk, sender, store, title: str, uploads, **fields) -> Document:
    data = registry.Registration(
        series_id=series_id("IN"),
        title=title,
        received_at=clock.now() - timedelta(hours=1),
        channel="paper",
        correspondent_id=sender.id,
        **fields,
    )
    document = act(registry.register_document, ctx(clerk), "incoming", data, uploads, POLICY, store)
    act(routing.accept, ctx(clerk), document.id, "information")
    return document


def build_archive(fake_clock, store) -> dict:
    """In the current instance: a file plan, four closed documents with real files, filed; an annotation, a released
    hold, a reappraisal, and one record destroyed by an approved disposal. Return the people and the plan."""
    team = people()
    clerk, archivist, leader = team["lucia"], team["archivo"], team["jefa"]
    sender = correspondents.create_correspondent(audit.SYSTEM, name="Ministerio de Hacienda", code="E05068001")
    office = department("BGS", "办公室")
    oficio = registry.create_document_type(audit.SYSTEM, "OFI", "Oficio")
    plan = Plan()

    letter = register_incoming(
        clerk,
        sender,
        store,
        "关于做好2026年预算编制工作的通知",
        files(("预算通知.pdf", PDF.read_bytes())),
        sender_reference="财预〔2026〕7号",
        sender_date=date(2026, 2, 27),
        document_type_id=oficio.id,
        summary="Presupuesto 2026 · 预算",
    )
    fake_clock.advance(minutes=30)
    reply = outgoing(
        clerk,
        sender,
        store,
        title="Respuesta sobre el presupuesto: información solicitada (año 2026)",
        uploads=files(("respuesta.docx", DOCX.read_bytes())),
        copy_recipients=[("department", office.id)],
        signer_id=leader.id,
        document_date=date(2026, 3, 2),
    )
    act(routing.close, ctx(clerk), letter.id, result="Contestado.", reply_document_id=reply.id)
    fake_clock.advance(minutes=30)
    request = register_incoming(
        clerk,
        sender,
        store,
        "Solicitud de licencia de obra — calle Año Nuevo, nº 3",
        files(("solicitud.txt", b"Solicito licencia de obra.\n"), ("plano.pdf", PDF.read_bytes())),
    )
    act(routing.close, ctx(clerk), request.id, result="Archivado.")
    remittance = outgoing(
        clerk, sender, store, title="Oficio de remisión", uploads=files(("oficio.txt", b"Remito el expediente."))
    )
    stale = register_incoming(
        clerk, sender, store, "Circular caducada", files(("circular.txt", b"Circular sin vigencia."))
    )
    act(routing.close, ctx(clerk), stale.id, result="Leído.")

    fake_clock.advance(hours=2)
    first = act(filing.file_document, ctx(archivist), letter.id, plan.ws.id, RULES)
    second = act(filing.file_document, ctx(archivist), request.id, plan.ws.id, RULES)
    third = act(filing.file_document, ctx(archivist), remittance.id, plan.permanent.id, RULES)
    fourth = act(filing.file_document, ctx(archivist), stale.id, plan.ws.id, RULES)

    fake_clock.advance(hours=1)
    act(records.annotate, ctx(archivist), second.id, "La calle se llama «Año Nuevo», no «Ano Nuevo». 更正。")
    hold = act(holds.place_hold, ctx(archivist), "Litigio 12/2026", record_ids=[second.id])
    fake_clock.advance(days=3)
    act(holds.release_hold, ctx(archivist), hold.id, "Sentencia firme")
    act(disposal.reappraise, ctx(archivist), third.id, "D30", "transfer", "Valor histórico revisado", date(2026, 3, 6))
    # access is logged, but it is no part of a record's history in a package
    act(records.view_record, ctx(archivist), first.id, archivist)
    act(records.record_file, ctx(archivist), first.id, first.files[0].id, archivist, store)

    proposal = act(disposal.propose, ctx(archivist), [fourth.id], "Plazo cumplido", date(2037, 1, 2))
    fake_clock.advance(days=1)
    act(disposal.approve, ctx(leader), proposal.id, "Conforme", store, lambda _d, _r: b"certificate", date(2037, 1, 2))
    return {"team": team, "plan": plan, "records": [first, second, third, fourth], "reply": reply}


def snapshot() -> dict:
    """Return the records of the current instance as plain values, by code (no ids)."""
    found = {}
    for record in db.session.scalars(select(Record).order_by(Record.code)):
        members = db.session.scalars(
            select(Document).where(Document.id.in_([f.document_id for f in record.files] + [record.document_id]))
        )
        found[record.code] = {
            "class": exchange.class_path(record.archive_class),
            "values": (
                record.prefix,
                record.item,
                record.year,
                record.retention,
                record.disposal_action,
                record.due_on,
                record.state,
                record.pages,
                clock.as_utc(record.filed_at),
                record.filed_by.username,
                record.disposed_at and clock.as_utc(record.disposed_at),
            ),
            "captured": record.captured,
            "document": record.document.number,
            "documents": sorted(
                (d.number, d.direction, d.series.code, d.year, d.seq, d.title, d.status, clock.as_utc(d.registered_at))
                for d in members
            ),
            "files": [
                (f.position, f.role, f.filename, f.sha256, f.size, f.mime, f.attachment_id is None)
                for f in record.files
            ],
            "annotations": [(clock.as_utc(a.created_at), a.created_by.username, a.text) for a in record.annotations],
            "holds": sorted((h.reason, clock.as_utc(h.placed_at), h.release_reason) for h in holds.holds_of(record)),
        }
    return found


def state() -> dict:
    """Return how many rows the tables an import writes hold, and the audit log's length."""
    tables = (Record, Document, Attachment, RecordFile, ArchiveClass, Series, Correspondent, Department, DocumentType)
    counts = {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in tables}
    counts["events"] = db.session.scalar(select(func.count()).select_from(AuditEvent))
    counts["holds"] = db.session.scalar(select(func.count()).select_from(Hold))
    return counts


def stored_files(store) -> list[str]:
    return sorted(p.name for p in Path(store.root).rglob("*") if p.is_file()) if Path(store.root).exists() else []


def payload(bag: Path) -> dict[str, bytes]:
    return {p.relative_to(bag).as_posix(): p.read_bytes() for p in sorted((bag / "data").rglob("*")) if p.is_file()}


def canonical_xml(xml: bytes, drop_last_event: bool = False) -> str:
    """Return `xml` canonicalised (C14N 2.0, indentation left out), without its last history event if asked."""
    root = parse_xml(xml)
    if drop_last_event:
        last = root.findall("r:history/r:event", {"r": exchange.XML_NAMESPACE})[-1]
        last.getparent().remove(last)
    return etree.tostring(root, method="c14n2", strip_text=True).decode()


def test_a_package_imported_into_a_fresh_instance_exports_the_same_records_byte_for_byte(
    app, fake_clock, store, second_app, tmp_path
):
    built = build_archive(fake_clock, store)
    first, second, third, fourth = built["records"]
    fake_clock.advance(days=1)
    exported = exchange.export_records(
        exchange.Selection(class_id=built["plan"].fonds.id),
        tmp_path / "from-a",
        store,
        organisation="Ayuntamiento de Ávila",
    )
    assert (exported.records, exported.residual) == (4, 1)
    assert bagit.validate_bag(exported.path).valid
    before = snapshot()
    package_a = payload(exported.path)
    last_incoming = max(r.document.number for r in built["records"] if r.document.direction == "incoming")
    codes = [r.code for r in built["records"]]  # read here: objects of this instance must not be used inside another

    # what a package holds: codes and names, never database ids; access logs stay behind
    code = first.code
    folder = f"data/records/{code}"
    meta = json.loads(package_a[f"{folder}/metadata.json"])
    assert package_a[f"{folder}/metadata.json"] == exchange.canonical_json(meta)
    assert meta["class_path"] == "J001/WS" and meta["filed_by"] == "archivo"
    assert [(d["role"], d["number"]) for d in meta["documents"]] == [
        ("document", built["records"][0].document.number),
        ("reply", built["reply"].number),
    ]
    assert [f["path"] for f in meta["files"]] == ["files/000-预算通知.pdf", "files/001-respuesta.docx"]
    assert package_a[f"{folder}/files/000-预算通知.pdf"] == PDF.read_bytes()
    assert package_a[f"{folder}/files/001-respuesta.docx"] == DOCX.read_bytes()
    actions = [event["action"] for event in meta["history"]]
    assert actions == ["archive_record.filed"], "views and downloads are access logs, not history"
    assert "class_id" not in meta["history"][0]["detail"]
    residual = json.loads(package_a[f"data/records/{fourth.code}/metadata.json"])
    assert residual["state"] == "destroyed" and [f["path"] for f in residual["files"]] == [None]
    assert residual["disposal"]["decided_by"] == "jefa"
    assert not [name for name in package_a if name.startswith(f"data/records/{fourth.code}/files/")]
    held = json.loads(package_a[f"data/records/{second.code}/metadata.json"])
    assert [e["action"] for e in held["history"]] == [
        "archive_record.filed",
        "archive_record.annotated",
        "archive_record.held",
        "archive_record.released",
    ]
    assert '"id"' not in "".join(p.decode() for n, p in package_a.items() if n.endswith(".json"))

    # the tar travels; a tampered copy is refused before anything changes
    tarball = exchange.pack(exported.path, tmp_path / "from-a.tar")
    tampered = tmp_path / "tampered"
    shutil.copytree(exported.path, tampered)
    altered = bytearray(DOCX.read_bytes())
    altered[100] ^= 0xFF  # one bit pattern changed, the size kept
    (tampered / folder / "files" / "001-respuesta.docx").write_bytes(bytes(altered))

    with inside(second_app) as store_b:
        team_b = people()
        empty = state()
        with pytest.raises(bagit.BagInvalid) as refused, database.writing():
            exchange.import_package(tampered, store_b, ctx(team_b["archivo"]))
        assert f"{folder}/files/001-respuesta.docx" in refused.value.errors
        assert state() == empty and stored_files(store_b) == []

        report = act(exchange.import_package, tarball, store_b, ctx(team_b["archivo"]))
        assert sorted(report.records) == sorted(before)
        assert report.created["classes"] == ["J001", "J001/WS", "J001/WS/ZD"]
        assert report.created["departments"] == ["BGS"] and report.unknown_users == []
        assert snapshot() == before
        assert {a.extraction_state for a in db.session.scalars(select(Attachment))} == {"pending"}
        imported = exchange.find_class("J001")
        exported_b = exchange.export_records(
            exchange.Selection(class_id=imported.id), tmp_path / "from-b", store_b, organisation="Ayuntamiento de Ávila"
        )
        again = state(), stored_files(store_b)
        with pytest.raises(Conflict) as twice, database.writing():
            exchange.import_package(exported.path, store_b, ctx(team_b["archivo"]))
        assert codes[0] in str(twice.value)
        assert (state(), stored_files(store_b)) == again

        # the next numbers and codes follow the imported ones
        clerk_b, sender_b = team_b["lucia"], db.session.scalar(select(Correspondent))
        fresh = register_incoming(clerk_b, sender_b, store_b, "Nueva solicitud", files(("nueva.txt", b"Nueva.")))
        act(routing.close, ctx(clerk_b), fresh.id, result="Leído.")
        assert last_incoming == "IN-2026-000003" and fresh.number == "IN-2026-000004"
        filed = act(filing.file_document, ctx(team_b["archivo"]), fresh.id, exchange.find_class("J001/WS").id, RULES)
        assert (codes[3], filed.code) == ("J001-WS·2026-D10-BGS-0003", "J001-WS·2026-D10-BGS-0004")

    package_b = payload(exported_b.path)
    assert sorted(package_b) == sorted(package_a)
    for name, content in package_a.items():
        if name.endswith("metadata.json"):
            ours, theirs = json.loads(content), json.loads(package_b[name])
            ingestion = theirs["history"].pop()
            assert ingestion["action"] == "archive_record.imported" and ingestion["by"] == "archivo"
            assert ingestion["detail"]["package"] == exported.external_identifier
            assert ingestion["detail"]["event_type"] == "ingestion"
            assert theirs == ours, name
        elif name.endswith("metadata.xml"):
            assert canonical_xml(package_b[name], drop_last_event=True) == canonical_xml(content), name
        else:
            assert package_b[name] == content, name


def small_archive(fake_clock, store) -> dict:
    """In the current instance: the office's people, a file plan and two closed incoming documents filed in WS."""
    team = people()
    clerk, archivist = team["lucia"], team["archivo"]
    sender = correspondents.create_correspondent(audit.SYSTEM, name="Junta de Castilla y León")
    department("BGS", "办公室")
    plan = Plan()
    made = []
    for title, name in (("Convocatoria de ayudas 2026", "convocatoria.pdf"), ("关于年度考核的通知", "考核.pdf")):
        document = register_incoming(clerk, sender, store, title, files((name, PDF.read_bytes())))
        act(routing.close, ctx(clerk), document.id, result="Leído.")
        made.append(document)
    fake_clock.advance(hours=1)
    filed = [act(filing.file_document, ctx(archivist), d.id, plan.ws.id, RULES) for d in made]
    return {"team": team, "plan": plan, "records": filed, "sender": sender}


def invoke(application, *args: str):
    """Run `flask --app app ARGS` against `application` (whose app context is the current one)."""
    db.session.commit()  # a command runs as a process of its own would: end the test's transaction first
    return application.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def test_command_line_exports_a_tar_validates_it_and_imports_it_into_another_instance(
    app, fake_clock, store, second_app, tmp_path
):
    small_archive(fake_clock, store)
    tarball = tmp_path / "ws.tar"
    exported = invoke(app, "archive", "export", "--class", "J001/WS", "--out", str(tarball))
    assert exported.exit_code == 0, exported.output
    assert "exported 2 of 2 record(s)" in exported.stderr
    assert f"package {tarball}: 2 record(s)" in exported.stdout and "; valid;" in exported.stdout
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".docstore-export-")]
    checked = invoke(app, "archive", "validate", str(tarball))
    assert checked.exit_code == 0 and f"package {tarball} is valid: 8 payload file(s)" in checked.stdout
    unpacked = bagit.unpack_bag(tarball, tmp_path / "unpacked")
    (unpacked / "data" / "file-plan.json").write_bytes(b"{}\n")
    broken = invoke(app, "archive", "validate", str(unpacked))
    damaged = "it was changed or damaged."
    assert broken.exit_code == 1
    assert broken.stdout.splitlines() == [
        f"ALTERED: data/file-plan.json: Its SHA{bits} digest does not match manifest-sha{bits}.txt: {damaged}"
        for bits in (256, 512)
    ] + [
        "OXUM: bag-info.txt: Payload-Oxum says "
        + bagit.info_value(bagit.read_info(unpacked), "Payload-Oxum")
        + f" but the payload holds {bagit.validate_bag(unpacked).bytes}.8 (bytes.files).",
    ]
    missing = invoke(app, "archive", "export", "--class", "J001/XX", "--out", str(tmp_path / "none"))
    assert (missing.exit_code, missing.stderr) == (1, "error: the file plan has no class J001/XX\n")
    empty = invoke(app, "archive", "export", "--year", "1999", "--out", str(tmp_path / "none"))
    assert empty.exit_code == 1
    assert empty.stderr == "error: selection: No record matches this selection: there is nothing to export.\n"
    assert not (tmp_path / "none").exists()

    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        info = tarfile.TarInfo("bag/../../escaped.txt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    with inside(second_app):
        people()
        refused = invoke(second_app, "archive", "import", str(evil))
        assert refused.exit_code == 1 and "Traceback" not in refused.output
        assert refused.stderr.startswith("error: bag/../../escaped.txt: This path would write outside the folder")
        assert not (tmp_path / "escaped.txt").exists()
        imported = invoke(second_app, "archive", "import", str(tarball), "--user", "archivo")
        assert imported.exit_code == 0, imported.output
        assert imported.stdout.startswith("imported 2 record(s), 2 document(s), 2 file(s)")
        assert "  created classes: J001, J001/WS" in imported.stdout
        assert "  created correspondents: Junta de Castilla y León" in imported.stdout
        assert [r.code for r in db.session.scalars(select(Record).order_by(Record.code))] == [
            "J001-WS·2026-D10-BGS-0001",
            "J001-WS·2026-D10-BGS-0002",
        ]
        history = db.session.scalar(select(Record.history).order_by(Record.code).limit(1))
        assert history[-1]["by"] == "archivo" and history[-1]["action"] == "archive_record.imported"
        again = invoke(second_app, "archive", "import", str(tarball))
        assert again.exit_code == 1
        assert again.stderr == (
            "error: These records exist already here: J001-WS·2026-D10-BGS-0001, J001-WS·2026-D10-BGS-0002. "
            "Nothing was imported.\n"
        )


def test_a_package_whose_numbers_are_taken_here_is_refused_and_changes_nothing(
    app, fake_clock, store, second_app, tmp_path
):
    small_archive(fake_clock, store)
    exported = exchange.export_records(exchange.Selection(year=2026), tmp_path / "bag", store, organisation="A")
    with inside(second_app) as store_b:
        team = people()
        sender = correspondents.create_correspondent(audit.SYSTEM, name="Otro remitente")
        taken = register_incoming(team["lucia"], sender, store_b, "Registrada aquí", files(("aqui.txt", b"Aqui.")))
        before, kept = state(), stored_files(store_b)
        with pytest.raises(Conflict) as refused, database.writing():
            exchange.import_package(exported.path, store_b, ctx(team["archivo"]))
        assert str(refused.value) == (
            f"These register numbers exist already here: {taken.number}. Nothing was imported."
        )
        assert (state(), stored_files(store_b)) == (before, kept)


def test_a_register_missing_here_is_created_inactive_with_a_pattern_that_gives_back_its_numbers(
    app, fake_clock, store, second_app, tmp_path
):
    built = small_archive(fake_clock, store)
    clerk, archivist = built["team"]["lucia"], built["team"]["archivo"]
    series = registry.create_series(
        audit.SYSTEM, code="GB", name="国办函", direction="incoming", pattern="国办函〔{year}〕{seq}号"
    )
    data = registry.Registration(
        series_id=series.id,
        title="国务院办公厅关于印发通知的函",
        received_at=clock.now() - timedelta(hours=1),
        channel="paper",
        correspondent_id=built["sender"].id,
    )
    letter = act(registry.register_document, ctx(clerk), "incoming", data, [], POLICY, store)
    act(routing.accept, ctx(clerk), letter.id, "information")
    act(routing.close, ctx(clerk), letter.id, result="Leído.")
    # the register's pattern changes later: the package's pattern no longer gives the old number back
    act(registry.update_series, audit.SYSTEM, series.id, {"pattern": "GB-{year}-{seq:4}"})
    record = act(filing.file_document, ctx(archivist), letter.id, built["plan"].kj.id, RULES)
    exported = exchange.export_records([record.id], tmp_path / "bag", store, organisation="A")
    assert letter.number == "国办函〔2026〕1号"
    with inside(second_app) as store_b:
        people()
        report = act(exchange.import_package, exported.path, store_b, audit.SYSTEM)
        assert report.created["series"] == ["GB"] and report.records == ["J001-KJ·2026-D30-BGS-0001"]
        made = db.session.scalar(select(Series).where(Series.code == "GB"))
        assert (made.active, made.direction, made.pattern) == (False, "incoming", "国办函〔{year}〕{seq}号")
        assert db.session.scalar(select(Document.number).where(Document.series_id == made.id)) == "国办函〔2026〕1号"
        history = db.session.scalar(select(Record.history))
        assert history[-1]["by"] is None  # imported from the command line, as the system


def test_export_refuses_no_records_unseen_records_and_a_stored_file_that_was_altered(
    app, fake_clock, store, tmp_path, make_user
):
    built = small_archive(fake_clock, store)
    with pytest.raises(ValidationFailed):
        exchange.export_records(exchange.Selection(year=1999), tmp_path / "none", store, organisation="A")
    with pytest.raises(NotFound):
        exchange.export_records([999999], tmp_path / "none", store, organisation="A")
    outsider = make_user("miron", "staff")  # sees only what is routed to them: none of these records
    with pytest.raises(NotFound):
        exchange.export_records([built["records"][0].id], tmp_path / "none", store, organisation="A", viewer=outsider)
    with pytest.raises(ValidationFailed):
        exchange.export_records(
            exchange.Selection(year=2026), tmp_path / "none", store, organisation="A", viewer=outsider
        )
    assert exchange.selected_ids(exchange.Selection(year=2026), built["team"]["archivo"]) == [
        record.id for record in built["records"]
    ]
    assert not (tmp_path / "none").exists()
    stored = store.path(built["records"][0].files[0].sha256)
    stored.chmod(0o644)
    stored.write_bytes(b"%PDF-1.4 replaced")
    with pytest.raises(Conflict) as refused:
        exchange.export_records(exchange.Selection(year=2026), tmp_path / "out", store, organisation="A")
    assert "was altered" in str(refused.value) and "000-convocatoria.pdf" in str(refused.value)
    assert not (tmp_path / "out").exists()
    stored.unlink()
    with pytest.raises(StoredFileMissing):
        exchange.export_records(exchange.Selection(year=2026), tmp_path / "out", store, organisation="A")
    assert not (tmp_path / "out").exists()


def test_export_of_chosen_records_holds_only_those_and_what_they_name(app, fake_clock, store, tmp_path):
    built = small_archive(fake_clock, store)
    second = built["records"][1]
    exported = exchange.export_records([second.id], tmp_path / "one", store, organisation="Ayuntamiento")
    names = sorted(p.relative_to(exported.path).as_posix() for p in (exported.path / "data").rglob("*") if p.is_file())
    assert names == [
        "data/file-plan.json",
        f"data/records/{second.code}/files/000-考核.pdf",
        f"data/records/{second.code}/metadata.json",
        f"data/records/{second.code}/metadata.xml",
        "data/registers.json",
    ]
    info = bagit.read_info(exported.path)
    assert info["Docstore-Records"] == ["1"] and info["Source-Organization"] == ["Ayuntamiento"]
    assert info["External-Identifier"] == [exported.external_identifier]
    plan = json.loads((exported.path / "data" / "file-plan.json").read_text(encoding="utf-8"))
    assert [entry["path"] for entry in plan["classes"]] == ["J001", "J001/WS"]
