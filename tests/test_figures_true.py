"""Every figure of a past month from the facts of that month, hand-counted.

UR01, a sales office on Urumqi time (UTC+6) whose opening day is 28 November 2026, with records
at 23:30 and 00:10 local on the month's edges, a drink withdrawn in December, a ticket and a
cleaning issue reopened in December, a leaver, checklists completed at their exact deadline. Each
expected value below is counted from the records as written here (not by the code under test),
and the dashboard cell, the records page behind it and the month-end PDF's section are all
compared with it."""

import re
from datetime import date, datetime, time
from decimal import Decimal

import pytest
import time_machine
from flask_babel import force_locale
from sqlalchemy import select

from portal import clock
from portal.models import (
    GROOMING_POINTS,
    ChecklistRun,
    ChecklistTemplate,
    DamageReport,
    HandoverEntry,
    Item,
    ItemCheck,
    ItemCheckLine,
    Site,
    StaffMember,
)
from portal.services import metrics as m
from tests.hand_built import at, two_drinks, user
from portal.services import report_data

ZONE = "Asia/Urumqi"
NOV1, NOV30 = date(2026, 11, 1), date(2026, 11, 30)
QUERY = "period=custom&start=2026-11-01&end=2026-11-30"


def local(day, hour, minute=0, second=0):
    return clock.local_at(day, time(hour, minute, second), ZONE).astimezone(clock.now().tzinfo)


LAST_NOV = local(NOV30, 23, 30)  # 30 November 23:30 in Urumqi: November's
FIRST_DEC = local(date(2026, 12, 1), 0, 10)  # 1 December 00:10 in Urumqi: December's
LATER = local(date(2026, 12, 10), 12)  # when the figures are read




# What the records below add up to, counted by hand.
EXPECTED = {
    # Visits arrived in November: 3 adults on the 10th, 2 at 23:30 on the 30th (the visit of
    # 31 October 23:30 is October's).
    "visitors": 5,
    # Drinks served on November's days: 2 酸梅汤 (10th) + 1 酸梅汤 (30th, 23:40) + 1 矿泉水
    # served at 00:10 on 1 November to October's visit; the 矿泉水 served at 00:10 on 1 December
    # is December's. 4 / 5; the 酸梅汤 withdrawn in December still counts.
    "drinks_per_visitor": 0.8,
    # The tally of the 30th: 酸梅汤 −2, 矿泉水 +1.
    "stock_variance": 3,
    # Days from the opening day (28th): 28, 29 without a tally, 30 closed at 23:50: 1 of 3.
    "tally_on_time": 100 / 3,
    # 28 opening at 10:00:00 (on time), 28 closing at 18:00:01 (late), 29 opening with nothing
    # answered (not done), 29 closing at 17:00 (on time), 30 opening missing, 30 closing at
    # 18:00:00 (on time): 3 of 6.
    "checklists_on_time": 50.0,
    # Two lines off on the 29th, one of them the walkie-talkie retired in December.
    "item_discrepancies": 2,
    # Written 29th 08:00 signed exactly 12 h later (on time); written 30th 23:30, never signed.
    "handover_on_time": 50.0,
    # Raised 29th 09:00, never fixed (open and overdue at the end); raised 30th 21:00, fixed at
    # 23:30, reopened at 00:10 on 1 December (fixed at the end of November).
    "cleaning_open": 1,
    "cleaning_overdue": 1,
    "cleaning_hours_to_fix": 2.5,
    # Two inspections: 5 of 8 points (62.5) and 1 of 8 (12.5); the stored whole per cents
    # (62, 12) would average 37.0.
    "grooming_score": 37.5,
    # An urgent ticket reported 29th 10:00 (due 14:00) still open; a normal one reported 10th
    # 09:00 resolved 30th 23:30 and reopened 1 December 00:10.
    "tickets_open": 1,
    "tickets_overdue": 1,
    "hours_to_resolve": 20 * 24 + 14.5,
    # Filed 15th (deleted in December) and 30th 23:30; the one of 1 December 00:10 is December's.
    "damage_reports": 2,
    # On the roster in November: 在职, 月末离职 (left 30th 23:30), 十二月离职 (left 1 December
    # 00:10); 十二月入职 joined 1 December 00:10.
    "staff_on_roster": 3,
}


@pytest.fixture
def ur01(dbs):
    tz = clock.now().tzinfo
    with time_machine.travel(datetime(2026, 10, 1, 2, tzinfo=tz), tick=False):
        region_id = dbs.scalar(select(Site.region_id).where(Site.code == "SZ01"))
        site = Site(
            code="UR01",
            name="乌鲁木齐售楼处",
            timezone=ZONE,
            region_id=region_id,
            opened_on=date(2026, 9, 1),
        )
        dbs.add(site)
        dbs.flush()
        for username in ("maint_south", "clerk_sz01"):
            member = user(dbs, username)
            member.sites.append(site)
        dbs.commit()
    _build(dbs, site)
    # The daily duties count from the opening day: recorded as the 28th (the earlier records
    # are the fit-out's), so November expects checklists and tallies on three days only.
    site.opened_on = date(2026, 11, 28)
    dbs.commit()
    return site


def _person(dbs, site, name, joined):
    def add():
        person = StaffMember(site_id=site.id, name=name, kind="cleaner")
        dbs.add(person)
        return person

    return at(dbs, joined, add)


def _build(dbs, site):
    from portal.services import cleaning, grooming, repairs, stock, tally, visits

    clerk, boss, worker = user(dbs, "clerk_sz01"), user(dbs, "sup_south"), user(dbs, "maint_south")
    october = local(date(2026, 10, 1), 9)
    # Roster.
    staying = _person(dbs, site, "在职", october)
    edge_leaver = _person(dbs, site, "月末离职", october)
    leaver = _person(dbs, site, "十二月离职", october)
    _person(dbs, site, "十二月入职", FIRST_DEC)
    at(dbs, LAST_NOV, lambda: setattr(edge_leaver, "active", False))
    at(dbs, FIRST_DEC, lambda: setattr(leaver, "active", False))

    # Drinks.
    sour, water = at(dbs, local(date(2026, 10, 30), 9), lambda: two_drinks(dbs, site, clerk))
    october_visit = at(
        dbs, local(date(2026, 10, 31), 23, 30), lambda: visits.record_arrival(site, 1, user=clerk)
    )
    at(dbs, local(NOV1, 0, 10), lambda: stock.serve(october_visit, water, 1, clerk))
    tenth = at(
        dbs, local(date(2026, 11, 10), 10), lambda: visits.record_arrival(site, 3, user=clerk)
    )
    at(dbs, local(date(2026, 11, 10), 10, 5), lambda: stock.serve(tenth, sour, 2, clerk))
    last = at(dbs, LAST_NOV, lambda: visits.record_arrival(site, 2, user=clerk))
    at(dbs, local(NOV30, 23, 40), lambda: stock.serve(last, sour, 1, clerk))
    at(dbs, FIRST_DEC, lambda: stock.serve(last, water, 1, clerk))
    # The tally of the 30th at 23:50: 酸梅汤 expected 17, counted 15;
    # 矿泉水 expected 19, counted 20.
    at(
        dbs,
        local(NOV30, 23, 50),
        lambda: tally.close_tally(site, NOV30, {sour.id: 15, water.id: 20}, clerk),
    )
    at(dbs, local(date(2026, 12, 5), 9), sour.soft_delete)

    # Checklists.
    templates = {}
    for kind in ("opening", "closing"):
        templates[kind] = ChecklistTemplate(name=f"UR01 {kind}", kind=kind, site_id=site.id)
        dbs.add(templates[kind])
    dbs.flush()
    for kind, day, done_at, completion in (
        ("opening", date(2026, 11, 28), local(date(2026, 11, 28), 10), 100),
        ("closing", date(2026, 11, 28), local(date(2026, 11, 28), 18, 0, 1), 100),
        ("opening", date(2026, 11, 29), local(date(2026, 11, 29), 9), 0),
        ("closing", date(2026, 11, 29), local(date(2026, 11, 29), 17), 50),
        ("closing", NOV30, local(NOV30, 18), 100),
        ("opening", date(2026, 11, 27), local(date(2026, 11, 27), 9), 100),  # before opening
    ):
        dbs.add(
            ChecklistRun(
                site_id=site.id,
                template_id=templates[kind].id,
                kind=kind,
                day=day,
                status="done",
                completed_at=done_at,
                completion=completion,
                user_id=clerk.id,
            )
        )
    # Item check on the 29th: two lines off, one of an item retired in December.
    walkie = Item(site_id=site.id, name="对讲机", category="other", expected_quantity=2)
    model = Item(site_id=site.id, name="沙盘模型", category="other", expected_quantity=1)
    dbs.add_all([walkie, model])
    dbs.flush()
    check = ItemCheck(
        site_id=site.id, kind="opening", day=date(2026, 11, 29), user_id=clerk.id, status="done"
    )
    dbs.add(check)
    dbs.flush()
    for item, expected, counted, off in (
        (walkie, 2, 1, True),
        (model, 1, 1, True),
        (model, 1, 1, False),
    ):
        dbs.add(
            ItemCheckLine(
                site_id=site.id,
                check_id=check.id,
                item_id=item.id,
                day=date(2026, 11, 29),
                expected_quantity=expected,
                counted_quantity=counted,
                condition="ok" if counted == expected else "missing",
                is_discrepancy=off,
            )
        )
    # Handover.
    for written, signed in (
        (local(date(2026, 11, 29), 8), local(date(2026, 11, 29), 20)),
        (LAST_NOV, None),
    ):
        dbs.add(
            HandoverEntry(
                site_id=site.id,
                author_id=clerk.id,
                written_at=written,
                text="交接",
                signed_at=signed,
                signed_by_id=clerk.id if signed else None,
            )
        )
    # Damage.
    reports = []
    for when in (local(date(2026, 11, 15), 11), LAST_NOV, FIRST_DEC):
        report = DamageReport(
            site_id=site.id,
            equipment="沙盘",
            visit_description="客户",
            visit_at=when,
            description="碰坏",
            estimated_cost=Decimal("100"),
            reporter_id=clerk.id,
            salesperson_id=clerk.id,
        )
        dbs.add(report)
        dbs.flush()
        report.created_at = when
        reports.append(report)
    dbs.commit()
    at(dbs, local(date(2026, 12, 5), 9), reports[0].soft_delete)
    at(dbs, local(date(2026, 12, 5), 9), walkie.soft_delete)

    # Cleaning.
    def inspect(note):
        (area, *_) = cleaning.areas_of(site)
        cleaning.inspect(site, boss, [(area, False, note)], cleaner=staying)

    at(dbs, local(date(2026, 11, 29), 9), lambda: inspect("镜面有指纹"))
    at(dbs, local(NOV30, 21), lambda: inspect("地面有水渍"))
    from portal.models import CleaningIssue

    issue = dbs.scalar(
        select(CleaningIssue).where(
            CleaningIssue.description == "地面有水渍", CleaningIssue.site_id == site.id
        )
    )
    at(dbs, LAST_NOV, lambda: cleaning.mark_fixed(issue, clerk))
    at(dbs, FIRST_DEC, lambda: cleaning.reopen(issue, boss, "还是有水渍"))

    # Grooming.
    keys = [key for key, _ in GROOMING_POINTS]
    for day, passed in ((3, 5), (4, 1)):
        results = [(key, n < passed, None) for n, key in enumerate(keys)]
        at(
            dbs,
            local(date(2026, 11, day), 9),
            lambda results=results: grooming.inspect(site, staying, boss, results),
        )

    # Repairs.
    ticket = at(
        dbs,
        local(date(2026, 11, 10), 9),
        lambda: repairs.report(site, clerk, "空调", "不制冷", "normal"),
    )
    at(
        dbs,
        local(date(2026, 11, 10), 10),
        lambda: repairs.transition(ticket, "assign", boss, assignee=worker),
    )
    at(dbs, local(date(2026, 11, 11), 9), lambda: repairs.transition(ticket, "start", worker))
    at(dbs, LAST_NOV, lambda: repairs.transition(ticket, "resolve", worker, cost="0"))
    at(dbs, FIRST_DEC, lambda: repairs.transition(ticket, "reopen", clerk, note="又坏了"))
    at(
        dbs,
        local(date(2026, 11, 29), 10),
        lambda: repairs.report(site, clerk, "门禁", "刷卡无反应", "urgent"),
    )


def _shown(page, code):
    row = page.split(f'<tr data-site="{code}">')[1].split("</tr>")[0]
    return {
        key: (url.replace("&amp;", "&"), shown.strip())
        for url, key, shown in re.findall(
            r'href="([^"]+)" class="drill" data-metric="(\w+)">([^<]+)</a>', row
        )
    }


def _records(body):
    """[(record id, [cells])] of a records page."""
    return [
        (rid, re.findall(r"<td>(.*?)</td>", cells))
        for rid, cells in re.findall(r'<tr data-record="([^"]+)"[^>]*>(.*?)</tr>', body, re.S)
    ]


def test_every_figure_counts_the_facts_of_its_month(dbs, ur01, login, app):
    with time_machine.travel(LATER, tick=False):
        with app.app_context(), force_locale("zh_Hans_CN"):
            values = m.collect([ur01.id], NOV1, NOV30)
        for key, expected in EXPECTED.items():
            assert values[key][ur01.id] == pytest.approx(expected), key
        client = login("sup_south")
        page = client.get(f"/dashboard/?{QUERY}").get_data(as_text=True)
        links = _shown(page, "UR01")
        for key, expected in EXPECTED.items():
            url, shown = links[key]
            assert shown == m.get_metric(key).format(expected), key
            resp = client.get(url)
            assert resp.status_code == 200, (key, url)
            body = resp.get_data(as_text=True)
            assert f'data-metric="{key}">{shown}<' in body, key
            RECORDS[key](_records(body))


def _sum(rows, column):
    return sum(float(cells[column]) for _rid, cells in rows)


RECORDS = {
    # One row per visit, people and drinks counted: 5 people, 4 drinks, the withdrawn drink
    # named and marked.
    "visitors": lambda rows: (
        _sum(rows, 1) == 5 or pytest.fail(rows),
        _sum(rows, 2) == 4 or pytest.fail(rows),
        any("酸梅汤（已停用）" in cells[3] for _r, cells in rows) or pytest.fail(rows),
        # October's 23:30 visit is listed with its drink of 00:10 (Urumqi time shown).
        any(c[0] == "2026-10-31 23:30:00" and c[1] == "0" and c[2] == "1" for _r, c in rows)
        or pytest.fail(rows),
    ),
    "drinks_per_visitor": lambda rows: _sum(rows, 2) / _sum(rows, 1) == 0.8 or pytest.fail(rows),
    "stock_variance": lambda rows: (
        _sum(rows, 5) == 3 or pytest.fail(rows),
        {c[1] for _r, c in rows} == {"酸梅汤（已停用）", "矿泉水"} or pytest.fail(rows),
    ),
    # A row per counted day, the missing ones included.
    "tally_on_time": lambda rows: (
        [c[0] for _r, c in rows] == ["2026-11-28", "2026-11-29", "2026-11-30"] or pytest.fail(rows),
        [c[3] for _r, c in rows] == ["0", "0", "1"] or pytest.fail(rows),
        rows[2][1][1] == "2026-11-30 23:50:00" or pytest.fail(rows),
    ),
    "checklists_on_time": lambda rows: (
        len(rows) == 6 or pytest.fail(rows),
        [c[6] for _r, c in rows] == ["1", "0", "0", "1", "0", "1"] or pytest.fail(rows),
        rows[0][1][3] == "2026-11-28 10:00:00" or pytest.fail(rows),
        rows[4][0] == "missing-2026-11-30-opening" or pytest.fail(rows),
    ),
    "item_discrepancies": lambda rows: (
        sorted(c[1] for _r, c in rows) == sorted(["对讲机（已停用）", "沙盘模型"])
        or pytest.fail(rows)
    ),
    "handover_on_time": lambda rows: [c[3] for _r, c in rows] == ["1", "0"] or pytest.fail(rows),
    "cleaning_open": lambda rows: [c[1] for _r, c in rows] == ["镜面有指纹"] or pytest.fail(rows),
    "cleaning_overdue": lambda rows: [c[1] for _r, c in rows] == ["镜面有指纹"]
    or pytest.fail(rows),
    "cleaning_hours_to_fix": lambda rows: (
        [(c[2], c[3], c[4]) for _r, c in rows]
        == [("2026-11-30 21:00:00", "2026-11-30 23:30:00", "2.50")]
        or pytest.fail(rows)
    ),
    "grooming_score": lambda rows: [c[3] for _r, c in rows] == ["62.50", "12.50"]
    or pytest.fail(rows),
    "tickets_open": lambda rows: [c[1] for _r, c in rows] == ["门禁"] or pytest.fail(rows),
    "tickets_overdue": lambda rows: [c[1] for _r, c in rows] == ["门禁"] or pytest.fail(rows),
    "hours_to_resolve": lambda rows: (
        [(c[1], c[3], c[4]) for _r, c in rows] == [("空调", "2026-11-30 23:30:00", "494.50")]
        or pytest.fail(rows)
    ),
    "damage_reports": lambda rows: len(rows) == 2 or pytest.fail(rows),
    "staff_on_roster": lambda rows: (
        sorted(c[0] for _r, c in rows) == sorted(["在职", "月末离职", "十二月离职"])
        or pytest.fail(rows)
    ),
}


def _section(data, key):
    (section,) = [s for s in data["sections"] if s["key"] == key]
    return section


def test_the_month_end_report_agrees_with_its_key_figures(dbs, ur01, app):
    with time_machine.travel(LATER, tick=False), app.app_context():
        data = report_data.site_month(ur01.id, NOV1)
    figures = {f["key"]: f["value"] for f in data["figures"]}
    for key, expected in EXPECTED.items():
        assert figures[key] == pytest.approx(expected), key
    visitors = sum(row[2] for row in _section(data, "visits")["rows"])
    assert visitors == figures["visitors"] == 5
    consumption = _section(data, "consumption")["rows"]
    drinks = sum(row[3] for row in consumption if row[1] == "饮料")
    assert drinks / visitors == figures["drinks_per_visitor"]
    assert [row[0] for row in consumption] == ["酸梅汤（已停用）", "矿泉水"]
    variances = _section(data, "tally_variances")["rows"]
    assert sum(row[5] for row in variances) == figures["stock_variance"] == 3
    discrepancies = _section(data, "discrepancies")["rows"]
    assert len(discrepancies) == figures["item_discrepancies"]
    assert all(row[1] for row in discrepancies) and "对讲机（已停用）" in {
        r[1] for r in discrepancies
    }
    roster = _section(data, "roster")["rows"]
    assert sorted(r[0] for r in roster) == sorted(["在职", "月末离职", "十二月离职"])
    assert len(roster) == figures["staff_on_roster"]
    repairs = _section(data, "repairs_damage")["rows"]
    assert sum(1 for r in repairs if r[1] == "报修" and r[3] == "是") == figures["tickets_open"]
    hours = [float(r[5]) for r in repairs if r[1] == "报修" and r[5] != "–"]
    assert sum(hours) / len(hours) == pytest.approx(figures["hours_to_resolve"], abs=0.05)
    assert sum(1 for r in repairs if r[1] == "损坏") == figures["damage_reports"]
    cleaning = _section(data, "cleaning")["rows"]
    assert sum(r[1] for r in cleaning) == figures["cleaning_open"]
    assert sum(r[2] for r in cleaning) == figures["cleaning_overdue"]
    assert sum(r[3] for r in cleaning) == 1
    grooming = _section(data, "grooming")["rows"]
    weighted = sum(r[1] * float(r[2]) for r in grooming) / sum(r[1] for r in grooming)
    assert weighted == pytest.approx(figures["grooming_score"], abs=0.05)
    (handover,) = _section(data, "handover")["rows"]
    assert 100 * handover[2] / handover[0] == figures["handover_on_time"]
    changes = _section(data, "changes")["rows"]
    assert sum(r[1] for r in changes) == figures["audit_events"]
    definitions = {d["key"]: d["definition"] for d in data["definitions"]}
    assert all(definitions[key] for key in EXPECTED), definitions
    assert "10:00:00" in definitions["checklists_on_time"]
