"""The registers in a real browser, as a clerk uses them: registering incoming and outgoing documents with real
files, the receipt, cancelling a number, the register list with its filters, and edits with their history.

The harness is the one of tests/test_browser.py (Debian's Chromium, the app served from a thread with real CSRF
protection, the test's own database, data seeded through the real services); every test fails if a page it visits
logs a console error.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import tests.test_browser as harness
from docstore import audit, clock, correspondents, extraction, organisation, registry
from tests.browser_support import sign_in
from tests.conftest import PASSWORD
from tests.test_browser import choose_language, stored

pytestmark = pytest.mark.browser

PDF = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "files" / "003-issue4061.pdf"

# The fixtures of tests/test_browser.py. Assigned rather than imported by name: pytest finds fixtures among the
# module's attributes, and a test's argument named like an imported fixture reads as a redefinition to ruff.
browser = harness.browser
live_server = harness.live_server
context = harness.context
console = harness.console
page = harness.page
add_user = harness.add_user


@pytest.fixture
def settings(settings):
    """The browser tests' settings (real CSRF, cookies over plain HTTP), with short pages to see paging at work."""
    return {**settings, "WTF_CSRF_ENABLED": True, "SECURE_COOKIES": False, "PAGE_SIZE": 5}


@pytest.fixture
def office(add_user):
    """Seed two departments, two senders, a clerk of the general office and a staff member of finance."""

    def seed():
        general = organisation.create_department(audit.SYSTEM, code="BGS", name="General Office", kind="office")
        finance = organisation.create_department(audit.SYSTEM, code="CW", name="Finance")
        ministry = correspondents.create_correspondent(audit.SYSTEM, name="Ministerio de Hacienda", code="E0506")
        city = correspondents.create_correspondent(audit.SYSTEM, name="Ayuntamiento de Madrid", code="L0128")
        return {"general": general.id, "finance": finance.id, "ministry": ministry.id, "city": city.id}

    ids = stored(seed)
    ids["clerk"] = add_user("lucia", "clerk", full_name="Lucía Fernández", department_id=ids["general"])
    ids["staff"] = add_user("juan", "staff", full_name="Juan Pérez", department_id=ids["finance"])
    return ids


@pytest.fixture
def note(tmp_path):
    """A small text file: the clerk's covering note."""
    path = tmp_path / "covering-note.txt"
    path.write_text("Received by hand at the front desk.\nTwo annexes.\n", encoding="utf-8")
    return path


@pytest.fixture
def register(app, office):
    """Register an incoming document from the ministry through the service, addressed to the general office;
    return (id, number). For the tests about what happens after registration."""

    def do(title: str, files: tuple[Path, ...] = (), **fields):
        def work():
            data = registry.Registration(
                series_id=registry.list_series("incoming")[0].id,
                title=title,
                received_at=clock.now() - timedelta(hours=1),
                channel="paper",
                correspondent_id=office["ministry"],
                department_id=office["general"],
                **fields,
            )
            uploads = [registry.Upload(path.name, io.BytesIO(path.read_bytes())) for path in files]
            policy = registry.UploadPolicy(frozenset({"pdf", "text"}), 1 << 20, "UTC")
            store = extraction.file_store(app.config)
            document = registry.register_document(
                audit.Context(office["clerk"]), "incoming", data, uploads, policy, store
            )
            return document.id, document.number

        return stored(work)

    return do


def sign_in_as(page, username: str) -> None:
    """Sign in through the sign-in page and wait for the home page (a navigation started sooner would cancel it)."""
    sign_in(page, username, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def number(prefix: str, seq: int) -> str:
    """Return the number `seq` of this year in the register whose pattern is `{prefix}-{year}-{seq:6}`."""
    return f"{prefix}-{clock.now().year}-{seq:06d}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def shoot(target, artifacts_dir: Path, name: str) -> None:
    """Save a screenshot of a whole page, or of one element, to test-artifacts/ and check that it was written."""
    screenshot = artifacts_dir / f"registers-{name}.png"
    screenshot.unlink(missing_ok=True)
    if isinstance(target, Page):
        target.screenshot(path=screenshot, full_page=True)
    else:
        target.screenshot(path=screenshot)
    assert screenshot.stat().st_size > 0, screenshot


# --- registering incoming documents ----------------------------------------------------------------------------


def test_a_clerk_registers_an_incoming_document_with_two_files_and_sees_its_number_hashes_and_preview(
    page, office, note, artifacts_dir
):
    sign_in_as(page, "lucia")
    page.get_by_role("banner").locator(".registry-menu summary").click()  # under "Registry" in the header
    page.get_by_role("banner").get_by_role("link", name="Register a document", exact=True).click()
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("Register an incoming document")

    # The sender comes first and has the focus: typing picks it, Tab moves on through the arrival details.
    expect(main.get_by_label("Sender", exact=True)).to_be_focused()
    page.keyboard.type("Minis")
    expect(main.get_by_label("Sender", exact=True)).to_have_value(str(office["ministry"]))
    page.keyboard.press("Tab")
    expect(main.get_by_label("Or a new sender")).to_be_focused()
    page.keyboard.press("Tab")
    expect(main.get_by_label("Sender's reference number")).to_be_focused()
    page.keyboard.type("SGT/2024/118")
    main.get_by_label("Title / subject").fill("Request for the 2024 budget report")
    main.get_by_label("Document type").select_option(label="Oficio")
    main.get_by_label("Urgency").select_option(label="Urgent")
    main.get_by_label("Addressed to").select_option(label="General Office")
    main.get_by_label("Attachments").set_input_files([PDF, note])
    shoot(page, artifacts_dir, "incoming-form")
    main.get_by_role("button", name="Register and assign the number").click()

    expect(page.get_by_role("status")).to_have_text(f"Registered as {number('IN', 1)}.")
    expect(page.get_by_role("heading", level=1)).to_have_text(number("IN", 1))
    expect(main.locator("p.lead")).to_have_text("Request for the 2024 budget report")
    details = main.locator("dl.details")
    expect(details).to_contain_text("Ministerio de Hacienda")
    expect(details).to_contain_text("SGT/2024/118")
    expect(details).to_contain_text("Urgent")
    files = main.get_by_role("region", name="Attachments").get_by_role("table")
    for path in (PDF, note):
        row = files.get_by_role("row").filter(has=page.get_by_role("link", name=path.name, exact=True))
        expect(row.locator("code.hash")).to_have_text(sha256(path))

    # The first PDF is previewed in a frame. Its document is the PDF itself, shown by Chromium's viewer (a frame
    # inside it), which puts the file's name in its toolbar once the file is read.
    preview = main.locator("iframe.preview")
    expect(preview).to_have_attribute("title", f"Preview of {PDF.name}")
    frame = preview.element_handle().content_frame()
    frame.wait_for_load_state()
    assert frame.evaluate("document.contentType") == "application/pdf"
    expect(frame.child_frames[0].locator("#title")).to_have_text(PDF.name)
    # Chromium paints the viewer only once the frame has been on screen: the frame's own picture comes first.
    shoot(preview, artifacts_dir, "preview")
    shoot(page, artifacts_dir, "document")


def test_the_preview_of_a_pdf_may_be_framed_by_the_document_page_only(page, register, live_server):
    document_id, _number = register("Informe anual", files=(PDF,))
    sign_in_as(page, "lucia")

    with page.expect_response(re.compile(r"/attachments/\d+/preview$")) as preview:
        page.goto(f"/documents/{document_id}")

    headers = preview.value.headers
    assert preview.value.status == 200
    assert headers["content-type"] == "application/pdf"
    assert headers["content-security-policy"] == "frame-ancestors 'self'"
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert headers["content-disposition"].startswith("inline")


def test_a_clerk_registers_documents_from_new_senders_in_spanish_and_in_chinese(page, office, artifacts_dir):
    sign_in_as(page, "lucia")
    main = page.get_by_role("main")

    choose_language(page, "es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.goto("/documents/new/incoming")
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrar un documento de entrada")
    main.get_by_label("O un remitente nuevo").fill("Notaría Gómez Ruiz")
    main.get_by_label("Título / asunto").fill("Escritura de poder notarial")
    main.get_by_label("Anexos").set_input_files(PDF)
    main.get_by_role("button", name="Registrar y asignar el número").click()
    expect(page.get_by_role("status")).to_have_text(f"Registrado con el número {number('IN', 1)}.")
    expect(main.locator("dl.details")).to_contain_text("Notaría Gómez Ruiz")
    expect(main.get_by_role("heading", name="Anexos")).to_be_visible()

    choose_language(page, "zh_Hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.goto("/documents/new/incoming")
    expect(page.get_by_role("heading", level=1)).to_have_text("登记收文")
    main.get_by_label("或新的来文单位").fill("省人民政府办公厅")
    main.get_by_label("标题 / 事由").fill("关于报送年度预算的通知")
    shoot(page, artifacts_dir, "incoming-form-zh")
    main.get_by_role("button", name="登记并分配编号").click()
    expect(page.get_by_role("status")).to_have_text(f"已登记，编号为 {number('IN', 2)}。")
    expect(main.locator("dl.details")).to_contain_text("省人民政府办公厅")

    # Both new senders are in the address book now, and can be picked next time.
    sender = page.get_by_role("main").get_by_label("来文单位", exact=True)
    page.goto("/documents/new/incoming")
    expect(sender.locator("option")).to_contain_text(["Notaría Gómez Ruiz", "省人民政府办公厅"])


def test_a_form_with_mistakes_shows_them_at_their_fields_keeps_the_typed_values_and_registers_nothing(
    page, office, note, artifacts_dir
):
    sign_in_as(page, "lucia")
    page.goto("/documents/new/incoming")
    main = page.get_by_role("main")
    tomorrow = (clock.now() + timedelta(days=1)).strftime("%Y-%m-%dT09:30")
    main.get_by_label("Received at").fill(tomorrow)
    main.get_by_label("Sender", exact=True).select_option(label="Ayuntamiento de Madrid")
    main.get_by_label("Sender's reference number").fill("AYT-77/2024")
    main.get_by_label("Summary").fill("Licencia de obras, segunda solicitud.")
    main.get_by_label("Attachments").set_input_files([PDF, note])

    with page.expect_response(lambda response: response.request.method == "POST") as sent:
        main.get_by_role("button", name="Register and assign the number").click()

    assert sent.value.status == 422
    expect(page.get_by_role("alert")).to_have_text("Please correct the marked fields.")
    title = main.get_by_label("Title / subject")
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_accessible_description("This field is required.")
    received = main.get_by_label("Received at")
    expect(received).to_have_attribute("aria-invalid", "true")
    expect(received).to_have_accessible_description("This date is in the future.")
    expect(received).to_have_value(tomorrow)
    expect(received).to_be_focused()  # the first field to correct
    expect(main.get_by_label("Sender", exact=True)).to_have_value(str(office["city"]))
    expect(main.get_by_label("Sender's reference number")).to_have_value("AYT-77/2024")
    expect(main.get_by_label("Summary")).to_have_value("Licencia de obras, segunda solicitud.")
    expect(main.get_by_label("Sender's reference number")).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("status")).to_have_text(
        "Choose the files again: browsers do not keep them when a form is sent back."
    )
    shoot(page, artifacts_dir, "incoming-form-errors")

    # Sent again without files, the form does not ask for files that were never chosen.
    title.fill("Licencia de obras")
    main.get_by_role("button", name="Register and assign the number").click()
    expect(received).to_have_accessible_description("This date is in the future.")
    expect(title).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("status")).to_have_count(0)

    page.goto("/documents/")
    expect(main.get_by_role("table").get_by_role("row")).to_have_count(1)  # the heading row alone
    expect(main).to_contain_text("Nothing found.")


# --- registering outgoing documents ----------------------------------------------------------------------------


def test_a_clerk_registers_an_outgoing_document_to_two_main_recipients(page, office, artifacts_dir):
    sign_in_as(page, "lucia")
    page.goto("/documents/new/outgoing")
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("Register an outgoing document")

    expect(main.get_by_label("Title / subject")).to_be_focused()
    page.keyboard.type("Reply on the 2024 budget report")
    main.get_by_label("Issuing department").select_option(label="General Office")
    main.get_by_label("Main recipients").select_option(label=["Ministerio de Hacienda", "Ayuntamiento de Madrid"])
    shoot(page, artifacts_dir, "outgoing-form")
    main.get_by_role("button", name="Register and assign the number").click()

    expect(page.get_by_role("status")).to_have_text(f"Registered as {number('OUT', 1)}.")
    expect(page.get_by_role("heading", level=1)).to_have_text(number("OUT", 1))
    details = main.locator("dl.details")
    recipients = details.locator("dt:has-text('Main recipients') + dd")
    expect(recipients).to_contain_text("Ministerio de Hacienda")
    expect(recipients).to_contain_text("Ayuntamiento de Madrid")
    expect(details.locator("dt:has-text('Department') + dd")).to_have_text("General Office")


# --- after registration ----------------------------------------------------------------------------------------


def test_the_receipt_shows_the_number_and_the_hashes_and_its_button_prints(page, register, note, artifacts_dir):
    document_id, registered = register("Request for the 2024 budget report", files=(PDF, note))
    page.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; };")
    sign_in_as(page, "lucia")
    page.goto(f"/documents/{document_id}")

    page.get_by_role("button", name="Receipt", exact=True).click()  # a link styled as a button

    expect(page.get_by_role("heading", level=1)).to_have_text("Registration receipt")

    def row(heading):
        return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=heading, exact=True))

    expect(row("Number").get_by_role("cell")).to_have_text(registered)
    expect(row("Sender").get_by_role("cell")).to_have_text("Ministerio de Hacienda")
    for path in (PDF, note):
        expect(page.get_by_role("row").filter(has_text=path.name).locator("td.hash")).to_have_text(sha256(path))
    shoot(page, artifacts_dir, "receipt")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.printed") == 1


def test_a_cancelled_number_stays_in_the_register_marked_void_and_is_never_reused(page, register, artifacts_dir):
    document_id, first = register("Sent to the wrong office")
    sign_in_as(page, "lucia")
    page.goto(f"/documents/{document_id}")
    main = page.get_by_role("main")
    questions = []

    def accept(dialog):
        questions.append(dialog.message)
        dialog.accept()

    main.get_by_text("Cancel this number").click()  # the form is folded away until asked for
    main.get_by_label("Reason for cancelling the number").fill("Registered twice by mistake")
    page.once("dialog", accept)
    main.get_by_role("button", name="Cancel the number").click()

    assert questions == [f"Cancel number {first}? This cannot be undone."]
    expect(page.locator(".flash-success")).to_have_text(
        f"Number {first} is cancelled. It stays in the register, marked void."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{first} void")
    expect(main).to_contain_text("Registered twice by mistake")
    expect(main.get_by_role("button", name="Cancel the number")).to_have_count(0)
    expect(main.get_by_role("button", name="Edit")).to_have_count(0)

    page.goto("/documents/")
    row = main.get_by_role("row").filter(has=page.get_by_role("link", name=first))
    expect(row.locator(".badge")).to_have_text("void")
    shoot(page, artifacts_dir, "list-void")
    expect(row.get_by_role("cell", name="Sent to the wrong office")).to_have_css("text-decoration-line", "line-through")

    page.get_by_role("button", name="Register incoming").click()
    main.get_by_label("Sender", exact=True).select_option(label="Ministerio de Hacienda")
    main.get_by_label("Title / subject").fill("Sent to the right office")
    main.get_by_role("button", name="Register and assign the number").click()
    expect(page.get_by_role("status")).to_have_text(f"Registered as {number('IN', 2)}.")


def test_the_register_list_filters_pages_and_hides_other_departments_documents(page, register, office, artifacts_dir):
    ids = {}
    for n in range(1, 8):
        urgency = "urgent" if n in (2, 5) else "normal"
        ids[n] = register(f"Budget circular {n}" if n % 2 else f"Staff notice {n}", urgency=urgency)[0]
    sign_in_as(page, "lucia")
    page.get_by_role("banner").get_by_role("link", name="Documents").click()
    main = page.get_by_role("main")
    rows = main.get_by_role("table").locator("tbody tr")
    pages = main.get_by_role("navigation", name="Pages")

    expect(rows.locator("td:first-child a")).to_have_text([number("IN", n) for n in (7, 6, 5, 4, 3)])
    expect(pages).to_contain_text("Page 1 of 2")
    expect(main).to_contain_text("7 results")
    shoot(page, artifacts_dir, "list")
    pages.get_by_role("link", name="Next").click()
    expect(rows.locator("td:first-child a")).to_have_text([number("IN", n) for n in (2, 1)])
    expect(pages).to_contain_text("Page 2 of 2")
    pages.get_by_role("link", name="Previous").click()
    expect(pages).to_contain_text("Page 1 of 2")

    search = main.get_by_role("search")
    search.get_by_label("Urgency").select_option(label="Urgent")
    search.get_by_role("button", name="Filter").click()
    expect(rows.locator("td:first-child a")).to_have_text([number("IN", 5), number("IN", 2)])
    expect(pages).to_have_count(0)  # one page

    search.get_by_label("Urgency").select_option(label="All")
    search.get_by_label("Number, title or reference").fill("budget circ")
    search.get_by_label("Number, title or reference").press("Enter")
    expect(rows.locator("td:nth-child(3)")).to_have_text([f"Budget circular {n}" for n in (7, 5, 3, 1)])
    expect(page).to_have_url(re.compile(r"q=budget\+circ"))

    # A staff member of finance sees nothing of the general office's register, not even by its address.
    page.locator(".account-menu summary").click()  # the menu under the user's name
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    sign_in_as(page, "juan")
    page.goto("/documents/")
    expect(rows).to_have_count(0)
    expect(main).to_contain_text("Nothing found.")
    response = page.goto(f"/documents/{ids[1]}")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(main).to_contain_text("Error 404")
    expect(main).not_to_contain_text("Budget circular")


def test_editing_a_document_is_kept_in_its_history_with_the_values_before_and_after(page, register):
    document_id, registered = register("Solicitud de informe")
    sign_in_as(page, "lucia")
    page.goto(f"/documents/{document_id}")
    main = page.get_by_role("main")

    main.get_by_role("button", name="Edit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit {registered}")
    main.get_by_label("Title / subject").fill("Solicitud de informe presupuestario")
    main.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("status")).to_have_text(f"Changes to {registered} are saved.")
    expect(main.locator("p.lead")).to_have_text("Solicitud de informe presupuestario")
    history = main.get_by_role("region", name="History")
    update = history.get_by_role("row").filter(has_text="Details changed")
    expect(update).to_have_count(1)
    expect(update.locator("del")).to_contain_text("Solicitud de informe")
    expect(update.locator("del")).not_to_contain_text("presupuestario")
    expect(update.locator("ins")).to_contain_text("Solicitud de informe presupuestario")
    expect(update.get_by_role("cell", name="Lucía Fernández")).to_be_visible()
    expect(update).to_contain_text("Title")  # the field is named, not shown as a raw key
    expect(update.locator("dt")).to_have_count(1)  # only the title changed: untouched fields stay as they were
    expect(update).not_to_contain_text("document_type_id")
