"""The extraction child process: `python -m storage.extract_worker`, started by `storage.extract_text`.

It reads one JSON request from stdin ({"path", "kind", "memory_mb", "cpu_seconds"}), caps its own address space
and CPU time, and writes JSON lines to stdout: {"event": "pages", ...} once the size of the document is known, then
{"event": "result", ...}. Every exception becomes a result; nothing a parser prints can corrupt the messages,
because stdout is moved aside before any parser runs.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
import warnings
from pathlib import Path
from typing import IO, Any

from storage import parsers
from storage.extraction import FAILED

MEGABYTE = 1024 * 1024


def main() -> int:
    """Serve one extraction request from stdin; return the exit status."""
    request = json.loads(sys.stdin.buffer.read())
    channel = _take_stdout()
    warnings.simplefilter("ignore")  # pypdf warns about every oddity of a damaged file; the result says enough
    logging.disable(logging.CRITICAL)
    kind = request["kind"]
    memory_mb = int(request["memory_mb"])
    parsers.preload(kind)
    _limit_resources(memory_mb, int(request["cpu_seconds"]))

    def report_pages(pages: int | None, units: int) -> None:
        _send(channel, {"event": "pages", "pages": pages, "units": units})

    result: dict[str, Any]
    try:
        extraction = parsers.read_file(Path(request["path"]), kind, report_pages)
    except MemoryError:
        extraction = None
        result = {"state": FAILED, "reason": f"needs more than {memory_mb} MB of memory"}
    except Exception as e:  # every failure of a parser is an answer about the file, never a crash
        extraction = None
        state, reason = parsers.describe_error(kind, e)
        result = {"state": state, "reason": reason}
    if extraction is not None:
        result = {
            "state": extraction.state,
            "text": extraction.text,
            "pages": extraction.pages,
            "reason": extraction.reason,
        }
    _send(channel, {"event": "result", **result})
    return 0


def _take_stdout() -> IO[str]:
    """Keep the real stdout for messages and point file descriptor 1 (and `sys.stdout`) at stderr."""
    channel = os.fdopen(os.dup(1), "w", encoding="ascii")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def _limit_resources(memory_mb: int, cpu_seconds: int) -> None:
    """Cap this process's address space and CPU time (the CPU cap outlives a parent that has gone away)."""
    memory = memory_mb * MEGABYTE
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


def _send(channel: IO[str], message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")  # ASCII-escaped: any text, even a lone surrogate, survives the pipe
    channel.flush()


if __name__ == "__main__":
    sys.exit(main())
