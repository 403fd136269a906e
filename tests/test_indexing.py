"""Keeping the index in step with the database: the queue, the single writer, crashes, rebuilds, check and repair.

Real parts throughout: the test database, the index folder of the test's instance, real PDF and DOCX files from the
shared corpus, and the `flask search ...` commands through click's runner.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from whoosh import index as whoosh_index

import search
from app import create_app
from docstore import audit, correspondents, database, extraction, fulltext, indexing, organisation, registry, routing
from docstore.extensions import db
from docstore.models import Document, SearchQueue, SearchWriter, Series, Task, User
from search.schema import to_fields
from tests.test_registry import _incoming, _register, _upload
from tests.test_routing import act

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "files"
EVERYTHING = search.Access(max_level=3, everything=True)

#: Whoosh's TOC.read leaves a damaged .toc file open when it raises (it has no try/finally); the collector closes
#: it and Python reports it as unraisable. The `collect_garbage` fixture makes that happen inside the test itself.
IGNORE_LEAKED_TOC = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in.*\.toc' mode='rb':pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture
def collect_garbage(caplog):
    """Collect what Whoosh leaked in this test's own teardown (the log records of the failure hold it till then)."""
    yield
    for when in ("setup", "call"):
        caplog.get_records(when).clear()
    gc.collect()


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        db.session.commit()  # a command runs in a context of its own: end the test's transaction (SQLite's lock)
        return runner.invoke(args=list(args), catch_exceptions=False)

    return invoke


def queued() -> set[int]:
    """Return the documents waiting in the queue (one change may queue a document more than once)."""
    db.session.rollback()
    return set(db.session.scalars(select(SearchQueue.document_id)))


def found(app, text: str = "", **filters) -> set[int]:
    request = search.Request(text=text, filters=filters, per_page=200)
    return {hit.id for hit in indexing.index_for(app).search(request, EVERYTHING).hits}


def register(clerk, sender, store, title: str, files=(), **fields) -> int:
    return _register(clerk, _incoming(sender, title=title, **fields), files, store).id


def forget_queue(*document_ids: int) -> None:
    """Drop queued changes without applying them: the index then lags behind the database."""
    db.session.execute(delete(SearchQueue).where(SearchQueue.document_id.in_(document_ids)))
    db.session.commit()


def writer_row() -> SearchWriter:
    db.session.rollback()
    return db.session.get(SearchWriter, 1)


def corrupt_live_generation(app) -> None:
    index = indexing.index_for(app)
    for path in (index.root / index.live_generation()).iterdir():
        path.write_bytes(os.urandom(max(64, path.stat().st_size)))


# --- the queue ------------------------------------------------------------------------------------------------------


def test_every_change_to_a_document_queues_it_in_the_same_transaction(app, clerk, sender, store, index_now):
    ident = register(clerk, sender, store, "Solicitud de subvención", [_upload("nota.txt", b"cuaderno")])
    assert queued() == {ident}
    index_now()
    assert queued() == set()

    registry.update_document(audit.Context(clerk.id), ident, {"title": "Solicitud corregida"})
    assert queued() == {ident}
    index_now()

    assert extraction.drain(store, extraction.Limits(min_seconds=10, max_seconds=30)) == 1
    assert ident in queued()  # the attachment's text arrived
    index_now()

    registry.void_document(audit.Context(clerk.id), ident, "Registrado dos veces")
    assert queued() == {ident}
    index_now()

    document = db.session.get(Document, ident)
    document.title = "Un cambio que no se guarda"
    db.session.flush()
    assert set(db.session.scalars(select(SearchQueue.document_id))) == {ident}  # inside the transaction
    db.session.rollback()
    assert queued() == set()  # rolled back with it
    assert db.session.get(Document, ident).title == "Solicitud corregida"


def test_documents_and_the_text_of_their_attachments_become_searchable(app, clerk, sender, store, index_now):
    files = [  # their texts: "Some text with an embedded font!"; "2006年在职人员攻读硕士学位报考资格审查表 …"
        _upload("oficio.pdf", (CORPUS / "023-pdfkit_compressed.pdf").read_bytes()),
        _upload("solicitud.docx", (CORPUS / "068-2006.docx").read_bytes()),
    ]
    with_files = register(clerk, sender, store, "Convocatoria de becas", files, summary="Plazo de presentación")
    plain = register(clerk, sender, store, "Convocatoria de plazas", sender_reference="REF/2026/77")
    index_now()
    assert found(app, "convocatoria") == {with_files, plain}
    assert found(app, "presentacion") == {with_files}  # the summary
    assert found(app, "ref/2026/77") == {plain}  # the sender's reference, as written
    assert found(app, "oficio") == {with_files}  # an attachment's file name
    assert found(app, "embedded") == set()  # not extracted yet

    assert extraction.drain(store, extraction.Limits(min_seconds=10, max_seconds=30)) == 2
    index_now()
    assert found(app, "embedded font") == {with_files}
    assert found(app, "硕士学位") == {with_files}
    assert found(app, files=("yes",)) == {with_files} and found(app, files=("no",)) == {plain}

    registry.void_document(audit.Context(clerk.id), plain, "Duplicado del anterior")
    index_now()
    assert found(app, "duplicado") == {plain}
    assert found(app, status=("void",)) == {plain}


# --- crashes and a missing index ----------------------------------------------------------------------------------


def test_queued_changes_survive_a_crash_and_are_applied_by_the_next_writer(
    app, settings, tmp_path, clerk, sender, store, index_now
):
    before = register(clerk, sender, store, "Antes del corte")
    index_now()
    after = register(clerk, sender, store, "Después del corte")
    assert queued() == {after}
    db.session.remove()  # the process dies: nothing but the database and the index folder is left
    db.engine.dispose()

    restarted = create_app(settings, instance_path=str(tmp_path / "instance"))
    with restarted.app_context():
        writer = indexing.writer_for(restarted)
        assert writer.turn() is True
        assert queued() == set()
        assert found(restarted, "corte") == {before, after}
        indexing.index_for(restarted).close()
        db.session.remove()
        db.engine.dispose()


def test_a_deleted_index_folder_is_rebuilt_on_the_writers_next_turn(app, clerk, sender, store, index_now):
    idents = {register(clerk, sender, store, f"Expediente {n}") for n in range(3)}
    index_now()
    assert found(app, "expediente") == idents
    shutil.rmtree(app.config["INDEX_DIR"])
    with pytest.raises(search.IndexUnavailable):
        indexing.index_for(app).search(search.Request("expediente"), EVERYTHING)

    assert indexing.writer_for(app).turn() is True
    assert found(app, "expediente") == idents
    assert indexing.writer_for(app).turn() is False  # nothing left to do


# --- one writer -------------------------------------------------------------------------------------------------------


def test_only_one_writer_holds_the_lease_until_it_expires(app, clerk, sender, store, index_now):
    index_now()
    index = indexing.index_for(app)
    first = indexing.Writer(index, app.config, holder="web-1")
    second = indexing.Writer(index, app.config, holder="web-2")
    assert first.acquire()
    assert not second.acquire()
    assert first.acquire()  # renewing its own lease

    ident = register(clerk, sender, store, "Esperando al escritor")
    assert second.turn() is False  # it may not write: the change stays queued
    assert queued() == {ident} and found(app, "escritor") == set()

    db.session.execute(update(SearchWriter).values(expires_at=time.time() - 1))  # web-1 died a minute ago
    db.session.commit()
    assert second.turn() is True
    assert found(app, "escritor") == {ident}
    assert writer_row().holder == ""  # released after its turn
    assert first.acquire() and not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_two_writer_loops_in_parallel_apply_every_change_without_lock_errors(
    app, settings, tmp_path, clerk, sender, store, index_now, caplog
):
    index_now()
    settings["SEARCH_POLL_MS"] = 20
    processes = [create_app(settings, instance_path=str(tmp_path / "instance")) for _ in range(2)]
    stop = threading.Event()
    loops = [threading.Thread(target=indexing.run_forever, args=(p, stop)) for p in processes]
    caplog.set_level(logging.WARNING, logger="docstore.indexing")
    for loop in loops:
        loop.start()
    try:
        with database.writing():  # as a POST request declares it (see docstore.database)
            idents = [register(clerk, sender, store, f"Paralelo {n}") for n in range(12)]
            for ident in idents[::3]:
                registry.update_document(audit.Context(clerk.id), ident, {"title": f"Paralelo editado {ident}"})
        deadline = time.monotonic() + 20
        while (queued() or found(app, "editado") != set(idents[::3])) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        indexing._wake.set()
        for loop in loops:
            loop.join(timeout=10)
        for process in processes:
            with process.app_context():
                indexing.index_for(process).close()
                db.engine.dispose()
    assert not any(loop.is_alive() for loop in loops)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert queued() == set()
    assert found(app, "paralelo") == set(idents)
    assert found(app, "editado") == set(idents[::3])
    report = indexing.check(indexing.index_for(app), app.config)
    assert report.clean and report.documents == report.indexed == 12


def test_a_rebuild_chunk_that_outlasts_the_lease_keeps_it_and_indexes_each_document_once(
    app, settings, tmp_path, clerk, sender, store, index_now, monkeypatch
):
    idents = [register(clerk, sender, store, f"Expediente {n}") for n in range(4)]
    index_now()
    # Renewed every half second, a two-second lease survives a busy machine delaying the renewing thread by more
    # than a second; a second-long one did not (LeaseLost on a runner with a load of 10 on 2 cores).
    monkeypatch.setattr(indexing, "_LEASE_SECONDS", 2.0)
    add = search.Build.add

    def slow_add(build, entries, cursor):
        time.sleep(2.5)  # a chunk of long attachments, or a merge: longer than the lease
        add(build, entries, cursor)

    monkeypatch.setattr(search.Build, "add", slow_add)
    settings["SEARCH_REBUILD_CHUNK"] = 2
    reindexing = create_app(settings, instance_path=str(tmp_path / "instance"))  # `flask search reindex`
    failures = []

    def reindex():
        with reindexing.app_context():
            writer = indexing.writer_for(reindexing)
            assert writer.acquire()
            try:
                writer.rebuild(resume=False)
            except Exception as exc:
                failures.append(exc)
            finally:
                writer.release()
                indexing.index_for(reindexing).close()
                db.session.remove()
                db.engine.dispose()

    db.session.commit()
    thread = threading.Thread(target=reindex)
    thread.start()
    try:
        time.sleep(2.2)  # the lease would have run out during the first chunk
        assert indexing.writer_for(app).turn() is False  # a web process's writer may not resume the same build
    finally:
        thread.join(timeout=30)
    assert failures == []
    hits = indexing.index_for(app).search(search.Request("expediente", per_page=50), EVERYTHING).hits
    assert sorted(hit.id for hit in hits) == idents


def test_an_index_locked_by_another_writer_is_busy_not_broken(app, clerk, sender, store, index_now):
    register(clerk, sender, store, "Primero")
    index_now()
    ident = register(clerk, sender, store, "Segundo")
    index = indexing.index_for(app)
    index.lock_timeout = 0.2
    held = whoosh_index.open_dir(str(index.root / index.live_generation())).writer()  # another writer, mid-merge
    try:
        assert indexing.writer_for(app).turn() is False
    finally:
        held.cancel()
    assert not writer_row().rebuild_requested  # no rebuild of the whole index for a busy lock
    assert queued() == {ident}  # the change waits for the next turn
    assert indexing.writer_for(app).turn() is True
    assert found(app, "segundo") == {ident}


def test_a_change_saved_while_a_rebuild_swaps_generations_does_not_fail_it(app, clerk, sender, store, monkeypatch):
    ident = register(clerk, sender, store, "Circular")
    clerk_id = clerk.id
    indexing.request_rebuild("asked by a test")
    finish = search.Build.finish

    def finish_while_a_clerk_saves(build, *args, **kwargs):
        other = create_app(app.config, instance_path=app.instance_path)  # a web request of another process
        with other.app_context():
            registry.update_document(audit.Context(clerk_id), ident, {"title": "Circular corregida"})
            db.session.remove()
            db.engine.dispose()
        finish(build, *args, **kwargs)

    monkeypatch.setattr(search.Build, "finish", finish_while_a_clerk_saves)
    assert indexing.writer_for(app).turn() is True
    assert not writer_row().rebuild_requested
    assert queued() == set()
    assert found(app, "corregida") == {ident}


def test_the_embedded_writer_makes_a_registered_document_searchable(app, client, clerk, sender, sign_in):
    app.config["SEARCH_WRITER"] = True  # its first request starts the writer thread
    app.config["SEARCH_POLL_MS"] = 50
    series_id = db.session.scalars(select(Series.id).where(Series.code == "IN")).one()
    sender_id = sender.id
    sign_in("lucia")
    try:
        received = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        response = client.post(
            "/documents/new/incoming",
            data={
                "series_id": str(series_id),
                "title": "Petición de archivo vecinal",
                "urgency": "normal",
                "classification": "0",
                "received_at": received,
                "channel": "paper",
                "correspondent_id": str(sender_id),
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        ident = db.session.scalars(select(Document.id).where(Document.title == "Petición de archivo vecinal")).one()
        deadline = time.monotonic() + 10
        hits: set[int] = set()
        while time.monotonic() < deadline:
            try:
                hits = found(app, "vecinal")
            except search.IndexUnavailable:  # the writer is building the first generation
                hits = set()
            if hits:
                break
            time.sleep(0.05)
        assert hits == {ident}
    finally:
        thread = app.extensions.get("docstore_search_writer")
        if thread is not None:
            thread.stop.set()
            indexing._wake.set()
            thread.join(timeout=10)
    assert thread is not None and not thread.is_alive()


# --- a damaged index heals ------------------------------------------------------------------------------------------


@IGNORE_LEAKED_TOC
def test_a_corrupt_index_says_rebuilding_and_heals_while_registering_goes_on(
    app, clerk, sender, store, index_now, collect_garbage
):
    old = register(clerk, sender, store, "Informe anual de archivo")
    index_now()
    clerk_id = clerk.id
    corrupt_live_generation(app)

    user = db.session.get(User, clerk_id)
    outcome = fulltext.run(user, fulltext.Params(text="archivo"), app.config, app)
    assert outcome.rebuilding and outcome.items == [] and outcome.problem is None
    assert writer_row().rebuild_requested

    new = register(db.session.get(User, clerk_id), sender, store, "Informe mensual de archivo")
    assert queued() == {new}

    assert indexing.writer_for(app).turn() is True
    assert not writer_row().rebuild_requested
    outcome = fulltext.run(db.session.get(User, clerk_id), fulltext.Params(text="archivo"), app.config, app)
    assert not outcome.rebuilding
    assert {item.document.id for item in outcome.items} == {old, new}
    assert queued() == set()


def test_a_search_failing_on_a_readable_index_is_reported_and_asks_for_no_rebuild(
    app, clerk, sender, store, index_now, monkeypatch, caplog
):
    register(clerk, sender, store, "Informe anual de archivo")
    index_now()
    calls = []

    def failing(request, access):
        calls.append(request.text)
        raise search.IndexUnavailable("a bug, not a damaged index")

    monkeypatch.setattr(indexing.index_for(app), "_search", failing)
    outcome = fulltext.run(clerk, fulltext.Params(text="archivo"), app.config, app)

    assert outcome.failed and not outcome.rebuilding and outcome.items == []
    assert calls == ["archivo", "archivo"]  # tried once more with a fresh searcher
    assert not writer_row().rebuild_requested  # a 12-minute rebuild would not have helped
    assert "a search failed on a readable index" in caplog.text

    # Searches that keep failing on an index that opens mean damage inside a segment: then it is rebuilt.
    for _ in range(fulltext.REBUILD_AFTER_FAILED_SEARCHES - 2):
        assert fulltext.run(clerk, fulltext.Params(text="archivo"), app.config, app).failed
    assert not writer_row().rebuild_requested
    outcome = fulltext.run(clerk, fulltext.Params(text="archivo"), app.config, app)
    assert outcome.rebuilding and writer_row().rebuild_requested
    monkeypatch.undo()
    assert fulltext.run(clerk, fulltext.Params(text="archivo"), app.config, app).items  # one that works resets
    assert indexing.index_for(app).failed_searches == 0


def test_writes_failing_on_a_readable_index_are_retried_and_only_a_run_of_them_rebuilds(
    app, clerk, sender, store, index_now, monkeypatch
):
    first = register(clerk, sender, store, "Oficio primero")
    index_now()
    second = register(clerk, sender, store, "Oficio segundo")
    writer = indexing.writer_for(app)
    index = writer.index

    def failing(upserts, deletes=()):
        raise search.IndexUnavailable("a segment merged away under a searcher")

    monkeypatch.setattr(index, "apply", failing)
    for _ in range(indexing.REBUILD_AFTER_FAILURES - 1):
        assert writer.turn() is False
        assert not writer_row().rebuild_requested
    assert queued() == {second}  # the change waits in the queue, not lost

    monkeypatch.undo()
    assert writer.turn() is True  # a success resets the count
    assert queued() == set() and found(app, "oficio") == {first, second}

    third = register(clerk, sender, store, "Oficio tercero")
    monkeypatch.setattr(index, "apply", failing)
    for _ in range(indexing.REBUILD_AFTER_FAILURES - 1):
        assert writer.turn() is False
    assert writer.turn() is True
    assert writer_row().rebuild_requested  # the same failure five times in a row: rebuilt next turn
    monkeypatch.undo()
    assert writer.turn() is True
    assert not writer_row().rebuild_requested and found(app, "oficio") == {first, second, third}


# --- check and repair -----------------------------------------------------------------------------------------------


def test_check_reports_missing_stale_and_orphan_entries_and_the_command_repairs_them(
    app, clerk, sender, store, index_now, cli
):
    kept, edited = (register(clerk, sender, store, f"Oficio {n}") for n in range(2))
    index_now()
    registry.update_document(audit.Context(clerk.id), edited, {"title": "Oficio rectificado"})
    missing = register(clerk, sender, store, "Oficio nuevo")
    forget_queue(edited, missing)
    index = indexing.index_for(app)
    index.apply([search.Entry(id=9999, title="Oficio fantasma")])

    report = indexing.check(index, app.config)
    assert (report.missing, report.stale, report.orphans) == ([missing], [edited], [9999])
    assert (report.documents, report.indexed) == (3, 3)
    assert found(app, "oficio") == {kept, edited, 9999}

    result = cli("search", "check", "--no-repair")
    assert result.exit_code == 1
    assert "1 missing, 1 stale, 1 orphan(s)" in result.output
    assert f"missing: {missing}" in result.output and f"stale: {edited}" in result.output
    assert "orphan: 9999" in result.output
    assert not indexing.check(index, app.config).clean  # nothing was repaired

    result = cli("search", "check")
    assert result.exit_code == 0, result.output
    assert "repaired: 3 queued change(s) applied" in result.output
    assert indexing.check(index, app.config).clean
    assert found(app, "oficio") == {kept, edited, missing}
    assert found(app, "rectificado") == {edited}

    result = cli("search", "check", "--no-repair")
    assert result.exit_code == 0
    assert "the index matches the database" in result.output


def test_check_finds_a_document_indexed_twice_and_repair_leaves_one(app, clerk, sender, store, index_now, cli):
    ident = register(clerk, sender, store, "Oficio repetido")
    index_now()
    index = indexing.index_for(app)
    writer = whoosh_index.open_dir(str(index.root / index.live_generation())).writer()
    writer.add_document(**to_fields(indexing.entries_for([ident], 1000)[ident]))  # as two rebuilders leave it
    writer.commit()
    assert index.search(search.Request("repetido"), EVERYTHING).total == 2

    assert indexing.check(index, app.config).stale == [ident]
    result = cli("search", "check")
    assert result.exit_code == 0, result.output
    assert index.search(search.Request("repetido"), EVERYTHING).total == 1


@IGNORE_LEAKED_TOC
def test_check_of_an_unreadable_index_says_to_reindex(app, clerk, sender, store, index_now, cli, collect_garbage):
    register(clerk, sender, store, "Oficio")
    index_now()
    corrupt_live_generation(app)
    result = cli("search", "check")
    assert result.exit_code == 1
    assert "search reindex" in result.output


# --- the commands -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("procs", [1, 2])  # 2: Whoosh's multi-segment writer with worker processes
def test_reindex_resumes_an_interrupted_rebuild_and_fresh_starts_over(app, clerk, sender, store, cli, procs):
    app.config["SEARCH_REBUILD_CHUNK"] = 2
    app.config["SEARCH_REBUILD_PROCS"] = procs
    idents = [register(clerk, sender, store, f"Circular {n}") for n in range(5)]
    index = indexing.index_for(app)
    build = index.start_build(resume=False)  # a rebuild that stopped after its first chunk
    build.add(list(indexing.entries_for(idents[:2], 1000).values()), idents[1])
    del build

    result = cli("search", "reindex")
    assert result.exit_code == 0, result.output
    assert "resuming an interrupted rebuild" in result.output
    assert "indexing documents" in result.output
    assert "done: 3 document(s) indexed; 5 in the index" in result.output
    assert found(app, "circular") == set(idents)
    assert sorted(i for i, _ in index.stamps()) == idents

    result = cli("search", "reindex", "--fresh")
    assert result.exit_code == 0, result.output
    assert "resuming" not in result.output
    assert "done: 5 document(s) indexed; 5 in the index" in result.output

    result = cli("search", "reindex")  # nothing interrupted: a whole rebuild, not a resumption
    assert "resuming" not in result.output and "done: 5 document(s)" in result.output
    assert sorted(i for i, _ in index.stamps()) == idents  # each document once, whatever the processes

    result = cli("search", "reindex", "--procs", "0")
    assert result.exit_code == 2 and "--procs" in result.output


def test_status_shows_the_generation_the_queue_and_health(app, clerk, sender, store, index_now, cli):
    register(clerk, sender, store, "Circular")
    index_now()
    register(clerk, sender, store, "Circular pendiente")
    result = cli("search", "status")
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.output.splitlines())
    assert lines["generation"] == indexing.index_for(app).live_generation()
    assert lines["health"] == "ok"
    assert lines["documents"] == "1"
    assert lines["queued"] == "1"
    assert lines["rebuilding"] == "no"
    assert lines["writer"] == "idle"


# --- names that change elsewhere ----------------------------------------------------------------------------------


def test_a_renamed_correspondent_is_found_under_its_new_name(app, clerk, sender, store, index_now):
    office = organisation.create_department(audit.SYSTEM, code="SG", name="Secretaría General")
    received = {register(clerk, sender, store, f"Requerimiento {n}") for n in range(2)}
    reply = _register(
        clerk,
        registry.Registration(
            series_id=db.session.scalars(select(Series.id).where(Series.code == "OUT")).one(),
            title="Contestación al requerimiento",
            department_id=office.id,
            main_recipients=[("correspondent", sender.id)],
        ),
        store=store,
        direction="outgoing",
    ).id
    other = register(clerk, sender, store, "Otro remitente", correspondent_id=None, new_correspondent_name="Otro")
    index_now()
    assert found(app, 'sender:"Ministerio de Hacienda"') == received

    correspondents.update_correspondent(audit.SYSTEM, sender.id, {"name": "Ministerio de Finanzas"})
    assert queued() == received | {reply}
    assert other not in queued()
    index_now()
    assert found(app, 'sender:"Ministerio de Finanzas"') == received
    assert found(app, 'recipient:"Ministerio de Finanzas"') == {reply}
    assert found(app, '"Ministerio de Hacienda"') == set()


def test_an_edit_of_a_correspondent_that_keeps_its_name_queues_nothing(app, clerk, sender, store, index_now):
    register(clerk, sender, store, "Requerimiento")
    index_now()
    correspondents.update_correspondent(audit.SYSTEM, sender.id, {"address": "Calle de Alcalá 9", "active": False})
    assert queued() == set()  # nothing indexed changed: a busy sender's documents are not all indexed again


def test_a_renamed_department_is_found_under_its_new_name_as_a_recipient(app, clerk, sender, store, index_now):
    office = organisation.create_department(audit.SYSTEM, code="SG", name="Secretaría General")
    memo = _register(
        clerk,
        registry.Registration(
            series_id=db.session.scalars(select(Series.id).where(Series.code == "OUT")).one(),
            title="Nota interior",
            department_id=office.id,
            main_recipients=[("correspondent", sender.id)],
            copy_recipients=[("department", office.id)],
        ),
        store=store,
        direction="outgoing",
    ).id
    index_now()
    assert found(app, 'recipient:"Secretaría General"') == {memo}
    organisation.update_department(audit.SYSTEM, office.id, {"name": "Gabinete de Presidencia"})
    index_now()
    assert found(app, 'recipient:"Gabinete de Presidencia"') == {memo}
    assert indexing.check(indexing.index_for(app), app.config).clean


# --- who handles a document -----------------------------------------------------------------------------------------


def test_a_change_of_who_handles_a_document_queues_it_and_nothing_else_of_routing_does(
    app, clerk, sender, store, index_now, make_user
):
    finance = organisation.create_department(audit.SYSTEM, code="CW", name="Finance")
    director = make_user("director", "leader")
    ana = make_user("ana", "staff", department_id=finance.id)
    bo = make_user("bo", "staff", department_id=finance.id)
    ident = register(clerk, sender, store, "Solicitud de subvención")
    index_now()

    def handlers() -> tuple[str, ...]:
        return indexing.entries_for([ident], 1000)[ident].handlers

    def bo_finds() -> set[int]:
        request = search.Request("subvención")
        return {hit.id for hit in indexing.index_for(app).search(request, fulltext.access_for(bo)).hits}

    act(routing.accept, audit.Context(clerk.id), ident)
    assert queued() == set()  # the item's state is not indexed
    act(routing.instruct, audit.Context(director.id), ident, "Finance.", ("department", finance.id))
    assert queued() == {ident}  # a task was added (a flush)
    assert handlers() == (f"d{finance.id}",)
    index_now()
    assert bo_finds() == {ident}
    (task,) = db.session.scalars(select(Task)).all()
    request = act(routing.request_extension, audit.Context(ana.id), task.id, task.deadline + timedelta(days=7), "x")
    act(routing.decide_extension, audit.Context(clerk.id), request.id, True)
    assert queued() == set()  # a new deadline changes no handler
    act(routing.circulate, audit.Context(clerk.id), ident, [director.id])
    assert queued() == {ident}  # a reader was added
    index_now()
    act(routing.mark_read, audit.Context(director.id), ident)
    assert queued() == set()  # reading changes no handler (an UPDATE statement of another column)
    act(routing.forward_task, audit.Context(ana.id), task.id, bo.id)
    assert queued() == {ident}
    index_now()
    assert handlers() == tuple(sorted([f"u{bo.id}", f"u{director.id}"]))
    act(routing.close, audit.Context(clerk.id), ident, reason="Withdrawn.")
    assert queued() == {ident}  # the open task was cancelled by an UPDATE statement, which no flush sees
    assert handlers() == (f"u{director.id}",)
    index_now()
    assert bo_finds() == set()
    assert indexing.check(indexing.index_for(app), app.config).clean
