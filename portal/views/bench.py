"""The benchmark floor: an authenticated page with the portal layout and no data.

Registered only when config ``BENCH_FLOOR_PAGE`` is true (the benchmark server); the
benchmark divides every page's latency by this one's.
"""

from portal.i18n import lazy_gettext as _l

from portal.views.base import ALL_ROLES, PortalView, expose


class FloorView(PortalView):
    read_roles = ALL_ROLES

    def is_visible(self):
        return False

    @expose("/")
    def index(self):
        return self.render("bench/floor.html")


def register(admin):
    if admin.app.config.get("BENCH_FLOOR_PAGE"):
        admin.add_view(FloorView(name=_l("Benchmark floor"), url="/_floor", endpoint="bench_floor"))
