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
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes, one per choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _coerce_optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class SignInForm(FlaskForm):
    username = StringField(_l("Username"), render_kw={"required": True, "autocomplete": "username"})
    password = PasswordField(
        _l("Password"), render_kw={"required": True, "autocomplete": "current-password"}
    )
    remember = BooleanField(_l("Keep me signed in on this computer"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), render_kw={"required": True, "autocomplete": "current-password"}
    )
    new_password = PasswordField(
        _l("New password"), render_kw={"required": True, "autocomplete": "new-password"}
    )


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
    department_id = SelectField(_l("Department"), coerce=_coerce_optional_int, validate_choice=False)
    roles = MultiCheckboxField(_l("Roles"), validate_choice=False)
    clearance = SelectField(_l("Security clearance"), coerce=int, validate_choice=False)
    locale = SelectField(_l("Language"), validate_choice=False)
    password = PasswordField(
        _l("Initial password"),
        render_kw={"autocomplete": "new-password"},
        description=_l("The user can change it after signing in."),
    )


class PasswordResetForm(FlaskForm):
    new_password = PasswordField(
        _l("New password"), render_kw={"required": True, "autocomplete": "new-password"}
    )


class SubstitutionForm(FlaskForm):
    substitute_id = SelectField(_l("Substitute"), coerce=_coerce_optional_int, validate_choice=False)
    starts_on = DateField(_l("From"), validators=[Optional()])
    ends_on = DateField(_l("Until (included)"), validators=[Optional()])
    reason = StringField(_l("Reason"))


class DepartmentForm(FlaskForm):
    code = StringField(
        _l("Code"), render_kw={"required": True}, description=_l("Short code used in numbers, e.g. BGS.")
    )
    name = StringField(_l("Name"), render_kw={"required": True})
    kind = SelectField(_l("Kind"), validate_choice=False)
    parent_id = SelectField(_l("Belongs to"), coerce=_coerce_optional_int, validate_choice=False)


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
