"""The forms of the archive pages: the file plan, filing, annotations, holds, disposal, review and export.

As everywhere, the forms parse and render; the rules live in the services (docstore.archive), which report per field.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import NumberRange, Optional

from docstore.web.forms import coerce_id, coerce_optional_int

#: The choice of the retention select that asks for a number of years in `custom_years`.
CUSTOM = "custom"
CODES_HELP = _l("One archival code a line (or separated by commas), as J001-WS·2026-D10-BGS-0001.")


class RetentionFields:
    """A retention period as a person picks it: permanent, 30 or 10 years, or a custom number of years."""

    retention = SelectField(_l("Retention"), validate_choice=False)
    custom_years = IntegerField(
        _l("Custom period, in years"),
        validators=[Optional(), NumberRange(min=1, max=999)],
        render_kw={"min": 1, "max": 999, "inputmode": "numeric"},
        description=_l("Only when the retention is “Custom…”."),
    )


class ClassForm(RetentionFields, FlaskForm):
    """A node of the file plan, as it is changed; the fonds, class or sub-class it belongs to is fixed."""

    code = StringField(
        _l("Code"),
        render_kw={"required": True, "maxlength": 16, "autocomplete": "off"},
        description=_l("Letters or digits: J001 for a fonds, WS (文书) or KJ for a class."),
    )
    name = StringField(_l("Name"), render_kw={"required": True, "maxlength": 200})
    disposal_action = SelectField(_l("At the end of the retention"), validate_choice=False)
    description = TextAreaField(_l("Description"), render_kw={"rows": 2, "maxlength": 2000})
    active = BooleanField(_l("Records may be filed in it"), default=True)


class NewClassForm(ClassForm):
    parent_id = SelectField(
        _l("Belongs to"),
        coerce=coerce_optional_int,
        validate_choice=False,
        description=_l("Nothing: a new fonds. A fonds: a class. A class: a sub-class."),
    )


class FilingForm(FlaskForm):
    """File the closed documents of a year (all of them, or those ticked) into a class."""

    year = IntegerField(validators=[Optional()])
    class_id = SelectField(_l("File into"), coerce=coerce_optional_int, validate_choice=False)
    document_ids = SelectMultipleField(coerce=coerce_id, validate_choice=False)


class AnnotationForm(FlaskForm):
    text = TextAreaField(
        _l("Annotation"),
        render_kw={"rows": 3, "maxlength": 4000, "required": True},
        description=_l("A correction or a remark. The record itself never changes; the annotation is kept with it."),
    )


class ReviewForm(RetentionFields, FlaskForm):
    """Appraise a record again: a new retention, counted from today, and what happens at its end."""

    action = SelectField(_l("At the end of the new retention"), validate_choice=False)
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2, "maxlength": 500, "required": True})


class HoldForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        render_kw={"rows": 2, "maxlength": 500, "required": True},
        description=_l("The litigation, inquiry or request that needs these records kept."),
    )
    codes = TextAreaField(_l("Records"), render_kw={"rows": 3, "spellcheck": "false"}, description=CODES_HELP)
    class_id = SelectField(
        _l("Or a whole class"),
        coerce=coerce_optional_int,
        validate_choice=False,
        description=_l("Every record of the class and of its sub-classes, including those filed later."),
    )


class ReleaseForm(FlaskForm):
    release_reason = TextAreaField(_l("Reason for releasing"), render_kw={"rows": 2, "maxlength": 500})


class ProposalForm(FlaskForm):
    record_ids = SelectMultipleField(coerce=coerce_id, validate_choice=False)
    reason = TextAreaField(
        _l("Reason"),
        render_kw={"rows": 2, "maxlength": 500, "required": True},
        description=_l("Why these records may go: the retention schedule, an appraisal."),
    )


class DecisionForm(FlaskForm):
    note = TextAreaField(
        _l("Note"), render_kw={"rows": 2, "maxlength": 500}, description=_l("Required when you reject the proposal.")
    )


class ExportForm(FlaskForm):
    """Export a class and year, or the records named by their codes, as a BagIt package."""

    class_id = SelectField(_l("Class"), coerce=coerce_optional_int, validate_choice=False)
    year = SelectField(_l("Year"), coerce=coerce_optional_int, validate_choice=False)
    codes = TextAreaField(_l("Or these records"), render_kw={"rows": 3, "spellcheck": "false"}, description=CODES_HELP)
