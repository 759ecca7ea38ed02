"""The supervisor's comparison dashboard and the month-end PDF downloads.

Every figure comes from the metric registry (``portal.services.metrics``): one provider
call per metric (SQL GROUP BY) whatever the number of sites, all through the session's
site scope, so a supervisor never sees another region's figures — not in the table, the
charts, the drill-down links or the PDFs.
"""

from datetime import timedelta

from flask import Response, abort, flash, g, redirect, request, send_file, url_for
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import gettext as _
from flask_login import current_user
from portal import clock
from portal.i18n import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import or_, select

from portal.errors import DomainError
from portal.extensions import db
from portal.models import Region, Site
from portal.reports import archive, charts, pdf
from portal.services import metrics as m
from portal.services import bounds, period_close, report_data, standing
from portal.services import sites as site_life
from portal.models.audit import ACTION_LABELS
from portal.services.record_types import label as record_type_label
from portal.views.base import PortalView, bad_parameter, expose, get_or_404
from portal.views.exports import report_slot
from portal.views.home import set_landing

PERIODS = {"day": _l("Day"), "week": _l("Week"), "month": _l("Month"), "custom": _l("Custom")}
MAX_CUSTOM_DAYS = 366
TREND_MONTHS = 6
MAX_SITE_LINES = 8
MAX_SITE_BARS = 30
# Letters and digits only: unchanged by URL quoting.
_SITE_PLACEHOLDER = "siteplaceholder9c2e"


def _parse_day(text, errors, field):
    """A day of the query string (``bounds.parse_day``), or None with the reason in ``errors``."""
    try:
        return bounds.parse_day(text)
    except DomainError as exc:
        errors[field] = str(exc.message)
        return None


def parse_period(args):
    """(kind, start, end, errors) from the query string; errors: {field: message}."""
    kind = args.get("period", "month")
    errors = {}
    if kind not in PERIODS:
        errors["period"] = _("Choose day, week, month or custom.")
        kind = "month"
    on = clock.local_day(clock.DEFAULT_ZONE)
    if args.get("on"):
        on = _parse_day(args["on"], errors, "on") or clock.local_day(clock.DEFAULT_ZONE)
    if kind == "day":
        return kind, on, on, errors
    if kind == "week":
        start = on - timedelta(days=on.weekday())
        return kind, start, start + timedelta(days=6), errors
    if kind == "month":
        return kind, m.month_start(on), m.month_end(on), errors
    start = _parse_day(args.get("start"), errors, "start")
    end = _parse_day(args.get("end"), errors, "end")
    if start and end and end < start:
        errors["end"] = _("The end date must not be before the start date.")
    elif start and end and (end - start).days >= MAX_CUSTOM_DAYS:
        errors["end"] = _("Choose at most %(days)s days.", days=MAX_CUSTOM_DAYS)
    if errors.get("start") or errors.get("end"):
        return kind, m.month_start(on), m.month_end(on), errors
    return kind, start, end, errors


def _cells_html(cells):
    """A site's figures as ``<td>`` cells. Two hundred sites make 3,400 cells: built here with
    escaped f-strings they cost a tenth of the same markup assembled cell by cell in Jinja."""
    worse = g.setdefault("_dashboard_worse", {})  # the translated tooltip, once per percentage
    parts = []
    for cell in cells:
        text = escape(cell["text"])
        if cell["url"]:
            text = Markup(
                f'<a href="{escape(cell["url"])}" class="drill" '
                f'data-metric="{cell["metric"].key}">{text}</a>'
            )
        if cell["flagged"]:
            pct = round(cell["deviation"] * 100)
            if pct not in worse:
                worse[pct] = escape(_("%(pct)s%% worse than the region average", pct=pct))
            parts.append(f'<td class="text-right deviation" title="{worse[pct]}">{text}</td>')
        else:
            parts.append(f'<td class="text-right">{text}</td>')
    return Markup("".join(parts))


class DashboardView(PortalView):
    read_roles = frozenset({"admin", "supervisor"})
    write_roles = frozenset()

    @expose("/")
    def index(self):
        kind, start, end, errors = parse_period(request.args)
        regions = db.session.scalars(select(Region).order_by(Region.code)).all()
        region_id = request.args.get("region", "")
        worked = site_life.worked_between(start, end) if not errors else Site.status != "closed"
        today = clock.local_day(clock.DEFAULT_ZONE)
        # A site in set-up has no figures of a past or future period: listed only for today's.
        stmt = select(Site).order_by(Site.code)
        if start <= today <= end:
            stmt = stmt.where(or_(worked, Site.status == "setup"))
        else:
            stmt = stmt.where(worked)
        if region_id:
            if not (region_id.isdigit() and int(region_id) in {r.id for r in regions}):
                errors["region"] = _("Not a valid choice.")
            else:
                stmt = stmt.where(Site.region_id == int(region_id))
        sites = db.session.scalars(stmt).all()
        metrics = m.all_metrics()
        chosen = m.get_metric(request.args.get("chart", "")) or (metrics[0] if metrics else None)
        month = m.month_start(start)
        with m.zone_cache(sites):  # each site's own local days, from the sites loaded above
            standing_of = standing.standings(sites, start, end)
            counted_ids = standing.counted(standing_of)
            table = self._table(sites, metrics, start, end, standing_of)
            sort_key, descending = self._sort(table, metrics)
            charts_svg = (
                self._charts(sites, chosen, table, month, start, end) if chosen and sites else []
            )
        pdf_url = url_for(".site_pdf", site_id=_SITE_PLACEHOLDER, month=f"{month:%Y-%m}")
        # A closed month corrected since: its stored figures stand until someone re-closes it.
        amended = set()
        if kind == "month" and sites:
            amended = period_close.amended_sites([s.id for s in sites], month)
        amended_url = url_for(".amendments", site_id=_SITE_PLACEHOLDER, month=f"{month:%Y-%m}")
        for row in table["rows"]:
            row["pdf_url"] = pdf_url.replace(_SITE_PLACEHOLDER, str(row["site"].id))
            if row["site"].id in amended:
                row["amended_url"] = amended_url.replace(_SITE_PLACEHOLDER, str(row["site"].id))
        context = dict(
            periods=PERIODS,
            kind=kind,
            start=start,
            end=end,
            on=request.args.get("on") or clock.local_day(clock.DEFAULT_ZONE).isoformat(),
            errors=errors,
            regions=regions,
            region_id=region_id,
            metrics=metrics,
            table=table,
            sort_key=sort_key,
            descending=descending,
            chosen=chosen,
            month=f"{month:%Y-%m}",
            charts=charts_svg,
            ranking=_placed(
                [
                    (table["by_id"][sid], score)
                    for sid, score in m.ranking(
                        metrics, _only(table["values"], counted_ids), counted_ids
                    )
                ]
            ),
            left_out=[row for row in table["rows"] if not row["counted"]],
            standing_labels=standing.STANDING_LABELS,
            standing_definitions=standing.STANDING_DEFINITIONS,
            left_out_text=standing.LEFT_OUT,
            site_page_url=url_for("sitepage.site", site_id=_SITE_PLACEHOLDER),
            placeholder=_SITE_PLACEHOLDER,
            sort_url=self._sort_url,
        )
        body = self.render("dashboard/index.html", **context)
        return (body, 400) if errors else body

    # ------------------------------------------------------------ table

    def _table(self, sites, metrics, start, end, standing_of):
        values = m.collect([s.id for s in sites], start, end, metrics)
        by_region, counted_by_region = {}, {}
        for site in sites:
            by_region.setdefault(site.region_id, []).append(site)
            counted_by_region.setdefault(site.region_id, [])
            if standing_of[site.id] == standing.COUNTED:
                counted_by_region[site.region_id].append(site)
        # Only the sites counted in the period make the region's average (standing.py).
        averages = {
            rid: {mt.key: m.average(values[mt.key][s.id] for s in members) for mt in metrics}
            for rid, members in counted_by_region.items()
        }
        # One url_for per metric, not per cell (200 sites × 17 figures): the site's id is
        # put into a URL built once with a placeholder.
        drill_urls = {}
        for mt in metrics:
            drill = mt.drill_args(_SITE_PLACEHOLDER, start, end)
            drill_urls[mt.key] = url_for(drill[0], **drill[1]) if drill else None
        rows = []
        for site in sites:
            cells = []
            is_counted = standing_of[site.id] == standing.COUNTED
            for mt in metrics:
                value, avg = values[mt.key][site.id], averages[site.region_id][mt.key]
                if not is_counted:
                    avg = None  # a part of a period is not held against the region's average
                url = drill_urls[mt.key]
                cells.append(
                    {
                        "metric": mt,
                        "value": value,
                        "text": mt.format(value),
                        "flagged": m.is_flagged(mt, value, avg),
                        "deviation": m.deviation(mt, value, avg),
                        "url": url.replace(_SITE_PLACEHOLDER, str(site.id)) if url else None,
                    }
                )
            rows.append(
                {
                    "site": site,
                    "cells": cells,
                    "cells_html": _cells_html(cells),
                    "standing": standing_of[site.id],
                    "counted": is_counted,
                }
            )
        avg_rows = [
            {
                "region": members[0].region,
                "cells": [
                    {
                        "metric": mt,
                        "text": "–"
                        if averages[rid][mt.key] is None
                        else f"{averages[rid][mt.key]:,.1f}",
                    }
                    for mt in metrics
                ],
            }
            for rid, members in by_region.items()
        ]
        return {
            "rows": rows,
            "averages": avg_rows,
            "values": values,
            "by_id": {s.id: s for s in sites},
        }

    def _sort(self, table, metrics):
        keys = {mt.key: i for i, mt in enumerate(metrics)}
        sort_key = request.args.get("sort", "site")
        descending = request.args.get("dir") == "desc"
        if sort_key in keys:
            i = keys[sort_key]
            present = [r for r in table["rows"] if r["cells"][i]["value"] is not None]
            missing = [r for r in table["rows"] if r["cells"][i]["value"] is None]
            present.sort(key=lambda r: r["cells"][i]["value"], reverse=descending)
            table["rows"] = present + missing  # sites without a figure always last
        else:
            sort_key = "site"
            table["rows"].sort(key=lambda r: r["site"].code, reverse=descending)
        return sort_key, descending

    def _sort_url(self, key):
        args = request.args.to_dict()
        same = args.get("sort", "site") == key
        args.update(
            sort=key,
            dir="asc" if same and args.get("dir") == "desc" else ("desc" if same else "asc"),
        )
        return url_for(".index", **args)

    # ------------------------------------------------------------ charts

    def _charts(self, sites, metric, table, month, start, end):
        i = [mt.key for mt in m.all_metrics()].index(metric.key)
        # A period still running is drawn as such: its counts are lower because it is not
        # over, not because the sites did worse.
        today = clock.local_day(clock.DEFAULT_ZONE)
        to_date = _("to day %(day)d", day=today.day)
        rows = sorted(table["rows"], key=lambda r: r["site"].code)
        values = [r["cells"][i]["value"] for r in rows]
        counted_values = [r["cells"][i]["value"] for r in rows if r["counted"]]
        if len(rows) <= MAX_SITE_BARS:
            # A site left out of the average is marked with an asterisk (the legend says why).
            labels = [r["site"].code + ("" if r["counted"] else "*") for r in rows]
            flagged = [r["site"].code for r in rows if r["cells"][i]["flagged"]]
            bar_values = values
        else:  # two hundred bars are unreadable: one per region average (the table has every site)
            groups = {}
            for r in rows:
                if r["counted"]:
                    groups.setdefault(r["site"].region.name, []).append(r["cells"][i]["value"])
            labels, flagged = list(groups), []
            bar_values = [m.average(group) for group in groups.values()]
        title = f"{metric.label}（{metric.unit}）"
        if start <= today < end:
            title += f" · {to_date}"
        bar = charts.bar_svg(
            "bar",
            title,
            tuple(labels),
            tuple(bar_values),
            reference=m.average(counted_values),
            reference_label=_("Average"),
            flagged=tuple(flagged),
            width=520,
        )
        months = m.months_back(month, TREND_MONTHS)
        # The table's own month is not computed a second time.
        per_month = [
            table["values"][metric.key]
            if (mo, m.month_end(mo)) == (start, end)
            else m.collect([s.id for s in sites], mo, m.month_end(mo), [metric])[metric.key]
            for mo in months
        ]
        if len(sites) <= MAX_SITE_LINES:
            series = [(s.code, [pm[s.id] for pm in per_month]) for s in sites]
        else:  # too many lines to read: one per region average (of the counted sites)
            groups = {}
            for r in rows:
                if r["counted"]:
                    groups.setdefault(r["site"].region.name, []).append(r["site"].id)
            series = [
                (name, [m.average(pm[sid] for sid in ids) for pm in per_month])
                for name, ids in groups.items()
            ]
        trend = charts.trend_svg(
            "trend",
            _("%(metric)s, month by month", metric=metric.label),
            tuple(f"{mo:%Y-%m}" for mo in months),
            tuple((label, tuple(vals)) for label, vals in series),
            width=520,
            height=240,
            partial_note=(
                _("This month %(to_date)s", to_date=to_date)
                if months[-1] == m.month_start(today)
                else None
            ),
        )
        return [Markup(bar), Markup(trend)]

    # ------------------------------------------------------------ PDFs

    # A closed month's PDF that `flask reports monthly` archived is served as it was archived;
    # any other is built now, holding one of the user's report slots. Either way only after the
    # site or region was found through the user's scope (404 otherwise).
    @expose("/site/<site_id>/<month>.pdf")
    def site_pdf(self, site_id, month):
        site = get_or_404(Site, site_id)
        first_day = _month_or_404(month)
        download_name = f"report_{site.code}_{first_day:%Y-%m}.pdf"
        archived = archive.archived_path(archive.site_filename(site.code, first_day), first_day)
        if archived:
            return _archived_response(archived, download_name)
        with report_slot():
            body = archive.closed_site_pdf(site.id, first_day)  # None: the month still runs
            if body is None:
                body = pdf.site_report_pdf(report_data.site_month(site.id, first_day))
        return _pdf_response(body, download_name)

    # ------------------------------------------------------------ corrections after a close

    @expose("/amendments/<site_id>/<month>")
    def amendments(self, site_id, month):
        """What changed in a site's closed month since its figures were stored, and the button
        that closes it again."""
        site = get_or_404(Site, site_id)
        first_day = _month_or_404(month)
        rows = period_close.open_amendments([site.id], first_day).get(site.id, [])
        close = period_close.close_of(site.id, period_close.period_of(first_day))
        return self.render(
            "dashboard/amendments.html",
            site=site,
            month=f"{first_day:%Y-%m}",
            close=close,
            rows=rows,
            type_label=record_type_label,
            action_labels=ACTION_LABELS,
            may_reclose=period_close.may_reclose(current_user)
            and period_close.month_over(site.id, first_day),
        )

    @expose("/reclose/<site_id>/<month>", methods=("POST",))
    def reclose(self, site_id, month):
        site = get_or_404(Site, site_id)
        first_day = _month_or_404(month)
        if not period_close.may_reclose(current_user):
            abort(403)
        changed = period_close.reclose(site, first_day, user_id=current_user.id)
        db.session.commit()
        flash(
            _(
                "%(site)s %(month)s closed again: %(count)s figure(s) changed.",
                site=site.code,
                month=f"{first_day:%Y-%m}",
                count=len(changed),
            ),
            "success",
        )
        return redirect(url_for(".index", period="month", on=first_day.isoformat()))

    @expose("/region/<region_id>/<month>.pdf")
    def region_pdf(self, region_id, month):
        region = get_or_404(Region, region_id)
        first_day = _month_or_404(month)
        download_name = f"region_{region.code}_{first_day:%Y-%m}.pdf"
        archived = archive.archived_path(archive.region_filename(region.code, first_day), first_day)
        if archived and archive.region_wholly_visible(region.id):
            return _archived_response(archived, download_name)
        with report_slot():
            body = pdf.region_report_pdf(report_data.region_month(region.id, first_day))
        return _pdf_response(body, download_name)


def _only(values, site_ids):
    """``values`` ({metric key: {site_id: value}}) of ``site_ids`` only."""
    keep = set(site_ids)
    return {
        key: {sid: v for sid, v in per_site.items() if sid in keep}
        for key, per_site in values.items()
    }


class ClauseFilter(BaseSQLAFilter):
    """A yes-only list filter applying the SQL condition a metric counts with (e.g. overdue
    cleaning issues), so the drill-down lists exactly the records behind the number."""

    def __init__(self, clause, name):
        super().__init__(None, name, options=(("1", _l("Yes")),))
        self.clause = clause

    def apply(self, query, value, alias=None):
        return query.filter(self.clause()) if value == "1" else query

    def operation(self):
        return admin_lazy_gettext("equals")  # Flask-Admin's own catalogue has it


def _placed(ranked):
    """(place, site, score) for the ranking list: sites whose average rank reads the same
    share a place (1, 2, 2, 4)."""
    places = m.places([score for _site, score in ranked])
    return [(place, site, score) for place, (site, score) in zip(places, ranked, strict=True)]


def _month_or_404(text):
    try:
        first_day = report_data.parse_month(text)
    except ValueError:
        abort(404)
    try:
        return bounds.check_day(first_day)
    except DomainError as exc:
        bad_parameter(exc.message)


def _archived_response(path, filename):
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=filename)


def _pdf_response(body, filename):
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def register(admin):
    admin.add_view(
        DashboardView(
            name=_l("Comparison dashboard"),
            category=_l("Reports"),
            endpoint="dashboard",
            url="/dashboard/",
        )
    )
    set_landing("supervisor", "dashboard.index")
    set_landing("admin", "dashboard.index")
