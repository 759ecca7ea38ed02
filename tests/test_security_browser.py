"""The main pages run in Chromium under the CSP without a single violation."""
from tests.conftest import browser_login, screenshot

PAGES = ["/", "/site/", "/staff/", "/user/", "/region/", "/showunit/", "/audit/", "/account/",
         "/staff/new/", "/no-such-page"]


def test_main_pages_have_no_csp_violation(page, live_server, app, site_ids):
    problems = []
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{live_server}/login")
    assert not problems
    browser_login(page, live_server, "admin")
    for path in PAGES:
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
    # Flask-Admin's scripts really ran (they are nonce'd or external): select2 decorated the form.
    page.goto(f"{live_server}/staff/new/")
    page.wait_for_selector(".select2-container")
    screenshot(page, "security_staff_new")
    assert not problems, problems
