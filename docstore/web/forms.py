"""The forms of the pages. They parse and render; the rules live in the services, which report per field.

Fields carry `required` for the browser only: the services check every rule, so that all the errors of a form
are shown together, and the API gets the same checks.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    MultipleFileField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from docstore.web.common import MAX_ID


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes, one per choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def coerce_id(value) -> int:
    """Return a chosen id as an int; raise ValueError (the field's "not a valid choice") for anything else."""
    number = int(value)
    if not 0 <= number <= MAX_ID:
        raise ValueError("not an id")
    return number


def coerce_optional_int(value):
    return coerce_id(value) if value not in (None, "", "None") else None


class SignInForm(FlaskForm):
    username = StringField(_l("Username"), render_kw={"required": True, "autocomplete": "username"})
    password = PasswordField(_l("Password"), render_kw={"required": True, "autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me signed in on this computer"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), render_kw={"required": True, "autocomplete": "current-password"}
    )
    new_password = PasswordField(_l("New password"), render_kw={"required": True, "autocomplete": "new-password"})


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=[], validate_choice=False)


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), render_kw={"required": True}, description=_l("The program that will use it."))
    days = IntegerField(
        _l("Valid for (days)"), default=90, validators=[Optional()], description=_l("0 means it never expires.")
    )


class UserForm(FlaskForm):
    username = StringField(_l("Username"), render_kw={"required": True, "autocomplete": "off"})
    full_name = StringField(_l("Full name"), render_kw={"required": True})
    email = StringField(_l("E-mail"), render_kw={"type": "email"})
    department_id = SelectField(_l("Department"), coerce=coerce_optional_int, validate_choice=False)
    roles = MultiCheckboxField(_l("Roles"), validate_choice=False)
    clearance = SelectField(_l("Security clearance"), coerce=int, validate_choice=False)
    locale = SelectField(_l("Language"), validate_choice=False)
    password = PasswordField(
        _l("Initial password"),
        render_kw={"autocomplete": "new-password"},
        description=_l("The user can change it after signing in."),
    )


class PasswordResetForm(FlaskForm):
    new_password = PasswordField(_l("New password"), render_kw={"required": True, "autocomplete": "new-password"})


class SubstitutionForm(FlaskForm):
    substitute_id = SelectField(_l("Substitute"), coerce=coerce_optional_int, validate_choice=False)
    starts_on = DateField(_l("From"), validators=[Optional()])
    ends_on = DateField(_l("Until (included)"), validators=[Optional()])
    reason = StringField(_l("Reason"))


class DepartmentForm(FlaskForm):
    code = StringField(
        _l("Code"), render_kw={"required": True}, description=_l("Short code used in numbers, e.g. BGS.")
    )
    name = StringField(_l("Name"), render_kw={"required": True})
    kind = SelectField(_l("Kind"), validate_choice=False)
    parent_id = SelectField(_l("Belongs to"), coerce=coerce_optional_int, validate_choice=False)
    head_id = SelectField(
        _l("Head"),
        coerce=coerce_optional_int,
        validate_choice=False,
        description=_l("Told when an extra-urgent task of the department is overdue."),
    )


class CorrespondentForm(FlaskForm):
    name = StringField(_l("Name"), render_kw={"required": True})
    kind = SelectField(_l("Kind"), validate_choice=False)
    code = StringField(_l("Code"), description=_l("Optional short code, unique in the address book."))
    contact_person = StringField(_l("Contact person"))
    email = StringField(_l("E-mail"), render_kw={"type": "email"})
    phone = StringField(_l("Phone"))
    address = TextAreaField(_l("Address"), render_kw={"rows": 2})
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 2})


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change something."""


class RegistrationForm(FlaskForm):
    """The fields shared by incoming, outgoing and internal registrations."""

    series_id = SelectField(_l("Register"), coerce=coerce_optional_int, validate_choice=False)
    title = StringField(_l("Title / subject"), render_kw={"required": True, "maxlength": 500})
    document_type_id = SelectField(_l("Document type"), coerce=coerce_optional_int, validate_choice=False)
    urgency = SelectField(_l("Urgency"), validate_choice=False)
    classification = SelectField(_l("Classification"), coerce=int, validate_choice=False)
    pages = IntegerField(_l("Number of pages"), validators=[Optional()], render_kw={"min": 1})
    copies = IntegerField(_l("Copies"), validators=[Optional()], render_kw={"min": 1})
    department_id = SelectField(_l("Addressed to"), coerce=coerce_optional_int, validate_choice=False)
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    summary = TextAreaField(_l("Summary"), render_kw={"rows": 3})
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 2})
    attachments = MultipleFileField(_l("Attachments"), description=_l("PDF, Word, OpenDocument, text or images."))


class IncomingForm(RegistrationForm):
    received_at = DateTimeLocalField(_l("Received at"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    channel = SelectField(_l("Channel"), validate_choice=False)
    correspondent_id = SelectField(_l("Sender"), coerce=coerce_optional_int, validate_choice=False)
    new_correspondent_name = StringField(
        _l("Or a new sender"), description=_l("Added to the address book when the document is registered.")
    )
    sender_reference = StringField(_l("Sender's reference number"))
    sender_date = DateField(_l("Sender's date"), validators=[Optional()])


class OutgoingForm(RegistrationForm):
    signer_id = SelectField(_l("Signed by"), coerce=coerce_optional_int, validate_choice=False)
    document_date = DateField(_l("Date of the document"), validators=[Optional()])
    sent_on = DateField(_l("Sent on"), validators=[Optional()])
    main_recipients = SelectMultipleField(
        _l("Main recipients"), validate_choice=False, description=_l("Hold Ctrl (⌘ on a Mac) to choose several.")
    )
    copy_recipients = SelectMultipleField(
        _l("Copy to"), validate_choice=False, description=_l("Hold Ctrl (⌘ on a Mac) to choose several.")
    )


class VoidForm(FlaskForm):
    reason = StringField(_l("Reason for cancelling the number"), render_kw={"required": True, "maxlength": 500})


class AttachForm(FlaskForm):
    attachments = MultipleFileField(_l("Add attachments"))


class SeriesForm(FlaskForm):
    code = StringField(_l("Code"), render_kw={"required": True})
    name = StringField(_l("Name"), render_kw={"required": True})
    direction = SelectField(_l("Direction"), validate_choice=False)
    pattern = StringField(
        _l("Number pattern"),
        render_kw={"required": True},
        description=_l(
            "Tokens: {year}, {seq} (or {seq:6} with zero padding), {dept}, {code}. "
            "Examples: IN-{year}-{seq:6} · 国办函〔{year}〕{seq}号 · {year}-{dept}-{seq:4}"
        ),
    )
    department_id = SelectField(_l("Department"), coerce=coerce_optional_int, validate_choice=False)


class DocumentTypeForm(FlaskForm):
    code = StringField(_l("Code"), render_kw={"required": True, "maxlength": 32})
    name = StringField(_l("Name"), render_kw={"required": True, "maxlength": 100})
    position = IntegerField(_l("Position in lists"), validators=[Optional()])
    active = BooleanField(_l("Offered when registering"), default=True)


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[Optional()], render_kw={"required": True})
    kind = SelectField(_l("Kind"), validate_choice=False)
    name = StringField(
        _l("Name"),
        render_kw={"required": True, "maxlength": 100},
        description=_l("For example Año Nuevo, 国庆节 or 国庆节调休. A date already in the calendar is changed."),
    )


class CalendarImportForm(FlaskForm):
    lines = TextAreaField(
        _l("Days, one a line"),
        render_kw={"rows": 8, "spellcheck": "false"},
        # Translators: write holiday and workday as words the import reads (es: festivo, laborable; zh: 休, 班),
        # and keep the two dots of DATE..DATE and the example dates.
        description=_l(
            "DATE NAME or DATE holiday NAME for a holiday, DATE workday NAME for a make-up working day, DATE..DATE "
            "NAME for several days. For example: 2026-10-01..2026-10-07 国庆节 · 2026-10-10 workday 国庆节调休"
        ),
    )
    replace = BooleanField(_l("Remove the year's other days (replace the whole list)"))
