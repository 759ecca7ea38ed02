"""What the benchmark measures: pages per role, with URL templates filled from the database.

A page is one ``Page(...)`` line here or a ``BenchPage`` in its domain's descriptor
(``bench_pages=``), and, if its URL needs an id, one entry in ``PARAMS``: a SQL query returning
that id. ``{name}`` in a URL is replaced by ``PARAMS[name]``.
The floor page (``/_floor``) is measured for every role that appears here; each page's
ratio is to its own role's floor.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from portal.domains import DOMAINS

# The demo users every dataset has (the large one is the demo organisation grown).
ROLE_USERS = {
    "clerk": "clerk_sz01",
    "supervisor": "sup_south",
    "admin": "admin",
    "maintenance": "maint_south",
    "sales": "sales_sz01",
    "security": "guard_sz01",
}
PASSWORD = "demo12345"
FLOOR_URL = "/_floor/"

# name -> SQL returning one value; used as {name} in page URLs.
PARAMS = {
    "sz01": "SELECT id FROM site WHERE code = 'SZ01'",
    "south": "SELECT id FROM region WHERE code = 'SOUTH'",
    # A ticket of maint_south's queue (SZ01), and a month that has data in every dataset (the
    # last full one).
    "ticket_sz01": "SELECT max(id) FROM repair_ticket "
    "WHERE site_id = (SELECT id FROM site WHERE code = 'SZ01')",
    "audit_sz01": "SELECT max(id) FROM audit_event "
    "WHERE site_id = (SELECT id FROM site WHERE code = 'SZ01')",
}


def derived_params(today=None):
    """Values not read from the database: the last full month (every dataset ends today)."""
    last_day = (today or date.today()).replace(day=1) - timedelta(days=1)
    last_month = last_day.replace(day=1)
    return {
        "last_month": last_month.isoformat(),
        "last_month_ym": f"{last_month:%Y-%m}",
        "last_month_end": last_day.isoformat(),
    }


@dataclass(frozen=True)
class Page:
    name: str
    role: str | None  # None: anonymous
    url: str
    kind: str = "list"  # list | detail | today | dashboard | pdf | other: which target applies


# Flask-Admin list URLs: ?sort=<index in column_list>[&desc=1];
# filters ?flt0_<english label>_<operation>=<value>
# (the base view sets named_filter_urls: "Site" + "equals" -> flt0_site_equals).
PAGES = [
    Page("login", None, "/login", "other"),
    Page("home overview", "clerk", "/?overview=1", "other"),
    Page("home overview (admin, all sites)", "admin", "/?overview=1", "other"),
    Page("site list", "clerk", "/site/"),
    Page("site list (admin)", "admin", "/site/"),
    Page("staff list", "clerk", "/staff/"),
    Page("staff list sorted by name", "supervisor", "/staff/?sort=1"),
    Page("staff list by site", "admin", "/staff/?flt0_site_equals={sz01}"),
    Page("user list", "admin", "/user/"),
    Page("user list sorted desc", "admin", "/user/?sort=0&desc=1"),
    Page("audit list", "admin", "/audit/"),
    Page("audit list oldest first", "admin", "/audit/?sort=0"),
    Page("audit list by site", "admin", "/audit/?flt0_site_equals={sz01}"),
    Page("audit list (supervisor, region)", "supervisor", "/audit/"),
    Page("audit detail", "admin", "/audit/details/?id={audit_sz01}", "detail"),
    # The domain pages. Every list sorts only on indexed columns (column_sortable_list),
    # so "sorted" is the other direction of the indexed sort column.
    Page("today (clerk)", "clerk", "/today/", "today"),
    Page("visit list", "clerk", "/visit/"),
    Page("visit list (admin)", "admin", "/visit/"),
    Page("visit list oldest first", "admin", "/visit/?sort=0"),
    Page("visit list by site", "admin", "/visit/?flt0_site_equals={sz01}"),
    Page("ticket queue", "maintenance", "/repairs/"),
    Page("ticket detail", "maintenance", "/repairs/{ticket_sz01}/", "detail"),
    Page("handover book", "clerk", "/handover/"),
    Page("handover entries (admin)", "admin", "/handover_entry/"),
    Page("stock ledger", "admin", "/stockmovement/"),
    Page("stock ledger by site", "admin", "/stockmovement/?flt0_site_equals={sz01}"),
    Page("checklist runs", "admin", "/checklistrun/"),
    Page("checklist runs (supervisor)", "supervisor", "/checklistrun/"),
    Page("discrepancies", "supervisor", "/discrepancies/"),
    Page("item list", "admin", "/item/"),
    Page("item list by site", "supervisor", "/item/?flt0_site_equals={sz01}"),
    Page("product list", "admin", "/product/"),
    Page("item check records", "admin", "/itemcheckrecord/"),
    Page("cleaning issues", "supervisor", "/cleaning_issue/"),
    Page("roster shifts", "admin", "/shift/"),
    Page("repair tickets (admin)", "admin", "/repairticket/"),
    Page("closed tallies (admin)", "admin", "/dailytally/"),
    Page(
        "dashboard month, region",
        "admin",
        "/dashboard/?period=month&on={last_month}&region={south}",
        "dashboard",
    ),
    Page(
        "dashboard month, all sites",
        "admin",
        "/dashboard/?period=month&on={last_month}",
        "dashboard",
    ),
    Page("monthly PDF one site", "admin", "/dashboard/site/{sz01}/{last_month_ym}.pdf", "pdf"),
    # The dashboard's drill-downs (one site, last month): the records behind a figure.
    *(
        Page(
            f"drill: {name}",
            "supervisor",
            f"/dashboard/records/?metric={metric}&site={{sz01}}"
            "&start={last_month}&end={last_month_end}",
        )
        for name, metric in (
            ("closed tallies", "tally_on_time"),
            ("checklists on time", "checklists_on_time"),
            ("drinks per visitor", "drinks_per_visitor"),
            ("tickets open at month end", "tickets_open"),
            ("tickets resolved", "hours_to_resolve"),
            ("cleaning fixes", "cleaning_hours_to_fix"),
            ("damage reports", "damage_reports"),
            ("grooming", "grooming_score"),
            ("staff on the roster", "staff_on_roster"),
            ("recorded changes", "audit_events"),
        )
    ),
]
# … and the pages each domain descriptor lists (portal/domains.py).
PAGES += [Page(p.name, p.role, p.url, p.kind) for d in DOMAINS for p in d.bench_pages]
