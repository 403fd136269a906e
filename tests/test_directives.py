"""Directives: drafting, review, countersigning, sign-off, re-check, registration, issue, replies and chasing."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from types import SimpleNamespace

import docx
import pytest
from sqlalchemy import func, select

from docstore import accounts, audit, clock, correspondents, database, organisation, registry, routing
from docstore.directives import drafts, flow, inbox, issuing, office_templates, summary
from docstore.errors import N_, Conflict, DocstoreError, Forbidden, Msg, NotFound, StoredFileMissing, ValidationFailed
from docstore.extensions import db
from docstore.models import (
    AuditEvent,
    AuditHead,
    Directive,
    DirectiveStep,
    Document,
    Notification,
    RoutingItem,
    Series,
    SeriesCounter,
)
from tests.service_support import act, ctx, refused
from tests.word_support import part_xml

POLICY = registry.UploadPolicy(frozenset({"docx"}), 1 << 20, "UTC")
SYSTEM = audit.SYSTEM
MONDAY = date(2026, 3, 2)  # the fake clock's day
DUE = date(2026, 3, 13)


def fresh(directive_id: int) -> Directive:
    db.session.expire_all()
    return db.session.get(Directive, directive_id)


def series(code: str) -> Series:
    return db.session.scalars(select(Series).where(Series.code == code)).one()


def counter(code: str) -> int:
    """Return the last number taken in register `code` this year (0: none)."""
    query = select(SeriesCounter.last_value).where(SeriesCounter.series_id == series(code).id)
    return db.session.execute(query).scalar() or 0


def steps(directive_id: int) -> list[DirectiveStep]:
    query = select(DirectiveStep).where(DirectiveStep.directive_id == directive_id).order_by(DirectiveStep.id)
    return list(db.session.scalars(query))


def directive_events(directive_id: int) -> list[str]:
    query = (
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "directive", AuditEvent.object_id == str(directive_id))
        .order_by(AuditEvent.seq)
    )
    return list(db.session.scalars(query))


def event_count() -> int:
    return db.session.execute(select(func.count(AuditEvent.seq))).scalar_one()


def told(user) -> list[str]:
    """Return what `user` was told about directives, as the steps of their notifications, oldest first."""
    query = (
        select(Notification)
        .where(Notification.user_id == user.id, Notification.kind == "directive")
        .order_by(Notification.id)
    )
    return [notification.params["step"] for notification in db.session.scalars(query)]


def word_text(store, attachment) -> str:
    with store.open(attachment.sha256) as stream:
        return "".join(part_xml(stream.read()).itertext())


@pytest.fixture
def people(app, make_user, clerk, fake_clock):
    """An office with its own outgoing register (办发〔year〕n号), Finance with its own incoming register, Legal,
    a subordinate county bureau, an outside auditor, two clerks, two leaders and their staff."""
    office = organisation.create_department(SYSTEM, code="BGS", name="办公室", kind="office")
    finance = organisation.create_department(SYSTEM, code="CWC", name="财务处")
    legal = organisation.create_department(SYSTEM, code="FGC", name="法规处")
    county = organisation.create_department(SYSTEM, code="XQJ", name="某某县局", kind="unit", parent_id=office.id)
    registry.create_series(
        SYSTEM,
        code="BF",
        name="办公室发文",
        direction="outgoing",
        pattern="办发〔{year}〕{seq}号",
        department_id=office.id,
    )
    registry.create_series(
        SYSTEM,
        code="CS",
        name="财务处收文",
        direction="incoming",
        pattern="财收〔{year}〕{seq}号",
        department_id=finance.id,
    )
    ana = make_user("ana", "staff", full_name="Ana Ruiz", department_id=finance.id)
    carl = make_user("carl", "staff", full_name="Carl Cruz", department_id=legal.id)
    xu = make_user("xu", "staff", full_name="Xu Hua", department_id=county.id)
    return SimpleNamespace(
        clerk=clerk,
        marta=make_user("marta", "clerk", full_name="Marta Gil", clearance=1),
        office=office,
        finance=finance,
        legal=legal,
        county=county,
        auditors=correspondents.create_correspondent(SYSTEM, name="市审计局"),
        director=make_user("director", "leader", full_name="王主任", department_id=office.id, clearance=3),
        deputy=make_user("deputy", "leader", full_name="李副主任", department_id=office.id, clearance=3),
        li=make_user("li", "staff", full_name="李明", department_id=office.id, clearance=2),
        eve=make_user("eve", "staff", full_name="Eve Eng", department_id=office.id),
        ana=ana,
        bo=make_user("bo", "staff", full_name="Bo Li", department_id=finance.id),
        carl=carl,
        xu=xu,
        dora=make_user("dora", "staff", full_name="Dora Diaz"),
        members={finance.id: ana, legal.id: carl, county.id: xu},
    )


def everyone(p) -> list:
    return [p.clerk, p.marta, p.director, p.deputy, p.li, p.eve, p.ana, p.bo, p.carl, p.xu, p.dora]


def notice(p, **fields) -> drafts.Draft:
    """Return the office's notice to Finance and the county bureau, copied to the auditors; Finance and Legal
    countersign, the director signs."""
    values = {
        "kind": "notice",
        "title": "关于做好2026年度预算编制工作的通知",
        "issuer": "某某市财政局",
        "department_id": p.office.id,
        "signer_id": p.director.id,
        "body": "一、总体要求\n各单位要高度重视预算编制工作。\n\n二、时间安排\n请于3月13日前报送。",
        "main_recipients": [("department", p.finance.id), ("department", p.county.id)],
        "copy_recipients": [("correspondent", p.auditors.id)],
        "countersign_department_ids": [p.finance.id, p.legal.id],
    }
    values.update(fields)
    return drafts.Draft(**values)


def drafted(p, author=None, **fields) -> Directive:
    return act(drafts.create_draft, ctx(author or p.li), notice(p, **fields))


def take_next_step(p, directive: Directive, store) -> None:
    """Take the step `directive` waits for, as the person who holds it (all agree)."""
    state, ident = directive.state, directive.id
    if state == "draft":
        act(flow.submit, audit.Context(directive.drafted_by_id), ident)
    elif state == "review":
        act(flow.approve_review, ctx(p.clerk), ident)
    elif state == "countersign":
        row = next(c for c in directive.countersigns if c.state == "pending")
        act(flow.countersign, ctx(p.members[row.department_id]), ident, row.department_id, True, "同意。")
    elif state == "signoff":
        act(flow.sign_off, ctx(p.director), ident, "同意。")
    elif state == "recheck":
        act(issuing.register, ctx(p.clerk), ident, POLICY, store)
    elif state == "registered":
        act(issuing.issue, ctx(p.clerk), ident, POLICY)
    else:
        raise AssertionError(f"no step from {state}")


def bring(p, directive: Directive, state: str, store=None) -> Directive:
    """Take the steps that bring `directive` to `state`."""
    directive = fresh(directive.id)
    while directive.state != state:
        take_next_step(p, directive, store)
        directive = fresh(directive.id)
    return directive


# --- the whole path ---------------------------------------------------------------------------------------------


def test_a_notice_goes_from_draft_to_its_recipients_registers_and_every_step_is_recorded(people, store, fake_clock):
    p = people
    directive = drafted(p)
    ident = directive.id
    assert (directive.state, directive.version, directive.drafted_by_id) == ("draft", 1, p.li.id)
    fake_clock.advance(minutes=5)
    act(flow.submit, ctx(p.li), ident)
    fake_clock.advance(minutes=5)
    act(flow.approve_review, ctx(p.clerk), ident, "文字已核。")
    directive = fresh(ident)
    assert directive.state == "countersign"
    assert [(c.department_id, c.state) for c in directive.countersigns] == [
        (p.finance.id, "pending"),
        (p.legal.id, "pending"),
    ]

    # Legal declines, which needs a reason: back to the office's review
    refused(ValidationFailed, flow.countersign, ctx(p.carl), ident, p.legal.id, False, "  ")
    assert fresh(ident).state == "countersign"
    fake_clock.advance(minutes=5)
    act(flow.countersign, ctx(p.carl), ident, p.legal.id, False, "第二条与预算法的表述不一致。")
    directive = fresh(ident)
    assert (directive.state, directive.return_reason) == ("review", "第二条与预算法的表述不一致。")
    legal = directive.countersigns[1]
    assert (legal.state, legal.opinion, legal.decided_by_id) == ("declined", "第二条与预算法的表述不一致。", p.carl.id)

    # the clerk corrects the text and passes it again: every department countersigns afresh
    corrected = replace(drafts.Draft.of(directive), body=directive.body + "\n\n三、依据\n依照预算法执行。")
    act(drafts.update_draft, ctx(p.clerk), ident, corrected, directive.version)
    act(flow.approve_review, ctx(p.clerk), ident)
    directive = fresh(ident)
    assert [(c.state, c.opinion, c.decided_by_id) for c in directive.countersigns] == [("pending", "", None)] * 2
    fake_clock.advance(minutes=5)
    act(flow.countersign, ctx(p.ana), ident, None, True)  # her only department: Finance
    directive = fresh(ident)
    assert directive.state == "countersign"
    assert [c.state for c in directive.countersigns] == ["agreed", "pending"]
    act(flow.countersign, ctx(p.carl), ident, p.legal.id, True, "同意。")
    assert fresh(ident).state == "signoff"

    fake_clock.advance(hours=2)
    act(flow.sign_off, ctx(p.director), ident, "同意印发。")
    directive = fresh(ident)
    assert directive.state == "recheck"
    assert (directive.signed_by_id, directive.sign_opinion, directive.signed_on) == (
        p.director.id,
        "同意印发。",
        MONDAY,
    )
    assert clock.as_utc(directive.signed_at) == clock.now()
    assert directive.signed_version == directive.version
    # no number is taken before registration
    assert directive.document_id is None and counter("BF") == 0

    fake_clock.advance(minutes=30)
    act(issuing.register, ctx(p.clerk), ident, POLICY, store)
    directive = fresh(ident)
    document = directive.document
    assert directive.state == "registered"
    assert (document.number, document.direction, document.series.code) == ("办发〔2026〕1号", "outgoing", "BF")
    assert (document.department_id, document.signer_id, document.document_date) == (p.office.id, p.director.id, MONDAY)
    assert document.document_type.code == "TZ"
    assert (document.title, document.classification) == (directive.title, 0)
    assert [(r.role, r.department_id, r.correspondent_id) for r in document.recipients] == [
        ("main", p.finance.id, None),
        ("main", p.county.id, None),
        ("copy", None, p.auditors.id),
    ]
    (word,) = document.attachments
    assert (word.filename, word.kind) == ("办发〔2026〕1号.docx", "docx")
    assert "办发〔2026〕1号" in word_text(store, word)
    assert counter("BF") == 1 and counter("OUT") == 0  # the issuing department's own register

    fake_clock.advance(minutes=30)
    finance_copy, county_copy, auditors_copy = directive.recipients
    act(issuing.issue, ctx(p.clerk), ident, POLICY, [issuing.Dispatch(auditors_copy.id, "paper", MONDAY)])
    directive = fresh(ident)
    assert (directive.state, clock.as_utc(directive.issued_at)) == ("issued", clock.now())
    assert directive.document.sent_on == MONDAY
    finance_copy, county_copy, auditors_copy = directive.recipients
    received = finance_copy.incoming_document
    assert (received.direction, received.series.code, received.number) == ("incoming", "CS", "财收〔2026〕1号")
    assert (received.department_id, received.title) == (p.finance.id, directive.title)
    assert (received.sender_reference, received.sender_date, received.correspondent.name) == (
        "办发〔2026〕1号",
        MONDAY,
        "办公室",
    )
    assert [(a.filename, a.sha256) for a in received.attachments] == [(word.filename, word.sha256)]
    in_county = county_copy.incoming_document
    assert (in_county.series.code, in_county.department_id, in_county.sender_reference) == (
        "IN",
        p.county.id,
        "办发〔2026〕1号",
    )
    assert [a.sha256 for a in in_county.attachments] == [word.sha256]
    assert (finance_copy.channel, finance_copy.dispatched_on, finance_copy.dispatched_by_id) == (
        "portal",
        MONDAY,
        p.clerk.id,
    )
    assert auditors_copy.incoming_document_id is None
    assert (auditors_copy.channel, auditors_copy.dispatched_on, auditors_copy.dispatched_by_id) == (
        "paper",
        MONDAY,
        p.clerk.id,
    )
    # each department finds its copy in its register, and only its own
    assert registry.can_view(p.ana, received) and registry.can_view(p.xu, in_county)
    assert not registry.can_view(p.xu, received) and not registry.can_view(p.ana, in_county)
    pending = db.session.scalars(select(RoutingItem.document_id).where(RoutingItem.state == "pending")).all()
    assert sorted(pending) == sorted([received.id, in_county.id])  # on the clerks' board, awaiting receipt

    assert [(s.action, s.from_state, s.to_state, s.actor_id, s.department_id, s.text) for s in steps(ident)] == [
        ("create", "draft", "draft", p.li.id, None, ""),
        ("submit", "draft", "review", p.li.id, None, ""),
        ("approve_review", "review", "countersign", p.clerk.id, None, "文字已核。"),
        ("countersign_decline", "countersign", "review", p.carl.id, p.legal.id, "第二条与预算法的表述不一致。"),
        ("edit", "review", "review", p.clerk.id, None, "body"),
        ("approve_review", "review", "countersign", p.clerk.id, None, ""),
        ("countersign_agree", "countersign", "countersign", p.ana.id, p.finance.id, ""),
        ("countersign_agree", "countersign", "signoff", p.carl.id, p.legal.id, "同意。"),
        ("sign_off", "signoff", "recheck", p.director.id, None, "同意印发。"),
        ("register", "recheck", "registered", p.clerk.id, None, "办发〔2026〕1号"),
        ("issue", "registered", "issued", p.clerk.id, None, "3"),
    ]
    assert directive_events(ident) == [
        "directive.create",
        "directive.submit",
        "directive.approve_review",
        "directive.countersign_decline",
        "directive.update",
        "directive.approve_review",
        "directive.countersign_agree",
        "directive.countersign_agree",
        "directive.sign_off",
        "directive.register",
        "directive.issue",
    ]
    registered = db.session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "document.register"))
    assert sorted(registered) == sorted(str(d.id) for d in (document, received, in_county))
    report = audit.verify_chain()
    assert report.intact, report.problems

    # who was told what, and when
    assert told(p.clerk) == told(p.marta) == ["review", "review", "recheck"]
    assert told(p.carl) == ["countersign", "countersign"]
    assert told(p.ana) == told(p.bo) == ["countersign", "countersign", "received"]  # Finance receives a copy too
    assert told(p.director) == ["signoff"]
    assert told(p.li) == ["issued"]
    assert told(p.xu) == ["received"]  # the county bureau receives its copy
    assert told(p.deputy) == told(p.eve) == []


def test_the_signer_and_the_countersigning_departments_are_told_when_the_directive_waits_for_them(people, admin):
    p = people
    directive = drafted(p, countersign_department_ids=[p.legal.id])
    bring(p, directive, "countersign")
    assert told(p.clerk) == told(admin) == ["review"]  # an administrator takes the clerks' steps too
    assert told(p.carl) == ["countersign"]
    assert told(p.ana) == told(p.bo) == told(p.director) == []  # Finance receives it but does not countersign
    bring(p, directive, "signoff")
    assert told(p.director) == ["signoff"] and told(p.deputy) == []

    anyone = drafted(p, signer_id=None, countersign_department_ids=[], title="关于开展安全检查的通知")
    bring(p, anyone, "signoff")
    assert (told(p.director), told(p.deputy)) == (["signoff", "signoff"], ["signoff"])  # no signer: any leader


def test_the_work_list_of_each_user_holds_the_directives_that_wait_for_their_step(people, store):
    p = people
    accounts.add_substitution(SYSTEM, p.deputy.id, p.eve.id, MONDAY, MONDAY)
    waiting = {
        "draft": drafted(p),
        "review": bring(p, drafted(p), "review"),
        "countersign": bring(p, drafted(p), "countersign"),
        "signoff": bring(p, drafted(p), "signoff"),
        "anyone": bring(p, drafted(p, signer_id=None, countersign_department_ids=[]), "signoff"),
        "recheck": bring(p, drafted(p), "recheck"),
        "registered": bring(p, drafted(p), "registered", store),
        "secret": bring(p, drafted(p, classification=2, countersign_department_ids=[]), "review"),
    }
    act(flow.countersign, ctx(p.bo), waiting["countersign"].id, p.finance.id, True)
    directives = [fresh(d.id) for d in waiting.values()]
    expected = {
        "lucia": ["review", "recheck", "registered"],  # not the secret one, above her clearance
        "director": ["signoff", "anyone"],
        "deputy": ["anyone"],
        "eve": ["anyone"],  # standing in for the deputy
        "carl": ["countersign"],
        "ana": [],  # Finance has countersigned
        "li": [],
    }
    for user in everyone(p):
        mine = {d.id for d in directives if flow.waiting_for(user, d) and drafts.can_view(user, d)}
        page = inbox.waiting_list(user, 1, 50)
        assert {d.id for d in page.items} == mine, user.username
        assert inbox.waiting_count(user) == len(mine), user.username
        if user.username in expected:
            assert mine == {waiting[name].id for name in expected[user.username]}, user.username


# --- sending back and editing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "back_to", "holder"),
    [
        ("review", "draft", "clerk"),
        ("countersign", "review", "clerk"),
        ("signoff", "countersign", "director"),
        ("recheck", "signoff", "marta"),
    ],
)
def test_the_holder_of_a_step_sends_the_directive_back_one_step_with_a_reason(people, state, back_to, holder):
    p = people
    directive = bring(p, drafted(p), state)
    holder = getattr(p, holder)
    version, before = directive.version, len(steps(directive.id))
    error = refused(ValidationFailed, flow.send_back, ctx(holder), directive.id, "   ")
    assert error.errors == {"reason": Msg(N_("Give a reason."))}
    assert fresh(directive.id).state == state and len(steps(directive.id)) == before
    act(flow.send_back, ctx(holder), directive.id, "请补充资金来源。")
    directive = fresh(directive.id)
    assert (directive.state, directive.return_reason, directive.version) == (back_to, "请补充资金来源。", version)
    last = steps(directive.id)[-1]
    assert (last.action, last.from_state, last.to_state, last.actor_id, last.text) == (
        "send_back",
        state,
        back_to,
        holder.id,
        "请补充资金来源。",
    )
    assert directive_events(directive.id)[-1] == "directive.send_back"
    if back_to == "countersign":  # the departments countersign again, and are told
        assert [c.state for c in directive.countersigns] == ["pending", "pending"]
        assert told(p.carl)[-1] == "countersign"
    if state == "recheck":  # the signature no longer stands
        assert directive.signed_version is None
        assert told(p.director)[-1] == "signoff"
    if back_to == "draft":
        assert told(p.li) == ["draft"]


def test_sign_off_goes_back_to_review_when_no_department_countersigns(people):
    p = people
    directive = bring(p, drafted(p, countersign_department_ids=[]), "signoff")
    act(flow.send_back, ctx(p.director), directive.id, "重新核稿。")
    assert fresh(directive.id).state == "review"


def test_a_substantive_edit_in_recheck_returns_the_directive_to_its_signer(people):
    p = people
    directive = bring(p, drafted(p), "recheck")
    signed = directive.version
    assert directive.signed_version == signed
    told_before = told(p.director)
    edited = replace(drafts.Draft.of(directive), title="关于做好2026年度部门预算编制工作的通知")
    act(drafts.update_draft, ctx(p.clerk), directive.id, edited, signed)
    directive = fresh(directive.id)
    assert (directive.state, directive.version, directive.signed_version) == ("signoff", signed + 1, None)
    last = steps(directive.id)[-1]
    assert (last.action, last.from_state, last.to_state, last.text) == (
        "edit_after_signoff",
        "recheck",
        "signoff",
        "title",
    )
    assert told(p.director) == [*told_before, "signoff"]  # the signer learns it waits for them again
    assert "sign_off" in flow.actions_for(p.director, directive)

    act(flow.sign_off, ctx(p.director), directive.id)
    directive = fresh(directive.id)
    assert (directive.state, directive.signed_version, directive.sign_opinion) == ("recheck", signed + 1, "同意")
    # when replies are due is not in the text the signer approved (the place and references printed are)
    minor = replace(drafts.Draft.of(directive), feedback_requested=True, feedback_deadline=date(2026, 4, 30))
    act(drafts.update_draft, ctx(p.clerk), directive.id, minor, directive.version)
    directive = fresh(directive.id)
    assert (directive.state, directive.version, directive.signed_version) == ("recheck", signed + 2, signed + 1)
    assert steps(directive.id)[-1].action == "edit"


def test_an_edit_from_a_stale_version_is_refused_and_changes_nothing(people):
    p = people
    directive = drafted(p)
    first = replace(drafts.Draft.of(directive), title="关于做好预算编制工作的通知")
    act(drafts.update_draft, ctx(p.eve), directive.id, first, 1)
    stale = replace(drafts.Draft.of(directive), body="另一个版本。")
    error = refused(Conflict, drafts.update_draft, ctx(p.li), directive.id, stale, 1)
    assert "reload" in str(error)
    directive = fresh(directive.id)
    assert (directive.version, directive.title) == (2, "关于做好预算编制工作的通知")
    assert directive.body.startswith("一、总体要求")
    unchanged = drafts.Draft.of(directive)
    act(drafts.update_draft, ctx(p.li), directive.id, unchanged, 2)  # saving nothing new is no new version
    assert fresh(directive.id).version == 2


def test_only_the_office_edits_a_submitted_directive_and_nobody_edits_a_registered_one(people, store):
    p = people
    directive = bring(p, drafted(p), "review")
    same = drafts.Draft.of(directive)
    refused(Forbidden, drafts.update_draft, ctx(p.li), directive.id, replace(same, title="x的通知"))
    refused(NotFound, drafts.update_draft, ctx(p.dora), directive.id, replace(same, title="x的通知"))
    directive = bring(p, directive, "registered", store)
    error = refused(Conflict, drafts.update_draft, ctx(p.clerk), directive.id, replace(same, title="x的通知"))
    assert "numbered" in str(error)


# --- who may do what, and see what ---------------------------------------------------------------------------------


def test_each_step_is_taken_only_by_who_holds_it(people, store):
    p = people
    directive = drafted(p)
    ident = directive.id
    refused(Forbidden, flow.submit, ctx(p.ana), ident)  # Finance countersigns, but does not draft
    act(flow.submit, ctx(p.eve), ident)  # a colleague of the drafter's department may
    refused(Forbidden, flow.approve_review, ctx(p.li), ident)
    refused(Forbidden, flow.approve_review, ctx(p.director), ident)
    refused(Forbidden, flow.send_back, ctx(p.li), ident, "x")
    act(flow.approve_review, ctx(p.marta), ident)

    refused(Forbidden, flow.countersign, ctx(p.li), ident, p.finance.id, True)  # the issuing department
    refused(Forbidden, flow.countersign, ctx(p.clerk), ident, p.finance.id, True)
    refused(Forbidden, flow.countersign, ctx(p.ana), ident, p.legal.id, True)  # not her department
    refused(NotFound, flow.countersign, ctx(p.xu), ident, p.finance.id, True)  # may not even see it
    act(flow.countersign, ctx(p.bo), ident, p.finance.id, True)
    refused(Forbidden, flow.countersign, ctx(p.ana), ident, p.finance.id, True)  # Finance has countersigned
    act(flow.countersign, ctx(p.carl), ident, None, True)

    refused(Forbidden, flow.sign_off, ctx(p.deputy), ident)  # a leader, but not the chosen signer
    refused(Forbidden, flow.sign_off, ctx(p.clerk), ident)
    refused(Forbidden, flow.send_back, ctx(p.deputy), ident, "x")
    refused(Forbidden, flow.withdraw, ctx(p.ana), ident, "x")
    act(flow.sign_off, ctx(p.director), ident)

    refused(Forbidden, issuing.register, ctx(p.li), ident, POLICY, store)
    refused(Forbidden, issuing.register, ctx(p.director), ident, POLICY, store)
    act(issuing.register, ctx(p.clerk), ident, POLICY, store)
    refused(Forbidden, issuing.issue, ctx(p.director), ident, POLICY)
    refused(NotFound, issuing.issue, ctx(p.dora), ident, POLICY)
    act(issuing.issue, ctx(p.marta), ident, POLICY)
    assert fresh(ident).state == "issued"


def test_the_signers_substitute_signs_off_for_them(people):
    p = people
    accounts.add_substitution(SYSTEM, p.director.id, p.eve.id, MONDAY, MONDAY + timedelta(days=4))
    directive = bring(p, drafted(p), "signoff")
    assert flow.signing_for(p.eve, directive) == (True, p.director.id)
    assert flow.signing_for(p.director, directive) == (True, None)
    act(flow.sign_off, ctx(p.eve), directive.id, "同意。")
    directive = fresh(directive.id)
    assert (directive.state, directive.signed_by_id) == ("recheck", p.director.id)
    last = steps(directive.id)[-1]
    assert (last.action, last.actor_id, last.acting_for_id) == ("sign_off", p.eve.id, p.director.id)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "directive.sign_off")).one()
    assert (event.actor_id, event.acting_for_id) == (p.eve.id, p.director.id)


def test_a_substitute_countersigns_for_their_department_while_standing_in(people, fake_clock):
    p = people
    accounts.add_substitution(SYSTEM, p.carl.id, p.dora.id, MONDAY, MONDAY)
    directive = bring(p, drafted(p), "countersign")
    assert flow.countersigning_for(p.dora, directive) == {p.legal.id: p.carl.id}
    act(flow.countersign, ctx(p.dora), directive.id, p.legal.id, True, "同意。")
    row = fresh(directive.id).countersigns[1]
    assert (row.state, row.decided_by_id) == ("agreed", p.dora.id)
    assert steps(directive.id)[-1].acting_for_id == p.carl.id
    fake_clock.advance(days=1)  # no longer standing in: she no longer sees it
    refused(NotFound, flow.countersign, ctx(p.dora), directive.id, p.legal.id, True)


def test_who_may_open_a_directive_is_the_same_one_by_one_and_in_lists(people):
    p = people
    accounts.add_substitution(SYSTEM, p.carl.id, p.dora.id, MONDAY, MONDAY + timedelta(days=4))
    office = drafted(p, countersign_department_ids=[p.finance.id])
    legal = drafted(
        p,
        author=p.carl,
        kind="letter",
        title="关于商请提供合同文本的函",
        department_id=p.legal.id,
        signer_id=p.deputy.id,
        countersign_department_ids=[],
    )
    secret = drafted(p, title="关于调整预算的通知", classification=2, countersign_department_ids=[p.legal.id])
    restricted = drafted(p, title="关于人事安排的通知", classification=1, countersign_department_ids=[])
    finance = drafted(
        p, author=p.ana, title="关于经费报销的通知", department_id=p.finance.id, countersign_department_ids=[]
    )
    directives = [office, legal, secret, restricted, finance]
    expected = {
        "lucia": [office, legal, restricted, finance],  # clerks see the whole office's, within clearance 1
        "marta": [office, legal, restricted, finance],
        "director": directives,
        "deputy": directives,
        "li": [office, secret, restricted],  # her department's, within her clearance 2
        "eve": [office],  # her department's, but not above her clearance 0
        "ana": [office, finance],  # Finance countersigns the first and issues the last
        "bo": [office, finance],
        "carl": [legal],  # Legal countersigns the secret one, above his clearance
        "xu": [],
        "dora": [legal],  # standing in for Carl
    }
    for user in everyone(p):
        seen = {d.id for d in db.session.scalars(drafts.visible(select(Directive), user))}
        one_by_one = {d.id for d in directives if drafts.can_view(user, d)}
        assert seen == one_by_one, user.username
        assert seen == {d.id for d in expected[user.username]}, user.username
        listed = drafts.list_directives(user, 1, 50)
        assert {d.id for d in listed.items} == seen and listed.total == len(seen)


def test_a_directive_someone_may_not_open_is_not_found_and_a_step_they_do_not_hold_is_forbidden(
    people, client, sign_in
):
    p = people
    directive = bring(p, drafted(p), "review")
    sign_in("dora")
    assert client.get(f"/directives/{directive.id}").status_code == 404
    assert client.post(f"/directives/{directive.id}/approve-review").status_code == 404
    client.post("/sign-out")
    sign_in("eve")
    assert client.get(f"/directives/{directive.id}").status_code == 200
    assert client.post(f"/directives/{directive.id}/approve-review").status_code == 403
    assert fresh(directive.id).state == "review"


# --- illegal steps and concurrency --------------------------------------------------------------------------------


ILLEGAL = [
    ("draft", lambda p, d, s: flow.approve_review(ctx(p.clerk), d.id)),
    ("draft", lambda p, d, s: flow.send_back(ctx(p.clerk), d.id, "x")),
    ("draft", lambda p, d, s: flow.sign_off(ctx(p.director), d.id)),
    ("draft", lambda p, d, s: issuing.register(ctx(p.clerk), d.id, POLICY, s)),
    ("review", lambda p, d, s: flow.submit(ctx(p.li), d.id)),
    ("review", lambda p, d, s: flow.countersign(ctx(p.ana), d.id, p.finance.id, True)),
    ("countersign", lambda p, d, s: flow.approve_review(ctx(p.clerk), d.id)),
    ("countersign", lambda p, d, s: flow.sign_off(ctx(p.director), d.id)),
    ("signoff", lambda p, d, s: issuing.register(ctx(p.clerk), d.id, POLICY, s)),
    ("signoff", lambda p, d, s: flow.countersign(ctx(p.ana), d.id, p.finance.id, True)),
    ("recheck", lambda p, d, s: flow.sign_off(ctx(p.director), d.id)),
    ("recheck", lambda p, d, s: issuing.issue(ctx(p.clerk), d.id, POLICY)),
    ("registered", lambda p, d, s: flow.send_back(ctx(p.clerk), d.id, "x")),
    ("registered", lambda p, d, s: flow.withdraw(ctx(p.clerk), d.id, "x")),
    ("registered", lambda p, d, s: issuing.register(ctx(p.clerk), d.id, POLICY, s)),
    ("issued", lambda p, d, s: issuing.issue(ctx(p.clerk), d.id, POLICY)),
    ("issued", lambda p, d, s: flow.submit(ctx(p.li), d.id)),
]


@pytest.mark.parametrize(("state", "step"), ILLEGAL)
def test_a_step_the_state_does_not_allow_is_a_conflict_and_changes_nothing(people, store, state, step):
    p = people
    directive = bring(p, drafted(p), state, store)
    before = (directive.version, len(steps(directive.id)), event_count(), counter("BF"))
    error = refused(Conflict, step, p, directive, store)
    assert error.status == 409
    directive = fresh(directive.id)
    assert directive.state == state
    assert (directive.version, len(steps(directive.id)), event_count(), counter("BF")) == before


def test_a_withdrawn_directive_takes_no_further_step(people):
    p = people
    directive = bring(p, drafted(p), "review")
    refused(ValidationFailed, flow.withdraw, ctx(p.li), directive.id, "")
    act(flow.withdraw, ctx(p.li), directive.id, "内容已由其他文件涵盖。")
    assert fresh(directive.id).state == "withdrawn"
    assert flow.actions_for(p.clerk, fresh(directive.id)) == []
    refused(Conflict, flow.approve_review, ctx(p.clerk), directive.id)
    refused(Conflict, flow.submit, ctx(p.li), directive.id)
    refused(Conflict, flow.withdraw, ctx(p.li), directive.id, "again")


@contextmanager
def every_writer_waits():
    """Hold what every writing step waits for until the block ends: SQLite's write lock, or (PostgreSQL) the head
    of the audit log, which every step locks to append its event. The steps started meanwhile have read what they
    decide from, and resume together."""
    db.session.commit()
    connection = db.engine.connect()
    try:
        if connection.dialect.name == "sqlite":
            with database.writing():
                connection.begin()  # BEGIN IMMEDIATE
        else:
            connection.begin()
            connection.execute(select(AuditHead.id).where(AuditHead.id == 1).with_for_update())
        yield
    finally:
        connection.rollback()
        connection.close()


def at_once(app, calls: dict[str, Callable[[], object]]) -> dict[str, str]:
    """Run each of `calls` in its own thread and writing transaction, all at the same moment; return each one's
    outcome: "done", or the name of the refusal."""
    start, outcomes = threading.Barrier(len(calls) + 1), {}

    def run(name: str) -> None:
        try:
            with app.app_context(), database.writing():
                start.wait(10)
                try:
                    calls[name]()
                    db.session.commit()
                    outcomes[name] = "done"
                except DocstoreError as exc:
                    db.session.rollback()
                    outcomes[name] = type(exc).__name__
                finally:
                    db.session.remove()
        except Exception as exc:  # reported below: an assertion in a thread would go unnoticed
            outcomes[name] = repr(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in calls]
    with every_writer_waits():
        for thread in threads:
            thread.start()
        start.wait(10)
        time.sleep(0.5)  # let both read and stop at their first write
    for thread in threads:
        thread.join(60)
    db.session.rollback()  # end the test's own read transaction: see what the threads committed
    return outcomes


def test_two_clerks_registering_a_directive_at_once_take_one_number_and_leave_no_gap(app, people, store):
    p = people
    directive = bring(p, drafted(p), "recheck")
    ident, clerks = directive.id, {"lucia": p.clerk.id, "marta": p.marta.id}
    outcomes = at_once(
        app,
        {
            name: (lambda user_id=user_id: issuing.register(audit.Context(user_id), ident, POLICY, store))
            for name, user_id in clerks.items()
        },
    )
    assert sorted(outcomes.values()) == ["Conflict", "done"], outcomes
    directive = fresh(ident)
    assert (directive.state, directive.document.number) == ("registered", "办发〔2026〕1号")
    numbered = db.session.scalars(select(Document.number).where(Document.series_id == series("BF").id)).all()
    assert numbered == ["办发〔2026〕1号"] and counter("BF") == 1
    assert [s.action for s in steps(ident)].count("register") == 1
    assert audit.verify_chain().intact
    second = bring(p, drafted(p, title="关于开展安全检查的通知"), "registered", store)
    assert second.document.number == "办发〔2026〕2号"  # no gap


def test_two_departments_countersigning_at_once_send_the_directive_on_to_sign_off(app, people):
    p = people
    directive = bring(p, drafted(p), "countersign")
    ident, finance, legal = directive.id, p.finance.id, p.legal.id
    ana, carl = p.ana.id, p.carl.id
    outcomes = at_once(
        app,
        {
            "finance": lambda: flow.countersign(audit.Context(ana), ident, finance, True),
            "legal": lambda: flow.countersign(audit.Context(carl), ident, legal, True),
        },
    )
    assert outcomes == {"finance": "done", "legal": "done"}
    directive = fresh(ident)
    assert [c.state for c in directive.countersigns] == ["agreed", "agreed"]
    assert directive.state == "signoff"
    assert [s.to_state for s in steps(ident) if s.action == "countersign_agree"].count("signoff") == 1
    assert told(p.director) == ["signoff"]


def test_two_people_saving_the_same_version_at_once_keep_both_edits_apart(app, people):
    p = people
    directive = drafted(p)
    ident, li, eve = directive.id, p.li.id, p.eve.id
    mine = replace(drafts.Draft.of(directive), title="关于做好预算编制工作的通知")
    theirs = replace(drafts.Draft.of(directive), body="另一个版本。")
    outcomes = at_once(
        app,
        {
            "li": lambda: drafts.update_draft(audit.Context(li), ident, mine, 1),
            "eve": lambda: drafts.update_draft(audit.Context(eve), ident, theirs, 1),
        },
    )
    assert sorted(outcomes.values()) == ["Conflict", "done"], outcomes
    directive = fresh(ident)
    assert directive.version == 2
    winner = next(name for name, outcome in outcomes.items() if outcome == "done")
    if winner == "li":
        assert (directive.title, directive.body) == (mine.title, notice(p).body)
    else:
        assert (directive.title, directive.body) == (notice(p).title, "另一个版本。")


def test_registering_without_an_outgoing_register_is_refused_and_takes_nothing(people, store):
    p = people
    directive = bring(p, drafted(p, author=p.carl, department_id=p.legal.id, countersign_department_ids=[]), "recheck")
    registry.update_series(SYSTEM, series("OUT").id, {"active": False})  # Legal has no register of its own
    before = (event_count(), db.session.execute(select(func.count(Document.id))).scalar_one())
    error = refused(ValidationFailed, issuing.register, ctx(p.clerk), directive.id, POLICY, store)
    assert set(error.errors) == {"series_id"}
    directive = fresh(directive.id)
    assert (directive.state, directive.document_id) == ("recheck", None)
    assert (event_count(), db.session.execute(select(func.count(Document.id))).scalar_one()) == before
    assert counter("OUT") == 0


def template_docx() -> bytes:
    document = docx.Document()
    for text in ("{{ issuer }}", "{{ number }}", "{{ title }}", "{{ body }}", "{{ signer }}", "{{ date }}"):
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_registration_that_fails_after_taking_its_number_gives_the_number_back(people, store):
    p = people
    data = template_docx()
    template = act(office_templates.upload_template, SYSTEM, "Oficio del servicio", "es", "oficio.docx", data, store)
    directive = drafted(
        p,
        kind="template",
        template_id=template.id,
        title="Convocatoria de la comisión de presupuestos",
        issuer="Ayuntamiento de Ejemplo",
        body="Se convoca a la comisión el día 10.",
        countersign_department_ids=[],
    )
    directive = bring(p, directive, "recheck")
    store.path(template.sha256).unlink()  # the template's file went missing: the Word file cannot be drawn
    before = (event_count(), db.session.execute(select(func.count(Document.id))).scalar_one())
    refused(StoredFileMissing, issuing.register, ctx(p.clerk), directive.id, POLICY, store)
    directive = fresh(directive.id)
    assert (directive.state, directive.document_id) == ("recheck", None)
    assert (event_count(), db.session.execute(select(func.count(Document.id))).scalar_one()) == before
    assert counter("BF") == 0
    store.put(io.BytesIO(data))  # the file is back
    act(issuing.register, ctx(p.clerk), directive.id, POLICY, store)
    assert fresh(directive.id).document.number == "办发〔2026〕1号"


def test_minutes_are_registered_for_whom_they_are_sent_to_and_refused_without_anyone(people, store):
    p = people
    nobody = drafted(
        p,
        kind="minutes",
        title="2026年第3次主任办公会议纪要",
        main_recipients=[],
        copy_recipients=[],
        sections={"present": "王主任、李副主任"},
        countersign_department_ids=[],
    )
    assert Msg(N_("Name at least one recipient to send it to.")) in drafts.warnings(fresh(nobody.id))
    with pytest.raises(ValidationFailed) as refused_at:
        bring(p, nobody, "registered", store)
    assert set(refused_at.value.errors) == {"recipients"}
    assert fresh(nobody.id).document_id is None

    minutes = drafted(
        p,
        kind="minutes",
        title="2026年第4次主任办公会议纪要",
        main_recipients=[],
        copy_recipients=[("department", p.finance.id)],
        sections={"present": "王主任、李副主任"},
        countersign_department_ids=[],
    )
    registered = fresh(bring(p, minutes, "registered", store).id)
    assert registered.document.number == "办发〔2026〕1号"
    assert [(r.role, r.department_id) for r in registered.document.recipients] == [("main", p.finance.id)]


# --- drafting rules --------------------------------------------------------------------------------------------------


ONE_MAIN = Msg(N_("A %(type)s goes to one main recipient only."), type="请示")
NO_SUBORDINATE_COPY = Msg(N_("A %(type)s is never copied to subordinate units."), type="请示")
NO_REQUEST_IN_REPORT = Msg(N_("A report must not contain a request: send a request (请示) for it."))


def test_a_request_to_two_main_recipients_or_copied_to_a_subordinate_unit_is_warned(people):
    p = people
    two = drafted(
        p,
        kind="request",
        title="关于追加2026年度预算的请示",
        countersign_department_ids=[],
        main_recipients=[("department", p.finance.id), ("department", p.legal.id)],
        copy_recipients=[],
    )
    assert ONE_MAIN in drafts.warnings(two) and NO_SUBORDINATE_COPY not in drafts.warnings(two)
    copied = drafted(
        p,
        kind="request",
        title="关于追加2026年度预算的请示",
        countersign_department_ids=[],
        main_recipients=[("department", p.finance.id)],
        copy_recipients=[("department", p.county.id)],
    )
    assert NO_SUBORDINATE_COPY in drafts.warnings(copied) and ONE_MAIN not in drafts.warnings(copied)
    proper = drafted(
        p,
        kind="request",
        title="关于追加2026年度预算的请示",
        countersign_department_ids=[],
        main_recipients=[("department", p.finance.id)],
        copy_recipients=[("department", p.legal.id)],
    )
    assert drafts.warnings(proper) == []
    notice_to_all = drafted(p)  # a notice goes to many, and down to the county: nothing to say
    assert drafts.warnings(notice_to_all) == []


def test_a_report_that_asks_for_approval_is_warned(people):
    p = people
    report = drafted(
        p,
        kind="report",
        title="关于2025年度预算执行情况的报告",
        countersign_department_ids=[],
        main_recipients=[("department", p.finance.id)],
        copy_recipients=[],
        body="一、执行情况\n全年预算执行良好。\n\n以上报告，妥否，请批准。",
    )
    assert NO_REQUEST_IN_REPORT in drafts.warnings(report)
    plain = drafted(
        p,
        kind="report",
        title="关于2025年度预算执行情况的报告",
        countersign_department_ids=[],
        main_recipients=[("department", p.finance.id)],
        copy_recipients=[],
        body="一、执行情况\n全年预算执行良好。\n\n特此报告。",
    )
    assert drafts.warnings(plain) == []


# --- feedback ------------------------------------------------------------------------------------------------------


def states_of(directive: Directive, today: date) -> dict[str, tuple[str, bool]]:
    return {row.recipient.name: (row.state, row.expects_reply) for row in issuing.feedback(directive, today)}


def test_the_issuer_follows_each_recipients_copy_until_it_is_replied_or_overdue(people, store, fake_clock):
    p = people
    directive = drafted(
        p,
        countersign_department_ids=[],
        feedback_requested=True,
        feedback_deadline=DUE,
        main_recipients=[("department", p.finance.id), ("department", p.county.id), ("correspondent", p.auditors.id)],
        copy_recipients=[("department", p.legal.id)],
    )
    directive = bring(p, directive, "issued", store)
    assert states_of(directive, MONDAY) == {
        "财务处": ("received", True),
        "某某县局": ("received", True),
        "市审计局": ("sent", True),
        "法规处": ("received", False),
    }
    finance_copy = directive.recipients[0].incoming_document
    assert finance_copy.deadline == DUE and directive.recipients[3].incoming_document.deadline is None
    refused(Conflict, issuing.chase, ctx(p.clerk), drafted(p).id, MONDAY)  # not issued, asks for nothing

    fake_clock.advance(hours=1)
    act(routing.accept, ctx(p.clerk), finance_copy.id, "action")
    assert states_of(fresh(directive.id), MONDAY)["财务处"] == ("read", True)

    # Finance answers with a report that replies to its copy: registering it links it
    answer = drafted(
        p,
        author=p.ana,
        kind="report",
        title="关于2026年度预算编制工作情况的报告",
        department_id=p.finance.id,
        reply_to_id=finance_copy.id,
        main_recipients=[("department", p.office.id)],
        copy_recipients=[],
        countersign_department_ids=[],
    )
    fake_clock.advance(days=2)
    answer = bring(p, answer, "registered", store)
    directive = fresh(directive.id)
    row = directive.recipients[0]
    assert (row.reply_document_id, clock.as_utc(row.replied_at)) == (answer.document_id, clock.now())
    item = db.session.scalars(select(RoutingItem).where(RoutingItem.document_id == finance_copy.id)).one()
    assert item.reply_document_id == answer.document_id

    fake_clock.advance(days=10)  # 14 March: past the deadline
    today = DUE + timedelta(days=1)
    assert states_of(directive, today) == {
        "财务处": ("replied", True),
        "某某县局": ("overdue", True),
        "市审计局": ("overdue", True),
        "法规处": ("received", False),  # a copy expects no reply
    }

    # the auditors answer on paper: the clerk registers it and links it by its number
    letter = registry.register_document(
        ctx(p.clerk),
        "incoming",
        registry.Registration(
            series_id=series("IN").id,
            title="关于预算编制工作的复函",
            received_at=clock.now() - timedelta(hours=1),
            channel="paper",
            correspondent_id=p.auditors.id,
        ),
        [],
        POLICY,
        None,
    )
    auditors = directive.recipients[2]
    refused(ValidationFailed, issuing.link_reply, ctx(p.clerk), directive.id, auditors.id, "IN-2099-999999")
    own = directive.document.number
    refused(ValidationFailed, issuing.link_reply, ctx(p.clerk), directive.id, auditors.id, own)
    refused(Forbidden, issuing.link_reply, ctx(p.eve), directive.id, auditors.id, letter.number)
    refused(NotFound, issuing.link_reply, ctx(p.clerk), directive.id, 999_999, letter.number)
    act(issuing.link_reply, ctx(p.clerk), directive.id, auditors.id, f" {letter.number} ")
    directive = fresh(directive.id)
    assert directive.recipients[2].reply_document_id == letter.id
    assert states_of(directive, today)["市审计局"] == ("replied", True)
    assert steps(directive.id)[-1].text == f"市审计局: {letter.number}"


def test_chasing_reminds_the_departments_whose_reply_is_awaited_once_a_day(people, store, fake_clock):
    p = people
    directive = drafted(
        p,
        countersign_department_ids=[],
        feedback_requested=True,
        feedback_deadline=DUE,
        main_recipients=[("department", p.finance.id), ("department", p.county.id), ("correspondent", p.auditors.id)],
        copy_recipients=[("department", p.legal.id)],
    )
    directive = bring(p, directive, "issued", store)
    refused(Forbidden, issuing.chase, ctx(p.li), directive.id, MONDAY)
    reply = registry.register_document(
        ctx(p.clerk),
        "outgoing",
        registry.Registration(
            series_id=series("OUT").id,
            title="财务处的答复",
            department_id=p.finance.id,
            main_recipients=[("department", p.office.id)],
        ),
        [],
        POLICY,
        None,
    )
    act(issuing.link_reply, ctx(p.clerk), directive.id, directive.recipients[0].id, reply.number)

    fake_clock.advance(days=12)
    today = DUE + timedelta(days=1)
    assert act(issuing.chase, ctx(p.clerk), directive.id, today) == 1  # the county; the auditors are not ours
    assert act(issuing.chase, ctx(p.marta), directive.id, today) == 0  # pressed again the same day
    assert [told(user).count("chase") for user in (p.xu, p.ana, p.bo, p.carl)] == [1, 0, 0, 0]
    fake_clock.advance(days=1)
    assert act(issuing.chase, ctx(p.clerk), directive.id, today + timedelta(days=1)) == 1
    assert told(p.xu).count("chase") == 2
    assert [s.action for s in steps(directive.id)].count("chase") == 3
    plain = bring(p, drafted(p, title="关于开展安全检查的通知"), "issued", store)
    refused(Conflict, issuing.chase, ctx(p.clerk), plain.id, today)  # it asks for no reply


# --- what a review of the change found ----------------------------------------------------------------------------


def test_a_signer_below_the_classification_is_refused_when_drafting(people):
    p = people
    low = p.deputy  # a leader, cleared for everything: lower his clearance to 1
    act(accounts.update_user, SYSTEM, low.id, {"clearance": 1})
    error = refused(ValidationFailed, drafts.create_draft, ctx(p.li), notice(p, signer_id=low.id, classification=2))
    assert set(error.errors) == {"signer_id"}
    assert act(drafts.create_draft, ctx(p.li), notice(p, signer_id=low.id, classification=1)).signer_id == low.id


def test_people_below_the_classification_are_not_told_its_title(people):
    p = people
    directive = drafted(p, classification=1)  # Finance's Ana and Bo have clearance 0, Legal's Carl too
    act(flow.submit, ctx(p.li), directive.id)
    act(flow.approve_review, ctx(p.clerk), directive.id)
    assert fresh(directive.id).state == "countersign"
    assert told(p.ana) == told(p.bo) == told(p.carl) == []
    assert told(p.clerk) == ["review"]  # cleared for level 1


def test_adding_a_countersigning_department_after_sign_off_sends_it_back_to_countersigning(people, store):
    p = people
    directive = bring(p, drafted(p, countersign_department_ids=[p.finance.id]), "recheck", store)
    assert directive.signed_by_id == p.director.id
    added = replace(drafts.Draft.of(directive), countersign_department_ids=[p.finance.id, p.legal.id])
    act(drafts.update_draft, ctx(p.clerk), directive.id, added, directive.version)
    directive = fresh(directive.id)
    assert directive.state == "countersign"
    assert [(c.department_id, c.state) for c in directive.countersigns] == [
        (p.finance.id, "pending"),
        (p.legal.id, "pending"),
    ]
    assert (directive.signed_by_id, directive.signed_on, directive.sign_opinion) == (None, None, "")
    assert told(p.carl)[-1] == "countersign"
    refused(Conflict, issuing.register, ctx(p.clerk), directive.id, POLICY, store)


def test_sending_a_signed_directive_back_from_recheck_cancels_the_signature(people, store):
    p = people
    directive = bring(p, drafted(p, countersign_department_ids=[]), "recheck", store)
    act(flow.send_back, ctx(p.clerk), directive.id, "日期有误")
    directive = fresh(directive.id)
    assert directive.state == "signoff"
    assert (directive.signed_version, directive.signed_by_id, directive.signed_on) == (None, None, None)
    assert drafts.content_of(directive).signed_on is None


def test_a_directive_registered_after_its_reply_date_is_still_issued_with_replies_due_today(people, store, fake_clock):
    p = people
    directive = drafted(p, countersign_department_ids=[], feedback_requested=True, feedback_deadline=MONDAY)
    directive = bring(p, directive, "registered", store)
    fake_clock.advance(days=1)  # Tuesday: the date the replies were due has passed
    directive = bring(p, directive, "issued", store)
    copy = directive.recipients[0].incoming_document
    assert copy.deadline == MONDAY + timedelta(days=1)


def test_the_replies_summary_shows_a_reply_the_reader_may_not_open_by_its_number_only(people, store):
    p = people
    directive = bring(
        p, drafted(p, countersign_department_ids=[], feedback_requested=True, feedback_deadline=DUE), "issued", store
    )
    secret = registry.register_document(
        ctx(p.clerk),
        "incoming",
        registry.Registration(
            series_id=series("IN").id,
            title="机密答复",
            summary="不应泄露的内容",
            classification=1,
            received_at=clock.now(),
            channel="paper",
            correspondent_id=p.auditors.id,
        ),
        [],
        POLICY,
        store,
    )
    act(issuing.link_reply, ctx(p.clerk), directive.id, directive.recipients[0].id, secret.number)
    directive = fresh(directive.id)
    for reader, sees in ((p.li, False), (p.clerk, True)):  # Li drafted it (clearance 2 but not routed the reply)
        text = "\n".join(
            cell.text
            for table in docx.Document(io.BytesIO(summary.feedback_summary(directive, MONDAY, reader))).tables
            for row in table.rows
            for cell in row.cells
        )
        assert secret.number in text
        assert ("不应泄露的内容" in text) is sees
