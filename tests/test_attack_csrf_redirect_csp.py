"""Protections every route keeps, whichever domains are registered:

* every state-changing url rule (all POST rules of ``app.url_map``) refuses a request without
  the CSRF token with 400, and the database is unchanged;
* ``next=`` / ``url=`` never redirect off-host, on any rule (GET and POST);
* the workflow pages run in Chromium under the CSP without a single violation.
"""

import re
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import func, select, text

from portal.extensions import db
from portal.models import DamageReport, RepairTicket
from tests.conftest import PortalClient, browser_login, screenshot

SKIP = {"static", "home.static", "swatch_css"}
EVIL = [
    "//evil.example/",
    "/\\evil.example",
    "https://evil.example/x",
    "java%0ascript:alert(1)",
    "\\\\evil.example",
    "https:evil.example",
    "http://evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "///evil.example",
]
PER_RULE = 4  # every rule gets the first four; the login page gets all ten


def _first(model, sz01):
    return db.session.scalar(select(model.id).where(model.site_id == sz01).order_by(model.id))


def _path(rule, sample):
    """The rule with every argument filled by an SZ01 id (or a valid word)."""
    words = {"export_type": "csv", "step": "fix", "action": "start", "month": "2026-01"}
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(
            r"<(?:[^:>]+:)?%s>" % arg, str(words.get(arg, sample.get(arg, sample["id"]))), path
        )
    return path


def _samples(site_ids):
    from portal.models import ChecklistRun, HandoverEntry, ItemCheck, Photo, StaffMember

    sz01 = site_ids["SZ01"]
    return {
        "id": _first(HandoverEntry, sz01) or 1,
        "run_id": _first(ChecklistRun, sz01) or 1,
        "report_id": _first(DamageReport, sz01) or 1,
        "ticket_id": _first(RepairTicket, sz01) or 1,
        "staff_id": _first(StaffMember, sz01),
        "check_id": _first(ItemCheck, sz01) or 1,
        "photo_id": _first(Photo, sz01) or 1,
        "site_id": sz01,
        "region_id": 1,
        "follow_up_id": 1,
    }


def _fingerprint():
    counts = []
    for table in db.metadata.sorted_tables:
        counts.append(db.session.execute(select(func.count()).select_from(table)).scalar())
    # the content too: a token-less edit must not change a single value
    counts.append(db.session.execute(text("SELECT max(id) FROM audit_event")).scalar())
    return counts


def _post_rules(app):
    return [
        r
        for r in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
        if "POST" in r.methods and r.endpoint not in SKIP
    ]


@pytest.mark.parametrize("user", ["admin", "clerk_sz01"])
def test_every_post_rule_refuses_a_missing_csrf_token(app, login, full_demo, dbs, user):
    client = login(user)
    sample = _samples(full_demo)
    before = _fingerprint()
    wrong = []
    rules = _post_rules(app)
    for rule in rules:
        path = _path(rule, sample)
        form = {
            "id": sample["id"],
            "rowid": sample["id"],
            "action": "delete",
            "name": "无令牌",
            "text": "无令牌",
            "site": full_demo["SZ01"],
            "party": "2:0",
            "list_form_pk": sample["id"],
            "quantity": "1",
        }
        resp = client.post(path, form, csrf=False)
        if resp.status_code != 400:
            wrong.append(f"{path}: {resp.status_code}")
    dbs.expire_all()
    assert not wrong, wrong
    assert _fingerprint() == before, "a token-less POST changed the database"
    print(
        f"\ncsrf[{user}]: {len(rules)} POST rules without token → {len(rules)} × 400, "
        "database unchanged"
    )


def _off_host(location):
    if not location:
        return False
    loc = location.strip().replace("\\", "/")
    parts = urlsplit(loc)
    return (
        bool(parts.netloc and parts.netloc != "localhost")
        or parts.scheme not in ("", "http", "https")
        or loc.startswith("//")
    )


def test_next_and_url_never_redirect_off_host(app, login, full_demo, dbs):
    sample = _samples(full_demo)
    users = {"admin": login("admin"), "clerk_sz01": login("clerk_sz01")}
    tried, bad = 0, []
    rules = [
        r for r in sorted(app.url_map.iter_rules(), key=lambda r: r.rule) if r.endpoint not in SKIP
    ]
    for evil in EVIL:
        q = quote(evil, safe=":/%")
        # the login page: before and after authenticating
        resp = PortalClient(app).post(
            f"/login?next={q}", {"username": "clerk_sz02", "password": "demo12345"}
        )
        tried += 1
        if _off_host(resp.headers.get("Location")):
            bad.append(f"login next={evil} → {resp.headers['Location']}")
        for name, c in users.items():
            for rule in rules if evil in EVIL[:PER_RULE] else ():
                path = _path(rule, sample)
                urls = [f"{path}?next={q}&url={q}"]
                if rule.endpoint.endswith(
                    ("edit_view", "details_view", "create_view", "delete_view")
                ):
                    urls = [f"{path}?id={sample['id']}&url={q}"]
                for url in urls:
                    if "GET" in rule.methods:
                        resp = c.get(url)
                        tried += 1
                        if _off_host(resp.headers.get("Location")):
                            bad.append(f"{name} GET {url} → {resp.headers['Location']}")
                    if "POST" in rule.methods and rule.endpoint not in ("auth.logout",):
                        resp = c.post(
                            url, {"next": evil, "url": evil, "id": sample["id"], "party": "2:0"}
                        )
                        tried += 1
                        if _off_host(resp.headers.get("Location")):
                            bad.append(f"{name} POST {url} → {resp.headers['Location']}")
    print(
        f"\nredirect: {len(EVIL)} hostile targets, {tried} requests, {len(bad)} off-host redirects"
    )
    assert not bad, bad[:20]


WORKFLOW_PAGES = {
    "clerk_sz01": [
        "/today/",
        "/visits/",
        "/stock/",
        "/tally/",
        "/repairs/",
        "/repairs/new/",
        "/damage/",
        "/damage/new/",
        "/handover/",
        "/cleaning/",
        "/breaks/",
        "/checklists/",
        "/item-checks/",
        "/roster/",
        "/grooming/",
        "/repairs/{ticket}/",
        "/damage/{report}/",
    ],
    "sup_south": [
        "/dashboard/",
        "/audit/",
        "/discrepancies/",
        "/handover_entry/",
        "/stockmovement/",
    ],
}


def test_workflow_pages_have_no_csp_violation(page, live_server, app, full_demo):
    with app.app_context():
        ids = {
            "ticket": _first(RepairTicket, full_demo["SZ01"]),
            "report": _first(DamageReport, full_demo["SZ01"]),
        }
        db.session.remove()
    problems, visited = [], 0
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    for user, paths in WORKFLOW_PAGES.items():
        page.context.clear_cookies()
        browser_login(page, live_server, user)
        for path in paths:
            page.goto(f"{live_server}{path.format(**ids)}")
            page.wait_for_load_state("networkidle")
            visited += 1
    screenshot(page, "csp_workflow_last_page")
    print(f"\ncsp: {visited} workflow pages in Chromium, {len(problems)} violations")
    assert not problems, problems
