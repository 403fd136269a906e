"""Retention and disposal: records past their retention, proposals, approval by another person, and destruction.

An archivist proposes the disposal of records whose retention has ended (none of them held, none in another open
proposal); a leader or an administrator other than the proposer approves or rejects it. Approval, in one transaction:
checks the holds again, removes the records' attachments, turns each record into its residual entry (state destroyed
or transferred, its captured metadata kept, by whose decision and when) and its documents into "destroyed" register
entries (the number stays: a register has no gaps), and stores the certificate. Only after the commit are the stored
files removed, each one only when nothing else still uses it. Records of classes whose action is "review" are not
destroyed: they are appraised again (`reappraise`), which gives them a new retention.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from pathlib import Path

from sqlalchemy import delete, exists, select, update

from docstore import audit, clock
from docstore.accounts import acting_user
from docstore.archive import fixity, holds, scheme
from docstore.errors import N_, Conflict, Forbidden, Msg, NotFound, RecordOnHold, StoredFileMissing, ValidationFailed
from docstore.extensions import db
from docstore.models import (
    Attachment,
    AttachmentText,
    Disposal,
    DisposalItem,
    Document,
    Record,
    RecordFile,
    RecordMember,
)
from docstore.pagination import Page, fetch, paginate

#: Roles that may approve or reject a disposal (never the person who proposed it): a leader, an administrator, or
#: another archivist.
APPROVER_ROLES = ("leader", "admin", "archivist")


def get_disposal(disposal_id: int) -> Disposal:
    """Return the disposal `disposal_id`; raise NotFound."""
    return fetch(Disposal, disposal_id, Msg(N_("No such disposal.")))


def _in_open_proposal():
    return exists().where(
        DisposalItem.record_id == Record.id, DisposalItem.disposal_id == Disposal.id, Disposal.state == "proposed"
    )


def expired(today: date, page: int, per_page: int, action: str = "") -> Page[Record]:
    """Return the records whose retention has ended by `today`, not yet in a proposal, oldest due first."""
    query = select(Record).where(
        Record.state == "kept", Record.due_on.is_not(None), Record.due_on <= today, ~_in_open_proposal()
    )
    if action:
        query = query.where(Record.disposal_action == action)
    return paginate(query.order_by(Record.due_on, Record.code), page, per_page)


def list_disposals(state: str = "", page: int = 1, per_page: int = 25) -> Page[Disposal]:
    """Return disposals, newest first (optionally only those in `state`)."""
    query = select(Disposal)
    if state:
        query = query.where(Disposal.state == state)
    return paginate(query.order_by(Disposal.proposed_at.desc(), Disposal.id.desc()), page, per_page)


def certificate_file(disposal_id: int, store) -> tuple[Disposal, Path, str]:
    """Return an approved disposal, where its certificate's bytes are and the file name to download it under."""
    decision = get_disposal(disposal_id)
    if not decision.certificate_sha256:
        raise NotFound(Msg(N_("A disposal has its certificate once it is approved.")))
    path = store.path(decision.certificate_sha256)
    if not path.is_file():
        raise StoredFileMissing(Msg(N_("The stored certificate is missing. Tell an administrator.")))
    return decision, path, f"disposal-{decision.id}-certificate.docx"


def records_of(disposal_id: int) -> list[Record]:
    """Return the records of a disposal, in archival code order."""
    query = (
        select(Record)
        .join(DisposalItem, DisposalItem.record_id == Record.id)
        .where(DisposalItem.disposal_id == disposal_id)
        .order_by(Record.year, Record.prefix, Record.item)
    )
    return list(db.session.scalars(query))


def _check_not_held(record_ids: Iterable[int]) -> None:
    held = holds.held_ids(record_ids)
    if held:
        codes = ", ".join(
            db.session.scalars(select(Record.code).where(Record.id.in_(sorted(held))).order_by(Record.code))
        )
        raise RecordOnHold(
            Msg(N_("These records are under a legal hold: %(codes)s. Release the hold first."), codes=codes)
        )


def propose(ctx: audit.Context, record_ids: Iterable[int], reason: str, today: date) -> Disposal:
    """Propose the disposal of records whose retention has ended; return the proposal, awaiting approval."""
    reason = holds.check_reason(reason, "reason")
    wanted = sorted(set(record_ids))
    if not wanted:
        raise ValidationFailed({"record_ids": Msg(N_("Choose the records to dispose of."))})
    rows = list(db.session.scalars(select(Record).where(Record.id.in_(wanted)).with_for_update()))
    if len(rows) != len(wanted):
        raise ValidationFailed({"record_ids": Msg(N_("Some of the chosen records do not exist."))})
    for record in rows:
        if record.state != "kept":
            raise Conflict(Msg(N_("%(code)s was disposed of already."), code=record.code))
        if record.due_on is None or record.due_on > today:
            raise Conflict(Msg(N_("The retention of %(code)s has not ended."), code=record.code))
        if record.disposal_action == "review":
            raise Conflict(Msg(N_("%(code)s is to be reviewed, not disposed of: appraise it again."), code=record.code))
    actions = {record.disposal_action for record in rows}
    if len(actions) > 1:
        raise ValidationFailed(
            {"record_ids": Msg(N_("Propose records to destroy and records to transfer separately."))}
        )
    _check_not_held(wanted)
    busy = db.session.scalars(select(Record.code).where(Record.id.in_(wanted), _in_open_proposal()))
    busy = list(busy)
    if busy:
        raise Conflict(Msg(N_("Already in a proposal awaiting approval: %(codes)s."), codes=", ".join(sorted(busy))))
    disposal = Disposal(
        action=actions.pop(), reason=reason, state="proposed", proposed_at=clock.now(), proposed_by_id=ctx.actor_id
    )
    db.session.add(disposal)
    db.session.flush()
    for record_id in wanted:
        db.session.add(DisposalItem(disposal_id=disposal.id, record_id=record_id))
        audit.record_event(ctx, "archive_record.proposed", "archive_record", record_id, after={"disposal": disposal.id})
    audit.record_event(
        ctx,
        "archive_disposal.proposed",
        "archive_disposal",
        disposal.id,
        after={"action": disposal.action, "reason": reason, "records": wanted},
    )
    db.session.commit()
    return disposal


def _decidable(ctx: audit.Context, disposal_id: int) -> Disposal:
    person = acting_user(ctx)
    if not person.has_role(*APPROVER_ROLES):
        raise Forbidden(Msg(N_("Only a leader, an administrator or an archivist decides on a disposal.")))
    disposal = db.session.scalar(select(Disposal).where(Disposal.id == disposal_id).with_for_update())
    if disposal is None:
        raise NotFound(Msg(N_("No such disposal.")))
    if disposal.state != "proposed":
        raise Conflict(Msg(N_("This disposal was decided already.")))
    if disposal.proposed_by_id == person.id:
        raise Forbidden(Msg(N_("The person who proposed a disposal cannot approve or reject it.")))
    return disposal


def reject(ctx: audit.Context, disposal_id: int, note: str) -> Disposal:
    """Reject a proposal: its records stay as they are and may be proposed again."""
    note = holds.check_reason(note, "note")
    disposal = _decidable(ctx, disposal_id)
    disposal.state = "rejected"
    disposal.decided_at = clock.now()
    disposal.decided_by_id = ctx.actor_id
    disposal.decision_note = note
    audit.record_event(ctx, "archive_disposal.rejected", "archive_disposal", disposal.id, after={"note": note})
    db.session.commit()
    return disposal


def _unused(digests: set[str]) -> set[str]:
    """Return those of `digests` nothing kept still uses (the store's list is `fixity.stored_digests`)."""
    if not digests:
        return set()
    stored = fixity.stored_digests()
    used = set(db.session.scalars(select(stored.c.sha256).where(stored.c.sha256.in_(sorted(digests)))))
    return digests - used


def approve(
    ctx: audit.Context,
    disposal_id: int,
    note: str,
    store,
    certificate: Callable[[Disposal, list[Record]], bytes],
    today: date,
    transfer_dir: Path | None = None,
) -> tuple[Disposal, list[str]]:
    """Approve a proposal and carry it out; return it and the stored files that could not be removed.

    `certificate(disposal, records)` draws the certificate (a Word file), which is stored with the decision. A
    transfer first writes the records as a BagIt package under `transfer_dir` for the receiving archive (its place
    and identifier are kept on the disposal); only then are the files removed here.
    """
    note = (note or "").strip()[: holds.REASON_LIMIT]
    disposal = _decidable(ctx, disposal_id)
    records = list(
        db.session.scalars(
            select(Record)
            .join(DisposalItem, DisposalItem.record_id == Record.id)
            .where(DisposalItem.disposal_id == disposal.id)
            .order_by(Record.year, Record.prefix, Record.item)
            .with_for_update()  # a hold or a new appraisal of these records waits for the decision
        )
    )
    _check_not_held([record.id for record in records])
    now = clock.now()
    state = "destroyed" if disposal.action == "destroy" else "transferred"
    for record in records:
        if record.state != "kept":
            raise Conflict(Msg(N_("%(code)s was disposed of already."), code=record.code))
        if record.due_on is None or record.due_on > today or record.disposal_action != disposal.action:
            raise Conflict(
                Msg(
                    N_("%(code)s was appraised again since the proposal: reject it and propose anew."), code=record.code
                )
            )
    if disposal.action == "transfer":
        disposal.package = _transfer_package(disposal, records, store, transfer_dir, today)
    digests: set[str] = set()
    for record in records:
        members = list(db.session.scalars(select(RecordMember.document_id).where(RecordMember.record_id == record.id)))
        digests |= {row.sha256 for row in record.files}
        attachment_ids = select(Attachment.id).where(Attachment.document_id.in_(members))
        db.session.execute(update(RecordFile).where(RecordFile.record_id == record.id).values(attachment_id=None))
        db.session.execute(delete(AttachmentText).where(AttachmentText.attachment_id.in_(attachment_ids)))
        db.session.execute(delete(Attachment).where(Attachment.document_id.in_(members)))
        for document in db.session.scalars(select(Document).where(Document.id.in_(members))):
            document.status = state
            document.updated_at = now
        record.state = state
        record.disposal_id = disposal.id
        record.disposed_at = now
        audit.record_event(
            ctx,
            f"archive_record.{state}",
            "archive_record",
            record.id,
            after={"code": record.code, "disposal": disposal.id, "files": [row.sha256 for row in record.files]},
        )
    disposal.state = "approved"
    disposal.decided_at = now
    disposal.decided_by_id = ctx.actor_id
    disposal.decision_note = note
    db.session.flush()
    stored = store.put(io.BytesIO(certificate(disposal, records)))
    disposal.certificate_sha256 = stored.sha256
    disposal.certificate_size = stored.size
    audit.record_event(
        ctx,
        "archive_disposal.approved",
        "archive_disposal",
        disposal.id,
        after={"note": note, "records": [record.code for record in records], "certificate": stored.sha256},
    )
    db.session.commit()
    failed: list[str] = []
    for digest in sorted(_unused(digests)):
        try:
            store.path(digest).unlink(missing_ok=True)
        except OSError:
            failed.append(digest)  # the decision stands; `archive verify` and the admin page list what is left
    return disposal, failed


def transfer_dir(config: Mapping, instance_path: str | Path) -> Path:
    """Return the folder of transfer packages: ARCHIVE_TRANSFER_DIR, or `transfers` in the instance folder."""
    return Path(config["ARCHIVE_TRANSFER_DIR"] or Path(instance_path) / "transfers")


def _transfer_package(disposal: Disposal, records: list[Record], store, transfer_dir: Path | None, today: date) -> str:
    """Write the records of a transfer as a BagIt package under `transfer_dir`; return where, and its identifier."""
    from docstore.archive import exchange

    if transfer_dir is None:
        raise Conflict(Msg(N_("No folder is set for transfer packages (ARCHIVE_TRANSFER_DIR).")))
    target = Path(transfer_dir) / f"disposal-{disposal.id}-{today:%Y%m%d}"
    report = exchange.export_records(
        [record.id for record in records], target, store, organisation=exchange.default_organisation()
    )
    return f"{report.path} ({report.external_identifier})"


def reappraise(ctx: audit.Context, record_id: int, retention: str, action: str, reason: str, today: date) -> Record:
    """Give a record a new retention, counted from today, and the action at its end (its content does not change).

    This is what reviewing a record means; the change is audited with the reason.
    """
    reason = holds.check_reason(reason, "reason")
    if action not in ("destroy", "transfer", "review"):
        raise ValidationFailed({"action": Msg(N_("Choose destroy, transfer or review."))})
    if not scheme.retention_valid(retention):
        raise ValidationFailed({"retention": Msg(N_("Choose Y, D30, D10, or a custom period such as D5."))})
    record = db.session.scalar(select(Record).where(Record.id == record_id).with_for_update())
    if record is None:
        raise NotFound(Msg(N_("No such record.")))
    if record.state != "kept":
        raise Conflict(Msg(N_("%(code)s was disposed of already."), code=record.code))
    if db.session.scalar(select(Record.id).where(Record.id == record.id, _in_open_proposal())) is not None:
        raise Conflict(Msg(N_("%(code)s is in a disposal proposal: have it decided first."), code=record.code))
    years = scheme.retention_years(retention)
    before = {
        "retention": record.retention,
        "disposal_action": record.disposal_action,
        "due_on": record.due_on.isoformat() if record.due_on else None,
    }
    record.retention = retention
    record.due_on = None if years is None else date(today.year + 1 + years, 1, 1)
    record.disposal_action = action
    after = {
        "retention": retention,
        "disposal_action": action,
        "due_on": record.due_on.isoformat() if record.due_on else None,
        "reason": reason,
    }
    audit.record_event(ctx, "archive_record.reappraised", "archive_record", record.id, before=before, after=after)
    db.session.commit()
    return record
