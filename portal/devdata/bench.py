"""Tools of the benchmark's large dataset (``flask bench seed``; the run is
``portal.devdata.generate``).

The dataset is the demo organisation (its users keep their demo passwords, so the benchmark
logs in as ``clerk_sz01``, ``sup_south``, ``admin`` …) grown to ``sites`` sites in 10 regions,
with the people and the history of ``days`` days up to ``end``. Each domain module's
``generate(ctx)`` gets a ``SeedContext`` and inserts its rows with ``ctx.insert(Model, rows)``.

Rows go in through Core bulk inserts, in chunks: they never pass through the ORM flush, so the
audit-trail listener does not write an event per generated row. That is intended for a
benchmark dataset; the audit module writes plausible audit events instead. Rows that other
rows point at get explicit ids (``ctx.ids``), so one pass writes parents and children without
reading ids back; ``reset_sequences`` moves PostgreSQL's sequences past them at the end.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from itertools import count

from sqlalchemy import func, insert, select, text

from portal.extensions import db
from portal.models import Site, StaffMember, User, user_region

CHUNK = 5000
DEMO_SITES = 4  # SZ01 SZ02 SH01 SH02 come from the demo organisation

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖"
    "田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌婷雪梅海燕晓东俊凯"


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

    def reseed(self, name):
        """A random stream of its own for the step ``name``: changing one step's draws never
        changes another step's rows."""
        self.rng = random.Random(f"{self.seed}:{name}")

    @property
    def first_day(self):
        return self.end - timedelta(days=self.days - 1)

    def each_day(self):
        for n in range(self.days):
            yield self.first_day + timedelta(days=n)

    def moment(self, site_id, day, start=time(9, 0), end=time(18, 0)):
        """A random aware UTC datetime between ``start`` and ``end`` (site local time) on
        ``day``."""
        span = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        minutes = start.hour * 60 + start.minute + self.rng.randrange(max(span, 1))
        local = datetime.combine(
            day,
            time(minutes // 60, minutes % 60, self.rng.randrange(60)),
            tzinfo=self.site_tz[site_id],
        )
        return local.astimezone(timezone.utc)

    def pick_user(self, site_id, roles=("clerk", "security", "sales")):
        people = [u for r in roles for u in self.site_users.get(site_id, {}).get(r, [])]
        return self.rng.choice(people) if people else None

    def someone(self, site_id, roles):
        """A user of ``roles`` at the site, else anyone there, else the first head-office user
        (a demo site may have no clerk): for NOT NULL author columns."""
        return (
            self.pick_user(site_id, roles) or self.pick_user(site_id) or self.user_ids["admin"][0]
        )

    def ids(self, model):
        """Explicit ids for new rows of ``model``, past those already there (see
        ``reset_sequences``)."""
        return count((db.session.scalar(select(func.max(model.id))) or 0) + 1)

    def insert(self, model, rows):
        """Bulk-insert an iterable of dicts in chunks of ``CHUNK``; returns the number of rows."""
        table = getattr(model, "__table__", model)
        total, chunk = 0, []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                db.session.execute(insert(table), chunk)
                total, chunk = total + len(chunk), []
        if chunk:
            db.session.execute(insert(table), chunk)
            total += len(chunk)
        self.counts[table.name] = self.counts.get(table.name, 0) + total
        return total


def weighted(rng, pairs):
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def person_name(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def stamp(ctx):
    """created/updated columns for a generated row: the first day, at 08:00 UTC."""
    at = datetime.combine(ctx.first_day, time(8, 0), tzinfo=timezone.utc)
    return {"created_at": at, "updated_at": at, "created_by_id": None, "updated_by_id": None}


def stamped(at, user_id=None):
    """created/updated columns of a row made at ``at`` by ``user_id``."""
    return {"created_at": at, "updated_at": at, "created_by_id": user_id, "updated_by_id": user_id}


def local(ctx, site_id, day, hour, minute=0):
    """The UTC time of a site-local time of day."""
    moment = datetime.combine(day, time(hour, minute), tzinfo=ctx.site_tz[site_id])
    return moment.astimezone(timezone.utc)


def site_staff(ctx, kinds, with_login=False):
    """site id -> [(staff id, user id)]: the active roster people of ``kinds`` at each site,
    by id."""
    stmt = (
        select(StaffMember.id, StaffMember.site_id, StaffMember.user_id)
        .where(
            StaffMember.kind.in_(kinds),
            StaffMember.active.is_(True),
            StaffMember.site_id.in_(ctx.site_ids),
        )
        .order_by(StaffMember.id)
    )
    if with_login:
        stmt = stmt.where(StaffMember.user_id.is_not(None))
    result = {}
    for staff_id, site_id, user_id in db.session.execute(stmt):
        result.setdefault(site_id, []).append((staff_id, user_id))
    return result


def supervisors(ctx):
    """site id -> user ids of its region's supervisors (the first head-office user where there
    is none)."""
    result = {}
    for site_id, user_id in db.session.execute(
        select(Site.id, User.id)
        .join(user_region, user_region.c.region_id == Site.region_id)
        .join(User, User.id == user_region.c.user_id)
        .where(User.role == "supervisor", User.active.is_(True), Site.id.in_(ctx.site_ids))
        .order_by(Site.id, User.id)
    ):
        result.setdefault(site_id, []).append(user_id)
    return {site_id: result.get(site_id) or [ctx.user_ids["admin"][0]] for site_id in ctx.site_ids}


def front_desk(ctx, site_id):
    """Clerks and guards of the site (the roles that inspect and fix); else the first
    head-office user."""
    return [
        u for r in ("clerk", "security") for u in ctx.site_users.get(site_id, {}).get(r, [])
    ] or [ctx.user_ids["admin"][0]]


def reset_sequences(ctx):
    """PostgreSQL: move each written table's id sequence past the explicit ids given above."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if table.name in ctx.counts and "id" in table.c:
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"coalesce((SELECT max(id) FROM {table.name}), 1))"
                )
            )
    db.session.commit()


def analyze():
    """Fresh planner statistics, so the first benchmark sees the plans production would."""
    db.session.execute(text("ANALYZE"))
    db.session.commit()
