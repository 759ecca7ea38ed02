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
from portal.reports import pdf
from portal.services import metrics, period_close, report_data, scope
from portal.services import sites as site_life

REPORT_LOCALE = report_data.REPORT_LOCALE
# What a worker process needs to rebuild the same app.
_INHERITED_CONFIG = (
    "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY",
    "TESTING",
    "PORTAL_ENV",
    "BABEL_DEFAULT_LOCALE",
)


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


def close_for_reports(first_day, site_ids):
    """Close the month, and the earlier months its trend charts show, for every site at once:
    one provider call per figure and month for all of them, instead of one per site when each
    PDF closes its own (that was most of an archive's time)."""
    figures = metrics.all_metrics()
    with metrics.zone_cache():
        for month in metrics.months_back(first_day, report_data.TREND_MONTHS):
            period_close.stored_figures(site_ids, month, figures)


# -------------------------------------------------------------- worker processes
_worker_app = None


def _init_worker(app_factory, config):
    global _worker_app
    _worker_app = app_factory(config)


def _run_job(kind, object_id, first_day, folder):
    with _worker_app.app_context():
        filename, body = build(kind, object_id, first_day)
        return _write(folder, filename, body)


def generate(month, site_code=None, folder=None, processes=None, app_factory=None):
    """Generate and archive the month's PDFs; returns the written paths (sorted).

    ``app_factory`` (``portal.create_app``, passed by the command) builds each worker process its
    own app; reports sit below the app in the layers and never import it. Without one every PDF
    is built in this process."""
    first_day = report_data.parse_month(month) if isinstance(month, str) else month
    folder = os.path.join(folder or default_folder(), f"{first_day:%Y-%m}")
    jobs = jobs_for(first_day, site_code)
    close_for_reports(first_day, [oid for kind, oid in jobs if kind == "site"])
    processes = processes if processes is not None else min(len(jobs), os.cpu_count() or 1)
    if processes <= 1 or len(jobs) <= 1 or app_factory is None:
        paths = [_write(folder, *build(kind, oid, first_day)) for kind, oid in jobs]
        return sorted(paths)
    config = {k: current_app.config[k] for k in _INHERITED_CONFIG if k in current_app.config}
    # "spawn": a fresh interpreter per worker, no database connection or thread inherited.
    with ProcessPoolExecutor(
        processes,
        mp_context=get_context("spawn"),
        initializer=_init_worker,
        initargs=(app_factory, config),
    ) as pool:
        futures = [pool.submit(_run_job, kind, oid, first_day, folder) for kind, oid in jobs]
        return sorted(f.result() for f in futures)
