"""Users, roles, passwords, sign-in and substitutes, through the services."""

from __future__ import annotations

from datetime import date

import pytest

from docstore import accounts, audit
from docstore.errors import SignInLocked, SignInRefused, ValidationFailed
from tests.conftest import PASSWORD

SYSTEM = audit.SYSTEM
POLICY = accounts.SignInPolicy(max_failures=3, max_failures_per_address=5, window_minutes=15)


def test_user_has_several_roles_and_a_clearance(app, make_user):
    user = make_user("li.ming", "leader", "staff", clearance=2, full_name="李明")
    assert user.roles == {"leader", "staff"}
    assert user.has_role("leader") and not user.has_role("admin")
    assert accounts.find_user_by_username("LI.MING").full_name == "李明"


def test_invalid_user_fields_are_reported_together(app, make_user):
    make_user("taken")
    with pytest.raises(ValidationFailed) as failure:
        accounts.create_user(
            SYSTEM, username="taken", full_name="", password="short", password_min_length=10,
            email="not-an-address", roles=["wizard"], clearance=7, locale="fr",
        )
    assert set(failure.value.errors) == {"username", "full_name", "password", "email", "roles", "clearance", "locale"}


def test_sign_in_checks_the_password_and_records_the_attempt(app, make_user, fake_clock):
    make_user("ana")
    assert accounts.sign_in("Ana", PASSWORD, "10.0.0.1", POLICY).username == "ana"
    with pytest.raises(SignInRefused):
        accounts.sign_in("ana", "wrong password", "10.0.0.1", POLICY)
    with pytest.raises(SignInRefused):
        accounts.sign_in("nobody", PASSWORD, "10.0.0.1", POLICY)
    actions = [event.action for event in audit.list_events(audit.EventFilter(action="auth."), 1, 10).items]
    assert actions == ["auth.sign_in_failed", "auth.sign_in_failed", "auth.sign_in"]


def test_repeated_failures_lock_the_username_until_the_window_passes(app, make_user, fake_clock):
    make_user("ana")
    for _ in range(POLICY.max_failures):
        with pytest.raises(SignInRefused):
            accounts.sign_in("ana", "wrong password", "10.0.0.1", POLICY)
    with pytest.raises(SignInLocked) as locked:
        accounts.sign_in("ana", PASSWORD, "10.0.0.2", POLICY)
    assert "15 minutes" in str(locked.value)
    fake_clock.advance(minutes=16)
    assert accounts.sign_in("ana", PASSWORD, "10.0.0.2", POLICY).username == "ana"


def test_repeated_failures_from_one_address_lock_that_address(app, make_user, fake_clock):
    make_user("ana")
    for number in range(POLICY.max_failures_per_address):
        with pytest.raises(SignInRefused):
            accounts.sign_in(f"guess{number}", "x", "10.9.9.9", POLICY)
    with pytest.raises(SignInLocked):
        accounts.sign_in("ana", PASSWORD, "10.9.9.9", POLICY)
    assert accounts.sign_in("ana", PASSWORD, "10.0.0.1", POLICY).username == "ana"


def test_deactivated_user_cannot_sign_in_and_loses_sessions(app, make_user):
    user = make_user("gone")
    session_id = user.get_id()
    assert accounts.load_session_user(session_id) is not None
    accounts.update_user(SYSTEM, user.id, {"active": False})
    assert accounts.load_session_user(session_id) is None
    with pytest.raises(SignInRefused) as refused:
        accounts.sign_in("gone", PASSWORD, "10.0.0.1", POLICY)
    assert "deactivated" in str(refused.value)


def test_password_change_requires_the_current_one_and_rotates_sessions(app, make_user):
    user = make_user("ana")
    old_session = user.get_id()
    with pytest.raises(ValidationFailed) as failure:
        accounts.change_own_password(SYSTEM, user.id, "not mine", "a-new-password", 10)
    assert set(failure.value.errors) == {"current_password"}
    accounts.change_own_password(SYSTEM, user.id, PASSWORD, "a-new-password", 10)
    assert accounts.load_session_user(old_session) is None
    assert accounts.password_matches(accounts.get_user(user.id).password_hash, "a-new-password")


def test_an_admin_cannot_lock_themselves_out(app, make_user):
    admin = make_user("boss", "admin")
    ctx = audit.Context(actor_id=admin.id)
    with pytest.raises(ValidationFailed) as failure:
        accounts.update_user(ctx, admin.id, {"active": False, "roles": ["staff"]})
    assert set(failure.value.errors) == {"active", "roles"}


def test_substitute_acts_only_within_the_dates(app, make_user):
    leader = make_user("director", "leader")
    deputy = make_user("deputy", "leader")
    accounts.add_substitution(SYSTEM, leader.id, deputy.id, date(2026, 8, 1), date(2026, 8, 15), "Leave")
    assert accounts.represented_by(deputy.id, date(2026, 7, 31)) == []
    assert [u.username for u in accounts.represented_by(deputy.id, date(2026, 8, 1))] == ["director"]
    assert [u.username for u in accounts.represented_by(deputy.id, date(2026, 8, 15))] == ["director"]
    assert accounts.represented_by(deputy.id, date(2026, 8, 16)) == []


def test_cancelled_substitution_no_longer_applies(app, make_user):
    leader = make_user("director", "leader")
    deputy = make_user("deputy", "leader")
    substitution = accounts.add_substitution(SYSTEM, leader.id, deputy.id, date(2026, 8, 1), date(2026, 8, 15))
    accounts.cancel_substitution(SYSTEM, substitution.id)
    assert accounts.represented_by(deputy.id, date(2026, 8, 5)) == []
    assert accounts.substitutions_of(leader.id)[0].cancelled


def test_substitution_dates_must_be_in_order(app, make_user):
    leader = make_user("director", "leader")
    with pytest.raises(ValidationFailed) as failure:
        accounts.add_substitution(SYSTEM, leader.id, leader.id, date(2026, 8, 15), date(2026, 8, 1))
    assert set(failure.value.errors) == {"substitute_id", "ends_on"}


def test_user_search_treats_like_wildcards_literally(app, make_user):
    make_user("ana_maria", full_name="Ana María")
    make_user("anaxmaria", full_name="Anax")
    found = accounts.list_users(accounts.UserFilter(text="ana_"), 1, 10)
    assert [user.username for user in found.items] == ["ana_maria"]
