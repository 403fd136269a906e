"""Read the text of each kind of file. Run only inside the extraction worker (`storage.extract_worker`).

Each reader takes the path and a `report_pages(pages, units)` callback, which it calls as soon as it knows how big
the document is, so that the parent can set the time budget; then it returns an `Extraction`. Readers let
exceptions escape: the worker turns them into a "failed" (or "encrypted") outcome with `describe_error`.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storage.extraction import (
    DONE,
    ENCRYPTED,
    ENCRYPTED_REASONS,
    FAILED,
    NO_TEXT,
    UNSUPPORTED,
    UNSUPPORTED_REASONS,
    Extraction,
)
from storage.filetypes import sniff
from storage.safexml import parse_xml

ReportPages = Callable[[int | None, int], None]

# Zip archives (DOCX, ODT) are checked before anything opens them: a 2.2 MB DOCX can expand to 1.48 GB.
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_EXPANDED_BYTES = 256 * 1024 * 1024
MAX_ZIP_RATIO = 100  # real XML compresses 5-20 times; a bomb, hundreds or thousands of times
ZIP_RATIO_CHECKED_ABOVE = 1024 * 1024  # tiny entries may compress absurdly well and still be harmless
MAX_SMALL_PART = 1024 * 1024
# Documents with no page count get one unit of time budget per this much XML or text.
BYTES_PER_UNIT = 200 * 1024

_LABELS = {
    "pdf": "the PDF",
    "docx": "the Word file",
    "odt": "the OpenDocument file",
    "text": "the text file",
    "zip": "the zip archive",
}


class Refused(Exception):
    """A reader declines a file before parsing it (a zip bomb, an encrypted package); carries the outcome."""

    def __init__(self, extraction: Extraction) -> None:
        super().__init__(extraction.reason)
        self.extraction = extraction


def preload(kind: str) -> None:
    """Import the libraries `kind` needs, so that they load before the worker caps its memory."""
    if kind == "pdf":
        import pypdf  # noqa: F401 - imported for its side effect of loading
    elif kind == "docx":
        import docx  # noqa: F401 - imported for its side effect of loading


def read_file(path: Path, kind: str, report_pages: ReportPages) -> Extraction:
    """Return what the reader for `kind` makes of the file at `path`."""
    readers: dict[str, Callable[[Path, ReportPages], Extraction]] = {
        "pdf": read_pdf,
        "docx": read_docx,
        "odt": read_odt,
        "text": read_text,
        "zip": read_zip,
    }
    try:
        return readers[kind](path, report_pages)
    except Refused as refusal:
        return refusal.extraction


def describe_error(kind: str, error: BaseException) -> tuple[str, str]:
    """Return the state and a short human reason for an exception a reader raised on a file of `kind`."""
    label = _LABELS.get(kind, "the file")
    name = type(error).__name__
    detail = _summarise(error)
    if name == "FileNotDecryptedError":
        return ENCRYPTED, f"{label} is protected by a password"
    if isinstance(error, RecursionError):
        return FAILED, f"{label} is nested too deeply to be read"
    if isinstance(error, zipfile.BadZipFile):
        return FAILED, f"the file is a damaged zip archive, as Word and OpenDocument files are ({detail})"
    if name == "LimitReachedError":
        return FAILED, f"{label} goes beyond the reader's safety limits ({detail})"
    if type(error).__module__.startswith("pypdf"):
        return FAILED, f"{label} is damaged ({detail})"
    if name == "PackageNotFoundError":
        return FAILED, f"{label} is not a valid Word package ({detail})"
    if isinstance(error, KeyError):
        return FAILED, f"{label} is damaged: a part it refers to is missing ({detail})"
    if name == "XMLSyntaxError":
        return FAILED, f"{label} contains malformed XML ({detail})"
    return FAILED, f"{label} is damaged or uses something the reader cannot handle ({detail})"


def read_pdf(path: Path, report_pages: ReportPages) -> Extraction:
    """Read a PDF with pypdf, page by page; open encrypted files that have an empty user password."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except Exception as e:  # an unknown or broken encryption method: still a locked file
            reason = f"the PDF is encrypted and cannot be opened ({_summarise(e)})"
            return Extraction(ENCRYPTED, reason=reason)
        if not opened:
            return Extraction(ENCRYPTED, reason="the PDF is protected by a password")
    pages = len(reader.pages)
    report_pages(pages, pages)
    texts: list[str] = []
    failures: list[tuple[int, Exception]] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            texts.append(page.extract_text() or "")
        except MemoryError:
            raise
        except Exception as e:  # pypdf raises plain TypeError, AssertionError... on odd pages: note, go on
            failures.append((number, e))
            texts.append("")
    text = "\f".join(texts)
    if failures and not text.strip():
        raise failures[0][1]
    extraction = _finish(text, pages, no_text_reason="no text found: the PDF may be a scan or contain only images")
    if not failures:
        return extraction
    first_page, first_error = failures[0]
    _, first_reason = describe_error("pdf", first_error)
    skipped = f"{len(failures)} of {pages} pages could not be read (page {first_page}: {first_reason})"
    return Extraction(extraction.state, extraction.text, pages, skipped)


def read_docx(path: Path, report_pages: ReportPages) -> Extraction:
    """Read a Word document with python-docx: body paragraphs and tables, headers, footers, notes and comments."""
    kind = sniff(path).kind
    if kind in UNSUPPORTED_REASONS:
        return Extraction(UNSUPPORTED, reason=UNSUPPORTED_REASONS[kind])
    if kind in ENCRYPTED_REASONS:
        return Extraction(ENCRYPTED, reason=ENCRYPTED_REASONS[kind])
    with zipfile.ZipFile(path) as archive:
        check_zip(archive, "the Word file")
        pages = _count_from(archive, "docProps/app.xml", rb"<(?:\w+:)?Pages>\s*(\d+)\s*<")
        xml_bytes = sum(info.file_size for info in archive.infolist() if info.filename.endswith(".xml"))
    report_pages(pages, max(pages or 1, xml_bytes // BYTES_PER_UNIT))

    import docx
    from docx.oxml import parse_xml

    document = docx.Document(str(path))
    lines = _word_lines(document.element.body)
    for part in document.part.package.iter_parts():
        if part.content_type in _WORD_TEXT_PARTS:
            element = part.element if hasattr(part, "element") else parse_xml(part.blob)
            lines.extend(_word_lines(element))
    return _finish("\n".join(lines), pages, no_text_reason="no text found in the Word document")


def read_odt(path: Path, report_pages: ReportPages) -> Extraction:
    """Read an OpenDocument text: the paragraphs and headings of content.xml (lxml, entities left unexpanded)."""
    with zipfile.ZipFile(path) as archive:
        check_zip(archive, "the OpenDocument file")
        names = set(archive.namelist())
        if "META-INF/manifest.xml" in names and b"encryption-data" in _read_small(archive, "META-INF/manifest.xml"):
            return Extraction(ENCRYPTED, reason="the OpenDocument file is protected by a password")
        if "content.xml" not in names:
            return Extraction(FAILED, reason="the OpenDocument file is damaged: it has no content.xml")
        pages = _count_from(archive, "meta.xml", rb'page-count="(\d+)"')
        content = archive.getinfo("content.xml")
        report_pages(pages, max(pages or 1, content.file_size // BYTES_PER_UNIT))
        with archive.open(content) as stream:
            root = parse_xml(stream)
    body = root.find(f"{_OFFICE}body")
    lines: list[str] = []
    _odt_block(root if body is None else body, lines)
    return _finish("\n".join(lines), pages, no_text_reason="no text found in the OpenDocument file")


def read_text(path: Path, report_pages: ReportPages) -> Extraction:
    """Read a plain-text file: UTF-8 or UTF-16 when marked so or valid, else Latin-1."""
    report_pages(None, 1 + path.stat().st_size // BYTES_PER_UNIT)
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        text = data.decode("utf-8-sig", errors="replace")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    return _finish(text, None, no_text_reason="the text file holds only blank space")


def read_zip(path: Path, report_pages: ReportPages) -> Extraction:
    """Say what a zip archive that is neither a Word nor an OpenDocument file is, or what is wrong with it."""
    report_pages(None, 1)
    with zipfile.ZipFile(path) as archive:
        archive.infolist()
    return Extraction(UNSUPPORTED, reason="the file is a zip archive, not a Word or OpenDocument text document")


def check_zip(archive: zipfile.ZipFile, label: str) -> None:
    """Raise `Refused` unless the declared sizes of the entries in `archive` are safe to expand.

    zipfile never inflates an entry past its declared size, so checking the declared sizes is enough.
    """
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise Refused(Extraction(FAILED, reason=f"{label} has {len(entries):,} parts, more than {MAX_ZIP_ENTRIES:,}"))
    expanded = sum(entry.file_size for entry in entries)
    if expanded > MAX_ZIP_EXPANDED_BYTES:
        raise Refused(
            Extraction(
                FAILED,
                reason=f"{label} looks like a zip bomb: it would expand to {expanded / 2**20:,.0f} MB, "
                f"more than the {MAX_ZIP_EXPANDED_BYTES / 2**20:,.0f} MB allowed",
            )
        )
    for entry in entries:
        if entry.file_size > ZIP_RATIO_CHECKED_ABOVE and entry.file_size > MAX_ZIP_RATIO * max(entry.compress_size, 1):
            ratio = entry.file_size / max(entry.compress_size, 1)
            raise Refused(
                Extraction(
                    FAILED,
                    reason=f"{label} looks like a zip bomb: {entry.filename} would expand {ratio:,.0f} times, "
                    f"to {entry.file_size / 2**20:,.1f} MB",
                )
            )


def _finish(text: str, pages: int | None, *, no_text_reason: str) -> Extraction:
    # NUL characters and lone surrogates (from broken font maps) cannot be stored or indexed.
    text = text.replace("\x00", "").encode("utf-8", errors="replace").decode("utf-8")
    if not text.strip():
        return Extraction(NO_TEXT, pages=pages, reason=no_text_reason)
    return Extraction(DONE, text=text, pages=pages)


def _summarise(error: BaseException) -> str:
    """Return "Type: message" for `error`, on one line and cut short (just "Type" when it has no message)."""
    message = " ".join(str(error).split())[:200]
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _read_small(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    return archive.read(info) if info.file_size <= MAX_SMALL_PART else b""


def _count_from(archive: zipfile.ZipFile, name: str, pattern: bytes) -> int | None:
    """Return the number `pattern` finds in the small part `name` (a page count in the metadata), if any."""
    if name not in archive.namelist():
        return None
    match = re.search(pattern, _read_small(archive, name))
    return int(match.group(1)) if match else None


# --- Word XML -------------------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_WORD_PART = "application/vnd.openxmlformats-officedocument.wordprocessingml."
_WORD_TEXT_PARTS = frozenset(
    _WORD_PART + name for name in ("header+xml", "footer+xml", "footnotes+xml", "endnotes+xml", "comments+xml")
)
# Inside a paragraph: what stands for text, and subtrees that hold none (properties) or hold their own
# paragraphs (text boxes: read as paragraphs of their own), or repeat content (the fallback of an alternative).
_W_TEXT = {f"{_W}t": None, f"{_W}tab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}
_W_SKIP = frozenset({f"{_W}pPr", f"{_W}rPr", f"{_W}p", _MC_FALLBACK})


def _word_lines(root: Any) -> list[str]:
    """Return the text of every paragraph under `root` (an lxml element), in document order, one line each."""
    lines = []
    for paragraph in root.iter(f"{_W}p"):
        if any(ancestor.tag == _MC_FALLBACK for ancestor in paragraph.iterancestors()):
            continue
        parts: list[str] = []
        _word_runs(paragraph, parts)
        lines.append("".join(parts))
    return lines


def _word_runs(element: Any, parts: list[str]) -> None:
    """Append the text of the runs under `element` (an lxml element from python-docx) to `parts`."""
    for child in element:
        tag = child.tag
        if tag in _W_TEXT:
            stands_for = _W_TEXT[tag]
            parts.append((child.text or "") if stands_for is None else stands_for)
        elif tag not in _W_SKIP and len(child):
            _word_runs(child, parts)


# --- OpenDocument XML -----------------------------------------------------------------------------------------

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_ODT_PARAGRAPHS = frozenset({f"{_TEXT}p", f"{_TEXT}h"})
_ODT_SKIP = frozenset({f"{_TEXT}tracked-changes", f"{_OFFICE}annotation"})


def _odt_block(element: Any, lines: list[str]) -> None:
    """Append the text of each paragraph and heading under `element` to `lines`."""
    for child in element:
        if child.tag in _ODT_PARAGRAPHS:
            _odt_paragraph(child, lines)
        elif child.tag not in _ODT_SKIP:
            _odt_block(child, lines)


def _odt_paragraph(paragraph: Any, lines: list[str]) -> None:
    parts: list[str] = []
    _odt_inline(paragraph, parts, lines)
    lines.append("".join(parts))


def _odt_inline(element: Any, parts: list[str], lines: list[str]) -> None:
    """Append the text inside a paragraph (spans, links, spaces, tabs, breaks) to `parts`."""
    parts.append(element.text or "")
    for child in element:
        tag = child.tag
        if tag == f"{_TEXT}s":
            parts.append(" " * _parse_count(child.get(f"{_TEXT}c")))
        elif tag == f"{_TEXT}tab":
            parts.append("\t")
        elif tag == f"{_TEXT}line-break":
            parts.append("\n")
        elif tag in _ODT_PARAGRAPHS:
            _odt_paragraph(child, lines)  # a paragraph in a frame or a note: a line of its own
        elif tag not in _ODT_SKIP:
            _odt_inline(child, parts, lines)
        parts.append(child.tail or "")


def _parse_count(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1000))
    except ValueError:
        return 1
