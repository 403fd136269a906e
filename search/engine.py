"""The index on disk: generations, the live one and the one being built, writing, searching and checking.

Layout of the index folder::

    CURRENT            name of the live generation (replaced atomically when a rebuild finishes)
    BUILDING           name of the generation being built, while a rebuild runs or was interrupted
    g-<time>/          a generation: a Whoosh index, plus build.json (the rebuild's cursor) while it is built

Only one process writes at a time (the application grants a lease; Whoosh's own lock file is a second guard). A
lock held by another writer raises `IndexBusy`, never `IndexUnavailable`: a busy index is not a broken one.
Searchers stay open between queries and are refreshed cheaply when the index changed; they notice a swapped
generation by the content of CURRENT. Any failure to read the index raises `IndexUnavailable`, never a Whoosh
error, so that the application can show "search is being rebuilt" and ask for a rebuild.
"""

from __future__ import annotations

import heapq
import json
import logging
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, compress, islice
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query
from whoosh.filedb.filestore import FileStorage

from search import query as query_language
from search import segments
from search.errors import IndexBusy, IndexUnavailable, QueryError
from search.schema import FACETS, Entry, build_schema, to_fields

log = logging.getLogger(__name__)

_CURRENT = "CURRENT"
_BUILDING = "BUILDING"
_BUILD_STATE = "build.json"
#: The highest classification level: a clearance of this level passes every level test.
MAX_LEVEL = 3
#: Unknown words a suggestion corrects at most: each scans the lexicon, while every search of the process waits.
_SUGGESTED_WORDS = 8


@dataclass(frozen=True)
class Access:
    """Who is searching: what they may open. `everything` skips the department test, never the clearance: the
    caller sets it for a searcher who sees the whole office, by a role of their own or of whom they act for today.

    Below their clearance, a searcher without `everything` may open the documents of their `departments`, those
    registered by `user`, and those handled by `user`, by whom they act for today (`acting_for`, as a substitute),
    or by one of the departments of all these people (`departments`, `acting_for_departments`): the words
    `user_handler(id)` and `department_handler(id)` in `Entry.handlers`. An Access is a key of the permission flags
    kept per segment (see `search.segments`): give its tuples in a stable order.
    """

    max_level: int = 0
    everything: bool = False
    user: int | None = None
    departments: tuple[int, ...] = ()
    acting_for: tuple[int, ...] = ()
    acting_for_departments: tuple[int, ...] = ()

    @staticmethod
    def user_handler(user_id: int) -> str:
        """Return the word of `Entry.handlers` for a user handling the document (a task's user, a reader)."""
        return f"u{user_id}"

    @staticmethod
    def department_handler(department_id: int) -> str:
        """Return the word of `Entry.handlers` for a department handling the document (its task, with no user)."""
        return f"d{department_id}"

    def as_filter(self) -> query.Query:
        """Return the query of the documents this searcher may open (Every when nothing is out of bounds)."""
        level = query.NumericRange("level", 0, int(self.max_level))
        if self.everything:
            return query.Every() if self.max_level >= MAX_LEVEL else level
        mine: list[query.Query] = [query.Term("department", str(d)) for d in self.departments]
        users = sorted({*([] if self.user is None else [self.user]), *self.acting_for})
        if self.user is not None:
            mine.append(query.Term("owner", str(self.user)))
        mine += [query.Term("handlers", self.user_handler(u)) for u in users]
        departments = sorted({*self.departments, *self.acting_for_departments})
        mine += [query.Term("handlers", self.department_handler(d)) for d in departments]
        if not mine:
            return query.NullQuery
        return query.And([level, query.Or(mine)])


@dataclass(frozen=True)
class Request:
    """A search: the typed text, facet filters (facet -> accepted values), a date range, an order and a page."""

    text: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    registered_from: datetime | None = None
    registered_until: datetime | None = None  # exclusive
    sort: str = "relevance"  # or "-registered", "registered"
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class Hit:
    """A matching document: its id, score, and the query's terms to highlight in it (the words it looks for, less
    those under NOT; a document may lack some of them when the query has OR)."""

    id: int
    score: float
    terms: frozenset[tuple[str, str]]


@dataclass(frozen=True)
class Results:
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]
    suggestion: str | None = None


#: The most words a prefix or wildcard may stand for: `co*` over a large index means tens of thousands, and
#: seconds of work that also hold up every other search of the process.
MAX_PATTERN_WORDS = 500


def _refuse_broad_patterns(searcher, q: query.Query) -> None:
    """Raise QueryError("too_broad") when a prefix or wildcard of `q` matches too many words of the index."""
    reader = searcher.reader()
    for leaf in q.leaves():
        if isinstance(leaf, query.PatternQuery):
            words = sum(1 for _ in islice(leaf._btexts(reader), MAX_PATTERN_WORDS + 1))
            if words > MAX_PATTERN_WORDS:
                raise QueryError("too_broad", pattern=segments.term_text(leaf.text))


def _open_dir(path: Path, schema):
    """Open the Whoosh index in `path` reading files normally: with memory-mapped files, a segment file cut short
    under an open searcher kills the whole process with SIGBUS instead of raising an error."""
    return FileStorage(str(path), supports_mmap=False).open_index(schema=schema)


def _utc_naive(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # the first or the last day of the calendar, in a time zone that moves it past
            moment = datetime.min if moment.year == 1 else datetime.max
    return moment


def _occurs(searcher, word: str, allowed: query.Query) -> bool:
    """True when the folded text of a document within `allowed` has `word`."""
    return not searcher.search(query.And([query.Term("fold", word), allowed]), limit=1).is_empty()


class SearchIndex:
    """The index folder of one application. Thread-safe: searches of one process share one warm searcher."""

    def __init__(self, root: str | os.PathLike, limitmb: int = 128, procs: int = 1):
        self.root = Path(root)
        self.limitmb = limitmb
        self.procs = procs
        self.schema = build_schema()
        self.parser = query_language.make_parser(self.schema)
        self.lock_timeout = 10.0  # seconds a writer waits for Whoosh's lock before the index counts as busy
        self._lock = threading.RLock()
        self._searcher = None
        self._searcher_gen: str | None = None
        self._columns = segments.Columns()
        self._files: dict[str, tuple[int, int]] = {}
        #: Searches in a row that failed even with a searcher opened afresh (reset by one that works).
        self.failed_searches = 0

    # --- generations ---------------------------------------------------------------------------------------------

    def _pointer(self, name: str) -> str | None:
        try:
            value = (self.root / name).read_text(encoding="ascii").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise IndexUnavailable(f"cannot read {name}: {exc}") from exc
        return value or None

    def _set_pointer(self, name: str, value: str | None) -> None:
        path = self.root / name
        if value is None:
            path.unlink(missing_ok=True)
            return
        tmp = self.root / f".{name}.tmp"
        with open(tmp, "w", encoding="ascii") as handle:
            handle.write(value)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def live_generation(self) -> str | None:
        """Return the name of the live generation, or None when there is none yet."""
        return self._pointer(_CURRENT)

    def _open(self, generation: str):
        path = self.root / generation
        try:
            return _open_dir(path, self.schema)
        except Exception as exc:  # EmptyIndexError, a truncated TOC, a missing segment, garbage: all mean rebuild
            raise IndexUnavailable(f"generation {generation} cannot be opened: {exc!r}") from exc

    def _live(self):
        generation = self.live_generation()
        if generation is None:
            raise IndexUnavailable("there is no index yet")
        return generation, self._open(generation)

    def exists(self) -> bool:
        """True when a live generation is named (it may still be unreadable: see `healthy`)."""
        return self.live_generation() is not None

    def healthy(self) -> bool:
        """True when the live generation opens and can be searched (with a fresh searcher if need be)."""
        for _attempt in range(2):
            try:
                with self._searching() as searcher:
                    searcher.doc_count()
                    list(searcher.search(query.Every(), limit=1))
                return True
            except Exception:  # IndexUnavailable included: try once more with a searcher opened afresh
                self._drop_searcher()
        return False

    def create_empty(self) -> str:
        """Make an empty live generation (a new instance has nothing to rebuild from); return its name."""
        self.root.mkdir(parents=True, exist_ok=True)
        generation = self._new_generation_dir()
        whoosh_index.create_in(str(self.root / generation), self.schema)
        self._set_pointer(_CURRENT, generation)
        return generation

    def _new_generation_dir(self) -> str:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        for n in range(1000):
            name = f"g-{stamp}-{os.getpid()}-{n}"
            try:
                (self.root / name).mkdir(parents=True)
                return name
            except FileExistsError:
                continue
        raise RuntimeError("cannot name a new index generation")

    # --- searching -----------------------------------------------------------------------------------------------

    def _drop_searcher(self) -> None:
        with self._lock:
            if self._searcher is not None:
                try:
                    self._searcher.close()
                except Exception:  # a broken searcher may fail to close; it is dropped all the same
                    log.debug("closing a broken searcher failed", exc_info=True)
            self._searcher = None
            self._searcher_gen = None

    def _current_searcher(self):
        generation = self.live_generation()
        if generation is None:
            self._drop_searcher()
            raise IndexUnavailable("there is no index yet")
        if self._searcher is not None and self._searcher_gen == generation:
            try:
                if self._searcher.up_to_date():
                    changed = self._changed_file(generation)
                    if changed is None:
                        return self._searcher
                    raise IndexUnavailable(f"{changed} changed under the searcher")
            except Exception as exc:
                self._drop_searcher()
                if isinstance(exc, IndexUnavailable):
                    raise
                raise IndexUnavailable(f"the index cannot be refreshed: {exc!r}") from exc
        # A new searcher, not Searcher.refresh(): whoosh-ng's refresh reuses the readers of segments that had
        # documents deleted since (and keeps merged-away segments), so a replaced document would be found twice.
        self._drop_searcher()
        try:
            self._searcher = self._open(generation).searcher()
        except IndexUnavailable:
            raise
        except Exception as exc:  # the TOC opened but a segment is missing or unreadable
            raise IndexUnavailable(f"generation {generation} cannot be searched: {exc!r}") from exc
        self._searcher_gen = generation
        try:
            self._files = self._file_marks(generation, self._searcher)
        except OSError as exc:  # a writer removed merged-away files just now
            self._drop_searcher()
            raise IndexUnavailable(f"generation {generation} changed while it was opened: {exc!r}") from exc
        return self._searcher

    def _file_marks(self, generation: str, searcher) -> dict[str, tuple[int, int]]:
        """Return name -> (size, modification time) of the segment files `searcher` reads."""
        prefixes = tuple(
            f"{reader.segment().segment_id()}."
            for sub, _offset in searcher.leaf_searchers()
            if (reader := sub.reader()).segment() is not None
        )
        marks = {}
        if not prefixes:
            return marks
        with os.scandir(self.root / generation) as entries:
            for entry in entries:
                if entry.name.startswith(prefixes) and entry.is_file():
                    state = entry.stat()
                    marks[entry.name] = (state.st_size, state.st_mtime_ns)
        return marks

    def _changed_file(self, generation: str) -> str | None:
        """Return the name of a file of the warm searcher that changed or went away since it opened, or None.

        Whoosh never changes a segment or TOC file once written; one that changed was damaged, and a searcher
        reading it could answer from garbage without an error (a same-size overwrite reads as "no match").
        A file merged away by a writer shows here too; the caller then opens a searcher afresh.
        """
        folder = self.root / generation
        for name, mark in self._files.items():
            try:
                state = os.stat(folder / name)
            except OSError:
                return name
            if (state.st_size, state.st_mtime_ns) != mark:
                return name
        return None

    class _Searching:
        def __init__(self, index: SearchIndex):
            self.index = index

        def __enter__(self):
            self.index._lock.acquire()
            try:
                return self.index._current_searcher()
            except BaseException:
                self.index._lock.release()
                raise

        def __exit__(self, kind, exc, tb):
            try:
                if exc is not None and not isinstance(exc, IndexUnavailable | QueryError):
                    self.index._drop_searcher()
            finally:
                self.index._lock.release()
            if exc is not None and not isinstance(exc, IndexUnavailable | QueryError | KeyboardInterrupt):
                raise IndexUnavailable(f"the index could not be searched: {exc!r}") from exc
            return False

    def _searching(self) -> _Searching:
        return self._Searching(self)

    def parse(self, text: str) -> query.Query:
        """Return the query for `text` (raises QueryError)."""
        return query_language.parse(self.parser, text)

    def search(self, request: Request, access: Access) -> Results:
        """Run `request` for someone with `access`; hits, counts and facets cover only what they may open.

        A searcher that fails is replaced by one opened afresh and the search tried once more: a searcher of an
        older generation of segments may meet files that another process's writer merged away meanwhile, which is
        no reason to rebuild the index. A second failure raises IndexUnavailable.
        """
        try:
            results = self._search(request, access)
        except IndexUnavailable:
            self._drop_searcher()
            try:
                results = self._search(request, access)
            except IndexUnavailable:
                self.failed_searches += 1
                raise
        self.failed_searches = 0
        return results

    def _search(self, request: Request, access: Access) -> Results:
        q = self.parse(request.text) if request.text.strip() else query.Every()
        chosen = {name: {str(v) for v in vs} for name, vs in request.filters.items() if name in FACETS and vs}
        restrict = [query.Or([query.Term(name, v) for v in sorted(values)]) for name, values in chosen.items()]
        dates = []
        if request.registered_from or request.registered_until:
            start = _utc_naive(request.registered_from) if request.registered_from else None
            end = _utc_naive(request.registered_until) if request.registered_until else None
            dates.append(query.DateRange("registered", start, end, endexcl=True))
        if access.as_filter() is query.NullQuery:  # may open nothing at all
            return Results(0, [], {name: [] for name in FACETS})
        parts = [part for part in (q, *dates) if not isinstance(part, query.Every)]
        matching = query.And(parts) if len(parts) > 1 else parts[0] if parts else query.Every()
        page = max(1, int(request.page))
        per_page = max(1, min(int(request.per_page), 200))
        wanted = page * per_page
        by_date = request.sort in ("-registered", "registered") or isinstance(q, query.Every)
        with self._searching() as searcher:
            _refuse_broad_patterns(searcher, q)
            # One pass over the matching documents, segment by segment: what the user may open (flags kept per
            # segment), the total, the facet counts (from column values kept per segment) and the page, by date or
            # by relevance (each permitted match scored on the way, as Whoosh's top-N collector scores it).
            columns = self._columns.readers(searcher)
            counts: dict[str, Counter] = {name: Counter() for name in FACETS}
            total = 0
            best: list[tuple[float, int]] = []  # (score, -docnum): ties go to the lower docnum, as in Whoosh
            dated: list[tuple[int, int]] = []
            newest_first = request.sort != "registered"
            for (sub, offset), segment in zip(searcher.leaf_searchers(), columns, strict=True):
                flags = segment.allowed(access, sub)
                if by_date:
                    docs = list(matching.docs(sub))
                    if flags is not None:
                        docs = [d for d in docs if flags[d]]
                else:
                    if dates:  # the dates filter, they never score
                        flags = segments.within(flags, query.And(dates).docs(sub), segment)
                    docs, scores = segments.scored_matches(q, sub, segment, flags)
                # Facet filters are tested on the kept column values. A filtered facet counts the documents that
                # pass the other filters, so that its other values stay on offer (ticking one adds to the choice).
                checks = [(name, *segment.accepting(name, values)) for name, values in chosen.items()]
                passing = [all(ok[codes[d]] for _name, codes, ok in checks) for d in docs] if checks else None
                kept = list(compress(docs, passing)) if checks else docs
                total += len(kept)
                for name in FACETS:
                    pool = kept
                    if name in chosen:
                        others = [(codes, ok) for other, codes, ok in checks if other != name]
                        pool = [d for d in docs if all(ok[codes[d]] for codes, ok in others)] if others else docs
                    codes, values = segment.facet(name)
                    for code, n in Counter(map(codes.__getitem__, pool)).items():
                        counts[name][values[code]] += n
                if by_date:
                    registered = segment.registered()
                    pick = heapq.nlargest if newest_first else heapq.nsmallest
                    mine = pick(wanted, kept, key=lambda d: (registered[d], d))  # ties as in the merge below
                    dated = pick(wanted, [*dated, *((registered[d], offset + d) for d in mine)])
                else:
                    kept_scores = list(compress(scores, passing)) if checks else scores
                    mine = zip(kept_scores, [-offset - d for d in kept], strict=True)
                    best = heapq.nlargest(wanted, chain(best, mine))
            if by_date:
                ranked = [(docnum, 0.0) for _when, docnum in dated]
            else:
                ranked = [(-negated, float(score)) for score, negated in best]
            terms = segments.highlight_terms(q, searcher.reader())
            stored = searcher.reader()
            hits = [
                Hit(int(stored.stored_fields(docnum)["id"]), score, terms)
                for docnum, score in ranked[(page - 1) * per_page : wanted]
            ]
            facets = {
                name: sorted(
                    ((segments.term_text(k), n) for k, n in counts[name].items() if k not in (None, "", b"")),
                    key=lambda item: (-item[1], item[0]),
                )
                for name in FACETS
            }
            suggestion = None
            if total == 0 and request.text.strip():
                allowed = query.And([access.as_filter(), *restrict, *dates])
                suggestion = self._suggest(searcher, request.text, allowed)
        return Results(total, hits, facets, suggestion)

    def _suggest(self, searcher, text: str, allowed: query.Query) -> str | None:
        """Return `text` with its unknown words replaced by the closest words of the index, or None.

        The corrector knows the words of every document: each word suggested must occur in a document within
        `allowed`, and so must the whole suggestion, so that it never reveals a word of a document the searcher may
        not open (with OR or NOT, the whole could match through another word).
        """
        corrector = searcher.corrector("fold")
        analyzer = self.schema["fold"].analyzer
        changed = False
        pieces, last = [], 0
        unknown = []
        for start, end, word in query_language.bare_words(text):
            terms = [t.text for t in analyzer(word)]
            if len(terms) == 1 and searcher.doc_frequency("fold", terms[0]) == 0:
                unknown.append((start, end, terms[0]))
        if len(unknown) > _SUGGESTED_WORDS:  # a long text that matches nothing is not a misspelling
            return None
        for start, end, term in unknown:
            for option in corrector.suggest(term, limit=5, maxdist=2, prefix=1):
                if option != term and _occurs(searcher, option, allowed):
                    pieces += [text[last:start], option]
                    last = end
                    changed = True
                    break
        if not changed:
            return None
        pieces.append(text[last:])
        suggested = "".join(pieces)
        try:
            found = searcher.search(query.And([self.parse(suggested), allowed]), limit=1)
        except QueryError:
            return None
        return None if found.is_empty() else suggested

    # --- writing -------------------------------------------------------------------------------------------------

    def _writer(self, ix, **options):
        """Return a writer of `ix`; raise IndexBusy when another writer holds its lock past `lock_timeout`."""
        options.setdefault("limitmb", self.limitmb)
        try:
            return ix.writer(timeout=self.lock_timeout, delay=0.1, **options)
        except whoosh_index.LockError as exc:
            raise IndexBusy(f"another writer holds the lock of {ix.storage.folder}") from exc

    def _apply_to(self, ix, upserts: Sequence[Entry], deletes: Iterable[int]) -> None:
        writer = self._writer(ix)
        try:
            for ident in deletes:
                writer.delete_by_term("id", str(ident))
            for entry in upserts:  # not update_document: it replaces only the first of several entries of an id
                writer.delete_by_term("id", str(entry.id))
                writer.add_document(**to_fields(entry))
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=segments.merge_small_tiers)

    def apply(self, upserts: Sequence[Entry], deletes: Sequence[int] = ()) -> None:
        """Add or replace `upserts` and remove `deletes` in the live generation, and in one being built.

        In a generation being built, only documents the rebuild has passed are touched: the rest it will read
        from the database itself. Raises IndexUnavailable when the live generation cannot be written.
        """
        generation, ix = self._live()
        try:
            self._apply_to(ix, upserts, deletes)
        except (IndexUnavailable, IndexBusy):
            raise
        except Exception as exc:
            raise IndexUnavailable(f"generation {generation} cannot be written: {exc!r}") from exc
        finally:
            ix.close()
        building = self.build_state()
        if building is not None:
            name, cursor = building
            behind = [e for e in upserts if e.id <= cursor]
            gone = [i for i in deletes if i <= cursor]
            if behind or gone:
                try:
                    ix = _open_dir(self.root / name, self.schema)
                    try:
                        self._apply_to(ix, behind, gone)
                    finally:
                        ix.close()
                except IndexBusy:  # the rebuild holds it (a second writer): the queue keeps the change
                    raise
                except Exception:  # a broken half-built generation is thrown away and started again
                    log.exception("the index being built is unreadable; the rebuild will start over")
                    self._abandon_build()

    # --- rebuilding ----------------------------------------------------------------------------------------------

    def build_state(self) -> tuple[str, int] | None:
        """Return (generation, cursor) of an unfinished rebuild, or None."""
        name = self._pointer(_BUILDING)
        if name is None:
            return None
        try:
            state = json.loads((self.root / name / _BUILD_STATE).read_text(encoding="utf-8"))
            return name, int(state["cursor"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _abandon_build(self) -> None:
        name = self._pointer(_BUILDING)
        self._set_pointer(_BUILDING, None)
        # a crash inside _finish_build, after CURRENT and before BUILDING was replaced, leaves both naming the
        # live generation: it is not thrown away
        if name and name != self.live_generation():
            shutil.rmtree(self.root / name, ignore_errors=True)

    def start_build(self, resume: bool = True) -> Build:
        """Start a rebuild beside the live generation (or resume an interrupted one) and return it."""
        self.root.mkdir(parents=True, exist_ok=True)
        state = self.build_state() if resume else None
        if state is not None:
            name, cursor = state
            try:
                ix = _open_dir(self.root / name, self.schema)
                try:
                    self._drop_past(ix, cursor)
                finally:
                    ix.close()
                return Build(self, name, cursor, resumed=True)
            except IndexBusy:  # another process is building it: never throw its work away
                raise
            except Exception:
                log.warning("the interrupted rebuild in %s is unreadable: starting over", name)
        self._abandon_build()
        name = self._new_generation_dir()
        whoosh_index.create_in(str(self.root / name), self.schema)
        build = Build(self, name, 0, resumed=False)
        build._save_cursor()
        self._set_pointer(_BUILDING, name)
        return build

    def _drop_past(self, ix, cursor: int) -> None:
        """Remove entries past `cursor`: a crash after a chunk's commit, before its cursor was saved, leaves them."""
        with ix.searcher() as searcher:
            past = [int(term) for term in searcher.lexicon("id") if int(term) > cursor]
        if past:
            self._apply_to(ix, (), past)

    def _finish_build(self, name: str) -> None:
        previous = self.live_generation()
        (self.root / name / _BUILD_STATE).unlink(missing_ok=True)
        self._set_pointer(_CURRENT, name)
        self._set_pointer(_BUILDING, None)
        self.remove_old_generations(keep=(name, previous))

    def remove_old_generations(self, keep: Sequence[str | None] = ()) -> None:
        """Delete generations that are neither live, being built, nor in `keep` (the one just replaced stays
        until the next rebuild, for searchers of other processes that still have it open)."""
        keep = {k for k in keep if k} | {self.live_generation(), self._pointer(_BUILDING)}
        if not self.root.is_dir():
            return
        for path in self.root.glob("g-*"):
            if path.name not in keep and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)

    # --- checking ------------------------------------------------------------------------------------------------

    def stamps(self) -> Iterator[tuple[int, str]]:
        """Yield (document id, stamp) for every entry of the live generation."""
        with self._searching() as searcher:
            reader = searcher.reader()
            for _docnum, stored in reader.iter_docs():
                yield int(stored["id"]), stored.get("stamp", "")

    def doc_count(self) -> int:
        """Return how many documents the live generation holds."""
        with self._searching() as searcher:
            return searcher.doc_count()

    def close(self) -> None:
        self._drop_searcher()


class Build:
    """A generation being built from the database in the order of document ids; see `SearchIndex.start_build`."""

    def __init__(self, index: SearchIndex, name: str, cursor: int, resumed: bool):
        self.index = index
        self.name = name
        self.cursor = cursor
        self.resumed = resumed
        self._ix = _open_dir(index.root / name, index.schema)

    def _save_cursor(self) -> None:
        path = self.index.root / self.name / _BUILD_STATE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"cursor": self.cursor}), encoding="utf-8")
        os.replace(tmp, path)

    def add(self, entries: Sequence[Entry], cursor: int) -> None:
        """Add a chunk of entries (ids above the cursor, in order) and move the cursor to `cursor`, durably."""
        options = {}
        if self.index.procs > 1:
            options.update(procs=self.index.procs, multisegment=True)
        writer = self.index._writer(self._ix, **options)
        try:
            self._claim(writer, entries)
            with writer.reader() as reader:
                before = reader.doc_count()
            for entry in entries:
                writer.add_document(**to_fields(entry))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        after = self._ix.doc_count()
        if after != before + len(entries):
            # Whoosh's multi-process writer drops the segment of a worker that died (killed for memory, say) and
            # commits the rest: keep the cursor where it was, so that a resumed rebuild drops the part and redoes it.
            raise IndexUnavailable(
                f"a chunk of {len(entries)} documents left {after - before} in the index (a worker process died?)"
            )
        self.cursor = cursor
        self._save_cursor()

    def _claim(self, writer, entries: Sequence[Entry]) -> None:
        """Raise IndexBusy unless this is still the build under way, at this cursor, without `entries` yet.

        Checked under Whoosh's lock (`writer` holds it): two processes that both believe they hold the writer's
        lease (one paused past its expiry) must not index a chunk twice, nor write to a generation that was
        finished or thrown away meanwhile.
        """
        if self.index.build_state() != (self.name, self.cursor):
            raise IndexBusy(f"the rebuild in {self.name} was finished, abandoned or moved on by another process")
        searcher = writer.searcher()
        if any(searcher.document_number(id=str(entry.id)) is not None for entry in entries):
            raise IndexBusy(f"another process has indexed documents past the cursor of {self.name}")

    def apply(self, upserts: Sequence[Entry], deletes: Sequence[int] = ()) -> None:
        """Add or replace entries in this generation (for changes to documents the build has passed)."""
        self.index._apply_to(self._ix, upserts, deletes)

    def doc_count(self) -> int:
        return self._ix.doc_count()

    def finish(self, optimize: bool = False) -> None:
        """Make this generation the live one (searchers of every process switch at their next query)."""
        if self.index._pointer(_BUILDING) != self.name:
            raise IndexBusy(f"the rebuild in {self.name} was finished or abandoned by another process")
        if optimize:
            writer = self.index._writer(self._ix)
            writer.commit(optimize=True)
        self._ix.close()
        self.index._finish_build(self.name)
