"""People in one step: creating a login creates (or links) the person's staff record at each of
its sites, with kind, phone and post, in the same transaction; changing its sites moves the
records on; people without a login are staff records made on the staff form. Real HTTP."""

import re

from sqlalchemy import func, select

from portal.models import AuditEvent, StaffMember, StaffSpell, User
from tests.checklist_helpers import system

PASSWORD = "晨光售楼处前台2026"


def _new_user(admin, site_ids, username, role, sites, display_name="新同事", **extra):
    data = {
        "username": username,
        "display_name": display_name,
        "role": role,
        "locale": "zh_Hans_CN",
        "active": "y",
        "new_password": PASSWORD,
        "sites": [str(site_ids[code]) for code in sites],
        **extra,
    }
    return admin.post("/user/new/", data)


def _staff_of(app, username):
    with system(app) as s:
        user = s.scalar(select(User).where(User.username == username))
        rows = s.scalars(
            select(StaffMember).where(StaffMember.user_id == user.id).order_by(StaffMember.id)
        ).all()
        return [(r.site.code, r.name, r.kind, r.phone, r.notes, r.active) for r in rows]


def _count(app, model):
    with system(app) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_new_clerk_gets_her_staff_record_and_can_take_a_break(app, login, site_ids):
    admin = login("admin")
    resp = _new_user(
        admin,
        site_ids,
        "clerk_sz01b",
        "clerk",
        ["SZ01"],
        display_name="许晴",
        phone="13800138000",
        post="前台接待",
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert _staff_of(app, "clerk_sz01b") == [
        ("SZ01", "许晴", "clerk", "13800138000", "前台接待", True)
    ]
    with system(app) as s:
        staff_id = s.scalar(select(StaffMember.id).where(StaffMember.name == "许晴"))
        # Audited with the login, and on the roster from now (a StaffSpell).
        assert s.scalar(
            select(func.count()).where(
                AuditEvent.object_type == "StaffMember",
                AuditEvent.object_id == staff_id,
                AuditEvent.action == "create",
            )
        )
        assert s.scalar(
            select(func.count()).where(
                StaffSpell.staff_member_id == staff_id, StaffSpell.left_at.is_(None)
            )
        )
    clerk = login("clerk_sz01b", PASSWORD)
    page = clerk.get("/breaks/").get_data(as_text=True)
    assert "您还没有员工档案" not in page and 'id="start-break"' in page
    assert clerk.post("/breaks/start").status_code == 302
    assert 'id="end-break"' in clerk.get("/breaks/").get_data(as_text=True)


def test_a_new_salesperson_is_offered_on_the_damage_form_and_for_visits(app, login, site_ids):
    clerk = login("clerk_sz02")
    assert "没有可登录的销售员" in clerk.get("/damage/new/").get_data(as_text=True)
    admin = login("admin")
    assert _new_user(admin, site_ids, "sales_sz02", "sales", ["SZ02"], "欧阳明").status_code == 302
    assert _staff_of(app, "sales_sz02") == [("SZ02", "欧阳明", "sales", None, None, True)]
    page = clerk.get("/damage/new/").get_data(as_text=True)
    assert "欧阳明" in page and "没有可登录的销售员" not in page
    # And he is a salesperson of the site's roster (visits name him).
    with system(app) as s:
        kinds = s.scalars(select(StaffMember.kind).where(StaffMember.name == "欧阳明")).all()
    assert kinds == ["sales"]


def test_a_login_is_linked_to_the_roster_record_of_the_same_name(app, login, site_ids):
    # 郑凯 is a salesperson on SZ01's roster without a login: his new login links that record.
    before = _count(app, StaffMember)
    admin = login("admin")
    assert _new_user(admin, site_ids, "zhengkai", "sales", ["SZ01"], "郑凯").status_code == 302
    assert _count(app, StaffMember) == before
    assert _staff_of(app, "zhengkai") == [("SZ01", "郑凯", "sales", None, None, True)]


def test_changing_the_sites_adds_and_ends_staff_records(app, login, site_ids):
    admin = login("admin")
    assert _new_user(admin, site_ids, "float_clerk", "clerk", ["SZ01"], "周敏").status_code == 302
    with system(app) as s:
        user = s.scalar(select(User).where(User.username == "float_clerk"))
        user_id, version = user.id, user.version
    form = {
        "username": "float_clerk",
        "display_name": "周敏",
        "role": "clerk",
        "locale": "zh_Hans_CN",
        "active": "y",
        "sites": [str(site_ids["SZ02"]), str(site_ids["SH01"])],
        "version": str(version),
        "phone": "13900001111",
    }
    resp = admin.post(f"/user/edit/?id={user_id}", form)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert sorted(_staff_of(app, "float_clerk")) == [
        ("SH01", "周敏", "clerk", "13900001111", None, True),
        ("SZ01", "周敏", "clerk", None, None, False),
        ("SZ02", "周敏", "clerk", "13900001111", None, True),
    ]
    # The edit form shows the phone of her staff record.
    page = admin.get(f"/user/edit/?id={user_id}").get_data(as_text=True)
    assert 'value="13900001111"' in page
    # Back to SZ01: her old record there comes back, no second one.
    with system(app) as s:
        version = s.get(User, user_id).version
    form.update(sites=[str(site_ids["SZ01"])], version=str(version), phone="")
    assert admin.post(f"/user/edit/?id={user_id}", form).status_code == 302
    assert sorted(_staff_of(app, "float_clerk")) == [
        ("SH01", "周敏", "clerk", "13900001111", None, False),
        ("SZ01", "周敏", "clerk", None, None, True),
        ("SZ02", "周敏", "clerk", "13900001111", None, False),
    ]


def test_head_office_and_supervisors_get_no_staff_record(app, login, site_ids):
    admin = login("admin")
    before = _count(app, StaffMember)
    assert (
        _new_user(admin, site_ids, "sup_new", "supervisor", ["SZ01"], "新主管").status_code == 302
    )
    assert _count(app, StaffMember) == before
    assert _staff_of(app, "sup_new") == []


def test_a_refused_login_writes_no_staff_record(app, login, site_ids):
    admin = login("admin")
    before = _count(app, StaffMember), _count(app, User)
    resp = _new_user(
        admin, site_ids, "weak_clerk", "clerk", ["SZ01"], "弱密码", new_password="12345678"
    )
    assert resp.status_code == 400
    assert (_count(app, StaffMember), _count(app, User)) == before


def test_the_new_user_form_asks_for_a_role_and_shows_the_password_rule(app, login, site_ids):
    admin = login("admin")
    page = admin.get("/user/new/").get_data(as_text=True)
    select_ = re.search(r'<select[^>]*name="role"[^>]*>(.*?)</select>', page, re.S).group(1)
    options = re.findall(r'<option([^>]*)value="([^"]*)"', select_)
    assert options[0][1] == "" and options[-1][1] == "admin"
    assert "selected" not in " ".join(attrs for attrs, value in options if value == "admin")
    assert "至少 10 个字符，不能是常见密码，也不能包含用户名" in page
    assert 'name="phone"' in page and 'name="post"' in page
    # Sent without a role: refused, nothing written.
    before = _count(app, User)
    resp = _new_user(admin, site_ids, "no_role", "", ["SZ01"])
    assert resp.status_code == 400 and _count(app, User) == before


def test_a_cleaner_and_a_driver_without_a_login(app, login, site_ids):
    admin = login("admin")
    page = admin.get("/staff/new/").get_data(as_text=True)
    assert 'value="driver"' in page and "司机" in page
    for name, kind in (("吴阿姨", "cleaner"), ("陈师傅", "driver")):
        resp = admin.post(
            "/staff/new/",
            {"site": str(site_ids["SZ01"]), "name": name, "kind": kind, "phone": "", "active": "y"},
        )
        assert resp.status_code == 302, resp.get_data(as_text=True)
    with system(app) as s:
        rows = s.execute(
            select(StaffMember.name, StaffMember.kind, StaffMember.user_id, StaffMember.active)
            .where(StaffMember.name.in_(["吴阿姨", "陈师傅"]))
            .order_by(StaffMember.name)
        ).all()
    assert sorted(rows) == [("吴阿姨", "cleaner", None, True), ("陈师傅", "driver", None, True)]
    # A supervisor of the region sees them on the staff list, by name and kind.
    listing = login("sup_south").get("/staff/?search=陈师傅").get_data(as_text=True)
    assert "陈师傅" in listing and "司机" in listing


def test_deleting_a_login_keeps_the_person_on_the_roster(app, login, site_ids):
    admin = login("admin")
    assert (
        _new_user(admin, site_ids, "temp_guard", "security", ["SZ01"], "临时保安").status_code
        == 302
    )
    with system(app) as s:
        user_id = s.scalar(select(User.id).where(User.username == "temp_guard"))
    assert admin.post("/user/delete/", {"id": str(user_id)}).status_code == 302
    with system(app) as s:
        assert s.get(User, user_id) is None
        rows = s.execute(
            select(StaffMember.kind, StaffMember.user_id, StaffMember.active).where(
                StaffMember.name == "临时保安"
            )
        ).all()
    assert rows == [("security", None, True)]
