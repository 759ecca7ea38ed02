"""Stock of drinks and snacks: the ledger, the atomic balance, refusals, and concurrency."""

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.errors import DomainError
from portal.extensions import db
from portal.models import (
    AuditEvent,
    ConsumptionLine,
    Product,
    Site,
    StockBalance,
    StockMovement,
    User,
)
from portal.services import stock, visits
from tests.refusals import refused

OUT_OF_STOCK = "Only %(left)s %(unit)s of %(name)s left in stock: you cannot take out %(n)s."


def make_product(site_code, name="矿泉水", qty=10, reorder=2, kind="drink"):
    site = db.session.scalar(select(Site).where(Site.code == site_code))
    product = Product(
        site_id=site.id, name=name, kind=kind, unit="瓶", reorder_level=reorder, active=True
    )
    db.session.add(product)
    db.session.flush()
    if qty:
        stock.restock(site, product, qty)
    return site, product


def make_visit(site, adults=2, children=0):
    return visits.record_arrival(site, adults, children)


@contextmanager
def arranged(app):
    """A fresh app context (its own session) to arrange or check data between requests.

    The ``dbs`` fixture's session would be shared with the test client's requests (same app
    context) and pick up the request's site scope; a short context per block avoids that."""
    with app.app_context():
        try:
            yield db.session
            db.session.commit()
        finally:
            db.session.remove()


def counts(model):
    return db.session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------- services


def test_every_change_is_a_ledger_row_and_the_balance_is_their_sum(dbs):
    site, water = make_product("SZ01", qty=24)
    clerk = dbs.scalar(select(User).where(User.username == "clerk_sz01"))
    visit = make_visit(site)
    stock.serve(visit, water, 3, clerk)
    stock.record_wastage(site, water, 1, clerk, reason="破损")
    stock.restock(site, water, 12, clerk)
    stock.correct_count(site, water, 30, clerk, reason="月中盘点")
    dbs.commit()
    kinds = dbs.execute(
        select(StockMovement.kind, StockMovement.quantity).order_by(StockMovement.id)
    ).all()
    assert kinds == [
        ("restock", 24),
        ("served", -3),
        ("wastage", -1),
        ("restock", 12),
        ("correction", -2),
    ]
    assert stock.balance(site, water) == 30 == sum(q for _, q in kinds)
    line = dbs.scalar(select(ConsumptionLine))
    assert (line.visit_id, line.product_id, line.quantity) == (visit.id, water.id, 3)
    assert dbs.scalar(select(func.count()).where(AuditEvent.action == "serve")) == 1
    assert dbs.scalar(select(func.count()).where(AuditEvent.action == "correct")) == 1


def test_serving_more_than_in_stock_is_refused_and_writes_nothing(app, dbs):
    site, cola = make_product("SZ01", "可乐", qty=2)
    cola.unit = "罐"
    visit = make_visit(site)
    dbs.commit()
    before = (counts(StockMovement), counts(ConsumptionLine))
    with refused(msgid=OUT_OF_STOCK) as exc:
        stock.serve(visit, cola, 3)
    dbs.rollback()
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert str(exc.value) == "可乐 库存只剩 2 罐，不能出库 3。"

    assert (counts(StockMovement), counts(ConsumptionLine)) == before
    assert stock.balance(site, cola) == 2


def test_wastage_cannot_take_the_stock_below_zero_and_a_correction_needs_a_reason(dbs):
    site, cake = make_product("SZ01", "小蛋糕", qty=1, kind="snack")
    with refused(msgid=OUT_OF_STOCK):
        stock.record_wastage(site, cake, 2)
    with refused() as exc:
        stock.correct_count(site, cake, 0, reason=" ")
    assert exc.value.field == "reason"
    assert stock.correct_count(site, cake, 1, reason="对账") is None  # matches: nothing to write


def test_products_of_another_site_are_refused(dbs):
    site, _ = make_product("SZ01")
    _, other = make_product("SZ02", "雪碧")
    visit = make_visit(site)
    with refused():
        stock.serve(visit, other, 1)
    with refused():
        stock.restock(site, other, 5)


def test_low_stock_lists_products_at_or_below_their_reorder_level(dbs):
    site, _ = make_product("SZ01", "矿泉水", qty=10, reorder=10)
    make_product("SZ01", "咖啡", qty=11, reorder=10)
    make_product("SZ01", "绿茶", qty=0, reorder=3)
    assert [(p.name, q) for p, q in stock.low_stock(site)] == [("矿泉水", 10), ("绿茶", 0)]


def test_the_balance_cannot_be_negative_even_by_hand(dbs):
    site, water = make_product("SZ01", qty=1)
    dbs.commit()
    with pytest.raises(IntegrityError):
        dbs.execute(StockBalance.__table__.update().values(qty=-1))
        dbs.flush()
        dbs.commit()
    dbs.rollback()


# ---------------------------------------------------------------- concurrency


def _serve_in_thread(app, visit_id, product_id, qty, results, barrier):
    from portal.models import Visit

    with app.app_context():
        try:
            visit = db.session.get(Visit, visit_id)
            product = db.session.get(Product, product_id)
            barrier.wait()
            stock.serve(visit, product, qty)
            db.session.commit()
            results.append("ok")
        except DomainError as exc:
            db.session.rollback()
            results.append("out" if exc.msgid == OUT_OF_STOCK else repr(exc))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            db.session.rollback()
            results.append(repr(exc))
        finally:
            db.session.remove()


def test_two_clerks_serving_the_last_bottle_at_once_exactly_one_succeeds(app, dbs):
    site, water = make_product("SZ01", qty=1)
    visit_a, visit_b = make_visit(site), make_visit(site)
    dbs.commit()
    ids = (visit_a.id, visit_b.id, water.id)
    site_id = site.id
    dbs.remove()
    results, barrier = [], threading.Barrier(2)
    threads = [
        threading.Thread(target=_serve_in_thread, args=(app, vid, ids[2], 1, results, barrier))
        for vid in ids[:2]
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["ok", "out"]
    site = dbs.get(Site, site_id)
    water = dbs.get(Product, ids[2])
    assert stock.balance(site, water) == 0
    assert dbs.scalar(select(func.count()).where(StockMovement.kind == "served")) == 1
    assert dbs.scalar(select(func.count()).select_from(ConsumptionLine)) == 1


def test_eight_clerks_serving_at_once_lose_no_update(app, dbs):
    threads_count, serves_each = 8, 5
    site, coffee = make_product("SZ01", "咖啡", qty=100)
    visit = make_visit(site)
    dbs.commit()
    visit_id, product_id, site_id = visit.id, coffee.id, site.id
    dbs.remove()
    results, barrier = [], threading.Barrier(threads_count)

    def worker():
        local = []
        inner = threading.Barrier(1)
        barrier.wait()
        for _ in range(serves_each):
            _serve_in_thread(app, visit_id, product_id, 1, local, inner)
        results.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results.count("ok") == threads_count * serves_each, results
    served = threads_count * serves_each
    assert stock.balance(dbs.get(Site, site_id), dbs.get(Product, product_id)) == 100 - served
    total = dbs.scalar(
        select(func.sum(StockMovement.quantity)).where(StockMovement.product_id == product_id)
    )
    assert total == 100 - served


# ---------------------------------------------------------------- HTTP


def test_serve_page_serves_in_one_tap_and_refuses_too_many_with_400(app, login):
    with arranged(app):
        site, juice = make_product("SZ01", "橙汁", qty=2)
        visit_id, juice_id = make_visit(site).id, juice.id
    c = login("clerk_sz01")
    page = c.get(f"/visits/serve?id={visit_id}").get_data(as_text=True)
    assert "橙汁" in page and "库存 2" in page
    resp = c.post("/visits/serve", {"id": visit_id, "product": juice_id, "quantity": 2})
    assert resp.status_code == 302
    resp = c.post("/visits/serve", {"id": visit_id, "product": juice_id, "quantity": 1})
    assert resp.status_code == 400
    assert "橙汁 库存只剩 0 瓶，不能出库 1。" in resp.get_data(as_text=True)
    with arranged(app) as s:
        assert s.scalar(select(func.count()).select_from(ConsumptionLine)) == 1
        assert s.scalar(select(StockBalance.qty)) == 0


def test_serve_is_scoped_and_needs_the_clerk_role(app, login):
    with arranged(app):
        site, _ = make_product("SZ01", qty=5)
        other_site, other_water = make_product("SH01", qty=5)
        other_visit, own_visit, other_water_id = (
            make_visit(other_site).id,
            make_visit(site).id,
            other_water.id,
        )
    c = login("clerk_sz01")
    assert (
        c.post(
            "/visits/serve", {"id": other_visit, "product": other_water_id, "quantity": 1}
        ).status_code
        == 404
    )
    resp = c.post("/visits/serve", {"id": own_visit, "product": other_water_id, "quantity": 1})
    assert resp.status_code == 400  # a product of another site is not offered
    assert login("guard_sz01").get(f"/visits/serve?id={own_visit}").status_code == 403
    with arranged(app) as s:
        assert s.scalar(select(func.count()).select_from(ConsumptionLine)) == 0


def test_stock_form_restock_wastage_and_correction(app, login):
    with arranged(app):
        _, tea = make_product("SZ01", "绿茶", qty=5)
        tea = tea.id
    c = login("clerk_sz01")
    assert c.post("/stock/", {"kind": "restock", "product": tea, "quantity": 10}).status_code == 302
    assert (
        c.post(
            "/stock/", {"kind": "wastage", "product": tea, "quantity": 1, "reason": "过期"}
        ).status_code
        == 302
    )
    resp = c.post("/stock/", {"kind": "correction", "product": tea, "quantity": 12})
    assert resp.status_code == 400 and "请填写调整原因。" in resp.get_data(as_text=True)
    resp = c.post("/stock/", {"kind": "wastage", "product": tea, "quantity": 99, "reason": "x"})
    assert resp.status_code == 400 and "不能出库 99" in resp.get_data(as_text=True)
    assert (
        c.post("/stock/", {"kind": "restock", "product": tea, "quantity": "abc"}).status_code == 400
    )
    assert (
        c.post(
            "/stock/", {"kind": "correction", "product": tea, "quantity": 12, "reason": "盘点"}
        ).status_code
        == 302
    )
    with arranged(app) as s:
        assert s.scalar(select(StockBalance.qty)) == 12
        assert [k for (k,) in s.execute(select(StockMovement.kind).order_by(StockMovement.id))] == [
            "restock",
            "restock",
            "wastage",
            "correction",
        ]


def test_stock_form_refuses_a_product_of_another_site_and_posts_need_csrf(app, login):
    with arranged(app):
        _, other = make_product("SH01", qty=5)
        _, own = make_product("SZ01", qty=5)
        other, own = other.id, own.id
    c = login("clerk_sz01")
    assert (
        c.post("/stock/", {"kind": "restock", "product": other, "quantity": 1}).status_code == 400
    )
    assert (
        c.post(
            "/stock/", {"kind": "restock", "product": own, "quantity": 1}, csrf=False
        ).status_code
        == 400
    )
    with arranged(app) as s:
        assert s.scalar(select(func.count()).select_from(StockMovement)) == 2


def test_the_balance_is_not_an_editable_field(app, login):
    with arranged(app):
        make_product("SZ01", qty=5)
    c = login("clerk_sz01")
    page = c.get("/product/new/").get_data(as_text=True)
    assert 'name="qty"' not in page and 'name="balance"' not in page
    listing = c.get("/product/").get_data(as_text=True)
    assert "矿泉水" in listing


def test_a_failure_mid_serve_rolls_back_the_ledger_and_the_balance_together(app, dbs, monkeypatch):
    site, water = make_product("SZ01", qty=5)
    visit = make_visit(site)
    dbs.commit()

    def broken_audit(*args, **kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(stock.audit, "record", broken_audit)
    with pytest.raises(RuntimeError):
        stock.serve(visit, water, 2)
    dbs.rollback()
    assert stock.balance(site, water) == 5
    assert dbs.scalar(select(func.count()).where(StockMovement.kind == "served")) == 0
    assert counts(ConsumptionLine) == 0


def test_concurrent_serves_over_http_never_oversell(app, login):
    """8 clerks' tablets × 3 taps on a product with 20 in stock: 20 served, 4 refused, 0 left."""
    with arranged(app):
        site, cola = make_product("SZ01", "可乐", qty=20)
        visit_id, cola_id = make_visit(site).id, cola.id
    clients = [login("clerk_sz01") for _ in range(8)]
    tokens = [c.token() for c in clients]
    statuses, barrier = [], threading.Barrier(len(clients))

    def tablet(client, token):
        barrier.wait()
        for _ in range(3):
            resp = client.post(
                "/visits/serve",
                {"id": visit_id, "product": cola_id, "quantity": 1, "csrf_token": token},
            )
            statuses.append(resp.status_code)

    threads = [
        threading.Thread(target=tablet, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(statuses) == [302] * 20 + [400] * 4
    with arranged(app) as s:
        assert s.scalar(select(StockBalance.qty).where(StockBalance.product_id == cola_id)) == 0
        assert s.scalar(select(func.sum(ConsumptionLine.quantity))) == 20
