"""Damage figures: damage reports filed in the period."""

from portal.i18n import lazy_gettext as _l
from sqlalchemy import and_, func, select

from portal.models import DamageReport
from portal.services import metrics as m


def reported_clause(start, end):
    """Damage reports filed in the period (shared with the damage list's period filter)."""
    return and_(
        DamageReport.deleted_at.is_(None),
        m.in_period(DamageReport.created_at, DamageReport.site_id, start, end),
    )


def damage_reports(site_ids, start, end):
    """Damage reports filed in the period, whatever became of them."""
    stmt = (
        select(DamageReport.site_id, func.count())
        .where(DamageReport.site_id.in_(site_ids), reported_clause(start, end))
        .group_by(DamageReport.site_id)
    )
    return m.counts(stmt, site_ids)


def register_figures():
    m.register_metric(
        "damage_reports",
        _l("Damage reports"),
        _l("reports"),
        damage_reports,
        better="lower",
        order=110,
        drill=(
            "damage.index",
            {"status": "all", "site": "{site_id}", "start": "{start}", "end": "{end}"},
        ),
    )
