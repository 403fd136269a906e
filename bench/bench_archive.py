"""The archive at scale: `archive verify` over 100,000 stored files against `sha256sum` on the same files.

Sections (--section, repeatable; all of them by default):

- verify: --files stored files (default 100,000) of random bytes are written straight into a file store under a
  temporary folder, laid out as `storage.FileStore` lays them out (read-only, under their SHA-256), with sizes
  spread log-uniformly over a range of --spread (largest ÷ smallest) and scaled so that they add up to --total-mb
  (default 2,048 MB: 20 KB a file on average, median about 4 KB, from 0.1 KB to 140 KB). Each file becomes one
  document with one attachment row, bulk-inserted with core INSERTs. Then, in alternating rounds (--rounds),
  `sha256sum` hashes the files in batches of 1,000 paths per process, one after another (as `xargs -n 1000
  sha256sum` would; its output is checked against the file names afterwards), and `flask --app app archive verify`
  runs in a child process of its own. The ratio is verify's files/s ÷ sha256sum's, over the command's whole run
  (Python's and the app's start, the database, the events) and over the command's own time as its summary gives it.
  Verify's resident memory is read from /proc as its progress passes 10%, 50% and 100%, with its high-water mark:
  it should stay flat whatever the number of files.
  The files were just written, so with memory to spare both sides read them from the page cache: what is compared
  is hashing and per-file cost, not the disk. --cold evicts the files from the cache before every pass
  (posix_fadvise DONTNEED after a sync) to include the reads.

Figures are printed, nothing is asserted.

    .venv/bin/python bench/bench_archive.py [--section verify] [--files 100000] [--total-mb 2048] [--spread 1000]
                                            [--rounds 2] [--cold] [--database sqlite|postgresql] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script (make bench): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from app import create_app
from bench.support import (
    DEFAULT_POSTGRES_URL,
    add_clerk,
    describe_machine,
    held_mb,
    migrate,
    postgres_problem,
    print_table,
    scratch_database,
)
from docstore import audit, correspondents, extraction
from docstore.archive import exchange, filing, scheme
from docstore.extensions import db
from docstore.models import (
    ArchiveClass,
    Attachment,
    Correspondent,
    Document,
    Record,
    RecordFile,
    RecordMember,
    RoutingItem,
    SearchQueue,
    Series,
)
from storage.filestore import READ_ONLY, FileStore

ROOT = Path(__file__).resolve().parent.parent
INSERT_BATCH = 5_000
SHA256SUM_BATCH = 1_000
#: Where verify's resident memory is read, as fractions of the files checked.
MEMORY_MARKS = (0.1, 0.5, 1.0)
PROGRESS = re.compile(r"checked ([\d,]+) of ([\d,]+) file")
SUMMARY = re.compile(r"fixity run \d+.*: ([\d,]+) file\(s\) checked.* in ([\d.]+) s")
MB = 1 << 20


# --- verify -------------------------------------------------------------------------------------------------------


def file_sizes(files: int, total_bytes: int, spread: float, rng: random.Random) -> list[int]:
    """Return `files` sizes spread log-uniformly over a range of `spread`, scaled to add up to about `total_bytes`."""
    raw = [math.exp(rng.uniform(0, math.log(spread))) for _ in range(files)]
    scale = total_bytes / sum(raw)
    return [max(1, round(size * scale)) for size in raw]


def write_store(root: Path, sizes: list[int], rng: random.Random) -> list[tuple[str, int]]:
    """Write a file of random bytes for each size where `FileStore` would keep it; return (sha256, size) sorted."""
    store = FileStore(root)
    stored = []
    for size in sizes:
        data = rng.randbytes(size)
        sha256 = hashlib.sha256(data).hexdigest()
        path = store.path(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.chmod(path, READ_ONLY)
        stored.append((sha256, size))
    return sorted(stored)


def insert_rows(stored: list[tuple[str, int]]) -> None:
    """Insert one document with one attachment per stored file, with core INSERTs in batches."""
    series_id = db.session.execute(sa.select(Series.id).where(Series.code == "IN")).scalar_one()
    now = datetime.now(UTC)
    for start in range(0, len(stored), INSERT_BATCH):
        chunk = stored[start : start + INSERT_BATCH]
        first_id = start + 1
        documents = [
            {
                "id": first_id + n,
                "series_id": series_id,
                "year": now.year,
                "seq": first_id + n,
                "number": f"IN-{now.year}-{first_id + n:06d}",
                "direction": "incoming",
                "status": "registered",
                "registered_at": now,
                "received_at": now,
                "channel": "paper",
                "title": f"Documento {first_id + n}",
            }
            for n in range(len(chunk))
        ]
        attachments = [
            {
                "document_id": first_id + n,
                "sha256": sha256,
                "size": size,
                "filename": f"{first_id + n:06d}.pdf",
                "mime": "application/pdf",
                "kind": "pdf",
                "uploaded_at": now,
                "extraction_state": "done",
            }
            for n, (sha256, size) in enumerate(chunk)
        ]
        db.session.execute(sa.insert(Document.__table__), documents)
        db.session.execute(sa.insert(Attachment.__table__), attachments)
    db.session.commit()


def evict(paths: list[Path]) -> None:
    """Drop the files from the page cache, so the next pass reads them from the disk."""
    os.sync()
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def run_sha256sum(paths: list[Path]) -> tuple[float, list[str]]:
    """Hash `paths` with sha256sum, SHA256SUM_BATCH paths per process, one process after another; return
    (seconds, output lines)."""
    outputs = []
    started = time.perf_counter()
    for start in range(0, len(paths), SHA256SUM_BATCH):
        batch = [str(path) for path in paths[start : start + SHA256SUM_BATCH]]
        outputs.append(subprocess.run(["sha256sum", "--", *batch], stdout=subprocess.PIPE, check=True).stdout)
    seconds = time.perf_counter() - started
    return seconds, [line for output in outputs for line in output.decode().splitlines()]


def rss_of(pid: int) -> tuple[float, float]:
    """Return the resident memory and its high-water mark of process `pid`, in MB (Linux)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", math.nan), values.get("VmHWM", math.nan)


@dataclass
class VerifyRun:
    """What one `archive verify` child did: its exit status, wall seconds, its own seconds and memory readings."""

    returncode: int
    seconds: float
    command_seconds: float
    checked: int
    memory: list[tuple[float, float]]  # (fraction of files checked, RSS MB) at each mark passed
    peak_mb: float


def run_verify(env: dict[str, str], instance: Path, log: Path) -> VerifyRun:
    """Run `flask archive verify` in a child process, reading its memory as its progress passes MEMORY_MARKS."""
    flask = Path(sys.executable).parent / "flask"
    command = [str(flask), "--app", f"app:create_app(instance_path={str(instance)!r})", "archive", "verify"]
    memory: list[tuple[float, float]] = []
    peak = math.nan
    marks = list(MEMORY_MARKS)
    with open(log, "w") as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        for line in child.stderr:
            found = PROGRESS.search(line)
            if found is None:
                out.write(line)
                continue
            done, total = (int(group.replace(",", "")) for group in found.groups())
            if marks and done >= marks[0] * total:
                rss, peak = rss_of(child.pid)
                memory.append((done / total, rss))
                while marks and done >= marks[0] * total:
                    marks.pop(0)
        returncode = child.wait()
        seconds = time.perf_counter() - started
    summary = SUMMARY.search(log.read_text())
    checked, command_seconds = (int(summary[1].replace(",", "")), float(summary[2])) if summary else (0, math.nan)
    return VerifyRun(returncode, seconds, command_seconds, checked, memory, peak)


def section_verify(args, database_url: str, folder: Path) -> None:
    """Time `archive verify` against sha256sum on the same stored files."""
    rng = random.Random(20261128)  # the same files every run
    sizes = file_sizes(args.files, args.total_mb * MB, args.spread, rng)
    ordered = sorted(sizes)
    print(
        f"\nverify: {args.files:,} files, {sum(sizes) / MB:,.0f} MB (smallest {ordered[0] / 1024:.1f} KB, "
        f"median {ordered[len(ordered) // 2] / 1024:.1f} KB, largest {ordered[-1] / 1024:.1f} KB)"
    )
    started = time.perf_counter()
    files_dir = folder / "files"
    stored = write_store(files_dir, sizes, rng)
    print(f"  files written in {time.perf_counter() - started:.1f} s")
    migrate(database_url, folder / "migrate")
    instance = folder / "instance"
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench"}, instance_path=str(instance))
    with app.app_context():
        started = time.perf_counter()
        insert_rows(stored)
        print(f"  {len(stored):,} documents and attachment rows inserted in {time.perf_counter() - started:.1f} s")
        db.engine.dispose()
    store = FileStore(files_dir)
    paths = [store.path(sha256) for sha256, _ in stored]
    expected = {sha256 for sha256, _ in stored}
    total_mb = sum(size for _, size in stored) / MB
    env = {
        **os.environ,
        "DOCSTORE_DATABASE_URL": database_url,
        "DOCSTORE_FILES_DIR": str(files_dir),
        "DOCSTORE_SECRET_KEY": "bench-secret-key",
        "DOCSTORE_EXTRACTION_WORKER": "0",
        "DOCSTORE_SEARCH_WRITER": "0",
        "DOCSTORE_REMINDERS": "0",
    }
    rows, ratios, own_ratios, runs = [], [], [], []
    for round_number in range(1, args.rounds + 1):
        if args.cold:
            evict(paths)
        seconds, lines = run_sha256sum(paths)
        hashed = {line.split()[0] for line in lines}
        if hashed != expected:
            print(f"  sha256sum disagreed with the file names on {len(hashed ^ expected):,} file(s)")
        rows.append(_rate_row(round_number, "sha256sum", seconds, len(lines), total_mb, ""))
        if args.cold:
            evict(paths)
        run = run_verify(env, instance, folder / f"verify-{round_number}.log")
        runs.append(run)
        if run.returncode != 0 or run.checked != len(stored):
            print(f"  archive verify exited {run.returncode} having checked {run.checked:,} files: see its log")
        own = f"{run.command_seconds:.1f} s, {run.checked / run.command_seconds:,.0f} files/s"
        rows.append(_rate_row(round_number, "archive verify", run.seconds, run.checked, total_mb, own))
        ratios.append(seconds / run.seconds)
        own_ratios.append(seconds / run.command_seconds)
    cache = "read from the disk (--cold)" if args.cold else "in the page cache"
    print(f"\n  {args.rounds} alternating round(s), files {cache}:")
    print_table(["round", "tool", "seconds", "files/s", "MB/s", "the command's own time"], rows)
    print(
        f"  verify ÷ sha256sum (files/s), median of rounds: {statistics.median(ratios):.2f} over the whole command, "
        f"{statistics.median(own_ratios):.2f} over the command's own time (without Python's and the app's start)"
    )
    print("\n  Resident memory of archive verify (MB) as its progress passed 10%, 50% and 100%, and its peak:")
    for number, run in enumerate(runs, 1):
        readings = ", ".join(f"{fraction:.0%}: {rss:.0f}" for fraction, rss in run.memory)
        print(f"    round {number}: {readings}; peak {run.peak_mb:.0f}")


def _rate_row(round_number: int, tool: str, seconds: float, files: int, total_mb: float, own: str) -> list:
    return [round_number, tool, f"{seconds:.2f}", f"{files / seconds:,.0f}", f"{total_mb / seconds:,.1f}", own]


# --- filing -------------------------------------------------------------------------------------------------------


def archive_app(database_url: str, folder: Path):
    """Return an app on a freshly migrated database, its files under `folder`, with no background threads."""
    migrate(database_url, folder / "migrate")
    settings = {"DATABASE_URL": database_url, "SECRET_KEY": "bench", "FILES_DIR": str(folder / "files")}
    settings |= {"SEARCH_WRITER": False, "EXTRACTION_WORKER": False, "REMINDERS": False}
    return create_app(settings, instance_path=str(folder / "instance"))


def file_plan(app) -> tuple[FileStore, int, ArchiveClass]:
    """Create a sender, an archivist and a file plan (J001 › WS, ten years, destroy); return the store, the
    archivist's id and the class."""
    correspondents.create_correspondent(audit.SYSTEM, name="Ministerio de Hacienda")
    archivist_id, _ = add_clerk("archivo")
    fonds = scheme.create_class(
        audit.SYSTEM, level="fonds", code="J001", name="Oficina", retention="Y", disposal_action="review"
    )
    node = scheme.create_class(
        audit.SYSTEM,
        level="class",
        parent_id=fonds.id,
        code="WS",
        name="文书",
        retention="D10",
        disposal_action="destroy",
    )
    return extraction.file_store(app.config), archivist_id, node


def insert_closed(count: int, year: int, store: FileStore, first_id: int) -> None:
    """Insert `count` incoming documents of `year`, closed, each with a small stored text file, in batches."""
    series_id = db.session.execute(sa.select(Series.id).where(Series.code == "IN")).scalar_one()
    correspondent_id = db.session.execute(sa.select(Correspondent.id)).scalars().first()
    at = datetime(year, 6, 1, 9, 0, tzinfo=UTC)
    for start in range(0, count, INSERT_BATCH):
        size = min(INSERT_BATCH, count - start)
        ids = range(first_id + start, first_id + start + size)
        documents, attachments, items = [], [], []
        for ident in ids:
            stored = store.put(io.BytesIO(f"Documento {ident} de {year}: texto del asunto.\n".encode()))
            seq = ident - first_id + 1
            documents.append(
                {
                    "id": ident,
                    "series_id": series_id,
                    "year": year,
                    "seq": seq,
                    "number": f"IN-{year}-{seq:06d}",
                    "direction": "incoming",
                    "status": "registered",
                    "registered_at": at,
                    "received_at": at,
                    "channel": "paper",
                    "correspondent_id": correspondent_id,
                    "title": f"Solicitud número {seq} del año {year}",
                    "summary": "Se solicita información sobre el expediente.",
                }
            )
            attachments.append(
                {
                    "document_id": ident,
                    "sha256": stored.sha256,
                    "size": stored.size,
                    "filename": "texto.txt",
                    "mime": "text/plain",
                    "kind": "text",
                    "uploaded_at": at,
                    "extraction_state": "done",
                }
            )
            item = RoutingItem.pending_values(ident, at)
            items.append({**item, "state": "closed", "kind": "information", "result": "Archivado.", "closed_at": at})
        db.session.execute(sa.insert(Document.__table__), documents)
        db.session.execute(sa.insert(Attachment.__table__), attachments)
        db.session.execute(sa.insert(RoutingItem.__table__), items)
        db.session.commit()


def bare_filing(year: int, class_id: int) -> int:
    """File the documents of `year` with bare core statements: the rows filing writes, without its checks,
    capture, audit or search queue. The baseline of the filing section."""
    ids = db.session.execute(sa.select(Document.id).where(Document.year == year).order_by(Document.seq)).scalars().all()
    now = datetime.now(UTC)
    for start in range(0, len(ids), filing.BATCH_SIZE):
        for n, ident in enumerate(ids[start : start + filing.BATCH_SIZE], start + 1):
            db.session.execute(sa.select(Document.id).where(Document.id == ident).with_for_update())
            attachment = db.session.execute(sa.select(Attachment).where(Attachment.document_id == ident)).scalar_one()
            record_id = db.session.execute(
                sa.insert(Record.__table__)
                .values(
                    document_id=ident,
                    class_id=class_id,
                    year=year,
                    prefix=f"BARE-{year}-",
                    item=n,
                    code=f"BARE-{year}-{n:04d}",
                    retention="D10",
                    disposal_action="destroy",
                    state="kept",
                    filed_at=now,
                    captured={},
                    history=[],
                )
                .returning(Record.id)
            ).scalar_one()
            db.session.execute(
                sa.insert(RecordMember.__table__).values(document_id=ident, record_id=record_id, role="document")
            )
            db.session.execute(
                sa.insert(RecordFile.__table__).values(
                    record_id=record_id,
                    document_id=ident,
                    attachment_id=attachment.id,
                    role="document",
                    position=0,
                    filename=attachment.filename,
                    sha256=attachment.sha256,
                    size=attachment.size,
                    mime=attachment.mime,
                )
            )
            db.session.execute(sa.update(Document).where(Document.id == ident).values(status="archived"))
        db.session.commit()
    return len(ids)


def section_filing(args, database_url: str, folder: Path) -> None:
    """Time a batch filing of --documents closed documents against bare inserts of the same rows; watch memory."""
    count = args.documents
    print(f"\nfiling: {count:,} closed incoming documents, each with one stored file, filed in one batch")
    app = archive_app(database_url, folder)
    with app.app_context():
        store, archivist_id, node = file_plan(app)
        started = time.perf_counter()
        insert_closed(count, 2024, store, 1)
        insert_closed(count, 2025, store, count + 1)
        print(f"  {2 * count:,} documents inserted in {time.perf_counter() - started:.1f} s")
        db.session.execute(sa.delete(SearchQueue))
        db.session.commit()

        started = time.perf_counter()
        bare = bare_filing(2024, node.id)
        bare_seconds = time.perf_counter() - started
        memory: list[tuple[int, float]] = []
        marks = {max(1, round(count * fraction)) for fraction in MEMORY_MARKS}

        def progress(done: int, total: int) -> None:
            if any(done >= mark > done - filing.BATCH_SIZE for mark in marks):
                memory.append((done, held_mb()))

        rules = filing.rules_from(app.config)
        before = held_mb()
        started = time.perf_counter()
        report = filing.file_batch(audit.Context(archivist_id), node.id, 2025, rules, progress=progress)
        seconds = time.perf_counter() - started
        if len(report.record_ids) != count or report.skipped:
            print(f"  filing made {len(report.record_ids):,} records and skipped {len(report.skipped):,}")
        first = db.session.get(Record, report.record_ids[0]).code
        last = db.session.get(Record, report.record_ids[-1]).code
        db.engine.dispose()
    print_table(
        ["what", "documents", "seconds", "documents/s"],
        [
            [
                "bare inserts of the same rows (baseline)",
                f"{bare:,}",
                f"{bare_seconds:.1f}",
                f"{bare / bare_seconds:,.0f}",
            ],
            ["filing.file_batch", f"{count:,}", f"{seconds:.1f}", f"{count / seconds:,.0f}"],
        ],
    )
    print(f"  codes {first} … {last}")
    print(f"  filing ÷ bare (seconds): {seconds / bare_seconds:.2f}")
    readings = ", ".join(f"{done:,}: {mb:.0f}" for done, mb in memory)
    print(f"  memory held (MB, after gc and malloc_trim): before {before:.0f}; as documents were filed {readings}")


# --- export -------------------------------------------------------------------------------------------------------


def bare_bag(store: FileStore, target: Path) -> tuple[int, int]:
    """Write each record's captured metadata as JSON and copy its files under `target`, hashing everything with
    SHA-512 and SHA-256 in one pass: the least a package of the records costs. Return (files, bytes)."""
    target.mkdir(parents=True)
    files = total = 0

    def put(chunks, name: str) -> None:
        nonlocal files, total
        sha512, sha256 = hashlib.sha512(), hashlib.sha256()
        with open(target / name, "wb") as writer:
            for chunk in chunks:
                sha512.update(chunk)
                sha256.update(chunk)
                writer.write(chunk)
                total += len(chunk)
        files += 1

    def read(path: Path):
        with open(path, "rb") as reader:
            while chunk := reader.read(MB):
                yield chunk

    records = db.session.execute(sa.select(Record).order_by(Record.id).execution_options(yield_per=500)).scalars()
    for record in records:
        put([json.dumps(record.captured, ensure_ascii=False, sort_keys=True, indent=2).encode()], f"{record.id}.json")
        for row in record.files:
            put(read(store.path(row.sha256)), f"{record.id}-{row.position}")
    return files, total


def section_export(args, database_url: str, folder: Path) -> None:
    """Time exporting --documents filed records as a BagIt package against copying and hashing their files."""
    count = args.documents
    print(f"\nexport: {count:,} filed records, each with one stored file, exported as one BagIt package")
    app = archive_app(database_url, folder)
    with app.app_context():
        store, archivist_id, node = file_plan(app)
        insert_closed(count, 2025, store, 1)
        started = time.perf_counter()
        filing.file_batch(audit.Context(archivist_id), node.id, 2025, filing.rules_from(app.config))
        print(f"  {count:,} documents inserted and filed (filing took {time.perf_counter() - started:.1f} s)")
        started = time.perf_counter()
        bare_files, copied = bare_bag(store, folder / "bare")
        bare_seconds = time.perf_counter() - started
        memory: list[tuple[int, float]] = []
        marks = {max(1, round(count * fraction)) for fraction in MEMORY_MARKS}

        def progress(done: int, total: int) -> None:
            if any(done >= mark > done - 200 for mark in marks) or done == total:
                memory.append((done, held_mb()))

        before = held_mb()
        started = time.perf_counter()
        report = exchange.export_records(
            exchange.Selection(class_id=node.id, year=2025),
            folder / "bag",
            store,
            organisation="Bench",
            progress=progress,
        )
        seconds = time.perf_counter() - started
        db.engine.dispose()
    print_table(
        ["what", "records", "files", "MB", "seconds", "records/s"],
        [
            [
                "metadata JSON + files, hashed (baseline)",
                f"{count:,}",
                f"{bare_files:,}",
                f"{copied / MB:,.1f}",
                f"{bare_seconds:.1f}",
                f"{count / bare_seconds:,.0f}",
            ],
            [
                "exchange.export_records (validated)",
                f"{report.records:,}",
                f"{report.files:,}",
                f"{report.bytes / MB:,.1f}",
                f"{seconds:.1f}",
                f"{report.records / seconds:,.0f}",
            ],
        ],
    )
    print(f"  export ÷ baseline (seconds): {seconds / bare_seconds:.2f}; package valid: {report.validation.valid}")
    readings = ", ".join(f"{done:,}: {mb:.0f}" for done, mb in memory)
    print(f"  memory held (MB, after gc and malloc_trim): before {before:.0f}; as records were exported {readings}")


# --- the run ------------------------------------------------------------------------------------------------------

#: Each section: a function (args, database URL, scratch folder) run in a fresh database of its own.
SECTIONS = {"verify": section_verify, "filing": section_filing, "export": section_export}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--section", action="append", choices=sorted(SECTIONS), help="a section to run (repeatable; default all)"
    )
    parser.add_argument("--files", type=int, default=100_000, help="verify: stored files (default 100000)")
    parser.add_argument("--total-mb", type=int, default=2048, help="verify: their total size in MB (default 2048)")
    parser.add_argument(
        "--spread", type=float, default=1000.0, help="verify: largest ÷ smallest file size (default 1000)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="verify: alternating rounds of each tool (default 2)")
    parser.add_argument("--cold", action="store_true", help="verify: evict the files from the page cache each pass")
    parser.add_argument("--documents", type=int, default=10_000, help="filing, export: documents (default 10000)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite", help="default sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="the server for --database postgresql")
    args = parser.parse_args()
    if args.database == "postgresql" and (problem := postgres_problem(args.postgres_url)):
        parser.exit(1, f"PostgreSQL at {args.postgres_url} cannot be used: {problem}\n")
    print(f"Machine: {describe_machine()}")
    print(f"Database: {args.database}")
    for name in args.section or list(SECTIONS):
        with scratch_database(args.database, args.postgres_url) as (database_url, folder):
            SECTIONS[name](args, database_url, folder)


if __name__ == "__main__":
    main()
