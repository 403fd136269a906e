"""Full-text search: the search page, with its facets, highlighted hits and pages."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from docstore import fulltext, registry
from docstore.pagination import Page

bp = Blueprint("search", __name__)

#: The date and sort fields of the form; errors about other arguments (facet values) are shown above it.
FORM_FIELDS = ("date_from", "date_until", "sort")


@bp.route("/search")
@login_required
def index():
    params, errors = fulltext.params_from(request.args, current_app.config["SEARCH_PAGE_SIZE"])
    if errors:  # a refused filter would widen the search silently: say so, and search once it is corrected
        outcome = fulltext.Outcome(params)
    else:
        outcome = fulltext.run(current_user, params, current_app.config, current_app)
    page = Page(outcome.items, params.page, params.per_page, outcome.total)
    args = request.args.to_dict(flat=False)  # every value of every argument: facets may be chosen several times
    if outcome.total and page.page > page.pages:  # past the end (a typed or an old address): show the last page
        return redirect(url_for("search.index", **(args | {"page": page.pages})))
    args.pop("page", None)
    status = 422 if errors else 200  # as a form sent back with mistakes (common.form_status)
    return render_template(
        "search/index.html",
        params=params,
        outcome=outcome,
        page=page,
        args=args,
        errors=errors,
        other_errors=[message for name, message in errors.items() if name not in FORM_FIELDS],
        FACET_TITLES=fulltext.FACET_TITLES,
        REBUILDING=fulltext.REBUILDING,
        FAILED=fulltext.FAILED,
        office_wide=registry.sees_office_wide(current_user),
    ), status
