"""Full-text search as users see it: their query and filters, only the documents they may open, labelled facets,
highlighted snippets, and a clear message when the query cannot be used or the index is being rebuilt.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy import select

import search
from docstore import clock, indexing, numbering, registry
from docstore.errors import N_, Msg
from docstore.extensions import db
from docstore.models import (
    STATUSES,
    URGENCIES,
    Attachment,
    AttachmentText,
    Correspondent,
    Department,
    Document,
    DocumentType,
    Series,
    User,
)

log = logging.getLogger(__name__)

SORTS = ("relevance", "-registered", "registered")

#: The facets in the order a page shows them, with their headings.
FACET_TITLES: dict[str, str] = {
    "series": N_("Register"),
    "year": N_("Year"),
    "type": N_("Document type"),
    "urgency": N_("Urgency"),
    "status": N_("Status"),
    "department": N_("Department"),
    "sender": N_("Sender"),
    "files": N_("Attachments"),
}

_INTEGER_FACETS = ("series", "year", "type", "department", "sender")

QUERY_PROBLEMS: dict[str, str] = {
    "empty": N_("Type words to search for."),
    "malformed": N_("The search could not be understood: check its quotes and brackets."),
    "too_long": N_("The search is too long: use at most 1,000 characters."),
    "short_prefix": N_("Put at least two letters before * (for example gest*)."),
    "too_broad": N_(
        "“%(pattern)s*” stands for too many words: type more letters before the * (for example gesti* instead of "
        "ge*)."
    ),
    "only_not": N_("Say what to look for as well as what to leave out (for example informe NOT borrador)."),
    "dangling_operator": N_("“%(operator)s” needs words on both sides (for example informe AND anual)."),
    "empty_field": N_("Type what to look for after “%(field)s:” (for example sender:Hacienda)."),
    "unknown_field": N_(
        "“%(field)s:” is not something you can search by. Use number:, sender:, recipient: or title:, "
        "or put the words in quotes."
    ),
}

REBUILDING = N_(
    "Search is being rebuilt and will be back shortly. Everything else works as usual: registers, documents "
    "and files."
)
#: Searches in a row that may fail on an index that opens before a rebuild is asked for.
REBUILD_AFTER_FAILED_SEARCHES = 3
FAILED = N_(
    "This search could not be run just now. Try again in a moment; if it keeps failing, tell an administrator."
)


@dataclass(frozen=True)
class Params:
    """A search as asked for in a page's or the API's query string."""

    text: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: date | None = None
    date_until: date | None = None  # inclusive
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20

    @property
    def empty(self) -> bool:
        return not self.text.strip() and not any(self.filters.values()) and not (self.date_from or self.date_until)


def params_from(args, per_page: int, max_per_page: int = 200) -> tuple[Params, dict[str, Msg]]:
    """Read a search from request arguments (a MultiDict); return it with messages about the arguments refused."""
    errors: dict[str, Msg] = {}
    filters: dict[str, tuple[str, ...]] = {}
    for name in FACET_TITLES:
        values = tuple(dict.fromkeys(v.strip() for v in args.getlist(name) if v.strip()))
        if name in _INTEGER_FACETS and not all(v.isascii() and v.isdigit() and len(v) < 10 for v in values):
            errors[name] = Msg(N_("Choose values from the list."))
            continue
        if values:
            filters[name] = values
    dates = {}
    for name in ("date_from", "date_until"):
        raw = (args.get(name) or "").strip()
        if raw:
            try:
                dates[name] = date.fromisoformat(raw)
            except ValueError:
                errors[name] = Msg(N_("Enter a date as YYYY-MM-DD."))
    if dates.get("date_from") and dates.get("date_until") and dates["date_from"] > dates["date_until"]:
        errors["date_until"] = Msg(N_("The end date is before the start date."))
    text = args.get("q", "")
    sort = args.get("sort") or ("relevance" if text.strip() else "-registered")
    if sort not in SORTS:
        errors["sort"] = Msg(N_("Choose relevance or date."))
        sort = "relevance"
    try:
        page = max(1, min(int(args.get("page", 1)), 10_000))
    except ValueError:
        page = 1
    try:
        size = max(1, min(int(args.get("per_page", per_page)), max_per_page))
    except ValueError:
        size = per_page
    return Params(text, filters, dates.get("date_from"), dates.get("date_until"), sort, page, size), errors


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str | Msg
    count: int
    selected: bool


@dataclass(frozen=True)
class Found:
    """A hit on the page: the document (visible to the searcher), its marked title and a marked passage."""

    document: Document
    score: float
    title: Markup
    snippet: Markup


@dataclass
class Outcome:
    params: Params
    total: int = 0
    items: list[Found] = field(default_factory=list)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    suggestion: str | None = None
    problem: Msg | None = None  # the query cannot be used (the page says why)
    rebuilding: bool = False  # the index cannot be read just now: a rebuild was asked for
    failed: bool = False  # the index reads fine but this search failed (logged; nothing to rebuild)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.params.per_page))


def access_for(user: User, today: date | None = None) -> search.Access:
    """Return what `user` may open, in the index's terms (the twin of registry.can_view).

    `today` (default: the office's today) decides whom `user` acts for as a substitute: what those people handle,
    or everything when one of them sees office-wide (a leader, say), always within `user`'s own clearance.
    """
    everything = user.has_role(*registry.OFFICE_WIDE_ROLES)
    represented = [] if everything else registry.represented_today(user, today)
    if registry.office_wide(represented):
        everything, represented = True, []
    return search.Access(
        max_level=user.clearance,
        everything=everything,
        user=user.id,
        departments=(user.department_id,) if user.department_id is not None else (),
        acting_for=tuple(sorted({person.id for person in represented})),
        acting_for_departments=tuple(
            sorted({person.department_id for person in represented if person.department_id is not None})
        ),
    )


def _day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone))


def _labels(name: str, values: list[str]) -> dict[str, str | Msg]:
    """Return value -> display name (a Msg where it is translated) for the values of facet `name`."""
    if name in ("year",):
        return {v: v for v in values}
    if name == "urgency":
        return {v: Msg(URGENCIES[v]) if v in URGENCIES else v for v in values}
    if name == "status":
        return {v: Msg(STATUSES[v]) if v in STATUSES else v for v in values}
    if name == "files":
        return {"yes": Msg(N_("With attachments")), "no": Msg(N_("Without attachments"))}
    model, column = {
        "series": (Series, Series.name),
        "type": (DocumentType, DocumentType.name),
        "department": (Department, Department.name),
        "sender": (Correspondent, Correspondent.name),
    }[name]
    ids = [int(v) for v in values if v.isdigit()]
    rows = db.session.execute(select(model.id, column).where(model.id.in_(ids))).all() if ids else []
    return {str(ident): label for ident, label in rows}


def _texts(ids: list[int]) -> dict[int, list[str]]:
    rows = db.session.execute(
        select(Attachment.document_id, AttachmentText.text)
        .join(AttachmentText, AttachmentText.attachment_id == Attachment.id)
        .where(Attachment.document_id.in_(ids))
        .order_by(Attachment.document_id, Attachment.position)
    )
    texts: dict[int, list[str]] = {}
    for ident, text in rows:
        texts.setdefault(ident, []).append(text[: search.snippets.SCAN_CHARS])
    return texts


def run(user: User, params: Params, config: Mapping, app) -> Outcome:
    """Search for `user`; never raises for a bad query or an unreadable index (the outcome says so)."""
    outcome = Outcome(params)
    if params.empty:
        return outcome
    tz = config["OFFICE_TIMEZONE"]
    today = numbering.office_date(clock.now(), tz)  # one day for the index's answer and the database's
    # the end is the start of the next day (exclusive); 9999-12-31 has none: no end
    until = params.date_until + timedelta(days=1) if params.date_until and params.date_until < date.max else None
    request = search.Request(
        text=params.text,
        filters=params.filters,
        registered_from=_day_start(params.date_from, tz) if params.date_from else None,
        registered_until=_day_start(until, tz) if until else None,
        sort=params.sort,
        page=params.page,
        per_page=params.per_page,
    )
    index = indexing.index_for(app)
    try:
        results = index.search(request, access_for(user, today))
    except search.QueryError as exc:
        outcome.problem = Msg(QUERY_PROBLEMS.get(exc.reason, QUERY_PROBLEMS["malformed"]), **exc.params)
        return outcome
    except search.IndexUnavailable as exc:
        # A rebuild takes minutes on a large index: ask for one when a searcher opened afresh cannot read the
        # index, or when searches keep failing on an index that opens (damage inside a segment); one search that
        # fails on a readable index is logged and reported as such.
        if index.healthy() and index.failed_searches < REBUILD_AFTER_FAILED_SEARCHES:
            log.error("a search failed on a readable index: %s", exc, exc_info=exc)
            outcome.failed = True
        else:
            log.warning("search unavailable: %s", exc)
            indexing.request_rebuild(f"a search failed: {exc}")
            outcome.rebuilding = True
        return outcome
    outcome.total = results.total
    outcome.suggestion = results.suggestion
    ids = [hit.id for hit in results.hits]
    # the index may lag behind a change of the last second: show only what the database says they may open now
    shown = select(Document).where(Document.id.in_(ids))
    visible = {d.id: d for d in db.session.scalars(registry.visible_to(shown, user, today))}
    texts = _texts(list(visible))
    for hit in results.hits:
        document = visible.get(hit.id)
        if document is None:
            continue
        body = "\n".join([document.summary, document.notes, *texts.get(hit.id, [])])
        outcome.items.append(  # highlight and snippet escape the text and add only <mark>: safe as Markup
            Found(
                document=document,
                score=hit.score,
                title=Markup(search.highlight(document.title, hit.terms)),  # noqa: S704
                snippet=Markup(search.snippet(body, hit.terms)),  # noqa: S704
            )
        )
    for name in FACET_TITLES:
        counts = results.facets.get(name, [])
        selected = set(params.filters.get(name, ()))
        values = [value for value, _ in counts] + [v for v in selected if v not in dict(counts)]
        labels = _labels(name, values)
        shown = [FacetValue(v, labels.get(v, v), n, v in selected) for v, n in counts]
        shown += [FacetValue(v, labels.get(v, v), 0, True) for v in selected if v not in dict(counts)]
        outcome.facets[name] = shown
    return outcome


def with_page(params: Params, page: int) -> Params:
    return replace(params, page=page)
