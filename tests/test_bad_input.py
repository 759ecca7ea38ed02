"""Bad input gets a clear message and the right status, and changes nothing."""

from sqlalchemy import func, select

from portal.models import AuditEvent, Region, StaffMember, User


def _counts(dbs):
    return tuple(
        dbs.scalar(select(func.count()).select_from(m))
        for m in (AuditEvent, StaffMember, User, Region)
    )


def test_empty_login_fields(client, dbs):
    before = _counts(dbs)
    resp = client.post("/login", data={"username": "", "password": ""})
    assert resp.status_code == 400
    assert "该字段是必填字段" in resp.get_data(as_text=True) or "必填" in resp.get_data(
        as_text=True
    )
    assert _counts(dbs) == before


def test_ten_kilobyte_username(client, dbs):
    before = _counts(dbs)
    resp = client.post("/login", data={"username": "x" * 10_000, "password": "demo12345"})
    assert resp.status_code == 400
    assert _counts(dbs) == before


def test_missing_or_wrong_csrf_token(login, dbs, site_ids):
    c = login("admin")
    before = _counts(dbs)
    for token in (None, "forged-token"):
        data = {"site": site_ids["SZ01"], "name": "无令牌", "kind": "cleaner"}
        if token:
            data["csrf_token"] = token
        resp = c.post("/staff/new/", data=data, csrf=False)
        assert resp.status_code == 400
        assert "表单已过期" in resp.get_data(as_text=True)
    assert c.post("/logout", csrf=False).status_code == 400
    assert c.get("/site/").status_code == 200  # still logged in: the forged logout did nothing
    assert _counts(dbs) == before


def test_empty_required_fields_in_an_admin_form(login, dbs, site_ids):
    c = login("admin")
    before = _counts(dbs)
    resp = c.post("/staff/new/", data={"site": site_ids["SZ01"], "name": "", "kind": "cleaner"})
    assert resp.status_code == 400
    assert "必填" in resp.get_data(as_text=True)
    assert _counts(dbs) == before


def test_new_user_with_weak_password_is_refused(login, dbs, site_ids):
    c = login("admin")
    before = _counts(dbs)
    resp = c.post(
        "/user/new/",
        data={
            "username": "clerk_new",
            "display_name": "新人",
            "role": "clerk",
            "sites": [site_ids["SZ01"]],
            "locale": "zh_Hans_CN",
            "active": "y",
            "new_password": "12345678",
        },
    )
    assert resp.status_code == 400
    assert "至少需要 10 个字符" in resp.get_data(as_text=True)
    assert _counts(dbs) == before


def test_malformed_and_huge_ids_answer_404(login):
    c = login("admin")
    for bad in ("abc", "-1", "0", "99999999", str(2**63), "1 OR 1=1", "1,2", "1e3", "١"):
        assert c.get(f"/staff/details/?id={bad}").status_code == 404, bad
        assert c.get(f"/staff/edit/?id={bad}").status_code in (302, 404), bad


def test_deactivated_user_cannot_log_in(login, client, dbs):
    admin = login("admin")
    uid = dbs.scalar(select(User.id).where(User.username == "guard_sz01"))
    resp = admin.post(
        f"/user/edit/?id={uid}",
        data={
            "username": "guard_sz01",
            "display_name": "赵建国",
            "role": "security",
            "locale": "zh_Hans_CN",
            "version": dbs.get(User, uid).version,
        },
    )
    assert resp.status_code == 302
    before = _counts(dbs)
    resp = client.post("/login", data={"username": "guard_sz01", "password": "demo12345"})
    assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)
    assert _counts(dbs) == before


def test_error_pages_are_friendly_and_carry_an_error_id(login):
    page = login("clerk_sz01").get("/no-such-page")
    text = page.get_data(as_text=True)
    assert (
        page.status_code == 404
        and "不存在" in text
        and "错误编号" in text
        and "Traceback" not in text
    )
