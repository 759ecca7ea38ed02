"""Every domain figure of the dashboard and the month-end report equals a figure recomputed
here, independently, from the raw records of a small hand-built dataset (borders of the
month in local time, soft-deleted rows, other sites' rows, late and on-time events).

The tickets and issues are built as rows, then given the history the services would have
written (``portal.devdata.facts.derive_history``, as the demo data does): the figures read
those histories. The recount follows the written definitions (``Metric.definition``)."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.devdata.facts import derive_history
from portal.models import (
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
)
from portal.services import metrics as m
from tests.querycount import count_queries

OCT = date(2026, 10, 1)
END = date(2026, 10, 31)
SH = ZoneInfo("Asia/Shanghai")
LO = datetime(2026, 10, 1, tzinfo=SH)
HI = datetime(2026, 11, 1, tzinfo=SH)
NOW = datetime.now(timezone.utc)
OPENED = date(2026, 10, 5)


def local(day, hour, minute=0):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


def _uid(dbs, name):
    return dbs.scalar(select(User.id).where(User.username == name))


def _site_data(dbs, sid, clerk, shift):
    """One site's records; ``shift`` varies the figures between sites."""
    d1, d2 = date(2026, 10, 10 + shift), date(2026, 10, 11 + shift)
    drink = Product(site_id=sid, name="水", kind="drink", unit="瓶")
    snack = Product(site_id=sid, name="饼干", kind="snack", unit="包")
    dbs.add_all([drink, snack])
    dbs.flush()
    visits = [
        Visit(
            site_id=sid, arrived_at=local(date(2026, 10, 31), 23, 30), adults=2, children=1
        ),  # last minute: in
        Visit(
            site_id=sid, arrived_at=local(date(2026, 9, 30), 23, 59), adults=4, children=0
        ),  # September
        Visit(site_id=sid, arrived_at=local(d1, 10), adults=1 + shift, children=0),
        Visit(
            site_id=sid, arrived_at=local(d1, 11), adults=5, children=0, deleted_at=NOW
        ),  # soft-deleted
    ]
    dbs.add_all(visits)
    dbs.flush()
    for visit, product, qty in (
        (visits[0], drink, 2),
        (visits[0], snack, 3),
        (visits[1], drink, 4),
        (visits[2], drink, 1 + shift),
        (visits[3], drink, 6),
    ):
        mv = StockMovement(
            site_id=sid,
            product_id=product.id,
            kind="served",
            quantity=-qty,
            at=visit.arrived_at,
            day=visit.arrived_at.date(),  # served on the visit's local day
            visit_id=visit.id,
        )
        dbs.add(mv)
        dbs.flush()
        dbs.add(
            ConsumptionLine(
                site_id=sid,
                visit_id=visit.id,
                product_id=product.id,
                quantity=qty,
                movement_id=mv.id,
            )
        )
    # Tallies: d1 closed 17:55 (on time), d2 closed next morning (late), September's out.
    for day, closed, variance in (
        (d1, local(d1, 17, 55), -2),
        (d2, local(d2 + timedelta(days=1), 9), 1 + shift),
        (date(2026, 9, 30), local(date(2026, 9, 30), 17, 50), 7),
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
                served=3,
                wastage=0,
                corrections=0,
                expected=7,
                counted=7 + variance,
                variance=variance,
            )
        )
    # Checklists: opening 09:30 (on time), closing 18:30 (late), opening still open, grooming
    # (not counted).
    templates = {}
    for kind in ("opening", "closing", "grooming"):
        templates[kind] = ChecklistTemplate(name=f"{kind}{sid}", kind=kind, site_id=sid)
        dbs.add(templates[kind])
    dbs.flush()
    for kind, day, status, done in (
        ("opening", d1, "done", local(d1, 9, 30)),
        ("closing", d1, "done", local(d1, 18, 30)),
        ("opening", d2, "open" if shift else "done", None if shift else local(d2, 9, 59)),
        ("grooming", d1, "done", local(d1, 23)),
    ):
        dbs.add(
            ChecklistRun(
                site_id=sid,
                template_id=templates[kind].id,
                kind=kind,
                day=day,
                status=status,
                completed_at=done,
                completion=100 if done else 0,  # a done run answered its items
                user_id=clerk,
            )
        )
    # Item checks: 1 + shift discrepancies in October, one in September, one line that matches.
    item = Item(site_id=sid, name="台灯", category="lamp", expected_quantity=2)
    dbs.add(item)
    dbs.flush()
    for day in (d1, date(2026, 9, 30)):
        check = ItemCheck(site_id=sid, kind="opening", day=day, user_id=clerk, status="done")
        dbs.add(check)
        dbs.flush()
        lines = [(1, True), (2, False)] + [(1, True)] * (shift if day == d1 else 0)
        for counted, off in lines:
            dbs.add(
                ItemCheckLine(
                    site_id=sid,
                    check_id=check.id,
                    item_id=item.id,
                    day=day,
                    expected_quantity=2,
                    counted_quantity=counted,
                    is_discrepancy=off,
                )
            )
    # Handover: signed after 2 h, after 13 h, never; one written in September.
    for written, signed in (
        (local(d1, 18), local(d1, 20)),
        (local(d2, 18), local(d2, 18) + timedelta(hours=12 + shift)),
        (local(d2, 19), None),
        (local(date(2026, 9, 30), 18), None),
    ):
        dbs.add(
            HandoverEntry(
                site_id=sid,
                author_id=clerk,
                written_at=written,
                text="交接",
                signed_at=signed,
                signed_by_id=clerk if signed else None,
            )
        )
    # Cleaning: still open and overdue, fixed late, fixed in time, one raised in September fixed
    # in October.
    area = CleaningArea(site_id=sid, name="地面")
    dbs.add(area)
    dbs.flush()
    for raised, due, status, fixed in (
        (local(d1, 10), local(d1, 14), "open", None),
        (local(d1, 11), local(d1, 15), "fixed", local(d1, 17 + shift)),
        (local(d2, 9), local(d2, 13), "verified", local(d2, 10)),
        (local(date(2026, 9, 30), 9), local(date(2026, 9, 30), 13), "verified", local(OCT, 9)),
    ):
        issue = CleaningIssue(
            site_id=sid,
            area_id=area.id,
            description="水渍",
            due_at=due,
            status=status,
            fixed_at=fixed,
        )
        dbs.add(issue)
        dbs.flush()
        issue.created_at = raised
    # Grooming: two inspections in October, one in September.
    person = dbs.scalars(select(StaffMember).where(StaffMember.site_id == sid)).first()
    for when, score in (
        (local(d1, 9), 80 + shift),
        (local(d2, 9), 95),
        (local(date(2026, 9, 30), 9), 10),
    ):
        dbs.add(
            GroomingInspection(
                site_id=sid,
                staff_member_id=person.id,
                inspector_id=clerk,
                inspected_at=when,
                score=score,
            )
        )
    # Repairs: reported in September and resolved in October, open and overdue, open not due,
    # resolved in November.
    for reported, due, resolved in (
        (local(date(2026, 9, 29), 10), local(date(2026, 9, 30), 10), local(d1, 10)),
        (local(d1, 10), local(d1, 14), None),
        (local(d2, 10), local(date(2026, 11, 30), 10), None),
        (local(d2, 11), local(d2, 15), local(date(2026, 11, 2), 9)),
    ):
        ticket = RepairTicket(
            site_id=sid,
            equipment="空调",
            description="不制冷",
            priority="normal",
            status="resolved" if resolved else "new",
            due_at=due,
            reporter_id=clerk,
            resolved_at=resolved,
        )
        dbs.add(ticket)
        dbs.flush()
        ticket.created_at = reported
    # Damage: 1 + shift in October, one in September.
    for when in [local(d1, 15)] * (1 + shift) + [local(date(2026, 9, 30), 15)]:
        report = DamageReport(
            site_id=sid,
            equipment="沙盘",
            visit_description="客户",
            visit_at=when,
            description="碰坏",
            estimated_cost=Decimal("100"),
            reporter_id=clerk,
            salesperson_id=clerk,
        )
        dbs.add(report)
        dbs.flush()
        report.created_at = when


@pytest.fixture
def dataset(dbs, site_ids):
    clerk = _uid(dbs, "clerk_sz01")
    for code in ("SZ01", "SZ02"):
        # Opened on 5 October: the days before expect no tally and no checklist.
        dbs.get(Site, site_ids[code]).opened_on = OPENED
    _site_data(dbs, site_ids["SZ01"], clerk, 0)
    _site_data(dbs, site_ids["SZ02"], clerk, 1)
    dbs.flush()
    derive_history()
    dbs.commit()
    return site_ids


# ------------------------------------------------------------ independent recounts (plain Python)


def _all(dbs, model, sid):
    return [
        r
        for r in dbs.scalars(select(model))
        if r.site_id == sid and getattr(r, "deleted_at", None) is None
    ]


def _existing(dbs, model, sid):
    """Rows that still existed at the period's end: one deleted after it still counts."""
    return [
        r
        for r in dbs.scalars(select(model).execution_options(include_deleted=True))
        if r.site_id == sid and (getattr(r, "deleted_at", None) is None or r.deleted_at >= HI)
    ]


def _days(dbs, sid):
    """The period's days from the site's opening day: each expects a tally and checklists."""
    first = max(OCT, dbs.get(Site, sid).opened_on or OCT)
    return [first + timedelta(days=n) for n in range((END - first).days + 1)]


def _in(at):
    return LO <= at < HI


def _pct(hits, total):
    return 100.0 * hits / total if total else None


def _mean(values):
    values = list(values)
    return sum(values) / len(values) if values else None


def recount(dbs, sid):
    # Changed definitions: a visit (damage report, ticket) deleted after the period counts; the
    # tally and checklist shares are over every day since opening (a day without one is a
    # miss; a done checklist must have answered items; the deadline itself is on time);
    # open / overdue cleaning issues are those open at the period's end, whenever raised.
    visits = [v for v in _existing(dbs, Visit, sid) if _in(v.arrived_at)]
    people = sum(v.adults + v.children for v in visits)
    # Products withdrawn or deleted since included.
    drink_ids = {
        p.id
        for p in dbs.scalars(select(Product).execution_options(include_deleted=True))
        if p.site_id == sid and p.kind == "drink"
    }
    # Drinks count on the day they were served (their stock movement's day), of visits that
    # still existed at the period's end.
    alive = {v.id for v in _existing(dbs, Visit, sid)}
    drinks = sum(
        c.quantity
        for c in _existing(dbs, ConsumptionLine, sid)
        if c.visit_id in alive
        and c.product_id in drink_ids
        and OCT <= dbs.get(StockMovement, c.movement_id).day <= END
    )
    tallies = [t for t in _all(dbs, DailyTally, sid) if OCT <= t.day <= END]
    tally_ids = {t.id for t in tallies}
    days = _days(dbs, sid)
    closed_same_day = {t.day for t in tallies if t.closed_at < local(t.day + timedelta(days=1), 0)}
    deadline = {"opening": 10, "closing": 18}
    done_in_time = {
        (r.day, r.kind)
        for r in _all(dbs, ChecklistRun, sid)
        if r.kind in deadline
        and r.status == "done"
        and r.completion > 0
        and r.completed_at <= local(r.day, deadline[r.kind])
    }
    entries = [e for e in _all(dbs, HandoverEntry, sid) if _in(e.written_at)]
    open_issues = [
        i
        for i in _existing(dbs, CleaningIssue, sid)
        if i.created_at < HI and (i.fixed_at is None or i.fixed_at >= HI)
    ]
    open_tickets = [
        t
        for t in _existing(dbs, RepairTicket, sid)
        if t.created_at < HI and (t.resolved_at is None or t.resolved_at >= HI)
    ]
    return {
        "visitors": people,
        "drinks_per_visitor": drinks / people,
        "stock_variance": sum(
            abs(line.variance)
            for line in _all(dbs, DailyTallyLine, sid)
            if line.tally_id in tally_ids
        ),
        "tally_on_time": _pct(sum(1 for d in days if d in closed_same_day), len(days)),
        "checklists_on_time": _pct(
            sum(1 for d in days for kind in deadline if (d, kind) in done_in_time),
            2 * len(days),
        ),
        "item_discrepancies": sum(
            1
            for line in _all(dbs, ItemCheckLine, sid)
            if line.is_discrepancy and OCT <= line.day <= END
        ),
        "handover_on_time": _pct(
            sum(
                1
                for e in entries
                if e.signed_at and e.signed_at - e.written_at <= timedelta(hours=12)
            ),
            len(entries),
        ),
        "cleaning_open": len(open_issues),
        "cleaning_overdue": sum(1 for i in open_issues if i.due_at < HI),
        "cleaning_hours_to_fix": _mean(
            (i.fixed_at - i.created_at).total_seconds() / 3600
            for i in _all(dbs, CleaningIssue, sid)
            if i.fixed_at and _in(i.fixed_at)
        ),
        "grooming_score": _mean(
            g.score for g in _all(dbs, GroomingInspection, sid) if _in(g.inspected_at)
        ),
        "tickets_open": len(open_tickets),
        "tickets_overdue": sum(1 for t in open_tickets if t.due_at < HI),
        "hours_to_resolve": _mean(
            (t.resolved_at - t.created_at).total_seconds() / 3600
            for t in _all(dbs, RepairTicket, sid)
            if t.resolved_at and _in(t.resolved_at)
        ),
        "damage_reports": sum(1 for r in _existing(dbs, DamageReport, sid) if _in(r.created_at)),
    }


def test_every_domain_figure_equals_the_recount(dbs, dataset):
    ids = [dataset["SZ01"], dataset["SZ02"], dataset["SH01"]]
    values = m.collect(ids, OCT, END)
    for code in ("SZ01", "SZ02"):
        expected = recount(dbs, dataset[code])
        for key, figure in expected.items():
            assert values[key][dataset[code]] == pytest.approx(figure), (code, key)
    # The two sites differ, so the comparison means something …
    assert recount(dbs, dataset["SZ01"]) != recount(dbs, dataset["SZ02"])
    # … and a site without records gets zeros or "–", never another site's figure.
    sh01 = {key: values[key][dataset["SH01"]] for key in recount(dbs, dataset["SZ01"])}
    assert set(sh01.values()) <= {0, None}


def test_figures_of_the_dataset_by_hand(dbs, dataset):
    """A few figures spelled out, so a wrong recount cannot hide a wrong provider."""
    sz01 = dataset["SZ01"]
    values = m.collect([sz01], OCT, END)
    # 3 on 31 Oct 23:30 + 1 + 5 of the visit deleted after October; September's left out.
    assert values["visitors"][sz01] == 9
    assert values["drinks_per_visitor"][sz01] == pytest.approx((2 + 1 + 6) / 9)
    assert values["stock_variance"][sz01] == 3
    # 27 days from the 5 October opening; only the 10th's tally closed the same day.
    assert values["tally_on_time"][sz01] == pytest.approx(100 / 27)
    # 54 expected checklists; the openings of the 10th and the 11th were on time.
    assert values["checklists_on_time"][sz01] == pytest.approx(200 / 54)
    assert values["item_discrepancies"][sz01] == 1
    assert values["handover_on_time"][sz01] == pytest.approx(
        200 / 3
    )  # 2 h and exactly 12 h: on time
    # Open at the end of October: only the one never fixed, and it is overdue.
    assert (values["cleaning_open"][sz01], values["cleaning_overdue"][sz01]) == (1, 1)
    assert values["cleaning_hours_to_fix"][sz01] == pytest.approx((6 + 1 + 24) / 3)
    assert values["grooming_score"][sz01] == pytest.approx(87.5)
    assert (values["tickets_open"][sz01], values["tickets_overdue"][sz01]) == (
        3,
        2,
    )  # the one resolved in November was open and late on 31 Oct
    assert values["damage_reports"][sz01] == 1


def test_domain_metrics_cost_a_constant_number_of_queries(app, dbs, dataset):
    from portal.models import Region, Site

    def run():
        ids = list(dbs.scalars(select(Site.id)))
        with count_queries(app) as q:
            m.collect(ids, OCT, END)
        return q.count

    south = dbs.scalar(select(Region).where(Region.code == "SOUTH"))
    # The period facts are read once per time zone (each zone has its own bounds of October):
    # both zones are there from the start, so only the number of sites changes below.
    dbs.add(Site(code="U00", name="乌鲁木齐", region=south, timezone="Asia/Urumqi"))
    dbs.commit()
    few = run()  # October is over: closed now, on first need
    assert run() == 2  # then the sites' time zones and what is stored: two queries
    # Half of the new sites in each time zone: the same queries, whatever the number of sites.
    dbs.add_all(
        [
            Site(
                code=f"Q{n:02d}",
                name=f"测试{n}",
                region=south,
                timezone="Asia/Urumqi" if n % 2 else "Asia/Shanghai",
            )
            for n in range(26)
        ]
    )
    dbs.commit()
    # Closing the 26 new sites costs what closing the first ones did. The absolute number rose
    # with the period facts (a figure may read several histories, the closes are written with
    # their figures), but each query covers all the sites of a time zone at once.
    assert run() == few
