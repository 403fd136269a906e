"""Turn a Word file into PDF with LibreOffice in headless mode, when it is installed.

Each conversion runs in a fresh temporary folder with its own LibreOffice profile, so that two conversions at once
(two web workers, two tests) never share a profile lock; a conversion that runs past `timeout` is killed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from docstore.errors import N_, Msg, PdfUnavailable

CANDIDATES = ("soffice", "libreoffice")
#: LibreOffice takes a core and a few hundred MB per conversion: one at a time per process, the others wait.
_ONE_AT_A_TIME = threading.Semaphore(1)
#: How long a conversion waits for the one before it.
QUEUE_SECONDS = 60


def office_binary() -> str | None:
    """Return the path of LibreOffice's `soffice`, or None when it is not installed."""
    for name in CANDIDATES:
        if found := shutil.which(name):
            return found
    return None


def convert_to_pdf(docx: bytes, timeout: float = 120) -> bytes:
    """Return `docx` converted to PDF; raise PdfUnavailable when LibreOffice is missing or fails."""
    binary = office_binary()
    if binary is None:
        raise PdfUnavailable(
            Msg(N_("PDF export needs LibreOffice (Debian package libreoffice-writer), which is not installed here."))
        )
    if not _ONE_AT_A_TIME.acquire(timeout=QUEUE_SECONDS):
        raise PdfUnavailable(Msg(N_("LibreOffice is busy with other conversions: try again in a minute.")))
    try:
        return _convert(binary, docx, timeout)
    finally:
        _ONE_AT_A_TIME.release()


def _convert(binary: str, docx: bytes, timeout: float) -> bytes:
    with tempfile.TemporaryDirectory(prefix="docstore-pdf-") as folder:
        work = Path(folder)
        source = work / "directive.docx"
        source.write_bytes(docx)
        command = [
            binary,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work),
            str(source),
        ]
        env = {**os.environ, "HOME": str(work)}
        try:
            # the command is our own: the binary found on PATH and a file name we chose
            result = subprocess.run(command, capture_output=True, timeout=timeout, env=env, check=False)  # noqa: S603
        except subprocess.TimeoutExpired as exc:
            raise PdfUnavailable(Msg(N_("LibreOffice took too long to convert the file."))) from exc
        target = work / "directive.pdf"
        if result.returncode != 0 or not target.is_file():
            detail = (result.stderr or result.stdout).decode("utf-8", "replace").strip()[-300:]
            raise PdfUnavailable(Msg(N_("LibreOffice could not convert the file: %(detail)s"), detail=detail))
        return target.read_bytes()
