"""In a real Chromium, at each role's device size: the "waiting for you" block is first on the
landing page, visible without opening the menu, and each line is one tap from the work. Taps
are counted; screenshots go to artifacts/screenshots/waiting-*.png."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from portal.models import DamageReport, HandoverEntry, RepairTicket
from tests.conftest import browser_login, screenshot
from tests.repairs_helpers import new_ticket, system, user
from tests.test_waiting import _damage, _entry, _issue, guard_covers_front_desk

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
LAPTOP = {"width": 1366, "height": 768}
DEVICES = {
    "clerk_sz01": TABLET,
    "guard_sz01": TABLET,
    "sales_sz01": PHONE,
    "maint_south": PHONE,
    "sup_south": LAPTOP,
    "admin": LAPTOP,
}
TAPS = {}


class Taps:
    def __init__(self, page):
        self.page, self.count = page, 0

    def click(self, selector):
        self.count += 1
        with self.page.expect_navigation():
            self.page.click(selector)


def _open(browser, live_server, username):
    page = browser.new_context(locale="zh-CN", viewport=DEVICES[username]).new_page()
    browser_login(page, live_server, username)
    return page


def _visible_untouched(page, selector):
    """Shown in the first screen, without scrolling or opening the menu, at ≥ 44 px."""
    box = page.locator(selector).bounding_box()
    viewport = page.viewport_size
    return (
        page.is_visible(selector)
        and box["y"] >= 0
        and box["y"] + box["height"] <= viewport["height"]
        and box["height"] >= 44
        and page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    )


def test_salesperson_confirms_his_damage_report_in_two_taps(app, live_server, browser):
    report_id = _damage(app)
    page = _open(browser, live_server, "sales_sz01")
    line = "#waiting-damage_to_confirm"
    assert "1 张损坏单等你确认" in page.inner_text(line)
    assert _visible_untouched(page, line)
    screenshot(page, "waiting-sales-phone")
    taps = Taps(page)
    taps.click(line)
    taps.click("#confirm-damage")
    with system(app) as s:
        assert s.get(DamageReport, report_id).status == "confirmed"
    TAPS["sales: confirm damage report"] = taps.count
    print(f"\ntaps: sales confirms damage report {taps.count}")
    assert taps.count <= 2
    page.goto(f"{live_server}/")
    assert page.is_visible(".waiting-none") and "没有等你处理的事" in page.inner_text("#waiting")
    screenshot(page, "waiting-sales-phone-nothing")
    page.context.close()


def test_maintenance_claims_a_new_ticket_from_his_landing_page(app, live_server, browser):
    ticket_id = new_ticket(app, "new", code="SZ02", reporter="clerk_sz02")
    page = _open(browser, live_server, "maint_south")
    line = "#waiting-to_claim"
    assert "1 张新报修单没人接，可以认领" in page.inner_text(line)
    assert _visible_untouched(page, line)
    screenshot(page, "waiting-maintenance-phone")
    taps = Taps(page)
    taps.click(line)
    taps.click("#action-claim")
    with system(app) as s:
        ticket = s.get(RepairTicket, ticket_id)
        assert ticket.status == "assigned"
        assert ticket.assignee_id == user(s, "maint_south").id
    print(f"\ntaps: maintenance claims a ticket {taps.count}")
    assert taps.count <= 2
    page.context.close()


def test_guard_signs_a_handover_entry_from_his_landing_page(app, live_server, browser, request):
    entry_id = _entry(app)
    # The guard covers the front desk's next shift: the entry is his to sign once it starts.
    start = guard_covers_front_desk(app, entry_id)
    traveller = time_machine.travel(start + timedelta(minutes=5), tick=True)
    traveller.start()  # till the end: a session opened then is no older in the past
    request.addfinalizer(traveller.stop)
    page = _open(browser, live_server, "guard_sz01")
    assert _visible_untouched(page, "#waiting-to_sign")
    screenshot(page, "waiting-guard-tablet")
    taps = Taps(page)
    taps.click("#waiting-to_sign")
    taps.click(".sign-button")
    with system(app) as s:
        assert s.get(HandoverEntry, entry_id).signed_at is not None
    print(f"\ntaps: guard signs a handover entry {taps.count}")
    assert taps.count <= 2
    page.context.close()


def test_each_landing_page_at_its_device_size(app, live_server, browser):
    _damage(app)
    new_ticket(app, "resolved")
    new_ticket(app, "new", code="SZ02", reporter="clerk_sz02")
    _issue(app, cleaner=False, overdue=True)
    with system(app) as s:
        s.scalar(select(RepairTicket.id))
    for username, size in DEVICES.items():
        page = _open(browser, live_server, username)
        first = page.locator("#waiting")
        assert first.is_visible()
        box = first.bounding_box()
        assert box["y"] + min(box["height"], 100) <= size["height"], username
        for line in page.locator(".waiting-line").all():
            assert line.bounding_box()["height"] >= 44, username
        screenshot(page, f"waiting-landing-{username}-{size['width']}")
        page.context.close()
