"""Development data of grooming inspections: each clerk and guard of the demo week's sites
inspected on its second day (one point failed) and today (all passed), the inspections of
the past days, and the benchmark's inspections with their results."""

from datetime import timedelta

from sqlalchemy import select

from portal.devdata.bench import CHUNK, local, site_staff, stamped, supervisors
from portal.devdata.history import at, bulk
from portal.devdata.org import demo_supervisor, roster_of
from portal.devdata.roster import demo_week, local_at
from portal.extensions import db
from portal.models import GROOMING_POINTS, GroomingInspection, GroomingPoint, GroomingResult
from portal.models.grooming import GROOMING_POSTS
from portal.services import grooming

BENCH_NOTES = {
    "uniform": "工牌未佩戴",
    "stockings_shoes": "未穿黑色皮鞋",
    "nails": "指甲油颜色偏深",
    "ring": "佩戴两枚戒指",
    "earrings": "耳环过大",
    "makeup": "妆容偏浓",
    "hair": "长发未盘起",
    "conduct": "接待区玩手机",
    "cap_belt": "未戴帽子",
    "shoes": "皮鞋不干净",
    "posture": "倚靠岗亭",
}


def _points():
    """Head office's lists of points per post: the built-in ones (as the migration seeds)."""
    if db.session.scalar(select(GroomingPoint.id).limit(1)) is not None:
        return
    for post in GROOMING_POSTS:
        db.session.add_all(grooming.default_points(post))
    db.session.flush()


def seed(sites):
    _points()
    for site, first, days in demo_week(sites):
        if db.session.scalar(
            select(GroomingInspection.id).where(GroomingInspection.site_id == site.id).limit(1)
        ):
            continue
        supervisor = demo_supervisor(site)
        today = first + timedelta(days=days)
        people = roster_of(site, "clerk") + roster_of(site, "security")[:1]
        for n, person in enumerate(people):
            keys = [p.key for p in grooming.points_of(person)]
            bad = (n + 2) % len(keys)
            results = [
                (key, k != bad, BENCH_NOTES.get(key, "不合格") if k == bad else "")
                for k, key in enumerate(keys)
            ]
            grooming.inspect(
                site, person, supervisor, results, at=local_at(site, first + timedelta(days=1), 10)
            )
            grooming.inspect(
                site,
                person,
                supervisor,
                [(key, True, "") for key in keys],
                at=local_at(site, today, 10),
            )
    db.session.flush()


def history(past):
    """Every Tuesday and Friday, each clerk and guard scored around the site's mean."""
    inspections = []
    for day in past.days:
        if day.weekday() not in (1, 4):
            continue
        rng = past.rng(day, "grooming")
        for staff_id in past.inspected:
            when = at(day, 9, rng.randint(0, 30))
            score = max(40, min(100, round(rng.gauss(past.c.grooming, 5))))
            inspections.append(
                {
                    "site_id": past.site.id,
                    "staff_member_id": staff_id,
                    "inspector_id": past.supervisor,
                    "inspected_at": when,
                    "score": score,
                    "created_at": when,
                    "updated_at": when,
                }
            )
    bulk(GroomingInspection, inspections)


def generate(ctx, share=1 / 3, pass_rate=0.93):
    """A grooming inspection every ~3 days per site (on a third of the days): its region's
    supervisor judges one clerk or guard of the roster on all 8 points (~7% fail, with a
    note); the score is the per cent passed (``grooming.score_of``)."""
    people = site_staff(ctx, ("clerk", "security"))  # views.grooming.INSPECTED_KINDS
    bosses = supervisors(ctx)
    inspection_ids, inspections, results = ctx.ids(GroomingInspection), [], []
    for day in ctx.each_day():
        for site_id in ctx.site_ids:
            if not people.get(site_id) or ctx.rng.random() >= share:
                continue
            inspection_id, inspector = next(inspection_ids), ctx.rng.choice(bosses[site_id])
            when = local(ctx, site_id, day, 10, ctx.rng.randrange(60))
            judged = [(key, ctx.rng.random() < pass_rate) for key, _label in GROOMING_POINTS]
            inspections.append(
                {
                    "id": inspection_id,
                    "site_id": site_id,
                    "staff_member_id": ctx.rng.choice(people[site_id])[0],
                    "inspector_id": inspector,
                    "inspected_at": when,
                    "score": round(100 * sum(ok for _, ok in judged) / len(judged)),
                    "note": None,
                    **stamped(when, inspector),
                }
            )
            results.extend(
                {
                    "site_id": site_id,
                    "inspection_id": inspection_id,
                    "point": key,
                    "passed": ok,
                    "note": None if ok else BENCH_NOTES.get(key),
                }
                for key, ok in judged
            )
        if len(results) > CHUNK * 4:
            ctx.insert(GroomingInspection, inspections)
            ctx.insert(GroomingResult, results)
            inspections, results = [], []
    ctx.insert(GroomingInspection, inspections)
    ctx.insert(GroomingResult, results)
