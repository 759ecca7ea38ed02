"""Three months of demo history: deterministic streams, the days it fills, idempotence, a
stock ledger that still balances, and sites that differ visibly."""

from datetime import date

import pytest
from sqlalchemy import func, select

from portal import devdata
from portal import clock
from portal.extensions import db
from portal.models import (
    ChecklistRun,
    CleaningIssue,
    DailyTally,
    DailyTallyLine,
    DamageReport,
    GroomingInspection,
    HandoverEntry,
    ItemCheckLine,
    RepairTicket,
    Site,
    StockBalance,
    StockMovement,
    Visit,
)
from portal.services import metrics as m


def test_same_site_and_day_give_the_same_numbers():
    a = devdata.history.rng_for("SZ01", date(2026, 11, 3))
    b = devdata.history.rng_for("SZ01", date(2026, 11, 3))
    c = devdata.history.rng_for("SZ02", date(2026, 11, 3))
    first = [a.random() for _ in range(3)]
    assert first == [b.random() for _ in range(3)] != [c.random() for _ in range(3)]


def test_history_covers_three_months_before_today():
    days = devdata.history.history_days(date(2026, 11, 27))
    assert days[0] == date(2026, 8, 27) and days[-1] == date(2026, 11, 26) and len(days) == 92


@pytest.fixture
def history(app, dbs):
    """The full demo data plus three months of history (the test app skips it in seed-demo)."""
    with app.app_context():
        sites = devdata.seed_demo()
        devdata.seed_history(sites)
        db.session.commit()
        db.session.remove()
    return {s.code: s.id for s in dbs.scalars(select(Site))}


def _counts(dbs):
    return {
        model.__name__: dbs.scalar(select(func.count()).select_from(model))
        for model in (
            Visit,
            StockMovement,
            DailyTally,
            ChecklistRun,
            ItemCheckLine,
            HandoverEntry,
            CleaningIssue,
            RepairTicket,
            DamageReport,
            GroomingInspection,
        )
    }


def test_seed_demo_without_history_under_test(app, dbs):
    with app.app_context():
        devdata.seed_demo()
        db.session.commit()
        db.session.remove()
    # Only yesterday's tally of each site (the visits domain closes it); no history.
    assert dbs.scalar(select(func.count()).select_from(DailyTally)) == 4


def test_history_fills_three_months_idempotently_and_keeps_stock_balanced(app, dbs, history):
    before = _counts(dbs)
    # The history up to the day before yesterday, and yesterday's closed by the visits domain.
    assert before["DailyTally"] == 4 * (devdata.history.HISTORY_DAYS - 1) + 4
    assert all(before[name] > 0 for name in before), before
    with app.app_context():
        devdata.seed_history({s.code: s for s in db.session.scalars(select(Site))})
        db.session.commit()
    assert _counts(dbs) == before  # a second run adds nothing
    # The ledger still explains the stock: balance = sum of every movement, per product.
    ledger = dict(
        dbs.execute(
            select(StockMovement.product_id, func.sum(StockMovement.quantity)).group_by(
                StockMovement.product_id
            )
        ).all()
    )
    balances = dict(dbs.execute(select(StockBalance.product_id, StockBalance.qty)).all())
    assert ledger and balances == ledger
    # Each tally line adds up, and its variance is booked in the ledger.
    line = dbs.scalars(select(DailyTallyLine).where(DailyTallyLine.variance != 0)).first()
    assert (
        line.expected == line.opening + line.restock - line.served
        and line.counted == line.expected + line.variance
    )
    assert line.expected >= 0 and line.counted >= 0


def test_sz01_and_sz02_differ_visibly(app, dbs, history):
    today = clock.local_day(clock.DEFAULT_ZONE)
    first = m.previous_month(m.month_start(today))
    with app.app_context():
        values = m.collect([history["SZ01"], history["SZ02"]], first, m.month_end(first))
    sz01, sz02 = history["SZ01"], history["SZ02"]
    for key in (
        "visitors",
        "tally_on_time",
        "checklists_on_time",
        "handover_on_time",
        "grooming_score",
    ):
        assert values[key][sz01] > values[key][sz02], key
    for key in ("item_discrepancies", "stock_variance"):
        assert values[key][sz01] < values[key][sz02], key
