"""Outgoing directives in a real browser (Chromium), as the issue's "done when" describes them.

1. Ana (General Office staff) drafts a notice on the drafting page: type, title, letterhead, body with headings, a
   point list and a table, Finance and the ministry as main recipients, Legal to countersign, the director to sign,
   replies due. She submits it. The clerk passes the review; Carl countersigns for Legal; the director finds it under
   "Tasks → Directives" and signs it off; the clerk registers it (the number comes only now) and issues it.
2. The Word file, downloaded from the page, has the number and the GB/T 9704 geometry, and LibreOffice opens it.
3. Bo (Finance) finds it in Finance's incoming register; the clerk links Finance's reply by its number; Ana sees
   "replied" on the directive's page.
4. An administrator uploads an office template on its page; a Spanish oficio and a directive on that template go
   through the same steps (seeded), and their Word files, downloaded from their pages, carry their numbers.

The harness is the one of tests/test_browser.py (the app served from a thread, real CSRF, the fake clock). No page may
log a console error.
"""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import docx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

import tests.test_browser as harness
from docstore import audit, correspondents, database, organisation, registry
from docstore.directives import drafts, flow
from docstore.extensions import db
from docstore.models import Directive, DirectiveTemplate, Document
from tests import browser_support
from tests.test_browser import stored
from tests.word_support import part_xml, pdf_of

pytestmark = pytest.mark.browser

browser = harness.browser
live_server = harness.live_server
desk = browser_support.desk
settings = harness.settings

SYSTEM = audit.SYSTEM
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture
def office(app, make_user, fake_clock):
    def seed():
        general = organisation.create_department(SYSTEM, code="BGS", name="General Office", kind="office")
        finance = organisation.create_department(SYSTEM, code="FIN", name="Finance")
        legal = organisation.create_department(SYSTEM, code="LEG", name="Legal")
        ministry = correspondents.create_correspondent(SYSTEM, name="Ministerio de Hacienda", code="E0506")
        registry.create_series(
            SYSTEM,
            code="BGF",
            name="Office directives",
            direction="outgoing",
            pattern="市府办发〔{year}〕{seq}号",
            department_id=general.id,
        )

        def person(username: str, role: str, full_name: str, department) -> int:
            return make_user(username, role, full_name=full_name, department_id=department.id).id

        return SimpleNamespace(
            general=general.id,
            finance=finance.id,
            legal=legal.id,
            ministry=ministry.id,
            clerk=person("lucia", "clerk", "Lucía Fernández", general),
            director=person("director", "leader", "Diana Director", general),
            ana=person("ana", "staff", "Ana Ruiz", general),
            bo=person("bo", "staff", "Bo Li", finance),
            carl=person("carl", "staff", "Carl Cruz", legal),
            admin=person("admin", "admin", "Ada Admin", general),
        )

    return stored(seed)


def directive_id() -> int:
    return stored(lambda: db.session.execute(select(Directive.id).order_by(Directive.id.desc())).scalars().first())


def download(page: Page, name: str) -> bytes:
    with page.expect_download() as caught:
        page.get_by_role("button", name=name, exact=True).click()  # links styled as buttons
    return Path(caught.value.path()).read_bytes()


def step(page: Page, button: str, message: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("status").filter(has_text=message)).to_be_visible()


def test_a_notice_is_drafted_countersigned_signed_registered_issued_and_answered(office, desk):
    ana = desk("ana")
    ana.get_by_text("Registry", exact=True).click()
    ana.get_by_role("link", name="Draft a directive").click()
    form = ana.get_by_role("main")
    form.get_by_label("Type", exact=True).select_option("notice")
    form.get_by_label("Title", exact=True).fill("关于开展公文处理工作自查的通知")
    form.get_by_label("Letterhead", exact=True).fill("某某市人民政府办公室文件")
    form.get_by_label("Main recipients", exact=True).select_option(
        [f"department:{office.finance}", f"correspondent:{office.ministry}"]
    )
    form.get_by_label("Replies due by", exact=True).fill("2026-03-20")
    form.get_by_label("Ask the main recipients for a reply", exact=True).check()
    body = form.get_by_label("Body", exact=True)
    body.fill("自查内容")
    form.get_by_role("toolbar").get_by_role("button", name="Heading 1").click()  # "# " before the line
    expect(body).to_have_value("# 自查内容")
    body.press("End")
    body.press_sequentially("\n各部门对照检查收文、发文、归档各环节。\n- 收文登记是否完整。\n- 发文是否连续。\n")
    body.press_sequentially("| 阶段 | 时间 |\n| 部门自查 | 3月10日前 |")
    form.get_by_label("To be signed off by", exact=True).select_option(label="Diana Director")
    form.get_by_label("Legal", exact=True).check()
    # the resolución's sections are hidden for a notice (app.js), and shown again for a resolución
    expect(form.get_by_label("Antecedentes de hecho", exact=True)).to_be_hidden()
    form.get_by_role("button", name="Save the draft").click()
    expect(ana.get_by_role("status").filter(has_text="The draft is saved")).to_be_visible()
    expect(ana.locator(".directive-text")).to_contain_text("一、自查内容")
    step(ana, "Submit for review", "Submitted")

    clerk = desk("lucia")
    clerk.goto(f"/directives/{directive_id()}")
    step(clerk, "Pass the review", "Review passed")

    carl = desk("carl")
    carl.goto("/directives/")
    carl.get_by_role("link", name="关于开展公文处理工作自查的通知").click()
    carl.get_by_label("Opinion").fill("无意见。")
    step(carl, "Agree and countersign", "Countersigned")

    director = desk("director")
    expect(director.locator(".tasks-link .nav-count")).to_have_text("1")
    director.locator(".tasks-link").click()  # no task of her own: it leads to the directives waiting
    director.get_by_role("link", name="关于开展公文处理工作自查的通知").click()
    director.get_by_label("Opinion").fill("同意印发。")
    step(director, "Sign off", "Signed off")

    clerk.reload()
    step(clerk, "Register and number", "Registered as 市府办发〔2026〕1号")
    word = download(clerk, "Word file")
    step(clerk, "Issue", "Issued")

    # the Word file: the number, the GB/T 9704 page, and LibreOffice reads it
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(word)).paragraphs)
    assert "市府办发〔2026〕1号" in text and "关于开展公文处理工作自查的通知" in text
    margins = part_xml(word).find(f".//{W}pgMar")
    assert (margins.get(f"{W}top"), margins.get(f"{W}left")) == ("2098", "1587")
    pdf_text, pages = pdf_of(word)
    assert "市府办发〔2026〕1号" in pdf_text.replace(" ", "") and pages >= 1

    # Finance finds it in its incoming register
    bo = desk("bo")
    bo.goto("/documents/?direction=incoming")
    bo.locator("tr", has_text="关于开展公文处理工作自查的通知").get_by_role("link").first.click()
    expect(bo.get_by_role("main")).to_contain_text("市府办发〔2026〕1号")

    # Finance's reply, registered as an internal document, is linked by its number; Ana sees it
    def reply():
        data = registry.Registration(
            series_id=registry.list_series("internal")[0].id, title="财务处自查报告", department_id=office.finance
        )
        return registry.register_document(audit.Context(office.clerk), "internal", data, [], POLICY, None).number

    number = stored(reply)
    clerk.goto(f"/directives/{directive_id()}")
    clerk.get_by_label("Number of the reply from Finance").fill(number)
    clerk.get_by_label("Number of the reply from Finance").press("Enter")
    expect(clerk.get_by_role("status").filter(has_text="The reply is linked")).to_be_visible()
    ana.goto(f"/directives/{directive_id()}")
    row = ana.locator("tr", has_text="Finance")
    expect(row).to_contain_text("replied")
    expect(row).to_contain_text(number)
    summary = download(ana, "Summary of replies (Word)")
    assert number in "\n".join(
        cell.text for table in docx.Document(io.BytesIO(summary)).tables for row in table.rows for cell in row.cells
    )


POLICY = registry.UploadPolicy(frozenset({"text", "docx"}), 1 << 22, "UTC")


def through(office, directive: int) -> None:
    """Carry a draft through submission, review and sign-off with the services (the clerk registers on the page)."""

    for function, who, args in (
        (flow.submit, office.ana, ()),
        (flow.approve_review, office.clerk, ("",)),
        (flow.sign_off, office.director, ("Conforme.",)),
    ):
        stored(lambda function=function, who=who, args=args: _act(function, audit.Context(who), directive, *args))


def _act(function, *args):
    with database.writing():
        try:
            result = function(*args)
        except Exception:
            db.session.rollback()
            raise
        db.session.commit()
    return result


def test_an_uploaded_template_and_a_spanish_oficio_come_out_numbered(office, desk, tmp_path):
    template = docx.Document()
    template.add_paragraph("OFICIO Nº {{ number }}")
    paragraph = template.add_paragraph("ASUNTO: {{ ti")
    paragraph.add_run("tle }}").bold = True  # a placeholder split across two runs, as Word does
    template.add_paragraph("{{ body }}")
    template.add_paragraph("{% for r in main_recipients %}")
    template.add_paragraph("SR./SRA. {{ r }}")
    template.add_paragraph("{% endfor %}")
    path = tmp_path / "oficio-propio.docx"
    template.save(path)

    admin = desk("admin")
    admin.goto("/directives/templates/")
    admin.get_by_label("Name").fill("Oficio propio")
    admin.get_by_label("Language of its documents").select_option("es")
    admin.get_by_label("Word file (.docx)").set_input_files(str(path))
    admin.get_by_role("button", name="Upload").click()
    expect(admin.get_by_role("status").filter(has_text="is ready for drafters")).to_be_visible()

    def draft(kind: str, template_id: int | None, title: str) -> int:
        values = drafts.Draft(
            kind=kind,
            template_id=template_id,
            title=title,
            issuer="Ayuntamiento · Área de Hacienda",
            department_id=office.general,
            signer_id=office.director,
            body="Le remito la liquidación del presupuesto.",
            place="Madrid",
            main_recipients=[("correspondent", office.ministry)],
        )
        return stored(lambda: _act(drafts.create_draft, audit.Context(office.ana), values).id)

    template_id = stored(lambda: db.session.execute(select(DirectiveTemplate.id)).scalar_one())
    clerk = desk("lucia")
    for kind, template, title in (
        ("oficio", None, "Remisión de la liquidación del presupuesto"),
        ("template", template_id, "Solicitud de datos de ejecución"),
    ):
        ident = draft(kind, template, title)
        through(office, ident)
        clerk.goto(f"/directives/{ident}")
        step(clerk, "Register and number", "Registered as")
        number = stored(lambda ident=ident: db.session.get(Directive, ident).document.number)
        word = download(clerk, "Word file")
        text = "\n".join(p.text for p in docx.Document(io.BytesIO(word)).paragraphs)
        text += "\n".join(cell.text for t in docx.Document(io.BytesIO(word)).tables for r in t.rows for cell in r.cells)
        assert number in text and title in text
        assert "MINISTERIO DE HACIENDA" in text.upper()
        step(clerk, "Issue", "Issued")
    outgoing = stored(
        lambda: db.session.execute(select(Document.number).where(Document.direction == "outgoing")).scalars().all()
    )
    assert len(outgoing) == 2
