"""Drinks and stock figures: stock variance, tally closed on time, and the month-end sections
consumption by product and tally variances."""

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import case, func, select

from portal import clock
from portal.extensions import db
from portal.models import ConsumptionLine, DailyTally, DailyTallyLine, Product, Visit
from portal.services import metrics as m


PERIOD_DRILL = "{start} to {end}"


def stock_variance(site_ids, start, end):
    """Units counted off (either way) at the tallies of the period: sum of |counted − expected|."""
    stmt = (
        select(DailyTallyLine.site_id, func.sum(func.abs(DailyTallyLine.variance)))
        .join(DailyTally, DailyTally.id == DailyTallyLine.tally_id)
        .where(DailyTallyLine.site_id.in_(site_ids), DailyTally.day >= start, DailyTally.day <= end)
        .group_by(DailyTallyLine.site_id)
    )
    return m.counts(stmt, site_ids)


def tally_on_time(site_ids, start, end):
    """% of the period's closed tallies that were closed the same day (before the site's local
    midnight; ``DailyTally.same_day``, fixed when it was closed). A day without a tally is not
    in it: the "tallies missing" page names those."""
    on_time = func.sum(case((DailyTally.same_day.is_(True), 1), else_=0))
    stmt = (
        select(DailyTally.site_id, on_time, func.count())
        .where(DailyTally.site_id.in_(site_ids), DailyTally.day >= start, DailyTally.day <= end)
        .group_by(DailyTally.site_id)
    )
    return {sid: m.percent(hits or 0, n) for sid, hits, n in db.session.execute(stmt)}


def register_figures():
    # Both tally figures lead to the closed tallies of the site and period: each row shows its
    # units off (the sum is the variance figure) and whether it was closed the same day.
    tallies_drill = (
        "dailytally.index_view",
        {"flt0_site_equals": "{site_id}", "flt1_day_between": PERIOD_DRILL},
    )
    m.register_metric(
        "stock_variance",
        _l("Stock variance at the tally"),
        _l("units"),
        stock_variance,
        better="lower",
        order=30,
        drill=tallies_drill,
    )
    m.register_metric(
        "tally_on_time",
        _l("Tally closed the same day"),
        "%",
        tally_on_time,
        better="higher",
        order=40,
        drill=tallies_drill,
    )


# ------------------------------------------------------------ month-end sections


def consumption_section(site_id, start, end):
    lo, hi = clock.period_bounds(start, end, m.zone_of(site_id))
    stmt = (
        select(Product.name, Product.unit, func.sum(ConsumptionLine.quantity))
        .join(ConsumptionLine, ConsumptionLine.product_id == Product.id)
        .join(Visit, Visit.id == ConsumptionLine.visit_id)
        .where(
            ConsumptionLine.site_id == site_id,
            Visit.arrived_at >= lo,
            Visit.arrived_at < hi,
            Visit.deleted_at.is_(None),
        )
        .group_by(Product.name, Product.unit)
        .order_by(func.sum(ConsumptionLine.quantity).desc(), Product.name)
    )
    return {
        "headers": [_("Product"), _("Unit"), _("Served")],
        "rows": [list(r) for r in db.session.execute(stmt)],
    }


def tally_variances_section(site_id, start, end):
    stmt = (
        select(
            DailyTally.day,
            Product.name,
            DailyTallyLine.expected,
            DailyTallyLine.counted,
            DailyTallyLine.variance,
        )
        .join(DailyTally, DailyTally.id == DailyTallyLine.tally_id)
        .join(Product, Product.id == DailyTallyLine.product_id)
        .where(
            DailyTallyLine.site_id == site_id,
            DailyTally.day >= start,
            DailyTally.day <= end,
            DailyTallyLine.variance != 0,
        )
        .order_by(DailyTally.day, Product.name)
    )
    rows = [
        [day.isoformat(), name, expected, counted, f"{variance:+d}"]
        for day, name, expected, counted, variance in db.session.execute(stmt)
    ]
    return {
        "headers": [_("Day"), _("Product"), _("Expected"), _("Counted"), _("Variance")],
        "rows": rows,
    }
