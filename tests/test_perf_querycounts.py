"""Every page the benchmark measures (bench/pages.py) sends as many SQL statements on a
small generated dataset as on a bigger one: no query per site, region, row or day."""

import sys
from datetime import date
from pathlib import Path

from sqlalchemy import text

from portal import devdata
from portal.extensions import db
from tests.conftest import wipe
from tests.querycount import count_queries

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import pages as bench_pages  # noqa: E402

# Small: 5 sites × 3 days. Bigger: 14 sites in 10 regions × 40 days (the last full month included).
SMALL, BIG = dict(sites=5, days=3), dict(sites=14, days=40)
# Pages with a bounded number of statements, whatever the data (the floor is 1–4).
MAX_QUERIES = 30
MAX_PDF_QUERIES = 200
MAX_DASHBOARD_QUERIES = 36
# Closing the ended months a dashboard shows (up to six for its trend), for every site at once.
MAX_CLOSING_QUERIES = 150
# A site PDF's first view closes its six months for that site, and a closed month's "recorded
# changes" counts each of its days once (one statement per day, kept: ``day_counts``).
MAX_PDF_FIRST_VIEW_QUERIES = MAX_PDF_QUERIES + 6 * 31
FIRST_VIEWS = {}


def _seed(app, size):
    wipe(app)
    with app.app_context():
        devdata.seed_org()
        db.session.commit()
        devdata.generate(seed=5, end=date.today(), progress=lambda msg: None, **size)
        # Figures read their facts once per time zone among the sites (a zone's own local-day
        # bounds), so both datasets hold the same two zones: what must not grow is the count per
        # site, row and day.
        db.session.execute(
            text(
                "UPDATE site SET timezone = 'Asia/Urumqi' WHERE id = "
                "(SELECT max(id) FROM site WHERE timezone <> 'Asia/Urumqi')"
            )
        )
        db.session.commit()
        params = {
            name: db.session.execute(text(sql)).scalar() for name, sql in bench_pages.PARAMS.items()
        }
        db.session.remove()
    return {**params, **bench_pages.derived_params()}


def _counts(app, login, params):
    clients, result = {}, {}
    for page in bench_pages.PAGES:
        if page.role is None:
            continue
        user = bench_pages.ROLE_USERS[page.role]
        c = clients.get(user) or clients.setdefault(user, login(user))
        url = page.url.format(**params)
        # The first view of an ended month closes it (its figures computed and stored once);
        # the count compared is that of the views after, the page as everyone sees it.
        with count_queries(app) as first:
            assert c.get(url).status_code == 200, (page.name, url)
        with count_queries(app) as q:
            resp = c.get(url)
        assert resp.status_code == 200, (page.name, url, resp.status_code)
        result[page.name] = q.count
        FIRST_VIEWS[page.name] = max(FIRST_VIEWS.get(page.name, 0), first.count)
    return result


def test_query_counts_of_the_benchmark_pages_do_not_grow(app, login):
    small = _counts(app, login, _seed(app, SMALL))
    big = _counts(app, login, _seed(app, BIG))
    assert big == small
    # The monthly PDF gathers every metric for this month, last month, the region and a 6-month
    # trend: many statements, but a constant number (asserted above); web pages stay small.
    pages = {name: n for name, n in big.items() if "PDF" not in name and "pdf" not in name}
    # Later views of the dashboard read the stored months (about 14 queries).
    dashboards = {name: pages.pop(name) for name in list(pages) if name.startswith("dashboard")}
    assert max(pages.values()) <= MAX_QUERIES, big
    assert max(dashboards.values()) <= MAX_DASHBOARD_QUERIES, big
    assert max(big.values()) <= MAX_PDF_QUERIES, big
    closing = {name: n for name, n in FIRST_VIEWS.items() if "PDF" not in name}
    assert max(closing.values()) <= MAX_CLOSING_QUERIES, FIRST_VIEWS
    assert max(FIRST_VIEWS.values()) <= MAX_PDF_FIRST_VIEW_QUERIES, FIRST_VIEWS


def test_the_benchmark_covers_every_key_page():
    kinds = {page.kind for page in bench_pages.PAGES}
    assert {"list", "detail", "today", "dashboard", "pdf"} <= kinds
    urls = " ".join(page.url for page in bench_pages.PAGES)
    for path in (
        "/today/",
        "/visit/",
        "/repairs/",
        "/handover/",
        "/stockmovement/",
        "/checklistrun/",
        "/discrepancies/",
        "/dashboard/",
        ".pdf",
    ):
        assert path in urls, path


def test_head_office_overview_shows_a_page_of_sites_at_a_time(app, login):
    """200 sites make 200 cards: the overview shows 24 and a link to the next ones."""
    from portal.views.home import OVERVIEW_PAGE_SIZE

    with app.app_context():
        devdata.generate(
            sites=30, days=1, seed=5, end=date.today(), only=["org"], progress=lambda msg: None
        )
        db.session.remove()
    c = login("admin")
    with count_queries(app) as first_page:
        first = c.get("/?overview=1").get_data(as_text=True)
    assert first.count("site-card") == OVERVIEW_PAGE_SIZE
    assert "下一页售楼处" in first and "上一页售楼处" not in first  # next / previous sites
    with count_queries(app) as second_page:
        second = c.get("/?overview=1&page=1").get_data(as_text=True)
    assert second.count("site-card") == 30 - OVERVIEW_PAGE_SIZE
    assert "上一页售楼处" in second and "下一页售楼处" not in second
    assert first_page.count == second_page.count
    assert c.get("/?overview=1&page=x").status_code == 200  # a bad page number shows the first page
