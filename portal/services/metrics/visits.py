"""Visit figures: visitors and drinks per visitor, and the month-end visits-by-week section.

Both read the period's facts: a visit counts on the local day it arrived when it still existed
at the period's end (one deleted later still counts); a drink counts on the local day it was
served (its stock movement's day, as the daily tally counts it), whatever became of its
product since (a withdrawn or deleted product's servings stay, under its name)."""

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models.base import among
from portal.models import ConsumptionLine, Product, StockMovement, Visit
from portal.services import metrics as m
from portal.services.period_facts import existed_at
from portal.services.scope import including_deleted

WITHDRAWN = _l("withdrawn")


def _visit_rows(site_ids, lo, hi):
    stmt = (
        select(Visit.site_id, Visit.id, Visit.arrived_at, Visit.adults + Visit.children)
        .where(
            among(Visit.site_id, site_ids),
            Visit.arrived_at >= lo,
            Visit.arrived_at < hi,
            existed_at(Visit, hi),
        )
        .order_by(Visit.arrived_at, Visit.id)
    )
    return db.session.execute(including_deleted(stmt)).all()


def _drink_rows(site_ids, start, end, hi):
    """Drink lines served on the local days ``start..end`` (the movement's day), of visits that
    still existed at the period's end, products withdrawn since included. By arrival, then line.

    Read from the period's stock movements (an index on site and day), and ordered here: asked
    to order by arrival, the database walks every visit ever recorded instead."""
    served = select(StockMovement.id).where(
        among(StockMovement.site_id, site_ids), StockMovement.day >= start, StockMovement.day <= end
    )
    stmt = (
        select(
            ConsumptionLine.site_id,
            ConsumptionLine.visit_id,
            Visit.arrived_at,
            Visit.adults + Visit.children,
            Product.name,
            Product.withdrawn_at.is_not(None) | Product.deleted_at.is_not(None),
            ConsumptionLine.quantity,
            ConsumptionLine.id,
        )
        .join(Visit, Visit.id == ConsumptionLine.visit_id)
        .join(Product, Product.id == ConsumptionLine.product_id)
        .where(
            ConsumptionLine.movement_id.in_(served),
            Product.kind == "drink",
            existed_at(Visit, hi),
        )
    )
    rows = db.session.execute(including_deleted(stmt)).all()
    return sorted(rows, key=lambda row: (row[2], row[7]))


def visit_facts(site_ids, start, end):
    """{site_id: {visit_id: [arrived_at, people counted, drinks counted, [product labels]]}}:
    the visits that arrived in the period (their people count) and those whose drinks were
    served in it (their drinks count; a visit at 23:30 served at 00:10 has its people in one
    month and its drink in the next)."""

    def one_zone(ids, lo, hi):
        found = {sid: {} for sid in ids}
        for sid, vid, arrived, people in _visit_rows(ids, lo, hi):
            found[sid][vid] = [arrived, people, 0, []]
        for sid, vid, arrived, _people, name, withdrawn, qty, _line in _drink_rows(
            ids, start, end, hi
        ):
            row = found[sid].setdefault(vid, [arrived, 0, 0, []])
            row[2] += qty
            label = f"{name}（{WITHDRAWN}）" if withdrawn else name
            row[3].append(f"{label} × {qty}")
        return found

    return m.per_zone(site_ids, start, end, one_zone)


def _people(site_ids, lo, hi):
    """{site_id: people} of the visits that arrived in ``[lo, hi)`` and still existed at ``hi``."""
    stmt = (
        select(Visit.site_id, func.sum(Visit.adults + Visit.children))
        .where(
            among(Visit.site_id, site_ids),
            Visit.arrived_at >= lo,
            Visit.arrived_at < hi,
            existed_at(Visit, hi),
        )
        .group_by(Visit.site_id)
    )
    return dict(db.session.execute(including_deleted(stmt)).all())


def _drinks(site_ids, start, end, hi):
    """{site_id: drinks} served on the local days ``start..end`` (``_drink_rows``, summed)."""
    served = select(StockMovement.id).where(
        among(StockMovement.site_id, site_ids), StockMovement.day >= start, StockMovement.day <= end
    )
    stmt = (
        select(ConsumptionLine.site_id, func.sum(ConsumptionLine.quantity))
        .join(Visit, Visit.id == ConsumptionLine.visit_id)
        .join(Product, Product.id == ConsumptionLine.product_id)
        .where(
            ConsumptionLine.movement_id.in_(served),
            Product.kind == "drink",
            existed_at(Visit, hi),
        )
        .group_by(ConsumptionLine.site_id)
    )
    return dict(db.session.execute(including_deleted(stmt)).all())


def _people_by_day(site_ids, first, last, zone):
    """{(site_id, day): (people, visits)} by the local day they arrived, of the visits that
    exist now."""
    lo, hi = clock.period_bounds(first, last, zone)
    stmt = select(Visit.site_id, Visit.arrived_at, Visit.adults + Visit.children).where(
        among(Visit.site_id, site_ids),
        Visit.arrived_at >= lo,
        Visit.arrived_at < hi,
        existed_at(Visit, clock.now()),
    )
    rows = db.session.execute(including_deleted(stmt)).all()
    return {
        key: (sum(row[2] for row in day_rows), len(day_rows))
        for key, day_rows in m.by_local_day(
            rows, lambda r: r[0], lambda r: r[1], zone, first, last
        ).items()
    }


def _drinks_by_day(site_ids, first, last, zone):
    """{(site_id, day): (drinks, lines)} served on each local day, of the visits that exist now."""
    stmt = (
        select(
            ConsumptionLine.site_id,
            StockMovement.day,
            func.sum(ConsumptionLine.quantity),
            func.count(),
        )
        .join(StockMovement, StockMovement.id == ConsumptionLine.movement_id)
        .join(Visit, Visit.id == ConsumptionLine.visit_id)
        .join(Product, Product.id == ConsumptionLine.product_id)
        .where(
            among(StockMovement.site_id, site_ids),
            StockMovement.day >= first,
            StockMovement.day <= last,
            Product.kind == "drink",
            existed_at(Visit, clock.now()),
        )
        .group_by(ConsumptionLine.site_id, StockMovement.day)
    )
    return {
        (sid, day): (int(drinks or 0), n)
        for sid, day, drinks, n in db.session.execute(including_deleted(stmt))
    }


def _month_totals(figure, count, today_value, site_ids, start, end):
    """{site_id: total} of a running month: its kept days, and today's ``today_value(ids, today,
    lo, hi)`` (``[lo, hi)``: today's bounds); None when ``start..end`` is not one."""
    kept = m.kept_month(figure, site_ids, start, end, count)
    if kept is None:
        return None
    result = {}
    for ids, zone, today, past in kept:
        lo, hi = clock.period_bounds(today, today, zone)
        now = today_value(ids, today, lo, hi)
        for sid in ids:
            result[sid] = past[sid][0] + int(now.get(sid) or 0)
    return result


def visitors(site_ids, start, end):
    """People (adults + children) of the visits that arrived in the period: the sum of
    ``visit_facts``' people, added up by the database."""
    kept = _month_totals("visitors", _people_by_day, _people_today, site_ids, start, end)
    if kept is not None:
        return kept
    found = m.per_zone(site_ids, start, end, _people)
    return {sid: int(found.get(sid) or 0) for sid in site_ids}


def drinks_per_visitor(site_ids, start, end):
    """Drinks served in the period over its visitors (both as ``visit_facts`` counts them)."""
    people = _month_totals("visitors", _people_by_day, _people_today, site_ids, start, end)
    if people is not None:
        drinks = _month_totals("drinks", _drinks_by_day, _drinks_today, site_ids, start, end)
        return {sid: drinks[sid] / people[sid] for sid in site_ids if people[sid]}

    def one_zone(ids, lo, hi):
        people, drinks = _people(ids, lo, hi), _drinks(ids, start, end, hi)
        return {sid: int(drinks.get(sid) or 0) / people[sid] for sid in ids if people.get(sid)}

    return m.per_zone(site_ids, start, end, one_zone)


def _people_today(site_ids, today, lo, hi):
    return _people(site_ids, lo, hi)


def _drinks_today(site_ids, today, lo, hi):
    return _drinks(site_ids, today, today, hi)


def visit_records(site_id, start, end):
    visits = visit_facts([site_id], start, end)[site_id]
    ordered = sorted(visits.items(), key=lambda item: (item[1][0], item[0]))
    rows = [
        [m.local_time(arrived, site_id), people, drinks, "、".join(products) or "–"]
        for _vid, (arrived, people, drinks, products) in ordered
    ]
    return m.table(
        [_("Arrived"), _("Visitors counted"), _("Drinks counted"), _("Drinks served")],
        rows,
        [vid for vid, _row in ordered],
    )


def register_figures():
    m.register_metric(
        "visitors",
        _l("Visitors"),
        _l("people"),
        visitors,
        better="higher",
        order=10,
        definition=_l(
            "People (adults + children) of the visits that arrived on the site's local days of "
            "the period. A visit deleted after the period still counts; one deleted before the "
            "period's end does not."
        ),
        records=visit_records,
    )
    m.register_metric(
        "drinks_per_visitor",
        _l("Drinks per visitor"),
        _l("drinks"),
        drinks_per_visitor,
        better=None,
        order=20,
        decimals=2,
        definition=_l(
            "Drinks served on the site's local days of the period (counted on the day they "
            "were served, as the daily tally counts them, including products withdrawn since) "
            "divided by the visitors of the period."
        ),
        records=visit_records,
    )


# ------------------------------------------------------------ month-end section


def visits_section(site_id, start, end):
    """Visits and visitors per local day, summed by ISO week (a month fits on one page); the
    visitors add up to the key figure."""
    zone = m.zone_of(site_id)
    weeks = {}
    for arrived_at, people, _drinks, _products in visit_facts([site_id], start, end)[
        site_id
    ].values():
        if not people:
            continue  # a visit of the month before whose drink was served in this one
        day = arrived_at.astimezone(zone).date()
        week = weeks.setdefault(day.isocalendar()[1], [day, day, 0, 0])
        week[0], week[1] = min(week[0], day), max(week[1], day)
        week[2] += 1
        week[3] += people
    rows = [
        [f"{a:%m-%d} – {b:%m-%d}", n, people]
        for a, b, n, people in (weeks[k] for k in sorted(weeks, key=lambda k: weeks[k][0]))
    ]
    return {"headers": [_("Days"), _("Visits"), _("Visitors")], "rows": rows}


__all__ = ["visitors", "drinks_per_visitor", "visit_records", "visits_section"]
