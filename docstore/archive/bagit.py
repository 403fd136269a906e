"""BagIt (RFC 8493, version 1.0): write a bag, validate one, and carry it as one tar file.

A bag is a folder::

    bagit.txt                 BagIt-Version: 1.0 / Tag-File-Character-Encoding: UTF-8
    bag-info.txt              "Label: value" lines (Source-Organization, Bagging-Date, Payload-Oxum, ...)
    manifest-sha512.txt       "<digest>  data/<path>" for every payload file (and one manifest per algorithm)
    tagmanifest-sha512.txt    the same for every tag file, payload manifests included, tag manifests never
    data/                     the payload

A bag is *complete* when every payload file is listed in every payload manifest and every listed file is there;
it is *valid* when it is complete and every digest matches. Fixity is not authenticity: a bag can be rewritten
whole, manifests included.

This module knows nothing of Docstore's records: it copies and checks files. Files are copied and hashed in one
pass, a megabyte at a time, and manifest lines are written as files are copied, so writing or validating a bag of
any size takes the same memory (besides one manifest entry per file while validating).

For download and upload a bag travels as an uncompressed POSIX tar (the stored files are PDFs and Word files,
compressed already) holding one folder named after the bag. `unpack_bag` reads one back refusing what could write
outside its target: absolute paths, `..`, links, devices, oversized members.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from docstore import clock
from docstore.errors import N_, Msg, ValidationFailed

VERSION = "1.0"
ENCODING = "UTF-8"
CHUNK_SIZE = 1 << 20
#: Manifests written by default: SHA-512 (the RFC's default) and SHA-256 (the file store's own digest).
ALGORITHMS = ("sha512", "sha256")
#: Algorithms a bag may use; MD5 and SHA-1 only to read old bags.
SUPPORTED_ALGORITHMS = ("sha512", "sha384", "sha256", "sha224", "sha1", "md5")
#: Limits of `unpack_bag` unless the caller gives its own.
MAX_MEMBER_BYTES = 16 << 30
MAX_TOTAL_BYTES = 1 << 40
MAX_MEMBERS = 2_000_000
#: Problems that make a bag incomplete; the others ("altered", and a Payload-Oxum that no longer matches: it is only
#: a quick hint of the payload's size, which an altered file changes too) make it invalid.
INCOMPLETE = frozenset({"missing", "unlisted", "malformed", "unsafe"})

Source = bytes | str | os.PathLike | BinaryIO
_LINE = re.compile(r"([0-9A-Fa-f]+)[ \t]+(.+)")
_ENCODED = re.compile(r"%(0[AaDd]|25)")
_LABEL = re.compile(r"[^:\s][^:\r\n]*")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bag: its kind (missing, unlisted, altered, malformed, unsafe, oxum), where, and what."""

    kind: str
    path: str
    message: Msg

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class ValidationReport:
    """What `validate_bag` found: the problems, the payload counted, and the bag's bag-info.txt."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    algorithms: tuple[str, ...] = ()
    info: dict[str, list[str]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when every payload file is present and listed in every payload manifest."""
        return not any(problem.kind in INCOMPLETE for problem in self.problems)

    @property
    def valid(self) -> bool:
        """True when the bag is complete and every digest matches."""
        return not self.problems


@dataclass(frozen=True)
class BagSummary:
    """A bag just written: where, its payload (files, bytes) and its manifests' algorithms."""

    path: Path
    files: int
    bytes: int
    algorithms: tuple[str, ...]

    @property
    def oxum(self) -> str:
        return f"{self.bytes}.{self.files}"


class BagInvalid(ValidationFailed):
    """A bag, or a bag archive, that is unsafe, incomplete or invalid; `problems` says what is wrong, each apart."""

    code = "bag_invalid"
    #: Problems named one by one in the message; the rest are counted.
    SHOWN = 50

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors: dict[str, Msg] = {}
        for problem in problems[: self.SHOWN]:
            key = problem.path or "bag"
            errors[key] = Msg.join([errors[key], problem.message]) if key in errors else problem.message
        if len(problems) > self.SHOWN:
            errors["bag"] = Msg(N_("%(count)s more problem(s) not shown."), count=len(problems) - self.SHOWN)
        super().__init__(errors)


# --- paths and tag files -----------------------------------------------------------------------------------------


def encode_path(path: str) -> str:
    """Return `path` as a manifest writes it: CR, LF and % percent-encoded (RFC 8493 §2.1.3)."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(text: str) -> str:
    """Return the path a manifest line names (the reverse of `encode_path`)."""
    return _ENCODED.sub(lambda match: chr(int(match.group(1), 16)), text)


def _payload_name(relative: str) -> PurePosixPath:
    """Return `relative` (a path inside data/) checked: relative, no `.` or `..`, no empty part, no backslash."""
    if not isinstance(relative, str) or not relative or "\0" in relative or "\\" in relative:
        raise ValueError(f"not a usable payload path: {relative!r}")
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"not a usable payload path: {relative!r}")
    return PurePosixPath(*parts)


def _safe_member(name: str) -> bool:
    """True when `name` stays inside the folder it is read or written in."""
    if not name or name.startswith("/") or "\\" in name or "\0" in name:
        return False
    return ".." not in name.split("/") and not re.match(r"[A-Za-z]:", name)


def _tag_text(values: Iterable[tuple[str, str]]) -> str:
    lines = []
    for label, value in values:
        if not _LABEL.fullmatch(label) or label != label.strip():
            raise ValueError(f"not a usable bag-info label: {label!r}")
        # a value on several lines continues on lines that begin with white space (RFC 8493 §2.2.2)
        text = "\n  ".join(str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        lines.append(f"{label}: {text}\n")
    return "".join(lines)


def _read_tags(path: Path) -> dict[str, list[str]]:
    """Return the labels of a tag file (bagit.txt, bag-info.txt) and their values (a label may repeat)."""
    values: dict[str, list[str]] = {}
    last: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        if line[0] in " \t" and last is not None:
            values[last][-1] += " " + line.strip()
            continue
        label, colon, value = line.partition(":")
        if not colon:
            raise ValueError(line)
        last = label.strip()
        values.setdefault(last, []).append(value.strip())
    return values


def read_info(bag_dir: Path | str) -> dict[str, list[str]]:
    """Return the labels of a bag's bag-info.txt and their values ({} when it has none)."""
    path = Path(bag_dir) / "bag-info.txt"
    return _read_tags(path) if path.is_file() else {}


def info_value(info: Mapping[str, list[str]], label: str) -> str:
    """Return the first value of `label` in a bag-info mapping ('' when absent)."""
    values = info.get(label) or [""]
    return values[0]


# --- writing -----------------------------------------------------------------------------------------------------


def _hashers(algorithms: Iterable[str]) -> dict[str, hashlib._Hash]:
    return {name: hashlib.new(name) for name in algorithms}


def _copy(source: Source, out: BinaryIO, hashers: dict) -> int:
    """Copy `source` into `out`, feeding every hasher; return the bytes copied."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        out.write(data)
        for hasher in hashers.values():
            hasher.update(data)
        return len(data)
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as stream:
            return _copy(stream, out, hashers)
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        out.write(chunk)
        for hasher in hashers.values():
            hasher.update(chunk)
        size += len(chunk)
    return size


def _hash_file(path: Path, algorithms: Iterable[str]) -> tuple[dict[str, str], int]:
    hashers = _hashers(algorithms)
    size = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK_SIZE):
            for hasher in hashers.values():
                hasher.update(chunk)
            size += len(chunk)
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}, size


def write_bag(
    target_dir: Path | str,
    payload: Iterable[tuple[str, Source]],
    info: Mapping[str, str],
    algorithms: tuple[str, ...] = ALGORITHMS,
    on_file: Callable[[str, dict[str, str], int], None] | None = None,
) -> BagSummary:
    """Write a bag at `target_dir` (new, or an empty folder) from `payload` and return what it holds.

    `payload` yields (path inside data/, source), where source is bytes, a file's path or a binary stream; it may
    be a generator, consumed once. `info` gives the bag-info.txt labels in order; Bagging-Date (today, from
    docstore.clock) and Payload-Oxum are added. `on_file(path, digests, size)`, when given, is called after each
    payload file is copied (path inside data/, algorithm -> hex digest): whatever it raises stops the writing. A
    failure removes the folder when this call created it.
    """
    algorithms = tuple(dict.fromkeys(algorithms))
    unknown = [name for name in algorithms if name not in SUPPORTED_ALGORITHMS]
    if not algorithms or unknown:
        raise ValueError(f"unsupported algorithms: {unknown or 'none'}")
    target = Path(target_dir)
    created = not target.exists()
    if not created and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} exists and is not an empty folder")
    try:
        return _write(target, payload, info, algorithms, on_file)
    except BaseException:
        if created:
            shutil.rmtree(target, ignore_errors=True)
        raise


def _write(target: Path, payload, info: Mapping[str, str], algorithms: tuple[str, ...], on_file) -> BagSummary:
    data = target / "data"
    data.mkdir(parents=True, exist_ok=True)
    files = size = 0
    manifests = {
        name: open(target / f"manifest-{name}.txt", "w", encoding="utf-8", newline="\n") for name in algorithms
    }
    try:
        for relative, source in payload:
            name = _payload_name(relative)
            destination = data / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            hashers = _hashers(algorithms)
            with open(destination, "xb") as out:  # "x": a path given twice is an error, never an overwrite
                copied = _copy(source, out, hashers)
            size += copied
            files += 1
            digests = {algorithm: hasher.hexdigest() for algorithm, hasher in hashers.items()}
            line = encode_path(f"data/{name.as_posix()}")
            for algorithm, manifest in manifests.items():
                manifest.write(f"{digests[algorithm]}  {line}\n")
            if on_file is not None:
                on_file(name.as_posix(), digests, copied)
    finally:
        for manifest in manifests.values():
            manifest.close()
    (target / "bagit.txt").write_text(
        _tag_text([("BagIt-Version", VERSION), ("Tag-File-Character-Encoding", ENCODING)]),
        encoding="utf-8",
        newline="\n",
    )
    labels = {label: value for label, value in info.items() if label not in ("Bagging-Date", "Payload-Oxum")}
    labels["Bagging-Date"] = clock.now().date().isoformat()
    labels["Payload-Oxum"] = f"{size}.{files}"
    (target / "bag-info.txt").write_text(_tag_text(labels.items()), encoding="utf-8", newline="\n")
    tag_files = ["bagit.txt", "bag-info.txt", *(f"manifest-{name}.txt" for name in algorithms)]
    with open(target / "tagmanifest-sha512.txt", "w", encoding="utf-8", newline="\n") as out:
        for name in tag_files:
            digests, _size = _hash_file(target / name, ("sha512",))
            out.write(f"{digests['sha512']}  {encode_path(name)}\n")
    return BagSummary(target, files, size, algorithms)


# --- validating --------------------------------------------------------------------------------------------------


class _Checker:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.report = ValidationReport(base)

    def problem(self, kind: str, path: str, message: Msg) -> None:
        self.report.problems.append(Problem(kind, path, message))

    def manifest(self, name: str, payload: bool) -> dict[str, str]:
        """Return path -> digest of the manifest `name`, reporting bad lines, unsafe paths and repeats."""
        entries: dict[str, str] = {}
        try:
            text = (self.base / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            self.problem("malformed", name, Msg(N_("The manifest cannot be read as UTF-8 text.")))
            return entries
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            match = _LINE.fullmatch(line)
            if match is None:
                self.problem("malformed", name, Msg(N_("Line %(line)s is not “digest path”."), line=number))
                continue
            path = decode_path(match.group(2))
            if not _safe_member(path) or any(part in ("", ".") for part in path.split("/")):
                self.problem("unsafe", name, Msg(N_("Line %(line)s names a path outside the bag."), line=number))
                continue
            if payload != path.startswith("data/"):
                wrong = (
                    N_("Line %(line)s names a file outside data/: a payload manifest lists only the payload.")
                    if payload
                    else N_("Line %(line)s names a payload file: a tag manifest lists only tag files.")
                )
                self.problem("malformed", name, Msg(wrong, line=number))
                continue
            if path in entries:
                self.problem("malformed", name, Msg(N_("Line %(line)s repeats %(path)s."), line=number, path=path))
                continue
            entries[path] = match.group(1).lower()
        return entries


def read_manifest(bag_dir: Path | str, algorithm: str) -> dict[str, str]:
    """Return path -> digest of a bag's payload manifest for `algorithm` ({} when the bag has none).

    Only well-formed lines naming safe payload paths are returned: `validate_bag` reports the others.
    """
    base = Path(bag_dir)
    if not (base / f"manifest-{algorithm}.txt").is_file():
        return {}
    checker = _Checker(base)
    return checker.manifest(f"manifest-{algorithm}.txt", payload=True)


def _manifests(base: Path, prefix: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted(base.glob(f"{prefix}-*.txt")):
        found.append((path.name, path.name[len(prefix) + 1 : -len(".txt")]))
    return found


def validate_bag(path: Path | str) -> ValidationReport:
    """Check the bag at `path`: complete (everything present and listed, nothing extra) and valid (digests match).

    Every problem is reported, each with the file it concerns; reading stops at nothing short of a missing folder.
    """
    base = Path(path)
    check = _Checker(base)
    report = check.report
    if not base.is_dir():
        check.problem("missing", str(base), Msg(N_("There is no bag here: the folder does not exist.")))
        return report
    _check_declaration(check)
    try:
        report.info = read_info(base)
    except (OSError, UnicodeDecodeError, ValueError):
        check.problem(
            "malformed",
            "bag-info.txt",
            Msg(N_("%(name)s is not “Label: value” lines of UTF-8 text."), name="bag-info.txt"),
        )
    payload_manifests = [(name, algorithm) for name, algorithm in _manifests(base, "manifest")]
    expected: dict[str, dict[str, str]] = {}
    algorithms: list[str] = []
    for name, algorithm in payload_manifests:
        if algorithm not in SUPPORTED_ALGORITHMS:
            check.problem("malformed", name, Msg(N_("Unknown checksum algorithm %(name)s."), name=algorithm))
            continue
        algorithms.append(algorithm)
        for file_path, digest in check.manifest(name, payload=True).items():
            expected.setdefault(file_path, {})[algorithm] = digest
    report.algorithms = tuple(algorithms)
    if not payload_manifests:
        check.problem("missing", "manifest-sha512.txt", Msg(N_("The bag has no %(name)s."), name="manifest-sha512.txt"))
    data = base / "data"
    if data.is_symlink() or not data.is_dir():
        check.problem("missing", "data/", Msg(N_("The bag has no %(name)s."), name="data/"))
    else:
        _check_payload(check, data, expected, algorithms)
    for file_path in sorted(expected):
        for algorithm in expected[file_path]:
            check.problem(
                "missing",
                file_path,
                Msg(N_("Listed in %(manifest)s, but missing."), manifest=f"manifest-{algorithm}.txt"),
            )
    _check_oxum(check)
    _check_tag_manifests(check, [name for name, _algorithm in payload_manifests])
    return report


def _check_declaration(check: _Checker) -> None:
    declaration = check.base / "bagit.txt"
    if not declaration.is_file():
        check.problem("missing", "bagit.txt", Msg(N_("The bag has no %(name)s."), name="bagit.txt"))
        return
    try:
        tags = _read_tags(declaration)
    except (OSError, UnicodeDecodeError, ValueError):
        check.problem(
            "malformed", "bagit.txt", Msg(N_("%(name)s is not “Label: value” lines of UTF-8 text."), name="bagit.txt")
        )
        return
    version = info_value(tags, "BagIt-Version")
    if version not in ("1.0", "0.97"):
        check.problem("malformed", "bagit.txt", Msg(N_("Unsupported BagIt-Version “%(version)s”."), version=version))
    encoding = info_value(tags, "Tag-File-Character-Encoding")
    if encoding.upper().replace("_", "-") not in ("UTF-8", "UTF8"):
        check.problem(
            "malformed", "bagit.txt", Msg(N_("Unsupported Tag-File-Character-Encoding “%(name)s”."), name=encoding)
        )


def _check_payload(check: _Checker, data: Path, expected: dict[str, dict[str, str]], algorithms: list[str]) -> None:
    """Hash every payload file once with every algorithm; remove what was seen from `expected`."""
    report = check.report
    for folder, dirs, names in os.walk(data):
        dirs.sort()
        for name in sorted(dirs):
            if (Path(folder) / name).is_symlink():
                relative = (Path(folder) / name).relative_to(check.base).as_posix()
                check.problem("unsafe", relative, Msg(N_("A symbolic link has no place in a bag.")))
        for name in sorted(names):
            full = Path(folder) / name
            relative = full.relative_to(check.base).as_posix()
            if full.is_symlink() or not full.is_file():
                check.problem(
                    "unsafe", relative, Msg(N_("Only regular files belong in a bag: this is a link or a device."))
                )
                expected.pop(relative, None)
                continue
            listed = expected.pop(relative, {})
            for algorithm in algorithms:
                if algorithm not in listed:
                    check.problem(
                        "unlisted",
                        relative,
                        Msg(N_("Not listed in %(manifest)s."), manifest=f"manifest-{algorithm}.txt"),
                    )
            digests, size = _hash_file(full, listed or ("sha256",))
            report.files += 1
            report.bytes += size
            for algorithm, digest in listed.items():
                if digests[algorithm] != digest:
                    check.problem(
                        "altered",
                        relative,
                        Msg(
                            N_("Its %(algorithm)s digest does not match %(manifest)s: it was changed or damaged."),
                            algorithm=algorithm.upper(),
                            manifest=f"manifest-{algorithm}.txt",
                        ),
                    )


def _check_oxum(check: _Checker) -> None:
    oxum = info_value(check.report.info, "Payload-Oxum")
    if not oxum:
        return
    found = f"{check.report.bytes}.{check.report.files}"
    if oxum != found:
        check.problem(
            "oxum",
            "bag-info.txt",
            Msg(
                N_("Payload-Oxum says %(expected)s but the payload holds %(found)s (bytes.files)."),
                expected=oxum,
                found=found,
            ),
        )


def _check_tag_manifests(check: _Checker, payload_manifests: list[str]) -> None:
    for name, algorithm in _manifests(check.base, "tagmanifest"):
        if algorithm not in SUPPORTED_ALGORITHMS:
            check.problem("malformed", name, Msg(N_("Unknown checksum algorithm %(name)s."), name=algorithm))
            continue
        entries = check.manifest(name, payload=False)
        for listed in payload_manifests:
            if listed not in entries:
                check.problem("unlisted", listed, Msg(N_("Not listed in %(manifest)s."), manifest=name))
        for tag_path, digest in sorted(entries.items()):
            if tag_path.startswith("tagmanifest-"):
                check.problem(
                    "malformed",
                    name,
                    Msg(N_("It lists %(path)s: a tag manifest never lists tag manifests."), path=tag_path),
                )
                continue
            full = check.base / tag_path
            if full.is_symlink() or not full.is_file():
                check.problem("missing", tag_path, Msg(N_("Listed in %(manifest)s, but missing."), manifest=name))
                continue
            digests, _size = _hash_file(full, (algorithm,))
            if digests[algorithm] != digest:
                check.problem(
                    "altered",
                    tag_path,
                    Msg(
                        N_("Its %(algorithm)s digest does not match %(manifest)s: it was changed or damaged."),
                        algorithm=algorithm.upper(),
                        manifest=name,
                    ),
                )


# --- one file for download and upload ----------------------------------------------------------------------------


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Leave out who owned the files and when: two packs of the same bag are the same bytes."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    info.mode = 0o755 if info.isdir() else 0o644
    return info


def pack_bag(bag_dir: Path | str, archive_path: Path | str) -> Path:
    """Write the bag at `bag_dir` into `archive_path`, an uncompressed tar holding one folder named after the bag.

    The tar is written beside its final name and renamed once complete; files are streamed, never held in memory.
    """
    bag = Path(bag_dir)
    target = Path(archive_path)
    partial = target.with_name(target.name + ".part")
    top = bag.name
    try:
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(bag, arcname=top, recursive=False, filter=_normalised)
            for folder, dirs, names in os.walk(bag):
                dirs.sort()
                for name in dirs + sorted(names):
                    full = Path(folder) / name
                    arcname = f"{top}/{full.relative_to(bag).as_posix()}"
                    tar.add(full, arcname=arcname, recursive=False, filter=_normalised)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def unpack_bag(
    archive_path: Path | str,
    target_dir: Path | str,
    *,
    max_member_bytes: int = MAX_MEMBER_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_members: int = MAX_MEMBERS,
) -> Path:
    """Unpack the tar at `archive_path` into `target_dir` (new, or an empty folder); return the bag's folder in it.

    Only folders and regular files are written, each inside `target_dir`; a member with an absolute path or `..`,
    a link, a device, a member larger than `max_member_bytes`, more than `max_total_bytes` in all or more than
    `max_members` members make the whole package refused (BagInvalid) and what was unpacked removed.
    """
    target = Path(target_dir)
    created = not target.exists()
    if not created and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} exists and is not an empty folder")
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    try:
        _unpack(Path(archive_path), root, max_member_bytes, max_total_bytes, max_members)
    except BaseException:
        if created:
            shutil.rmtree(target, ignore_errors=True)
        else:
            for child in target.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        raise
    if (root / "bagit.txt").is_file():
        return root
    entries = [child for child in root.iterdir()]
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / "bagit.txt").is_file():
        return entries[0]
    raise BagInvalid([Problem("missing", "bagit.txt", Msg(N_("The package holds no bag (no bagit.txt at its top).")))])


def _refuse(name: str, message: Msg) -> BagInvalid:
    return BagInvalid([Problem("unsafe", name, message)])


def _unpack(archive: Path, root: Path, max_member: int, max_total: int, max_members: int) -> None:
    try:
        tar = tarfile.open(archive, "r:")
    except (tarfile.TarError, OSError) as exc:
        raise BagInvalid(
            [Problem("malformed", archive.name, Msg(N_("This is not an uncompressed tar file.")))]
        ) from exc
    total = count = 0
    with tar:
        try:
            for member in tar:
                count += 1
                if count > max_members:
                    raise _refuse(member.name, Msg(N_("The package has more than %(count)s files."), count=max_members))
                name = member.name.rstrip("/") if member.isdir() else member.name
                if not _safe_member(name):
                    raise _refuse(member.name, Msg(N_("This path would write outside the folder it is unpacked in.")))
                if not (member.isreg() or member.isdir()):
                    raise _refuse(member.name, Msg(N_("Links and devices are refused: only files and folders.")))
                destination = root.joinpath(*[part for part in name.split("/") if part not in ("", ".")])
                if destination != root and root not in destination.parents:
                    raise _refuse(member.name, Msg(N_("This path would write outside the folder it is unpacked in.")))
                if member.isdir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                if member.size > max_member:
                    raise _refuse(member.name, Msg(N_("The file is larger than %(limit)s bytes."), limit=max_member))
                total += member.size
                if total > max_total:
                    raise _refuse(member.name, Msg(N_("The package is larger than %(limit)s bytes."), limit=max_total))
                _extract(tar, member, destination, root)
        except tarfile.TarError as exc:
            raise BagInvalid(
                [Problem("malformed", archive.name, Msg(N_("The tar file is damaged or cut short.")))]
            ) from exc


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, destination: Path, root: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    parent = destination.parent
    if parent.resolve() != parent or (parent != root and root not in parent.parents):
        raise _refuse(member.name, Msg(N_("This path would write outside the folder it is unpacked in.")))
    stream = tar.extractfile(member)
    if stream is None:
        raise _refuse(member.name, Msg(N_("Links and devices are refused: only files and folders.")))
    written = 0
    try:
        with open(destination, "xb") as out:  # "x": a name given twice is refused, never overwritten
            while chunk := stream.read(CHUNK_SIZE):
                written += len(chunk)
                if written > member.size:
                    raise _refuse(member.name, Msg(N_("The tar file is damaged or cut short.")))
                out.write(chunk)
    except FileExistsError as exc:
        raise _refuse(member.name, Msg(N_("The package holds this file twice."))) from exc
