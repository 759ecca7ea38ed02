"""QR labels: the sheet has one decodable QR code per item and area of the site (rendered with
pdftoppm, decoded with zxing-cpp), with the Chinese name and asset tag in an embedded font; a
decoded URL opens the item's page (with the fault button pre-filling the repair form) for a
clerk of the site, 404 for a clerk of another site, and the login page first (then back to
the item) for someone not logged in. The phone page is screenshotted at 375 × 812."""

import os
import re
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from portal.devdata.inventory import ITEMS
from portal.models import CleaningArea, Item, Site
from portal.reports import qr_labels
from tests.conftest import ARTIFACTS, PortalClient, screenshot

SCAN = re.compile(r"^https?://[^/]+/scan/(item|area)/(\d+)$")


@pytest.fixture
def sz01_items(dbs, site_ids):
    """The demo's 31 items at SZ01 and three at SZ02; {(kind, id)} of SZ01's labels."""
    for code, items in (("SZ01", ITEMS), ("SZ02", ITEMS[:3])):
        site = dbs.get(Site, site_ids[code])
        for n, (name, category, location, quantity) in enumerate(items, start=1):
            dbs.add(
                Item(
                    site=site,
                    name=name,
                    category=category,
                    location=location,
                    expected_quantity=quantity,
                    asset_tag=f"{code}-{n:03d}",
                )
            )
    # An item no longer in use gets no label.
    dbs.add(Item(site_id=site_ids["SZ01"], name="旧饮水机", category="appliance", active=False))
    dbs.commit()
    sz01 = site_ids["SZ01"]
    items = dbs.scalars(select(Item.id).where(Item.site_id == sz01, Item.active.is_(True)))
    areas = dbs.scalars(select(CleaningArea.id).where(CleaningArea.site_id == sz01))
    return {("item", i) for i in items} | {("area", a) for a in areas}


def _pages(pdf_bytes, name, dpi=150):
    """The PDF rendered to PNGs under artifacts/qr_labels/ (kept to be looked at)."""
    folder = os.path.join(ARTIFACTS, "qr_labels")
    os.makedirs(folder, exist_ok=True)
    for old in os.listdir(folder):
        if old.startswith(name + "-"):
            os.remove(os.path.join(folder, old))
    pdf_path = os.path.join(folder, f"{name}.pdf")
    with open(pdf_path, "wb") as fh:
        fh.write(pdf_bytes)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", pdf_path, os.path.join(folder, name)], check=True
    )
    return [
        os.path.join(folder, f)
        for f in sorted(os.listdir(folder))
        if f.startswith(name + "-") and f.endswith(".png")
    ]


def _decoded(pngs):
    """Every QR code's text on the pages, one entry per code found."""
    texts = []
    for png in pngs:
        with Image.open(png) as image:
            codes = zxingcpp.read_barcodes(image.convert("L"))
        texts += [c.text for c in codes if c.format == zxingcpp.BarcodeFormat.QRCode]
    return texts


def _labels(texts):
    found = []
    for text in texts:
        m = SCAN.match(text)
        assert m, f"not a scan URL: {text!r}"
        found.append((m.group(1), int(m.group(2))))
    return found


def _selected(html, value):
    return re.search(rf'<option selected value="{value}">|<option value="{value}" selected', html)


def _token(html):
    m = PortalClient.TOKEN.search(html)
    return m.group(1) or m.group(2)


def _reader(body, tmp_path):
    path = tmp_path / "sheet.pdf"
    path.write_bytes(body)
    return PdfReader(str(path))


def _sheet(client, site_id, **params):
    resp = client.get(f"/scan/labels/{site_id}.pdf", query_string=params)
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == "application/pdf"
    return resp.data


def test_sheet_has_one_decodable_label_per_item_and_area(login, site_ids, sz01_items, tmp_path):
    body = _sheet(login("clerk_sz01"), site_ids["SZ01"])
    reader = _reader(body, tmp_path)
    per_page = qr_labels.LAYOUTS[qr_labels.DEFAULT_LAYOUT].per_page
    assert per_page == 24
    assert len(sz01_items) == 31 + 6
    assert len(reader.pages) == 2  # 37 labels, 24 a sheet
    found = _labels(_decoded(_pages(body, "sz01-default")))
    assert len(found) == len(sz01_items), sorted(set(sz01_items) - set(found))
    assert set(found) == sz01_items  # each once, none of SZ02, not the retired item

    # The words on the labels: names, asset tags, kinds, in the embedded CJK font.
    text = "".join(page.extract_text() for page in reader.pages).replace(" ", "")
    for words in (
        "咖啡机",
        "SZ01-018",
        "沙盘模型",
        "设备设施·SZ01",
        "物品·SZ01",
        "区域·SZ01",
        "洗手间",
    ):
        assert words in text, words
    assert "旧饮水机" not in text and "SZ02-001" not in text
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "sheet.pdf")], capture_output=True, text=True, check=True
    ).stdout
    font_lines = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert font_lines and all(" yes " in line for line in font_lines), fonts  # all embedded


@pytest.mark.parametrize("layout", sorted(set(qr_labels.LAYOUTS) - {qr_labels.DEFAULT_LAYOUT}))
def test_every_layout_keeps_every_code_readable(login, site_ids, sz01_items, layout):
    body = _sheet(login("sup_south"), site_ids["SZ01"], layout=layout, outline="1")
    found = _labels(_decoded(_pages(body, f"sz01-{layout}")))
    assert sorted(found) == sorted(sz01_items)


def test_every_label_stays_inside_its_box():
    """Name, tag and QR of a long name on the smallest label lie within the label less its
    padding (drawn on a canvas that records where text goes)."""
    from reportlab.pdfgen.canvas import Canvas

    drawn = []

    class Recording(Canvas):
        def drawString(self, x, y, text, *args, **kwargs):
            drawn.append((x, y, self.stringWidth(text, self._fontname, self._fontsize), text))
            return super().drawString(x, y, text, *args, **kwargs)

        def rect(self, x, y, w, h, *args, **kwargs):
            drawn.append((x, y, w, "▮"))
            return super().rect(x, y, w, h, *args, **kwargs)

    long_name = "进口意大利真皮三人位沙发（米白色，含两个抱枕与一张配套脚凳）" * 2
    label = qr_labels.Label(
        "https://portal.example.cn/scan/item/123456",
        long_name,
        "SZ01-FURN-2026-000123-LONG-TAG",
        "equipment",
        "接待大厅东侧落地窗边靠近沙盘的位置",
        "SZ01",
    )
    from portal.reports.fonts import cjk_font

    font = cjk_font()
    for layout in qr_labels.LAYOUTS.values():
        drawn.clear()
        canvas = Recording("/dev/null", pagesize=layout.page)
        box = layout.box(layout.per_page - 1)  # bottom right
        qr_labels._draw_label(canvas, label, box, layout.padding_mm * 2.8346, font)
        x, y, w, h = box
        pad = layout.padding_mm * 2.8346 - 0.01
        for dx, dy, width, text in drawn:
            assert x + pad <= dx and dx + width <= x + w - pad, (layout.key, text)
            assert y + pad - 2 <= dy <= y + h - pad, (layout.key, text)  # baseline (descenders)
        assert any(t.endswith("…") for *_, t in drawn), layout.key  # the long name was cut


def test_decoded_url_opens_the_item_with_the_fault_button(login, site_ids, sz01_items, dbs):
    clerk = login("clerk_sz01")
    found = _labels(_decoded(_pages(_sheet(clerk, site_ids["SZ01"]), "sz01-scan")))
    coffee = dbs.scalar(
        select(Item.id).where(Item.site_id == site_ids["SZ01"], Item.name == "咖啡机")
    )
    assert ("item", coffee) in found
    url = f"http://localhost/scan/item/{coffee}"
    page = clerk.get(urlsplit(url).path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "咖啡机" in html and "SZ01-018" in html and "水吧" in html
    fault = re.search(r'id="scan-report-fault" href="([^"]+)"', html)
    assert fault, "no fault button"
    assert parse_qs(urlsplit(fault.group(1).replace("&amp;", "&")).query) == {"item": [str(coffee)]}
    assert 'id="scan-item-details"' in html
    assert 'data-kind="opening"' in html  # today's item check, one tap to start it

    # The fault button's form: the site and the item chosen, the item's location filled in.
    form = clerk.get(fault.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert _selected(form, coffee) and _selected(form, site_ids["SZ01"])
    assert 'value="水吧"' in form

    # … and the report is filed against that item.
    resp = clerk.post(
        fault.group(1).replace("&amp;", "&"),
        data={
            "site": site_ids["SZ01"],
            "item": coffee,
            "location": "水吧",
            "description": "咖啡机不出水",
            "priority": "normal",
            "csrf_token": _token(form),
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    again = clerk.get(f"/scan/item/{coffee}").get_data(as_text=True)
    assert 'id="scan-open-tickets"' in again


def test_a_label_of_another_site_is_404(login, site_ids, sz01_items, dbs):
    item = dbs.scalar(select(Item.id).where(Item.site_id == site_ids["SZ01"]).limit(1))
    area = dbs.scalar(select(CleaningArea.id).where(CleaningArea.site_id == site_ids["SZ01"]))
    other = login("clerk_sz02")
    assert other.get(f"/scan/item/{item}").status_code == 404
    assert other.get(f"/scan/area/{area}").status_code == 404
    assert other.get(f"/scan/labels/{site_ids['SZ01']}.pdf").status_code == 404
    own = dbs.scalar(select(Item.id).where(Item.site_id == site_ids["SZ02"]).limit(1))
    assert other.get(f"/scan/item/{own}").status_code == 200
    assert login("sup_east").get(f"/scan/item/{item}").status_code == 404


def test_not_logged_in_goes_to_login_and_back_to_the_item(client, site_ids, sz01_items, dbs):
    item = dbs.scalar(select(Item.id).where(Item.site_id == site_ids["SZ01"]).limit(1))
    resp = client.get(f"/scan/item/{item}")
    assert resp.status_code == 302
    login_url = resp.headers["Location"]
    parts = urlsplit(login_url)
    assert parts.path == "/login"
    assert parse_qs(parts.query)["next"][0].rstrip("?") == f"/scan/item/{item}"
    page = client.get(login_url).get_data(as_text=True)
    token = _token(page)
    # The login form posts back to its own URL, next included.
    resp = client.http.post(
        login_url,
        data={"username": "clerk_sz01", "password": "demo12345", "csrf_token": token},
    )
    assert resp.status_code == 302
    assert urlsplit(resp.headers["Location"]).path == f"/scan/item/{item}"
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200 and 'id="scan-report-fault"' in page.get_data(as_text=True)


def test_next_to_another_host_is_ignored(app):
    """The login's ``next`` takes a local path only (tests/test_attack_csrf_redirect_csp.py has
    the full list); checked here for the scan page's way in."""
    for target in ("//evil.example/scan/item/1", "https://evil.example/scan/item/1"):
        client = PortalClient(app)
        page = client.get("/login", query_string={"next": target}).get_data(as_text=True)
        resp = client.http.post(
            "/login",
            query_string={"next": target},
            data={"username": "clerk_sz01", "password": "demo12345", "csrf_token": _token(page)},
        )
        assert resp.status_code == 302
        assert "evil" not in resp.headers["Location"]


def test_area_label_starts_the_cleaning_inspection(login, site_ids, dbs):
    area = dbs.scalar(
        select(CleaningArea).where(
            CleaningArea.site_id == site_ids["SZ01"], CleaningArea.name == "Restroom"
        )
    )
    guard = login("guard_sz01")
    html = guard.get(f"/scan/area/{area.id}").get_data(as_text=True)
    assert "洗手间" in html
    start = re.search(r'id="scan-start-inspection" href="([^"]+)"', html).group(1)
    assert start.replace("&amp;", "&") == f"/cleaning/inspect?site={site_ids['SZ01']}"
    inspect = guard.get(start.replace("&amp;", "&"))
    assert inspect.status_code == 200 and f'name="area-{area.id}"' in inspect.get_data(True)
    fault = re.search(r'id="scan-report-fault" href="([^"]+)"', html).group(1)
    assert fault.replace("&amp;", "&") == f"/repairs/new/?site={site_ids['SZ01']}"
    # Maintenance reports faults but does not inspect cleaning.
    html = login("maint_south").get(f"/scan/area/{area.id}").get_data(as_text=True)
    assert 'id="scan-report-fault"' in html and "scan-start-inspection" not in html


def test_who_prints_sheets_and_bad_layouts(login, client, site_ids):
    sz01 = site_ids["SZ01"]
    assert login("guard_sz01").get(f"/scan/labels/{sz01}.pdf").status_code == 403
    assert login("guard_sz01").get("/scan/").status_code == 403
    assert login("sales_sz01").get(f"/scan/labels/{sz01}.pdf").status_code == 403
    assert client.get(f"/scan/labels/{sz01}.pdf").status_code == 302
    resp = login("clerk_sz01").get(f"/scan/labels/{sz01}.pdf?layout=a4-9x99")
    assert resp.status_code == 400 and "标签纸" in resp.get_data(as_text=True)
    index = login("admin").get("/scan/").get_data(as_text=True)
    assert f"/scan/labels/{sz01}.pdf" in index and "70 × 37" in index


def test_public_base_url_is_what_the_codes_hold(app, login, site_ids, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://portal.example.cn/")
    body = _sheet(login("clerk_sz01"), site_ids["SZ01"])
    texts = _decoded(_pages(body, "sz01-public-base"))
    assert len(texts) == 6  # the standard areas: no items at SZ01 in this test
    assert all(t.startswith("https://portal.example.cn/scan/area/") for t in texts), texts


def test_empty_site_sheet_says_so(login, dbs, site_ids, tmp_path):
    for area in dbs.scalars(select(CleaningArea).where(CleaningArea.site_id == site_ids["SZ02"])):
        area.active = False
    dbs.commit()
    body = _sheet(login("sup_south"), site_ids["SZ02"])
    assert "还没有" in _reader(body, tmp_path).pages[0].extract_text()


def test_phone_page_at_375_px(browser, live_server, site_ids, sz01_items, dbs):
    item = dbs.scalar(
        select(Item.id).where(Item.site_id == site_ids["SZ01"], Item.name == "电视（75 寸）")
    )
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 375, "height": 812}, device_scale_factor=2
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server}/scan/item/{item}")
        assert "/login" in page.url  # not logged in: the login page first …
        page.fill("#username", "clerk_sz01")
        page.fill("#password", "demo12345")
        with page.expect_navigation():
            page.click("#login-button")
        assert urlsplit(page.url).path == f"/scan/item/{item}"  # … then the item
        screenshot(page, "scan_item_375")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, width
        button = page.locator("#scan-report-fault").bounding_box()
        assert button["height"] >= 48 and button["width"] >= 300, button
        with page.expect_navigation():
            page.click("#scan-report-fault")
        assert page.locator("#item").input_value() == str(item)
        screenshot(page, "scan_item_375_fault_form")
        area = dbs.scalar(select(CleaningArea.id).where(CleaningArea.site_id == site_ids["SZ01"]))
        page.goto(f"{live_server}/scan/area/{area}")
        screenshot(page, "scan_area_375")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.goto(f"{live_server}/scan/")  # where the sheets are printed from
        screenshot(page, "scan_sheets_375")
        assert page.locator("form.qr-sheet").count() == 1  # the clerk's one site
    finally:
        context.close()
