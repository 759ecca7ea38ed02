"""In a real browser: head office finds a new site's page from the Sites list, reads what is
missing, opens it after the second confirmation, and the dashboard marks the sites it leaves
out of the averages. Screenshots land in artifacts/screenshots/."""

from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import Region, Site
from tests.conftest import browser_login, screenshot


def test_open_a_new_site_and_see_it_marked_on_the_dashboard(page, live_server, app, full_demo):
    with app.app_context():
        south = db.session.scalar(select(Region).where(Region.code == "SOUTH"))
        db.session.add(Site(code="SZ08", name="南山设置中售楼处", region=south, status="setup"))
        db.session.add(Site(code="SZ09", name="前海新售楼处", region=south, status="setup"))
        db.session.commit()
        db.session.remove()
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/site/?search=SZ09")
    with page.expect_navigation():
        page.locator("a.site-page-link").first.click()
    assert "开业前还缺少" in page.content()
    assert page.locator("#gaps li").count() >= 6
    screenshot(page, "site_page_not_ready")

    page.once("dialog", lambda dialog: dialog.accept())
    page.check("#despite")
    with page.expect_navigation():
        page.click("#open-site")
    assert "SZ09 已开业" in page.content()
    assert page.locator("#site-status").inner_text() == "营业中"
    screenshot(page, "site_page_opened")

    page.goto(f"{live_server}/dashboard/")
    setup_row = page.locator('tr[data-site="SZ08"]')
    assert "筹备中" in setup_row.inner_text()
    if clock.local_day(clock.DEFAULT_ZONE).day > 1:  # opened after the month's first day
        assert "新开业" in page.locator('tr[data-site="SZ09"]').inner_text()
    assert "SZ08" not in page.locator("#ranking").inner_text()
    assert page.locator("#left-out").is_visible()
    screenshot(page, "dashboard_marked_sites")
