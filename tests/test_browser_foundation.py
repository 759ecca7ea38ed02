"""A real Chromium: the clerk logs in, sees the Chinese portal, and logs out."""

from tests.conftest import browser_login, screenshot


def test_clerk_logs_in_sees_chinese_ui_and_logs_out(page, live_server):
    page.goto(f"{live_server}/login")
    assert "售楼处运营平台" in page.title()
    screenshot(page, "foundation-login")
    browser_login(page, live_server, "clerk_sz01")
    page.goto(f"{live_server}/?overview=1")
    body = page.inner_text("body")
    assert "李晓梅" in body and "深圳湾售楼处" in body
    assert "陆家嘴售楼处" not in body
    screenshot(page, "foundation-home-clerk")
    page.goto(f"{live_server}/staff/")
    assert "人员" in page.inner_text("body")
    screenshot(page, "foundation-staff-list")
    page.click("#user-menu")
    page.click("#logout-button")
    page.wait_for_url(f"{live_server}/login")
    assert "您已退出登录" in page.inner_text("body")
    page.goto(f"{live_server}/staff/")
    assert page.url.startswith(f"{live_server}/login")


def test_supervisor_overview_at_tablet_size(browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 768, "height": 1024})
    page = context.new_page()
    browser_login(page, live_server, "sup_south")
    page.goto(f"{live_server}/?overview=1")
    body = page.inner_text("body")
    assert "深圳湾售楼处" in body and "前海售楼处" in body and "虹桥售楼处" not in body
    # No horizontal scrolling at tablet width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "foundation-home-supervisor-tablet")
    page.goto(f"{live_server}/user/")
    screenshot(page, "foundation-users-supervisor-tablet")
    context.close()
