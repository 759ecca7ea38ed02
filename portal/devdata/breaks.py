"""Development data of breaks: an afternoon break a day of each clerk and the first guard in
the demo week at SZ01 and SZ02 (every fourth one too long), and the benchmark's breaks."""

from datetime import timedelta

from sqlalchemy import select

from portal.devdata.bench import CHUNK, local, site_staff
from portal.devdata.org import roster_of
from portal.devdata.roster import demo_week, local_at
from portal.extensions import db
from portal.models.breaks import BreakLog


def seed(sites):
    for site, first, days in demo_week(sites):
        if db.session.scalar(select(BreakLog.id).where(BreakLog.site_id == site.id).limit(1)):
            continue
        people = roster_of(site, "clerk") + roster_of(site, "security")[:1]
        for i in range(days):
            for n, person in enumerate(people):
                start = local_at(site, first + timedelta(days=i), 15, 10 + 5 * n)
                length = 14 if (i + n) % 4 == 0 else 8
                db.session.add(
                    BreakLog(
                        site_id=site.id,
                        staff_member=person,
                        started_at=start,
                        ended_at=start + timedelta(minutes=length),
                    )
                )
    db.session.flush()


def generate(ctx, per_day=(2, 6), over_share=0.15, running_share=0.3):
    """2–6 breaks per site and day of its roster people with a login (a break is started and
    ended by the person's own tap), each in its own half-hour slot between 10:00 and 18:00
    local time, so one person's breaks never overlap; 4–10 minutes, ~15% over the 10-minute
    limit (11–20 minutes). On the last day the latest break of ~30% of the sites is still
    running."""
    # Not maintenance: one person on the roster of two sites could be on two breaks at once.
    people = site_staff(ctx, ("clerk", "security", "sales"), with_login=True)
    rows = []
    for day in ctx.each_day():
        last_day = day == ctx.end
        for site_id in ctx.site_ids:
            if not people.get(site_id):
                continue
            opening = local(ctx, site_id, day, 10)
            slots = sorted(ctx.rng.sample(range(16), ctx.rng.randint(*per_day)))
            for n, slot in enumerate(slots):
                staff_id, user_id = ctx.rng.choice(people[site_id])
                started = opening + timedelta(minutes=30 * slot, seconds=ctx.rng.randrange(600))
                over = ctx.rng.random() < over_share
                seconds = ctx.rng.randint(660, 1200) if over else ctx.rng.randint(240, 600)
                running = last_day and n == len(slots) - 1 and ctx.rng.random() < running_share
                ended = None if running else started + timedelta(seconds=seconds)
                rows.append(
                    {
                        "site_id": site_id,
                        "staff_member_id": staff_id,
                        "started_at": started,
                        "ended_at": ended,
                        "created_at": started,
                        "created_by_id": user_id,
                        "updated_at": ended or started,
                        "updated_by_id": user_id,
                    }
                )
        if len(rows) > CHUNK * 4:
            ctx.insert(BreakLog, rows)
            rows = []
    ctx.insert(BreakLog, rows)
