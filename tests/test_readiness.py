"""Readiness of a new site through real HTTP: what is missing, with links that work; the
open / close / reopen buttons; a clerk of an empty site reads a plain message instead of an
empty check that would claim "all normal"."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal import clock
from portal.models import (
    ChecklistTemplate,
    CleaningArea,
    Item,
    ItemCheck,
    Product,
    Region,
    Shift,
    Site,
    SiteSpell,
    StaffMember,
    User,
)
from portal.services.auth import new_session_token

ALL_GAPS = {
    "items",
    "products",
    "staff",
    "roster",
    "clerk_login",
    "sales_login",
    "maintenance",
    "cleaning_areas",
}


def _new_site(dbs, code="SZ09", region="SOUTH", status="setup"):
    region = dbs.scalar(select(Region).where(Region.code == region))
    site = Site(code=code, name=f"{code} 新售楼处", region=region, status=status)
    dbs.add(site)
    dbs.commit()
    return site.id


def _user(dbs, username, role, site_id):
    user = User(
        username=username,
        display_name=username,
        role=role,
        active=True,
        session_token=new_session_token(),
        sites=[dbs.get(Site, site_id)],
    )
    user.set_password("demo12345")
    dbs.add(user)
    dbs.commit()
    return user


def _gaps(page):
    return set(re.findall(r'data-gap="(\w+)"', page))


def _has_global_opening(dbs):
    return bool(
        dbs.scalar(
            select(func.count(ChecklistTemplate.id)).where(
                ChecklistTemplate.kind == "opening",
                ChecklistTemplate.site_id.is_(None),
                ChecklistTemplate.active.is_(True),
                ChecklistTemplate.deleted_at.is_(None),
            )
        )
    )


def test_a_new_site_lists_every_missing_thing_with_working_links(login, dbs):
    sid = _new_site(dbs)
    # A new site gets the default cleaning areas; switched off, they are missing too.
    for area in dbs.scalars(select(CleaningArea).where(CleaningArea.site_id == sid)):
        area.active = False
    dbs.commit()
    admin = login("admin")
    resp = admin.get(f"/sites/{sid}/")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "筹备中" in page and "开业前还缺少" in page
    expected = ALL_GAPS | (set() if _has_global_opening(dbs) else {"opening_checklist"})
    assert _gaps(page) == expected
    assert "没有登记物品" in page and "没有能登录的置业顾问" in page
    assert "没有负责本售楼处的维修人员" in page
    # Every fixing link opens its page, filtered to the site where the page has a site filter.
    links = [
        h.replace("&amp;", "&")
        for h in re.findall(r'class="btn[^"]*fix-link" href="([^"]+)"', page)
    ]
    assert links and f"/item/?flt0_site_equals={sid}" in links
    for url in links:
        assert admin.get(url).status_code == 200, url
    # The Sites list leads here from the status column.
    listing = admin.get("/site/").get_data(as_text=True)
    assert f'href="/sites/{sid}/" class="site-page-link"' in listing
    assert admin.get("/sites/").status_code == 200


def test_filling_the_gaps_removes_them(login, dbs):
    sid = _new_site(dbs)
    now = clock.now()
    dbs.add(Item(site_id=sid, name="前台椅子", category="furniture", expected_quantity=4))
    dbs.add(Product(site_id=sid, name="矿泉水", kind="drink", unit="瓶"))
    person = StaffMember(site_id=sid, name="新客服", kind="clerk")
    dbs.add(person)
    dbs.add(CleaningArea(site_id=sid, name="前台"))
    dbs.add(ChecklistTemplate(site_id=sid, name="开店检查", kind="opening"))
    dbs.commit()
    page = login("admin").get(f"/sites/{sid}/").get_data(as_text=True)
    assert _gaps(page) == {"roster", "clerk_login", "sales_login", "maintenance"}
    dbs.add(
        Shift(
            site_id=sid,
            post="reception",
            staff_member_id=person.id,
            starts_at=now + timedelta(days=1),
            ends_at=now + timedelta(days=1, hours=8),
        )
    )
    dbs.commit()
    for role in ("clerk", "sales", "maintenance"):
        _user(dbs, f"{role}_sz09", role, sid)
    page = login("admin").get(f"/sites/{sid}/").get_data(as_text=True)
    assert _gaps(page) == set()
    assert 'id="ready"' in page


def test_scope_and_roles(login, dbs):
    sid = _new_site(dbs)
    assert login("sup_east").get(f"/sites/{sid}/").status_code == 404
    assert login("sup_east").post(f"/sites/{sid}/open", {"despite": "1"}).status_code == 404
    assert login("sup_south").get(f"/sites/{sid}/").status_code == 200
    assert login("clerk_sz01").get(f"/sites/{sid}/").status_code == 403
    assert login("admin").get("/sites/999999/").status_code == 404


def test_open_an_unready_site_needs_a_second_confirmation_then_close_and_reopen(login, dbs):
    sid = _new_site(dbs)
    page = login("sup_south").get(f"/sites/{sid}/").get_data(as_text=True)
    assert 'id="open-site"' not in page  # the region's supervisor reads, head office opens
    assert login("sup_south").post(f"/sites/{sid}/open", {"despite": "1"}).status_code == 403
    sup = login("admin")
    page = sup.get(f"/sites/{sid}/").get_data(as_text=True)
    assert 'id="open-site"' in page and 'name="despite"' in page and "data-confirm" in page
    resp = sup.post(f"/sites/{sid}/open", {})
    assert resp.status_code == 400 and "如仍要开业，请勾选确认框" in resp.get_data(as_text=True)
    dbs.expire_all()
    assert dbs.get(Site, sid).status == "setup"
    assert not dbs.scalars(select(SiteSpell).where(SiteSpell.site_id == sid)).all()
    resp = sup.post(f"/sites/{sid}/open", {"despite": "1"})
    assert resp.status_code == 302
    dbs.expire_all()
    site = dbs.get(Site, sid)
    assert site.status == "open" and site.opened_on == clock.local_day(site)
    page = login("sup_south").get(f"/sites/{sid}/").get_data(as_text=True)
    assert "营业中" in page and 'id="close-site"' not in page  # a supervisor does not close
    assert login("sup_south").post(f"/sites/{sid}/close", {}).status_code == 403
    admin = login("admin")
    page = admin.get(f"/sites/{sid}/").get_data(as_text=True)
    assert "关闭售楼处" in page
    # A site to move the people to must be an open site of the scope.
    code = dbs.get(Site, sid).code
    assert (
        admin.post(
            f"/sites/{sid}/close", {"move_people_to": "abc", "confirm_code": code}
        ).status_code
        == 400
    )
    # Closing ends logins: without the site's code typed again, nothing happens.
    assert admin.post(f"/sites/{sid}/close", {}).status_code == 400
    assert admin.post(f"/sites/{sid}/close", {"confirm_code": "XX99"}).status_code == 400
    dbs.expire_all()
    assert dbs.get(Site, sid).status == "open"
    assert admin.post(f"/sites/{sid}/close", {"confirm_code": code}).status_code == 302
    dbs.expire_all()
    assert dbs.get(Site, sid).status == "closed"
    page = admin.get(f"/sites/{sid}/").get_data(as_text=True)
    assert "重新开业" in page and "已关闭" in page
    assert admin.post(f"/sites/{sid}/reopen", {}).status_code == 302
    dbs.expire_all()
    assert dbs.get(Site, sid).status == "open"
    # Opening an open site is refused with the reason, nothing changes.
    assert admin.post(f"/sites/{sid}/open", {"despite": "1"}).status_code == 400


def test_clerk_of_an_empty_site_reads_a_plain_message(login, dbs):
    sid = _new_site(dbs, status="open")
    _user(dbs, "clerk_sz09", "clerk", sid)
    clerk = login("clerk_sz09")
    today = clerk.get("/today/").get_data(as_text=True)
    assert "本售楼处还没有登记物品" in today and "请联系客服中心完成开业准备" in today
    assert "全部物品数量、状态正常" not in today
    items_page = clerk.get("/item-checks/").get_data(as_text=True)
    assert "本售楼处还没有登记物品" in items_page
    resp = clerk.post("/item-checks/start", {"site_id": sid, "kind": "opening"})
    assert resp.status_code == 400 and "本售楼处还没有登记物品" in resp.get_data(as_text=True)
    assert dbs.scalar(select(func.count(ItemCheck.id)).where(ItemCheck.site_id == sid)) == 0
    # An empty check left from before cannot be completed either.
    check = ItemCheck(
        site_id=sid, kind="opening", day=clock.local_day(dbs.get(Site, sid)), status="open"
    )
    dbs.add(check)
    dbs.commit()
    page = clerk.get(f"/item-checks/{check.id}").get_data(as_text=True)
    assert "本售楼处还没有登记物品" in page and 'id="complete-button"' not in page
    resp = clerk.post(f"/item-checks/{check.id}", {"action": "complete"})
    assert resp.status_code == 400
    dbs.expire_all()
    assert dbs.get(ItemCheck, check.id).status == "open"
    # No products: the tally says so instead of offering to close an empty count.
    tally = clerk.get("/tally/").get_data(as_text=True)
    assert "本售楼处还没有登记商品" in tally and 'id="tally-form"' not in tally


def test_a_site_in_setup_tells_its_people_on_today(login, dbs):
    sid = _new_site(dbs)
    _user(dbs, "clerk_sz09", "clerk", sid)
    page = login("clerk_sz09").get("/today/").get_data(as_text=True)
    assert "本售楼处仍在开业准备中" in page and "没有登记物品" in page
    assert "开业准备与开业" not in page  # the clerk has no site page to go to
