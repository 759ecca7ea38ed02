"""Grooming figures: the mean inspection score, and the month-end grooming section."""

from flask_babel import gettext as _
from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import GroomingInspection, StaffMember
from portal.services import metrics as m


def grooming_score(site_ids, start, end):
    """Mean score (0–100) of the grooming inspections of the period."""
    stmt = (
        select(GroomingInspection.site_id, func.avg(GroomingInspection.score))
        .where(
            GroomingInspection.site_id.in_(site_ids),
            m.in_period(GroomingInspection.inspected_at, GroomingInspection.site_id, start, end),
        )
        .group_by(GroomingInspection.site_id)
    )
    return {sid: float(avg) for sid, avg in db.session.execute(stmt) if avg is not None}


def register_figures():
    m.register_metric(
        "grooming_score",
        _l("Grooming score"),
        _l("points"),
        grooming_score,
        better="higher",
        order=90,
        decimals=1,
        drill=("grooming.index", {"site": "{site_id}", "start": "{start}", "end": "{end}"}),
    )


# ------------------------------------------------------------ month-end section


def grooming_section(site_id, start, end):
    lo, hi = clock.period_bounds(start, end, m.zone_of(site_id))
    stmt = (
        select(
            StaffMember.name,
            func.count(),
            func.avg(GroomingInspection.score),
            func.min(GroomingInspection.score),
        )
        .join(StaffMember, StaffMember.id == GroomingInspection.staff_member_id)
        .where(
            GroomingInspection.site_id == site_id,
            GroomingInspection.inspected_at >= lo,
            GroomingInspection.inspected_at < hi,
        )
        .group_by(StaffMember.name)
        .order_by(StaffMember.name)
    )
    rows = [[name, n, f"{float(avg):.1f}", low] for name, n, avg, low in db.session.execute(stmt)]
    return {
        "headers": [_("Full name"), _("Inspections"), _("Average score"), _("Lowest score")],
        "rows": rows,
    }
