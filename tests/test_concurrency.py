"""Concurrent writers, as several web workers would be: the audit chain never forks, nothing is lost."""

from __future__ import annotations

import multiprocessing

from docstore import audit, database
from docstore.extensions import db
from docstore.models import AuditEvent, Department

WORKERS = 4
CHANGES_EACH = 15


def _write_departments(database_url: str, instance: str, worker: int, start) -> int:
    """Create departments from a separate process; return how many succeeded."""
    from app import create_app
    from docstore import organisation
    from tests.conftest import _settings

    application = create_app(_settings(database_url), instance_path=instance)
    start.wait(timeout=30)
    with application.app_context(), database.writing():  # as a POST request or a command would
        for number in range(CHANGES_EACH):
            organisation.create_department(audit.SYSTEM, code=f"W{worker}-{number}", name=f"Worker {worker} #{number}")
        db.engine.dispose()
    return CHANGES_EACH


def test_concurrent_processes_keep_one_unbroken_audit_chain(app, database_url, tmp_path):
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Event()
        with context.Pool(WORKERS) as pool:
            results = [
                pool.apply_async(_write_departments, (database_url, str(tmp_path / f"i{n}"), n, start))
                for n in range(WORKERS)
            ]
            start.set()
            done = [result.get(timeout=120) for result in results]
    assert done == [CHANGES_EACH] * WORKERS
    db.session.expire_all()
    total = WORKERS * CHANGES_EACH
    assert db.session.query(Department).count() == total
    seqs = [seq for (seq,) in db.session.query(AuditEvent.seq).order_by(AuditEvent.seq)]
    assert seqs == list(range(1, total + 1))
    report = audit.verify_chain()
    assert report.intact, report.problems
    assert report.checked == total
