"""The bell on a phone (390×844): the maintenance worker sees his unread count without opening
the menu, opens his notifications and marks them read."""

from sqlalchemy import select

from portal.models import User
from tests.conftest import browser_login, screenshot
from tests.repairs_helpers import new_ticket


def test_bell_and_my_notifications_on_a_phone(browser, live_server, app, login, dbs):
    maint = dbs.scalar(select(User).where(User.username == "maint_south"))
    sup = login("sup_south")
    tickets = [new_ticket(app), new_ticket(app)]
    for ticket_id in tickets:
        sup.post(f"/repairs/{ticket_id}/action/assign", {"assign-assignee": maint.id})
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    browser_login(page, live_server, "maint_south")
    bell = page.locator("#notice-bell")
    assert bell.is_visible()  # outside the collapsed menu
    assert page.inner_text("#bell-count") == "2"
    screenshot(page, "notify-bell-phone")
    with page.expect_navigation():
        bell.click()
    body = page.inner_text("body")
    assert "我的通知" in body and body.count("报修单已派给你：落地灯") == 2
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "notify-list-phone")
    with page.expect_navigation():
        page.click("#read-all")
    assert page.inner_text("#bell-count") == "0"
    # Opening one goes to the ticket.
    with page.expect_navigation():
        page.locator("#notifications button[name=open]").first.click()
    assert page.url.endswith(f"/repairs/{tickets[1]}/")
    context.close()
    # On a wide screen the bell sits at the end of the bar.
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    browser_login(page, live_server, "maint_south")
    assert page.locator("#notice-bell").is_visible()
    assert page.inner_text("#bell-count") == "0"
    screenshot(page, "notify-bell-desktop")
    context.close()
