"""Outgoing directives in the JSON API: the whole path with every kind of user, who may see and do what, the errors,
the Word file, feedback, and the OpenAPI description."""

from __future__ import annotations

import io
import re
from dataclasses import fields
from types import SimpleNamespace

import docx
import pytest

from docstore import audit, organisation, registry
from docstore.directives import drafts, flow, office_templates
from docstore.directives.render import DOCX_MIME
from tests.api_support import assert_error, series_id
from tests.word_support import part_xml, read_docx

API = "/api/v1"
SYSTEM = audit.SYSTEM
NUMBER = "财〔2026〕1号"  # the first number of Finance's outgoing register in 2026 (the fake clock's year)


# --- the office --------------------------------------------------------------------------------------------------


@pytest.fixture
def office(app, make_user, token_for, sender, fake_clock):
    """A clerk, a leader, Finance (Ana drafts), Legal (Carl countersigns), an outsider (Dora), each with a token;
    Finance numbers its directives 财〔year〕n号."""
    head = organisation.create_department(SYSTEM, code="BGS", name="Office", kind="office")
    finance = organisation.create_department(SYSTEM, code="FIN", name="Finance")
    legal = organisation.create_department(SYSTEM, code="LEG", name="Legal")
    registry.create_series(
        SYSTEM,
        code="FIN-OUT",
        name="Finance outgoing",
        direction="outgoing",
        pattern="财〔{year}〕{seq}号",
        department_id=finance.id,
    )
    people = {
        "clerk": make_user("lucia", "clerk", full_name="Lucía Clerk", clearance=3, department_id=head.id),
        "director": make_user("director", "leader", full_name="Diana Director", clearance=3, department_id=head.id),
        "ana": make_user("ana", "staff", full_name="Ana Ruiz", clearance=1, department_id=finance.id),
        "carl": make_user("carl", "staff", full_name="Carl Cruz", department_id=legal.id),
        "dora": make_user("dora", "staff", full_name="Dora Diaz"),
    }
    tokens = {name: token_for(user) for name, user in people.items()}
    return SimpleNamespace(office=head, finance=finance, legal=legal, sender=sender, auth=tokens, **people)


def call(client, office, who: str, method: str, path: str, body: dict | None = None, status: int = 200):
    """Call the API as `who`; check the status and return the JSON answer."""
    response = client.open(f"{API}{path}", method=method, json=body, headers=office.auth[who])
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def refused(client, office, who: str, method: str, path: str, body: dict | None, status: int, code: str) -> dict:
    """Call the API as `who` and check it answers with the JSON error `status` and `code`; return the error."""
    response = client.open(f"{API}{path}", method=method, json=body, headers=office.auth[who])
    return assert_error(response, status, code)


def notice(office, **changes) -> dict:
    """Return the JSON of a Chinese notice from Finance to Legal and the ministry, countersigned by Legal."""
    return {
        "kind": "notice",
        "title": "关于开展预算检查的通知",
        "issuer": "财务处",
        "department_id": office.finance.id,
        "urgency": "urgent",
        "signer_id": office.director.id,
        "body": "一、总体要求\n请按期完成预算检查。\n- 三月底前报送材料",
        "attachments_note": "检查表",
        "main_recipients": [{"department_id": office.legal.id}, {"correspondent_id": office.sender.id}],
        "countersign_department_ids": [office.legal.id],
        "feedback_requested": True,
        "feedback_deadline": "2026-03-20",
        **changes,
    }


def drafted(client, office, who: str = "ana", **changes) -> dict:
    return call(client, office, who, "POST", "/directives", notice(office, **changes), status=201)


def step(client, office, who: str, directive: dict, action: str, body: dict | None = None, status: int = 200):
    """Take a step (POST /directives/{id}/<action>) as `who`; return the directive as it now stands."""
    return call(client, office, who, "POST", f"/directives/{directive['id']}/{action}", body or {}, status)


def signed_off(client, office, directive: dict) -> dict:
    """Take a directive without countersigners from draft to re-check."""
    step(client, office, "ana", directive, "submit")
    step(client, office, "clerk", directive, "approve-review", {"opinion": "核稿无误"})
    return step(client, office, "director", directive, "sign-off", {})


def download(client, url: str, auth: dict) -> bytes:
    """Return the bytes of a Word file the API sends, checking that it is one; close the stored file it streamed."""
    response = client.get(url, headers=auth)
    try:
        assert response.status_code == 200 and response.mimetype == DOCX_MIME, response.get_data(as_text=True)
        return response.data
    finally:
        response.close()


def word_text(data: bytes) -> str:
    """Return every piece of text of a .docx's body, joined (runs split a number: join them back)."""
    read_docx(data)  # python-docx opens it
    return "".join(part_xml(data).itertext())


# --- the whole path ----------------------------------------------------------------------------------------------


def test_a_notice_goes_from_draft_to_issue_with_each_person_taking_their_step(client, office):
    created = client.post(f"{API}/directives", json=notice(office), headers=office.auth["ana"])
    assert created.status_code == 201, created.get_data(as_text=True)
    directive = created.get_json()
    assert created.headers["Location"].endswith(f"{API}/directives/{directive['id']}")
    assert directive["state"] == "draft" and directive["version"] == 1 and directive["number"] is None
    assert directive["language"] == "zh" and directive["drafted_by"]["name"] == "Ana Ruiz"
    assert directive["main_recipients"] == notice(office)["main_recipients"]
    assert directive["actions"] == ["edit", "submit", "withdraw"]
    assert directive["warnings"] == []
    assert [row["action"] for row in directive["history"]] == ["create"]

    directive = step(client, office, "ana", directive, "submit")
    assert directive["state"] == "review" and directive["actions"] == ["withdraw"]
    assert call(client, office, "clerk", "GET", f"/directives/{directive['id']}")["actions"] == [
        "edit",
        "approve-review",
        "send-back",
        "withdraw",
    ]
    directive = step(client, office, "clerk", directive, "approve-review", {"opinion": "核稿无误"})
    assert directive["state"] == "countersign"

    seen_by_carl = call(client, office, "carl", "GET", f"/directives/{directive['id']}")
    assert seen_by_carl["actions"] == ["countersign"]
    assert seen_by_carl["countersigns"][0]["department"]["name"] == "Legal"
    assert seen_by_carl["countersigns"][0]["actions"] == ["countersign"]
    directive = step(client, office, "carl", directive, "countersign", {"agree": True, "opinion": "同意"})
    assert directive["state"] == "signoff"
    assert directive["countersigns"][0]["state"] == "agreed"
    assert directive["countersigns"][0]["decided_by"]["name"] == "Carl Cruz"

    directive = step(client, office, "director", directive, "sign-off", {"opinion": "同意印发"})
    assert directive["state"] == "recheck"
    assert directive["signed_by"]["name"] == "Diana Director" and directive["signed_on"] == "2026-03-02"
    assert directive["sign_opinion"] == "同意印发" and directive["signed_version"] == directive["version"]

    directive = step(client, office, "clerk", directive, "register")
    assert directive["state"] == "registered" and directive["number"] == NUMBER
    assert directive["document"]["number"] == NUMBER

    external = next(r for r in directive["recipients"] if r["correspondent_id"] == office.sender.id)
    dispatch = {"recipient_id": external["id"], "channel": "paper", "sent_on": "2026-03-02"}
    directive = step(client, office, "clerk", directive, "issue", {"dispatches": [dispatch]})
    assert directive["state"] == "issued" and directive["actions"] == []
    sent = {r["name"]: (r["channel"], r["dispatched_on"], r["dispatched_by"]["name"]) for r in directive["recipients"]}
    assert sent == {
        "Legal": ("portal", "2026-03-02", "Lucía Clerk"),
        "Ministerio de Hacienda": ("paper", "2026-03-02", "Lucía Clerk"),
    }
    assert [row["action"] for row in directive["history"]] == [
        "create",
        "submit",
        "approve_review",
        "countersign_agree",
        "sign_off",
        "register",
        "issue",
    ]
    assert directive["history"][3]["department"]["name"] == "Legal"
    assert directive["history"][4]["text"] == "同意印发"

    # Legal finds it in its incoming register, from Finance, with the directive's number and its Word file
    feedback = call(client, office, "ana", "GET", f"/directives/{directive['id']}/feedback")
    legal = next(item for item in feedback["items"] if item["recipient"]["name"] == "Legal")
    assert legal["state"] == "received" and legal["expects_reply"] is True
    incoming = call(client, office, "carl", "GET", f"/documents/{legal['received']['id']}")
    assert incoming["direction"] == "incoming" and incoming["sender_reference"] == NUMBER
    assert incoming["department_id"] == office.legal.id and incoming["deadline"] == "2026-03-20"
    assert [a["filename"] for a in incoming["attachments"]] == [f"{NUMBER}.docx"]


def test_the_issuer_follows_replies_chases_and_links_them(client, office, fake_clock):
    directive = drafted(client, office, countersign_department_ids=[])
    directive = signed_off(client, office, directive)
    step(client, office, "clerk", directive, "register")
    directive = step(client, office, "clerk", directive, "issue", {})
    path = f"/directives/{directive['id']}"
    feedback = call(client, office, "clerk", "GET", f"{path}/feedback")
    states = {item["recipient"]["name"]: item["state"] for item in feedback["items"]}
    assert states == {"Legal": "received", "Ministerio de Hacienda": "sent"}
    assert feedback["feedback_requested"] is True and feedback["feedback_deadline"] == "2026-03-20"

    legal = next(item for item in feedback["items"] if item["recipient"]["name"] == "Legal")
    call(client, office, "clerk", "POST", f"/documents/{legal['received']['id']}/routing/accept", {"kind": "action"})
    feedback = call(client, office, "clerk", "GET", f"{path}/feedback")
    assert {item["recipient"]["name"]: item["state"] for item in feedback["items"]}["Legal"] == "read"

    assert call(client, office, "clerk", "POST", f"{path}/chase") == {"reminded": 1}
    assert call(client, office, "clerk", "POST", f"{path}/chase") == {"reminded": 0}  # once a day

    reply = call(
        client,
        office,
        "clerk",
        "POST",
        "/documents/outgoing",
        {
            "series_id": series_id("OUT"),
            "title": "关于预算检查情况的报告",
            "department_id": office.legal.id,
            "main_recipients": [{"department_id": office.finance.id}],
        },
        status=201,
    )
    body = {"number": reply["number"]}
    linked = call(client, office, "clerk", "POST", f"{path}/feedback/{legal['recipient']['id']}/reply", body)
    legal = next(item for item in linked["items"] if item["recipient"]["name"] == "Legal")
    assert legal["state"] == "replied" and legal["reply"]["number"] == reply["number"]
    assert legal["replied_at"] is not None and legal["chased_at"] is not None

    fake_clock.advance(days=20)  # past the deadline (and within the tokens' 30 days): who has not replied is overdue
    feedback = call(client, office, "clerk", "GET", f"{path}/feedback")
    states = {item["recipient"]["name"]: item["state"] for item in feedback["items"]}
    assert states == {"Legal": "replied", "Ministerio de Hacienda": "overdue"}


def test_sending_back_edits_after_sign_off_and_withdrawing(client, office):
    directive = drafted(client, office, countersign_department_ids=[])
    step(client, office, "ana", directive, "submit")
    directive = step(client, office, "clerk", directive, "send-back", {"reason": "缺少附件"})
    assert directive["state"] == "draft" and directive["return_reason"] == "缺少附件"

    directive = signed_off(client, office, directive)
    assert directive["state"] == "recheck"
    changed = {"version": directive["version"], "title": "关于开展年度预算检查的通知"}
    directive = call(client, office, "clerk", "PATCH", f"/directives/{directive['id']}", changed)
    assert directive["state"] == "signoff" and directive["signed_version"] is None  # back to the signer
    assert directive["history"][-1]["action"] == "edit_after_signoff"

    # once a leader has approved it, its drafter no longer withdraws it alone: the office does
    refused(
        client,
        office,
        "ana",
        "POST",
        f"/directives/{directive['id']}/withdraw",
        {"reason": "已另行发文"},
        403,
        "forbidden",
    )
    directive = step(client, office, "clerk", directive, "withdraw", {"reason": "已另行发文"})
    assert directive["state"] == "withdrawn" and directive["actions"] == []


def test_a_countersigning_department_that_declines_sends_it_back_to_review(client, office):
    directive = drafted(client, office)
    step(client, office, "ana", directive, "submit")
    step(client, office, "clerk", directive, "approve-review", {})
    error = refused(
        client,
        office,
        "carl",
        "POST",
        f"/directives/{directive['id']}/countersign",
        {"agree": False},
        422,
        "validation_failed",
    )
    assert set(error["fields"]) == {"opinion"}  # declining needs a reason
    body = {"department_id": office.legal.id, "agree": False, "opinion": "口径不一致"}
    directive = step(client, office, "carl", directive, "countersign", body)
    assert directive["state"] == "review" and directive["return_reason"] == "口径不一致"
    assert directive["countersigns"][0]["state"] == "declined"


# --- the Word file -------------------------------------------------------------------------------------------------


def test_the_word_file_is_a_preview_before_registration_and_the_numbered_file_after(client, office):
    directive = drafted(client, office, countersign_department_ids=[])
    preview = client.get(f"{API}/directives/{directive['id']}/word", headers=office.auth["ana"])
    assert preview.status_code == 200 and preview.mimetype == DOCX_MIME
    assert f"draft-{directive['id']}.docx" in preview.headers["Content-Disposition"]
    text = word_text(preview.data)
    assert "关于开展预算检查的通知" in text and "〔2026〕" not in text

    signed_off(client, office, directive)
    step(client, office, "clerk", directive, "register")
    for who in ("ana", "clerk"):
        numbered = download(client, directive["word_url"], office.auth[who])
        assert NUMBER in word_text(numbered)
    kept = call(client, office, "clerk", "GET", f"/directives/{directive['id']}")["document"]
    attachment = call(client, office, "clerk", "GET", f"/documents/{kept['id']}")["attachments"][0]
    stored = client.get(attachment["content_url"], headers=office.auth["clerk"])
    assert stored.data == numbered  # the file kept at registration, not drawn again
    stored.close()


def test_a_directive_drafted_on_an_uploaded_template_fills_it(client, office, store):
    template = docx.Document()
    for line in ("{{ number }}", "{{ title }}", "{{ body }}"):
        template.add_paragraph(line)
    buffer = io.BytesIO()
    template.save(buffer)
    office_templates.upload_template(SYSTEM, "Oficio del servicio", "es", "oficio.docx", buffer.getvalue(), store)

    listed = call(client, office, "ana", "GET", "/directive-templates")["items"]
    assert [(t["name"], t["language"]) for t in listed] == [("Oficio del servicio", "es")]
    assert {"number", "title", "body"} <= set(listed[0]["placeholders"])
    body = {
        "template_id": listed[0]["id"],
        "title": "Remisión del presupuesto",
        "issuer": "Servicio de Hacienda",
        "department_id": office.finance.id,
        "body": "Se remite el presupuesto.",
        "main_recipients": [{"department_id": office.legal.id}],
    }
    directive = call(client, office, "ana", "POST", "/directives", body, status=201)
    assert directive["kind"] == "template" and directive["language"] == "es"
    preview = download(client, directive["word_url"], office.auth["ana"])
    assert "Remisión del presupuesto" in word_text(preview) and "Se remite el presupuesto." in word_text(preview)

    signed_off(client, office, directive)
    step(client, office, "clerk", directive, "register")
    assert NUMBER in word_text(download(client, directive["word_url"], office.auth["ana"]))


# --- who sees and does what ------------------------------------------------------------------------------------


def test_a_directive_above_the_callers_clearance_is_not_found(client, office):
    secret = call(client, office, "clerk", "POST", "/directives", notice(office, classification=2), status=201)
    path = f"/directives/{secret['id']}"
    for method, action in (("GET", ""), ("GET", "/word"), ("GET", "/feedback"), ("POST", "/submit")):
        refused(client, office, "ana", method, path + action, {} if method == "POST" else None, 404, "not_found")
    refused(client, office, "ana", "PATCH", path, {"version": 1, "title": "x"}, 404, "not_found")
    assert call(client, office, "ana", "GET", "/directives")["items"] == []
    assert [item["id"] for item in call(client, office, "director", "GET", "/directives")["items"]] == [secret["id"]]


def test_only_those_it_concerns_see_a_directive(client, office):
    directive = drafted(client, office, countersign_department_ids=[])
    refused(client, office, "carl", "GET", f"/directives/{directive['id']}", None, 404, "not_found")
    refused(client, office, "dora", "GET", f"/directives/{directive['id']}", None, 404, "not_found")
    assert call(client, office, "dora", "GET", "/directives")["total"] == 0
    listed = call(client, office, "clerk", "GET", "/directives?state=draft")
    assert [item["id"] for item in listed["items"]] == [directive["id"]]
    assert call(client, office, "clerk", "GET", "/directives?mine=true")["total"] == 0
    assert call(client, office, "ana", "GET", "/directives?mine=true")["items"][0]["title"] == directive["title"]
    assert call(client, office, "clerk", "GET", "/directives?state=issued")["total"] == 0


def test_a_step_that_is_someone_elses_is_forbidden(client, office):
    directive = drafted(client, office)
    path = f"/directives/{directive['id']}"
    refused(client, office, "carl", "PATCH", path, {"version": 1, "note": "x"}, 403, "forbidden")  # not its drafter
    step(client, office, "ana", directive, "submit")
    refused(client, office, "ana", "POST", f"{path}/approve-review", {}, 403, "forbidden")  # the clerks review
    step(client, office, "clerk", directive, "approve-review", {})
    refused(client, office, "ana", "POST", f"{path}/countersign", {"agree": True}, 403, "forbidden")
    step(client, office, "carl", directive, "countersign", {"agree": True})
    refused(client, office, "carl", "POST", f"{path}/sign-off", {}, 403, "forbidden")  # the signer signs
    refused(client, office, "ana", "POST", f"{path}/register", {}, 403, "forbidden")
    waiting = call(client, office, "director", "GET", "/directives")["items"][0]
    assert waiting["waiting_for_me"] is True and waiting["state"] == "signoff"


def test_a_step_the_state_does_not_allow_is_a_conflict(client, office):
    directive = drafted(client, office)
    path = f"/directives/{directive['id']}"
    refused(client, office, "clerk", "POST", f"{path}/register", {}, 409, "conflict")
    refused(client, office, "clerk", "POST", f"{path}/approve-review", {}, 409, "conflict")
    refused(client, office, "clerk", "POST", f"{path}/chase", {}, 409, "conflict")
    refused(client, office, "clerk", "GET", f"{path}/feedback", None, 409, "conflict")
    step(client, office, "ana", directive, "submit")
    refused(client, office, "ana", "POST", f"{path}/submit", {}, 409, "conflict")


def test_an_edit_from_a_stale_version_is_a_conflict(client, office):
    directive = drafted(client, office)
    path = f"/directives/{directive['id']}"
    edited = call(client, office, "ana", "PATCH", path, {"version": 1, "note": "请各处室认真落实。"})
    assert edited["version"] == 2 and edited["note"] == "请各处室认真落实。"
    assert edited["title"] == directive["title"] and edited["main_recipients"] == directive["main_recipients"]
    assert edited["history"][-1]["action"] == "edit"
    error = refused(client, office, "ana", "PATCH", path, {"version": 1, "urgency": "normal"}, 409, "conflict")
    assert "reload" in error["message"]
    error = refused(client, office, "ana", "PATCH", path, {"urgency": "normal"}, 422, "validation_failed")
    assert set(error["fields"]) == {"version"}
    assert call(client, office, "ana", "GET", path)["urgency"] == "urgent"


@pytest.mark.parametrize(
    ("sent", "wrong"),
    [
        ({"colour": "red"}, {"colour"}),
        (
            {"title": 5, "classification": "high", "feedback_requested": "yes"},
            {"title", "classification", "feedback_requested"},
        ),
        ({"main_recipients": [{"user_id": 1}], "feedback_deadline": "soon"}, {"main_recipients", "feedback_deadline"}),
        ({"sections": {"present": 3}}, {"sections"}),
        (
            {"kind": "memo", "title": " ", "issuer": "", "urgency": "now", "feedback_deadline": None},
            {"kind", "title", "issuer", "urgency", "feedback_deadline"},
        ),
        ({"classification": 2, "signer_id": -1}, {"classification", "signer_id"}),  # above Ana's clearance
    ],
)
def test_a_draft_with_mistakes_is_refused_naming_each_field(client, office, sent, wrong):
    error = refused(client, office, "ana", "POST", "/directives", notice(office, **sent), 422, "validation_failed")
    assert set(error["fields"]) == wrong
    assert all(isinstance(message, str) and message for message in error["fields"].values())
    assert call(client, office, "ana", "GET", "/directives")["total"] == 0


def test_a_step_with_mistakes_is_refused_naming_each_field(client, office):
    directive = drafted(client, office, countersign_department_ids=[])
    path = f"/directives/{directive['id']}"
    error = refused(client, office, "ana", "POST", f"{path}/withdraw", {}, 422, "validation_failed")
    assert set(error["fields"]) == {"reason"}  # withdrawing needs a reason
    signed_off(client, office, directive)
    step(client, office, "clerk", directive, "register")
    for dispatches in ([{"recipient_id": 1}], [{"recipient_id": 1, "channel": "post", "sent_on": "yesterday"}]):
        error = refused(
            client, office, "clerk", "POST", f"{path}/issue", {"dispatches": dispatches}, 422, "validation_failed"
        )
        assert set(error["fields"]) == {"dispatches"}
    external = next(r for r in directive["recipients"] if not r["internal"])
    late = [{"recipient_id": external["id"], "channel": "pigeon", "sent_on": "2026-03-09"}]
    error = refused(client, office, "clerk", "POST", f"{path}/issue", {"dispatches": late}, 422, "validation_failed")
    assert set(error["fields"]) == {"channel", "sent_on"}
    assert call(client, office, "clerk", "GET", path)["state"] == "registered"  # nothing was distributed


def test_warnings_say_what_the_drafting_rules_advise_in_words(client, office):
    body = notice(
        office,
        kind="report",
        title="关于预算执行情况",
        body="妥否，请批准。",
        countersign_department_ids=[],
    )
    directive = call(client, office, "ana", "POST", "/directives", body, status=201)
    assert directive["warnings"] == [
        "A 报告 goes to one main recipient only.",
        "A report must not contain a request: send a request (请示) for it.",
        "The title of a 报告 usually ends with “报告”.",
    ]


# --- the types, tokens and the description -------------------------------------------------------------------


def test_the_directive_types_come_with_their_languages_and_sections(client, office):
    kinds = {kind["code"]: kind for kind in call(client, office, "dora", "GET", "/directive-kinds")["items"]}
    assert {"notice", "decision", "letter", "request", "report", "minutes", "oficio", "resolucion"} <= set(kinds)
    assert (kinds["notice"]["language"], kinds["notice"]["layout"]) == ("zh", "gb")
    assert kinds["request"]["upward"] is True and kinds["minutes"]["addressed"] is False
    sections = {section["name"]: section for section in kinds["resolucion"]["sections"]}
    assert set(sections) == {"background", "grounds", "resolved", "appeal"}
    assert sections["appeal"]["default"].startswith("Contra la presente resolución")


def directive_rules(app) -> list[tuple[str, str]]:
    """Return (method, path with ids filled in) of every directive operation of the API."""
    found = []
    for rule in app.url_map.iter_rules():
        if re.match(rf"^{API}/directive", rule.rule):
            path = re.sub(r"<int:\w+>", "1", rule.rule)
            found += [(method, path) for method in rule.methods & {"GET", "POST", "PATCH"}]
    return sorted(found)


def test_every_directive_operation_needs_a_token(app, client):
    rules = directive_rules(app)
    assert len(rules) == 18
    for method, path in rules:
        assert_error(client.open(path, method=method, json={}), 401, "invalid_token")


def test_openapi_describes_every_directive_operation_and_field(client, office):
    spec = client.get(f"{API}/openapi.json").get_json()
    schemas, paths = spec["components"]["schemas"], spec["paths"]
    assert {path: set(operations) for path, operations in paths.items() if path.startswith("/directive")} == {
        "/directives": {"get", "post"},
        "/directives/{directive_id}": {"get", "patch"},
        **{
            f"/directives/{{directive_id}}/{action}": {"post"}
            for action in (
                "submit",
                "approve-review",
                "countersign",
                "sign-off",
                "send-back",
                "withdraw",
                "register",
                "issue",
                "chase",
            )
        },
        "/directives/{directive_id}/word": {"get"},
        "/directives/{directive_id}/feedback": {"get"},
        "/directives/{directive_id}/feedback/{recipient_id}/reply": {"post"},
        "/directive-kinds": {"get"},
        "/directive-templates": {"get"},
    }

    def body_of(path: str, method: str = "post") -> set[str]:
        ref = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return set(schemas[ref.rsplit("/", 1)[-1]]["properties"])

    draft_fields = {field.name for field in fields(drafts.Draft)}
    assert body_of("/directives") == draft_fields
    assert body_of("/directives/{directive_id}", "patch") == draft_fields | {"version"}
    assert body_of("/directives/{directive_id}/countersign") == {"department_id", "agree", "opinion"}
    assert body_of("/directives/{directive_id}/issue") == {"dispatches"}
    assert body_of("/directives/{directive_id}/feedback/{recipient_id}/reply") == {"number"}
    for action in ("submit", "register", "chase"):
        assert "requestBody" not in paths[f"/directives/{{directive_id}}/{action}"]["post"]
    assert schemas["Directive"]["properties"]["actions"]["items"]["enum"] == [
        action.replace("_", "-") for action in flow.ACTIONS
    ]

    directive = drafted(client, office)
    assert set(directive) == set(schemas["Directive"]["properties"])
    assert draft_fields <= set(directive)  # what GET gives, PATCH takes back
    assert set(directive["recipients"][0]) == set(schemas["DirectiveRecipient"]["properties"])
    assert set(directive["countersigns"][0]) == set(schemas["Countersign"]["properties"])
    assert set(directive["history"][0]) == set(schemas["DirectiveStep"]["properties"])
    listed = call(client, office, "ana", "GET", "/directives")["items"][0]
    assert set(listed) == set(schemas["DirectiveSummary"]["properties"])
    kind = call(client, office, "ana", "GET", "/directive-kinds")["items"][0]
    assert set(kind) == set(schemas["DirectiveKind"]["properties"])
