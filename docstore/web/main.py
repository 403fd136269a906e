"""The home page: what each role has to do today."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from docstore import accounts
from docstore.web.common import office_today

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():
    represented = accounts.represented_by(current_user.id, office_today())
    return render_template("main/home.html", represented=represented)
