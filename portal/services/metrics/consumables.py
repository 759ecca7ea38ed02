"""Drinks and stock figures: stock variance, tally closed on time, and the month-end sections
consumption by product and tally variances (both including products withdrawn since, marked)."""

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db
from portal.models.base import among
from portal.models import ConsumptionLine, DailyTally, DailyTallyLine, Product, StockMovement, Visit
from portal.services import metrics as m
from portal.services.metrics.visits import WITHDRAWN
from portal.services.period_facts import existed_at
from portal.services.scope import including_deleted


def _product_label(name, withdrawn):
    return f"{name}（{WITHDRAWN}）" if withdrawn else name


def _withdrawn():
    return Product.withdrawn_at.is_not(None) | Product.deleted_at.is_not(None)


def variance_lines(site_ids, start, end):
    """{site_id: [(tally id, day, product label, expected, counted, variance)]}: the lines of
    the tallies of the period that were off, products withdrawn since included."""
    stmt = (
        select(
            DailyTallyLine.site_id,
            DailyTally.id,
            DailyTally.day,
            Product.name,
            _withdrawn(),
            DailyTallyLine.expected,
            DailyTallyLine.counted,
            DailyTallyLine.variance,
        )
        .join(DailyTally, DailyTally.id == DailyTallyLine.tally_id)
        .join(Product, Product.id == DailyTallyLine.product_id)
        .where(
            among(DailyTallyLine.site_id, site_ids),
            DailyTally.day >= start,
            DailyTally.day <= end,
            DailyTallyLine.variance != 0,
        )
        .order_by(DailyTally.day, Product.name)
    )
    result = {sid: [] for sid in site_ids}
    for sid, tid, day, name, withdrawn, expected, counted, variance in db.session.execute(
        including_deleted(stmt)
    ):
        result[sid].append((tid, day, _product_label(name, withdrawn), expected, counted, variance))
    return result


def stock_variance(site_ids, start, end):
    """Units counted off (either way) at the tallies of the period: sum of |counted − expected|."""
    lines = variance_lines(site_ids, start, end)
    return {sid: sum(abs(line[5]) for line in lines[sid]) for sid in site_ids}


def variance_records(site_id, start, end):
    lines = variance_lines([site_id], start, end)[site_id]
    rows = [
        [day.isoformat(), label, expected, counted, f"{variance:+d}", abs(variance)]
        for _tid, day, label, expected, counted, variance in lines
    ]
    return m.table(
        [_("Day"), _("Product"), _("Expected"), _("Counted"), _("Variance"), _("Units off")],
        rows,
        [line[0] for line in lines],
    )


def tally_days(site_ids, start, end, now=None):
    """{site_id: [(day, tally id | None, closed_at | None, same_day)]}: every counted day of the
    period (``metrics.counted_days``; today once its tally is closed), a day without a tally
    included as missed."""
    days = m.counted_days(site_ids, start, end, now)
    stmt = select(
        DailyTally.site_id, DailyTally.day, DailyTally.id, DailyTally.closed_at, DailyTally.same_day
    ).where(among(DailyTally.site_id, site_ids), DailyTally.day >= start, DailyTally.day <= end)
    closed = {(sid, day): (tid, at, same) for sid, day, tid, at, same in db.session.execute(stmt)}
    result = {}
    for sid in site_ids:
        today = m.today_of(sid, now)
        wanted = set(days[sid])
        if start <= today <= end and (sid, today) in closed:
            wanted.add(today)
        result[sid] = [
            (day, *closed.get((sid, day), (None, None, False))) for day in sorted(wanted)
        ]
    return result


def _same_day_by_day(site_ids, first, last, zone):
    """{(site_id, day): (tallies closed the same day, tallies)} of every day, counted or not
    (the site's spells are applied when the days are added up)."""
    stmt = select(DailyTally.site_id, DailyTally.day, DailyTally.same_day).where(
        among(DailyTally.site_id, site_ids), DailyTally.day >= first, DailyTally.day <= last
    )
    return {(sid, day): (1 if same else 0, 1) for sid, day, same in db.session.execute(stmt)}


def tally_on_time(site_ids, start, end):
    """% of the period's counted days whose tally was closed the same day (before the site's
    local midnight, ``DailyTally.same_day``); a day without a tally is a miss."""
    return m.duty_on_time(
        "tally_on_time", site_ids, start, end, _same_day_by_day, tally_days, lambda row: row[3]
    )


def tally_day_records(site_id, start, end):
    rows, ids = [], []
    for day, tid, closed_at, same_day in tally_days([site_id], start, end)[site_id]:
        if tid is None:
            verdict = _("Missing: no tally")
        else:
            verdict = _("Closed the same day") if same_day else _("Closed late")
        rows.append(
            [day.isoformat(), m.local_time(closed_at, site_id), verdict, 1 if same_day else 0]
        )
        ids.append(tid or f"missing-{day.isoformat()}")
    return m.table([_("Day"), _("Closed at"), _("Result"), _("On time")], rows, ids)


def register_figures():
    m.register_metric(
        "stock_variance",
        _l("Stock variance at the tally"),
        _l("units"),
        stock_variance,
        better="lower",
        order=30,
        definition=_l(
            "Units counted off at the daily tallies of the period, either way: the sum of "
            "|counted − expected| over every product line, products withdrawn since included."
        ),
        records=variance_records,
    )
    m.register_metric(
        "tally_on_time",
        _l("Tally closed the same day"),
        "%",
        tally_on_time,
        better="higher",
        order=40,
        definition=_l(
            "Share of the site's days in the period (from its opening day; today once its "
            "tally is closed) whose tally was closed before the site's local midnight. A day "
            "without a tally counts as missed."
        ),
        records=tally_day_records,
    )


# ------------------------------------------------------------ month-end sections


def consumption_section(site_id, start, end):
    """Units served per product on the local days of the period (the day of serving, as the
    tally counts), of visits that still existed at the period's end; a product withdrawn since
    is listed, marked. The drink rows add up to the drinks of "drinks per visitor"."""
    ((ids, lo, hi),) = m.zone_bounds([site_id], start, end)
    stmt = (
        select(
            Product.id,
            Product.name,
            _withdrawn(),
            Product.kind,
            Product.unit,
            ConsumptionLine.quantity,
        )
        .join(ConsumptionLine, ConsumptionLine.product_id == Product.id)
        .join(StockMovement, StockMovement.id == ConsumptionLine.movement_id)
        .join(Visit, Visit.id == ConsumptionLine.visit_id)
        .where(
            ConsumptionLine.site_id == site_id,
            StockMovement.day >= start,
            StockMovement.day <= end,
            existed_at(Visit, hi),
        )
    )
    totals = {}
    for pid, name, withdrawn, kind, unit, qty in db.session.execute(including_deleted(stmt)):
        row = totals.setdefault(pid, [_product_label(name, withdrawn), kind, unit, 0])
        row[3] += qty
    kinds = {"drink": _("Drink"), "snack": _("Snack")}
    rows = [
        [label, kinds.get(kind, kind), unit, served]
        for label, kind, unit, served in sorted(totals.values(), key=lambda r: (-r[3], r[0]))
    ]
    return {"headers": [_("Product"), _("Kind"), _("Unit"), _("Served")], "rows": rows}


def tally_variances_section(site_id, start, end):
    """Every tally line that was off; the units off add up to the stock variance figure."""
    rows = variance_records(site_id, start, end)["rows"]
    return {
        "headers": [
            _("Day"),
            _("Product"),
            _("Expected"),
            _("Counted"),
            _("Variance"),
            _("Units off"),
        ],
        "rows": rows,
    }
