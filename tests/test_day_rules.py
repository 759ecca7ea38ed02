"""The day's rules that fit real shifts (issue 20, point 5): the running break timer on the
clerk's landing page, and a damage written off lowering the item's expected count."""

from datetime import timedelta

from sqlalchemy import select

from portal import clock
from portal.models import BreakLog
from tests.conftest import browser_login, screenshot
from tests.handover_helpers import site, staff, system_session


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
        'src="/static/breaks.js"' in page
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
