"""The directive pages: the work list, drafting, each approval step, the Word file, issue, replies and templates."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

import docx
import pytest
from lxml import html
from sqlalchemy import select

from docstore import audit, clock, organisation, registry
from docstore.directives import pdf
from docstore.extensions import db
from docstore.models import Directive, Document, Series

SYSTEM = audit.SYSTEM
POLICY = registry.UploadPolicy(frozenset({"text"}), 1 << 20, "UTC")

NOTICE_BODY = """一、总体要求
各单位要高度重视公文处理工作，严格按照规定办理。

（一）工作目标
- 按时办结来文。
- 做好归档。
"""


@pytest.fixture
def office(app, make_user, clerk, sender, fake_clock):
    """An office (BGS) with a director, a drafter (Ana); Finance (Bo) and Legal (Carl) departments."""
    bgs = organisation.create_department(SYSTEM, code="BGS", name="办公室", kind="office")
    finance = organisation.create_department(SYSTEM, code="FIN", name="财务处")
    legal = organisation.create_department(SYSTEM, code="LEG", name="法规处")
    return SimpleNamespace(
        clerk=clerk,
        sender=sender,
        bgs=bgs,
        finance=finance,
        legal=legal,
        director=make_user("director", "leader", full_name="王局长", department_id=bgs.id),
        ana=make_user("ana", "staff", full_name="Ana Ruiz", department_id=bgs.id),
        bo=make_user("bo", "staff", full_name="Bo Li", department_id=finance.id),
        carl=make_user("carl", "staff", full_name="Carl Cruz", department_id=legal.id),
    )


def text_of(response) -> str:
    return " ".join(html.fromstring(response.data).text_content().split())


def draft_form(office, **changes) -> dict:
    values = {
        "kind": "notice",
        "title": "关于做好2026年公文处理工作的通知",
        "issuer": "某某市人民政府办公室",
        "issuer_mark": "某某市人民政府办公室文件",
        "department_id": office.bgs.id,
        "urgency": "normal",
        "classification": "0",
        "signer_id": office.director.id,
        "main_recipients": [f"department:{office.finance.id}", f"correspondent:{office.sender.id}"],
        "countersign_department_ids": [str(office.legal.id)],
        "body": NOTICE_BODY,
        "attachments_note": "2026年工作要点",
        "feedback_requested": "y",
        "feedback_deadline": "2026-03-20",
    }
    values.update(changes)
    return values


def created(office, browse) -> Directive:
    ana = browse(office.ana)
    response = ana.post("/directives/new", data=draft_form(office))
    assert response.status_code == 302, text_of(response)
    return db.session.execute(select(Directive)).scalar_one()


def test_a_notice_goes_from_draft_to_issue_through_the_pages(office, browse):
    ana = browse(office.ana)
    form = ana.get("/directives/new")
    assert form.status_code == 200 and "通知" in text_of(form)
    directive = created(office, browse)
    url = f"/directives/{directive.id}"
    assert "一、总体要求" in text_of(ana.get(url))
    assert ana.post(f"{url}/submit").status_code == 302

    clerk, carl, director = browse(office.clerk), browse(office.carl), browse(office.director)
    assert clerk.post(f"{url}/approve-review", data={"opinion": "格式无误"}).status_code == 302
    assert "Your step" in text_of(carl.get(url))
    assert carl.post(f"{url}/countersign", data={"decision": "agree", "opinion": "同意"}).status_code == 302
    db.session.refresh(directive)
    assert directive.state == "signoff"
    assert "1" in text_of(director.get("/directives/")).split("Waiting for me")[1][:5]
    assert director.post(f"{url}/sign-off", data={"opinion": "同意印发"}).status_code == 302
    registered = clerk.post(f"{url}/register", follow_redirects=True)
    number = db.session.get(Directive, directive.id).document.number
    assert f"Registered as {number}" in text_of(registered)

    word = clerk.get(f"{url}/word")
    assert word.status_code == 200 and word.mimetype.endswith("wordprocessingml.document")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(word.data)).paragraphs)
    assert number in text and "关于做好2026年公文处理工作的通知" in text

    issued = clerk.post(f"{url}/issue", data={}, follow_redirects=True)
    assert "Issued" in text_of(issued)
    incoming = db.session.execute(
        select(Document).where(Document.direction == "incoming", Document.department_id == office.finance.id)
    ).scalar_one()
    assert incoming.sender_reference == number
    page = text_of(browse(office.bo).get(f"/documents/{incoming.id}"))
    assert number in page
    replies = text_of(ana.get(url))
    assert "Distribution and replies" in replies and incoming.number in replies


def test_a_draft_with_mistakes_comes_back_with_each_at_its_field(office, browse):
    ana = browse(office.ana)
    response = ana.post("/directives/new", data=draft_form(office, title="", feedback_deadline=""))
    assert response.status_code == 422
    tree = html.fromstring(response.data)
    assert tree.xpath("//input[@name='title'][@aria-invalid='true']")
    assert tree.xpath("//input[@name='feedback_deadline'][@aria-invalid='true']")
    assert db.session.execute(select(Directive)).first() is None


def test_a_draft_is_hidden_from_a_department_that_has_nothing_to_do_with_it(office, browse, make_user):
    directive = created(office, browse)
    outsider = make_user("olga", "staff", department_id=office.finance.id)
    assert browse(outsider).get(f"/directives/{directive.id}").status_code == 404
    assert browse(office.carl).get(f"/directives/{directive.id}").status_code == 200  # Legal countersigns


def test_only_clerks_pass_the_review_and_a_refused_step_changes_nothing(office, browse):
    directive = created(office, browse)
    ana = browse(office.ana)
    ana.post(f"/directives/{directive.id}/submit")
    assert ana.post(f"/directives/{directive.id}/approve-review").status_code == 403
    assert db.session.get(Directive, directive.id).state == "review"
    clerk = browse(office.clerk)
    response = clerk.post(f"/directives/{directive.id}/sign-off", follow_redirects=True)
    assert response.status_code == 403 or "not possible" in text_of(response)
    assert db.session.get(Directive, directive.id).state == "review"


def test_declining_a_countersignature_needs_a_reason_and_sends_the_draft_back(office, browse):
    directive = created(office, browse)
    url = f"/directives/{directive.id}"
    browse(office.ana).post(f"{url}/submit")
    browse(office.clerk).post(f"{url}/approve-review")
    carl = browse(office.carl)
    response = carl.post(f"{url}/countersign", data={"decision": "decline", "opinion": ""})
    assert response.status_code == 422 and "Give a reason" in text_of(response)
    assert db.session.get(Directive, directive.id).state == "countersign"
    carl.post(f"{url}/countersign", data={"decision": "decline", "opinion": "第二条与现行规定不符"})
    directive = db.session.get(Directive, directive.id)
    assert directive.state == "review"
    assert "第二条与现行规定不符" in text_of(browse(office.clerk).get(url))


def test_the_header_counts_the_directives_waiting_for_a_leader(office, browse):
    directive = created(office, browse)
    url = f"/directives/{directive.id}"
    browse(office.ana).post(f"{url}/submit")
    clerk = browse(office.clerk)
    clerk.post(f"{url}/approve-review")
    browse(office.carl).post(f"{url}/countersign", data={"decision": "agree"})
    home = html.fromstring(browse(office.director).get("/").data)
    assert home.xpath("string(//a[contains(@class,'tasks-link')]//span[@class='nav-count'])") == "1"


def test_pdf_export_says_so_when_libreoffice_is_missing(office, browse, monkeypatch):
    directive = created(office, browse)
    monkeypatch.setattr(pdf, "office_binary", lambda: None)
    response = browse(office.ana).get(f"/directives/{directive.id}/pdf", follow_redirects=True)
    assert "PDF export needs LibreOffice" in text_of(response)


def test_a_reply_starts_from_the_incoming_document_and_stays_linked(office, browse):
    data = registry.Registration(
        series_id=db.session.execute(select(Series.id).where(Series.code == "IN")).scalar_one(),
        title="关于请求拨付经费的请示",
        received_at=clock.now() - timedelta(hours=1),
        channel="paper",
        correspondent_id=office.sender.id,
        sender_reference="财预〔2026〕3号",
        department_id=office.bgs.id,  # addressed to Ana's department: she may open it
    )
    incoming = registry.register_document(audit.Context(office.clerk.id), "incoming", data, [], POLICY, None)
    ana = browse(office.ana)
    form = ana.get(f"/directives/new?reply_to={incoming.id}&kind=letter")
    page = text_of(form)
    assert f"A reply to {incoming.number}" in page
    tree = html.fromstring(form.data)
    assert tree.xpath("string(//input[@name='title']/@value)") == "关于请求拨付经费的请示"
    assert tree.xpath("string(//input[@name='their_reference']/@value)") == "财预〔2026〕3号"
    values = draft_form(office, kind="letter", reply_to_id=str(incoming.id), title="关于拨付经费的复函")
    assert ana.post("/directives/new", data=values).status_code == 302
    assert db.session.execute(select(Directive)).scalar_one().reply_to_id == incoming.id


def test_ids_too_large_or_not_ascii_digits_are_mistakes_at_their_fields_not_errors(office, browse):
    ana = browse(office.ana)
    huge = "99999999999999999999"
    values = draft_form(office, department_id=huge, signer_id=huge, series_id=huge, countersign_department_ids=[huge])
    values["main_recipients"] = ["department:²", f"department:{huge}"]
    response = ana.post("/directives/new", data=values)
    assert response.status_code == 422
    tree = html.fromstring(response.data)
    assert tree.xpath("//select[@name='department_id'][@aria-invalid='true']")
    assert db.session.execute(select(Directive)).first() is None
