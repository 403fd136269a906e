"""Keeping the full-text index in step with the database: the queue, the single writer, rebuild and check.

- **Queue.** Whenever a flush adds or changes a document, its recipients or attachments (or renames a
  correspondent or a department), a row naming the document goes into ``search_queue`` in the same transaction.
  So does a change of who handles a document (its routing item, tasks and readers: the index's `handlers`), also
  when an ORM ``UPDATE`` statement makes it, as routing does to move a task, for a flush never sees those.
  A crash loses nothing: what was committed is queued, and the queue is applied when a writer next runs.
- **One writer.** Any number of processes may run the writer loop (a thread of each web process, or
  `flask search run`), but only the holder of the lease in ``search_writer`` writes, in batches; Whoosh's lock
  file is a second guard. The lease expires when its holder dies, and another process takes over. While it works,
  the holder renews the lease from a thread of its own (a rebuild chunk or a merge may outlast the lease); a
  holder that lost it anyway (paused past its expiry) stops at its next step.
- **Rebuild.** Reads documents in id order in chunks (memory does not grow with the corpus), writes a new
  generation beside the live one, applies queued changes to both between chunks, and swaps it in at the end. An
  interrupted rebuild resumes from its last chunk. A missing or unreadable index is rebuilt this way in the
  background while search says it is being rebuilt and everything else carries on.
- **Check.** Compares the stamp of every document's entry in the database and in the index, reports missing,
  stale and orphan entries, and queues their repair.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Float, delete, event, func, insert, inspect, literal, select, update
from sqlalchemy.orm import ORMExecuteState, Session, selectinload

import search
from docstore import database
from docstore.extensions import db
from docstore.models import (
    Attachment,
    AttachmentText,
    Correspondent,
    Department,
    Document,
    DocumentRecipient,
    Reader,
    RoutingItem,
    SearchQueue,
    SearchWriter,
    Task,
)
from docstore.models.routing import HANDLING_TASK_STATES

log = logging.getLogger(__name__)

#: Woken when a transaction of this process queued something, so that its writer does not wait for the next poll.
_wake = threading.Event()

_LEASE_SECONDS = 60.0
#: Writes in a row that may fail on an index that still reads fine before the writer rebuilds it.
REBUILD_AFTER_FAILURES = 5


class LeaseLost(RuntimeError):
    """Another process took the search writer's lease (or it ran out): this one must stop writing."""


# --- the queue ---------------------------------------------------------------------------------------------------


#: The columns of a task or a reader that decide who handles its document (the `handlers` of its entry).
_HANDLING_COLUMNS: dict[type, tuple[str, ...]] = {
    Task: ("item_id", "user_id", "department_id", "state"),
    Reader: ("item_id", "user_id"),
}


def _queued_ids(session: Session) -> tuple[set[int], set[int], set[int], set[int]]:
    """Return (document ids, correspondent ids, department ids, routing item ids) touched by the flush under way."""
    documents: set[int] = set()
    correspondents: set[int] = set()
    departments: set[int] = set()
    items: set[int] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        added_or_deleted = obj in session.new or obj in session.deleted
        if isinstance(obj, Document):
            if obj.id is not None and (added_or_deleted or session.is_modified(obj)):
                documents.add(obj.id)
        elif isinstance(obj, Attachment | DocumentRecipient):
            if obj.document_id is not None and (added_or_deleted or session.is_modified(obj)):
                documents.add(obj.document_id)
        elif isinstance(obj, Correspondent) and obj.id is not None and _renamed(obj):
            correspondents.add(obj.id)
        elif isinstance(obj, Department) and obj.id is not None and _renamed(obj):
            departments.add(obj.id)
        elif isinstance(obj, RoutingItem):  # it names its document: no look-up (its state is not indexed)
            # a new item has no task or reader yet (registering an incoming document queues it once, not twice)
            if obj in session.deleted or (obj not in session.new and _changed(obj, ("document_id",))):
                documents.update(_values(obj, "document_id"))
        elif isinstance(obj, Task | Reader):  # a deadline, a result or a reading changes no handler
            if added_or_deleted or _changed(obj, _HANDLING_COLUMNS[type(obj)]):
                items.update(_values(obj, "item_id"))
    return documents, correspondents, departments, items


def _changed(obj, names: Iterable[str]) -> bool:
    """True when the flush changes one of the attributes `names` of `obj`."""
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _values(obj, name: str) -> set[int]:
    """Return the value of the attribute `name` of `obj`, and its value before the flush if that changes it.

    Read from the object's state, never loaded: a flush is under way.
    """
    state = inspect(obj)
    history = state.attrs[name].history
    return {value for value in (state.dict.get(name), *history.deleted) if value is not None}


def _renamed(obj: Correspondent | Department) -> bool:
    """True when the flush changes the name of `obj`, the only thing of it that is indexed (an edited address or a
    deactivation must not queue again every document of a busy sender)."""
    return inspect(obj).attrs.name.history.has_changes()


@event.listens_for(Session, "after_flush")
def _queue_changes(session: Session, _context) -> None:
    documents, correspondents, departments, items = _queued_ids(session)
    if not documents and not correspondents and not departments and not items:
        return
    now = time.time()
    connection = session.connection()
    if documents:
        connection.execute(
            insert(SearchQueue.__table__), [{"document_id": d, "queued_at": now} for d in sorted(documents)]
        )
    if items:  # tasks and readers: the documents of their items, in one statement
        routed = select(RoutingItem.document_id, literal(now, Float)).where(RoutingItem.id.in_(sorted(items)))
        connection.execute(insert(SearchQueue.__table__).from_select(["document_id", "queued_at"], routed))
    for ident in sorted(correspondents):  # a renamed sender: every document it sent or received is indexed again
        named = (
            select(Document.id, literal(now, Float))
            .where(Document.correspondent_id == ident)
            .union(
                select(DocumentRecipient.document_id, literal(now, Float)).where(
                    DocumentRecipient.correspondent_id == ident
                )
            )
        )
        connection.execute(insert(SearchQueue.__table__).from_select(["document_id", "queued_at"], named))
    for ident in sorted(departments):  # a renamed department: the documents it is a recipient of
        named = select(DocumentRecipient.document_id, literal(now, Float)).where(
            DocumentRecipient.department_id == ident
        )
        connection.execute(insert(SearchQueue.__table__).from_select(["document_id", "queued_at"], named))
    session.info["search_queued"] = True


@event.listens_for(Session, "do_orm_execute")
def _queue_bulk_changes(execution: ORMExecuteState) -> None:
    """Queue the documents whose tasks or readers an ORM UPDATE or DELETE statement is about to change.

    A flush never sees these statements (routing moves a task with a conditional UPDATE), so the rows they will
    touch are looked up now, by the statement's own WHERE clause, before it changes them.
    """
    if not (execution.is_update or execution.is_delete) or execution.bind_mapper is None:
        return
    model = execution.bind_mapper.class_
    if model not in _HANDLING_COLUMNS:
        return
    statement = execution.statement
    if execution.is_update and not _sets_any(statement, _HANDLING_COLUMNS[model]):
        return
    routed = select(RoutingItem.document_id, literal(time.time(), Float)).join(model, model.item_id == RoutingItem.id)
    if statement.whereclause is not None:
        routed = routed.where(statement.whereclause)
    session = execution.session
    session.connection().execute(insert(SearchQueue.__table__).from_select(["document_id", "queued_at"], routed))
    session.info["search_queued"] = True


def _sets_any(statement, names: tuple[str, ...]) -> bool:
    """True when the UPDATE `statement` may set one of the columns `names` (when its columns are unknown, it may)."""
    values = getattr(statement, "_values", None)  # SQLAlchemy's own record of `.values(...)`; no public accessor
    if not values:
        return True
    return any(getattr(column, "key", column) in names for column in values)


@event.listens_for(Session, "after_commit")
def _wake_writer(session: Session) -> None:
    if session.info.pop("search_queued", False):
        _wake.set()


@event.listens_for(Session, "after_rollback")
def _forget_queued(session: Session) -> None:
    session.info.pop("search_queued", None)


def queue_all() -> int:
    """Queue every document (used by `search check --repair` and tests); return how many."""
    with database.writing():
        now = time.time()
        db.session.execute(
            insert(SearchQueue.__table__).from_select(
                ["document_id", "queued_at"], select(Document.id, literal(now, Float))
            )
        )
        count = db.session.execute(select(func.count()).select_from(Document)).scalar_one()
        db.session.commit()
    return count


def queue_ids(ids: Iterable[int]) -> None:
    """Queue the documents `ids` (which may no longer exist: their entries are then removed)."""
    rows = [{"document_id": int(i), "queued_at": time.time()} for i in ids]
    if not rows:
        return
    with database.writing():
        db.session.execute(insert(SearchQueue.__table__), rows)
        db.session.commit()
    _wake.set()


def queue_length() -> int:
    return db.session.execute(select(func.count()).select_from(SearchQueue)).scalar_one()


# --- what is indexed ----------------------------------------------------------------------------------------------


def entries_for(ids: Iterable[int], max_text_chars: int) -> dict[int, search.Entry]:
    """Return the index entries of the documents `ids` that exist, by id (texts are capped at `max_text_chars`)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    documents = db.session.scalars(
        select(Document)
        .where(Document.id.in_(ids))
        .options(
            selectinload(Document.correspondent),
            selectinload(Document.recipients).selectinload(DocumentRecipient.correspondent),
            selectinload(Document.recipients).selectinload(DocumentRecipient.department),
        )
    ).all()
    files: dict[int, list[tuple[str, str]]] = {}
    rows = db.session.execute(
        select(Attachment.document_id, Attachment.filename, AttachmentText.text)
        .outerjoin(AttachmentText, AttachmentText.attachment_id == Attachment.id)
        .where(Attachment.document_id.in_(ids))
        .order_by(Attachment.document_id, Attachment.position, Attachment.id)
    )
    for document_id, filename, text in rows:
        files.setdefault(document_id, []).append((filename, text or ""))
    handlers = _handlers(ids)
    entries = {}
    for document in documents:
        attached = files.get(document.id, [])
        parts = [document.summary, document.notes, document.void_reason]
        parts += [name for name, _ in attached]
        budget = max_text_chars
        for _, text in attached:
            if budget <= 0:
                break
            parts.append(text[:budget])
            budget -= len(text)
        recipients = "\n".join(r.name for r in document.recipients)
        entries[document.id] = search.Entry(
            id=document.id,
            title=document.title,
            text="\n".join(p for p in parts if p),
            codes=tuple(c for c in (document.number, document.sender_reference) if c),
            sender_name=document.correspondent.name if document.correspondent else "",
            recipient_names=recipients,
            series=document.series_id,
            year=document.year,
            type=document.document_type_id,
            urgency=document.urgency,
            status=document.status,
            department=document.department_id,
            sender=document.correspondent_id,
            files=bool(attached),
            registered=document.registered_at,
            level=document.classification,
            owner=document.registered_by_id,
            handlers=handlers.get(document.id, ()),
        )
    return entries


def _handlers(ids: list[int]) -> dict[int, tuple[str, ...]]:
    """Return, by document, the words of who handles it (`Entry.handlers`), in two queries for all of `ids`.

    The users of its open and done tasks, the departments of those without a user, and its readers: the routing
    part of `registry.can_view`, which adds the substitutes of these people at search time (`search.Access`).
    """
    found: dict[int, set[str]] = {}
    tasks = db.session.execute(
        select(RoutingItem.document_id, Task.user_id, Task.department_id)
        .join(Task, Task.item_id == RoutingItem.id)
        .where(RoutingItem.document_id.in_(ids), Task.state.in_(HANDLING_TASK_STATES))
    )
    for document_id, user_id, department_id in tasks:
        if user_id is not None:
            found.setdefault(document_id, set()).add(search.Access.user_handler(user_id))
        elif department_id is not None:
            found.setdefault(document_id, set()).add(search.Access.department_handler(department_id))
    readers = db.session.execute(
        select(RoutingItem.document_id, Reader.user_id)
        .join(Reader, Reader.item_id == RoutingItem.id)
        .where(RoutingItem.document_id.in_(ids))
    )
    for document_id, user_id in readers:
        found.setdefault(document_id, set()).add(search.Access.user_handler(user_id))
    return {document_id: tuple(sorted(words)) for document_id, words in found.items()}


# --- the index of this application -------------------------------------------------------------------------------


def index_for(app) -> search.SearchIndex:
    """Return the application's index object (one per process; creating it touches no file)."""
    index = app.extensions.get("docstore_search")
    if index is None:  # setdefault: threads that ask at once share one (and one warm searcher)
        index = app.extensions.setdefault(
            "docstore_search", search.SearchIndex(app.config["INDEX_DIR"], limitmb=app.config["SEARCH_WRITER_MB"])
        )
    return index


def request_rebuild(reason: str) -> None:
    """Ask the writer to rebuild the index (an unreadable index was met); safe to call from any request."""
    try:
        db.session.rollback()
        with database.writing():
            db.session.execute(
                update(SearchWriter)
                .where(SearchWriter.id == 1, SearchWriter.rebuild_requested.is_(False))
                .values(rebuild_requested=True, last_error=reason[:1000])
            )
            db.session.commit()
        _wake.set()
    except Exception:  # asking is best effort: the writer also checks the index's health on its own
        db.session.rollback()
        log.exception("could not ask for a rebuild of the search index")


# --- the writer ---------------------------------------------------------------------------------------------------


@dataclass
class Progress:
    """What a rebuild reports as it goes (the command line draws a bar from it)."""

    total: int = 0
    done: int = 0
    resumed: bool = False
    extra: dict = field(default_factory=dict)


class Writer:
    """The one process that writes the index: applies the queue in batches, rebuilds, repairs."""

    def __init__(self, index: search.SearchIndex, config: Mapping, holder: str | None = None):
        self.index = index
        self.batch = int(config["SEARCH_BATCH"])
        self.max_text = int(config["SEARCH_MAX_TEXT_CHARS"])
        self.chunk = int(config["SEARCH_REBUILD_CHUNK"])
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self._lost = threading.Event()  # set by the heartbeat when the lease could not be kept
        self._beating = False
        self._failures = 0  # writes that failed in a row on an index that still reads fine

    # the lease

    def acquire(self) -> bool:
        """Take or renew the lease; return False when another live process holds it."""
        now = time.time()
        db.session.rollback()
        with database.writing():
            taken = db.session.execute(
                update(SearchWriter)
                .where(
                    SearchWriter.id == 1,
                    (SearchWriter.holder == self.holder)
                    | (SearchWriter.holder == "")
                    | (SearchWriter.expires_at < now),
                )
                .values(holder=self.holder, expires_at=now + _LEASE_SECONDS)
                .execution_options(synchronize_session=False)
            ).rowcount
            db.session.commit()
        return taken == 1

    def _renewal(self, now: float):
        """Return the statement that extends the lease if this writer still holds it, unexpired."""
        table = SearchWriter.__table__
        return (
            update(table)
            .where(table.c.id == 1, table.c.holder == self.holder, table.c.expires_at >= now)
            .values(expires_at=now + _LEASE_SECONDS)
        )

    def _renew(self) -> None:
        """Extend the lease without a break; raise LeaseLost when it ran out or was taken (unlike `acquire`, which
        would take an expired lease again as if nothing had happened meanwhile)."""
        db.session.rollback()
        with database.writing():
            kept = db.session.execute(self._renewal(time.time())).rowcount
            db.session.commit()
        if kept != 1:
            self._lost.set()
            raise LeaseLost("the search writer's lease ran out or was taken by another process")

    def _check_lease(self) -> None:
        if self._lost.is_set():
            raise LeaseLost("the search writer's lease was taken by another process")

    @contextmanager
    def _holding(self) -> Iterator[None]:
        """Keep the lease while the work inside runs, renewing it every quarter lease from a thread of its own."""
        if self._beating:  # a rebuild drains the queue: one heartbeat is enough
            yield
            return
        self._renew()
        self._lost.clear()
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(db.engine, stop), name="docstore-search-lease", daemon=True)
        self._beating = True
        beat.start()
        try:
            yield
        finally:
            stop.set()
            beat.join()
            self._beating = False

    def _beat(self, engine, stop: threading.Event) -> None:
        while not stop.wait(_LEASE_SECONDS / 4):
            try:
                with database.writing(), engine.begin() as connection:
                    kept = connection.execute(self._renewal(time.time())).rowcount
            except Exception:  # the database may answer again before the lease runs out
                log.warning("the search writer could not renew its lease", exc_info=True)
                continue
            if kept != 1:
                self._lost.set()
                return

    def release(self) -> None:
        db.session.rollback()
        with database.writing():
            db.session.execute(
                update(SearchWriter)
                .where(SearchWriter.id == 1, SearchWriter.holder == self.holder)
                .values(holder="", expires_at=0.0)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()

    def _note(self, **values) -> None:
        db.session.rollback()  # a write after a read in one deferred SQLite transaction fails: "database is locked"
        with database.writing():
            db.session.execute(
                update(SearchWriter)
                .where(SearchWriter.id == 1)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()

    # applying the queue

    def apply_batch(self) -> int:
        """Apply the oldest queued changes (one batch) to the index; return how many queue rows were done."""
        db.session.rollback()
        rows = db.session.execute(
            select(SearchQueue.id, SearchQueue.document_id).order_by(SearchQueue.id).limit(self.batch)
        ).all()
        if not rows:
            db.session.rollback()
            return 0
        ids = {row.document_id for row in rows}
        entries = entries_for(ids, self.max_text)
        db.session.rollback()
        self._check_lease()
        self.index.apply(list(entries.values()), sorted(ids - set(entries)))
        with database.writing():
            db.session.execute(
                delete(SearchQueue)
                .where(SearchQueue.id.in_([row.id for row in rows]))
                .execution_options(synchronize_session=False)
            )
            db.session.execute(
                update(SearchWriter)
                .where(SearchWriter.id == 1)
                .values(applied_total=SearchWriter.applied_total + len(rows), last_applied_at=time.time())
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
        return len(rows)

    def drain(self) -> int:
        """Apply the queue until it is empty; return how many queue rows were done."""
        done = 0
        with self._holding():
            while True:
                n = self.apply_batch()
                if n == 0:
                    return done
                done += n

    # rebuilding

    def rebuild(self, resume: bool = True, report: Callable[[Progress], None] | None = None) -> Progress:
        """Build a new generation from the database beside the live one and swap it in; return the progress."""
        with self._holding():
            build = self.index.start_build(resume=resume)
            db.session.rollback()
            progress = Progress(
                total=db.session.execute(select(func.count()).where(Document.id > build.cursor)).scalar_one(),
                resumed=build.resumed,
            )
            if report:
                report(progress)
            cursor = build.cursor
            while True:
                ids = db.session.scalars(
                    select(Document.id).where(Document.id > cursor).order_by(Document.id).limit(self.chunk)
                ).all()
                if not ids:
                    break
                entries = entries_for(ids, self.max_text)
                db.session.rollback()
                cursor = ids[-1]
                self._check_lease()
                build.add([entries[i] for i in ids if i in entries], cursor)
                progress.done += len(ids)
                if self.index.exists():
                    try:
                        self.drain()  # changes made meanwhile reach the live index and the part already rebuilt
                    except search.IndexUnavailable:
                        log.warning("the live index cannot be written during the rebuild; it will be replaced")
                        self._drain_into_build(build)
                self._renew()
                if report:
                    report(progress)
            self._check_lease()
            build.finish()
            self._note(rebuild_requested=False, last_error="")
            self.drain()
        return progress

    def _drain_into_build(self, build: search.Build) -> None:
        """Without a usable live index, queued changes of documents already rebuilt go to the new one only."""
        while True:
            db.session.rollback()
            rows = db.session.execute(
                select(SearchQueue.id, SearchQueue.document_id).order_by(SearchQueue.id).limit(self.batch)
            ).all()
            if not rows:
                return
            behind = {r.document_id for r in rows if r.document_id <= build.cursor}
            entries = entries_for(behind, self.max_text)
            db.session.rollback()
            self._check_lease()
            build.apply(list(entries.values()), sorted(behind - set(entries)))
            with database.writing():
                db.session.execute(
                    delete(SearchQueue)
                    .where(SearchQueue.id.in_([r.id for r in rows]))
                    .execution_options(synchronize_session=False)
                )
                db.session.commit()

    # one turn of the loop

    def needs_rebuild(self) -> bool:
        db.session.rollback()
        requested = db.session.execute(
            select(SearchWriter.rebuild_requested).where(SearchWriter.id == 1)
        ).scalar_one_or_none()
        db.session.rollback()
        return bool(requested) or not self.index.exists() or self.index.build_state() is not None

    def turn(self) -> bool:
        """Do what is due (rebuild, or apply the queue) if this process holds the lease; return True if busy."""
        db.session.rollback()
        pending = db.session.execute(select(SearchQueue.id).limit(1)).first() is not None
        db.session.rollback()
        if not pending and not self.needs_rebuild():
            return False
        if not self.acquire():
            return False
        try:
            with self._holding():
                if self.needs_rebuild() or not self.index.healthy():
                    log.info("rebuilding the search index")
                    self.rebuild()
                    return True
                applied = self.apply_batch()
                self._failures = 0
                return applied > 0
        except (search.IndexBusy, LeaseLost) as exc:  # another writer is at work: nothing is broken, try later
            log.warning("the search index is busy (%s): trying again later", exc)
            db.session.rollback()
            return False
        except search.IndexUnavailable as exc:
            db.session.rollback()
            # A rebuild takes minutes on a large index and the queue waits behind it: a write that fails on an
            # index a fresh searcher still reads is tried again, and only a run of such failures rebuilds.
            if self.index.healthy():
                self._failures += 1
                if self._failures < REBUILD_AFTER_FAILURES:
                    log.warning("writing the search index failed (%s); it reads fine: trying again", exc)
                    return False
            log.warning("the search index is unusable (%s): it will be rebuilt", exc)
            self._failures = 0
            self._note(rebuild_requested=True, last_error=str(exc)[:1000])
            return True
        finally:
            self.release()


def writer_for(app) -> Writer:
    return Writer(index_for(app), app.config)


def rebuilding_writer(app, procs: int | None = None) -> Writer:
    """Return a writer for a rebuild run by a command (`flask search reindex`), indexing with `procs` processes
    (default: SEARCH_REBUILD_PROCS). Writers inside web processes never fork: forking a threaded server is unsafe.
    The caller closes `writer.index`."""
    procs = int(app.config["SEARCH_REBUILD_PROCS"] if procs is None else procs)
    index = search.SearchIndex(app.config["INDEX_DIR"], limitmb=app.config["SEARCH_WRITER_MB"], procs=max(1, procs))
    return Writer(index, app.config)


def run_forever(app, stop: threading.Event) -> None:
    """Run the writer loop until `stop` is set (a thread of the web process, or `flask search run`)."""
    writer = writer_for(app)
    poll = app.config["SEARCH_POLL_MS"] / 1000.0
    while not stop.is_set():
        try:
            with app.app_context():
                busy = writer.turn()
                db.session.remove()
        except Exception:  # keep the loop alive: the failure is logged and the work is retried
            log.exception("the search index writer failed; retrying")
            busy = False
            stop.wait(min(5.0, poll * 10))
        if not busy:
            _wake.wait(poll)
            _wake.clear()


def start_embedded_writer(app) -> threading.Thread:
    """Start the writer thread of this process (once)."""
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(app, stop), name="docstore-search-writer", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread


def status(index: search.SearchIndex) -> dict:
    """Return what `flask search status` and the admin page show about the index."""
    db.session.rollback()
    row = db.session.get(SearchWriter, 1)
    oldest = db.session.execute(select(func.min(SearchQueue.queued_at))).scalar_one()
    building = index.build_state()
    try:
        documents = index.doc_count()
        health = "ok"
    except search.IndexUnavailable as exc:
        documents, health = None, f"unavailable ({exc})"
    state = {
        "folder": str(index.root),
        "generation": index.live_generation() or "none",
        "health": health,
        "documents": documents,
        "queued": queue_length(),
        "oldest_queued_seconds": round(time.time() - oldest, 1) if oldest else 0,
        "rebuilding": f"{building[0]} (up to document {building[1]})" if building else "no",
        "rebuild_requested": bool(row and row.rebuild_requested),
        "writer": (row.holder or "idle") if row else "idle",
        "applied_total": row.applied_total if row else 0,
        "last_error": (row.last_error if row else "") or "none",
    }
    db.session.rollback()
    return state


# --- checking ------------------------------------------------------------------------------------------------------


@dataclass
class CheckReport:
    documents: int = 0
    indexed: int = 0
    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    orphans: list[int] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.stale or self.orphans)


def check(index: search.SearchIndex, config: Mapping, report: Callable[[int], None] | None = None) -> CheckReport:
    """Compare the index with the database (raises IndexUnavailable when the index cannot be read).

    A document indexed more than once counts as stale: repairing it replaces its entries with one.
    """
    indexed: dict[int, str] = {}
    repeated: set[int] = set()
    for ident, stamp in index.stamps():
        if ident in indexed:
            repeated.add(ident)
        indexed[ident] = stamp
    result = CheckReport(indexed=len(indexed))
    chunk, max_text = int(config["SEARCH_REBUILD_CHUNK"]), int(config["SEARCH_MAX_TEXT_CHARS"])
    cursor = 0
    seen: set[int] = set()
    while True:
        db.session.rollback()
        ids = db.session.scalars(
            select(Document.id).where(Document.id > cursor).order_by(Document.id).limit(chunk)
        ).all()
        if not ids:
            break
        cursor = ids[-1]
        entries = entries_for(ids, max_text)
        for ident, entry in entries.items():
            seen.add(ident)
            stamp = indexed.get(ident)
            if stamp is None:
                result.missing.append(ident)
            elif stamp != entry.stamp() or ident in repeated:
                result.stale.append(ident)
        result.documents += len(entries)
        if report:
            report(len(ids))
    result.orphans = sorted(set(indexed) - seen)
    db.session.rollback()
    return result
