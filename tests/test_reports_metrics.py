"""The metric frame: figures computed by the services equal figures recomputed here from
the raw records, a constant number of queries whatever the number of sites, and a
domain's metric plugs into the dashboard and the reports by registering it."""

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from portal import clock
from portal.models import AuditEvent, Region, Site, StaffMember, StaffSpell, User
from portal.services import metrics as m
from portal.services import report_data
from tests.audit_rows import add_event
from tests.querycount import count_queries

NOV = date(2026, 11, 1)


def _utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def dataset(dbs, site_ids):
    """Hand-built audit events and roster changes around the month's borders (local time =
    UTC+8). "Recorded changes" counts what people did: each event has a user, plus rows that
    must not count (the system's own, a login) and one save that wrote two rows."""
    sz01, sz02, sh01 = site_ids["SZ01"], site_ids["SZ02"], site_ids["SH01"]
    user = dbs.scalar(select(User.id).order_by(User.id))
    events = [
        (sz01, _utc(2026, 10, 31, 16, 0)),  # 11-01 00:00 local: in November
        (sz01, _utc(2026, 10, 31, 15, 59)),  # 10-31 23:59 local: October
        (sz01, _utc(2026, 11, 15, 3, 0)),
        (sz01, _utc(2026, 11, 30, 15, 59)),  # 11-30 23:59 local: November
        (sz01, _utc(2026, 11, 30, 16, 0)),  # 12-01 local: December
        (sz02, _utc(2026, 11, 2, 8, 0)),
        (sh01, _utc(2026, 11, 3, 8, 0)),
        (sh01, _utc(2026, 10, 3, 8, 0)),
    ]
    for site_id, at in events:
        add_event(
            dbs,
            site_id=site_id,
            at=at,
            action="sign",
            object_type="Test",
            summary="t",
            user_id=user,
        )
    # A second row of the 11-15 save, half a second later: the same change.
    add_event(
        dbs,
        site_id=sz01,
        at=_utc(2026, 11, 15, 3, 0, 0, 500000),
        action="create",
        object_type="TestLine",
        summary="t",
        user_id=user,
    )
    # The system's own row and a login: no change made by anyone.
    add_event(dbs, site_id=sz01, at=_utc(2026, 11, 16, 3), object_type="Job", summary="t")
    add_event(
        dbs,
        site_id=sz01,
        at=_utc(2026, 11, 17, 3),
        action="login",
        object_type="User",
        summary="t",
        user_id=user,
    )
    # One SZ02 person leaves the roster now (after November): still on November's roster.
    person = dbs.scalars(select(StaffMember).where(StaffMember.site_id == sz02)).first()
    person.active = False
    dbs.commit()
    return site_ids


def _expected_events(dbs, site_id, start, end):
    """Per the definition: a person's non-login rows, those less than a second apart being one
    change (the old count took every row, the system's and logins included)."""
    lo, hi = clock.period_bounds(start, end)
    rows = sorted(
        (e.user_id, e.at)
        for e in dbs.scalars(select(AuditEvent))
        if e.site_id == site_id
        and lo <= e.at < hi
        and e.user_id is not None
        and e.action != "login"
    )
    changes = 0
    for i, (uid, at) in enumerate(rows):
        prev = rows[i - 1] if i else None
        if prev is None or prev[0] != uid or (at - prev[1]).total_seconds() > 1:
            changes += 1
    return changes


def _expected_staff(dbs, site_id, start, end):
    """Per the definition: people on the roster at any time in the period, leavers of the
    period or after it included (the old count took today's active flag)."""
    lo, hi = clock.period_bounds(start, end)
    return len(
        {
            s.staff_member_id
            for s in dbs.scalars(select(StaffSpell))
            if s.site_id == site_id and s.joined_at < hi and (s.left_at is None or s.left_at > lo)
        }
    )


def test_each_metric_equals_a_recount_from_the_raw_records(dbs, dataset):
    ids = list(dataset.values())
    end = m.month_end(NOV)
    values = m.collect(ids, NOV, end)
    for site_id in ids:
        assert values["audit_events"][site_id] == _expected_events(dbs, site_id, NOV, end)
        assert values["staff_on_roster"][site_id] == _expected_staff(dbs, site_id, NOV, end)
    # Border events land in the right local month.
    assert values["audit_events"][dataset["SZ01"]] == _expected_events(
        dbs, dataset["SZ01"], NOV, end
    )
    sz01_nov = [
        e
        for e in dbs.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "Test", AuditEvent.site_id == dataset["SZ01"]
            )
        )
    ]
    in_nov = [e for e in sz01_nov if _utc(2026, 10, 31, 16) <= e.at < _utc(2026, 11, 30, 16)]
    assert len(in_nov) == 3
    # By hand: 11-01 00:00, the two-row save of 11-15, 11-30 23:59; not the system, not the login.
    assert values["audit_events"][dataset["SZ01"]] == 3
    # The SZ02 person who left after November was on November's roster.
    sz02_people = dbs.scalars(select(StaffMember).where(StaffMember.site_id == dataset["SZ02"]))
    assert values["staff_on_roster"][dataset["SZ02"]] == len(list(sz02_people))


def test_site_report_figures_match_the_recount(dbs, dataset):
    end = m.month_end(NOV)
    prev = m.previous_month(NOV)
    data = report_data.site_month(dataset["SZ01"], NOV)
    figures = {f["key"]: f for f in data["figures"]}
    assert figures["audit_events"]["value"] == _expected_events(dbs, dataset["SZ01"], NOV, end)
    assert figures["audit_events"]["previous"] == _expected_events(
        dbs, dataset["SZ01"], prev, m.month_end(prev)
    )
    south = [dataset["SZ01"], dataset["SZ02"]]
    expected_avg = sum(_expected_staff(dbs, s, NOV, end) for s in south) / 2
    assert figures["staff_on_roster"]["region_average"] == expected_avg
    assert data["site"]["name"] == "深圳湾售楼处" and data["period"]["month"] == "2026-11"
    assert (
        data["trend"]["months"][-1] == "2026-11"
        and len(data["trend"]["months"]) == report_data.TREND_MONTHS
    )


def test_region_report_compares_only_that_regions_sites(dbs, dataset):
    south = dbs.scalar(select(Region.id).where(Region.code == "SOUTH"))
    data = report_data.region_month(south, NOV)
    assert [r["site"]["code"] for r in data["rows"]] == ["SZ01", "SZ02"]
    end = m.month_end(NOV)
    col = [c["key"] for c in data["columns"]].index("audit_events")
    for row in data["rows"]:
        assert row["cells"][col]["value"] == _expected_events(dbs, row["site"]["id"], NOV, end)
    expected = [_expected_events(dbs, dataset[c], NOV, end) for c in ("SZ01", "SZ02")]
    assert data["averages"][col]["value"] == sum(expected) / 2
    assert [r["site"] for r in data["ranking"]][0].startswith("SZ01")  # more staff on the roster


def test_queries_do_not_grow_with_the_number_of_sites(app, dbs, site_ids):
    def run():
        with app.app_context():
            ids = list(dbs.scalars(select(Site.id)))
            with count_queries(app) as q:
                m.collect(ids, NOV, m.month_end(NOV))
            return q.count

    few = run()  # November is over: closed now, on first need
    assert run() == 2  # then the sites' time zones and what is stored: two queries
    region = dbs.scalar(select(Region).where(Region.code == "SOUTH"))
    for n in range(30):
        site = Site(code=f"X{n:02d}", name=f"测试{n}", region=region)
        dbs.add(site)
        dbs.flush()
        dbs.add(StaffMember(site_id=site.id, name="张三", kind="clerk"))
    dbs.commit()
    # Closing the 30 new sites costs what closing the first four did: a fixed number of
    # queries per metric (some read several period facts) plus the zones, the data versions,
    # the stored figures and the writes, whatever the number of sites.
    assert run() == few


def test_deviation_respects_the_direction_of_better():
    up = m.Metric("a", "A", "", None, better="higher")
    down = m.Metric("b", "B", "", None, better="lower")
    neutral = m.Metric("c", "C", "", None, better=None)
    assert m.is_flagged(up, 70, 100) and not m.is_flagged(up, 130, 100)
    assert m.is_flagged(down, 130, 100) and not m.is_flagged(down, 70, 100)
    assert not m.is_flagged(up, 81, 100)  # within 20 %
    assert not m.is_flagged(neutral, 1, 100)
    assert m.is_flagged(down, 3, 0) and not m.is_flagged(up, 3, 0)
    with pytest.raises(ValueError):
        m.register_metric("x", "X", "", lambda *a: {}, better="more")


def test_a_registered_domain_metric_reaches_dashboard_and_report(app, login, dbs, site_ids):
    calls = []

    def visitors(site_ids_, start, end):
        calls.append(tuple(sorted(site_ids_)))
        return {sid: 10 * sid for sid in site_ids_}

    m.register_metric(
        "test_visitors",
        "Visitors",
        "people",
        visitors,
        better="higher",
        drill=("staff.index_view", {"flt0_site_equals": "{site_id}"}),
        order=1,
    )
    try:
        page = (
            login("sup_south").get("/dashboard/?period=month&on=2026-11-10").get_data(as_text=True)
        )
        sz01 = site_ids["SZ01"]
        assert f">{10 * sz01:,}</a>" in page and f"flt0_site_equals={sz01}" in page
        # The provider was asked about the supervisor's sites only.
        assert all(set(c) <= {site_ids["SZ01"], site_ids["SZ02"]} for c in calls)
        with app.test_request_context():
            data = report_data.site_month(sz01, NOV)
        assert {"key": "test_visitors", "value": 10 * sz01}.items() <= data["figures"][0].items()
    finally:
        m.unregister_metric("test_visitors")
