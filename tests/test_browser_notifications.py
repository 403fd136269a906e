"""The bell and the notifications page in a real browser (Chromium), with real CSRF and the app's CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

import tests.test_browser as harness
from docstore import database, notifications
from docstore.extensions import db
from tests.browser_support import sign_in
from tests.conftest import PASSWORD
from tests.test_browser import choose_language, stored

pytestmark = pytest.mark.browser

# The fixtures of tests/test_browser.py (assigned, not imported by name: see tests/test_browser_registers.py).
browser = harness.browser
live_server = harness.live_server
context = harness.context
console = harness.console
page = harness.page
add_user = harness.add_user
settings = harness.settings


def tell(user_id: int, *texts: str) -> None:
    """Notify the user of each text, one notification each (seeded in the test's thread)."""

    def seed():
        with database.writing():
            for text in texts:
                notifications.notify([user_id], "message", text=text)
            db.session.commit()

    stored(seed)


def test_the_bell_leads_to_the_notifications_which_are_marked_as_read(page, add_user, artifacts_dir):
    juan = add_user("juan", "staff", full_name="Juan Pérez")
    tell(juan, "Reunión del comité a las 10", "Informe pendiente", "Nuevo procedimiento")
    sign_in(page, "juan", PASSWORD)
    bell = page.get_by_role("link", name="3 unread notifications")
    expect(bell).to_be_visible()
    bell.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    items = page.locator("ol.notifications > li")
    expect(items).to_have_count(3)
    expect(items.first).to_contain_text("Nuevo procedimiento")  # newest first
    page.screenshot(path=str(artifacts_dir / "notifications.png"), full_page=True)
    page.get_by_role("button", name=re.compile(r"^Mark as read\W+Informe pendiente$")).click()
    expect(page.get_by_role("link", name="2 unread notifications")).to_be_visible()
    expect(page.locator("li.unread")).to_have_count(2)
    page.get_by_role("link", name="Unread", exact=True).click()
    expect(items).to_have_count(2)
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_text("You have no unread notifications.")).to_be_visible()
    expect(page.get_by_role("link", name="Notifications, none unread")).to_be_visible()
    choose_language(page, "zh_Hans")
    expect(page.get_by_role("heading", name="通知")).to_be_visible()
