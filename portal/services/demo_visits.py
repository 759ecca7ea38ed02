"""Demo data of visits and consumables: products with opening stock per site, yesterday's
tally closed at tally time (the shelf matched the ledger), and a few visits for today (some
still open, some served)."""
from datetime import datetime, time, timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import DailyTally, Product, StaffMember, User, Visit, utcnow
from portal.services import stock, tally, visits

# name, kind, unit, reorder level, opening stock
PRODUCTS = [
    ("矿泉水", "drink", "瓶", 24, 96),
    ("可乐", "drink", "罐", 12, 48),
    ("雪碧", "drink", "罐", 12, 36),
    ("橙汁", "drink", "瓶", 6, 18),
    ("咖啡", "drink", "杯", 10, 60),
    ("绿茶", "drink", "瓶", 12, 10),
    ("红茶", "drink", "瓶", 12, 30),
    ("曲奇饼干", "snack", "包", 10, 40),
    ("坚果", "snack", "袋", 8, 6),
    ("小蛋糕", "snack", "个", 6, 20),
]


def seed(sites):
    for site in sites.values():
        _seed_products(site)
    db.session.flush()
    for site in sites.values():
        _close_yesterday(site)
        _seed_visits(site)


def _seed_products(site):
    existing = set(db.session.scalars(select(Product.name).where(Product.site_id == site.id)))
    opening_day = visits.site_today(site) - timedelta(days=1)
    for name, kind, unit, reorder, opening in PRODUCTS:
        if name in existing:
            continue
        product = Product(site_id=site.id, name=name, kind=kind, unit=unit, reorder_level=reorder, active=True)
        db.session.add(product)
        db.session.flush()
        # Opening stock is itself a ledger movement (a restock the day before).
        stock.restock(site, product, opening, reason="期初库存",
                      at=datetime.combine(opening_day, time(9), visits.site_zone(site)))


def _close_yesterday(site):
    """Yesterday's tally, closed five minutes after tally time by the site's clerk."""
    day = visits.site_today(site) - timedelta(days=1)
    if db.session.scalar(select(DailyTally.id).where(DailyTally.site_id == site.id, DailyTally.day == day)) is not None:
        return
    clerk = db.session.scalar(select(User).where(User.username == f"clerk_{site.code.lower()}"))
    at = datetime.combine(day, site.tally_time, visits.site_zone(site)) + timedelta(minutes=5)
    figures = tally.compute_tally(site, day)
    tally.close_tally(site, day, {row.product.id: row.expected for row in figures.rows}, clerk, now=at)


def _seed_visits(site):
    if db.session.scalar(select(Visit.id).where(Visit.site_id == site.id).limit(1)) is not None:
        return
    sales = db.session.scalars(select(StaffMember).where(StaffMember.site_id == site.id, StaffMember.kind == "sales")
                               .order_by(StaffMember.user_id.is_(None), StaffMember.id)).all()
    products = {p.name: p for p in db.session.scalars(select(Product).where(Product.site_id == site.id))}
    now = utcnow()
    # (minutes ago arrived, minutes ago left, adults, children, salesperson index, served)
    plan = [
        (150, 95, 2, 1, 0, [("矿泉水", 2), ("橙汁", 1), ("曲奇饼干", 1)]),
        (80, 30, 3, 0, 1, [("咖啡", 2), ("绿茶", 1)]),
        (40, None, 2, 0, 0, [("矿泉水", 1), ("可乐", 1)]),
        (12, None, 1, 2, None, []),
    ]
    for ago, left_ago, adults, children, who, served in plan:
        visit = visits.record_arrival(site, adults, children, at=now - timedelta(minutes=ago),
                                      salesperson=sales[who] if who is not None and who < len(sales) else None)
        for name, qty in served:
            stock.serve(visit, products[name], qty, at=visit.arrived_at + timedelta(minutes=5))
        if left_ago is not None:
            visits.record_departure(visit, "main_gate", at=now - timedelta(minutes=left_ago))
