"""What the archive's pages share: the blueprint, who sees what, the choices of their forms, and small helpers."""

from __future__ import annotations

import re

from flask import Blueprint
from flask_babel import gettext as _

from docstore import books
from docstore.archive import catalogue, records, scheme
from docstore.errors import DocstoreError, ValidationFailed
from docstore.models import DISPOSAL_ACTIONS, RETENTIONS
from docstore.web.archive_forms import CUSTOM
from docstore.web.common import clearance_names, translate

bp = Blueprint("archive", __name__, url_prefix="/archive")

#: Who sees the archive's lists (records, file plan, catalogue, holds, disposals): its keepers and the deciders.
VIEWER_ROLES = records.OVERSEER_ROLES
DOCX_MIME = books.DOCX_MIME
#: Codes typed in a box: one a line, or separated by commas or semicolons (Chinese ones too).
CODE_SEPARATORS = re.compile(r"[\s,;，；、]+")


def refused(exc: DocstoreError) -> str:
    """Return what a refused step says, its field errors included."""
    if isinstance(exc, ValidationFailed) and exc.errors:
        return " ".join(translate(message) for message in exc.errors.values())
    return translate(exc.msg)


def records_by_code(text: str) -> tuple[list[int], list[str]]:
    """Return the ids of the records whose codes are typed in `text`, and the codes that name none."""
    found, unknown = [], []
    for code in CODE_SEPARATORS.split(text or ""):
        if code:
            record = records.find_by_code(code)
            if record is None:
                unknown.append(code)
            else:
                found.append(record.id)
    return found, unknown


# --- retention periods and the file plan in forms --------------------------------------------------------------


def retention_choices(inherit: bool) -> list[tuple[str, str]]:
    """Return the options of a retention select: (as the class above,) Y, D30, D10, custom."""
    choices = [("", _("As the class above"))] if inherit else []
    choices += [(code, f"{translate(label)} ({code})") for code, label in RETENTIONS.items()]
    return [*choices, (CUSTOM, _("Custom…"))]


def action_choices(inherit: bool) -> list[tuple[str, str]]:
    """Return the options of a disposal action select: (as the class above,) destroy, transfer, review."""
    choices = [("", _("As the class above"))] if inherit else []
    return choices + [(key, translate(label)) for key, label in DISPOSAL_ACTIONS.items()]


def retention_of(form) -> str:
    """Return the retention code a form chose: Y, D30, D10, D<years>; "D" (refused by the service) without years."""
    if form.retention.data == CUSTOM:
        return f"D{form.custom_years.data or ''}"
    return form.retention.data or ""


def show_retention(form, code: str) -> None:
    """Set a form's retention fields to `code` (a custom period as "Custom" and its years)."""
    if code and code not in RETENTIONS:
        form.retention.data, form.custom_years.data = CUSTOM, scheme.retention_years(code)
    else:
        form.retention.data = code


def class_label(node) -> str:
    """Return a node of the file plan as an option of a select, indented by its depth."""
    return "\u2003" * (len(scheme.ancestry(node)) - 1) + f"{node.code} {node.name}"


def class_choices(blank: str | None = None, fileable: bool = False) -> list[tuple]:
    """Return the file plan as the options of a select; only classes and sub-classes when `fileable`."""
    choices = [(None, blank)] if blank is not None else []
    nodes = [node for node in scheme.list_classes() if not fileable or node.level != "fonds"]
    return choices + [(node.id, class_label(node)) for node in nodes]


def retention_name(code: str) -> str:
    """Return a retention period as a person reads it: Permanent, 30 years, or a custom D5 as "5 years"."""
    if code in RETENTIONS:
        return translate(RETENTIONS[code])
    years = code[1:] if code.startswith("D") else ""
    return _("%(years)s years", years=years) if years.isdigit() else code


def catalogue_labels() -> dict:
    """Return the texts of the catalogue and of the disposal certificate in the user's language."""
    return catalogue.default_labels(translate, clearance_names())


@bp.app_context_processor
def _archive_globals():
    """Give every template `archive_record_of` (the document page's "Filed in the archive as" line) and
    `retention_name`."""
    return {"archive_record_of": records.record_of, "retention_name": retention_name}
