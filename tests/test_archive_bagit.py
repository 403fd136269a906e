"""BagIt (RFC 8493) on its own: manifests, the tag manifest, percent-encoded paths, what validation catches, and a
tar that cannot write outside where it is unpacked."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from docstore.archive import bagit

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "files"
PDF = CORPUS / "015-calgray.pdf"


def _digest(data: bytes, algorithm: str) -> str:
    return hashlib.new(algorithm, data).hexdigest()


def _bag(tmp_path: Path, name: str = "bag") -> Path:
    """Write a small bag: two payload files (one from a path, one from a stream) and one of bytes; return it."""
    payload = [
        ("notes/carta.txt", "Carta de la Dirección · 通知".encode()),
        ("files/calgray.pdf", PDF),
        ("files/stream.bin", io.BytesIO(b"\x00\x01" * 1000)),
    ]
    bagit.write_bag(tmp_path / name, payload, {"Source-Organization": "Ayuntamiento de Ávila", "Bag-Count": "1 of 1"})
    return tmp_path / name


def _lines(path: Path) -> list[tuple[str, str]]:
    return [tuple(line.split("  ", 1)) for line in path.read_text(encoding="utf-8").splitlines()]


def test_bag_has_the_declaration_and_every_payload_file_in_every_manifest(tmp_path, fake_clock):
    bag = _bag(tmp_path)
    assert (bag / "bagit.txt").read_bytes() == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    pdf = PDF.read_bytes()
    for algorithm in ("sha512", "sha256"):
        assert sorted(_lines(bag / f"manifest-{algorithm}.txt")) == sorted(
            [
                (_digest("Carta de la Dirección · 通知".encode(), algorithm), "data/notes/carta.txt"),
                (_digest(pdf, algorithm), "data/files/calgray.pdf"),
                (_digest(b"\x00\x01" * 1000, algorithm), "data/files/stream.bin"),
            ]
        )
    assert (bag / "data" / "files" / "calgray.pdf").read_bytes() == pdf
    info = bagit.read_info(bag)
    size = len("Carta de la Dirección · 通知".encode()) + len(pdf) + 2000
    assert info["Source-Organization"] == ["Ayuntamiento de Ávila"]
    assert info["Bagging-Date"] == ["2026-03-02"]
    assert info["Payload-Oxum"] == [f"{size}.3"]
    report = bagit.validate_bag(bag)
    assert (report.complete, report.valid, report.files, report.bytes) == (True, True, 3, size)
    assert report.problems == []


def test_tag_manifest_lists_the_tag_files_and_payload_manifests_but_no_tag_manifest(tmp_path):
    bag = _bag(tmp_path)
    listed = dict((path, digest) for digest, path in _lines(bag / "tagmanifest-sha512.txt"))
    assert sorted(listed) == ["bag-info.txt", "bagit.txt", "manifest-sha256.txt", "manifest-sha512.txt"]
    for name, digest in listed.items():
        assert digest == _digest((bag / name).read_bytes(), "sha512")
    assert not list(bag.glob("tagmanifest-*.txt"))[1:]  # one tag manifest, which never lists itself


def test_paths_with_line_breaks_and_percent_signs_are_percent_encoded_in_manifests(tmp_path):
    name = "100% real\nline\rreturn.txt"
    bagit.write_bag(tmp_path / "bag", [(name, b"odd name")], {})
    text = (tmp_path / "bag" / "manifest-sha512.txt").read_text(encoding="utf-8")
    assert text == f"{_digest(b'odd name', 'sha512')}  data/100%25 real%0Aline%0Dreturn.txt\n"
    assert (tmp_path / "bag" / "data" / name).read_bytes() == b"odd name"
    assert bagit.decode_path("data/100%25 real%0Aline%0Dreturn.txt") == f"data/{name}"
    assert bagit.validate_bag(tmp_path / "bag").valid


def test_a_changed_payload_file_makes_the_bag_invalid_but_still_complete(tmp_path):
    bag = _bag(tmp_path)
    (bag / "data" / "notes" / "carta.txt").write_bytes(b"Carta cambiada")
    report = bagit.validate_bag(bag)
    assert report.complete and not report.valid
    kinds = sorted((problem.kind, problem.path, str(problem.message)) for problem in report.problems)
    assert kinds[:2] == [
        (
            "altered",
            "data/notes/carta.txt",
            "Its SHA256 digest does not match manifest-sha256.txt: it was changed or damaged.",
        ),
        (
            "altered",
            "data/notes/carta.txt",
            "Its SHA512 digest does not match manifest-sha512.txt: it was changed or damaged.",
        ),
    ]
    assert [problem.kind for problem in report.problems if problem.kind != "altered"] == ["oxum"]


def test_a_missing_payload_file_makes_the_bag_incomplete(tmp_path):
    bag = _bag(tmp_path)
    (bag / "data" / "files" / "calgray.pdf").unlink()
    report = bagit.validate_bag(bag)
    assert not report.complete and not report.valid
    missing = sorted((p.path, str(p.message)) for p in report.problems if p.kind == "missing")
    assert missing == [
        ("data/files/calgray.pdf", "Listed in manifest-sha256.txt, but missing."),
        ("data/files/calgray.pdf", "Listed in manifest-sha512.txt, but missing."),
    ]


def test_an_extra_payload_file_makes_the_bag_incomplete(tmp_path):
    bag = _bag(tmp_path)
    (bag / "data" / "files" / "added.txt").write_bytes(b"slipped in")
    report = bagit.validate_bag(bag)
    assert not report.complete
    unlisted = sorted((p.kind, p.path) for p in report.problems if p.kind == "unlisted")
    assert unlisted == [("unlisted", "data/files/added.txt")] * 2


def test_a_changed_tag_file_is_caught_by_the_tag_manifest(tmp_path):
    bag = _bag(tmp_path)
    info = bag / "bag-info.txt"
    info.write_text(info.read_text(encoding="utf-8").replace("Ávila", "Toledo"), encoding="utf-8")
    report = bagit.validate_bag(bag)
    assert [(p.kind, p.path) for p in report.problems] == [("altered", "bag-info.txt")]


def test_a_manifest_naming_a_path_outside_the_bag_is_reported_and_never_read(tmp_path):
    bag = _bag(tmp_path)
    (tmp_path / "secret.txt").write_text("outside")
    with open(bag / "manifest-sha512.txt", "a", encoding="utf-8") as manifest:
        manifest.write(f"{_digest(b'outside', 'sha512')}  data/../../secret.txt\n")
    report = bagit.validate_bag(bag)
    assert ("unsafe", "manifest-sha512.txt") in [(p.kind, p.path) for p in report.problems]
    assert not report.valid


def test_a_payload_path_that_climbs_out_is_refused_and_nothing_is_left(tmp_path):
    with pytest.raises(ValueError):
        bagit.write_bag(tmp_path / "bag", [("ok.txt", b"1"), ("../escape.txt", b"2")], {})
    assert not (tmp_path / "bag").exists()
    assert not (tmp_path / "escape.txt").exists()


def test_a_packed_bag_unpacks_to_the_same_valid_bag_and_packs_identically(tmp_path):
    bag = _bag(tmp_path, "records-2026")
    first = bagit.pack_bag(bag, tmp_path / "one.tar")
    second = bagit.pack_bag(bag, tmp_path / "two.tar")
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as tar:
        names = tar.getnames()
        assert all(name == "records-2026" or name.startswith("records-2026/") for name in names)
        assert all(member.isdir() or member.isreg() for member in tar.getmembers())
    root = bagit.unpack_bag(first, tmp_path / "unpacked")
    assert root == (tmp_path / "unpacked" / "records-2026").resolve()
    assert bagit.validate_bag(root).valid
    assert (root / "data" / "files" / "calgray.pdf").read_bytes() == PDF.read_bytes()


def _tar(path: Path, *members: tuple[tarfile.TarInfo, bytes | None]) -> Path:
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def _link(name: str, target: str, kind=tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    "members",
    [
        [(_file("bag/bagit.txt"), b"BagIt-Version: 1.0\n"), (_file("bag/../../escape.txt"), b"evil")],
        [(_file("/docstore-escape.txt"), b"evil")],
        [(_link("bag/data/link", "../../../escape.txt"), None)],
        [(_file("bag/data/real.txt"), b"x"), (_link("bag/data/hard", "bag/data/real.txt", tarfile.LNKTYPE), None)],
        [(_file("bag/data/big.bin"), b"x" * 2000)],
    ],
    ids=["dot-dot", "absolute", "symlink", "hard-link", "oversized"],
)
def test_an_unsafe_tar_is_refused_and_writes_nothing_anywhere(tmp_path, members):
    archive = _tar(tmp_path / "evil.tar", *members)
    target = tmp_path / "deep" / "unpack"
    with pytest.raises(bagit.BagInvalid) as refused:
        bagit.unpack_bag(archive, target, max_member_bytes=1000)
    assert refused.value.problems[0].kind == "unsafe"
    assert not target.exists()
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "deep" / "escape.txt").exists()
    assert not Path("/docstore-escape.txt").exists()


def test_a_file_that_is_not_a_tar_is_refused_clearly(tmp_path):
    archive = tmp_path / "package.tar"
    archive.write_bytes(PDF.read_bytes()[:4000])
    with pytest.raises(bagit.BagInvalid) as refused:
        bagit.unpack_bag(archive, tmp_path / "unpack")
    assert str(refused.value) == "package.tar: This is not an uncompressed tar file."
    assert not (tmp_path / "unpack").exists()
