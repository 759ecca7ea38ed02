"""Every dashboard figure, table-driven: the number shown for a site and period equals the
count (or the sum, rate, mean) of exactly the records its drill-down page lists, and those
are exactly the records the figure is made of — recomputed here independently, from the raw
rows, with each site's own local midnight.

The data: the hand-built October dataset of ``test_metrics_domains`` plus, for each kind of
record, rows just inside and just outside the period (local midnight on both ends), deleted
rows and another site's rows; once with SZ01 on Beijing time, once on Urumqi time (two hours
behind: what is past midnight in Shenzhen is still October there).
"""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.models import (
    AuditEvent,
    ChecklistRun,
    ChecklistTemplate,
    CleaningArea,
    CleaningIssue,
    ConsumptionLine,
    DailyTally,
    DailyTallyLine,
    DamageReport,
    GroomingInspection,
    HandoverEntry,
    Item,
    ItemCheck,
    ItemCheckLine,
    Product,
    RepairTicket,
    Site,
    StaffMember,
    StockMovement,
    User,
    Visit,
    utcnow,
)
from portal.services import metrics as m
from tests.audit_rows import add_event
from tests.querycount import count_queries
from tests.test_metrics_domains import NOW, _site_data, local

OCT, END = date(2026, 10, 1), date(2026, 10, 31)
NOV1 = date(2026, 11, 1)
PERIODS = {
    "october": ("period=custom&start=2026-10-01&end=2026-10-31", OCT, END),
    "one day": ("period=day&on=2026-10-10", date(2026, 10, 10), date(2026, 10, 10)),
}
DEADLINES = {"opening": 10, "closing": 18}


def _extras(dbs, sid, clerk):
    """Rows on the borders of October (local midnight, Beijing time), deleted rows."""
    first, last, after = local(OCT, 0), local(END, 23, 59), local(NOV1, 0)
    drink = dbs.scalars(
        select(Product).where(Product.site_id == sid, Product.kind == "drink")
    ).first()
    area = dbs.scalars(select(CleaningArea).where(CleaningArea.site_id == sid)).first()
    person = dbs.scalars(select(StaffMember).where(StaffMember.site_id == sid)).first()
    item = dbs.scalars(select(Item).where(Item.site_id == sid)).first()
    opening = dbs.scalars(
        select(ChecklistTemplate).where(
            ChecklistTemplate.site_id == sid, ChecklistTemplate.kind == "opening"
        )
    ).first()
    # Visits (with a drink each): the first minute in, the first minute after out, deleted.
    for at, adults, deleted in ((first, 2, None), (after, 7, None), (last, 9, NOW)):
        visit = Visit(site_id=sid, arrived_at=at, adults=adults, children=1, deleted_at=deleted)
        dbs.add(visit)
        dbs.flush()
        mv = StockMovement(
            site_id=sid,
            product_id=drink.id,
            kind="served",
            quantity=-1,
            at=at,
            day=at.date(),
            visit_id=visit.id,
        )
        dbs.add(mv)
        dbs.flush()
        dbs.add(
            ConsumptionLine(
                site_id=sid, visit_id=visit.id, product_id=drink.id, quantity=1, movement_id=mv.id
            )
        )
    # Tallies: 1 Oct closed a minute after midnight (late), 31 Oct at 23:59 (same day), 1 Nov (out).
    for day, closed, variance in (
        (OCT, local(date(2026, 10, 2), 0, 1), 4),
        (END, last, -5),
        (NOV1, local(NOV1, 17, 50), 11),
    ):
        tally = DailyTally(site_id=sid, day=day, closed_at=closed)
        dbs.add(tally)
        dbs.flush()
        dbs.add(
            DailyTallyLine(
                site_id=sid,
                tally_id=tally.id,
                product_id=drink.id,
                opening=10,
                restock=0,
                served=0,
                wastage=0,
                corrections=0,
                expected=10,
                counted=10 + variance,
                variance=variance,
            )
        )
    # Checklists: an opening on 1 Nov (out).
    dbs.add(
        ChecklistRun(
            site_id=sid,
            template_id=opening.id,
            kind="opening",
            day=NOV1,
            status="done",
            completed_at=local(NOV1, 9),
            user_id=clerk,
        )
    )
    # Item check: a discrepancy on 31 Oct (in), one on 1 Nov (out).
    for day in (END, NOV1):
        check = ItemCheck(site_id=sid, kind="closing", day=day, user_id=clerk, status="done")
        dbs.add(check)
        dbs.flush()
        dbs.add(
            ItemCheckLine(
                site_id=sid,
                check_id=check.id,
                item_id=item.id,
                day=day,
                expected_quantity=2,
                counted_quantity=0,
                is_discrepancy=True,
            )
        )
    # Handover: written at the first minute (signed 11 h 59 later), at midnight after (out), deleted.
    for written, signed, deleted in (
        (first, first + timedelta(hours=11, minutes=59), None),
        (after, None, None),
        (local(END, 12), None, NOW),
    ):
        dbs.add(
            HandoverEntry(
                site_id=sid,
                author_id=clerk,
                written_at=written,
                text="边界",
                signed_at=signed,
                signed_by_id=clerk if signed else None,
                deleted_at=deleted,
            )
        )
    # Cleaning: raised at the first minute and fixed at the last (in both), raised after (out), deleted.
    for raised, due, status, fixed, deleted in (
        (first, first + timedelta(hours=4), "fixed", last, None),
        (after, after + timedelta(hours=1), "open", None, None),
        (local(END, 9), local(END, 10), "open", None, NOW),
    ):
        issue = CleaningIssue(
            site_id=sid,
            area_id=area.id,
            description="边界",
            due_at=due,
            status=status,
            fixed_at=fixed,
            deleted_at=deleted,
        )
        dbs.add(issue)
        dbs.flush()
        issue.created_at = raised
    # Grooming: the last minute (in), midnight after (out).
    for when, score in ((last, 60), (after, 0)):
        dbs.add(
            GroomingInspection(
                site_id=sid,
                staff_member_id=person.id,
                inspector_id=clerk,
                inspected_at=when,
                score=score,
            )
        )
    # Repairs: resolved at the last minute (resolved in October), resolved exactly at midnight after
    # (still open, and late, at the end of October), reported after (out), deleted (out).
    for reported, due, resolved, deleted in (
        (first, first + timedelta(hours=72), last, None),
        (local(END, 8), local(END, 12), after, None),
        (after, after + timedelta(hours=4), None, None),
        (local(OCT, 9), local(OCT, 10), None, NOW),
    ):
        ticket = RepairTicket(
            site_id=sid,
            equipment="灯",
            description="不亮",
            priority="normal",
            status="resolved" if resolved else "new",
            due_at=due,
            reporter_id=clerk,
            resolved_at=resolved,
            deleted_at=deleted,
        )
        dbs.add(ticket)
        dbs.flush()
        ticket.created_at = reported
    # Damage: the first minute (in), midnight after (out), deleted.
    for when, deleted in ((first, None), (after, None), (local(END, 15), NOW)):
        report = DamageReport(
            site_id=sid,
            equipment="模型",
            visit_description="客户",
            visit_at=when,
            description="碰坏",
            estimated_cost=Decimal("50"),
            reporter_id=clerk,
            salesperson_id=clerk,
            deleted_at=deleted,
        )
        dbs.add(report)
        dbs.flush()
        report.created_at = when
    # Roster: joined at the last minute (in), joined after (out), left (inactive).
    for name, joined, active in (
        ("十月底入职", last, True),
        ("十一月入职", after, True),
        ("已离职", first, False),
    ):
        member = StaffMember(site_id=sid, name=name, kind="cleaner", active=active)
        dbs.add(member)
        dbs.flush()
        member.created_at = joined
    # Recorded changes on both borders (the ones the inserts above wrote are of today: November).
    for at in (first, last, after, local(date(2026, 9, 30), 23, 59)):
        add_event(dbs, site_id=sid, at=at, object_type="Visit", summary="边界")


@pytest.fixture(params=["Asia/Shanghai", "Asia/Urumqi"])
def drill_data(request, dbs, site_ids):
    """SZ01 (in ``params`` time) and SZ02 with the October dataset and its border rows."""
    dbs.get(Site, site_ids["SZ01"]).timezone = request.param
    dbs.commit()
    clerk = dbs.scalar(select(User.id).where(User.username == "clerk_sz01"))
    for code, shift in (("SZ01", 0), ("SZ02", 1)):
        _site_data(dbs, site_ids[code], clerk, shift)
        _extras(dbs, site_ids[code], clerk)
    dbs.commit()
    return site_ids


# ------------------------------------------------------------ independent recount, record by record


def _rows(dbs, model, sid):
    return [
        r
        for r in dbs.scalars(select(model).where(model.site_id == sid))
        if getattr(r, "deleted_at", None) is None
    ]


def behind(dbs, sid, start, end, now=None):
    """{metric key: [records]}: what each figure of ``sid`` over ``start..end`` is made of."""
    zone = ZoneInfo(dbs.get(Site, sid).timezone)
    lo = datetime.combine(start, time.min, zone)
    hi = datetime.combine(end + timedelta(days=1), time.min, zone)
    until = min(hi, now or utcnow())

    def inside(at):
        return at is not None and lo <= at < hi

    def on_days(day):
        return start <= day <= end

    visits = [v for v in _rows(dbs, Visit, sid) if inside(v.arrived_at)]
    tallies = [t for t in _rows(dbs, DailyTally, sid) if on_days(t.day)]
    issues = [i for i in _rows(dbs, CleaningIssue, sid) if inside(i.created_at)]
    still_open = [
        t
        for t in _rows(dbs, RepairTicket, sid)
        if t.created_at < until and (t.resolved_at is None or t.resolved_at >= until)
    ]
    return {
        "visitors": visits,
        "drinks_per_visitor": visits,
        "stock_variance": tallies,
        "tally_on_time": tallies,
        "checklists_on_time": [
            r for r in _rows(dbs, ChecklistRun, sid) if on_days(r.day) and r.kind in DEADLINES
        ],
        "item_discrepancies": [
            x for x in _rows(dbs, ItemCheckLine, sid) if x.is_discrepancy and on_days(x.day)
        ],
        "handover_on_time": [e for e in _rows(dbs, HandoverEntry, sid) if inside(e.written_at)],
        "cleaning_open": [i for i in issues if i.status == "open"],
        "cleaning_overdue": [i for i in issues if (i.fixed_at or NOW) > i.due_at],
        "cleaning_hours_to_fix": [i for i in _rows(dbs, CleaningIssue, sid) if inside(i.fixed_at)],
        "grooming_score": [
            g for g in _rows(dbs, GroomingInspection, sid) if inside(g.inspected_at)
        ],
        "tickets_open": still_open,
        "tickets_overdue": [t for t in still_open if t.due_at < until],
        "hours_to_resolve": [t for t in _rows(dbs, RepairTicket, sid) if inside(t.resolved_at)],
        "damage_reports": [r for r in _rows(dbs, DamageReport, sid) if inside(r.created_at)],
        "staff_on_roster": [
            s for s in _rows(dbs, StaffMember, sid) if s.active and s.created_at < hi
        ],
        "audit_events": [e for e in _rows(dbs, AuditEvent, sid) if inside(e.at)],
    }


def _pct(hits, records):
    return 100.0 * sum(1 for r in records if hits(r)) / len(records) if records else None


def _mean(values):
    values = list(values)
    return sum(values) / len(values) if values else None


def _hours(a, b):
    return (b - a).total_seconds() / 3600


def _drinks_per_visitor(dbs, visits):
    people = sum(v.adults + v.children for v in visits)
    ids = {v.id for v in visits}
    drinks = sum(
        line.quantity
        for line in dbs.scalars(select(ConsumptionLine))
        if line.visit_id in ids and dbs.get(Product, line.product_id).kind == "drink"
    )
    return drinks / people if people else None


def _units_off(dbs, tallies):
    ids = {t.id for t in tallies}
    return sum(
        abs(line.variance) for line in dbs.scalars(select(DailyTallyLine)) if line.tally_id in ids
    )


def aggregate(dbs, key, records, zone):
    """The figure ``key`` made of ``records`` (a site's, in ``zone``)."""
    figures = {
        "visitors": lambda: sum(v.adults + v.children for v in records),
        "drinks_per_visitor": lambda: _drinks_per_visitor(dbs, records),
        "stock_variance": lambda: _units_off(dbs, records),
        "tally_on_time": lambda: _pct(
            lambda t: t.closed_at < datetime.combine(t.day + timedelta(days=1), time.min, zone),
            records,
        ),
        "checklists_on_time": lambda: _pct(
            lambda r: r.status == "done"
            and r.completed_at < datetime.combine(r.day, time(DEADLINES[r.kind]), zone),
            records,
        ),
        "handover_on_time": lambda: _pct(
            lambda e: e.signed_at is not None and e.signed_at - e.written_at <= timedelta(hours=12),
            records,
        ),
        "cleaning_hours_to_fix": lambda: _mean(_hours(i.created_at, i.fixed_at) for i in records),
        "grooming_score": lambda: _mean(g.score for g in records),
        "hours_to_resolve": lambda: _mean(_hours(t.created_at, t.resolved_at) for t in records),
    }
    return figures[key]() if key in figures else len(records)


# ------------------------------------------------------------ reading the pages

MODELS = {
    "visitors": Visit,
    "drinks_per_visitor": Visit,
    "stock_variance": DailyTally,
    "tally_on_time": DailyTally,
    "checklists_on_time": ChecklistRun,
    "item_discrepancies": ItemCheckLine,
    "handover_on_time": HandoverEntry,
    "cleaning_open": CleaningIssue,
    "cleaning_overdue": CleaningIssue,
    "cleaning_hours_to_fix": CleaningIssue,
    "grooming_score": GroomingInspection,
    "tickets_open": RepairTicket,
    "tickets_overdue": RepairTicket,
    "hours_to_resolve": RepairTicket,
    "damage_reports": DamageReport,
    "staff_on_roster": StaffMember,
    "audit_events": AuditEvent,
}


def drill_links(page, code):
    """{metric key: (drill URL, number shown)} of one site's row of the dashboard."""
    row = page.split(f'<tr data-site="{code}">')[1].split("</tr>")[0]
    return {
        key: (url.replace("&amp;", "&"), shown.strip())
        for url, key, shown in re.findall(
            r'href="([^"]+)" class="drill" data-metric="(\w+)">([^<]+)</a>', row
        )
    }


def listed_ids(url, body):
    """Ids of the records a drill-down page lists (one entry per row)."""
    if url.startswith("/damage/"):
        found = re.findall(r'data-report="(\d+)"', body)
    elif url.startswith("/grooming/"):
        found = re.findall(r'<tr data-inspection="(\d+)"', body)
    else:  # a Flask-Admin list: one details link per row
        found = re.findall(re.escape(url.split("?")[0]) + r"details/\?id=(\d+)", body)
    assert len(found) == len(set(found)), url
    return {int(i) for i in found}


@pytest.mark.parametrize("period", sorted(PERIODS))
def test_every_figure_equals_the_records_its_drill_down_lists(login, dbs, drill_data, period):
    query, start, end = PERIODS[period]
    client = login("sup_south")
    page = client.get(f"/dashboard/?{query}").get_data(as_text=True)
    # This table covers the figures of portal.services.metrics; a domain that keeps its figures
    # in its own service (the key register) checks them in its own tests.
    metrics = [mt for mt in m.all_metrics() if mt.provider.__module__.startswith(m.__name__ + ".")]
    assert len(metrics) == 17 and set(MODELS) == {mt.key for mt in metrics}
    for code in ("SZ01", "SZ02"):
        sid = drill_data[code]
        zone = ZoneInfo(dbs.get(Site, sid).timezone)
        links = drill_links(page, code)
        expected = behind(dbs, sid, start, end)
        for mt in metrics:
            url, shown = links[mt.key]
            records = expected[mt.key]
            # The dashboard shows the figure of exactly these records …
            assert shown == mt.format(aggregate(dbs, mt.key, records, zone)), (period, code, mt.key)
            # … and the page behind the number lists exactly them.
            resp = client.get(url)
            assert resp.status_code == 200, (code, mt.key, url)
            body = resp.get_data(as_text=True)
            ids = listed_ids(url, body)
            assert ids == {r.id for r in records}, (period, code, mt.key, url)
            listed = [dbs.get(MODELS[mt.key], i) for i in ids]
            assert shown == mt.format(aggregate(dbs, mt.key, listed, zone)), (period, code, mt.key)
            # Never another site's record.
            other = "前海" if code == "SZ01" else "深圳湾"
            assert all(r.site_id == sid for r in listed) and f"<td>{other}" not in body, (
                code,
                mt.key,
            )
        # The October data has something behind most figures: the comparison is not empty.
        if period == "october":
            assert sum(1 for key in MODELS if expected[key]) == 17, code


def test_the_drill_pages_show_the_figure_itself(login, dbs, drill_data):
    """Where the figure is an aggregate the list page shows it too (grooming card, damage count,
    units off and same-day flags of the tallies)."""
    client = login("sup_south")
    sid = drill_data["SZ01"]
    links = drill_links(
        client.get(f"/dashboard/?{PERIODS['october'][0]}").get_data(as_text=True), "SZ01"
    )
    url, shown = links["grooming_score"]
    body = client.get(url).get_data(as_text=True)
    assert re.search(rf'data-score-site="{sid}">{re.escape(shown)}%<', body), shown
    assert "2026-10-01" in body and "2026-10-31" in body
    url, shown = links["damage_reports"]
    summary = client.get(url).get_data(as_text=True).split('id="period-shown">')[1].split("</p>")[0]
    assert re.search(rf"\b{shown}\b", summary) and "2026-10-01" in summary, summary
    url, shown = links["stock_variance"]
    body = client.get(url).get_data(as_text=True)
    assert "当日完成" in body and "盘点差异数" in body and "否，超时" in body


def test_sup_east_gets_nothing_of_south_on_any_drill_url(login, dbs, drill_data):
    south = login("sup_south").get(f"/dashboard/?{PERIODS['october'][0]}").get_data(as_text=True)
    client = login("sup_east")
    for code in ("SZ01", "SZ02"):
        for key, (url, _shown) in drill_links(south, code).items():
            resp = client.get(url)
            body = resp.get_data(as_text=True)
            assert resp.status_code in (200, 404), (key, url, resp.status_code)
            assert listed_ids(url, body) == set() and "深圳湾" not in body and "前海" not in body, (
                key,
                url,
            )
    # sup_east's own dashboard and his drill-downs stay within EAST.
    east = client.get(f"/dashboard/?{PERIODS['october'][0]}").get_data(as_text=True)
    assert "SZ0" not in east and 'data-site="SH01"' in east


def test_urumqi_site_cuts_its_days_at_its_own_midnight(login, dbs, site_ids):
    """Midnight in Shenzhen is 22:00 in Urumqi: a visit then is still October there."""
    sz02 = site_ids["SZ02"]
    dbs.get(Site, sz02).timezone = "Asia/Urumqi"
    dbs.add_all(
        [
            Visit(
                site_id=sz02, arrived_at=local(NOV1, 1, 30), adults=3, children=0
            ),  # 23:30 in Urumqi
            Visit(
                site_id=sz02, arrived_at=local(OCT, 1, 30), adults=5, children=0
            ),  # 30 Sept, 23:30 there
            Visit(site_id=site_ids["SZ01"], arrived_at=local(NOV1, 1, 30), adults=4, children=0),
        ]
    )  # Shenzhen: Nov
    dbs.commit()
    values = m.collect([sz02, site_ids["SZ01"]], OCT, END)
    assert values["visitors"][sz02] == 3 and values["visitors"][site_ids["SZ01"]] == 0
    assert m.collect([sz02], NOV1, date(2026, 11, 30))["visitors"][sz02] == 0
    assert m.collect([sz02], date(2026, 9, 1), date(2026, 9, 30))["visitors"][sz02] == 5


def test_a_tally_records_whether_it_was_closed_the_same_day(dbs, site_ids):
    from portal.models.consumables import closed_same_day

    ur = ZoneInfo("Asia/Urumqi")
    day = date(2026, 10, 5)
    assert closed_same_day(day, datetime(2026, 10, 5, 23, 59, tzinfo=ur), "Asia/Urumqi")
    assert not closed_same_day(day, datetime(2026, 10, 6, 0, 0, tzinfo=ur), ur)
    assert not closed_same_day(day, local(date(2026, 10, 6), 0), "Asia/Shanghai")
    assert closed_same_day(day, local(date(2026, 10, 6), 1), "Asia/Urumqi")  # 23:00 in Urumqi
    assert closed_same_day(day, local(day, 23), "no such zone")  # unknown: Beijing time


@pytest.mark.parametrize(
    "path",
    [
        "/dailytally/?flt0_site_equals={sz}&flt1_day_between=2026-10-01+to+2026-10-31",
        "/repairticket/?flt0_site_equals={sz}&flt1_open_at_period_end_between="
        "2026-10-01+to+2026-10-31",
        "/damage/?status=all&site={sz}&start=2026-10-01&end=2026-10-31",
        "/grooming/?site={sz}&start=2026-10-01&end=2026-10-31",
    ],
)
def test_drill_pages_cost_a_constant_number_of_queries(app, login, dbs, site_ids, path):
    client = login("sup_south")
    url = path.format(sz=site_ids["SZ01"])
    clerk = dbs.scalar(select(User.id).where(User.username == "clerk_sz01"))
    _site_data(dbs, site_ids["SZ01"], clerk, 0)
    dbs.commit()
    client.get(url)
    with count_queries(app) as few:
        assert client.get(url).status_code == 200
    _extras(dbs, site_ids["SZ01"], clerk)  # more rows of every kind on the same page
    dbs.get(Site, site_ids["SZ02"]).timezone = "Asia/Urumqi"  # and a second time zone
    dbs.commit()
    client.get(url)  # a changed site: the kept filter dropdowns are read again, once
    with count_queries(app) as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count <= 30
