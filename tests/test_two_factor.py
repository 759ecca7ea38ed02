"""Two-factor sign-in through the app's HTTP interface: enrolment with a QR code, codes from a
real TOTP generator (pyotp), recovery codes, replay, throttling, and head office's reset."""

import html
import re
import time

import pyotp
import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, User
from portal.models.org import LoginFailure, TwoFactor

ENFORCED = frozenset({"admin", "supervisor"})


@pytest.fixture
def enforced(app, monkeypatch):
    monkeypatch.setitem(app.config, "TWO_FACTOR_ROLES", ENFORCED)


def _code(secret, steps_ahead=0):
    """The code an authenticator app shows now (or that many 30-second steps later)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def _password(client, username):
    return client.login(username)


def _enrol(client, username):
    """Log in with the password, read the key off the enrolment page, prove it with a code."""
    resp = _password(client, username)
    assert resp.status_code == 302 and resp.headers["Location"] == "/login/code"
    page = client.get("/login/code").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page and "设置双重验证登录" in page
    secret = re.sub(
        r"\s", "", html.unescape(re.search(r'id="enrol-secret">([^<]+)<', page).group(1))
    )
    resp = client.post("/login/code", {"code": _code(secret)})
    assert resp.status_code == 200
    codes = re.findall(r"<li><code>([A-Z2-7-]+)</code></li>", resp.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


def _logout(client):
    assert client.post("/logout").status_code == 302


def test_admin_without_a_second_factor_enrols_before_anything_else(enforced, client, dbs):
    resp = _password(client, "admin")
    assert resp.headers["Location"] == "/login/code"
    # Not logged in yet: every page sends back to the login.
    for url in ("/", "/user/", "/account/"):
        assert client.get(url).headers["Location"].startswith("/login")
    secret, codes = _enrol(client, "admin")
    assert client.get("/user/").status_code == 200
    row = dbs.scalar(
        select(TwoFactor).join(User, User.id == TwoFactor.user_id).where(User.username == "admin")
    )
    assert row.secret == secret
    # The recovery codes are kept hashed only.
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "剩余恢复码：10 个" in page and codes[0] not in page
    assert (
        dbs.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "two_factor_enrol")
        )
        == 1
    )


def test_sign_in_with_password_then_code_and_a_code_works_once(enforced, client, app):
    secret, _ = _enrol(client, "sup_south")
    _logout(client)
    assert _password(client, "sup_south").headers["Location"] == "/login/code"
    page = client.get("/login/code").get_data(as_text=True)
    assert "登录验证码" in page and "enrol-secret" not in page
    code = _code(secret, 1)  # the enrolment used the current step's code
    resp = client.post("/login/code", {"code": code})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert client.get("/account/").status_code == 200
    _logout(client)
    # The same code again (a shoulder-surfer, a replayed request) is refused.
    _password(client, "sup_south")
    resp = client.post("/login/code", {"code": code})
    assert resp.status_code == 401 and "验证码不正确，或已使用过" in resp.get_data(as_text=True)
    assert client.get("/account/").status_code == 302


def test_wrong_codes_are_refused_counted_and_throttled(enforced, client, dbs):
    secret, _ = _enrol(client, "sup_south")
    _logout(client)
    _password(client, "sup_south")
    good = _code(secret, 1)
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(5):
        assert client.post("/login/code", {"code": wrong}).status_code == 401
    assert (
        dbs.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.account == "sup_south", LoginFailure.kind == "code")
        )
        == 5
    )
    resp = client.post("/login/code", {"code": good})
    assert resp.status_code == 429 and "登录失败次数过多" in resp.get_data(as_text=True)
    assert client.get("/account/").status_code == 302


def test_a_recovery_code_signs_in_once(enforced, client, dbs):
    _, codes = _enrol(client, "admin")
    _logout(client)
    _password(client, "admin")
    resp = client.post("/login/code", {"code": codes[3].lower().replace("-", " ")})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert "剩余恢复码：9 个" in client.get("/account/two-factor").get_data(as_text=True)
    _logout(client)
    _password(client, "admin")
    assert client.post("/login/code", {"code": codes[3]}).status_code == 401
    assert (
        dbs.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "recovery_code_used")
        )
        == 1
    )


def test_new_recovery_codes_replace_the_old_ones(enforced, client):
    secret, old = _enrol(client, "admin")
    resp = client.post("/account/two-factor/codes", {"code": _code(secret, 1)})
    new = re.findall(r"<li><code>([A-Z2-7-]+)</code></li>", resp.get_data(as_text=True))
    assert resp.status_code == 200 and len(new) == 10 and not set(new) & set(old)
    _logout(client)
    _password(client, "admin")
    assert client.post("/login/code", {"code": old[0]}).status_code == 401
    assert client.post("/login/code", {"code": new[0]}).status_code == 302


def test_clerk_is_not_asked_for_a_code(enforced, client):
    resp = client.login("clerk_sz01")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert client.get("/account/").status_code == 200


def test_the_wait_between_password_and_code_is_short(enforced, client, app, monkeypatch):
    secret, _ = _enrol(client, "sup_south")
    _logout(client)
    _password(client, "sup_south")
    monkeypatch.setitem(app.config, "TWO_FACTOR_PENDING_MINUTES", 0)
    resp = client.post("/login/code", {"code": _code(secret, 1)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert client.get("/account/").status_code == 302


def test_head_office_resets_a_lost_second_factor(app, client, login, dbs, monkeypatch):
    monkeypatch.setitem(app.config, "TWO_FACTOR_ROLES", frozenset({"supervisor"}))
    _enrol(client, "sup_south")
    sup_id = dbs.scalar(select(User.id).where(User.username == "sup_south"))
    # A supervisor cannot reset anyone's, not even a colleague's.
    assert client.post("/account/two-factor/reset", {"user_id": sup_id}).status_code == 403
    admin = login("admin")
    page = admin.get("/account/").get_data(as_text=True)
    assert "重置用户的双重验证" in page and "sup_south" in page
    resp = admin.post("/account/two-factor/reset", {"user_id": sup_id})
    assert resp.status_code == 302
    assert "已重置" in admin.get("/account/").get_data(as_text=True)
    event = dbs.scalar(select(AuditEvent).where(AuditEvent.action == "two_factor_reset"))
    assert event.object_id == sup_id and event.user_id == dbs.scalar(
        select(User.id).where(User.username == "admin")
    )
    assert dbs.get(TwoFactor, sup_id) is None
    # Next login: enrol again.
    _logout(client)
    _password(client, "sup_south")
    assert "enrol-secret" in client.get("/login/code").get_data(as_text=True)
    # An unknown user id is a 404, a missing one a 400; nothing changes.
    assert admin.post("/account/two-factor/reset", {"user_id": 999999}).status_code == 404
    assert admin.post("/account/two-factor/reset", {}).status_code == 400


def test_a_clerk_may_turn_it_on_and_is_then_asked(client):
    client.login("clerk_sz01")
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.sub(
        r"\s", "", html.unescape(re.search(r'id="enrol-secret">([^<]+)<', page).group(1))
    )
    assert client.post("/account/two-factor", {"code": "12345x"}).status_code == 400
    resp = client.post("/account/two-factor", {"code": _code(secret)})
    assert resp.status_code == 200 and "恢复码仅显示这一次" in resp.get_data(as_text=True)
    _logout(client)
    assert _password(client, "clerk_sz01").headers["Location"] == "/login/code"


def test_the_code_page_leaves_a_signed_in_user_signed_in(enforced, client):
    client.login("clerk_sz01")
    assert client.get("/login/code").headers["Location"] == "/"
    assert client.post("/login/code", {"code": "123456"}).headers["Location"] == "/"
    assert client.get("/account/").status_code == 200


def test_new_recovery_codes_need_a_second_factor_first(client):
    client.login("clerk_sz01")
    resp = client.post("/account/two-factor/codes", {"code": "123456"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/two-factor"


def test_production_asks_admins_and_supervisors_and_the_demo_nobody(tmp_path, monkeypatch):
    from portal import create_app

    base = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/c.db", "SECRET_KEY": "k"}
    assert create_app({**base, "PORTAL_ENV": "production"}).config["TWO_FACTOR_ROLES"] == ENFORCED
    assert create_app(base).config["TWO_FACTOR_ROLES"] == frozenset()
    monkeypatch.setenv("PORTAL_TWO_FACTOR_ROLES", "admin, security")
    assert create_app(base).config["TWO_FACTOR_ROLES"] == frozenset({"admin", "security"})
