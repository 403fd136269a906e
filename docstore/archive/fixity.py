"""Integrity (fixity) checks: re-hash the stored files and record what was found.

Every file the store is expected to hold is checked: the attachments of documents, the files of records still kept,
the directive templates and the disposal certificates. Each check is a PREMIS "fixity check" event (`FixityEvent`:
the digest, the outcome ok / missing / altered, when); a run of `verify` (`FixityRun`) counts them. A file is named
by its SHA-256, so re-hashing it says whether its bytes are still the ones stored.

A large store is checked in samples: `verify(store, sample=N)` takes the N files checked longest ago (those never
checked first), so that successive runs go round the whole store. Events are written and committed in batches: a
long run shows its progress, and one that is stopped keeps what it checked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    String,
    Subquery,
    and_,
    cast,
    exists,
    func,
    insert,
    literal,
    nulls_first,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.orm import aliased

import storage
from docstore import audit, clock, database
from docstore.extensions import db
from docstore.models import (
    Attachment,
    DirectiveTemplate,
    Disposal,
    Document,
    FixityEvent,
    FixityRun,
    Record,
    RecordFile,
)

#: Events written (and committed) together; a batch is also written when it took longer than BATCH_SECONDS.
BATCH_SIZE = 1000
BATCH_SECONDS = 10.0
#: Digests looked up together when finding where problem files are used (bound parameters per statement).
LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class Progress:
    """How far a run has got: files checked out of `total`, and the bytes read so far."""

    run_id: int
    done: int
    total: int
    bytes_read: int


@dataclass(frozen=True)
class Use:
    """One place a stored file is used.

    `kind` is "attachment" (`reference` is the document's number, `object_id` the document's id), "record" (the
    record's code and id), "template" (a directive template's name and id) or "certificate" (a disposal's id).
    """

    kind: str
    reference: str
    filename: str
    object_id: int


@dataclass(frozen=True)
class Problem:
    """A stored file found missing or altered, with every document, record, template or disposal that uses it."""

    sha256: str
    outcome: str
    checked_at: datetime
    uses: tuple[Use, ...] = ()

    @property
    def documents(self) -> list[str]:
        """Return the numbers of the documents the file is attached to."""
        return _distinct(use.reference for use in self.uses if use.kind == "attachment")

    @property
    def records(self) -> list[str]:
        """Return the codes of the kept records the file belongs to."""
        return _distinct(use.reference for use in self.uses if use.kind == "record")

    @property
    def filenames(self) -> list[str]:
        """Return the names the file goes by."""
        return _distinct(use.filename for use in self.uses if use.filename)


@dataclass
class _Counts:
    checked: int = 0
    intact: int = 0
    missing: int = 0
    altered: int = 0
    bytes_read: int = 0

    def add(self, outcome: str, size: int) -> None:
        self.checked += 1
        if outcome == "ok":
            self.intact += 1
        elif outcome == "missing":
            self.missing += 1
        else:
            self.altered += 1
        self.bytes_read += size

    def as_dict(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "intact": self.intact,
            "missing": self.missing,
            "altered": self.altered,
            "bytes_read": self.bytes_read,
        }


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def stored_digests() -> Subquery:
    """Return a subquery of the distinct digests the store should hold (its one column is `sha256`)."""
    return union(
        select(Attachment.sha256.label("sha256")),
        select(RecordFile.sha256).join(Record, Record.id == RecordFile.record_id).where(Record.state == "kept"),
        select(DirectiveTemplate.sha256),
        select(Disposal.certificate_sha256).where(Disposal.certificate_sha256 != ""),
    ).subquery("stored")


def _digests_to_check(sample: int | None) -> list[str]:
    """Return the digests a run checks, in the order of their place in the store (neighbours on disk together)."""
    stored = stored_digests()
    query = select(stored.c.sha256)
    if sample is not None:
        last_checked = (
            select(func.max(FixityEvent.checked_at))
            .where(FixityEvent.sha256 == stored.c.sha256)
            .correlate(stored)
            .scalar_subquery()
        )
        query = query.order_by(nulls_first(last_checked.asc()), stored.c.sha256).limit(sample)
    return sorted(db.session.execute(query).scalars())


def _check(store: storage.FileStore, sha256: str) -> tuple[str, int]:
    """Re-hash one stored file; return its outcome and the bytes read."""
    try:
        size = store.path(sha256).stat().st_size
        intact = store.verify(sha256)
    except (storage.StorageError, OSError):
        # Gone, or unreadable (permissions, a failing disk): either way the stored bytes cannot be had.
        return "missing", 0
    return ("ok" if intact else "altered"), size


def verify(
    store: storage.FileStore,
    *,
    sample: int | None = None,
    progress: Callable[[Progress], None] | None = None,
    ctx: audit.Context = audit.SYSTEM,
) -> FixityRun:
    """Re-hash the stored files (all, or the `sample` checked longest ago) and record each check; return the run.

    Commits as it goes: the run first, then each batch of events with the run's counts so far, and last the run's
    end with one audit event of its counts. `progress`, when given, is called after each batch is committed.
    """
    if sample is not None and sample < 1:
        raise ValueError("sample must be at least 1")
    scope = "all" if sample is None else "sample"
    digests = _digests_to_check(sample)
    db.session.commit()  # no transaction stays open while files are read
    with database.writing():
        run = FixityRun(scope=scope, started_at=clock.now())
        db.session.add(run)
        db.session.flush()
        run_id = run.id
        db.session.commit()
    counts = _Counts()
    batch: list[dict] = []
    written_at = time.monotonic()
    for sha256 in digests:
        outcome, size = _check(store, sha256)
        counts.add(outcome, size)
        batch.append({"run_id": run_id, "sha256": sha256, "outcome": outcome, "checked_at": clock.now()})
        if len(batch) >= BATCH_SIZE or time.monotonic() - written_at >= BATCH_SECONDS:
            with database.writing():
                _write(run_id, batch, counts)
                db.session.commit()
            batch, written_at = [], time.monotonic()
            if progress is not None and counts.checked < len(digests):
                progress(Progress(run_id, counts.checked, len(digests), counts.bytes_read))
    with database.writing():
        _write(run_id, batch, counts, finished_at=clock.now())
        audit.record_event(
            ctx, "archive.fixity_checked", "fixity_run", run_id, after={"scope": scope, **counts.as_dict()}
        )
        db.session.commit()
    if progress is not None:
        progress(Progress(run_id, counts.checked, len(digests), counts.bytes_read))
    return db.session.get(FixityRun, run_id)


def _write(run_id: int, events: list[dict], counts: _Counts, **values) -> None:
    """Insert a batch of events and bring the run's counts (and `values`) up to date; the caller commits."""
    if events:
        db.session.execute(insert(FixityEvent), events)
    db.session.execute(update(FixityRun).where(FixityRun.id == run_id).values(**counts.as_dict(), **values))


def last_runs(limit: int = 10) -> list[FixityRun]:
    """Return the latest runs, newest first (a run with no `finished_at` is still going, or was stopped)."""
    return list(db.session.execute(select(FixityRun).order_by(FixityRun.id.desc()).limit(limit)).scalars())


def problems(run_id: int) -> list[Problem]:
    """Return the files run `run_id` found missing or altered, each with where it is used, in the order checked."""
    rows = db.session.execute(
        select(FixityEvent.sha256, FixityEvent.outcome, FixityEvent.checked_at)
        .where(FixityEvent.run_id == run_id, FixityEvent.outcome != "ok")
        .order_by(FixityEvent.id)
    ).all()
    return _with_uses(rows)


def latest_problems(limit: int = 100) -> list[Problem]:
    """Return the files whose latest check found them missing or altered and that are still in use, latest first.

    A file checked again and found intact (restored from a backup, say) is no longer a problem; neither is one whose
    documents and records no longer use it.
    """
    newer = aliased(FixityEvent)
    flagged_runs = select(FixityRun.id).where(FixityRun.missing + FixityRun.altered > 0)
    checked_since = exists().where(
        newer.sha256 == FixityEvent.sha256,
        or_(
            newer.checked_at > FixityEvent.checked_at,
            and_(newer.checked_at == FixityEvent.checked_at, newer.id > FixityEvent.id),
        ),
    )
    rows = db.session.execute(
        select(FixityEvent.sha256, FixityEvent.outcome, FixityEvent.checked_at)
        .where(FixityEvent.run_id.in_(flagged_runs), FixityEvent.outcome != "ok", ~checked_since)
        .order_by(FixityEvent.checked_at.desc(), FixityEvent.id.desc())
    ).all()
    found: list[Problem] = []
    for chunk in _chunks(rows, LOOKUP_CHUNK):
        found.extend(problem for problem in _with_uses(chunk) if problem.uses)
        if len(found) >= limit:
            break
    return found[:limit]


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _with_uses(rows: list) -> list[Problem]:
    """Return a `Problem` for each (sha256, outcome, checked_at) row, with the places its file is used."""
    found = []
    for chunk in _chunks(rows, LOOKUP_CHUNK):
        uses = _uses_of([row.sha256 for row in chunk])
        found.extend(Problem(row.sha256, row.outcome, row.checked_at, tuple(uses.get(row.sha256, ()))) for row in chunk)
    return found


def _uses_of(digests: list[str]) -> dict[str, list[Use]]:
    """Return where each of `digests` is used: attachments, kept records' files, templates, certificates."""
    queries = (
        (
            "attachment",
            select(Attachment.sha256, Document.number, Attachment.filename, Document.id)
            .join(Document, Document.id == Attachment.document_id)
            .where(Attachment.sha256.in_(digests))
            .order_by(Document.id, Attachment.position),
        ),
        (
            "record",
            select(RecordFile.sha256, Record.code, RecordFile.filename, Record.id)
            .join(Record, Record.id == RecordFile.record_id)
            .where(RecordFile.sha256.in_(digests), Record.state == "kept")
            .order_by(Record.id, RecordFile.position),
        ),
        (
            "template",
            select(DirectiveTemplate.sha256, DirectiveTemplate.name, DirectiveTemplate.filename, DirectiveTemplate.id)
            .where(DirectiveTemplate.sha256.in_(digests))
            .order_by(DirectiveTemplate.id),
        ),
        (
            "certificate",
            select(Disposal.certificate_sha256, cast(Disposal.id, String), literal(""), Disposal.id)
            .where(Disposal.certificate_sha256.in_(digests))
            .order_by(Disposal.id),
        ),
    )
    uses: dict[str, list[Use]] = {}
    for kind, query in queries:
        for sha256, reference, filename, object_id in db.session.execute(query):
            uses.setdefault(sha256, []).append(Use(kind, reference, filename, object_id))
    return uses
