"""Drafting directives: the fields, who may see a draft, the rules' warnings, and the content a renderer draws."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from docstore import accounts, audit, clock, numbering, registry
from docstore.directives import kinds, notices
from docstore.directives.content import Content, parse_body
from docstore.errors import N_, Conflict, Forbidden, Msg, NotFound, ValidationFailed
from docstore.extensions import db, office_timezone
from docstore.models import (
    DIRECTIVE_STATES,
    URGENCIES,
    Correspondent,
    Countersign,
    Department,
    Directive,
    DirectiveRecipient,
    DirectiveStep,
    DirectiveTemplate,
    Document,
    Series,
    User,
)
from docstore.pagination import Page, paginate

#: States in which the text may still change (an edit in "recheck" sends the directive back to its signer).
EDITABLE_STATES = ("draft", "review", "recheck")

#: The fields of a draft that change what the signer approved.
SUBSTANTIVE = (
    "kind",
    "template_id",
    "title",
    "issuer",
    "issuer_mark",
    "urgency",
    "classification",
    "signer_id",
    "signer_title",
    "body",
    "sections",
    "attachments_note",
    "note",
    "main_recipients",
    "copy_recipients",
    "countersign_department_ids",
    "department_id",
    "place",
    "their_reference",
)

#: The steps of a directive's history, as its page names them.
STEP_LABELS = {
    "create": N_("Drafted"),
    "edit": N_("Edited"),
    "submit": N_("Submitted for review"),
    "approve_review": N_("Review passed"),
    "countersign_agree": N_("Countersigned"),
    "countersign_decline": N_("Countersignature declined"),
    "sign_off": N_("Signed off"),
    "send_back": N_("Sent back one step"),
    "edit_after_signoff": N_("Edited after sign-off: back to the signer"),
    "register": N_("Registered and numbered"),
    "issue": N_("Issued"),
    "link_reply": N_("Reply linked"),
    "chase": N_("Replies chased"),
    "withdraw": N_("Withdrawn"),
}

#: How urgency is printed, per language.
URGENCY_MARKS = {
    "zh": {"normal": "", "urgent": "加急", "extra_urgent": "特急"},
    "es": {"normal": "", "urgent": "URGENTE", "extra_urgent": "MUY URGENTE"},
}
#: How a classification level is printed, per language (level 0 prints nothing).
CLASSIFICATION_MARKS = {
    "zh": ("", "秘密", "机密", "绝密"),
    "es": ("", "DIFUSIÓN LIMITADA", "RESERVADO", "SECRETO"),
}


@dataclass
class Draft:
    """The fields of a directive as the drafting form and the API give them."""

    kind: str = "notice"
    template_id: int | None = None
    title: str = ""
    issuer: str = ""
    issuer_mark: str = ""
    department_id: int | None = None
    series_id: int | None = None
    urgency: str = "normal"
    classification: int = 0
    signer_id: int | None = None
    signer_title: str = ""
    body: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    attachments_note: str = ""
    note: str = ""
    their_reference: str = ""
    place: str = ""
    feedback_requested: bool = False
    feedback_deadline: date | None = None
    reply_to_id: int | None = None
    main_recipients: list[tuple[str, int]] = field(default_factory=list)
    copy_recipients: list[tuple[str, int]] = field(default_factory=list)
    countersign_department_ids: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, directive: Directive) -> Draft:
        """Return the fields of `directive` as a draft (to prefill the form)."""

        return cls(
            **{name: getattr(directive, name) for name in COLUMNS},
            main_recipients=targets(directive, "main"),
            copy_recipients=targets(directive, "copy"),
            countersign_department_ids=[c.department_id for c in directive.countersigns],
        )


#: The fields of a draft kept as columns of its directive (the recipients and countersigners are rows of their own).
COLUMNS = (
    "kind",
    "template_id",
    "title",
    "issuer",
    "issuer_mark",
    "department_id",
    "series_id",
    "urgency",
    "classification",
    "signer_id",
    "signer_title",
    "body",
    "sections",
    "attachments_note",
    "note",
    "their_reference",
    "place",
    "feedback_requested",
    "feedback_deadline",
    "reply_to_id",
)

_LIMITS = {
    "title": 500,
    "issuer": 200,
    "issuer_mark": 500,
    "signer_title": 200,
    "body": 200_000,
    "attachments_note": 5_000,
    "note": 2_000,
    "their_reference": 120,
    "place": 100,
}


actor = accounts.acting_user


def language_of(draft: Draft | Directive) -> str:
    """Return the language of a directive's document: its type's, or its uploaded template's."""
    if draft.kind == "template":
        template = db.session.get(DirectiveTemplate, draft.template_id) if draft.template_id else None
        return template.language if template else "es"
    return kinds.KINDS[draft.kind].language if draft.kind in kinds.KINDS else "zh"


def kind_of(draft: Draft | Directive) -> kinds.Kind:
    """Return the Kind of a draft; an uploaded template counts as a plain addressed type of its language."""
    if draft.kind in kinds.KINDS:
        return kinds.KINDS[draft.kind]
    language = language_of(draft)
    return kinds.Kind("template", N_("Uploaded template"), "", language, "template")


def outgoing_series(department_id: int | None) -> list[Series]:
    """Return the active outgoing registers that number the directives of `department_id` (its own first)."""
    query = select(Series).where(Series.direction == "outgoing", Series.active)
    rows = list(db.session.execute(query.order_by(Series.code)).scalars())
    own = [series for series in rows if series.department_id == department_id and department_id is not None]
    return own or [series for series in rows if series.department_id is None]


def _validate(draft: Draft, user: User) -> None:
    errors: dict[str, Msg] = {}
    if draft.kind == "template":
        template = db.session.get(DirectiveTemplate, draft.template_id) if draft.template_id else None
        if template is None or not template.active:
            errors["template_id"] = Msg(N_("Choose one of the office's templates."))
    elif draft.kind not in kinds.KINDS:
        errors["kind"] = Msg(N_("Choose a directive type."))
    for name, limit in _LIMITS.items():
        value = (getattr(draft, name) or "").strip() if name != "body" else (draft.body or "").rstrip()
        setattr(draft, name, value)
        if len(value) > limit:
            errors[name] = Msg(N_("Use at most %(n)s characters."), n=limit)
    if not draft.title:
        errors["title"] = Msg(N_("This field is required."))
    if not draft.issuer:
        errors["issuer"] = Msg(N_("Enter the issuing body."))
    department = db.session.get(Department, draft.department_id) if draft.department_id else None
    if department is None or not department.active:
        errors["department_id"] = Msg(N_("Choose the issuing department."))
    elif not user.has_role(*registry.CLERK_ROLES) and department.id not in reach(user).departments:
        errors["department_id"] = Msg(N_("Draft for your own department; the office's clerks draft for any."))
    if draft.series_id is not None:
        series = db.session.get(Series, draft.series_id)
        if series is None or series.direction != "outgoing" or not series.active:
            errors["series_id"] = Msg(N_("Choose an outgoing register."))
    if draft.urgency not in URGENCIES:
        errors["urgency"] = Msg(N_("Choose an urgency."))
    if not isinstance(draft.classification, int) or not 0 <= draft.classification <= 3:
        errors["classification"] = Msg(N_("Choose a classification level."))
    elif draft.classification > user.clearance:
        errors["classification"] = Msg(N_("This is above your own clearance: ask a colleague cleared for it."))
    if draft.signer_id is not None:
        signer = db.session.get(User, draft.signer_id)
        if signer is None or not signer.active or not signer.has_role("leader"):
            errors["signer_id"] = Msg(N_("Choose a leader to sign off."))
        elif isinstance(draft.classification, int) and signer.clearance < draft.classification:
            errors["signer_id"] = Msg(N_("This leader is not cleared for the directive's classification."))
    known = {section.name for section in kind_of(draft).sections}
    draft.sections = {name: (text or "").strip() for name, text in (draft.sections or {}).items() if name in known}
    if any(len(text) > 50_000 for text in draft.sections.values()):
        errors["sections"] = Msg(N_("Use at most %(n)s characters."), n=50_000)
    for name in ("main_recipients", "copy_recipients"):
        seen = set()
        for target, ident in getattr(draft, name):
            model = Correspondent if target == "correspondent" else Department
            row = db.session.get(model, ident) if target in ("correspondent", "department") else None
            if row is None or not row.active:
                errors[name] = Msg(N_("A recipient is not in the address book or the organisation."))
            if (target, ident) in seen:
                errors[name] = Msg(N_("A recipient is named twice."))
            seen.add((target, ident))
    if set(draft.main_recipients) & set(draft.copy_recipients):
        errors["copy_recipients"] = Msg(N_("A main recipient cannot also be a copy recipient."))
    countersigners = list(dict.fromkeys(draft.countersign_department_ids))
    for ident in countersigners:
        row = db.session.get(Department, ident)
        if row is None or not row.active:
            errors["countersign_department_ids"] = Msg(N_("Choose active departments to countersign."))
        elif ident == draft.department_id:
            errors["countersign_department_ids"] = Msg(
                N_("The issuing department does not countersign its own directive.")
            )
    draft.countersign_department_ids = countersigners
    if draft.reply_to_id is not None:
        replied = db.session.get(Document, draft.reply_to_id)
        if replied is None or not registry.can_view(user, replied):
            errors["reply_to_id"] = Msg(N_("No such document."))
    if draft.feedback_requested and draft.feedback_deadline is None:
        errors["feedback_deadline"] = Msg(N_("Enter the date by which replies are due."))
    elif draft.feedback_requested and draft.feedback_deadline < numbering.office_date(clock.now(), office_timezone()):
        errors["feedback_deadline"] = Msg(N_("This date is in the past."))
    if errors:
        raise ValidationFailed(errors)


def _apply(directive: Directive, draft: Draft) -> None:
    for name in COLUMNS:
        setattr(directive, name, getattr(draft, name))
    wanted = [("main", t) for t in draft.main_recipients] + [("copy", t) for t in draft.copy_recipients]
    current = {(r.role, _target(r)): r for r in directive.recipients}
    rows = []
    for position, (role, (target, ident)) in enumerate(wanted):
        row = current.get((role, (target, ident))) or DirectiveRecipient(role=role, **{f"{target}_id": ident})
        row.position = position
        rows.append(row)
    directive.recipients = rows
    kept = {c.department_id: c for c in directive.countersigns}
    directive.countersigns = [
        kept.get(ident) or Countersign(department_id=ident, state="pending")
        for ident in draft.countersign_department_ids
    ]


def targets(directive: Directive, role: str) -> list[tuple[str, int]]:
    """Return the recipients of `directive` in `role` ("main" or "copy") as the registry takes them."""
    return [_target(r) for r in directive.recipients if r.role == role]


def _target(recipient: DirectiveRecipient) -> tuple[str, int]:
    if recipient.department_id:
        return ("department", recipient.department_id)
    return ("correspondent", recipient.correspondent_id)


def snapshot(directive: Directive) -> dict:
    """Return a directive's fields as the audit log records them."""
    values = {name: getattr(directive, name) for name in COLUMNS}
    values["feedback_deadline"] = directive.feedback_deadline.isoformat() if directive.feedback_deadline else None
    values["state"] = directive.state
    values["version"] = directive.version
    values["recipients"] = [
        [r.role, "department" if r.department_id else "correspondent", r.department_id or r.correspondent_id]
        for r in directive.recipients
    ]
    values["countersign"] = [c.department_id for c in directive.countersigns]
    return values


def create_draft(ctx: audit.Context, draft: Draft) -> Directive:
    """Start a directive from `draft`; the drafter is the acting user."""
    user = actor(ctx)
    if draft.department_id is None:
        draft.department_id = user.department_id
    _validate(draft, user)
    now = clock.now()
    directive = Directive(state="draft", version=1, drafted_by_id=user.id, created_at=now, updated_at=now)
    _apply(directive, draft)
    db.session.add(directive)
    db.session.flush()
    audit.record_event(ctx, "directive.create", "directive", directive.id, after=snapshot(directive))
    record_step(ctx, directive, "create", "draft", "draft", audited=False)
    db.session.commit()
    return directive


def update_draft(ctx: audit.Context, directive_id: int, draft: Draft, version: int | None = None) -> Directive:
    """Change a directive's fields; a substantive change after sign-off sends it back to its signer.

    `version` is the version the editor started from: when someone saved in between, the edit is refused rather
    than silently overwriting theirs.
    """
    user = actor(ctx)
    lock(directive_id)  # two editors of the same version: the second must see the first's save
    directive = get_directive(directive_id, user)
    if directive.state not in EDITABLE_STATES:
        raise Conflict(Msg(N_("This directive cannot be edited while it is %(state)s."), state=state_label(directive)))
    if not may_edit(user, directive):
        raise Forbidden(Msg(N_("Only the drafter's department or the office's clerks may edit this directive.")))
    if version is not None and version != directive.version:
        raise Conflict(Msg(N_("Someone saved this directive while you were editing it: reload and edit again.")))
    _validate(draft, user)
    before = snapshot(directive)
    _apply(directive, draft)
    after = snapshot(directive)
    changed = [name for name in SUBSTANTIVE if _field(before, name) != _field(after, name)]
    if before == after:
        return directive
    directive.version += 1
    directive.updated_at = clock.now()
    audit.record_event(ctx, "directive.update", "directive", directive.id, before=before, after=after)
    if directive.state == "recheck" and changed:
        # A substantive edit after sign-off goes back to the signer (复核: 实质性修改 returns to the 签发人); a change
        # of the countersigning departments goes back to countersigning first, all of them afresh.
        back = "countersign" if "countersign_department_ids" in changed and directive.countersigns else "signoff"
        move(directive, "recheck", back)
        cancel_signature(directive)
        if back == "countersign":
            for row in directive.countersigns:
                row.state, row.opinion, row.decided_by_id, row.decided_at = "pending", "", None, None
        record_step(ctx, directive, "edit_after_signoff", "recheck", back, ", ".join(changed))
        notices.tell(directive, back)
    else:
        # the "directive.update" event above already holds the edit, with its before and after
        record_step(ctx, directive, "edit", directive.state, directive.state, ", ".join(changed), audited=False)
    db.session.commit()
    return directive


def _field(values: dict, name: str):
    if name == "countersign_department_ids":
        return values["countersign"]
    if name in ("main_recipients", "copy_recipients"):
        role = name.split("_")[0]
        return [r for r in values["recipients"] if r[0] == role]
    return values.get(name)


def state_label(directive: Directive) -> Msg:
    """Return the name of the state `directive` is in, for messages."""
    return Msg(DIRECTIVE_STATES[directive.state])


def cancel_signature(directive: Directive) -> None:
    """Forget the signature of a directive whose text or path changed after sign-off: it must be signed again."""
    directive.signed_version = None
    directive.signed_by_id = directive.signed_at = directive.signed_on = None
    directive.sign_opinion = ""


def may_edit(user: User, directive: Directive) -> bool:
    """Return True when `user` may change the text of `directive` now: in draft its drafter or a member of the
    issuing department; in review and re-check the office's clerks (核稿 and 复核 edit the text)."""
    if directive.state == "draft":
        return (
            user.id == directive.drafted_by_id
            or user.department_id == directive.department_id
            or user.has_role(*registry.CLERK_ROLES)
        )
    return directive.state in ("review", "recheck") and user.has_role(*registry.CLERK_ROLES)


def lock(directive_id: int) -> None:
    """Wait until nobody else is changing the directive, then read it afresh.

    A step that decides from what it read (the last countersignature, the version an editor started from) must not
    decide from rows another step changed meanwhile. On PostgreSQL the row lock orders such steps, and forgetting
    what this session read makes the step see the other's changes; SQLite's writing transaction already holds the
    whole database. Call it first, before reading the directive.
    """
    db.session.execute(select(Directive.id).where(Directive.id == directive_id).with_for_update())
    db.session.expire_all()


def move(directive: Directive, old: str, new: str) -> None:
    """Move `directive` from state `old` to `new`, or raise Conflict when someone moved it first.

    The UPDATE is conditional on the state, so two people acting at once cannot both move it.
    """
    now = clock.now()
    result = db.session.execute(
        update(Directive)
        .where(Directive.id == directive.id, Directive.state == old)
        .values(state=new, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise Conflict(Msg(N_("Someone else acted on this directive first: reload the page.")))
    directive.state = new
    directive.updated_at = now


def record_step(
    ctx: audit.Context,
    directive: Directive,
    action: str,
    old: str,
    new: str,
    text: str = "",
    department_id: int | None = None,
    audited: bool = True,
) -> DirectiveStep:
    """Add a step to the directive's history and (unless the caller records its own event) the audit log."""
    step = DirectiveStep(
        directive_id=directive.id,
        action=action,
        from_state=old,
        to_state=new,
        actor_id=ctx.actor_id,
        acting_for_id=ctx.acting_for_id,
        department_id=department_id,
        text=text,
        version=directive.version,
        at=clock.now(),
    )
    db.session.add(step)
    if audited:
        audit.record_event(
            ctx,
            f"directive.{action}",
            "directive",
            directive.id,
            after={"from": old, "to": new, "text": text, "department_id": department_id, "version": directive.version},
        )
    return step


# --- seeing ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """Whom a user acts as today: themselves and whom they stand in for (one lookup of the substitutions)."""

    people: tuple[User, ...]

    @property
    def office_wide(self) -> bool:
        """True when one of them holds an office-wide role: the user sees every directive within their clearance."""
        return registry.office_wide(self.people)

    @property
    def ids(self) -> set[int]:
        return {person.id for person in self.people}

    @property
    def departments(self) -> set[int]:
        return {person.department_id for person in self.people if person.department_id is not None}


def reach(user: User) -> Reach:
    """Return whom `user` acts as today, by the office's date."""
    return Reach((user, *registry.represented_today(user)))


def can_view(user: User, directive: Directive) -> bool:
    """Return True when `user` may open `directive`: within their clearance, and office-wide, or its drafter,
    signer, or a member of its issuing or countersigning departments (or standing in today for one of them)."""
    if directive.classification > user.clearance:
        return False
    acting = reach(user)
    if acting.office_wide:
        return True
    ids, departments = acting.ids, acting.departments
    return (
        directive.drafted_by_id in ids
        or directive.signer_id in ids
        or directive.department_id in departments
        or any(c.department_id in departments for c in directive.countersigns)
    )


def visible(query, user: User, acting: Reach | None = None):
    """Restrict a query of directives to those `user` may open (the SQL twin of `can_view`); `acting`, when given,
    is `reach(user)` read once by a caller that needs it too."""
    query = query.where(Directive.classification <= user.clearance)
    acting = acting or reach(user)
    if acting.office_wide:
        return query
    ids, departments = sorted(acting.ids), sorted(acting.departments)
    countersigned = select(Countersign.directive_id).where(Countersign.department_id.in_(departments))
    return query.where(
        or_(
            Directive.drafted_by_id.in_(ids),
            Directive.signer_id.in_(ids),
            Directive.department_id.in_(departments),
            Directive.id.in_(countersigned),
        )
    )


def get_directive(directive_id: int, viewer: User | None = None) -> Directive:
    """Return the directive, or raise NotFound (also when `viewer` may not open it)."""
    directive = db.session.get(Directive, directive_id)
    if directive is None or (viewer is not None and not can_view(viewer, directive)):
        raise NotFound(Msg(N_("No such directive.")))
    return directive


def list_directives(user: User, page: int, per_page: int, state: str | None = None, mine: bool = False) -> Page:
    """Return a page of the directives `user` may open, the latest changed first."""
    query = select(Directive).options(selectinload(Directive.department), selectinload(Directive.document))
    query = visible(query, user)
    if state:
        query = query.where(Directive.state == state)
    if mine:
        query = query.where(Directive.drafted_by_id == user.id)
    return paginate(query.order_by(Directive.updated_at.desc(), Directive.id.desc()), page, per_page)


# --- checking and drawing --------------------------------------------------------------------------------------


def warnings(directive: Directive) -> list[Msg]:
    """Return what the drafting rules say about `directive` (advice: nothing here blocks a step)."""
    kind = kind_of(directive)

    def addressees(role: str) -> list[kinds.Addressee]:
        return [
            kinds.Addressee(r.name, subordinate=bool(r.department and r.department.kind == "unit"))
            for r in directive.recipients
            if r.role == role
        ]

    series = directive.series or next(iter(outgoing_series(directive.department_id)), None)
    return kinds.check(
        kind,
        directive.title,
        addressees("main"),
        addressees("copy"),
        directive.body,
        directive.sections or {},
        series.pattern if series else "",
    )


def content_of(directive: Directive, number: str = "", printed_on: date | None = None) -> Content:
    """Return what `directive`'s Word file shows (its number once registered)."""
    language = language_of(directive)
    kind = kind_of(directive)
    signer = directive.signed_by or directive.signer
    attachments = tuple(line.strip() for line in (directive.attachments_note or "").splitlines() if line.strip())
    return Content(
        kind=directive.kind,
        language=language,
        issuer=directive.issuer,
        issuer_mark=directive.issuer_mark,
        title=directive.title,
        body=parse_body(directive.body, language),
        number=number or (directive.document.number if directive.document else ""),
        main_recipients=tuple(r.name for r in directive.recipients if r.role == "main"),
        copy_recipients=tuple(r.name for r in directive.recipients if r.role == "copy"),
        urgency=URGENCY_MARKS[language].get(directive.urgency, ""),
        classification=CLASSIFICATION_MARKS[language][directive.classification],
        signer=signer.full_name if signer else "",
        signer_title=directive.signer_title,
        signed_on=directive.signed_on,
        attachments=attachments,
        note=directive.note,
        printer=directive.department.name if directive.department else "",
        printed_on=printed_on or directive.signed_on,
        place=directive.place,
        their_reference=directive.their_reference,
        subject=directive.title,
        extra={
            section.name: parse_body((directive.sections or {}).get(section.name, ""), language)
            for section in kind.sections
        },
    )


def directive_of(document_id: int, viewer: User) -> Directive | None:
    """Return the directive a document belongs to (its registered outgoing document, or a recipient's incoming
    copy), when `viewer` may open that directive."""
    directive = db.session.execute(select(Directive).where(Directive.document_id == document_id)).scalar()
    if directive is None:
        query = (
            select(Directive)
            .join(DirectiveRecipient, DirectiveRecipient.directive_id == Directive.id)
            .where(DirectiveRecipient.incoming_document_id == document_id)
        )
        directive = db.session.execute(query).scalar()
    return directive if directive is not None and can_view(viewer, directive) else None


def steps_of(directive_id: int) -> list[DirectiveStep]:
    """Return the history of a directive, oldest step first."""
    query = select(DirectiveStep).where(DirectiveStep.directive_id == directive_id)
    return list(db.session.execute(query.order_by(DirectiveStep.at, DirectiveStep.id)).scalars())
