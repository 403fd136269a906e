"""Full-text search at 100,000 documents: reindexing, search latency, SQLite FTS5 as a reference, the delay from
saving to finding, and `flask search check`.

The corpus is made of the real texts in shared/corpus/text: each document combines runs of paragraphs of one
language (Spanish, Chinese or English; some take a paragraph of a second language) up to about 300 words, chosen
by a seed from the document's position alone, so the first N documents are the same whatever the corpus size. The
documents are bulk-inserted into a migrated SQLite database with core INSERTs (three registers, eight years,
senders, departments, types); 30% carry an attachment whose extracted text (an `attachment_text` row) holds the
second part of their text, so that the rebuild reads the attachment join as it does in production.

1. Reindexing: `Writer.rebuild` (what `flask search reindex` runs) in a child process of its own, with
   SEARCH_REBUILD_CHUNK at its default and at 1,000 (--chunks), against raw Whoosh in another child: the same
   schema and `to_fields`, on Entry objects built in memory before the clock starts, one writer, one commit. Raw
   Whoosh is tried with procs=1 and procs=2 (multisegment), limitmb 128 and 256, on at most --trial-docs documents;
   the fastest setting is the baseline, run on the whole corpus. Peak memory is the kernel's RSS high-water mark of
   the child (and its workers); the rebuild also reports it after every chunk, to show whether it grows.
2. Search latency through the HTTP API (gunicorn, two sync workers, a clerk's token; 20 hits with a marked title
   and passage, eight facets) and the HTML page, against raw Whoosh on the same index: a warm searcher, the same
   parsed query, 20 hits, `search.highlight`/`search.snippet` over texts held in memory (the baseline of the goal);
   also without highlights, and with the eight facets. In-process rows (`docstore.fulltext.run`,
   `SearchIndex.search`) show where the time goes. A query the engine fails on is listed and left out (through the
   service it would ask for a full rebuild, which would then run under the measurements).
3. SQLite FTS5 on the same texts as a reference: unicode61 remove_diacritics 2, with runs of CJK characters cut
   into bigrams in Python before indexing and querying (unicode61 alone makes a whole run one token; trigram cannot
   find two-character words). No stemming, so it finds fewer documents for some words.
4. Save to searchable: documents registered through the API at a steady rate while the embedded index writers of
   the web workers run (SEARCH_WRITER on, the default SEARCH_POLL_MS); a second client searches for their unique
   words every 100 ms. The delay runs from the registration's response to the first search that finds it.
5. `flask search check` (the real command, in a child process) on the whole index.

Ratios are taken within one run, as other work on the machine weighs on both sides. Figures are printed, nothing
is asserted about them.

    .venv/bin/python bench/bench_search.py [--docs 100000 | --quick] [--trial-docs 20000] [--chunks 10000,1000]
                                           [--requests 20] [--rate 5] [--seconds 30] [--profile] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import http.client
import json
import os
import pstats
import random
import re
import shutil
import sqlite3
import statistics
import sys
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script (make bench): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from whoosh import collectors, sorting
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

import search
from app import create_app
from bench.support import (
    add_clerk,
    describe_machine,
    migrate,
    percentile,
    print_table,
    run_measured,
    scratch_database,
)
from docstore import accounts, audit, correspondents, fulltext, indexing, organisation
from docstore.config import SETTINGS
from docstore.extensions import db
from docstore.models import (
    Attachment,
    AttachmentText,
    Document,
    DocumentType,
    SearchQueue,
    SearchWriter,
    Series,
    SeriesCounter,
    User,
)
from search.analysis import CJK_RUN, folding_analyzer
from search.schema import build_schema, to_fields
from tests.http_support import ROOT, FormClient, gunicorn

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "text"
LANGUAGES = {"es": ("es-official", "es-docs"), "zh": ("zh-law", "zh-official", "zh-docs"), "en": ("en-docs",)}
LANGUAGE_WEIGHTS = {"es": 45, "zh": 30, "en": 25}
SECOND_LANGUAGE = 0.15  # share of documents with a paragraph in another language
ATTACHED = 0.30  # share of documents whose text is partly in an attachment
WORDS = (200, 400)  # words per document (a Chinese character counts 2/3 of a word), uniformly: 300 on average
SEED = 20261127
FIRST_REGISTERED = datetime(2019, 1, 2, 8)  # naive UTC, as SQLite gives it back
REGISTERED_EVERY = timedelta(minutes=41)  # 100,000 documents cover eight years
BATCH = 2_000
DEPARTMENTS = 20
LATIN_WORD = re.compile(r"[^\W\d_]+|\d+")
#: Raw Whoosh settings tried for the baseline: (procs, limitmb).
RAW_SETTINGS = ((1, 128), (1, 256), (2, 128), (2, 256))
#: The queries of the latency figures (1-3 terms, the three languages, phrases); a register number is added.
QUERIES = (
    ("es", "derechos"),
    ("es", "municipios presupuesto"),
    ("es, no accents typed", "contrasena"),
    ("es", "tribunal constitucional"),
    ("es phrase", '"estado de derecho"'),
    ("en", "package"),
    ("en", "configuration file"),
    ("en", "mailing list archive"),
    ("en phrase", '"source package"'),
    ("zh", "国务院"),
    ("zh", "人民法院 行政处罚"),
    ("zh phrase", '"环境保护"'),
    ("mixed", "debian 软件包"),
)
FTS_NAME = "SQLite FTS5, top 20 by rank + snippet()"
RAW_FACETS = "raw Whoosh, 20 hits + highlights + the 8 facets (groupedby)"
RAW_EXACT = "raw Whoosh, exact top 20 (every match scored) + highlights"
STREAM_POLL = 0.1  # seconds between the searches that look for just-registered documents
STREAM_GRACE = 30.0  # seconds to wait, after the last registration, for it to be found


# --- the corpus ---------------------------------------------------------------------------------------------------


def weight(text: str) -> float:
    """Return the length of `text` in words (a CJK character counts as 2/3 of a word)."""
    cjk = sum(len(run) for run in CJK_RUN.findall(text))
    return len(LATIN_WORD.findall(CJK_RUN.sub(" ", text))) + cjk / 1.5


def cut(text: str, words: float, of: float) -> str:
    """Return the start of `text` (worth `of` words) worth about `words` words, ending at a space when one is near."""
    end = max(1, int(len(text) * words / of))
    space = text.rfind(" ", end - 30, end)
    return text[: space if space > 0 else end]


class Corpus:
    """Paragraphs of the real texts by language, and documents combined from them (document n by its own seed)."""

    def __init__(self, folder: Path = DEFAULT_CORPUS):
        self.paragraphs: dict[str, list[tuple[str, float]]] = {}
        for language, names in LANGUAGES.items():
            found = []
            for name in names:
                for path in sorted((folder / name).iterdir()):
                    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8", errors="replace")):
                        block = " ".join(block.split())
                        if block.startswith("<!--"):  # zh-law's metadata markers
                            continue
                        words = weight(block)
                        if words >= 4:
                            found.append((block, words))
            self.paragraphs[language] = found

    def describe(self) -> str:
        return ", ".join(
            f"{language}: {len(found):,} paragraphs, {sum(w for _, w in found):,.0f} words"
            for language, found in self.paragraphs.items()
        )

    def text(self, n: int) -> tuple[str, list[str]]:
        """Return the language and the paragraphs of document `n`."""
        rng = random.Random(SEED * 1_000_003 + n)
        language = rng.choices(list(LANGUAGE_WEIGHTS), weights=list(LANGUAGE_WEIGHTS.values()))[0]
        other = rng.choice([name for name in LANGUAGES if name != language])
        mixed = rng.random() < SECOND_LANGUAGE
        target = rng.uniform(*WORDS)
        pieces: list[str] = []
        words = 0.0
        while words < target:
            found = self.paragraphs[other if mixed and pieces and rng.random() < 0.3 else language]
            start = rng.randrange(len(found))
            for k in range(rng.randint(1, 3)):  # a run of consecutive paragraphs reads like one text
                paragraph, worth = found[(start + k) % len(found)]
                if words + worth > target:
                    paragraph, worth = cut(paragraph, target - words, worth), target - words
                pieces.append(paragraph)
                words += worth
                if words >= target:
                    break
        return language, pieces


# --- the register: rows for the database and the entries raw Whoosh gets --------------------------------------------


@dataclass
class Layout:
    """The reference data the documents point to (ids from the database)."""

    series: dict[str, list]  # code -> [id, direction]
    types: list[int]
    departments: list[int]
    senders: list[list]  # [id, name]
    clerk: int


@dataclass
class Record:
    document: dict
    attachment: dict | None
    attachment_text: str | None


def title_of(first: str) -> str:
    """Return a title from the first paragraph: at most 90 characters, cut at a space when there is one."""
    if len(first) <= 90:
        return first
    space = first.rfind(" ", 40, 90)
    return first[: space if space > 0 else 90]


def records(corpus: Corpus, layout: Layout, total: int):
    """Yield the `total` first documents in registration order (ids 1..total; attachment ids 1..)."""
    counters: dict[tuple[int, int], int] = {}
    attachment_id = 0
    codes = list(layout.series)
    for n in range(total):
        rng = random.Random(SEED * 7_000_003 + n)
        _language, pieces = corpus.text(n)
        registered_at = FIRST_REGISTERED + REGISTERED_EVERY * n
        code = rng.choices(codes, weights=[60, 30, 10][: len(codes)])[0]
        series_id, direction = layout.series[code]
        year = registered_at.year
        seq = counters[(series_id, year)] = counters.get((series_id, year), 0) + 1
        incoming = direction == "incoming"
        void = rng.random() < 0.02
        sender = rng.choice(layout.senders) if incoming else None
        attached = rng.random() < ATTACHED and len(pieces) > 1
        keep = max(1, len(pieces) // 3) if attached else len(pieces)
        document = {
            "id": n + 1,
            "series_id": series_id,
            "year": year,
            "seq": seq,
            "number": f"{code}-{year}-{seq:06d}",
            "direction": direction,
            "status": "void" if void else "registered",
            "registered_at": registered_at,
            "registered_by_id": layout.clerk,
            "received_at": registered_at - timedelta(hours=2) if incoming else None,
            "channel": rng.choice(["paper", "email", "portal"]) if incoming else None,
            "correspondent_id": sender[0] if sender else None,
            "sender_reference": f"OF-{rng.randrange(10**5)}/{year}" if incoming else "",
            "sender_date": (registered_at - timedelta(days=3)).date() if incoming else None,
            "title": title_of(pieces[0]),
            "document_type_id": rng.choice(layout.types),
            "urgency": rng.choices(["normal", "urgent", "extra_urgent"], weights=[80, 15, 5])[0],
            "classification": rng.choices([0, 1, 2, 3], weights=[80, 15, 4, 1])[0],
            "pages": rng.randrange(1, 40),
            "copies": 1,
            "department_id": rng.choice(layout.departments) if rng.random() < 0.8 else None,
            "summary": "\n\n".join(pieces[:keep]),
            "notes": "",
            "document_date": (registered_at - timedelta(days=1)).date() if not incoming else None,
            "void_reason": "Registrado por error" if void else "",
            "voided_at": registered_at + timedelta(hours=1) if void else None,
            "voided_by_id": layout.clerk if void else None,
        }
        attachment = text = None
        if attached:
            attachment_id += 1
            text = "\n\n".join(pieces[keep:])
            attachment = {
                "id": attachment_id,
                "document_id": n + 1,
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
                "size": len(text.encode()),
                "filename": f"anexo-{n + 1}.pdf",
                "mime": "application/pdf",
                "kind": "pdf",
                "position": 0,
                "uploaded_at": registered_at,
                "uploaded_by_id": layout.clerk,
                "extraction_state": "done",
                "text_chars": len(text),
                "page_count": 1 + len(text) // 3000,
            }
        yield Record(document, attachment, text)


def entry_of(record: Record, layout: Layout) -> search.Entry:
    """Return the entry `indexing.entries_for` makes of this document (the check in `load` compares them)."""
    d = record.document
    parts = [d["summary"], d["notes"], d["void_reason"]]
    if record.attachment is not None:
        parts += [record.attachment["filename"], record.attachment_text]
    names = dict(map(tuple, layout.senders))
    return search.Entry(
        id=d["id"],
        title=d["title"],
        text="\n".join(p for p in parts if p),
        codes=tuple(c for c in (d["number"], d["sender_reference"]) if c),
        sender_name=names.get(d["correspondent_id"], ""),
        series=d["series_id"],
        year=d["year"],
        type=d["document_type_id"],
        urgency=d["urgency"],
        status=d["status"],
        department=d["department_id"],
        sender=d["correspondent_id"],
        files=record.attachment is not None,
        registered=d["registered_at"],
        level=d["classification"],
        owner=d["registered_by_id"],
    )


def sender_names() -> list[str]:
    places = ["Valladolid", "Cuenca", "Oaxaca", "Medellín", "Rosario", "Cádiz", "Puebla", "Arequipa", "Cusco", "León"]
    cities = ["成都", "杭州", "昆明", "西安", "南京", "厦门", "大连", "青岛", "苏州", "武汉"]
    towns = ["Springfield", "Riverside", "Fairview", "Bristol", "Oxford", "Salem", "Dover", "Camden", "Milton"]
    names = [f"Ayuntamiento de {p}" for p in places] + [f"Consejería de Hacienda de {p}" for p in places]
    names += [f"Juzgado n.º {k} de {p}" for k in range(1, 6) for p in places]
    names += [f"{c}{office}" for office in ("市人民政府", "市生态环境局", "市中级人民法院") for c in cities]
    names += [f"{t} City Council" for t in towns] + [f"{t} Water Board" for t in towns]
    return names


# --- loading --------------------------------------------------------------------------------------------------------


def settings_for(database_url: str, index_dir: Path, **more) -> dict:
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench",
        "INDEX_DIR": str(index_dir),
        "EXTRACTION_WORKER": False,
        "SEARCH_WRITER": False,
        **more,
    }


def load(database_url: str, folder: Path, corpus: Corpus, total: int):
    """Migrate, add the reference data through the services and the documents with core INSERTs.

    Return (layout, the clerk's password, the clerk's API token, the entries of the documents by id).
    """
    migrate(database_url, folder / "migrate")
    app = create_app(settings_for(database_url, folder / "unused-index"), instance_path=str(folder / "setup"))
    with app.app_context():
        clerk_id, password = add_clerk()
        _token, secret = accounts.create_token(audit.SYSTEM, clerk_id, "bench", 0)
        departments = [
            organisation.create_department(audit.SYSTEM, code=f"D{n:02d}", name=f"Departamento {n}").id
            for n in range(DEPARTMENTS)
        ]
        senders = [[correspondents.create_correspondent(audit.SYSTEM, name=name).id, name] for name in sender_names()]
        series = {
            s.code: [s.id, s.direction]
            for s in db.session.execute(sa.select(Series).where(Series.code.in_(["IN", "OUT", "INT"]))).scalars()
        }
        types = list(db.session.execute(sa.select(DocumentType.id).order_by(DocumentType.id)).scalars())
        db.session.commit()
        layout = Layout(
            dict(sorted(series.items(), key=lambda s: ["IN", "OUT", "INT"].index(s[0]))),
            types,
            departments,
            senders,
            clerk_id,
        )
        started = time.perf_counter()
        entries: dict[int, search.Entry] = {}
        documents, attachments, texts = [], [], []
        counters: dict[tuple[int, int], int] = {}

        def flush() -> None:
            for table, rows in ((Document, documents), (Attachment, attachments), (AttachmentText, texts)):
                if rows:
                    db.session.execute(sa.insert(table.__table__), rows)
                rows.clear()

        for record in records(corpus, layout, total):
            documents.append(record.document)
            d = record.document
            counters[(d["series_id"], d["year"])] = d["seq"]
            if record.attachment is not None:
                attachments.append(record.attachment)
                texts.append({"attachment_id": record.attachment["id"], "text": record.attachment_text})
            entries[d["id"]] = entry_of(record, layout)
            if len(documents) == BATCH:
                flush()
        flush()
        db.session.execute(
            sa.insert(SeriesCounter),
            [{"series_id": s, "year": y, "last_value": value} for (s, y), value in counters.items()],
        )
        db.session.execute(sa.delete(SearchQueue))  # core inserts queue nothing; make sure the rebuild starts clean
        db.session.commit()
        with_files = len(list(e for e in entries.values() if e.files))
        words = sum(weight(e.title + "\n" + e.text) for e in list(entries.values())[:2000]) / min(total, 2000)
        print(
            f"  loaded {total:,} documents ({with_files:,} with an attachment text) in "
            f"{time.perf_counter() - started:.1f} s; about {words:.0f} words per document"
        )
        sample = sorted(random.Random(SEED).sample(range(1, total + 1), min(total, 200)))
        read = indexing.entries_for(sample, app.config["SEARCH_MAX_TEXT_CHARS"])
        same = sum(read[i] == entries[i] for i in sample)
        print(f"  the rebuild reads the same entries raw Whoosh gets: {same} of {len(sample)} sampled are equal")
        if same != len(sample):
            different = next(i for i in sample if read.get(i) != entries[i])
            raise RuntimeError(f"document {different}: {read.get(different)!r} != {entries[different]!r}")
        db.engine.dispose()
    return layout, password, secret, entries


# --- children: the rebuild and raw Whoosh, each in a process of its own -------------------------------------------


def high_water_mb() -> float:
    """Return this process's RSS high-water mark (VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child_rebuild(spec: dict) -> dict:
    """Run Writer.rebuild as `flask search reindex --fresh` does; return its time and memory after each chunk."""
    settings = settings_for(spec["database_url"], Path(spec["index_dir"]), SEARCH_REBUILD_CHUNK=spec["chunk"])
    app = create_app(settings, instance_path=spec["instance"])
    marks: list[tuple[int, float]] = []
    with app.app_context():
        writer = indexing.rebuilding_writer(app)  # as `flask search reindex` makes it
        if not writer.acquire():
            raise RuntimeError("the writer's lease is taken")
        start_mb = high_water_mb()
        profile = cProfile.Profile() if spec.get("profile") else None
        began = time.perf_counter()
        if profile:
            profile.enable()
        progress = writer.rebuild(resume=False, report=lambda p: marks.append((p.done, high_water_mb())))
        if profile:
            profile.disable()
        seconds = time.perf_counter() - began
        writer.release()
        end_mb = high_water_mb()
        count, segments = describe_index(writer.index.root / writer.index.live_generation())
    if profile:
        profile.dump_stats(spec["profile"])
    return {
        "seconds": seconds,
        "documents": progress.done,
        "indexed": count,
        "segments": segments,
        "marks": marks,
        "start_mb": start_mb,
        "end_mb": end_mb,
        "chunk": spec["chunk"],
        "procs": writer.index.procs,
    }


def child_raw(spec: dict) -> dict:
    """Index the first `docs` documents with raw Whoosh (one writer, one commit) on entries built beforehand."""
    layout = Layout(**spec["layout"])
    entries = [entry_of(record, layout) for record in records(Corpus(Path(spec["corpus"])), layout, spec["docs"])]
    start_mb = high_water_mb()
    folder = Path(spec["index_dir"])
    folder.mkdir(parents=True)
    ix = whoosh_index.create_in(str(folder), build_schema())
    options = {"limitmb": spec["limitmb"]}
    if spec["procs"] > 1:
        options.update(procs=spec["procs"], multisegment=True)
    began = time.perf_counter()
    writer = ix.writer(**options)
    for entry in entries:
        writer.add_document(**to_fields(entry))
    writer.commit()
    seconds = time.perf_counter() - began
    count, segments = describe_index(folder)
    return {
        "seconds": seconds,
        "documents": len(entries),
        "indexed": count,
        "segments": segments,
        "start_mb": start_mb,
        "procs": spec["procs"],
        "limitmb": spec["limitmb"],
    }


def describe_index(folder: Path) -> tuple[int, int]:
    """Return the documents and segments of the Whoosh index in `folder`.

    Read without memory-mapped files: with them, whoosh-ng's reader of a 100,000-document index briefly takes over
    1 GB, which would count in the peak memory of the child.
    """
    ix = FileStorage(str(folder), supports_mmap=False).open_index()
    with ix.reader() as reader:
        return reader.doc_count(), len(list(reader.leaf_readers()))


def run_child(spec: dict, folder: Path) -> dict:
    """Run a child of this script with `spec`; return its result, with its peak RSS (MB, with its workers)."""
    output = folder / f"child-{spec['mode']}-{time.monotonic_ns()}.log"
    load = os.getloadavg()[0]
    measured = run_measured(
        [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec, default=str)], output
    )
    lines = output.read_text(errors="replace").splitlines()
    if measured.returncode != 0 or not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"the {spec['mode']} child failed ({measured.returncode}):\n" + "\n".join(lines[-30:]))
    return json.loads(lines[-1]) | {"rss": measured.peak_rss_mb, "load": load}


# --- 1. reindexing ---------------------------------------------------------------------------------------------------


def measure_reindex(database_url: str, folder: Path, layout: Layout, args) -> tuple[dict, dict]:
    """Print the reindex figures; return the rebuild's (default settings) and the raw baseline's results."""
    print(f"\n1. Reindexing {args.docs:,} documents (each in a child process of its own)")
    trial_docs = min(args.trial_docs, args.docs)
    trials = [raw_index(layout, trial_docs, procs, limitmb, folder, args) for procs, limitmb in RAW_SETTINGS]
    best = max(trials, key=rate)
    rebuilds = [rebuild(database_url, folder, args.chunks[0], args)]
    (folder / f"index-{args.chunks[0]}").rename(folder / "index")  # the index searched below
    if trial_docs == args.docs:
        baseline = best
    else:  # between the rebuilds, so that a change in the machine's load weighs on both sides
        baseline = raw_index(layout, args.docs, best["procs"], best["limitmb"], folder, args)
    for chunk in args.chunks[1:]:
        rebuilds.append(rebuild(database_url, folder, chunk, args))
        shutil.rmtree(folder / f"index-{chunk}")
    rows = [[f"raw Whoosh, {r['setting']}", *figures(r)] for r in trials]
    if baseline is not best:
        rows.append([f"raw Whoosh, {baseline['setting']} (baseline)", *figures(baseline)])
    for result in rebuilds:
        label = f"flask search reindex (procs={result['procs']}, limitmb=128, chunk {result['chunk']:,})"
        rows.append([label, *figures(result)])
    headers = ["indexer", "documents", "seconds", "documents/s", "segments", "peak RSS MB", "RSS MB at start"]
    print_table([*headers, "load avg at start"], rows)
    ours = rebuilds[0]
    ratios = "; ".join(f"chunk {r['chunk']:,}: {rate(r) / rate(baseline):.2f}x" for r in rebuilds)
    print(f"  rebuild / raw baseline documents/s: {ratios} (goal >= 0.8x)")
    print("  (raw Whoosh's RSS at start holds the entries built before its clock started)")
    marks = [(done, mb) for done, mb in ours["marks"] if done]
    if marks:
        shown = dict.fromkeys(marks[min(len(marks) - 1, max(0, round(len(marks) * k / 5) - 1))] for k in range(1, 6))
        print(
            "  the rebuild's RSS high-water mark as it went (documents done: MB): "
            + ", ".join(f"{done:,}: {mb:,.0f}" for done, mb in shown)
            + f"; after the swap: {ours['end_mb']:,.0f}"
        )
    if args.profile:
        print("\n  Profile of the rebuild (top 30 by cumulative time):")
        pstats.Stats(str(folder / "rebuild.prof"), stream=sys.stdout).sort_stats("cumulative").print_stats(30)
    return ours, baseline


def rebuild(database_url: str, folder: Path, chunk: int, args) -> dict:
    """Rebuild the index into folder/index-<chunk> in a child process; return its result."""
    spec = {
        "mode": "rebuild",
        "database_url": database_url,
        "index_dir": str(folder / f"index-{chunk}"),
        "chunk": chunk,
        "instance": str(folder / "rebuild"),
    }
    if args.profile and chunk == args.chunks[0]:
        spec["profile"] = str(folder / "rebuild.prof")
    return run_child(spec, folder)


def raw_index(layout: Layout, docs: int, procs: int, limitmb: int, folder: Path, args) -> dict:
    """Index `docs` documents with raw Whoosh in a child process; return its result (the index is removed)."""
    index_dir = folder / f"raw-{procs}-{limitmb}-{docs}"
    spec = {
        "mode": "raw",
        "layout": asdict(layout),
        "docs": docs,
        "index_dir": str(index_dir),
        "procs": procs,
        "limitmb": limitmb,
        "corpus": str(args.corpus),
    }
    result = run_child(spec, folder)
    shutil.rmtree(index_dir)
    result["setting"] = f"procs={procs}{' multisegment' if procs > 1 else ''}, limitmb={limitmb}"
    return result


def rate(result: dict) -> float:
    return result["documents"] / result["seconds"]


def figures(result: dict) -> list[str]:
    return [
        f"{result['documents']:,}",
        f"{result['seconds']:.1f}",
        f"{rate(result):,.0f}",
        str(result["segments"]),
        f"{result['rss']:,.0f}",
        f"{result['start_mb']:,.0f}",
        f"{result['load']:.1f}",
    ]


# --- 3. FTS5 ---------------------------------------------------------------------------------------------------------


def bigrams(text: str) -> str:
    """Return `text` with every run of CJK characters replaced by its overlapping bigrams, spaced."""

    def split(match: re.Match) -> str:
        run = match.group(0)
        return run if len(run) == 1 else " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "

    return CJK_RUN.sub(split, text)


def fts_match(text: str) -> str:
    """Return an FTS5 MATCH expression for one of QUERIES: every word or phrase as an FTS5 phrase, all required."""
    fold = folding_analyzer()
    parts = []
    for phrase, word in re.findall(r'"([^"]*)"|(\S+)', text):
        tokens = [t.text for t in fold(phrase or word.split(":", 1)[-1])]
        if tokens:
            parts.append('"' + " ".join(tokens) + '"')
    return " ".join(parts)


class Fts5:
    """The corpus in an SQLite FTS5 table (title, body), unicode61 remove_diacritics 2, CJK pre-split into bigrams."""

    def __init__(self, path: Path):
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.execute("PRAGMA synchronous = NORMAL")
        self.connection.execute(
            "CREATE VIRTUAL TABLE fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')"
        )

    def add(self, entries: dict[int, search.Entry]) -> float:
        """Index every entry in one transaction (bigram splitting included); return the seconds taken."""
        began = time.perf_counter()
        self.connection.execute("BEGIN")
        batch = []
        for ident, entry in entries.items():
            body = "\n".join(p for p in (*entry.codes, entry.sender_name, entry.text) if p)
            batch.append((ident, bigrams(entry.title), bigrams(body)))
            if len(batch) == 1000:
                self.connection.executemany("INSERT INTO fts (rowid, title, body) VALUES (?, ?, ?)", batch)
                batch = []
        self.connection.executemany("INSERT INTO fts (rowid, title, body) VALUES (?, ?, ?)", batch)
        self.connection.execute("COMMIT")
        return time.perf_counter() - began

    def search(self, text: str, snippets: bool) -> int:
        columns = "rowid, snippet(fts, 1, '<mark>', '</mark>', '…', 40)" if snippets else "rowid"
        sql = f"SELECT {columns} FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 20"
        return len(self.connection.execute(sql, (bigrams(fts_match(text)),)).fetchall())

    def count(self, text: str) -> int:
        sql = "SELECT count(*) FROM fts WHERE fts MATCH ?"
        return self.connection.execute(sql, (bigrams(fts_match(text)),)).fetchone()[0]


# --- 2. search latency ---------------------------------------------------------------------------------------------


class ApiClient:
    """One connection to the server with an API token (gunicorn's sync workers close it after each response)."""

    def __init__(self, port: int, secret: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {secret}"}

    def call(self, method: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
        headers = dict(self.headers)
        body = None
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {"raw": raw[:300].decode(errors="replace")}
        return response.status, data

    def search(self, text: str, per_page: int = 20) -> dict:
        status, data = self.call("GET", "/api/v1/search?" + urllib.parse.urlencode({"q": text, "per_page": per_page}))
        if status != 200:
            raise RuntimeError(f"/api/v1/search?q={text} answered {status}: {str(data)[:300]}")
        return data

    def close(self) -> None:
        self.connection.close()


def hit_ids(data: dict) -> list[int]:
    return [item["id"] for item in data.get("results", data.get("items", []))]


class RawWhoosh:
    """A warm searcher on the live generation, opened with Whoosh itself: the baseline of the latency figures."""

    TEXT_FIELDS = frozenset(search.query.TEXT_FIELDS) | {"sender_name", "recipient"}

    def __init__(self, index: search.SearchIndex, entries: dict[int, search.Entry]):
        self.index = index
        self.ix = whoosh_index.open_dir(str(index.root / index.live_generation()), schema=index.schema)
        self.searcher = self.ix.searcher()
        self.entries = entries

    def search(self, text: str, highlights: bool, facets: bool = False, exact: bool = False) -> int:
        groups = {name: sorting.FieldFacet(name, maptype=sorting.Count) for name in search.FACETS} if facets else None
        if exact:  # every match scored: no block-quality skipping, which whoosh-ng gets wrong for OR queries
            collector = collectors.TopCollector(20, usequality=False, replace=0)
            collector = collectors.TermsCollector(collector) if highlights else collector
            self.searcher.search_with_collector(self.index.parse(text), collector)
            results = collector.results()
        else:
            results = self.searcher.search(self.index.parse(text), limit=20, terms=highlights, groupedby=groups)
        for name in groups or ():
            results.groups(name)
        for hit in results[:20]:  # with facets, iterating the results would go through every match
            if highlights:
                terms = frozenset(
                    (name, value.decode() if isinstance(value, bytes) else value)
                    for name, value in hit.matched_terms()
                    if name in self.TEXT_FIELDS
                )
                entry = self.entries[int(hit["id"])]
                search.highlight(entry.title, terms)
                search.snippet(entry.text, terms)
            else:
                int(hit["id"])
        return len(results)

    def close(self) -> None:
        self.searcher.close()
        self.ix.close()


def timed(function, *args) -> float:
    began = time.perf_counter()
    function(*args)
    return (time.perf_counter() - began) * 1000


def usable_queries(app, entries: dict[int, search.Entry]) -> list[tuple[str, str]]:
    """Return the queries the engine answers; print those it fails on, which are left out of the figures.

    They are tried in-process with `SearchIndex.search`: through the service or the API a failed search asks the
    writer for a full rebuild, which would run under the measurements.
    """
    queries = list(QUERIES) + [("register number", f"number:{entries[len(entries) // 2].codes[0]}")]
    index = indexing.index_for(app)
    access = search.Access(max_level=3, everything=True)
    usable, failed = [], []
    for label, text in queries:
        try:
            index.search(search.Request(text=text, per_page=20), access)
            usable.append((label, text))
        except search.IndexUnavailable as exc:
            failed.append([f"{label}: {text}", repr(exc.__cause__ or exc)[:110]])
    if failed:
        print(f"  {len(failed)} of {len(queries)} queries FAIL in SearchIndex.search (left out of the figures below):")
        print_table(["query", "error"], failed)
    return usable


def measure_latency(
    port: int, secret: str, password: str, app, clerk_id: int, entries, fts: Fts5, queries: list, args
) -> dict:
    """Print the latency table; return the overall p50/p95 of each variant."""
    api = ApiClient(port, secret)
    page = FormClient(port)
    page.sign_in("clerk", password)
    page_status = page.request("GET", "/search?q=derechos")[0]
    index = indexing.index_for(app)
    raw = RawWhoosh(index, entries)
    access = search.Access(max_level=3, everything=True)
    with app.app_context():
        clerk = db.session.get(User, clerk_id)

        def api_search(text: str) -> None:
            api.search(text)

        def page_search(text: str) -> None:
            status, _location, _body = page.request("GET", "/search?" + urllib.parse.urlencode({"q": text}))
            if status != 200:
                raise RuntimeError(f"/search?q={text} answered {status}")

        def service(text: str) -> None:
            params, errors = fulltext.params_from(MultiArgs({"q": text}), app.config["SEARCH_PAGE_SIZE"])
            outcome = fulltext.run(clerk, params, app.config, app)
            if errors or outcome.problem or outcome.rebuilding:
                raise RuntimeError(f"fulltext.run({text!r}): {errors or outcome.problem or 'rebuilding'}")

        def engine(text: str) -> None:
            index.search(search.Request(text=text, per_page=20), access)

        variants = {
            "HTTP API /api/v1/search (gunicorn)": api_search,
            "fulltext.run in-process (service: DB, highlights, facets)": service,
            "SearchIndex.search in-process (facets, access filter)": engine,
            "raw Whoosh, same parsed query, 20 hits + highlights": lambda t: raw.search(t, True),
            RAW_EXACT: lambda t: raw.search(t, True, exact=True),
            "raw Whoosh, same parsed query, 20 hits, no highlights": lambda t: raw.search(t, False),
            RAW_FACETS: lambda t: raw.search(t, True, facets=True),
            FTS_NAME: lambda t: fts.search(t, True),
        }
        if page_status == 200:
            variants = {"HTML page /search (gunicorn)": page_search, **variants}
        else:
            print(f"  (the HTML page /search answered {page_status}: not measured)")
        times: dict[str, dict[str, list[float]]] = {name: {text: [] for _, text in queries} for name in variants}
        counts = {}
        for _label, text in queries:
            counts[text] = (api.search(text)["total"], fts.count(text))
            for function in variants.values():  # warm-up: caches, the searcher, the database's pages
                function(text)
        for _round in range(args.requests):  # interleaved, so a change in the machine's load hits all alike
            for _label, text in queries:
                for name, function in variants.items():
                    times[name][text].append(timed(function, text))
                db.session.rollback()
    raw.close()
    api.close()
    page.close()
    api_name, raw_name = "HTTP API /api/v1/search (gunicorn)", "raw Whoosh, same parsed query, 20 hits + highlights"
    print(f"\n  Per query ({args.requests} requests each; p50 ms):")
    rows = []
    for label, text in queries:
        names = (api_name, raw_name, RAW_EXACT, RAW_FACETS, FTS_NAME)
        a, r, e, g, f = (statistics.median(times[name][text]) for name in names)
        hits, fts_hits = counts[text]
        rows.append(
            [
                f"{label}: {text}",
                f"{hits:,}",
                f"{fts_hits:,}",
                f"{a:.1f}",
                f"{r:.1f}",
                f"{e:.1f}",
                f"{g:.1f}",
                f"{a / r:.2f}",
                f"{a / e:.2f}",
                f"{f:.2f}",
            ]
        )
    headers = ["query", "hits", "FTS5 hits", "API", "raw + highlights", "raw exact", "raw + facets"]
    print_table([*headers, "API / raw", "API / exact", "FTS5"], rows)
    print(f"\n  All queries together ({len(queries)} queries x {args.requests} requests):")
    overall = {}
    rows = []
    for name in variants:
        values = [v for per_query in times[name].values() for v in per_query]
        overall[name] = (percentile(values, 0.5), percentile(values, 0.95))
        rows.append([name, f"{overall[name][0]:.1f}", f"{overall[name][1]:.1f}"])
    print_table(["variant", "p50 ms", "p95 ms"], rows)
    a, r, e = overall[api_name], overall[raw_name], overall[RAW_EXACT]
    print(f"  API / raw Whoosh with highlights: p50 {a[0] / r[0]:.2f}x, p95 {a[1] / r[1]:.2f}x (goal <= 1.5x)")
    print(f"  API / raw Whoosh, exact top 20: p50 {a[0] / e[0]:.2f}x, p95 {a[1] / e[1]:.2f}x (the like-for-like ratio)")
    overall["api"], overall["raw"], overall["exact"] = a, r, e
    overall["fts"] = overall[FTS_NAME]
    return overall


class MultiArgs(dict):
    """The least of a MultiDict that fulltext.params_from reads."""

    def getlist(self, name: str) -> list[str]:
        return [self[name]] if name in self else []


# --- 4. save to searchable ---------------------------------------------------------------------------------------


def measure_stream(port: int, secret: str, layout: Layout, database_url: str, args) -> dict:
    """Register at a steady rate through the API while another client looks for each new document; print delays."""
    rng = random.Random(SEED)
    total = int(args.rate * args.seconds)
    tokens = ["zq" + "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(9)) for _ in range(total)]
    saved: dict[int, tuple[str, float]] = {}  # document id -> (token, when the registration's response came)
    found: dict[int, float] = {}
    registering_ms: list[float] = []
    lock = threading.Lock()
    done = threading.Event()
    failures: list[str] = []
    searches = 0

    def register() -> None:
        client = ApiClient(port, secret)
        in_series, sender = layout.series["IN"][0], layout.senders[0][0]
        began = time.perf_counter()
        try:
            for k, token in enumerate(tokens):
                delay = began + k / args.rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                payload = {
                    "series_id": in_series,
                    "title": f"Oficio de seguimiento {token}",
                    "received_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds"),
                    "channel": "email",
                    "correspondent_id": sender,
                }
                sent = time.perf_counter()
                status, data = client.call("POST", "/api/v1/documents/incoming", payload)
                now = time.perf_counter()
                if status != 201:
                    failures.append(f"registration answered {status}: {str(data)[:300]}")
                    return
                registering_ms.append((now - sent) * 1000)
                with lock:
                    saved[data["id"]] = (token, now)
        finally:
            client.close()
            done.set()

    def look() -> None:
        nonlocal searches
        client = ApiClient(port, secret)
        try:
            deadline = None
            while True:
                with lock:
                    waiting = {ident: token for ident, (token, _) in saved.items() if ident not in found}
                if done.is_set():
                    deadline = deadline or time.perf_counter() + STREAM_GRACE
                    if (not waiting and len(saved) + len(failures) >= len(tokens)) or time.perf_counter() > deadline:
                        return
                if waiting:
                    oldest = sorted(waiting)[:40]
                    data = client.search(" OR ".join(waiting[i] for i in oldest), per_page=50)
                    searches += 1
                    now = time.perf_counter()
                    with lock:
                        for ident in hit_ids(data):
                            if ident in waiting:
                                found.setdefault(ident, now)
                time.sleep(STREAM_POLL)
        finally:
            client.close()

    threads = [threading.Thread(target=register), threading.Thread(target=look)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(failures[0])
    delays = [found[i] - saved[i][1] for i in saved if i in found]
    missing = len(saved) - len(delays)
    print(
        f"\n4. Save to searchable: {len(saved)} registrations through the API at {args.rate:g}/s for "
        f"{args.seconds:g} s (gunicorn, 2 workers, embedded writers on, SEARCH_POLL_MS default), "
        f"{searches} searches every {STREAM_POLL * 1000:.0f} ms"
    )
    result = {"missing": missing, "count": len(saved)}
    if delays:
        result.update(p50=percentile(delays, 0.5), p95=percentile(delays, 0.95), max=max(delays))
        print_table(
            ["measure", "p50", "p95", "max"],
            [
                [
                    "save -> found by a search, s",
                    f"{result['p50']:.2f}",
                    f"{result['p95']:.2f}",
                    f"{result['max']:.2f}",
                ],
                [
                    "registration request, ms",
                    f"{percentile(registering_ms, 0.5):.0f}",
                    f"{percentile(registering_ms, 0.95):.0f}",
                    f"{max(registering_ms):.0f}",
                ],
            ],
        )
    print(f"  not found within {STREAM_GRACE:.0f} s of the last registration: {missing} (goal: all within 2 s)")
    if missing:
        engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            queued = connection.execute(sa.select(sa.func.count()).select_from(SearchQueue)).scalar_one()
            writer = connection.execute(sa.select(SearchWriter)).one()
        engine.dispose()
        print(
            f"  then: {queued} change(s) still queued; writer lease held by {writer.holder or 'nobody'!r}, "
            f"rebuild requested: {writer.rebuild_requested}, last error: {writer.last_error or 'none'!r}"
        )
    return result


# --- 5. check -------------------------------------------------------------------------------------------------------


def measure_check(env: dict[str, str], instance: Path, folder: Path) -> dict:
    flask = Path(sys.executable).parent / "flask"
    command = [
        str(flask),
        "--app",
        f"app:create_app(instance_path={str(instance)!r})",
        "search",
        "check",
        "--no-repair",
    ]
    output = folder / "check.log"
    measured = run_measured(command, output, env={**os.environ, **env}, cwd=ROOT)
    lines = [line for line in output.read_text(errors="replace").splitlines() if line.strip()]
    summary = next((line for line in lines if "document(s)" in line), lines[-1] if lines else "")
    print(f"\n5. flask search check --no-repair: {measured.seconds:.1f} s, peak RSS {measured.peak_rss_mb:,.0f} MB")
    print(f"  exit status {measured.returncode}; it said: {summary.strip()}")
    return {"seconds": measured.seconds, "rss": measured.peak_rss_mb, "said": summary.strip()}


# --- the run --------------------------------------------------------------------------------------------------------


def measure(args) -> None:
    corpus = Corpus(args.corpus)
    print(f"Corpus: {corpus.describe()}")
    with scratch_database("sqlite", keep=args.keep) as (database_url, folder):
        print(f"\nLoading {args.docs:,} documents into SQLite")
        layout, password, secret, entries = load(database_url, folder, corpus, args.docs)
        ours, baseline = measure_reindex(database_url, folder, layout, args)

        print(f"\n3. SQLite FTS5 reference: indexing the same {len(entries):,} texts")
        fts = Fts5(folder / "fts.sqlite3")
        fts_seconds = fts.add(entries)
        fts_rate = len(entries) / fts_seconds
        print(f"  {fts_seconds:.1f} s, {fts_rate:,.0f} documents/s (queries: with the latency figures below)")

        instance = folder / "served"
        env = {
            "DOCSTORE_DATABASE_URL": database_url,
            "DOCSTORE_INDEX_DIR": str(folder / "index"),
            "DOCSTORE_SECURE_COOKIES": "0",
            "DOCSTORE_EXTRACTION_WORKER": "0",
            "DOCSTORE_SECRET_KEY": "bench-secret-key",
        }
        app = create_app(settings_for(database_url, folder / "index"), instance_path=str(folder / "inprocess"))
        spec = f"app:create_app(instance_path={str(instance)!r})"
        with gunicorn(spec, env, 2, folder / "gunicorn.log") as port:
            probe = ApiClient(port, secret)
            status, _data = probe.call("GET", "/api/v1/search?q=derechos")
            probe.close()
            if status == 404:
                raise SystemExit("GET /api/v1/search answered 404: the API has no search endpoint in this checkout")
            print("\n2. Search latency: queries in three languages, page 1 (20 hits), a clerk who sees everything")
            queries = usable_queries(app, entries)
            latency = measure_latency(port, secret, password, app, layout.clerk, entries, fts, queries, args)
            stream = measure_stream(port, secret, layout, database_url, args)
        with app.app_context():
            db.engine.dispose()
        check = measure_check({**env, "DOCSTORE_SEARCH_WRITER": "0"}, folder / "checked", folder)

        print(f"\nSummary ({args.docs:,} documents)")
        ours_rate = ours["documents"] / ours["seconds"]
        raw_rate = baseline["documents"] / baseline["seconds"]
        rows = [
            [
                "reindex, documents/s",
                f"{ours_rate:,.0f}",
                f"{raw_rate:,.0f}",
                f"{ours_rate / raw_rate:.2f}",
                ">= 0.8",
                f"{fts_rate:,.0f}",
            ],
            ["reindex, peak RSS MB", f"{ours['rss']:,.0f}", f"{baseline['rss']:,.0f}", "", "", ""],
            [
                "search p50 ms (API vs raw + highlights)",
                f"{latency['api'][0]:.1f}",
                f"{latency['raw'][0]:.1f}",
                f"{latency['api'][0] / latency['raw'][0]:.2f}",
                "<= 1.5",
                f"{latency['fts'][0]:.2f}",
            ],
            [
                "search p95 ms",
                f"{latency['api'][1]:.1f}",
                f"{latency['raw'][1]:.1f}",
                f"{latency['api'][1] / latency['raw'][1]:.2f}",
                "<= 1.5",
                f"{latency['fts'][1]:.2f}",
            ],
        ]
        if "p50" in stream:
            delays = f"{stream['p50']:.2f} / {stream['p95']:.2f} / {stream['max']:.2f}"
            rows.append(["save -> searchable p50 / p95 / max s", delays, "", "", "<= 2 s", ""])
        rows.append(["flask search check, s", f"{check['seconds']:.1f}", "", "", "", ""])
        print_table(["measure", "Docstore", "raw Whoosh", "ratio", "goal", "FTS5"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000, help="documents in the corpus (default 100000)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5000 documents, fewer requests")
    parser.add_argument("--trial-docs", type=int, default=20_000, help="documents for trying raw Whoosh settings")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per query and variant")
    parser.add_argument("--rate", type=float, default=5.0, help="registrations per second in part 4")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long registrations go on in part 4")
    parser.add_argument(
        "--chunks",
        type=lambda v: [int(n) for n in v.split(",")],
        default=[SETTINGS["SEARCH_REBUILD_CHUNK"][0], 1_000],
        help="SEARCH_REBUILD_CHUNK values to rebuild with, the first one compared and searched",
    )
    parser.add_argument("--profile", action="store_true", help="profile the rebuild and print its top entries")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of the texts (shared/corpus/text)")
    parser.add_argument("--keep", type=Path, help="a new folder to keep the database, index and logs in")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        result = {"rebuild": child_rebuild, "raw": child_raw}[spec["mode"]](spec)
        print(json.dumps(result))
        return
    if args.quick:
        args.docs, args.trial_docs, args.requests, args.seconds = 5_000, 5_000, 5, 10.0
    print(f"Machine: {describe_machine()}")
    measure(args)


if __name__ == "__main__":
    main()
