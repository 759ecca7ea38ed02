"""The main pages run in Chromium under the CSP without a single violation."""

from tests.conftest import browser_login, screenshot

PAGES = [
    "/",
    "/site/",
    "/staff/",
    "/user/",
    "/region/",
    "/showunit/",
    "/audit/",
    "/account/",
    "/staff/new/",
    "/no-such-page",
]


def test_main_pages_have_no_csp_violation(page, live_server, app, site_ids):
    problems = []
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
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


def test_delete_still_asks_for_confirmation_without_inline_handlers(
    page, live_server, app, site_ids
):
    problems = []
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/showunit/")
    rows_before = page.locator("table.model-list tbody tr").count()
    dialogs = []

    def dismiss(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.locator("button[data-confirm]").first.click()  # the dialog is answered in the click
    assert dialogs and "确定" in dialogs[0]  # the question came from portal-csp.js
    page.goto(f"{live_server}/showunit/")
    assert page.locator("table.model-list tbody tr").count() == rows_before  # cancelled: kept
    assert not problems, problems
