"""The forms of a document's routing panel, and the choices and first values they are shown with.

They only parse what is sent: the routing services check every rule, report each mistake on its field, and the page
comes back with the user's input. Every form on the panel gets ids of its own (`routing-instruct-text`,
`task-7-complete-result`, …), so that labels point at the right field and a page with several tasks stays valid.
"""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, Optional, ValidationError

from docstore import accounts, organisation
from docstore.routing import LEADER_ROLE, REASON_LIMIT, TEXT_LIMIT
from docstore.routing.panel import Panel, Person, reply_example
from docstore.web.common import MAX_ID
from docstore.web.forms import ConfirmForm, MultiCheckboxField


def parse_id(value) -> int | None:
    """Return a chosen id: None when nothing is chosen, 0 (no one) when the value is not an id at all.

    The services refuse 0 with the field's own message ("Choose an active leader."), so that a tampered value is
    answered like any wrong choice.
    """
    if value is None or value == "" or value == "None":
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and int(text) <= MAX_ID else 0


def parse_ids(values) -> list[int]:
    """Return the ids chosen in a multiple choice (a value that is not an id becomes 0, which no service accepts)."""
    return [ident for ident in (parse_id(value) for value in values or []) if ident is not None]


def parse_assignee(value: str | None) -> tuple[str, int] | None:
    """Return ("department", id) or ("user", id) for a value "department:<id>" / "user:<id>"; None when empty.

    Anything else becomes an assignee no service accepts, so that it is refused on its field.
    """
    value = (value or "").strip()
    if not value:
        return None
    target, _sep, ident = value.partition(":")
    return (target, parse_id(ident) or 0)


def parse_assignees(values) -> list[tuple[str, int]]:
    return [assignee for assignee in (parse_assignee(value) for value in values or []) if assignee is not None]


TEXT = {"maxlength": TEXT_LIMIT}
REASON = {"maxlength": REASON_LIMIT}


class AcceptForm(FlaskForm):
    """Receive a document: the button pressed sends `kind` (action or information)."""

    kind = StringField(_l("Kind"))


class ReturnForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for returning it"),
        render_kw={"required": True, "rows": 2, **REASON},
        description=_l("For example: not addressed to us, not in our remit, the format does not comply."),
    )


class ProposeForm(FlaskForm):
    """Propose the handling: the leader, the lead department and the others helping it, the deadline, the text."""

    leader_id = SelectField(_l("Leader to instruct"), coerce=parse_id, validate_choice=False)
    lead_department_id = SelectField(
        _l("Lead department"),
        coerce=parse_id,
        validate_choice=False,
        description=_l("It leads the handling when the leader instructs as proposed."),
    )
    other_department_ids = MultiCheckboxField(
        _l("Other departments"),
        coerce=parse_id,
        validate_choice=False,
        description=_l("They help the lead department (co-handlers)."),
    )
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    text = TextAreaField(_l("Proposed handling"), render_kw={"required": True, "rows": 3, **TEXT})

    def validate_lead_department_id(self, field) -> None:
        if field.data is None and parse_ids(self.other_department_ids.data):
            raise ValidationError(_("Choose the lead department: the others help it."))

    def department_ids(self) -> list[int]:
        """Return the proposed departments as the service takes them: the lead first, then the others.

        The lead ticked among the others too counts once, as the lead (the service keeps the first of repeats).
        """
        lead = self.lead_department_id.data
        return ([lead] if lead is not None else []) + parse_ids(self.other_department_ids.data)

    def field_of(self, service_field: str) -> str:
        """Return the field that shows a mistake the service reports on `service_field`."""
        if service_field != "department_ids":
            return service_field
        return "other_department_ids" if parse_ids(self.other_department_ids.data) else "lead_department_id"


class InstructForm(FlaskForm):
    text = TextAreaField(_l("Instruction"), render_kw={"required": True, "rows": 3, **TEXT})
    lead = SelectField(_l("Lead handler"), validate_choice=False)
    co_handlers = SelectMultipleField(
        _l("Co-handlers"), validate_choice=False, description=_l("Hold Ctrl (⌘ on a Mac) to choose several.")
    )
    deadline = DateField(
        _l("Deadline"), validators=[Optional()], description=_l("Empty: the document's deadline, or its default.")
    )


class CirculateForm(FlaskForm):
    """Send a document to read: checkboxes grouped by department (`reader_groups`, set with the choices)."""

    reader_ids = MultiCheckboxField(_l("Readers"), coerce=parse_id, validate_choice=False)
    required = BooleanField(_l("Required: closing waits until they have read it"))
    #: The people it may be sent to, by department: [(department name, [Person, …]), …].
    reader_groups: list[tuple[str, list[Person]]] = []


class CloseForm(FlaskForm):
    result = TextAreaField(_l("Result"), render_kw={"rows": 3, **TEXT})
    reason = StringField(_l("Reason for closing without a result"), render_kw=REASON)
    reply_number = StringField(_l("Number of the reply"), description=_l("Optional: the register number of the reply."))


class ReopenForm(FlaskForm):
    reason = StringField(_l("Reason for reopening"), render_kw={"required": True, **REASON})


class CommentForm(FlaskForm):
    text = TextAreaField(_l("Comment"), render_kw={"required": True, "rows": 2, **TEXT})


class ExtensionForm(FlaskForm):
    new_deadline = DateField(_l("New deadline"), validators=[Optional()], render_kw={"required": True})
    reason = TextAreaField(_l("Why more time is needed"), render_kw={"required": True, "rows": 2, **TEXT})


class DecideForm(FlaskForm):
    """Decide a request for more time: the button pressed sends `decision` (approve or refuse)."""

    decision = StringField(
        _l("Decision"), validators=[AnyOf(["approve", "refuse"], message=_l("Approve or refuse the request."))]
    )
    note = StringField(_l("Note to the requester"), render_kw=TEXT)


class ForwardForm(FlaskForm):
    user_id = SelectField(_l("Forward to"), coerce=parse_id, validate_choice=False)


class CompleteForm(FlaskForm):
    result = TextAreaField(_l("Result"), render_kw={"required": True, "rows": 3, **TEXT})


class ReadForm(ConfirmForm):
    """Mark a document as read (nothing but the CSRF token)."""


# --- the panel's forms, with their choices and first values --------------------------------------------------------


def _identify(form: FlaskForm, prefix: str) -> FlaskForm:
    """Give the fields of `form` ids starting with `prefix`, and point their labels at them."""
    for field in form:
        if field.type != "CSRFTokenField":
            field.id = f"{prefix}-{field.name}"
            field.label.field_id = field.id
    return form


class _Choices:
    """The pickers' choices, read once and only when a form needs them."""

    def __init__(self):
        self._tree = None
        self._users = None

    @property
    def tree(self):
        if self._tree is None:
            self._tree = organisation.department_tree(include_inactive=False)
        return self._tree

    @property
    def users(self):
        if self._users is None:
            self._users = accounts.active_users()
        return self._users

    def departments(self) -> list[tuple[int, str]]:
        return [(row.department.id, "\u2003" * row.depth + row.department.name) for row in self.tree]

    def leaders(self) -> list[tuple[int | None, str]]:
        return [(user.id, user.full_name) for user in self.users if user.has_role(LEADER_ROLE)]

    def groups(self, leave_out: set[int] = frozenset()) -> list[tuple[str, list]]:
        """Return the active users by department (in tree order), those without one last; `leave_out` ids left out."""
        groups: dict[int | None, list] = {}
        for user in self.users:
            if user.id not in leave_out:
                groups.setdefault(user.department_id, []).append(user)
        order = [(row.department.id, row.department.name) for row in self.tree if row.department.id in groups]
        order += [(ident, _("No department")) for ident in groups if ident not in {i for i, _name in order}]
        return [(name, groups[ident]) for ident, name in order]

    def people(self, value=lambda user: user.id) -> list[SelectChoice]:
        """Return the active users as choices grouped by department (in tree order), those without one last."""
        return [
            SelectChoice(value(user), user.full_name, optgroup=name) for name, users in self.groups() for user in users
        ]

    def assignees(self) -> list[SelectChoice]:
        """Return who can be given a task: the departments first, then their people."""
        departments = [
            SelectChoice(f"department:{ident}", name, optgroup=_("Departments")) for ident, name in self.departments()
        ]
        return departments + self.people(lambda user: f"user:{user.id}")


def panel_forms(panel: Panel | None, bound: dict[str, FlaskForm] | None = None) -> dict[str, FlaskForm]:
    """Return the forms of the actions `panel` offers its viewer, by key (the prefix of their ids).

    A form in `bound` (one sent back with its mistakes) replaces the blank one of the same key, keeping what the
    user typed. Blank forms start from what the panel knows: a leader's instruction from the office's proposal (the
    first proposed department leads, the others co-handle, by the proposed deadline), a clerk's closing from the
    lead handler's result.
    """
    if panel is None:
        return {}
    bound = bound or {}
    choices = _Choices()
    forms: dict[str, FlaskForm] = {}

    def add(key: str, form_class: type[FlaskForm], **data) -> FlaskForm:
        form = bound.get(key) or form_class(formdata=None, data=data)
        forms[key] = _identify(form, key)
        return form

    can = panel.can
    if can.receive:
        add("routing-accept", AcceptForm)
        add("routing-return", ReturnForm)
    if can.propose:
        proposal = panel.proposal
        leaders = choices.leaders()
        default_leader = leaders[0][0] if len(leaders) == 1 else None
        proposed = [d.id for d in proposal.departments] if proposal else []
        form = add(
            "routing-propose",
            ProposeForm,
            leader_id=proposal.leader.id if proposal and proposal.leader else default_leader,
            lead_department_id=proposed[0] if proposed else None,
            other_department_ids=proposed[1:],
            deadline=_not_past(proposal.deadline if proposal else panel.deadline, panel),
            text=proposal.text if proposal else "",
        )
        form.leader_id.choices = [(None, _("— choose —")), *leaders]
        form.lead_department_id.choices = [(None, _("— choose —")), *choices.departments()]
        form.other_department_ids.choices = choices.departments()
    if can.instruct:
        lead = panel.open_lead
        proposal = panel.proposal
        first = {}
        if panel.state in ("accepted", "proposed") and proposal is not None:
            departments = [f"department:{d.id}" for d in proposal.departments]
            first = {
                "text": _("Agreed: handle as proposed."),  # the words of the quick form on the leaders' list
                "lead": departments[0] if departments else "",
                "co_handlers": departments[1:],
                "deadline": _not_past(proposal.deadline, panel),
            }
        form = add("routing-instruct", InstructForm, **first)
        keep = _("— keep the lead handler: %(name)s —", name=lead.assignee) if lead is not None else _("— choose —")
        form.lead.choices = [SelectChoice("", keep), *choices.assignees()]
        form.co_handlers.choices = choices.assignees()
    if can.circulate:  # to the people it was not sent to yet
        form = add("routing-circulate", CirculateForm)
        sent = {reader.user.id for reader in panel.readers}
        form.reader_groups = [
            (name, [Person(user.id, user.full_name) for user in users]) for name, users in choices.groups(sent)
        ]
        form.reader_ids.choices = [(person.id, person.name) for _name, group in form.reader_groups for person in group]
    if can.mark_read:
        add("routing-read", ReadForm)
    if can.close and not panel.blocking_readers:  # closing waits for them: the page says so instead
        done_lead = [task for task in panel.tasks if task.role == "lead" and task.state == "done"]
        form = add("routing-close", CloseForm, result=done_lead[-1].result if done_lead else "")
        if panel.kind == "information":  # nothing was handled and no reply is due: its outcome is all it asks
            form.result.label.text = _("Outcome")
            form.result.description = _("What came of it, for example: read by everyone concerned, filed.")
            form.result.render_kw = {**form.result.render_kw, "required": True}
        else:
            example = reply_example(current_user)
            if example:
                form.reply_number.description = _(
                    "Optional: the register number of the reply, for example %(number)s.", number=example
                )
    if can.reopen:
        add("routing-reopen", ReopenForm)
    for task in panel.my_tasks:
        prefix = f"task-{task.id}"
        add(f"{prefix}-complete", CompleteForm)
        add(f"{prefix}-comment", CommentForm)
        if task.pending_extension is None:
            add(f"{prefix}-extension", ExtensionForm)
        if task.colleagues:
            form = add(f"{prefix}-forward", ForwardForm)
            form.user_id.choices = [(None, _("— choose —"))] + [(person.id, person.name) for person in task.colleagues]
    for task in panel.tasks:
        if task.may_comment:  # a clerk's or a leader's word on a task they do not handle
            add(f"task-{task.id}-comment", CommentForm)
    if can.decide_extensions:
        for _task, request in panel.pending_extensions:
            add(f"extension-{request.id}-decide", DecideForm)
    for key, form in bound.items():
        if key not in forms:  # the page no longer offers it (it changed meanwhile): say what was wrong all the same
            for message in (message for messages in form.errors.values() for message in messages):
                flash(message, "routing-error")
    return forms


def _not_past(day, panel: Panel):
    """Return `day` as a first value for a deadline field, unless it has passed (the service would refuse it)."""
    return day if day is not None and day >= panel.today else None
