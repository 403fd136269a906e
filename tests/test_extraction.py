"""Text extraction in a limited child process: every real file of the shared corpus, and hostile files made here.

The corpus lives beside the repository (`../shared/corpus`). CI must have it and fails loudly without it; elsewhere
the corpus tests are skipped with a reason.
"""

from __future__ import annotations

import csv
import os
import re
import time
import unicodedata
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import docx
import pytest

from storage import (
    DONE,
    ENCRYPTED,
    FAILED,
    NO_TEXT,
    UNSUPPORTED,
    Extraction,
    FileMissing,
    extract_text,
    sniff,
)
from storage.extraction import PARSED_KINDS

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
MANIFEST = CORPUS / "MANIFEST.tsv"
IN_CI = os.environ.get("CI", "").lower() == "true"

# The limits the corpus runs under: the defaults, with the ceiling lowered to keep the run short.
CORPUS_LIMITS = {"min_seconds": 10.0, "seconds_per_page": 0.5, "max_seconds": 60.0}
CORPUS_WORKERS = 2  # this kind of machine has 2 cores; each extraction is its own process
CORPUS_WALL_SECONDS = 120
STARTUP_SLACK_SECONDS = 3.0  # starting the child and killing it, on a busy machine

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Where this package is right and the manifest's expectation (made with python-docx's paragraph text) is not.
KNOWN_BETTER = {
    # Its only paragraph is the cached result of a FILENAME field ("FldSimple.docx"), which Word shows and
    # python-docx's Paragraph.text skips; the package reads it.
    "089-FldSimple.docx": {DONE},
}


def read_manifest() -> list[dict[str, str]]:
    if not MANIFEST.is_file():
        return []
    with MANIFEST.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE))


ROWS = read_manifest()


@pytest.fixture(scope="module")
def corpus_rows() -> list[dict[str, str]]:
    if not ROWS:
        if IN_CI:
            pytest.fail(f"the test corpus is missing at {CORPUS}: CI runs with shared/ beside the clone")
        pytest.skip(f"the shared test corpus is not at {CORPUS}")
    return ROWS


@dataclass(frozen=True)
class Outcome:
    kind: str
    extraction: Extraction | None
    seconds: float
    error: BaseException | None = None


@dataclass(frozen=True)
class CorpusRun:
    outcomes: dict[str, Outcome]
    wall_seconds: float


def extract_one(row: dict[str, str]) -> tuple[str, Outcome]:
    path = CORPUS / "files" / row["file"]
    started = time.monotonic()
    kind = "?"
    try:
        kind = sniff(path).kind
        extraction = extract_text(path, kind, **CORPUS_LIMITS)
    except Exception as e:  # reported by the file's own test, so one crash does not hide the others
        return row["file"], Outcome(kind, None, time.monotonic() - started, e)
    return row["file"], Outcome(kind, extraction, time.monotonic() - started)


@pytest.fixture(scope="module")
def corpus_run(corpus_rows) -> CorpusRun:
    """Extract every corpus file once, a few at a time, as the background extractor would."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CORPUS_WORKERS) as pool:
        outcomes = dict(pool.map(extract_one, corpus_rows))
    return CorpusRun(outcomes, time.monotonic() - started)


def expect_states(row: dict[str, str], kind: str) -> set[str]:
    """Return the states a file of this manifest category may end in."""
    category = row["category"]
    if row["file"] in KNOWN_BETTER:
        return KNOWN_BETTER[row["file"]]
    if category == "ok" or category == "ok;encrypted-empty-user-password":
        return {DONE}
    if category == "ok-empty-text":
        return {NO_TEXT}
    if category == "encrypted":
        return {ENCRYPTED, DONE}  # done when it opens with an empty user password
    if category.startswith(("malformed", "parser-bug-or-odd-input")):
        # Files that are not PDFs by their bytes (no %PDF- header) or are Word templates are named as such.
        return {FAILED, DONE, NO_TEXT} | ({UNSUPPORTED} if kind not in PARSED_KINDS else set())
    if category.startswith("slow"):
        return {DONE, FAILED}
    if category.startswith("unsupported-variant"):
        return {UNSUPPORTED}
    if category.startswith("encrypted-or-OLE2"):
        return {UNSUPPORTED, ENCRYPTED}
    if category.startswith("not-run"):
        # Two real ODT files, and a text file named .odt ("This is not a zip file!"), which is read as text.
        return {DONE}
    raise AssertionError(f"unknown category {category!r}")


def count_in_manifest(row: dict[str, str], name: str) -> int:
    match = re.search(rf"\b{name}=(\d+)", next(reversed(row.values())))
    return int(match.group(1)) if match else 0


def has_accented_latin(text: str) -> bool:
    """Return whether `text` has an accented Latin letter or Spanish punctuation (TeX PDFs give "´ı" for "í")."""
    return any(
        char in "¿¡´¨˜" or (char.isalpha() and ord(char) < 0x250 and unicodedata.decomposition(char)) for char in text
    )


def test_corpus_is_present(corpus_rows):
    assert len(corpus_rows) == len(list((CORPUS / "files").iterdir()))


@pytest.mark.parametrize("row", ROWS, ids=[row["file"] for row in ROWS])
def test_corpus_file_ends_in_the_state_its_category_implies(corpus_run, row):
    outcome = corpus_run.outcomes[row["file"]]
    if outcome.error is not None:
        raise AssertionError(f"extract_text raised on {row['file']}") from outcome.error
    extraction = outcome.extraction
    category = row["category"]

    assert extraction.state in expect_states(row, outcome.kind), extraction.reason
    if extraction.state != DONE:
        assert extraction.reason, "every state but done says why"
        assert extraction.text == ""
    else:
        assert extraction.text.strip()
    if category.startswith("slow"):
        budget = min(
            CORPUS_LIMITS["min_seconds"] + CORPUS_LIMITS["seconds_per_page"] * (extraction.pages or 1),
            CORPUS_LIMITS["max_seconds"],
        )
        if extraction.state == FAILED:
            assert "took longer than" in extraction.reason
        assert outcome.seconds < budget + STARTUP_SLACK_SECONDS
    if category.startswith("encrypted-or-OLE2"):
        assert "password" in extraction.reason
    if category.startswith("unsupported-variant"):
        assert re.search(r"Strict|\.docm|\.dotx|not a Word document", extraction.reason), extraction.reason


@pytest.mark.parametrize("row", [row for row in ROWS if row["category"] == "ok"], ids=lambda row: row["file"])
def test_corpus_text_has_the_characters_the_manifest_counted(corpus_run, row):
    text = corpus_run.outcomes[row["file"]].extraction.text
    cjk = count_in_manifest(row, "cjk")

    if cjk and row["kind"] == "pdf":
        assert len(CJK.findall(text)) == cjk
    elif cjk:
        # The manifest counted python-docx's table rows, which repeat a merged cell once per grid column it spans
        # (2006.docx: 5,429 counted, 599 in the XML); the package reads each cell once.
        assert CJK.search(text)
    if count_in_manifest(row, "es_accents"):
        assert has_accented_latin(text)


def test_corpus_extracts_well_within_the_time_allowed(corpus_run):
    assert corpus_run.wall_seconds < CORPUS_WALL_SECONDS


def test_aes_pdfs_with_an_empty_user_password_are_read(corpus_run, corpus_rows):
    opened = [row["file"] for row in corpus_rows if row["category"] == "ok;encrypted-empty-user-password"]

    assert opened
    assert all(corpus_run.outcomes[name].extraction.state == DONE for name in opened)


# --- time and memory limits -----------------------------------------------------------------------------------


def make_spinning_pdf(path: Path, operators: int = 1_000_000) -> Path:
    """Write a one-page PDF of ~30 KB whose compressed content stream takes pypdf ~20 s to walk."""
    content = zlib.compress(b"BT /F1 12 Tf 10 10 Td " + b"(x) Tj 1 0 Td " * operators + b"ET", 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(pdf))
    return path


def test_a_hostile_one_page_pdf_that_spins_is_stopped_at_the_minimum(tmp_path):
    pdf = make_spinning_pdf(tmp_path / "spin.pdf")
    assert sniff(pdf).kind == "pdf"

    started = time.monotonic()
    extraction = extract_text(pdf, "pdf", min_seconds=2.0, seconds_per_page=0.5, max_seconds=60)
    elapsed = time.monotonic() - started

    assert extraction.state == FAILED
    assert extraction.pages == 1
    assert extraction.reason == "took longer than 2.5 s (the limit for 1 page)"
    assert 2.5 <= elapsed < 2.5 + STARTUP_SLACK_SECONDS


def test_the_budget_grows_with_the_page_count(corpus_rows):
    manual = CORPUS / "files" / "063-debian-reference.en.pdf"

    extraction = extract_text(manual, "pdf", min_seconds=2.0, seconds_per_page=0.2, max_seconds=120)

    # 261 pages: 2 s would never do, 2 + 0.2 x 261 s does.
    assert extraction.state == DONE, extraction.reason
    assert extraction.pages == 261
    assert "Debian" in extraction.text


def test_max_seconds_caps_the_budget_of_a_long_document(corpus_rows):
    manual = CORPUS / "files" / "063-debian-reference.en.pdf"

    started = time.monotonic()
    extraction = extract_text(manual, "pdf", min_seconds=1.0, seconds_per_page=0.5, max_seconds=1.5)

    assert extraction.state == FAILED
    assert extraction.reason == "took longer than 1.5 s (the limit for 261 pages)"
    assert time.monotonic() - started < 1.5 + STARTUP_SLACK_SECONDS


@pytest.mark.parametrize("memory_mb", [128, 1])
def test_a_file_that_needs_more_memory_than_the_cap_fails_with_that_reason(tmp_path, memory_mb):
    big = tmp_path / "big.txt"
    big.write_bytes(b"registro " * (8 * 1024 * 1024))  # 72 MB: read and decoded, it needs well over 128 MB

    extraction = extract_text(big, "text", memory_mb=memory_mb)

    assert extraction.state == FAILED
    assert extraction.reason == f"needs more than {memory_mb} MB of memory"


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Encabezado oficial"
    document.sections[0].footer.paragraphs[0].text = "Pie de página"
    document.add_heading("Resolución 12 de 2026", level=1)
    document.add_paragraph("Primer párrafo del oficio.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "celda A1"
    table.cell(1, 1).text = "关于印发的通知"
    document.save(path)
    return path


def make_zip_bomb(path: Path, shape: str) -> Path:
    """Copy a real DOCX, padding it so that its declared sizes say "bomb" while the XML stays valid."""
    source = make_docx(path.with_name("source.docx"))
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "word/document.xml" and shape == "one-entry":
                data = data.replace(b"<w:body>", b"<w:body>" + b" " * (48 * 1024 * 1024), 1)
            bomb.writestr(info.filename, data)
        if shape == "many-entries":
            for number in range(300):
                bomb.writestr(f"padding/part{number}.xml", b" " * (1024 * 1024))
    return path


@pytest.mark.parametrize("shape", ["one-entry", "many-entries"])
def test_a_zip_bomb_docx_is_refused_before_parsing(tmp_path, shape):
    bomb = make_zip_bomb(tmp_path / "bomb.docx", shape)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    assert sniff(bomb).kind == "docx"

    started = time.monotonic()
    extraction = extract_text(bomb, "docx", min_seconds=10)

    assert extraction.state == FAILED
    assert "zip bomb" in extraction.reason
    assert time.monotonic() - started < STARTUP_SLACK_SECONDS


# --- what each reader returns -----------------------------------------------------------------------------------


def test_docx_text_includes_paragraphs_tables_headers_and_footers(tmp_path):
    extraction = extract_text(make_docx(tmp_path / "oficio.docx"), "docx")

    assert extraction.state == DONE
    for expected in ("Resolución 12 de 2026", "Primer párrafo", "celda A1", "关于印发的通知", "Encabezado", "Pie"):
        assert expected in extraction.text


def write_odt(path: Path, content: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr("meta.xml", '<office:document-meta><meta:document-statistic meta:page-count="3"/>')
    return path


ODF_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def test_odt_text_comes_from_headings_paragraphs_and_spans(tmp_path):
    odt = write_odt(
        tmp_path / "acta.odt",
        f"<office:document-content {ODF_NAMESPACES}><office:body><office:text>"
        "<text:tracked-changes><text:changed-region><text:deletion><text:p>borrado</text:p></text:deletion>"
        "</text:changed-region></text:tracked-changes>"
        '<text:h text:outline-level="1">Acta de la sesión</text:h>'
        '<text:p>Primer <text:span>párrafo</text:span><text:s text:c="2"/>con<text:tab/>tabulador</text:p>'
        "</office:text></office:body></office:document-content>",
    )
    assert sniff(odt).kind == "odt"

    extraction = extract_text(odt, "odt")

    assert extraction.state == DONE
    assert extraction.text.splitlines() == ["Acta de la sesión", "Primer párrafo  con\ttabulador"]
    assert extraction.pages == 3


def test_an_entity_bomb_in_odt_is_refused(tmp_path):
    laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    odt = write_odt(
        tmp_path / "laughs.odt",
        f'<?xml version="1.0"?><!DOCTYPE office:document-content [<!ENTITY l0 "lol">{laughs}]>'
        f"<office:document-content {ODF_NAMESPACES}><office:body><office:text>"
        "<text:p>Antes &l9; después</text:p></office:text></office:body></office:document-content>",
    )

    started = time.monotonic()
    extraction = extract_text(odt, "odt", memory_mb=512)

    # libxml2 refuses the amplification outright; nothing is expanded, no memory is spent.
    assert extraction.state == FAILED
    assert "malformed XML" in extraction.reason
    assert time.monotonic() - started < STARTUP_SLACK_SECONDS


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Señor director\n".encode(), "Señor director\n"),
        ("\ufeff国务院办公厅\n".encode("utf-16-le"), "国务院办公厅\n"),
        ("\ufeffOficio\n".encode(), "Oficio\n"),
        ("Señor director\n".encode("latin-1"), "Señor director\n"),
    ],
)
def test_text_files_are_decoded(tmp_path, data, expected):
    path = tmp_path / "nota.txt"
    path.write_bytes(data)

    extraction = extract_text(path, "text")

    assert (extraction.state, extraction.text) == (DONE, expected)


def test_images_have_no_text(tmp_path):
    scan = tmp_path / "scan.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))

    extraction = extract_text(scan, sniff(scan).kind)

    assert extraction.state == NO_TEXT
    assert "OCR" in extraction.reason


def test_an_unknown_file_is_unsupported_and_an_empty_one_failed(tmp_path):
    odd = tmp_path / "odd.bin"
    odd.write_bytes(b"\x00\x01\x02")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")

    assert extract_text(odd, sniff(odd).kind) == Extraction(UNSUPPORTED, reason="the file type is not recognised")
    assert extract_text(empty, "pdf") == Extraction(FAILED, reason="the file is empty")


def test_a_damaged_zip_fails_with_a_clear_reason(tmp_path):
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 200)

    extraction = extract_text(broken, sniff(broken).kind)

    assert extraction.state == FAILED
    assert "damaged zip archive" in extraction.reason


def test_a_missing_file_raises_file_missing(tmp_path):
    with pytest.raises(FileMissing):
        extract_text(tmp_path / "nowhere.pdf", "pdf")
