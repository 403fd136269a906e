"""The working-day calendar page in a real browser (Chromium): the deadline calculator's layout."""

from __future__ import annotations

import pytest

import tests.test_browser as harness
from tests.browser_support import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# The fixtures of tests/test_browser.py (assigned, not imported by name: see tests/test_browser_registers.py).
browser = harness.browser
live_server = harness.live_server
context = harness.context
console = harness.console
page = harness.page
add_user = harness.add_user
settings = harness.settings

FIELDS = ("#calc-from", "#calc-days", "#calc-urgency", "#calculator ~ form button[type=submit]")


def _tops(page, selectors) -> list[float]:
    return [round(page.locator(selector).bounding_box()["y"]) for selector in selectors]


@pytest.mark.parametrize("locale", ["en", "es", "zh_Hans"])
@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("from=2026-10-09&days=3&urgency=urgent", ["#calc-urgency-error"]),  # both given: the urgency is marked
        ("from=2026-02-30&days=x", ["#calc-from-error", "#calc-days-error"]),
    ],
)
def test_the_calculator_keeps_its_fields_and_errors_in_line(page, add_user, artifacts_dir, locale, query, errors):
    add_user("admin", "admin", locale=locale)
    sign_in(page, "admin", PASSWORD)
    page.goto(f"/admin/calendar?{query}#calculator")
    for selector in errors:
        assert page.locator(selector).is_visible()
    assert len(set(_tops(page, FIELDS))) == 1, "an error pushed a field out of line"
    assert len(set(_tops(page, errors))) == 1
    page.locator("#calculator").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / f"calculator-{locale}-{len(errors)}.png"))
