"""Front-desk workflow pages of a visit: the tour page, larger groups on the arrival pad,
serving several products with one confirm, and the undo of the last served line."""

from datetime import datetime, timedelta, timezone

import time_machine

from sqlalchemy import func, select

from portal import clock
from portal.models import AuditEvent, ConsumptionLine, StockBalance, StockMovement, Visit
from portal.services import tally, visits
from tests.test_stock import arranged, make_product, make_visit
from tests.test_visits import site_of, staff


def balance_of(s, product_id):
    return s.scalar(select(StockBalance.qty).where(StockBalance.product_id == product_id))


# ---------------------------------------------------------------- arrivals of larger groups


def test_a_group_of_eight_arrives_from_the_pad_and_a_group_of_any_size_from_the_fields(app, login):
    c = login("clerk_sz01")
    page = c.get("/visits/").get_data(as_text=True)
    assert "更多人数" in page and 'value="8:0"' in page
    assert c.post("/visits/arrive", {"party": "8:0"}).status_code == 302
    assert c.post("/visits/arrive", {"adults": "13", "children": "4"}).status_code == 302
    resp = c.post("/visits/arrive", {"adults": "99", "children": "0"})
    assert resp.status_code == 400 and "成人" in resp.get_data(as_text=True)
    assert c.post("/visits/arrive", {"adults": "八", "children": "0"}).status_code == 400
    with arranged(app) as s:
        heads = sorted(v.headcount for v in s.scalars(select(Visit)))
        assert heads == [8, 17]


# ---------------------------------------------------------------- serving several at once


def test_several_products_are_served_with_one_confirm_or_none_at_all(app, login):
    with arranged(app):
        site, tea = make_product("SZ01", "绿茶", qty=5)
        _, juice = make_product("SZ01", "橙汁", qty=1)
        _, water = make_product("SZ01", "矿泉水", qty=9)
        visit_id, tea_id, juice_id, water_id = make_visit(site).id, tea.id, juice.id, water.id
    c = login("clerk_sz01")
    # Two orange juices with one in stock: the whole list is refused, nothing written.
    resp = c.post(
        "/visits/serve",
        {"id": visit_id, f"qty-{tea_id}": "2", f"qty-{juice_id}": "2", f"qty-{water_id}": "0"},
    )
    assert resp.status_code == 400 and "橙汁 库存只剩 1 瓶" in resp.get_data(as_text=True)
    with arranged(app) as s:
        assert s.scalar(select(func.count()).select_from(ConsumptionLine)) == 0
        assert balance_of(s, tea_id) == 5
    assert c.post("/visits/serve", {"id": visit_id, f"qty-{tea_id}": "x"}).status_code == 400
    assert c.post("/visits/serve", {"id": visit_id, f"qty-{tea_id}": "0"}).status_code == 400
    resp = c.post(
        "/visits/serve",
        {"id": visit_id, f"qty-{tea_id}": "2", f"qty-{juice_id}": "1", f"qty-{water_id}": "3"},
    )
    assert resp.status_code == 302
    with arranged(app) as s:
        lines = s.scalars(select(ConsumptionLine).order_by(ConsumptionLine.id)).all()
        assert [(line.product_id, line.quantity) for line in lines] == [
            (tea_id, 2),
            (juice_id, 1),
            (water_id, 3),
        ] or sorted((line.product_id, line.quantity) for line in lines) == sorted(
            [(tea_id, 2), (juice_id, 1), (water_id, 3)]
        )
        assert [balance_of(s, p) for p in (tea_id, juice_id, water_id)] == [3, 0, 6]


def test_a_product_of_another_site_in_the_list_is_refused(app, login):
    with arranged(app):
        site, tea = make_product("SZ01", "绿茶", qty=5)
        _, foreign = make_product("SH01", "咖啡", qty=5)
        visit_id, tea_id, foreign_id = make_visit(site).id, tea.id, foreign.id
    c = login("clerk_sz01")
    resp = c.post("/visits/serve", {"id": visit_id, f"qty-{tea_id}": "1", f"qty-{foreign_id}": "1"})
    assert resp.status_code == 400
    with arranged(app) as s:
        assert balance_of(s, tea_id) == 5 and balance_of(s, foreign_id) == 5


# ---------------------------------------------------------------- undo


def test_undo_restores_the_stock_and_the_day_figures(app, login):
    with arranged(app):
        site, tea = make_product("SZ01", "绿茶", qty=5)
        visit_id, tea_id = make_visit(site).id, tea.id
    c = login("clerk_sz01")
    assert c.post("/visits/serve", {"id": visit_id, f"qty-{tea_id}": "2"}).status_code == 302
    with arranged(app) as s:
        line_id = s.scalar(select(ConsumptionLine.id))
    page = c.get(f"/visits/serve?id={visit_id}").get_data(as_text=True)
    assert "撤销" in page and "最近一项：绿茶 × 2" in page
    resp = c.post("/visits/unserve", {"line": line_id})
    assert resp.status_code == 302
    with arranged(app) as s:
        assert balance_of(s, tea_id) == 5
        assert s.scalar(select(func.count()).select_from(ConsumptionLine)) == 0
        # The reversal is recorded: the serving and its undo are both in the ledger.
        moves = s.scalars(select(StockMovement.quantity).where(StockMovement.kind == "served"))
        assert sorted(moves) == [-2, 2]
        site = site_of("SZ01")
        figures = tally.compute_tally(site, clock.local_day(site))
        assert figures.drinks_served == 0
        assert [(r.served, r.expected) for r in figures.rows if r.product.id == tea_id] == [(0, 5)]
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "unserve")) is not None
    assert c.post("/visits/unserve", {"line": line_id}).status_code == 404  # already undone


def test_undo_of_another_sites_line_is_404_and_after_the_window_is_refused(app, login):
    with arranged(app) as s:
        site, tea = make_product("SZ01", "绿茶", qty=5)
        other_site, coffee = make_product("SH01", "咖啡", qty=5)
        from portal.services import stock

        own = stock.serve(make_visit(site), tea, 1)
        foreign = stock.serve(make_visit(other_site), coffee, 1)
        s.flush()
        own.created_at = clock.now() - stock.UNDO_WINDOW - timedelta(minutes=1)
        own_id, foreign_id, tea_id, coffee_id = own.id, foreign.id, tea.id, coffee.id
    c = login("clerk_sz01")
    assert c.post("/visits/unserve", {"line": foreign_id}).status_code == 404
    resp = c.post("/visits/unserve", {"line": own_id})
    assert resp.status_code == 400 and "已超过撤销时限" in resp.get_data(as_text=True)
    assert c.post("/visits/unserve", {"line": "abc"}).status_code == 404
    assert login("guard_sz01").post("/visits/unserve", {"line": own_id}).status_code == 403
    with arranged(app) as s:
        assert balance_of(s, tea_id) == 4 and balance_of(s, coffee_id) == 4
        assert s.scalar(select(func.count()).select_from(ConsumptionLine)) == 2


# ---------------------------------------------------------------- the tour page


def _tour(visit_id, **fields):
    form = {
        "id": visit_id,
        "salesperson": "",
        "shuttle": "0",
        "tour_started_at": "",
        "tour_ended_at": "",
        "notes": "",
    }
    form.update(fields)
    return form


def test_tour_page_start_and_end_with_one_tap_each(app, login):
    with arranged(app):
        visit_id = make_visit(site_of("SZ01")).id
        seller = staff("郑凯").id
    c = login("clerk_sz01")
    page = c.get(f"/visits/tour?id={visit_id}").get_data(as_text=True)
    assert "现在开始带看" in page and "郑凯" in page and "林晓东" not in page
    resp = c.post("/visits/tour", _tour(visit_id, salesperson=seller, shuttle="1", action="start"))
    assert resp.status_code == 302
    with arranged(app) as s:
        visit = s.get(Visit, visit_id)
        assert visit.salesperson_id == seller and visit.shuttle_used
        assert visit.tour_started_at is not None and visit.tour_ended_at is None
        started = clock.to_local(visit.tour_started_at, visit.site).strftime("%H:%M")
    page = c.get(f"/visits/tour?id={visit_id}").get_data(as_text=True)
    assert "现在结束带看" in page and f'value="{started}"' in page
    form = _tour(
        visit_id,
        salesperson=seller,
        shuttle="1",
        tour_started_at=started,
        notes="想看三房",
        action="end",
    )
    assert c.post("/visits/tour", form).status_code == 302
    with arranged(app) as s:
        visit = s.get(Visit, visit_id)
        assert visit.tour_ended_at is not None and visit.notes == "想看三房"
        changes = s.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "Visit", AuditEvent.object_id == visit_id
            )
        ).all()
        assert len(changes) >= 2  # the start and the end are in the audit trail


def test_tour_bad_input_is_refused_in_chinese_and_changes_nothing(app, login):
    with arranged(app):
        site = site_of("SZ01")
        visit = visits.record_arrival(site, 2, 0, at=clock.now() - timedelta(minutes=20))
        visit_id = visit.id
        seller, foreign = staff("郑凯").id, staff("林晓东").id

        def at(minutes):  # minutes after the arrival, on the site's clock
            return clock.to_local(visit.arrived_at + timedelta(minutes=minutes), site).strftime(
                "%H:%M"
            )

        early, later, latest = at(-3), at(5), at(10)
    c = login("clerk_sz01")
    cases = [
        (_tour(visit_id, salesperson=foreign), "请选择本售楼处的销售员"),
        (_tour(visit_id, shuttle="maybe"), "看房车"),
        (_tour(visit_id, tour_started_at="25:99"), "时:分"),
        (_tour(visit_id, tour_started_at=early), "带看不能早于到访时间开始"),
        (_tour(visit_id, tour_started_at=latest, tour_ended_at=later), "结束时间不能早于开始"),
        (_tour(visit_id, tour_ended_at=later), "请先开始带看"),
        (_tour(visit_id, salesperson=seller, show_unit="999999"), "样板"),
    ]
    for form, message in cases:
        resp = c.post("/visits/tour", {**form, "notes": "不该保存"})
        assert resp.status_code == 400, form
        assert message in resp.get_data(as_text=True)
    with arranged(app) as s:
        visit = s.get(Visit, visit_id)
        assert visit.salesperson_id is None and visit.notes is None
        assert visit.tour_started_at is None and not visit.shuttle_used


def test_a_tour_typed_after_midnight_belongs_to_the_night_the_visit_arrived(app, login):
    # 00:20 in Shenzhen; the visit arrived at 23:50 of the evening before.
    with time_machine.travel(datetime(2026, 12, 3, 16, 20, tzinfo=timezone.utc), tick=False):
        with arranged(app):
            site = site_of("SZ01")
            visit_id = visits.record_arrival(site, 2, 0, at=clock.now() - timedelta(minutes=30)).id
            seller = staff("郑凯").id
        c = login("clerk_sz01")
        form = _tour(visit_id, salesperson=seller, tour_started_at="23:55", tour_ended_at="00:10")
        assert c.post("/visits/tour", form).status_code == 302
        with arranged(app) as s:
            visit = s.get(Visit, visit_id)
            minutes = (visit.tour_ended_at - visit.tour_started_at).total_seconds() / 60
            assert minutes == 15


def test_tour_of_another_sites_visit_is_404_and_the_guard_cannot_change_it(app, login):
    with arranged(app):
        other = make_visit(site_of("SH01")).id
        own = make_visit(site_of("SZ01")).id
    c = login("clerk_sz01")
    assert c.get(f"/visits/tour?id={other}").status_code == 404
    assert c.post("/visits/tour", _tour(other, action="start")).status_code == 404
    # Security records visits too: the guard at the door can start the tour.
    guard = login("guard_sz01")
    assert guard.post("/visits/tour", _tour(own, action="start")).status_code == 302
