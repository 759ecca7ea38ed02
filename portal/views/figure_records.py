"""The records behind one dashboard figure of one site and period: exactly the rows the figure
is made of (``Metric.records``, built from the same facts as the number), with the columns
needed to recompute it, times on the site's own clock, and the figure's definition."""

from flask import abort, redirect, request, url_for

from portal import clock
from portal.i18n import lazy_gettext as _l
from portal.i18n import zone_name

from portal.errors import DomainError
from portal.models import Site
from portal.services import bounds
from portal.services import metrics as m
from portal.views.base import PortalView, bad_parameter, expose, get_or_404


class FigureRecordsView(PortalView):
    read_roles = frozenset({"admin", "supervisor"})
    write_roles = frozenset()

    def is_visible(self):
        return False

    @expose("/")
    def index(self):
        if not request.args.get("metric"):
            # The page is reached from a figure; without one it has nothing to list.
            return redirect(url_for("dashboard.index"))
        metric = m.get_metric(request.args["metric"])
        if metric is None or metric.records is None:
            abort(404)
        site = get_or_404(Site, request.args.get("site"))
        try:
            start = bounds.parse_day(request.args.get("start"))
            end = bounds.parse_day(request.args.get("end"))
        except DomainError as exc:
            bad_parameter(exc.message)
        if end < start:
            bad_parameter(_l("The end date must not be before the start date."))
        with m.zone_cache([site]):
            value = m.collect([site.id], start, end, [metric])[metric.key][site.id]
            table = metric.records(site.id, start, end)
        return self.render(
            "dashboard/records.html",
            metric=metric,
            site=site,
            start=start,
            end=end,
            shown=metric.format(value),
            zone=zone_name(site, clock.now()),
            table=table,
            rows=list(
                zip(
                    table["ids"],
                    table["rows"],
                    table.get("marks") or [None] * len(table["rows"]),
                    strict=True,
                )
            ),
        )


def register(admin):
    admin.add_view(
        FigureRecordsView(
            name=_l("Records behind a figure"), endpoint="figure_records", url="/dashboard/records"
        )
    )
