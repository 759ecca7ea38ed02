"""Development data of visits and consumables (one story: every drink served is a ledger
movement of a visit, and the daily tally counts them): products with opening stock per site,
yesterday's tally closed at tally time (the shelf matched the ledger), a few visits for today
(some still open, some served); the visits, drinks and tallies of the past days; the
benchmark's products, visits, ledger and tallies."""

from datetime import time, timedelta

from sqlalchemy import select, update

from portal import clock
from portal.devdata.bench import CHUNK, local, stamp, stamped
from portal.devdata.history import at, bulk
from portal.extensions import db
from portal.models import (
    ConsumptionLine,
    DailyTally,
    DailyTallyLine,
    Product,
    StaffMember,
    StockBalance,
    StockMovement,
    User,
    Visit,
    utcnow,
)
from portal.models.consumables import closed_same_day
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
# Today's visits: minutes ago arrived, minutes ago left, adults, children, salesperson index,
# served.
TODAY = [
    (150, 95, 2, 1, 0, [("矿泉水", 2), ("橙汁", 1), ("曲奇饼干", 1)]),
    (80, 30, 3, 0, 1, [("咖啡", 2), ("绿茶", 1)]),
    (40, None, 2, 0, 0, [("矿泉水", 1), ("可乐", 1)]),
    (12, None, 1, 2, None, []),
]


def seed(sites):
    for site in sites.values():
        seed_products(site)
    db.session.flush()
    for site in sites.values():
        _close_yesterday(site)
        _seed_visits(site)


def seed_products(site):
    """The products of the site, each with its opening stock (idempotent)."""
    existing = set(db.session.scalars(select(Product.name).where(Product.site_id == site.id)))
    opening_day = clock.local_day(site) - timedelta(days=1)
    for name, kind, unit, reorder, opening in PRODUCTS:
        if name in existing:
            continue
        product = Product(
            site_id=site.id, name=name, kind=kind, unit=unit, reorder_level=reorder, active=True
        )
        db.session.add(product)
        db.session.flush()
        # Opening stock is itself a ledger movement (a restock the day before).
        stock.restock(
            site, product, opening, reason="期初库存", at=clock.local_at(opening_day, time(9), site)
        )


def _close_yesterday(site):
    """Yesterday's tally, closed five minutes after tally time by the site's clerk."""
    day = clock.local_day(site) - timedelta(days=1)
    if (
        db.session.scalar(
            select(DailyTally.id).where(DailyTally.site_id == site.id, DailyTally.day == day)
        )
        is not None
    ):
        return
    clerk = db.session.scalar(select(User).where(User.username == f"clerk_{site.code.lower()}"))
    when = clock.local_at(day, site.tally_time, site) + timedelta(minutes=5)
    figures = tally.compute_tally(site, day)
    tally.close_tally(
        site, day, {row.product.id: row.expected for row in figures.rows}, clerk, now=when
    )


def _seed_visits(site):
    if db.session.scalar(select(Visit.id).where(Visit.site_id == site.id).limit(1)) is not None:
        return
    sales = db.session.scalars(
        select(StaffMember)
        .where(StaffMember.site_id == site.id, StaffMember.kind == "sales")
        .order_by(StaffMember.user_id.is_(None), StaffMember.id)
    ).all()
    products = {
        p.name: p for p in db.session.scalars(select(Product).where(Product.site_id == site.id))
    }
    now = utcnow()
    for ago, left_ago, adults, children, who, served in TODAY:
        host = sales[who] if who is not None and who < len(sales) else None
        visit = visits.record_arrival(
            site, adults, children, at=now - timedelta(minutes=ago), salesperson=host
        )
        for name, qty in served:
            stock.serve(visit, products[name], qty, at=visit.arrived_at + timedelta(minutes=5))
        if left_ago is not None:
            visits.record_departure(visit, "main_gate", at=now - timedelta(minutes=left_ago))


# ------------------------------------------------------------------ the demo's past days


def history(past):
    """Visits with the drinks they were served (a ledger movement and a consumption line
    each), then a tally per day."""
    sid, rows, served = past.site.id, [], []  # served: (visit index, product, qty, day, at)
    drinks = list(
        db.session.scalars(
            select(Product.id)
            .where(Product.site_id == sid, Product.kind == "drink", Product.active.is_(True))
            .order_by(Product.id)
        )
    )
    came = {}  # day -> [visits, visitors], what the day's tally records
    for day in past.days:
        rng = past.rng(day, "visits")
        mean = past.c.visitors_per_day[1 if day.weekday() >= 5 else 0]
        for _ in range(max(0, round(rng.gauss(mean, mean / 5)))):
            arrived = at(day, rng.randint(9, 17), rng.randint(0, 59))
            adults, children = rng.choice((1, 2, 2, 2, 3)), rng.choice((0, 0, 0, 1, 2))
            counts = came.setdefault(day, [0, 0])
            counts[0] += 1
            counts[1] += adults + children
            rows.append(
                {
                    "site_id": sid,
                    "arrived_at": arrived,
                    "created_at": arrived,
                    "updated_at": arrived,
                    "left_at": arrived + timedelta(minutes=rng.randint(25, 100)),
                    "adults": adults,
                    "children": children,
                    "salesperson_id": rng.choice(past.sales),
                    "shuttle_used": rng.random() < 0.2,
                    "departure_direction": "main_gate",
                }
            )
            served_drinks = (
                sum(
                    1
                    for _ in range(adults + children)
                    if rng.random() < past.c.drinks_per_visitor / 2
                )
                * 2
            )
            for _ in range(served_drinks // 2 if drinks else 0):
                served.append(
                    (len(rows) - 1, rng.choice(drinks), rng.choice((1, 1, 2)), day, arrived)
                )
    visit_ids = bulk(Visit, rows, returning=True)
    moves = [
        {
            "site_id": sid,
            "product_id": p,
            "kind": "served",
            "quantity": -q,
            "at": t,
            "day": d,
            "visit_id": visit_ids[v],
            "created_at": t,
            "updated_at": t,
            "created_by_id": past.clerk,
        }
        for v, p, q, d, t in served
    ]
    move_ids = bulk(StockMovement, moves, returning=True)
    bulk(
        ConsumptionLine,
        [
            {
                "site_id": sid,
                "visit_id": visit_ids[v],
                "product_id": p,
                "quantity": q,
                "movement_id": mid,
                "created_at": t,
                "updated_at": t,
            }
            for (v, p, q, d, t), mid in zip(served, move_ids, strict=True)
        ],
    )
    per_day = {}
    for _v, p, q, d, _t in served:
        per_day.setdefault(d, {}).setdefault(p, 0)
        per_day[d][p] += q
    _tallies(past, drinks, per_day, came)


def _tallies(past, drinks, per_day, came):
    """A tally per day. Each morning the fridge is refilled to what the day will need plus a
    small buffer; the 17:50 count books its variance as a correction. What is left at the
    end of the history stays in stock (added to the balance, so ledger and balance agree)."""
    sid, tallies, lines, moves = past.site.id, [], [], []
    shelf = {p: 0 for p in drinks}  # the ledger before the history is empty
    for day in past.days:
        rng = past.rng(day, "tally")
        on_time = rng.random() < past.c.on_time_rate
        closed = (
            at(day, 17, rng.randint(50, 70))
            if on_time
            else at(day + timedelta(days=1), 9, rng.randint(0, 50))
        )
        served = per_day.get(day, {})
        tallies.append(
            {
                "site_id": sid,
                "day": day,
                "closed_at": closed,
                "closed_by_id": past.clerk,
                "same_day": closed_same_day(day, closed, past.site.timezone),
                "visits": came.get(day, (0, 0))[0],
                "visitors": came.get(day, (0, 0))[1],
                "drinks_served": sum(served.values()),
                "snacks_served": 0,
                "created_at": closed,
                "updated_at": closed,
                "created_by_id": past.clerk,
            }
        )
        day_lines = []
        for p in drinks:
            opening, out = shelf[p], served.get(p, 0)
            restock = max(0, out + rng.randint(6, 12) - opening)
            expected = opening + restock - out
            variance = (
                rng.choice((-1, -1, 1, -2))
                if out >= 3 and rng.random() > past.c.on_time_rate
                else 0
            )
            variance = max(variance, -expected)
            if restock:
                moves.append(
                    {
                        "site_id": sid,
                        "product_id": p,
                        "kind": "restock",
                        "quantity": restock,
                        "at": at(day, 8, 45),
                        "day": day,
                        "reason": "早班补货",
                        "created_by_id": past.clerk,
                    }
                )
            if variance:
                moves.append(
                    {
                        "site_id": sid,
                        "product_id": p,
                        "kind": "correction",
                        "quantity": variance,
                        "at": closed,
                        "day": day,
                        "reason": "盘点差异",
                        "created_by_id": past.clerk,
                        "tally_index": len(tallies) - 1,
                    }
                )
            day_lines.append(
                {
                    "site_id": sid,
                    "product_id": p,
                    "opening": opening,
                    "restock": restock,
                    "served": out,
                    "wastage": 0,
                    "corrections": 0,
                    "expected": expected,
                    "counted": expected + variance,
                    "variance": variance,
                }
            )
            shelf[p] = expected + variance
        lines.append(day_lines)
    tally_ids = bulk(DailyTally, tallies, returning=True)
    for move in moves:
        index = move.pop("tally_index", None)
        move["tally_id"] = tally_ids[index] if index is not None else None
    bulk(StockMovement, moves)
    bulk(
        DailyTallyLine,
        [
            dict(line, tally_id=tid)
            for tid, day_lines in zip(tally_ids, lines, strict=True)
            for line in day_lines
        ],
    )
    for product_id, left in shelf.items():
        if left:
            stmt = update(StockBalance).where(StockBalance.product_id == product_id)
            if db.session.execute(stmt.values(qty=StockBalance.qty + left)).rowcount == 0:
                db.session.add(StockBalance(site_id=sid, product_id=product_id, qty=left))


# ------------------------------------------------------------------ the benchmark


def generate(ctx, visits_per_day=(0, 4), count_share=0.6):
    """Products (10 per site) and their balances; ~2 visits per site and day with served
    lines (a ``served`` movement + a consumption line each); restocks when a product runs
    low; the daily count (a ``correction`` when the shelf differs from the ledger); one
    closed tally per site and day (its totals; no tally lines, which would add 10 rows per
    site and day). Every balance ends at its ledger's sum."""
    sales = {}
    for staff_id, site_id in db.session.execute(
        select(StaffMember.id, StaffMember.site_id)
        .where(StaffMember.kind == "sales")
        .order_by(StaffMember.id)
    ):
        sales.setdefault(site_id, []).append(staff_id)
    product_ids, visit_ids = ctx.ids(Product), ctx.ids(Visit)
    move_ids, tally_ids = ctx.ids(StockMovement), ctx.ids(DailyTally)
    products, balances, tallies = [], [], []
    taken = set(tuple(row) for row in db.session.execute(select(Product.site_id, Product.name)))
    tallied = set(
        tuple(row) for row in db.session.execute(select(DailyTally.site_id, DailyTally.day))
    )
    plan = {}  # site -> [[product id, kind, reorder, qty]]
    for site_id in ctx.site_ids:
        plan[site_id] = []
        for name, kind, unit, reorder, _opening in PRODUCTS:
            pid = next(product_ids)
            plan[site_id].append([pid, kind, reorder, 0])
            products.append(
                {
                    "id": pid,
                    "site_id": site_id,
                    "name": name if (site_id, name) not in taken else f"{name}（基准）",
                    "kind": kind,
                    "unit": unit,
                    "reorder_level": reorder,
                    "active": True,
                    "deleted_at": None,
                    "deleted_by_id": None,
                    **stamp(ctx),
                }
            )
    ctx.insert(Product, products)
    rows, moves, lines = [], [], []

    def move(site_id, product, kind, qty, when, day, user, visit_id=None, reason=None):
        product[3] += qty
        mid = next(move_ids)
        moves.append(
            {
                "id": mid,
                "site_id": site_id,
                "product_id": product[0],
                "kind": kind,
                "quantity": qty,
                "at": when,
                "day": day,
                "reason": reason,
                "visit_id": visit_id,
                "tally_id": None,
                **stamped(when, user),
            }
        )
        return mid

    def flush():
        ctx.insert(Visit, rows)
        ctx.insert(StockMovement, moves)
        ctx.insert(ConsumptionLine, lines)
        for batch in (rows, moves, lines):
            batch.clear()

    for day in ctx.each_day():
        for site_id in ctx.site_ids:
            clerk = ctx.someone(site_id, ("clerk",))
            shelf = plan[site_id]
            for product in shelf:  # morning restock of what ran low
                if product[3] <= product[2]:
                    move(
                        site_id,
                        product,
                        "restock",
                        product[2] * 4,
                        local(ctx, site_id, day, 8, 45),
                        day,
                        clerk,
                        reason="补货",
                    )
            n_visits, visitors, drinks, snacks = ctx.rng.randint(*visits_per_day), 0, 0, 0
            for _ in range(n_visits):
                vid, arrived = next(visit_ids), ctx.moment(site_id, day, time(9, 30), time(17, 30))
                adults, children = ctx.rng.randint(1, 4), ctx.rng.choice((0, 0, 0, 1, 2))
                visitors += adults + children
                rows.append(
                    {
                        "id": vid,
                        "site_id": site_id,
                        "arrived_at": arrived,
                        "left_at": arrived + timedelta(minutes=ctx.rng.randint(15, 120)),
                        "adults": adults,
                        "children": children,
                        "salesperson_id": (
                            ctx.rng.choice(sales[site_id]) if sales.get(site_id) else None
                        ),
                        "show_unit_id": None,
                        "shuttle_used": ctx.rng.random() < 0.2,
                        "departure_direction": ctx.rng.choice(
                            ("main_gate", "parking", "east_gate")
                        ),
                        "notes": None,
                        "deleted_at": None,
                        "deleted_by_id": None,
                        **stamped(arrived, clerk),
                    }
                )
                for product in ctx.rng.sample(shelf, ctx.rng.randint(1, 3)):
                    qty = min(ctx.rng.randint(1, adults + children), product[3])
                    if qty <= 0:
                        continue
                    served_at = arrived + timedelta(minutes=5)
                    mid = move(
                        site_id, product, "served", -qty, served_at, day, clerk, visit_id=vid
                    )
                    lines.append(
                        {
                            "site_id": site_id,
                            "visit_id": vid,
                            "product_id": product[0],
                            "quantity": qty,
                            "movement_id": mid,
                            **stamped(served_at, clerk),
                        }
                    )
                    if product[1] == "drink":
                        drinks += qty
                    else:
                        snacks += qty
            closing = local(ctx, site_id, day, 17, 50)
            for product in shelf:  # the daily count: the shelf differs from the ledger now and then
                if ctx.rng.random() < count_share:
                    delta = ctx.rng.choice((-1, 1)) if product[3] > 0 else 1
                    move(site_id, product, "correction", delta, closing, day, clerk, reason="盘点")
            if (site_id, day) in tallied:
                continue
            tallies.append(
                {
                    "id": next(tally_ids),
                    "site_id": site_id,
                    "day": day,
                    "closed_at": closing,
                    "same_day": closed_same_day(day, closing, ctx.site_tz[site_id]),
                    "closed_by_id": clerk,
                    "visits": n_visits,
                    "visitors": visitors,
                    "drinks_served": drinks,
                    "snacks_served": snacks,
                    **stamped(closing, clerk),
                }
            )
        if len(moves) > CHUNK * 4:
            flush()
    flush()
    ctx.insert(DailyTally, tallies)
    for site_id in ctx.site_ids:
        balances.extend(
            {"site_id": site_id, "product_id": pid, "qty": qty} for pid, _, _, qty in plan[site_id]
        )
    ctx.insert(StockBalance, balances)
