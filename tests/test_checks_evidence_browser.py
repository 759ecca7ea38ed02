"""Real browser, tablet (768×1024): an item check that cannot be finished without looking (one
"本类已清点" per category, typed counts), a discrepancy photo through the styled picker, a grooming
inspection with the post's points, and the result on the inspected clerk's Today page; the same
pages on a phone."""

import re

from sqlalchemy import select

from portal.models import ItemCheck, Photo
from portal.services import inventory as svc
from tests import checklist_helpers
from tests.checklist_helpers import count_item_check, system
from tests.conftest import browser_login, screenshot
from tests.handover_helpers import staff
from tests.repairs_helpers import image_bytes

seeded = checklist_helpers.seeded  # the fixture

TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}


def test_item_check_with_confirmations_on_a_tablet(app, browser, live_server, seeded):
    context = browser.new_context(locale="zh-CN", viewport=TABLET)
    page = context.new_page()
    browser_login(page, live_server, "clerk_sz01")
    page.goto(f"{live_server}/item-checks/")
    page.click(".item-check-state[data-kind=opening] button[type=submit]")
    page.wait_for_url(re.compile(r"/item-checks/\d+"))
    check_id = int(re.search(r"/item-checks/(\d+)", page.url).group(1))
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    # The count of an item expected more than once is blank, not the expected number.
    cushion = page.locator("li.item-line", has_text="沙发垫")
    assert cushion.locator("input.counted-input").input_value() == ""
    assert "discrepancy" not in cushion.get_attribute("class")
    screenshot(page, "item_check_confirm_tablet")

    # The old single tap: refused, with what is missing, in Chinese.
    with page.expect_navigation():
        page.click("#complete-button")
    missing = page.inner_text("#check-missing")
    assert "物品核查还不能完成" in missing and "沙发垫" in missing
    screenshot(page, "item_check_missing_tablet")
    with system(app) as s:
        assert s.get(ItemCheck, check_id).status == "open"

    # A damaged lamp with a photo from the styled picker (no native "Choose Files" button).
    lamp = page.locator("li.item-line", has_text="台灯")
    lamp.locator("label.btn-outline-warning").click()
    picker = lamp.locator("label.photo-upload")
    assert picker.is_visible() and "照片" in picker.inner_text()
    lamp.locator("input.photo-upload-input").set_input_files(
        files=[{"name": "台灯.jpg", "mimeType": "image/jpeg", "buffer": image_bytes()}]
    )
    assert "×1" in picker.inner_text()
    taps = count_item_check(page)
    categories = page.locator("label.category-confirm").count()
    assert taps >= categories  # one per category, plus the counts to type
    box = page.locator("label.category-confirm").first.bounding_box()
    assert box["height"] >= 44  # a finger's tap
    screenshot(page, "item_check_confirmed_tablet")
    with page.expect_navigation():
        page.click("#complete-button")
    assert "1 项差异已提交主管" in page.inner_text("#check-summary")
    assert page.locator(".photo-gallery img").count() == 1
    screenshot(page, "item_check_done_with_photo_tablet")
    with system(app) as s:
        check = s.get(ItemCheck, check_id)
        assert check.status == "done" and check.confirmed == set(svc.categories_of(check))
        assert s.scalar(select(Photo.id).where(Photo.owner_type == svc.PHOTO_OWNER)) is not None

    # The same page on a phone: nothing wider than the screen.
    context.close()
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    phone = context.new_page()
    browser_login(phone, live_server, "clerk_sz01")
    phone.goto(f"{live_server}/item-checks/")
    phone.click(".item-check-state[data-kind=closing] button[type=submit]")
    phone.wait_for_url(re.compile(r"/item-checks/\d+"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "item_check_confirm_phone")
    context.close()


def test_grooming_inspection_and_the_clerks_result(app, browser, live_server, seeded):
    with system(app) as s:
        clerk_id = staff(s, "SZ01", username="clerk_sz01").id
        guard_id = staff(s, "SZ01", username="guard_sz01").id
    for viewport, name in ((TABLET, "tablet"), (PHONE, "phone")):
        context = browser.new_context(locale="zh-CN", viewport=viewport)
        page = context.new_page()
        browser_login(page, live_server, "sup_south")
        page.goto(f"{live_server}/grooming/inspect/{guard_id}")
        assert "帽子、腰带佩戴规范" in page.inner_text("body")
        screenshot(page, f"grooming_inspect_security_{name}")
        page.goto(f"{live_server}/grooming/inspect/{clerk_id}")
        points = page.locator("fieldset.grooming-point")
        for n in range(points.count()):
            choice = "label.btn-outline-danger" if n == 2 else "label.btn-outline-success"
            points.nth(n).locator(choice).click()
        points.nth(2).locator("input[name^=note-]").fill("指甲油颜色偏深")
        page.locator("input.photo-upload-input").set_input_files(
            files=[{"name": "指甲.jpg", "mimeType": "image/jpeg", "buffer": image_bytes()}]
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        screenshot(page, f"grooming_inspect_clerk_{name}")
        with page.expect_navigation():
            page.click("#save-grooming")
        assert "/grooming/person/" in page.url
        context.close()

        context = browser.new_context(locale="zh-CN", viewport=viewport)
        page = context.new_page()
        browser_login(page, live_server, "clerk_sz01")
        page.goto(f"{live_server}/today/")
        mine = page.locator("#my-grooming-result")
        assert "指甲油颜色偏深" in mine.inner_text() and mine.locator("img").count() == 1
        mine.scroll_into_view_if_needed()
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        screenshot(page, f"today_my_grooming_result_{name}")
        context.close()
