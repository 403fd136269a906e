"""Registering, issuing and following up directives: the number, the Word file, distribution, and replies.

Registering (登记) happens only after re-check: it takes the number from the outgoing register of the issuing
department, draws the Word file with that number and attaches it to the new outgoing document, all in one
transaction. Issuing (核发) gives every internal recipient department an incoming document in its register, linked
to the directive and carrying the same file, and logs the dispatch of every external copy — again in one
transaction, so a failure distributes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

import storage
from docstore import attachments, audit, clock, numbering, registry
from docstore.directives import notices
from docstore.directives.drafts import actor, get_directive, move, outgoing_series, record_step, state_label, targets
from docstore.directives.flow import actions_for
from docstore.directives.render import DOCX_MIME, as_stream, file_name, render_directive
from docstore.errors import N_, Conflict, Forbidden, Msg, NotFound, ValidationFailed
from docstore.extensions import db
from docstore.models import (
    CHANNELS,
    Directive,
    DirectiveRecipient,
    Document,
    DocumentType,
    RoutingItem,
    Series,
    User,
)


def _today(timezone: str) -> date:
    return numbering.office_date(clock.now(), timezone)


def _clerk_step(ctx: audit.Context, directive_id: int, action: str) -> tuple[User, Directive]:
    user = actor(ctx)
    directive = get_directive(directive_id, user)
    if action not in actions_for(user, directive):
        if not user.has_role(*registry.CLERK_ROLES):
            raise Forbidden(Msg(N_("Only the office's clerks may do this.")))
        raise Conflict(
            Msg(N_("This step is not possible while the directive is %(state)s."), state=state_label(directive))
        )
    return user, directive


#: A directive type -> the code of its document type in the registers (the list migration 0002 seeds).
DOCUMENT_TYPES = {
    "notice": "TZ",
    "decision": "JD",
    "letter": "HAN",
    "request": "QS",
    "report": "BG",
    "minutes": "JIY",
    "oficio": "OFICIO",
    "resolucion": "RESOLUCION",
    "instruccion": "INSTRUCCION",
    "comunicacion": "NOTA",
}


def _document_type_id(kind: str) -> int | None:
    """Return the active document type of directives of `kind` (None: the administrator retired or renamed it)."""
    code = DOCUMENT_TYPES.get(kind)
    if code is None:
        return None
    query = select(DocumentType.id).where(DocumentType.code == code, DocumentType.active)
    return db.session.execute(query).scalar()


def register(
    ctx: audit.Context, directive_id: int, policy: registry.UploadPolicy, store: storage.FileStore
) -> Directive:
    """Number a re-checked directive in its department's outgoing register and attach its Word file."""
    user, directive = _clerk_step(ctx, directive_id, "register")
    series = directive.series or next(iter(outgoing_series(directive.department_id)), None)
    if series is None:
        raise ValidationFailed(
            {
                "series_id": Msg(
                    N_("No outgoing register numbers this department's directives: an administrator must add one.")
                )
            }
        )
    now = clock.now()
    data = registry.Registration(
        series_id=series.id,
        title=directive.title,
        document_type_id=_document_type_id(directive.kind),
        urgency=directive.urgency,
        classification=directive.classification,
        department_id=directive.department_id,
        summary=directive.body[:10_000],
        signer_id=directive.signed_by_id,
        document_date=directive.signed_on,
        main_recipients=targets(directive, "main"),
        copy_recipients=targets(directive, "copy"),
    )
    if not data.main_recipients:  # minutes (纪要) have no main recipient: the register lists whom they go to
        data.main_recipients, data.copy_recipients = data.copy_recipients, []
    if not data.main_recipients:
        raise ValidationFailed({"recipients": Msg(N_("Name at least one recipient to send it to."))})
    registry.validate_registration(data, "outgoing", now, policy.timezone, user)
    # Claim the step before taking the number: a second clerk waits here, then finds it taken, with no number drawn
    # (and locks are always taken in the same order, the directive's row before the counter and the audit log).
    move(directive, "recheck", "registered")
    document = registry.insert_document(ctx, "outgoing", data, [], now, policy.timezone)
    # The number exists only now: draw the file with it inside the same transaction (a failure takes no number).
    payload = render_directive(directive, store, document.number)
    stored = store.put(as_stream(payload))
    attachments.add_rows(
        document,
        [
            attachments.StoredUpload(
                file_name(directive, document.number), stored.sha256, stored.size, "docx", DOCX_MIME
            )
        ],
        ctx,
        now,
    )
    directive.document_id = document.id
    directive.series_id = series.id
    record_step(ctx, directive, "register", "recheck", "registered", document.number)
    _link_reply(directive, document)
    notices.tell(directive, "registered")
    db.session.commit()
    return directive


def _link_reply(directive: Directive, document: Document) -> None:
    """When `directive` answers an incoming document, link the reply where that document is followed up."""
    if directive.reply_to_id is None:
        return
    now = clock.now()
    for recipient in db.session.execute(
        select(DirectiveRecipient).where(
            DirectiveRecipient.incoming_document_id == directive.reply_to_id,
            DirectiveRecipient.reply_document_id.is_(None),
        )
    ).scalars():
        recipient.reply_document_id, recipient.replied_at = document.id, now
    item = db.session.execute(select(RoutingItem).where(RoutingItem.document_id == directive.reply_to_id)).scalar()
    if item is not None and item.reply_document_id is None:
        item.reply_document_id = document.id


@dataclass(frozen=True)
class Dispatch:
    """How an external copy left: its channel and day."""

    recipient_id: int
    channel: str
    sent_on: date


def incoming_series_for(department_id: int) -> Series | None:
    """Return the incoming register of `department_id` (its own, else the office's general one)."""
    query = select(Series).where(Series.direction == "incoming", Series.active).order_by(Series.code)
    rows = list(db.session.execute(query).scalars())
    return next((s for s in rows if s.department_id == department_id), None) or next(
        (s for s in rows if s.department_id is None), None
    )


def issue(
    ctx: audit.Context,
    directive_id: int,
    policy: registry.UploadPolicy,
    dispatches: list[Dispatch] | None = None,
) -> Directive:
    """Issue a registered directive: an incoming document for each internal recipient, a dispatch log entry for
    each external one (default channel: e-mail, today)."""
    user, directive = _clerk_step(ctx, directive_id, "issue")
    now = clock.now()
    today = _today(policy.timezone)
    given = {d.recipient_id: d for d in dispatches or []}
    errors: dict[str, Msg] = {}
    external = {r.id for r in directive.recipients if not r.internal}
    if set(given) - external:
        errors["dispatches"] = Msg(N_("A dispatch names someone who is not an outside recipient of this directive."))
    for dispatch in given.values():
        if dispatch.channel not in CHANNELS:
            errors["channel"] = Msg(N_("Choose how the document was sent."))
        if dispatch.sent_on is None or dispatch.sent_on > today:
            errors["sent_on"] = Msg(N_("Enter the day it was sent, today or earlier."))
    missing = [
        r.department.name for r in directive.recipients if r.internal and incoming_series_for(r.department_id) is None
    ]
    if missing:
        errors["recipients"] = Msg(
            N_("No incoming register can receive it for: %(names)s. An administrator must add one."),
            names=", ".join(missing),
        )
    if errors:
        raise ValidationFailed(errors)
    move(directive, "registered", "issued")  # first, as when registering: a second clerk distributes nothing
    outgoing = directive.document
    word = outgoing.attachments[0] if outgoing.attachments else None
    issuing = directive.department
    received: set[int] = set()
    for recipient in directive.recipients:
        if recipient.internal:
            series = incoming_series_for(recipient.department_id)
            data = registry.Registration(
                series_id=series.id,
                title=directive.title,
                document_type_id=outgoing.document_type_id,
                urgency=directive.urgency,
                classification=directive.classification,
                department_id=recipient.department_id,
                # replies due by the directive's date, or today when it has passed meanwhile (registered late)
                deadline=max(directive.feedback_deadline, today)
                if directive.feedback_requested and directive.feedback_deadline and recipient.role == "main"
                else None,
                summary=f"{outgoing.number}",
                received_at=now,
                channel="portal",
                new_correspondent_name=issuing.name,
                sender_reference=outgoing.number,
                sender_date=directive.signed_on,
            )
            registry.validate_registration(data, "incoming", now, policy.timezone, None)
            incoming = registry.insert_document(ctx, "incoming", data, [], now, policy.timezone)
            if word is not None:
                attachments.add_rows(
                    incoming,
                    [attachments.StoredUpload(word.filename, word.sha256, word.size, word.kind, word.mime)],
                    ctx,
                    now,
                )
            recipient.incoming_document_id = incoming.id
            recipient.channel, recipient.dispatched_on = "portal", today
            received.add(recipient.department_id)
        else:
            dispatch = given.get(recipient.id)
            recipient.channel = dispatch.channel if dispatch else "email"
            recipient.dispatched_on = dispatch.sent_on if dispatch else today
        recipient.dispatched_by_id = user.id
    outgoing.sent_on = today
    directive.issued_at = now
    record_step(ctx, directive, "issue", "registered", "issued", str(len(directive.recipients)))
    notices.tell(directive, "issued")
    notices.tell_departments(directive, received, "received")
    db.session.commit()
    return directive


# --- feedback --------------------------------------------------------------------------------------------------

#: What is known of a recipient's copy, in the order it usually goes.
FEEDBACK_STATES = {
    "sent": N_("sent"),
    "received": N_("received"),
    "returned": N_("returned to the sender"),
    "read": N_("read"),
    "replied": N_("replied"),
    "overdue": N_("overdue"),
}


@dataclass(frozen=True)
class Feedback:
    """A recipient's copy as the issuer follows it up."""

    recipient: DirectiveRecipient
    state: str
    received: Document | None
    reply: Document | None
    expects_reply: bool


def feedback(directive: Directive, today: date) -> list[Feedback]:
    """Return each recipient's copy with what is known of it: sent, received, read, replied or overdue."""
    incoming_ids = [r.incoming_document_id for r in directive.recipients if r.incoming_document_id]
    items = (
        {
            item.document_id: item
            for item in db.session.execute(
                select(RoutingItem).where(RoutingItem.document_id.in_(incoming_ids))
            ).scalars()
        }
        if incoming_ids
        else {}
    )
    rows = []
    for recipient in directive.recipients:
        expects = directive.feedback_requested and recipient.role == "main"
        item = items.get(recipient.incoming_document_id)
        if recipient.reply_document_id:
            state = "replied"
        elif expects and directive.feedback_deadline and today > directive.feedback_deadline:
            state = "overdue"
        elif item is not None and item.state == "returned":
            state = "returned"
        elif item is not None and item.state != "pending":
            state = "read"
        elif recipient.incoming_document_id:
            state = "received"
        else:
            state = "sent"
        rows.append(Feedback(recipient, state, recipient.incoming_document, recipient.reply_document, expects))
    return rows


def openable(directive: Directive, viewer: User, rows: list[Feedback]) -> set[int]:
    """Return the ids of the documents `directive` and its feedback refer to that `viewer` may open, in one query.

    Whoever may open a directive does not necessarily open its replies (a reply may be classified higher, or
    belong to another department): their titles and texts are shown only for the ids returned here.
    """
    ids = [directive.reply_to_id, directive.document_id]
    ids += [row.received.id for row in rows if row.received is not None]
    ids += [row.reply.id for row in rows if row.reply is not None]
    return registry.visible_ids(viewer, [ident for ident in ids if ident is not None])


def link_reply(ctx: audit.Context, directive_id: int, recipient_id: int, number: str) -> DirectiveRecipient:
    """Link the document numbered `number` as the reply of one recipient (a clerk's step)."""
    user = actor(ctx)
    directive = get_directive(directive_id, user)
    if not user.has_role(*registry.CLERK_ROLES):
        raise Forbidden(Msg(N_("Only the office's clerks may do this.")))
    if directive.state != "issued":
        raise Conflict(Msg(N_("Replies are linked once the directive is issued.")))
    recipient = next((r for r in directive.recipients if r.id == recipient_id), None)
    if recipient is None:
        raise NotFound(Msg(N_("No such recipient.")))
    reply = db.session.execute(select(Document).where(Document.number == (number or "").strip())).scalar()
    if reply is None or not registry.can_view(user, reply):
        raise ValidationFailed({"number": Msg(N_("No document has this number."))})
    if reply.id in (directive.document_id, recipient.incoming_document_id):
        raise ValidationFailed({"number": Msg(N_("This is the directive itself, not a reply."))})
    recipient.reply_document_id, recipient.replied_at = reply.id, clock.now()
    record_step(ctx, directive, "link_reply", "issued", "issued", f"{recipient.name}: {reply.number}")
    db.session.commit()
    return recipient


def chase(ctx: audit.Context, directive_id: int, today: date) -> int:
    """Remind every internal recipient whose reply is awaited; return how many departments were reminded.

    A department is reminded at most once a day for a directive, however often the button is pressed.
    """
    user = actor(ctx)
    directive = get_directive(directive_id, user)
    if not user.has_role(*registry.CLERK_ROLES):
        raise Forbidden(Msg(N_("Only the office's clerks may do this.")))
    if directive.state != "issued" or not directive.feedback_requested:
        raise Conflict(Msg(N_("This directive does not wait for replies.")))
    waiting = [f.recipient for f in feedback(directive, today) if f.expects_reply and f.state != "replied"]
    reminded = 0
    for recipient in waiting:
        recipient.chased_at = clock.now()
        if not recipient.internal:
            continue
        people = notices.members({recipient.department_id})
        key = f"directive-chase:{directive.id}:{recipient.id}:{today.isoformat()}"
        if notices.notify(directive, people, "chase", key=key):
            reminded += 1
    record_step(ctx, directive, "chase", "issued", "issued", str(len(waiting)))
    db.session.commit()
    return reminded
