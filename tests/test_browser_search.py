"""Full-text search in a real browser, as a clerk uses it: the header's search box, documents in Spanish, English
and Chinese, highlighted hits, a facet filter that applies itself, and a hit followed to its document.

The harness is the one of tests/test_browser.py; the index is brought up to date with the `index_now` fixture, as
the background writer (off in tests) would do it a moment after each registration.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from playwright.sync_api import expect

import tests.test_browser as harness
from docstore import audit, clock, correspondents, extraction, organisation, registry
from tests.test_browser import choose_language, stored
from tests.test_browser_registers import sign_in_as

pytestmark = pytest.mark.browser

#: The text file attached to the Chinese notice.
NOTICE_TEXT = "请各部门于月底前报送年度预算执行情况。"

# The fixtures of tests/test_browser.py (see tests/test_browser_registers.py for why they are assigned).
browser = harness.browser
live_server = harness.live_server
context = harness.context
console = harness.console
page = harness.page
add_user = harness.add_user
settings = harness.settings


@pytest.fixture
def registered(app, add_user, index_now):
    """Register documents in three languages for the general office, with a text file for one, and index them;
    return their numbers by a short name."""

    def seed():
        general = organisation.create_department(audit.SYSTEM, code="BGS", name="General Office", kind="office")
        ministry = correspondents.create_correspondent(audit.SYSTEM, name="Ministerio de Hacienda", code="E05")
        province = correspondents.create_correspondent(audit.SYSTEM, name="省人民政府办公厅", code="P01")
        return general.id, ministry.id, province.id

    general, ministry, province = stored(seed)
    clerk = add_user("lucia", "clerk", full_name="Lucía Fernández", department_id=general)
    documents = {
        "solicitud": ("Solicitud de presupuesto para la gestión documental", ministry, "urgent", None),
        "formacion": ("Presupuesto del plan de formación", ministry, "normal", None),
        "report": ("Annual budget report of the archive", ministry, "normal", None),
        "notice": ("关于报送年度预算的通知", province, "normal", ("通知.txt", NOTICE_TEXT)),
    }

    def work():
        series = registry.list_series("incoming")[0].id
        store = extraction.file_store(app.config)
        policy = registry.UploadPolicy(frozenset({"text"}), 1 << 20, "UTC")
        numbers = {}
        for key, (title, sender, urgency, attached) in documents.items():
            data = registry.Registration(
                series_id=series,
                title=title,
                received_at=clock.now() - timedelta(hours=1),
                channel="paper",
                correspondent_id=sender,
                department_id=general,
                urgency=urgency,
            )
            files = [registry.Upload(attached[0], io.BytesIO(attached[1].encode()))] if attached else []
            document = registry.register_document(audit.Context(clerk), "incoming", data, files, policy, store)
            numbers[key] = document.number
        extraction.drain(store, extraction.Limits(min_seconds=10, max_seconds=30))
        index_now()
        return numbers

    return stored(work)


def shoot(page, artifacts_dir, name: str) -> None:
    """Save a screenshot of the whole page to test-artifacts/search-<name>.png."""
    screenshot = artifacts_dir / f"search-{name}.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 0, screenshot


def test_a_clerk_searches_in_three_languages_narrows_with_a_facet_and_opens_a_hit(page, registered, artifacts_dir):
    sign_in_as(page, "lucia")
    main = page.get_by_role("main")
    box = page.get_by_role("banner").get_by_role("search").get_by_label("Search the documents")
    hits = main.locator("ol.hits > li")
    found = main.get_by_role("heading", level=2, name="found")

    # English, from the header's box: the word is marked in the title.
    box.fill("budget")
    box.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    expect(page.get_by_role("banner").get_by_role("link", name="Search", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(found).to_have_text("1 document found")
    expect(hits.locator("h3 mark")).to_have_text(["budget"])

    # Spanish, from the header's box of another page: every form of the word, then one urgency only.
    page.goto("/documents/")
    box.fill("presupuestos")
    box.press("Enter")
    expect(found).to_have_text("2 documents found")
    expect(hits).to_have_count(2)
    expect(hits.locator("h3 mark")).to_have_text(["presupuesto", "presupuesto"], ignore_case=True)
    urgency = main.get_by_role("group", name="Urgency")
    expect(urgency.get_by_role("checkbox", name="Urgent 1")).not_to_be_checked()
    expect(urgency.get_by_role("checkbox", name="Normal 1")).not_to_be_checked()
    shoot(page, artifacts_dir, "results")
    urgency.get_by_role("checkbox", name="Urgent 1").check()  # applies itself: no button to press
    expect(found).to_have_text("1 document found")
    expect(hits.locator(".doc-number")).to_have_text([registered["solicitud"]])
    expect(urgency.get_by_role("checkbox", name="Urgent 1")).to_be_checked()
    expect(urgency.get_by_role("checkbox", name="Urgent 1")).to_be_focused()  # the keyboard goes on from there
    expect(main.get_by_label("Words, phrases or numbers")).to_have_value("presupuestos")
    main.get_by_role("link", name="Clear the filters").click()
    expect(found).to_have_text("2 documents found")

    # Chinese, with the pages in Chinese: the words are found in the title and in the attached file.
    choose_language(page, "zh_Hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.goto("/documents/")  # the search page has a box of its own instead of the header's
    zh_box = page.get_by_role("banner").get_by_label("搜索公文")
    zh_box.fill("年度预算")
    zh_box.press("Enter")
    expect(main.get_by_role("heading", level=2, name="找到")).to_have_text("找到 1 份公文")
    expect(hits.locator("h3 mark")).to_have_text(["年度预算"])
    expect(hits.locator(".snippet mark")).to_have_text(["年度预算"])
    shoot(page, artifacts_dir, "results-zh")

    hits.get_by_role("link", name=registered["notice"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(registered["notice"])
    expect(main.locator("p.lead")).to_have_text("关于报送年度预算的通知")
