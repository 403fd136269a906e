"""The file store, type sniffing and file names: real files in `tmp_path`, nothing faked."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import tracemalloc
import zipfile
from pathlib import Path

import docx
import pytest

from storage import (
    KINDS,
    BadFilename,
    EmptyFile,
    FileMissing,
    FileStore,
    FileTooLarge,
    InvalidDigest,
    StorageError,
    safe_filename,
    sniff,
)

DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def list_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


# --- the content-addressed store ------------------------------------------------------------------------------


def test_put_stores_a_stream_under_its_sha256(tmp_path):
    store = FileStore(tmp_path / "files")
    data = b"Oficio 123/2026\n" * 1000

    stored = store.put(io.BytesIO(data))

    digest = hash_bytes(data)
    assert stored.sha256 == digest
    assert stored.size == len(data)
    assert stored.path == tmp_path / "files" / digest[:2] / digest[2:4] / digest
    assert stored.path.read_bytes() == data
    assert store.exists(digest)
    assert store.path(digest) == stored.path
    with store.open(digest) as stream:
        assert stream.read() == data
    assert list_files(tmp_path / "files") == [stored.path]


def test_put_reads_a_path(tmp_path):
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"\x00\x01binary")
    store = FileStore(tmp_path / "files")

    stored = store.put(upload)

    assert stored.sha256 == hash_bytes(b"\x00\x01binary")
    assert store.verify(stored.sha256)


def test_put_of_a_missing_path_is_a_storage_error(tmp_path):
    with pytest.raises(StorageError) as caught:
        FileStore(tmp_path / "files").put(tmp_path / "nowhere.pdf")

    assert isinstance(caught.value.__cause__, FileNotFoundError)


def test_same_bytes_twice_are_stored_once(tmp_path):
    store = FileStore(tmp_path / "files")
    first = store.put(io.BytesIO(b"the same letter"))
    before = first.path.stat()

    second = store.put(io.BytesIO(b"the same letter"))

    assert second == first
    after = second.path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert list_files(tmp_path / "files") == [first.path]


def test_an_existing_object_is_never_overwritten(tmp_path):
    store = FileStore(tmp_path / "files")
    stored = store.put(io.BytesIO(b"original bytes"))
    os.chmod(stored.path, 0o644)
    stored.path.write_bytes(b"damaged on disk")
    os.chmod(stored.path, 0o444)

    again = store.put(io.BytesIO(b"original bytes"))

    # The store keeps what it has: repairing an object is a deliberate act, not a side effect of an upload.
    assert again.path == stored.path
    assert stored.path.read_bytes() == b"damaged on disk"
    assert list_files(tmp_path / "files") == [stored.path]


def test_stored_files_are_read_only(tmp_path):
    stored = FileStore(tmp_path / "files").put(io.BytesIO(b"registro"))

    assert stat.S_IMODE(stored.path.stat().st_mode) == 0o444


def test_verify_detects_a_flipped_byte(tmp_path):
    store = FileStore(tmp_path / "files")
    stored = store.put(io.BytesIO(b"acta de la sesion"))
    assert store.verify(stored.sha256)

    os.chmod(stored.path, 0o644)
    damaged = bytearray(stored.path.read_bytes())
    damaged[3] ^= 0x01
    stored.path.write_bytes(bytes(damaged))

    assert not store.verify(stored.sha256)


class BrokenStream(io.RawIOBase):
    """A client that sends some bytes and then drops the connection."""

    def __init__(self, good_chunks: int) -> None:
        self.good_chunks = good_chunks

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.good_chunks == 0:
            raise OSError("connection reset by peer")
        self.good_chunks -= 1
        return b"x" * 4096


def test_a_failing_stream_leaves_no_temporary_file(tmp_path):
    store = FileStore(tmp_path / "files")

    with pytest.raises(StorageError) as caught:
        store.put(BrokenStream(good_chunks=3))

    assert isinstance(caught.value.__cause__, OSError)
    assert list_files(tmp_path / "files") == []


def test_an_upload_past_max_bytes_is_refused_and_leaves_nothing(tmp_path):
    store = FileStore(tmp_path / "files", max_bytes=10)

    with pytest.raises(FileTooLarge):
        store.put(io.BytesIO(b"x" * 11))

    assert list_files(tmp_path / "files") == []
    assert store.put(io.BytesIO(b"x" * 10)).size == 10


def test_an_empty_upload_is_refused(tmp_path):
    with pytest.raises(EmptyFile):
        FileStore(tmp_path / "files").put(io.BytesIO(b""))

    assert list_files(tmp_path / "files") == []


class GeneratedStream(io.RawIOBase):
    """A large upload produced chunk by chunk, as a request body arrives."""

    def __init__(self, total: int) -> None:
        self.left = total
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        chunk = os.urandom(size)
        self.left -= size
        self.digest.update(chunk)
        return chunk


def test_a_large_upload_is_streamed_not_held_in_memory(tmp_path):
    upload = GeneratedStream(total=48 * 1024 * 1024)
    tracemalloc.start()
    try:
        stored = FileStore(tmp_path / "files").put(upload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert stored.sha256 == upload.digest.hexdigest()
    assert stored.size == 48 * 1024 * 1024
    assert peak < 8 * 1024 * 1024


def test_open_of_a_missing_object_raises_file_missing(tmp_path):
    store = FileStore(tmp_path / "files")

    with pytest.raises(FileMissing):
        store.open("0" * 64)
    assert not store.exists("0" * 64)


@pytest.mark.parametrize("digest", ["", "abc", "../" + "0" * 61, "A" * 64, "0" * 63 + "g"])
def test_a_malformed_digest_is_refused(tmp_path, digest):
    with pytest.raises(InvalidDigest):
        FileStore(tmp_path).path(digest)


# --- sniffing -------------------------------------------------------------------------------------------------


def make_pdf(prefix: bytes = b"") -> bytes:
    return prefix + b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("Resolución 12 de 2026")
    document.save(path)
    return path


def rewrite_zip(source: Path, target: Path, replacements: dict[str, tuple[bytes, bytes]]) -> Path:
    """Copy the zip `source` to `target`, replacing bytes in the named entries."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename in replacements:
                old, new = replacements[info.filename]
                assert old in data
                data = data.replace(old, new)
            copy.writestr(info.filename, data)
    return target


def make_ooxml(path: Path, main_type: str, main_part: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="xml" ContentType="application/xml"/><Override PartName="/{main_part}" '
            f'ContentType="{main_type}"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'officeDocument" Target="{main_part}"/></Relationships>',
        )
        archive.writestr(main_part, "<root/>")
    return path


def make_odt(path: Path, mimetype: str = "application/vnd.oasis.opendocument.text") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>")
    return path


def make_ole2(stream_names: list[str]) -> bytes:
    """Return a minimal OLE2 compound file (512-byte sectors) whose directory holds `stream_names`."""
    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 44, 1)  # one FAT sector
    struct.pack_into("<I", header, 48, 1)  # the directory starts in sector 1
    struct.pack_into("<III", header, 56, 4096, end, 0)
    struct.pack_into("<II", header, 68, end, 0)
    struct.pack_into("<109I", header, 76, 0, *([free] * 108))
    fat = struct.pack("<128I", fat_sector, end, *([free] * 126))
    directory = bytearray(512)
    for index, name in enumerate(["Root Entry", *stream_names][:4]):
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry = index * 128
        directory[entry : entry + len(encoded)] = encoded
        struct.pack_into("<HB", directory, entry + 64, len(encoded), 5 if index == 0 else 2)
    return bytes(header) + fat + bytes(directory)


@pytest.fixture
def samples(tmp_path) -> dict[str, Path]:
    """One generated file of each kind, each named to mislead: sniffing must not look at the name."""
    docx_path = make_docx(tmp_path / "plain.bin")
    made = {
        "pdf": tmp_path / "a.txt",
        "docx": docx_path,
        "docm": rewrite_zip(
            docx_path,
            tmp_path / "macro.docx",
            {"[Content_Types].xml": (DOCX_MAIN.encode(), b"application/vnd.ms-word.document.macroEnabled.main+xml")},
        ),
        "dotx": rewrite_zip(
            docx_path,
            tmp_path / "template.docx",
            {
                "[Content_Types].xml": (
                    DOCX_MAIN.encode(),
                    b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
                )
            },
        ),
        "docx-strict": rewrite_zip(
            docx_path,
            tmp_path / "strict.docx",
            {
                "_rels/.rels": (
                    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
                    b"http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument",
                )
            },
        ),
        "xlsx": make_ooxml(
            tmp_path / "sheet.docx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            "xl/workbook.xml",
        ),
        "pptx": make_ooxml(
            tmp_path / "slides.docx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
            "ppt/presentation.xml",
        ),
        "ooxml": rewrite_zip(  # a package whose main part has no known content type
            docx_path, tmp_path / "odd.docx", {"[Content_Types].xml": (DOCX_MAIN.encode(), b"application/xml")}
        ),
        "odt": make_odt(tmp_path / "text.docx"),
        "zip": make_odt(tmp_path / "sheet.odt", mimetype="application/vnd.oasis.opendocument.spreadsheet"),
        "ooxml-encrypted": tmp_path / "locked.docx",
        "doc": tmp_path / "old.docx",
        "ole2": tmp_path / "thing.doc",
        "png": tmp_path / "scan.pdf",
        "jpeg": tmp_path / "photo.png",
        "tiff": tmp_path / "fax.jpg",
        "gif": tmp_path / "anim.tif",
        "text": tmp_path / "letter.pdf",
        "unknown": tmp_path / "letter.txt",
    }
    made["pdf"].write_bytes(make_pdf(prefix=b"garbage before the header " * 10))
    made["ooxml-encrypted"].write_bytes(make_ole2(["EncryptionInfo", "EncryptedPackage"]))
    made["doc"].write_bytes(make_ole2(["WordDocument", "1Table"]))
    made["ole2"].write_bytes(make_ole2(["Contents"]))
    made["png"].write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    made["jpeg"].write_bytes(b"\xff\xd8\xff\xe0" + bytes(64))
    made["tiff"].write_bytes(b"II*\x00" + bytes(64))
    made["gif"].write_bytes(b"GIF89a" + bytes(64))
    made["text"].write_text("Señor director: adjunto el informe. 关于印发的通知\n", encoding="utf-8")
    made["unknown"].write_bytes(b"text, then a NUL\x00 byte")
    return made


def test_sniff_tells_each_kind_from_content_not_name(samples):
    found = {expected: sniff(path).kind for expected, path in samples.items()}

    assert found == {expected: expected for expected in samples}


def test_sniff_returns_mime_type_and_extension(samples):
    pdf = sniff(samples["pdf"])
    assert (pdf.mime, pdf.extension) == ("application/pdf", ".pdf")
    word = sniff(samples["docx"])
    assert word.mime == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert word.extension == ".docx"
    assert sniff(samples["text"]).mime == "text/plain"
    assert all(kind.kind == name for name, kind in KINDS.items())


def test_a_pdf_named_text_file_is_text(tmp_path):
    fake = tmp_path / "informe.pdf"
    fake.write_text("Este no es un PDF, aunque lo diga su nombre.\n", encoding="utf-8")

    assert sniff(fake).kind == "text"


def test_pdf_marker_must_be_within_the_first_kilobyte(tmp_path):
    late = tmp_path / "late.pdf"
    late.write_bytes(make_pdf(prefix=b"\x00" * 1100))

    assert sniff(late).kind == "unknown"


def test_utf16_text_with_a_byte_order_mark_is_text(tmp_path):
    path = tmp_path / "utf16.txt"
    path.write_bytes("\ufeff国务院办公厅关于印发的通知".encode("utf-16-le"))

    assert sniff(path).kind == "text"


def test_utf8_cut_at_the_64_kib_boundary_is_still_text(tmp_path):
    path = tmp_path / "long.txt"
    path.write_bytes(("a" + "关" * 30000).encode())  # 90,001 bytes: a character straddles byte 65,536

    assert sniff(path).kind == "text"


def test_a_damaged_zip_is_a_zip(tmp_path):
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 100)

    assert sniff(broken).kind == "zip"


def test_sniffing_a_missing_file_raises_file_missing(tmp_path):
    with pytest.raises(FileMissing):
        sniff(tmp_path / "nowhere.pdf")


def test_an_empty_file_is_unknown(tmp_path):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")

    assert sniff(empty).kind == "unknown"


# --- file names -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../x", "a/b", "a\\b", "c\x00d", "tab\there", "line\nbreak", "", ".", "..", "...", "   ", "x\u202efdp.exe", None],
)
def test_unsafe_names_are_refused(name):
    with pytest.raises(BadFilename):
        safe_filename(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Oficio 123-2026.pdf", "Oficio 123-2026.pdf"),
        ("  informe final.docx  ", "informe final.docx"),
        ("Resolucio\u0301n.pdf", "Resolución.pdf"),  # decomposed (as macOS sends it) becomes composed
        (".bashrc", ".bashrc"),
        ("国办函〔2018〕71号.pdf", "国办函〔2018〕71号.pdf"),
    ],
)
def test_safe_names_are_kept(name, expected):
    assert safe_filename(name) == expected


def test_a_long_cjk_name_is_cut_to_255_bytes_keeping_the_extension():
    name = "国务院办公厅关于印发" * 20 + ".docx"  # 600 bytes of stem

    safe = safe_filename(name)

    assert len(safe.encode()) <= 255
    assert safe.endswith(".docx")
    assert safe.startswith("国务院办公厅")
    assert len(safe.encode()) > 250 - len(".docx")  # cut near the limit, on a character boundary


def test_a_long_name_without_extension_is_cut_to_255_bytes():
    safe = safe_filename("ñ" * 300)

    assert safe == "ñ" * 127
