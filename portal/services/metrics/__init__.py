"""Metrics for the comparison dashboard and the month-end reports, registered by each domain.

A *metric* is one figure per site over a period (visitors, tally variance, tickets open…).
Each domain's figures live in a module of this package named after the domain
(``metrics/visits.py``, ``metrics/repairs.py``…; the key register keeps its own in
``portal.services.keys``), added with ``register_metric`` by the function its descriptor names
(``figures=`` in ``portal/domains.py``, called by ``portal.views.register_all``); the dashboard,
the PDFs and the CLI only ever see the registry, so a new domain adds columns without touching
them.

A provider is ``fn(site_ids, start, end) -> {site_id: value}``:

* ``site_ids`` — the sites asked for (already limited to the user's scope in a request,
  and the session scope filters every query again anyway);
* ``start``, ``end`` — ``datetime.date``, both inclusive, in local (site) days. Day columns
  (``DailyTally.day``, ``ChecklistRun.day``…) already hold the site's local day; for a timestamp
  column use ``in_period(column, Model.site_id, start, end)`` (or ``local_period`` for other
  comparisons): each site's days are cut at ITS local midnight (``Site.timezone``), still in one
  query — one ``OR`` branch per time zone other than China's, none when every site is on
  Beijing time. Python-side comparisons use ``zone_of(site_id)``;
* it must compute with SQL ``GROUP BY site_id`` (a constant number of queries whatever the
  number of sites — never a Python loop that queries per site); figures that compare two
  timestamps (on time, hours to fix) read ONE narrow query and aggregate with ``rows_by_site``,
  because date arithmetic differs between SQLite and PostgreSQL;
* a site without data may be missing from the dict (shown as "–") or mapped to 0.
* a calendar month that is over at a site is closed: its figures are computed once and stored
  (``portal.services.period_close``); whatever a provider returns for it is what the dashboard,
  the PDFs and the regional comparison show from then on.

``drill`` says where a number leads: ``(endpoint, {url arg: template})`` where templates may
use ``{site_id}``, ``{start}``, ``{end}`` (ISO dates), e.g. ``("audit.index_view",
{"flt0_site_equals": "{site_id}", "flt1_when_between": "{start} to {end}"})``.
The target view is scoped, so the records behind a number are only ever the user's.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from portal import clock
from sqlalchemy import and_, or_, select

from portal.extensions import db
from portal.models.base import among
from portal.services import day_figures, period_close
from portal.models import Site, SiteSpell

# Most sites are on Beijing time; a site with another ``timezone`` (Urumqi…) has its periods cut
# at its own local midnight (see ``local_period``).
# A site is flagged when it is this much worse than its region's average.
DEVIATION_THRESHOLD = 0.20


@dataclass(frozen=True)
class Metric:
    key: str
    label: object
    unit: object
    provider: object
    better: str | None = "higher"  # "higher", "lower" or None (neither: never flagged)
    drill: tuple | None = None
    order: int = 100
    decimals: int = 0
    roles: frozenset = field(default_factory=lambda: frozenset({"admin", "supervisor"}))
    # A short column header where the label is long; the label is then its tooltip.
    short: object = None
    # True when the figure of a period that is over still changes with the clock alone (it
    # compares a due time with "now"). A closed month stores it as it was at the close.
    moves_with_clock: bool = False
    # What the figure counts, in words a supervisor can check it by (shown on the dashboard and
    # in the PDF's appendix); the provider computes exactly this.
    definition: object = None
    # ``fn(site_id, start, end) -> {"headers", "rows", "ids"}``: the records behind one site's
    # figure, with the columns needed to recompute it (the dashboard's drill-down page).
    records: object = None

    @property
    def header(self):
        return self.short or self.label

    def drill_args(self, site_id, start, end):
        """(endpoint, url args) of the records behind this site's figure, or None."""
        if not self.drill:
            return None
        endpoint, template = self.drill
        values = {"site_id": site_id, "start": start.isoformat(), "end": end.isoformat()}
        return endpoint, {name: str(pattern).format(**values) for name, pattern in template.items()}

    def format(self, value):
        if value is None:
            return "–"
        if self.decimals:
            return f"{value:,.{self.decimals}f}"
        return f"{round(value):,}"


_METRICS: dict[str, Metric] = {}
# The page that lists a figure's records (``Metric.records``) for one site and period.
RECORDS_ENDPOINT = "figure_records.index"


def register_metric(
    key,
    label,
    unit,
    provider,
    better="higher",
    drill=None,
    order=100,
    decimals=0,
    short=None,
    moves_with_clock=False,
    definition=None,
    records=None,
):
    """Add (or replace) a metric. ``better``: "higher" / "lower" / None; see the module doc.
    ``short``: a short column header when the label is long (the label becomes its tooltip).
    ``moves_with_clock``: the figure of an ended period can still change without any record
    changing (e.g. "open past its due time" for a due time after the period)."""
    if records is not None and drill is None:
        args = {"metric": key, "site": "{site_id}", "start": "{start}", "end": "{end}"}
        drill = (RECORDS_ENDPOINT, args)
    if better not in ("higher", "lower", None):
        raise ValueError(f"better must be 'higher', 'lower' or None, not {better!r}")
    _METRICS[key] = Metric(
        key,
        label,
        unit,
        provider,
        better,
        drill,
        order,
        decimals,
        short=short,
        moves_with_clock=moves_with_clock,
        definition=definition,
        records=records,
    )


def unregister_metric(key):
    _METRICS.pop(key, None)


def all_metrics():
    return sorted(_METRICS.values(), key=lambda m: (m.order, m.key))


def get_metric(key):
    return _METRICS.get(key)


# ------------------------------------------------------------ each site's local day

_ZONES: ContextVar = ContextVar("metric_site_zones", default=None)
# The sites' working spells read inside ``zone_cache`` ({site_id: [(first, last)]}): the
# standings and the daily duties of one page or report share one query.
_SPELLS: ContextVar = ContextVar("metric_site_spells", default=None)
# The records open at a period's end, read inside ``zone_cache`` once for the two figures made
# of them (open and overdue): {(reader, site ids, period end, now): (open, overdue)}.
_OPEN_STATES: ContextVar = ContextVar("metric_open_states", default=None)
# The kept days of a running month read inside ``zone_cache``, for the figures that share them
# (visitors and drinks per visitor): {(figure, site ids, start, end): kept_month's answer}.
_KEPT: ContextVar = ContextVar("metric_kept_days", default=None)


def _load_zones(sites=None):
    """{site_id: zone} of the sites not on Beijing time: from ``sites`` (Site objects already
    loaded: no query) or from the database."""
    if sites is not None:
        rows = [(site.id, site.timezone) for site in sites]
    else:
        rows = db.session.execute(
            select(Site.id, Site.timezone).where(Site.timezone != clock.DEFAULT_ZONE_NAME)
        ).all()
    return {sid: zone for sid, name in rows if (zone := clock.zone(name)) != clock.DEFAULT_ZONE}


def site_zones():
    """{site_id: ZoneInfo} of the sites NOT on Beijing time (usually none): one small query,
    or none inside ``zone_cache()``. In a request the scope limits it to the user's sites."""
    cached = _ZONES.get()
    return cached if cached is not None else _load_zones()


@contextmanager
def zone_cache(sites=None):
    """Read the sites' time zones once for everything inside (a page, a report, ``collect``).
    ``sites``: the Site objects the figures are about, when the caller has them loaded already
    (then no query; figures of other sites must not be asked for inside)."""
    if _ZONES.get() is not None:
        yield
        return
    token = _ZONES.set(_load_zones(sites))
    spells_token = _SPELLS.set({})
    states_token = _OPEN_STATES.set({})
    kept_token = _KEPT.set({})
    try:
        with day_figures.sums_read_once():
            yield
    finally:
        _KEPT.reset(kept_token)
        _OPEN_STATES.reset(states_token)
        _SPELLS.reset(spells_token)
        _ZONES.reset(token)


def _read_spells(site_ids):
    """{site_id: [(first, last)]}: the spells of ``site_ids``, none before the site's
    ``opened_on`` (the first day it worked, which head office may have moved on the site's
    form after the spell began). One query."""
    if not site_ids:
        return {}
    rows = db.session.execute(
        select(SiteSpell.site_id, SiteSpell.first_day, SiteSpell.last_day, Site.opened_on)
        .join(Site, Site.id == SiteSpell.site_id)
        .where(among(SiteSpell.site_id, site_ids))
        .order_by(SiteSpell.site_id, SiteSpell.first_day, SiteSpell.id)
    ).all()
    result = {sid: [] for sid in site_ids}
    for sid, first, last, opened in rows:
        first = max(first, opened) if opened else first
        if last is None or first <= last:
            result[sid].append((first, last))
    return result


def site_spells(site_ids):
    """The working spells of ``site_ids`` (``_read_spells``): inside ``zone_cache`` read once
    for every caller (one query for the sites not read yet), else one query."""
    site_ids = list(site_ids)
    cached = _SPELLS.get()
    if cached is None:
        return _read_spells(site_ids)
    wanted = [sid for sid in site_ids if sid not in cached]
    if wanted:
        cached.update(_read_spells(wanted))
    return {sid: cached[sid] for sid in site_ids}


def zone_of(site_id):
    return site_zones().get(site_id, clock.DEFAULT_ZONE)


def local_period(site_column, start, end, build):
    """One SQL condition: ``build(lo, hi)`` with each site's own bounds of the local days
    ``start..end``. Sites on Beijing time (and rows without a site) share one branch; every
    other time zone adds ``site_id IN (…) AND build(its lo, its hi)``. So the one-GROUP-BY
    design holds, and a drill-down filter applies exactly the same condition."""
    zones = site_zones()
    lo, hi = clock.period_bounds(start, end)
    if not zones:
        return build(lo, hi)
    by_zone = {}
    for sid, zone in zones.items():
        by_zone.setdefault(zone, []).append(sid)
    branches = [and_(or_(site_column.is_(None), ~among(site_column, zones)), build(lo, hi))]
    for zone, ids in by_zone.items():
        zlo, zhi = clock.period_bounds(start, end, zone)
        branches.append(and_(among(site_column, ids), build(zlo, zhi)))
    return or_(*branches)


def has_ended(end, now=None):
    """The local day ``end`` is over at every site asked about (each at its own midnight;
    inside ``zone_cache`` no query)."""
    zones = {clock.DEFAULT_ZONE, *site_zones().values()}
    last_midnight = max(clock.day_bounds(end, zone)[1] for zone in zones)
    return (now or clock.now()) >= last_midnight


def in_period(column, site_column, start, end):
    """``column`` (an aware timestamp) falls on the local days ``start..end`` of its row's site."""
    return local_period(site_column, start, end, lambda lo, hi: and_(column >= lo, column < hi))


def collect(site_ids, start, end, metrics=None):
    """{metric key: {site_id: value}} — one provider call per metric, whatever the sites.

    A calendar month that is over for a site is *closed*: its figures are read from storage
    (``period_close.stored_figures``, which closes it on first need). Every other period, and a
    month still running at a site, is computed by the providers."""
    site_ids = list(site_ids)
    metrics = list(metrics) if metrics is not None else all_metrics()
    result = {}
    with zone_cache():
        stored = {}
        if site_ids and period_close.is_month(start, end):
            stored = period_close.stored_figures(site_ids, start, metrics)
        live = [sid for sid in site_ids if sid not in stored]
        for metric in metrics:
            values = metric.provider(live, start, end) if live else {}
            for sid, figures in stored.items():
                values[sid] = figures.get(metric.key)
            result[metric.key] = {sid: values.get(sid) for sid in site_ids}
    return result


def average(values):
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def deviation(metric, value, reference):
    """Relative distance to the reference, signed so that > 0 is *worse*; None if not comparable."""
    if metric.better is None or value is None or reference is None:
        return None
    if reference == 0:
        if value == 0:
            return 0.0
        worse = value > 0 if metric.better == "lower" else value < 0
        return 1.0 if worse else -1.0
    diff = (value - reference) / abs(reference)
    return diff if metric.better == "lower" else -diff


def is_flagged(metric, value, reference):
    dev = deviation(metric, value, reference)
    return dev is not None and dev > DEVIATION_THRESHOLD


def ranking(metrics, values, site_ids):
    """Sites ordered best first by their mean rank over every metric that has a direction."""
    ranks = {sid: [] for sid in site_ids}
    for metric in metrics:
        if metric.better is None:
            continue
        present = [(v, sid) for sid, v in values[metric.key].items() if v is not None]
        present.sort(key=lambda pair: pair[0], reverse=metric.better == "higher")
        for (_, sid), position in zip(present, places([v for v, _ in present]), strict=True):
            ranks[sid].append(position)
    scored = [(sum(r) / len(r) if r else float("inf"), sid) for sid, r in ranks.items()]
    return [
        (sid, score if score != float("inf") else None)
        for score, sid in sorted(scored, key=lambda p: (p[0], p[1]))
    ]


def places(ordered):
    """The place of each of ``ordered`` (values best first): equal values share a place and
    the next one skips as many (1, 2, 2, 4), as in a sports table. Scores are rounded as
    they are shown (one decimal), so two sites that read the same are placed the same."""
    out = []
    for i, value in enumerate(ordered):
        same = i and _same(value, ordered[i - 1])
        out.append(out[-1] if same else i + 1)
    return out


def _same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and round(a, 1) == round(b, 1)
    return a == b


def month_start(day):
    return day.replace(day=1)


def month_end(day):
    return (month_start(day) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def previous_month(first_day):
    return month_start(first_day - timedelta(days=1))


def months_back(first_day, count):
    """The ``count`` months ending with ``first_day``'s month, oldest first (first days)."""
    months = [first_day]
    for _ in range(count - 1):
        months.insert(0, previous_month(months[0]))
    return months


# ------------------------------------------------------------ helpers for domain metrics


def counts(stmt, site_ids):
    """{site_id: n} from a ``select(site_id, count/sum).group_by(site_id)``; 0 for silent sites."""
    found = {sid: value for sid, value in db.session.execute(stmt).all()}
    return {sid: found.get(sid) or 0 for sid in site_ids}


def rows_by_site(stmt):
    """{site_id: [row, ...]} from ONE query whose first column is site_id. For figures that
    compare two timestamps (on time, hours to fix): the date arithmetic differs between
    SQLite and PostgreSQL, so the comparison happens here on the narrow rows."""
    grouped = {}
    for row in db.session.execute(stmt).all():
        grouped.setdefault(row[0], []).append(row[1:])
    return grouped


def percent(hits, total):
    return None if not total else 100.0 * hits / total


def hours_between(earlier, later):
    return (later - earlier).total_seconds() / 3600


# ------------------------------------------------------------ figures from the period's facts


def zone_bounds(site_ids, start, end):
    """[(site_ids, lo, hi)]: the sites grouped by time zone, each group with the UTC bounds
    ``[lo, hi)`` of the local days ``start..end`` (for ``portal.services.period_facts``)."""
    zones = site_zones()
    groups = {}
    for sid in site_ids:
        groups.setdefault(zones.get(sid, clock.DEFAULT_ZONE), []).append(sid)
    return [(ids, *clock.period_bounds(start, end, zone)) for zone, ids in groups.items()]


def per_zone(site_ids, start, end, fn):
    """{site_id: ...} merged from ``fn(ids, lo, hi)`` called once per time zone."""
    result = {}
    for ids, lo, hi in zone_bounds(list(site_ids), start, end):
        result.update(fn(ids, lo, hi))
    return result


def judged_at(hi, now=None):
    """The instant a state "at the end of the period" is judged at: the period's end, or now
    while the period is still running."""
    return min(hi, now or clock.now())


def _open_and_overdue(reader, site_ids, hi, now):
    """``reader(site_ids, judged_at(hi, now))``: the records (open, overdue) at the end of a
    period. Inside ``zone_cache`` one read serves both figures; a running period is judged at
    the instant of that read."""
    cached = _OPEN_STATES.get()
    if cached is None:
        return reader(site_ids, judged_at(hi, now))
    key = (reader, tuple(site_ids), hi, now)
    if key not in cached:
        cached[key] = reader(site_ids, judged_at(hi, now))
    return cached[key]


def open_at_end(reader, site_ids, start, end, now=None):
    """{site_id: [id]}: the records open at the end of the period (now, while it runs), from
    ``reader`` (``period_facts.*_open_and_overdue_at``), zone by zone."""
    return per_zone(
        site_ids, start, end, lambda ids, lo, hi: _open_and_overdue(reader, ids, hi, now)[0]
    )


def overdue_at_end(reader, site_ids, start, end, now=None):
    """{site_id: [id]}: of ``open_at_end``, those past the due time in force then."""
    return per_zone(
        site_ids, start, end, lambda ids, lo, hi: _open_and_overdue(reader, ids, hi, now)[1]
    )


def local_time(at, site_id):
    """A stored instant on the site's own wall clock, for drill-down pages and reports."""
    return at.astimezone(zone_of(site_id)).strftime("%Y-%m-%d %H:%M:%S") if at else "–"


def counted_days(site_ids, start, end, now=None):
    """{site_id: [day]}: the local days of ``start..end`` a daily duty (checklists, tally) is
    expected on: the days the site worked (its spells: from opening to closing, none while in
    set-up), up to the last day that has ended on its clock (yesterday). Today is left to
    ``today_of``: it counts once its duty is done. One query for every site."""
    site_ids = list(site_ids)
    worked = site_spells(site_ids)
    result = {}
    for sid in site_ids:
        last = min(end, clock.local_day(zone_of(sid), now) - timedelta(days=1))
        days = []
        for first_day, last_day in worked.get(sid, []):
            lo = max(start, first_day)
            hi = last if last_day is None else min(last, last_day)
            days.extend(lo + timedelta(days=n) for n in range((hi - lo).days + 1))
        result[sid] = sorted(set(days))
    return result


def kept_month(figure, site_ids, start, end, count, days=None):
    """The days that are over of a calendar month still running at the sites, added up from the
    figures kept per site and day (``portal.services.day_figures``): [(site ids, zone, today,
    {site_id: (value, count)})], one entry per time zone, for the provider to add today to. None
    when ``start..end`` is not such a month (a closed month is stored, any other period is
    computed from the records).

    ``count(site_ids, first, last, zone) -> {(site_id, day): (value, count)}`` counts days from
    the records, as the running month sees them: the records that exist now. ``days``: {site_id:
    [day]}, the only days to add up, when not all of them (``counted_days``)."""
    if not period_close.is_month(start, end):
        return None
    cached, key = _KEPT.get(), (figure, tuple(site_ids), start, end)
    if cached is not None and key in cached:
        return cached[key]
    found = _kept_month(figure, site_ids, start, end, count, days)
    if cached is not None:
        cached[key] = found
    return found


def _kept_month(figure, site_ids, start, end, count, days):
    now = clock.now()
    groups = []
    for ids, _lo, _hi in zone_bounds(list(site_ids), start, end):
        zone = zone_of(ids[0])
        today = clock.local_day(zone, now)
        if not start <= today <= end:
            return None
        groups.append((ids, zone, today))
    return [
        (
            ids,
            zone,
            today,
            day_figures.totals(
                figure,
                ids,
                start,
                today - timedelta(days=1),
                zone,
                lambda sids, first, last, zone=zone: count(sids, first, last, zone),
                {sid: days[sid] for sid in ids} if days is not None else None,
            ),
        )
        for ids, zone, today in groups
    ]


def duty_on_time(figure, site_ids, start, end, by_day, rows_of, on_time, per_day=1):
    """{site_id: %} of a daily duty's expected units done on time (checklists, tally).
    ``rows_of(site_ids, start, end) -> {site_id: [row]}``: a row per counted day and unit, today's
    once done; ``on_time(row)``. A running month adds its kept days (``by_day``, the ``count`` of
    ``kept_month``; a counted day expects ``per_day`` units) to today's rows."""
    site_ids = list(site_ids)
    counted = counted_days(site_ids, start, end)
    kept = kept_month(figure, site_ids, start, end, by_day, counted)
    if kept is None:
        return {
            sid: percent(sum(1 for row in rows if on_time(row)), len(rows))
            for sid, rows in rows_of(site_ids, start, end).items()
        }
    result = {}
    for ids, _zone, today, past in kept:
        for sid, rows in rows_of(ids, today, today).items():
            hits = past[sid][0] + sum(1 for row in rows if on_time(row))
            result[sid] = percent(hits, per_day * len(counted[sid]) + len(rows))
    return result


def by_local_day(items, site_of, at_of, zone, first, last):
    """{(site_id, day): [item]} of ``items`` by the local day (in ``zone``) of ``at_of(item)``,
    keeping the days ``first..last``."""
    grouped = {}
    for item in items:
        day = clock.local_day(zone, at_of(item))
        if first <= day <= last:
            grouped.setdefault((site_of(item), day), []).append(item)
    return grouped


def mean_hours_to_first(figure, reader, at_of, site_ids, start, end):
    """{site_id: mean hours} over the records ``reader`` finds in the period
    (``period_facts.cleaning_fixes`` or ``ticket_resolutions``: each record once, to its first
    fix or resolution in the period, dated by ``at_of``), added up in exact microseconds; sites
    with none are left out. A running month adds its kept days (each day keeps the records
    whose first fix of the month fell on it) to today's."""
    from portal.services import period_facts as facts

    def by_day(ids, first, last, zone):
        month_lo = clock.period_bounds(month_start(first), last, zone)[0]
        lo, hi = clock.period_bounds(first, last, zone)
        found = reader(ids, month_lo, hi, since=lo, alive_at=clock.now())
        items = [item for found_at_site in found.values() for item in found_at_site]
        return {
            key: (sum(item.micros for item in day_items), len(day_items))
            for key, day_items in by_local_day(
                items, lambda item: item.site_id, at_of, zone, first, last
            ).items()
        }

    kept = kept_month(figure, site_ids, start, end, by_day)
    if kept is None:
        found = per_zone(site_ids, start, end, reader)
        return {
            sid: facts.mean_hours(sum(item.micros for item in items), len(items))
            for sid, items in found.items()
            if items
        }
    result = {}
    for ids, zone, today, past in kept:
        month_lo = clock.period_bounds(start, end, zone)[0]
        lo, hi = clock.day_bounds(today, zone)
        found = reader(ids, month_lo, hi, since=lo)
        for sid in ids:
            micros = past[sid][0] + sum(item.micros for item in found.get(sid, ()))
            count = past[sid][1] + len(found.get(sid, ()))
            if count:
                result[sid] = facts.mean_hours(micros, count)
    return result


def today_of(site_id, now=None):
    return clock.local_day(zone_of(site_id), now)


def table(headers, rows, ids=(), marks=()):
    """The records behind a figure. ``marks``: per row, what the drill-down highlights
    ("late", "missing"…) or None; none given marks nothing."""
    marks = list(marks) or [None] * len(rows)
    return {"headers": [str(h) for h in headers], "rows": rows, "ids": list(ids), "marks": marks}
