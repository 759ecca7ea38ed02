"""The landing page: each role goes where its work is."""

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import ShowUnit, Site, StaffMember

# Site cards per overview page: head office sees 200 sites, and the page must stay the same size
# however many there are.
OVERVIEW_PAGE_SIZE = 24

# role -> endpoint of its landing page; domain modules register theirs (Today, visit log,
# my tickets…).
LANDING_PAGES: dict[str, str] = {}


def set_landing(role, endpoint):
    LANDING_PAGES[role] = endpoint


class HomeView(AdminIndexView):
    def is_accessible(self):
        return current_user.is_authenticated

    def is_visible(self):
        # Not a menu entry: the brand at the menu's start leads here, and for most roles this
        # page is their landing page (今日, 来访登记…), which has its own entry.
        return False

    def inaccessible_callback(self, name, **kwargs):
        return redirect(
            url_for("auth.login", next=request.full_path if request.path != "/" else None)
        )

    @expose("/")
    def index(self):
        endpoint = LANDING_PAGES.get(current_user.role)
        if endpoint and request.args.get("overview") is None:
            return redirect(url_for(endpoint))
        page = request.args.get("page", "")
        page = int(page) if page.isdigit() else 0
        sites, more = self._sites(page)
        return self.render("home/index.html", sites=sites, page=page, more=more)

    def _sites(self, page):
        """One page of site cards and whether another follows: one query for the sites and
        one per count kind (limited to the page's sites), whatever the number of sites."""
        sites = db.session.scalars(
            select(Site)
            .options(joinedload(Site.region))
            .order_by(Site.code)
            .offset(page * OVERVIEW_PAGE_SIZE)
            .limit(OVERVIEW_PAGE_SIZE + 1)
        ).all()
        more, sites = len(sites) > OVERVIEW_PAGE_SIZE, sites[:OVERVIEW_PAGE_SIZE]
        ids = [s.id for s in sites]
        staff = dict(
            db.session.execute(
                select(StaffMember.site_id, func.count())
                .where(StaffMember.site_id.in_(ids))
                .group_by(StaffMember.site_id)
            ).all()
        )
        units = dict(
            db.session.execute(
                select(ShowUnit.site_id, func.count())
                .where(ShowUnit.site_id.in_(ids))
                .group_by(ShowUnit.site_id)
            ).all()
        )
        return [(s, staff.get(s.id, 0), units.get(s.id, 0)) for s in sites], more
