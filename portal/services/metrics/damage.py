"""Damage figures: damage reports filed in the period."""

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import and_

from portal.models import DamageReport
from portal.models.damage import STATUS_LABELS
from portal.services import metrics as m
from portal.services.metrics.repairs import damage_in


def reported_clause(start, end):
    """Damage reports filed in the period (the damage list's period filter; it shows only the
    reports not deleted, like every list)."""
    return and_(
        DamageReport.deleted_at.is_(None),
        m.in_period(DamageReport.created_at, DamageReport.site_id, start, end),
    )


def damage_reports(site_ids, start, end):
    """Damage reports filed in the period, whatever became of them."""
    return {sid: len(rows) for sid, rows in damage_in(site_ids, start, end).items()}


def damage_records(site_id, start, end):
    found = damage_in([site_id], start, end)[site_id]
    rows = [
        [
            m.local_time(r.created_at, site_id),
            r.equipment,
            str(STATUS_LABELS.get(r.status, r.status)),
            f"¥{r.estimated_cost:,.0f}" if r.estimated_cost is not None else "–",
        ]
        for r in found
    ]
    return m.table(
        [_("Reported"), _("Equipment"), _("Status"), _("Estimated cost")],
        rows,
        [r.id for r in found],
    )


def register_figures():
    m.register_metric(
        "damage_reports",
        _l("Damage reports"),
        _l("reports"),
        damage_reports,
        better="lower",
        order=110,
        definition=_l(
            "Damage reports filed on the site's local days of the period, whatever became of "
            "them; one deleted after the period still counts."
        ),
        records=damage_records,
    )
