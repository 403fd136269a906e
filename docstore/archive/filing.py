"""Filing: a closed document, with its files, instructions, timeline and linked reply, becomes one record (件).

A document is closed when its handling is over: an incoming document whose routing item is closed; an outgoing or
internal one once registered, or, when it comes from a directive, once the directive is issued. An outgoing reply
linked to an incoming document is filed with it, in the same item, and is not offered on its own.

Filing takes the record's item number (件号) from a counter per archival code prefix, in the same transaction that
writes the record, its files and members and marks the documents archived: a failure keeps no number and no half
record. The metadata is captured once (`capture`), as ISO 15489 asks: it is what the catalogue, exports and the
residual entry after disposal show.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from docstore import audit, clock, numbering
from docstore.archive import scheme
from docstore.errors import N_, Conflict, Msg, NotFound, ValidationFailed
from docstore.extensions import db
from docstore.models import (
    Directive,
    DirectiveRecipient,
    DirectiveStep,
    Document,
    Instruction,
    Record,
    RecordCounter,
    RecordFile,
    RecordMember,
    RoutingItem,
    User,
)
from docstore.pagination import Page, paginate
from docstore.routing import history

#: Documents filed per transaction in a batch (each record is whole in its transaction; progress is reported per batch).
BATCH_SIZE = 100
_PART = re.compile(r"\{(fonds|category|subclass|year|retention|department|item)\}")


@dataclass(frozen=True)
class FilingRules:
    """How archival codes are made, from the settings (see docstore/config.py)."""

    pattern: str
    default_department: str
    issuer: str
    timezone: str


def rules_from(config: Mapping) -> FilingRules:
    """Return the filing rules of the settings `config`; raise ValueError for a pattern without {item}."""
    pattern = config["ARCHIVE_CODE_PATTERN"]
    if "{item}" not in pattern or not pattern.endswith("{item}"):
        raise ValueError("ARCHIVE_CODE_PATTERN must end with {item}")
    return FilingRules(
        pattern=pattern,
        default_department=config["ARCHIVE_DEFAULT_DEPARTMENT"],
        issuer=config["DIRECTIVE_ISSUER"],
        timezone=config["OFFICE_TIMEZONE"],
    )


def code_prefix(pattern: str, parts: Mapping[str, str]) -> str:
    """Return the archival code `pattern` filled with `parts`, up to (not including) the item number."""
    head = pattern[: pattern.rindex("{item}")]
    return _PART.sub(lambda match: str(parts.get(match.group(1), "")), head)


# --- what can be filed ------------------------------------------------------------------------------------------


def _replies_filed_with_their_letter():
    """Return a condition: the document is the reply linked to an incoming document that is still to be filed (it
    will be filed with it). A reply whose letter is void, or was filed before the link, is filed on its own."""
    letter = aliased(Document)
    return exists().where(
        RoutingItem.reply_document_id == Document.id,
        letter.id == RoutingItem.document_id,
        letter.status == "registered",
    )


def _issued_or_no_directive():
    """Return a condition: the document comes from no directive, or from one that is issued."""
    directive = select(Directive.state).where(Directive.document_id == Document.id).scalar_subquery()
    return or_(not_(exists().where(Directive.document_id == Document.id)), directive == "issued")


def closed_condition():
    """Return the SQL condition "this document is closed and not yet filed"."""
    closed_item = exists().where(RoutingItem.document_id == Document.id, RoutingItem.state == "closed")
    done_outgoing = and_(
        Document.direction != "incoming", _issued_or_no_directive(), not_(_replies_filed_with_their_letter())
    )
    return and_(
        Document.status == "registered",
        not_(exists().where(RecordMember.document_id == Document.id)),
        or_(and_(Document.direction == "incoming", closed_item), done_outgoing),
    )


def closed_documents(year: int | None, page: int, per_page: int) -> Page[Document]:
    """Return the closed documents not yet filed, of `year` (all years for None), in register order."""
    query = select(Document).where(closed_condition())
    if year is not None:
        query = query.where(Document.year == year)
    return paginate(query.order_by(Document.year, Document.series_id, Document.seq), page, per_page)


def closed_ids(year: int | None) -> list[int]:
    """Return the ids of the closed documents not yet filed, of `year`, in register order."""
    query = select(Document.id).where(closed_condition())
    if year is not None:
        query = query.where(Document.year == year)
    return list(db.session.scalars(query.order_by(Document.year, Document.series_id, Document.seq)))


def closed_years() -> list[tuple[int, int]]:
    """Return (year, count) of the closed documents not yet filed, newest year first."""
    query = (
        select(Document.year, func.count())
        .where(closed_condition())
        .group_by(Document.year)
        .order_by(Document.year.desc())
    )
    return [(year, count) for year, count in db.session.execute(query)]


# --- capture ----------------------------------------------------------------------------------------------------


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return clock.as_utc(value).isoformat(timespec="seconds")
    return value.isoformat()


def _username(user: User | None) -> str | None:
    return user.username if user is not None else None


def _people(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({ident for ident in ids if ident is not None})
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(wanted))).all())


def document_fields(document: Document) -> dict:
    """Return a document's fields as filing captures them: codes, numbers, usernames; dates as ISO text."""
    department = document.department or document.series.department
    return {
        "number": document.number,
        "direction": document.direction,
        "series": document.series.code,
        "year": document.year,
        "seq": document.seq,
        "title": document.title,
        "type": document.document_type.code if document.document_type else None,
        "sender": document.correspondent.name if document.correspondent else None,
        "sender_reference": document.sender_reference,
        "sender_date": _iso(document.sender_date),
        "received_at": _iso(document.received_at),
        "registered_at": _iso(document.registered_at),
        "registered_by": _username(document.registered_by),
        "channel": document.channel,
        "urgency": document.urgency,
        "classification": document.classification,
        "pages": document.pages,
        "copies": document.copies,
        "department": department.code if department else None,
        "deadline": _iso(document.deadline),
        "summary": document.summary,
        "notes": document.notes,
        "signer": _username(document.signer),
        "document_date": _iso(document.document_date),
        "sent_on": _iso(document.sent_on),
        "recipients": [
            {
                "role": recipient.role,
                "kind": "correspondent" if recipient.correspondent_id else "department",
                "name": recipient.name,
                "code": recipient.department.code if recipient.department else None,
            }
            for recipient in document.recipients
        ],
    }


def _catalogue(document: Document, rules: FilingRules, pages: int | None) -> dict:
    """Return the catalogue columns of DA/T 22 besides 序号 and 档号."""
    if document.direction == "incoming":
        reference = document.sender_reference or document.number
        author = document.correspondent.name if document.correspondent else ""
        day = document.sender_date or numbering.office_date(
            document.received_at or document.registered_at, rules.timezone
        )
    else:
        reference = document.number
        department = document.department or document.series.department
        author = rules.issuer or (department.name if department else "")
        day = (
            document.document_date or document.sent_on or numbering.office_date(document.registered_at, rules.timezone)
        )
    return {
        "reference": reference,
        "author": author,
        "title": document.title.strip() or "[" + document.number + "]",
        "date": day.strftime("%Y%m%d"),
        "classification": document.classification,
        "pages": pages,
        "remarks": "",
    }


def _timeline(document: Document) -> tuple[list[dict], list[dict]]:
    """Return the instructions and the timeline of a document's handling (routing, or its directive's steps)."""
    item = db.session.scalar(select(RoutingItem).where(RoutingItem.document_id == document.id))
    instructions: list[dict] = []
    timeline: list[dict] = []
    if item is not None:
        rows = list(
            db.session.scalars(select(Instruction).where(Instruction.item_id == item.id).order_by(Instruction.id))
        )
        entries = history.timeline(document.id)
        names = _people([row.author_id for row in rows] + [entry.actor_id for entry in entries])
        instructions = [
            {"at": _iso(row.instructed_at), "by": names.get(row.author_id), "text": row.text} for row in rows
        ]
        timeline = [
            {"at": _iso(entry.at), "by": names.get(entry.actor_id), "action": entry.what, "detail": entry.text}
            for entry in entries
        ]
    directive = db.session.scalar(select(Directive).where(Directive.document_id == document.id))
    if directive is not None:
        steps = list(
            db.session.scalars(
                select(DirectiveStep).where(DirectiveStep.directive_id == directive.id).order_by(DirectiveStep.id)
            )
        )
        names = _people(step.actor_id for step in steps)
        timeline += [
            {
                "at": _iso(step.at),
                "by": names.get(step.actor_id),
                "action": "directive." + step.action,
                "detail": step.text,
            }
            for step in steps
        ]
    return instructions, timeline


def _linked_reply(document: Document) -> Document | None:
    if document.direction != "incoming":
        return None
    reply_id = db.session.scalar(select(RoutingItem.reply_document_id).where(RoutingItem.document_id == document.id))
    return db.session.get(Document, reply_id) if reply_id else None


def _replies(document: Document, reply: Document | None) -> list[dict]:
    """Return the replies linked to `document`: its own reply, or the replies to the directive it issued."""
    found = [reply] if reply is not None else []
    if document.direction != "incoming":
        query = (
            select(Document)
            .join(DirectiveRecipient, DirectiveRecipient.reply_document_id == Document.id)
            .join(Directive, Directive.id == DirectiveRecipient.directive_id)
            .where(Directive.document_id == document.id)
            .order_by(Document.id)
        )
        found += list(db.session.scalars(query))
    return [
        {
            "number": other.number,
            "direction": other.direction,
            "title": other.title,
            "date": _iso(other.document_date or other.sender_date or other.registered_at),
        }
        for other in found
    ]


def _pages(documents: list[Document]) -> int | None:
    counted = [
        document.pages if document.pages else sum(a.page_count or 0 for a in document.attachments)
        for document in documents
    ]
    return sum(counted) or None


def capture(document: Document, rules: FilingRules) -> dict:
    """Return the metadata of `document` fixed at filing (see the module's docstring), as plain JSON values."""
    reply = _linked_reply(document)
    instructions, timeline = _timeline(document)
    members = [document] + ([reply] if reply is not None else [])
    return {
        "document": document_fields(document),
        "catalogue": _catalogue(document, rules, _pages(members)),
        "replies": _replies(document, reply),
        "instructions": instructions,
        "timeline": timeline,
    }


# --- filing -----------------------------------------------------------------------------------------------------


def _fileable_class(class_id: int):
    node = db.session.get(scheme.ArchiveClass, class_id)
    if node is None or not node.active or node.level == "fonds":
        raise ValidationFailed({"class_id": Msg(N_("Choose an active class or sub-class of the file plan."))})
    return node


def _lock(document_id: int) -> Document:
    document = db.session.scalar(select(Document).where(Document.id == document_id).with_for_update())
    if document is None:
        raise NotFound(Msg(N_("No such document.")))
    return document


def _check_closed(document: Document) -> None:
    if db.session.scalar(select(RecordMember.record_id).where(RecordMember.document_id == document.id)) is not None:
        raise Conflict(Msg(N_("Number %(number)s is already filed."), number=document.number))
    closed = db.session.scalar(select(Document.id).where(Document.id == document.id, closed_condition()))
    if closed is None:
        if document.status == "void":
            raise Conflict(Msg(N_("Number %(number)s is void: there is nothing to file."), number=document.number))
        raise Conflict(
            Msg(N_("Number %(number)s is still being handled: file it once it is closed."), number=document.number)
        )


def _due_on(year: int, retention: str) -> date | None:
    years = scheme.retention_years(retention)
    return None if years is None else date(year + 1 + years, 1, 1)


def _department_code(document: Document, rules: FilingRules) -> str:
    department = document.department or document.series.department
    return department.code if department is not None else rules.default_department


def _file_one(ctx: audit.Context, document: Document, node, effective: scheme.Effective, rules: FilingRules) -> Record:
    parts = {
        "fonds": effective.fonds,
        "category": effective.category,
        "subclass": effective.path[1] if len(effective.path) > 1 else "",
        "year": str(document.year),
        "retention": effective.retention,
        "department": _department_code(document, rules),
    }
    prefix = code_prefix(rules.pattern, parts)
    item = numbering.increment_counter(RecordCounter.__table__, prefix=prefix)
    reply = _linked_reply(document)
    ready = select(Document.id).where(
        Document.id == (reply.id if reply is not None else None),
        Document.status == "registered",
        _issued_or_no_directive(),
        not_(exists().where(RecordMember.document_id == Document.id)),
    )
    if reply is not None and (db.session.scalar(ready) is None):
        reply = None  # void, not yet issued, or filed on its own before it was linked: the item only names it
    captured = capture(document, rules)
    record = Record(
        document_id=document.id,
        class_id=node.id,
        year=document.year,
        prefix=prefix,
        item=item,
        code=f"{prefix}{item:04d}",
        retention=effective.retention,
        disposal_action=effective.disposal_action,
        due_on=_due_on(document.year, effective.retention),
        state="kept",
        pages=captured["catalogue"]["pages"],
        filed_at=clock.now(),
        filed_by_id=ctx.actor_id,
        captured=captured,
    )
    db.session.add(record)
    db.session.flush()
    members = [("document", document)] + ([("reply", reply)] if reply is not None else [])
    position = 0
    for role, member in members:
        db.session.add(RecordMember(document_id=member.id, record_id=record.id, role=role))
        for attachment in member.attachments:
            db.session.add(
                RecordFile(
                    record_id=record.id,
                    document_id=member.id,
                    attachment_id=attachment.id,
                    role=role,
                    position=position,
                    filename=attachment.filename,
                    sha256=attachment.sha256,
                    size=attachment.size,
                    mime=attachment.mime,
                )
            )
            position += 1
        member.status = "archived"
        member.updated_at = clock.now()
    audit.record_event(
        ctx,
        "archive_record.filed",
        "archive_record",
        record.id,
        after={
            "code": record.code,
            "document": document.number,
            "reply": reply.number if reply is not None else None,
            "class_id": node.id,
            "retention": record.retention,
            "files": position,
        },
    )
    return record


def file_document(ctx: audit.Context, document_id: int, class_id: int, rules: FilingRules) -> Record:
    """File the closed document `document_id` into the class `class_id`; return its record."""
    node = _fileable_class(class_id)
    effective = scheme.effective(node)
    try:
        document = _lock(document_id)
        _check_closed(document)
        record = _file_one(ctx, document, node, effective, rules)
        db.session.commit()
    except IntegrityError as exc:  # another archivist filed it at the same moment
        db.session.rollback()
        raise Conflict(Msg(N_("This document was filed by someone else just now."))) from exc
    except Exception:
        db.session.rollback()
        raise
    return record


@dataclass
class BatchReport:
    """What a batch filing did: the records made, and the documents it left (no longer closed, or filed meanwhile)."""

    record_ids: list[int]
    skipped: list[tuple[str, Msg]]


def file_batch(
    ctx: audit.Context,
    class_id: int,
    year: int | None,
    rules: FilingRules,
    document_ids: Iterable[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchReport:
    """File the closed documents of `year` (or just `document_ids`) into `class_id`, in register order.

    Each batch of BATCH_SIZE documents is one transaction; `progress(done, total)` is called after each. A document
    that is no longer closed, or was filed meanwhile, is skipped and reported, and the others are filed.
    """
    node = _fileable_class(class_id)
    effective = scheme.effective(node)
    if document_ids is None:
        ids = closed_ids(year)
    else:
        wanted = set(document_ids)
        ids = [ident for ident in closed_ids(None) if ident in wanted]
        missing = wanted - set(ids)
    report = BatchReport([], [])
    if document_ids is not None:
        for ident in sorted(missing):
            document = db.session.get(Document, ident)
            number = document.number if document is not None else str(ident)
            report.skipped.append((number, Msg(N_("not closed, or filed already"))))
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start : start + BATCH_SIZE]
        made: list[int] = []
        skipped = len(report.skipped)
        try:
            for ident in chunk:
                document = _lock(ident)
                try:
                    _check_closed(document)
                except Conflict as exc:
                    report.skipped.append((document.number, exc.msg))
                    continue
                made.append(_file_one(ctx, document, node, effective, rules).id)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # someone filed one of these meanwhile: file the chunk one by one instead
            del report.skipped[skipped:]
            made = []
            for ident in chunk:
                try:
                    made.append(file_document(ctx, ident, class_id, rules).id)
                except Conflict as exc:
                    number = db.session.scalar(select(Document.number).where(Document.id == ident))
                    report.skipped.append((number or str(ident), exc.msg))
        report.record_ids += made  # ids only: the committed rows are let go (the session holds them weakly)
        if progress is not None:
            progress(min(start + len(chunk), len(ids)), len(ids))
    return report
