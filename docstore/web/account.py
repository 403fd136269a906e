"""The signed-in user's own account: password, language and API tokens."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from docstore import accounts, clock
from docstore.errors import DocstoreError, ValidationFailed
from docstore.web.common import LANGUAGES, audit_context, office_today, password_min_length, show_errors, translate
from docstore.web.forms import ChangePasswordForm, ConfirmForm, LanguageForm, TokenForm

bp = Blueprint("account", __name__, url_prefix="/account")


def _language_form() -> LanguageForm:
    form = LanguageForm(locale=current_user.locale or "")
    form.locale.choices = [("", _("As my browser asks")), *LANGUAGES.items()]
    return form


def _token_form() -> TokenForm:
    return TokenForm(days=current_app.config["TOKEN_DAYS"])


def _render(password_form=None, language_form=None, token_form=None, new_secret=None, status=200):
    return (
        render_template(
            "account/settings.html",
            password_form=password_form or ChangePasswordForm(),
            language_form=language_form or _language_form(),
            token_form=token_form or _token_form(),
            confirm_form=ConfirmForm(),
            tokens=accounts.list_tokens(current_user.id),
            represented=accounts.represented_by(current_user.id, office_today()),
            now=clock.now(),
            new_secret=new_secret,
            min_length=password_min_length(),
        ),
        status,
    )


@bp.route("/")
@login_required
def settings():
    # A new token's secret is shown once, after the redirect that follows its creation (a reload makes no second one).
    return _render(new_secret=session.pop("new_token_secret", None))


@bp.route("/password", methods=["POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.change_own_password(
                audit_context(),
                current_user.id,
                form.current_password.data,
                form.new_password.data,
                password_min_length(),
            )
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            login_user(user)  # the session token changed: keep this session, sign out the others
            flash(_("Your password is changed. Other sessions were signed out."), "success")
            return redirect(url_for("account.settings"))
    return _render(password_form=form, status=422)


@bp.route("/tokens", methods=["POST"])
@login_required
def create_token():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            _token, secret = accounts.create_token(
                audit_context(), current_user.id, form.name.data, form.days.data if form.days.data is not None else 0
            )
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            session["new_token_secret"] = secret
            return redirect(url_for("account.settings") + "#tokens-heading")
    return _render(token_form=form, status=422)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            accounts.revoke_token(audit_context(), token_id, current_user)
        except DocstoreError as exc:
            flash(translate(exc.msg), "error")
        else:
            flash(_("The token is revoked."), "success")
    return redirect(url_for("account.settings"))
