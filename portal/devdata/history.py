"""Tools of the demo's three months of history (run by ``portal.devdata.seed_history``).

``flask seed-demo`` fills the past days so that the dashboard and the month-end reports have
true figures to show; each domain module's ``history(past)`` writes one site's share. Rules:
* deterministic — a ``random.Random`` seeded with the site code, the domain and the day
  (``past.rng(day, salt)``), so re-running produces the same rows and the same figures;
* idempotent — a site that already has history is skipped (``seed_history`` decides);
* each site has its own character (SZ01 busy and tidy, SZ02 quiet with late tallies, SH01
  busy with repairs, SH02 average) so the comparison shows real deviations;
* rows are bulk-inserted (``bulk``: a few statements per site instead of one flush per row)
  and keep the domains' invariants (every served drink is a ledger movement and a
  consumption line, the stock balance equals the sum of the ledger …);
* the day before today is left to the demo's ``seed`` functions (their "yesterday" scenes).

It does nothing when the app is under test (``TESTING``), where many tests seed the demo data
and count rows of today — the history's own tests call ``seed_history`` directly.
"""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import insert, select

from portal import clock
from portal.extensions import db
from portal.models import StaffMember, User

HISTORY_DAYS = 92


@dataclass(frozen=True)
class SiteCharacter:
    visitors_per_day: tuple  # (weekday mean, weekend mean) of visits
    drinks_per_visitor: float
    on_time_rate: float  # checklists, tallies, handovers signed on time
    repair_rate: float  # tickets per week
    cleanliness: float  # 0..1, chance of a day without a cleaning issue
    grooming: int = 90  # mean grooming score
    hours_to_fix: tuple = (1, 5)  # a cleaning issue is fixed within this many hours
    discrepancy_rate: float = 0.01  # share of item check lines that do not match


CHARACTERS = {
    "SZ01": SiteCharacter((18, 45), 1.4, 0.97, 0.5, 0.95, 94, (1, 4), 0.004),
    "SZ02": SiteCharacter((8, 20), 1.1, 0.80, 0.3, 0.80, 82, (3, 30), 0.02),
    "SH01": SiteCharacter((20, 50), 1.6, 0.92, 1.5, 0.90, 89, (1, 8), 0.008),
    "SH02": SiteCharacter((12, 30), 1.2, 0.90, 0.6, 0.88, 87, (2, 10), 0.01),
}


def rng_for(site_code, day):
    """The same random stream for the same site and day, run after run."""
    return random.Random(f"{site_code}:{day.isoformat()}")


def history_days(today, days=HISTORY_DAYS):
    """The past days to fill, oldest first (today excluded: it is being lived)."""
    return [today - timedelta(days=n) for n in range(days, 0, -1)]


def at(day, hour, minute=0):
    """Aware datetime of a site-local time; minutes may run past 59 (timedelta arithmetic)."""
    return datetime.combine(day, time(0), clock.DEFAULT_ZONE) + timedelta(
        hours=hour, minutes=minute
    )


def bulk(model, rows, returning=False):
    """One INSERT for many rows (executemany); with ``returning``, the new ids in row order."""
    if not rows:
        return []
    if returning:
        stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(db.session.scalars(stmt, rows))
    db.session.execute(insert(model), rows)
    return []


class SitePast:
    """One site's past days, its character and its people (ids), for the domains' ``history``."""

    def __init__(self, site, code, character, days):
        self.site, self.code, self.c, self.days = site, code, character, days
        users = {name: uid for name, uid in db.session.execute(select(User.username, User.id))}
        supervisor = users.get("sup_south" if code.startswith("SZ") else "sup_east")
        self.clerk = users.get(f"clerk_{code.lower()}") or supervisor
        self.guard = users.get(f"guard_{code.lower()}") or self.clerk
        self.supervisor = supervisor or self.clerk
        self.maintenance = users.get("maint_south") if code.startswith("SZ") else None
        self.sales_user = users.get(f"sales_{code.lower()}") or self.clerk
        staff = db.session.execute(
            select(StaffMember.id, StaffMember.kind)
            .where(StaffMember.site_id == site.id, StaffMember.active.is_(True))
            .order_by(StaffMember.id)
        ).all()
        self.sales = [i for i, kind in staff if kind == "sales"] or [None]
        self.inspected = [i for i, kind in staff if kind in ("clerk", "security")]

    def rng(self, day, salt):
        return rng_for(f"{self.code}:{salt}", day)
