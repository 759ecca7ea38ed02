"""Handover figures: entries signed on time, and the month-end handover section."""

from datetime import timedelta

from flask_babel import gettext as _
from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db
from portal.models import HandoverEntry
from portal.services import metrics as m


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


def register_figures():
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


# ------------------------------------------------------------ month-end section


def handover_section(site_id, start, end):
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
