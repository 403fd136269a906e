"""The named errors of the storage package; each is a `StorageError`."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error the storage package raises."""


class FileTooLarge(StorageError):
    """The upload is bigger than the store accepts."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the file is larger than the limit of {max_bytes:,} bytes")
        self.max_bytes = max_bytes


class EmptyFile(StorageError):
    """The upload has no bytes."""

    def __init__(self) -> None:
        super().__init__("the file is empty")


class InvalidDigest(StorageError):
    """A string given as a SHA-256 digest is not 64 lowercase hexadecimal characters."""


class FileMissing(StorageError):
    """No stored object (or no file at the given path) exists."""


class BadFilename(StorageError):
    """A file name cannot be used as it is (path separators, control characters, nothing left)."""


class ExtractionError(StorageError):
    """The extraction process could not be started at all (not a problem of the file itself)."""
