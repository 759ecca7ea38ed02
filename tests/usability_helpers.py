"""Shared by the usability tests: the demo data, the workflow pages per role, and a browser
context per role and viewport that logs in once."""

import os

from sqlalchemy import select

from portal.extensions import db
from tests.conftest import ARTIFACTS, browser_login, screenshot

TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}
SIZES = {"tablet": TABLET, "phone": PHONE}
SCREENS = os.path.join(ARTIFACTS, "screenshots", "usability")
AXE = os.path.join(os.path.dirname(__file__), "js", "node_modules", "axe-core", "axe.min.js")


def seed_full_demo(app):
    """The full demo data (a week of visits, checklists, tickets…) on top of the demo org;
    returns the ids the workflow pages need."""
    from portal import devdata
    from portal.models import ChecklistRun, DamageReport, ItemCheck, RepairTicket, Site
    from portal.services import visits

    with app.app_context():
        devdata.seed_demo()
        sz01 = db.session.scalar(select(Site.id).where(Site.code == "SZ01"))

        def first(model, *where):
            return db.session.scalar(
                select(model.id).where(model.site_id == sz01, *where).order_by(model.id.desc())
            )

        ids = {
            "run": first(ChecklistRun, ChecklistRun.completed_at.is_(None)) or first(ChecklistRun),
            "check": first(ItemCheck),
            # The ticket a maintenance worker acts on: open, with its action buttons.
            "ticket": first(
                RepairTicket, RepairTicket.status.in_(("assigned", "in_progress", "waiting_parts"))
            ),
            "damage": first(DamageReport),
        }
        # An open visit to serve: the demo's visits all left on earlier days.
        site = db.session.get(Site, sz01)
        ids["visit"] = visits.record_arrival(site, adults=2, children=1).id
        db.session.commit()
        db.session.remove()
    return ids


def workflow_pages(ids):
    """(role user, name, url) of every workflow page named in the usability issue."""
    pages = [
        ("clerk_sz01", "today", "/today/"),
        ("clerk_sz01", "checklists", "/checklists/"),
        ("clerk_sz01", "checklist_run", f"/checklists/run/{ids['run']}"),
        ("clerk_sz01", "item_check", f"/item-checks/{ids['check']}"),
        ("clerk_sz01", "visit_log", "/visits/"),
        ("clerk_sz01", "tally", "/tally/"),
        ("clerk_sz01", "handover", "/handover/"),
        ("clerk_sz01", "cleaning", "/cleaning/"),
        ("clerk_sz01", "cleaning_inspect", "/cleaning/inspect"),
        ("clerk_sz01", "damage_list", "/damage/"),
        ("clerk_sz01", "damage_new", "/damage/new/"),
        ("clerk_sz01", "damage_report", f"/damage/{ids['damage']}/"),
        ("clerk_sz01", "repairs_new", "/repairs/new/"),
        ("maint_south", "ticket_queue", "/repairs/"),
        ("maint_south", "ticket_page", f"/repairs/{ids['ticket']}/"),
        ("sales_sz01", "sales_visits", "/visits/"),
        ("guard_sz01", "guard_today", "/today/"),
    ]
    pages.insert(5, ("clerk_sz01", "serve_drinks", f"/visits/serve?id={ids['visit']}"))
    return pages


# Main pages per role beyond the workflow pages: the lists each role opens from the menu.
ROLE_PAGES = {
    "admin": [
        "/dashboard/",
        "/site/",
        "/user/",
        "/region/",
        "/checklisttemplate/",
        "/item/",
        "/product/",
        "/audit/",
        "/staff/",
        "/account/",
        "/trash/",
        "/stockmovement/",  # more than a page of rows: its pager
    ],
    "sup_south": [
        "/dashboard/",
        "/today/",
        "/visit/",
        "/checklistrun/",
        "/itemcheckrecord/",
        "/discrepancies/",
        "/handover/",
        "/cleaning_issue/",
        "/grooming/",
        "/roster/",
        "/repairs/",
        "/damage/",
        "/tally/missing",
        "/stockmovement/",
        "/breaks/",
    ],
    "clerk_sz01": ["/stock/", "/breaks/", "/roster/", "/photos/", "/visit/"],
    "guard_sz01": ["/visits/", "/handover/", "/repairs/"],
    "sales_sz01": ["/damage/"],
    "maint_south": ["/photos/"],
}


def main_pages(ids):
    pages = [(user, url) for user, _name, url in workflow_pages(ids)]
    pages += [(user, url) for user, urls in ROLE_PAGES.items() for url in urls]
    return pages


class Sessions:
    """One logged-in browser context per (user, viewport), reused across pages."""

    def __init__(self, browser, live_server, locale="zh-CN"):
        self.browser, self.live_server, self.locale = browser, live_server, locale
        self.contexts = {}

    def page(self, user, viewport=None):
        key = (user, tuple((viewport or {"width": 1280, "height": 900}).values()))
        if key not in self.contexts:
            # bypass_csp: axe-core is injected as an inline script, which a strict CSP would refuse.
            ctx = self.browser.new_context(
                locale=self.locale,
                viewport=viewport or {"width": 1280, "height": 900},
                bypass_csp=True,
            )
            pg = ctx.new_page()
            browser_login(pg, self.live_server, user)
            self.contexts[key] = (ctx, pg)
        return self.contexts[key][1]

    def close(self):
        for ctx, _pg in self.contexts.values():
            ctx.close()
        self.contexts.clear()


def save_screenshot(page, name):
    return screenshot(page, name, folder=SCREENS)
