"""Month-end PDFs: Chinese text extractable, the CJK font embedded, pages render, the
scope holds (sup_east gets no SOUTH PDF), identical data gives identical bytes, and the
CLI archives every site's and region's PDF."""

import os
import re
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.models import Region, Site
from tests.conftest import ARTIFACTS

# This month at the sites: the demo organisation's people and records are from today.
MONTH = f"{datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m}"


def _text(pdf_bytes, tmp_path):
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf_bytes)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _fonts(pdf_bytes, tmp_path):
    path = tmp_path / "f.pdf"
    path.write_bytes(pdf_bytes)
    return subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout


def _render(pdf_bytes, name):
    folder = os.path.join(ARTIFACTS, "pdf")
    os.makedirs(folder, exist_ok=True)
    pdf_path = os.path.join(folder, f"{name}.pdf")
    with open(pdf_path, "wb") as fh:
        fh.write(pdf_bytes)
    subprocess.run(
        ["pdftoppm", "-r", "70", "-png", pdf_path, os.path.join(folder, name)], check=True
    )
    return sorted(f for f in os.listdir(folder) if f.startswith(name) and f.endswith(".png"))


def test_site_pdf_has_chinese_text_embedded_font_and_renders(login, site_ids, tmp_path):
    resp = login("sup_south").get(f"/dashboard/site/{site_ids['SZ01']}/{MONTH}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    body = resp.data
    text = _text(body, tmp_path)
    for words in ("深圳湾售楼处", "月度报告", "关键指标", "在册人员", "区域平均", MONTH):
        assert words in text, words
    assert "第2页/共" in text.replace(" ", "")  # page X of Y in the footer
    # Key figure: SZ01 has 4 people on the demo roster + 3 extra = 7.
    assert "7" in text.split("在册人员")[1].split("\n")[0]
    fonts = _fonts(body, tmp_path)
    cjk = [line for line in fonts.splitlines() if "WenQuanYi" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts
    assert len(PdfReader(str(tmp_path / "f.pdf")).pages) >= 2
    assert _render(body, "site_SZ01")  # PNG pages under artifacts/pdf/


def test_same_month_gives_the_same_bytes(login, site_ids):
    client = login("sup_south")
    first = client.get(f"/dashboard/site/{site_ids['SZ02']}/{MONTH}.pdf").data
    assert client.get(f"/dashboard/site/{site_ids['SZ02']}/{MONTH}.pdf").data == first


def test_region_pdf_compares_the_regions_sites(login, dbs, tmp_path):
    south = dbs.scalar(select(Region.id).where(Region.code == "SOUTH"))
    resp = login("sup_south").get(f"/dashboard/region/{south}/{MONTH}.pdf")
    assert resp.status_code == 200
    text = _text(resp.data, tmp_path)
    assert (
        "区域对比报告" in text
        and "华南区" in text
        and "深圳湾售楼处" in text
        and "前海售楼处" in text
    )
    assert "陆家嘴" not in text and "排名" in text and "近几个月趋势" in text
    _render(resp.data, "region_SOUTH")


def test_sup_east_gets_no_south_pdf(login, dbs, site_ids, tmp_path):
    client = login("sup_east")
    south = dbs.scalar(select(Region.id).where(Region.code == "SOUTH"))
    east = dbs.scalar(select(Region.id).where(Region.code == "EAST"))
    assert client.get(f"/dashboard/site/{site_ids['SZ01']}/{MONTH}.pdf").status_code == 404
    assert client.get(f"/dashboard/region/{south}/{MONTH}.pdf").status_code == 404
    text = _text(client.get(f"/dashboard/region/{east}/{MONTH}.pdf").data, tmp_path)
    assert "陆家嘴售楼处" in text and "深圳" not in text and "前海" not in text


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/site/{sz01}/2026-13.pdf",
        "/dashboard/site/{sz01}/november.pdf",
        "/dashboard/site/abc/2026-11.pdf",
        "/dashboard/site/99999/2026-11.pdf",
    ],
)
def test_bad_pdf_urls_are_404(login, site_ids, url):
    assert login("admin").get(url.format(sz01=site_ids["SZ01"])).status_code == 404


def test_only_supervisors_and_head_office_download(login, site_ids):
    assert (
        login("clerk_sz01").get(f"/dashboard/site/{site_ids['SZ01']}/{MONTH}.pdf").status_code
        == 403
    )


def test_cli_archives_every_site_and_region_in_parallel(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["reports", "monthly", "--month", MONTH, "--out", str(tmp_path), "--processes", "2"]
    )
    assert result.exit_code == 0, result.output
    folder = tmp_path / MONTH
    names = sorted(os.listdir(folder))
    assert names == [
        f"{kind}_{code}_{MONTH}.pdf"
        for kind, code in (
            ("region", "EAST"),
            ("region", "SOUTH"),
            ("site", "SH01"),
            ("site", "SH02"),
            ("site", "SZ01"),
            ("site", "SZ02"),
        )
    ]
    # Regenerating a closed month (in parallel, then in-process) gives the very same file. The
    # current month is live: a record added between two runs rightly changes its figures.
    closed = "2026-10"
    result = runner.invoke(
        args=["reports", "monthly", "--month", closed, "--out", str(tmp_path), "--processes", "2"]
    )
    assert result.exit_code == 0, result.output
    before = (tmp_path / closed / "site_SZ01_2026-10.pdf").read_bytes()
    result = runner.invoke(
        args=["reports", "monthly", "--month", closed, "--site", "SZ01", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / closed / "site_SZ01_2026-10.pdf").read_bytes() == before


@pytest.mark.parametrize(
    "args, message",
    [(["--month", "2026-13"], "YYYY-MM"), (["--month", MONTH, "--site", "XX"], "XX")],
)
def test_cli_refuses_bad_input(app, tmp_path, args, message):
    result = app.test_cli_runner().invoke(
        args=["reports", "monthly", *args, "--out", str(tmp_path)]
    )
    assert result.exit_code != 0 and message in result.output
    assert not os.listdir(tmp_path)


def test_long_tables_split_cleanly_with_their_header_on_every_page(login, dbs, site_ids, tmp_path):
    from portal.models import StaffMember

    for n in range(120):
        dbs.add(StaffMember(site_id=site_ids["SZ01"], name=f"保洁员{n:03d}", kind="cleaner"))
    dbs.commit()
    body = login("admin").get(f"/dashboard/site/{site_ids['SZ01']}/{MONTH}.pdf").data
    path = tmp_path / "long.pdf"
    path.write_bytes(body)
    pages = [page.extract_text() for page in PdfReader(str(path)).pages]
    roster_pages = [text for text in pages if "保洁员" in text]
    assert len(roster_pages) >= 3
    # The header row repeats on each page the roster spans; the page header names site and month.
    assert all(
        "姓名" in text and "类别" in text and f"深圳湾售楼处 · {MONTH}" in text
        for text in roster_pages
    )
    assert "保洁员000" in roster_pages[0] and "保洁员119" in roster_pages[-1]
    _render(body, "site_SZ01_long")


def test_a_region_of_many_sites_gets_its_comparison_in_charts_of_a_page_each(login, dbs, tmp_path):
    """A region of 50 sites: each figure's bars are split over charts that fit a page (one
    chart of 50 bars is taller than a page and left the month-end archive without a PDF)."""
    south = dbs.get(Region, dbs.scalar(select(Region.id).where(Region.code == "SOUTH")))
    opened = datetime.now(ZoneInfo("Asia/Shanghai")).date().replace(day=1)
    for n in range(48):
        dbs.add(
            Site(code=f"GD{n:02d}", name=f"广东{n:02d}号售楼处", region=south, opened_on=opened)
        )
    dbs.commit()
    resp = login("admin").get(f"/dashboard/region/{south.id}/{MONTH}.pdf")
    assert resp.status_code == 200, resp.status_code
    text = _text(resp.data, tmp_path)
    assert "GD47" in text and "GD00" in text
    # 50 sites: three charts per figure, on one scale, each within its page.
    assert re.search(r"（[^）]+）\s*1/3", text) and re.search(r"（[^）]+）\s*3/3", text)
    _render(resp.data, "region_many_sites")
