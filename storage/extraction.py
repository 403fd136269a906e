"""Extract the text of a stored file in a separate, limited process that cannot hang or kill the caller.

`extract_text` starts `python -m storage.extract_worker`, which counts the pages first and reports them; the time
budget then grows with the page count (a 300-page manual may take minutes, a hostile one-page file gets only
`min_seconds`). The child caps its own address space and CPU time; the parent kills it when the budget runs out.
Whatever happens in the child (an exception, a crash, running out of memory) comes back as an `Extraction`.
"""

from __future__ import annotations

import contextlib
import json
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from storage.errors import ExtractionError, FileMissing

DONE = "done"
NO_TEXT = "no_text"
ENCRYPTED = "encrypted"
UNSUPPORTED = "unsupported"
FAILED = "failed"
STATES = (DONE, NO_TEXT, ENCRYPTED, UNSUPPORTED, FAILED)

SECONDS_PER_PAGE = 0.5
MIN_SECONDS = 10.0
MAX_SECONDS = 300.0
MEMORY_MB = 1024
EXIT_GRACE_SECONDS = 5.0  # how long a child that has sent its result may take to exit before it is killed

# Kinds (from `storage.sniff`) read by the worker.
PARSED_KINDS = frozenset({"pdf", "docx", "odt", "text", "zip"})
IMAGE_KINDS = frozenset({"png", "jpeg", "tiff", "gif"})
UNSUPPORTED_REASONS = {
    "docx-strict": "the Word file uses the ISO Strict variant of Office Open XML, which cannot be read; "
    "save it from Word as an ordinary Word document (.docx)",
    "docm": "the file is a macro-enabled Word document (.docm), which is not read; "
    "save it as an ordinary Word document (.docx)",
    "dotx": "the file is a Word template (.dotx), not a document; create a document from it and upload that",
    "dotm": "the file is a macro-enabled Word template (.dotm), not a document",
    "doc": "the file is an old-format Word document (.doc, Word 97-2003), which is not read; save it as .docx or PDF",
    "xlsx": "the file is a spreadsheet (.xlsx); its text is not read",
    "xls": "the file is an old-format spreadsheet (.xls); its text is not read",
    "pptx": "the file is a presentation (.pptx); its text is not read",
    "ppt": "the file is an old-format presentation (.ppt); its text is not read",
    "ooxml": "the file is an Office Open XML package whose main part is not a Word document",
    "ole2": "the file is an OLE2 compound file (an old Office format) that is not a Word document",
    "unknown": "the file type is not recognised",
}
ENCRYPTED_REASONS = {
    "ooxml-encrypted": "the Office file is protected by a password (an encrypted package); "
    "remove the password and upload it again",
}
IMAGE_REASON = "images are kept as they are; their text is not read (no OCR)"


@dataclass(frozen=True)
class Extraction:
    """The outcome of reading a file's text.

    `state` is one of `STATES`; `reason` explains any state but "done" (and, for "done", pages that could not be
    read). `pages` is the page count when the format has one (PDF; DOCX and ODT as their metadata records it).
    PDF pages are separated by form feeds ("\\f") in `text`.
    """

    state: str
    text: str = ""
    pages: int | None = None
    reason: str = ""


def extract_text(
    path: Path | str,
    kind: str,
    *,
    seconds_per_page: float = SECONDS_PER_PAGE,
    min_seconds: float = MIN_SECONDS,
    max_seconds: float = MAX_SECONDS,
    memory_mb: int = MEMORY_MB,
) -> Extraction:
    """Read the text of the file at `path`, whose `kind` is what `storage.sniff` said of it.

    The parser runs in a child process limited to `memory_mb` of address space and to
    min(`min_seconds` + `seconds_per_page` x pages, `max_seconds`) of wall time. Raise `FileMissing` when there is
    no file at `path` and `ExtractionError` when no child process can be started; every problem of the file itself
    is reported in the returned `Extraction`.
    """
    path = Path(path).resolve()
    try:
        size = path.stat().st_size
    except FileNotFoundError as e:
        raise FileMissing(f"no file at {path}") from e
    if size == 0:
        return Extraction(FAILED, reason="the file is empty")
    if kind in IMAGE_KINDS:
        return Extraction(NO_TEXT, reason=IMAGE_REASON)
    if kind in ENCRYPTED_REASONS:
        return Extraction(ENCRYPTED, reason=ENCRYPTED_REASONS[kind])
    if kind not in PARSED_KINDS:
        return Extraction(UNSUPPORTED, reason=UNSUPPORTED_REASONS.get(kind, f"files of kind {kind!r} are not read"))
    limits = _Limits(seconds_per_page, min_seconds, max_seconds, memory_mb)
    return _run_worker(path, kind, limits)


@dataclass(frozen=True)
class _Limits:
    seconds_per_page: float
    min_seconds: float
    max_seconds: float
    memory_mb: int

    def budget(self, units: int) -> float:
        """Return the seconds allowed for a document of `units` pages (or page-like units of work)."""
        return min(self.min_seconds + self.seconds_per_page * max(units, 0), self.max_seconds)


def _run_worker(path: Path, kind: str, limits: _Limits) -> Extraction:
    request = {
        "path": str(path),
        "kind": kind,
        "memory_mb": limits.memory_mb,
        # A backstop for a child whose parent is gone: the parent's own deadline normally comes first.
        "cpu_seconds": int(limits.max_seconds) + 10,
    }
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter running our own module
                [sys.executable, "-m", "storage.extract_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                cwd=Path(__file__).resolve().parent.parent,
            )
        except OSError as e:
            raise ExtractionError(f"cannot start the extraction process: {e}") from e
        messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        reader = threading.Thread(target=_read_messages, args=(process.stdout, messages), daemon=True)
        reader.start()
        try:
            return _follow(process, request, messages, limits, errors)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            reader.join()  # the pipe is at its end once the child is gone
            process.stdout.close()


def _follow(
    process: subprocess.Popen,
    request: dict[str, Any],
    messages: queue.Queue[dict[str, Any] | None],
    limits: _Limits,
    errors: IO[bytes],
) -> Extraction:
    """Send the request, then follow the child's messages until it answers, dies, or runs out of time."""
    try:
        process.stdin.write(json.dumps(request).encode())
        process.stdin.close()
    except BrokenPipeError:
        # The child died at once; its exit status says why, below.
        with contextlib.suppress(OSError):
            process.stdin.close()
    started = time.monotonic()
    budget, pages = limits.budget(0), None
    while True:
        try:
            message = messages.get(timeout=max(started + budget - time.monotonic(), 0))
        except queue.Empty:
            process.kill()
            return Extraction(FAILED, pages=pages, reason=_describe_timeout(budget, pages))
        if message is None:
            returncode = process.wait()
            return Extraction(FAILED, pages=pages, reason=_describe_exit(returncode, errors, limits))
        if message.get("event") == "pages":
            pages = message.get("pages")
            budget = limits.budget(int(message.get("units") or 1))
        elif message.get("event") == "result" and message.get("state") in STATES:
            try:
                process.wait(timeout=EXIT_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
            return Extraction(
                state=message["state"],
                text=message.get("text") or "",
                pages=message.get("pages", pages),
                reason=message.get("reason") or "",
            )


def _read_messages(stream: IO[bytes], messages: queue.Queue) -> None:
    """Pass each JSON line the child writes on to `messages`; None marks the end of its output."""
    try:
        for line in stream:
            try:
                message = json.loads(line)
            except ValueError:
                continue  # not ours: the worker keeps stdout for messages, but a library may still write to it
            if isinstance(message, dict):
                messages.put(message)
    except (OSError, ValueError):
        pass  # the pipe closed under us: the end of the output, as below
    messages.put(None)


def _describe_timeout(budget: float, pages: int | None) -> str:
    seconds = f"{budget:.0f}" if budget >= 10 else f"{budget:.1f}"
    if pages:
        return f"took longer than {seconds} s (the limit for {pages} page{'s' if pages != 1 else ''})"
    return f"took longer than {seconds} s"


def _describe_exit(returncode: int, errors: IO[bytes], limits: _Limits) -> str:
    """Explain why a child ended without a result, from its exit status and the end of its error output."""
    errors.seek(0, 2)
    errors.seek(max(errors.tell() - 4096, 0))
    tail = errors.read().decode(errors="replace").strip()
    if "MemoryError" in tail:
        return f"needs more than {limits.memory_mb} MB of memory"
    if returncode < 0:
        signal_number = -returncode
        if signal_number == signal.SIGXCPU:
            return f"took more than {int(limits.max_seconds) + 10} s of processor time"
        if signal_number == signal.SIGKILL:
            return "the reading process was killed by the system (probably out of memory)"
        try:
            name = signal.Signals(signal_number).name
        except ValueError:
            name = f"signal {signal_number}"
        return f"the parser crashed ({name})"
    last_line = tail.splitlines()[-1] if tail else "no error output"
    return f"the reading process stopped unexpectedly (exit status {returncode}: {last_line[:200]})"
