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
from sqlalchemy import select, update

from portal.devdata.facts import derive_history

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
    StaffSpell,
    StockMovement,
    User,
    Visit,
    utcnow,
)
from portal.services import metrics as m
from tests.audit_rows import add_event
from tests.querycount import count_queries
from tests.test_metrics_domains import NOW, _site_data, local
from tests.conftest import without_random_values

OCT, END = date(2026, 10, 1), date(2026, 10, 31)
NOV1 = date(2026, 11, 1)
PERIODS = {
    "october": ("period=custom&start=2026-10-01&end=2026-10-31", OCT, END),
    "one day": ("period=day&on=2026-10-10", date(2026, 10, 10), date(2026, 10, 10)),
}
DEADLINES = {"opening": 10, "closing": 18}
# Records pages measured for their queries: one of each kind of fact they read.
MEASURED = {
    "audit_events",
    "checklists_on_time",
    "cleaning_open",
    "damage_reports",
    "drinks_per_visitor",
    "grooming_score",
    "staff_on_roster",
    "stock_variance",
    "tickets_open",
}


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
    # Handover: written at the first minute (signed 11 h 59 later), at midnight after (out),
    # deleted.
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
    # Cleaning: raised at the first minute and fixed at the last (in both), raised after (out),
    # deleted.
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
    # Roster: joined at the last minute (in), joined after (out), joined in September and left
    # on 15 October (in: on the roster during October), left in September (out).
    september = local(date(2026, 9, 1), 9)
    for name, joined, left in (
        ("十月底入职", last, None),
        ("十一月入职", after, None),
        ("十月离职", september, local(date(2026, 10, 15), 18)),
        ("九月离职", september, local(date(2026, 9, 20), 18)),
    ):
        member = StaffMember(site_id=sid, name=name, kind="cleaner", created_at=joined)
        dbs.add(member)
        dbs.flush()
        if left is not None:
            # The spell closes when the person leaves; left_at dated back as a history import
            # would, then the person is marked inactive (no open spell left to close).
            dbs.execute(
                update(StaffSpell)
                .where(StaffSpell.staff_member_id == member.id)
                .values(left_at=left)
            )
            member.active = False
            dbs.flush()
    # Changes people made on both borders (the ones the inserts above wrote are of today), a
    # save of two rows half a second apart (one change), the system's own row and a login (none).
    clerk_events = [first, last, after, local(date(2026, 9, 30), 23, 59), local(OCT, 12)]
    for at in clerk_events:
        add_event(dbs, site_id=sid, at=at, object_type="Visit", summary="边界", user_id=clerk)
    add_event(
        dbs,
        site_id=sid,
        at=local(OCT, 12) + timedelta(milliseconds=500),
        object_type="ConsumptionLine",
        summary="边界",
        user_id=clerk,
    )
    add_event(dbs, site_id=sid, at=local(OCT, 13), object_type="Visit", summary="系统")
    add_event(
        dbs,
        site_id=sid,
        at=local(OCT, 14),
        action="login",
        object_type="User",
        summary="登录",
        user_id=clerk,
    )


@pytest.fixture(params=["Asia/Shanghai", "Asia/Urumqi"])
def drill_data(request, dbs, site_ids):
    """SZ01 (in ``params`` time) and SZ02 with the October dataset and its border rows."""
    dbs.get(Site, site_ids["SZ01"]).timezone = request.param
    dbs.commit()
    clerk = dbs.scalar(select(User.id).where(User.username == "clerk_sz01"))
    for code, shift in (("SZ01", 0), ("SZ02", 1)):
        _site_data(dbs, site_ids[code], clerk, shift)
        _extras(dbs, site_ids[code], clerk)
    dbs.flush()
    derive_history()  # the tickets' and issues' histories, as the demo data gets them
    dbs.commit()
    return site_ids


# ------------------------------------------------------------ independent recount, record by record
#
# Each figure follows its written definition (``Metric.definition``), which changed with the
# period facts: a record deleted after the period still counts (one deleted before its end does
# not); the same-day tally and checklist shares are over every day of the period since the
# site opened (a day without one is a miss, a done checklist needs answered items, the deadline
# itself is on time); open / overdue issues are those open at the period's end, whenever raised;
# drinks count on the day they were served; the roster is everyone on it during the period,
# leavers included; recorded changes are people's saves (not the system's rows, not logins).


def _rows(dbs, model, sid, hi):
    """``sid``'s rows that still existed at ``hi``, deleted ones included until deleted."""
    stmt = select(model).where(model.site_id == sid).execution_options(include_deleted=True)
    return [
        r for r in dbs.scalars(stmt) if getattr(r, "deleted_at", None) is None or r.deleted_at >= hi
    ]


def _pct(hits, total):
    return 100.0 * hits / total if total else None


def _mean(values):
    values = list(values)
    return sum(values) / len(values) if values else None


def _hours(a, b):
    return (b - a).total_seconds() / 3600


def behind(dbs, sid, start, end):
    """{metric key: (sorted record ids as the records page tags them, figure)}: what each
    figure of ``sid`` over ``start..end`` is made of, and the figure made of it."""
    site = dbs.get(Site, sid)
    zone = ZoneInfo(site.timezone)
    lo = datetime.combine(start, time.min, zone)
    hi = datetime.combine(end + timedelta(days=1), time.min, zone)
    assert hi < utcnow()  # a past period: judged at its end, every day of it expected
    first = max(start, site.opened_on or start)
    days = [first + timedelta(days=n) for n in range((end - first).days + 1)]

    def inside(at):
        return at is not None and lo <= at < hi

    def ids(records):
        return sorted(str(r.id) for r in records)

    # Visits: their people when they arrived in the period, their drinks when served in it.
    visits = [v for v in _rows(dbs, Visit, sid, hi) if inside(v.arrived_at)]
    people = sum(v.adults + v.children for v in visits)
    alive = {v.id for v in _rows(dbs, Visit, sid, hi)}
    kinds = {
        p.id: p.kind
        for p in dbs.scalars(select(Product).execution_options(include_deleted=True))
        if p.site_id == sid
    }
    served = [
        line
        for line in dbs.scalars(select(ConsumptionLine).where(ConsumptionLine.site_id == sid))
        if line.visit_id in alive
        and kinds[line.product_id] == "drink"
        and start <= dbs.get(StockMovement, line.movement_id).day <= end
    ]
    visit_ids = sorted(str(i) for i in {v.id for v in visits} | {x.visit_id for x in served})
    drinks = sum(x.quantity for x in served)

    tallies = {t.day: t for t in _rows(dbs, DailyTally, sid, hi) if start <= t.day <= end}
    off = [
        (t, line)
        for t in tallies.values()
        for line in dbs.scalars(select(DailyTallyLine).where(DailyTallyLine.tally_id == t.id))
        if line.variance != 0
    ]

    def same_day(t):
        return t.closed_at < datetime.combine(t.day + timedelta(days=1), time.min, zone)

    runs = {}
    for r in _rows(dbs, ChecklistRun, sid, hi):
        if r.kind in DEADLINES and start <= r.day <= end:
            ok = (
                r.status == "done"
                and r.completion > 0
                and r.completed_at <= datetime.combine(r.day, time(DEADLINES[r.kind]), zone)
            )
            runs.setdefault((r.day, r.kind), []).append((not ok, r.status != "done", r.id, ok))
    expected_runs = [
        (d, k, min(runs[(d, k)]) if (d, k) in runs else None) for d in days for k in DEADLINES
    ]

    entries = [e for e in _rows(dbs, HandoverEntry, sid, hi) if inside(e.written_at)]
    issues = _rows(dbs, CleaningIssue, sid, hi)
    open_issues = [i for i in issues if i.created_at < hi and not (i.fixed_at and i.fixed_at < hi)]
    fixed = [i for i in issues if inside(i.fixed_at)]
    inspections = [g for g in _rows(dbs, GroomingInspection, sid, hi) if inside(g.inspected_at)]
    tickets = _rows(dbs, RepairTicket, sid, hi)
    still_open = [
        t for t in tickets if t.created_at < hi and not (t.resolved_at and t.resolved_at < hi)
    ]
    resolved = [t for t in tickets if inside(t.resolved_at)]
    damage = [r for r in _rows(dbs, DamageReport, sid, hi) if inside(r.created_at)]
    roster = {
        s.staff_member_id
        for s in dbs.scalars(select(StaffSpell).where(StaffSpell.site_id == sid))
        if s.joined_at < hi and (s.left_at is None or s.left_at > lo)
    }
    # A person's rows less than a second apart are one change; the first row names it.
    rows = sorted(
        (e.user_id, e.at, e.id)
        for e in dbs.scalars(select(AuditEvent).where(AuditEvent.site_id == sid))
        if inside(e.at) and e.user_id is not None and e.action != "login"
    )
    changes = [
        eid
        for n, (uid, at, eid) in enumerate(rows)
        if n == 0 or rows[n - 1][0] != uid or at - rows[n - 1][1] > timedelta(seconds=1)
    ]
    return {
        "visitors": (visit_ids, people),
        "drinks_per_visitor": (visit_ids, drinks / people if people else None),
        "stock_variance": (
            sorted(str(t.id) for t, _line in off),
            sum(abs(line.variance) for _t, line in off),
        ),
        "tally_on_time": (
            sorted(str(tallies[d].id) if d in tallies else f"missing-{d}" for d in days),
            _pct(sum(1 for d in days if d in tallies and same_day(tallies[d])), len(days)),
        ),
        "checklists_on_time": (
            sorted(str(r[2]) if r else f"missing-{d}-{k}" for d, k, r in expected_runs),
            _pct(sum(1 for _d, _k, r in expected_runs if r and r[3]), len(expected_runs)),
        ),
        "item_discrepancies": (
            ids(
                x
                for x in _rows(dbs, ItemCheckLine, sid, hi)
                if x.is_discrepancy and start <= x.day <= end
            ),
            None,
        ),
        "handover_on_time": (
            ids(entries),
            _pct(
                sum(
                    1
                    for e in entries
                    if e.signed_at is not None and e.signed_at - e.written_at <= timedelta(hours=12)
                ),
                len(entries),
            ),
        ),
        "cleaning_open": (ids(open_issues), len(open_issues)),
        "cleaning_overdue": (
            ids(i for i in open_issues if i.due_at < hi),
            sum(1 for i in open_issues if i.due_at < hi),
        ),
        "cleaning_hours_to_fix": (
            ids(fixed),
            _mean(_hours(i.created_at, i.fixed_at) for i in fixed),
        ),
        "grooming_score": (ids(inspections), _mean(g.score for g in inspections)),
        "tickets_open": (ids(still_open), len(still_open)),
        "tickets_overdue": (
            ids(t for t in still_open if t.due_at < hi),
            sum(1 for t in still_open if t.due_at < hi),
        ),
        "hours_to_resolve": (
            ids(resolved),
            _mean(_hours(t.created_at, t.resolved_at) for t in resolved),
        ),
        "damage_reports": (ids(damage), len(damage)),
        "staff_on_roster": (sorted(str(i) for i in roster), len(roster)),
        "audit_events": (sorted(str(i) for i in changes), len(changes)),
    }


# ------------------------------------------------------------ reading the pages


def drill_links(page, code):
    """{metric key: (drill URL, number shown)} of one site's row of the dashboard."""
    row = page.split(f'<tr data-site="{code}">')[1].split("</tr>")[0]
    return {
        key: (url.replace("&amp;", "&"), shown.strip())
        for url, key, shown in re.findall(
            r'href="([^"]+)" class="drill" data-metric="(\w+)">([^<]+)</a>', row
        )
    }


def listed_ids(body):
    """The records a records page lists, one per row (ids, or ``missing-…`` for an expected day
    without its record), sorted; a record may fill several rows (a tally's product lines)."""
    return sorted(re.findall(r'<tr data-record="([^"]+)"', body))


def shown_on(body):
    """The figure the records page states above its rows."""
    found = re.search(r'<strong id="figure-value" data-metric="\w+">([^<]*)</strong>', body)
    return found and found.group(1).strip()


@pytest.mark.parametrize("period", sorted(PERIODS))
def test_every_figure_equals_the_records_its_drill_down_lists(login, dbs, drill_data, period):
    query, start, end = PERIODS[period]
    client = login("sup_south")
    page = client.get(f"/dashboard/?{query}").get_data(as_text=True)
    # This table covers the figures of portal.services.metrics; a domain that keeps its figures
    # in its own service (the key register) checks them in its own tests.
    metrics = [mt for mt in m.all_metrics() if mt.provider.__module__.startswith(m.__name__ + ".")]
    assert len(metrics) == 17
    for code in ("SZ01", "SZ02"):
        sid = drill_data[code]
        links = drill_links(page, code)
        expected = behind(dbs, sid, start, end)
        assert set(expected) == {mt.key for mt in metrics}
        for mt in metrics:
            url, shown = links[mt.key]
            records, figure = expected[mt.key]
            if figure is None and mt.key == "item_discrepancies":
                figure = len(records)
            # The dashboard shows the figure of exactly these records …
            assert shown == mt.format(figure), (period, code, mt.key)
            # … and the records page behind the number lists exactly them, with that figure.
            assert url.startswith("/dashboard/records/?"), url
            assert f"site={sid}" in url and f"start={start}" in url and f"end={end}" in url
            resp = client.get(url)
            assert resp.status_code == 200, (code, mt.key, url)
            body = resp.get_data(as_text=True)
            assert listed_ids(body) == records, (period, code, mt.key, url)
            assert shown_on(body) == shown, (period, code, mt.key)
            # Never another site's record.
            other = "前海" if code == "SZ01" else "深圳湾"
            assert other not in body, (code, mt.key)
        # The October data has something behind every figure: the comparison is not empty.
        if period == "october":
            assert all(expected[key][0] for key in expected), code


def test_the_drill_pages_show_the_figure_itself(login, dbs, drill_data):
    """Every records page states the figure, its period and its written definition."""
    client = login("sup_south")
    links = drill_links(
        client.get(f"/dashboard/?{PERIODS['october'][0]}").get_data(as_text=True), "SZ01"
    )
    ours = {mt.key for mt in m.all_metrics() if mt.provider.__module__.startswith(m.__name__ + ".")}
    assert len(ours) == 17 and ours <= set(links)
    for key in sorted(ours):  # the key register's figure is checked in its own tests
        url, shown = links[key]
        body = client.get(url).get_data(as_text=True)
        assert shown_on(body) == shown, key
        period = body.split('id="period-shown">')[1].split("</p>")[0]
        assert "2026-10-01" in period and "2026-10-31" in period, key
        assert m.get_metric(key).definition is not None, key
        assert 'id="figure-definition"' in body, key


def test_sup_east_gets_nothing_of_south_on_any_drill_url(login, dbs, drill_data):
    south = login("sup_south").get(f"/dashboard/?{PERIODS['october'][0]}").get_data(as_text=True)
    client = login("sup_east")
    for code in ("SZ01", "SZ02"):
        for key, (url, _shown) in drill_links(south, code).items():
            resp = client.get(url)
            body = resp.get_data(as_text=True)
            assert resp.status_code in (200, 404), (key, url, resp.status_code)
            assert listed_ids(body) == [] and "深圳湾" not in body and "前海" not in body, (
                key,
                url,
            )
    # sup_east's own dashboard and his drill-downs stay within EAST.
    east = without_random_values(
        client.get(f"/dashboard/?{PERIODS['october'][0]}").get_data(as_text=True)
    )
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


@pytest.mark.parametrize("key", sorted(MEASURED))
def test_drill_pages_cost_a_constant_number_of_queries(app, login, dbs, site_ids, key):
    """A records page reads one site: more sites (in another time zone too), and more rows on
    the page itself, cost no more queries."""
    client = login("sup_south")
    url = (
        f"/dashboard/records/?metric={key}&site={site_ids['SZ01']}&start=2026-10-01&end=2026-10-31"
    )
    clerk = dbs.scalar(select(User.id).where(User.username == "clerk_sz01"))
    _site_data(dbs, site_ids["SZ01"], clerk, 0)
    dbs.commit()
    client.get(url)  # October is closed on the first read
    with count_queries(app) as few:
        assert client.get(url).status_code == 200
    _extras(dbs, site_ids["SZ01"], clerk)  # more rows of every kind on the same page
    south = dbs.get(Site, site_ids["SZ02"]).region_id
    for n in range(5):
        site = Site(
            code=f"Q{n:02d}",
            name=f"测试{n}",
            region_id=south,
            timezone="Asia/Urumqi" if n % 2 else "Asia/Shanghai",
        )
        dbs.add(site)
        dbs.flush()
        dbs.add(StaffMember(site_id=site.id, name="张三", kind="clerk"))
        dbs.flush()
        _site_data(dbs, site.id, clerk, n)
    dbs.get(Site, site_ids["SZ02"]).timezone = "Asia/Urumqi"
    derive_history()
    dbs.commit()
    client.get(url)  # SZ01's data changed: its stored October is brought up to date once
    with count_queries(app) as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count
