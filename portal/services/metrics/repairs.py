"""Repair figures: tickets open / overdue / hours to resolve, and the month-end "repairs and
damage" section."""

from flask_babel import gettext as _
from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from portal.extensions import db
from portal.models import DamageReport, RepairTicket
from portal.models.damage import STATUS_LABELS as DAMAGE_STATUS
from portal.models.repairs import STATUS_LABELS as REPAIR_STATUS
from portal.services import metrics as m


PERIOD_DRILL = "{start} to {end}"


def _open_at(hi):
    """Reported before ``hi`` and not resolved by then. A reopened ticket has lost its first
    ``resolved_at`` (and got a new due time): the history of a reopened ticket is approximate."""
    return and_(
        RepairTicket.created_at < hi,
        or_(RepairTicket.resolved_at.is_(None), RepairTicket.resolved_at >= hi),
    )


def open_clause(start, end, now=None):
    """Tickets still open at the end of the period (now, for the current period), each site's
    period ending at its local midnight. Shared with the ticket list's filter."""
    now = now or clock.now()
    return and_(
        RepairTicket.deleted_at.is_(None),
        m.local_period(RepairTicket.site_id, start, end, lambda lo, hi: _open_at(min(hi, now))),
    )


def overdue_clause(start, end, now=None):
    """Of those, the ones past their due time then (set by priority when reported)."""
    now = now or clock.now()

    def late(lo, hi):
        hi = min(hi, now)
        return and_(_open_at(hi), RepairTicket.due_at < hi)

    return and_(
        RepairTicket.deleted_at.is_(None), m.local_period(RepairTicket.site_id, start, end, late)
    )


def resolved_clause(start, end):
    """Tickets resolved in the period (what the mean hours to resolve are taken over)."""
    return and_(
        RepairTicket.deleted_at.is_(None),
        m.in_period(RepairTicket.resolved_at, RepairTicket.site_id, start, end),
    )


def tickets_open(site_ids, start, end):
    """Tickets still open at the end of the period (now, for the current period)."""
    stmt = (
        select(RepairTicket.site_id, func.count())
        .where(RepairTicket.site_id.in_(site_ids), open_clause(start, end))
        .group_by(RepairTicket.site_id)
    )
    return m.counts(stmt, site_ids)


def tickets_overdue(site_ids, start, end):
    """Of those, the ones past their due time (set by priority when reported)."""
    stmt = (
        select(RepairTicket.site_id, func.count())
        .where(RepairTicket.site_id.in_(site_ids), overdue_clause(start, end))
        .group_by(RepairTicket.site_id)
    )
    return m.counts(stmt, site_ids)


def hours_to_resolve(site_ids, start, end):
    """Mean hours from reported to resolved, over the tickets resolved in the period."""
    stmt = select(RepairTicket.site_id, RepairTicket.created_at, RepairTicket.resolved_at).where(
        RepairTicket.site_id.in_(site_ids), resolved_clause(start, end)
    )
    return {
        sid: m.average(m.hours_between(a, b) for a, b in rows)
        for sid, rows in m.rows_by_site(stmt).items()
    }


def _tickets(flt):
    """The ticket list (``repairticket``, portal.views.repairs) of one site, filtered by period."""
    return (
        "repairticket.index_view",
        {"flt0_site_equals": "{site_id}", f"flt1_{flt}_between": PERIOD_DRILL},
    )


def register_figures():
    m.register_metric(
        "tickets_open",
        _l("Repair tickets open"),
        _l("tickets"),
        tickets_open,
        better="lower",
        order=100,
        drill=_tickets("open_at_period_end"),
    )
    m.register_metric(
        "tickets_overdue",
        _l("Repair tickets overdue"),
        _l("tickets"),
        tickets_overdue,
        better="lower",
        order=101,
        drill=_tickets("overdue_at_period_end"),
    )
    m.register_metric(
        "hours_to_resolve",
        _l("Hours to resolve a repair"),
        _l("hours"),
        hours_to_resolve,
        better="lower",
        order=102,
        decimals=1,
        drill=_tickets("resolved"),
        short=_l("Repair hours"),
    )


# ------------------------------------------------------------ month-end section


def repairs_damage_section(site_id, start, end):
    zone = m.zone_of(site_id)
    lo, hi = clock.period_bounds(start, end, zone)
    tickets = db.session.execute(
        select(
            RepairTicket.created_at,
            RepairTicket.equipment,
            RepairTicket.status,
            RepairTicket.resolved_at,
        )
        .where(
            RepairTicket.site_id == site_id,
            RepairTicket.created_at >= lo,
            RepairTicket.created_at < hi,
            RepairTicket.deleted_at.is_(None),
        )
        .order_by(RepairTicket.created_at)
    ).all()
    damage = db.session.execute(
        select(
            DamageReport.created_at,
            DamageReport.equipment,
            DamageReport.status,
            DamageReport.estimated_cost,
        )
        .where(
            DamageReport.site_id == site_id,
            DamageReport.created_at >= lo,
            DamageReport.created_at < hi,
            DamageReport.deleted_at.is_(None),
        )
        .order_by(DamageReport.created_at)
    ).all()

    def day(at):
        return f"{at.astimezone(zone):%m-%d}"

    rows = [
        [
            day(at),
            _("Repair"),
            equipment,
            str(REPAIR_STATUS.get(status, status)),
            f"{m.hours_between(at, resolved):.1f}" if resolved else "–",
        ]
        for at, equipment, status, resolved in tickets
    ]
    rows += [
        [
            day(at),
            _("Damage"),
            equipment,
            str(DAMAGE_STATUS.get(status, status)),
            f"¥{cost:,.0f}" if cost is not None else "–",
        ]
        for at, equipment, status, cost in damage
    ]
    return {
        "headers": [_("Day"), _("Kind"), _("Equipment"), _("Status"), _("Hours to resolve / cost")],
        "rows": rows,
    }
