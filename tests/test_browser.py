"""The pages in a real browser: Debian's Chromium, driven by Playwright, against the app served on a local port.

The server runs in a thread of the test process with real CSRF protection, on the test's own database; data is
seeded through the real services. Every test also fails if a page it visits logs a console error, which is where
Chromium reports Content-Security-Policy violations.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect, sync_playwright

from docstore import accounts, demo
from docstore.extensions import db
from tests.browser_support import CHROMIUM, VIEWPORT, ConsoleWatch, launch_chromium, serve, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, shared by the module's tests; missing, it skips them, or fails them in CI."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (make browser) to run the browser tests"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def settings(settings):
    """The conftest settings, with real CSRF protection as the browser meets it, and cookies sent over plain HTTP."""
    return {**settings, "WTF_CSRF_ENABLED": True, "SECURE_COOKIES": False}


@pytest.fixture
def live_server(app):
    with serve(app) as url:
        yield url


@pytest.fixture
def context(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="en-US", viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def console(context):
    """The console errors of the test's pages: none may be left when the test ends."""
    watch = ConsoleWatch(context)
    yield watch
    assert watch.errors() == [], "the pages logged errors"


@pytest.fixture
def page(context, console):
    return context.new_page()


def stored(work):
    """Return `work()` run in the test's thread (seeding, or reading what the browser did), then close the session.

    On SQLite every transaction the test's thread begins takes the write lock (BEGIN IMMEDIATE); a session left
    open would make the server's own writes wait.
    """
    try:
        return work()
    finally:
        db.session.remove()


@pytest.fixture
def add_user(make_user):
    """Create a user (password PASSWORD) through the real service and return its id."""
    return lambda username, *roles, **fields: stored(lambda: make_user(username, *roles, **fields).id)


def choose_language(page, code: str) -> None:
    """Pick a language in the header's picker, which submits itself (once app.js has set it up)."""
    page.wait_for_load_state()
    page.locator("select#language-select").select_option(code)


# --- signing in ------------------------------------------------------------------------------------------------


def test_signing_in_with_the_right_password_opens_the_home_page_with_the_users_name(page, live_server, add_user):
    add_user("emma", "staff", full_name="Emma Clarke")

    sign_in(page, "emma", PASSWORD)

    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Emma Clarke")
    expect(page.get_by_role("banner").locator(".account-menu summary")).to_have_text("Emma Clarke")


def test_a_wrong_password_is_refused_and_the_sign_in_page_stays(page, live_server, add_user):
    add_user("emma", "staff", full_name="Emma Clarke")

    with page.expect_response(lambda response: response.request.method == "POST") as refused:
        sign_in(page, "emma", "not-the-password")

    assert refused.value.status == 401
    expect(page).to_have_url(f"{live_server}/sign-in")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_label("Username")).to_have_value("emma")
    expect(page.get_by_text("Welcome")).to_have_count(0)


def test_the_sign_in_form_works_from_the_keyboard_alone(page, live_server, add_user):
    add_user("emma", "staff", full_name="Emma Clarke")
    page.goto("/sign-in")

    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("emma")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Emma Clarke")


# --- language --------------------------------------------------------------------------------------------------


def test_the_language_picker_translates_the_sign_in_page(page):
    page.goto("/sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    choose_language(page, "es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")

    choose_language(page, "zh_Hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")

    choose_language(page, "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_an_administrators_language_choice_translates_the_navigation_and_is_kept(page, add_user):
    admin_id = add_user("admin", "admin", full_name="Ada Admin")
    sign_in(page, "admin", PASSWORD)
    navigation = page.get_by_role("banner").get_by_role("navigation")
    menu = navigation.locator(".admin-menu summary")  # the administration pages are under one entry
    expect(menu).to_have_text("Administration")
    menu.focus()
    page.keyboard.press("Enter")  # opened from the keyboard
    expect(navigation.get_by_role("link", name="Users", exact=True)).to_be_visible()

    choose_language(page, "es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    menu.click()
    expect(navigation.get_by_role("link", name="Usuarios", exact=True)).to_be_visible()

    choose_language(page, "zh_Hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    menu.click()
    expect(navigation.get_by_role("link", name="用户", exact=True)).to_be_visible()
    assert stored(lambda: accounts.get_user(admin_id).locale) == "zh_Hans"


# --- administration --------------------------------------------------------------------------------------------


def test_an_administrator_creates_a_department_and_a_user_in_it_who_can_then_sign_in(page, live_server, add_user):
    add_user("admin", "admin", full_name="Ada Admin")
    sign_in(page, "admin", PASSWORD)
    main = page.get_by_role("main")

    page.goto("/admin/departments/new")
    main.get_by_label("Name", exact=True).fill("Finance")
    main.get_by_label("Code", exact=True).fill("cw")
    main.get_by_label("Kind").select_option(label="Department")
    main.get_by_role("button", name="Create department").click()
    expect(page).to_have_url(f"{live_server}/admin/departments")
    expect(page.get_by_role("status")).to_have_text("Department Finance is created.")
    expect(main.get_by_role("link", name="Finance", exact=True)).to_be_visible()

    page.goto("/admin/users/new")
    main.get_by_label("Username").fill("juan")
    main.get_by_label("Full name").fill("Juan Pérez")
    main.get_by_label("E-mail").fill("juan@example.org")
    main.get_by_label("Department").select_option(label="Finance (CW)")
    main.get_by_label("Staff", exact=True).check()
    main.get_by_label("Initial password").fill(PASSWORD)
    main.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("status")).to_have_text("User juan is created and can sign in now.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Juan Pérez")

    page.locator(".account-menu summary").click()  # the menu under the user's name
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    sign_in(page, "juan", PASSWORD)
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Juan Pérez")
    expect(main).to_contain_text("Finance · Staff")


def test_a_staff_member_who_opens_the_user_list_gets_the_not_allowed_page(page, add_user):
    add_user("emma", "staff", full_name="Emma Clarke")
    sign_in(page, "emma", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Emma Clarke")
    expect(page.get_by_role("banner").get_by_role("link", name="Users")).to_have_count(0)

    response = page.goto("/admin/users")

    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.get_by_role("main")).to_contain_text("You do not have permission to see this page.")
    expect(page.get_by_role("table")).to_have_count(0)


def test_deactivating_a_user_asks_first_and_dismissing_keeps_them_active(page, add_user):
    add_user("admin", "admin", full_name="Ada Admin")
    emma_id = add_user("emma", "staff", full_name="Emma Clarke")
    sign_in(page, "admin", PASSWORD)
    page.goto(f"/admin/users/{emma_id}")
    questions = []
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)

    def dismiss(dialog):
        questions.append((dialog.type, dialog.message))
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Deactivate").click()

    assert questions == [("confirm", "Deactivate emma? They are signed out at once and cannot sign in.")]
    assert posts == []
    assert stored(lambda: accounts.get_user(emma_id).active) is True
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Emma Clarke")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Deactivate").click()

    expect(page.get_by_role("status")).to_have_text("emma is deactivated and signed out everywhere.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("deactivated")
    assert stored(lambda: accounts.get_user(emma_id).active) is False


def test_the_sections_of_a_user_page_are_named_by_their_headings_for_screen_readers(page, add_user):
    add_user("admin", "admin", full_name="Ada Admin")
    emma_id = add_user("emma", "staff", full_name="Emma Clarke")
    sign_in(page, "admin", PASSWORD)

    page.goto(f"/admin/users/{emma_id}")

    for heading in ("Access", "Acting substitutes", "History"):
        expect(page.get_by_role("region", name=heading, exact=True)).to_be_visible()


# --- every page ------------------------------------------------------------------------------------------------


def test_key_pages_render_without_console_errors_and_are_captured(page, add_user, artifacts_dir):
    assert stored(lambda: demo.load_demo(PASSWORD, 10))  # departments, users and correspondents in 3 languages
    add_user("admin", "admin", full_name="Ada Admin")
    emma_id = stored(lambda: accounts.find_user_by_username("emma").id)
    pages = [
        ("sign-in", "/sign-in", "Sign in"),
        ("home", "/", "Welcome, Ada Admin"),
        ("users", "/admin/users", "Users"),
        ("user-form", f"/admin/users/{emma_id}", "Emma Clarke"),
        ("departments", "/admin/departments", "Departments"),
        ("audit-log", "/admin/audit", "Audit log"),
        ("correspondents", "/correspondents/", "Correspondents"),
    ]

    for name, path, heading in pages:
        if name == "home":
            sign_in(page, "admin", PASSWORD)
        else:
            page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        screenshot = artifacts_dir / f"browser-{name}.png"
        screenshot.unlink(missing_ok=True)
        page.screenshot(path=screenshot, full_page=True)
        assert screenshot.stat().st_size > 0, screenshot


def test_an_inline_script_is_blocked_by_the_content_security_policy_and_reported(page, console):
    page.goto("/sign-in")

    page.evaluate(
        "() => { const script = document.createElement('script');"
        " script.textContent = 'window.ran = 1'; document.body.append(script); }"
    )

    assert page.evaluate("() => window.ran") is None
    errors = console.take()
    assert len(errors) == 1 and "Content Security Policy" in errors[0], errors
