"""The forms of the directive pages: the draft, the steps (each with its opinion or reason), issue and replies."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from docstore.directives import kinds
from docstore.web.forms import MultiCheckboxField, coerce_id, coerce_optional_int

BODY_HELP = _l(
    "One paragraph per line or block. Headings: type 一、 （一） 1. （1） at the start of a line, or # ## ### #### to "
    "number them for you. “- ” starts a numbered point; lines starting with | make a table (the first row is its "
    "header)."
)


class DirectiveForm(FlaskForm):
    """The fields of a draft."""

    version = HiddenField()
    reply_to_id = HiddenField()
    kind = SelectField(_l("Type"), validate_choice=False, render_kw={"data-directive-kind": True})
    title = StringField(_l("Title"), render_kw={"required": True, "maxlength": 500})
    issuer = StringField(
        _l("Issuing body"), render_kw={"required": True, "maxlength": 200}, description=_l("发文机关 / órgano emisor.")
    )
    issuer_mark = TextAreaField(
        _l("Letterhead"),
        render_kw={"rows": 2, "maxlength": 500},
        description=_l(
            "The red issuing-body mark (e.g. 某某市人民政府办公室文件), or the lines of a Spanish letterhead. "
            "Empty: the issuing body."
        ),
    )
    department_id = SelectField(_l("Issuing department"), coerce=coerce_optional_int, validate_choice=False)
    series_id = SelectField(
        _l("Outgoing register"),
        coerce=coerce_optional_int,
        validate_choice=False,
        description=_l("The number is taken from it only when the directive is registered, after sign-off."),
    )
    urgency = SelectField(_l("Urgency"), validate_choice=False)
    classification = SelectField(_l("Classification"), coerce=int, validate_choice=False)
    signer_id = SelectField(_l("To be signed off by"), coerce=coerce_optional_int, validate_choice=False)
    signer_title = StringField(
        _l("Signer's post"),
        render_kw={"maxlength": 200},
        description=_l("As the signature block prints it: EL DIRECTOR GENERAL, 某某局. Empty: the issuing body."),
    )
    main_recipients = SelectMultipleField(
        _l("Main recipients"), validate_choice=False, description=_l("Hold Ctrl (⌘ on a Mac) to choose several.")
    )
    copy_recipients = SelectMultipleField(
        _l("Copy to"), validate_choice=False, description=_l("Hold Ctrl (⌘ on a Mac) to choose several.")
    )
    countersign_department_ids = MultiCheckboxField(
        _l("Countersigned by (会签)"), coerce=coerce_id, validate_choice=False
    )
    body = TextAreaField(_l("Body"), render_kw={"rows": 16, "spellcheck": "true"}, description=BODY_HELP)
    attachments_note = TextAreaField(
        _l("Attachments"), render_kw={"rows": 2}, description=_l("The name of each attachment, one a line.")
    )
    note = StringField(_l("Note (附注)"), render_kw={"maxlength": 2000})
    their_reference = StringField(_l("Their reference (S/REF.)"), render_kw={"maxlength": 120})
    place = StringField(_l("Place of signature"), render_kw={"maxlength": 100})
    feedback_requested = BooleanField(_l("Ask the main recipients for a reply"))
    feedback_deadline = DateField(_l("Replies due by"), validators=[Optional()])


#: Form field name of each type's section: section_<name>.
SECTION_NAMES = sorted({section.name for kind in kinds.KINDS.values() for section in kind.sections})
for _name in SECTION_NAMES:
    _label = next(s.label for k in kinds.KINDS.values() for s in k.sections if s.name == _name)
    setattr(DirectiveForm, f"section_{_name}", TextAreaField(_l(_label), render_kw={"rows": 5}))


class OpinionForm(FlaskForm):
    opinion = TextAreaField(_l("Opinion"), render_kw={"rows": 2, "maxlength": 1000})


class CountersignForm(FlaskForm):
    department_id = SelectField(_l("For the department"), coerce=coerce_optional_int, validate_choice=False)
    opinion = TextAreaField(
        _l("Opinion"), render_kw={"rows": 2, "maxlength": 1000}, description=_l("Required when you decline.")
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2, "maxlength": 1000, "required": True})


class IssueForm(FlaskForm):
    """Issue: how each external copy leaves (internal departments receive theirs in their register)."""


class ReplyForm(FlaskForm):
    recipient_id = IntegerField(validators=[Optional()])
    number = StringField(_l("Number of the reply"), render_kw={"required": True, "maxlength": 120})


class TemplateForm(FlaskForm):
    name = StringField(_l("Name"), render_kw={"required": True, "maxlength": 200})
    language = SelectField(_l("Language of its documents"), validate_choice=False)
    file = FileField(_l("Word file (.docx)"), render_kw={"accept": ".docx"})
