"""A past period's facts stay true: a reopen, a leaver, a withdrawn product or a deletion in
December changes nothing in November (portal/services/period_facts.py).

Everything happens at a site on Urumqi time (UTC+6), with records at 23:30 and 00:10 local on
the month's edge; the clock is moved with time-machine, as the people would have acted."""

from datetime import date, datetime, time

import pytest
import time_machine
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from portal import clock
from portal.models import (
    CleaningIssue,
    CleaningIssueEvent,
    Product,
    RepairTicket,
    Site,
    StaffMember,
    User,
)
from portal.services import period_facts as facts
from portal.services import scope

ZONE = "Asia/Urumqi"
NOV = (date(2026, 11, 1), date(2026, 11, 30))
DEC = (date(2026, 12, 1), date(2026, 12, 31))


def local(day, hour, minute=0):
    """The instant the Urumqi wall clock shows ``hour:minute`` on ``day``."""
    return clock.local_at(day, time(hour, minute), ZONE).astimezone(clock.now().tzinfo)


# The month's edge on the site's own clock: 23:30 on 30 November is November's; 00:10 on
# 1 December is December's (17:30 and 18:10 UTC on the same UTC day).
LAST_NOV = local(date(2026, 11, 30), 23, 30)
FIRST_DEC = local(date(2026, 12, 1), 0, 10)


def bounds(period):
    return clock.period_bounds(*period, ZONE)


def user(dbs, username):
    return dbs.scalar(select(User).where(User.username == username))


@pytest.fixture
def site(dbs):
    """UR01, a sales office on Urumqi time, served by the south's maintenance worker."""
    with time_machine.travel(datetime(2026, 9, 1, 4, tzinfo=clock.now().tzinfo), tick=False):
        region_id = dbs.scalar(select(Site.region_id).where(Site.code == "SZ01"))
        ur01 = Site(
            code="UR01",
            name="乌鲁木齐售楼处",
            timezone=ZONE,
            region_id=region_id,
            opened_on=date(2026, 9, 1),
        )
        dbs.add(ur01)
        dbs.flush()
        for username in ("maint_south", "clerk_sz01"):
            member = user(dbs, username)
            member.sites.append(ur01)
        dbs.commit()
    return ur01


def test_the_month_edges_are_the_sites_own_midnights():
    assert bounds(NOV)[0] <= LAST_NOV < bounds(NOV)[1] <= FIRST_DEC < bounds(DEC)[1]
    assert (LAST_NOV.hour, LAST_NOV.minute, FIRST_DEC.hour, FIRST_DEC.minute) == (17, 30, 18, 10)


# ---------------------------------------------------------------- repair tickets


def test_a_ticket_reopened_in_december_stays_resolved_in_november(dbs, site):
    from portal.services import repairs

    clerk, worker, boss = user(dbs, "clerk_sz01"), user(dbs, "maint_south"), user(dbs, "sup_south")
    reported = local(date(2026, 11, 10), 9)
    steps = [
        (reported, lambda t: repairs.report(site, clerk, "空调", "不制冷", "normal")),
        (
            local(date(2026, 11, 10), 10),
            lambda t: repairs.transition(t, "assign", boss, assignee=worker),
        ),
        (local(date(2026, 11, 11), 9), lambda t: repairs.transition(t, "start", worker)),
        (LAST_NOV, lambda t: repairs.transition(t, "resolve", worker, cost="0")),
        (FIRST_DEC, lambda t: repairs.transition(t, "reopen", clerk, note="又坏了")),
        (local(date(2026, 12, 3), 9), lambda t: repairs.transition(t, "start", worker)),
        (
            local(date(2026, 12, 3), 12),
            lambda t: repairs.transition(t, "resolve", worker, cost="50"),
        ),
    ]  # fmt: skip
    ticket = None
    for at, step in steps:
        with time_machine.travel(at, tick=False):
            ticket = step(ticket) or ticket
            dbs.commit()
    sid = site.id
    # Today's row has forgotten the November resolution...
    assert dbs.get(RepairTicket, ticket.id).resolved_at == local(date(2026, 12, 3), 12)

    # ...the history has not: resolved at 23:30 on 30 November, after 20 days 14½ hours.
    nov_start, nov_end = bounds(NOV)
    (resolution,) = facts.ticket_resolutions([sid], nov_start, nov_end)[sid]
    assert (resolution.ticket_id, resolution.reported_at) == (ticket.id, reported)
    assert resolution.resolved_at == LAST_NOV
    assert resolution.hours == 20 * 24 + 14.5
    assert facts.tickets_open_at([sid], nov_end) == {sid: []}
    # December has its own resolution of the same ticket, from the same report.
    (december,) = facts.ticket_resolutions([sid], *bounds(DEC))[sid]
    assert december.resolved_at == local(date(2026, 12, 3), 12)
    assert december.hours == 23 * 24 + 3

    # Open (and overdue: due 72 hours after the report) in the middle of November, open again
    # on 2 December with a fresh due time (72 hours after the reopen), closed by the month's end.
    assert facts.tickets_open_at([sid], local(date(2026, 11, 20), 12)) == {sid: [ticket.id]}
    assert facts.tickets_overdue_at([sid], local(date(2026, 11, 20), 12)) == {sid: [ticket.id]}
    assert facts.tickets_open_at([sid], local(date(2026, 12, 2), 12)) == {sid: [ticket.id]}
    assert facts.tickets_overdue_at([sid], local(date(2026, 12, 2), 12)) == {sid: []}
    assert facts.tickets_open_at([sid], bounds(DEC)[1]) == {sid: []}
    # The instant of the resolution itself still sees the ticket open: an event at exactly
    # ``at`` belongs to what comes after.
    assert facts.tickets_open_at([sid], LAST_NOV) == {sid: [ticket.id]}


def test_a_ticket_deleted_later_still_counts_where_it_existed(dbs, site):
    from portal.services import repairs

    with time_machine.travel(local(date(2026, 11, 28), 10), tick=False):
        ticket = repairs.report(site, user(dbs, "clerk_sz01"), "门禁", "刷卡无反应", "low")
        dbs.commit()
    with time_machine.travel(local(date(2026, 12, 2), 10), tick=False):
        ticket.soft_delete()
        dbs.commit()
    assert facts.tickets_open_at([site.id], bounds(NOV)[1]) == {site.id: [ticket.id]}
    assert facts.tickets_open_at([site.id], bounds(DEC)[1]) == {site.id: []}


def test_the_ticket_timeline_cannot_be_rewritten(dbs, site):
    from portal.services import repairs

    repairs.report(site, user(dbs, "clerk_sz01"), "灯", "不亮", "low")
    dbs.commit()
    for statement in ("UPDATE repair_event SET at = NULL", "DELETE FROM repair_event"):
        with pytest.raises(DatabaseError, match="append-only"):
            dbs.execute(text(statement))
        dbs.rollback()


# ---------------------------------------------------------------- cleaning issues


def test_a_cleaning_issue_reopened_in_december_stays_fixed_in_november(dbs, site):
    from portal.services import cleaning

    clerk, boss = user(dbs, "clerk_sz01"), user(dbs, "sup_south")
    cleaner = StaffMember(site_id=site.id, name="古丽阿姨", kind="cleaner")
    dbs.add(cleaner)
    raised = local(date(2026, 11, 30), 21)
    with time_machine.travel(raised, tick=False):
        (area, *_) = cleaning.areas_of(site)
        cleaning.inspect(site, boss, [(area, False, "地面有水渍")], cleaner=cleaner)
        dbs.commit()
    issue = dbs.scalar(select(CleaningIssue).where(CleaningIssue.site_id == site.id))
    with time_machine.travel(LAST_NOV, tick=False):  # due at 23:00: half an hour late
        cleaning.mark_fixed(issue, clerk)
        dbs.commit()
    with time_machine.travel(FIRST_DEC, tick=False):
        cleaning.reopen(issue, boss, "还是有水渍")
        dbs.commit()
    sid = site.id
    assert dbs.get(CleaningIssue, issue.id).fixed_at is None  # the row forgot the fix

    nov_start, nov_end = bounds(NOV)
    (fix,) = facts.cleaning_fixes([sid], nov_start, nov_end)[sid]
    assert (fix.issue_id, fix.raised_at, fix.fixed_at) == (issue.id, raised, LAST_NOV)
    assert fix.hours == 2.5
    assert fix.due_at == local(date(2026, 11, 30), 23) and fix.late is True
    assert facts.cleaning_open_at([sid], nov_end) == {sid: []}
    assert facts.cleaning_overdue_at([sid], nov_end) == {sid: []}
    # Reopened at 00:10 with a new due time two hours later: open, then overdue, in December.
    assert facts.cleaning_open_at([sid], local(date(2026, 12, 1), 1)) == {sid: [issue.id]}
    assert facts.cleaning_overdue_at([sid], local(date(2026, 12, 1), 1)) == {sid: []}
    assert facts.cleaning_overdue_at([sid], local(date(2026, 12, 1), 3)) == {sid: [issue.id]}
    assert facts.cleaning_fixes([sid], *bounds(DEC)) == {sid: []}
    actions = dbs.scalars(
        select(CleaningIssueEvent.action)
        .where(CleaningIssueEvent.issue_id == issue.id)
        .order_by(CleaningIssueEvent.id)
    ).all()
    assert actions == ["raised", "fixed", "reopened"]


# ---------------------------------------------------------------- roster


def _person(dbs, site, name, joined):
    with time_machine.travel(joined, tick=False):
        person = StaffMember(site_id=site.id, name=name, kind="cleaner")
        dbs.add(person)
        dbs.commit()
    return person


def _change(dbs, person, at, **values):
    with time_machine.travel(at, tick=False):
        for key, value in values.items():
            setattr(person, key, value)
        dbs.commit()


def _names(roster, site_id):
    return sorted(member.name for member in roster[site_id])


def test_the_roster_of_a_period_is_who_worked_there_then(dbs, site, site_ids):
    october = local(date(2026, 10, 1), 9)
    leaver = _person(dbs, site, "十二月离职", october)
    edge_leaver = _person(dbs, site, "月末离职", october)
    _person(dbs, site, "月末入职", LAST_NOV)
    _person(dbs, site, "十二月入职", FIRST_DEC)
    mover = _person(dbs, site, "调往深圳", october)
    back = _person(dbs, site, "停职复职", october)
    _change(dbs, leaver, FIRST_DEC, active=False)
    _change(dbs, edge_leaver, LAST_NOV, active=False)
    _change(dbs, mover, local(date(2026, 12, 5), 9), site_id=site_ids["SZ01"])
    _change(dbs, back, local(date(2026, 10, 20), 9), active=False)
    _change(dbs, back, local(date(2026, 11, 20), 9), active=True)
    sid = site.id

    november = facts.staff_on_roster([sid], *bounds(NOV))
    assert _names(november, sid) == sorted(
        ["十二月离职", "停职复职", "月末入职", "月末离职", "调往深圳"]
    )
    december = facts.staff_on_roster([sid], *bounds(DEC))
    assert _names(december, sid) == sorted(
        ["十二月入职", "十二月离职", "停职复职", "月末入职", "调往深圳"]
    )
    # At the end of November: the edge leaver had gone, the December joiner had not come.
    at_end = facts.staff_on_roster_at([sid], bounds(NOV)[1])
    assert _names(at_end, sid) == sorted(["十二月离职", "停职复职", "月末入职", "调往深圳"])
    # The mover is on Shenzhen's December roster from the day he moved, once.
    sz01 = facts.staff_on_roster([site_ids["SZ01"]], *clock.period_bounds(*DEC))
    assert [m.name for m in sz01[site_ids["SZ01"]]].count("调往深圳") == 1
    (member,) = [m for m in december[sid] if m.name == "十二月离职"]
    assert (member.joined_at, member.left_at) == (october, FIRST_DEC)


def test_a_leavers_spell_is_frozen(dbs, site):
    person = _person(dbs, site, "离职", local(date(2026, 10, 1), 9))
    _change(dbs, person, local(date(2026, 11, 1), 9), active=False)
    with pytest.raises(DatabaseError, match="append-only"):
        dbs.execute(text("UPDATE staff_spell SET left_at = NULL"))
    dbs.rollback()


# ---------------------------------------------------------------- consumption


def test_a_product_withdrawn_in_december_was_still_served_in_november(dbs, site, site_ids):
    from portal.services import stock, visits

    clerk = user(dbs, "clerk_sz01")
    with time_machine.travel(local(date(2026, 11, 1), 9), tick=False):
        drink = Product(site_id=site.id, name="酸梅汤", kind="drink", unit="杯")
        dbs.add(drink)
        dbs.flush()
        stock.restock(site, drink, 20, clerk)
        dbs.commit()
    for at, quantity in ((LAST_NOV, 2), (FIRST_DEC, 1)):
        with time_machine.travel(at, tick=False):
            visit = visits.record_arrival(site, adults=2, user=clerk)
            stock.serve(visit, drink, quantity, clerk)
            dbs.commit()
    withdrawn = local(date(2026, 12, 5), 9)
    with time_machine.travel(withdrawn, tick=False):
        drink.soft_delete()
        dbs.commit()
    sid = site.id

    # A clerk of UR01 in a request: the product is gone from every ordinary query...
    scope.activate(scope.SiteScope(frozenset({sid})), dbs)
    try:
        assert dbs.scalars(select(Product).where(Product.site_id == sid)).all() == []
        # ...and its November servings still count, under its name, marked withdrawn.
        (line,) = facts.servings([sid, site_ids["SZ01"]], *bounds(NOV))[sid]
        assert (line.product_name, line.quantity, line.kind) == ("酸梅汤", 2, "drink")
        assert line.arrived_at == LAST_NOV
        assert line.withdrawn is True and line.withdrawn_at == withdrawn
        (december,) = facts.servings([sid], *bounds(DEC), kind="drink")[sid]
        assert december.quantity == 1
        assert facts.servings([sid], *bounds(NOV), kind="snack") == {sid: []}
    finally:
        scope.deactivate(dbs)


def test_period_reads_stay_inside_the_users_sites(dbs, site, site_ids):
    from portal.services import stock, visits

    clerk = user(dbs, "clerk_sz01")
    with time_machine.travel(LAST_NOV, tick=False):
        drink = Product(site_id=site.id, name="奶茶", kind="drink", unit="杯")
        dbs.add(drink)
        dbs.flush()
        stock.restock(site, drink, 5, clerk)
        stock.serve(visits.record_arrival(site, user=clerk), drink, 1, clerk)
        drink.soft_delete()
        dbs.commit()
    # Someone of another site asks for UR01's facts by its id: nothing, deleted rows or not.
    scope.activate(scope.SiteScope(frozenset({site_ids["SH01"]})), dbs)
    try:
        assert facts.servings([site.id], *bounds(NOV)) == {site.id: []}
        assert facts.tickets_open_at([site.id], bounds(NOV)[1]) == {site.id: []}
    finally:
        scope.deactivate(dbs)


# ---------------------------------------------------------------- grooming


def test_grooming_scores_are_exact_shares_of_the_points(dbs, site):
    from portal.models import GROOMING_POINTS
    from portal.services import grooming

    person = _person(dbs, site, "前台", local(date(2026, 10, 1), 9))
    keys = [key for key, _ in GROOMING_POINTS]
    for day, passed in ((3, 5), (4, 1)):  # 5 of 8 = 62.5 %, 1 of 8 = 12.5 %
        with time_machine.travel(local(date(2026, 11, day), 9), tick=False):
            results = [(key, n < passed, None) for n, key in enumerate(keys)]
            grooming.inspect(site, person, user(dbs, "sup_south"), results)
            dbs.commit()
    scores = facts.grooming_scores([site.id], *bounds(NOV))[site.id]
    assert [s.score for s in scores] == [62.5, 12.5]
    assert [(s.points_passed, s.points_judged) for s in scores] == [(5, 8), (1, 8)]
    # The stored whole per cents (62 and 12, rounded half to even) would average 37, not 37.5.
    assert facts.mean(s.score for s in scores) == 37.5


# ---------------------------------------------------------------- the migration's backfill

from tests.test_migrations import _flask_db, migrated_app  # noqa: E402, F401

T0, T1, T2, T3 = (
    datetime(2026, 11, 2, 2, tzinfo=clock.now().tzinfo),
    datetime(2026, 11, 3, 2, tzinfo=clock.now().tzinfo),
    datetime(2026, 11, 4, 2, tzinfo=clock.now().tzinfo),
    datetime(2026, 12, 2, 2, tzinfo=clock.now().tzinfo),
)
ROWS = [
    "INSERT INTO region (id, code, name, active, created_at, updated_at, version) "
    "VALUES (1, 'R', 'R', :yes, :t0, :t0, 1)",
    "INSERT INTO site (id, code, name, timezone, tally_time, region_id, active, opened_on, "
    "created_at, updated_at, version) VALUES (1, 'S', 'S', 'Asia/Urumqi', '17:50:00', 1, :yes, "
    "'2026-01-01', :t0, :t0, 1)",
    "INSERT INTO user_account (id, username, display_name, role, active, password_hash, "
    "session_token, created_at, updated_at, version) "
    "VALUES (1, 'u', 'u', 'clerk', :yes, 'x', 'x', :t0, :t0, 1)",
    "INSERT INTO staff_member (id, site_id, name, kind, active, created_at, updated_at, version) "
    "VALUES (1, 1, '在职', 'cleaner', :yes, :t0, :t0, 1), "
    "(2, 1, '离职', 'cleaner', :no, :t0, :t3, 1)",
    "INSERT INTO repair_ticket (id, site_id, equipment, description, priority, status, due_at, "
    "reporter_id, created_at, updated_at, resolved_at, closed_at) VALUES "
    "(1, 1, '灯', '不亮', 'normal', 'closed', :t2, 1, :t0, :t2, :t1, :t2)",
    "INSERT INTO cleaning_area (id, site_id, name, position, active, created_at, updated_at, "
    "version) VALUES (1, 1, '地面', 0, :yes, :t0, :t0, 1)",
    "INSERT INTO cleaning_issue (id, site_id, area_id, description, due_at, status, reopen_count, "
    "fixed_by_id, fixed_at, created_at, updated_at) VALUES "
    "(1, 1, 1, '水渍', :t1, 'fixed', 0, 1, :t2, :t0, :t2)",
    "INSERT INTO product (id, site_id, name, kind, unit, reorder_level, active, created_at, "
    "updated_at, deleted_at, version) VALUES (1, 1, '可乐', 'drink', '瓶', 0, :yes, :t0, :t0, "
    ":t3, 1)",
]


def test_the_migration_gives_existing_rows_their_history(migrated_app):  # noqa: F811
    """Rows written before the histories existed get what their columns still tell."""
    from portal.extensions import db

    def instant(value):
        # SQLite stores naive UTC text, as the application's column type does.
        return value.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else value

    with migrated_app.app_context():
        _flask_db(migrated_app, "upgrade", "15d1ac79ab34")
        params = {"yes": True, "no": False}
        params.update({k: instant(v) for k, v in (("t0", T0), ("t1", T1), ("t2", T2), ("t3", T3))})
        with db.engine.begin() as conn:
            for statement in ROWS:
                conn.execute(text(statement), params)
        _flask_db(migrated_app, "upgrade")
        nov = (datetime(2026, 11, 1, tzinfo=T0.tzinfo), datetime(2026, 12, 1, tzinfo=T0.tzinfo))
        (resolution,) = facts.ticket_resolutions([1], *nov)[1]
        assert (resolution.reported_at, resolution.resolved_at, resolution.hours) == (T0, T1, 24)
        assert facts.tickets_open_at([1], T0.replace(hour=3)) == {1: [1]}
        (fix,) = facts.cleaning_fixes([1], *nov)[1]
        assert (fix.hours, fix.due_at, fix.late) == (48, T1, True)
        assert _names(facts.staff_on_roster([1], *nov), 1) == ["在职", "离职"]
        assert _names(facts.staff_on_roster_at([1], T3.replace(day=3)), 1) == ["在职"]
        assert db.session.scalar(text("SELECT withdrawn_at FROM product")) is not None
        db.session.remove()


# ---------------------------------------------------------------- the demo's history


def test_the_demos_bulk_history_has_its_events(app, dbs):
    """The demo's three months are bulk-inserted: their histories are derived afterwards, so the
    facts of a past month agree with the rows (nothing was reopened or withdrawn there)."""
    from sqlalchemy import func

    from portal import devdata
    from portal.extensions import db

    with app.app_context():
        sites = devdata.seed_demo()
        devdata.seed_history(sites)
        db.session.commit()
        db.session.remove()
    ids = sorted(dbs.scalars(select(Site.id)))
    start, end = clock.period_bounds(date(2026, 10, 1), date(2026, 10, 31))
    resolved = dict(
        dbs.execute(
            select(RepairTicket.site_id, func.count())
            .where(RepairTicket.resolved_at >= start, RepairTicket.resolved_at < end)
            .group_by(RepairTicket.site_id)
        ).all()
    )
    fixed = dict(
        dbs.execute(
            select(CleaningIssue.site_id, func.count())
            .where(CleaningIssue.fixed_at >= start, CleaningIssue.fixed_at < end)
            .group_by(CleaningIssue.site_id)
        ).all()
    )
    resolutions = facts.ticket_resolutions(ids, start, end)
    fixes = facts.cleaning_fixes(ids, start, end)
    assert sum(resolved.values()) > 0 and sum(fixed.values()) > 0
    assert {sid: len(r) for sid, r in resolutions.items() if r} == resolved
    assert {sid: len(f) for sid, f in fixes.items() if f} == fixed
    roster = facts.staff_on_roster(ids, start, end)
    active = dict(
        dbs.execute(select(StaffMember.site_id, func.count()).group_by(StaffMember.site_id)).all()
    )
    assert {sid: len(people) for sid, people in roster.items()} == active
