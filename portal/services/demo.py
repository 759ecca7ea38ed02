"""Demo organisation (the names every issue and acceptance check uses) and domain demo data.

Idempotent: running it twice changes nothing. Domain modules append their seeders to
``SEEDERS``; each gets the dict of demo sites by code and must itself be idempotent.
"""
from datetime import date, time, timedelta
from importlib import import_module

from sqlalchemy import select

from portal.extensions import db
from portal.models import Region, ShowUnit, Site, StaffMember, utcnow
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
# Roster people without a login, per site: cleaners and a second salesperson.
EXTRA_STAFF = {
    "SZ01": [("孙阿姨", "cleaner"), ("何秀兰", "cleaner"), ("郑凯", "sales")],
    "SZ02": [("钱阿姨", "cleaner"), ("林晓东", "sales")],
    "SH01": [("马阿姨", "cleaner"), ("徐磊", "sales"), ("高峰", "security")],
    "SH02": [("罗阿姨", "cleaner"), ("谢婷婷", "clerk"), ("唐勇", "security")],
}

# Domain seeders, in dependency order ("module:function", imported when seeding runs).
SEEDERS = [
    "portal.services.demo_checklists:seed",
    "portal.services.demo_visits:seed",
    "portal.services.demo_handover:seed",
    "portal.services.demo_repairs:seed",
    "portal.services.demo_history:seed_demo_history",
]


def seed_org():
    from portal.services.demo_history import HISTORY_DAYS

    # The roster has been there since before the history the demo fills in (the dashboard counts
    # the people on the roster at the end of each month).
    on_roster_since = utcnow() - timedelta(days=HISTORY_DAYS + 1)
    regions = {}
    for code, name in REGIONS:
        regions[code] = db.session.scalar(select(Region).filter_by(code=code)) or Region(code=code, name=name)
        db.session.add(regions[code])
    sites = {}
    for code, name, region, address, unit in SITES:
        site = db.session.scalar(select(Site).filter_by(code=code))
        if site is None:
            site = Site(code=code, name=name, region=regions[region], address=address,
                        timezone="Asia/Shanghai", tally_time=time(17, 50), opened_on=DEMO_OPENED_ON)
            db.session.add(site)
            db.session.flush()
            db.session.add(ShowUnit(site_id=site.id, name=unit, location="销售中心东侧 200 米"))
        sites[code] = site
    db.session.flush()
    for username, display, role, site_codes, region_codes in USERS:
        user = accounts.find_user(username)
        if user is None:
            user = accounts.create_user(username, display, role, DEMO_PASSWORD, site_codes, region_codes,
                                        check_policy=False)
            db.session.flush()
            kind = {"security": "security", "sales": "sales", "maintenance": "maintenance",
                    "clerk": "clerk"}.get(role)
            for code in site_codes:
                if kind:
                    db.session.add(StaffMember(site_id=sites[code].id, name=display, kind=kind, user_id=user.id,
                                               created_at=on_roster_since))
    for code, people in EXTRA_STAFF.items():
        for name, kind in people:
            if db.session.scalar(select(StaffMember).filter_by(site_id=sites[code].id, name=name)) is None:
                db.session.add(StaffMember(site_id=sites[code].id, name=name, kind=kind, created_at=on_roster_since))
    db.session.flush()
    return sites


def seed_demo():
    """Create or complete the demo data; returns the sites by code."""
    sites = seed_org()
    for path in SEEDERS:
        module, _, func = path.partition(":")
        getattr(import_module(module), func)(sites)
    db.session.commit()
    return sites


def is_empty():
    return db.session.scalar(select(Site.id).limit(1)) is None

