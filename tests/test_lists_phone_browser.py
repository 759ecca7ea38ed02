"""Lists on a phone (390×844): each row is a card of "heading: value" lines with no sideways
scrolling, its actions 44 px touch targets; and the menu names each page once."""

import pytest

from tests.conftest import browser_login, screenshot

CARDS = """() => {
  const table = document.querySelector('table.model-list');
  const rows = [...table.querySelectorAll('tbody tr')];
  const cell = rows[0].querySelector('td[data-label]');
  const actions = [...table.querySelectorAll('.list-buttons-column a.icon, '
                                             + '.list-buttons-column button')]
    .map(el => el.getBoundingClientRect())
    .map(r => [Math.round(r.width), Math.round(r.height)]);
  return {
    rows: rows.length,
    head: getComputedStyle(table.querySelector('thead')).display,
    row: getComputedStyle(rows[0]).display,
    label: getComputedStyle(cell, '::before').content,
    widest: Math.max(...rows.map(r => r.getBoundingClientRect().right)),
    scroll: document.documentElement.scrollWidth,
    actions,
  };
}"""


@pytest.mark.parametrize("path", ["/visit/", "/repairticket/"])
def test_lists_are_cards_on_a_phone(browser, live_server, full_demo, path):
    # full_demo: today's visits and the demo's tickets
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        browser_login(page, live_server, "admin")
        page.goto(f"{live_server}{path}")
        found = page.evaluate(CARDS)
        screenshot(page, f"list-cards-{path.strip('/')}-390")
        assert found["rows"] >= 1
        assert found["head"] == "none" and found["row"] != "table-row", found
        assert found["label"].endswith('："'), found  # "到访时间：2026-…"
        assert found["scroll"] <= 390 and found["widest"] <= 390, found
        assert found["actions"] and all(w >= 44 and h >= 44 for w, h in found["actions"]), found
        # A laptop keeps the table.
        page.set_viewport_size({"width": 1366, "height": 768})
        assert (
            page.evaluate(
                "getComputedStyle(document.querySelector('table.model-list thead')).display"
            )
            != "none"
        )
    finally:
        context.close()


@pytest.mark.parametrize("username", ["admin", "clerk_sz01", "guard_sz01"])
def test_the_menu_names_each_page_once(page, live_server, username):
    browser_login(page, live_server, username)
    entries = page.eval_on_selector_all(
        "#admin-navbar-collapse ul.navbar-nav.mr-auto a",
        "els => els.map(e => [e.textContent.trim(), e.getAttribute('href')])",
    )
    assert entries, username
    names = [name for name, _href in entries]
    assert len(names) == len(set(names)), (username, sorted(n for n in names if names.count(n) > 1))
    pages = [href for _name, href in entries if href and href.startswith("/")]
    assert len(pages) == len(set(pages)), (username, pages)
    assert "首页" not in names


def test_a_list_filtered_by_a_date_range_fits_a_phone(browser, live_server, full_demo):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        browser_login(page, live_server, "sup_south")
        page.goto(f"{live_server}/visit/?flt0_arrived_between=2026-12-01+to+2026-12-06")
        field = page.locator(".filters input.filter-val").first
        box = field.bounding_box()
        shown = page.evaluate(
            "[document.documentElement.scrollWidth, window.scrollX, window.innerWidth]"
        )
        screenshot(page, "list-filter-date-range-390", full_page=False)
        # No sideways scroll, and the whole range can be read and tapped.
        assert shown[0] <= shown[2] and shown[1] == 0, shown
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        assert field.input_value() == "2026-12-01 至 2026-12-06"
    finally:
        context.close()
