"""A site's own page: its status and working spells, what it still lacks before it can open
(``portal.services.readiness``) with a link to fix each gap, and the buttons that open, close
and reopen it (``portal.services.sites``).

Head office and the region's supervisor read it (the scope: another region's site is a 404);
head office opens, closes and reopens a site."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from portal import clock
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Site
from portal.models.org import SITE_STATUS_LABELS
from portal.services import readiness
from portal.services import sites as site_life
from portal.views.base import PortalView, domain_errors, expose, get_or_404

# Only head office changes an organisation record (the scope refuses a supervisor's write).
OPEN_ROLES = frozenset({"admin"})
CLOSE_ROLES = frozenset({"admin"})


def _url(endpoint, args):
    """The URL of a fixing page, or None when that page is not part of this portal."""
    try:
        return url_for(endpoint, **args)
    except BuildError:
        return None


def gap_rows(gaps):
    """[{key, label, hint, links: [(text, url)]}] of ``readiness.missing`` for a template."""
    rows = []
    for gap in gaps:
        links = [
            (text, url) for text, endpoint, args in gap.targets if (url := _url(endpoint, args))
        ]
        rows.append({"key": gap.key, "label": gap.label, "hint": gap.hint, "links": links})
    return rows


class SitePage(PortalView):
    read_roles = frozenset({"admin", "supervisor"})
    write_roles = OPEN_ROLES

    def is_visible(self):
        return False  # reached from the Sites list (its status column) and from the dashboard

    @expose("/")
    def index(self):
        sites = db.session.scalars(select(Site).order_by(Site.code).limit(500)).all()
        return self.render(
            "site_page/index.html",
            sites=sites,
            status_labels=SITE_STATUS_LABELS,
            page_title=_l("Sites and their readiness"),
        )

    @expose("/<site_id>/")
    def site(self, site_id):
        site = get_or_404(Site, site_id)
        return self._page(site)

    def _page(self, site, status=200):
        gaps = gap_rows(readiness.missing(site)) if site.status != "closed" else []
        spells = site_life.spells([site.id])[site.id]
        targets = []
        if site.status == "open" and current_user.role in CLOSE_ROLES:
            targets = db.session.scalars(
                select(Site)
                .where(Site.status == "open", Site.id != site.id)
                .order_by(Site.code)
                .limit(500)
            ).all()
        return self.render(
            "site_page/site.html",
            site=site,
            status_label=SITE_STATUS_LABELS.get(site.status, site.status),
            spells=spells,
            today=clock.local_day(site),
            gaps=gaps,
            may_open=current_user.role in OPEN_ROLES and site.status == "setup",
            may_close=current_user.role in CLOSE_ROLES and site.status == "open",
            may_reopen=current_user.role in CLOSE_ROLES and site.status == "closed",
            targets=targets,
            page_title=f"{site.code} {site.name}",
        ), status

    @expose("/<site_id>/open", methods=("POST",))
    def open(self, site_id):
        site = get_or_404(Site, site_id)
        if current_user.role not in OPEN_ROLES:
            abort(403)
        gaps = readiness.missing(site) if site.status == "setup" else []
        if gaps and request.form.get("despite") != "1":
            flash(
                _(
                    "%(n)s thing(s) are still missing. Tick the box to open the site anyway.",
                    n=len(gaps),
                ),
                "error",
            )
            return self._page(site, 400)
        return self._change(site, site_life.open_site, _("%(site)s is open.", site=site.code))

    @expose("/<site_id>/close", methods=("POST",))
    def close(self, site_id):
        site = get_or_404(Site, site_id)
        if current_user.role not in CLOSE_ROLES:
            abort(403)
        # Closing ends logins: the site's code typed again, so no stray or scripted POST does it.
        if (request.form.get("confirm_code") or "").strip().upper() != site.code.upper():
            flash(
                _("Type the site's code (%(code)s) to confirm closing it.", code=site.code), "error"
            )
            return self._page(site, 400)
        target = None
        chosen = (request.form.get("move_people_to") or "").strip()
        if chosen:
            # Read through the scope like every site; a number beyond any id is simply no site.
            possible = chosen.isascii() and chosen.isdigit() and 0 < int(chosen) < 2**63
            target = db.session.get(Site, int(chosen)) if possible else None
            if target is None or target.id == site.id or target.status != "open":
                flash(_("Choose an open site to move the people to."), "error")
                return self._page(site, 400)
        return self._change(
            site,
            lambda s: site_life.close_site(s, move_people_to=target),
            _("%(site)s is closed; its history stays in the reports.", site=site.code),
        )

    @expose("/<site_id>/reopen", methods=("POST",))
    def reopen(self, site_id):
        site = get_or_404(Site, site_id)
        if current_user.role not in CLOSE_ROLES:
            abort(403)
        return self._change(
            site, site_life.reopen_site, _("%(site)s is open again.", site=site.code)
        )

    def _change(self, site, change, done):
        """Run one life change of the site in one transaction; the page again when refused."""
        with domain_errors() as refused:
            change(site)
            db.session.commit()
        if refused:
            return self._page(get_or_404(Site, site.id), refused.status)
        flash(done, "success")
        return redirect(url_for(".site", site_id=site.id))


# ---------------------------------------------------------------- Today page


def today_section(site, day, user):
    """A site still in set-up tells its people plainly what it lacks (no links: head office
    fixes it); an open site shows nothing here and costs no query."""
    if site.status != "setup":
        return None
    return {
        "site": site,
        "gaps": readiness.missing(site),
        "page_url": _url("sitepage.site", {"site_id": site.id})
        if user.role in SitePage.read_roles
        else None,
    }


def register(admin):
    admin.add_view(SitePage(name=_l("Site page"), endpoint="sitepage", url="/sites"))
