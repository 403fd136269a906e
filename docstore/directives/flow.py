"""The approval path of a directive: submit, review (核稿), countersign (会签), sign off (签发), re-check (复核).

::

    draft -> review -> [countersign] -> signoff -> recheck -> registered -> issued
      ^        |            |              |          |
      +--------+------------+--------------+----------+   send back one step, with a reason

Every step is a conditional UPDATE on the state (see `drafts.move`), recorded as a DirectiveStep and an audit event.
Registering and issuing are in `docstore.directives.issuing`.
"""

from __future__ import annotations

from dataclasses import replace

from docstore import audit, clock, numbering, registry
from docstore.directives import notices
from docstore.directives.drafts import (
    actor,
    cancel_signature,
    get_directive,
    language_of,
    lock,
    may_edit,
    move,
    record_step,
    state_label,
)
from docstore.errors import N_, Conflict, Forbidden, Msg, ValidationFailed
from docstore.extensions import db, office_timezone
from docstore.models import Directive, User

#: The actions a user may be offered on a directive, in the order the page shows them.
ACTIONS = (
    "edit",
    "submit",
    "approve_review",
    "countersign",
    "sign_off",
    "register",
    "issue",
    "send_back",
    "withdraw",
)

#: state -> the state "send back" returns to (sign-off returns to countersigning only when there is some).
BACK = {"review": "draft", "countersign": "review", "signoff": "countersign", "recheck": "signoff"}

#: States from which a directive may be withdrawn.
WITHDRAWABLE = ("draft", "review", "countersign", "signoff", "recheck")
#: States from which its drafter may withdraw it (later, it has been approved by others: only the office may).
DRAFTER_WITHDRAWS = ("draft", "review")

REASON_LIMIT = 1000

#: The signer's opinion when they write none (签发 "同意": circling or initialling counts as approval).
DEFAULT_OPINION = {"zh": "同意", "es": "Conforme"}


def _today():
    return numbering.office_date(clock.now(), office_timezone())


def _is_clerk(user: User) -> bool:
    return user.has_role(*registry.CLERK_ROLES)


def _text(text: str, required: bool, name: str = "reason") -> str:
    text = (text or "").strip()
    if required and not text:
        raise ValidationFailed({name: Msg(N_("Give a reason."))})
    if len(text) > REASON_LIMIT:
        raise ValidationFailed({name: Msg(N_("Use at most %(n)s characters."), n=REASON_LIMIT)})
    return text


def signing_for(user: User, directive: Directive) -> tuple[bool, int | None]:
    """Return whether `user` may sign `directive` off, and for whom (None: in their own right).

    The chosen signer signs, or whoever stands in for them today; with no signer chosen, any leader.
    """
    if directive.signer_id is None:
        if user.has_role("leader"):
            return True, None
        leaders = [p for p in registry.represented_today(user) if p.has_role("leader")]
        return (True, leaders[0].id) if leaders else (False, None)
    if user.id == directive.signer_id:
        return True, None
    if any(p.id == directive.signer_id for p in registry.represented_today(user)):
        return True, directive.signer_id
    return False, None


def countersigning_for(user: User, directive: Directive) -> dict[int, int | None]:
    """Return the departments whose pending countersignature `user` may give -> for whom (None: own right)."""
    pending = {c.department_id for c in directive.countersigns if c.state == "pending"}
    found: dict[int, int | None] = {}
    if user.department_id in pending:
        found[user.department_id] = None
    for person in registry.represented_today(user):
        if person.department_id in pending and person.department_id not in found:
            found[person.department_id] = person.id
    return found


def actions_for(user: User, directive: Directive) -> list[str]:
    """Return what `user` may do to `directive` now, in `ACTIONS` order."""
    state = directive.state
    clerk = _is_clerk(user)
    allowed = set()
    if state in ("draft", "review", "recheck") and may_edit(user, directive):
        allowed.add("edit")
    if state == "draft" and may_edit(user, directive):
        allowed.add("submit")
    if state == "review" and clerk:
        allowed.update(("approve_review", "send_back"))
    if state == "countersign":
        if countersigning_for(user, directive):
            allowed.add("countersign")
        if clerk:
            allowed.add("send_back")
    if state == "signoff" and signing_for(user, directive)[0]:
        allowed.update(("sign_off", "send_back"))
    if state == "recheck" and clerk:
        allowed.update(("register", "send_back"))
    if state == "registered" and clerk:
        allowed.add("issue")
    if (state in WITHDRAWABLE and clerk) or (state in DRAFTER_WITHDRAWS and user.id == directive.drafted_by_id):
        allowed.add("withdraw")
    return [action for action in ACTIONS if action in allowed]


def _require(user: User, directive: Directive, action: str, message: str) -> None:
    if action not in actions_for(user, directive):
        if directive.state not in _STATES_OF[action]:
            raise Conflict(
                Msg(N_("This step is not possible while the directive is %(state)s."), state=state_label(directive))
            )
        raise Forbidden(Msg(message))


_STATES_OF = {
    "submit": ("draft",),
    "approve_review": ("review",),
    "countersign": ("countersign",),
    "sign_off": ("signoff",),
    "send_back": tuple(BACK),
    "register": ("recheck",),
    "issue": ("registered",),
    "withdraw": WITHDRAWABLE,
}


def _load(ctx: audit.Context, directive_id: int) -> tuple[User, Directive]:
    user = actor(ctx)
    return user, get_directive(directive_id, user)


def submit(ctx: audit.Context, directive_id: int) -> Directive:
    """Send a draft to the office for review (核稿)."""
    user, directive = _load(ctx, directive_id)
    _require(user, directive, "submit", N_("Only the drafter's department or a clerk may submit this draft."))
    move(directive, "draft", "review")
    directive.return_reason = ""
    record_step(replace(ctx, acting_for_id=None), directive, "submit", "draft", "review")
    _tell(directive, "review")
    db.session.commit()
    return directive


def approve_review(ctx: audit.Context, directive_id: int, opinion: str = "") -> Directive:
    """Pass the office's review: on to countersigning when departments must countersign, else to sign-off."""
    user, directive = _load(ctx, directive_id)
    _require(user, directive, "approve_review", N_("Only the office's clerks review drafts."))
    opinion = _text(opinion, required=False, name="opinion")
    new = "countersign" if directive.countersigns else "signoff"
    move(directive, "review", new)
    for row in directive.countersigns:  # a directive back from countersigning is countersigned afresh
        row.state, row.opinion, row.decided_by_id, row.decided_at = "pending", "", None, None
    record_step(replace(ctx, acting_for_id=None), directive, "approve_review", "review", new, opinion)
    _tell(directive, new)
    db.session.commit()
    return directive


def countersign(
    ctx: audit.Context, directive_id: int, department_id: int | None, agree: bool, opinion: str = ""
) -> Directive:
    """Give one department's countersignature: agree, or decline with a reason (back to review).

    When the last department agrees, the directive goes on to sign-off.
    """
    lock(directive_id)  # two departments agreeing at once: the second must see the first, or neither moves it on
    user, directive = _load(ctx, directive_id)
    _require(user, directive, "countersign", N_("Only the members of a countersigning department may do this."))
    mine = countersigning_for(user, directive)
    if department_id is None and len(mine) == 1:
        department_id = next(iter(mine))
    if department_id not in mine:
        raise Forbidden(Msg(N_("Only the members of a countersigning department may do this.")))
    opinion = _text(opinion, required=not agree, name="opinion")
    ctx = replace(ctx, acting_for_id=mine[department_id])
    row = next(c for c in directive.countersigns if c.department_id == department_id)
    now = clock.now()
    row.state = "agreed" if agree else "declined"
    row.opinion, row.decided_by_id, row.decided_at = opinion, user.id, now
    if not agree:
        move(directive, "countersign", "review")
        directive.return_reason = opinion
        record_step(ctx, directive, "countersign_decline", "countersign", "review", opinion, department_id)
        _tell(directive, "returned")
    elif all(c.state == "agreed" for c in directive.countersigns):
        move(directive, "countersign", "signoff")
        record_step(ctx, directive, "countersign_agree", "countersign", "signoff", opinion, department_id)
        _tell(directive, "signoff")
    else:
        record_step(ctx, directive, "countersign_agree", "countersign", "countersign", opinion, department_id)
        directive.updated_at = now
    db.session.commit()
    return directive


def sign_off(ctx: audit.Context, directive_id: int, opinion: str = "") -> Directive:
    """Sign the directive off (签发) with an opinion; the name and full date are recorded. On to re-check."""
    user, directive = _load(ctx, directive_id)
    _require(user, directive, "sign_off", N_("Only the chosen signer, or their substitute, may sign this off."))
    acting_for = signing_for(user, directive)[1]
    opinion = _text(opinion, required=False, name="opinion") or DEFAULT_OPINION[language_of(directive)]
    move(directive, "signoff", "recheck")
    directive.signed_by_id = acting_for or user.id
    directive.signed_at = clock.now()
    directive.signed_on = _today()
    directive.sign_opinion = opinion
    directive.signed_version = directive.version
    record_step(replace(ctx, acting_for_id=acting_for), directive, "sign_off", "signoff", "recheck", opinion)
    _tell(directive, "recheck")
    db.session.commit()
    return directive


def send_back(ctx: audit.Context, directive_id: int, reason: str) -> Directive:
    """Send the directive back one step with a reason."""
    user, directive = _load(ctx, directive_id)
    _require(user, directive, "send_back", N_("Only the person who holds this step may send it back."))
    reason = _text(reason, required=True)
    old = directive.state
    new = BACK[old]
    if new == "countersign" and not directive.countersigns:
        new = "review"
    acting_for = signing_for(user, directive)[1] if old == "signoff" else None
    move(directive, old, new)
    directive.return_reason = reason
    if new == "countersign":
        for row in directive.countersigns:
            row.state, row.opinion, row.decided_by_id, row.decided_at = "pending", "", None, None
    if old == "recheck":  # the signature no longer stands
        cancel_signature(directive)
    record_step(replace(ctx, acting_for_id=acting_for), directive, "send_back", old, new, reason)
    _tell(directive, "returned")
    db.session.commit()
    return directive


def withdraw(ctx: audit.Context, directive_id: int, reason: str) -> Directive:
    """Withdraw a directive that was not registered; it stays in the history, never numbered."""
    user, directive = _load(ctx, directive_id)
    _require(user, directive, "withdraw", N_("Only the drafter or the office's clerks may withdraw this directive."))
    reason = _text(reason, required=True)
    old = directive.state
    move(directive, old, "withdrawn")
    record_step(replace(ctx, acting_for_id=None), directive, "withdraw", old, "withdrawn", reason)
    db.session.commit()
    return directive


def waiting_for(user: User, directive: Directive) -> bool:
    """Return True when `directive` waits for a step by `user` (review, countersign, sign-off, re-check, issue)."""
    return bool(set(actions_for(user, directive)) & {"approve_review", "countersign", "sign_off", "register", "issue"})


def _tell(directive: Directive, step: str) -> None:
    """Notify the people the directive now waits for."""
    notices.tell(directive, step)
