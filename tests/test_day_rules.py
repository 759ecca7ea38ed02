"""The day's rules that fit real shifts: the running break timer on the
clerk's landing page, a damage written off lowering the item's expected count, the tally closed
before its time with a reason and the warning about visitors still on site."""

import re
from datetime import date, datetime, timedelta, timezone

import time_machine
from sqlalchemy import func, select

from portal import clock
from portal.models import AuditEvent, BreakLog, DailyTally, DamageReport, Item, StockMovement, Visit
from portal.services import damage, inventory, visits
from tests.conftest import browser_login, screenshot
from tests.handover_helpers import site, staff, system_session, user
from tests.refusals import refused


def _break_started(app, username, ago):
    with system_session(app) as s:
        code = "SZ01"
        s.add(
            BreakLog(
                site_id=site(s, code).id,
                staff_member=staff(s, code, username=username),
                started_at=clock.now() - ago,
            )
        )


def _timer(page_html):
    start = page_html.index('id="break-timer"')
    return page_html[page_html.rindex("<span", 0, start) : page_html.index("</span>", start)]


def test_the_today_page_shows_the_running_break_and_flags_it_past_ten_minutes(app, login):
    clerk = login("clerk_sz01")
    assert 'id="break-timer"' not in clerk.get("/today/").get_data(as_text=True)
    assert clerk.post("/breaks/start").status_code == 302
    page = clerk.get("/today/").get_data(as_text=True)
    timer = _timer(page)
    assert "badge-secondary" in timer and "0 分钟" in timer and "data-started=" in timer
    assert (
        'src="/static/breaks.js?v=' in page
        and 'id="break-over" class="text-danger break-over d-none"' in page
    )
    with system_session(app) as s:
        log = s.scalar(select(BreakLog))
        log.started_at = clock.now() - timedelta(minutes=12)
    page = clerk.get("/today/").get_data(as_text=True)
    timer = _timer(page)
    assert "badge-danger" in timer and "12 分钟" in timer
    assert "已超过 10 分钟" in page and "break-over d-none" not in page
    # The breaks page shows the same timer; once ended, no timer is left.
    assert "badge-danger" in _timer(clerk.get("/breaks/").get_data(as_text=True))
    assert clerk.post("/breaks/end").status_code == 302
    assert 'id="break-timer"' not in clerk.get("/today/").get_data(as_text=True)


def test_the_break_timer_counts_on_in_the_browser_and_turns_red_at_ten_minutes(
    app, live_server, browser
):
    _break_started(app, "clerk_sz01", timedelta(minutes=9, seconds=50))
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        page.clock.install()
        browser_login(page, live_server, "clerk_sz01")
        page.goto(f"{live_server}/today/")
        badge = page.locator("#break-timer")
        assert "9 分钟" in badge.inner_text()
        assert "badge-secondary" in badge.get_attribute("class")
        assert not page.locator("#break-over").is_visible()
        page.clock.fast_forward("00:30")
        page.wait_for_function(
            "document.getElementById('break-timer').classList.contains('badge-danger')"
        )
        assert "10 分钟" in badge.inner_text()
        assert page.locator("#break-over").is_visible()
        screenshot(page, "today-break-timer-1280")
    finally:
        context.close()


# --- Damage written off / lost -------------------------------------------------------------


def _damaged_item_report(app, expected=3):
    with system_session(app) as s:
        sz01 = site(s, "SZ01")
        item = Item(site_id=sz01.id, name="对讲机", category="other", expected_quantity=expected)
        s.add(item)
        s.flush()
        report = damage.file_report(
            sz01,
            user(s, "clerk_sz01"),
            "",
            "客户把对讲机摔坏，无法修复",
            user(s, "sales_sz01"),
            "王先生一家三口",
            datetime.now(timezone.utc) - timedelta(hours=1),
            item=item,
        )
        s.flush()
        return item.id, report.id


def _expected(app, item_id):
    with system_session(app) as s:
        return s.get(Item, item_id).expected_quantity


def test_a_write_off_lowers_the_expected_count_once_and_a_change_back_restores_it(app, login):
    item_id, report_id = _damaged_item_report(app)
    login("sales_sz01").post(f"/damage/{report_id}/confirm", {})
    sup = login("sup_south")
    form = sup.get(f"/damage/{report_id}/").get_data(as_text=True)
    assert "报废 / 丢失" in form and 'name="quantity"' in form
    # More than the item expects: refused in Chinese, nothing changed.
    resp = sup.post(f"/damage/{report_id}/review", {"outcome": "written_off", "quantity": "4"})
    assert resp.status_code == 400 and "报废 / 丢失数量须在 1 到 3 之间" in resp.get_data(True)
    assert _expected(app, item_id) == 3
    resp = sup.post(f"/damage/{report_id}/review", {"outcome": "written_off", "quantity": "2"})
    assert resp.status_code == 302 and _expected(app, item_id) == 1
    page = sup.get(f"/damage/{report_id}/").get_data(as_text=True)
    assert "已从预期数量扣减 2" in page
    # Reviewing the written-off report again with the same outcome does not take twice.
    resp = sup.post(f"/damage/{report_id}/review", {"outcome": "written_off", "quantity": "2"})
    assert resp.status_code == 302 and _expected(app, item_id) == 1
    # Tomorrow's item check expects what is left, so it does not flag the broken units.
    with system_session(app) as s:
        check = inventory.start_item_check(site(s, "SZ01"), "opening", None, date(2026, 12, 6))
        (line,) = [ln for ln in check.lines if ln.item_id == item_id]
        assert line.expected_quantity == 1 and not inventory.is_discrepancy(line)
        s.rollback()
    # Changed to compensated: the units come back, exactly once.
    resp = sup.post(f"/damage/{report_id}/review", {"outcome": "compensated"})
    assert resp.status_code == 302 and _expected(app, item_id) == 3
    assert sup.post(f"/damage/{report_id}/review", {"outcome": "waived"}).status_code == 400
    assert _expected(app, item_id) == 3
    with system_session(app) as s:
        assert s.get(DamageReport, report_id).written_off_quantity is None
        actions = s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "Item", AuditEvent.object_id == item_id)
            .where(AuditEvent.action.in_(("write_off", "write_off_restore")))
            .order_by(AuditEvent.id)
        ).all()
        assert actions == ["write_off", "write_off_restore", "write_off", "write_off_restore"]


def test_a_write_off_without_an_item_changes_no_count(app):
    with system_session(app) as s:
        report = damage.file_report(
            site(s, "SZ01"),
            user(s, "clerk_sz01"),
            "门口地毯",
            "咖啡洒在地毯上",
            user(s, "sales_sz01"),
            "李女士",
            datetime.now(timezone.utc) - timedelta(hours=1),
        )
        damage.confirm(report, user(s, "sales_sz01"))
        with refused():
            damage.review(report, user(s, "sup_south"), "written_off", quantity="x")
        damage.review(report, user(s, "sup_south"), "written_off")
        assert report.outcome == "written_off" and report.written_off_quantity is None


# --- Tally before its time, and visitors still on site -------------------------------------

# 10:00 in Shenzhen, well before the 17:50 tally time.
MORNING = datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)


def _site_with_water(app, tally_time=None):
    from tests.test_tally import arranged, product, site_of

    with arranged(app):
        sz01 = site_of("SZ01")
        if tally_time is not None:
            sz01.tally_time = tally_time
        return product(sz01, "矿泉水").id


def _tallies(app):
    """(id, day, early reason) of every closed tally."""
    with system_session(app) as s:
        return [(t.id, t.day, t.early_reason) for t in s.scalars(select(DailyTally))]


def test_an_early_tally_needs_a_reason_which_the_supervisor_sees(app, login):
    with time_machine.travel(MORNING, tick=True):
        water = _site_with_water(app)
        clerk = login("clerk_sz01")
        page = clerk.get("/tally/").get_data(as_text=True)
        assert 'id="tally-before-time"' in page and 'id="tally-form"' in page
        assert 'name="early_reason"' in page and "如有特殊情况" in page
        # No reason: refused in Chinese, nothing written.
        for reason in ("", "   "):
            resp = clerk.post("/tally/close", {f"count_{water}": "0", "early_reason": reason})
            assert resp.status_code == 400
            assert "前日结须填写原因" in resp.get_data(as_text=True)
        assert _tallies(app) == []
        with system_session(app) as s:
            assert s.scalar(select(func.count()).select_from(StockMovement)) == 0
        resp = clerk.post(
            "/tally/close", {f"count_{water}": "0", "early_reason": "台风预警，售楼处提前闭店"}
        )
        assert resp.status_code == 302
        ((closed_id, day, reason),) = _tallies(app)
        assert reason == "台风预警，售楼处提前闭店"
        day = day.isoformat()
        with system_session(app) as s:
            event = s.scalars(
                select(AuditEvent).where(
                    AuditEvent.object_type == "DailyTally", AuditEvent.action == "close"
                )
            ).one()
            assert "台风预警" in event.summary
        sup = login("sup_south")
        # First on the supervisor's dashboard: the early tally, one tap from its reason.
        board = sup.get("/dashboard/").get_data(as_text=True)
        line = re.search(r'id="waiting-tallies_early"[^>]*href="([^"]+)"', board)
        assert line and "1 个售楼处提前日结" in board
        assert line.group(1).endswith(f"/dailytally/details/?id={closed_id}")
        with system_session(app) as s:
            sz01_id = site(s, "SZ01").id
        assert sup.post("/today/site", {"site_id": sz01_id}).status_code == 302
        # The closed tally's page and the supervisors' list of closed tallies (the dashboard's
        # tally drill-down) both say why it closed early.
        page = sup.get(f"/tally/?day={day}").get_data(as_text=True)
        assert 'id="tally-early-reason"' in page and "台风预警，售楼处提前闭店" in page
        listing = sup.get("/dailytally/").get_data(as_text=True)
        assert "提前日结原因" in listing and "台风预警，售楼处提前闭店" in listing
        details = sup.get(f"/dailytally/details/?id={closed_id}").get_data(as_text=True)
        assert "台风预警，售楼处提前闭店" in details


def test_closing_with_visitors_on_site_warns_and_closes_once_confirmed(app, login):
    from datetime import time

    water = _site_with_water(app, tally_time=time(0, 0))  # due whenever the test runs
    with system_session(app) as s:
        visit = visits.record_arrival(site(s, "SZ01"), adults=2, children=1)
        s.flush()
        visit_id = visit.id
    clerk = login("clerk_sz01")
    resp = clerk.post("/tally/close", {f"count_{water}": "0"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and 'id="tally-on-site-warning"' in page
    assert "仍有 3 位客户（1 组来访）在场" in page and 'name="on_site_confirmed"' in page
    assert 'value="0"' in page  # the counts entered are kept
    assert _tallies(app) == []
    resp = clerk.post("/tally/close", {f"count_{water}": "0", "on_site_confirmed": "1"})
    assert resp.status_code == 302 and len(_tallies(app)) == 1
    with system_session(app) as s:
        assert s.get(Visit, visit_id).left_at is None  # a warning only: the visit is untouched


def test_closing_with_nobody_on_site_needs_no_confirmation(app, login):
    from datetime import time

    water = _site_with_water(app, tally_time=time(0, 0))
    with system_session(app) as s:
        visit = visits.record_arrival(site(s, "SZ01"), adults=1)
        s.flush()
        visits.record_departure(visit)
    resp = login("clerk_sz01").post("/tally/close", {f"count_{water}": "0"})
    assert resp.status_code == 302 and len(_tallies(app)) == 1


def test_an_early_tally_in_the_browser(app, live_server, browser):
    from datetime import time

    _site_with_water(app, tally_time=time(23, 59, 59))  # before the tally time all day
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        browser_login(page, live_server, "clerk_sz01")
        page.goto(f"{live_server}/tally/")
        if page.locator("#tally-before-time").count() == 0:
            return  # 23:59:59 exactly: the tally is due, nothing early to show
        page.fill("#tally-form input[type=number]", "0")
        screenshot(page, "tally-before-time-1280")
        page.on("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            page.click("#close-tally")
        assert "前日结须填写原因" in page.content() and _tallies(app) == []
        page.fill("#early_reason", "停电，提前闭店")
        with page.expect_navigation():
            page.click("#close-tally")
        assert page.url.endswith("/today/")
        assert [reason for _id, _day, reason in _tallies(app)] == ["停电，提前闭店"]
        # The supervisor sees it flagged first on the dashboard and opens the reason in a tap.
        page.context.clear_cookies()
        browser_login(page, live_server, "sup_south")
        page.goto(f"{live_server}/dashboard/")
        with page.expect_navigation():
            page.click("#waiting-tallies_early")
        assert "停电，提前闭店" in page.inner_text("body")
        screenshot(page, "tally-early-seen-by-supervisor-1280")
    finally:
        context.close()
