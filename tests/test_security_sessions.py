"""Sessions end for real: logout, password change, deactivation, idle timeout; password policy."""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import User
from portal.security import LAST_SEEN
from tests.conftest import PortalClient


def _replay(app, cookie_jar_from):
    """A second browser holding a copy of the session cookie."""
    copy = PortalClient(app)
    cookie = cookie_jar_from.http.get_cookie("session")
    copy.http.set_cookie("session", cookie.value)
    return copy


def _refused(resp):
    return resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_copied_cookie_is_refused_after_logout(app, login):
    clerk = login("clerk_sz01")
    thief = _replay(app, clerk)
    assert thief.get("/account/").status_code == 200
    clerk.post("/logout")
    assert _refused(thief.get("/account/"))


def test_copied_cookie_is_refused_after_password_change(app, login):
    clerk = login("clerk_sz01")
    thief = _replay(app, clerk)
    resp = clerk.post(
        "/account/",
        {"current": "demo12345", "new": "Lantern-harbour-42", "confirm": "Lantern-harbour-42"},
    )
    assert resp.status_code == 302
    assert clerk.get("/account/").status_code == 200  # this browser stays logged in
    assert _refused(thief.get("/account/"))


def test_copied_cookie_is_refused_after_deactivation(app, login):
    clerk = login("clerk_sz01")
    thief = _replay(app, clerk)
    with app.app_context():
        from portal.services import auth

        user = db.session.scalars(select(User).where(User.username == "clerk_sz01")).one()
        auth.set_active(user, False)
        db.session.commit()
        db.session.remove()
    assert _refused(thief.get("/account/"))
    assert _refused(clerk.get("/account/"))


@pytest.mark.parametrize(
    "username, minutes", [("clerk_sz01", 480), ("admin", 60), ("sup_south", 60)]
)
def test_idle_session_expires(login, username, minutes):
    user = login(username)
    assert user.get("/account/").status_code == 200
    with user.http.session_transaction() as sess:
        sess[LAST_SEEN] -= (minutes - 1) * 60  # still inside the limit
    assert user.get("/account/").status_code == 200  # ...and this request refreshes it
    with user.http.session_transaction() as sess:
        sess[LAST_SEEN] -= (minutes + 1) * 60
    resp = user.get("/account/")
    assert _refused(resp) and "next=" in resp.headers["Location"]
    page = user.get(resp.headers["Location"]).get_data(as_text=True)
    assert "长时间未操作" in page
    assert _refused(user.get("/account/"))


def test_no_remember_me_cookie(client):
    resp = client.login("clerk_sz01")
    assert resp.status_code == 302
    assert client.http.get_cookie("remember_token") is None


@pytest.mark.parametrize(
    "new, message",
    [
        ("short1", "至少"),
        ("password123", "常见"),
        ("clerk_sz01-secret", "用户名"),
    ],
)
def test_password_policy_on_the_change_page(login, new, message):
    clerk = login("clerk_sz01")
    resp = clerk.post("/account/", {"current": "demo12345", "new": new, "confirm": new})
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert login("clerk_sz01").get("/account/").status_code == 200  # old password still works


@pytest.mark.parametrize(
    "password, ok",
    [
        ("short1", False),
        ("password123", False),
        ("newclerk-pass-1", False),
        ("Quiet-river-2026", True),
    ],
)
def test_password_policy_in_create_user(app, password, ok):
    with app.app_context():  # as the flask command line does
        result = app.test_cli_runner().invoke(
            args=[
                "create-user",
                "newclerk",
                "--role",
                "clerk",
                "--site",
                "SZ01",
                "--password",
                password,
            ]
        )
    assert (result.exit_code == 0) is ok, result.output
    with app.app_context():
        exists = db.session.scalar(select(User.id).where(User.username == "newclerk")) is not None
        db.session.remove()
    assert exists is ok


def test_a_remember_cookie_of_a_revoked_session_is_refused(app, login):
    """The portal never issues remember-me cookies; a forged one for an ended session gets
    nothing."""
    from flask_login.utils import encode_cookie

    clerk = login("clerk_sz01")
    with clerk.http.session_transaction() as sess:
        old_id = sess["_user_id"]
    clerk.post("/logout")
    with app.test_request_context():
        cookie = encode_cookie(old_id)
    intruder = PortalClient(app)
    intruder.http.set_cookie(app.config.get("REMEMBER_COOKIE_NAME", "remember_token"), cookie)
    assert _refused(intruder.get("/account/"))
