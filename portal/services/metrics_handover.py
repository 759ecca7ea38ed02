"""Handover, cleaning and grooming: handover entries signed on time, cleaning issues open /
overdue / hours to fix, grooming score, and their month-end sections.
Imported by ``portal.views.handover.register``."""

from datetime import timedelta

from flask_babel import gettext as _
from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from portal.extensions import db
from portal.models import (
    CleaningArea,
    CleaningIssue,
    GroomingInspection,
    HandoverEntry,
    StaffMember,
)
from portal.services import metrics as m
from portal.services.report_data import register_section

SIGN_WITHIN = timedelta(hours=12)
PERIOD_DRILL = "{start} to {end}"


def handover_on_time(site_ids, start, end):
    """% of the entries written in the period that the incoming shift signed within 12 h."""
    stmt = select(HandoverEntry.site_id, HandoverEntry.written_at, HandoverEntry.signed_at).where(
        HandoverEntry.site_id.in_(site_ids),
        m.in_period(HandoverEntry.written_at, HandoverEntry.site_id, start, end),
        HandoverEntry.deleted_at.is_(None),
    )
    return {
        sid: m.percent(sum(1 for w, s in rows if s is not None and s - w <= SIGN_WITHIN), len(rows))
        for sid, rows in m.rows_by_site(stmt).items()
    }


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


def register_metrics():
    raised = {"flt0_site_equals": "{site_id}", "flt1_raised_between": PERIOD_DRILL}
    m.register_metric(
        "handover_on_time",
        _l("Handover entries signed within 12 h"),
        "%",
        handover_on_time,
        better="higher",
        order=70,
        short=_l("Handover signed on time"),
        drill=(
            "handover_entry.index_view",
            {"flt0_site_equals": "{site_id}", "flt1_written_between": PERIOD_DRILL},
        ),
    )
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


# ------------------------------------------------------------ month-end sections


def _handover(site_id, start, end):
    lo, hi = clock.period_bounds(start, end, m.zone_of(site_id))
    stmt = select(HandoverEntry.written_at, HandoverEntry.signed_at).where(
        HandoverEntry.site_id == site_id,
        HandoverEntry.written_at >= lo,
        HandoverEntry.written_at < hi,
        HandoverEntry.deleted_at.is_(None),
    )
    rows = db.session.execute(stmt).all()
    if not rows:
        return None
    signed = sum(1 for _w, s in rows if s is not None)
    on_time = sum(1 for w, s in rows if s is not None and s - w <= SIGN_WITHIN)
    return {
        "headers": [_("Entries written"), _("Signed"), _("Signed within 12 h"), _("Not signed")],
        "rows": [[len(rows), signed, on_time, len(rows) - signed]],
    }


def _cleaning(site_id, start, end):
    from portal.views.cleaning import STATUS_LABELS

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


def _grooming(site_id, start, end):
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


register_metrics()
register_section("handover", _l("Handover completeness"), _handover, order=70)
register_section("cleaning", _l("Cleaning issues"), _cleaning, order=60)
register_section("grooming", _l("Grooming inspections"), _grooming, order=80)
