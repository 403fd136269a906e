"""Export: records written as a package (see `docstore.archive.exchange`), record by record, then validated."""

from __future__ import annotations

import json
import re
import shutil
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

import storage
from docstore import registry
from docstore.archive import bagit, filing, scheme
from docstore.archive.exchange.layout import (
    CHUNK,
    FORMAT,
    FORMAT_LABEL,
    NOT_HISTORY,
    XML_NAMESPACE,
    Progress,
    canonical_json,
    class_path,
    iso,
)
from docstore.errors import N_, Conflict, Msg, NotFound, StoredFileMissing, ValidationFailed
from docstore.extensions import db
from docstore.models import (
    ArchiveClass,
    AuditEvent,
    Correspondent,
    Department,
    Disposal,
    Document,
    Hold,
    HoldRecord,
    Record,
    RecordMember,
    User,
)

#: Keys of audit details that hold database ids, left out of a package.
_ID_KEYS = frozenset({"id", "annotation", "hold", "disposal", "records"})
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_ITEMS = {
    "class": "node",
    "documents": "document",
    "files": "file",
    "annotations": "annotation",
    "holds": "hold",
    "history": "event",
    "recipients": "recipient",
    "instructions": "instruction",
    "timeline": "entry",
    "replies": "reply",
}


def default_organisation(issuer: str = "") -> str:
    """Return the name a package gives as Source-Organization: `issuer`, else the office's top department."""
    if issuer.strip():
        return issuer.strip()
    name = db.session.scalar(
        select(Department.name)
        .where(Department.parent_id.is_(None))
        .order_by(Department.kind != "office", Department.id)
    )
    return name or "Docstore"


def _dirname(code: str) -> str:
    """Return an archival code as a folder name (letters, digits, · . - _ only)."""
    return re.sub(r"[^\w·.-]+", "_", code).strip("._") or "record"


def _payload_filename(position: int, filename: str) -> str:
    try:
        return storage.safe_filename(f"{position:03d}-{filename}")
    except storage.BadFilename:
        return f"{position:03d}-file"


class _Usernames:
    """Usernames by user id, looked up once each."""

    def __init__(self) -> None:
        self.known: dict[int, str | None] = {}

    def __call__(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in self.known:
            self.known[user_id] = db.session.scalar(select(User.username).where(User.id == user_id))
        return self.known[user_id]


def _scrub(value):
    """Return an audit detail without the database ids it names."""
    if isinstance(value, dict):
        return {
            key: _scrub(item)
            for key, item in value.items()
            if key not in _ID_KEYS and not key.endswith("_id") and not key.endswith("_ids")
        }
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value


@dataclass(frozen=True)
class Selection:
    """Which records to export: a class (with its sub-classes) and/or a year, or records chosen one by one."""

    class_id: int | None = None
    year: int | None = None
    record_ids: tuple[int, ...] = ()

    def describe(self) -> str:
        """Return the selection in words, for bag-info.txt."""
        if self.record_ids:
            return f"{len(self.record_ids)} chosen record(s)"
        parts = []
        if self.class_id is not None:
            parts.append(f"class {class_path(scheme.get_class(self.class_id))} and its sub-classes")
        if self.year is not None:
            parts.append(f"year {self.year}")
        return ", ".join(parts) or "all records"


@dataclass
class ExportReport:
    """A package just written and validated: where, how many records (of which residual entries), its payload."""

    path: Path
    records: int
    residual: int
    files: int
    bytes: int
    external_identifier: str
    validation: bagit.ValidationReport


def selected_ids(selection: Selection, viewer: User | None = None) -> list[int]:
    """Return the ids of the records `selection` names (and `viewer`, when given, may see), in archival code order.

    Raise NotFound naming the chosen records that do not exist (or that `viewer` may not see).
    """
    query = select(Record.id)
    if viewer is not None:
        query = registry.visible_to(query.join(Document, Document.id == Record.document_id), viewer)
    if selection.record_ids:
        wanted = sorted(set(selection.record_ids))
        query = query.where(Record.id.in_(wanted))
    if selection.class_id is not None:
        query = query.where(Record.class_id.in_(scheme.descendants(selection.class_id)))
    if selection.year is not None:
        query = query.where(Record.year == selection.year)
    ids = list(db.session.scalars(query.order_by(Record.year, Record.prefix, Record.item, Record.id)))
    if selection.record_ids and len(ids) != len(set(selection.record_ids)):
        missing = sorted(set(selection.record_ids) - set(ids))
        raise NotFound(Msg(N_("No such record: %(ids)s."), ids=", ".join(str(ident) for ident in missing[:20])))
    return ids


def export_records(
    selection: Selection | Iterable[int],
    target_dir: Path | str,
    store: storage.FileStore,
    *,
    organisation: str,
    viewer: User | None = None,
    progress: Progress | None = None,
) -> ExportReport:
    """Write the records of `selection` as a package at `target_dir` (a new folder), validate it, and report.

    `selection` is a Selection or the ids of the records. `progress(done, total)` is called after each CHUNK of
    records. Nothing is written to the database. Raise ValidationFailed for a selection without records,
    StoredFileMissing or Conflict when a stored file is missing or altered, BagInvalid if the bag written does not
    validate (the folder is then removed).
    """
    if not isinstance(selection, Selection):
        selection = Selection(record_ids=tuple(selection))
    ids = selected_ids(selection, viewer)
    if not ids:
        raise ValidationFailed({"selection": Msg(N_("No record matches this selection: there is nothing to export."))})
    target = Path(target_dir)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ValidationFailed({"out": Msg(N_("“%(path)s” exists already: choose a new folder."), path=str(target))})
    external = f"urn:uuid:{uuid.uuid4()}"
    info = {
        "Source-Organization": organisation,
        "External-Identifier": external,
        "External-Description": f"Archival records exported from Docstore: {selection.describe()}.",
        "Bag-Count": "1 of 1",
        "Bag-Software-Agent": "Docstore",
        FORMAT_LABEL: FORMAT,
        "Docstore-Records": str(len(ids)),
        "Docstore-Selection": selection.describe(),
    }
    exporter = _Exporter(store, ids, progress)
    summary = bagit.write_bag(target, exporter.payload(), info, on_file=exporter.check_file)
    report = bagit.validate_bag(target)
    if not report.valid:
        shutil.rmtree(target, ignore_errors=True)
        raise bagit.BagInvalid(report.problems)
    return ExportReport(target, len(ids), exporter.residual, summary.files, summary.bytes, external, report)


class _Exporter:
    """The payload of a package, produced record by record as the bag writer asks for it."""

    def __init__(self, store: storage.FileStore, ids: list[int], progress: Progress | None) -> None:
        self.store = store
        self.ids = ids
        self.progress = progress
        self.usernames = _Usernames()
        self.classes: dict[int, list[ArchiveClass]] = {}
        self.dirnames: set[str] = set()
        #: payload path -> the SHA-256 its stored file must have (checked as each file is copied)
        self.expected: dict[str, str] = {}
        self.residual = 0
        self.series: dict[str, dict] = {}
        self.departments: dict[str, dict] = {}
        self.types: dict[str, dict] = {}
        self.correspondents: dict[str, dict] = {}
        self.class_holds = list(db.session.scalars(select(Hold).where(Hold.class_id.is_not(None))))

    def check_file(self, path: str, digests: dict[str, str], _size: int) -> None:
        """Refuse a stored file whose bytes no longer have the digest the record fixed at filing."""
        wanted = self.expected.pop(path, None)
        if wanted is not None and digests["sha256"] != wanted:
            raise Conflict(
                Msg(
                    N_(
                        "The stored file %(path)s was altered: its SHA-256 is no longer %(sha256)s. Run archive verify."
                    ),
                    path=path,
                    sha256=wanted,
                )
            )

    def payload(self) -> Iterator[tuple[str, bagit.Source]]:
        for start in range(0, len(self.ids), CHUNK):
            yield from self._chunk(self.ids[start : start + CHUNK])
            if self.progress is not None:
                self.progress(min(start + CHUNK, len(self.ids)), len(self.ids))
        yield "file-plan.json", canonical_json({"classes": self._file_plan()})
        yield "registers.json", canonical_json(self._registers())

    def _chunk(self, chunk: list[int]) -> Iterator[tuple[str, bagit.Source]]:
        records = {
            record.id: record
            for record in db.session.scalars(
                select(Record)
                .where(Record.id.in_(chunk))
                .options(selectinload(Record.files), selectinload(Record.annotations))
            )
        }
        members: dict[int, list[tuple[str, Document]]] = {ident: [] for ident in chunk}
        rows = db.session.execute(
            select(RecordMember.record_id, RecordMember.role, Document)
            .join(Document, Document.id == RecordMember.document_id)
            .where(RecordMember.record_id.in_(chunk))
            .order_by(RecordMember.record_id, RecordMember.role, Document.id)
            .options(selectinload(Document.recipients), selectinload(Document.attachments))
        )
        for record_id, role, document in rows:
            members[record_id].append((role, document))
        events: dict[int, list[AuditEvent]] = {ident: [] for ident in chunk}
        for event in db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.object_type == "archive_record",
                AuditEvent.object_id.in_([str(ident) for ident in chunk]),
                AuditEvent.action.not_in(NOT_HISTORY),
            )
            .order_by(AuditEvent.seq)
        ):
            events[int(event.object_id)].append(event)
        named: dict[int, list[Hold]] = {ident: [] for ident in chunk}
        for record_id, hold in db.session.execute(
            select(HoldRecord.record_id, Hold)
            .join(Hold, Hold.id == HoldRecord.hold_id)
            .where(HoldRecord.record_id.in_(chunk))
        ):
            named[record_id].append(hold)
        for ident in chunk:
            record = records[ident]
            yield from self._record(record, members[ident], events[ident], named[ident])

    def _ancestry(self, record: Record) -> list[ArchiveClass]:
        if record.class_id not in self.classes:
            self.classes[record.class_id] = scheme.ancestry(record.archive_class)
        return self.classes[record.class_id]

    def _record(
        self, record: Record, members: list[tuple[str, Document]], events: list[AuditEvent], holds: list[Hold]
    ) -> Iterator[tuple[str, bagit.Source]]:
        name = _dirname(record.code)
        number = 2
        while name in self.dirnames:
            name = f"{_dirname(record.code)}~{number}"
            number += 1
        self.dirnames.add(name)
        folder = f"records/{name}"
        kept = record.state == "kept"
        self.residual += 0 if kept else 1
        numbers = {document.id: document.number for _role, document in members}
        attachments = {a.id: a for _role, document in members for a in document.attachments}
        files: list[dict] = []
        sources: list[tuple[str, Path]] = []
        for row in record.files:
            attachment = attachments.get(row.attachment_id) if row.attachment_id is not None else None
            path = None
            if kept and attachment is not None:
                path = f"files/{_payload_filename(row.position, row.filename)}"
                source = self.store.path(row.sha256)
                if not source.is_file():
                    raise StoredFileMissing(
                        Msg(
                            N_("The stored file of “%(name)s” of record %(code)s is missing. Run archive verify."),
                            name=row.filename,
                            code=record.code,
                        )
                    )
                sources.append((f"{folder}/{path}", source))
                self.expected[f"{folder}/{path}"] = row.sha256
            files.append(
                {
                    "position": row.position,
                    "role": row.role,
                    "document": numbers.get(row.document_id),
                    "filename": row.filename,
                    "sha256": row.sha256,
                    "size": row.size,
                    "mime": row.mime,
                    "kind": attachment.kind if attachment is not None else None,
                    "uploaded_at": iso(attachment.uploaded_at) if attachment is not None else None,
                    "uploaded_by": self.usernames(attachment.uploaded_by_id) if attachment is not None else None,
                    "path": path,
                }
            )
        metadata = self._metadata(record, members, events, holds, files)
        yield f"{folder}/metadata.json", canonical_json(metadata)
        yield f"{folder}/metadata.xml", metadata_xml(metadata)
        yield from sources

    def _metadata(
        self,
        record: Record,
        members: list[tuple[str, Document]],
        events: list[AuditEvent],
        holds: list[Hold],
        files: list[dict],
    ) -> dict:
        path = self._ancestry(record)
        user = self.usernames
        covering = {node.id for node in path}
        holds = holds + [hold for hold in self.class_holds if hold.class_id in covering]
        disposal = db.session.get(Disposal, record.disposal_id) if record.disposal_id is not None else None
        return {
            "code": record.code,
            "prefix": record.prefix,
            "item": record.item,
            "year": record.year,
            "class_path": "/".join(node.code for node in path),
            "class": [{"code": node.code, "name": node.name, "level": node.level} for node in path],
            "retention": record.retention,
            "disposal_action": record.disposal_action,
            "due_on": iso(record.due_on),
            "state": record.state,
            "pages": record.pages,
            "filed_at": iso(record.filed_at),
            "filed_by": user(record.filed_by_id),
            "disposed_at": iso(record.disposed_at),
            "disposal": None
            if disposal is None
            else {
                "action": disposal.action,
                "reason": disposal.reason,
                "proposed_at": iso(disposal.proposed_at),
                "proposed_by": user(disposal.proposed_by_id),
                "decided_at": iso(disposal.decided_at),
                "decided_by": user(disposal.decided_by_id),
                "decision_note": disposal.decision_note,
            },
            "captured": record.captured,
            "documents": [{"role": role, **self._document(document)} for role, document in members],
            "files": files,
            "annotations": [
                {"at": iso(note.created_at), "by": user(note.created_by_id), "text": note.text}
                for note in record.annotations
            ],
            "holds": sorted(
                (
                    {
                        "reason": hold.reason,
                        "placed_at": iso(hold.placed_at),
                        "placed_by": user(hold.placed_by_id),
                        "released_at": iso(hold.released_at),
                        "released_by": user(hold.released_by_id),
                        "release_reason": hold.release_reason,
                    }
                    for hold in {hold.id: hold for hold in holds}.values()
                ),
                key=lambda entry: (entry["placed_at"] or "", entry["reason"]),
            ),
            "history": list(record.history or []) + [self._event(event) for event in events],
        }

    def _event(self, event: AuditEvent) -> dict:
        detail = _scrub(json.loads(event.after)) if event.after else {}
        if not isinstance(detail, dict):
            detail = {"value": detail}
        if event.before:
            detail["before"] = _scrub(json.loads(event.before))
        if event.acting_for_id is not None:
            detail["on_behalf_of"] = self.usernames(event.acting_for_id)
        return {
            "at": iso(event.occurred_at),
            "by": self.usernames(event.actor_id),
            "action": event.action,
            "detail": detail,
        }

    def _document(self, document: Document) -> dict:
        """Return a document's fields (as filing captures them), noting the registers and people they name."""
        fields = filing.document_fields(document)
        series = document.series
        if series.code not in self.series:
            self.series[series.code] = {
                "code": series.code,
                "name": series.name,
                "direction": series.direction,
                "pattern": series.pattern,
                "department": series.department.code if series.department else None,
            }
            if series.department is not None:
                self._department(series.department)
        department = document.department or series.department
        if department is not None:
            self._department(department)
        if document.document_type is not None:
            kind = document.document_type
            self.types[kind.code] = {"code": kind.code, "name": kind.name}
        if document.correspondent is not None:
            self._correspondent(document.correspondent)
        for recipient in document.recipients:
            if recipient.correspondent is not None:
                self._correspondent(recipient.correspondent)
            if recipient.department is not None:
                self._department(recipient.department)
        return fields

    def _department(self, department: Department) -> None:
        self.departments[department.code] = {"code": department.code, "name": department.name, "kind": department.kind}

    def _correspondent(self, correspondent: Correspondent) -> None:
        self.correspondents.setdefault(
            correspondent.name, {"name": correspondent.name, "kind": correspondent.kind, "code": correspondent.code}
        )

    def _file_plan(self) -> list[dict]:
        nodes = {node.id: node for path in self.classes.values() for node in path}
        entries = []
        for node in nodes.values():
            path = "/".join(n.code for n in scheme.ancestry(node))
            entries.append(
                {
                    "path": path,
                    "level": node.level,
                    "code": node.code,
                    "name": node.name,
                    "retention": node.retention,
                    "disposal_action": node.disposal_action,
                    "description": node.description,
                }
            )
        return sorted(entries, key=lambda entry: entry["path"])

    def _registers(self) -> dict:
        return {
            "series": [self.series[code] for code in sorted(self.series)],
            "departments": [self.departments[code] for code in sorted(self.departments)],
            "document_types": [self.types[code] for code in sorted(self.types)],
            "correspondents": [self.correspondents[name] for name in sorted(self.correspondents)],
        }


def _xml_text(value) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    return _XML_BAD.sub("\ufffd", str(value))


def _xml_fill(element: ET.Element, value, key: str = "") -> None:
    if value is None:
        element.set("nil", "true")
    elif isinstance(value, dict):
        for name in sorted(value):
            if _XML_NAME.fullmatch(name) and not name.lower().startswith("xml"):
                child = ET.SubElement(element, name)
            else:
                child = ET.SubElement(element, "field", {"name": _xml_text(name)})
            if key == "files" and name == "sha256":  # PREMIS: fixity = algorithm + digest
                ET.SubElement(child, "messageDigestAlgorithm").text = "SHA-256"
                ET.SubElement(child, "messageDigest").text = _xml_text(value[name])
                child.tag = "fixity"
                continue
            _xml_fill(child, value[name], name)
    elif isinstance(value, list):
        for item in value:
            _xml_fill(ET.SubElement(element, _XML_ITEMS.get(key, "item")), item, key)
    else:
        element.text = _xml_text(value)


def metadata_xml(metadata: dict) -> bytes:
    """Return a record's metadata as XML: one element per field, lists as repeated elements, fixity as PREMIS."""
    root = ET.Element("record", {"xmlns": XML_NAMESPACE})
    _xml_fill(root, metadata)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def pack(bag_dir: Path | str, archive_path: Path | str) -> Path:
    """Write a package folder as one tar file for download (see `bagit.pack_bag`)."""
    return bagit.pack_bag(bag_dir, archive_path)
