"""A content-addressed file store: each object lives at `root/ab/cd/<sha256>`, read-only, written once.

An upload is streamed into a temporary file in `root` while it is hashed, flushed to disk, and then linked to its
final name. Linking fails when the name exists, so an object is never overwritten: a second upload of the same bytes
leaves the first one untouched and its temporary file is deleted. A failed upload (too large, empty, a broken
stream) leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from storage.errors import EmptyFile, FileMissing, FileTooLarge, InvalidDigest, StorageError

CHUNK_SIZE = 1024 * 1024
READ_ONLY = 0o444
TEMP_PREFIX = ".upload-"
_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredFile:
    """An object in the store: its SHA-256 (hex), its size in bytes and where it lives."""

    sha256: str
    size: int
    path: Path


class FileStore:
    """Keep file bytes under `root`, addressed by their SHA-256.

    `max_bytes` (None for no limit) bounds what `put` accepts; the check happens while streaming, so an oversized
    upload is never written out in full.
    """

    def __init__(self, root: Path | str, *, max_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def put(self, source: BinaryIO | Path | str, check: Callable[[Path], None] | None = None) -> StoredFile:
        """Store the bytes of `source` (a binary stream, or a path to read) and return the stored object.

        `check`, when given, is called with the path of the complete temporary file before it is stored: whatever
        it raises aborts the upload, and nothing is kept. Raise `EmptyFile` for no bytes, `FileTooLarge` past
        `max_bytes`, `StorageError` when reading or writing fails.
        """
        if isinstance(source, str | os.PathLike):
            try:
                with open(source, "rb") as stream:
                    return self._put_stream(stream, check)
            except OSError as e:
                raise StorageError(f"cannot read {source}: {e.strerror or e}") from e
        return self._put_stream(source, check)

    def open(self, sha256: str) -> BinaryIO:
        """Open the stored object `sha256` for reading; raise `FileMissing` when there is none."""
        path = self.path(sha256)
        try:
            return open(path, "rb")
        except FileNotFoundError as e:
            raise FileMissing(f"no stored file {sha256}") from e
        except OSError as e:
            raise StorageError(f"cannot open stored file {sha256}: {e.strerror or e}") from e

    def path(self, sha256: str) -> Path:
        """Return where the object `sha256` lives (or would live); the file may not exist."""
        if not isinstance(sha256, str) or not _DIGEST.fullmatch(sha256):
            raise InvalidDigest(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        """Return whether the object `sha256` is stored."""
        return self.path(sha256).is_file()

    def verify(self, sha256: str) -> bool:
        """Re-hash the stored object `sha256` and return whether its bytes still match its name."""
        with self.open(sha256) as stream:
            digest = hashlib.sha256()
            while chunk := stream.read(CHUNK_SIZE):
                digest.update(chunk)
        return digest.hexdigest() == sha256

    def _put_stream(self, stream: BinaryIO, check: Callable[[Path], None] | None) -> StoredFile:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX, suffix=".part")
        except OSError as e:
            raise StorageError(f"cannot write to the file store at {self.root}: {e.strerror or e}") from e
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                sha256, size = self._copy_hashing(stream, out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, READ_ONLY)
            if check is not None:
                check(temp)
            final = self.path(sha256)
            final.parent.mkdir(parents=True, exist_ok=True)
            self._link_once(temp, final)
            _fsync_directory(final.parent)
        except OSError as e:
            raise StorageError(f"cannot store the file: {e.strerror or e}") from e
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        return StoredFile(sha256=sha256, size=size, path=final)

    def _copy_hashing(self, stream: BinaryIO, out: BinaryIO) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        while True:
            try:
                chunk = stream.read(CHUNK_SIZE)
            except OSError as e:
                raise StorageError(f"the upload could not be read: {e}") from e
            if not chunk:
                break
            size += len(chunk)
            if self.max_bytes is not None and size > self.max_bytes:
                raise FileTooLarge(self.max_bytes)
            digest.update(chunk)
            out.write(chunk)
        if size == 0:
            raise EmptyFile()
        return digest.hexdigest(), size

    @staticmethod
    def _link_once(temp: Path, final: Path) -> None:
        """Give `temp` the name `final` unless `final` exists; an existing object is kept as it is."""
        try:
            os.link(temp, final)
        except FileExistsError:
            return
        except OSError:
            # Some file systems have no hard links: fall back to a rename, checking first (a narrow race that can
            # only put identical bytes under the same name).
            if not final.exists():
                os.rename(temp, final)


def _fsync_directory(directory: Path) -> None:
    """Flush a directory entry to disk, so a stored name survives a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
