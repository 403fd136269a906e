"""Signing in and out, and choosing the interface language before signing in."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from docstore import accounts
from docstore.errors import SignInLocked, SignInRefused
from docstore.web.common import LANGUAGES, audit_context, sign_in_policy, translate
from docstore.web.forms import LanguageForm, SignInForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Return `target` if it is a path on this site, else the home page (no open redirects)."""
    if target:
        parts = urlsplit(target)
        local = not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//")
        if local and "\\" not in target and not any(ord(ch) < 32 for ch in target):
            return target
    return url_for("main.home")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.sign_in(form.username.data, form.password.data, request.remote_addr, sign_in_policy())
        except (SignInRefused, SignInLocked) as exc:
            form.form_errors.append(translate(exc.msg))
            status = exc.status
        else:
            session.permanent = True
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    elif form.is_submitted():
        status = 422
    return render_template("auth/sign_in.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    if current_user.is_authenticated:
        accounts.record_sign_out(audit_context())
        logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.sign_in"))


@bp.route("/language", methods=["POST"])
def choose_language():
    """Set the interface language: for the signed-in user, or for this browser session."""
    form = LanguageForm()
    locale = request.form.get("locale", "")
    if form.validate_on_submit() and (locale in LANGUAGES or locale == ""):
        if current_user.is_authenticated:
            accounts.set_own_locale(audit_context(), current_user.id, locale or None)
        session["locale"] = locale or None
    return redirect(_safe_next(request.form.get("next")))
