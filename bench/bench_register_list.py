"""Latency of the register list (/documents/) at 100,000 documents, its SQL statements per page, and its query plans.

The documents are bulk-inserted with core INSERTs (eight years, three registers, senders, departments, types,
urgencies, a few void), not through the service; the reference data (departments, senders) goes through the
services. The pages are then requested through the Flask test client as a signed-in clerk who sees everything:

- p50 / p95 latency of each variant of the page (filters, sorts, a deep page, a text search);
- the number of SQL statements per page request at 10, 25 and 100 rows per page: it must not grow with the page
  size (that would be an N+1: one query per row);
- the plan of every statement of the main variants that reads the `document` table (EXPLAIN QUERY PLAN on SQLite,
  EXPLAIN ANALYZE on PostgreSQL), so that a full scan or a sort of the whole table shows.

With --without-indexes the indexes that serve the register views' orders are dropped afterwards and everything
is measured again, to show what they are worth.
PostgreSQL's statistics are refreshed with ANALYZE after loading (as autovacuum would); SQLite gets no ANALYZE,
as the app never runs one. Figures are printed, nothing is asserted about them.

    .venv/bin/python bench/bench_register_list.py [--documents 100000] [--requests 20] [--without-indexes]
                                                  [--postgres-url URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script (make bench): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from sqlalchemy import event

from app import create_app
from bench.support import (
    DEFAULT_POSTGRES_URL,
    add_clerk,
    describe_machine,
    migrate,
    percentile,
    postgres_problem,
    print_table,
    scratch_database,
)
from docstore import audit, correspondents, organisation
from docstore.extensions import db
from docstore.models import Document, DocumentType, Series, SeriesCounter

FIRST_YEAR, LAST_YEAR = 2019, 2026
BATCH = 5_000
DEPARTMENTS, SENDERS = 20, 300
WORDS = (
    "solicitud informe oficio notificación resolución acuerdo certificado contrato subvención licencia obras "
    "expediente recurso alegaciones presupuesto personal convocatoria padrón tributos urbanismo medio ambiente "
    "通知 报告 请示 批复 函 纪要"
).split()
#: The indexes (migration 0002) that serve the ORDER BY of registry.SORTS; --without-indexes drops them.
VIEW_INDEXES = ("ix_document_year_seq", "ix_document_registered_at", "ix_document_deadline")
READS_DOCUMENT = re.compile(r"\bFROM document\b")
SQL_VERB = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)


# --- loading ------------------------------------------------------------------------------------------------------


def load(database_url: str, folder: Path, documents: int) -> tuple:
    """Migrate, add the reference data through the services and the documents with core INSERTs.

    Return (app, clerk password, incoming series id).
    """
    migrate(database_url, folder / "migrate")
    settings = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench",
        "SECURE_COOKIES": False,
        "WTF_CSRF_ENABLED": False,
        "EXTRACTION_WORKER": False,
    }
    app = create_app(settings, instance_path=str(folder / "instance"))
    with app.app_context():
        clerk_id, password = add_clerk()
        departments = [
            organisation.create_department(audit.SYSTEM, code=f"D{n:02d}", name=f"Departamento {n}").id
            for n in range(DEPARTMENTS)
        ]
        senders = [
            correspondents.create_correspondent(audit.SYSTEM, name=f"Ayuntamiento {n}").id for n in range(SENDERS)
        ]
        types = list(db.session.execute(sa.select(DocumentType.id)).scalars())
        series = {row.code: (row.id, row.direction) for row in db.session.execute(sa.select(Series)).scalars()}
        db.session.commit()
        started = time.perf_counter()
        counters = _insert_documents(documents, clerk_id, departments, senders, types, series)
        db.session.execute(
            sa.insert(SeriesCounter),
            [{"series_id": s, "year": y, "last_value": value} for (s, y), value in counters.items()],
        )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        print(f"  loaded {documents:,} documents in {time.perf_counter() - started:.1f} s")
        in_series = series["IN"][0]
    return app, password, in_series


def _insert_documents(total: int, clerk_id: int, departments, senders, types, series) -> dict:
    """Insert `total` documents in registration order, in batches; return the counters (series, year) -> last."""
    rng = random.Random(20261127)  # the same documents every run
    start = datetime(FIRST_YEAR, 1, 2, 8, tzinfo=UTC)
    step = (datetime(LAST_YEAR, 11, 20, tzinfo=UTC) - start) / total
    codes = rng.choices(["IN", "OUT", "INT"], weights=[60, 30, 10], k=total)
    counters: dict[tuple[int, int], int] = {}
    table = Document.__table__
    batch = []
    for n in range(total):
        registered_at = start + step * n
        series_id, direction = series[codes[n]]
        year = registered_at.year
        seq = counters[(series_id, year)] = counters.get((series_id, year), 0) + 1
        void = rng.random() < 0.02
        incoming = direction == "incoming"
        batch.append(
            {
                "series_id": series_id,
                "year": year,
                "seq": seq,
                "number": f"{codes[n]}-{year}-{seq:06d}",
                "direction": direction,
                "status": "void" if void else "registered",
                "registered_at": registered_at,
                "registered_by_id": clerk_id,
                "received_at": registered_at - timedelta(hours=2) if incoming else None,
                "channel": rng.choice(["paper", "email", "portal"]) if incoming else None,
                "correspondent_id": rng.choice(senders) if incoming else None,
                "sender_reference": f"REF-{rng.randrange(10**6)}" if incoming else "",
                "sender_date": (registered_at - timedelta(days=3)).date() if incoming else None,
                "title": " ".join(rng.choices(WORDS, k=rng.randrange(3, 9))).capitalize(),
                "document_type_id": rng.choice(types),
                "urgency": rng.choices(["normal", "urgent", "extra_urgent"], weights=[80, 15, 5])[0],
                "classification": rng.choices([0, 1, 2, 3], weights=[80, 15, 4, 1])[0],
                "pages": rng.randrange(1, 40),
                "copies": 1,
                "department_id": rng.choice(departments) if rng.random() < 0.8 else None,
                "deadline": registered_at.date() + timedelta(days=rng.randrange(5, 60)) if rng.random() < 0.3 else None,
                "summary": "",
                "notes": "",
                "document_date": (registered_at - timedelta(days=1)).date() if not incoming else None,
                "void_reason": "Registrado por error" if void else "",
                "voided_at": registered_at + timedelta(hours=1) if void else None,
                "voided_by_id": clerk_id if void else None,
            }
        )
        if len(batch) == BATCH:
            db.session.execute(sa.insert(table), batch)
            batch = []
    if batch:
        db.session.execute(sa.insert(table), batch)
    return counters


# --- measuring ----------------------------------------------------------------------------------------------------


@contextmanager
def recorded_statements(engine):
    """Collect (statement, parameters) of every SQL statement `engine` runs inside the block."""
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        if SQL_VERB.match(statement):  # not BEGIN, PRAGMA or SAVEPOINT
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def variants(in_series: int, documents: int) -> list[tuple[str, str]]:
    year = LAST_YEAR - 1
    middle = max(1, documents // 25 // 2)
    return [
        ("default: number, newest first", "/documents/"),
        ("year + urgency + status", f"/documents/?year={year}&urgency=urgent&status=registered"),
        ("one register, one year", f"/documents/?series={in_series}&year={year}"),
        ("sort: number, oldest first", "/documents/?sort=number"),
        ("sort: registered, newest first", "/documents/?sort=-registered"),
        ("sort: registered, oldest first", "/documents/?sort=registered"),
        ("sort: title", "/documents/?sort=title"),
        ("sort: deadline", "/documents/?sort=deadline"),
        (f"page {middle:,} (offset {(middle - 1) * 25:,})", f"/documents/?page={middle}"),
        ("text search 'licencia'", "/documents/?q=licencia"),
    ]


def time_pages(app, client, in_series: int, args) -> list[list]:
    """Return one table row per variant of the page: p50, p95, statements."""
    rows = []
    for label, url in variants(in_series, args.documents):
        for _ in range(2):  # warm-up: caches, compiled templates, the database's pages
            _get(client, url)
        latencies = []
        for _ in range(args.requests):
            began = time.perf_counter()
            _get(client, url)
            latencies.append((time.perf_counter() - began) * 1000)
        with app.app_context():
            engine = db.engine
        with recorded_statements(engine) as statements:
            _get(client, url)
        rows.append([label, f"{percentile(latencies, 0.5):.1f}", f"{percentile(latencies, 0.95):.1f}", len(statements)])
    return rows


def statements_by_page_size(app, client) -> list[int]:
    """Return the number of SQL statements of /documents/ at 10, 25 and 100 rows per page."""
    counts = []
    with app.app_context():
        engine = db.engine
    default = app.config["PAGE_SIZE"]
    try:
        for size in (10, 25, 100):
            app.config["PAGE_SIZE"] = size
            _get(client, "/documents/")
            with recorded_statements(engine) as statements:
                _get(client, "/documents/")
            counts.append(len(statements))
    finally:
        app.config["PAGE_SIZE"] = default
    return counts


def print_plans(app, client, label: str, url: str) -> None:
    """Print the plan of every statement of the page at `url` that reads the document table."""
    with app.app_context():
        engine = db.engine
    with recorded_statements(engine) as statements:
        _get(client, url)
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    print(f"\n  The {len(statements)} statements of {label} ({url}):")
    for number, (statement, _parameters) in enumerate(statements, 1):
        print(f"    {number:2d}. {_shorten(statement)}")
    print("\n  Plans of those that read the document table:")
    with engine.connect() as connection:
        for statement, parameters in statements:
            if not READS_DOCUMENT.search(statement):
                continue
            print("    SQL: " + _shorten(statement))
            rows = connection.exec_driver_sql(explain + statement, parameters).all()
            for row in rows:
                if engine.dialect.name == "sqlite":
                    print(f"      {row[3]}")  # (id, parent, notused, detail)
                else:
                    print(f"      {row[0]}")


def _shorten(statement: str, width: int = 110) -> str:
    flat = " ".join(statement.split())
    flat = re.sub(r"SELECT document\.id, .*? FROM document", "SELECT document.* FROM document", flat)
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _get(client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")


def measure(kind: str, args) -> None:
    name = "SQLite" if kind == "sqlite" else "PostgreSQL"
    print(f"\n=== {name}: {args.documents:,} documents ===")
    with scratch_database(kind, args.postgres_url) as (database_url, folder):
        app, password, in_series = load(database_url, folder, args.documents)
        client = app.test_client()
        if client.post("/sign-in", data={"username": "clerk", "password": password}).status_code != 302:
            raise RuntimeError("the clerk could not sign in")
        report(app, client, in_series, args, "as migrated (0001, 0002)")
        if args.without_indexes:
            with app.app_context():
                with db.engine.begin() as connection:
                    for name in VIEW_INDEXES:
                        connection.exec_driver_sql(f"DROP INDEX {name}")
                if kind == "postgresql":
                    with db.engine.connect() as connection:
                        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE document")
            report(app, client, in_series, args, "without " + ", ".join(VIEW_INDEXES))
        with app.app_context():
            db.engine.dispose()


def report(app, client, in_series: int, args, schema: str) -> None:
    print(f"\n  Schema: {schema}. {args.requests} requests per variant, 25 rows per page.")
    print_table(["page variant", "p50 ms", "p95 ms", "SQL statements"], time_pages(app, client, in_series, args))
    counts = statements_by_page_size(app, client)
    verdict = "constant: no N+1" if len(set(counts)) == 1 else "GROWS WITH THE PAGE SIZE: an N+1"
    print(f"\n  SQL statements per /documents/ request at 10 / 25 / 100 rows: {' / '.join(map(str, counts))}")
    print(f"  ({verdict})")
    print_plans(app, client, "the default page", "/documents/")
    print_plans(app, client, "year + urgency + status", variants(in_series, args.documents)[1][1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000, help="documents to load (default 100000)")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page variant (default 20)")
    parser.add_argument(
        "--without-indexes", action="store_true", help="measure again without the register views' indexes"
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="server to create a database in")
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
    args = parser.parse_args()
    print(f"Machine: {describe_machine()}")
    kinds = ["sqlite"]
    if args.no_postgres:
        print("PostgreSQL: skipped (--no-postgres)")
    elif problem := postgres_problem(args.postgres_url):
        print(f"PostgreSQL: skipped, {args.postgres_url} is unreachable ({problem})")
    else:
        kinds.append("postgresql")
    for kind in kinds:
        measure(kind, args)


if __name__ == "__main__":
    main()
