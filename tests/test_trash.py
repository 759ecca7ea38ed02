"""The recycle bin (回收站): soft-deleted records are listed for head office and restored.

A record deleted through the normal pages disappears from its list, details and export; the
administrator finds it in the recycle bin (who deleted it, when) and restores it with one
confirmed POST; it is back everywhere, the audit trail has the restore and its hash chain
still verifies. Nobody else may open the page or restore, and a bad request changes nothing.
"""

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Item, RepairTicket, Site, User, Visit, utcnow
from portal.services import repairs, visits
from tests.conftest import browser_login, screenshot
from tests.querycount import count_queries


def _session(app):
    """Unscoped work in a fresh app context (never shared with the requests)."""
    from contextlib import contextmanager

    @contextmanager
    def ctx():
        with app.app_context():
            try:
                yield db.session
                db.session.commit()
            finally:
                db.session.remove()

    return ctx()


def _site(s, code):
    return s.scalar(select(Site).where(Site.code == code))


def _user(s, username):
    return s.scalar(select(User).where(User.username == username))


def _arrange_visit(s):
    return visits.record_arrival(_site(s, "SZ01"), 2, 1, notes="回收站测试来访").id


def _arrange_item(s):
    item = Item(
        site_id=_site(s, "SZ01").id, name="回收站测试物品", category="other", location="前台"
    )
    s.add(item)
    s.flush()
    return item.id


def _arrange_ticket(s):
    ticket = repairs.report(
        _site(s, "SZ01"), _user(s, "clerk_sz01"), "回收站测试落地灯", "灯不亮", "normal"
    )
    return ticket.id


# What is deleted, by whom and how, and where it must vanish from and come back to.
# (record type, arrange, deleter, delete URL or None, list URL, export URL or None, details URL,
# marker)
CASES = {
    "visit": (
        "Visit",
        _arrange_visit,
        "admin",
        "/visit/delete/",
        "/visit/",
        "/visit/export/csv/",
        "/visit/details/?id={id}",
        "回收站测试来访",
    ),
    "item": (
        "Item",
        _arrange_item,
        "sup_south",
        "/item/delete/",
        "/item/",
        "/item/export/csv/",
        "/item/details/?id={id}",
        "回收站测试物品",
    ),
    # Repair tickets have no delete button: a ticket is hidden by the service (soft delete) here.
    "ticket": (
        "RepairTicket",
        _arrange_ticket,
        "sup_south",
        None,
        "/repairs/?mine=0&status=all",
        None,
        "/repairs/{id}/",
        "回收站测试落地灯",
    ),
}
MODELS = {"Visit": Visit, "Item": Item, "RepairTicket": RepairTicket}


def _shows(client, url, record_id, marker):
    """The record is on the list page: its text, or (a visit list shows no text of ours) its
    details link."""
    body = client.get(url).get_data(as_text=True)
    return marker in body or f"details/?id={record_id}&" in body


def _deleted_state(app, key, record_id):
    model = MODELS[key]
    with _session(app) as s:
        row = s.execute(
            select(model).where(model.id == record_id).execution_options(include_deleted=True)
        ).scalar_one()
        return row.deleted_at, row.deleted_by_id


@pytest.mark.parametrize("case", sorted(CASES))
def test_deleted_record_is_restored_by_head_office(app, login, case):
    key, arrange, deleter, delete_url, list_url, export_url, details_url, marker = CASES[case]
    with _session(app) as s:
        record_id = arrange(s)
        deleter_id = _user(s, deleter).id
    details_url = details_url.format(id=record_id)
    person, admin = login(deleter), login("admin")
    assert _shows(person, list_url, record_id, marker)
    assert person.get(details_url).status_code == 200
    if export_url:
        assert marker in person.get(export_url).get_data(as_text=True)

    # 1. Deleted as the person whose job it is (the normal delete button; a ticket by its service).
    if delete_url:
        resp = person.post(delete_url, {"id": record_id, "url": list_url})
        assert resp.status_code == 302
    else:
        with _session(app) as s:
            row = s.get(MODELS[key], record_id)
            row.soft_delete()
            row.deleted_by_id = deleter_id
    deleted_at, deleted_by = _deleted_state(app, key, record_id)
    assert deleted_at is not None and deleted_by == deleter_id
    for client in (person, admin):
        assert not _shows(client, list_url, record_id, marker)
        assert client.get(details_url).status_code == 404
        if export_url:
            assert marker not in client.get(export_url).get_data(as_text=True)

    # 2. Head office finds it in the recycle bin: what it is, where, who deleted it.
    page = admin.get(f"/trash/?type={key}").get_data(as_text=True)
    row = re.search(rf'<tr data-record="{key}-{record_id}">(.*?)</tr>', page, re.S)
    assert row, "the deleted record is not in the recycle bin"
    with _session(app) as s:
        deleter_name = _user(s, deleter).display_name
    assert marker in row.group(1) and "SZ01" in row.group(1) and deleter_name in row.group(1)
    assert 'data-confirm="确认恢复' in row.group(1) and 'name="csrf_token"' in row.group(1)

    # 3. Restored: back in its list, details and export; the recycle bin no longer has it.
    resp = admin.post(
        "/trash/restore", {"type": key, "id": record_id, "next": f"/trash/?type={key}"}
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/trash/?type={key}")
    after = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已恢复" in after and marker in after
    assert f'data-record="{key}-{record_id}"' not in after
    assert _deleted_state(app, key, record_id) == (None, None)
    for client in (person, admin):
        assert _shows(client, list_url, record_id, marker)
        assert client.get(details_url).status_code == 200
        if export_url:
            assert marker in client.get(export_url).get_data(as_text=True)

    # 4. The audit trail has the delete and the restore, by whom; the hash chain still holds.
    with _session(app) as s:
        events = s.execute(
            select(AuditEvent.action, AuditEvent.user_id)
            .where(AuditEvent.object_type == key, AuditEvent.object_id == record_id)
            .order_by(AuditEvent.id)
        ).all()
        admin_id = _user(s, "admin").id
    assert events[-1] == ("restore", admin_id)
    if delete_url:
        assert ("delete", deleter_id) in events
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "audit chain OK" in result.output
    # The audit viewer names the action in words.
    assert "恢复" in admin.get(f"/audit/?flt0_record_type_equals={key}").get_data(as_text=True)


@pytest.mark.parametrize(
    "username", ["sup_south", "clerk_sz01", "guard_sz01", "sales_sz01", "maint_south"]
)
def test_only_head_office_may_open_or_restore(app, login, username):
    with _session(app) as s:
        visit = s.get(Visit, _arrange_visit(s))
        visit.soft_delete()
        visit_id = visit.id
    client = login(username)
    assert client.get("/trash/").status_code == 403
    assert client.post("/trash/restore", {"type": "Visit", "id": visit_id}).status_code == 403
    assert _deleted_state(app, "Visit", visit_id)[0] is not None
    # Not even linked from the menu.
    assert "/trash/" not in client.get("/account/").get_data(as_text=True)


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/trash/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_menu_has_the_recycle_bin_for_head_office(login):
    body = login("admin").get("/account/").get_data(as_text=True)
    assert 'href="/trash/"' in body and "回收站" in body


@pytest.mark.parametrize(
    "form, status, message",
    [
        ({"type": "Nonsense", "id": "{id}"}, 404, "没有这种记录类型"),
        ({"type": "", "id": "{id}"}, 404, "没有这种记录类型"),
        (
            {"type": "User", "id": "{id}"},
            404,
            "没有这种记录类型",
        ),  # a model, but not one that is soft-deleted
        ({"type": "Visit", "id": "abc"}, 404, "该记录不存在"),
        ({"type": "Visit", "id": "99999999"}, 404, "该记录不存在"),
        ({"type": "Visit", "id": str(2**70)}, 404, "该记录不存在"),
        ({"type": "Visit", "id": "{live}"}, 400, "这条记录没有被删除"),
    ],
)
def test_bad_restore_requests_change_nothing(app, login, form, status, message):
    with _session(app) as s:
        deleted = s.get(Visit, _arrange_visit(s))
        deleted.soft_delete()
        live = _arrange_visit(s)
        s.flush()
        deleted_id = deleted.id
    admin = login("admin")
    with _session(app) as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    data = {k: v.format(id=deleted_id, live=live) for k, v in form.items()}
    resp = admin.post("/trash/restore", data)
    assert resp.status_code == status
    assert message in resp.get_data(as_text=True)
    with _session(app) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert _deleted_state(app, "Visit", deleted_id)[0] is not None


def test_restore_needs_the_csrf_token(app, login):
    with _session(app) as s:
        visit = s.get(Visit, _arrange_visit(s))
        visit.soft_delete()
        visit_id = visit.id
    resp = login("admin").post("/trash/restore", {"type": "Visit", "id": visit_id}, csrf=False)
    assert resp.status_code == 400
    assert _deleted_state(app, "Visit", visit_id)[0] is not None


def _delete_many(app, n, code="SZ01", by="sup_south", minute=0):
    """n deleted items at one site, an hour ago from ``minute`` on, one minute apart (the last one
    deleted most recently)."""
    from datetime import timedelta

    ids = []
    with _session(app) as s:
        site, person = _site(s, code), _user(s, by)
        start = utcnow() - timedelta(hours=1) + timedelta(minutes=minute)
        for i in range(n):
            item = Item(site_id=site.id, name=f"{code} 删除物品 {i:02d}", category="other")
            s.add(item)
            s.flush()
            item.deleted_at, item.deleted_by_id = start + timedelta(minutes=i), person.id
            ids.append(item.id)
    return ids


def test_filters_newest_first_and_pages(app, login, monkeypatch):
    from portal.services import trash

    monkeypatch.setattr(trash, "PAGE_SIZE", 3)
    sz01 = _delete_many(app, 4, "SZ01")
    sh01 = _delete_many(app, 1, "SH01", by="admin", minute=10)
    with _session(app) as s:
        visit = s.get(Visit, _arrange_visit(s))
        visit.deleted_at = utcnow()  # deleted last of all
        sz01_id, visit_id = _site(s, "SZ01").id, visit.id
    admin = login("admin")

    def records(url):
        return re.findall(r'data-record="(\w+)-(\d+)"', admin.get(url).get_data(as_text=True))

    # All types and sites, newest deletion first, three a page.
    first = records("/trash/")
    assert first == [("Visit", str(visit_id)), ("Item", str(sh01[0])), ("Item", str(sz01[3]))]
    assert records("/trash/?page=1") == [("Item", str(i)) for i in reversed(sz01[:3])]
    assert records("/trash/?page=2") == []
    page = admin.get("/trash/").get_data(as_text=True)
    assert "较早的删除" in page and "较新的删除" not in page
    assert "物品清单 (5)" in page and "来访记录 (1)" in page and "全部类型 (6)" in page
    # One type, one site.
    assert records(f"/trash/?type=Item&site={sz01_id}") == [
        ("Item", str(i)) for i in reversed(sz01[1:])
    ]
    assert records(f"/trash/?type=Visit&site={sz01_id}") == [("Visit", str(visit_id))]
    # Filters that make no sense show the unfiltered first page, never an error.
    assert records("/trash/?type=Bogus&site=x&page=-1") == first
    empty = admin.get(f"/trash/?type=Shift&site={sz01_id}").get_data(as_text=True)
    assert "没有符合筛选条件的已删除记录" in empty


def test_the_page_costs_a_fixed_number_of_queries(app, login):
    _delete_many(app, 20, "SZ01")
    _delete_many(app, 5, "SH01", by="admin")
    with _session(app) as s:
        for _ in range(5):
            s.get(Visit, _arrange_visit(s)).soft_delete()
    admin = login("admin")
    with count_queries(app) as q:
        assert admin.get("/trash/").status_code == 200
    assert q.count <= 30, q.statements
    with count_queries(app) as q:
        assert admin.get("/trash/?type=Item").status_code == 200
    assert q.count <= 20, q.statements


# ------------------------------------------------------------------ in a real browser


def test_recycle_bin_in_the_browser(app, live_server, page):
    from datetime import timedelta

    from portal.models import Product, Shift, StaffMember

    with _session(app) as s:
        sz01, sh01 = _site(s, "SZ01"), _site(s, "SH01")
        sup, clerk, admin = _user(s, "sup_south"), _user(s, "clerk_sz01"), _user(s, "admin")
        now = utcnow()
        visit = visits.record_arrival(sz01, 3, 1, notes="误录的来访")
        item = Item(site_id=sz01.id, name="沙盘区落地灯", category="lamp", location="沙盘区东侧")
        product = Product(site_id=sh01.id, name="柠檬茶", kind="drink", unit="瓶")
        staff = s.scalar(
            select(StaffMember).where(StaffMember.site_id == sz01.id).order_by(StaffMember.id)
        )
        shift = Shift(
            site_id=sz01.id,
            post="reception",
            staff_member=staff,
            starts_at=now + timedelta(days=2),
            ends_at=now + timedelta(days=2, hours=9),
        )
        s.add_all([item, product, shift])
        s.flush()
        for n, (row, person) in enumerate(
            [(shift, sup), (product, admin), (item, sup), (visit, clerk)]
        ):
            row.deleted_at, row.deleted_by_id = now - timedelta(minutes=40 - 10 * n), person.id
        item_id = item.id

    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/trash/")
    assert page.title().startswith("回收站")
    assert page.locator("tr[data-record]").count() == 4
    screenshot(page, "trash-01-recycle-bin")
    # The menu leads there, under 组织.
    assert page.locator('a.dropdown-item[href="/trash/"]').count() == 1

    # Restoring asks first; "cancel" changes nothing.
    dialogs = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.click(f'tr[data-record="Item-{item_id}"] button[type=submit]')
    assert dialogs and "沙盘区落地灯" in dialogs[0]
    assert _deleted_state(app, "Item", item_id)[0] is not None

    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.click(f'tr[data-record="Item-{item_id}"] button[type=submit]')
    assert "已恢复" in page.inner_text(".alert-success")
    assert page.locator("tr[data-record]").count() == 3
    screenshot(page, "trash-02-restored")
    assert _deleted_state(app, "Item", item_id) == (None, None)
    # The message links to the record, back in its list.
    with page.expect_navigation():
        page.click(".alert-success a")
    assert "沙盘区落地灯" in page.content() and "/item/details/" in page.url

    # On a phone each record is a card with its restore button across the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/trash/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("tr[data-record] button[type=submit]").first.bounding_box()
    assert box["height"] >= 44 and box["width"] > 300
    screenshot(page, "trash-03-phone")
