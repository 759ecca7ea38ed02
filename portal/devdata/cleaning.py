"""Development data of cleaning: a morning inspection every day of the demo week at SZ01 and
SZ02 (every third day the floor and the slippers fail; the last days' issues still open),
the issues of the past days, and the benchmark's inspections and issues."""

from datetime import timedelta

from sqlalchemy import select

from portal.devdata.bench import (
    CHUNK,
    front_desk,
    local,
    site_staff,
    stamp,
    stamped,
    supervisors,
    weighted,
)
from portal.devdata.history import at, bulk
from portal.devdata.org import demo_supervisor, first_login, roster_of
from portal.devdata.roster import demo_week, local_at
from portal.extensions import db
from portal.models import CleaningArea, CleaningInspection, CleaningIssue, CleaningResult
from portal.models.cleaning import DEFAULT_AREAS
from portal.services import cleaning
from portal.services.cleaning import DEFAULT_DUE

# The demo's failed areas (by position among the standard areas) and what was wrong.
DEMO_FAILURES = {0: "地面有水渍", 5: "拖鞋未清洗"}
BENCH_NOTES = {
    "Floor": "地面有水渍",
    "Glass": "玻璃门有手印",
    "Decorations": "摆件有灰尘",
    "Restroom": "卫生间纸巾用完、台面有水",
    "Outdoor": "门口有落叶和烟头",
    "Slippers": "拖鞋未清洗",
}
REOPEN_NOTES = ("角落仍有污渍", "还有水印，请重新擦拭", "垃圾桶未清空")
# An issue's status by its age in days: (share verified, share verified or fixed); the rest is
# open.
ISSUE_PROGRESS = {0: (0.15, 0.5), 1: (0.5, 0.8), "recent": (0.75, 0.9), "old": (0.96, 0.99)}


def seed(sites):
    for site, first, days in demo_week(sites):
        areas = cleaning.ensure_default_areas(site)
        if db.session.scalar(
            select(CleaningInspection.id).where(CleaningInspection.site_id == site.id).limit(1)
        ):
            continue
        cleaners, clerk = roster_of(site, "cleaner"), first_login(site, "clerk")
        if not (cleaners and clerk):
            continue
        supervisor = demo_supervisor(site)
        for i in range(days):
            day, failing = first + timedelta(days=i), i % 3 == (days - 1) % 3
            results = [
                (
                    area,
                    not (failing and n in DEMO_FAILURES),
                    DEMO_FAILURES.get(n, "") if failing else "",
                )
                for n, area in enumerate(areas)
            ]
            inspection = cleaning.inspect(
                site,
                clerk,
                results,
                cleaner=cleaners[i % len(cleaners)],
                due_at=local_at(site, day, 11),
                at=local_at(site, day, 9, 10),
            )
            if i >= days - 2:  # the last two days' issues are still open
                continue
            for result in inspection.results:
                if not result.passed:
                    issue = _issue_of(result)
                    cleaning.mark_fixed(issue, clerk, at=local_at(site, day, 10, 30))
                    cleaning.verify(issue, supervisor, at=local_at(site, day, 15))
    db.session.flush()


def _issue_of(result):
    db.session.flush()
    return db.session.scalar(select(CleaningIssue).where(CleaningIssue.result_id == result.id))


def history(past):
    """Now and then (the site's cleanliness) an issue, fixed within the site's hours and
    verified an hour later."""
    areas = list(
        db.session.scalars(
            select(CleaningArea.id)
            .where(CleaningArea.site_id == past.site.id)
            .order_by(CleaningArea.id)
        )
    )
    if not areas:
        return
    issues = []
    for day in past.days:
        rng = past.rng(day, "cleaning")
        if rng.random() <= past.c.cleanliness:
            continue
        raised = at(day, rng.randint(9, 15), rng.randint(0, 59))
        fixed = raised + timedelta(hours=rng.uniform(*past.c.hours_to_fix))
        issues.append(
            {
                "site_id": past.site.id,
                "area_id": rng.choice(areas),
                "description": "地面有水渍，需清理",
                "due_at": raised + timedelta(hours=4),
                "status": "verified",
                "fixed_by_id": past.clerk,
                "fixed_at": fixed,
                "verified_by_id": past.supervisor,
                "verified_at": fixed + timedelta(hours=1),
                "created_at": raised,
                "updated_at": fixed,
            }
        )
    bulk(CleaningIssue, issues)


def generate(ctx, failed=((0, 4), (1, 4), (2, 2)), recent=7):
    """The standard areas of the generated sites (the demo sites got theirs from the Site
    listener); one morning inspection per site and day by a clerk or guard judging every
    area, 0–2 of them failed (~0.8 a day); each failure opens an issue for a cleaner of the
    site, due 2 hours later (``cleaning.DEFAULT_DUE``). Issues older than ``recent`` days are
    verified (~3% only fixed, ~1% forgotten: open and overdue); the last week's are partly
    fixed or still open (half of the last day's, 10% of the week's; open ones past due are
    overdue). ~20% are fixed after their due time; ~5% were reopened once on the second look."""
    has_areas = set(db.session.scalars(select(CleaningArea.site_id).distinct()))
    ctx.insert(
        CleaningArea,
        (
            {"site_id": site_id, "name": name, "position": n, "active": True, **stamp(ctx)}
            for site_id in ctx.site_ids
            if site_id not in has_areas
            for n, name in enumerate(DEFAULT_AREAS)
        ),
    )
    areas = {}
    for area_id, site_id, name in db.session.execute(
        select(CleaningArea.id, CleaningArea.site_id, CleaningArea.name)
        .where(CleaningArea.active.is_(True), CleaningArea.site_id.in_(ctx.site_ids))
        .order_by(CleaningArea.site_id, CleaningArea.position, CleaningArea.id)
    ):
        areas.setdefault(site_id, []).append((area_id, name))
    cleaners = site_staff(ctx, ("cleaner",))
    bosses = supervisors(ctx)
    front = {site_id: front_desk(ctx, site_id) for site_id in ctx.site_ids}
    inspection_ids, result_ids = ctx.ids(CleaningInspection), ctx.ids(CleaningResult)
    inspections, results, issues = [], [], []

    def hours(a, b):
        return timedelta(seconds=ctx.rng.randint(int(a * 3600), int(b * 3600)))

    def progress(age):
        return ISSUE_PROGRESS.get(age) or ISSUE_PROGRESS["recent" if age < recent else "old"]

    def second_look(site_id, fixer):
        others = [u for u in front[site_id] if u != fixer]
        if others and ctx.rng.random() < 0.5:
            return ctx.rng.choice(others)
        return ctx.rng.choice(bosses[site_id])

    for day in ctx.each_day():
        age = (ctx.end - day).days
        for site_id in ctx.site_ids:
            site_areas = areas.get(site_id)
            if not site_areas:
                continue
            inspection_id, inspector = next(inspection_ids), ctx.rng.choice(front[site_id])
            when = local(ctx, site_id, day, 9, ctx.rng.randrange(60))
            inspections.append(
                {
                    "id": inspection_id,
                    "site_id": site_id,
                    "inspector_id": inspector,
                    "inspected_at": when,
                    "note": None,
                    **stamped(when, inspector),
                }
            )
            failing = set(
                ctx.rng.sample(
                    range(len(site_areas)), min(weighted(ctx.rng, failed), len(site_areas))
                )
            )
            for n, (area_id, name) in enumerate(site_areas):
                result_id, passed = next(result_ids), n not in failing
                note = None if passed else BENCH_NOTES.get(name, name)
                results.append(
                    {
                        "id": result_id,
                        "site_id": site_id,
                        "inspection_id": inspection_id,
                        "area_id": area_id,
                        "passed": passed,
                        "note": note,
                        "photo": None,
                    }
                )
                if passed:
                    continue
                verified, fixed = progress(age)
                r = ctx.rng.random()
                status = "verified" if r < verified else "fixed" if r < fixed else "open"
                due, fixer, fixed_at, verifier, verified_at = (
                    when + DEFAULT_DUE,
                    None,
                    None,
                    None,
                    None,
                )
                reopens, last_note, updated, updated_by = 0, None, when, inspector
                if ctx.rng.random() < 0.05:  # the second look failed once: open, due again later
                    first_fixer = ctx.rng.choice(front[site_id])
                    reopened_at = when + hours(0.5, 1.9) + hours(0.3, 1.5)
                    reopens, last_note = 1, ctx.rng.choice(REOPEN_NOTES)
                    due = max(due, reopened_at + DEFAULT_DUE)
                    updated, updated_by = reopened_at, second_look(site_id, first_fixer)
                if status in ("fixed", "verified"):
                    fixer = ctx.rng.choice(front[site_id])
                    late = ctx.rng.random() >= 0.8
                    fixed_at = updated + (hours(2.1, 6) if late else hours(0.3, 1.9))
                    last_note = "已重新清洁" if reopens else None
                    updated, updated_by = fixed_at, fixer
                if status == "verified":
                    verifier = second_look(site_id, fixer)
                    verified_at = fixed_at + hours(0.3, 4)
                    updated, updated_by = verified_at, verifier
                cleaner = ctx.rng.choice(cleaners[site_id])[0] if cleaners.get(site_id) else None
                issues.append(
                    {
                        "site_id": site_id,
                        "result_id": result_id,
                        "area_id": area_id,
                        "description": note,
                        "cleaner_id": cleaner,
                        "due_at": due,
                        "status": status,
                        "fixed_by_id": fixer,
                        "fixed_at": fixed_at,
                        "verified_by_id": verifier,
                        "verified_at": verified_at,
                        "reopen_count": reopens,
                        "last_note": last_note,
                        "deleted_at": None,
                        "deleted_by_id": None,
                        "created_at": when,
                        "created_by_id": inspector,
                        "updated_at": updated,
                        "updated_by_id": updated_by,
                    }
                )
        if len(results) > CHUNK * 4:
            ctx.insert(CleaningInspection, inspections)
            ctx.insert(CleaningResult, results)
            ctx.insert(CleaningIssue, issues)
            inspections, results, issues = [], [], []
    ctx.insert(CleaningInspection, inspections)
    ctx.insert(CleaningResult, results)
    ctx.insert(CleaningIssue, issues)
