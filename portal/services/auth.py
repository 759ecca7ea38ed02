"""Accounts: authentication, passwords, sessions, the second factor and the login throttle.
No request objects in here."""

import base64
import hashlib
import secrets
from datetime import timedelta
from functools import cache
from pathlib import Path

import limits
import pyotp
import segno
from flask import current_app, has_app_context
from sqlalchemy import bindparam, delete, func, insert, or_, select, update

from portal import clock
from sqlalchemy.orm.attributes import set_committed_value

from portal.errors import DomainError
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Site, User
from portal.services import audit, notify
from portal.models.org import LoginFailure, RecoveryCode, TwoFactor
from portal.models import Region

MAX_USERNAME = 64
MIN_PASSWORD = 10
_COMMON = None


def _common_passwords():
    global _COMMON
    if _COMMON is None:
        path = Path(__file__).with_name("common_passwords.txt")
        _COMMON = {line.strip().lower() for line in path.read_text().splitlines() if line.strip()}
    return _COMMON


def hash_method():
    # Configurable so the test suite can use a cheap work factor; production keeps scrypt's default.
    return (
        current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
    )


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
    row = db.session.execute(_session_user_stmt(), {"user_id": int(user_id)}).one_or_none()
    user = row[0] if row is not None else None
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    user.unread_loaded = row[1]
    return user


@cache  # built once, run with parameters (HACKING.md, "Statements built once"): every request
def _session_user_stmt():
    # With the user, his unread notifications (the navbar bell), in the same query.
    stmt = select(User, notify.unread_column(User.id)).where(User.id == bindparam("user_id"))
    return stmt.execution_options(bypass_scope=True)


def authenticate(username, password):
    """The user for these credentials, or None; the same None for unknown user and wrong
    password."""
    user = find_user(username)
    if user is None:
        # Spend the same time as a real check so the answer time does not reveal the account.
        User(password_hash=_DUMMY_HASH).check_password(password or "")
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    return user


def note_login(user):
    """Remember when the user last signed in (all factors given)."""
    # One statement, outside the version check: the same account logging in on two tablets at
    # once must not fail with a stale-version error (a bookkeeping field, no one edits it).
    now = clock.now()
    db.session.execute(
        update(User.__table__).where(User.__table__.c.id == user.id).values(last_login_at=now)
    )
    set_committed_value(user, "last_login_at", now)


def check_password_policy(password, username=""):
    if len(password) < MIN_PASSWORD:
        raise DomainError(
            _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD), "new"
        )
    if password.lower() in _common_passwords():
        raise DomainError(_l("This password is too common; choose another one."), "new")
    if username and username.lower() in password.lower():
        raise DomainError(_l("The password must not contain the user name."), "new")


def new_session_token():
    return secrets.token_hex(16)


def end_all_sessions(user):
    """Rotate the token in every login cookie of this user: all sessions, all servers, end."""
    user.session_token = new_session_token()


def change_password(user, old, new, addr):
    # The new password's rules first: a refused new password is not a guess at the old one.
    check_password_policy(new, user.username)
    attempt = begin_attempt(user.username, addr, "password")
    if not user.check_password(old or ""):
        raise DomainError(_l("The current password is not correct."), "current")
    attempt_passed(attempt)
    user.set_password(new, hash_method())
    end_all_sessions(user)


def set_active(user, active):
    user.active = active
    if not active:
        end_all_sessions(user)


def create_user(
    username, display_name, role, password, site_codes=(), region_codes=(), check_policy=True
):
    if check_policy:
        check_password_policy(password, username)
    user = User(
        username=username, display_name=display_name, role=role, session_token=new_session_token()
    )
    user.set_password(password, hash_method())
    if site_codes:
        user.sites = list(db.session.scalars(select(Site).where(Site.code.in_(site_codes))))
    if region_codes:
        user.regions = list(db.session.scalars(select(Region).where(Region.code.in_(region_codes))))
    db.session.add(user)
    return user


# ------------------------------------------------------------------ login throttle
# Every check of a password or a second-factor code first writes a row, then counts the rows of
# the same account (and of the same address) in the window, its own included. The row is
# committed before counting, so of N parallel attempts the k-th to commit sees at least k rows:
# never more than the limit get through, whichever worker or server they reach. A check that
# passes deletes its row; a failed one stays and counts until it leaves the window.


class Throttled(Exception):
    message = _l(
        "Too many failed attempts. Please wait 15 minutes and try again, or ask head office."
    )


def _limit(key):
    item = limits.parse(current_app.config[key])
    return item.amount, timedelta(seconds=item.get_expiry())


def account_key(username):
    return (username or "").strip().lower()[:MAX_USERNAME]


def begin_attempt(username, addr, kind):
    """Count one check of a secret for this account and address; raise Throttled if over a limit.
    Returns the attempt's id, for ``attempt_passed``."""
    table, now = LoginFailure.__table__, clock.now()
    account, addr = account_key(username), (addr or "-")[:45]
    per_account, account_window = _limit("LOGIN_FAILURE_LIMIT")
    per_addr, addr_window = _limit("LOGIN_ADDRESS_FAILURE_LIMIT")
    since = now - max(account_window, addr_window)
    # Its own connection and transaction: the row counts at once, whatever the request does next.
    with db.engine.begin() as conn:
        # Rows out of every window say nothing any more.
        conn.execute(delete(table).where(table.c.at <= since))
        attempt_id = conn.execute(
            insert(table).values(account=account, addr=addr, kind=kind, at=now)
        ).inserted_primary_key[0]
    stmt = select(
        func.count().filter(table.c.account == account, table.c.at > now - account_window),
        func.count().filter(table.c.addr == addr, table.c.at > now - addr_window),
    ).where(or_(table.c.account == account, table.c.addr == addr), table.c.at > since)
    with db.engine.connect() as conn:
        by_account, by_addr = conn.execute(stmt).one()
    if by_account > per_account or by_addr > per_addr:
        # A refused attempt checked nothing: it does not count (the lock ends on time).
        with db.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.id == attempt_id))
        raise Throttled()
    return attempt_id


def attempt_passed(attempt_id):
    """The secret was right: this attempt is not a failure. Part of the caller's transaction
    (the login it commits), so SQLite's single writer is never asked for twice at once."""
    table = LoginFailure.__table__
    db.session.execute(delete(table).where(table.c.id == attempt_id))


# ------------------------------------------------------------------ second factor (TOTP)
RECOVERY_CODES = 10


def second_factor_enforced(user):
    return user.role in current_app.config["TWO_FACTOR_ROLES"]


def two_factor_of(user):
    return db.session.get(TwoFactor, user.id)


def second_factor_needed(user):
    """Asked after the password: everyone who set it up, and the roles that must have it."""
    return second_factor_enforced(user) or two_factor_of(user) is not None


def new_secret():
    return pyotp.random_base32()


def qr_code_data_uri(user, secret):
    """The enrolment QR code as an SVG data: URI (allowed by the CSP's img-src)."""
    issuer = current_app.config["TWO_FACTOR_ISSUER"]
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _matching_step(secret, code):
    """The time step whose code this is (now, or one step either side for a slow clock), or None."""
    code = "".join((code or "").split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(clock.now())
    for step in (now, now - 1, now + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


class CodeRejected(ValueError):
    pass


def enrol(user, secret, code):
    """Start using this secret once the user proved it works; returns the new recovery codes."""
    step = _matching_step(secret, code)
    if step is None:
        raise CodeRejected(
            _l("This code is not correct. Check the time on your phone and try again.")
        )
    db.session.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    db.session.add(
        TwoFactor(user_id=user.id, secret=secret, last_step=step, enrolled_at=clock.now())
    )
    codes = new_recovery_codes(user)
    audit.record("two_factor_enrol", user, site_id=None, summary=user.username)
    return codes


def _recovery_hash(code):
    # The codes are 80 random bits: a plain SHA-256 cannot be reversed, and it lets one UPDATE
    # find and spend a code (single use without a race).
    return hashlib.sha256(code.encode()).hexdigest()


def _normal_recovery(code):
    return "".join(c for c in (code or "").upper() if c.isalnum())


def new_recovery_codes(user):
    """Ten new single-use codes (the old ones stop working); only their hashes are kept."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode()
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(raw)))
    db.session.flush()
    return codes


def recovery_codes_left(user):
    stmt = select(func.count()).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
    )
    return db.session.scalar(stmt)


def verify_second_factor(user, code):
    """True for a current authenticator code not used before, or an unused recovery code.
    Each is spent by one conditional UPDATE, so two requests can never both use it."""
    two_factor = two_factor_of(user)
    if two_factor is None:
        return False
    step = _matching_step(two_factor.secret, code)
    if step is not None:
        t = TwoFactor.__table__
        spent = db.session.execute(
            update(t)
            .where(t.c.user_id == user.id, or_(t.c.last_step.is_(None), t.c.last_step < step))
            .values(last_step=step)
        )
        return spent.rowcount == 1
    raw = _normal_recovery(code)
    if len(raw) != 16:
        return False
    r = RecoveryCode.__table__
    spent = db.session.execute(
        update(r)
        .where(r.c.user_id == user.id, r.c.code_hash == _recovery_hash(raw), r.c.used_at.is_(None))
        .values(used_at=clock.now())
    )
    if spent.rowcount != 1:
        return False
    audit.record("recovery_code_used", user, site_id=None, summary=user.username)
    return True


def reset_second_factor(user):
    """Head office forgets a user's authenticator (a lost phone): the next login enrols again."""
    db.session.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record("two_factor_reset", user, site_id=None, summary=user.username)


# A real scrypt hash of a random string, checked when the user does not exist.
_DUMMY_HASH = (
    "scrypt:32768:8:1$eHxnUnwXhUsgyNfc$"
    "2efb668c188840ad16bfb0d18fab995b8f8b21b86ef91d5811a9a47ac5bc2c76"
    "2c6e5e3559a3783efba16e9bdb3a2047883ce93a1cdc5572ae8d0d6ea3e406f6"
)
