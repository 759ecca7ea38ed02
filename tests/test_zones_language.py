"""Area names, record types and actions in the reader's language; a site's times on its own
clock with the zone named for a viewer elsewhere."""

import re
from datetime import date, datetime, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal import clock, devdata
from portal.extensions import db
from portal.models import HandoverEntry, RepairTicket, Site, User, Visit
from portal.services import metrics as m
from portal.services import report_data
from tests.audit_rows import add_event
from tests.conftest import browser_login, screenshot


# Keys of the report data that are codes for the program, never printed.
NOT_SHOWN = {"key", "better", "ids"}


def _strings(value):
    if isinstance(value, dict):
        for name, item in value.items():
            if name not in NOT_SHOWN:
                yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _english_words(text):
    return re.findall(r"\b[A-Za-z][A-Za-z_]{2,}\b", text)


@pytest.fixture
def history(app, dbs):
    with app.app_context():
        sites = devdata.seed_demo()
        devdata.seed_history(sites)
        db.session.commit()
        db.session.remove()
    return {s.code: s.id for s in dbs.scalars(select(Site))}


def test_month_end_report_reads_in_chinese(app, history):
    first = clock.local_day(clock.DEFAULT_ZONE).replace(day=1)
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        leaks = {}
        for site_id in history.values():
            for month in (first, m.previous_month(first)):
                data = report_data.site_month(site_id, month)
                for text in _strings({"figures": data["figures"], "sections": data["sections"]}):
                    for word in _english_words(text):
                        leaks.setdefault(word, text)
                for metric in m.all_metrics():
                    if metric.records is None:
                        continue
                    table = metric.records(site_id, month, m.month_end(month)) or {}
                    for text in _strings({k: table.get(k) for k in ("headers", "rows")}):
                        for word in _english_words(text):
                            leaks.setdefault(word, text)
    assert leaks == {}, "\n".join(f"{w!r}: {t!r}" for w, t in sorted(leaks.items()))


# 23:30 on 30 November in Urumqi, 01:30 on 1 December in Beijing.
URUMQI_LATE = datetime(2026, 11, 30, 17, 30, tzinfo=timezone.utc)


@pytest.fixture
def urumqi_event(dbs, site_ids):
    site = dbs.get(Site, site_ids["SZ01"])
    site.timezone = "Asia/Urumqi"
    event_id = add_event(
        dbs,
        at=URUMQI_LATE,
        site_id=site.id,
        action="complete",
        object_type="ChecklistAnswer",
        object_id=1,
        summary="开店检查",
    )
    beijing_id = add_event(
        dbs,
        at=URUMQI_LATE,
        site_id=site_ids["SZ02"],
        action="verify",
        object_type="RepairEvent",
        object_id=2,
        summary="维修",
    )
    dbs.commit()
    return event_id, beijing_id


def _cell(page, event_id, column):
    row = page.split(f"/audit/details/?id={event_id}&", 1)[1].split("</tr>", 1)[0]
    return re.search(rf'class="col-{column}">([^<]*)<', row).group(1)


def test_audit_list_shows_a_site_time_on_its_own_clock_and_names_the_zone(
    login, site_ids, urumqi_event
):
    event_id, beijing_id = urumqi_event
    client = login("admin")  # head office reads in Beijing time
    day = "2026-11-30"
    page = client.get(
        f"/audit/?flt0_site_equals={site_ids['SZ01']}&flt1_when_between={day}+to+{day}"
    ).get_data(as_text=True)
    assert _cell(page, event_id, "at") == "2026-11-30 23:30 乌鲁木齐时间"
    assert _cell(page, event_id, "action") == "已完成"
    assert _cell(page, event_id, "object_type") == "检查表答案"
    # The same instant at a Beijing site: its own day (1 December) and no zone named.
    page = client.get(f"/audit/?flt0_site_equals={site_ids['SZ02']}").get_data(as_text=True)
    assert _cell(page, beijing_id, "at") == "2026-12-01 01:30"
    assert _cell(page, beijing_id, "action") == "已复查"

    details = client.get(f"/audit/details/?id={event_id}").get_data(as_text=True)
    assert "2026-11-30 23:30 乌鲁木齐时间" in details
    csv = client.get(f"/audit/export/csv/?flt0_site_equals={site_ids['SZ01']}")
    assert "2026-11-30 23:30 乌鲁木齐时间" in csv.get_data(as_text=True)


def test_month_end_report_names_the_site_clock(app, dbs, site_ids):
    dbs.get(Site, site_ids["SZ01"]).timezone = "Asia/Urumqi"
    dbs.commit()
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        urumqi = report_data.site_month(site_ids["SZ01"], date(2026, 11, 1))
        beijing = report_data.site_month(site_ids["SZ02"], date(2026, 11, 1))
    assert urumqi["site"]["zone"] == "乌鲁木齐时间"
    assert beijing["site"]["zone"] == "北京时间"


def test_audit_list_in_a_browser_names_the_site_clock(page, live_server, site_ids, urumqi_event):
    page.set_viewport_size({"width": 1366, "height": 768})
    browser_login(page, live_server, "admin")
    day = "2026-11-30"
    page.goto(
        f"{live_server}/audit/?flt0_site_equals={site_ids['SZ01']}&flt1_when_between={day}+to+{day}"
    )
    event_id, _ = urumqi_event
    cell = page.locator(f"tr:has(a[href*='details/?id={event_id}&']) td.col-at")
    assert cell.inner_text() == "2026-11-30 23:30 乌鲁木齐时间"
    assert cell.is_visible()
    screenshot(page, "audit_list_site_clock", full_page=False)  # what the reader sees first


def test_record_lists_show_a_site_time_on_its_own_clock_and_name_the_zone(
    login, dbs, site_ids
):
    """A visit, a repair ticket and a handover entry of an Urumqi site read by head office in
    Beijing: the lists, their CSV exports and the recycle bin give the site's wall clock and
    say which it is."""
    site = dbs.get(Site, site_ids["SZ01"])
    site.timezone = "Asia/Urumqi"
    visit = Visit(site_id=site.id, arrived_at=URUMQI_LATE, adults=2, children=0)
    ticket = RepairTicket(
        site_id=site.id,
        equipment="音响",
        description="没有声音",
        priority="normal",
        due_at=URUMQI_LATE,
        reporter_id=dbs.scalar(select(User.id).where(User.username == "clerk_sz01")),
    )
    entry = HandoverEntry(
        site_id=site.id,
        author_id=ticket.reporter_id,
        written_at=URUMQI_LATE,
        text="投影仪遥控器在前台抽屉",
    )
    dbs.add_all([visit, ticket, entry])
    dbs.commit()
    shown = "2026-11-30 23:30 乌鲁木齐时间"
    client = login("admin")
    for url, column in (
        ("/visit/", "arrived_at"),
        ("/repairticket/", "due_at"),
        ("/handover_entry/", "written_at"),
    ):
        page = client.get(url).get_data(as_text=True)
        assert f'class="col-{column}">{shown}<' in page, url
        assert shown in client.get(f"{url}export/csv/").get_data(as_text=True), url
    visit.deleted_at = clock.now()
    dbs.commit()
    assert "23:30 乌鲁木齐时间" in client.get("/trash/").get_data(as_text=True)
