"""The archive in a real browser (Chromium), as the issue's "done when" describes it.

Three letters were registered in 2015 (the clock is set back while they are seeded); it is now 2026, so their ten
years of retention (D10: kept until 2026-01-01) have ended. Ana, the archivist, files the year's closed documents in
one go, downloads the catalogue as Word and Excel, places a legal hold on one record and releases it, and proposes
the three records for destruction; Diana, a leader, approves the proposal and downloads the certificate.

The harness is the one of tests/test_browser.py (the app served from a thread, real CSRF, the fake clock). No page
may log a console error.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import docx
import openpyxl
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

import tests.test_browser as harness
from docstore import accounts, audit, correspondents, extraction, registry
from docstore.archive import scheme
from docstore.extensions import db
from docstore.models import Correspondent, Document, Record, Series
from tests import browser_support
from tests.archive_support import department
from tests.test_browser import stored

pytestmark = pytest.mark.browser

browser = harness.browser
live_server = harness.live_server
settings = harness.settings
desk = browser_support.desk

SYSTEM = audit.SYSTEM
POLICY = registry.UploadPolicy(frozenset({"text"}), 1 << 20, "UTC")
TITLES = ("Respuesta sobre el presupuesto", "Remisión del inventario", "Convocatoria de la comisión")
CODES = [f"J001-WS·2015-D10-BGS-{item:04d}" for item in (1, 2, 3)]


@pytest.fixture
def office(app, make_user, fake_clock):
    """A file plan, an archivist and a leader, and three outgoing letters registered in 2015 (closed once
    registered), each with a file. `office.letters(titles)` registers more, in 2015 too."""
    store = extraction.file_store(app.config)

    def letters(titles) -> None:
        now = fake_clock.current
        fake_clock.current = datetime(2015, 3, 2, 9, 0, tzinfo=UTC)
        clerk = accounts.find_user_by_username("lucia")
        series, ministry = db.session.scalar(select(Series.id).where(Series.code == "OUT")), ministry_id()
        for number, title in enumerate(titles, 1):
            data = registry.Registration(
                series_id=series,
                title=title,
                department_id=clerk.department_id,
                main_recipients=[("correspondent", ministry)],
            )
            upload = registry.Upload(f"carta-{number}.txt", io.BytesIO(f"Carta {number}".encode()))
            registry.register_document(audit.Context(clerk.id), "outgoing", data, [upload], POLICY, store)
        fake_clock.current = now

    def seed():
        bgs = department("BGS", "General Office")
        correspondents.create_correspondent(SYSTEM, name="Ministerio de Hacienda", code="E0506")
        make_user("lucia", "clerk", full_name="Lucía Fernández", department_id=bgs.id)
        letters(TITLES)
        fonds = scheme.create_class(
            SYSTEM, level="fonds", code="J001", name="Ayuntamiento", retention="Y", disposal_action="review"
        )
        scheme.create_class(
            SYSTEM,
            level="class",
            parent_id=fonds.id,
            code="WS",
            name="文书",
            retention="D10",
            disposal_action="destroy",
        )
        make_user("archivo", "archivist", full_name="Ana Archivera", clearance=3)
        make_user("director", "leader", full_name="Diana Director", clearance=3)

    fake_clock.current = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    stored(seed)
    return SimpleNamespace(letters=lambda titles: stored(lambda: letters(titles)))


def ministry_id() -> int:
    return db.session.scalar(select(Correspondent.id).where(Correspondent.code == "E0506"))


def download(page: Page, name: str) -> tuple[str, bytes]:
    """Click the button (or the link styled as one) `name`; return the name and bytes of the file it downloads."""
    with page.expect_download() as caught:
        page.get_by_role("button", name=name, exact=True).click()
    return caught.value.suggested_filename, Path(caught.value.path()).read_bytes()


def said(page: Page, message: str) -> None:
    expect(page.get_by_role("status").filter(has_text=message)).to_be_visible()


def word_cells(data: bytes) -> list[str]:
    return [cell.text for table in docx.Document(io.BytesIO(data)).tables for row in table.rows for cell in row.cells]


def test_an_archivist_files_a_year_prints_the_catalogue_holds_and_a_leader_approves_the_disposal(office, desk):
    ana = desk("archivo")
    ana.get_by_role("banner").get_by_role("link", name="Archive", exact=True).click()
    expect(ana.get_by_role("heading", level=1)).to_have_text("Archive records")
    archive = ana.get_by_role("navigation", name="Archive")

    # 1. file the closed documents of 2015, all at once
    archive.get_by_role("link", name="Filing").click()
    main = ana.get_by_role("main")
    expect(main.get_by_role("navigation", name="Year").get_by_role("link", name="2015")).to_have_attribute(
        "aria-current", "true"
    )
    for title in TITLES:
        expect(main).to_contain_text(title)
    main.get_by_label("File into").select_option(label="\u2003WS 文书")
    main.get_by_role("button", name="File all 3 closed documents of 2015").click()
    said(ana, f"3 records filed: {CODES[0]} to {CODES[2]}.")
    expect(main).to_contain_text("there is nothing left to file")
    assert stored(lambda: set(db.session.scalars(select(Document.status)))) == {"archived"}

    # 2. the catalogue of the class and year, as Word and as Excel
    archive.get_by_role("link", name="Catalogue").click()
    main.get_by_label("Class").select_option(label="\u2003WS 文书")
    main.get_by_label("Year").select_option("2015")
    name, word = download(ana, "Download (Word)")
    assert name == "catalogue-J001-WS-2015.docx"
    cells = word_cells(word)
    assert all(code in cells for code in CODES) and all(title in cells for title in TITLES)
    name, excel = download(ana, "Download (Excel)")
    assert name == "catalogue-J001-WS-2015.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(excel)).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == CODES

    # 3. a legal hold on one record, then released
    archive.get_by_role("link", name="Legal holds").click()
    main.get_by_label("Reason", exact=True).fill("Recurso contencioso 12/2026")
    main.get_by_label("Records", exact=True).fill(CODES[0])
    main.get_by_role("button", name="Place the hold").click()
    said(ana, "Hold no. 1 is in force")
    hold = main.locator("#hold-1")
    expect(hold).to_contain_text(CODES[0])
    archive.get_by_role("link", name="Disposal").click()
    expect(main.get_by_role("row", name=CODES[0])).to_contain_text("on hold")  # not offered for disposal
    expect(main.get_by_label(f"Tick {CODES[0]}")).to_have_count(0)
    archive.get_by_role("link", name="Legal holds").click()
    hold.get_by_text("Release this hold…").click()
    hold.get_by_label("Reason for releasing").fill("Sentencia firme")
    hold.get_by_role("button", name="Release the hold").click()
    said(ana, "Hold no. 1 is released.")

    # 4. the three records, past their retention, proposed for destruction
    archive.get_by_role("link", name="Disposal").click()
    for code in CODES:
        main.get_by_label(f"Tick {code}").check()
    main.get_by_label("Reason", exact=True).fill("Plazo de conservación cumplido (D10).")
    main.get_by_role("button", name="Propose the ticked records for destruction").click()
    said(ana, "Disposal no. 1 is proposed")
    expect(main).not_to_contain_text("Your decision")  # the proposer does not decide

    # 5. the leader approves it and downloads the certificate
    diana = desk("director")
    diana.get_by_role("banner").get_by_role("link", name="Archive", exact=True).click()
    diana.get_by_role("navigation", name="Archive").get_by_role("link", name="Disposal").click()
    diana.get_by_role("main").get_by_role("link", name="Disposal no. 1").click()
    decision = diana.locator("#decide")
    decision.get_by_label("Note").fill("Conforme con la tabla de plazos.")
    decision.get_by_role("button", name="Approve and carry out").click()
    said(diana, "Disposal no. 1 is approved and carried out; its certificate is ready.")
    name, certificate = download(diana, "Certificate (Word)")
    assert name == "disposal-1-certificate.docx"
    cells = word_cells(certificate)
    assert all(code in cells for code in CODES) and "Conforme con la tabla de plazos." in cells
    states = stored(lambda: set(db.session.scalars(select(Record.state))))
    assert states == {"destroyed"}

    # the residual entry says by whose decision the record went
    ana.goto(stored(lambda: f"/archive/records/{db.session.scalar(select(Record.id).order_by(Record.id))}"))
    expect(ana.locator("#residual")).to_contain_text("by the decision of Diana Director")


def test_a_large_year_is_filed_in_the_background_while_its_page_shows_the_progress(app, office, desk):
    """120 more letters of 2015: above the inline limit (set to 2 here), the filing runs in the background and its
    page, polling with static/js/archive.js, comes back with the result by itself."""
    app.config["ARCHIVE_FILING_INLINE_LIMIT"] = 2

    office.letters([f"Carta {number}" for number in range(120)])
    ana = desk("archivo")
    ana.goto("/archive/file?year=2015")
    main = ana.get_by_role("main")
    main.get_by_label("File into").select_option(label="\u2003WS 文书")
    main.get_by_role("button", name="File all 123 closed documents of 2015").click()
    expect(ana.get_by_role("heading", level=1)).to_have_text("Filing the documents of 2015 into WS 文书")
    expect(ana.get_by_label("Filed so far")).to_be_visible()  # the page is shown while the filing goes on
    said(ana, f"123 records filed: {CODES[0]} to J001-WS·2015-D10-BGS-0123.")
    main.get_by_role("link", name="Back to filing").click()
    expect(main).to_contain_text("there is nothing left to file")
