"""Visit figures: visitors and drinks per visitor, and the month-end visits-by-week section."""

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import ConsumptionLine, Product, Visit
from portal.services import metrics as m


PERIOD_DRILL = "{start} to {end}"


def _visits_in(site_ids, start, end):
    return (
        Visit.site_id.in_(site_ids),
        m.in_period(Visit.arrived_at, Visit.site_id, start, end),
        Visit.deleted_at.is_(None),
    )


def visitors(site_ids, start, end):
    """People (adults + children) of the visits that arrived in the period."""
    stmt = (
        select(Visit.site_id, func.sum(Visit.adults + Visit.children))
        .where(*_visits_in(site_ids, start, end))
        .group_by(Visit.site_id)
    )
    return m.counts(stmt, site_ids)


def drinks_served(site_ids, start, end):
    """Drinks served to the visits of the period (consumption lines of drink products)."""
    stmt = (
        select(ConsumptionLine.site_id, func.sum(ConsumptionLine.quantity))
        .join(Visit, Visit.id == ConsumptionLine.visit_id)
        .join(Product, Product.id == ConsumptionLine.product_id)
        .where(Product.kind == "drink", *_visits_in(site_ids, start, end))
        .group_by(ConsumptionLine.site_id)
    )
    return m.counts(stmt, site_ids)


def drinks_per_visitor(site_ids, start, end):
    people, drinks = visitors(site_ids, start, end), drinks_served(site_ids, start, end)
    return {sid: drinks[sid] / people[sid] for sid in site_ids if people[sid]}


def register_figures():
    visits_drill = (
        "visit.index_view",
        {"flt0_site_equals": "{site_id}", "flt1_arrived_between": PERIOD_DRILL},
    )
    m.register_metric(
        "visitors",
        _l("Visitors"),
        _l("people"),
        visitors,
        better="higher",
        drill=visits_drill,
        order=10,
    )
    m.register_metric(
        "drinks_per_visitor",
        _l("Drinks per visitor"),
        _l("drinks"),
        drinks_per_visitor,
        better=None,
        drill=visits_drill,
        order=20,
        decimals=2,
    )


# ------------------------------------------------------------ month-end section


def visits_section(site_id, start, end):
    """Visits and visitors per local day, summed by ISO week (a month fits on one page)."""
    zone = m.zone_of(site_id)
    lo, hi = clock.period_bounds(start, end, zone)
    stmt = select(Visit.arrived_at, Visit.adults + Visit.children).where(
        Visit.site_id == site_id,
        Visit.arrived_at >= lo,
        Visit.arrived_at < hi,
        Visit.deleted_at.is_(None),
    )
    weeks = {}
    for arrived_at, people in db.session.execute(stmt):
        day = arrived_at.astimezone(zone).date()
        week = weeks.setdefault(day.isocalendar()[1], [day, day, 0, 0])
        week[0], week[1] = min(week[0], day), max(week[1], day)
        week[2] += 1
        week[3] += people
    rows = [
        [f"{a:%m-%d} – {b:%m-%d}", n, people]
        for a, b, n, people in (weeks[k] for k in sorted(weeks))
    ]
    return {"headers": [_("Days"), _("Visits"), _("Visitors")], "rows": rows}
