"""The archive in the JSON API: the file plan, filing, records, legal holds, disposal, fixity, the catalogue and
export packages.

A record answers 404 to whoever may not open its document (`registry.can_view`); a list of holds, disposals or
expired records shows such a record by its code only, "withheld". A filed record never changes: PATCH and DELETE on
it, and on its documents through /documents, are 409 (code ``record_filed``); a correction is an annotation.
Reading a record and downloading one of its files are logged in the audit log. The archivists (and administrators)
keep the archive; a leader or an administrator other than the proposer decides on a disposal (the service checks
both, 403); a record under a legal hold cannot be proposed or disposed of (409, code ``record_on_hold``).
"""

from __future__ import annotations

import io
import shutil
import tempfile
from datetime import date
from pathlib import Path

from flask import current_app, g, jsonify, request, send_file, url_for

from docstore import books, clock, database, extraction, numbering, registry
from docstore.api.common import (
    _body,
    _choice_arg,
    _ctx,
    _flag,
    _int_arg,
    _json_value,
    _page_json,
    _paging,
    _translate,
    authenticated,
    bp,
)
from docstore.api.routing import _listed_document, person_json
from docstore.archive import catalogue, disposal, exchange, filing, fixity, holds, records, scheme
from docstore.errors import N_, Msg, RecordFiled, ValidationFailed
from docstore.messages import clearance_names, translate
from docstore.models import (
    DISPOSAL_ACTIONS,
    DISPOSAL_STATES,
    RECORD_STATES,
    ArchiveClass,
    Disposal,
    FixityRun,
    Hold,
    Record,
    RecordAnnotation,
    RecordFile,
)
from docstore.pagination import Page

#: Who keeps the archive: the file plan, filing, annotations, holds, disposal proposals, fixity, exports.
KEEPERS = records.ARCHIVE_ROLES
#: Who follows holds and disposals and prints the catalogue: the keepers, and the leaders who decide on disposals.
OVERSEERS = records.OVERSEER_ROLES
#: The depth of each level of the file plan.
DEPTHS = {"fonds": 0, "class": 1, "subclass": 2}
CLASS_FIELDS = ("parent_id", "level", "code", "name", "retention", "disposal_action", "description", "position")
HOLD_STATES = {"active": True, "released": False, "all": None}
#: The catalogue's formats: MIME type of each.
CATALOGUE_FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DOCX_MIME = CATALOGUE_FORMATS["docx"]


def _file_store():
    return extraction.file_store(current_app.config)


def _today() -> date:
    """Return today in the office's time zone (retention ends on a day of the office's calendar)."""
    return numbering.office_date(clock.now(), current_app.config["OFFICE_TIMEZONE"])


def _visible_record(record_id: int) -> Record:
    """Return the record if the caller may open its document; NotFound otherwise, as if it did not exist."""
    return records.get_record(record_id, g.api_user)


def _openable(rows: list[Record]) -> set[int]:
    """Return the ids of those of `rows` whose document the caller may open, in one query."""
    visible = registry.visible_ids(g.api_user, [row.document_id for row in rows])
    return {row.id for row in rows if row.document_id in visible}


# --- labels of the Word and Excel files ------------------------------------------------------------------------


def catalogue_labels() -> dict:
    """Return the texts of the catalogue and the certificate in the request's language."""
    return catalogue.default_labels(translate, clearance_names())


# --- how the archive looks in JSON -----------------------------------------------------------------------------


def _code_path(node: ArchiveClass) -> str:
    """Return the codes of a node's path from its fonds, as file names carry them: J001-WS-ZD."""
    return "-".join(n.code for n in scheme.ancestry(node))


def class_json(node: ArchiveClass) -> dict:
    """Return a node of the file plan, with the retention and disposal action it gives its records."""
    effective = scheme.effective(node)
    return node.as_dict() | {
        "depth": DEPTHS[node.level],
        "path": _code_path(node),
        "effective_retention": effective.retention,
        "effective_disposal_action": effective.disposal_action,
    }


def _captured(record: Record, part: str) -> dict:
    return (record.captured or {}).get(part) or {}


def record_summary(record: Record, withheld: bool = False) -> dict:
    """Return a record in a list: its code and catalogue entry, or, `withheld`, its code and state only."""
    if withheld:
        return {"id": record.id, "code": record.code, "state": record.state, "withheld": True}
    entry = _captured(record, "catalogue")
    return {
        "id": record.id,
        "code": record.code,
        "class_id": record.class_id,
        "year": record.year,
        "item": record.item,
        "number": _captured(record, "document").get("number"),
        "title": entry.get("title"),
        "date": entry.get("date"),
        "retention": record.retention,
        "disposal_action": record.disposal_action,
        "due_on": _json_value(record.due_on),
        "state": record.state,
        "filed_at": _json_value(record.filed_at),
        "withheld": False,
        "url": url_for("api.get_archive_record", record_id=record.id),
    }


def _listed_records(rows: list[Record]) -> list[dict]:
    openable = _openable(rows)
    return [record_summary(row, withheld=row.id not in openable) for row in rows]


def record_file_json(row: RecordFile, kept: bool) -> dict:
    """Return a file of a record; its address while the record is kept."""
    return {
        "id": row.id,
        "document_id": row.document_id,
        "role": row.role,
        "position": row.position,
        "filename": row.filename,
        "sha256": row.sha256,
        "size": row.size,
        "mime": row.mime,
        "content_url": url_for("api.archive_record_file", record_id=row.record_id, file_id=row.id) if kept else None,
    }


def annotation_json(note: RecordAnnotation) -> dict:
    """Return an annotation of a record."""
    return {
        "id": note.id,
        "text": note.text,
        "created_at": _json_value(note.created_at),
        "created_by": person_json(note.created_by),
    }


def hold_json(hold: Hold) -> dict:
    """Return a legal hold with the records it names (those of its class are held too, without being named)."""
    return {
        "id": hold.id,
        "reason": hold.reason,
        "class_id": hold.class_id,
        "record_ids": holds.record_ids_of(hold.id),
        "in_force": hold.released_at is None,
        "placed_at": _json_value(hold.placed_at),
        "placed_by": person_json(hold.placed_by),
        "released_at": _json_value(hold.released_at),
        "released_by": person_json(hold.released_by),
        "release_reason": hold.release_reason,
    }


def record_json(record: Record) -> dict:
    """Return a record in full: what was captured at filing, its files, annotations and holds, and where its
    retention stands."""
    node = record.archive_class
    kept = record.state == "kept"
    openable = {record.document_id}  # the caller opened the record: its document is theirs to see
    return record_summary(record) | {
        "document": _listed_document(record.document, openable),
        "class": {"id": node.id, "code": node.code, "name": node.name},
        "prefix": record.prefix,
        "pages": record.pages,
        "filed_by": person_json(record.filed_by),
        "captured": record.captured,
        "history": record.history,
        "files": [record_file_json(row, kept) for row in record.files],
        "annotations": [annotation_json(note) for note in record.annotations],
        "holds": [hold_json(hold) for hold in holds.holds_of(record)],
        "held": bool(holds.held_ids([record.id])),
        "due": records.due(record, _today()),
        "disposal_id": record.disposal_id,
        "disposed_at": _json_value(record.disposed_at),
    }


def disposal_json(decision: Disposal, with_records: bool = True) -> dict:
    """Return a disposal: the proposal, its decision, its records and (once approved) its certificate."""
    answer = {
        "id": decision.id,
        "action": decision.action,
        "reason": decision.reason,
        "state": decision.state,
        "state_label": _translate(Msg(DISPOSAL_STATES[decision.state])),
        "proposed_at": _json_value(decision.proposed_at),
        "proposed_by": person_json(decision.proposed_by),
        "decided_at": _json_value(decision.decided_at),
        "decided_by": person_json(decision.decided_by),
        "decision_note": decision.decision_note,
        "package": decision.package or None,
        "certificate_url": (
            url_for("api.disposal_certificate", disposal_id=decision.id) if decision.certificate_sha256 else None
        ),
        "url": url_for("api.get_disposal", disposal_id=decision.id),
    }
    if with_records:
        answer["records"] = _listed_records(disposal.records_of(decision.id))
    return answer


def fixity_run_json(run: FixityRun) -> dict:
    """Return a run of `archive verify`."""
    return {
        "id": run.id,
        "scope": run.scope,
        "started_at": _json_value(run.started_at),
        "finished_at": _json_value(run.finished_at),
        "checked": run.checked,
        "intact": run.intact,
        "missing": run.missing,
        "altered": run.altered,
        "bytes_read": run.bytes_read,
    }


def fixity_problem_json(problem: fixity.Problem) -> dict:
    """Return a stored file found missing or altered, with where it is used."""
    return {
        "sha256": problem.sha256,
        "outcome": problem.outcome,
        "checked_at": _json_value(problem.checked_at),
        "uses": [
            {"kind": use.kind, "reference": use.reference, "filename": use.filename, "object_id": use.object_id}
            for use in problem.uses
        ],
    }


def _page_of_records(page: Page[Record]):
    return jsonify(
        {"items": _listed_records(page.items), "page": page.page, "per_page": page.per_page, "total": page.total}
    )


# --- the file plan ---------------------------------------------------------------------------------------------


@bp.get("/archive/classes")
@authenticated()
def list_archive_classes():
    rows = scheme.list_classes(include_inactive=_flag("include_inactive") or False)
    return jsonify({"items": [class_json(node) for node in rows]})


@bp.post("/archive/classes")
@authenticated(*KEEPERS)
def create_archive_class():
    data = _body(CLASS_FIELDS)
    node = scheme.create_class(_ctx(), **data)
    response = jsonify(class_json(node))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_archive_class", class_id=node.id)
    return response


@bp.get("/archive/classes/<int:class_id>")
@authenticated()
def get_archive_class(class_id: int):
    return jsonify(class_json(scheme.get_class(class_id)))


@bp.patch("/archive/classes/<int:class_id>")
@authenticated(*KEEPERS)
def update_archive_class(class_id: int):
    data = _body(scheme.EDITABLE)
    return jsonify(class_json(scheme.update_class(_ctx(), class_id, data)))


# --- filing ----------------------------------------------------------------------------------------------------


@bp.get("/archive/closed")
@authenticated(*KEEPERS)
def list_closed_documents():
    page = filing.closed_documents(_int_arg("year"), *_paging())
    openable = registry.visible_ids(g.api_user, [document.id for document in page.items])
    return _page_json(page, lambda document: _listed_document(document, openable))


def _filing_rules() -> filing.FilingRules:
    return filing.rules_from(current_app.config)


@bp.post("/archive/records")
@authenticated(*KEEPERS)
def file_archive_record():
    data = _body(("document_id", "class_id"))
    missing = {name: Msg(N_("This field is required.")) for name in ("document_id", "class_id") if name not in data}
    if missing:
        raise ValidationFailed(missing)
    record = filing.file_document(_ctx(), data["document_id"], data["class_id"], _filing_rules())
    response = jsonify(record_json(record))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_archive_record", record_id=record.id)
    return response


@bp.post("/archive/filings")
@authenticated(*KEEPERS)
def file_archive_batch():
    data = _body(("class_id", "year", "document_ids"))
    errors = {}
    if "class_id" not in data:
        errors["class_id"] = Msg(N_("This field is required."))
    if ("year" in data) == ("document_ids" in data):
        errors["year"] = Msg(N_('Send either "year": n or "document_ids": [...].'))
    if errors:
        raise ValidationFailed(errors)
    report = filing.file_batch(
        _ctx(), data["class_id"], data.get("year"), _filing_rules(), document_ids=data.get("document_ids")
    )
    return jsonify(
        {
            "record_ids": report.record_ids,
            "skipped": [{"number": number, "reason": _translate(reason)} for number, reason in report.skipped],
        }
    )


# --- records ---------------------------------------------------------------------------------------------------


@bp.get("/archive/records")
@authenticated()
def list_archive_records():
    criteria = records.RecordFilter(
        text=request.args.get("q", ""),
        class_id=_int_arg("class_id"),
        year=_int_arg("year"),
        state=_choice_arg("state", RECORD_STATES),
        retention=request.args.get("retention", ""),
        held=_flag("held"),
    )
    page = records.list_records(criteria, g.api_user, *_paging())
    return _page_json(page, record_summary)


@bp.get("/archive/records/<int:record_id>")
@authenticated()
def get_archive_record(record_id: int):
    record = database.write_after_reads(lambda: records.view_record(_ctx(), record_id, g.api_user))
    return jsonify(record_json(record))


def _immutable(record_id: int):
    record = _visible_record(record_id)
    raise RecordFiled(
        Msg(N_("Record %(code)s is filed and never changes: add an annotation instead."), code=record.code)
    )


@bp.patch("/archive/records/<int:record_id>")
@authenticated()
def update_archive_record(record_id: int):
    _immutable(record_id)


@bp.delete("/archive/records/<int:record_id>")
@authenticated()
def delete_archive_record(record_id: int):
    _immutable(record_id)


@bp.get("/archive/records/<int:record_id>/files/<int:file_id>")
@authenticated()
def archive_record_file(record_id: int, file_id: int):
    row, path = database.write_after_reads(
        lambda: records.record_file(_ctx(), record_id, file_id, g.api_user, _file_store())
    )
    return send_file(
        path, mimetype=row.mime, as_attachment=True, download_name=row.filename, conditional=True, etag=row.sha256
    )


@bp.post("/archive/records/<int:record_id>/annotations")
@authenticated(*KEEPERS)
def annotate_archive_record(record_id: int):
    record = _visible_record(record_id)
    data = _body(("text",))
    note = records.annotate(_ctx(), record.id, data.get("text") or "")
    return jsonify(annotation_json(note)), 201


@bp.post("/archive/records/<int:record_id>/reappraisal")
@authenticated(*KEEPERS)
def reappraise_archive_record(record_id: int):
    record = _visible_record(record_id)
    data = _body(("retention", "action", "reason"))
    reappraised = disposal.reappraise(
        _ctx(), record.id, data.get("retention") or "", data.get("action") or "", data.get("reason") or "", _today()
    )
    return jsonify(record_json(reappraised))


# --- legal holds -----------------------------------------------------------------------------------------------


@bp.get("/archive/holds")
@authenticated(*OVERSEERS)
def list_archive_holds():
    state = _choice_arg("state", HOLD_STATES) or "active"
    return jsonify({"items": [hold_json(hold) for hold in holds.list_holds(HOLD_STATES[state])]})


@bp.post("/archive/holds")
@authenticated(*KEEPERS)
def place_archive_hold():
    data = _body(("reason", "record_ids", "class_id"))
    hold = holds.place_hold(_ctx(), data.get("reason") or "", data.get("record_ids") or (), data.get("class_id"))
    return jsonify(hold_json(hold)), 201


@bp.post("/archive/holds/<int:hold_id>/release")
@authenticated(*KEEPERS)
def release_archive_hold(hold_id: int):
    holds.get_hold(hold_id)
    data = _body(("reason",))
    try:
        hold = holds.release_hold(_ctx(), hold_id, data.get("reason") or "")
    except ValidationFailed as exc:  # the service names the hold's column; the body calls it "reason"
        renamed = {"reason" if name == "release_reason" else name: msg for name, msg in exc.errors.items()}
        raise ValidationFailed(renamed) from exc
    return jsonify(hold_json(hold))


# --- retention and disposal ------------------------------------------------------------------------------------


@bp.get("/archive/expired")
@authenticated(*OVERSEERS)
def list_expired_records():
    action = _choice_arg("action", DISPOSAL_ACTIONS)
    page = disposal.expired(_today(), *_paging(), action=action)
    held = holds.held_ids(record.id for record in page.items)
    return jsonify(
        {
            "items": [item | {"held": item["id"] in held} for item in _listed_records(page.items)],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
        }
    )


@bp.get("/archive/disposals")
@authenticated(*OVERSEERS)
def list_disposals():
    state = _choice_arg("state", DISPOSAL_STATES)
    page = disposal.list_disposals(state, *_paging())
    return _page_json(page, lambda decision: disposal_json(decision, with_records=False))


@bp.post("/archive/disposals")
@authenticated(*KEEPERS)
def propose_disposal():
    data = _body(("record_ids", "reason"))
    decision = disposal.propose(_ctx(), data.get("record_ids") or [], data.get("reason") or "", _today())
    response = jsonify(disposal_json(decision))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_disposal", disposal_id=decision.id)
    return response


@bp.get("/archive/disposals/<int:disposal_id>")
@authenticated(*OVERSEERS)
def get_disposal(disposal_id: int):
    return jsonify(disposal_json(disposal.get_disposal(disposal_id)))


def _certificate(decision: Disposal, rows: list[Record]) -> bytes:
    """Draw the certificate of an approved disposal, in the approver's language."""
    return catalogue.certificate_docx(
        decision,
        rows,
        office=books.office_name(),
        labels=catalogue_labels(),
        timezone=current_app.config["OFFICE_TIMEZONE"],
    )


@bp.post("/archive/disposals/<int:disposal_id>/approve")
@authenticated()
def approve_disposal(disposal_id: int):
    disposal.get_disposal(disposal_id)
    data = _body(("note",))
    folder = disposal.transfer_dir(current_app.config, current_app.instance_path)
    note = data.get("note") or ""
    decision, failed = disposal.approve(_ctx(), disposal_id, note, _file_store(), _certificate, _today(), folder)
    return jsonify(disposal_json(decision) | {"files_not_removed": failed})


@bp.post("/archive/disposals/<int:disposal_id>/reject")
@authenticated()
def reject_disposal(disposal_id: int):
    disposal.get_disposal(disposal_id)
    data = _body(("note",))
    return jsonify(disposal_json(disposal.reject(_ctx(), disposal_id, data.get("note") or "")))


@bp.get("/archive/disposals/<int:disposal_id>/certificate")
@authenticated(*OVERSEERS)
def disposal_certificate(disposal_id: int):
    decision, path, name = disposal.certificate_file(disposal_id, _file_store())
    return send_file(path, mimetype=DOCX_MIME, as_attachment=True, download_name=name, etag=decision.certificate_sha256)


# --- integrity, the catalogue, export --------------------------------------------------------------------------


@bp.get("/archive/fixity")
@authenticated(*KEEPERS)
def archive_fixity():
    return jsonify(
        {
            "runs": [fixity_run_json(run) for run in fixity.last_runs()],
            "problems": [fixity_problem_json(problem) for problem in fixity.latest_problems()],
        }
    )


def _required_int_arg(name: str) -> int:
    value = _int_arg(name)
    if value is None:
        raise ValidationFailed({name: Msg(N_("This field is required."))})
    return value


@bp.get("/archive/catalogue")
@authenticated(*OVERSEERS)
def archive_catalogue():
    errors = {}
    values = {}
    for name in ("class_id", "year"):
        try:
            values[name] = _required_int_arg(name)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    kind = request.args.get("format", "")
    if kind not in CATALOGUE_FORMATS:
        errors["format"] = Msg(N_("Use one of: %(choices)s."), choices=", ".join(CATALOGUE_FORMATS))
    retention = request.args.get("retention", "")
    if retention and not scheme.retention_valid(retention):
        errors["retention"] = Msg(N_("Choose Y, D30, D10, or a custom period such as D5."))
    if errors:
        raise ValidationFailed(errors)
    node = scheme.get_class(values["class_id"])
    fonds = scheme.ancestry(node)[0]
    year = values["year"]
    title = _translate(Msg(N_("Archive catalogue: %(name)s, %(year)s"), name=node.name, year=year))
    subtitle = f"{fonds.code} {fonds.name}"
    found = catalogue.catalogue_records(node.id, year, retention)
    rows = catalogue.withheld_above(catalogue.catalogue_rows(found), g.api_user.clearance)
    labels = catalogue_labels()
    if kind == "docx":
        data = catalogue.catalogue_docx(rows, title=title, subtitle=subtitle, labels=labels)
    else:
        data = catalogue.catalogue_xlsx(rows, title=title, labels=labels)
    name = "catalogue-{}-{}{}.{}".format(_code_path(node), year, f"-{retention}" if retention else "", kind)
    return send_file(io.BytesIO(data), mimetype=CATALOGUE_FORMATS[kind], as_attachment=True, download_name=name)


def _export_selection(data: dict) -> exchange.Selection:
    """Return the records an export names: a class (404 when there is none), a year, archival codes (each known)."""
    class_id = data.get("class_id")
    if class_id is not None:
        scheme.get_class(class_id)
    found = {code: records.find_by_code(code) for code in data.get("codes") or []}
    unknown = [code for code, record in found.items() if record is None]
    if unknown:
        raise ValidationFailed({"codes": Msg(N_("No record has the code %(codes)s."), codes=", ".join(unknown))})
    record_ids = tuple(record.id for record in found.values())
    return exchange.Selection(class_id=class_id, year=data.get("year"), record_ids=record_ids)


def _package_name(selection: exchange.Selection) -> str:
    parts = ["records"]
    if selection.class_id is not None:
        parts.append(_code_path(scheme.get_class(selection.class_id)))
    if selection.year is not None:
        parts.append(str(selection.year))
    return "-".join(parts)


@bp.post("/archive/exports")
@authenticated(*KEEPERS)
def export_archive_records():
    selection = _export_selection(_body(("class_id", "year", "codes")))
    name = _package_name(selection)
    organisation = exchange.default_organisation(current_app.config["DIRECTIVE_ISSUER"])
    work = Path(tempfile.mkdtemp(prefix="docstore-export-"))
    try:
        report = exchange.export_records(
            selection, work / name, _file_store(), organisation=organisation, viewer=g.api_user
        )
        package = exchange.pack(report.path, work / f"{name}.tar")
        stream = package.open("rb")
    finally:
        # The open tar stays readable until the response closes it; nothing is left behind if the client goes away.
        shutil.rmtree(work, ignore_errors=True)
    return send_file(stream, mimetype="application/x-tar", as_attachment=True, download_name=f"{name}.tar")


@bp.post("/archive/imports")
@authenticated(*KEEPERS)
def import_archive_package():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed({"file": Msg(N_("Send the package as a .tar file in the part “file”."))})
    work = Path(tempfile.mkdtemp(prefix="docstore-import-"))
    try:
        package = work / "package.tar"
        upload.save(package)
        report = database.write_after_reads(
            lambda: exchange.import_package(package, _file_store(), _ctx(), work_dir=work)
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return jsonify(
        {
            "records": report.records,
            "documents": report.documents,
            "files": report.files,
            "bytes": report.bytes,
            "created": report.created,
            "unknown_users": report.unknown_users,
            "external_identifier": report.external_identifier,
            "bagging_date": report.bagging_date,
        }
    ), 201
