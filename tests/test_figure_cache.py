"""Dashboard figures of ended periods are kept per process, keyed by each site's data version
(its latest audit event): a cached figure is always the one a fresh computation would give,
a change to one site recomputes that site only, a period still running is never kept, and
neither is a figure that moves with the clock."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import CleaningIssue, Site, Visit
from portal.services import cleaning, figure_cache
from portal.services import metrics as m
from portal.services import scope
from tests.handover_helpers import site, staff, user

SH = ZoneInfo("Asia/Shanghai")
OCT, END = date(2026, 10, 1), date(2026, 10, 31)


def _visit(dbs, site_id, day, adults):
    dbs.add(
        Visit(
            site_id=site_id,
            arrived_at=datetime(day.year, day.month, day.day, 11, tzinfo=SH),
            adults=adults,
            children=0,
        )
    )
    dbs.commit()


def _visitors(app, site_ids, start=OCT, end=END):
    """The visitors figure as the dashboard computes it, in a request as head office."""
    with app.test_request_context():
        scope.activate(scope.SiteScope(None))
        ids = list(db.session.scalars(select(Site.id).order_by(Site.id)))
        values = m.collect(ids, start, end, [m.get_metric("visitors")])["visitors"]
        db.session.remove()
    return {sid: values[sid] for sid in site_ids}


def test_a_cached_figure_changes_when_its_site_changes_and_only_that_site_is_recomputed(
    app, dbs, site_ids
):
    sz01, sz02 = site_ids["SZ01"], site_ids["SZ02"]
    _visit(dbs, sz01, date(2026, 10, 5), 3)
    _visit(dbs, sz02, date(2026, 10, 6), 2)
    assert _visitors(app, [sz01, sz02]) == {sz01: 3, sz02: 2}
    before = figure_cache.stats()
    assert _visitors(app, [sz01, sz02]) == {sz01: 3, sz02: 2}
    after = figure_cache.stats()
    assert (
        after["misses"] == before["misses"] and after["hits"] > before["hits"]
    )  # nothing recomputed

    _visit(
        dbs, sz01, date(2026, 10, 7), 4
    )  # a late entry into a settled month: audited, new version
    hits, misses = figure_cache.stats()["hits"], figure_cache.stats()["misses"]
    assert _visitors(app, [sz01, sz02]) == {sz01: 7, sz02: 2}
    assert figure_cache.stats()["misses"] - misses == 1  # SZ01 only
    assert figure_cache.stats()["hits"] - hits == len(site_ids) - 1


def test_cached_figures_equal_a_fresh_computation_for_every_metric(app, dbs, site_ids):
    for code, adults in (("SZ01", 2), ("SH01", 5)):
        _visit(dbs, site_ids[code], date(2026, 10, 12), adults)

    def every_figure():
        with app.test_request_context():
            scope.activate(scope.SiteScope(None))
            ids = list(db.session.scalars(select(Site.id)))
            values = m.collect(ids, OCT, END)
            db.session.remove()
        return values

    app.config["FIGURE_CACHE"] = False
    try:
        fresh = every_figure()
    finally:
        app.config["FIGURE_CACHE"] = True
    assert every_figure() == fresh  # computed and stored
    assert every_figure() == fresh  # read back
    kept = [mt for mt in m.all_metrics() if not mt.moves_with_clock]
    assert figure_cache.stats()["hits"] >= len(kept) * len(site_ids)


def test_a_period_is_kept_from_the_moment_its_last_local_day_is_over(app, dbs, site_ids):
    """Last month is kept from the first day of the next (when supervisors look at it most):
    at each site's own midnight, the latest of them when the sites span time zones."""
    utc = timezone.utc
    with app.test_request_context():
        with m.zone_cache():  # every site on Beijing time: October ends at 16:00 UTC on the 31st
            assert not m.has_ended(END, now=datetime(2026, 10, 31, 15, 59, 59, tzinfo=utc))
            assert m.has_ended(END, now=datetime(2026, 10, 31, 16, 0, tzinfo=utc))
        db.session.remove()
    dbs.get(Site, site_ids["SZ02"]).timezone = "Asia/Urumqi"  # two hours later
    dbs.commit()
    with app.test_request_context():
        with m.zone_cache():
            assert not m.has_ended(END, now=datetime(2026, 10, 31, 17, 59, 59, tzinfo=utc))
            assert m.has_ended(END, now=datetime(2026, 10, 31, 18, 0, tzinfo=utc))
        db.session.remove()


def test_yesterday_is_kept_and_today_is_not(app, dbs, site_ids):
    today = datetime.now(SH).date()
    yesterday = today - timedelta(days=1)
    sz01 = site_ids["SZ01"]
    _visit(dbs, sz01, yesterday, 2)
    _visit(dbs, sz01, today, 3)
    entries = figure_cache.stats()["entries"]
    assert _visitors(app, [sz01], today, today) == {sz01: 3}
    assert figure_cache.stats()["entries"] == entries  # a running period is never kept
    assert _visitors(app, [sz01], yesterday, yesterday) == {sz01: 2}
    hits = figure_cache.stats()["hits"]
    assert _visitors(app, [sz01], yesterday, yesterday) == {sz01: 2}
    assert figure_cache.stats()["hits"] - hits == len(site_ids)  # every site read back


def test_a_figure_that_moves_with_the_clock_is_worked_out_on_every_view(app, dbs, site_ids):
    """An issue raised on the last evening of October and still open becomes overdue when its
    due time passes, with no record changing: October's figure must follow the clock."""
    where = site(dbs, "SZ01")
    areas = cleaning.ensure_default_areas(where)
    due = clock.now() + timedelta(hours=1)
    cleaning.inspect(
        where,
        user(dbs, "clerk_sz01"),
        [(areas[0], False, "地面有水渍")],
        cleaner=staff(dbs, "SZ01", kind="cleaner"),
        due_at=due,
    )
    issue = dbs.scalars(select(CleaningIssue)).one()
    issue.created_at = datetime(2026, 10, 31, 21, tzinfo=SH)
    dbs.commit()

    def overdue():
        with app.test_request_context():
            scope.activate(scope.SiteScope(None))
            values = m.collect([site_ids["SZ01"]], OCT, END)
            db.session.remove()
        return values

    before = overdue()
    assert (
        before["cleaning_overdue"][site_ids["SZ01"]] == 0
        and before["cleaning_open"][site_ids["SZ01"]] == 1
    )
    with time_machine.travel(due + timedelta(minutes=1), tick=False):  # the due time has passed
        after = overdue()
    assert after["cleaning_overdue"][site_ids["SZ01"]] == 1
    assert {k: v for k, v in after.items() if k != "cleaning_overdue"} == {
        k: v for k, v in before.items() if k != "cleaning_overdue"
    }


def test_the_dashboard_shows_a_late_change_to_a_settled_month_at_once(login, dbs, site_ids):
    c = login("sup_south")
    url = "/dashboard/?period=month&on=2026-10-01"
    _visit(dbs, site_ids["SZ01"], date(2026, 10, 5), 3)
    assert c.get(url).status_code == 200
    _visit(dbs, site_ids["SZ01"], date(2026, 10, 8), 6)
    page = c.get(url).get_data(as_text=True)
    row = page.split("SZ01", 1)[1].split("</tr>", 1)[0]
    assert ">9<" in row.replace(" ", "")  # 3 + 6 visitors, not the 3 seen before
