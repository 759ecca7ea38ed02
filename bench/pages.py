"""What the benchmark measures: pages per role, with URL templates filled from the database.

Phase 2 adds a page with one ``Page(...)`` line (and, if its URL needs an id, one entry in
``PARAMS``: a SQL query returning that id). ``{name}`` in a URL is replaced by ``PARAMS[name]``.
The floor page (``/_floor``) is measured for every role that appears here; each page's
ratio is to its own role's floor.
"""
from dataclasses import dataclass

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
    "audit_sz01": "SELECT max(id) FROM audit_event WHERE site_id = (SELECT id FROM site WHERE code = 'SZ01')",
}


@dataclass(frozen=True)
class Page:
    name: str
    role: str | None  # None: anonymous
    url: str
    kind: str = "list"  # list | detail | today | dashboard | pdf | other: which target applies


# Flask-Admin list URLs: ?sort=<index in column_list>[&desc=1]; filters ?flt0_<english label>_<operation>=<value> (named filter URLs)
# (the views do not set named_filter_urls).
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
]
