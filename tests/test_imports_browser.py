"""In a real browser: head office downloads the item template, uploads 30 items with two bad
rows (refused, both problems listed by line and column, nothing written), fixes them and
imports; screenshots land in artifacts/screenshots/."""

import io

from openpyxl import Workbook
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Item, Site
from tests.conftest import browser_login, screenshot
from tests.test_imports import ITEM_HEADERS, thirty_items


def _xlsx(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(ITEM_HEADERS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _items(app, site_id):
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Item).where(Item.site_id == site_id))
        db.session.remove()
    return n


def test_import_thirty_items_refused_then_fixed(page, live_server, app, site_ids):
    with app.app_context():
        sh02 = db.session.scalar(select(Site).where(Site.code == "SH02"))
        label = str(sh02)
        db.session.remove()
    site_id = site_ids["SH02"]
    before = _items(app, site_id)
    page.set_viewport_size({"width": 1024, "height": 900})
    browser_login(page, live_server, "admin")
    page.goto(f"{live_server}/import/")
    with page.expect_download() as info:
        page.click("#template-items")
    assert info.value.suggested_filename.endswith(".xlsx")

    rows = thirty_items()
    rows[5][3] = "三个"
    rows[11][1] = "沙发类"
    page.select_option("#import-kind", "items")
    page.select_option("#import-site", label=label)
    page.set_input_files(
        "#import-file",
        files=[
            {"name": "物品清单.xlsx", "mimeType": "application/octet-stream", "buffer": _xlsx(rows)}
        ],
    )
    with page.expect_navigation():
        page.click("#import-submit")
    problems = page.locator("#import-problems tbody tr")
    assert problems.count() == 2
    assert "第 7 行" in problems.nth(0).inner_text() and "应有数量" in problems.nth(0).inner_text()
    assert "第 13 行" in problems.nth(1).inner_text() and "类别" in problems.nth(1).inner_text()
    assert "未导入任何内容" in page.locator("#import-refused").inner_text()
    screenshot(page, "imports_problems")
    assert _items(app, site_id) == before

    page.select_option("#import-site", label=label)
    page.set_input_files(
        "#import-file",
        files=[
            {
                "name": "物品清单.xlsx",
                "mimeType": "application/octet-stream",
                "buffer": _xlsx(thirty_items()),
            }
        ],
    )
    with page.expect_navigation():
        page.click("#import-submit")
    assert "新建 30 条，更新 0 条，未变 0 条" in page.content()
    screenshot(page, "imports_done")
    assert _items(app, site_id) == before + 30
