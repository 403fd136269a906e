"""What the benchmarks share: throw-away migrated databases (SQLite and PostgreSQL), measured child processes,
percentiles and tables.

Not a benchmark itself (`make bench` runs bench/bench_*.py only).
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from docstore import accounts, audit
from docstore.extensions import db

#: The PostgreSQL server the benchmarks create their databases in (the same default as `make test`).
DEFAULT_POSTGRES_URL = os.environ.get(
    "DOCSTORE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def describe_machine() -> str:
    """Return the core count and load average, printed with the figures: other work on the machine skews them."""
    one, five, _fifteen = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.1f} (1 min) / {five:.1f} (5 min) at start"


def postgres_problem(server_url: str) -> str | None:
    """Return why the PostgreSQL server at `server_url` cannot be used, or None when it can."""
    engine = sa.create_engine(server_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect():
            return None
    except sa.exc.OperationalError as exc:
        return str(exc.orig).strip().splitlines()[0]
    finally:
        engine.dispose()


@contextmanager
def scratch_database(
    kind: str, postgres_url: str = DEFAULT_POSTGRES_URL, keep: Path | None = None
) -> Iterator[tuple[str, Path]]:
    """Create an empty database of `kind` ("sqlite" or "postgresql") and a temporary folder; drop both afterwards.

    Yield (database URL, folder). PostgreSQL: a database of its own is created on the server and dropped with
    FORCE, even when the benchmark fails. With `keep` (SQLite only), the folder is that new folder, left in place
    with the database, the index and the logs for a look afterwards.
    """
    if keep is not None:
        keep.mkdir(parents=True)
    with (
        nullcontext(str(keep)) if keep is not None else tempfile.TemporaryDirectory(prefix="docstore-bench-") as folder
    ):
        if kind == "sqlite":
            yield f"sqlite:///{Path(folder) / 'docstore.sqlite3'}", Path(folder)
            return
        server = make_url(postgres_url)
        name = f"docstore_bench_{secrets.token_hex(4)}"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield server.set(database=name).render_as_string(hide_password=False), Path(folder)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def migrate(database_url: str, instance: Path) -> None:
    """Build the schema with the real migrations."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench"}, instance_path=str(instance))
    logging.disable(logging.INFO)  # Alembic announces every revision; the figures are what matters here
    try:
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            db.engine.dispose()
    finally:
        logging.disable(logging.NOTSET)


def add_clerk(username: str = "clerk") -> tuple[int, str]:
    """Create a clerk who sees every document (in the current app context); return the id and a fresh password."""
    password = secrets.token_urlsafe(16)
    user = accounts.create_user(
        audit.SYSTEM,
        username=username,
        full_name=username.title(),
        password=password,
        password_min_length=10,
        roles=["clerk"],
        clearance=3,
    )
    return user.id, password


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which `fraction` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def print_table(headers: list[str], rows: list[list]) -> None:
    """Print rows under headers, aligned: the first column to the left, the figures to the right."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [max(len(headers[i]), *(len(row[i]) for row in cells)) for i in range(len(headers))]

    def line(values: list[str]) -> str:
        first, *others = values
        return "  ".join([first.ljust(widths[0]), *(v.rjust(w) for v, w in zip(others, widths[1:], strict=True))])

    print(line(headers))
    print(line(["-" * width for width in widths]))
    for row in cells:
        print(line(row))


@dataclass(frozen=True)
class Measured:
    """How a child process went: its exit status, wall-clock seconds and peak memory (RSS high-water mark)."""

    returncode: int
    seconds: float
    peak_rss_mb: float


#: Run the command given after the file name, then write the command's peak RSS (KiB) into that file. Started from
#: this small process, the command's figure leaves out the benchmark's own memory: a child the benchmark starts
#: directly inherits its high-water mark, as Linux keeps that of the process an exec replaces.
_TRAMPOLINE = """
import os, sys
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_pid, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_measured(
    command: list[str], output: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Measured:
    """Run `command` with its output (stdout and stderr) in the file `output`; return a `Measured`.

    The peak RSS is the kernel's figure for the command and the descendants it waited for (wait4), so a command
    that forks workers (Whoosh's procs=2) reports the largest of them; the benchmark's own memory never counts.
    """
    rss_file = output.with_name(output.name + ".rss")
    with open(output, "wb") as sink:
        began = time.perf_counter()
        returncode = subprocess.call(
            [sys.executable, "-c", _TRAMPOLINE, str(rss_file), *command],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )
        seconds = time.perf_counter() - began
    return Measured(returncode, seconds, int(rss_file.read_text()) / 1024)  # ru_maxrss is in KiB on Linux


def held_mb() -> float:
    """Return the resident memory after the garbage collector and glibc's malloc_trim: what the process still holds.

    python-docx parses with lxml, whose libxml2 allocations glibc keeps as free memory inside the process after
    they are released; plain RSS then creeps up with or without a leak. Trimming returns that memory, so a leak shows
    as growth here and fragmentation does not.
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # not glibc: plain RSS it is
        pass
    return rss_mb()


def rss_mb() -> float:
    """Return this process's resident memory in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
