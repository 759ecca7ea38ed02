"""A real Chromium: sup_south opens the dashboard, sorts, drills into a number, downloads
the monthly PDF; pages at desktop, tablet and phone sizes are screenshot."""

from portal.models import StaffMember
from portal.services import metrics
from tests.conftest import browser_login, screenshot
from tests import test_metrics_domains


# The month of hand-built records the figures are recounted on, shared with the figure tests.
dataset = test_metrics_domains.dataset


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
    page.click('a.sort-link[data-metric="staff_on_roster"]')
    page.wait_for_load_state("networkidle")
    assert page.locator("tbody tr").first.get_attribute("data-site") == "SZ02"
    assert "dir=desc" in page.url
    screenshot(page, "reports-dashboard-sorted")

    # Drill into SZ01's recorded changes: the audit list behind the number.
    cell = page.locator('tr[data-site="SZ01"] a.drill[data-metric="audit_events"]')
    number = int(cell.inner_text().replace(",", ""))
    cell.click()
    page.wait_for_load_state("networkidle")
    assert "/audit/" in page.url
    assert page.locator("a[href*='/audit/details/?id=']").count() == number
    screenshot(page, "reports-drill-audit")
    page.locator("a[href*='/audit/details/?id=']").first.click()
    page.wait_for_load_state("networkidle")
    assert "变更内容" in page.inner_text("body")
    screenshot(page, "reports-audit-details")

    page.go_back()
    page.go_back()
    page.wait_for_load_state("networkidle")
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
        page.click("#show-button")
        page.wait_for_load_state("networkidle")
        assert "2026-11-01 至 2026-11-30" in page.inner_text("#period-shown")
        # The page itself never scrolls sideways; the wide table scrolls in its own box.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        height = page.locator("#show-button").bounding_box()["height"]
        assert height >= 44
        screenshot(page, f"reports-dashboard-{name}")
        context.close()


def test_supervisor_drills_into_a_domain_figure_and_downloads_october(
    page, live_server, dataset, tmp_path
):
    browser_login(page, live_server, "sup_south")
    page.goto(f"{live_server}/dashboard/?period=custom&start=2026-10-01&end=2026-10-31")
    body = page.inner_text("body")
    assert "物品差异" in body and "卫生整改逾期" in body and "陆家嘴" not in body
    screenshot(page, "reports-dashboard-domains")
    # Sort by item discrepancies, most first: SZ02 (2) before SZ01 (1).
    page.click('a.sort-link[data-metric="item_discrepancies"]')
    page.click('a.sort-link[data-metric="item_discrepancies"]')
    page.wait_for_load_state("networkidle")
    assert page.locator("tbody tr").first.get_attribute("data-site") == "SZ02"
    # SZ01's overdue cleaning issues: the list behind the number has exactly that many rows.
    cell = page.locator('tr[data-site="SZ01"] a.drill[data-metric="cleaning_overdue"]')
    number = int(cell.inner_text())
    cell.click()
    page.wait_for_load_state("networkidle")
    assert number == 2 and page.locator("a[href*='details/?id=']").count() == number
    assert "前海" not in page.inner_text("body")
    screenshot(page, "reports-drill-cleaning-overdue")
    page.go_back()
    page.wait_for_load_state("networkidle")
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
    dataset,  # noqa: F811
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
        assert head.get_attribute("title") == "检查表按时完成（开门≤10:00，闭店≤18:00）"
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
        _shown(page, key).click()
        page.wait_for_load_state("networkidle")
        body = page.inner_text("body")
        # Never SZ02's records (its name is still in the site pickers and the grooming averages).
        records = {"grooming_score": "tr[data-inspection]", "damage_reports": "[data-report]"}.get(
            key, "tbody tr"
        )
        assert all("前海" not in text for text in page.locator(records).all_inner_texts()), key
        if key == "tally_on_time":  # 50 %: one of the two tallies closed the same day
            assert (
                shown == "50" and page.locator("a[href*='/dailytally/details/?id=']").count() == 2
            )
            assert "当日完成" in body and "否，超时" in body
        elif key == "tickets_open":
            assert page.locator("a[href*='/repairticket/details/?id=']").count() == int(shown) == 3
            assert "期末未完成" in body  # the filter applied, in words
        elif key == "hours_to_resolve":
            assert (
                page.locator("a[href*='/repairticket/details/?id=']").count() == 1 and shown in body
            )
        elif key == "grooming_score":
            assert page.locator("[data-score-site]").first.inner_text().strip() == f"{shown}%"
            assert page.locator("tr[data-inspection]").count() == 2
        else:
            assert page.locator("[data-report]").count() == int(shown) == 1
            assert "2026-10-01 至 2026-10-31" in page.inner_text("#period-shown")
        screenshot(page, shot)
    context.close()
