"""Filing: the closed documents of a year, filed into a class all together or as ticked.

Filing takes 5 to 8 ms a document on SQLite (2,000 in 11 to 16 s on two cores): above ARCHIVE_FILING_INLINE_LIMIT
documents a year's filing runs in a thread of the web process (a `FilingJob`), whose page polls its progress
(static/js/archive.js), so that no request outlasts the web server's timeout. The job is known to the process that
runs it; each batch of filing.BATCH_SIZE documents is committed, so a job cut short leaves whole records and the rest
to file again.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from docstore import database
from docstore.archive import filing, records, scheme
from docstore.archive.records import ARCHIVE_ROLES
from docstore.errors import N_, DocstoreError, Msg
from docstore.extensions import db
from docstore.web.archive.common import bp, class_choices, refused
from docstore.web.archive_forms import FilingForm
from docstore.web.common import audit_context, optional_int, page_number, page_size, roles_required, translate

log = logging.getLogger(__name__)


def _rules() -> filing.FilingRules:
    return filing.rules_from(current_app.config)


# --- filing ----------------------------------------------------------------------------------------------------


@dataclass
class FilingJob:
    """A year's filing running in a thread of this web process; its page polls it."""

    id: str
    year: int
    class_id: int
    total: int
    done: int = 0
    record_ids: list[int] = field(default_factory=list)
    skipped: list[tuple[str, Msg]] = field(default_factory=list)
    failure: Msg | None = None
    finished: bool = False


#: Finished jobs kept in memory for their pages (the oldest are forgotten).
KEPT_JOBS = 20
#: A pause after each batch of a background filing, so that requests waiting for SQLite's write lock get it.
JOB_PAUSE_SECONDS = 0.02
_jobs_lock = threading.Lock()


def _jobs() -> dict[str, FilingJob]:
    return current_app.extensions.setdefault("docstore_archive_filing", {})


def _start_job(year: int, class_id: int, total: int) -> FilingJob:
    """Start filing the closed documents of `year` into `class_id` in a thread; return the job."""
    app = current_app._get_current_object()
    job = FilingJob(secrets.token_hex(8), year, class_id, total)
    ctx, rules = audit_context(), _rules()
    with _jobs_lock:
        jobs = _jobs()
        for old in [ident for ident, other in jobs.items() if other.finished][: max(0, len(jobs) - KEPT_JOBS)]:
            del jobs[old]
        jobs[job.id] = job

    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total
        time.sleep(JOB_PAUSE_SECONDS)

    def run() -> None:
        with app.app_context():
            try:
                with database.writing():
                    report = filing.file_batch(ctx, class_id, year, rules, progress=progress)
                job.record_ids, job.skipped = report.record_ids, report.skipped
            except DocstoreError as exc:
                db.session.rollback()
                job.failure = exc.msg
            except Exception:
                db.session.rollback()
                log.exception("filing the documents of %s into class %s stopped", year, class_id)
                job.failure = Msg(
                    N_(
                        "The filing stopped on an unexpected error, which was recorded. What was filed stays filed: "
                        "file the rest again."
                    )
                )
            finally:
                job.finished = True
                db.session.remove()

    threading.Thread(target=run, name=f"archive-filing-{job.id}", daemon=True).start()
    return job


def _inline_limit() -> int:
    """Return ARCHIVE_FILING_INLINE_LIMIT: above it, a year's filing runs in the background."""
    return current_app.config["ARCHIVE_FILING_INLINE_LIMIT"]


def _running_job(year: int) -> FilingJob | None:
    return next((job for job in _jobs().values() if job.year == year and not job.finished), None)


def _say_filed(record_ids: list[int], skipped: list[tuple[str, Msg]]) -> None:
    """Flash what a filing did: how many records, their first and last codes, and the documents left with why."""
    if record_ids:
        first, last = records.get_record(record_ids[0]).code, records.get_record(record_ids[-1]).code
        flash(
            ngettext(
                "%(num)s record filed: %(first)s.",
                "%(num)s records filed: %(first)s to %(last)s.",
                len(record_ids),
                first=first,
                last=last,
            ),
            "success",
        )
    if skipped:
        shown = "; ".join(f"{number}: {translate(reason)}" for number, reason in skipped[:20])
        more = len(skipped) - 20
        flash(
            ngettext(
                "%(num)s document was not filed: %(list)s",
                "%(num)s documents were not filed: %(list)s",
                len(skipped),
                list=shown,
            )
            + (" " + ngettext("(and %(num)s more)", "(and %(num)s more)", more) if more > 0 else ""),
            "error",
        )
    if not record_ids and not skipped:
        flash(_("There was nothing to file."), "info")


@bp.route("/file")
@roles_required(*ARCHIVE_ROLES)
def file_page():
    years = filing.closed_years()
    year = optional_int(request.args.get("year"))
    if year is None and years:
        year = years[0][0]
    page = filing.closed_documents(year, page_number(), page_size()) if year is not None else None
    if page is not None and page.page > page.pages > 0:
        return redirect(url_for("archive.file_page", year=year, page=page.pages))
    form = FilingForm(formdata=None, year=year)
    form.class_id.choices = class_choices(_("— choose a class —"), fileable=True)
    running = [job for job in _jobs().values() if not job.finished]
    return render_template(
        "archive/file.html",
        years=years,
        year=year,
        count=dict(years).get(year, 0),
        page=page,
        form=form,
        running=running,
        inline_limit=_inline_limit(),
    )


@bp.route("/file", methods=["POST"])
@roles_required(*ARCHIVE_ROLES)
def file_documents():
    form = FilingForm()
    form.class_id.choices = class_choices(fileable=True)
    year = form.year.data
    back = url_for("archive.file_page", year=year)
    if not form.validate_on_submit() or year is None:
        flash(_("The form could not be read: reload the page and try again."), "error")
        return redirect(back)
    if form.class_id.data is None:
        flash(_("Choose the class to file the documents into."), "error")
        return redirect(back)
    selected = request.form.get("scope") == "selected"
    if selected and not form.document_ids.data:
        flash(_("Tick the documents to file, or file them all."), "error")
        return redirect(back)
    if not selected:
        running = _running_job(year)
        if running is not None:
            flash(_("The documents of %(year)s are being filed already.", year=year), "info")
            return redirect(url_for("archive.filing_job", job_id=running.id))
        total = dict(filing.closed_years()).get(year, 0)
        if total > _inline_limit():
            job = _start_job(year, form.class_id.data, total)
            return redirect(url_for("archive.filing_job", job_id=job.id))
    try:
        with database.writing():
            report = filing.file_batch(
                audit_context(), form.class_id.data, year, _rules(), form.document_ids.data if selected else None
            )
    except DocstoreError as exc:
        db.session.rollback()
        flash(refused(exc), "error")
        return redirect(back)
    _say_filed(report.record_ids, report.skipped)
    return redirect(back)


def _job_or_404(job_id: str) -> FilingJob | None:
    if not re.fullmatch(r"[0-9a-f]{16}", job_id):
        abort(404)
    return _jobs().get(job_id)


@bp.route("/file/jobs/<job_id>")
@roles_required(*ARCHIVE_ROLES)
def filing_job(job_id: str):
    job = _job_or_404(job_id)
    first = last = None
    if job is not None and job.record_ids:
        first, last = records.get_record(job.record_ids[0]), records.get_record(job.record_ids[-1])
    return render_template(
        "archive/job.html",
        job=job,
        node=scheme.get_class(job.class_id) if job is not None else None,
        first=first,
        last=last,
    )


@bp.route("/file/jobs/<job_id>.json")
@roles_required(*ARCHIVE_ROLES)
def filing_progress(job_id: str):
    job = _job_or_404(job_id)
    if job is None:
        return jsonify({"known": False, "finished": True})
    return jsonify(
        {
            "known": True,
            "finished": job.finished,
            "done": job.done,
            "total": job.total,
            "text": _("%(done)s of %(total)s documents", done=job.done, total=job.total),
        }
    )
