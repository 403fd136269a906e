"""Take docs/screenshot.png, the README's picture: the demo office's users, as its administrator sees them.

Run by hand from the repository root after a change to the look of the pages:

    .venv/bin/python -m scripts.readme_screenshot

It builds a throw-away SQLite database with the demo office in a temporary folder and drives Debian's Chromium
(see tests/browser_support.py); nothing of the real instance is touched.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import expect, sync_playwright

from app import ROOT, create_app
from docstore import accounts, audit, demo
from docstore.extensions import db
from tests.browser_support import VIEWPORT, launch_chromium, serve, sign_in

SCREENSHOT = ROOT / "docs" / "screenshot.png"
MAX_BYTES = 300_000  # keeps the repository light


def take_screenshot(target: Path = SCREENSHOT) -> int:
    """Write the screenshot to `target` and return its size in bytes."""
    admin_password = secrets.token_urlsafe(12)
    with tempfile.TemporaryDirectory() as folder:
        settings = {
            "DATABASE_URL": f"sqlite:///{Path(folder) / 'docstore.sqlite3'}",
            "SECRET_KEY": secrets.token_hex(16),
            "SECURE_COOKIES": False,
        }
        app = create_app(settings, instance_path=str(Path(folder) / "instance"))
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            demo.load_demo(secrets.token_urlsafe(12), app.config["PASSWORD_MIN_LENGTH"])
            accounts.create_user(
                audit.SYSTEM,
                username="admin",
                full_name="Administrator",
                password=admin_password,
                password_min_length=app.config["PASSWORD_MIN_LENGTH"],
                roles=["admin"],
                clearance=3,
                locale="en",
            )
            db.session.remove()
            with serve(app) as url, sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_context(base_url=url, locale="en-US", viewport=VIEWPORT).new_page()
                sign_in(page, "admin", admin_password)
                page.goto("/admin/users")
                expect(page.get_by_role("heading", level=1)).to_have_text("Users")
                target.parent.mkdir(exist_ok=True)
                page.screenshot(path=target)
                browser.close()
            db.engine.dispose()
    return target.stat().st_size


if __name__ == "__main__":
    size = take_screenshot()
    print(f"{SCREENSHOT}: {size:,} bytes")
    if size > MAX_BYTES:
        sys.exit(f"the screenshot is larger than {MAX_BYTES:,} bytes")
