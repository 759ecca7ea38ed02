"""Real browser: on the tablet, clerk_sz01 fills in the opening checklist, answers "no" to the
lamps, reports the chandelier for repair before saving, and finds her answers still there."""

import re

from sqlalchemy import select

from portal.models import RepairTicket
from tests import checklist_helpers
from tests.checklist_helpers import system
from tests.conftest import browser_login, screenshot

seeded = checklist_helpers.seeded  # the fixture

TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}
LAMPS = "打开并检查所有灯具（台灯除外）"


def test_repair_reported_from_an_unsaved_no_keeps_the_answers(app, page, live_server, seeded):
    page.set_viewport_size(TABLET)
    browser_login(page, live_server, "clerk_sz01")
    page.goto(f"{live_server}/checklists/")
    page.click(".checklist-state[data-kind=opening] button[type=submit]")
    page.wait_for_url(re.compile(r"/checklists/run/\d+"))
    run_url = page.url

    items = page.locator("li.checklist-item")
    items.nth(0).locator("label.btn-outline-success").click()
    items.nth(2).locator("label.btn-outline-success").click()
    page.locator("input.number-input").first.fill("24")
    lamps = page.locator("li.checklist-item", has_text=LAMPS)
    repair = lamps.locator("button.open-repair")
    assert not repair.is_visible()  # nothing to report while the lamps are not answered "no"
    lamps.locator("label.btn-outline-danger").click()
    assert repair.is_visible()  # at once, before 暂存
    box = repair.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44  # a finger-sized target
    lamps.locator("input[name^=note-]").fill("吊灯一半灯泡不亮")
    screenshot(page, "checklist_follow_up_panel_tablet")
    page.set_viewport_size(PHONE)
    screenshot(page, "checklist_follow_up_panel_phone")
    page.set_viewport_size(TABLET)

    repair.click()
    page.wait_for_url(re.compile(r"/repair/\d+"))
    assert LAMPS in page.locator("textarea[name=description]").input_value()
    assert "吊灯一半灯泡不亮" in page.locator("textarea[name=description]").input_value()
    assert page.locator("select[name=priority]").input_value() == "normal"
    page.select_option("select[name=item]", label="水晶吊灯 · 接待大厅")
    assert page.locator("input[name=location]").input_value() == "接待大厅"
    assert not page.locator("input[name=equipment]").is_visible()  # only for other equipment
    page.fill("input[name=fault]", "不亮")
    page.select_option("select[name=priority]", "urgent")
    screenshot(page, "checklist_repair_form_tablet")
    page.set_viewport_size(PHONE)
    screenshot(page, "checklist_repair_form_phone")
    page.set_viewport_size(TABLET)
    page.click("#submit-repair")
    page.wait_for_url(re.compile(r"/checklists/run/\d+"))
    assert page.url.split("#")[0] == run_url
    body = page.inner_text("body")
    assert re.search(r"报修单 #\d+ 水晶吊灯 不亮 已提交", body)

    # The answers typed before tapping 报修 are all still there.
    assert items.nth(0).locator("input[value=yes]").is_checked()
    assert items.nth(2).locator("input[value=yes]").is_checked()
    assert lamps.locator("input[value=no]").is_checked()
    assert page.locator("input.number-input").first.input_value() == "24"
    assert lamps.locator("button.open-repair").count() == 0  # reported: a badge now
    screenshot(page, "checklist_after_repair_tablet")

    page.click("a.follow-up-target")
    page.wait_for_url(re.compile(r"/repairs/\d+/"))
    assert "水晶吊灯 不亮" in page.inner_text("body")
    assert LAMPS not in page.locator("h1, .page-title, title").first.inner_text()
    with system(app) as s:
        ticket = s.scalar(select(RepairTicket))
        assert (ticket.equipment, ticket.priority, ticket.location) == (
            "水晶吊灯 不亮",
            "urgent",
            "接待大厅",
        )
        assert ticket.item.name == "水晶吊灯"
