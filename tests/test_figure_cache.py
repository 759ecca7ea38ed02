"""Dashboard figures of settled periods are kept per process, keyed by each site's data version
(its latest audit event): a cached figure is always the one a fresh computation would give,
a change to one site recomputes that site only, and periods still moving are never kept."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.extensions import db
from portal.models import Site, Visit
from portal.services import figure_cache
from portal.services import metrics as m
from portal.services import scope

SH = ZoneInfo("Asia/Shanghai")
OCT, END = date(2026, 10, 1), date(2026, 10, 31)


def _visit(dbs, site_id, day, adults):
    dbs.add(Visit(site_id=site_id, arrived_at=datetime(day.year, day.month, day.day, 11, tzinfo=SH),
                  adults=adults, children=0))
    dbs.commit()


def _visitors(app, site_ids, start=OCT, end=END):
    """The visitors figure as the dashboard computes it, in a request as head office."""
    with app.test_request_context():
        scope.activate(scope.SiteScope(None))
        ids = list(db.session.scalars(select(Site.id).order_by(Site.id)))
        values = m.collect(ids, start, end, [m.get_metric("visitors")])["visitors"]
        db.session.remove()
    return {sid: values[sid] for sid in site_ids}


def test_a_cached_figure_changes_when_its_site_changes_and_only_that_site_is_recomputed(app, dbs, site_ids):
    sz01, sz02 = site_ids["SZ01"], site_ids["SZ02"]
    _visit(dbs, sz01, date(2026, 10, 5), 3)
    _visit(dbs, sz02, date(2026, 10, 6), 2)
    assert _visitors(app, [sz01, sz02]) == {sz01: 3, sz02: 2}
    before = figure_cache.stats()
    assert _visitors(app, [sz01, sz02]) == {sz01: 3, sz02: 2}
    after = figure_cache.stats()
    assert after["misses"] == before["misses"] and after["hits"] > before["hits"]  # nothing recomputed

    _visit(dbs, sz01, date(2026, 10, 7), 4)  # a late entry into a settled month: audited, new version
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
    assert figure_cache.stats()["hits"] >= len(fresh) * len(site_ids)


def test_a_period_that_has_not_settled_is_never_kept(app, dbs, site_ids):
    today = date.today()
    recent = today - figure_cache.SETTLED_AFTER
    assert not figure_cache.is_settled(recent) and figure_cache.is_settled(recent - timedelta(days=1))
    _visit(dbs, site_ids["SZ01"], today, 2)
    entries = figure_cache.stats()["entries"]
    assert _visitors(app, [site_ids["SZ01"]], today, today) == {site_ids["SZ01"]: 2}
    assert figure_cache.stats()["entries"] == entries


def test_the_dashboard_shows_a_late_change_to_a_settled_month_at_once(login, dbs, site_ids):
    c = login("sup_south")
    url = "/dashboard/?period=month&on=2026-10-01"
    _visit(dbs, site_ids["SZ01"], date(2026, 10, 5), 3)
    assert c.get(url).status_code == 200
    _visit(dbs, site_ids["SZ01"], date(2026, 10, 8), 6)
    page = c.get(url).get_data(as_text=True)
    row = page.split("SZ01", 1)[1].split("</tr>", 1)[0]
    assert ">9<" in row.replace(" ", "")  # 3 + 6 visitors, not the 3 seen before
