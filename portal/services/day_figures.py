"""A running month's figures kept per site and local day (``DayFigure``), valid until a change.

The figures that add up over days (checklists on time, handover entries signed in time, visitors
and drinks, hours to fix and to resolve) read the days of the running month that are over from
here and compute only today: a month-end dashboard over 200 sites no longer reads a month of
every site's records on each view.

Unlike ``day_counts`` these days can still change (a handover entry signed the next morning, a
visit deleted a week later, a ticket reopened). So every change is noted where it happens:

* **Writers** raise the generation of each site day their change is dated on (``DayChange``), in
  their own transaction as it commits (``note_pending``, from ``period_close``'s flush listener,
  which already knows each record's dates before and after the change). A record without dates
  of its own (a product) raises the site's ``SITE_WIDE`` row: any of its days may move.
* **Readers** keep a day with its *stamp*, the day's and the site's generations added up, read
  before counting. A kept day counts only while its stamp is still the sum of the current
  generations; a write that lands while a reader counts moves them, so that reader's value is
  ignored and counted again on the next view, never trusted.

Generations only grow (every write adds one), so a stamp never comes back to an older sum. Rows
go in with ``INSERT … ON CONFLICT``, so every worker and server reads and writes the same rows:
nothing is kept per process.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta

from sqlalchemy import and_, event, func, or_, select
from sqlalchemy.orm import Session, aliased

from portal.extensions import db
from portal.models import DayChange, DayFigure
from portal.models.base import among

# The ``DayChange`` row of a change that may touch any day of its site.
SITE_WIDE = date(1970, 1, 1)
# Records without dates of their own whose change can move any kept day of their site: a product
# turned from a drink into something else changes every day's drinks.
SITE_WIDE_MODELS = frozenset({"Product"})
# Set on a session once its transaction has noted changes: it must not keep figures counted from
# its own uncommitted rows (another connection writes them, and the changes may still roll back).
_NOTED = "day_figures_noted"
# The site days the session's transaction changed, raised when it commits.
_PENDING = "day_figures_pending"
# Inside ``sums_read_once`` (a page or a report): the kept sums of every figure, read in one
# statement per sites, days and zone the first time one figure asks. A month-end dashboard on
# PostgreSQL read them in 14 statements of 8–10 ms each, as one statement per zone in 37 ms.
_SUMS: ContextVar = ContextVar("day_figure_sums", default=None)


def span(site_id, days, action, today):
    """[(site_id, day)]: the site days a change to a record dated on ``days`` (its dates before
    and after the change) may move: from its first date to its last and the day after (a visit
    at 23:30 has its drink served at 00:10); a deletion or a restore moves every day up to today
    (a ticket's first resolution in a month lies somewhere between its dates)."""
    first, last = min(days), max(days)
    if action in ("delete", "restore"):
        last = max(last, today)
    return [(site_id, first + timedelta(days=n)) for n in range((last - first).days + 2)]


def note_pending(session, days, sites=()):
    """Note that the session's transaction changed the site days ``days`` ([(site_id, day)])
    and every day of ``sites``; their generations are raised when it commits."""
    pending = session.info.setdefault(_PENDING, set())
    pending.update(days)
    pending.update((sid, SITE_WIDE) for sid in sites)
    session.info[_NOTED] = True


@event.listens_for(Session, "before_commit")
def _raise_generations(session):
    # Raised at commit, all in one statement in (site, day) order: two writers then lock the
    # same rows in the same order (no deadlock), and hold them only while committing.
    session.flush()  # the changes still in the session note their days now
    pending = session.info.pop(_PENDING, None)
    if pending:
        note_changes(session.connection(), pending)


def note_changes(conn, days):
    """Raise the generation of each (site_id, day) of ``days`` in ``conn``'s transaction."""
    from portal.services.period_close import insert_into

    rows = [{"site_id": sid, "day": day, "generation": 1} for sid, day in sorted(set(days))]
    if not rows:
        return
    table = DayChange.__table__
    stmt = insert_into(conn, table)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["site_id", "day"],
            set_={"generation": table.c.generation + 1},
        ),
        rows,
    )


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_over(session):
    session.info.pop(_NOTED, None)
    session.info.pop(_PENDING, None)


def _stamps(site_ids, first, last):
    """{(site_id, day): stamp} of the days ``first..last`` (0 for a day never changed)."""
    day_gen, site_gen = {}, {}
    rows = db.session.execute(
        select(DayChange.site_id, DayChange.day, DayChange.generation).where(
            among(DayChange.site_id, site_ids),
            or_(
                and_(DayChange.day >= first, DayChange.day <= last),
                DayChange.day == SITE_WIDE,
            ),
        )
    )
    for sid, day, generation in rows:
        if day == SITE_WIDE:
            site_gen[sid] = generation
        else:
            day_gen[(sid, day)] = generation
    span = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return {
        (sid, day): day_gen.get((sid, day), 0) + site_gen.get(sid, 0)
        for sid in site_ids
        for day in span
    }


def _still_valid(stmt, figure, site_ids, first, last, zone_name):
    """``stmt`` (a select from ``DayFigure``) limited to the kept days of ``first..last`` whose
    stamp still holds: joined to the day's and the site's ``DayChange``. ``figure``: one figure's
    days, or None for every figure's."""
    day_change, site_change = aliased(DayChange), aliased(DayChange)
    current = func.coalesce(day_change.generation, 0) + func.coalesce(site_change.generation, 0)
    on_day = and_(day_change.site_id == DayFigure.site_id, day_change.day == DayFigure.day)
    on_site = and_(site_change.site_id == DayFigure.site_id, site_change.day == SITE_WIDE)
    valid = (
        stmt.outerjoin(day_change, on_day)
        .outerjoin(site_change, on_site)
        .where(
            DayFigure.zone == zone_name,
            among(DayFigure.site_id, site_ids),
            DayFigure.day >= first,
            DayFigure.day <= last,
            DayFigure.stamp == current,
        )
    )
    return valid if figure is None else valid.where(DayFigure.figure == figure)


def totals(figure, site_ids, first, last, zone, count, days=None):
    """{site_id: (value, count)} added up over the local days ``first..last`` of ``zone``, all
    over at the sites asked: kept days read back, the others counted and kept.

    ``count(site_ids, first, last) -> {(site_id, day): (value, count)}`` counts days from the
    records as a running month sees them (records deleted since do not count); a day it leaves
    out is (0, 0). ``days``: {site_id: [day]} when a site adds up only some of the days (a
    daily duty counts the days the site worked); the others add up all of them.

    The sites whose every day is kept and valid are added up by the database (one query); only
    the others read their days one by one."""
    # A site with no day to add up (still in set-up) needs nothing kept.
    asked = list(site_ids)
    result = {sid: (0, 0) for sid in asked if days is not None and not days[sid]}
    site_ids = [sid for sid in asked if sid not in result]
    if not site_ids or last < first:
        return result | dict.fromkeys(site_ids, (0, 0))
    span = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    # Read for every site asked: the figures of one page ask for the same sites, days and zone.
    sums = _kept_sums(figure, asked, first, last, zone.key)
    for sid in site_ids:
        kept_days, value, n = sums.get(sid, (0, 0, 0))
        if kept_days == len(span) and (days is None or len(days[sid]) == len(span)):
            result[sid] = (int(value or 0), int(n or 0))
    rest = [sid for sid in site_ids if sid not in result]
    if not rest:
        return result
    kept = {
        (sid, day): (value, n)
        for sid, day, value, n in db.session.execute(
            _still_valid(
                select(DayFigure.site_id, DayFigure.day, DayFigure.value, DayFigure.count),
                figure,
                rest,
                first,
                last,
                zone.key,
            )
        )
    }
    missing = [(sid, day) for sid in rest for day in span if (sid, day) not in kept]
    if missing:
        kept.update(_count_and_keep(figure, missing, zone, count))
    for sid in rest:
        wanted = span if days is None else days[sid]
        pairs = [kept[(sid, day)] for day in wanted if first <= day <= last]
        result[sid] = (sum(p[0] for p in pairs), sum(p[1] for p in pairs))
    return result


@contextmanager
def sums_read_once():
    """Read the kept sums of every figure at once inside (see ``_SUMS``)."""
    if _SUMS.get() is not None:
        yield
        return
    token = _SUMS.set({})
    try:
        yield
    finally:
        _SUMS.reset(token)


def _kept_sums(figure, site_ids, first, last, zone_name):
    """{site_id: (kept days, value, count)}: ``figure``'s kept days of ``first..last`` whose stamp
    still holds, added up per site (inside ``sums_read_once``: from one read of every figure)."""
    cached = _SUMS.get()
    if cached is None:
        return _read_sums(figure, site_ids, first, last, zone_name).get(figure, {})
    key = (tuple(site_ids), first, last, zone_name)
    if key not in cached:
        cached[key] = _read_sums(None, site_ids, first, last, zone_name)
    return cached[key].get(figure, {})


def _read_sums(figure, site_ids, first, last, zone_name):
    """{figure: {site_id: (kept days, value, count)}} of ``figure`` (None: every figure)."""
    stmt = select(
        DayFigure.figure,
        DayFigure.site_id,
        func.count(),
        func.sum(DayFigure.value),
        func.sum(DayFigure.count),
    )
    stmt = _still_valid(stmt, figure, site_ids, first, last, zone_name)
    found = {}
    for name, sid, kept_days, value, n in db.session.execute(
        stmt.group_by(DayFigure.figure, DayFigure.site_id)
    ):
        found.setdefault(name, {})[sid] = (kept_days, value, n)
    return found


def _count_and_keep(figure, missing, zone, count):
    """{(site_id, day): (value, count)} of the ``missing`` days, counted and kept."""
    from portal.services import period_close

    sites = sorted({sid for sid, _day in missing})
    lo, hi = min(day for _sid, day in missing), max(day for _sid, day in missing)
    # The stamps are read before counting: a change that commits in between moves them.
    stamps = _stamps(sites, lo, hi)
    counted = count(sites, lo, hi)
    found, rows = {}, []
    for sid, day in missing:
        value, n = found[(sid, day)] = counted.get((sid, day), (0, 0))
        rows.append(
            {
                "site_id": sid,
                "figure": figure,
                "zone": zone.key,
                "day": day,
                "stamp": stamps[(sid, day)],
                "value": value,
                "count": n,
            }
        )
    if period_close.may_write() and not db.session.info.get(_NOTED):
        _keep(rows)
    return found


def _keep(rows):
    from portal.services import period_close

    table = DayFigure.__table__
    with period_close.writer() as conn:
        stmt = period_close.insert_into(conn, table)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["site_id", "figure", "zone", "day"],
                set_={
                    "stamp": stmt.excluded.stamp,
                    "value": stmt.excluded.value,
                    "count": stmt.excluded.count,
                },
            ),
            rows,
        )
