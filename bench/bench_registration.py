"""Registrations per second through the real HTTP stack, against a bare insert through the same stack.

gunicorn (sync workers: 1, then 4) serves Docstore on 127.0.0.1. Client threads sign in as a clerk and post the
incoming registration form — multipart, with a small text attachment, the CSRF token from the form page — as a
browser does (the redirect that follows is not fetched). The baseline, measured in the same run against the same
server and database, is a POST to a route only this benchmark adds: it inserts one row into a scratch table through
the same engine and session (on SQLite: WAL, BEGIN IMMEDIATE for a POST) and answers 204 — no sign-in, no CSRF, no
form, no template. The ratio, registrations/s ÷ bare inserts/s, is the share of the bare write rate that
registering keeps (0.2: a registration costs as much as five bare writes). The two are timed in alternating rounds,
so that other work on the machine weighs on both alike.

Every configuration gets a fresh database (PostgreSQL: created on the server and dropped afterwards); after the run
the numbers taken are checked to be 1..N. Figures are printed, nothing is asserted about them.

    .venv/bin/python bench/bench_registration.py [--requests 240] [--clients 8] [--attachment-bytes 700]
                                                [--postgres-url URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script (make bench): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

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
from docstore import audit, correspondents
from docstore.extensions import csrf, db
from docstore.models import Document, Series
from tests.http_support import FormClient, gunicorn

WORKER_COUNTS = (1, 4)
#: Timed requests are sent in this many alternating rounds of bare inserts and registrations (medians reported).
ROUNDS = 3
#: The baseline's table: created by the benchmark in its own database, never by the app's migrations.
SCRATCH = sa.Table(
    "bench_scratch",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("note", sa.String(100), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


def create_bench_app(instance_path: str):
    """Return Docstore's app plus POST /bench/bare-insert, which inserts one row and answers 204 (gunicorn's target)."""
    app = create_app(instance_path=instance_path)

    @csrf.exempt
    def bare_insert():
        db.session.execute(SCRATCH.insert().values(note="bare insert", at=datetime.now(UTC)))
        db.session.commit()
        return "", 204

    app.add_url_rule("/bench/bare-insert", endpoint="bench_bare_insert", view_func=bare_insert, methods=["POST"])
    return app


def prepare(database_url: str, folder: Path) -> tuple[int, int, str]:
    """Migrate, add a clerk, a sender and the scratch table; return the incoming series, the sender, the password."""
    migrate(database_url, folder / "migrate")
    settings = {"DATABASE_URL": database_url, "SECRET_KEY": "bench", "EXTRACTION_WORKER": False}
    app = create_app(settings, instance_path=str(folder / "setup"))
    with app.app_context():
        _clerk_id, password = add_clerk()
        sender = correspondents.create_correspondent(audit.SYSTEM, name="Ministerio de Hacienda")
        series_id = db.session.execute(sa.select(Series.id).where(Series.code == "IN")).scalar_one()
        sender_id = sender.id
        db.session.commit()
        SCRATCH.create(db.engine)
        db.engine.dispose()
    return series_id, sender_id, password


def numbers_are_one_to_n(database_url: str) -> tuple[bool, int]:
    """Return whether the registered numbers are exactly 1..N, and N."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        seqs = list(connection.execute(sa.select(Document.seq).order_by(Document.seq)).scalars())
    engine.dispose()
    return seqs == list(range(1, len(seqs) + 1)), len(seqs)


def drive(clients: list[FormClient], total: int, send: Callable[[FormClient, int], None]) -> tuple[float, list[float]]:
    """Send `total` requests spread over `clients` all at once; return requests per second and each latency (s)."""
    shares = [total // len(clients) + (i < total % len(clients)) for i in range(len(clients))]
    start = threading.Barrier(len(clients) + 1)

    def run(client: FormClient, share: int) -> list[float]:
        start.wait()
        latencies = []
        for n in range(share):
            began = time.perf_counter()
            send(client, n)
            latencies.append(time.perf_counter() - began)
        return latencies

    with ThreadPoolExecutor(len(clients)) as pool:
        futures = [pool.submit(run, client, share) for client, share in zip(clients, shares, strict=True)]
        start.wait()
        began = time.perf_counter()
        latencies = [latency for future in futures for latency in future.result()]
        elapsed = time.perf_counter() - began
    return total / elapsed, latencies


def bare_insert(client: FormClient, _n: int) -> None:
    status, _location, text = client.request("POST", "/bench/bare-insert")
    if status != 204:
        raise RuntimeError(f"bare insert answered {status}: {text[:300]}")


def registration_sender(
    series_id: int, sender_id: int, tokens: dict[int, str], attachment_bytes: int
) -> Callable[[FormClient, int], None]:
    """Return a function that posts one incoming registration from a client (with the client's CSRF token)."""
    filler = (b"texto de relleno " * (attachment_bytes // 17 + 1))[:attachment_bytes]

    def register(client: FormClient, n: int) -> None:
        title = f"Solicitud {id(client)}-{n}"
        fields = {
            "csrf_token": tokens[id(client)],
            "series_id": str(series_id),
            "title": title,
            "urgency": "normal",
            "classification": "0",
            "received_at": (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "channel": "paper",
            "correspondent_id": str(sender_id),
        }
        files = [("attachments", "oficio.txt", f"{title}\n".encode() + filler)]
        status, _location, text = client.post_form("/documents/new/incoming", fields, files)
        if status != 302:
            raise RuntimeError(f"registration answered {status}: {text[:300]}")

    return register


def measure(kind: str, workers: int, args) -> list:
    """Run one configuration; return its row of the table."""
    with scratch_database(kind, args.postgres_url) as (database_url, folder):
        series_id, sender_id, password = prepare(database_url, folder)
        instance = folder / "served"
        instance.mkdir()
        env = {
            "DOCSTORE_DATABASE_URL": database_url,
            "DOCSTORE_SECURE_COOKIES": "0",
            "DOCSTORE_EXTRACTION_WORKER": "0",
            "DOCSTORE_SECRET_KEY": "bench-secret-key",
        }
        spec = f"bench.bench_registration:create_bench_app({str(instance)!r})"
        with gunicorn(spec, env, workers, folder / "gunicorn.log") as port:
            clients = [FormClient(port) for _ in range(args.clients)]
            tokens = {}
            for client in clients:
                client.sign_in("clerk", password)
                tokens[id(client)] = client.csrf_token("/documents/new/incoming")
            register = registration_sender(series_id, sender_id, tokens, args.attachment_bytes)
            drive(clients, 2 * len(clients), bare_insert)  # warm-up: every worker has served both kinds
            drive(clients, 2 * len(clients), register)
            bare_rates, bare_latencies, rates, latencies = [], [], [], []
            for _round in range(ROUNDS):  # alternated, so that a change in the machine's load hits both alike
                bare_rate, some = drive(clients, args.requests // ROUNDS, bare_insert)
                bare_rates.append(bare_rate)
                bare_latencies += some
                rate, some = drive(clients, args.requests // ROUNDS, register)
                rates.append(rate)
                latencies += some
            bare_rate, rate = statistics.median(bare_rates), statistics.median(rates)
            for client in clients:
                client.close()
        consecutive, total = numbers_are_one_to_n(database_url)
    return [
        "SQLite" if kind == "sqlite" else "PostgreSQL",
        workers,
        f"{bare_rate:,.0f}",
        f"{rate:,.1f}",
        f"{rate / bare_rate:.3f}",
        f"{percentile(bare_latencies, 0.5) * 1000:.1f} / {percentile(bare_latencies, 0.95) * 1000:.1f}",
        f"{percentile(latencies, 0.5) * 1000:.1f} / {percentile(latencies, 0.95) * 1000:.1f}",
        f"1..{total}" if consecutive else "GAP OR DUPLICATE",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=240, help="timed requests per measurement (default 240)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client connections (default 8)")
    parser.add_argument(
        "--attachment-bytes", type=int, default=700, help="size of the text file attached to each registration"
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
    print(
        f"Registration through gunicorn on 127.0.0.1: {args.requests} timed requests per figure in {ROUNDS} "
        "alternating rounds (median rate of the rounds), "
        f"{args.clients} concurrent clients, one {args.attachment_bytes:,}-byte text attachment per registration."
    )
    rows = [measure(kind, workers, args) for kind in kinds for workers in WORKER_COUNTS]
    print_table(
        [
            "database",
            "workers",
            "bare inserts/s",
            "registrations/s",
            "ratio to bare insert",
            "bare p50/p95 ms",
            "registration p50/p95 ms",
            "numbers",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
