"""Register numbers under real concurrency: many processes, a writer killed mid-registration, gunicorn's workers.

Whatever happens, the numbers of a series are exactly 1..N — no gap, no duplicate — and nothing is half-saved.
Each writer is a separate process with its own app and engine, registering through the real service inside
`database.writing()`, as a POST request does.
"""

from __future__ import annotations

import io
import itertools
import multiprocessing
import random
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from docstore import attachments, audit, correspondents, database, extraction, registry
from docstore.extensions import db
from docstore.models import Attachment, AuditEvent, Document, Series, SeriesCounter
from tests.conftest import PASSWORD, _settings
from tests.http_support import FormClient, gunicorn

POLICY = registry.UploadPolicy(frozenset({"text"}), 1 << 20, "UTC")
PROCESSES, EACH = 6, 25
KILL_WORKERS, KILL_EACH = 3, 15
CLIENTS, POSTS_EACH = 4, 15


@pytest.fixture
def clerk(make_user):
    return make_user("lucia", "clerk")


@pytest.fixture
def sender(app):
    return correspondents.create_correspondent(audit.SYSTEM, name="Ministerio de Hacienda")


# --- what runs in the writer processes ----------------------------------------------------------------------------


def _writer_app(database_url: str, instance: str, files_dir: str):
    """Return an app of its own for a writer process; every writer stores files in the same place."""
    from app import create_app

    return create_app({**_settings(database_url), "FILES_DIR": files_dir}, instance_path=instance)


def _register_incoming(app, clerk_id: int, sender_id: int, title: str) -> Document:
    """Register an incoming document with a small attachment, as the registration form does."""
    series_id = db.session.execute(select(Series.id).where(Series.code == "IN")).scalar_one()
    data = registry.Registration(
        series_id=series_id,
        title=title,
        received_at=datetime.now(UTC) - timedelta(hours=1),
        channel="paper",
        correspondent_id=sender_id,
    )
    note = registry.Upload("note.txt", io.BytesIO(f"{title}\n".encode()))
    return registry.register_document(
        audit.Context(clerk_id), "incoming", data, [note], POLICY, extraction.file_store(app.config)
    )


def _register_many(database_url, instance, files_dir, clerk_id, sender_id, worker, count, start) -> None:
    """Register `count` documents once every writer is ready."""
    app = _writer_app(database_url, instance, files_dir)
    start.wait(timeout=60)
    with app.app_context(), database.writing():
        for n in range(count):
            _register_incoming(app, clerk_id, sender_id, f"worker {worker} #{n}")
        db.engine.dispose()


def _register_until_killed(database_url, instance, files_dir, clerk_id, sender_id, start) -> None:
    """Register documents one after another until the process is killed."""
    app = _writer_app(database_url, instance, files_dir)
    start.wait(timeout=60)
    with app.app_context(), database.writing():
        for n in itertools.count():
            _register_incoming(app, clerk_id, sender_id, f"looping #{n}")


def _register_and_hang(database_url, instance, files_dir, clerk_id, sender_id, number_taken) -> None:
    """Begin a registration and stop inside its transaction, after the number and the rows were written."""
    app = _writer_app(database_url, instance, files_dir)
    add_rows = attachments.add_rows

    def add_rows_and_hang(*args, **kwargs):
        add_rows(*args, **kwargs)
        db.session.flush()  # the document, its attachment row and the counter are written, not committed
        number_taken.set()
        time.sleep(600)

    attachments.add_rows = add_rows_and_hang
    with app.app_context(), database.writing():
        _register_incoming(app, clerk_id, sender_id, "killed while registering")


# --- checks ---------------------------------------------------------------------------------------------------


def _incoming_register() -> list[Document]:
    db.session.expire_all()
    series = db.session.execute(select(Series).where(Series.code == "IN")).scalar_one()
    query = select(Document).where(Document.series_id == series.id).order_by(Document.seq)
    return list(db.session.execute(query).scalars())


def assert_numbered_one_to_n(documents: list[Document]) -> None:
    """Check that the documents are numbered 1..N in one year, formatted, and the counter stands at N."""
    total = len(documents)
    year = documents[0].year
    assert [d.seq for d in documents] == list(range(1, total + 1))
    assert sorted(d.number for d in documents) == [f"IN-{year}-{n:06d}" for n in range(1, total + 1)]
    counter = db.session.get(SeriesCounter, (documents[0].series_id, year))
    assert counter.last_value == total  # a number taken by a transaction that died was given back


def assert_nothing_half_saved(documents: list[Document], store) -> None:
    """Check that every document has its audit event and its attachment, and nothing refers to a missing row."""
    registered = db.session.execute(
        select(AuditEvent.object_id).where(AuditEvent.action == "document.register")
    ).scalars()
    assert sorted(registered, key=int) == [str(d.id) for d in sorted(documents, key=lambda d: d.id)]
    rows = db.session.execute(select(Attachment)).scalars().all()
    assert sorted(row.document_id for row in rows) == sorted(d.id for d in documents)  # one each, no orphan
    assert all(store.exists(row.sha256) for row in rows)
    report = audit.verify_chain()
    assert report.intact, report.problems


# --- the tests ------------------------------------------------------------------------------------------------


def _spawn(context, processes: list, target, *args):
    process = context.Process(target=target, args=args, daemon=True)
    process.start()
    processes.append(process)
    return process


def _stop_all(processes: list) -> None:
    for process in processes:
        if process.is_alive():
            process.kill()
        process.join(timeout=10)


def test_processes_registering_at_once_get_numbers_one_to_n(app, database_url, tmp_path, clerk, sender):
    clerk_id, sender_id, files_dir = clerk.id, sender.id, app.config["FILES_DIR"]
    db.session.commit()
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    processes: list = []
    try:
        for n in range(PROCESSES):
            args = (database_url, str(tmp_path / f"w{n}"), files_dir, clerk_id, sender_id, n, EACH, start)
            _spawn(context, processes, _register_many, *args)
        for process in processes:
            process.join(timeout=120)
    finally:
        _stop_all(processes)
    assert [process.exitcode for process in processes] == [0] * PROCESSES

    documents = _incoming_register()
    assert len(documents) == PROCESSES * EACH
    assert_numbered_one_to_n(documents)
    assert_nothing_half_saved(documents, extraction.file_store(app.config))


def test_a_writer_killed_mid_registration_gives_its_number_back(app, database_url, tmp_path, clerk, sender):
    clerk_id, sender_id, files_dir = clerk.id, sender.id, app.config["FILES_DIR"]
    db.session.commit()
    context = multiprocessing.get_context("spawn")
    number_taken = context.Event()
    start = context.Barrier(KILL_WORKERS + 2)  # the workers, the looping writer and this test
    processes: list = []

    def writer_args(name: str) -> tuple:
        return (database_url, str(tmp_path / name), files_dir, clerk_id, sender_id)

    try:
        hanging = _spawn(context, processes, _register_and_hang, *writer_args("hanging"), number_taken)
        workers = [
            _spawn(context, processes, _register_many, *writer_args(f"w{n}"), n, KILL_EACH, start)
            for n in range(KILL_WORKERS)
        ]
        looping = _spawn(context, processes, _register_until_killed, *writer_args("looping"), start)
        assert number_taken.wait(timeout=60), "the hanging writer never took its number"
        start.wait(timeout=60)
        time.sleep(0.3)  # the others are now queued behind the hanging transaction
        hanging.kill()  # SIGKILL: no rollback, no goodbye; the database must undo it alone
        hanging.join(timeout=10)
        time.sleep(random.uniform(0.1, 1.0))
        looping.kill()  # wherever it is: waiting, storing the file, inside its transaction or committing
        for process in workers:
            process.join(timeout=120)
    finally:
        _stop_all(processes)
    assert hanging.exitcode == -signal.SIGKILL
    assert [process.exitcode for process in workers] == [0] * KILL_WORKERS

    with database.writing():
        last = _register_incoming(app, clerk_id, sender_id, "after the kills")
    documents = _incoming_register()
    titles = [d.title for d in documents]
    assert "killed while registering" not in titles
    assert sum(title.startswith("worker ") for title in titles) == KILL_WORKERS * KILL_EACH
    assert last.seq == len(documents)
    assert_numbered_one_to_n(documents)
    assert_nothing_half_saved(documents, extraction.file_store(app.config))


def _post_registrations(port: int, series_id: int, sender_id: int, client: int) -> list[tuple[int, str]]:
    """Sign in as the clerk, then post the incoming registration form `POSTS_EACH` times; return (status, Location)."""
    browser = FormClient(port)
    try:
        browser.sign_in("lucia", PASSWORD)
        token = browser.csrf_token("/documents/new/incoming")
        results = []
        for n in range(POSTS_EACH):
            title = f"client {client} #{n}"
            fields = {
                "csrf_token": token,
                "series_id": str(series_id),
                "title": title,
                "urgency": "normal",
                "classification": "0",
                "received_at": (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
                "channel": "paper",
                "correspondent_id": str(sender_id),
            }
            files = [("attachments", "note.txt", f"{title}\n".encode())]
            status, location, _text = browser.post_form("/documents/new/incoming", fields, files)
            results.append((status, location))
        return results
    finally:
        browser.close()


def test_registration_forms_posted_to_gunicorn_workers_at_once_get_numbers_one_to_n(
    app, database_url, tmp_path, clerk, sender
):
    series_id = db.session.execute(select(Series.id).where(Series.code == "IN")).scalar_one()
    sender_id = sender.id
    db.session.commit()
    instance = tmp_path / "served"
    instance.mkdir()
    env = {
        "DOCSTORE_DATABASE_URL": database_url,
        "DOCSTORE_SECURE_COOKIES": "0",
        "DOCSTORE_EXTRACTION_WORKER": "0",
        "DOCSTORE_SECRET_KEY": "numbering-concurrency-test",
        "DOCSTORE_FILES_DIR": app.config["FILES_DIR"],
    }
    spec = f"app:create_app(instance_path={str(instance)!r})"
    with gunicorn(spec, env, workers=3, log_path=tmp_path / "gunicorn.log") as port:
        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [pool.submit(_post_registrations, port, series_id, sender_id, n) for n in range(CLIENTS)]
            results = [result for future in futures for result in future.result(timeout=120)]
    assert [status for status, _location in results] == [302] * CLIENTS * POSTS_EACH
    assert all(location.startswith("/documents/") for _status, location in results)

    documents = _incoming_register()
    assert len(documents) == CLIENTS * POSTS_EACH
    assert_numbered_one_to_n(documents)
    assert_nothing_half_saved(documents, extraction.file_store(app.config))
