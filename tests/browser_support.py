"""Real-browser support: Debian's Chromium driven by Playwright, and the app served on a free local port.

Used by tests/test_browser.py and by scripts/readme_screenshot.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, Response, expect
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

#: Debian's Chromium (`apt-get install chromium`): `playwright install` cannot download browsers here.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests may run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}


def launch_chromium(playwright: Playwright) -> Browser:
    """Start a headless Debian Chromium."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1 from a background thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval: shutting down waits for the serving loop to look up, 0.5 s by default.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def sign_in(page: Page, username: str, password: str) -> None:
    """Sign in through the English sign-in page, as a person would."""
    page.goto("/sign-in")
    form = page.get_by_role("main")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password", exact=True).fill(password)
    form.get_by_role("button", name="Sign in").click()


class ConsoleWatch:
    """Collect the console errors (Content-Security-Policy violations among them) and uncaught exceptions of a
    browser context.

    When the server answers a page itself with an error status (a 403 page, a refused sign-in), Chromium logs
    "Failed to load resource" for it. The test that asks for such a page checks its status, so those messages are
    left out; a stylesheet, script or image that fails to load still counts.
    """

    def __init__(self, context: BrowserContext):
        self._messages: list[tuple[str, str]] = []  # (text, URL it is about)
        self._failed_pages: set[str] = set()
        context.on("console", self._on_console)
        context.on("weberror", lambda error: self._messages.append((f"uncaught: {error.error}", "")))
        context.on("response", self._on_response)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self._messages.append((message.text, message.location.get("url", "")))

    def _on_response(self, response: Response) -> None:
        if response.status >= 400 and response.request.is_navigation_request():
            self._failed_pages.add(response.url)

    def errors(self) -> list[str]:
        """Return the errors seen so far, with the URL each is about."""
        return [
            f"{text} ({url})"
            for text, url in self._messages
            if not (text.startswith("Failed to load resource") and url in self._failed_pages)
        ]

    def take(self) -> list[str]:
        """Return the errors seen so far and forget them (for a test that expects some)."""
        found = self.errors()
        self._messages.clear()
        return found


@pytest.fixture
def desk(browser, live_server):
    """Return `sit(username)`: a browser of that person's own, signed in. No page may log a console error."""
    opened: list[tuple[str, object, ConsoleWatch]] = []

    def sit(username: str) -> Page:
        context = browser.new_context(base_url=live_server, locale="en-US", viewport=VIEWPORT, accept_downloads=True)
        context.set_default_timeout(10_000)
        opened.append((username, context, ConsoleWatch(context)))
        page = context.new_page()
        sign_in(page, username, PASSWORD)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
        return page

    yield sit
    errors = {username: watch.errors() for username, _context, watch in opened if watch.errors()}
    for _username, context, _watch in opened:
        context.close()
    assert errors == {}, "the pages logged errors"
