"""In a real Chromium at 390 px: the maintenance worker claims a ticket in one tap, the
supervisor sees assign and edit, the clerk reassigns a cleaning issue. Screenshots go to
artifacts/screenshots/owners-*.png."""

from tests.conftest import browser_login, screenshot
from tests.repairs_helpers import make_ticket, system
from tests.test_owners import _checklist_issue

PHONE = {"width": 390, "height": 844}


def _phone(browser):
    return browser.new_context(locale="zh-CN", viewport=PHONE).new_page()


def _fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_claim_assign_edit_and_reassign_on_a_phone(app, live_server, browser):
    with system(app) as s:
        ticket_id = make_ticket(s, "new")
        s.commit()
    worker = _phone(browser)
    browser_login(worker, live_server, "maint_south")
    worker.goto(f"{live_server}/repairs/{ticket_id}/")
    assert worker.is_visible("#action-claim") and _fits(worker)
    screenshot(worker, "owners-01-phone-claim")
    with worker.expect_navigation():
        worker.click("#action-claim")
    assert worker.inner_text("#assignee").strip() == "吴师傅"
    screenshot(worker, "owners-02-phone-claimed")

    sup = _phone(browser)
    browser_login(sup, live_server, "sup_south")
    sup.goto(f"{live_server}/repairs/{ticket_id}/")
    assert sup.is_visible("#edit-ticket") and sup.is_visible("#action-assign") and _fits(sup)
    screenshot(sup, "owners-03-phone-supervisor-assign-edit")
    sup.click("#edit-ticket")
    sup.select_option("#priority", "urgent")
    assert _fits(sup)
    screenshot(sup, "owners-04-phone-edit-form")
    with sup.expect_navigation():
        sup.click("#save-ticket")
    assert "工单已修改" in sup.content()
    screenshot(sup, "owners-05-phone-edited")

    issue_id = _checklist_issue(app)
    clerk = _phone(browser)
    browser_login(clerk, live_server, "clerk_sz01")
    clerk.goto(f"{live_server}/cleaning/")
    card = clerk.locator(f"#issue-{issue_id}")
    assert card.locator(".issue-cleaner").inner_text() != "未指派" and _fits(clerk)
    card.scroll_into_view_if_needed()
    screenshot(clerk, "owners-06-phone-cleaning-assign")
