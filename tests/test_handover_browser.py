"""In a real browser: a handover with an open item is written, signed and carried by the
next shift; a failed cleaning area becomes an issue that is fixed and verified. Screenshots
of every page of the domain land in artifacts/screenshots/."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from portal.models import CleaningIssue, HandoverEntry, HandoverItem
from tests.conftest import browser_login, screenshot
from portal import clock
from portal.services import roster
from tests.handover_helpers import site, staff, system_session
from tests.repairs_helpers import image_bytes


def _logout(page):
    page.context.clear_cookies()


def test_handover_and_cleaning_round_trip(page, live_server, app, request):
    # Day 1, evening: the clerk writes a handover with one open item.
    browser_login(page, live_server, "clerk_sz01")
    page.goto(f"{live_server}/handover/")
    page.fill("#text", "今日接待 12 批客户；样板房钥匙已交回前台。")
    page.fill("#items", "二号洽谈区落地灯不亮，已报修")
    with page.expect_navigation():
        page.click("#write-button")
    assert "交接记录已保存" in page.content()
    screenshot(page, "handover_entry_written")
    _logout(page)

    # Day 2, morning: the roster puts the guard on the front desk's next shift; once it has
    # started he reads the book, signs in one tap and carries the item forward.
    with system_session(app) as s:
        start = s.scalar(select(HandoverEntry.written_at)) + timedelta(minutes=1)
        roster.plan(
            site(s, "SZ01"),
            "reception",
            staff(s, "SZ01", username="guard_sz01"),
            start,
            start + timedelta(hours=8),
        )
    traveller = time_machine.travel(start + timedelta(minutes=5), tick=True)
    traveller.start()  # till the end: a session opened in the morning is no older in the past
    request.addfinalizer(traveller.stop)
    browser_login(page, live_server, "guard_sz01")
    page.goto(f"{live_server}/handover/")
    screenshot(page, "handover_book_unsigned")
    with page.expect_navigation():
        page.click(".sign-button")
    assert "已签收" in page.content()
    with page.expect_navigation():
        page.click(".carry-button")
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
    with page.expect_navigation():
        page.click("#save-inspection")
    assert "已生成 1 个整改问题" in page.content()
    with page.expect_navigation():
        page.click(".fix-button")
    assert "已标记为已整改" in page.content()
    screenshot(page, "cleaning_issue_fixed")
    _logout(page)

    # The clerk (not the one who fixed it) takes the second look.
    browser_login(page, live_server, "clerk_sz01")
    page.goto(f"{live_server}/cleaning/")
    with page.expect_navigation():
        page.click(".verify-button")
    assert "已复查确认" in page.content()
    with system_session(app) as s:
        assert s.scalar(select(CleaningIssue.status)) == "verified"
    screenshot(page, "cleaning_issue_verified")


def test_screenshots_of_every_page_with_a_week_of_demo_data(page, live_server, app, full_demo):
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
    with page.expect_navigation():
        page.click("a[href^='/grooming/person/']")
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


def test_the_lone_clerk_confirms_her_own_entry_the_next_morning_on_a_tablet(page, live_server, app):
    page.set_viewport_size({"width": 768, "height": 1024})
    now = clock.now()
    tomorrow = now + timedelta(hours=14)  # her next shift on the front desk
    with system_session(app) as s:
        sz01, me = site(s, "SZ01"), staff(s, "SZ01", username="clerk_sz01")
        roster.plan(sz01, "reception", me, now - timedelta(hours=9), now + timedelta(hours=1))
        roster.plan(sz01, "reception", me, tomorrow, tomorrow + timedelta(hours=10))
        guard = staff(s, "SZ01", username="guard_sz01")
        roster.plan(sz01, "door", guard, tomorrow, tomorrow + timedelta(hours=10))
    # The evening: she writes the handover with a photo, through the Chinese upload button.
    browser_login(page, live_server, "clerk_sz01")
    page.goto(f"{live_server}/handover/")
    assert page.locator("label.photo-pick").inner_text().strip() == "拍照或选择照片"
    page.fill("#text", "前台打印机卡纸，已联系行政。")
    page.set_input_files(
        "#photos", files=[{"name": "卡纸.jpg", "mimeType": "image/jpeg", "buffer": image_bytes()}]
    )
    assert "已选择 1 张照片" in page.locator(".photo-pick-names").inner_text()
    with page.expect_navigation():
        page.click("#write-button")
    assert "交接记录已保存" in page.content() and page.locator(".photo-thumb").count() == 1
    # Still the same shift: no button to confirm it yet.
    page.goto(f"{live_server}/handover/")
    assert page.locator(".confirm-button").count() == 0
    assert "本人接班确认" in page.locator(".waiting-note").first.inner_text()
    screenshot(page, "tablet_handover_lone_clerk_evening")
    _logout(page)
    # The next morning, ten minutes into her shift.
    with time_machine.travel(tomorrow + timedelta(minutes=10), tick=True):
        browser_login(page, live_server, "clerk_sz01")
        page.goto(f"{live_server}/handover/")
        screenshot(page, "tablet_handover_lone_clerk_morning")
        with page.expect_navigation():
            page.click(".confirm-button")
        assert "已签收" in page.content()
        assert "本人接班确认" in page.locator(".list-group-item").first.inner_text()
        with page.expect_navigation():
            page.click(".list-group-item a[href^='/handover/entry/']")
        assert "本人接班确认" in page.locator(".signed-note").inner_text()
        screenshot(page, "tablet_handover_self_confirmed_entry")
    with system_session(app) as s:
        entry = s.scalar(select(HandoverEntry))
        assert entry.is_self_confirmed and entry.signed_at >= tomorrow
