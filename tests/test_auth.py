"""Login, logout, throttling, sessions that end, password change, language."""

import re

from sqlalchemy import func, select

from portal.models import AuditEvent, User


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and "用户名" in page and "密码" in page


def test_login_lands_on_home_and_shows_the_user(login):
    c = login("clerk_sz01")
    page = c.get("/", follow_redirects=True).get_data(as_text=True)
    assert "李晓梅" in page and "退出登录" in page


def test_unknown_user_and_wrong_password_get_the_same_answer(client):
    a = client.post("/login", data={"username": "nobody", "password": "demo12345"})
    b = client.post("/login", data={"username": "clerk_sz01", "password": "wrong-password"})
    assert a.status_code == b.status_code == 401
    msg = "用户名或密码错误。"
    assert msg in a.get_data(as_text=True) and msg in b.get_data(as_text=True)


def test_sixth_failure_in_a_row_is_throttled_even_with_the_right_password(client):
    for _ in range(5):
        assert (
            client.post("/login", data={"username": "clerk_sz01", "password": "nope"}).status_code
            == 401
        )
    resp = client.post("/login", data={"username": "clerk_sz01", "password": "demo12345"})
    assert resp.status_code == 429
    assert "登录失败次数过多" in resp.get_data(as_text=True)
    # Another account from the same desk is not locked out by her colleague's typos.
    assert (
        client.post("/login", data={"username": "guard_sz01", "password": "demo12345"}).status_code
        == 302
    )


def test_session_cookie_is_httponly_and_samesite_lax(client):
    resp = client.post("/login", data={"username": "clerk_sz01", "password": "demo12345"})
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_next_parameter_never_leaves_the_site(client):
    for target in (
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "\\\\evil",
    ):
        c = type(client)(client.app)
        resp = c.http.post(
            f"/login?next={target}",
            data={"username": "clerk_sz01", "password": "demo12345", "csrf_token": c.token()},
        )
        assert resp.status_code == 302
        assert resp.headers["Location"] == "/", target
    c = type(client)(client.app)
    resp = c.http.post(
        "/login?next=/staff/",
        data={"username": "clerk_sz01", "password": "demo12345", "csrf_token": c.token()},
    )
    assert resp.headers["Location"] == "/staff/"


def test_logout_is_post_only_and_ends_copies_of_the_cookie(app, login):
    c = login("clerk_sz01")
    stolen = app.test_client()
    stolen.set_cookie("session", c.http.get_cookie("session").value)
    assert stolen.get("/site/").status_code == 200
    assert c.get("/logout").status_code == 405
    assert c.post("/logout").status_code == 302
    assert stolen.get("/site/").status_code == 302  # replayed cookie → back to login
    assert c.get("/site/").status_code == 302


def test_deactivated_user_is_logged_out_at_next_request(app, login, dbs):
    clerk = login("clerk_sz01")
    admin = login("admin")
    user_id = dbs.scalar(select(User.id).where(User.username == "clerk_sz01"))
    page = admin.get(f"/user/edit/?id={user_id}").get_data(as_text=True)
    assert "clerk_sz01" in page
    version = dbs.get(User, user_id).version
    resp = admin.post(
        f"/user/edit/?id={user_id}",
        data={
            "username": "clerk_sz01",
            "display_name": "李晓梅",
            "role": "clerk",
            "sites": ["1"],
            "locale": "zh_Hans_CN",
            "version": version,
        },
    )  # "active" unchecked
    assert resp.status_code == 302
    assert clerk.get("/site/").status_code == 302
    relogin = type(clerk)(app)
    assert relogin.login("clerk_sz01").status_code == 401


def test_password_change_enforces_policy_and_ends_other_sessions(app, login):
    c = login("clerk_sz01")
    other = login("clerk_sz01")
    for bad, message in [
        ("short1", "至少需要 10 个字符"),
        ("password123", "过于常见"),
        ("clerk_sz01-2026", "不能包含用户名"),
    ]:
        resp = c.post("/account/", data={"current": "demo12345", "new": bad, "confirm": bad})
        assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    resp = c.post(
        "/account/",
        data={"current": "wrong", "new": "Reception-Desk-42", "confirm": "Reception-Desk-42"},
    )
    assert resp.status_code == 400 and "当前密码不正确" in resp.get_data(as_text=True)
    resp = c.post(
        "/account/",
        data={"current": "demo12345", "new": "Reception-Desk-42", "confirm": "Reception-Desk-42"},
    )
    assert resp.status_code == 302
    assert c.get("/site/").status_code == 200  # this browser stays logged in
    assert other.get("/site/").status_code == 302  # the other session ended
    assert type(c)(app).login("clerk_sz01", "Reception-Desk-42").status_code == 302


def test_language_choice_is_remembered_per_user(app, login):
    c = login("clerk_sz01")
    assert "退出登录" in c.get("/site/").get_data(as_text=True)
    assert c.post("/language", data={"lang": "en", "next": "/site/"}).status_code == 302
    assert "Log out" in c.get("/site/").get_data(as_text=True)
    # A new login elsewhere, with a Chinese browser, still gets English: it is stored on the user.
    fresh = type(c)(app)
    fresh.login("clerk_sz01")
    page = fresh.get("/site/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Log out" in page and "退出登录" not in page


def test_login_is_audited(login, dbs):
    login("sup_south")
    assert (
        dbs.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "login"))
        == 1
    )


def test_flask_admin_pages_are_chinese(login):
    page = login("admin").get("/staff/").get_data(as_text=True)
    assert "创建" in page and "人员" in page
    assert re.search(r"<title>[^<]*售楼处运营平台", page)


def test_every_demo_user_can_log_in(client):
    from portal.devdata.org import USERS

    for username, display, *_ in USERS:
        c = type(client)(client.app)
        assert c.login(username).status_code == 302, username
        assert display in c.get("/account/").get_data(as_text=True)


def test_session_cookie_is_secure_over_https(app):
    c = app.test_client()
    page = c.get("/login", base_url="https://portal.example").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = c.post(
        "/login",
        base_url="https://portal.example",
        data={"username": "clerk_sz01", "password": "demo12345", "csrf_token": token},
        headers={"Referer": "https://portal.example/login"},
    )
    assert resp.status_code == 302
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Secure" in cookie
