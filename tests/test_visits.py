"""Visits: one-tap arrival and departure, who sees what, and the visit records."""

from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Product, Site, StaffMember, Visit
from portal.services import stock, visits
from tests.querycount import count_queries
from tests.refusals import refused


@contextmanager
def arranged(app):
    with app.app_context():
        try:
            yield db.session
            db.session.commit()
        finally:
            db.session.remove()


def _version(app, visit_id):
    """The version an edit form opened now would carry (optimistic locking)."""
    with arranged(app) as s:
        return s.get(Visit, visit_id).version


def site_of(code):
    return db.session.scalar(select(Site).where(Site.code == code))


def staff(name):
    return db.session.scalar(select(StaffMember).where(StaffMember.name == name))


# ---------------------------------------------------------------- services


def test_arrival_and_departure(dbs):
    site = site_of("SZ01")
    visit = visits.record_arrival(site, 2, 1, salesperson=staff("黄俊杰"))
    assert visit.is_open and visit.headcount == 3
    assert [v.id for v in visits.open_visits(site)] == [visit.id]
    visits.record_departure(visit, "parking")
    assert visit.departure_direction == "parking" and visit.left_at >= visit.arrived_at
    assert visits.open_visits(site) == []
    with refused():
        visits.record_departure(visit)


@pytest.mark.parametrize("adults, children", [(0, 0), (-1, 2), ("x", 0), (1, 99), (None, None)])
def test_bad_head_counts_are_refused(dbs, adults, children):
    with refused():
        visits.record_arrival(site_of("SZ01"), adults, children)


def test_a_salesperson_of_another_site_or_a_bad_direction_is_refused(dbs):
    with refused():
        visits.record_arrival(site_of("SZ01"), 1, 0, salesperson=staff("林晓东"))  # SZ02
    with refused():
        visits.record_arrival(site_of("SZ01"), 1, 0, salesperson=staff("孙阿姨"))  # a cleaner
    visit = visits.record_arrival(site_of("SZ01"), 1, 0)
    with refused():
        visits.record_departure(visit, "roof")


def test_open_visits_are_only_the_sites_own(dbs):
    a = visits.record_arrival(site_of("SZ01"), 1, 0)
    visits.record_arrival(site_of("SZ02"), 1, 0)
    assert [v.id for v in visits.open_visits(site_of("SZ01"))] == [a.id]


# ---------------------------------------------------------------- HTTP


def test_security_lands_on_the_visit_log_and_records_an_arrival_in_one_tap(app, login):
    guard = login("guard_sz01")
    resp = guard.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/visits/")
    page = guard.get("/visits/").get_data(as_text=True)
    assert "当前没有在场客户" in page and 'value="2:1"' in page
    resp = guard.post("/visits/arrive", {"party": "2:1"})
    assert resp.status_code == 302
    with arranged(app) as s:
        visit = s.scalar(select(Visit))
        assert (visit.adults, visit.children, visit.site.code, visit.left_at) == (
            2,
            1,
            "SZ01",
            None,
        )
        visit_id = visit.id
    page = guard.get("/visits/").get_data(as_text=True)
    assert f'id="visit-{visit_id}"' in page
    # Security records visits; serving drinks is the clerk's.
    assert "/visits/serve?id=" not in page
    assert f'id="visit-{visit_id}"' in login("clerk_sz01").get("/today/").get_data(as_text=True)
    assert f'id="visit-{visit_id}"' not in login("clerk_sz02").get("/today/").get_data(as_text=True)


@pytest.mark.parametrize("party", ["0:0", "abc", "", "1:-1", "999:0"])
def test_a_bad_arrival_is_refused_with_400_and_nothing_written(app, login, party):
    resp = login("guard_sz01").post("/visits/arrive", {"party": party})
    assert resp.status_code == 400
    with arranged(app) as s:
        assert s.scalar(select(func.count()).select_from(Visit)) == 0


def test_left_now_with_an_optional_direction(app, login):
    with arranged(app):
        first = visits.record_arrival(site_of("SZ01"), 1, 0).id
        second = visits.record_arrival(site_of("SZ01"), 2, 0).id
        foreign = visits.record_arrival(site_of("SH01"), 2, 0).id
    guard = login("guard_sz01")
    assert guard.post("/visits/depart", {"id": first}).status_code == 302
    assert guard.post("/visits/depart", {"id": second, "direction": "east_gate"}).status_code == 302
    assert guard.post("/visits/depart", {"id": second}).status_code == 400  # left already
    assert guard.post("/visits/depart", {"id": foreign}).status_code == 404
    assert guard.post("/visits/depart", {"id": "1 OR 1=1"}).status_code == 404
    assert guard.post("/visits/depart", {"id": foreign}, csrf=False).status_code == 400
    with arranged(app) as s:
        rows = dict(
            s.execute(
                select(Visit.id, Visit.departure_direction).where(Visit.left_at.is_not(None))
            ).all()
        )
        assert rows == {first: None, second: "east_gate"}
    page = guard.get("/visits/").get_data(as_text=True)
    assert "东门" in page  # the departures of today, with their direction


def test_salespeople_see_only_the_visits_they_hosted(app, login):
    with arranged(app):
        site = site_of("SZ01")
        mine = visits.record_arrival(site, 2, 0, salesperson=staff("黄俊杰")).id
        other = visits.record_arrival(site, 3, 0, salesperson=staff("郑凯")).id
        nobody = visits.record_arrival(site, 4, 0).id
    sales = login("sales_sz01")
    resp = sales.get("/")
    assert resp.headers["Location"].endswith("/visits/")
    page = sales.get("/visits/").get_data(as_text=True)
    assert f"/visit/details/?id={mine}" in page
    assert f"/visit/details/?id={other}" not in page and f"/visit/details/?id={nobody}" not in page
    assert sales.get(f"/visit/details/?id={mine}").status_code == 200
    assert sales.get(f"/visit/details/?id={other}").status_code == 404
    listing = sales.get("/visit/").get_data(as_text=True)
    assert f"id={mine}" in listing and f"id={other}" not in listing
    assert sales.post("/visits/arrive", {"party": "1:0"}).status_code == 403
    assert sales.post("/visits/depart", {"id": mine}).status_code == 403


def test_visit_details_edit_checks_the_salesperson_site(app, login):
    with arranged(app):
        visit = visits.record_arrival(site_of("SZ01"), 2, 0).id
        sz01 = site_of("SZ01").id
        own, foreign = staff("郑凯").id, staff("林晓东").id
    sup = login("sup_south")  # sees SZ01 and SZ02
    form = {
        "site": sz01,
        "adults": 2,
        "children": 0,
        "salesperson": foreign,
        "departure_direction": "",
        "version": _version(app, visit),
    }
    assert sup.post(f"/visit/edit/?id={visit}", form).status_code == 400
    form["salesperson"] = own
    assert sup.post(f"/visit/edit/?id={visit}", form).status_code == 302
    clerk = login("clerk_sz01")
    form["salesperson"] = foreign  # outside her sites altogether
    assert clerk.post(f"/visit/edit/?id={visit}", form).status_code in (400, 404)
    with arranged(app) as s:
        assert s.get(Visit, visit).salesperson_id == own


def test_deleting_a_visit_hides_it_but_keeps_the_row(app, login):
    with arranged(app):
        visit = visits.record_arrival(site_of("SZ01"), 2, 0).id
    admin = login("admin")
    assert admin.post("/visit/delete/", {"id": visit, "url": "/visit/"}).status_code == 302
    with arranged(app) as s:
        row = s.execute(
            select(Visit).where(Visit.id == visit).execution_options(include_deleted=True)
        ).scalar()
        assert row is not None and row.deleted_at is not None
    assert admin.get(f"/visit/details/?id={visit}").status_code == 404


def _open_visits_with_drinks(app, n):
    with arranged(app):
        site = site_of("SZ01")
        water = db.session.scalar(select(Product).where(Product.site_id == site.id))
        if water is None:
            water = Product(
                site_id=site.id, name="矿泉水", kind="drink", unit="瓶", reorder_level=1
            )
            db.session.add(water)
            db.session.flush()
            stock.restock(site, water, 500)
        for _ in range(n):
            visit = visits.record_arrival(site, 2, 1, salesperson=staff("郑凯"))
            stock.serve(visit, water, 1)


@pytest.mark.parametrize("url", ["/visits/", "/today/", "/visit/"])
def test_visit_pages_do_not_grow_queries_with_the_number_of_visits(app, login, url):
    clerk = login("clerk_sz01")
    clerk.get(url)  # warm: the filter dropdowns are read on the first view only
    # Each count is of the first view after a change: Today reads its rows again then.
    _open_visits_with_drinks(app, 2)
    with count_queries(app) as few:
        assert clerk.get(url).status_code == 200
    _open_visits_with_drinks(app, 12)
    with count_queries(app) as many:
        assert clerk.get(url).status_code == 200
    assert many.count == few.count, many.statements
    assert many.count <= 25


def test_salespeople_see_who_is_in_the_office_now_without_details(app, login):
    with arranged(app):
        other = visits.record_arrival(site_of("SZ01"), 3, 0, salesperson=staff("郑凯")).id
        visits.record_arrival(site_of("SH01"), 5, 0)
    page = login("sales_sz01").get("/visits/").get_data(as_text=True)
    assert "当前在场" in page and "郑凯" in page and "3 位成人" in page
    assert f"/visit/details/?id={other}" not in page and "5 位成人" not in page


def test_creating_and_editing_through_the_records_form_stays_in_scope(app, login):
    with arranged(app):
        sz01, sz02 = site_of("SZ01").id, site_of("SZ02").id
    clerk = login("clerk_sz01")
    form = {
        "site": sz01,
        "adults": 3,
        "children": 1,
        "salesperson": "__None",
        "show_unit": "__None",
        "departure_direction": "",
        "notes": "<script>alert(1)</script>",
    }
    assert clerk.post("/visit/new/", form).status_code == 302
    form["site"] = sz02
    assert clerk.post("/visit/new/", form).status_code in (400, 404)
    with arranged(app) as s:
        visit = s.scalar(select(Visit))
        assert s.scalar(select(func.count()).select_from(Visit)) == 1
        assert (visit.site_id, visit.adults, visit.children) == (
            sz01,
            3,
            1,
        ) and visit.arrived_at is not None
        visit_id = visit.id
    page = clerk.get(f"/visit/details/?id={visit_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_product_created_in_the_form_has_a_balance_and_a_forged_site_is_refused(app, login):
    with arranged(app):
        sz01, sh01 = site_of("SZ01").id, site_of("SH01").id
    clerk = login("clerk_sz01")
    form = {
        "site": sz01,
        "name": "苏打水",
        "kind": "drink",
        "unit": "瓶",
        "reorder_level": 6,
        "active": "y",
    }
    assert clerk.post("/product/new/", form).status_code == 302
    assert clerk.post("/product/new/", {**form, "name": "冰红茶", "site": sh01}).status_code in (
        400,
        404,
    )
    assert (
        clerk.post("/product/new/", {**form, "name": "x", "reorder_level": -1}).status_code == 400
    )
    with arranged(app) as s:
        product = s.scalar(select(Product))
        assert s.scalar(select(func.count()).select_from(Product)) == 1
        assert stock.balance(product.site, product) == 0
        product_id = product.id
    assert (
        clerk.post(
            "/stock/", {"kind": "restock", "product": product_id, "quantity": 24}
        ).status_code
        == 302
    )
    with arranged(app) as s:
        assert stock.balance(site_of("SZ01"), s.get(Product, product_id)) == 24


def test_a_refused_departure_shows_the_reason_on_the_log(app, login):
    with arranged(app):
        visit = visits.record_arrival(site_of("SZ01"), 1, 0).id
    guard = login("guard_sz01")
    guard.post("/visits/depart", {"id": visit})
    resp = guard.post("/visits/depart", {"id": visit})
    assert resp.status_code == 400 and "该客户已经离开。" in resp.get_data(as_text=True)
    resp = guard.post("/visits/arrive", {"party": "0:0"})
    assert resp.status_code == 400 and "每次来访至少一人。" in resp.get_data(as_text=True)


def test_times_are_corrected_in_site_time(app, login):
    from datetime import datetime, timezone

    with arranged(app):
        site = site_of("SZ01")
        visit = visits.record_arrival(
            site, 2, 0, at=datetime(2026, 3, 10, 1, 0, tzinfo=timezone.utc)
        ).id
        sz01 = site.id
    clerk = login("clerk_sz01")
    page = clerk.get(f"/visit/edit/?id={visit}").get_data(as_text=True)
    assert 'value="2026-03-10 09:00"' in page  # 01:00 UTC is 09:00 in Shanghai
    form = {
        "site": sz01,
        "arrived_at": "2026-03-10 09:00",
        "left_at": "2026-03-10 08:00",
        "adults": 2,
        "children": 0,
        "departure_direction": "",
        "version": _version(app, visit),
    }
    assert clerk.post(f"/visit/edit/?id={visit}", form).status_code == 400  # left before it arrived
    form["left_at"] = "2026-03-10 10:30"
    assert clerk.post(f"/visit/edit/?id={visit}", form).status_code == 302
    with arranged(app) as s:
        row = s.get(Visit, visit)
        assert row.left_at == datetime(2026, 3, 10, 2, 30, tzinfo=timezone.utc)
        assert row.arrived_at == datetime(2026, 3, 10, 1, 0, tzinfo=timezone.utc)


def _visit_served(app, products, name):
    """A visit at SZ01 served one of each of ``products`` new drinks named ``name`` 0, 1…;
    its id."""
    with arranged(app):
        site = site_of("SZ01")
        visit = visits.record_arrival(site, 2, 0, salesperson=staff("郑凯"))
        for n in range(products):
            drink = Product(site_id=site.id, name=f"{name}{n}", kind="drink", unit="杯")
            db.session.add(drink)
            db.session.flush()
            stock.restock(site, drink, 5)
            stock.serve(visit, drink, 1)
        return visit.id


def test_visit_details_read_the_drinks_served_at_once(app, login):
    clerk = login("clerk_sz01")
    one, five = _visit_served(app, 1, "果汁"), _visit_served(app, 5, "茶饮")
    clerk.get(f"/visit/details/?id={one}")  # warm
    counts = []
    for visit_id in (one, five):
        with count_queries(app) as queries:
            page = clerk.get(f"/visit/details/?id={visit_id}").get_data(as_text=True)
        counts.append(queries.count)
    assert "茶饮4 × 1" in page
    assert counts[0] == counts[1], counts
