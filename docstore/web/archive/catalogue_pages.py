"""What leaves the archive: the printable catalogue (Word, Excel) and exchange packages (BagIt, as a .tar)."""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path

from flask import current_app, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user

from docstore.archive import catalogue, exchange, records, scheme
from docstore.archive.records import ARCHIVE_ROLES
from docstore.errors import N_, DocstoreError, Msg
from docstore.web.archive.common import (
    DOCX_MIME,
    VIEWER_ROLES,
    bp,
    catalogue_labels,
    class_choices,
    records_by_code,
    refused,
)
from docstore.web.archive_forms import ExportForm
from docstore.web.common import form_status, optional_int, roles_required, translate
from docstore.web.registers import file_store

#: The catalogue's formats, with their MIME types.
CATALOGUE_FORMATS = {"docx": DOCX_MIME, "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


# --- the catalogue ---------------------------------------------------------------------------------------------


@bp.route("/catalogue")
@roles_required(*VIEWER_ROLES)
def catalogue_page():
    args = request.args
    values = {name: args.get(name, "") for name in ("class_id", "year", "retention", "format")}
    errors: dict[str, str] = {}
    if values["format"]:
        class_id, year = optional_int(values["class_id"]), optional_int(values["year"])
        if class_id is None:
            errors["class_id"] = _("Choose the class (or the whole fonds).")
        if year is None:
            errors["year"] = _("Choose the year.")
        if values["retention"] and not scheme.retention_valid(values["retention"]):
            errors["retention"] = _("Choose Y, D30, D10, or a custom period such as D5.")
        if values["format"] not in CATALOGUE_FORMATS:
            errors["format"] = _("Choose Word or Excel.")
        if not errors:
            return _catalogue_file(scheme.get_class(class_id), year, values["retention"], values["format"])
    return render_template(
        "archive/catalogue.html",
        values=values,
        errors=errors,
        classes=class_choices(),
        years=records.record_years(),
    ), (422 if errors else 200)


def _catalogue_file(node, year: int, retention: str, kind: str):
    path = scheme.ancestry(node)
    title = translate(Msg(N_("Archive catalogue: %(name)s, %(year)s"), name=node.name, year=year))
    subtitle = f"{path[0].code} {path[0].name}"
    found = catalogue.catalogue_records(node.id, year, retention)
    rows = catalogue.withheld_above(catalogue.catalogue_rows(found), current_user.clearance)
    if kind == "docx":
        data = catalogue.catalogue_docx(rows, title=title, subtitle=subtitle, labels=catalogue_labels())
    else:
        data = catalogue.catalogue_xlsx(rows, title=title, labels=catalogue_labels())
    name = "catalogue-{}-{}{}.{}".format(
        "-".join(n.code for n in path), year, f"-{retention}" if retention else "", kind
    )
    return send_file(io.BytesIO(data), mimetype=CATALOGUE_FORMATS[kind], as_attachment=True, download_name=name)


# --- export ----------------------------------------------------------------------------------------------------


@bp.route("/export", methods=["GET", "POST"])
@roles_required(*ARCHIVE_ROLES)
def export():
    form = ExportForm()
    form.class_id.choices = class_choices(_("— choose a class —"))
    form.year.choices = [(None, _("— every year —"))] + [(year, str(year)) for year in records.record_years()]
    if form.validate_on_submit():
        record_ids, unknown = records_by_code(form.codes.data)
        if unknown:
            form.codes.errors = [_("No record has the code %(codes)s.", codes=", ".join(unknown))]
        elif not record_ids and form.class_id.data is None and form.year.data is None:
            form.form_errors.append(_("Choose a class, a year, or records by their codes."))
        else:
            selection = exchange.Selection(form.class_id.data, form.year.data, tuple(record_ids))
            try:
                return _package(selection)
            except DocstoreError as exc:
                form.form_errors.append(refused(exc))
    return render_template("archive/export.html", form=form), form_status(form)


def _package(selection: exchange.Selection):
    """Export `selection` into a temporary folder, validate it, and send it as one tar file."""
    parts = ["records"]
    if selection.class_id is not None:
        parts.append("-".join(node.code for node in scheme.ancestry(scheme.get_class(selection.class_id))))
    if selection.year is not None:
        parts.append(str(selection.year))
    name = "-".join(parts)
    organisation = exchange.default_organisation(current_app.config["DIRECTIVE_ISSUER"])
    work = Path(tempfile.mkdtemp(prefix="docstore-export-"))
    try:
        report = exchange.export_records(
            selection, work / name, file_store(), organisation=organisation, viewer=current_user
        )
        stream = exchange.pack(report.path, work / f"{name}.tar").open("rb")
    finally:
        # The open tar stays readable until the response closes it; nothing is left behind if the client goes away.
        shutil.rmtree(work, ignore_errors=True)
    return send_file(stream, mimetype="application/x-tar", as_attachment=True, download_name=f"{name}.tar")
