"""A new site from a template (issue 19, point 1): the form, the preview that writes nothing, the
one confirmed POST that copies the set-up (never the records), and the scope around it:
head office copies anything into any region, a supervisor only within his region(s)."""

import html
import re
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select

from portal import clock
from portal.extensions import db
from portal.models import (
    AuditEvent,
    DayChange,
    ChecklistItem,
    ChecklistTemplate,
    CleaningArea,
    Item,
    Product,
    Region,
    ShowUnit,
    Site,
    StockBalance,
    StockMovement,
    User,
    user_site,
)
from portal.services import scope
from portal.services import site_copy
from tests.conftest import without_random_values

# The rows a copy creates; every other table must hold nothing of the new site.
SET_UP_MODELS = (
    Item,
    Product,
    StockBalance,
    StockMovement,
    ChecklistTemplate,
    ChecklistItem,
    ShowUnit,
    CleaningArea,
)


@contextmanager
def system(app):
    """The unscoped session in its own app context (never shared with a test-client request)."""
    with app.app_context():
        yield db.session
        db.session.remove()


def totals(app):
    """Row counts of every table a copy could write (and the audit trail)."""
    with system(app) as s:
        models = (Site, *SET_UP_MODELS, AuditEvent)
        return {
            m.__name__: s.scalar(
                select(func.count()).select_from(m).execution_options(include_deleted=True)
            )
            for m in models
        }


def region_id(app, code):
    with system(app) as s:
        return s.scalar(select(Region.id).where(Region.code == code))


def form(site_ids, app, source="SZ01", **changes):
    values = {
        "source": str(site_ids[source]) if source else "",
        "code": "SZ03",
        "name": "南山新售楼处",
        "region": str(region_id(app, "SOUTH")),
        "address": "深圳市南山区科苑路 8 号",
        "timezone": "Asia/Shanghai",
        "tally_time": "18:00",
        "opens_on": (clock.local_day(clock.DEFAULT_ZONE) + timedelta(days=7)).isoformat(),
    }
    values.update(changes)
    return values


def confirm_fields(page):
    """The hidden and number fields of the preview's confirm form, as a browser posts them."""
    body = page.split('id="confirm-form"', 1)[1].split("</form>", 1)[0]
    fields = {}
    for tag in re.findall(r"<input[^>]*>", body):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) != "csrf_token":
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


def preview_and_confirm(client, values, **openings):
    resp = client.post("/site-setup/preview", data=values)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    fields = confirm_fields(resp.get_data(as_text=True))
    fields.update(openings)
    return client.post("/site-setup/create", data=fields)


def new_site(s, code="SZ03"):
    return s.scalar(select(Site).where(Site.code == code))


# ---------------------------------------------------------------- head office


def test_preview_lists_what_will_be_created_and_writes_nothing(app, login, full_demo):
    admin = login("admin")
    before = totals(app)
    resp = admin.post("/site-setup/preview", data=form(full_demo, app))
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    with system(app) as s:
        sz01 = full_demo["SZ01"]
        items = s.scalars(select(Item).where(Item.site_id == sz01, Item.active)).all()
        products = s.scalars(select(Product).where(Product.site_id == sz01, Product.active)).all()
        templates = s.scalars(
            select(ChecklistTemplate).where(ChecklistTemplate.site_id == sz01)
        ).all()
        units = s.scalars(select(ShowUnit).where(ShowUnit.site_id == sz01)).all()
        assert items and products and templates and units
        assert f"{len(items)} 件物品" in page
        assert f"{len(products)} 种商品及期初库存" in page
        for thing in (*items, *products, *templates, *units):
            assert html.escape(thing.name) in page
        # Asset tags carry the new code, never the source's.
        tagged = [i for i in items if i.asset_tag]
        assert tagged and all(f"SZ03{i.asset_tag[4:]}" in page for i in tagged)
        # Opening stock: twice the reorder level by default, explained on the page.
        for p in products:
            assert re.search(rf'name="opening_{p.id}"[^>]*value="{2 * p.reorder_level}"', page)
    assert "再订货水平" in page or "补货线" in page
    assert "排班模式" in page and "接待" in page
    assert totals(app) == before


def test_confirm_creates_exactly_the_preview_and_no_records(app, login, full_demo):
    admin = login("admin")
    before = totals(app)
    with system(app) as s:
        products = s.scalars(
            select(Product).where(Product.site_id == full_demo["SZ01"], Product.active)
        ).all()
        first = products[0]
        first_name, first_id = first.name, first.id
    resp = preview_and_confirm(admin, form(full_demo, app), **{f"opening_{first_id}": "7"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with system(app) as s:
        site = new_site(s)
        assert resp.headers["Location"].endswith(f"/site/details/?id={site.id}")
        assert site.status == "setup" and site.name == "南山新售楼处"
        assert site.tally_time.strftime("%H:%M") == "18:00" and site.timezone == "Asia/Shanghai"
        assert site.opened_on == clock.local_day(clock.DEFAULT_ZONE) + timedelta(days=7)
        src = s.get(Site, full_demo["SZ01"])

        def rows(model, site_id, *where):
            return s.scalars(select(model).where(model.site_id == site_id, *where)).all()

        def same(attrs, model, *where):
            a = Counter(tuple(getattr(r, k) for k in attrs) for r in rows(model, src.id, *where))
            b = Counter(tuple(getattr(r, k) for k in attrs) for r in rows(model, site.id, *where))
            assert a == b, model.__name__

        same(("name", "category", "location", "expected_quantity"), Item, Item.active)
        same(("name", "kind", "unit", "reorder_level"), Product, Product.active)
        same(("name", "location"), ShowUnit)
        same(("name", "kind", "description"), ChecklistTemplate)
        assert {i.asset_tag[:5] for i in rows(Item, site.id) if i.asset_tag} == {"SZ03-"}
        copied = {t.name: [i.label for i in t.items] for t in rows(ChecklistTemplate, site.id)}
        source_templates = {
            t.name: [i.label for i in t.items if i.active] for t in rows(ChecklistTemplate, src.id)
        }
        assert copied == source_templates
        areas = lambda sid: [  # noqa: E731
            a.name
            for a in s.scalars(
                select(CleaningArea)
                .where(CleaningArea.site_id == sid, CleaningArea.active)
                .order_by(CleaningArea.position)
            )
        ]
        assert areas(site.id) == areas(src.id)
        # Opening stock: the form's quantity, else twice the reorder level, as one restock each.
        balances = {p.name: p.balance.qty for p in rows(Product, site.id)}
        expected = {
            p.name: (7 if p.name == first_name else 2 * p.reorder_level)
            for p in rows(Product, src.id, Product.active)
        }
        assert balances == expected
        moves = rows(StockMovement, site.id)
        assert {m.kind for m in moves} == {"restock"}
        assert len(moves) == sum(1 for q in expected.values() if q > 0)

        # No records: every table outside the set-up (and the trail of the copy itself: its
        # audit rows, the days it changed) holds nothing of the new site.
        for model in scope.scoped_models():
            if (
                model in (*SET_UP_MODELS, AuditEvent, DayChange)
                or "site_id" not in inspect(model).columns
            ):
                continue
            n = s.scalar(
                select(func.count())
                .select_from(model)
                .where(model.site_id == site.id)
                .execution_options(include_deleted=True)
            )
            assert n == 0, f"{model.__name__} has {n} rows of the new site"
        assert s.scalar(select(func.count()).where(user_site.c.site_id == site.id)) == 0

        # Exactly the rows the preview listed (the areas: the standard ones every site gets,
        # plus those of the source the standard ones lack).
        after = totals(app)
        n_items, n_products = len(rows(Item, site.id)), len(rows(Product, site.id))
        assert after["Site"] == before["Site"] + 1
        assert after["Item"] - before["Item"] == n_items == len(rows(Item, src.id, Item.active))
        assert after["Product"] - before["Product"] == n_products
        assert after["StockMovement"] - before["StockMovement"] == len(moves)
        assert after["ChecklistTemplate"] - before["ChecklistTemplate"] == len(copied)
        assert after["ShowUnit"] - before["ShowUnit"] == len(rows(ShowUnit, src.id))

        # Audited: the automatic trail has the rows, one event names the source and the pattern.
        event = site_copy.copy_event(site)
        assert event.after["copied_from"]["code"] == "SZ01"
        assert event.after["created"]["items"] == n_items
        assert event.after["roster_pattern"], "SZ01 has shifts: the pattern is kept"
        assert event.user_id == s.scalar(select(User.id).where(User.username == "admin"))
        audited_items = s.scalar(
            select(func.count()).where(
                AuditEvent.site_id == site.id,
                AuditEvent.object_type == "Item",
                AuditEvent.action == "create",
            )
        )
        assert audited_items == n_items
    # The flash, the details page and the roster pattern page.
    details = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "SZ03" in details and "筹备中" in details or "SZ03" in details
    pattern = admin.get(f"/site-setup/{site.id}/roster")
    assert pattern.status_code == 200 and "接待" in pattern.get_data(as_text=True)


def test_duplicate_code_is_refused_next_to_the_field_and_nothing_written(app, login, full_demo):
    admin = login("admin")
    before = totals(app)
    resp = admin.post("/site-setup/preview", data=form(full_demo, app, code="sz02"))
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert 'id="code-error"' in page and "SZ02 已被其他售楼处使用" in page
    # The confirm step checks again (a code taken between preview and confirm).
    good = admin.post("/site-setup/preview", data=form(full_demo, app))
    fields = confirm_fields(good.get_data(as_text=True))
    with system(app) as s:
        s.add(Site(code="SZ03", name="别人先建的", region_id=region_id(app, "SOUTH")))
        s.commit()
    before = totals(app)
    resp = admin.post("/site-setup/create", data=fields)
    assert resp.status_code == 400
    assert "SZ03 已被其他售楼处使用" in resp.get_data(as_text=True)
    assert totals(app) == before


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", "请输入新售楼处的名称"),
        ({"timezone": "Mars/Olympus"}, "timezone", "未知的时区"),
        ({"tally_time": "25:99"}, "tally_time", "17:50"),
        ({"opens_on": "2001-01-01"}, "opens_on", "不能在过去"),
        ({"code": "SZ 03!"}, "code", "售楼处代码"),
        ({"source": None}, "source", "请选择"),
    ],
)
def test_bad_input_gets_a_message_next_to_its_field(app, login, full_demo, changes, field, message):
    admin = login("admin")
    before = totals(app)
    source = changes.pop("source", "SZ01")
    resp = admin.post("/site-setup/preview", data=form(full_demo, app, source, **changes))
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    error = page.split(f'id="{field}-error"', 1)[1].split("</div>", 1)[0]
    assert message in error
    resp = admin.post("/site-setup/create", data=form(full_demo, app, source, **changes))
    assert resp.status_code == 400
    assert totals(app) == before


def test_a_bad_opening_stock_is_refused_on_the_preview(app, login, full_demo):
    admin = login("admin")
    preview = admin.post("/site-setup/preview", data=form(full_demo, app))
    fields = confirm_fields(preview.get_data(as_text=True))
    key = next(k for k in fields if k.startswith("opening_"))
    before = totals(app)
    resp = admin.post("/site-setup/create", data={**fields, key: "-3"})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert 'id="confirm-form"' in page and "is-invalid" in page
    assert totals(app) == before


def test_a_source_changed_after_the_preview_asks_for_a_new_preview(app, login, full_demo):
    admin = login("admin")
    preview = admin.post("/site-setup/preview", data=form(full_demo, app))
    fields = confirm_fields(preview.get_data(as_text=True))
    with system(app) as s:
        s.add(Item(site_id=full_demo["SZ01"], name="新到的落地灯", category="lamp"))
        s.commit()
    before = totals(app)
    resp = admin.post("/site-setup/create", data=fields)
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    assert "新到的落地灯" in page and "预览之后" in page
    assert totals(app) == before
    # Confirming the new preview works.
    assert admin.post("/site-setup/create", data=confirm_fields(page)).status_code == 302


def test_a_source_without_set_up_copies_into_an_empty_site(app, login, site_ids):
    """The bare demo organisation: no items, products or shifts — still a valid copy."""
    admin = login("admin")
    resp = preview_and_confirm(admin, form(site_ids, app, source="SH02", code="tpl-1"))
    assert resp.status_code == 302
    with system(app) as s:
        site = new_site(s, "TPL-1")
        assert site.status == "setup"
        assert site_copy.copy_event(site).after["roster_pattern"] == []


# ---------------------------------------------------------------- scope and roles


def test_a_supervisor_cannot_copy_a_site_of_another_region(app, login, full_demo):
    sup = login("sup_south")
    before = totals(app)
    values = form(full_demo, app, source="SH01")
    assert sup.post("/site-setup/preview", data=values).status_code == 404
    assert sup.post("/site-setup/create", data=values).status_code == 404
    assert sup.get(f"/site-setup/new?source={full_demo['SH01']}").status_code == 404
    assert totals(app) == before


def test_a_supervisor_cannot_create_into_another_region(app, login, full_demo):
    sup = login("sup_south")
    before = totals(app)
    values = form(full_demo, app, region=str(region_id(app, "EAST")))
    assert sup.post("/site-setup/preview", data=values).status_code == 404
    assert sup.post("/site-setup/create", data=values).status_code == 404
    page = without_random_values(sup.get("/site-setup/new").get_data(as_text=True))
    assert "华南区" in page and "华东区" not in page and "SH01" not in page
    assert totals(app) == before


def test_a_supervisor_creates_a_site_in_his_region(app, login, full_demo):
    sup = login("sup_south")
    resp = preview_and_confirm(sup, form(full_demo, app, code="SZ05"))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with system(app) as s:
        site = new_site(s, "SZ05")
        assert site.status == "setup" and site.region.code == "SOUTH"
        n_items = s.scalar(select(func.count()).where(Item.site_id == site.id))
        assert n_items and n_items == s.scalar(
            select(func.count()).where(Item.site_id == full_demo["SZ01"], Item.active)
        )
    # He sees it from the next request on; the other region's supervisor does not.
    assert sup.get(resp.headers["Location"]).status_code == 200
    assert sup.get(f"/site-setup/{site.id}/roster").status_code == 200
    east = login("sup_east")
    assert east.get(f"/site/details/?id={site.id}").status_code in (302, 404)
    assert east.get(f"/site-setup/{site.id}/roster").status_code == 404


@pytest.mark.parametrize("user", ["clerk_sz01", "guard_sz01", "sales_sz01", "maint_south"])
def test_other_roles_may_not_copy(app, login, full_demo, user):
    c = login(user)
    before = totals(app)
    assert c.get("/site-setup/new").status_code == 403
    assert c.post("/site-setup/preview", data=form(full_demo, app)).status_code == 403
    assert c.post("/site-setup/create", data=form(full_demo, app)).status_code == 403
    assert totals(app) == before


def test_the_sites_list_leads_to_the_copy(app, login, site_ids):
    for user in ("admin", "sup_south"):
        page = login(user).get("/site/").get_data(as_text=True)
        assert 'href="/site-setup/new"' in page
    assert 'href="/site-setup/new"' in login("admin").get("/site/new/").get_data(as_text=True)
    assert 'href="/site-setup/new"' not in login("clerk_sz01").get("/site/").get_data(as_text=True)


# ---------------------------------------------------------------- the scope rule itself


@contextmanager
def as_user(app, username):
    """An app context whose session has ``username``'s scope, as in his request."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        scope.activate(scope.scope_for_user(user))
        try:
            yield db.session
        finally:
            db.session.rollback()
            scope.deactivate()
            db.session.remove()


def test_the_supervisor_rule_widens_to_his_new_site_only(app, site_ids):
    south, east = region_id(app, "SOUTH"), region_id(app, "EAST")
    # A site in another region: refused.
    with as_user(app, "sup_south") as s:
        s.add(Site(code="SH09", name="别区新店", region_id=east, status="setup"))
        with pytest.raises(scope.ScopeViolation):
            s.flush()
    # An existing site of his own region stays head office's to change, and cannot be widened to.
    with as_user(app, "sup_south") as s:
        sz01 = s.get(Site, site_ids["SZ01"])
        with pytest.raises(scope.ScopeViolation):
            scope.widen_to(sz01)
        sz01.name = "改名"
        with pytest.raises(scope.ScopeViolation):
            s.flush()
    # His new site: created, widened to; its rows may be written, another region's still not.
    with as_user(app, "sup_south") as s:
        site = Site(code="SZ09", name="新店", region_id=south, status="setup")
        s.add(site)
        s.flush()
        with pytest.raises(scope.ScopeViolation):  # not before widening
            s.add(Item(site_id=site.id, name="沙发"))
            s.flush()
    with as_user(app, "sup_south") as s:
        site = Site(code="SZ09", name="新店", region_id=south, status="setup")
        s.add(site)
        s.flush()
        scope.widen_to(site)
        assert scope.current_scope().allows(site.id)
        assert not scope.current_scope().allows(site_ids["SH01"])
        s.add(Item(site_id=site.id, name="沙发"))
        s.flush()
        s.add(Item(site_id=site_ids["SH01"], name="沙发"))
        with pytest.raises(scope.ScopeViolation):
            s.flush()
    with as_user(app, "sup_south") as s:
        site = Site(code="SZ09", name="新店", region_id=south, status="setup")
        s.add(site)
        s.flush()
        scope.widen_to(site)
        site.region_id = east  # moving it out afterwards: an organisation row, refused
        with pytest.raises(scope.ScopeViolation):
            s.flush()
    # A clerk has no region: no site may be created.
    with as_user(app, "clerk_sz01") as s:
        s.add(Site(code="SZ08", name="新店", region_id=south, status="setup"))
        with pytest.raises(scope.ScopeViolation):
            s.flush()
    # Nothing of it was kept.
    with system(app) as s:
        assert s.scalar(select(func.count()).where(Site.code.in_(["SZ08", "SZ09", "SH09"]))) == 0


# ---------------------------------------------------------------- in the browser


def test_admin_copies_sz01_in_the_browser(page, live_server, app, full_demo):
    """From the Sites list to the new site's details: the taps it takes, and screenshots of the
    form and the preview (artifacts/screenshots/site_copy_*.png)."""
    from tests.conftest import browser_login, screenshot

    page.set_viewport_size({"width": 1024, "height": 900})
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/site/")
    taps = 0
    page.click("#new-site-from-template")
    taps += 1
    page.select_option("#source", label="SZ01 深圳湾售楼处")
    page.fill("#code", "SZ03")
    page.fill("#name", "南山新售楼处")
    page.select_option("#region", label="华南区")
    taps += 4  # source, code, name, region; zone, tally time and opening day keep their defaults
    screenshot(page, "site_copy_form")
    with page.expect_navigation():
        page.click("#preview-button")
    taps += 1
    assert "预览：新售楼处 SZ03 南山新售楼处" in page.content()
    screenshot(page, "site_copy_preview")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "site_copy_preview_phone")
    with page.expect_navigation():
        page.click("#confirm-button")
    taps += 1
    assert "已从 SZ01 复制创建售楼处 SZ03" in page.content()
    assert "/site/details/" in page.url
    screenshot(page, "site_copy_created")
    assert taps <= 7
    with system(app) as s:
        site_id = new_site(s).id
    page.goto(f"{live_server}/site-setup/{site_id}/roster")
    assert "SZ03 南山新售楼处 的排班模式" in page.content()
    screenshot(page, "site_copy_roster_pattern")
