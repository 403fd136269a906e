"""The app served by gunicorn on a free local port, and a form-posting client built from the standard library alone.

Used by tests/test_numbering_concurrency.py and by the benchmarks in bench/.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The gunicorn of the virtual environment running this code.
GUNICORN = Path(sys.executable).parent / "gunicorn"
LISTENING = re.compile(rb"Listening at: http://127\.0\.0\.1:(\d+)")
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], workers: int, log_path: Path, timeout: float = 30) -> Iterator[int]:
    """Serve `app_spec` (e.g. ``app:create_app(instance_path='...')``) with `workers` sync workers; yield the port.

    The port is chosen by the system (bind to port 0) and read from gunicorn's log, so two servers never race for
    one. The server is always stopped on the way out, and killed if it does not stop within 15 seconds.
    """
    command = [
        str(GUNICORN),
        "--workers",
        str(workers),
        "--bind",
        "127.0.0.1:0",
        "--no-control-socket",  # the default socket is one path per user, shared by every gunicorn on the machine
        "--chdir",
        str(ROOT),
        app_spec,
    ]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield _wait_for_port(server, log_path, timeout)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_for_port(server: subprocess.Popen, log_path: Path, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = LISTENING.search(log_path.read_bytes())
        if found:
            return int(found.group(1))
        if server.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"gunicorn did not start listening:\n{log_path.read_text(errors='replace')}")


def multipart(fields: dict[str, str], files: Sequence[tuple[str, str, bytes]] = ()) -> tuple[bytes, str]:
    """Return the body and content type of a multipart form with `fields` and (field, filename, bytes) `files`."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class FormClient:
    """A browser reduced to what posting forms needs: one connection to the server, its cookies, no redirects."""

    def __init__(self, port: int, timeout: float = 60):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.cookies: SimpleCookie = SimpleCookie()

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, str, str]:
        """Send one request; return the status, the Location header and the body as text."""
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={morsel.value}" for name, morsel in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", errors="replace")
        for value in response.headers.get_all("Set-Cookie") or []:
            self.cookies.load(value)
        return response.status, response.headers.get("Location", ""), text

    def csrf_token(self, path: str) -> str:
        """Return the CSRF token of the form on the page at `path`."""
        status, _location, text = self.request("GET", path)
        found = CSRF_INPUT.search(text)
        if status != 200 or not found:
            raise RuntimeError(f"no form with a CSRF token at {path} (status {status})")
        return found.group(1)

    def post_form(
        self, path: str, fields: dict[str, str], files: Sequence[tuple[str, str, bytes]] = ()
    ) -> tuple[int, str, str]:
        """Post `fields` and `files` as multipart/form-data, as a browser's form does."""
        body, content_type = multipart(fields, files)
        return self.request("POST", path, body, content_type)

    def sign_in(self, username: str, password: str) -> None:
        """Sign in through the sign-in form; raise RuntimeError when it is refused."""
        token = self.csrf_token("/sign-in")
        status, _location, _text = self.post_form(
            "/sign-in", {"csrf_token": token, "username": username, "password": password}
        )
        if status != 302:
            raise RuntimeError(f"sign-in as {username} refused with status {status}")

    def close(self) -> None:
        self.connection.close()
