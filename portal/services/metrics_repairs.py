"""Repairs and damage: tickets open / overdue / hours to resolve, damage reports, and the
month-end "repairs and damage" section. Imported by ``portal.views.repairs.register``."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from portal.extensions import db
from portal.models import DamageReport, RepairTicket, utcnow
from portal.services import metrics as m
from portal.services.report_data import register_section


def _open_at(site_ids, hi):
    """Tickets reported before ``hi`` and not resolved by then."""
    return (RepairTicket.site_id.in_(site_ids), RepairTicket.created_at < hi, RepairTicket.deleted_at.is_(None),
            or_(RepairTicket.resolved_at.is_(None), RepairTicket.resolved_at >= hi))


def tickets_open(site_ids, start, end):
    """Tickets still open at the end of the period (now, for the current period)."""
    hi = min(m.period_bounds(start, end)[1], utcnow())
    stmt = select(RepairTicket.site_id, func.count()).where(*_open_at(site_ids, hi)).group_by(RepairTicket.site_id)
    return m.counts(stmt, site_ids)


def tickets_overdue(site_ids, start, end):
    """Of those, the ones past their due time (set by priority when reported)."""
    hi = min(m.period_bounds(start, end)[1], utcnow())
    stmt = (select(RepairTicket.site_id, func.count())
            .where(*_open_at(site_ids, hi), RepairTicket.due_at < hi).group_by(RepairTicket.site_id))
    return m.counts(stmt, site_ids)


def hours_to_resolve(site_ids, start, end):
    """Mean hours from reported to resolved, over the tickets resolved in the period."""
    lo, hi = m.period_bounds(start, end)
    stmt = (select(RepairTicket.site_id, RepairTicket.created_at, RepairTicket.resolved_at)
            .where(RepairTicket.site_id.in_(site_ids), RepairTicket.resolved_at >= lo, RepairTicket.resolved_at < hi,
                   RepairTicket.deleted_at.is_(None)))
    return {sid: m.average(m.hours_between(a, b) for a, b in rows) for sid, rows in m.rows_by_site(stmt).items()}


def damage_reports(site_ids, start, end):
    lo, hi = m.period_bounds(start, end)
    stmt = (select(DamageReport.site_id, func.count())
            .where(DamageReport.site_id.in_(site_ids), DamageReport.created_at >= lo, DamageReport.created_at < hi,
                   DamageReport.deleted_at.is_(None))
            .group_by(DamageReport.site_id))
    return m.counts(stmt, site_ids)


def register_metrics():
    m.register_metric("tickets_open", _l("Repair tickets open"), _l("tickets"), tickets_open, better="lower",
                      order=100, drill=("repairs.index", {"site": "{site_id}", "status": "open", "mine": "0"}))
    m.register_metric("tickets_overdue", _l("Repair tickets overdue"), _l("tickets"), tickets_overdue,
                      better="lower", order=101,
                      drill=("repairs.index", {"site": "{site_id}", "status": "overdue", "mine": "0"}))
    m.register_metric("hours_to_resolve", _l("Hours to resolve a repair"), _l("hours"), hours_to_resolve,
                      better="lower", order=102, decimals=1,
                      drill=("repairs.index", {"site": "{site_id}", "status": "resolved", "mine": "0"}))
    m.register_metric("damage_reports", _l("Damage reports"), _l("reports"), damage_reports, better="lower",
                      order=110, drill=("damage.index", {"status": "all"}))


def _repairs_and_damage(site_id, start, end):
    from portal.views.damage import STATUS_LABELS as DAMAGE_STATUS
    from portal.views.repairs import STATUS_LABELS as REPAIR_STATUS

    lo, hi = m.period_bounds(start, end)
    tickets = db.session.execute(
        select(RepairTicket.created_at, RepairTicket.equipment, RepairTicket.status, RepairTicket.resolved_at)
        .where(RepairTicket.site_id == site_id, RepairTicket.created_at >= lo, RepairTicket.created_at < hi,
               RepairTicket.deleted_at.is_(None)).order_by(RepairTicket.created_at)).all()
    damage = db.session.execute(
        select(DamageReport.created_at, DamageReport.equipment, DamageReport.status, DamageReport.estimated_cost)
        .where(DamageReport.site_id == site_id, DamageReport.created_at >= lo, DamageReport.created_at < hi,
               DamageReport.deleted_at.is_(None)).order_by(DamageReport.created_at)).all()

    def day(at):
        return f"{at.astimezone(m.LOCAL_TZ):%m-%d}"

    rows = [[day(at), _("Repair"), equipment, str(REPAIR_STATUS.get(status, status)),
             f"{m.hours_between(at, resolved):.1f}" if resolved else "–"] for at, equipment, status, resolved in tickets]
    rows += [[day(at), _("Damage"), equipment, str(DAMAGE_STATUS.get(status, status)),
              f"¥{cost:,.0f}" if cost is not None else "–"] for at, equipment, status, cost in damage]
    return {"headers": [_("Day"), _("Kind"), _("Equipment"), _("Status"), _("Hours to resolve / cost")],
            "rows": rows}


register_metrics()
register_section("repairs_damage", _l("Repairs and damage"), _repairs_and_damage, order=50)
