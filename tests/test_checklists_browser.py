"""Real browser: clerk_sz01 runs the opening checklist on a tablet and does the closing item
check."""

import re

from sqlalchemy import select

from portal.models import ChecklistRun, ItemCheckLine
from tests import checklist_helpers
from tests.checklist_helpers import count_item_check, system
from tests.conftest import browser_login, screenshot

seeded = checklist_helpers.seeded  # the fixture

TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}


def _run_id(page):
    return int(re.search(r"/checklists/run/(\d+)", page.url).group(1))


def test_clerk_runs_opening_checklist_and_closing_item_check(app, page, live_server, seeded):
    page.set_viewport_size(TABLET)
    browser_login(page, live_server, "clerk_sz01")
    page.goto(f"{live_server}/checklists/")
    screenshot(page, "checklists_today_tablet")
    page.click(".checklist-state[data-kind=opening] button[type=submit]")
    page.wait_for_url(re.compile(r"/checklists/run/\d+"))
    run_id = _run_id(page)

    items = page.locator("li.checklist-item")
    for n in range(3):  # one tap each
        items.nth(n).locator("label.btn-outline-success").click()
    items.nth(3).locator("label.btn-outline-danger").click()
    number = page.locator("input.number-input").first
    number.fill("24")
    with page.expect_navigation():
        page.click("#save-button")
    assert "已保存" in page.inner_text("body")

    page.reload()
    assert items.nth(0).locator("input[value=yes]").is_checked()
    assert items.nth(3).locator("input[value=no]").is_checked()
    assert page.locator("input.number-input").first.input_value() == "24"
    assert items.nth(3).locator("button", has_text="建立跟进").count() == 1
    screenshot(page, "checklist_run_half_way_tablet")

    # One tap opens a follow-up for the failed item.
    with page.expect_navigation():
        items.nth(3).locator("button", has_text="建立跟进").click()
    assert "已建立跟进" in page.inner_text("body")

    with page.expect_navigation():
        page.click("#complete-button")
    assert "已完成" in page.inner_text("#run-status")
    assert page.locator("#complete-button").count() == 0
    screenshot(page, "checklist_run_completed_tablet")
    with system(app) as s:
        run = s.get(ChecklistRun, run_id)
        assert run.status == "done" and len(run.answers) == 5 and len(run.follow_ups) == 1

    # Closing item check: only the exception needs input.
    page.goto(f"{live_server}/item-checks/")
    screenshot(page, "item_checks_today_tablet")
    page.click(".item-check-state[data-kind=closing] button[type=submit]")
    page.wait_for_url(re.compile(r"/item-checks/\d+"))
    cushion = page.locator("li.item-line", has_text="沙发垫")
    expected = int(cushion.get_attribute("data-expected"))
    cushion.locator("input.counted-input").fill(str(expected - 1))
    cushion.locator("input.note-input").fill("少一个沙发垫")
    assert "discrepancy" in cushion.get_attribute("class")  # highlighted while typing
    lamp = page.locator("li.item-line", has_text="台灯")
    assert "discrepancy" not in lamp.get_attribute("class")
    screenshot(page, "item_check_with_discrepancy_tablet")
    count_item_check(page)  # the other counts to type, one "category checked" per category
    with page.expect_navigation():
        page.click("#complete-button")
    assert "1 项差异已提交主管" in page.inner_text("#check-summary")
    screenshot(page, "item_check_completed_tablet")
    with system(app) as s:
        flagged = s.scalars(
            select(ItemCheckLine).where(
                ItemCheckLine.is_discrepancy.is_(True), ItemCheckLine.site_id == seeded["SZ01"]
            )
        ).all()
        assert {line.note for line in flagged} >= {"少一个沙发垫"}


def test_pages_on_phone_and_supervisor_views(app, browser, live_server, seeded):
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    browser_login(page, live_server, "clerk_sz01")
    page.goto(f"{live_server}/checklists/")
    page.click(".checklist-state[data-kind=opening] button[type=submit]")
    page.wait_for_url(re.compile(r"/checklists/run/\d+"))
    button = page.locator("li.checklist-item").first.locator("label.btn-outline-success")
    box = button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "checklist_run_phone")
    page.goto(f"{live_server}/item-checks/")
    page.click(".item-check-state[data-kind=opening] button[type=submit]")
    page.wait_for_url(re.compile(r"/item-checks/\d+"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "item_check_phone")
    context.close()

    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    browser_login(page, live_server, "sup_south")
    for path, name in (
        ("/discrepancies/", "discrepancies_supervisor"),
        ("/checklisttemplate/", "templates_list"),
        ("/checklistrun/", "runs_list"),
        ("/item/", "items_list"),
        ("/itemcheckrecord/", "item_check_records"),
    ):
        page.goto(f"{live_server}{path}")
        assert page.locator(".alert-danger").count() == 0
        screenshot(page, name)
    with system(app) as s:
        from portal.models import ChecklistTemplate

        template_id = s.scalar(
            select(ChecklistTemplate.id).where(ChecklistTemplate.site_id == seeded["SZ01"])
        )
        line_id = s.scalar(select(ItemCheckLine.id).where(ItemCheckLine.is_discrepancy.is_(True)))
        run_id = s.scalar(select(ChecklistRun.id).where(ChecklistRun.status == "done"))
    page.goto(f"{live_server}/checklisttemplate/edit/?id={template_id}")
    screenshot(page, "template_edit")
    page.goto(f"{live_server}/discrepancies/edit/?id={line_id}")
    screenshot(page, "discrepancy_deal_with")
    page.goto(f"{live_server}/checklistrun/details/?id={run_id}")
    screenshot(page, "run_details")
    page.goto(f"{live_server}/checklists/run/{run_id}")
    screenshot(page, "run_read_only_supervisor")
    context.close()
