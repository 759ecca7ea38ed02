"""In a real browser: a handover with an open item is written, signed and carried by the
next shift; a failed cleaning area becomes an issue that is fixed and verified. Screenshots
of every page of the domain land in artifacts/screenshots/."""

from sqlalchemy import select

from portal.extensions import db
from portal.models import CleaningIssue, HandoverEntry, HandoverItem
from tests.conftest import browser_login, screenshot
from tests.handover_helpers import system_session


def _logout(page):
    page.context.clear_cookies()


def test_handover_and_cleaning_round_trip(page, live_server, app):
    # Day 1, evening: the clerk writes a handover with one open item.
    browser_login(page, live_server, "clerk_sz01")
    page.goto(f"{live_server}/handover/")
    page.fill("#text", "今日接待 12 批客户；样板房钥匙已交回前台。")
    page.fill("#items", "二号洽谈区落地灯不亮，已报修")
    page.click("#write-button")
    page.wait_for_load_state("networkidle")
    assert "交接记录已保存" in page.content()
    screenshot(page, "handover_entry_written")
    _logout(page)

    # Day 2, morning: the guard reads the book, signs in one tap and carries the item forward.
    browser_login(page, live_server, "guard_sz01")
    page.goto(f"{live_server}/handover/")
    screenshot(page, "handover_book_unsigned")
    page.click(".sign-button")
    page.wait_for_load_state("networkidle")
    assert "已签收" in page.content()
    page.click(".carry-button")
    page.wait_for_load_state("networkidle")
    assert "事项已顺延至下一班" in page.content()
    screenshot(page, "handover_item_carried")
    with system_session(app) as s:
        entry = s.scalar(select(HandoverEntry))
        assert entry.signed_by.username == "guard_sz01"
        first, carried = s.scalars(select(HandoverItem).order_by(HandoverItem.id)).all()
        assert (first.status, carried.status, carried.root_id) == ("carried", "open", first.id)
        first_id, entry_id = first.id, entry.id
    page.goto(f"{live_server}/handover/item/{first_id}")
    assert "赵建国" in page.content()
    screenshot(page, "handover_item_history")
    page.goto(f"{live_server}/handover/entry/{entry_id}")
    screenshot(page, "handover_entry_signed")

    # The guard inspects cleaning: the floor fails and goes to the cleaner.
    page.goto(f"{live_server}/cleaning/inspect")
    radios = page.locator("input[type=radio][value=pass]")
    for i in range(radios.count()):
        radios.nth(i).check(force=True)
    page.locator("input[type=radio][value=fail]").first.check(force=True)
    page.locator("input[id^=note-]").first.fill("地面有水渍")
    page.select_option("#cleaner", label="孙阿姨")
    screenshot(page, "cleaning_inspection_form")
    page.click("#save-inspection")
    page.wait_for_load_state("networkidle")
    assert "已生成 1 个整改问题" in page.content()
    page.click(".fix-button")
    page.wait_for_load_state("networkidle")
    assert "已标记为已整改" in page.content()
    screenshot(page, "cleaning_issue_fixed")
    _logout(page)

    # The clerk (not the one who fixed it) takes the second look.
    browser_login(page, live_server, "clerk_sz01")
    page.goto(f"{live_server}/cleaning/")
    page.click(".verify-button")
    page.wait_for_load_state("networkidle")
    assert "已复查确认" in page.content()
    with system_session(app) as s:
        assert s.scalar(select(CleaningIssue.status)) == "verified"
    screenshot(page, "cleaning_issue_verified")


def test_screenshots_of_every_page_with_a_week_of_demo_data(page, live_server, app):
    from portal import devdata

    with app.app_context():
        devdata.seed_demo()
        db.session.remove()
    pages = {
        "sup_south": [
            "/roster/",
            "/shift/",
            "/shift/new/",
            "/handover/",
            "/handover_entry/",
            "/cleaning/",
            "/cleaning_issue/",
            "/cleaning_area/",
            "/grooming/",
            "/breaks/",
        ],
        "clerk_sz01": ["/handover/", "/cleaning/", "/breaks/", "/roster/"],
    }
    for username, urls in pages.items():
        browser_login(page, live_server, username)
        for url in urls:
            resp = page.goto(f"{live_server}{url}")
            assert resp.status == 200, url
            screenshot(page, f"{username}_{url.strip('/').replace('/', '_')}")
        _logout(page)
    browser_login(page, live_server, "sup_south")
    page.goto(f"{live_server}/grooming/")
    page.click("a[href^='/grooming/person/']")
    page.wait_for_load_state("networkidle")
    screenshot(page, "sup_south_grooming_person")
    page.goto(f"{live_server}/grooming/")
    page.click("a[href^='/grooming/inspect/']")
    screenshot(page, "sup_south_grooming_inspect")
    # Tablet and phone.
    for name, size in (("tablet", (768, 1024)), ("phone", (390, 844))):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        for url in ("/handover/", "/cleaning/"):
            page.goto(f"{live_server}{url}")
            screenshot(page, f"{name}_{url.strip('/')}")
