"""The running period's figures: as cheap on the last day of a month as on the first, and
still exact. Past days of the trail are counted once and kept; today is counted on each view."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal import clock, devdata
from portal.extensions import db
from portal.models import AuditEvent, DayCount, Site, User
from portal.services import metrics as m
from tests.audit_rows import add_event
from tests.querycount import count_queries


def _today():
    return clock.local_day(clock.DEFAULT_ZONE)


def _changes(client_app, site_id, start, end):
    with client_app.app_context():
        with m.zone_cache():
            return m.collect([site_id], start, end, [m.get_metric("audit_events")])["audit_events"][
                site_id
            ]


def _recount(dbs, site_id, start, end):
    """The definition, by hand: a person's non-login rows, those at most a second apart on the
    same local day being one change."""
    lo, hi = clock.period_bounds(start, end)
    rows = sorted(
        (e.user_id, clock.to_local(e.at, clock.DEFAULT_ZONE).date(), e.at, e.id)
        for e in dbs.scalars(select(AuditEvent).where(AuditEvent.site_id == site_id))
        if lo <= e.at < hi and e.user_id is not None and e.action != "login"
    )
    changes = 0
    for i, (uid, day, at, _id) in enumerate(rows):
        prev = rows[i - 1] if i else None
        if prev is None or prev[:2] != (uid, day) or at - prev[2] > timedelta(seconds=1):
            changes += 1
    return changes


@pytest.fixture
def person(dbs):
    return dbs.scalar(select(User.id).where(User.username == "clerk_sz01"))


def _at_local(day, hour, minute=0, second=0, micro=0):
    local = datetime(day.year, day.month, day.day, hour, minute, second, micro)
    return local.replace(tzinfo=clock.DEFAULT_ZONE).astimezone(timezone.utc)


def test_rows_a_second_apart_are_one_change_and_a_microsecond_more_makes_two(
    app, dbs, site_ids, person
):
    """The database measures the gap exactly, on a past day (counted once and kept) as on
    today (counted now)."""
    sz01 = site_ids["SZ01"]
    today = _today()
    past = today - timedelta(days=2)
    for day in (past, today):
        first = _at_local(day, 0, 0, 10) if day == today else _at_local(day, 10)
        for gap in (timedelta(0), timedelta(seconds=1)):  # a save of two rows: one change
            add_event(dbs, site_id=sz01, at=first + gap, object_type="T", user_id=person)
        later = first + timedelta(minutes=5)
        for gap in (timedelta(0), timedelta(seconds=1, microseconds=1)):  # two changes
            add_event(dbs, site_id=sz01, at=later + gap, object_type="T", user_id=person)
    dbs.commit()
    assert _changes(app, sz01, past, past) == 3 == _recount(dbs, sz01, past, past)
    assert _changes(app, sz01, today, today) == 3 == _recount(dbs, sz01, today, today)
    start = min(past, m.month_start(today))
    assert _changes(app, sz01, start, today) == _recount(dbs, sz01, start, today)


def test_a_change_across_midnight_counts_on_each_day(app, dbs, site_ids, person):
    sz01 = site_ids["SZ01"]
    day = _today() - timedelta(days=3)
    midnight = _at_local(day + timedelta(days=1), 0)
    for at in (midnight - timedelta(milliseconds=300), midnight + timedelta(milliseconds=300)):
        add_event(dbs, site_id=sz01, at=at, object_type="T", user_id=person)
    dbs.commit()
    assert _changes(app, sz01, day, day) == _recount(dbs, sz01, day, day)
    both = _changes(app, sz01, day, day + timedelta(days=1))
    assert both == _recount(dbs, sz01, day, day + timedelta(days=1))
    nothing_else = _recount(dbs, sz01, day, day) + _recount(
        dbs, sz01, day + timedelta(days=1), day + timedelta(days=1)
    )
    assert both == nothing_else


def test_past_days_are_counted_once_and_kept(app, dbs, site_ids, person):
    sz01 = site_ids["SZ01"]
    today = _today()
    start = today - timedelta(days=6)
    for n in range(7):
        add_event(
            dbs,
            site_id=sz01,
            at=_at_local(start + timedelta(days=n), 9),
            object_type="T",
            user_id=person,
        )
    dbs.commit()
    first = _changes(app, sz01, start, today)
    assert first == _recount(dbs, sz01, start, today)
    kept = dbs.scalars(
        select(DayCount.day).where(DayCount.site_id == sz01, DayCount.figure == "audit_events")
    ).all()
    assert sorted(kept) == [start + timedelta(days=n) for n in range(6)]  # not today
    with count_queries(app) as again:
        assert _changes(app, sz01, start, today) == first
    with count_queries(app) as one_day_more:
        assert _changes(app, sz01, start - timedelta(days=1), today) == first
    # Kept days are read in one statement; the day not kept yet is counted (and kept) once.
    assert one_day_more.count > again.count
    with count_queries(app) as kept_now:
        _changes(app, sz01, start - timedelta(days=1), today)
    assert kept_now.count == again.count
    # What happens today is counted on every view.
    add_event(dbs, site_id=sz01, at=clock.now(), object_type="T", user_id=person)
    dbs.commit()
    assert _changes(app, sz01, start, today) == first + 1


def test_a_site_moved_to_another_time_zone_has_its_days_counted_again(app, dbs, site_ids, person):
    sz01 = site_ids["SZ01"]
    day = _today() - timedelta(days=2)
    # 23:30 in Beijing is 21:30 in Urumqi: the same day in both zones; 00:30 on the next
    # Beijing day is still ``day`` in Urumqi.
    for at in (_at_local(day, 23, 30), _at_local(day + timedelta(days=1), 0, 30)):
        add_event(dbs, site_id=sz01, at=at, object_type="T", user_id=person)
    dbs.commit()
    assert _changes(app, sz01, day, day) == 1
    dbs.get(Site, sz01).timezone = "Asia/Urumqi"
    dbs.commit()
    assert _changes(app, sz01, day, day) == 2
    zones = dbs.scalars(
        select(DayCount.zone).where(DayCount.site_id == sz01, DayCount.day == day)
    ).all()
    assert sorted(zones) == ["Asia/Shanghai", "Asia/Urumqi"]


def _dashboard_queries(app, client, url):
    assert client.get(url).status_code == 200  # the first view keeps what it counted
    with count_queries(app) as q:
        assert client.get(url).status_code == 200
    return q.statements


def test_the_live_dashboard_sends_as_many_statements_for_more_sites_and_days(app, login, dbs):
    """The running month, week and day, on the demo organisation and on it grown to 16 sites
    with three weeks of history: the same statements, whatever the sites and days. On
    PostgreSQL the same text too: a list of sites is one parameter, not one per site (psycopg
    keeps a parsed statement only while it has few parameters)."""
    client = login("admin")
    demo_sites = dbs.scalar(select(func.count()).select_from(Site))
    # The generated sites include one on Urumqi time (each time zone is one more branch of
    # the queries, not one more query per site): so does the small organisation.
    dbs.scalar(select(Site).where(Site.code == "SH01")).timezone = "Asia/Urumqi"
    dbs.commit()
    urls = ("/dashboard/", "/dashboard/?period=day", "/dashboard/?period=week")
    small = {url: _dashboard_queries(app, client, url) for url in urls}
    with app.app_context():
        devdata.generate(sites=16, days=21, seed=7, end=_today(), progress=lambda msg: None)
        db.session.remove()
    assert dbs.scalar(select(func.count()).select_from(Site)) == 16 > demo_sites
    large = {url: _dashboard_queries(app, client, url) for url in urls}
    for url in urls:
        assert len(large[url]) == len(small[url]), url
        if dbs.get_bind().dialect.name == "postgresql":
            assert sorted(large[url]) == sorted(small[url]), url
    page = client.get("/dashboard/").get_data(as_text=True)
    generated = dbs.scalar(select(Site.code).order_by(Site.id.desc()))
    assert generated in page


def _history_reads(statements, event_table):
    """The statements that look up each record's last status in an event table (the state at
    an instant)."""
    return [s for s in statements if f"SELECT {event_table}.to_status" in s]


def test_open_and_overdue_share_one_read_of_the_histories(app, login, dbs):
    """Tickets and cleaning issues open and overdue now come from one read of their histories
    per time zone, whatever figures the page shows."""
    client = login("admin")
    dbs.scalar(select(Site).where(Site.code == "SH01")).timezone = "Asia/Urumqi"
    dbs.commit()
    for url in ("/dashboard/", "/dashboard/?period=day"):
        assert client.get(url).status_code == 200
        with count_queries(app) as q:
            page = client.get(url)
        assert page.status_code == 200
        assert len(_history_reads(q.statements, "repair_event")) == 2  # two zones
        assert len(_history_reads(q.statements, "cleaning_issue_event")) == 2
