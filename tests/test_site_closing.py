"""Closing a site: nothing new at it (one rule in the flush), the logins of its people end or move,
its staff records end, its history stays in the reports of its periods, and it can be reopened
(its people are not reactivated). Pages through real HTTP; the close itself through the service
the site page calls."""

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.models import (
    AuditEvent,
    DailyTally,
    Item,
    Product,
    Site,
    SiteSpell,
    StaffMember,
    StaffSpell,
    StockMovement,
    User,
    Visit,
)
from portal.services import scope, stock, tally, visits
from portal.services import sites as site_life
from tests.checklist_helpers import system
from tests.refusals import refused

SH = ZoneInfo("Asia/Shanghai")
CLOSED = "This sales office is closed; no new records can be added."


def _site(s, code):
    return s.scalar(select(Site).where(Site.code == code))


def _close(app, code, move_to=None):
    with system(app) as s:
        site_life.close_site(_site(s, code), move_people_to=_site(s, move_to) if move_to else None)
        s.commit()


def _count(app, model, *where):
    with system(app) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _user(app, username):
    with system(app) as s:
        user = s.scalar(select(User).where(User.username == username))
        return user.active, [site.code for site in user.sites]


def _staff(app, code):
    """{name: active} of the staff records at the site."""
    with system(app) as s:
        rows = s.execute(
            select(StaffMember.name, StaffMember.active).where(
                StaffMember.site_id == _site(s, code).id
            )
        ).all()
        return dict(rows)


def test_nothing_new_at_a_closed_site(app, login, site_ids):
    with system(app) as s:
        site = _site(s, "SZ02")
        site.tally_time = time(0, 0)  # the tally is due at any hour the test runs
        water = Product(
            site_id=site.id, name="矿泉水", kind="drink", unit="瓶", reorder_level=5, active=True
        )
        s.add(water)
        s.commit()
        water_id = water.id
    _close(app, "SZ02")
    counts = [_count(app, m) for m in (Item, Visit, StaffMember, StockMovement, DailyTally)]
    admin = login("admin")
    item = {
        "site": str(site_ids["SZ02"]),
        "name": "沙发",
        "category": "furniture",
        "location": "大厅",
        "expected_quantity": "2",
        "condition": "ok",
        "active": "y",
    }
    resp = admin.post("/item/new/", item)
    assert resp.status_code == 409 and "该售楼处已关闭，不能新增记录" in resp.get_data(as_text=True)
    staff = {"site": str(site_ids["SZ02"]), "name": "新保洁", "kind": "cleaner", "active": "y"}
    resp = admin.post("/staff/new/", staff)
    assert resp.status_code == 409 and "该售楼处已关闭，不能新增记录" in resp.get_data(as_text=True)
    # Every other way in meets the same rule: a visit, a restock, the day's tally.
    with system(app) as s:
        site = _site(s, "SZ02")
        water = s.get(Product, water_id)
        for attempt in (
            lambda: visits.record_arrival(site, 2, 0),
            lambda: stock.restock(site, water, 10),
            lambda: tally.close_tally(site, clock.local_day(site), {water_id: "0"}),
        ):
            with refused(409, CLOSED):
                attempt()
                s.flush()
            s.rollback()
    assert [_count(app, m) for m in (Item, Visit, StaffMember, StockMovement, DailyTally)] == counts
    # The same item at an open site is fine.
    assert admin.post("/item/new/", {**item, "site": str(site_ids["SZ01"])}).status_code == 302
    # It is no longer offered as a site to work in.
    page = admin.get("/item-checks/").get_data(as_text=True)
    assert "深圳湾售楼处" in page and "前海售楼处" not in page


def test_closing_ends_the_logins_of_its_people_and_their_staff_records(app, login, client):
    clerk = login("clerk_sz02")
    assert clerk.get("/today/").status_code == 200
    _close(app, "SZ02")
    # Her only site: the login is deactivated and her open session ends at its next request.
    assert _user(app, "clerk_sz02") == (False, ["SZ02"])
    resp = clerk.get("/today/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.login("clerk_sz02").status_code != 302
    # Two sites: keeps the other one and can still log in.
    assert _user(app, "maint_south") == (True, ["SZ01"])
    assert login("maint_south").get("/repairs/").status_code in (200, 302)
    # Head office and the region's supervisor are untouched.
    assert _user(app, "sup_south")[0] and _user(app, "admin")[0]
    # Every staff record of the site ended; their spells closed; nothing deleted.
    assert _staff(app, "SZ02") == {
        "张丽娜": False,
        "吴师傅": False,
        "钱阿姨": False,
        "林晓东": False,
    }
    with system(app) as s:
        sz02 = _site(s, "SZ02").id
        assert (
            s.scalar(
                select(func.count()).where(StaffSpell.site_id == sz02, StaffSpell.left_at.is_(None))
            )
            == 0
        )
        (event,) = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "close", AuditEvent.site_id == sz02)
        ).all()
        assert event.after["logins_ended"] == ["clerk_sz02"]
        assert event.after["memberships_ended"] == ["maint_south"]
        assert sorted(event.after["staff_ended"]) == sorted(
            ["张丽娜", "吴师傅", "钱阿姨", "林晓东"]
        )
        assert s.scalar(
            select(func.count()).where(
                AuditEvent.object_type == "User",
                AuditEvent.action == "update",
                AuditEvent.object_id
                == s.scalar(select(User.id).where(User.username == "clerk_sz02")),
            )
        )


def test_closing_moves_its_people_to_another_site(app, login):
    _close(app, "SZ02", move_to="SZ01")
    assert _user(app, "clerk_sz02") == (True, ["SZ01"])
    assert _user(app, "maint_south") == (True, ["SZ01"])
    assert _staff(app, "SZ02") == {"吴师傅": False}  # he was on SZ01's roster already
    moved = _staff(app, "SZ01")
    assert moved["张丽娜"] and moved["钱阿姨"] and moved["林晓东"] and moved["吴师傅"]
    # She works at SZ01 now: her login and her break button.
    clerk = login("clerk_sz02")
    page = clerk.get("/breaks/").get_data(as_text=True)
    assert "您还没有员工档案" not in page and 'id="start-break"' in page
    with system(app) as s:
        staff = s.scalar(select(StaffMember).where(StaffMember.name == "张丽娜"))
        spells = s.execute(
            select(StaffSpell.site_id, StaffSpell.left_at)
            .where(StaffSpell.staff_member_id == staff.id)
            .order_by(StaffSpell.id)
        ).all()
        assert [(sid, left is None) for sid, left in spells] == [
            (_site(s, "SZ02").id, False),
            (_site(s, "SZ01").id, True),
        ]


def test_people_move_only_to_another_open_site_in_scope(app):
    _close(app, "SH02")
    with system(app) as s:
        sz02 = _site(s, "SZ02")
        for target in ("SZ02", "SH02"):
            with refused(400):
                site_life.close_site(sz02, move_people_to=_site(s, target))
            s.rollback()
        with refused(409):
            site_life.close_site(_site(s, "SH02"))
        s.rollback()
        # A supervisor of the south cannot send them to a site of the east: it does not exist
        # for him.
        sh01_id = _site(s, "SH01").id
        sup = s.scalar(select(User).where(User.username == "sup_south"))
        scope.activate(scope.scope_for_user(sup))
        try:
            with refused(404):
                site_life.close_site(_site(s, "SZ02"), move_people_to=sh01_id)
        finally:
            s.rollback()
            scope.deactivate()
    assert _site_status(app, "SZ02") == "open"


def _site_status(app, code):
    with system(app) as s:
        return _site(s, code).status


def _visitors(page, code):
    row = page.split(f'<tr data-site="{code}">')[1].split("</tr>")[0]
    return int(re.search(r'metric=visitors[^"]*" class="drill"[^>]*>(\d+)</a>', row).group(1))


def test_its_history_stays_in_the_reports_of_its_periods(app, login):
    with system(app) as s:
        site = _site(s, "SZ02")
        visits.record_arrival(site, 3, 1, at=datetime(2026, 10, 15, 10, tzinfo=SH))
        s.commit()
    _close(app, "SZ02")
    admin = login("admin")
    october = admin.get("/dashboard/?period=month&on=2026-10-15").get_data(as_text=True)
    assert '<tr data-site="SZ02">' in october and _visitors(october, "SZ02") == 4
    # Asked again (now from the stored month), the same.
    october = admin.get("/dashboard/?period=month&on=2026-10-15").get_data(as_text=True)
    assert _visitors(october, "SZ02") == 4
    assert _count(app, Visit) >= 1  # nothing deleted


def test_reopening_is_audited_and_does_not_bring_people_back(app, login, site_ids):
    _close(app, "SZ02")
    with system(app) as s:
        with refused(409):
            site_life.close_site(_site(s, "SZ02"))
        s.rollback()
        site_life.reopen_site(_site(s, "SZ02"))
        s.commit()
        sz02 = _site(s, "SZ02")
        assert sz02.status == "open"
        assert [
            last is None
            for (last,) in s.execute(
                select(SiteSpell.last_day)
                .where(SiteSpell.site_id == sz02.id)
                .order_by(SiteSpell.id)
            )
        ] == [False, True]
        actions = s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.site_id == sz02.id, AuditEvent.action.in_(["close", "reopen"]))
            .order_by(AuditEvent.id)
        ).all()
        assert actions == ["close", "reopen"]
        with refused(409):
            site_life.reopen_site(sz02)
        s.rollback()
    # Its people stay as the closing left them until head office gives them back.
    assert _user(app, "clerk_sz02") == (False, ["SZ02"])
    assert not any(_staff(app, "SZ02").values())
    admin = login("admin")
    item = {
        "site": str(site_ids["SZ02"]),
        "name": "沙发",
        "category": "furniture",
        "location": "大厅",
        "expected_quantity": "2",
        "condition": "ok",
        "active": "y",
    }
    assert admin.post("/item/new/", item).status_code == 302
    # Reactivating her login brings her staff record back (the same one, a new spell).
    with system(app) as s:
        user = s.scalar(select(User).where(User.username == "clerk_sz02"))
        user_id, version = user.id, user.version
    resp = admin.post(
        f"/user/edit/?id={user_id}",
        {
            "username": "clerk_sz02",
            "display_name": "张丽娜",
            "role": "clerk",
            "locale": "zh_Hans_CN",
            "active": "y",
            "sites": [str(site_ids["SZ02"])],
            "version": str(version),
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert _staff(app, "SZ02")["张丽娜"] is True
    assert login("clerk_sz02").get("/breaks/").status_code == 200


@pytest.mark.parametrize("code", ["SZ01"])
def test_a_closed_site_is_left_out_of_the_sites_to_work_in(app, code):
    _close(app, code)
    with system(app) as s:
        codes = s.scalars(select(Site.code).where(site_life.taking_records())).all()
    assert code not in codes


def test_head_office_closes_and_reopens_on_the_site_page(app, login, site_ids):
    admin = login("admin")
    sz02 = site_ids["SZ02"]
    resp = admin.post(
        f"/sites/{sz02}/close", {"move_people_to": str(site_ids["SZ01"]), "confirm_code": "SZ02"}
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert _site_status(app, "SZ02") == "closed"
    assert _user(app, "clerk_sz02") == (True, ["SZ01"])
    assert admin.post(f"/sites/{sz02}/reopen").status_code == 302
    assert _site_status(app, "SZ02") == "open"
    sh02 = site_ids["SH02"]
    assert admin.post(f"/sites/{sh02}/close", {"confirm_code": "sh02"}).status_code == 302
    assert _staff(app, "SH02") and not any(_staff(app, "SH02").values())
