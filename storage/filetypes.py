"""Tell what a file is from its bytes, never from its name or the browser's claim.

`sniff` reads at most a few kilobytes of the file itself, plus (for zip and OLE2 containers) the few small entries
that name the format: `[Content_Types].xml` and `_rels/.rels` in Office Open XML, `mimetype` in OpenDocument, and the
directory of an OLE2 compound file.
"""

from __future__ import annotations

import codecs
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from storage.errors import FileMissing, StorageError
from storage.safexml import XMLSyntaxError, parse_xml

HEAD_BYTES = 64 * 1024
PDF_MARKER_WITHIN = 1024
MAX_SMALL_ENTRY = 1024 * 1024  # [Content_Types].xml, _rels/.rels and mimetype are tiny; bigger ones are not read
MAX_OLE2_SECTORS = 4096  # directory sectors followed before giving up: a cycle in the chain ends here

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
OFFICE_DOCUMENT_RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
STRICT_OFFICE_DOCUMENT_RELATIONSHIP = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"
_CONTENT_TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_RELATIONSHIPS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass(frozen=True)
class FileKind:
    """What a file is: a stable `kind` name, its MIME type and its usual extension ("" when it has none)."""

    kind: str
    mime: str
    extension: str


KINDS: dict[str, FileKind] = {
    kind.kind: kind
    for kind in (
        FileKind("pdf", "application/pdf", ".pdf"),
        FileKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
        FileKind("docx-strict", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
        FileKind("docm", "application/vnd.ms-word.document.macroEnabled.12", ".docm"),
        FileKind("dotx", "application/vnd.openxmlformats-officedocument.wordprocessingml.template", ".dotx"),
        FileKind("dotm", "application/vnd.ms-word.template.macroEnabled.12", ".dotm"),
        FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
        FileKind("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
        FileKind("ooxml", "application/zip", ".zip"),
        FileKind("odt", ODT_MIMETYPE, ".odt"),
        FileKind("zip", "application/zip", ".zip"),
        FileKind("ooxml-encrypted", "application/x-ole-storage", ""),
        FileKind("doc", "application/msword", ".doc"),
        FileKind("xls", "application/vnd.ms-excel", ".xls"),
        FileKind("ppt", "application/vnd.ms-powerpoint", ".ppt"),
        FileKind("ole2", "application/x-ole-storage", ""),
        FileKind("png", "image/png", ".png"),
        FileKind("jpeg", "image/jpeg", ".jpg"),
        FileKind("tiff", "image/tiff", ".tif"),
        FileKind("gif", "image/gif", ".gif"),
        FileKind("text", "text/plain", ".txt"),
        FileKind("unknown", "application/octet-stream", ""),
    )
}

# The content type of an OOXML package's main part, and the kind it makes the package.
_OOXML_MAIN_KINDS = {
    WORD_MAIN: "docx",
    "application/vnd.ms-word.document.macroEnabled.main+xml": "docm",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": "dotx",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": "dotm",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
}
# Stream names in an OLE2 directory that give the format away.
_OLE2_STREAM_KINDS = {
    "EncryptionInfo": "ooxml-encrypted",
    "WordDocument": "doc",
    "Workbook": "xls",
    "Book": "xls",
    "PowerPoint Document": "ppt",
}
_OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")


def sniff(path: Path | str) -> FileKind:
    """Return the kind of the file at `path`, judged from its content.

    A hostile or damaged file gets a kind ("zip", "ole2", "unknown"), never an exception; raise `FileMissing` when
    there is no file at `path` and `StorageError` when it cannot be read.
    """
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            head = stream.read(HEAD_BYTES)
            at_end = not stream.read(1)
    except FileNotFoundError as e:
        raise FileMissing(f"no file at {path}") from e
    except OSError as e:
        raise StorageError(f"cannot read {path}: {e.strerror or e}") from e
    return KINDS[_sniff_kind(path, head, at_end)]


def _sniff_kind(path: Path, head: bytes, at_end: bool) -> str:
    if b"%PDF-" in head[:PDF_MARKER_WITHIN]:
        return "pdf"
    if head.startswith(_ZIP_SIGNATURES):
        return _sniff_zip(path)
    if head.startswith(_OLE2_SIGNATURE):
        return _sniff_ole2(path)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head and _is_text(head, at_end):
        return "text"
    return "unknown"


def _is_text(head: bytes, at_end: bool) -> bool:
    """Return whether `head` is UTF-8, or UTF-16 with a byte order mark, without NUL characters."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        decoder = codecs.getincrementaldecoder("utf-16")()
    else:
        if b"\x00" in head:
            return False
        decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # A multi-byte character cut by the 64 KiB boundary is not an error unless the file ends there.
        text = decoder.decode(head, final=at_end)
    except UnicodeDecodeError:
        return False
    return "\x00" not in text


def _sniff_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names:
                return _sniff_ooxml(archive, names)
            if "mimetype" in names and _read_small(archive, "mimetype").strip() == ODT_MIMETYPE.encode():
                return "odt"
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError, struct.error):
        # A damaged archive is still a zip: extraction says what is wrong with it.
        return "zip"
    return "zip"


def _sniff_ooxml(archive: zipfile.ZipFile, names: set[str]) -> str:
    try:
        types = parse_xml(_read_small(archive, "[Content_Types].xml"))
        relationships = parse_xml(_read_small(archive, "_rels/.rels")) if "_rels/.rels" in names else None
    except (XMLSyntaxError, ValueError):
        return "ooxml"
    overrides = {
        (element.get("PartName") or "").lower(): element.get("ContentType") or ""
        for element in types.iter(f"{_CONTENT_TYPES_NS}Override")
    }
    defaults = {
        (element.get("Extension") or "").lower(): element.get("ContentType") or ""
        for element in types.iter(f"{_CONTENT_TYPES_NS}Default")
    }
    main_type, strict = None, False
    for relationship in relationships.iter(f"{_RELATIONSHIPS_NS}Relationship") if relationships is not None else ():
        rel_type = relationship.get("Type")
        if rel_type in (OFFICE_DOCUMENT_RELATIONSHIP, STRICT_OFFICE_DOCUMENT_RELATIONSHIP):
            part = "/" + (relationship.get("Target") or "").lstrip("/").lower()
            main_type = overrides.get(part) or defaults.get(part.rpartition(".")[2], "")
            strict = rel_type == STRICT_OFFICE_DOCUMENT_RELATIONSHIP
            break
    if main_type is None:
        # No officeDocument relationship: go by a main part declared in the content types, if any.
        main_type = next((t for t in overrides.values() if t in _OOXML_MAIN_KINDS), "")
    kind = _OOXML_MAIN_KINDS.get(main_type, "ooxml")
    return "docx-strict" if kind == "docx" and strict else kind


def _read_small(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > MAX_SMALL_ENTRY:
        raise ValueError(f"{name} is implausibly large")
    return archive.read(info)


def _sniff_ole2(path: Path) -> str:
    try:
        names = _read_ole2_directory(path)
    except (OSError, ValueError, struct.error):
        return "ole2"
    for name, kind in _OLE2_STREAM_KINDS.items():
        if name in names:
            return kind
    return "ole2"


def _read_ole2_directory(path: Path) -> set[str]:
    """Return the names in the directory of the OLE2 compound file at `path`.

    Read only the header, the FAT sectors the directory chain passes through and the directory sectors themselves.
    Raise ValueError for a header or chain that makes no sense.
    """
    with open(path, "rb") as stream:
        header = stream.read(512)
        if len(header) < 512 or not header.startswith(_OLE2_SIGNATURE):
            raise ValueError("not an OLE2 compound file")
        sector_shift = struct.unpack_from("<H", header, 30)[0]
        if sector_shift not in (9, 12):
            raise ValueError(f"unexpected sector size 2^{sector_shift}")
        sector_size = 1 << sector_shift
        first_directory_sector = struct.unpack_from("<I", header, 48)[0]
        fat_sectors = struct.unpack_from("<109I", header, 76)
        entries_per_fat_sector = sector_size // 4

        def read_sector(number: int) -> bytes:
            stream.seek((number + 1) * sector_size)
            data = stream.read(sector_size)
            if len(data) != sector_size:
                raise ValueError(f"sector {number} lies beyond the end of the file")
            return data

        def next_sector(number: int) -> int:
            fat_index, offset = divmod(number, entries_per_fat_sector)
            if fat_index >= len(fat_sectors):
                raise ValueError("the directory chain leaves the first 109 FAT sectors")
            return struct.unpack_from("<I", read_sector(fat_sectors[fat_index]), offset * 4)[0]

        names: set[str] = set()
        sector = first_directory_sector
        for _ in range(MAX_OLE2_SECTORS):
            if sector >= 0xFFFFFFFA:  # ENDOFCHAIN, FREESECT and the other markers end the chain
                return names
            data = read_sector(sector)
            for offset in range(0, sector_size, 128):
                name_length = struct.unpack_from("<H", data, offset + 64)[0]
                if 2 <= name_length <= 64:
                    names.add(data[offset : offset + name_length - 2].decode("utf-16-le", errors="replace"))
            sector = next_sector(sector)
        raise ValueError("the directory chain does not end")
