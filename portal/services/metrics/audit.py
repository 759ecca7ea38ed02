"""Audit figures: changes recorded, and the month-end section of changes by record type."""

from flask_babel import gettext as _
from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent
from portal.models.audit import ACTION_LABELS
from portal.services import metrics as m
from portal.services import record_types


def _audit_events(site_ids, start, end):
    stmt = (
        select(AuditEvent.site_id, func.count())
        .where(
            AuditEvent.site_id.in_(site_ids),
            m.in_period(AuditEvent.at, AuditEvent.site_id, start, end),
        )
        .group_by(AuditEvent.site_id)
    )
    counts = dict(db.session.execute(stmt).all())
    return {sid: counts.get(sid, 0) for sid in site_ids}


def register_figures():
    m.register_metric(
        "audit_events",
        _l("Recorded changes"),
        _l("changes"),
        _audit_events,
        better=None,
        drill=(
            "audit.index_view",
            {"flt0_site_equals": "{site_id}", "flt1_when_between": "{start} to {end}"},
        ),
        order=910,
    )


# ------------------------------------------------------------ month-end section


def changes_section(site_id, start, end):
    lo, hi = clock.period_bounds(start, end, m.zone_of(site_id))
    stmt = (
        select(AuditEvent.object_type, AuditEvent.action, func.count())
        .where(AuditEvent.site_id == site_id, AuditEvent.at >= lo, AuditEvent.at < hi)
        .group_by(AuditEvent.object_type, AuditEvent.action)
        .order_by(AuditEvent.object_type, AuditEvent.action)
    )
    rows = [
        [record_types.label(object_type), str(ACTION_LABELS.get(action, action)), count]
        for object_type, action, count in db.session.execute(stmt)
    ]
    return {"headers": [_("Record type"), _("Action"), _("Count")], "rows": rows}
