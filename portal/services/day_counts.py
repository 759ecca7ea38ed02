"""Counts of local days that are over, computed once and kept (``DayCount``).

Only for a count that no later change can move: one read from an insert-only table whose rows
are stamped with the time they are written (the audit trail), so once a site's day is over no
row can join it or leave it. A running month's figure then adds up its past days from storage
and counts only today, whatever day of the month it is.

    total(figure, site_ids, first, last, zone, count) -> {site_id: sum over first..last}

``first..last`` are local days of ``zone`` that are all over at the sites asked (the caller
counts today itself); ``count(site_ids, day) -> {site_id: n}`` computes a day not stored yet.
Rows go in with ``INSERT … ON CONFLICT DO NOTHING`` against the unique (site, figure, zone,
day), so several workers or servers counting the same day at once keep one row, all equal.
"""

from datetime import timedelta

from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models.base import among
from portal.models import DayCount
from portal.services import period_close


def _days(first, last):
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def total(figure, site_ids, first, last, zone, count):
    site_ids = list(site_ids)
    if not site_ids or last < first:
        return dict.fromkeys(site_ids, 0)
    zone_name = zone.key
    stored = db.session.execute(
        select(DayCount.site_id, func.count(), func.sum(DayCount.value))
        .where(
            DayCount.figure == figure,
            DayCount.zone == zone_name,
            among(DayCount.site_id, site_ids),
            DayCount.day >= first,
            DayCount.day <= last,
        )
        .group_by(DayCount.site_id)
    ).all()
    days = _days(first, last)
    result = {sid: int(value or 0) for sid, n, value in stored if n == len(days)}
    incomplete = [sid for sid in site_ids if sid not in result]
    if incomplete:
        result.update(_count_and_keep(figure, incomplete, days, zone_name, count))
    return result


def _count_and_keep(figure, site_ids, days, zone_name, count):
    """The sites' totals over ``days``: the days already kept read back, the others counted
    (one ``count`` per day) and kept."""
    kept = {
        (sid, day): value
        for sid, day, value in db.session.execute(
            select(DayCount.site_id, DayCount.day, DayCount.value).where(
                DayCount.figure == figure,
                DayCount.zone == zone_name,
                among(DayCount.site_id, site_ids),
                DayCount.day >= days[0],
                DayCount.day <= days[-1],
            )
        )
    }
    now, rows = clock.now(), []
    for day in days:
        wanted = [sid for sid in site_ids if (sid, day) not in kept]
        if not wanted:
            continue
        counted = count(wanted, day)
        for sid in wanted:
            kept[(sid, day)] = value = int(counted.get(sid) or 0)
            rows.append(
                {
                    "site_id": sid,
                    "figure": figure,
                    "zone": zone_name,
                    "day": day,
                    "value": value,
                    "computed_at": now,
                }
            )
    if rows and period_close.may_write():
        with period_close.writer() as conn:
            conn.execute(
                period_close.insert_into(conn, DayCount.__table__).on_conflict_do_nothing(
                    index_elements=["site_id", "figure", "zone", "day"]
                ),
                rows,
            )
    return {sid: sum(kept[(sid, day)] for day in days) for sid in site_ids}
