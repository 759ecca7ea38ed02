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

from sqlalchemy import insert, select, text
from werkzeug.security import generate_password_hash

from portal.extensions import db
from portal.models import AuditEvent, Region, ShowUnit, Site, StaffMember, User, user_region, user_site

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
    for k, region_id in enumerate(ctx.region_ids[2:], start=1):
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
    """~14 audit events per site and day (≈1,000,000 for 200 sites × 365 days)."""

    def rows():
        for day in ctx.each_day():
            for site_id in ctx.site_ids:
                for _ in range(ctx.rng.randint(per_site_day // 2, per_site_day * 3 // 2)):
                    object_type = weighted(ctx.rng, AUDIT_TYPES)
                    action = weighted(ctx.rng, AUDIT_ACTIONS)
                    object_id = ctx.rng.randrange(1, 500_000)
                    yield {"at": ctx.moment(site_id, day, time(8, 30), time(20, 0)),
                           "user_id": ctx.pick_user(site_id), "site_id": site_id, "action": action,
                           "object_type": object_type, "object_id": object_id,
                           "summary": f"{object_type} #{object_id}",
                           "before": {"status": "open"} if action == "update" else None,
                           "after": {"status": "done"} if action in ("create", "update") else None}

    ctx.insert(AuditEvent, rows())


# Phase 2: each domain adds ("visits", generate_visits), ("stock", generate_stock)… before "audit".
GENERATORS = [
    ("org", generate_org),
    ("people", generate_people),
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
    analyze()
    progress(f"{'total':<12} {clock.perf_counter() - started:7.1f} s  {sum(ctx.counts.values()):,} rows")
    return ctx


def analyze():
    """Fresh planner statistics, so the first benchmark sees the plans production would."""
    db.session.execute(text("ANALYZE"))
    db.session.commit()
