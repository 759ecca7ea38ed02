"""Month-end PDFs generated in bulk and archived under ``instance/reports/<YYYY-MM>/``.

Used by ``flask reports monthly``. Each PDF is built from the database alone (no request,
unscoped system context), in Chinese, with ReportLab's invariant mode: regenerating a month
whose records did not change rewrites the very same bytes. Several PDFs are built in
parallel *processes* (ReportLab is CPU-bound; threads would share one GIL).

The dashboard's PDF links serve a closed month's archived file as it is (``archived_path``)
instead of building it again, once the user's scope allowed the site or region.

A site's PDF of a closed month is built from the report data stored with its close
(``period_close.site_report``: the stored figures, and the detail tables as they were), in the
report language whoever asks: archived or built on demand, today or next year, it is the same
file until the month is closed again.
"""

import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from werkzeug.security import safe_join

from portal.extensions import db
from portal.models import Region, Site
from portal.models.periods import PeriodClose
from portal.reports import pdf
from portal.services import metrics, period_close, report_data, scope
from portal.services import sites as site_life

REPORT_LOCALE = report_data.REPORT_LOCALE


def default_folder():
    return current_app.config.get("REPORTS_FOLDER") or os.path.join(
        current_app.instance_path, "reports"
    )


def site_filename(code, first_day):
    return f"site_{code}_{first_day:%Y-%m}.pdf"


def region_filename(code, first_day):
    return f"region_{code}_{first_day:%Y-%m}.pdf"


def archived_path(filename, first_day):
    """The archived file of a closed month, or None (not archived, or the month is still open
    somewhere, so an archived copy could be out of date). The caller checks the scope first."""
    if not metrics.has_ended(metrics.month_end(first_day)):
        return None
    path = safe_join(
        default_folder(), f"{first_day:%Y-%m}", filename
    )  # None if it leaves the folder
    return path if path and os.path.isfile(path) else None


def region_wholly_visible(region_id):
    """Whether the current user sees every site of the region: the archived regional PDF shows
    them all, while one built now shows only the sites in the user's scope."""
    current = scope.current_scope()
    if current is None or current.is_global:
        return True
    stmt = select(Site.id).where(Site.region_id == region_id).execution_options(bypass_scope=True)
    return set(db.session.scalars(stmt)) <= current.site_ids


def closed_site_pdf(site_id, first_day):
    """The site's PDF of a closed month (closing it on first need), or None while the site's
    month still runs (or the site is out of scope)."""
    with force_locale(REPORT_LOCALE):
        data = period_close.site_report(site_id, first_day)
        return None if data is None else pdf.site_report_pdf(data)


def build(kind, object_id, first_day):
    """(filename, bytes) of one site's or one region's monthly PDF, in the app context."""
    with force_locale(REPORT_LOCALE):
        if kind == "site":
            code = db.session.get(Site, object_id).code
            body = closed_site_pdf(object_id, first_day)
            if body is None:
                body = pdf.site_report_pdf(report_data.site_month(object_id, first_day))
            return site_filename(code, first_day), body
        code = db.session.get(Region, object_id).code
        return region_filename(code, first_day), pdf.region_report_pdf(
            report_data.region_month(object_id, first_day)
        )


def _write(folder, filename, body):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, filename)
    tmp = path + ".part"
    with open(tmp, "wb") as fh:
        fh.write(body)
    os.replace(tmp, path)  # readers never see half a file
    return path


def jobs_for(month, site_code=None):
    """[(kind, id)] to generate: every site that worked in the month (or the one asked) and its
    region(s)."""
    worked = site_life.worked_between(month, metrics.month_end(month))
    stmt = select(Site).where(worked).order_by(Site.code)
    if site_code:
        stmt = select(Site).where(Site.code == site_code)
    sites = db.session.scalars(stmt).all()
    if site_code and not sites:
        raise LookupError(site_code)
    region_ids = sorted({s.region_id for s in sites})
    jobs = [("site", s.id) for s in sites]
    if not site_code:
        jobs += [("region", rid) for rid in region_ids]
    return jobs


def stored_reports(site_ids, first_day):
    """{site_id: report data} of the sites whose closed month has its report stored: one query
    for all of them (what ``period_close.site_report`` returns once it is stored)."""
    rows = db.session.execute(
        select(PeriodClose.site_id, PeriodClose.report).where(
            PeriodClose.site_id.in_(list(site_ids)),
            PeriodClose.period == period_close.period_of(first_day),
            PeriodClose.report.is_not(None),
        )
    )
    return dict(rows.all())


def _figure_sites(first_day, site_ids):
    """The sites whose figures the PDFs read: theirs and their regions' (a site's report compares
    it with the region's sites that worked in the month)."""
    worked = site_life.worked_between(first_day, metrics.month_end(first_day))
    regions = select(Site.region_id).where(Site.id.in_(site_ids))
    return sorted(
        set(site_ids)
        | set(db.session.scalars(select(Site.id).where(Site.region_id.in_(regions), worked)))
    )


def _plan(jobs, first_day):
    """Each PDF to make as (kind, id, filename, stored report or None, region's site ids)."""
    site_ids = [oid for kind, oid in jobs if kind == "site"]
    sites = db.session.execute(
        select(Site.id, Site.code, Site.region_id).where(Site.id.in_(site_ids))
    ).all()
    region_ids = {region_id for _, _, region_id in sites}
    codes = {sid: code for sid, code, _ in sites}
    region_of = {sid: region_id for sid, _, region_id in sites}
    worked = site_life.worked_between(first_day, metrics.month_end(first_day))
    members = {}
    for sid, region_id in db.session.execute(
        select(Site.id, Site.region_id).where(Site.region_id.in_(region_ids), worked)
    ):
        members.setdefault(region_id, []).append(sid)
    regions = dict(
        db.session.execute(select(Region.id, Region.code).where(Region.id.in_(region_ids))).all()
    )
    stored = stored_reports(site_ids, first_day)
    work = []
    for kind, oid in jobs:
        if kind == "site":
            ids = sorted({oid, *members.get(region_of[oid], [])})
            filename = site_filename(codes[oid], first_day)
            work.append((kind, oid, filename, stored.get(oid), ids))
        else:
            work.append((kind, oid, region_filename(regions[oid], first_day), None, members[oid]))
    return work


def _part(figures, site_ids):
    """The shared figures of ``site_ids`` only: what one PDF's job needs sent to its worker."""
    ids = set(site_ids)
    return {
        "site_ids": sorted(ids),
        "months": {
            month: {
                key: {sid: v for sid, v in values.items() if sid in ids}
                for key, values in per_key.items()
            }
            for month, per_key in figures["months"].items()
        },
    }


def _make(kind, object_id, report, first_day):
    """The bytes of one PDF: from its stored report, else built (and stored) from the data."""
    with force_locale(REPORT_LOCALE):
        if report is not None:
            return pdf.site_report_pdf(report)
        return build(kind, object_id, first_day)[1]


def close_for_reports(first_day, site_ids):
    """Close the month, and the earlier months its trend charts show, for every site at once:
    one provider call per figure and month for all of them, instead of one per site when each
    PDF closes its own (that was most of an archive's time)."""
    for month in report_data.report_months(first_day):
        _close_month(site_ids, month)


def _close_month(site_ids, month):
    with metrics.zone_cache():
        period_close.stored_figures(site_ids, month, metrics.all_metrics())


# -------------------------------------------------------------- worker processes
_worker = {}


def _init_worker(app):
    """Once per worker process, forked from this one with every module imported and the app
    built: the app's database connections are this process's, so the worker opens its own."""
    with app.app_context():
        db.engine.dispose(close=False)
        pdf.prepare()
    _worker["app"] = app


def _run_close(site_ids, month):
    with _worker["app"].app_context():
        _close_month(site_ids, month)


def _run_job(kind, object_id, filename, report, figures, first_day, folder):
    with _worker["app"].app_context(), report_data.shared_figures(figures):
        return _write(folder, filename, _make(kind, object_id, report, first_day))


def _processes(asked, jobs):
    if asked is not None:
        return asked
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(jobs, cores or 1)


def generate(month, site_code=None, folder=None, processes=None, parallel=False):
    """Generate and archive the month's PDFs (every site that worked in it and its region, or
    the one site asked); returns the written paths (sorted).

    ``parallel`` (the command): the PDFs are made by worker processes, one per core (or
    ``processes``); else every PDF is made in this process."""
    first_day = report_data.parse_month(month) if isinstance(month, str) else month
    return make_pdfs(jobs_for(first_day, site_code), first_day, folder, processes, parallel)


def make_pdfs(jobs, first_day, folder=None, processes=None, parallel=False):
    """Archive the PDFs of ``jobs`` ([(kind, id)], ``jobs_for``) of ``first_day``'s month.

    The report months are closed (where over) and their figures read once for every site, and
    the stored reports of a closed month in one query; then each PDF is only drawn, or its
    report built first where none is stored yet (the detail tables are per site). So the
    statements sent do not grow with the sites, but for the reports still to build."""
    folder = os.path.join(folder or default_folder(), f"{first_day:%Y-%m}")
    figure_ids = _figure_sites(first_day, [oid for kind, oid in jobs if kind == "site"])
    processes = _processes(processes, len(jobs))
    if processes <= 1 or len(jobs) <= 1 or not parallel:
        # Reading the figures closes the months that are over, for every site at once.
        with report_data.shared_figures(report_data.month_figures(figure_ids, first_day)):
            return sorted(
                _write(folder, filename, _make(kind, oid, report, first_day))
                for kind, oid, filename, report, _ in _plan(jobs, first_day)
            )
    # The workers write (closes, reports): this process holds no transaction meanwhile, and no
    # connection goes into the fork in use.
    db.session.commit()
    # "fork": a worker starts as a copy of this process, ready at once; importing the portal and
    # building its app again ("spawn") took each worker seconds of the two cores.
    with ProcessPoolExecutor(
        processes,
        mp_context=get_context("fork"),
        initializer=_init_worker,
        initargs=(current_app._get_current_object(),),
    ) as pool:
        # The months are closed side by side, one per worker, each for every site at once.
        closes = [
            pool.submit(_run_close, figure_ids, mo) for mo in report_data.report_months(first_day)
        ]
        for future in closes:
            future.result()
        figures = report_data.month_figures(figure_ids, first_day)
        # Reports still to build first, the longest jobs, so no worker idles at the end.
        work = sorted(_plan(jobs, first_day), key=lambda job: job[3] is not None)
        db.session.commit()
        parts = {}  # the sites of a region share theirs
        futures = []
        for kind, oid, filename, report, ids in work:
            part = None
            if report is None:
                part = parts.get(tuple(ids)) or parts.setdefault(tuple(ids), _part(figures, ids))
            futures.append(
                pool.submit(_run_job, kind, oid, filename, report, part, first_day, folder)
            )
        return sorted(f.result() for f in futures)
