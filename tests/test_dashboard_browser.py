"""A real Chromium: sup_south opens the dashboard, sorts, drills into a number, downloads
the monthly PDF; pages at desktop, tablet and phone sizes are screenshot."""

from portal.models import StaffMember
from portal.services import metrics
from tests.conftest import browser_login, screenshot
from tests import test_dashboard_domains, test_metrics_domains


# The month of hand-built records the figures are recounted on, shared with the figure tests,
# with the histories of its tickets and cleaning issues.
dataset = test_metrics_domains.dataset
histories = test_dashboard_domains.histories


def test_supervisor_compares_sorts_drills_and_downloads(page, live_server, dbs, site_ids, tmp_path):
    for n in range(4):
        dbs.add(StaffMember(site_id=site_ids["SZ02"], name=f"新同事{n}", kind="cleaner"))
    dbs.commit()
    browser_login(page, live_server, "sup_south")
    assert page.url.startswith(f"{live_server}/dashboard/")  # the supervisor's landing page
    body = page.inner_text("body")
    assert "售楼处对比看板" in body and "深圳湾售楼处" in body and "陆家嘴" not in body
    assert page.locator("svg.portal-chart").count() == 2
    screenshot(page, "reports-dashboard-supervisor")

    # Sort by staff on the roster, largest first: a click on the header twice.
    page.click('a.sort-link[data-metric="staff_on_roster"]')
    with page.expect_navigation():
        page.click('a.sort-link[data-metric="staff_on_roster"]')
    assert page.locator("tbody tr").first.get_attribute("data-site") == "SZ02"
    assert "dir=desc" in page.url
    screenshot(page, "reports-dashboard-sorted")

    # Drill into SZ01's recorded changes: the records page behind the number (it replaced the
    # audit list), one row per change, with the figure and its definition.
    cell = page.locator('tr[data-site="SZ01"] a.drill[data-metric="audit_events"]')
    number = int(cell.inner_text().replace(",", ""))
    with page.expect_navigation():
        cell.click()
    assert "/dashboard/records/" in page.url and "metric=audit_events" in page.url
    assert page.locator("tr[data-record]").count() == number
    assert page.inner_text("#figure-value").replace(",", "") == str(number)
    assert page.locator("#figure-definition").is_visible()
    assert "深圳湾售楼处" in page.inner_text("#figure-title")
    screenshot(page, "reports-drill-audit")

    page.go_back()
    with page.expect_download() as info:
        page.locator('tr[data-site="SZ01"] a.site-pdf').click()
    download = info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert download.suggested_filename.startswith("report_SZ01_") and path.read_bytes().startswith(
        b"%PDF"
    )


def test_dashboard_custom_period_at_tablet_and_phone(browser, live_server):
    for name, viewport in (
        ("tablet", {"width": 768, "height": 1024}),
        ("phone", {"width": 390, "height": 844}),
    ):
        context = browser.new_context(locale="zh-CN", viewport=viewport)
        page = context.new_page()
        browser_login(page, live_server, "admin")
        page.select_option("#period", "custom")
        assert page.locator("#start").is_visible() and not page.locator("#on").is_visible()
        page.fill("#start", "2026-11-01")
        page.fill("#end", "2026-11-30")
        with page.expect_navigation():
            page.click("#show-button")
        assert "2026-11-01 至 2026-11-30" in page.inner_text("#period-shown")
        # The page itself never scrolls sideways; the wide table scrolls in its own box.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        height = page.locator("#show-button").bounding_box()["height"]
        assert height >= 44
        screenshot(page, f"reports-dashboard-{name}")
        context.close()


def test_supervisor_drills_into_a_domain_figure_and_downloads_october(
    page, live_server, histories, tmp_path
):
    browser_login(page, live_server, "sup_south")
    page.goto(f"{live_server}/dashboard/?period=custom&start=2026-10-01&end=2026-10-31")
    body = page.inner_text("body")
    assert "物品差异" in body and "卫生整改逾期" in body and "陆家嘴" not in body
    screenshot(page, "reports-dashboard-domains")
    # Sort by item discrepancies, most first: SZ02 (2) before SZ01 (1).
    page.click('a.sort-link[data-metric="item_discrepancies"]')
    with page.expect_navigation():
        page.click('a.sort-link[data-metric="item_discrepancies"]')
    assert page.locator("tbody tr").first.get_attribute("data-site") == "SZ02"
    # SZ01's overdue cleaning issues: the records page behind the number has exactly that many
    # rows. One: overdue now means open and past due at the period's end (the issue fixed late
    # was fixed by then).
    cell = page.locator('tr[data-site="SZ01"] a.drill[data-metric="cleaning_overdue"]')
    number = int(cell.inner_text())
    with page.expect_navigation():
        cell.click()
    assert "/dashboard/records/" in page.url
    assert number == 1 and page.locator("tr[data-record]").count() == number
    assert "前海" not in page.inner_text("body")
    screenshot(page, "reports-drill-cleaning-overdue")
    page.go_back()
    with page.expect_download() as info:
        page.locator('tr[data-site="SZ01"] a.site-pdf').click()
    download = info.value
    assert download.suggested_filename == "report_SZ01_2026-10.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")


def _shown(page, key, code="SZ01"):
    return page.locator(f'tr[data-site="{code}"] a.drill[data-metric="{key}"]')


def test_short_headers_and_drills_into_tallies_tickets_grooming_damage(
    browser,
    live_server,
    histories,
):
    """The long checklist header is short, with the full wording as its tooltip, and stays narrow
    at desktop and tablet width; the figures that used to lead to unfiltered pages now open
    exactly their records, and each of those pages is screenshot."""
    october = f"{live_server}/dashboard/?period=custom&start=2026-10-01&end=2026-10-31"
    for name, viewport in (
        ("1280", {"width": 1280, "height": 900}),
        ("768", {"width": 768, "height": 1024}),
    ):
        context = browser.new_context(locale="zh-CN", viewport=viewport)
        page = context.new_page()
        browser_login(page, live_server, "sup_south")
        page.goto(october)
        head = page.locator('th.metric-head:has(a[data-metric="checklists_on_time"])')
        assert head.locator("a.sort-link").inner_text().strip() == "检查表按时完成"
        # The tooltip: the full wording, then the figure's written definition.
        title = head.get_attribute("title")
        assert title.startswith("检查表按时完成（开门≤10:00，闭店≤18:00）: "), title
        assert "开店检查 10:00:00 前、闭店检查 18:00:00 前" in title, title
        assert "开门≤10:00" in head.locator(".sr-only").inner_text()  # read out by screen readers
        # Every figure's header fits a narrow column (two short lines at most, plus the unit).
        widths = page.eval_on_selector_all(
            "th.metric-head", "els => els.map(e => e.getBoundingClientRect().width)"
        )
        figures = [m for m in metrics.all_metrics() if "supervisor" in m.roles]
        assert len(widths) == len(figures) and max(widths) <= 150, widths
        heights = page.eval_on_selector_all(
            "th.metric-head a.sort-link", "els => els.map(e => e.getBoundingClientRect().height)"
        )
        assert max(heights) <= 80, heights  # three short lines at most
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        if name == "1280":  # the whole comparison fits a desktop screen: no sideways scrolling
            assert page.evaluate(
                "(() => { const t = document.querySelector('#comparison');"
                " return t.scrollWidth <= t.parentElement.clientWidth + 1; })()"
            )
        screenshot(page, f"reports-dashboard-headers-{name}")
        context.close()

    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    browser_login(page, live_server, "sup_south")
    for key, shot in (
        ("tally_on_time", "reports-drill-tallies"),
        ("tickets_open", "reports-drill-tickets-open"),
        ("hours_to_resolve", "reports-drill-tickets-resolved"),
        ("grooming_score", "reports-drill-grooming"),
        ("damage_reports", "reports-drill-damage"),
    ):
        page.goto(october)
        shown = _shown(page, key).inner_text().strip()
        with page.expect_navigation():
            _shown(page, key).click()
        body = page.inner_text("body")
        # Every figure opens the records page behind it, with the figure itself on top.
        assert "/dashboard/records/" in page.url and f"metric={key}" in page.url, key
        assert page.inner_text("#figure-value").strip() == shown, key
        # Never SZ02's records.
        rows = page.locator("tr[data-record]")
        assert all("前海" not in text for text in rows.all_inner_texts()), key
        if key == "tally_on_time":
            # 4 % (1 of 27): every October day from the opening day (5 Oct) expects a tally (a
            # day without one counts as missed), and one of the two tallies closed the same day.
            assert shown == "4" and rows.count() == 27
            assert body.count("缺失：当天未盘点") == 25  # 27 days, 2 with a tally
            on_time = [r for r in rows.all_inner_texts() if r.rstrip().endswith("1")]
            assert len(on_time) == 1 and "2026-10-10" in on_time[0]
        elif key == "tickets_open":
            # Open at the period's end, judged then from each ticket's history.
            assert rows.count() == int(shown) == 3
            assert "2026-11-01 00:00:00" in body  # the instant they are judged at
        elif key == "hours_to_resolve":
            assert rows.count() == 1 and "264.00" in rows.first.inner_text() and shown in body
        elif key == "grooming_score":
            assert shown == "87.5" and rows.count() == 2
        else:
            assert rows.count() == int(shown) == 1
            assert "2026-10-01 至 2026-10-31" in page.inner_text("#period-shown")
        screenshot(page, shot)
    context.close()
