"""Security of the pages: CSRF, permissions, redirects, sign-in limits, sessions, cookies, headers and errors."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from sqlalchemy import func, select

from docstore import accounts, audit
from docstore.extensions import db
from docstore.models import AuditEvent, Department, LoginAttempt, User
from tests.conftest import PASSWORD, Browser

SYSTEM = audit.SYSTEM
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def new_browser(app) -> Browser:
    return Browser(app, app.response_class)


def csrf_token(client, path: str) -> str:
    """Return the CSRF token of the form on the page at `path`, as a browser would submit it."""
    response = client.get(path)
    assert response.status_code == 200, path
    found = CSRF_INPUT.search(response.get_data(as_text=True))
    assert found, f"no csrf_token on {path}"
    return found.group(1)


def admin_routes(app) -> list[tuple[str, str]]:
    """Return (method, URL) for every route under /admin/, with 1 for each id."""
    return [
        (method, re.sub(r"<int:\w+>", "1", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin/")
        for method in sorted(rule.methods & {"GET", "POST"})
    ]


@pytest.fixture
def csrf_client(settings, request):
    """A client of an app that checks CSRF tokens, as in production."""
    settings["WTF_CSRF_ENABLED"] = True
    app = request.getfixturevalue("app")
    assert app.config["WTF_CSRF_ENABLED"], "ask for csrf_client before anything that creates the app"
    return new_browser(app)


def signed_in(app, username: str, **extra):
    """Return a new client signed in as `username` (CSRF checks off)."""
    client = new_browser(app)
    response = client.post("/sign-in", data={"username": username, "password": PASSWORD, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def is_sign_in_redirect(response) -> bool:
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/sign-in"


def stays_on_site(location: str) -> bool:
    """Return True when a browser sent to `location` from a page of this site stays on it.

    Browsers drop tabs and newlines from a URL, read a backslash as a slash and any run of leading slashes as two.
    """
    as_browsers_read_it = re.sub(r"^/{2,}", "//", re.sub(r"[\t\n\r]", "", location).replace("\\", "/"))
    target = urlsplit(urljoin("http://localhost/sign-in", as_browsers_read_it))
    return (target.scheme, target.netloc) == ("http", "localhost")


# --- CSRF ------------------------------------------------------------------------------------------------------


def test_sign_in_without_csrf_token_is_refused_and_records_nothing(csrf_client, make_user):
    make_user("ana")
    response = csrf_client.post("/sign-in", data={"username": "ana", "password": PASSWORD})
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    assert count(LoginAttempt) == 0 and count(AuditEvent) == 1  # only the user's creation
    assert is_sign_in_redirect(csrf_client.get("/"))

    token = csrf_token(csrf_client, "/sign-in")
    response = csrf_client.post("/sign-in", data={"username": "ana", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert csrf_client.get("/").status_code == 200


def test_sign_in_with_a_forged_csrf_token_is_refused(csrf_client, make_user):
    make_user("ana")
    csrf_token(csrf_client, "/sign-in")  # the session has a token, but the form sends another
    response = csrf_client.post("/sign-in", data={"username": "ana", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400 and "The form expired" in response.get_data(as_text=True)
    assert count(LoginAttempt) == 0


def test_admin_form_without_csrf_token_is_refused_and_saves_nothing(csrf_client, admin):
    token = csrf_token(csrf_client, "/sign-in")
    csrf_client.post("/sign-in", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    new_user = {"username": "mallory", "full_name": "Mallory", "password": PASSWORD, "clearance": "0", "roles": "admin"}
    before = count(User)
    response = csrf_client.post("/admin/users/new", data=new_user)
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    assert count(User) == before

    token = csrf_token(csrf_client, "/admin/users/new")
    response = csrf_client.post("/admin/users/new", data=new_user | {"csrf_token": token})
    assert response.status_code == 302
    assert accounts.find_user_by_username("mallory").roles == {"admin"}


def test_language_choice_without_csrf_token_is_refused(csrf_client):
    response = csrf_client.post("/language", data={"locale": "es", "next": "/sign-in"})
    assert response.status_code == 400 and "The form expired" in response.get_data(as_text=True)
    assert '<html lang="en"' in csrf_client.get("/sign-in").get_data(as_text=True)

    token = csrf_token(csrf_client, "/sign-in")
    response = csrf_client.post("/language", data={"locale": "es", "next": "/sign-in", "csrf_token": token})
    assert response.status_code == 302
    assert '<html lang="es"' in csrf_client.get("/sign-in").get_data(as_text=True)


def test_api_needs_a_token_not_a_csrf_token_and_ignores_the_session_cookie(csrf_client, admin, token_for):
    response = csrf_client.post("/api/v1/tokens", json={"name": "script"}, headers=token_for(admin))
    assert response.status_code == 201
    token = csrf_token(csrf_client, "/sign-in")
    csrf_client.post("/sign-in", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert csrf_client.get("/admin/users").status_code == 200
    assert csrf_client.get("/api/v1/me").status_code == 401  # a browser's cookie is no API credential
    assert csrf_client.post("/api/v1/tokens", json={"name": "via cookie"}).status_code == 401


# --- permissions and redirects ---------------------------------------------------------------------------------


def test_staff_user_is_forbidden_every_administration_page(app, admin, make_user):
    make_user("sam", "staff")
    client = signed_in(app, "sam")
    data = {"username": "mole", "full_name": "Mole", "password": PASSWORD, "code": "X", "name": "X", "active": "0"}
    before = (count(User), count(Department), count(AuditEvent))
    statuses = {}
    for method, url in admin_routes(app):
        statuses[method, url] = client.open(url, method=method, data=data).status_code
    assert {"/admin/users", "/admin/users/new", "/admin/departments", "/admin/audit"} <= {url for _, url in statuses}
    assert statuses == dict.fromkeys(statuses, 403)
    assert "Not allowed" in client.get("/admin/users").get_data(as_text=True)
    assert (count(User), count(Department), count(AuditEvent)) == before
    assert accounts.get_user(admin.id).active


def test_anonymous_visitor_is_sent_to_sign_in_and_back(app, client):
    for method, url in admin_routes(app):
        response = client.open(url, method=method)
        assert is_sign_in_redirect(response), (method, url)
        assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == [url]


def test_sign_in_returns_to_the_page_asked_for(app, make_user):
    make_user("ana", "admin")
    client = new_browser(app)
    response = client.post("/sign-in?next=/admin/users%3Fshow%3Dall", data={"username": "ana", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users?show=all"


OFF_SITE = [
    "https://evil.example/",
    "http://localhost.evil.example/",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "https:evil.example",
    "javascript:alert(1)",
]


def test_next_parameter_cannot_send_anyone_off_site(app, make_user):
    make_user("ana")
    assert all(stays_on_site(path) for path in ("/", "/admin/users?show=all", "sign-in"))
    assert not any(stays_on_site(target) for target in OFF_SITE)
    answers = {}
    for target in OFF_SITE:
        response = new_browser(app).post(
            "/sign-in", query_string={"next": target}, data={"username": "ana", "password": PASSWORD}
        )
        answers[target] = (response.status_code, stays_on_site(response.headers["Location"]))
    assert answers == dict.fromkeys(OFF_SITE, (302, True))


def test_language_next_cannot_send_anyone_off_site(app, client):
    answers = {
        target: stays_on_site(client.post("/language", data={"locale": "es", "next": target}).headers["Location"])
        for target in OFF_SITE
    }
    assert answers == dict.fromkeys(OFF_SITE, True)


# --- accounts and sessions -------------------------------------------------------------------------------------


def test_deactivated_user_cannot_sign_in(app, client, make_user, sign_in):
    user = make_user("gone")
    accounts.update_user(SYSTEM, user.id, {"active": False})
    response = sign_in("gone")
    assert response.status_code == 401
    assert "deactivated" in response.get_data(as_text=True)
    assert is_sign_in_redirect(client.get("/"))


def test_deactivating_a_user_ends_their_session_on_the_next_request(app, make_user):
    user = make_user("emma", "staff")
    browser = signed_in(app, "emma", remember="y")
    assert browser.get("/").status_code == 200
    accounts.update_user(SYSTEM, user.id, {"active": False})
    assert is_sign_in_redirect(browser.get("/"))
    assert is_sign_in_redirect(browser.get("/correspondents/"))


def test_repeated_wrong_passwords_lock_the_username_until_the_window_passes(
    app, client, make_user, sign_in, fake_clock, caplog
):
    make_user("ana")
    limit, window = app.config["LOGIN_MAX_FAILURES"], app.config["LOGIN_WINDOW_MINUTES"]
    assert (limit, window) == (5, 15)
    with caplog.at_level(logging.WARNING, logger="docstore.accounts"):
        for _ in range(limit):
            response = sign_in("ana", "wrong password")
            assert response.status_code == 401 and "Wrong username or password" in response.get_data(as_text=True)
        locked = sign_in("ana")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
    assert is_sign_in_redirect(client.get("/"))

    failures = [r for r in caplog.records if r.name == "docstore.accounts" and "failed sign-in" in r.getMessage()]
    assert len(failures) == limit and all("'ana'" in r.getMessage() for r in failures)
    assert any("locked" in r.getMessage() for r in caplog.records if r.name == "docstore.accounts")
    events = audit.list_events(audit.EventFilter(action="auth.sign_in_failed"), 1, 50).items
    assert len(events) == limit and all(audit.decode(e.after) == {"username": "ana"} for e in events)

    fake_clock.advance(minutes=window - 1)
    assert sign_in("ana").status_code == 429
    fake_clock.advance(minutes=2)
    assert sign_in("ana").status_code == 302
    assert client.get("/").status_code == 200


def test_changing_ones_password_keeps_this_session_and_ends_the_others(app, client, make_user, sign_in):
    make_user("ana")
    other = signed_in(app, "ana", remember="y")
    remembered = other.get_cookie("remember_token")
    assert remembered is not None
    only_remembered = new_browser(app)
    only_remembered.set_cookie("remember_token", remembered.value)
    assert only_remembered.get("/").status_code == 200  # the cookie alone signs in, before the change

    sign_in("ana")
    response = client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": "a-brand-new-password"}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/account/").status_code == 200

    assert is_sign_in_redirect(other.get("/"))
    stale = new_browser(app)
    stale.set_cookie("remember_token", remembered.value)
    assert is_sign_in_redirect(stale.get("/"))
    assert accounts.password_matches(accounts.find_user_by_username("ana").password_hash, "a-brand-new-password")


def test_wrong_current_password_changes_nothing(app, client, make_user, sign_in):
    user = make_user("ana")
    sign_in("ana")
    response = client.post("/account/password", data={"current_password": "guess", "new_password": "whatever-new"})
    assert response.status_code == 422
    assert accounts.password_matches(accounts.get_user(user.id).password_hash, PASSWORD)
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("secure", [True, False], ids=["https", "plain-http"])
def test_session_and_remember_cookies_are_httponly_lax_and_secure_when_set(settings, secure, request):
    settings["SECURE_COOKIES"] = secure
    app = request.getfixturevalue("app")
    assert app.config["SECURE_COOKIES"] is secure
    request.getfixturevalue("make_user")("ana")
    response = new_browser(app).post("/sign-in", data={"username": "ana", "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    assert {"session", "remember_token"} <= cookies.keys()
    for name in ("session", "remember_token"):
        attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookies[name].split(";")[1:]}
        assert "httponly" in attributes, name
        assert attributes.get("samesite") == "SameSite=Lax", name
        assert ("secure" in attributes) is secure, name


def test_every_page_sends_the_security_headers(app, admin):
    browser = signed_in(app, "admin")
    anonymous = new_browser(app)
    responses = {}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            url = re.sub(r"<int:\w+>", "1", re.sub(r"<(?:path:|string:)?\w+>", "x", rule.rule))
            responses["signed in", url] = browser.get(url)
            responses["anonymous", url] = anonymous.get(url)
    responses["anonymous", "/no-such-page"] = anonymous.get("/no-such-page")
    responses["anonymous", "sign-in refused"] = anonymous.post("/sign-in", data={"username": "x", "password": "y"})
    missing = {}
    for key, response in responses.items():
        policy = response.headers.get("Content-Security-Policy", "")
        problems = [
            name
            for name, ok in [
                ("CSP", "default-src 'self'" in policy and "frame-ancestors 'none'" in policy),
                ("no unsafe-inline", "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy),
                ("X-Frame-Options", response.headers.get("X-Frame-Options") == "DENY"),
                ("X-Content-Type-Options", response.headers.get("X-Content-Type-Options") == "nosniff"),
            ]
            if not ok
        ]
        if key[0] == "signed in" and response.mimetype == "text/html":
            if response.headers.get("Cache-Control") != "no-store":
                problems.append("no-store")
        if problems:
            missing[key] = problems
    assert ("signed in", "/admin/users") in responses
    assert missing == {}


def test_passwords_are_stored_as_argon2id_hashes(app, client, make_user, sign_in):
    user = make_user("ana")
    first = user.password_hash
    assert first.startswith("$argon2id$") and PASSWORD not in first
    sign_in("ana")
    client.post("/account/password", data={"current_password": PASSWORD, "new_password": "a-brand-new-password"})
    changed = accounts.get_user(user.id).password_hash
    assert changed.startswith("$argon2id$") and changed != first


# --- unexpected errors -----------------------------------------------------------------------------------------


def test_unexpected_error_shows_a_page_without_the_traceback(app, client, caplog):
    def explode():
        raise RuntimeError("connection string postgresql://docstore:hunter2@db")

    app.add_url_rule("/test-only/explode", "test_only_explode", explode)
    with caplog.at_level(logging.ERROR, logger="docstore.web"):
        response = client.get("/test-only/explode")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "hunter2" not in page and "Traceback" not in page and "RuntimeError" not in page
    assert response.headers["Content-Security-Policy"]
    [record] = [r for r in caplog.records if r.name == "docstore.web"]
    assert record.exc_info and "hunter2" in str(record.exc_info[1])  # recorded for the administrator


def test_unexpected_api_error_is_json_without_the_traceback(app, client, admin, token_for, monkeypatch, caplog):
    auth = token_for(admin)

    def explode(_user_id):
        raise RuntimeError("connection string postgresql://docstore:hunter2@db")

    monkeypatch.setattr(accounts, "list_tokens", explode)
    with caplog.at_level(logging.ERROR, logger="docstore.web"):
        response = client.get("/api/v1/tokens", headers=auth)
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    body = response.get_data(as_text=True)
    assert "hunter2" not in body and "Traceback" not in body and "RuntimeError" not in body
    assert any(r.exc_info for r in caplog.records if r.name == "docstore.web")
