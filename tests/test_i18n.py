"""Translations: complete catalogues in step with the code, and every page in the language the user asked for."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import flask_babel
import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from docstore import accounts, i18n
from docstore.extensions import db
from tests.conftest import PASSWORD
from tests.test_audit import _disable_append_only_guard

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = i18n.TRANSLATIONS / "messages.pot"
LOCALES = ["es", "zh_Hans"]
#: The extraction that `make translations` runs, without its output file.
EXTRACT = [*"extract -F babel.cfg -k N_ -k _l -k lazy_gettext".split(), "--ignore-dirs=.* ._ node_modules instance"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _read(path: Path, locale: str | None = None):
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _msgids(catalog) -> set:
    return {message.id for message in catalog if message.id}


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _forms(message) -> list[tuple[str, str]]:
    """Return (English text, translation) pairs of `message`: its first plural form goes with the English
    singular (unless the language has only one form), the others with the English plural."""
    if not isinstance(message.id, tuple):
        return [(message.id, message.string)]
    singular, plural = message.id
    first = singular if len(message.string) > 1 else plural
    return [(first, message.string[0])] + [(plural, string) for string in message.string[1:]]


# --- the catalogues --------------------------------------------------------------------------------------------


def test_template_lists_exactly_the_texts_marked_in_the_code(tmp_path):
    fresh = tmp_path / "messages.pot"
    pybabel = [sys.executable, "-m", "babel.messages.frontend", "--quiet"]
    subprocess.run([*pybabel, *EXTRACT, "-o", str(fresh), "."], cwd=ROOT, check=True, capture_output=True)
    in_code, in_template = _msgids(_read(fresh)), _msgids(_read(TEMPLATE))
    assert in_code == in_template, (
        f"run `make translations`: new in the code {sorted(map(str, in_code - in_template))}, "
        f"gone from it {sorted(map(str, in_template - in_code))}"
    )


def test_template_has_the_page_texts_and_the_domain_messages():
    template = _msgids(_read(TEMPLATE))
    assert {"Sign in", "Audit log", ("%(num)s result", "%(num)s results")} <= template  # Jinja pages
    assert {"Wrong username or password.", "Top secret", "Username"} <= template  # N_() and _l() in Python


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_is_translated_and_reviewed(locale):
    catalog = _read(i18n.TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", locale)
    assert not catalog.fuzzy
    missing, fuzzy, incomplete = [], [], []
    for msgid in sorted(_msgids(_read(TEMPLATE)), key=str):
        message = catalog.get(msgid)
        if message is None:
            missing.append(msgid)
            continue
        if message.fuzzy:
            fuzzy.append(msgid)
        strings = message.string if isinstance(msgid, tuple) else (message.string,)
        if len(strings) != (catalog.num_plurals if isinstance(msgid, tuple) else 1) or not all(strings):
            incomplete.append(msgid)
    assert (missing, fuzzy, incomplete) == ([], [], []), "run `make translations` and translate these"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_exactly_the_placeholders_of_the_english_text(locale):
    catalog = _read(i18n.TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", locale)
    wrong = []
    for message in catalog:
        for english, translation in _forms(message) if message.id else ():
            names = _placeholders(english)
            if _placeholders(translation) != names:
                wrong.append((english, translation))
                continue
            try:  # a stray % would break the page that shows this text
                translation % dict.fromkeys(names, "1")
            except (ValueError, TypeError, KeyError):
                wrong.append((english, translation))
    assert wrong == []


# --- choosing the language -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "lang", "heading", "label"),
    [
        (None, "en", "Sign in", "Password"),
        ("es-ES,es;q=0.9,en;q=0.5", "es", "Iniciar sesión", "Contraseña"),
        ("zh-CN,zh;q=0.9", "zh-Hans", "登录", "密码"),
        ("fr-FR,fr;q=0.9", "en", "Sign in", "Password"),
    ],
)
def test_sign_in_page_speaks_the_language_the_browser_asks_for(client, accept_language, lang, heading, label):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    page = client.get("/sign-in", headers=headers).get_data(as_text=True)
    assert f'<html lang="{lang}"' in page
    assert f"<h1>{heading}</h1>" in page
    assert f">{label}</label>" in page


def test_pages_for_anonymous_visitors_are_translated_before_sign_in(client):
    response = client.get("/documents/", headers={"Accept-Language": "es"}, follow_redirects=True)
    assert "Inicie sesión para ver esta página." in response.get_data(as_text=True)
    home = client.get("/", headers={"Accept-Language": "es"}, follow_redirects=True)  # the home page needs no excuse
    assert "Inicie sesión para ver esta página." not in home.get_data(as_text=True)


def test_language_picker_sets_the_language_of_an_anonymous_visitor(client):
    response = client.post("/language", data={"locale": "zh_Hans", "next": "/sign-in"})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert "<h1>登录</h1>" in client.get("/sign-in", headers={"Accept-Language": "es"}).get_data(as_text=True)
    client.post("/language", data={"locale": "", "next": "/sign-in"})  # back to what the browser asks for
    flask_babel.refresh()  # the fixture's app context outlives requests, and Flask-Babel caches the locale in it
    assert "<h1>Iniciar sesión</h1>" in client.get("/sign-in", headers={"Accept-Language": "es"}).get_data(as_text=True)


def test_language_picker_ignores_unknown_languages(client):
    client.post("/language", data={"locale": "fr", "next": "/sign-in"})
    assert "<h1>Sign in</h1>" in client.get("/sign-in").get_data(as_text=True)


def test_signed_in_user_sees_pages_in_their_own_language(client, make_user, sign_in):
    make_user("ana", "admin", locale="es")
    make_user("bo", "staff")
    sign_in("ana")
    page = client.get("/admin/users", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "<h1>Usuarios</h1>" in page and "Nuevo usuario" in page and "Cerrar sesión" in page
    assert "Administrador" in page  # a role name, marked with N_() in the domain
    assert "2 resultados" in page  # a plural form
    assert "Bienvenido/a, Ana" in client.get("/").get_data(as_text=True)


def test_signed_in_user_keeps_the_language_chosen_with_the_picker(client, make_user, sign_in):
    user = make_user("li", "staff")
    sign_in("li")
    client.post("/language", data={"locale": "zh_Hans", "next": "/"})
    assert accounts.get_user(user.id).locale == "zh_Hans"
    assert "欢迎，Li" in client.get("/").get_data(as_text=True)


# --- messages and formats --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "message"),
    [
        ("en", "Wrong username or password."),
        ("es", "Usuario o contraseña incorrectos."),
        ("zh-CN", "用户名或密码错误。"),
    ],
)
def test_sign_in_refusal_is_told_in_the_visitor_language(client, make_user, accept_language, message):
    make_user("juan", "staff")
    response = client.post(
        "/sign-in",
        data={"username": "juan", "password": PASSWORD + "x"},
        headers={"Accept-Language": accept_language},
    )
    assert response.status_code == 401
    assert message in response.get_data(as_text=True)


def test_field_errors_from_the_services_are_translated_with_their_values(client, make_user, sign_in):
    make_user("wang", "admin", locale="zh_Hans")
    sign_in("wang")
    response = client.post("/admin/users/new", data={"username": "zhao", "full_name": "Zhao", "password": "short"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请更正标出的字段。" in page and "请至少使用 10 个字符。" in page


@pytest.mark.parametrize(
    ("locale", "day"),
    [("en", "Mar 2, 2026"), ("es", "2 mar 2026"), ("zh_Hans", "2026年3月2日")],
)
def test_audit_log_dates_are_written_the_way_the_user_language_writes_them(
    fake_clock, client, make_user, sign_in, locale, day
):
    make_user("auditor", "admin", locale=locale)
    sign_in("auditor")
    assert day in client.get("/admin/audit").get_data(as_text=True)


def test_audit_chain_findings_are_translated(client, make_user, sign_in):
    make_user("wang", "admin", locale="zh_Hans")
    _disable_append_only_guard()
    db.session.execute(sa.text("UPDATE audit_event SET after = :value WHERE seq = 1"), {"value": '{"forged":1}'})
    db.session.commit()
    sign_in("wang")
    page = client.post("/admin/audit/verify").get_data(as_text=True)
    assert "哈希链已断裂：日志遭到篡改。" in page
    assert "事件 1 已被篡改：其内容与哈希值不再一致" in page
