"""Audit figures: the changes people made (user actions, not database rows), and the month-end
section of those actions by person.

One save writes several audit rows (a visit and its consumption lines, a ticket and its event):
the rows a person wrote within ``ONE_ACTION`` of each other on the same local day are one
action. Rows without a
person (the system's own: scheduled jobs, imports) and logins are not changes made by anyone."""

from datetime import timedelta

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import case, func, select

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, User
from portal.models.audit import CHANGES_ONLY
from portal.models.base import among, epoch_microseconds
from portal.services import metrics as m
from portal.services import day_counts, record_types

ONE_ACTION = timedelta(seconds=1)
# The key its past days are kept under (``portal.services.day_counts``).
FIGURE = "audit_events"


def actions(site_ids, start, end):
    """{site_id: [(first event id, user_id, at, [object types], rows)]}: the period's user
    actions, in time order."""
    stmt = (
        select(
            AuditEvent.site_id,
            AuditEvent.id,
            AuditEvent.user_id,
            AuditEvent.at,
            AuditEvent.object_type,
        )
        .where(
            among(AuditEvent.site_id, site_ids),
            AuditEvent.user_id.is_not(None),
            CHANGES_ONLY,
            m.in_period(AuditEvent.at, AuditEvent.site_id, start, end),
        )
        .order_by(AuditEvent.site_id, AuditEvent.user_id, AuditEvent.at, AuditEvent.id)
    )
    found = {sid: [] for sid in site_ids}
    last = {}
    for sid, eid, uid, at, object_type in db.session.execute(stmt):
        # A change is counted on its site's local day: rows on either side of midnight are two.
        key = (sid, uid, at.astimezone(m.zone_of(sid)).date())
        current = last.get(key)
        if current is not None and at - current[2] <= ONE_ACTION:
            current[3].append(object_type)
            current[4] += 1
            current[2] = at
            continue
        current = [eid, uid, at, [object_type], 1, at]
        last[key] = current
        found[sid].append(current)
    return {
        sid: sorted(
            ((eid, uid, first, types, rows) for eid, uid, _at, types, rows, first in items),
            key=lambda a: (a[2], a[0]),
        )
        for sid, items in found.items()
    }


def _changes(site_ids, start, end):
    """{site_id: changes} of ONE local day (``start == end``), ``actions`` counted by the
    database: a row starts a change when the same person's previous row at the site that day is
    more than ``ONE_ACTION`` before it (or there is none)."""
    site_ids = list(site_ids)
    micros = epoch_microseconds(AuditEvent.at)
    gap = micros - func.lag(micros).over(
        partition_by=(AuditEvent.site_id, AuditEvent.user_id),
        order_by=(AuditEvent.at, AuditEvent.id),
    )
    one_action = ONE_ACTION // timedelta(microseconds=1)
    rows = (
        select(
            AuditEvent.site_id.label("site_id"),
            case((gap.is_(None), 1), (gap > one_action, 1), else_=0).label("starts"),
        )
        .where(
            among(AuditEvent.site_id, site_ids),
            AuditEvent.user_id.is_not(None),
            CHANGES_ONLY,
            m.in_period(AuditEvent.at, AuditEvent.site_id, start, end),
        )
        .subquery()
    )
    stmt = select(rows.c.site_id, func.sum(rows.c.starts)).group_by(rows.c.site_id)
    return m.counts(stmt, site_ids)


def _audit_events(site_ids, start, end):
    """The changes of the period: the days that are over at the sites from ``day_counts`` (the
    trail is insert-only and stamped with the time of writing, so such a day never changes),
    today and later counted now. Changes are counted day by day, so both add up exactly."""
    site_ids = list(site_ids)
    result = dict.fromkeys(site_ids, 0)
    zones = m.site_zones()
    by_zone = {}
    for sid in site_ids:
        by_zone.setdefault(zones.get(sid, clock.DEFAULT_ZONE), []).append(sid)
    for zone, ids in by_zone.items():
        today = clock.local_day(zone)
        past = day_counts.total(
            FIGURE,
            ids,
            start,
            min(end, today - timedelta(days=1)),
            zone,
            lambda wanted, day: _changes(wanted, day, day),
        )
        # Nothing is stamped after today: today is the only day left to count.
        live = _changes(ids, today, today) if start <= today <= end else {}
        for sid in ids:
            result[sid] = past.get(sid, 0) + live.get(sid, 0)
    return result


def _names(found):
    ids = {a[1] for a in found} or {-1}
    return dict(
        db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    )


def _types(types):
    return "、".join(dict.fromkeys(record_types.label(t) for t in types))


def audit_records(site_id, start, end):
    found = actions([site_id], start, end)[site_id]
    names = _names(found)
    rows = [
        [m.local_time(at, site_id), names.get(uid, ""), _types(types), n]
        for _e, uid, at, types, n in found
    ]
    return m.table(
        [_("When"), _("User"), _("Record types"), _("Rows written")], rows, [a[0] for a in found]
    )


def register_figures():
    m.register_metric(
        "audit_events",
        _l("Recorded changes"),
        _l("changes"),
        _audit_events,
        better=None,
        order=910,
        definition=_l(
            "Changes people made at the site in the period: one save is one change, however "
            "many records it wrote (a person's audit rows less than a second apart on the same "
            "day are one change); logins and the system's own rows are left out."
        ),
        records=audit_records,
    )


# ------------------------------------------------------------ month-end section


def changes_section(site_id, start, end):
    """The period's changes by person; they add up to "recorded changes"."""
    found = actions([site_id], start, end)[site_id]
    names = _names(found)
    people = {}
    for _e, uid, *_rest in found:
        people[names.get(uid, "")] = people.get(names.get(uid, ""), 0) + 1
    rows = [[name, n] for name, n in sorted(people.items())]
    return {"headers": [_("User"), _("Changes")], "rows": rows}
