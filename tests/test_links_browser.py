"""In a real Chromium: the clerk answers "no" on the opening checklist's lamp item and reports
a repair through the short form, titled by the item; the supervisor opens one from a
discrepancy; the damage form offers the recorded visits. Screenshots at 1280, 768×1024 and
390×844 under artifacts/screenshots/."""

import re
from datetime import timedelta

from sqlalchemy import select

from portal.models import ChecklistFollowUp, RepairTicket, StaffMember, Visit, utcnow
from tests import checklist_helpers
from tests.checklist_helpers import system
from tests.conftest import browser_login, screenshot

seeded = checklist_helpers.seeded

SIZES = {
    "desktop": {"width": 1280, "height": 900},
    "tablet": {"width": 768, "height": 1024},
    "phone": {"width": 390, "height": 844},
}
LAMPS = "打开并检查所有灯具（台灯除外）"


def _no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_checklist_no_to_repair_ticket_named_by_the_item(app, live_server, browser, seeded):
    context = browser.new_context(locale="zh-CN", viewport=SIZES["tablet"], has_touch=True)
    page = context.new_page()
    browser_login(page, live_server, "clerk_sz01")
    page.goto(f"{live_server}/checklists/")
    with page.expect_navigation():
        page.click(".checklist-state[data-kind=opening] button[type=submit]")
    lamp = page.locator("li.checklist-item", has_text=LAMPS)
    lamp.locator("label.btn-outline-danger").click()
    with page.expect_navigation():
        page.click("#save-button")
    lamp = page.locator("li.checklist-item", has_text=LAMPS)
    assert lamp.locator("button.open-repair").inner_text().strip() == "报修"
    assert (
        page.locator("li.checklist-item", has_text="室内地面")
        .locator("button.open-cleaning:visible")
        .count()
        == 0  # only an item answered "no" offers its follow-ups
    )
    run_url = page.url
    for name, size in SIZES.items():
        page.set_viewport_size(size)
        assert _no_horizontal_scroll(page), name
        screenshot(page, f"links-01-checklist-no-{name}")
    page.set_viewport_size(SIZES["tablet"])

    # 报修 opens the short repair form: the item, not the checklist question, names the ticket.
    with page.expect_navigation():
        lamp.locator("button.open-repair").click()
    page.select_option("select[name=item]", label="水晶吊灯 · 接待大厅")
    page.fill("input[name=fault]", "不亮")
    page.click("#submit-repair")
    page.wait_for_url(re.compile(r"/checklists/run/\d+"))
    assert page.locator("#follow-ups .follow-up-target").count() == 1
    with system(app) as s:
        follow_up = s.scalar(select(ChecklistFollowUp))
        ticket = s.get(RepairTicket, follow_up.target_id)
        assert follow_up.target_type == "repair" and ticket.equipment == "水晶吊灯 不亮"
        assert ticket.reporter.username == "clerk_sz01" and ticket.status == "new"
    screenshot(page, "links-02-follow-up-linked-tablet")
    with page.expect_navigation():
        page.click("#follow-ups .follow-up-target")
    assert f"/repairs/{ticket.id}/" in page.url and "水晶吊灯 不亮" in page.content()
    screenshot(page, "links-03-ticket-from-checklist-tablet")
    page.goto(run_url)
    context.close()


def test_supervisor_repairs_a_discrepancy_and_files_a_damage_form(
    app, live_server, browser, seeded
):
    with system(app) as s:
        staff = s.scalar(
            select(StaffMember).where(
                StaffMember.site_id == seeded["SZ01"],
                StaffMember.kind == "sales",
                StaffMember.user_id.is_not(None),
            )
        )
        s.add(
            Visit(
                site_id=seeded["SZ01"],
                arrived_at=utcnow() - timedelta(minutes=40),
                adults=2,
                children=1,
                salesperson_id=staff.id,
            )
        )
        s.commit()
    for name, size in SIZES.items():
        context = browser.new_context(locale="zh-CN", viewport=size)
        page = context.new_page()
        browser_login(page, live_server, "sup_south")
        page.goto(f"{live_server}/discrepancies/?flt0_site_equals={seeded['SZ01']}")
        assert page.locator(".line-open-repair").count() >= 1
        screenshot(page, f"links-04-discrepancies-{name}")
        with page.expect_navigation():
            page.locator(".line-open-damage").first.click()
        assert "2/1 · 黄俊杰" in page.inner_text("#visit")
        screenshot(page, f"links-05-damage-form-from-discrepancy-{name}")
        wide = page.evaluate(
            """[...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5)
            .map(e => e.tagName + '#' + e.id + '.' + e.className)"""
        )
        assert _no_horizontal_scroll(page), (name, wide)
        context.close()
    context = browser.new_context(locale="zh-CN", viewport=SIZES["desktop"])
    page = context.new_page()
    browser_login(page, live_server, "sup_south")
    page.goto(f"{live_server}/discrepancies/?flt0_site_equals={seeded['SZ01']}")
    with page.expect_navigation():
        page.locator(".line-open-repair").first.click()
    assert "/repairs/" in page.url and page.locator("#ticket-item a").count() == 1
    screenshot(page, "links-06-ticket-from-discrepancy-desktop")
    with page.expect_navigation():
        page.click("#ticket-item a")
    assert page.locator("#item-tickets a").count() == 1
    screenshot(page, "links-07-item-page-desktop")
    context.close()
