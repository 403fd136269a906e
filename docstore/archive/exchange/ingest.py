"""Import: a package's records recreated in this instance, whole or not at all (see `docstore.archive.exchange`)."""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError

import storage
from docstore import audit, clock, database, numbering
from docstore.archive import bagit, scheme
from docstore.archive.exchange.layout import CHUNK, FORMAT, FORMAT_LABEL, IMPORTED, Progress, day, instant, iso
from docstore.errors import N_, Conflict, Msg, NotFound, ValidationFailed
from docstore.extensions import db
from docstore.models import (
    CLASS_LEVELS,
    DEPARTMENT_KINDS,
    DIRECTIONS,
    DISPOSAL_ACTIONS,
    RECORD_STATES,
    ArchiveClass,
    Attachment,
    Correspondent,
    Department,
    Disposal,
    DisposalItem,
    Document,
    DocumentRecipient,
    DocumentType,
    Hold,
    HoldRecord,
    Record,
    RecordAnnotation,
    RecordCounter,
    RecordFile,
    RecordMember,
    Series,
    SeriesCounter,
    User,
)


@dataclass
class ImportReport:
    """What an import did: the records made (their codes), documents, files stored, and what it had to create."""

    records: list[str] = field(default_factory=list)
    documents: int = 0
    files: int = 0
    bytes: int = 0
    #: "classes", "series", "departments", "document_types", "correspondents" -> what was created, by code or name
    created: dict[str, list[str]] = field(default_factory=dict)
    #: Usernames the package names that this instance does not know (left empty; the metadata keeps them).
    unknown_users: list[str] = field(default_factory=list)
    external_identifier: str = ""
    bagging_date: str = ""


def _malformed(where: str, detail: str = "") -> ValidationFailed:
    return ValidationFailed(
        {where: Msg(N_("The package's metadata is incomplete or malformed here: %(detail)s."), detail=detail or "?")}
    )


def _read_json(path: Path, where: str):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValidationFailed({where: Msg(N_("The package has no %(name)s."), name=where)}) from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _malformed(where, "not JSON") from exc


@dataclass
class _Survey:
    """What a package holds, read once before anything is written: enough to refuse it early."""

    folders: list[Path] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    #: series code -> [(year, seq, number)]
    sequences: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)
    #: (series code, direction) pairs the documents use
    directions: set[tuple[str, str]] = field(default_factory=set)
    prefixes: dict[str, int] = field(default_factory=dict)
    #: (path in the bag, sha256, size) of every file to store
    files: list[tuple[Path, str, str]] = field(default_factory=list)


def import_package(
    path: Path | str,
    store: storage.FileStore,
    ctx: audit.Context,
    *,
    work_dir: Path | str | None = None,
    max_member_bytes: int = bagit.MAX_MEMBER_BYTES,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the package at `path` (a bag folder, or a tar of one) into this instance, whole or not at all.

    The bag is validated first (BagInvalid lists its problems); records whose codes exist, or documents whose
    numbers exist, make the whole package refused (Conflict naming them). A tar is unpacked into a temporary folder
    under `work_dir` (the system's by default), refusing unsafe members and members past `max_member_bytes`.
    `progress(done, total)` is called as records are written.
    """
    source = Path(path)
    if source.is_file():
        with tempfile.TemporaryDirectory(prefix="docstore-import-", dir=work_dir) as temp:
            bag = bagit.unpack_bag(source, Path(temp) / "bag", max_member_bytes=max_member_bytes)
            return _import_bag(bag, store, ctx, progress)
    if not source.is_dir():
        raise NotFound(Msg(N_("There is no package at %(path)s."), path=str(source)))
    return _import_bag(source, store, ctx, progress)


def _import_bag(bag: Path, store: storage.FileStore, ctx: audit.Context, progress: Progress | None) -> ImportReport:
    validation = bagit.validate_bag(bag)
    if not validation.valid:
        raise bagit.BagInvalid(validation.problems)
    info = validation.info
    if bagit.info_value(info, FORMAT_LABEL) != FORMAT:
        raise ValidationFailed(
            {"bag-info.txt": Msg(N_("This bag is not a Docstore records package (%(label)s: 1)."), label=FORMAT_LABEL)}
        )
    plan = _read_json(bag / "data" / "file-plan.json", "data/file-plan.json")
    registers = _read_json(bag / "data" / "registers.json", "data/registers.json")
    survey = _survey(bag)
    db.session.commit()  # end the reading transaction: storing files is slow, and takes no lock
    _check_free(survey)
    report = ImportReport(
        external_identifier=bagit.info_value(info, "External-Identifier"),
        bagging_date=bagit.info_value(info, "Bagging-Date"),
    )
    _store_files(bag, survey, store, report)
    db.session.commit()  # the writing transaction below must begin afresh, taking SQLite's write lock at once
    with database.writing():
        try:
            _check_free(survey)
            importer = _Importer(ctx, info, plan, registers, survey, report)
            total = len(survey.folders)
            for done, folder in enumerate(survey.folders, start=1):
                where = _where(bag, folder)
                importer.add(_read_json(folder / "metadata.json", where), where)
                if progress is not None and (done % CHUNK == 0 or done == total):
                    progress(done, total)
            importer.raise_counters()
            db.session.commit()
        except IntegrityError as exc:  # someone filed or registered the same codes or numbers meanwhile
            db.session.rollback()
            raise Conflict(
                Msg(N_("Records or numbers of this package were created meanwhile: nothing was imported."))
            ) from exc
        except DBAPIError as exc:
            db.session.rollback()
            raise ValidationFailed(
                {
                    "package": Msg(
                        N_("A value of the package does not fit this instance's database: nothing was imported.")
                    )
                }
            ) from exc
        except BaseException:
            db.session.rollback()
            raise
    return report


def _where(bag: Path, folder: Path) -> str:
    """Return where a record's metadata is in the bag, to name it in a message."""
    return (folder / "metadata.json").relative_to(bag).as_posix()


def _survey(bag: Path) -> _Survey:
    survey = _Survey()
    records = bag / "data" / "records"
    if not records.is_dir():
        raise ValidationFailed({"data/records": Msg(N_("The package has no %(name)s."), name="data/records/")})
    seen_codes: set[str] = set()
    seen_numbers: set[str] = set()
    for folder in sorted(records.iterdir()):
        where = _where(bag, folder)
        meta = _read_json(folder / "metadata.json", where)
        try:
            code = meta["code"]
            prefix, item = meta["prefix"], int(meta["item"])
            if not isinstance(code, str) or not code or code in seen_codes:
                raise ValueError("code")
            seen_codes.add(code)
            for document in meta["documents"]:
                number = document["number"]
                if not isinstance(number, str) or not number or number in seen_numbers:
                    raise ValueError(f"number {number}")
                if document["direction"] not in DIRECTIONS:
                    raise ValueError(f"direction of {number}")
                seen_numbers.add(number)
                survey.numbers.append(number)
                survey.sequences.setdefault(document["series"], []).append(
                    (int(document["year"]), int(document["seq"]), number)
                )
                survey.directions.add((document["series"], document["direction"]))
            if meta["state"] not in RECORD_STATES:
                raise ValueError("state")
            for entry in meta["files"]:
                if entry["path"] is None:
                    continue
                file_path = _file_in(folder, entry["path"])
                survey.files.append((file_path, str(entry["sha256"]), f"{where.rsplit('/', 1)[0]}/{entry['path']}"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _malformed(where, str(exc)) from exc
        survey.folders.append(folder)
        survey.codes.append(code)
        survey.prefixes[prefix] = max(item, survey.prefixes.get(prefix, 0))
    return survey


def _file_in(folder: Path, relative: str) -> Path:
    """Return the file `relative` names inside a record's folder; refuse one outside it, or missing."""
    if not isinstance(relative, str) or not re.fullmatch(r"files/[^/\\]+", relative):
        raise ValueError(f"file path {relative!r}")
    path = folder / relative
    if path.name in (".", "..") or not path.is_file() or path.is_symlink():
        raise ValueError(f"file {relative!r} is not in the package")
    return path


def _shown(values: list[str], limit: int = 20) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" … (+{len(values) - limit})" if len(values) > limit else "")


def _existing(column, values: list[str]) -> list[str]:
    found: list[str] = []
    for start in range(0, len(values), 500):
        found += db.session.scalars(select(column).where(column.in_(values[start : start + 500])))
    return sorted(found)


def _check_free(survey: _Survey) -> None:
    """Refuse the package when its records, numbers or register sequences exist here already."""
    codes = _existing(Record.code, survey.codes)
    if codes:
        raise Conflict(
            Msg(N_("These records exist already here: %(codes)s. Nothing was imported."), codes=_shown(codes))
        )
    numbers = _existing(Document.number, survey.numbers)
    if numbers:
        raise Conflict(
            Msg(
                N_("These register numbers exist already here: %(numbers)s. Nothing was imported."),
                numbers=_shown(numbers),
            )
        )
    for code, direction in sorted(survey.directions):
        series = db.session.scalar(select(Series).where(Series.code == code))
        if series is not None and series.direction != direction:
            raise Conflict(
                Msg(
                    N_(
                        "Register %(code)s here is of another direction (incoming, outgoing, internal) than in the "
                        "package: nothing was imported."
                    ),
                    code=code,
                )
            )
        if series is None:
            continue
        taken = []
        by_year: dict[int, dict[int, str]] = {}
        for year, seq, number in survey.sequences.get(code, []):
            by_year.setdefault(year, {})[seq] = number
        for year, numbers_of in sorted(by_year.items()):
            seqs = sorted(numbers_of)
            for start in range(0, len(seqs), 500):
                query = select(Document.seq, Document.number).where(
                    Document.series_id == series.id, Document.year == year, Document.seq.in_(seqs[start : start + 500])
                )
                taken += [f"{numbers_of[seq]} ({other})" for seq, other in db.session.execute(query)]
        if taken:
            raise Conflict(
                Msg(
                    N_("Register %(code)s has these places taken already: %(numbers)s. Nothing was imported."),
                    code=code,
                    numbers=_shown(taken),
                )
            )


def _store_files(bag: Path, survey: _Survey, store: storage.FileStore, report: ImportReport) -> None:
    """Put every file of the package in the store, checking it has the SHA-256 its record and manifest say."""
    manifest = bagit.read_manifest(bag, "sha256")
    unlimited = storage.FileStore(store.root)  # files the exporting office kept are taken whatever their size
    for path, sha256, where in survey.files:
        listed = manifest.get(where) if manifest else sha256
        try:
            stored = unlimited.put(path)
        except storage.EmptyFile as exc:
            raise ValidationFailed({where: Msg(N_("The file is empty."))}) from exc
        if stored.sha256 != sha256 or stored.sha256 != listed:
            raise ValidationFailed(
                {where: Msg(N_("The file's SHA-256 is not the one its record and the manifest give."))}
            )
        report.files += 1
        report.bytes += stored.size


class _Importer:
    """Rows for the records of one package, written in the caller's transaction."""

    def __init__(self, ctx, info, plan, registers, survey: _Survey, report: ImportReport) -> None:
        self.ctx = ctx
        self.report = report
        self.now = clock.now()
        self.survey = survey
        self.ingestion = {
            "event_type": "ingestion",
            "package": bagit.info_value(info, "External-Identifier"),
            "bagging_date": bagit.info_value(info, "Bagging-Date"),
            "source_organization": bagit.info_value(info, "Source-Organization"),
        }
        actor = db.session.get(User, ctx.actor_id) if ctx.actor_id is not None else None
        self.importer = actor.username if actor is not None else None
        try:
            self.plan = {entry["path"]: entry for entry in plan["classes"]}
            self.series_entries = {entry["code"]: entry for entry in registers["series"]}
            self.department_entries = {entry["code"]: entry for entry in registers["departments"]}
            self.type_entries = {entry["code"]: entry for entry in registers["document_types"]}
            self.correspondent_entries = {entry["name"]: entry for entry in registers["correspondents"]}
        except (KeyError, TypeError) as exc:
            raise _malformed("data/registers.json", str(exc)) from exc
        self.classes: dict[str, ArchiveClass] = {}
        self.series: dict[str, Series] = {}
        self.departments: dict[str, Department | None] = {}
        self.types: dict[str, DocumentType | None] = {}
        self.correspondents: dict[str, Correspondent | None] = {}
        self.users: dict[str, int | None] = {}
        self.holds: dict[str, Hold] = {}
        self.disposals: dict[str, Disposal] = {}
        self.counters: dict[tuple[int, int], int] = {}

    def _created(self, kind: str, name: str) -> None:
        self.report.created.setdefault(kind, []).append(name)

    # references, found or created

    def user(self, username: str | None) -> int | None:
        if not username:
            return None
        if username not in self.users:
            self.users[username] = db.session.scalar(select(User.id).where(User.username == username))
            if self.users[username] is None:
                self.report.unknown_users.append(username)
        return self.users[username]

    def archive_class(self, path: str) -> ArchiveClass:
        if path in self.classes:
            return self.classes[path]
        codes = path.split("/")
        parent = self.archive_class("/".join(codes[:-1])) if len(codes) > 1 else None
        node = db.session.scalar(
            select(ArchiveClass).where(
                ArchiveClass.parent_id.is_(None) if parent is None else ArchiveClass.parent_id == parent.id,
                ArchiveClass.code == codes[-1],
            )
        )
        if node is None:
            entry = self.plan.get(path)
            if (
                entry is None
                or entry.get("level") not in CLASS_LEVELS
                or scheme.PARENT_LEVEL[entry["level"]] != (parent.level if parent else None)
                or not re.fullmatch(r"[A-Za-z0-9]{1,16}", entry.get("code") or "")
                or (entry.get("retention") and not scheme.retention_valid(entry["retention"]))
                or (entry.get("disposal_action") and entry["disposal_action"] not in DISPOSAL_ACTIONS)
            ):
                raise _malformed("data/file-plan.json", f"class {path}")
            position = (db.session.scalar(select(func.max(ArchiveClass.position))) or 0) + 1
            node = ArchiveClass(
                parent_id=parent.id if parent else None,
                level=entry["level"],
                code=entry["code"],
                name=str(entry.get("name") or entry["code"])[:200],
                retention=entry.get("retention") or "",
                disposal_action=entry.get("disposal_action") or "",
                description=entry.get("description") or "",
                active=True,
                position=position,
            )
            db.session.add(node)
            db.session.flush()
            audit.record_event(self.ctx, "archive_class.created", "archive_class", node.id, after=node.as_dict())
            self._created("classes", path)
        self.classes[path] = node
        return node

    def department(self, code: str | None) -> Department | None:
        if not code:
            return None
        if code not in self.departments:
            found = db.session.scalar(select(Department).where(Department.code == code))
            if found is None:
                entry = self.department_entries.get(code, {})
                kind = entry.get("kind") if entry.get("kind") in DEPARTMENT_KINDS else "department"
                found = Department(code=code, name=str(entry.get("name") or code)[:200], kind=kind, active=True)
                db.session.add(found)
                db.session.flush()
                audit.record_event(self.ctx, "department.create", "department", found.id, after=found.as_dict())
                self._created("departments", code)
            self.departments[code] = found
        return self.departments[code]

    def document_type(self, code: str | None) -> DocumentType | None:
        if not code:
            return None
        if code not in self.types:
            found = db.session.scalar(select(DocumentType).where(DocumentType.code == code))
            if found is None:
                entry = self.type_entries.get(code, {})
                position = (db.session.scalar(select(func.max(DocumentType.position))) or 0) + 1
                found = DocumentType(
                    code=code, name=str(entry.get("name") or code)[:100], active=False, position=position
                )
                db.session.add(found)
                db.session.flush()
                audit.record_event(self.ctx, "document_type.create", "document_type", found.id, after=found.as_dict())
                self._created("document_types", code)
            self.types[code] = found
        return self.types[code]

    def correspondent(self, name: str | None) -> Correspondent | None:
        if not name:
            return None
        if name not in self.correspondents:
            found = db.session.scalar(
                select(Correspondent)
                .where(func.lower(Correspondent.name) == name.lower())
                .order_by(Correspondent.active.desc(), Correspondent.id)
                .limit(1)
            )
            if found is None:
                entry = self.correspondent_entries.get(name, {})
                code = entry.get("code") or None
                if code and db.session.scalar(select(Correspondent.id).where(Correspondent.code == code)) is not None:
                    code = None
                found = Correspondent(name=name, kind=entry.get("kind") or "organisation", code=code, active=True)
                db.session.add(found)
                db.session.flush()
                audit.record_event(self.ctx, "correspondent.create", "correspondent", found.id, after=found.as_dict())
                self._created("correspondents", name)
            self.correspondents[name] = found
        return self.correspondents[name]

    def series_of(self, code: str) -> Series:
        if code not in self.series:
            found = db.session.scalar(select(Series).where(Series.code == code))
            if found is None:
                entry = self.series_entries.get(code)
                if entry is None:
                    raise _malformed("data/registers.json", f"register {code}")
                department = self.department(entry.get("department"))
                found = Series(
                    code=code,
                    name=str(entry.get("name") or code)[:200],
                    direction=entry["direction"],
                    pattern=_pattern_for(entry, department, self.survey.sequences.get(code, [])),
                    department_id=department.id if department else None,
                    active=False,
                )
                db.session.add(found)
                db.session.flush()
                audit.record_event(self.ctx, "series.create", "series", found.id, after=found.as_dict())
                self._created("series", code)
            self.series[code] = found
        return self.series[code]

    def hold(self, entry: dict) -> Hold:
        key = json.dumps(entry, sort_keys=True)
        if key not in self.holds:
            hold = Hold(
                reason=str(entry["reason"])[:500],
                class_id=None,
                placed_at=instant(entry["placed_at"]),
                placed_by_id=self.user(entry.get("placed_by")),
                released_at=instant(entry.get("released_at")),
                released_by_id=self.user(entry.get("released_by")),
                release_reason=entry.get("release_reason") or "",
            )
            db.session.add(hold)
            db.session.flush()
            audit.record_event(
                self.ctx, "archive_hold.imported", "archive_hold", hold.id, after={**entry, **self.ingestion}
            )
            self.holds[key] = hold
        return self.holds[key]

    def disposal(self, entry: dict) -> Disposal:
        key = json.dumps(entry, sort_keys=True)
        if key not in self.disposals:
            disposal = Disposal(
                action=entry["action"],
                reason=str(entry["reason"])[:500],
                state="approved",
                proposed_at=instant(entry["proposed_at"]),
                proposed_by_id=self.user(entry.get("proposed_by")),
                decided_at=instant(entry.get("decided_at")),
                decided_by_id=self.user(entry.get("decided_by")),
                decision_note=entry.get("decision_note") or "",
            )
            db.session.add(disposal)
            db.session.flush()
            audit.record_event(
                self.ctx,
                "archive_disposal.imported",
                "archive_disposal",
                disposal.id,
                after={**entry, **self.ingestion},
            )
            self.disposals[key] = disposal
        return self.disposals[key]

    # the records

    def document(self, fields: dict, status: str) -> Document:
        series = self.series_of(fields["series"])
        correspondent = self.correspondent(fields.get("sender"))
        department = self.department(fields.get("department"))
        kind = self.document_type(fields.get("type"))
        document = Document(
            series_id=series.id,
            year=int(fields["year"]),
            seq=int(fields["seq"]),
            number=fields["number"],
            direction=fields["direction"],
            status=status,
            registered_at=instant(fields["registered_at"]),
            registered_by_id=self.user(fields.get("registered_by")),
            received_at=instant(fields.get("received_at")),
            channel=fields.get("channel"),
            correspondent_id=correspondent.id if correspondent else None,
            sender_reference=fields.get("sender_reference") or "",
            sender_date=day(fields.get("sender_date")),
            title=fields["title"],
            document_type_id=kind.id if kind else None,
            urgency=fields.get("urgency") or "normal",
            classification=int(fields.get("classification") or 0),
            pages=fields.get("pages"),
            copies=fields.get("copies"),
            department_id=department.id if department else None,
            deadline=day(fields.get("deadline")),
            summary=fields.get("summary") or "",
            notes=fields.get("notes") or "",
            signer_id=self.user(fields.get("signer")),
            document_date=day(fields.get("document_date")),
            sent_on=day(fields.get("sent_on")),
            updated_at=self.now,
        )
        for position, recipient in enumerate(fields.get("recipients") or []):
            if recipient["kind"] == "department":
                target = self.department(recipient.get("code"))
                values = {"department_id": target.id if target else None}
            else:
                target = self.correspondent(recipient.get("name"))
                values = {"correspondent_id": target.id if target else None}
            if target is None:
                raise ValueError(f"recipient {recipient}")
            document.recipients.append(DocumentRecipient(role=recipient["role"], position=position, **values))
        db.session.add(document)
        key = (series.id, document.year)
        self.counters[key] = max(document.seq, self.counters.get(key, 0))
        self.report.documents += 1
        return document

    def add(self, meta: dict, where: str) -> None:
        try:
            self._add(meta)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _malformed(where, str(exc)) from exc

    def _add(self, meta: dict) -> None:
        node = self.archive_class(meta["class_path"])
        if node.level == "fonds":
            raise ValueError("records are filed in classes, not in a fonds")
        state = meta["state"]
        status = "archived" if state == "kept" else state
        documents: dict[str, Document] = {}
        main: Document | None = None
        for fields in meta["documents"]:
            document = self.document(fields, status)
            documents[document.number] = document
            if fields["role"] == "document":
                main = document
        if main is None:
            raise ValueError("no main document")
        db.session.flush()
        disposal = self.disposal(meta["disposal"]) if meta.get("disposal") else None
        history = list(meta.get("history") or [])
        history.append({"at": iso(self.now), "by": self.importer, "action": IMPORTED, "detail": dict(self.ingestion)})
        record = Record(
            document_id=main.id,
            class_id=node.id,
            year=int(meta["year"]),
            prefix=meta["prefix"],
            item=int(meta["item"]),
            code=meta["code"],
            retention=meta["retention"],
            disposal_action=meta["disposal_action"],
            due_on=day(meta.get("due_on")),
            state=state,
            pages=meta.get("pages"),
            filed_at=instant(meta["filed_at"]),
            filed_by_id=self.user(meta.get("filed_by")),
            captured=meta["captured"],
            history=history,
            disposal_id=disposal.id if disposal else None,
            disposed_at=instant(meta.get("disposed_at")),
        )
        db.session.add(record)
        db.session.flush()
        for fields in meta["documents"]:
            db.session.add(
                RecordMember(document_id=documents[fields["number"]].id, record_id=record.id, role=fields["role"])
            )
        positions: dict[int, int] = {}
        for entry in meta["files"]:
            owner = documents[entry["document"]]
            attachment = None
            if entry["path"] is not None and state == "kept":
                attachment = Attachment(
                    document_id=owner.id,
                    sha256=entry["sha256"],
                    size=int(entry["size"]),
                    filename=entry["filename"],
                    mime=entry["mime"],
                    kind=entry.get("kind") or "unknown",
                    position=positions.get(owner.id, 0),
                    uploaded_at=instant(entry.get("uploaded_at")) or record.filed_at,
                    uploaded_by_id=self.user(entry.get("uploaded_by")),
                    extraction_state="pending",
                )
                positions[owner.id] = positions.get(owner.id, 0) + 1
                db.session.add(attachment)
                db.session.flush()
            db.session.add(
                RecordFile(
                    record_id=record.id,
                    document_id=owner.id,
                    attachment_id=attachment.id if attachment else None,
                    role=entry["role"],
                    position=int(entry["position"]),
                    filename=entry["filename"],
                    sha256=entry["sha256"],
                    size=int(entry["size"]),
                    mime=entry["mime"],
                )
            )
        for note in meta.get("annotations") or []:
            db.session.add(
                RecordAnnotation(
                    record_id=record.id,
                    text=note["text"],
                    created_at=instant(note["at"]),
                    created_by_id=self.user(note.get("by")),
                )
            )
        for entry in meta.get("holds") or []:
            db.session.add(HoldRecord(hold_id=self.hold(entry).id, record_id=record.id))
        if disposal is not None:
            db.session.add(DisposalItem(disposal_id=disposal.id, record_id=record.id))
        audit.record_event(
            self.ctx,
            IMPORTED,
            "archive_record",
            record.id,
            after={"code": record.code, "documents": sorted(documents), **self.ingestion},
        )
        db.session.flush()
        self.report.records.append(record.code)

    def raise_counters(self) -> None:
        """Raise the registers' yearly counters and the archive's item counters past the imported numbers."""
        for (series_id, year), seq in sorted(self.counters.items()):
            numbering.raise_counter(SeriesCounter.__table__, seq, series_id=series_id, year=year)
        for prefix, item in sorted(self.survey.prefixes.items()):
            numbering.raise_counter(RecordCounter.__table__, item, prefix=prefix)


def _pattern_for(entry: dict, department: Department | None, sequences: list[tuple[int, int, str]]) -> str:
    """Return a number pattern that gives back the package's numbers of a register: its own, or one read from them."""
    dept = department.code if department else ""
    candidates = [entry.get("pattern") or ""]
    if sequences:
        candidates.append(_derived_pattern(*sequences[0]))
    for text in candidates:
        try:
            pattern = numbering.parse_pattern(text)
        except ValidationFailed:
            continue
        if all(pattern.format(year=y, seq=s, dept=dept, code=entry["code"]) == n for y, s, n in sequences):
            return pattern.text
    return candidates[0] or "{code}-{year}-{seq}"


def _derived_pattern(year: int, seq: int, number: str) -> str:
    """Return the pattern `number` follows, reading its last run of digits as {seq} and "{year}" in what is before."""
    if "{" in number or "}" in number:
        return ""
    runs = [match for match in re.finditer(r"\d+", number) if int(match.group()) == seq]
    if not runs:
        return ""
    run = runs[-1]
    digits = run.group()
    token = f"{{seq:{len(digits)}}}" if len(digits) > 1 and digits.startswith("0") else "{seq}"
    head, tail = number[: run.start()], number[run.end() :]
    year_text = f"{year:04d}"
    if year_text in head:
        head = head.replace(year_text, "{year}", 1)
    elif year_text in tail:
        tail = tail.replace(year_text, "{year}", 1)
    else:
        return ""
    return head + token + tail
