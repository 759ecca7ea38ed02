"""A large, realistic, deterministic dataset for the benchmark (``flask bench seed``).

The dataset is the demo organisation (its users keep their demo passwords, so the
benchmark logs in as ``clerk_sz01``, ``sup_south``, ``admin`` …) grown to ``sites``
sites in 10 regions, with the people and the history of ``days`` days up to ``end``.

Each entry of ``GENERATORS`` is ``(name, function)``; the function gets a
``SeedContext`` and inserts its rows with ``ctx.insert(Model, rows)``. A domain adds its
tables by writing ``generate_<domain>(ctx)`` and adding it to the list (before
``audit``). Every generator gets its own ``random.Random`` seeded from the seed and its
name, so adding a generator never changes the rows of the others.

Rows go in through Core bulk inserts (``db.session.execute(insert(table), rows)``, in
chunks): they never pass through the ORM flush, so the audit-trail listener does not
write an event per generated row. That is intended for a benchmark dataset; the
``audit`` generator writes a year of plausible audit events instead.
"""
import random
import time as clock
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text
from werkzeug.security import generate_password_hash

from portal.extensions import db
from portal.models import AuditEvent, Region, ShowUnit, Site, StaffMember, User, user_region, user_site
from portal.services import audit

CHUNK = 5000
DEMO_SITES = 4  # SZ01 SZ02 SH01 SH02 come from the demo organisation

# code, name, city code, city: the demo regions first, then eight more.
REGIONS = [
    ("SOUTH", "华南区", "SZ", "深圳"), ("EAST", "华东区", "SH", "上海"), ("NORTH", "华北区", "BJ", "北京"),
    ("CENTRAL", "华中区", "WH", "武汉"), ("SW", "西南区", "CD", "成都"), ("NW", "西北区", "XA", "西安"),
    ("NE", "东北区", "SY", "沈阳"), ("GBA", "大湾区", "GZ", "广州"), ("YRD", "长三角区", "HZ", "杭州"),
    ("WEST", "西部区", "UR", "乌鲁木齐"),
]
TIMEZONES = {"UR": "Asia/Urumqi"}  # every other city runs on Beijing time
TALLY_TIMES = (time(17, 30), time(17, 50), time(18, 0), time(18, 30))
DISTRICTS = ("滨江", "中央公园", "湖畔", "云端", "金融城", "科学城", "东湖", "西岸", "南山", "北辰")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌婷雪梅海燕晓东俊凯"
# Site roles per site and what each is on the roster as.
PER_SITE = (("clerk", 2), ("security", 2), ("sales", 5))
AUDIT_TYPES = (("visit", 5), ("drink_movement", 4), ("checklist_run", 3), ("handover_entry", 2),
               ("repair_ticket", 1), ("staff_member", 1))
AUDIT_ACTIONS = (("create", 6), ("update", 3), ("sign", 1), ("delete", 1))


@dataclass
class SeedContext:
    """What every generator gets: sizes, the ids made so far, a private rng, ``insert``."""

    seed: int
    sites: int
    days: int
    end: date
    rng: random.Random = None
    region_ids: list = field(default_factory=list)
    site_ids: list = field(default_factory=list)  # in code order; the demo sites first
    site_tz: dict = field(default_factory=dict)  # site id -> ZoneInfo
    site_users: dict = field(default_factory=dict)  # site id -> {role: [user ids]}
    user_ids: dict = field(default_factory=dict)  # role -> [user ids]
    counts: dict = field(default_factory=dict)  # table name -> rows inserted
    items: dict = field(default_factory=dict)  # site id -> [(item id, expected quantity)]
    progress: callable = print

    @property
    def first_day(self):
        return self.end - timedelta(days=self.days - 1)

    def each_day(self):
        for n in range(self.days):
            yield self.first_day + timedelta(days=n)

    def moment(self, site_id, day, start=time(9, 0), end=time(18, 0)):
        """A random aware UTC datetime between ``start`` and ``end`` (site local time) on ``day``."""
        span = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        minutes = start.hour * 60 + start.minute + self.rng.randrange(max(span, 1))
        local = datetime.combine(day, time(minutes // 60, minutes % 60, self.rng.randrange(60)),
                                 tzinfo=self.site_tz[site_id])
        return local.astimezone(timezone.utc)

    def pick_user(self, site_id, roles=("clerk", "security", "sales")):
        people = [u for r in roles for u in self.site_users.get(site_id, {}).get(r, [])]
        return self.rng.choice(people) if people else None

    def someone(self, site_id, roles):
        """A user of ``roles`` at the site, else anyone there, else the first head-office user
        (a demo site may have no clerk): for NOT NULL author columns."""
        return self.pick_user(site_id, roles) or self.pick_user(site_id) or self.user_ids["admin"][0]

    def ids(self, model):
        """Explicit ids for new rows of ``model``, past those already there (see ``reset_sequences``)."""
        from itertools import count

        return count((db.session.scalar(select(func.max(model.id))) or 0) + 1)

    def insert(self, model, rows):
        """Bulk-insert an iterable of dicts in chunks of ``CHUNK``; returns the number of rows."""
        table = getattr(model, "__table__", model)
        total, chunk = 0, []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                total += self._flush(table, chunk)
                chunk = []
        if chunk:
            total += self._flush(table, chunk)
        self.counts[table.name] = self.counts.get(table.name, 0) + total
        return total

    def _flush(self, table, chunk):
        db.session.execute(insert(table), chunk)
        return len(chunk)


def weighted(rng, pairs):
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def person_name(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _stamp(ctx):
    """created/updated columns for a generated row: the first day, at 08:00 UTC."""
    at = datetime.combine(ctx.first_day, time(8, 0), tzinfo=timezone.utc)
    return {"created_at": at, "updated_at": at, "created_by_id": None, "updated_by_id": None}


# ------------------------------------------------------------------ generators

def generate_org(ctx):
    """Regions (10) and sites up to ``ctx.sites`` with timezones, tally times and show units."""
    from portal.services import demo

    demo.seed_org()  # the demo sites and users, with their passwords
    existing = set(db.session.scalars(select(Region.code)))
    ctx.insert(Region, ({"code": code, "name": name, "active": True, **_stamp(ctx)}
                        for code, name, _, _ in REGIONS if code not in existing))
    regions = dict(db.session.execute(select(Region.code, Region.id)).all())
    ctx.region_ids = [regions[code] for code, *_ in REGIONS]

    taken = set(db.session.scalars(select(Site.code)))
    new_sites, units = [], []
    for n in range(max(ctx.sites - DEMO_SITES, 0)):
        code, name, city_code, city = REGIONS[n % len(REGIONS)]
        number = n // len(REGIONS) + 1
        while f"{city_code}{number:02d}" in taken:
            number += 1
        site_code = f"{city_code}{number:02d}"
        taken.add(site_code)
        district = ctx.rng.choice(DISTRICTS)
        new_sites.append({
            "code": site_code, "name": f"{city}{district}售楼处{number}", "region_id": regions[code],
            "address": f"{city}市{district}大道{ctx.rng.randrange(1, 3000)}号",
            "timezone": TIMEZONES.get(city_code, "Asia/Shanghai"), "tally_time": ctx.rng.choice(TALLY_TIMES),
            "active": True, **_stamp(ctx)})
    ctx.insert(Site, new_sites)
    ctx.site_ids = []
    for site_id, tz in db.session.execute(select(Site.id, Site.timezone).order_by(Site.id)).all():
        ctx.site_ids.append(site_id)
        ctx.site_tz[site_id] = ZoneInfo(tz)
    ctx.site_ids = ctx.site_ids[: max(ctx.sites, DEMO_SITES)]
    has_unit = set(db.session.scalars(select(ShowUnit.site_id)))
    for site_id in ctx.site_ids:
        if site_id in has_unit:
            continue
        for k in range(ctx.rng.randint(2, 4)):
            units.append({"site_id": site_id, "name": f"样板房 {'ABCD'[k]} 户型", "active": True,
                          "location": f"销售中心{ctx.rng.choice('东南西北')}侧 {ctx.rng.randrange(50, 400)} 米",
                          **_stamp(ctx)})
    ctx.insert(ShowUnit, units)


def generate_people(ctx):
    """~10 users per site (clerks, guards, salespeople, maintenance), 2 supervisors per region,
    head office; their site/region links; the roster (users plus cleaners without a login).
    All generated users share one precomputed password hash (of the demo password)."""
    from portal.services import auth as accounts
    from portal.services import demo

    password_hash = generate_password_hash(demo.DEMO_PASSWORD, method=accounts.hash_method())
    demo_sites = set(ctx.site_ids[:DEMO_SITES])
    users, site_links, region_links, staff = [], [], [], []

    def user(username, role):
        users.append({"username": username, "display_name": person_name(ctx.rng), "role": role,
                      "locale": None, "active": True, "password_hash": password_hash,
                      "session_token": "%032x" % ctx.rng.getrandbits(128), "last_login_at": None,
                      **_stamp(ctx)})
        return username

    plan = []  # (username, role, site ids, region ids)
    for n, site_id in enumerate(ctx.site_ids):
        if site_id in demo_sites:
            continue
        for role, count in PER_SITE:
            for k in range(count):
                plan.append((user(f"{role}_{site_id}_{k + 1}", role), role, [site_id], []))
        if n % 2 == 0:
            pair = ctx.site_ids[n:n + 2]
            plan.append((user(f"maint_{site_id}", "maintenance"), "maintenance", pair, []))
    for _k, region_id in enumerate(ctx.region_ids[2:], start=1):
        for j in (1, 2):
            plan.append((user(f"sup_{region_id}_{j}", "supervisor"), "supervisor", [], [region_id]))
    for k in range(1, 4):
        plan.append((user(f"office_{k}", "admin"), "admin", [], []))
    ctx.insert(User, users)

    ids = dict(db.session.execute(select(User.username, User.id)).all())
    kinds = {"clerk": "clerk", "security": "security", "sales": "sales", "maintenance": "maintenance"}
    names = {u["username"]: u["display_name"] for u in users}
    for username, role, sites, regions in plan:
        uid = ids[username]
        ctx.user_ids.setdefault(role, []).append(uid)
        for site_id in sites:
            site_links.append({"user_id": uid, "site_id": site_id})
            ctx.site_users.setdefault(site_id, {}).setdefault(role, []).append(uid)
            staff.append({"site_id": site_id, "name": names[username], "kind": kinds[role], "user_id": uid,
                          "phone": f"13{ctx.rng.randrange(10**9):09d}", "active": True, "notes": None,
                          **_stamp(ctx)})
        region_links.extend({"user_id": uid, "region_id": r} for r in regions)
    for site_id in ctx.site_ids:
        if site_id in demo_sites:
            continue
        for kind, count in (("cleaner", 3), ("sales", 1), ("other", 1)):
            for _ in range(count):
                staff.append({"site_id": site_id, "name": person_name(ctx.rng), "kind": kind, "user_id": None,
                              "phone": None, "active": True, "notes": None, **_stamp(ctx)})
    ctx.insert(user_site, site_links)
    ctx.insert(user_region, region_links)
    ctx.insert(StaffMember, staff)
    _add_demo_people(ctx, demo_sites)


def _add_demo_people(ctx, demo_sites):
    """The demo sites' own users, so generators can pick people there too."""
    rows = db.session.execute(
        select(user_site.c.site_id, User.id, User.role).join(User, User.id == user_site.c.user_id)
        .where(user_site.c.site_id.in_(demo_sites)).order_by(User.id)
    ).all()
    for site_id, uid, role in rows:
        ctx.site_users.setdefault(site_id, {}).setdefault(role, []).append(uid)


def generate_audit(ctx, per_site_day=14):
    """~14 audit events per site and day (≈1,000,000 for 200 sites × 365 days), each sealed in
    its site's hash chain (after the demo sites' own events) like the application's."""
    conn = db.session.connection()
    heads = {site_id: audit.chain_head(conn, site_id) for site_id in ctx.site_ids}

    def rows():
        for day in ctx.each_day():
            for site_id in ctx.site_ids:
                for _ in range(ctx.rng.randint(per_site_day // 2, per_site_day * 3 // 2)):
                    object_type = weighted(ctx.rng, AUDIT_TYPES)
                    action = weighted(ctx.rng, AUDIT_ACTIONS)
                    object_id = ctx.rng.randrange(1, 500_000)
                    yield audit.seal({
                        "at": ctx.moment(site_id, day, time(8, 30), time(20, 0)),
                        "user_id": ctx.pick_user(site_id), "site_id": site_id, "action": action,
                        "object_type": object_type, "object_id": object_id,
                        "summary": f"{object_type} #{object_id}",
                        "before": {"status": "open"} if action == "update" else None,
                        "after": {"status": "done"} if action in ("create", "update") else None,
                    }, heads)

    ctx.insert(AuditEvent, rows())


# ------------------------------------------------------------------ domain generators (phase 2)
# Rows that other rows point at get explicit ids (``ctx.ids``), so one pass writes parents
# and children without reading ids back; ``reset_sequences`` moves PostgreSQL's sequences
# past them at the end.

def _stamped(ctx, at, user_id=None):
    return {"created_at": at, "updated_at": at, "created_by_id": user_id, "updated_by_id": user_id}


def _local(ctx, site_id, day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=ctx.site_tz[site_id]).astimezone(timezone.utc)


def generate_items(ctx, per_site=30):
    """30 items per site (the demo inventory list), asset-tagged, for item checks."""
    from portal.models import Item
    from portal.services.demo_checklists import ITEMS

    ids, rows = ctx.ids(Item), []
    for site_id in ctx.site_ids:
        ctx.items[site_id] = []
        for number, (name, category, location, quantity) in enumerate(ITEMS[:per_site], start=1):
            item_id = next(ids)
            ctx.items[site_id].append((item_id, quantity))
            rows.append({"id": item_id, "site_id": site_id, "name": name, "category": category,
                         "location": location, "expected_quantity": quantity, "asset_tag": f"S{site_id}-{number:03d}",
                         "condition": "ok", "active": True, "deleted_at": None, "deleted_by_id": None,
                         **_stamp(ctx)})
    ctx.insert(Item, rows)


def generate_visits_stock(ctx, visits_per_day=(0, 4), count_share=0.6):
    """Products (10 per site) and their balances; ~2 visits per site and day with served
    lines (a ``served`` movement + a consumption line each); restocks when a product runs
    low; the daily count (a ``correction`` when the shelf differs from the ledger); one
    closed tally per site and day (its totals; no tally lines, which would add 10 rows per
    site and day). Every balance ends at its ledger's sum."""
    from portal.models import ConsumptionLine, DailyTally, Product, StaffMember, StockBalance, StockMovement, Visit
    from portal.models.consumables import closed_same_day
    from portal.services.demo_visits import PRODUCTS

    sales = {}
    for staff_id, site_id in db.session.execute(select(StaffMember.id, StaffMember.site_id)
                                                .where(StaffMember.kind == "sales").order_by(StaffMember.id)):
        sales.setdefault(site_id, []).append(staff_id)
    product_ids, visit_ids, move_ids, tally_ids = ctx.ids(Product), ctx.ids(Visit), ctx.ids(StockMovement), ctx.ids(DailyTally)
    products, balances, tallies = [], [], []
    taken = set(tuple(row) for row in db.session.execute(select(Product.site_id, Product.name)))
    tallied = set(tuple(row) for row in db.session.execute(select(DailyTally.site_id, DailyTally.day)))
    plan = {}  # site -> [(product id, kind, reorder, qty)]
    for site_id in ctx.site_ids:
        plan[site_id] = []
        for name, kind, unit, reorder, _opening in PRODUCTS:
            pid = next(product_ids)
            plan[site_id].append([pid, kind, reorder, 0])
            products.append({"id": pid, "site_id": site_id, "name": name if (site_id, name) not in taken else f"{name}（基准）",
                             "kind": kind, "unit": unit, "reorder_level": reorder, "active": True,
                             "deleted_at": None, "deleted_by_id": None, **_stamp(ctx)})
    ctx.insert(Product, products)
    visits, moves, lines = [], [], []

    def move(site_id, product, kind, qty, at, day, user, visit_id=None, reason=None):
        product[3] += qty
        mid = next(move_ids)
        moves.append({"id": mid, "site_id": site_id, "product_id": product[0], "kind": kind, "quantity": qty,
                      "at": at, "day": day, "reason": reason, "visit_id": visit_id, "tally_id": None,
                      **_stamped(ctx, at, user)})
        return mid

    def flush():
        ctx.insert(Visit, visits)
        ctx.insert(StockMovement, moves)
        ctx.insert(ConsumptionLine, lines)
        for batch in (visits, moves, lines):
            batch.clear()

    for day in ctx.each_day():
        for site_id in ctx.site_ids:
            clerk = ctx.someone(site_id, ("clerk",))
            stock = plan[site_id]
            for product in stock:  # morning restock of what ran low
                if product[3] <= product[2]:
                    move(site_id, product, "restock", product[2] * 4, _local(ctx, site_id, day, 8, 45), day, clerk,
                         reason="补货")
            n_visits, visitors, drinks, snacks = ctx.rng.randint(*visits_per_day), 0, 0, 0
            for _ in range(n_visits):
                vid, arrived = next(visit_ids), ctx.moment(site_id, day, time(9, 30), time(17, 30))
                adults, children = ctx.rng.randint(1, 4), ctx.rng.choice((0, 0, 0, 1, 2))
                visitors += adults + children
                visits.append({"id": vid, "site_id": site_id, "arrived_at": arrived,
                               "left_at": arrived + timedelta(minutes=ctx.rng.randint(15, 120)),
                               "adults": adults, "children": children,
                               "salesperson_id": ctx.rng.choice(sales[site_id]) if sales.get(site_id) else None,
                               "show_unit_id": None, "shuttle_used": ctx.rng.random() < 0.2,
                               "departure_direction": ctx.rng.choice(("main_gate", "parking", "east_gate")),
                               "notes": None, "deleted_at": None, "deleted_by_id": None,
                               **_stamped(ctx, arrived, clerk)})
                for product in ctx.rng.sample(stock, ctx.rng.randint(1, 3)):
                    qty = min(ctx.rng.randint(1, adults + children), product[3])
                    if qty <= 0:
                        continue
                    served_at = arrived + timedelta(minutes=5)
                    mid = move(site_id, product, "served", -qty, served_at, day, clerk, visit_id=vid)
                    lines.append({"site_id": site_id, "visit_id": vid, "product_id": product[0], "quantity": qty,
                                  "movement_id": mid, **_stamped(ctx, served_at, clerk)})
                    drinks, snacks = (drinks + qty, snacks) if product[1] == "drink" else (drinks, snacks + qty)
            closing = _local(ctx, site_id, day, 17, 50)
            for product in stock:  # the daily count: the shelf differs from the ledger now and then
                if ctx.rng.random() < count_share:
                    delta = ctx.rng.choice((-1, 1)) if product[3] > 0 else 1
                    move(site_id, product, "correction", delta, closing, day, clerk, reason="盘点")
            if (site_id, day) in tallied:
                continue
            tallies.append({"id": next(tally_ids), "site_id": site_id, "day": day, "closed_at": closing,
                            "same_day": closed_same_day(day, closing, ctx.site_tz[site_id]), "closed_by_id": clerk,
                            "visits": n_visits, "visitors": visitors,
                            "drinks_served": drinks, "snacks_served": snacks, **_stamped(ctx, closing, clerk)})
        if len(moves) > CHUNK * 4:
            flush()
    flush()
    ctx.insert(DailyTally, tallies)
    for site_id in ctx.site_ids:
        balances.extend({"site_id": site_id, "product_id": pid, "qty": qty} for pid, _, _, qty in plan[site_id])
    ctx.insert(StockBalance, balances)


def _template_items(ctx, name, kind, items):
    """A global checklist template (the demo's) and its items: [(item id, kind)]."""
    from portal.models import ChecklistItem, ChecklistTemplate

    template_id = db.session.scalar(select(ChecklistTemplate.id).where(ChecklistTemplate.name == name))
    if template_id is None:
        template_id = next(ctx.ids(ChecklistTemplate))
        ctx.insert(ChecklistTemplate, [{"id": template_id, "site_id": None, "name": name, "kind": kind, "active": True,
                                        "description": None, "deleted_at": None, "deleted_by_id": None, **_stamp(ctx)}])
        ctx.insert(ChecklistItem, [{"site_id": None, "template_id": template_id, "position": n, "label": label,
                                    "kind": item_kind, "active": True, **_stamp(ctx)}
                                   for n, (label, item_kind) in enumerate(items, start=1)])
    rows = db.session.execute(select(ChecklistItem.id, ChecklistItem.kind)
                              .where(ChecklistItem.template_id == template_id).order_by(ChecklistItem.position)).all()
    return template_id, rows


def generate_checklists(ctx, answers_per_run=3):
    """An opening and a closing run per site and day, done by a clerk. Only the first
    ``answers_per_run`` items are answered (the full 8–11 would add ~1.4M rows at 200×365)."""
    from portal.models import ChecklistAnswer, ChecklistRun
    from portal.services.demo_checklists import CLOSING, OPENING

    templates = [("opening", *_template_items(ctx, OPENING[0], "opening", OPENING[1])),
                 ("closing", *_template_items(ctx, CLOSING[0], "closing", CLOSING[1]))]
    run_ids, runs, answers = ctx.ids(ChecklistRun), [], []
    for day in ctx.each_day():
        for site_id in ctx.site_ids:
            for kind, template_id, items in templates:
                run_id, user = next(run_ids), ctx.someone(site_id, ("clerk",))
                at = _local(ctx, site_id, day, 9 if kind == "opening" else 18, ctx.rng.randrange(30))
                runs.append({"id": run_id, "site_id": site_id, "template_id": template_id, "kind": kind, "day": day,
                             "user_id": user, "status": "done",
                             "completion": round(100 * min(answers_per_run, len(items)) / len(items)),
                             "completed_at": at, **_stamped(ctx, at, user)})
                for item_id, item_kind in items[:answers_per_run]:
                    answers.append({"site_id": site_id, "run_id": run_id, "item_id": item_id,
                                    "value_bool": ctx.rng.random() > 0.03 if item_kind == "yes_no" else None,
                                    "value_number": ctx.rng.randint(0, 30) if item_kind == "number" else None,
                                    "value_text": None, "photo_name": None, **_stamped(ctx, at, user)})
        if len(answers) > CHUNK * 4:
            ctx.insert(ChecklistRun, runs)
            ctx.insert(ChecklistAnswer, answers)
            runs, answers = [], []
    ctx.insert(ChecklistRun, runs)
    ctx.insert(ChecklistAnswer, answers)


def generate_item_checks(ctx, every=14, recent=7):
    """Opening and closing item checks of every item, on every ``every``-th day and the last
    ``recent`` days (every day would be 4.4M lines at 200×365); ~2% of lines are discrepancies."""
    from portal.models import ItemCheck, ItemCheckLine

    check_ids, checks, lines = ctx.ids(ItemCheck), [], []
    done = set(tuple(row) for row in db.session.execute(select(ItemCheck.site_id, ItemCheck.kind, ItemCheck.day)))
    days = [d for n, d in enumerate(ctx.each_day()) if n % every == 0 or n >= ctx.days - recent]
    for day in days:
        for site_id in ctx.site_ids:
            for kind, hour in (("opening", 9), ("closing", 18)):
                if (site_id, kind, day) in done:
                    continue
                check_id, user, at = next(check_ids), ctx.someone(site_id, ("clerk",)), _local(ctx, site_id, day, hour)
                checks.append({"id": check_id, "site_id": site_id, "kind": kind, "day": day, "user_id": user,
                               "status": "done", "completed_at": at, **_stamped(ctx, at, user)})
                for position, (item_id, expected) in enumerate(ctx.items.get(site_id, ()), start=1):
                    bad = ctx.rng.random() < 0.02
                    lines.append({"site_id": site_id, "check_id": check_id, "item_id": item_id, "day": day,
                                  "position": position, "expected_quantity": expected,
                                  "counted_quantity": expected - 1 if bad else expected,
                                  "condition": "missing" if bad else "ok", "note": "少一件" if bad else None,
                                  "is_discrepancy": bad, "dealt_with": bad and day < ctx.end - timedelta(days=recent),
                                  "dealt_note": None, "dealt_by_id": None, "dealt_at": None,
                                  **_stamped(ctx, at, user)})
        ctx.insert(ItemCheck, checks)
        ctx.insert(ItemCheckLine, lines)
        checks, lines = [], []


HANDOVER_TEXTS = ("客户预约明早十点看样板房", "前台打印机缺纸，已报行政", "沙盘区灯带闪烁", "停车场东侧道闸反应慢",
                  "水吧咖啡豆剩半袋", "下午有团购客户约二十人", "样板房B户型钥匙交至保安岗")


def generate_handover(ctx, per_day=(0, 2)):
    """~1 handover entry per site and day (signed but for the last day) with 0–2 items to follow."""
    from portal.models import HandoverEntry, HandoverItem

    entry_ids, entries, items = ctx.ids(HandoverEntry), [], []
    for day in ctx.each_day():
        for site_id in ctx.site_ids:
            for _ in range(ctx.rng.randint(*per_day)):
                entry_id, author = next(entry_ids), ctx.someone(site_id, ("clerk", "security"))
                at = ctx.moment(site_id, day, time(12, 0), time(21, 0))
                signed = day < ctx.end
                signer = ctx.someone(site_id, ("clerk", "security")) if signed else None
                entries.append({"id": entry_id, "site_id": site_id, "post": "reception", "author_id": author,
                                "outgoing_shift_id": None, "incoming_shift_id": None, "written_at": at,
                                "text": ctx.rng.choice(HANDOVER_TEXTS), "signed_by_id": signer,
                                "signed_at": at + timedelta(hours=1) if signed else None,
                                "deleted_at": None, "deleted_by_id": None, **_stamped(ctx, at, author)})
                for _ in range(ctx.rng.choice((0, 0, 1, 2))):
                    closed = signed and ctx.rng.random() < 0.9
                    items.append({"site_id": site_id, "entry_id": entry_id, "root_id": None, "previous_id": None,
                                  "text": ctx.rng.choice(HANDOVER_TEXTS), "status": "closed" if closed else "open",
                                  "carried_by_id": None, "carried_at": None,
                                  "closed_by_id": signer if closed else None,
                                  "closed_at": at + timedelta(hours=2) if closed else None, "close_note": None,
                                  **_stamped(ctx, at, author)})
        if len(entries) > CHUNK:
            ctx.insert(HandoverEntry, entries)
            ctx.insert(HandoverItem, items)
            entries, items = [], []
    ctx.insert(HandoverEntry, entries)
    ctx.insert(HandoverItem, items)


EQUIPMENT = ("空调", "电动窗帘", "咖啡机", "投影仪", "门禁", "水龙头", "灯带", "音响", "自动门", "饮水机")


def generate_repairs(ctx, per_day=0.7, damage_share=0.06):
    """~0.7 repair tickets per site and day with their timeline (report, assignment, work,
    resolution, close); the last weeks' still open. A few percent come with a damage report."""
    from portal.models import DamageReport, RepairEvent, RepairTicket

    ticket_ids, tickets, events, damages = ctx.ids(RepairTicket), [], [], []
    maint = {}
    for site_id in ctx.site_ids:
        maint[site_id] = ctx.site_users.get(site_id, {}).get("maintenance", [])
    for n, day in enumerate(ctx.each_day()):
        age = ctx.days - n
        for site_id in ctx.site_ids:
            if ctx.rng.random() >= per_day:
                continue
            tid, reporter = next(ticket_ids), ctx.someone(site_id, ("clerk", "security"))
            if reporter is None:
                continue
            at = ctx.moment(site_id, day)
            assignee = ctx.rng.choice(maint[site_id]) if maint[site_id] else None
            status = "closed" if age > 21 else ctx.rng.choice(("new", "assigned", "in_progress", "resolved", "closed"))
            if assignee is None and status != "new":
                status = "new"
            resolved = at + timedelta(hours=ctx.rng.randint(2, 72)) if status in ("resolved", "closed") else None
            equipment = ctx.rng.choice(EQUIPMENT)
            tickets.append({"id": tid, "site_id": site_id, "equipment": equipment, "location": "接待大厅",
                            "description": f"{equipment}故障", "priority": weighted(ctx.rng, (("urgent", 1), ("high", 2), ("normal", 6), ("low", 2))),
                            "status": status, "due_at": at + timedelta(days=2), "reporter_id": reporter,
                            "assignee_id": assignee if status != "new" else None, "resolved_at": resolved,
                            "closed_at": resolved + timedelta(hours=4) if status == "closed" else None,
                            "cost": None, "parts_used": None, "resolution": "已修复" if resolved else None,
                            "deleted_at": None, "deleted_by_id": None, **_stamped(ctx, at, reporter)})
            steps = [("report", None, None, "new", reporter, at)]
            flow = ("new", "assigned", "in_progress", "resolved", "closed")
            for k in range(1, flow.index(status) + 1):
                steps.append(("transition", flow[k], flow[k - 1], flow[k], assignee, at + timedelta(hours=k)))
            events.extend({"site_id": site_id, "ticket_id": tid, "at": when, "user_id": who, "kind": kind,
                           "action": action, "from_status": before, "to_status": after, "text": None, "number": None}
                          for kind, action, before, after, who, when in steps)
            if ctx.rng.random() < damage_share:
                sales = ctx.site_users.get(site_id, {}).get("sales") or [reporter]
                damages.append({"site_id": site_id, "equipment": equipment, "location": "样板房",
                                "visit_description": "看房客户", "visit_at": at - timedelta(hours=1),
                                "description": f"客户参观时{equipment}损坏", "estimated_cost": None,
                                "status": "reviewed" if age > 21 else "pending", "reporter_id": reporter,
                                "salesperson_id": ctx.rng.choice(sales), "sales_answer": None, "sales_note": None,
                                "answered_at": None, "outcome": "waived" if age > 21 else None, "review_note": None,
                                "reviewed_by_id": None, "reviewed_at": None, "repair_ticket_id": tid,
                                "deleted_at": None, "deleted_by_id": None, **_stamped(ctx, at, reporter)})
        if len(events) > CHUNK * 2:
            ctx.insert(RepairTicket, tickets)
            ctx.insert(RepairEvent, events)
            tickets, events = [], []
    ctx.insert(RepairTicket, tickets)
    ctx.insert(RepairEvent, events)
    ctx.insert(DamageReport, damages)



def _site_staff(ctx, kinds, with_login=False):
    """site id -> [(staff id, user id)]: the active roster people of ``kinds`` at each site, by id."""
    from portal.models import StaffMember

    stmt = (select(StaffMember.id, StaffMember.site_id, StaffMember.user_id)
            .where(StaffMember.kind.in_(kinds), StaffMember.active.is_(True), StaffMember.site_id.in_(ctx.site_ids))
            .order_by(StaffMember.id))
    if with_login:
        stmt = stmt.where(StaffMember.user_id.is_not(None))
    result = {}
    for staff_id, site_id, user_id in db.session.execute(stmt):
        result.setdefault(site_id, []).append((staff_id, user_id))
    return result


def _supervisors(ctx):
    """site id -> user ids of its region's supervisors (the first head-office user where there is none)."""
    result = {}
    for site_id, user_id in db.session.execute(
            select(Site.id, User.id).join(user_region, user_region.c.region_id == Site.region_id)
            .join(User, User.id == user_region.c.user_id)
            .where(User.role == "supervisor", User.active.is_(True), Site.id.in_(ctx.site_ids))
            .order_by(Site.id, User.id)):
        result.setdefault(site_id, []).append(user_id)
    return {site_id: result.get(site_id) or [ctx.user_ids["admin"][0]] for site_id in ctx.site_ids}


def _front_desk(ctx, site_id):
    """Clerks and guards of the site (the roles that inspect and fix); else the first head-office user."""
    return [u for r in ("clerk", "security") for u in ctx.site_users.get(site_id, {}).get(r, [])] \
        or [ctx.user_ids["admin"][0]]


CLEANING_NOTES = {"Floor": "地面有水渍", "Glass": "玻璃门有手印", "Decorations": "摆件有灰尘",
                  "Restroom": "卫生间纸巾用完、台面有水", "Outdoor": "门口有落叶和烟头", "Slippers": "拖鞋未清洗"}
REOPEN_NOTES = ("角落仍有污渍", "还有水印，请重新擦拭", "垃圾桶未清空")
# An issue's status by its age in days: (share verified, share verified or fixed); the rest is open.
ISSUE_PROGRESS = {0: (0.15, 0.5), 1: (0.5, 0.8), "recent": (0.75, 0.9), "old": (0.96, 0.99)}


def generate_cleaning(ctx, failed=((0, 4), (1, 4), (2, 2)), recent=7):
    """The standard areas of the generated sites (the demo sites got theirs from the Site
    listener); one morning inspection per site and day by a clerk or guard judging every
    area, 0–2 of them failed (~0.8 a day); each failure opens an issue for a cleaner of the
    site, due 2 hours later (``cleaning.DEFAULT_DUE``). Issues older than ``recent`` days are
    verified (~3% only fixed, ~1% forgotten: open and overdue); the last week's are partly
    fixed or still open (half of the last day's, 10% of the week's; open ones past due are
    overdue). ~20% are fixed after their due time; ~5% were reopened once on the second look."""
    from portal.models import CleaningArea, CleaningInspection, CleaningIssue, CleaningResult
    from portal.models.cleaning import DEFAULT_AREAS
    from portal.services.cleaning import DEFAULT_DUE

    has_areas = set(db.session.scalars(select(CleaningArea.site_id).distinct()))
    ctx.insert(CleaningArea, ({"site_id": site_id, "name": name, "position": n, "active": True, **_stamp(ctx)}
                              for site_id in ctx.site_ids if site_id not in has_areas
                              for n, name in enumerate(DEFAULT_AREAS)))
    areas = {}
    for area_id, site_id, name in db.session.execute(
            select(CleaningArea.id, CleaningArea.site_id, CleaningArea.name)
            .where(CleaningArea.active.is_(True), CleaningArea.site_id.in_(ctx.site_ids))
            .order_by(CleaningArea.site_id, CleaningArea.position, CleaningArea.id)):
        areas.setdefault(site_id, []).append((area_id, name))
    cleaners = _site_staff(ctx, ("cleaner",))
    supervisors = _supervisors(ctx)
    front = {site_id: _front_desk(ctx, site_id) for site_id in ctx.site_ids}
    inspection_ids, result_ids = ctx.ids(CleaningInspection), ctx.ids(CleaningResult)
    inspections, results, issues = [], [], []
    hours = lambda a, b: timedelta(seconds=ctx.rng.randint(int(a * 3600), int(b * 3600)))  # noqa: E731

    def progress(age):
        return ISSUE_PROGRESS.get(age) or ISSUE_PROGRESS["recent" if age < recent else "old"]

    def second_look(site_id, fixer):
        others = [u for u in front[site_id] if u != fixer]
        return ctx.rng.choice(others) if others and ctx.rng.random() < 0.5 else ctx.rng.choice(supervisors[site_id])

    for day in ctx.each_day():
        age = (ctx.end - day).days
        for site_id in ctx.site_ids:
            site_areas = areas.get(site_id)
            if not site_areas:
                continue
            inspection_id, inspector = next(inspection_ids), ctx.rng.choice(front[site_id])
            at = _local(ctx, site_id, day, 9, ctx.rng.randrange(60))
            inspections.append({"id": inspection_id, "site_id": site_id, "inspector_id": inspector, "inspected_at": at,
                                "note": None, **_stamped(ctx, at, inspector)})
            failing = set(ctx.rng.sample(range(len(site_areas)), min(weighted(ctx.rng, failed), len(site_areas))))
            for n, (area_id, name) in enumerate(site_areas):
                result_id, passed = next(result_ids), n not in failing
                note = None if passed else CLEANING_NOTES.get(name, name)
                results.append({"id": result_id, "site_id": site_id, "inspection_id": inspection_id, "area_id": area_id,
                                "passed": passed, "note": note, "photo": None})
                if passed:
                    continue
                verified, fixed = progress(age)
                r = ctx.rng.random()
                status = "verified" if r < verified else "fixed" if r < fixed else "open"
                due, fixer, fixed_at, verifier, verified_at = at + DEFAULT_DUE, None, None, None, None
                reopens, last_note, updated, updated_by = 0, None, at, inspector
                if ctx.rng.random() < 0.05:  # the second look failed once: back to open with a new due time
                    first_fixer = ctx.rng.choice(front[site_id])
                    reopened_at = at + hours(0.5, 1.9) + hours(0.3, 1.5)
                    reopens, last_note = 1, ctx.rng.choice(REOPEN_NOTES)
                    due = max(due, reopened_at + DEFAULT_DUE)
                    updated, updated_by = reopened_at, second_look(site_id, first_fixer)
                if status in ("fixed", "verified"):
                    fixer = ctx.rng.choice(front[site_id])
                    start = updated
                    fixed_at = start + (hours(0.3, 1.9) if ctx.rng.random() < 0.8 else hours(2.1, 6))
                    last_note = "已重新清洁" if reopens else None
                    updated, updated_by = fixed_at, fixer
                if status == "verified":
                    verifier = second_look(site_id, fixer)
                    verified_at = fixed_at + hours(0.3, 4)
                    updated, updated_by = verified_at, verifier
                cleaner = ctx.rng.choice(cleaners[site_id])[0] if cleaners.get(site_id) else None
                issues.append({"site_id": site_id, "result_id": result_id, "area_id": area_id, "description": note,
                               "cleaner_id": cleaner, "due_at": due, "status": status, "fixed_by_id": fixer,
                               "fixed_at": fixed_at, "verified_by_id": verifier, "verified_at": verified_at,
                               "reopen_count": reopens, "last_note": last_note, "deleted_at": None,
                               "deleted_by_id": None, "created_at": at, "created_by_id": inspector,
                               "updated_at": updated, "updated_by_id": updated_by})
        if len(results) > CHUNK * 4:
            ctx.insert(CleaningInspection, inspections)
            ctx.insert(CleaningResult, results)
            ctx.insert(CleaningIssue, issues)
            inspections, results, issues = [], [], []
    ctx.insert(CleaningInspection, inspections)
    ctx.insert(CleaningResult, results)
    ctx.insert(CleaningIssue, issues)


GROOMING_NOTES = {"uniform": "工牌未佩戴", "stockings_shoes": "未穿黑色皮鞋", "nails": "指甲油颜色偏深",
                  "ring": "佩戴两枚戒指", "earrings": "耳环过大", "makeup": "妆容偏浓", "hair": "长发未盘起",
                  "conduct": "接待区玩手机"}


def generate_grooming(ctx, share=1 / 3, pass_rate=0.93):
    """A grooming inspection every ~3 days per site (on a third of the days): its region's
    supervisor judges one clerk or guard of the roster on all 8 points (~7% fail, with a
    note); the score is the per cent passed (``grooming.score_of``)."""
    from portal.models import GROOMING_POINTS, GroomingInspection, GroomingResult

    people = _site_staff(ctx, ("clerk", "security"))  # views.grooming.INSPECTED_KINDS
    supervisors = _supervisors(ctx)
    inspection_ids, inspections, results = ctx.ids(GroomingInspection), [], []
    for day in ctx.each_day():
        for site_id in ctx.site_ids:
            if not people.get(site_id) or ctx.rng.random() >= share:
                continue
            inspection_id, inspector = next(inspection_ids), ctx.rng.choice(supervisors[site_id])
            at = _local(ctx, site_id, day, 10, ctx.rng.randrange(60))
            judged = [(key, ctx.rng.random() < pass_rate) for key, _label in GROOMING_POINTS]
            inspections.append({"id": inspection_id, "site_id": site_id,
                                "staff_member_id": ctx.rng.choice(people[site_id])[0], "inspector_id": inspector,
                                "inspected_at": at, "score": round(100 * sum(ok for _, ok in judged) / len(judged)),
                                "note": None, **_stamped(ctx, at, inspector)})
            results.extend({"site_id": site_id, "inspection_id": inspection_id, "point": key, "passed": ok,
                            "note": None if ok else GROOMING_NOTES.get(key)} for key, ok in judged)
        if len(results) > CHUNK * 4:
            ctx.insert(GroomingInspection, inspections)
            ctx.insert(GroomingResult, results)
            inspections, results = [], []
    ctx.insert(GroomingInspection, inspections)
    ctx.insert(GroomingResult, results)


def generate_breaks(ctx, per_day=(2, 6), over_share=0.15, running_share=0.3):
    """2–6 breaks per site and day of its roster people with a login (a break is started and
    ended by the person's own tap), each in its own half-hour slot between 10:00 and 18:00
    local time, so one person's breaks never overlap; 4–10 minutes, ~15% over the 10-minute
    limit (11–20 minutes). On the last day the latest break of ~30% of the sites is still running."""
    from portal.models import BreakLog

    # Not maintenance: one person on the roster of two sites could be on two breaks at once.
    people = _site_staff(ctx, ("clerk", "security", "sales"), with_login=True)
    rows = []
    for day in ctx.each_day():
        last_day = day == ctx.end
        for site_id in ctx.site_ids:
            if not people.get(site_id):
                continue
            opening = _local(ctx, site_id, day, 10)
            slots = sorted(ctx.rng.sample(range(16), ctx.rng.randint(*per_day)))
            for n, slot in enumerate(slots):
                staff_id, user_id = ctx.rng.choice(people[site_id])
                started = opening + timedelta(minutes=30 * slot, seconds=ctx.rng.randrange(600))
                seconds = ctx.rng.randint(660, 1200) if ctx.rng.random() < over_share else ctx.rng.randint(240, 600)
                running = last_day and n == len(slots) - 1 and ctx.rng.random() < running_share
                ended = None if running else started + timedelta(seconds=seconds)
                rows.append({"site_id": site_id, "staff_member_id": staff_id, "started_at": started, "ended_at": ended,
                             "created_at": started, "created_by_id": user_id, "updated_at": ended or started,
                             "updated_by_id": user_id})
        if len(rows) > CHUNK * 4:
            ctx.insert(BreakLog, rows)
            rows = []
    ctx.insert(BreakLog, rows)


GENERATORS = [
    ("org", generate_org),
    ("people", generate_people),
    ("items", generate_items),
    ("visits_stock", generate_visits_stock),
    ("checklists", generate_checklists),
    ("item_checks", generate_item_checks),
    ("handover", generate_handover),
    ("repairs", generate_repairs),
    ("cleaning", generate_cleaning),
    ("grooming", generate_grooming),
    ("breaks", generate_breaks),
    ("audit", generate_audit),
]


def seed(sites=200, days=365, seed=1, end=None, only=None, progress=print):
    """Generate the dataset; returns the ``SeedContext`` (its ``counts`` say what was inserted).

    ``only`` (names) limits the run to some generators; "org" and "people" always run
    because the others need their ids. Commits after each generator.
    """
    ctx = SeedContext(seed=seed, sites=sites, days=days, end=end or date.today(), progress=progress)
    started = clock.perf_counter()
    for name, generate in GENERATORS:
        if only and name not in only and name not in ("org", "people"):
            continue
        ctx.rng = random.Random(f"{seed}:{name}")
        before = dict(ctx.counts)
        t0 = clock.perf_counter()
        generate(ctx)
        db.session.commit()
        added = {t: n - before.get(t, 0) for t, n in ctx.counts.items() if n != before.get(t, 0)}
        progress(f"{name:<12} {clock.perf_counter() - t0:7.1f} s  "
                 + ", ".join(f"{t} {n:,}" for t, n in added.items()))
    reset_sequences(ctx)
    analyze()
    progress(f"{'total':<12} {clock.perf_counter() - started:7.1f} s  {sum(ctx.counts.values()):,} rows")
    return ctx


def reset_sequences(ctx):
    """PostgreSQL: move each written table's id sequence past the explicit ids given above."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if table.name in ctx.counts and "id" in table.c:
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                    f"coalesce((SELECT max(id) FROM {table.name}), 1))"))
    db.session.commit()


def analyze():
    """Fresh planner statistics, so the first benchmark sees the plans production would."""
    db.session.execute(text("ANALYZE"))
    db.session.commit()
