"""Audit figures: changes recorded."""

from portal.i18n import lazy_gettext as _l
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent
from portal.services import metrics as m


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


register_figures()
