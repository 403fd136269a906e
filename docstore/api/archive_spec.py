"""The OpenAPI description of the archive: the file plan, filing, records, legal holds, disposal, fixity, the
catalogue and export packages."""

from __future__ import annotations

from docstore.api.schemas import PAGING, _list_of, _ok, _op, _page_of, _path, _query, _ref
from docstore.models import CLASS_LEVELS, DISPOSAL_ACTIONS, DISPOSAL_STATES, FIXITY_OUTCOMES, RECORD_STATES

KEEPERS = "archivist or admin"
OVERSEERS = "archivist, admin or leader"
HIDDEN = "A record whose document the caller may not open is 404, as if it did not exist."
WITHHELD = (
    "A record whose document the caller may not open is listed by its id, code and state only, with withheld true."
)
FILED = "A filed record never changes: 409 with code record_filed."

DAY = {"type": ["string", "null"], "format": "date"}
INSTANT = {"type": "string", "format": "date-time"}
MAYBE_INSTANT = {"type": ["string", "null"], "format": "date-time"}
PERSON = {"oneOf": [_ref("Person"), {"type": "null"}]}
RETENTION = {
    "type": "string",
    "pattern": "^(Y|D[1-9][0-9]{0,2})?$",
    "description": "Y (permanent), D30, D10 or a custom D<years>; empty: as the parent",
}
REASON = {"type": "string", "maxLength": 500}
IDS = {"type": "array", "items": {"type": "integer"}}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _binary(description: str, *types: str) -> dict:
    return {
        "description": description,
        "content": {mime: {"schema": {"type": "string", "format": "binary"}} for mime in types},
    }


def _class_properties() -> dict:
    return {
        "parent_id": {"type": ["integer", "null"], "description": "The fonds of a class, the class of a sub-class"},
        "level": {"enum": list(CLASS_LEVELS)},
        "code": {"type": "string", "pattern": "^[A-Za-z0-9]{1,16}$", "description": "J001, WS, BGS…"},
        "name": {"type": "string", "maxLength": 200},
        "retention": {**RETENTION, "description": RETENTION["description"] + " (a fonds needs one)"},
        "disposal_action": {
            "enum": [*DISPOSAL_ACTIONS, ""],
            "description": "What happens when retention ends; empty: as the parent (a fonds needs one)",
        },
        "description": {"type": "string"},
        "position": {"type": ["integer", "null"], "description": "Order among its siblings; default: last"},
    }


def archive_schemas() -> dict:
    """Return the schemas of the archive and of the bodies its operations take."""
    properties = _class_properties()
    summary = {
        "id": {"type": "integer"},
        "code": {"type": "string", "description": "The archival code (档号)"},
        "class_id": {"type": "integer"},
        "year": {"type": "integer"},
        "item": {"type": "integer", "description": "The item number (件号)"},
        "number": {"type": "string", "description": "The register number of its document"},
        "title": {"type": "string", "description": "As the catalogue shows it"},
        "date": {"type": "string", "description": "As the catalogue shows it: YYYYMMDD"},
        "retention": {"type": "string"},
        "disposal_action": {"enum": list(DISPOSAL_ACTIONS)},
        "due_on": {**DAY, "description": "When its retention ends; null: permanent"},
        "state": {"enum": list(RECORD_STATES)},
        "filed_at": INSTANT,
        "withheld": {"type": "boolean", "description": "Only id, code and state are given"},
        "url": {"type": "string", "description": "The record in the API"},
    }
    hold = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "reason": {"type": "string"},
            "class_id": {"type": ["integer", "null"], "description": "A hold on a whole class and its sub-classes"},
            "record_ids": {**IDS, "description": "The records it names"},
            "in_force": {"type": "boolean"},
            "placed_at": INSTANT,
            "placed_by": PERSON,
            "released_at": MAYBE_INSTANT,
            "released_by": PERSON,
            "release_reason": {"type": "string"},
        },
    }
    return {
        "ArchiveClass": {
            "type": "object",
            "description": "A node of the file plan: a fonds (全宗), a class (门类) or a sub-class",
            "properties": {
                "id": {"type": "integer"},
                **properties,
                "active": {"type": "boolean"},
                "depth": {"type": "integer", "description": "0 for a fonds, 1 for a class, 2 for a sub-class"},
                "path": {"type": "string", "description": "The codes from the fonds down, e.g. J001-WS"},
                "effective_retention": {"type": "string", "description": "What its records get (its own or inherited)"},
                "effective_disposal_action": {"enum": list(DISPOSAL_ACTIONS)},
            },
        },
        "ArchiveClassInput": {"type": "object", "required": ["level", "code", "name"], "properties": properties},
        "ArchiveClassChanges": {
            "type": "object",
            "description": "The fields to change; a code that records carry already cannot change (409)",
            "properties": {
                **{name: properties[name] for name in ("code", "name", "retention", "disposal_action")},
                "description": properties["description"],
                "position": properties["position"],
                "active": {"type": "boolean", "description": "false retires it: nothing more is filed into it"},
            },
        },
        "FilingInput": {
            "type": "object",
            "required": ["document_id", "class_id"],
            "properties": {
                "document_id": {"type": "integer", "description": "A closed document not yet filed"},
                "class_id": {"type": "integer", "description": "An active class or sub-class (not a fonds)"},
            },
        },
        "BatchFilingInput": {
            "type": "object",
            "description": "The class, and either a year or a selection of documents",
            "required": ["class_id"],
            "properties": {
                "class_id": {"type": "integer"},
                "year": {"type": "integer", "description": "File every closed document of this year"},
                "document_ids": {**IDS, "description": "File these closed documents"},
            },
        },
        "BatchFiling": {
            "type": "object",
            "properties": {
                "record_ids": {**IDS, "description": "The records made, in register order"},
                "skipped": {
                    "type": "array",
                    "description": "The documents left: no longer closed, or filed meanwhile",
                    "items": {
                        "type": "object",
                        "properties": {"number": {"type": "string"}, "reason": {"type": "string"}},
                    },
                },
            },
        },
        "RecordSummary": {"type": "object", "properties": summary},
        "RecordFile": {
            "type": "object",
            "description": "A file as it was at filing: the document's files first, then its reply's",
            "properties": {
                "id": {"type": "integer"},
                "document_id": {"type": "integer"},
                "role": {"enum": ["document", "reply"]},
                "position": {"type": "integer"},
                "filename": {"type": "string"},
                "sha256": {"type": "string"},
                "size": {"type": "integer"},
                "mime": {"type": "string"},
                "content_url": {"type": ["string", "null"], "description": "Its bytes; null once disposed of"},
            },
        },
        "RecordAnnotation": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "text": {"type": "string"},
                "created_at": INSTANT,
                "created_by": PERSON,
            },
        },
        "Record": {
            "type": "object",
            "description": "A filed record (件): what was captured at filing, its files, annotations, holds and "
            "where its retention stands",
            "properties": {
                **summary,
                "document": _ref("DocumentSummary"),
                "class": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"}},
                },
                "prefix": {"type": "string", "description": "The code before the item number"},
                "pages": {"type": ["integer", "null"]},
                "filed_by": PERSON,
                "captured": {
                    "type": "object",
                    "description": "The metadata fixed at filing: document, catalogue, replies, instructions, timeline",
                },
                "history": {"type": "array", "description": "Its events in the instances it was imported from"},
                "files": {"type": "array", "items": _ref("RecordFile")},
                "annotations": {"type": "array", "items": _ref("RecordAnnotation")},
                "holds": {"type": "array", "items": _ref("Hold"), "description": "In force or released"},
                "held": {"type": "boolean", "description": "A hold in force covers it"},
                "due": {"type": "boolean", "description": "Its retention has ended"},
                "disposal_id": {"type": ["integer", "null"]},
                "disposed_at": MAYBE_INSTANT,
            },
        },
        "AnnotationInput": {
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string", "maxLength": 4000}},
        },
        "ReappraisalInput": {
            "type": "object",
            "required": ["retention", "action", "reason"],
            "properties": {
                "retention": {**RETENTION, "description": "The new retention, counted from today"},
                "action": {"enum": list(DISPOSAL_ACTIONS)},
                "reason": REASON,
            },
        },
        "Hold": hold,
        "HoldInput": {
            "type": "object",
            "description": "The records to hold, or a whole class, or both",
            "required": ["reason"],
            "properties": {"reason": REASON, "record_ids": IDS, "class_id": {"type": ["integer", "null"]}},
        },
        "HoldRelease": {"type": "object", "required": ["reason"], "properties": {"reason": REASON}},
        "ExpiredRecord": {
            "type": "object",
            "properties": {**summary, "held": {"type": "boolean", "description": "Cannot be proposed until released"}},
        },
        "Disposal": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "action": {"enum": ["destroy", "transfer"]},
                "reason": {"type": "string"},
                "state": {"enum": list(DISPOSAL_STATES)},
                "state_label": {"type": "string", "description": "In the request's language"},
                "proposed_at": INSTANT,
                "proposed_by": PERSON,
                "decided_at": MAYBE_INSTANT,
                "decided_by": PERSON,
                "decision_note": {"type": "string"},
                "package": {
                    "type": ["string", "null"],
                    "description": "A transfer's BagIt package: where it was written, and its External-Identifier",
                },
                "certificate_url": {"type": ["string", "null"], "description": "Its Word certificate, once approved"},
                "url": {"type": "string"},
                "records": {"type": "array", "items": _ref("RecordSummary"), "description": "Not in lists"},
                "files_not_removed": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "On approval: the SHA-256 of stored files that could not be removed",
                },
            },
        },
        "DisposalInput": {
            "type": "object",
            "required": ["record_ids", "reason"],
            "properties": {
                "record_ids": {**IDS, "description": "Records past retention, all to destroy or all to transfer"},
                "reason": REASON,
            },
        },
        "DisposalDecision": {"type": "object", "properties": {"note": REASON}},
        "DisposalRejection": {"type": "object", "required": ["note"], "properties": {"note": REASON}},
        "FixityReport": {
            "type": "object",
            "properties": {
                "runs": {
                    "type": "array",
                    "description": "The latest runs of archive verify, newest first",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "integer"},
                            "scope": {"enum": ["all", "sample"]},
                            "started_at": INSTANT,
                            "finished_at": {**MAYBE_INSTANT, "description": "null: still going, or stopped"},
                            "checked": {"type": "integer"},
                            "intact": {"type": "integer"},
                            "missing": {"type": "integer"},
                            "altered": {"type": "integer"},
                            "bytes_read": {"type": "integer"},
                        },
                    },
                },
                "problems": {
                    "type": "array",
                    "description": "Files whose latest check found them missing or altered, still in use",
                    "items": {
                        "type": "object",
                        "properties": {
                            "sha256": {"type": "string"},
                            "outcome": {"enum": [name for name in FIXITY_OUTCOMES if name != "ok"]},
                            "checked_at": INSTANT,
                            "uses": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "kind": {"enum": ["attachment", "record", "template", "certificate"]},
                                        "reference": {
                                            "type": "string",
                                            "description": "Document number, record code, template name, disposal",
                                        },
                                        "filename": {"type": "string"},
                                        "object_id": {"type": "integer"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
        "ExportInput": {
            "type": "object",
            "description": "What to export: a class (with its sub-classes), a year, records by code, or a mix "
            "(all given must match)",
            "properties": {
                "class_id": {"type": ["integer", "null"]},
                "year": {"type": ["integer", "null"]},
                "codes": {"type": "array", "items": {"type": "string"}, "description": "Archival codes"},
            },
        },
    }


def _hidden(operation: dict, description: str = HIDDEN) -> dict:
    return {**operation, "description": description}


def archive_paths() -> dict:
    """Return the operations of the archive."""
    record = [_path("record_id")]
    decision = [_path("disposal_id")]
    tag = "archive"
    created = {
        "headers": {"Location": {"schema": {"type": "string"}, "description": "The new object"}},
    }
    return {
        "/archive/classes": {
            "get": _op(
                "The file plan in tree order: each fonds, its classes, each followed by its sub-classes",
                _ok(schema=_list_of("ArchiveClass")),
                params=[_query("include_inactive", {"type": "boolean"})],
                tag=tag,
            ),
            "post": _op(
                "Add a fonds, class or sub-class to the file plan",
                _ok("ArchiveClass", description="Created") | created,
                role=KEEPERS,
                body="ArchiveClassInput",
                status="201",
                tag=tag,
            ),
        },
        "/archive/classes/{class_id}": {
            "get": _op("A node of the file plan", _ok("ArchiveClass"), params=[_path("class_id")], tag=tag),
            "patch": _op(
                "Change or retire a node of the file plan",
                _ok("ArchiveClass"),
                role=KEEPERS,
                params=[_path("class_id")],
                body="ArchiveClassChanges",
                tag=tag,
            ),
        },
        "/archive/closed": {
            "get": _op(
                "The closed documents not yet filed, in register order (a document the caller may not open is "
                "listed by its number only)",
                _ok(schema=_page_of("DocumentSummary")),
                role=KEEPERS,
                params=[_query("year", {"type": "integer"}, "Only this year's"), *PAGING],
                tag=tag,
            ),
        },
        "/archive/records": {
            "get": _op(
                "The records the caller may see, in archival code order",
                _ok(schema=_page_of("RecordSummary")),
                params=[
                    _query("q", {"type": "string"}, "Text in the code, number or title"),
                    _query("class_id", {"type": "integer"}, "With its sub-classes"),
                    _query("year", {"type": "integer"}),
                    _query("state", {"enum": list(RECORD_STATES)}),
                    _query("retention", {"type": "string"}),
                    _query("held", {"type": "boolean"}, "Under a hold in force, or not"),
                    *PAGING,
                ],
                tag=tag,
            ),
            "post": _op(
                "File a closed document (with its files, instructions, timeline and linked reply) as one record; it "
                "gets the next item number and its archival code, and its documents become archived. A document "
                "not closed, or filed already, is 409",
                _ok("Record", description="Filed") | created,
                role=KEEPERS,
                body="FilingInput",
                status="201",
                tag=tag,
            ),
        },
        "/archive/filings": {
            "post": _op(
                "File a year's closed documents, or a selection, into a class, in register order; those no longer "
                "closed are skipped and said why",
                _ok("BatchFiling"),
                role=KEEPERS,
                body="BatchFilingInput",
                tag=tag,
            ),
        },
        "/archive/records/{record_id}": {
            "get": _hidden(
                _op("A record in full; the view is logged in the audit log", _ok("Record"), params=record, tag=tag)
            ),
            "patch": _hidden(
                _op("Refused: " + FILED + " Add an annotation instead", _ok(), params=record, tag=tag),
            ),
            "delete": _hidden(
                _op("Refused: " + FILED + " Records go only by an approved disposal", _ok(), params=record, tag=tag),
            ),
        },
        "/archive/records/{record_id}/files/{file_id}": {
            "get": _hidden(
                _op(
                    "Download a file of a kept record; the download is logged in the audit log",
                    _binary("The file's bytes", "application/octet-stream"),
                    params=[*record, _path("file_id")],
                    tag=tag,
                )
            ),
        },
        "/archive/records/{record_id}/annotations": {
            "post": _hidden(
                _op(
                    "Add a correction or remark to a record (the record itself never changes); audited",
                    _ok("RecordAnnotation", description="Added"),
                    role=KEEPERS,
                    params=record,
                    body="AnnotationInput",
                    status="201",
                    tag=tag,
                )
            ),
        },
        "/archive/records/{record_id}/reappraisal": {
            "post": _hidden(
                _op(
                    "Appraise a kept record again: a new retention counted from today, and the action at its end",
                    _ok("Record"),
                    role=KEEPERS,
                    params=record,
                    body="ReappraisalInput",
                    tag=tag,
                )
            ),
        },
        "/archive/holds": {
            "get": _op(
                "Legal holds, newest first",
                _ok(schema=_list_of("Hold")),
                role=OVERSEERS,
                params=[_query("state", {"enum": ["active", "released", "all"], "default": "active"})],
                tag=tag,
            ),
            "post": _op(
                "Place a legal hold on records or a whole class: they cannot be disposed of until it is released",
                _ok("Hold", description="Placed"),
                role=KEEPERS,
                body="HoldInput",
                status="201",
                tag=tag,
            ),
        },
        "/archive/holds/{hold_id}/release": {
            "post": _op(
                "Release a hold in force, saying why (a hold released already is 409)",
                _ok("Hold"),
                role=KEEPERS,
                params=[_path("hold_id")],
                body="HoldRelease",
                tag=tag,
            ),
        },
        "/archive/expired": {
            "get": _op(
                "Kept records whose retention has ended, not in a proposal, due longest ago first. " + WITHHELD,
                _ok(schema=_page_of("ExpiredRecord")),
                role=OVERSEERS,
                params=[_query("action", {"enum": list(DISPOSAL_ACTIONS)}), *PAGING],
                tag=tag,
            ),
        },
        "/archive/disposals": {
            "get": _op(
                "Disposals, newest first",
                _ok(schema=_page_of("Disposal")),
                role=OVERSEERS,
                params=[_query("state", {"enum": list(DISPOSAL_STATES)}), *PAGING],
                tag=tag,
            ),
            "post": _op(
                "Propose the disposal of records past retention; a held record, or one already proposed, is 409 "
                "(code record_on_hold for a hold)",
                _ok("Disposal", description="Proposed") | created,
                role=KEEPERS,
                body="DisposalInput",
                status="201",
                tag=tag,
            ),
        },
        "/archive/disposals/{disposal_id}": {
            "get": _op(
                "A disposal with its records. " + WITHHELD, _ok("Disposal"), role=OVERSEERS, params=decision, tag=tag
            ),
        },
        "/archive/disposals/{disposal_id}/approve": {
            "post": _op(
                "Approve a proposal and carry it out: the records' files are removed (those nothing else uses), "
                "each record becomes its residual entry, and the certificate is drawn. The proposer may not (403); "
                "a record held since is 409",
                _ok("Disposal"),
                role="leader or admin",
                params=decision,
                body="DisposalDecision",
                tag=tag,
            ),
        },
        "/archive/disposals/{disposal_id}/reject": {
            "post": _op(
                "Reject a proposal, saying why; its records stay and may be proposed again. The proposer may not (403)",
                _ok("Disposal"),
                role="leader or admin",
                params=decision,
                body="DisposalRejection",
                tag=tag,
            ),
        },
        "/archive/disposals/{disposal_id}/certificate": {
            "get": _op(
                "The certificate of an approved disposal (销毁清册 or 移交清册), a Word file; 404 before approval",
                _binary("The certificate", DOCX),
                role=OVERSEERS,
                params=decision,
                tag=tag,
            ),
        },
        "/archive/fixity": {
            "get": _op(
                "The latest integrity checks (flask archive verify) and the files found missing or altered",
                _ok("FixityReport"),
                role=KEEPERS,
                tag=tag,
            ),
        },
        "/archive/catalogue": {
            "get": _op(
                "The archive catalogue (归档文件目录) of a class and year, as Word or Excel; entries classified "
                "above the caller's clearance keep their line without reference and title",
                _binary("The catalogue", DOCX, XLSX),
                role=OVERSEERS,
                params=[
                    {**_query("class_id", {"type": "integer"}, "With its sub-classes"), "required": True},
                    {**_query("year", {"type": "integer"}), "required": True},
                    {**_query("format", {"enum": ["docx", "xlsx"]}), "required": True},
                    _query("retention", {"type": "string"}, "Only records of this retention"),
                ],
                tag=tag,
            ),
        },
        "/archive/exports": {
            "post": _op(
                "Export records as a BagIt package (RFC 8493), validated before it is sent, streamed as a .tar",
                _binary("The package", "application/x-tar"),
                role=KEEPERS,
                body="ExportInput",
                tag=tag,
            ),
        },
        "/archive/imports": {"post": _import_operation(tag)},
    }


def _import_operation(tag: str) -> dict:
    """Return the operation that imports a BagIt package sent as a .tar (multipart, part "file")."""
    imported = {
        "type": "object",
        "properties": {
            "records": {"type": "array", "items": {"type": "string"}, "description": "The codes of the records"},
            "documents": {"type": "integer"},
            "files": {"type": "integer"},
            "bytes": {"type": "integer"},
            "created": {"type": "object", "description": "What was created, by kind: classes, series, departments…"},
            "unknown_users": {"type": "array", "items": {"type": "string"}},
            "external_identifier": {"type": "string"},
            "bagging_date": {"type": "string"},
        },
    }
    operation = _op(
        "Import a BagIt package (a .tar) whole or not at all; codes or numbers that exist refuse it",
        {"description": "Imported", "content": {"application/json": {"schema": imported}}},
        role=KEEPERS,
        status="201",
        tag=tag,
    )
    operation["requestBody"] = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary", "description": "The package"}},
                }
            }
        },
    }
    return operation
