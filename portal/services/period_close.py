"""Month close: a site's figures computed once when its month is over, stored, and read from
there (``portal.models.periods``).

**When a month is over.** At the site's own local midnight after the month's last day
(``Site.timezone`` through ``metrics.zone_of``). Before that, its figures are computed live.

**When it is closed.** By ``flask figures close [--month YYYY-MM]`` (every site whose month is
over), or on first need: ``metrics.collect`` asking for a calendar month that is over for a site
not closed yet closes it then (``stored_figures``). Closing is idempotent and safe with several
closers at once: rows go in with ``INSERT … ON CONFLICT DO NOTHING`` against the unique
constraints (site, period) and (site, period, figure), so the first closer's figures stand and the
others read them back. A figure registered after a month was closed is added the same way the
first time it is asked for.

**From which data.** Each close remembers the site's newest audit event id at the time; and the
month-end PDF's data (``report_data.site_month``, in the report language) is stored with the
close when the PDF is first needed, so the PDF of a closed month is the same file whenever it is
produced.

**Corrections.** A flush listener (``_note_amendments``) notices a site-scoped row created,
changed or deleted whose *period dates* fall in a closed month of its site, and writes a
``PeriodAmendment``; the stored figures do not move. ``reclose`` (head office, or the site's
supervisor) computes the month again, stores it, settles the amendments and is audited.

Period dates of a row (``PERIOD_DATES``): the model's business dates (a visit's arrival, a
ticket's creation, resolution and closing, a checklist run's day…), both before and after the
change; a child row without dates of its own takes its parent's. A model not listed uses every
date and time column it has except ``updated_at`` and ``deleted_at``. Records that describe a
site rather than happen in a month (items, products, areas, people) have none: changing them
amends nothing.
"""

import json
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, and_, event, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal import clock
from portal.extensions import db
from portal.models.base import SiteScopedMixin, UTCDateTime, among, current_actor_id
from portal.services import day_figures
from portal.errors import DomainError
from portal.i18n import lazy_gettext as _l
from portal.models import Site
from portal.models.periods import PeriodAmendment, PeriodClose, PeriodFigure
from portal.services import audit
from portal.services import sites as site_life

# What changes the figures of a month, per model: attribute names, or "relationship.attribute"
# for a child row dated by its parent. () : never part of a month's figures.
PERIOD_DATES = {
    "Visit": ("arrived_at",),
    "ChecklistRun": ("day",),
    "ChecklistAnswer": ("run.day",),
    "ChecklistFollowUp": ("run.day", "created_at"),
    "ItemCheck": ("day",),
    "ItemCheckLine": ("day", "dealt_at"),
    "StockMovement": ("day",),
    "ConsumptionLine": ("movement.day",),
    "DailyTally": ("day",),
    "DailyTallyLine": ("tally.day",),
    "RepairTicket": ("created_at", "resolved_at", "closed_at"),
    "RepairEvent": ("at",),
    "DamageReport": ("visit_at", "created_at", "reviewed_at"),
    "HandoverEntry": ("written_at", "signed_at"),
    "HandoverItem": ("created_at", "carried_at", "closed_at"),
    "HandoverComment": ("created_at",),
    "CleaningInspection": ("inspected_at",),
    "CleaningResult": ("inspection.inspected_at",),
    "CleaningIssue": ("created_at", "fixed_at", "verified_at"),
    "GroomingInspection": ("inspected_at",),
    "GroomingResult": ("inspection.inspected_at",),
    "BreakLog": ("started_at",),
    "KeyLoan": ("out_day", "returned_day"),
    "Shift": ("starts_at",),
    "Photo": ("created_at",),
    # What a site has, not what happened in a month.
    "Item": (),
    "Product": (),
    "StockBalance": (),
    "CleaningArea": (),
    "ShowUnit": (),
    "StaffMember": (),
    "KeyItem": (),
}
_NEVER_DATES = {"updated_at", "deleted_at"}
_OWN_MODELS = (PeriodClose, PeriodFigure, PeriodAmendment)

# Set while a close or re-close writes through the session's own transaction: a figure of another
# month it needs is then closed in that same transaction (SQLite has one writer at a time).
_IN_CLOSE: ContextVar = ContextVar("period_close_in_close", default=False)


def period_of(first_day):
    return f"{first_day:%Y-%m}"


def first_day_of(period):
    year, month = period.split("-")
    return date(int(year), int(month), 1)


def month_over(site_id, first_day, now=None):
    """The site's month ``first_day`` is over: its local midnight after the last day has passed."""
    from portal.services import metrics as m  # metrics reads closed months from here

    end = clock.day_bounds(m.month_end(first_day), m.zone_of(site_id))[1]
    return (now or clock.now()) >= end


def months_over(site_ids, first_day, now=None):
    """Of ``site_ids``, those whose month ``first_day`` is over (``month_over``), its end
    worked out once per time zone rather than once per site."""
    from portal.services import metrics as m  # metrics reads closed months from here

    now = now or clock.now()
    ends = {}
    over = []
    for sid in site_ids:
        zone = m.zone_of(sid)
        if zone not in ends:
            ends[zone] = clock.day_bounds(m.month_end(first_day), zone)[1]
        if now >= ends[zone]:
            over.append(sid)
    return over


def is_month(start, end):
    from portal.services import metrics as m  # metrics reads closed months from here

    return start.day == 1 and end == m.month_end(start)


# ------------------------------------------------------------------ values


def _exact(value):
    """The value a provider returned, as the database stores it without loss."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return Decimal(value)
    # The shortest decimal that reads back as the same float.
    return Decimal(repr(float(value)))


def _plain(value):
    """A stored value as the dashboard uses it: int when whole, float otherwise."""
    if value is None:
        return None
    value = float(value)
    return int(value) if value.is_integer() else value


def insert_into(conn, table):
    """An INSERT on ``conn``'s dialect, with its ``on_conflict_do_nothing``."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


# ------------------------------------------------------------------ reading and closing


def stored_figures(site_ids, first_day, metrics):
    """{site_id: {figure key: value}} of the sites whose month ``first_day`` is over, closing on
    first need the sites not closed yet (and adding figures registered since a close). Sites
    whose month still runs are left out: their figures are computed live."""
    period = period_of(first_day)
    over = months_over(site_ids, first_day)
    if not over:
        return {}
    keys = {metric.key for metric in metrics}
    found = _read(over, period, keys)
    missing = {sid: keys - set(found.get(sid, {})) for sid in over}
    missing = {sid: wanted for sid, wanted in missing.items() if wanted}
    if missing:
        if not may_write():
            return {sid: found[sid] for sid in over if sid not in missing}
        _close(missing, first_day, metrics)
        found = _read(over, period, keys)
    return found


def _read(site_ids, period, keys):
    """{site_id: {key: value}} of closed sites (one query); a closed site with no figure yet maps
    to {}."""
    rows = db.session.execute(
        select(PeriodClose.site_id, PeriodFigure.figure, PeriodFigure.value)
        .outerjoin(
            PeriodFigure,
            and_(
                PeriodFigure.site_id == PeriodClose.site_id,
                PeriodFigure.period == period,
                PeriodFigure.figure.in_(sorted(keys)),
            ),
        )
        .where(among(PeriodClose.site_id, site_ids), PeriodClose.period == period)
    )
    found = {}
    for site_id, key, value in rows:
        figures = found.setdefault(site_id, {})
        if key is not None:
            figures[key] = _plain(value)
    return found


def may_write():
    """Closing on first need writes: never in the middle of someone's unflushed changes."""
    session = db.session
    return not (session.new or session.dirty or session.deleted)


def _close(missing, first_day, metrics, user_id=None):
    """Compute and store ``missing`` ({site_id: figure keys}); the rows a concurrent closer
    stored first are kept. Writes in the session's transaction inside a (re-)close, else in a
    transaction of its own, committed here (the caller may be a page that only reads)."""
    from portal.services import metrics as m  # metrics reads closed months from here

    period, now = period_of(first_day), clock.now()
    end = m.month_end(first_day)
    site_ids = sorted(missing)
    versions = audit.site_versions(site_ids)
    close_rows = [
        {
            "site_id": sid,
            "period": period,
            "closed_at": now,
            "closed_by_id": user_id,
            "source_event_id": versions.get(sid, 0),
            "reclosed": 0,
            "report": None,
        }
        for sid in site_ids
    ]
    figure_rows = []
    for metric in metrics:
        asked = [sid for sid in site_ids if metric.key in missing[sid]]
        if not asked:
            continue
        values = metric.provider(asked, first_day, end)
        figure_rows += [
            {
                "site_id": sid,
                "period": period,
                "figure": metric.key,
                "value": _exact(values.get(sid)),
                "computed_at": now,
                "source_event_id": versions.get(sid, 0),
            }
            for sid in asked
        ]
    with writer() as conn:
        conn.execute(
            insert_into(conn, PeriodClose.__table__).on_conflict_do_nothing(
                index_elements=["site_id", "period"]
            ),
            close_rows,
        )
        if figure_rows:
            conn.execute(
                insert_into(conn, PeriodFigure.__table__).on_conflict_do_nothing(
                    index_elements=["site_id", "period", "figure"]
                ),
                figure_rows,
            )


@contextmanager
def writer():
    """A connection for rows computed while reading: the session's own inside a (re-)close,
    else a transaction of its own, committed at the end (the caller may be a page that only
    reads)."""
    if _IN_CLOSE.get():
        yield db.session.connection()
        return
    with db.engine.begin() as conn:
        yield conn


def close_month(first_day, site_ids=None):
    """``flask figures close``: close ``first_day``'s month of every site that worked in it (or
    those given) whose month is over, with its month-end report data. Returns the site ids closed
    now (those closed before are left as they are)."""
    from portal.services import metrics as m  # metrics reads closed months from here

    last_day = m.month_end(first_day)
    stmt = select(Site.id).where(site_life.worked_between(first_day, last_day)).order_by(Site.id)
    if site_ids is not None:
        stmt = select(Site.id).where(Site.id.in_(list(site_ids))).order_by(Site.id)
    with m.zone_cache():
        ids = months_over(db.session.scalars(stmt), first_day)
        before = set(
            db.session.scalars(
                select(PeriodClose.site_id).where(PeriodClose.period == period_of(first_day))
            )
        )
        stored_figures(ids, first_day, m.all_metrics())
        for sid in ids:
            site_report(sid, first_day)
    return [sid for sid in ids if sid not in before]


# ------------------------------------------------------------------ the month-end report


def _json_ready(data):
    """The report data as stored and read back: what the PDF is built from every time."""

    def default(value):
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        return str(value)

    return json.loads(json.dumps(data, default=default, ensure_ascii=False))


def site_report(site_id, first_day):
    """The month-end report data of a closed month (closing it on first need), or None when the
    site's month still runs or the site is not in scope. Built once, in the report language,
    then read back: the PDF made from it is the same whenever it is made."""
    from flask_babel import force_locale

    from portal.services import report_data  # it reads figures through metrics

    if not month_over(site_id, first_day):
        return None
    period = period_of(first_day)
    close = close_of(site_id, period)
    if close is None:
        from portal.services import metrics as m  # metrics reads closed months from here

        stored_figures([site_id], first_day, m.all_metrics())
        close = close_of(site_id, period)
        if close is None:
            return None
    if close.report is not None:
        return close.report
    with force_locale(report_data.REPORT_LOCALE):
        data = _json_ready(report_data.site_month(site_id, first_day))
    with writer() as conn:
        # The first report stored stands: a concurrent builder's is dropped.
        conn.execute(
            update(PeriodClose.__table__)
            .where(PeriodClose.id == close.id, PeriodClose.report.is_(None))
            .values(report=data)
        )
    db.session.expire(close)
    return close_of(site_id, period).report


def close_of(site_id, period):
    return db.session.scalars(
        select(PeriodClose).where(PeriodClose.site_id == site_id, PeriodClose.period == period)
    ).first()


# ------------------------------------------------------------------ corrections and re-close


def open_amendments(site_ids, first_day):
    """{site_id: [PeriodAmendment, ...]} not settled by a re-close, newest first."""
    rows = db.session.scalars(
        select(PeriodAmendment)
        .where(
            among(PeriodAmendment.site_id, site_ids),
            PeriodAmendment.period == period_of(first_day),
            PeriodAmendment.settled_at.is_(None),
        )
        .order_by(PeriodAmendment.at.desc(), PeriodAmendment.id.desc())
    ).all()
    grouped = {}
    for row in rows:
        grouped.setdefault(row.site_id, []).append(row)
    return grouped


def amended_sites(site_ids, first_day):
    """The sites among ``site_ids`` whose closed month has open amendments: one query."""
    return set(
        db.session.scalars(
            select(PeriodAmendment.site_id)
            .where(
                among(PeriodAmendment.site_id, site_ids),
                PeriodAmendment.period == period_of(first_day),
                PeriodAmendment.settled_at.is_(None),
            )
            .distinct()
        )
    )


def may_reclose(user):
    """Head office, and a supervisor for the sites of his region (the scope decides which)."""
    return user.role in ("admin", "supervisor")


def reclose(site, first_day, user_id=None):
    """Compute the site's closed month again and store it; settle its open amendments; write
    an audit event. In the caller's transaction (the caller commits). Refused (409) while the
    month still runs."""
    from portal.services import metrics as m  # metrics reads closed months from here

    if not month_over(site.id, first_day):
        raise DomainError(_l("This month is not over yet."), status=409)
    period = period_of(first_day)
    token = _IN_CLOSE.set(True)
    try:
        with m.zone_cache():
            metrics = m.all_metrics()
            if close_of(site.id, period) is None:
                stored_figures([site.id], first_day, metrics)
            conn = db.session.connection()
            # Taking the close row's lock first serialises two re-closes of one month.
            conn.execute(
                update(PeriodClose.__table__)
                .where(PeriodClose.site_id == site.id, PeriodClose.period == period)
                .values(reclosed=PeriodClose.__table__.c.reclosed + 1)
            )
            now = clock.now()
            version = audit.site_versions([site.id]).get(site.id, 0)
            end = m.month_end(first_day)
            before = _read([site.id], period, {mt.key for mt in metrics}).get(site.id, {})
            after = {}
            for metric in metrics:
                value = metric.provider([site.id], first_day, end).get(site.id)
                after[metric.key] = value
                stmt = insert_into(conn, PeriodFigure.__table__).values(
                    site_id=site.id,
                    period=period,
                    figure=metric.key,
                    value=_exact(value),
                    computed_at=now,
                    source_event_id=version,
                )
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["site_id", "period", "figure"],
                        set_={
                            "value": stmt.excluded.value,
                            "computed_at": stmt.excluded.computed_at,
                            "source_event_id": stmt.excluded.source_event_id,
                        },
                    )
                )
            conn.execute(
                update(PeriodClose.__table__)
                .where(PeriodClose.site_id == site.id, PeriodClose.period == period)
                .values(closed_at=now, closed_by_id=user_id, source_event_id=version, report=None)
            )
            settled = conn.execute(
                update(PeriodAmendment.__table__)
                .where(
                    PeriodAmendment.site_id == site.id,
                    PeriodAmendment.period == period,
                    PeriodAmendment.settled_at.is_(None),
                )
                .values(settled_at=now)
            ).rowcount
            db.session.expire_all()
            site_report(site.id, first_day)
            changed = {
                key: [before.get(key), _plain(_exact(value))]
                for key, value in after.items()
                if before.get(key) != _plain(_exact(value))
            }
            audit.record(
                "reclose",
                site,
                object_type="PeriodClose",
                summary=f"{site.code} {period}",
                after={"period": period, "amendments": settled, "changed": changed},
            )
    finally:
        _IN_CLOSE.reset(token)
    return changed


# ------------------------------------------------------------------ noticing corrections


def _period_attrs(cls):
    name = cls.__name__
    if name in PERIOD_DATES:
        return PERIOD_DATES[name]
    return tuple(
        col.key
        for col in cls.__mapper__.column_attrs
        if col.key not in _NEVER_DATES and isinstance(col.columns[0].type, (UTCDateTime, Date))
    )


def _value_at(obj, path):
    for part in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part, None)
    return obj


def _might_be_closed(value, now):
    """A cheap first test: could ``value`` fall in a month that is over somewhere? Dates of this
    month after its first day never can, whatever the site's time zone (China's are at most a few
    hours behind Beijing)."""
    day = value.astimezone(clock.DEFAULT_ZONE).date() if isinstance(value, datetime) else value
    today = now.astimezone(clock.DEFAULT_ZONE).date()
    return day <= today.replace(day=1)


@event.listens_for(Session, "before_flush")
def _collect_amendments(session, flush_context, instances):
    # The values before the change are gone after the flush: changed and deleted rows are read
    # now; new rows after the flush, when their defaults (an arrival "now") are filled in.
    pending = session.info.setdefault("period_pending", [])
    with session.no_autoflush:
        for obj in session.dirty:
            if _watched(obj) and session.is_modified(obj):
                state = db.inspect(obj)
                values = _dates(obj)
                for path in _period_attrs(type(obj)):
                    if "." not in path and path in state.attrs:
                        values += list(state.attrs[path].history.deleted)
                sites = {obj.site_id, *state.attrs["site_id"].history.deleted}
                action = "update"
                if hasattr(obj, "deleted_at") and state.attrs["deleted_at"].history.has_changes():
                    action = "delete" if obj.deleted_at else "restore"
                pending.append((obj, action, values, sites))
        for obj in session.deleted:
            if _watched(obj):
                pending.append((obj, "delete", _dates(obj), {obj.site_id}))
    for obj in session.new:
        if _watched(obj):
            pending.append((obj, "create", None, None))


def _watched(obj):
    return isinstance(obj, SiteScopedMixin) and not isinstance(obj, _OWN_MODELS)


def _summary(obj):
    try:
        with db.session.no_autoflush:
            return str(obj)[:255]
    except Exception:  # a label that needs a row the flush just removed: the type and id say it
        return ""


def _dates(obj):
    return [_value_at(obj, path) for path in _period_attrs(type(obj))]


@event.listens_for(Session, "after_flush")
def _note_amendments(session, flush_context):
    pending = session.info.pop("period_pending", [])
    if not pending:
        return
    now = clock.now()
    dated, undated = [], set()  # (site_id, [dates], obj, action); sites of undated records
    for obj, action, values, sites in pending:
        if values is None:
            with session.no_autoflush:
                values, sites = _dates(obj), {obj.site_id}
        values = [v for v in values if isinstance(v, (date, datetime))]
        for site_id in sites - {None}:
            if values:
                dated.append((site_id, values, obj, action))
            elif type(obj).__name__ in day_figures.SITE_WIDE_MODELS:
                undated.add(site_id)
    conn = session.connection()
    zones = _zones(conn, {site_id for site_id, *_rest in dated})
    changed_days = []
    keyed = {}
    for site_id, values, obj, action in dated:
        days = [
            clock.local_day(zones.get(site_id), at=v) if isinstance(v, datetime) else v
            for v in values
        ]
        today = clock.local_day(zones.get(site_id), now)
        changed_days += day_figures.span(site_id, days, action, today)
        for value, day in zip(values, days, strict=True):
            if _might_be_closed(value, now):
                keyed.setdefault((site_id, f"{day:%Y-%m}"), {})[id(obj)] = (obj, action)
    day_figures.note_pending(session, changed_days, undated)
    if keyed:
        _note_closed(conn, keyed, now)


def _zones(conn, sites):
    if not sites:
        return {}
    return {
        sid: clock.zone(name)
        for sid, name in conn.execute(
            select(Site.__table__.c.id, Site.__table__.c.timezone).where(
                Site.__table__.c.id.in_(sites)
            )
        )
    }


def _note_closed(conn, keyed, now):
    """An amendment row for each change to a month that is closed at its site."""
    table = PeriodClose.__table__
    closed = set(
        conn.execute(
            select(table.c.site_id, table.c.period).where(
                or_(*(and_(table.c.site_id == s, table.c.period == p) for s, p in keyed))
            )
        ).all()
    )
    rows = []
    for (site_id, period), objs in sorted(keyed.items()):
        if (site_id, period) not in closed:
            continue
        for obj, action in objs.values():
            rows.append(
                {
                    "site_id": site_id,
                    "period": period,
                    "object_type": type(obj).__name__,
                    "object_id": getattr(obj, "id", None),
                    "action": action,
                    "summary": _summary(obj),
                    "at": now,
                    "user_id": current_actor_id.get(),
                    "settled_at": None,
                }
            )
    if rows:
        conn.execute(PeriodAmendment.__table__.insert(), rows)


@event.listens_for(Session, "after_rollback")
def _discard(session):
    session.info.pop("period_pending", None)


def close_count(period):
    """How many sites have ``period`` closed (the CLI's summary)."""
    return db.session.scalar(
        select(func.count()).select_from(PeriodClose).where(PeriodClose.period == period)
    )
