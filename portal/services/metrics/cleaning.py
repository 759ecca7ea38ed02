"""Cleaning figures: issues open / overdue / hours to fix, and the month-end cleaning section."""

from flask_babel import gettext as _
from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from portal.extensions import db
from portal.models import CleaningArea, CleaningIssue
from portal.models.cleaning import STATUS_LABELS
from portal.services import metrics as m


PERIOD_DRILL = "{start} to {end}"


def _issues_raised(site_ids, start, end):
    return (
        CleaningIssue.site_id.in_(site_ids),
        m.in_period(CleaningIssue.created_at, CleaningIssue.site_id, start, end),
        CleaningIssue.deleted_at.is_(None),
    )


def overdue_clause(now=None):
    """Fixed after its due time, or still open past it (shared with the list filter)."""
    now = now or clock.now()
    return or_(
        CleaningIssue.fixed_at > CleaningIssue.due_at,
        and_(CleaningIssue.fixed_at.is_(None), CleaningIssue.due_at < now),
    )


def cleaning_open(site_ids, start, end):
    """Issues raised in the period that nobody has fixed yet."""
    stmt = (
        select(CleaningIssue.site_id, func.count())
        .where(*_issues_raised(site_ids, start, end), CleaningIssue.status == "open")
        .group_by(CleaningIssue.site_id)
    )
    return m.counts(stmt, site_ids)


def cleaning_overdue(site_ids, start, end):
    """Issues raised in the period fixed after their due time, or open past it now: an issue
    raised near the end of the period (or reopened later) becomes overdue with no record
    changing, so this figure moves with the clock."""
    stmt = (
        select(CleaningIssue.site_id, func.count())
        .where(*_issues_raised(site_ids, start, end), overdue_clause())
        .group_by(CleaningIssue.site_id)
    )
    return m.counts(stmt, site_ids)


def cleaning_hours_to_fix(site_ids, start, end):
    """Mean hours from raised to fixed, over the issues fixed in the period."""
    stmt = select(CleaningIssue.site_id, CleaningIssue.created_at, CleaningIssue.fixed_at).where(
        CleaningIssue.site_id.in_(site_ids),
        m.in_period(CleaningIssue.fixed_at, CleaningIssue.site_id, start, end),
        CleaningIssue.deleted_at.is_(None),
    )
    return {
        sid: m.average(m.hours_between(a, b) for a, b in rows)
        for sid, rows in m.rows_by_site(stmt).items()
    }


def register_figures():
    raised = {"flt0_site_equals": "{site_id}", "flt1_raised_between": PERIOD_DRILL}
    m.register_metric(
        "cleaning_open",
        _l("Cleaning issues still open"),
        _l("issues"),
        cleaning_open,
        better="lower",
        order=80,
        drill=("cleaning_issue.index_view", {**raised, "flt2_status_equals": "open"}),
    )
    m.register_metric(
        "cleaning_overdue",
        _l("Cleaning issues fixed late or overdue"),
        _l("issues"),
        cleaning_overdue,
        better="lower",
        order=81,
        moves_with_clock=True,
        drill=("cleaning_issue.index_view", {**raised, "flt2_overdue_equals": "1"}),
    )
    m.register_metric(
        "cleaning_hours_to_fix",
        _l("Hours to fix a cleaning issue"),
        _l("hours"),
        cleaning_hours_to_fix,
        better="lower",
        order=82,
        decimals=1,
        short=_l("Cleaning fix hours"),
        drill=(
            "cleaning_issue.index_view",
            {"flt0_site_equals": "{site_id}", "flt1_fixed_between": PERIOD_DRILL},
        ),
    )


# ------------------------------------------------------------ month-end section


def cleaning_section(site_id, start, end):
    lo, hi = clock.period_bounds(start, end, m.zone_of(site_id))
    stmt = (
        select(CleaningArea.name, CleaningIssue.status, func.count())
        .join(CleaningArea, CleaningArea.id == CleaningIssue.area_id)
        .where(
            CleaningIssue.site_id == site_id,
            CleaningIssue.created_at >= lo,
            CleaningIssue.created_at < hi,
            CleaningIssue.deleted_at.is_(None),
        )
        .group_by(CleaningArea.name, CleaningIssue.status)
        .order_by(CleaningArea.name, CleaningIssue.status)
    )
    rows = [
        [area, str(STATUS_LABELS.get(status, status)), n]
        for area, status, n in db.session.execute(stmt)
    ]
    return {"headers": [_("Area"), _("Status"), _("Issues")], "rows": rows}
