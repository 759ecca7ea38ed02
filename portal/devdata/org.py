"""Development data of the organisation: the demo organisation (the names every issue and
acceptance check uses: regions, four sites, one user per role, the roster) and, for the
benchmark, more regions, sites and people."""

from datetime import date, time, timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from portal import clock
from portal.devdata.bench import DEMO_SITES, person_name, stamp
from portal.devdata.history import HISTORY_DAYS
from portal.extensions import db
from portal.models import (
    Region,
    ShowUnit,
    Site,
    SiteSpell,
    StaffMember,
    User,
    user_region,
    user_site,
)
from portal.services import auth as accounts

DEMO_PASSWORD = "demo12345"
# The demo offices have worked since well before the history the demo fills in.
DEMO_OPENED_ON = date(2025, 1, 1)

REGIONS = [("SOUTH", "华南区"), ("EAST", "华东区")]
SITES = [
    ("SZ01", "深圳湾售楼处", "SOUTH", "深圳市南山区深圳湾科技生态园9栋", "深圳湾一号样板房 A 户型"),
    ("SZ02", "前海售楼处", "SOUTH", "深圳市南山区前海路3188号", "前海壹号院样板房 B 户型"),
    ("SH01", "陆家嘴售楼处", "EAST", "上海市浦东新区陆家嘴环路1288号", "滨江一号样板房 C 户型"),
    ("SH02", "虹桥售楼处", "EAST", "上海市闵行区申长路988号", "虹桥天地样板房 D 户型"),
]
# username, display name, role, sites, regions
USERS = [
    ("admin", "周文静", "admin", (), ()),
    ("sup_south", "陈志强", "supervisor", (), ("SOUTH",)),
    ("sup_east", "王海燕", "supervisor", (), ("EAST",)),
    ("clerk_sz01", "李晓梅", "clerk", ("SZ01",), ()),
    ("clerk_sz02", "张丽娜", "clerk", ("SZ02",), ()),
    ("clerk_sh01", "刘婷", "clerk", ("SH01",), ()),
    ("guard_sz01", "赵建国", "security", ("SZ01",), ()),
    ("sales_sz01", "黄俊杰", "sales", ("SZ01",), ()),
    ("maint_south", "吴师傅", "maintenance", ("SZ01", "SZ02"), ()),
]
# The roles that are on the roster of their sites (a staff member of the same kind).
ROSTER_ROLES = ("clerk", "security", "sales", "maintenance")
# Roster people without a login, per site: cleaners and a second salesperson.
EXTRA_STAFF = {
    "SZ01": [("孙阿姨", "cleaner"), ("何秀兰", "cleaner"), ("郑凯", "sales")],
    "SZ02": [("钱阿姨", "cleaner"), ("林晓东", "sales")],
    "SH01": [("马阿姨", "cleaner"), ("徐磊", "sales"), ("高峰", "security")],
    "SH02": [("罗阿姨", "cleaner"), ("谢婷婷", "clerk"), ("唐勇", "security")],
}

# The benchmark's regions: code, name, city code, city; the demo regions first, then eight more.
BENCH_REGIONS = [
    ("SOUTH", "华南区", "SZ", "深圳"),
    ("EAST", "华东区", "SH", "上海"),
    ("NORTH", "华北区", "BJ", "北京"),
    ("CENTRAL", "华中区", "WH", "武汉"),
    ("SW", "西南区", "CD", "成都"),
    ("NW", "西北区", "XA", "西安"),
    ("NE", "东北区", "SY", "沈阳"),
    ("GBA", "大湾区", "GZ", "广州"),
    ("YRD", "长三角区", "HZ", "杭州"),
    ("WEST", "西部区", "UR", "乌鲁木齐"),
]
TIMEZONES = {"UR": "Asia/Urumqi"}  # every other city runs on Beijing time
TALLY_TIMES = (time(17, 30), time(17, 50), time(18, 0), time(18, 30))
DISTRICTS = ("滨江", "中央公园", "湖畔", "云端", "金融城", "科学城", "东湖", "西岸", "南山", "北辰")
# Site roles per site and what each is on the roster as.
PER_SITE = (("clerk", 2), ("security", 2), ("sales", 5))


def seed_org():
    """The demo regions, sites, users and roster (idempotent); returns the sites by code."""
    # The roster has been there since before the history the demo fills in (the dashboard
    # counts the people on the roster at the end of each month).
    on_roster_since = clock.now() - timedelta(days=HISTORY_DAYS + 1)
    regions = {}
    for code, name in REGIONS:
        regions[code] = db.session.scalar(select(Region).filter_by(code=code)) or Region(
            code=code, name=name
        )
        db.session.add(regions[code])
    sites = {}
    for code, name, region, address, unit in SITES:
        site = db.session.scalar(select(Site).filter_by(code=code))
        if site is None:
            site = Site(
                code=code,
                name=name,
                region=regions[region],
                address=address,
                timezone="Asia/Shanghai",
                tally_time=time(17, 50),
                opened_on=DEMO_OPENED_ON,
            )
            db.session.add(site)
            db.session.flush()
            db.session.add(ShowUnit(site_id=site.id, name=unit, location="销售中心东侧 200 米"))
        sites[code] = site
    db.session.flush()
    for username, display, role, site_codes, region_codes in USERS:
        if accounts.find_user(username) is not None:
            continue
        user = accounts.create_user(
            username, display, role, DEMO_PASSWORD, site_codes, region_codes, check_policy=False
        )
        db.session.flush()
        if role in ROSTER_ROLES:
            for code in site_codes:
                db.session.add(
                    StaffMember(
                        site_id=sites[code].id,
                        name=display,
                        kind=role,
                        user_id=user.id,
                        created_at=on_roster_since,
                    )
                )
    for code, people in EXTRA_STAFF.items():
        for name, kind in people:
            there = select(StaffMember).filter_by(site_id=sites[code].id, name=name)
            if db.session.scalar(there) is None:
                db.session.add(
                    StaffMember(
                        site_id=sites[code].id, name=name, kind=kind, created_at=on_roster_since
                    )
                )
    db.session.flush()
    return sites


def generate(ctx):
    _generate_sites(ctx)
    ctx.reseed("people")
    _generate_people(ctx)


def _generate_sites(ctx):
    """Regions (10) and sites up to ``ctx.sites`` with timezones, tally times and show units."""
    seed_org()  # the demo sites and users, with their passwords
    existing = set(db.session.scalars(select(Region.code)))
    ctx.insert(
        Region,
        (
            {"code": code, "name": name, "active": True, **stamp(ctx)}
            for code, name, _, _ in BENCH_REGIONS
            if code not in existing
        ),
    )
    regions = dict(db.session.execute(select(Region.code, Region.id)).all())
    ctx.region_ids = [regions[code] for code, *_ in BENCH_REGIONS]

    taken = set(db.session.scalars(select(Site.code)))
    new_sites, units = [], []
    for n in range(max(ctx.sites - DEMO_SITES, 0)):
        code, name, city_code, city = BENCH_REGIONS[n % len(BENCH_REGIONS)]
        number = n // len(BENCH_REGIONS) + 1
        while f"{city_code}{number:02d}" in taken:
            number += 1
        site_code = f"{city_code}{number:02d}"
        taken.add(site_code)
        district = ctx.rng.choice(DISTRICTS)
        new_sites.append(
            {
                "code": site_code,
                "name": f"{city}{district}售楼处{number}",
                "region_id": regions[code],
                "address": f"{city}市{district}大道{ctx.rng.randrange(1, 3000)}号",
                "timezone": TIMEZONES.get(city_code, "Asia/Shanghai"),
                "tally_time": ctx.rng.choice(TALLY_TIMES),
                "status": "open",
                "opened_on": ctx.first_day,
                **stamp(ctx),
            }
        )
    ctx.insert(Site, new_sites)
    # Bulk inserts pass the model's listeners by: the spell each generated site works in.
    ctx.insert(
        SiteSpell,
        (
            {"site_id": site_id, "first_day": ctx.first_day}
            for site_id in db.session.scalars(
                select(Site.id).where(Site.code.in_([row["code"] for row in new_sites]))
            )
        ),
    )
    ctx.site_ids = []
    for site_id, tz in db.session.execute(select(Site.id, Site.timezone).order_by(Site.id)).all():
        ctx.site_ids.append(site_id)
        ctx.site_tz[site_id] = clock.zone(tz)
    ctx.site_ids = ctx.site_ids[: max(ctx.sites, DEMO_SITES)]
    has_unit = set(db.session.scalars(select(ShowUnit.site_id)))
    for site_id in ctx.site_ids:
        if site_id in has_unit:
            continue
        for k in range(ctx.rng.randint(2, 4)):
            units.append(
                {
                    "site_id": site_id,
                    "name": f"样板房 {'ABCD'[k]} 户型",
                    "active": True,
                    "location": f"销售中心{ctx.rng.choice('东南西北')}侧 "
                    f"{ctx.rng.randrange(50, 400)} 米",
                    **stamp(ctx),
                }
            )
    ctx.insert(ShowUnit, units)


def _generate_people(ctx):
    """~10 users per site (clerks, guards, salespeople, maintenance), 2 supervisors per region,
    head office; their site/region links; the roster (users plus cleaners without a login).
    All generated users share one precomputed password hash (of the demo password)."""
    password_hash = generate_password_hash(DEMO_PASSWORD, method=accounts.hash_method())
    demo_sites = set(ctx.site_ids[:DEMO_SITES])
    users, site_links, region_links, staff = [], [], [], []

    def user(username, role):
        users.append(
            {
                "username": username,
                "display_name": person_name(ctx.rng),
                "role": role,
                "locale": None,
                "active": True,
                "password_hash": password_hash,
                "session_token": "%032x" % ctx.rng.getrandbits(128),
                "last_login_at": None,
                **stamp(ctx),
            }
        )
        return username

    plan = []  # (username, role, site ids, region ids)
    for n, site_id in enumerate(ctx.site_ids):
        if site_id in demo_sites:
            continue
        for role, count in PER_SITE:
            for k in range(count):
                plan.append((user(f"{role}_{site_id}_{k + 1}", role), role, [site_id], []))
        if n % 2 == 0:
            pair = ctx.site_ids[n : n + 2]
            plan.append((user(f"maint_{site_id}", "maintenance"), "maintenance", pair, []))
    for region_id in ctx.region_ids[2:]:
        for j in (1, 2):
            plan.append((user(f"sup_{region_id}_{j}", "supervisor"), "supervisor", [], [region_id]))
    for k in range(1, 4):
        plan.append((user(f"office_{k}", "admin"), "admin", [], []))
    ctx.insert(User, users)

    ids = dict(db.session.execute(select(User.username, User.id)).all())
    names = {u["username"]: u["display_name"] for u in users}
    for username, role, sites, regions in plan:
        uid = ids[username]
        ctx.user_ids.setdefault(role, []).append(uid)
        for site_id in sites:
            site_links.append({"user_id": uid, "site_id": site_id})
            ctx.site_users.setdefault(site_id, {}).setdefault(role, []).append(uid)
            staff.append(
                {
                    "site_id": site_id,
                    "name": names[username],
                    "kind": role,
                    "user_id": uid,
                    "phone": f"13{ctx.rng.randrange(10**9):09d}",
                    "active": True,
                    "notes": None,
                    **stamp(ctx),
                }
            )
        region_links.extend({"user_id": uid, "region_id": r} for r in regions)
    for site_id in ctx.site_ids:
        if site_id in demo_sites:
            continue
        for kind, count in (("cleaner", 3), ("sales", 1), ("other", 1)):
            for _ in range(count):
                staff.append(
                    {
                        "site_id": site_id,
                        "name": person_name(ctx.rng),
                        "kind": kind,
                        "user_id": None,
                        "phone": None,
                        "active": True,
                        "notes": None,
                        **stamp(ctx),
                    }
                )
    ctx.insert(user_site, site_links)
    ctx.insert(user_region, region_links)
    ctx.insert(StaffMember, staff)
    _add_demo_people(ctx, demo_sites)


def _add_demo_people(ctx, demo_sites):
    """The demo sites' own users, so generators can pick people there too."""
    rows = db.session.execute(
        select(user_site.c.site_id, User.id, User.role)
        .join(User, User.id == user_site.c.user_id)
        .where(user_site.c.site_id.in_(demo_sites))
        .order_by(User.id)
    ).all()
    for site_id, uid, role in rows:
        ctx.site_users.setdefault(site_id, {}).setdefault(role, []).append(uid)


def demo_user(username):
    return db.session.scalar(select(User).where(User.username == username))


def demo_supervisor(site):
    """Who supervises the site in the demo: its region's supervisor, else head office."""
    return demo_user("sup_south" if site.region and site.region.code == "SOUTH" else "admin")


def roster_of(site, kind):
    """The site's roster people of ``kind``, by id."""
    return db.session.scalars(
        select(StaffMember)
        .where(StaffMember.site_id == site.id, StaffMember.kind == kind)
        .order_by(StaffMember.id)
    ).all()


def first_login(site, kind):
    """The login of the site's first roster person of ``kind`` (None without one)."""
    people = roster_of(site, kind)
    return people[0].user if people else None
