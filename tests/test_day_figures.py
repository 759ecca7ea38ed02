"""A running month's figures kept per site and day: the same as counting the month's records,
after every kind of later change to a day already kept.

KP01, a new sales office on Beijing time that opened on 18 November 2026, seen on the morning of
the 20th. Its days of November up to the 19th are kept by the first view of the dashboard; the
changes that follow touch those days (an entry signed the next morning, a visit and a ticket
deleted, a drink turned into a snack), and the next view must show what the records now say.
Every expected value is counted by hand from the records written here."""

import re
from datetime import date, time, timedelta

import pytest
import time_machine
from sqlalchemy import delete, select

from portal import clock
from portal.extensions import db
from portal.models import (
    ChecklistRun,
    ChecklistTemplate,
    DayChange,
    DayFigure,
    HandoverEntry,
    Product,
    RepairTicket,
    Site,
    Visit,
)
from portal.services import day_figures
from portal.services import metrics as m
from tests.hand_built import at, two_drinks, user

NOV1, NOV30 = date(2026, 11, 1), date(2026, 11, 30)
TODAY = date(2026, 11, 20)
NOW = clock.local_at(TODAY, time(7, 30), clock.DEFAULT_ZONE)
KEPT = (
    "visitors",
    "drinks_per_visitor",
    "checklists_on_time",
    "tally_on_time",
    "handover_on_time",
    "hours_to_resolve",
)


def local(day, hour, minute=0):
    return clock.local_at(date(2026, 11, day), time(hour, minute), clock.DEFAULT_ZONE)


@pytest.fixture
def kp01(dbs):
    from portal.services import repairs, stock, tally, visits

    with time_machine.travel(local(1, 9), tick=False):
        region_id = dbs.scalar(select(Site.region_id).where(Site.code == "SZ01"))
        site = Site(
            code="KP01", name="开平售楼处", region_id=region_id, opened_on=date(2026, 10, 1)
        )
        dbs.add(site)
        dbs.flush()
        for username in ("clerk_sz01", "maint_south"):
            member = user(dbs, username)
            member.sites.append(site)
        dbs.commit()
    clerk, boss, worker = user(dbs, "clerk_sz01"), user(dbs, "sup_south"), user(dbs, "maint_south")

    sour, water = at(dbs, local(2, 9), lambda: two_drinks(dbs, site, clerk))
    # Visitors 3 + 2 + 1 = 6; drinks 1 酸梅汤 + 1 酸梅汤 + 1 矿泉水 = 3.
    tenth = at(dbs, local(10, 10), lambda: visits.record_arrival(site, 3, user=clerk))
    at(dbs, local(10, 10, 5), lambda: stock.serve(tenth, sour, 1, clerk))
    nineteenth = at(dbs, local(19, 11), lambda: visits.record_arrival(site, 2, user=clerk))
    at(dbs, local(19, 11, 5), lambda: stock.serve(nineteenth, sour, 1, clerk))
    today = at(dbs, local(20, 7), lambda: visits.record_arrival(site, 1, user=clerk))
    at(dbs, local(20, 7, 5), lambda: stock.serve(today, water, 1, clerk))

    # Checklists from the opening day (the 18th): the two openings on time, the closings
    # missing: 2 of 4.
    templates = {}
    for kind in ("opening", "closing"):
        templates[kind] = ChecklistTemplate(name=f"KP01 {kind}", kind=kind, site_id=site.id)
        dbs.add(templates[kind])
    dbs.flush()
    for day in (18, 19):
        dbs.add(
            ChecklistRun(
                site_id=site.id,
                template_id=templates["opening"].id,
                kind="opening",
                day=date(2026, 11, day),
                status="done",
                completed_at=local(day, 9),
                completion=100,
                user_id=clerk.id,
            )
        )
    # Handover: written on the 18th at 08:00 and signed at 10:00 (on time); written on the 19th
    # at 20:00, not signed yet: 1 of 2.
    dbs.add(
        HandoverEntry(
            site_id=site.id,
            author_id=clerk.id,
            written_at=local(18, 8),
            text="交接",
            signed_at=local(18, 10),
            signed_by_id=clerk.id,
        )
    )
    dbs.add(
        HandoverEntry(site_id=site.id, author_id=clerk.id, written_at=local(19, 20), text="晚班")
    )
    dbs.commit()
    # Tally: the 18th closed at 23:00 (the same day), the 19th not at all: 1 of 2.
    at(
        dbs,
        local(18, 23),
        lambda: tally.close_tally(
            site, date(2026, 11, 18), {sour.id: 20, water.id: 20}, clerk, now=local(18, 23)
        ),
    )
    # Tickets: 4 hours (10th 09:00 → 13:00) and 24 hours (12th 08:00 → 13th 08:00): 14 h.
    tickets = []
    for reported, resolved in ((local(10, 9), local(10, 13)), (local(12, 8), local(13, 8))):
        ticket = at(dbs, reported, lambda: repairs.report(site, clerk, "空调", "不制冷", "normal"))
        at(dbs, reported, lambda t=ticket: repairs.transition(t, "assign", boss, assignee=worker))
        at(dbs, reported, lambda t=ticket: repairs.transition(t, "start", worker))
        at(dbs, resolved, lambda t=ticket: repairs.transition(t, "resolve", worker, cost="0"))
        tickets.append(ticket)
    site.opened_on = date(2026, 11, 18)
    dbs.commit()
    return {"site": site, "tenth": tenth, "sour": sour, "tickets": tickets}


def _shown(client):
    page = client.get("/dashboard/?period=month").get_data(as_text=True)
    row = page.split('<tr data-site="KP01">')[1].split("</tr>")[0]
    cells = dict(re.findall(r'data-metric="(\w+)">([^<]+)</a>', row))
    return {key: cells.get(key, "–").strip() for key in KEPT}


def _from_records(app, site_id):
    """The running month's figures counted from the records alone, what was kept set aside
    meanwhile and put back as it was."""
    table = DayFigure.__table__
    with app.app_context():
        kept = [dict(row) for row in db.session.execute(table.select()).mappings()]
        db.session.execute(delete(table))
        db.session.commit()
        with m.zone_cache():
            values = m.collect([site_id], NOV1, NOV30, [m.get_metric(key) for key in KEPT])
        db.session.execute(delete(table))
        if kept:
            db.session.execute(table.insert(), kept)
        db.session.commit()
    return {key: m.get_metric(key).format(values[key][site_id]) for key in KEPT}


def _formatted(**values):
    return {key: m.get_metric(key).format(value) for key, value in values.items()}


def test_kept_days_follow_every_later_change_to_them(app, dbs, login, kp01):
    site = kp01["site"]
    with time_machine.travel(NOW, tick=False):
        client = login("admin")
        first = _shown(client)
        assert first == _formatted(
            visitors=6,
            drinks_per_visitor=3 / 6,
            checklists_on_time=50.0,
            tally_on_time=50.0,
            handover_on_time=50.0,
            hours_to_resolve=14.0,
        )
        kept = dbs.scalars(
            select(DayFigure.day).where(
                DayFigure.site_id == site.id, DayFigure.figure == "visitors"
            )
        ).all()
        assert sorted(kept) == [NOV1 + timedelta(days=n) for n in range(19)]  # not today
        assert _shown(client) == first  # read back from what was kept

    clerk = user(dbs, "clerk_sz01")
    late_entry = dbs.scalar(
        select(HandoverEntry).where(
            HandoverEntry.site_id == site.id, HandoverEntry.written_at == local(19, 20)
        )
    )
    # The morning shift signs the 19th's entry at 07:40: within 12 h, so on time (2 of 2).
    late_entry.signed_at, late_entry.signed_by_id = local(20, 7, 40), clerk.id
    dbs.commit()
    # The visit of the 10th (3 people, 1 drink) is deleted: 3 people, 2 drinks.
    at(dbs, NOW, dbs.get(Visit, kp01["tenth"].id).soft_delete)
    # The 4-hour ticket is deleted: 24 h left.
    at(dbs, NOW, dbs.get(RepairTicket, kp01["tickets"][0].id).soft_delete)
    with time_machine.travel(NOW + timedelta(minutes=15), tick=False):
        after = _shown(client)
        assert after == _formatted(
            visitors=3,
            drinks_per_visitor=2 / 3,
            checklists_on_time=50.0,
            tally_on_time=50.0,
            handover_on_time=100.0,
            hours_to_resolve=24.0,
        )
        assert after == _from_records(app, site.id)

    # 酸梅汤 becomes a snack: a record without dates, any day's drinks may move (1 drink left).
    dbs.get(Product, kp01["sour"].id).kind = "snack"
    dbs.commit()
    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        assert _shown(client)["drinks_per_visitor"] == m.get_metric("drinks_per_visitor").format(
            1 / 3
        )
        assert _shown(client) == _from_records(app, site.id)


def test_a_deleted_ticket_leaves_every_day_up_to_today(app, dbs, login, kp01):
    """A ticket resolved on the 10th, reopened and resolved again on the 13th counts once, with
    its first resolution; deleting it on the 20th (its dates say 10th and 13th) moves the 10th
    too."""
    from portal.services import repairs

    boss, worker = user(dbs, "sup_south"), user(dbs, "maint_south")
    clerk = user(dbs, "clerk_sz01")
    ticket = dbs.get(RepairTicket, kp01["tickets"][0].id)
    at(dbs, local(11, 9), lambda: repairs.transition(ticket, "reopen", clerk, note="又坏了"))
    at(dbs, local(11, 9), lambda: repairs.transition(ticket, "start", worker))
    at(dbs, local(14, 9), lambda: repairs.transition(ticket, "resolve", worker, cost="0"))
    assert boss is not None
    with time_machine.travel(NOW, tick=False):
        client = login("admin")
        assert _shown(client)["hours_to_resolve"] == m.get_metric("hours_to_resolve").format(14.0)
    at(dbs, NOW, dbs.get(RepairTicket, ticket.id).soft_delete)
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert _shown(client)["hours_to_resolve"] == m.get_metric("hours_to_resolve").format(24.0)


def test_a_day_counted_while_a_change_commits_is_counted_again(app, dbs, kp01):
    """A reader keeps a day with the stamp it read before counting; a write that commits while
    it counts raises the day's generation, so that value is not trusted the next time."""
    site_id = kp01["site"].id
    day = date(2026, 11, 19)
    calls = []

    def count(site_ids, first, last):
        calls.append((first, last))
        if len(calls) == 1:  # another worker records something on the 19th meanwhile
            with db.engine.begin() as conn:
                day_figures.note_changes(conn, [(site_id, day)])
        return {(site_id, day): (len(calls), 1)}

    with time_machine.travel(NOW, tick=False), app.app_context():
        zone = clock.DEFAULT_ZONE
        assert day_figures.totals("probe", [site_id], day, day, zone, count) == {site_id: (1, 1)}
        db.session.rollback()
        assert day_figures.totals("probe", [site_id], day, day, zone, count) == {site_id: (2, 1)}
        db.session.rollback()
        # Counted after the change: kept and trusted from now on.
        assert day_figures.totals("probe", [site_id], day, day, zone, count) == {site_id: (2, 1)}
        assert len(calls) == 2
        generation = db.session.scalar(
            select(DayChange.generation).where(DayChange.site_id == site_id, DayChange.day == day)
        )
        assert generation >= 1


def test_a_day_is_not_kept_from_a_transaction_that_changed_records(app, dbs, kp01):
    """A page that wrote in its own transaction counts with its own uncommitted rows: it uses
    them but never keeps them (they may still roll back)."""
    site_id = kp01["site"].id
    day = date(2026, 11, 19)
    with time_machine.travel(NOW, tick=False), app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.site_id == site_id))
        visit.adults += 1
        db.session.flush()
        found = day_figures.totals(
            "probe", [site_id], day, day, clock.DEFAULT_ZONE, lambda sites, first, last: {}
        )
        assert found == {site_id: (0, 0)}
        db.session.rollback()
        assert not db.session.scalars(
            select(DayFigure).where(DayFigure.site_id == site_id, DayFigure.figure == "probe")
        ).all()
