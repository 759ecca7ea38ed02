"""One clock and one notion of a site's day (portal/clock.py): a site's day is cut at its own
local midnight, a bad zone name means Beijing time, and a test that moves the clock with
time-machine moves every "now" of the portal, the model defaults included."""

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from portal import clock
from portal.models import AuditEvent, Site, Visit

UTC = timezone.utc
SHANGHAI, URUMQI = ZoneInfo("Asia/Shanghai"), ZoneInfo("Asia/Urumqi")
DAY = date(2027, 3, 5)


def _utc(hour, minute, day=5):
    return datetime(2027, 3, day, hour, minute, tzinfo=UTC)


# Asia/Shanghai is UTC+8, Asia/Urumqi UTC+6: 23:30 and 00:10 on their own wall clocks.
EDGES = [
    ("Asia/Shanghai", _utc(15, 30), DAY),
    ("Asia/Shanghai", _utc(16, 10), date(2027, 3, 6)),
    ("Asia/Urumqi", _utc(17, 30), DAY),
    ("Asia/Urumqi", _utc(18, 10), date(2027, 3, 6)),
]


# A visit arrived at 23:55 on 5 March (site time); the minute typed and the instant it means.
NEAREST = [
    ("Asia/Shanghai", "00:10", _utc(16, 10)),  # 00:10 of the 6th, not of the 5th
    ("Asia/Shanghai", "23:40", _utc(15, 40)),  # the same evening
    ("Asia/Urumqi", "00:10", _utc(18, 10)),  # on Urumqi's own clock
]


@pytest.mark.parametrize("zone_name, typed, meant", NEAREST)
def test_a_typed_minute_is_the_one_nearest_the_arrival(zone_name, typed, meant):
    site = Site(code="T1", name="T1", timezone=zone_name)
    arrived = clock.local_at(DAY, time(23, 55), site)
    hours, minutes = map(int, typed.split(":"))
    assert clock.nearest_local(time(hours, minutes), site, arrived) == meant


@pytest.mark.parametrize("zone_name, at, day", EDGES)
def test_a_sites_day_turns_at_its_own_midnight(zone_name, at, day):
    site = Site(code="T1", name="T1", timezone=zone_name)
    assert clock.local_day(site, at) == day
    assert clock.local_day(zone_name, at) == day
    with time_machine.travel(at, tick=False):
        assert clock.local_day(site) == day
        assert clock.local_now(site).strftime("%H:%M") in ("23:30", "00:10")


def test_the_same_instant_is_two_days_in_two_zones():
    at = _utc(17, 30)  # 23:30 in Urumqi, 01:30 the next day in Shanghai
    assert clock.local_day("Asia/Urumqi", at) == DAY
    assert clock.local_day("Asia/Shanghai", at) == date(2027, 3, 6)


def test_day_bounds_are_the_local_midnights_in_utc():
    assert clock.day_bounds(DAY, "Asia/Shanghai") == (_utc(16, 0, day=4), _utc(16, 0))
    assert clock.day_bounds(DAY, Site(timezone="Asia/Urumqi")) == (_utc(18, 0, day=4), _utc(18, 0))
    start, end = clock.day_bounds(DAY, URUMQI)
    assert start.utcoffset().total_seconds() == 0 and end.utcoffset().total_seconds() == 0
    # An instant belongs to the day whose bounds hold it: 23:30 in, 00:10 the next day out.
    for zone_name, at, day in EDGES:
        start, end = clock.day_bounds(DAY, zone_name)
        assert (start <= at < end) == (day == DAY)


def test_period_bounds_cover_every_local_day_of_the_period():
    march = (date(2027, 3, 1), date(2027, 3, 31))
    assert clock.period_bounds(*march) == (
        datetime(2027, 2, 28, 16, tzinfo=UTC),
        datetime(2027, 3, 31, 16, tzinfo=UTC),
    )
    assert clock.period_bounds(*march, "Asia/Urumqi") == (
        datetime(2027, 2, 28, 18, tzinfo=UTC),
        datetime(2027, 3, 31, 18, tzinfo=UTC),
    )
    assert clock.period_bounds(DAY, DAY, SHANGHAI) == clock.day_bounds(DAY, SHANGHAI)


def test_wall_clock_times_from_a_form_become_utc_instants():
    assert clock.from_local(datetime(2027, 3, 5, 23, 30), "Asia/Urumqi") == _utc(17, 30)
    assert clock.from_local(None, "Asia/Urumqi") is None
    assert clock.from_local(_utc(17, 30), "Asia/Shanghai") == _utc(17, 30)  # already an instant
    assert (
        clock.to_local(datetime(2027, 3, 5, 16, 10), "Asia/Shanghai").strftime("%d %H:%M")
        == "06 00:10"
    )


@pytest.mark.parametrize(
    "bad", ["", None, "Mars/Olympus", "UTC+8", "../../etc/passwd", "Asia", "beijing time"]
)
def test_a_bad_or_empty_zone_name_means_beijing_time(bad):
    assert clock.zone(bad) is clock.DEFAULT_ZONE
    assert clock.site_zone(Site(timezone=bad)) is clock.DEFAULT_ZONE
    assert clock.local_day(Site(timezone=bad), _utc(16, 10)) == date(2027, 3, 6)
    assert clock.day_bounds(DAY, bad) == clock.day_bounds(DAY, "Asia/Shanghai")


def test_moving_the_clock_moves_now_and_the_model_defaults(dbs, site_ids):
    at = datetime(2031, 7, 1, 3, 4, 5, tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        assert clock.now() == at
        visit = Visit(site_id=site_ids["SZ01"], adults=2, children=0)
        dbs.add(visit)
        dbs.commit()
    dbs.expire_all()
    assert visit.arrived_at == at and visit.created_at == at and visit.updated_at == at
    event = dbs.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "Visit", AuditEvent.object_id == visit.id
        )
    ).one()
    assert event.at == at
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 5  # back to the real clock


def _today_page(client):
    page = client.get("/today/")
    assert page.status_code == 200
    return page.get_data(as_text=True)


@pytest.mark.parametrize("zone_name, at, day", EDGES)
def test_the_today_page_shows_the_sites_own_day_at_the_edges(
    login, dbs, site_ids, zone_name, at, day
):
    dbs.get(Site, site_ids["SZ01"]).timezone = zone_name
    dbs.commit()
    with time_machine.travel(at, tick=False):
        text = _today_page(login("clerk_sz01"))
    assert day.isoformat() in text
    assert clock.to_local(at, zone_name).strftime("%H:%M") in text


def test_a_site_with_a_bad_zone_name_still_works_on_beijing_time(login, dbs, site_ids):
    """Head office typed a zone that does not exist: the site's pages keep working, on Beijing
    time."""
    dbs.get(Site, site_ids["SZ01"]).timezone = "Beijing"
    dbs.commit()
    with time_machine.travel(_utc(16, 10), tick=False):  # 00:10 on the 6th in Beijing
        client = login("clerk_sz01")
        text = _today_page(client)
        assert client.get("/visits/").status_code == 200  # the visit log of the site's day
    assert "2027-03-06" in text and "00:10" in text


def test_a_new_site_opens_on_its_own_local_day(login, dbs, site_ids):
    """00:10 on the 6th in Urumqi is still the 5th in UTC: the site's first day is the 6th."""
    region_id = dbs.get(Site, site_ids["SZ01"]).region_id
    with time_machine.travel(_utc(18, 10), tick=False):
        far_west = Site(
            code="UR01", name="乌鲁木齐售楼处", timezone="Asia/Urumqi", region_id=region_id
        )
        dbs.add(far_west)
        dbs.commit()
        form = login("admin").get("/site/new/")
    assert far_west.opened_on == date(2027, 3, 6)
    assert form.status_code == 200 and 'value="2027-03-06"' in form.get_data(
        as_text=True
    )  # Beijing's day
