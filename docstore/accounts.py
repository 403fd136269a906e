"""People: users, roles, passwords, sign-in with rate limiting, acting substitutes and API tokens.

Every function that changes something takes an `audit.Context`, writes its audit event in the same transaction,
and commits; a failure leaves nothing behind.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from docstore import audit, clock, database
from docstore.errors import (
    N_,
    Conflict,
    Forbidden,
    Msg,
    NotFound,
    SignInLocked,
    SignInRefused,
    TokenRefused,
    ValidationFailed,
)
from docstore.extensions import db
from docstore.models import ROLES, ApiToken, Department, LoginAttempt, Substitution, User, UserRole
from docstore.pagination import Page, contains_pattern, fetch, paginate

log = logging.getLogger(__name__)

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LOCALES = ("en", "es", "zh_Hans")
TOKEN_PREFIX = "ds_"  # noqa: S105 -- a label, not a secret

_hasher = PasswordHasher()


# --- passwords -------------------------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """Return the Argon2id hash of `password`."""
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    """Return a hash to check unknown usernames against, so that they are not answered faster."""
    return _hasher.hash(secrets.token_hex(16))


def _hash_outside_transaction(password: str) -> str:
    """Hash `password` after ending the current transaction (hashing is slow by design; SQLite's lock must not wait)."""
    db.session.commit()
    return hash_password(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Return True when `password` matches `password_hash`."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _check_password_rules(password: str, min_length: int, errors: dict, name: str = "password") -> None:
    if len(password) < min_length:
        errors[name] = Msg(N_("Use at least %(n)s characters."), n=min_length)
    elif len(password) > 256:
        errors[name] = Msg(N_("Use at most %(n)s characters."), n=256)


# --- users -----------------------------------------------------------------------------------------------------

#: Fields an administrator may change on a user, besides the password.
USER_FIELDS = ("full_name", "email", "department_id", "roles", "clearance", "locale", "active")


def _validate_user(values: dict, errors: dict) -> None:
    """Check the user fields present in `values`, normalising them in place."""
    if "full_name" in values:
        values["full_name"] = (values["full_name"] or "").strip()
        if not values["full_name"]:
            errors["full_name"] = Msg(N_("Enter the person's name."))
        elif len(values["full_name"]) > 200:
            errors["full_name"] = Msg(N_("Use at most %(n)s characters."), n=200)
    if "email" in values:
        values["email"] = (values["email"] or "").strip() or None
        if values["email"] and (len(values["email"]) > 254 or not EMAIL_PATTERN.match(values["email"])):
            errors["email"] = Msg(N_("Enter a valid e-mail address."))
    if "department_id" in values and values["department_id"] is not None:
        department = db.session.get(Department, values["department_id"])
        if department is None:
            errors["department_id"] = Msg(N_("Choose an existing department."))
        elif not department.active:
            errors["department_id"] = Msg(N_("This department is deactivated."))
    if "roles" in values:
        roles = set(values["roles"] or ())
        unknown = roles - set(ROLES)
        if unknown:
            errors["roles"] = Msg(N_("Unknown role: %(roles)s."), roles=", ".join(sorted(unknown)))
        values["roles"] = roles
    if "clearance" in values:
        if not isinstance(values["clearance"], int) or not 0 <= values["clearance"] <= 3:
            errors["clearance"] = Msg(N_("Choose a clearance level."))
    if "locale" in values:
        values["locale"] = values["locale"] or None
        if values["locale"] is not None and values["locale"] not in LOCALES:
            errors["locale"] = Msg(N_("Choose one of the offered languages."))
    if "active" in values and not isinstance(values["active"], bool):
        errors["active"] = Msg(N_("Say yes or no."))


def create_user(
    ctx: audit.Context,
    *,
    username: str,
    full_name: str,
    password: str,
    password_min_length: int,
    email: str | None = None,
    department_id: int | None = None,
    roles: tuple[str, ...] | list[str] | set[str] = (),
    clearance: int = 0,
    locale: str | None = None,
) -> User:
    """Create an active user and return it."""
    username = (username or "").strip().lower()
    values = {
        "full_name": full_name,
        "email": email,
        "department_id": department_id,
        "roles": roles,
        "clearance": clearance,
        "locale": locale,
    }
    errors: dict[str, Msg] = {}
    if not USERNAME_PATTERN.match(username):
        errors["username"] = Msg(
            N_("Use 2 to 64 lowercase letters, digits, dots, dashes or underscores, starting with a letter or digit.")
        )
    elif db.session.execute(select(User.id).where(User.username == username)).first():
        errors["username"] = Msg(N_("This username is taken."))
    _validate_user(values, errors)
    _check_password_rules(password or "", password_min_length, errors)
    if errors:
        raise ValidationFailed(errors)
    password_hash = _hash_outside_transaction(password)
    user = User(
        username=username,
        full_name=values["full_name"],
        email=values["email"],
        department_id=values["department_id"],
        clearance=values["clearance"],
        locale=values["locale"],
        active=True,
        password_hash=password_hash,
        session_token=secrets.token_hex(16),
        password_changed_at=clock.now(),
    )
    user.role_rows = [UserRole(role=role) for role in sorted(values["roles"])]
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same username, created by someone else while the password was being hashed
        db.session.rollback()
        raise ValidationFailed({"username": Msg(N_("This username is taken."))}) from None
    audit.record_event(ctx, "user.create", "user", user.id, after=user.as_dict())
    db.session.commit()
    return user


def acting_user(ctx: audit.Context) -> User:
    """Return the active user who acts in `ctx`, or raise Forbidden (nobody signed in, or deactivated since)."""
    user = db.session.get(User, ctx.actor_id) if ctx.actor_id is not None else None
    if user is None or not user.active:
        raise Forbidden(Msg(N_("Sign in to do this.")))
    return user


def get_user(user_id: int) -> User:
    """Return the user with `user_id`, or raise NotFound."""
    return fetch(User, user_id, Msg(N_("No such user.")))


def find_user_by_username(username: str) -> User | None:
    """Return the user called `username` (case-insensitive), if any."""
    return db.session.execute(select(User).where(User.username == username.strip().lower())).scalar_one_or_none()


def update_user(ctx: audit.Context, user_id: int, values: dict) -> User:
    """Change the fields of `USER_FIELDS` given in `values`; deactivating signs the user out everywhere."""
    user = get_user(user_id)
    unknown = set(values) - set(USER_FIELDS)
    if unknown:
        raise ValidationFailed({name: Msg(N_("This field cannot be changed.")) for name in sorted(unknown)})
    values = dict(values)
    errors: dict[str, Msg] = {}
    _validate_user(values, errors)
    if values.get("active") is False and user.id == ctx.actor_id:
        errors["active"] = Msg(N_("You cannot deactivate yourself."))
    if "roles" in values and "admin" not in values["roles"] and user.id == ctx.actor_id and user.has_role("admin"):
        errors["roles"] = Msg(N_("You cannot remove your own administrator role."))
    if errors:
        raise ValidationFailed(errors)
    before = user.as_dict()
    for name, value in values.items():
        if name == "roles":
            if value != user.roles:
                user.role_rows = [UserRole(role=role) for role in sorted(value)]
        else:
            setattr(user, name, value)
    if values.get("active") is False and before["active"]:
        user.session_token = secrets.token_hex(16)
    db.session.flush()
    old, new = audit.changes(before, user.as_dict())
    if new:
        action = {False: "user.deactivate", True: "user.reactivate"}.get(new.get("active"), "user.update")
        audit.record_event(ctx, action, "user", user.id, before=old, after=new)
    db.session.commit()
    return user


def set_password(ctx: audit.Context, user_id: int, new_password: str, password_min_length: int) -> None:
    """Give the user a new password (an administrator's reset); signs the user out of every session."""
    user = get_user(user_id)
    errors: dict[str, Msg] = {}
    _check_password_rules(new_password or "", password_min_length, errors)
    if errors:
        raise ValidationFailed(errors)
    password_hash = _hash_outside_transaction(new_password)
    user = get_user(user_id)
    user.password_hash = password_hash
    user.session_token = secrets.token_hex(16)
    user.password_changed_at = clock.now()
    audit.record_event(ctx, "user.password_reset", "user", user.id)
    db.session.commit()


def change_own_password(
    ctx: audit.Context, user_id: int, current_password: str, new_password: str, password_min_length: int
) -> User:
    """Change a user's own password after checking the current one; other sessions are signed out."""
    current_hash = get_user(user_id).password_hash
    db.session.commit()  # checking and hashing passwords is slow: hold no transaction meanwhile
    errors: dict[str, Msg] = {}
    if not password_matches(current_hash, current_password or ""):
        errors["current_password"] = Msg(N_("This is not your current password."))
    _check_password_rules(new_password or "", password_min_length, errors, "new_password")
    if not errors and new_password == current_password:
        errors["new_password"] = Msg(N_("Choose a password different from the current one."))
    if errors:
        raise ValidationFailed(errors)
    password_hash = hash_password(new_password)
    user = get_user(user_id)
    user.password_hash = password_hash
    user.session_token = secrets.token_hex(16)
    user.password_changed_at = clock.now()
    audit.record_event(ctx, "user.password_change", "user", user.id)
    db.session.commit()
    return user


def set_own_locale(ctx: audit.Context, user_id: int, locale: str | None) -> User:
    """Set the language a user sees (None: follow the browser)."""
    return update_user(ctx, user_id, {"locale": locale})


@dataclass(frozen=True)
class UserFilter:
    """Criteria for listing users; empty fields match everything."""

    text: str = ""
    department_id: int | None = None
    role: str = ""
    active: bool | None = None


def list_users(criteria: UserFilter, page: int, per_page: int) -> Page[User]:
    """Return one page of users matching `criteria`, by name."""
    query = select(User)
    if criteria.text:
        pattern = contains_pattern(criteria.text.strip().lower())
        query = query.where(
            or_(
                func.lower(User.username).like(pattern, escape="\\"),
                func.lower(User.full_name).like(pattern, escape="\\"),
            )
        )
    if criteria.department_id is not None:
        query = query.where(User.department_id == criteria.department_id)
    if criteria.role:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == criteria.role)))
    if criteria.active is not None:
        query = query.where(User.active == criteria.active)
    return paginate(query.order_by(User.full_name, User.id), page, per_page)


def active_users() -> list[User]:
    """Return every active user, by name (for pickers)."""
    return list(db.session.execute(select(User).where(User.active).order_by(User.full_name)).scalars())


def load_session_user(session_id: str) -> User | None:
    """Return the active user whose session identity is `session_id` ("<id>:<session token>"), if still valid."""
    user_id, _, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


# --- signing in ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInPolicy:
    """How many failures are allowed, per username and per client address, within how many minutes."""

    max_failures: int = 5
    max_failures_per_address: int = 20
    window_minutes: int = 15


def _failures_since(column, value: str, since: datetime) -> tuple[int, datetime | None]:
    """Return how many failures match since `since` (or since the last success, if later), and the latest one."""
    last_success = db.session.execute(
        select(func.max(LoginAttempt.at)).where(column == value, LoginAttempt.succeeded)
    ).scalar_one()
    if last_success is not None and clock.as_utc(last_success) > since:
        since = clock.as_utc(last_success)
    count, latest = db.session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            column == value, ~LoginAttempt.succeeded, LoginAttempt.at > since
        )
    ).one()
    return count, None if latest is None else clock.as_utc(latest)


def sign_in(username: str, password: str, client_addr: str, policy: SignInPolicy) -> User:
    """Return the user if `password` is right and sign-in is not locked; record the attempt either way."""
    username = (username or "").strip().lower()[:64]
    client_addr = (client_addr or "")[:64]
    now = clock.now()
    window = timedelta(minutes=policy.window_minutes)
    by_name, latest_by_name = _failures_since(LoginAttempt.username, username, now - window)
    by_addr, latest_by_addr = _failures_since(LoginAttempt.client_addr, client_addr, now - window)
    ctx = audit.Context(actor_id=None, client_addr=client_addr)
    if by_name >= policy.max_failures or by_addr >= policy.max_failures_per_address:
        latest = max(t for t in (latest_by_name, latest_by_addr) if t is not None)
        minutes = max(1, math.ceil(((latest + window) - now).total_seconds() / 60))
        shown = username[:3] + "…"
        log.warning("sign-in locked for %r from %s (%d/%d failures)", shown, client_addr, by_name, by_addr)
        raise SignInLocked(Msg(N_("Too many failed sign-ins. Try again in %(minutes)s minutes."), minutes=minutes))
    user = find_user_by_username(username) if username else None
    password_hash = user.password_hash if user is not None else _dummy_hash()  # unknown names take as long
    db.session.commit()  # checking a password is slow by design: hold no transaction (nor SQLite's lock) meanwhile
    ok = password_matches(password_hash, password or "") and user is not None
    db.session.add(LoginAttempt(username=username, client_addr=client_addr, at=now, succeeded=ok and user.active))
    if not ok:
        # An unknown "username" is often a password typed in the wrong box: keep only its start.
        shown = username if user is not None else username[:3] + "…"
        log.warning("failed sign-in for %r from %s", shown, client_addr)
        audit.record_event(ctx, "auth.sign_in_failed", "user", user.id if user else None, after={"username": shown})
        db.session.commit()
        raise SignInRefused(Msg(N_("Wrong username or password.")))
    if not user.active:
        log.warning("sign-in of deactivated user %r from %s", username, client_addr)
        audit.record_event(ctx, "auth.sign_in_refused", "user", user.id, after={"reason": "deactivated"})
        db.session.commit()
        raise SignInRefused(Msg(N_("This account is deactivated. Ask an administrator.")))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record_event(audit.Context(user.id, client_addr=client_addr), "auth.sign_in", "user", user.id)
    db.session.commit()
    return user


def record_sign_out(ctx: audit.Context) -> None:
    """Write the sign-out to the audit log."""
    audit.record_event(ctx, "auth.sign_out", "user", ctx.actor_id)
    db.session.commit()


# --- acting substitutes ----------------------------------------------------------------------------------------


def add_substitution(
    ctx: audit.Context, user_id: int, substitute_id: int, starts_on: date, ends_on: date, reason: str = ""
) -> Substitution:
    """Name `substitute_id` to act for `user_id` from `starts_on` to `ends_on` inclusive."""
    user = get_user(user_id)
    errors: dict[str, Msg] = {}
    substitute = db.session.get(User, substitute_id) if substitute_id else None
    if substitute is None or not substitute.active:
        errors["substitute_id"] = Msg(N_("Choose an active user."))
    elif substitute.id == user.id:
        errors["substitute_id"] = Msg(N_("A user cannot stand in for themselves."))
    if starts_on is None:
        errors["starts_on"] = Msg(N_("Enter a date."))
    if ends_on is None:
        errors["ends_on"] = Msg(N_("Enter a date."))
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = Msg(N_("The end cannot be before the start."))
    if errors:
        raise ValidationFailed(errors)
    substitution = Substitution(
        user_id=user.id, substitute_id=substitute.id, starts_on=starts_on, ends_on=ends_on, reason=(reason or "")[:300]
    )
    db.session.add(substitution)
    db.session.flush()
    audit.record_event(ctx, "substitution.create", "user", user.id, after=substitution.as_dict())
    db.session.commit()
    return substitution


def cancel_substitution(ctx: audit.Context, substitution_id: int) -> Substitution:
    """Cancel a substitution; it stays in the history."""
    substitution = db.session.get(Substitution, substitution_id)
    if substitution is None:
        raise NotFound(Msg(N_("No such substitution.")))
    if substitution.cancelled:
        raise Conflict(Msg(N_("This substitution is already cancelled.")))
    substitution.cancelled = True
    audit.record_event(
        ctx,
        "substitution.cancel",
        "user",
        substitution.user_id,
        before={"id": substitution.id, "cancelled": False},
        after={"id": substitution.id, "cancelled": True},
    )
    db.session.commit()
    return substitution


def substitutions_of(user_id: int) -> list[Substitution]:
    """Return the substitutions named for `user_id`, latest first."""
    query = select(Substitution).where(Substitution.user_id == user_id).order_by(Substitution.starts_on.desc())
    return list(db.session.execute(query).scalars())


def represented_by(substitute_id: int, on: date) -> list[User]:
    """Return the users for whom `substitute_id` acts on the day `on`."""
    query = (
        select(User)
        .join(Substitution, Substitution.user_id == User.id)
        .where(
            Substitution.substitute_id == substitute_id,
            ~Substitution.cancelled,
            Substitution.starts_on <= on,
            Substitution.ends_on >= on,
        )
        .order_by(User.full_name)
    )
    return list(db.session.execute(query).scalars())


# --- API tokens ------------------------------------------------------------------------------------------------


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(ctx: audit.Context, user_id: int, name: str, days: int) -> tuple[ApiToken, str]:
    """Create an API token for `user_id` and return it with its secret, which is shown only this once."""
    user = get_user(user_id)
    name = (name or "").strip()
    errors: dict[str, Msg] = {}
    if not name:
        errors["name"] = Msg(N_("Name the token after the program that will use it."))
    elif len(name) > 100:
        errors["name"] = Msg(N_("Use at most %(n)s characters."), n=100)
    if not isinstance(days, int) or not 0 <= days <= 3650:
        errors["days"] = Msg(N_("Enter a number of days from 0 (no expiry) to 3650."))
    if errors:
        raise ValidationFailed(errors)
    if not user.active:
        raise Conflict(Msg(N_("This account is deactivated.")))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=_digest(secret),
        prefix=secret[:10],
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(days=days) if days else None,
    )
    db.session.add(token)
    db.session.flush()
    audit.record_event(ctx, "token.create", "api_token", token.id, after=token.as_dict())
    db.session.commit()
    return token, secret


def list_tokens(user_id: int) -> list[ApiToken]:
    """Return the tokens of `user_id`, newest first."""
    query = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    return list(db.session.execute(query).scalars())


def revoke_token(ctx: audit.Context, token_id: int, acting_user: User) -> ApiToken:
    """Revoke a token; users revoke their own, administrators anyone's."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (token.user_id != acting_user.id and not acting_user.has_role("admin")):
        raise NotFound(Msg(N_("No such token.")))
    if token.revoked_at is not None:
        raise Conflict(Msg(N_("This token is already revoked.")))
    token.revoked_at = clock.now()
    audit.record_event(
        ctx,
        "token.revoke",
        "api_token",
        token.id,
        before={"revoked_at": None},
        after={"revoked_at": token.as_dict()["revoked_at"]},
    )
    db.session.commit()
    return token


def authenticate_token(secret: str) -> User:
    """Return the active user behind an API token secret, or raise TokenRefused saying why."""
    token = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(secret or ""))
    ).scalar_one_or_none()
    if token is None:
        raise TokenRefused(Msg(N_("This token is not valid.")))
    now = clock.now()
    state = token.state(now)
    if state == "revoked":
        raise TokenRefused(Msg(N_("This token was revoked.")))
    if state == "expired":
        raise TokenRefused(Msg(N_("This token has expired.")))
    if not token.user.active:
        raise TokenRefused(Msg(N_("This account is deactivated.")))
    return token.user


def touch_token(secret: str, every: timedelta = timedelta(minutes=5)) -> None:
    """Record that a token was used, at most once per `every` (so that reads rarely write)."""
    now = clock.now()
    last_used = db.session.execute(
        select(ApiToken.last_used_at).where(ApiToken.token_hash == _digest(secret))
    ).scalar_one_or_none()
    if last_used is not None and now - clock.as_utc(last_used) < every:
        return
    db.session.commit()  # end the reading transaction: the write below takes the lock from its start
    with database.writing():
        db.session.execute(update(ApiToken).where(ApiToken.token_hash == _digest(secret)).values(last_used_at=now))
        db.session.commit()


def require_role(user: User, *roles: str) -> None:
    """Raise Forbidden unless `user` holds one of `roles`."""
    if not user.has_role(*roles):
        raise Forbidden(Msg(N_("You do not have permission to do this.")))
