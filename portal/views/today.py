"""The Today page: the clerk's landing page for her site — what is due now, open visits,
low stock: the sections every domain declares in its descriptor (``today=`` in
``portal/domains.py``, registered in ``portal.services.today``).

Also the site choice shared by the site-bound pages (Today, visit log, stock, tally): a
user with one site works there; a user with several picks one and the session remembers it.
"""

from flask import abort, g, redirect, request, session, url_for
from portal import clock
from portal.i18n import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from portal.extensions import db
from portal.models import Site
from portal.services import today
from portal.services import sites as site_life
from portal.views.auth import safe_next
from portal.views.base import PortalView, expose
from portal.views.home import set_landing

SESSION_KEY = "site_id"
TODAY_ROLES = frozenset({"admin", "supervisor", "clerk", "security"})
STOCK_ROLES = frozenset({"admin", "supervisor", "clerk"})

DIRECTION_LABELS = {
    "main_gate": _l("Main gate"),
    "east_gate": _l("East gate"),
    "west_gate": _l("West gate"),
    "parking": _l("Car park"),
    "show_unit": _l("To the show unit"),
    "other": _l("Other"),
}


# ---------------------------------------------------------------- the chosen site


def my_sites():
    """Active sites of the current user (the scope filters the query), read once per request."""
    if "_my_sites" not in g:
        if current_user.role in ("admin", "supervisor"):
            g._my_sites = db.session.scalars(
                select(Site).where(site_life.taking_records()).order_by(Site.code).limit(500)
            ).all()
        else:  # exactly the sites the scope was built from, loaded already for this request
            g._my_sites = sorted((s for s in current_user.sites if s.active), key=lambda s: s.code)
    return g._my_sites


def chosen_site(sites=None):
    """The site the user works on now, or None when he has several and has not picked one."""
    sites = my_sites() if sites is None else sites
    wanted = session.get(SESSION_KEY)
    for site in sites:
        if site.id == wanted:
            return site
    return sites[0] if len(sites) == 1 else None


def site_or_picker(view, template_endpoint):
    """(site, None) or (None, response showing the site picker)."""
    sites = my_sites()
    site = chosen_site(sites)
    if site is not None:
        return site, None
    return None, view.render(
        "today/pick_site.html",
        sites=sites,
        next_url=url_for(template_endpoint),
        page_title=_l("Choose your site"),
    )


# ---------------------------------------------------------------- the page


class TodayView(PortalView):
    read_roles = TODAY_ROLES

    @expose("/")
    def index(self):
        site, picker = site_or_picker(self, "today.index")
        if picker is not None:
            return picker
        day = clock.local_day(site)
        sections = today.sections_for(site, day, current_user)
        return self.render(
            "today/index.html",
            site=site,
            day=day,
            now=clock.local_now(site),
            sections=sections,
            several_sites=len(my_sites()) > 1,
            page_title=_l("Today at %(site)s", site=site.name),
        )

    @expose("/site", methods=("POST",))
    def pick_site(self):
        try:
            site_id = int(request.form.get("site_id", ""))
        except ValueError:
            abort(404)
        if not any(s.id == site_id for s in my_sites()):
            abort(404)
        session[SESSION_KEY] = site_id
        return redirect(safe_next(request.form.get("next")) or url_for("today.index"))

    @expose("/switch")
    def switch(self):
        return self.render(
            "today/pick_site.html",
            sites=my_sites(),
            next_url=safe_next(request.args.get("next")) or url_for("today.index"),
            page_title=_l("Choose your site"),
        )


def register(admin):
    admin.add_view(TodayView(name=_l("Today"), endpoint="today", url="/today"))
    set_landing("clerk", "today.index")
