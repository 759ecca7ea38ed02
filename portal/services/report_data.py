"""Plain data (dicts and lists of strings and numbers) for the month-end reports.

``site_month`` and ``region_month`` read every registered metric (``portal.services.metrics``)
for the month, the month before, and the region's sites, plus the detail *sections* that
domains declare in their descriptor (``reports=``, ``portal/domains.py``): consumption by
product, visits, tally variances…. No HTTP: the
same data feeds the PDF builder (``portal.reports.pdf``), the CLI and the tests. Run in a
request, the session scope limits every figure to the user's sites.

A section provider is ``fn(site_id, start, end) -> {"headers": [...], "rows": [[...]]} | None``
(None or no rows: the section says "nothing recorded"); values are plain str/int/float.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, time

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.i18n import zone_name
from portal.models import Region, Site
from portal.services import metrics as m
from portal.services import sites as site_life
from portal.services import standing
from functools import wraps
from flask import current_app, has_request_context
from flask_babel import force_locale

TREND_MONTHS = 6

# The figures of every site of a bulk run (the month-end archive), read once for all its PDFs:
# set by ``shared_figures`` around that run only, never kept beyond it.
_SHARED: ContextVar = ContextVar("report_shared_figures", default=None)

# Month-end reports are written for head office in Chinese, whoever asks for them.
REPORT_LOCALE = "zh_Hans_CN"


@dataclass(frozen=True)
class Section:
    key: str
    title: object
    order: int
    provider: object


_SECTIONS: dict[str, Section] = {}


def register_section(key, title, provider, order=100):
    """Add (or replace) a detail table of the site's monthly report."""
    _SECTIONS[key] = Section(key, title, order, provider)


def all_sections():
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))


def outside_request_locale(fn):
    """Outside a request (CLI, tests, workers) the portal's selector has no session to read:
    build in the default locale (Chinese) instead."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        if has_request_context():
            return fn(*args, **kwargs)
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN")):
            return fn(*args, **kwargs)

    return wrapper


def with_site_zones(fn):
    """The sites' time zones read once for the whole report (``metrics.zone_cache``)."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        with m.zone_cache():
            return fn(*args, **kwargs)

    return wrapper


def report_months(first_day):
    """The months a month's reports show: the trend window, which ends with the month and holds
    the month before."""
    return m.months_back(first_day, TREND_MONTHS)


def month_figures(site_ids, first_day):
    """What the reports of ``first_day``'s month read of ``site_ids``' figures, one provider
    call per figure and month for all the sites together: {"site_ids": [...], "months":
    {"YYYY-MM": {figure key: {site_id: value}}}} (plain data, for worker processes too). A month
    that is over is closed on first need here, for every site at once."""
    site_ids = sorted(set(site_ids))
    metrics = m.all_metrics()
    with m.zone_cache():
        months = {
            f"{mo:%Y-%m}": m.collect(site_ids, mo, m.month_end(mo), metrics)
            for mo in report_months(first_day)
        }
    return {"site_ids": site_ids, "months": months}


@contextmanager
def shared_figures(figures):
    """Inside: the reports take the figures of ``month_figures`` instead of reading them again
    (a period or a site it does not hold is read as usual)."""
    token = _SHARED.set(
        None if figures is None else {**figures, "site_ids": frozenset(figures["site_ids"])}
    )
    try:
        yield
    finally:
        _SHARED.reset(token)


def _collect(site_ids, start, end, metrics):
    """``metrics.collect``, from the shared figures when they hold the period and the sites."""
    shared = _SHARED.get()
    month = shared and end == m.month_end(start) and shared["months"].get(f"{start:%Y-%m}")
    if not month or not set(site_ids) <= shared["site_ids"]:
        return m.collect(site_ids, start, end, metrics)
    if any(metric.key not in month for metric in metrics):
        return m.collect(site_ids, start, end, metrics)
    return {mt.key: {sid: month[mt.key].get(sid) for sid in site_ids} for mt in metrics}


def parse_month(text):
    """'2026-11' -> date(2026, 11, 1); ValueError on anything else."""
    year, month = str(text or "").split("-")
    if not (len(year) == 4 and year.isdigit() and 1 <= len(month) <= 2 and month.isdigit()):
        raise ValueError(text)
    return date(int(year), int(month), 1)


def _period(first_day):
    return {
        "month": f"{first_day:%Y-%m}",
        "start": first_day.isoformat(),
        "end": m.month_end(first_day).isoformat(),
        "label": format_date(first_day, "yyyy-MM"),
    }


def _site_dict(site):
    return {
        "id": site.id,
        "code": site.code,
        "name": site.name,
        "region": site.region.name,
        "region_id": site.region_id,
        "address": site.address or "",
    }


def _region_sites(region_id, start, end):
    """The sites of the region that worked in ``start..end``."""
    return db.session.scalars(
        select(Site)
        .where(Site.region_id == region_id, site_life.worked_between(start, end))
        .order_by(Site.code)
    ).all()


def _figures(metrics, site_id, now, before, region_ids):
    """Key-figure rows for one site: this month, last month, change, region average, flag."""
    rows = []
    for metric in metrics:
        value, previous = now[metric.key].get(site_id), before[metric.key].get(site_id)
        avg = m.average(now[metric.key][sid] for sid in region_ids)
        rows.append(
            {
                "key": metric.key,
                "label": str(metric.label),
                "unit": str(metric.unit),
                "better": metric.better,
                "value": value,
                "previous": previous,
                "region_average": avg,
                "change": None if value is None or previous is None else value - previous,
                "flagged": m.is_flagged(metric, value, avg),
                "text": {
                    "value": metric.format(value),
                    "previous": metric.format(previous),
                    "region_average": m.Metric.format(metric, avg)
                    if avg is None
                    else f"{avg:,.1f}",
                    "change": _signed(metric, value, previous),
                },
            }
        )
    return rows


def _definitions(metrics):
    """The appendix: each figure with its definition, as on the dashboard."""
    return [
        {"key": mt.key, "label": str(mt.label), "definition": str(mt.definition or "")}
        for mt in metrics
    ]


def _signed(metric, value, previous):
    if value is None or previous is None:
        return "–"
    diff = value - previous
    return ("+" if diff > 0 else "") + metric.format(diff) if diff else "0"


def _trend(metrics, site_ids, first_day):
    """{metric key: {site_id: [value per month]}} over the last TREND_MONTHS months."""
    months = m.months_back(first_day, TREND_MONTHS)
    per_month = [_collect(site_ids, mo, m.month_end(mo), metrics) for mo in months]
    trend = {
        metric.key: {sid: [pm[metric.key].get(sid) for pm in per_month] for sid in site_ids}
        for metric in metrics
    }
    return [f"{mo:%Y-%m}" for mo in months], trend


@outside_request_locale
@with_site_zones
def site_month(site_id, first_day):
    """The monthly report data of one site; None when the site is missing or out of scope."""
    site = db.session.get(Site, site_id)
    if site is None:
        return None
    metrics = m.all_metrics()
    end, prev = m.month_end(first_day), m.previous_month(first_day)
    region_sites = _region_sites(site.region_id, first_day, end)
    # The region's average is of the sites counted in the month (``portal.services.standing``).
    region_ids = standing.counted(standing.standings(region_sites, first_day, end))
    month_start = clock.local_at(first_day, time.min, site)
    now = _collect(sorted({*region_ids, site.id}), first_day, end, metrics)
    before = _collect([site.id], prev, m.month_end(prev), metrics)
    months, trend = _trend(metrics, [site.id], first_day)
    sections = []
    for section in all_sections():
        table = section.provider(site.id, first_day, end) or {"headers": [], "rows": []}
        sections.append({"key": section.key, "title": str(section.title), **table})
    return {
        "kind": "site",
        "title": _("Monthly report"),
        "site": {**_site_dict(site), "zone": zone_name(site, month_start)},
        "period": _period(first_day),
        "previous_period": _period(prev),
        "figures": _figures(metrics, site.id, now, before, region_ids),
        "trend": {
            "months": months,
            "series": [
                {"key": mt.key, "label": str(mt.label), "values": trend[mt.key][site.id]}
                for mt in metrics
            ],
        },
        "sections": sections,
        "definitions": _definitions(metrics),
    }


@outside_request_locale
@with_site_zones
def region_month(region_id, first_day):
    """The regional comparison of one month: every site × every metric, average, ranking."""
    region = db.session.get(Region, region_id)
    if region is None:
        return None
    end, prev = m.month_end(first_day), m.previous_month(first_day)
    sites = _region_sites(region.id, first_day, end)
    ids = [s.id for s in sites]
    standing_of = standing.standings(sites, first_day, end)
    counted_ids = standing.counted(standing_of)
    metrics = m.all_metrics()
    now = _collect(ids, first_day, end, metrics)
    before = _collect(ids, prev, m.month_end(prev), metrics)
    months, trend = _trend(metrics, ids, first_day)
    columns = [
        {"key": mt.key, "label": str(mt.label), "unit": str(mt.unit), "better": mt.better}
        for mt in metrics
    ]
    # Averages, flags and the ranking are of the counted sites; the others keep their figures.
    averages = {mt.key: m.average(now[mt.key][sid] for sid in counted_ids) for mt in metrics}
    rows = []
    for site in sites:
        cells = []
        is_counted = standing_of[site.id] == standing.COUNTED
        for mt in metrics:
            value = now[mt.key][site.id]
            cells.append(
                {
                    "key": mt.key,
                    "value": value,
                    "text": mt.format(value),
                    "previous": before[mt.key][site.id],
                    "flagged": is_counted and m.is_flagged(mt, value, averages[mt.key]),
                }
            )
        label = standing.STANDING_LABELS.get(standing_of[site.id])
        rows.append(
            {
                "site": _site_dict(site),
                "cells": cells,
                "standing": standing_of[site.id],
                "counted": is_counted,
                "standing_label": str(label) if label else "",
            }
        )
    counted_now = {
        key: {sid: v for sid, v in per_site.items() if sid in set(counted_ids)}
        for key, per_site in now.items()
    }
    names = {s.id: f"{s.code} {s.name}" for s in sites}
    return {
        "kind": "region",
        "title": _("Regional comparison"),
        "region": {"id": region.id, "code": region.code, "name": region.name},
        "period": _period(first_day),
        "columns": columns,
        "rows": rows,
        "averages": [
            {
                "key": mt.key,
                "value": averages[mt.key],
                "text": "–" if averages[mt.key] is None else f"{averages[mt.key]:,.1f}",
            }
            for mt in metrics
        ],
        "definitions": _definitions(metrics),
        "ranking": [
            {"site": names[sid], "score": score}
            for sid, score in m.ranking(metrics, counted_now, counted_ids)
        ],
        "left_out": [
            {
                "site": names[row["site"]["id"]],
                "standing": row["standing"],
                "label": row["standing_label"],
            }
            for row in rows
            if not row["counted"]
        ],
        "left_out_text": str(standing.LEFT_OUT),
        "standing_definitions": {
            key: {"label": str(standing.STANDING_LABELS[key]), "text": str(text)}
            for key, text in standing.STANDING_DEFINITIONS.items()
        },
        "trend": {
            "months": months,
            "series": [
                {
                    "key": mt.key,
                    "label": str(mt.label),
                    "values": [
                        m.average(trend[mt.key][sid][i] for sid in counted_ids)
                        for i in range(len(months))
                    ],
                }
                for mt in metrics
            ],
        },
    }
