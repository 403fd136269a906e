"""File bytes for Docstore: a content-addressed store, type sniffing from content, and safe text extraction.

This package imports neither Flask nor `docstore`:

- `FileStore(root, max_bytes=...)` keeps uploads under their SHA-256, written once and read-only.
- `sniff(path)` tells what a file is from its bytes; `safe_filename(name)` makes a user's file name safe to keep.
- `extract_text(path, kind)` reads the text in a separate, time- and memory-limited process.
"""

from storage.errors import (
    BadFilename,
    EmptyFile,
    ExtractionError,
    FileMissing,
    FileTooLarge,
    InvalidDigest,
    StorageError,
)
from storage.extraction import DONE, ENCRYPTED, FAILED, NO_TEXT, STATES, UNSUPPORTED, Extraction, extract_text
from storage.filenames import safe_filename
from storage.filestore import FileStore, StoredFile
from storage.filetypes import KINDS, FileKind, sniff

__all__ = [
    "DONE",
    "ENCRYPTED",
    "FAILED",
    "KINDS",
    "NO_TEXT",
    "STATES",
    "UNSUPPORTED",
    "BadFilename",
    "EmptyFile",
    "Extraction",
    "ExtractionError",
    "FileKind",
    "FileMissing",
    "FileStore",
    "FileTooLarge",
    "InvalidDigest",
    "StorageError",
    "StoredFile",
    "extract_text",
    "safe_filename",
    "sniff",
]
