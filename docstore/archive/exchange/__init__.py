"""Exchange packages: records exported as a BagIt bag (RFC 8493), and such a bag imported into another instance.

A package is a bag (see `bagit`) whose payload is::

    data/file-plan.json                   the classes of the records, each with its ancestors, by code path
    data/registers.json                   the registers, departments, document types and correspondents named
    data/records/<code>/metadata.json     one record: code, class, retention, state, captured metadata, documents,
                                          files, annotations, holds and history (deterministic JSON)
    data/records/<code>/metadata.xml      the same as XML, with PREMIS-style fixity of each file
    data/records/<code>/files/<position>-<filename>

No database id appears in a package: things are named by their codes, numbers and usernames, so that a package
means the same in any instance. A record's history is the history it brought from the instances it was in before,
then its events in this one's audit log (filing, annotations, holds, reappraisal, disposal; views and downloads are
access logs and stay behind). A disposed record (destroyed or transferred) travels as its residual entry: metadata,
no files.

Importing a package recreates, in one transaction, what the records need that the instance lacks (classes by code
path, registers by code, departments and document types by code, correspondents by name; people are found by
username or left empty, their usernames staying in the metadata), then the documents ("archived"), their files,
the records with their codes and numbers, annotations, holds and disposals, and one "ingestion" event at the end
of each record's history. The registers' and the archive's counters are raised past the imported numbers, so that
the instance never gives them again. A package whose records or numbers exist already is refused whole.

- `layout`: what export and import share (constants, JSON form, dates, classes by code path).
- `export`: `export_records` writes a package and validates it; `pack` makes it one tar for download.
- `ingest`: `import_package` reads a package (a folder, or a tar unpacked safely) into this instance.
"""

from docstore.archive.exchange.export import (
    ExportReport,
    Selection,
    default_organisation,
    export_records,
    metadata_xml,
    pack,
    selected_ids,
)
from docstore.archive.exchange.ingest import ImportReport, import_package
from docstore.archive.exchange.layout import (
    CHUNK,
    FORMAT,
    FORMAT_LABEL,
    IMPORTED,
    XML_NAMESPACE,
    canonical_json,
    class_path,
    find_class,
)

__all__ = [
    "CHUNK",
    "FORMAT",
    "FORMAT_LABEL",
    "IMPORTED",
    "XML_NAMESPACE",
    "ExportReport",
    "ImportReport",
    "Selection",
    "canonical_json",
    "class_path",
    "default_organisation",
    "export_records",
    "find_class",
    "import_package",
    "metadata_xml",
    "pack",
    "selected_ids",
]
