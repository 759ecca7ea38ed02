"""Accounts: authentication, passwords, sessions. No request objects in here."""
import secrets
from pathlib import Path

from flask import current_app, has_app_context
from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from portal.extensions import db
from portal.models import Site, User

MAX_USERNAME = 64
MIN_PASSWORD = 10
_COMMON = None


class PasswordRejected(ValueError):
    pass


def _common_passwords():
    global _COMMON
    if _COMMON is None:
        path = Path(__file__).with_name("common_passwords.txt")
        _COMMON = {line.strip().lower() for line in path.read_text().splitlines() if line.strip()}
    return _COMMON


def hash_method():
    # Configurable so the test suite can use a cheap work factor; production keeps scrypt's default.
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"


def find_user(username):
    """Look a user up by login name, outside any site scope (the login form has none)."""
    if not username or len(username) > MAX_USERNAME:
        return None
    stmt = select(User).where(func.lower(User.username) == username.strip().lower())
    return db.session.execute(stmt.execution_options(bypass_scope=True)).scalar_one_or_none()


def load_session_user(cookie_id):
    """Flask-Login's loader: the cookie holds ``id:token``; a rotated token ends the session."""
    user_id, _, token = (cookie_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    stmt = select(User).where(User.id == int(user_id))
    user = db.session.execute(stmt.execution_options(bypass_scope=True)).scalar_one_or_none()
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def authenticate(username, password):
    """The user for these credentials, or None; the same None for unknown user and wrong password."""
    user = find_user(username)
    if user is None:
        # Spend the same time as a real check so the answer time does not reveal the account.
        User(password_hash=_DUMMY_HASH).check_password(password or "")
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    # One statement, outside the version check: the same account logging in on two tablets at
    # once must not fail with a stale-version error (a bookkeeping field, no one edits it).
    now = clock.now()
    db.session.execute(update(User.__table__).where(User.__table__.c.id == user.id).values(last_login_at=now))
    set_committed_value(user, "last_login_at", now)
    return user


def check_password_policy(password, username=""):
    if len(password) < MIN_PASSWORD:
        raise PasswordRejected(_l("The password must have at least %(n)d characters.", n=MIN_PASSWORD))
    if password.lower() in _common_passwords():
        raise PasswordRejected(_l("This password is too common; choose another one."))
    if username and username.lower() in password.lower():
        raise PasswordRejected(_l("The password must not contain the user name."))


def new_session_token():
    return secrets.token_hex(16)


def end_all_sessions(user):
    """Rotate the token in every login cookie of this user: all sessions, all servers, end."""
    user.session_token = new_session_token()


def change_password(user, old, new):
    if not user.check_password(old or ""):
        raise PasswordRejected(_l("The current password is not correct."))
    check_password_policy(new, user.username)
    user.set_password(new, hash_method())
    end_all_sessions(user)


def set_active(user, active):
    user.active = active
    if not active:
        end_all_sessions(user)


def create_user(username, display_name, role, password, site_codes=(), region_codes=(), check_policy=True):
    from portal.models import Region

    if check_policy:
        check_password_policy(password, username)
    user = User(username=username, display_name=display_name, role=role, session_token=new_session_token())
    user.set_password(password, hash_method())
    if site_codes:
        user.sites = list(db.session.scalars(select(Site).where(Site.code.in_(site_codes))))
    if region_codes:
        user.regions = list(db.session.scalars(select(Region).where(Region.code.in_(region_codes))))
    db.session.add(user)
    return user


# A real scrypt hash of a random string, checked when the user does not exist.
_DUMMY_HASH = (
    "scrypt:32768:8:1$eHxnUnwXhUsgyNfc$2efb668c188840ad16bfb0d18fab995b8f8b21b86ef91d5811a9a47ac5bc2c76"
    "2c6e5e3559a3783efba16e9bdb3a2047883ce93a1cdc5572ae8d0d6ea3e406f6"
)
