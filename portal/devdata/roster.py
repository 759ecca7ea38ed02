"""Development data of the roster: the demo's shifts at SZ01 (the past week, today and
tomorrow) and SZ02 (three days), a reception and a door post each. The handover, cleaning,
grooming and break demo data fill the same days (``demo_week``)."""

from datetime import time, timedelta

from sqlalchemy import select

from portal import clock
from portal.devdata.org import roster_of
from portal.extensions import db
from portal.models import Shift
from portal.services import roster

# The sites with a planned week, and how many past days the demo fills there.
PAST_DAYS = {"SZ01": 7, "SZ02": 3}


def demo_week(sites):
    """[(site, first past day, number of past days)] of the sites in ``PAST_DAYS``."""
    today = clock.local_day(sites["SZ01"])
    return [(sites[code], today - timedelta(days=days), days) for code, days in PAST_DAYS.items()]


def local_at(site, day, hour, minute=0):
    return clock.local_at(day, time(hour, minute), site)


def seed(sites):
    for site, first, days in demo_week(sites):
        if db.session.scalar(select(Shift.id).where(Shift.site_id == site.id).limit(1)):
            continue
        clerks, guards = roster_of(site, "clerk"), roster_of(site, "security")
        # The past days, today and tomorrow.
        for day in (first + timedelta(days=i) for i in range(days + 2)):
            for post, people in (("reception", clerks), ("door", guards)):
                if not people:
                    continue
                # On Sundays the door post closes at 13:00: a gap the supervisor should see.
                sunday_door = post == "door" and day.weekday() == 6
                end = local_at(site, day, 13) if sunday_door else local_at(site, day, 18, 30)
                roster.plan(site, post, people[0], local_at(site, day, 8, 30), end)
    db.session.flush()
