"""Numbers and times have bounds, one rule per field (portal.services.bounds): head counts of a
visit, quantities of drinks served / restocked / counted, event times within the site's life and
not in the future, tally days since the site opened and at most TALLY_MAX_DAYS_BACK days ago.
Every form that writes such a field — the admin forms and the workflow pages — refuses with the
message next to the field, status 400, and nothing changes."""

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.models import DailyTally, DamageReport, Product, Site, StockMovement, User, Visit
from portal.services import stock, visits
from tests.forms import Forms

ADULTS_MESSAGE = "成人人数须在 0 到 50 之间。"
CHILDREN_MESSAGE = "儿童人数须在 0 到 30 之间。"
BEFORE_OPENING = "时间不能早于本案场开业日"
IN_FUTURE = "时间不能晚于现在。"


def next_to(body, field_id, message):
    """Whether ``message`` is shown with the field (between it and the next form group)."""
    start = body.index(f'id="{field_id}"')
    end = body.find('class="form-group', start)
    return message in body[start : end if end != -1 else start + 1500]


def edit_form(client, url):
    """The fields of the record's edit form as a browser would send them."""
    html = client.get(url).get_data(as_text=True)
    forms = Forms(html, first_option=False).forms
    form = next(f for f in forms if any(name == "version" for name, _kind, _value in f["fields"]))
    return {name: value for name, _kind, value in form["fields"] if value is not None}


@pytest.fixture
def visit(dbs, site_ids):
    site = dbs.get(Site, site_ids["SZ01"])
    record = visits.record_arrival(site, 2, 1, notes="两位客户")
    dbs.commit()
    return record.id


def _snapshot(dbs, visit_id):
    dbs.expire_all()
    v = dbs.get(Visit, visit_id)
    return (v.adults, v.children, v.arrived_at, v.left_at, v.version)


# ---------------------------------------------------------------- head counts


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("adults", "1000000", ADULTS_MESSAGE),
        ("adults", "-1", ADULTS_MESSAGE),
        ("children", "31", CHILDREN_MESSAGE),
    ],
)
def test_admin_visit_edit_refuses_head_counts_out_of_bounds(
    login, dbs, visit, field, value, message
):
    c = login("guard_sz01")
    url = f"/visit/edit/?id={visit}"
    before = _snapshot(dbs, visit)
    resp = c.post(url, {**edit_form(c, url), field: value})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert next_to(body, field, message)
    assert _snapshot(dbs, visit) == before


def test_admin_visit_edit_within_bounds_saves(login, dbs, visit):
    c = login("guard_sz01")
    url = f"/visit/edit/?id={visit}"
    resp = c.post(url, {**edit_form(c, url), "adults": "50", "children": "30"})
    assert resp.status_code == 302
    dbs.expire_all()
    assert (dbs.get(Visit, visit).adults, dbs.get(Visit, visit).children) == (50, 30)


def test_admin_visit_create_refuses_head_counts_out_of_bounds(login, dbs, site_ids):
    c = login("guard_sz01")
    resp = c.post("/visit/new/", {"site": site_ids["SZ01"], "adults": "1000000", "children": "0"})
    assert resp.status_code == 400
    assert next_to(resp.get_data(as_text=True), "adults", ADULTS_MESSAGE)
    assert dbs.scalar(select(func.count()).select_from(Visit)) == 0


def test_visit_log_refuses_a_party_out_of_bounds(login, dbs):
    resp = login("guard_sz01").post("/visits/arrive", {"party": "1000000:0"})
    assert resp.status_code == 400
    assert ADULTS_MESSAGE in resp.get_data(as_text=True)
    assert dbs.scalar(select(func.count()).select_from(Visit)) == 0


# ---------------------------------------------------------------- event times of a visit


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("arrived_at", "1900-01-01 10:00", BEFORE_OPENING),
        ("arrived_at", "2099-12-31 10:00", IN_FUTURE),
        ("left_at", "2099-12-31 10:00", IN_FUTURE),
    ],
)
def test_admin_visit_edit_refuses_times_outside_the_sites_life(
    login, dbs, visit, field, value, message
):
    c = login("guard_sz01")
    url = f"/visit/edit/?id={visit}"
    before = _snapshot(dbs, visit)
    resp = c.post(url, {**edit_form(c, url), field: value})
    assert resp.status_code == 400
    assert next_to(resp.get_data(as_text=True), field, message)
    assert _snapshot(dbs, visit) == before


def test_opened_on_of_the_site_form_moves_the_first_allowed_day(login, dbs, visit, site_ids):
    """Head office sets the day the office opened in the site form; a visit cannot be dated
    before it."""
    admin = login("admin")
    site_url = f"/site/edit/?id={site_ids['SZ01']}"
    opened = date.today() - timedelta(days=3)
    assert (
        admin.post(
            site_url, {**edit_form(admin, site_url), "opened_on": opened.isoformat()}
        ).status_code
        == 302
    )
    dbs.expire_all()
    assert dbs.get(Site, site_ids["SZ01"]).opened_on == opened
    c = login("guard_sz01")
    url = f"/visit/edit/?id={visit}"
    earlier = f"{opened - timedelta(days=2):%Y-%m-%d} 10:00"
    resp = c.post(url, {**edit_form(c, url), "arrived_at": earlier})
    assert resp.status_code == 400
    assert next_to(
        resp.get_data(as_text=True), "arrived_at", f"{BEFORE_OPENING}（{opened.isoformat()}）"
    )


# ---------------------------------------------------------------- damage report: time of the visit


def _damage_form(site_ids, dbs, visit_at):
    sales = dbs.scalar(select(User.id).where(User.username == "sales_sz01"))
    return {
        "site": site_ids["SZ01"],
        "equipment": "样板房抱枕",
        "visit_description": "李女士两位",
        "visit_at": visit_at,
        "salesperson": sales,
        "description": "抱枕被饮料弄脏",
    }


@pytest.mark.parametrize(
    "visit_at, message", [("1900-01-01T10:00", BEFORE_OPENING), ("2099-12-31T10:00", IN_FUTURE)]
)
def test_damage_report_refuses_a_visit_time_outside_the_sites_life(
    login, dbs, site_ids, visit_at, message
):
    resp = login("clerk_sz01").post("/damage/new/", _damage_form(site_ids, dbs, visit_at))
    assert resp.status_code == 400
    assert next_to(resp.get_data(as_text=True), "visit_at", message)
    assert dbs.scalar(select(func.count()).select_from(DamageReport)) == 0


def test_damage_report_with_a_recent_visit_time_is_filed(login, dbs, site_ids):
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert (
        login("clerk_sz01").post("/damage/new/", _damage_form(site_ids, dbs, yesterday)).status_code
        == 302
    )


# ---------------------------------------------------------------- quantities


@pytest.fixture
def water(dbs, site_ids):
    site = dbs.get(Site, site_ids["SZ01"])
    product = Product(
        site_id=site.id, name="矿泉水", kind="drink", unit="瓶", reorder_level=5, active=True
    )
    dbs.add(product)
    dbs.flush()
    stock.restock(site, product, 20, day=clock.local_day(site) - timedelta(days=1))
    dbs.commit()
    return product.id


def _ledger(dbs):
    dbs.expire_all()
    return dbs.scalars(select(StockMovement.quantity).order_by(StockMovement.id)).all()


@pytest.mark.parametrize(
    "kind, qty, message",
    [
        ("restock", "1000000", "请输入 1 到 10000 之间的数字。"),
        ("wastage", "0", "请输入 1 到 10000 之间的数字。"),
        ("correction", "10001", "请输入 0 到 10000 之间的数字。"),
    ],
)
def test_stock_form_refuses_quantities_out_of_bounds(login, dbs, water, kind, qty, message):
    before = _ledger(dbs)
    resp = login("clerk_sz01").post(
        "/stock/", {"kind": kind, "product": water, "quantity": qty, "reason": "盘点"}
    )
    assert resp.status_code == 400
    assert next_to(resp.get_data(as_text=True), "quantity", message)
    assert _ledger(dbs) == before


def test_serving_more_than_a_group_drinks_is_refused(login, dbs, water, visit):
    before = _ledger(dbs)
    resp = login("clerk_sz01").post(
        f"/visits/serve?id={visit}", {"product": water, "quantity": "1000"}
    )
    assert resp.status_code == 400
    assert "请输入 1 到 100 之间的数字。" in resp.get_data(as_text=True)
    assert _ledger(dbs) == before


# ---------------------------------------------------------------- tally days and counts


@pytest.fixture
def due_site(dbs, site_ids):
    from datetime import time

    dbs.get(Site, site_ids["SZ01"]).tally_time = time(0, 0)
    dbs.commit()
    return site_ids["SZ01"]


def _tallies(dbs):
    dbs.expire_all()
    return dbs.scalar(select(func.count()).select_from(DailyTally))


def test_tally_count_out_of_bounds_is_refused_next_to_the_count(login, dbs, due_site, water):
    before = _ledger(dbs)
    resp = login("clerk_sz01").post("/tally/close", {f"count_{water}": "1000000"})
    assert resp.status_code == 400
    assert next_to(resp.get_data(as_text=True), f"count_{water}", "请输入 0 到 10000 之间的数字。")
    assert _tallies(dbs) == 0 and _ledger(dbs) == before


@pytest.mark.parametrize(
    "back, message",
    [
        (
            None,
            "本案场于 2025-01-01 开业，此前没有日结。",
        ),  # 2020-01-02, years before the site opened
        (8, "最多只能补做 7 天内的日结。"),
    ],
)
def test_tally_of_a_day_out_of_bounds_is_refused_and_moves_no_stock(
    login, dbs, due_site, water, back, message
):
    site = dbs.get(Site, due_site)
    day = date(2020, 1, 2) if back is None else clock.local_day(site) - timedelta(days=back)
    before = _ledger(dbs)
    c = login("clerk_sz01")
    resp = c.post("/tally/close", {"day": day.isoformat(), f"count_{water}": "3"})
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert _tallies(dbs) == 0 and _ledger(dbs) == before
    # The page of that day shows the figures and why it cannot be closed, without the form.
    page = c.get(f"/tally/?day={day.isoformat()}").get_data(as_text=True)
    assert message in page and 'id="tally-form"' not in page


def test_tally_max_days_back_is_a_setting(app, login, dbs, due_site, water):
    site = dbs.get(Site, due_site)
    day = clock.local_day(site) - timedelta(days=8)
    app.config["TALLY_MAX_DAYS_BACK"] = 10
    try:
        resp = login("clerk_sz01").post(
            "/tally/close", {"day": day.isoformat(), f"count_{water}": "20"}
        )
    finally:
        app.config["TALLY_MAX_DAYS_BACK"] = 7
    assert resp.status_code == 302
    assert _tallies(dbs) == 1
