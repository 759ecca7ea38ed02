"""Handover figures: entries signed on time, and the month-end handover section."""

from datetime import timedelta

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models.base import among
from portal.models import HandoverEntry
from portal.services import metrics as m
from portal.services.period_facts import existed_at
from portal.services.scope import including_deleted


SIGN_WITHIN = timedelta(hours=12)


def entries(site_ids, start, end, alive_at=None):
    """{site_id: [(id, written_at, signed_at)]}: the entries written in the period that still
    existed at its end (at ``alive_at``, if given)."""

    def one_zone(ids, lo, hi):
        stmt = (
            select(
                HandoverEntry.site_id,
                HandoverEntry.id,
                HandoverEntry.written_at,
                HandoverEntry.signed_at,
            )
            .where(
                among(HandoverEntry.site_id, ids),
                HandoverEntry.written_at >= lo,
                HandoverEntry.written_at < hi,
                existed_at(HandoverEntry, alive_at or hi),
            )
            .order_by(HandoverEntry.written_at, HandoverEntry.id)
        )
        found = {sid: [] for sid in ids}
        for sid, eid, written, signed in db.session.execute(including_deleted(stmt)):
            found[sid].append((eid, written, signed))
        return found

    return m.per_zone(site_ids, start, end, one_zone)


def _on_time(written, signed):
    return signed is not None and signed - written <= SIGN_WITHIN


def _signed_by_day(site_ids, first, last, zone):
    """{(site_id, day): (entries signed in time, entries)} by the local day they were written,
    of the entries that exist now."""
    found = entries(site_ids, first, last, alive_at=clock.now())
    rows = [(sid, written, signed) for sid, ids in found.items() for _i, written, signed in ids]
    return {
        key: (sum(1 for _s, w, s in day_rows if _on_time(w, s)), len(day_rows))
        for key, day_rows in m.by_local_day(
            rows, lambda r: r[0], lambda r: r[1], zone, first, last
        ).items()
    }


def handover_on_time(site_ids, start, end):
    """% of the entries written in the period that the incoming shift signed within 12 h."""
    kept = m.kept_month("handover_on_time", site_ids, start, end, _signed_by_day)
    if kept is None:
        return {
            sid: m.percent(sum(1 for _i, w, s in rows if _on_time(w, s)), len(rows))
            for sid, rows in entries(site_ids, start, end).items()
            if rows
        }
    result = {}
    for ids, _zone, today, past in kept:
        for sid, rows in entries(ids, today, today).items():
            hits = past[sid][0] + sum(1 for _i, w, s in rows if _on_time(w, s))
            total = past[sid][1] + len(rows)
            if total:
                result[sid] = m.percent(hits, total)
    return result


def handover_records(site_id, start, end):
    found = entries([site_id], start, end)[site_id]
    rows = [
        [
            m.local_time(w, site_id),
            m.local_time(s, site_id),
            f"{(s - w).total_seconds() / 3600:.2f}" if s else "–",
            1 if _on_time(w, s) else 0,
        ]
        for _i, w, s in found
    ]
    return m.table(
        [_("Written"), _("Signed"), _("Hours"), _("On time")], rows, [i for i, _w, _s in found]
    )


def register_figures():
    m.register_metric(
        "handover_on_time",
        _l("Handover entries signed within 12 h"),
        "%",
        handover_on_time,
        better="higher",
        order=70,
        short=_l("Handover signed on time"),
        definition=_l(
            "Share of the handover entries written on the site's local days of the period that "
            "the incoming shift signed within 12 hours of writing (exactly 12 hours included); an "
            "entry never signed counts as late."
        ),
        records=handover_records,
    )


# ------------------------------------------------------------ month-end section


def handover_section(site_id, start, end):
    rows = entries([site_id], start, end)[site_id]
    if not rows:
        return None
    signed = sum(1 for _i, _w, s in rows if s is not None)
    on_time = sum(1 for _i, w, s in rows if _on_time(w, s))
    return {
        "headers": [_("Entries written"), _("Signed"), _("Signed within 12 h"), _("Not signed")],
        "rows": [[len(rows), signed, on_time, len(rows) - signed]],
    }
