"""The domain figures through real HTTP: a number's drill-down lists exactly the records
behind it, sup_east gets no SOUTH figure anywhere (dashboard, drill-down, PDF, export),
and the month-end PDF carries the new sections in Chinese."""

import os
import re
import subprocess

from portal.services import metrics as m
from tests.conftest import ARTIFACTS
from tests.test_metrics_domains import OCT, END, dataset, recount  # noqa: F401  (fixture)

PERIOD = "period=custom&start=2026-10-01&end=2026-10-31"


def _drill_links(page, code):
    row = page.split(f'<tr data-site="{code}">')[1].split("</tr>")[0]
    return {
        key: (
            url.replace("&amp;", "&"),
            int(shown.replace(",", "")) if shown.replace(",", "").isdigit() else shown,
        )
        for url, key, shown in re.findall(
            r'href="([^"]+)" class="drill" data-metric="(\w+)">([^<]+)</a>', row
        )
    }


def _rows(listing, url):
    """Rows of a Flask-Admin list: one details link each (the list's own path + details/)."""
    return listing.count(f"{url.split('?')[0]}details/?id=")


def test_numbers_drill_into_exactly_the_records_behind_them(login, dbs, dataset):  # noqa: F811
    client = login("sup_south")
    page = client.get(f"/dashboard/?{PERIOD}").get_data(as_text=True)
    links = _drill_links(page, "SZ01")
    expected = recount(dbs, dataset["SZ01"])
    # Count figures: the list behind the number has that many rows.
    for key in ("item_discrepancies", "cleaning_open", "cleaning_overdue"):
        url, shown = links[key]
        assert shown == expected[key] > 0, key
        resp = client.get(url)
        assert resp.status_code == 200 and _rows(resp.get_data(as_text=True), url) == shown, key
    # Rates and means: the list shows the records they are computed from.
    # (Every figure, with border and deleted rows: tests/test_dashboard_drills.py.)
    for key, records in (
        ("visitors", 2),
        ("drinks_per_visitor", 2),
        ("handover_on_time", 3),
        ("checklists_on_time", 3),
        ("cleaning_hours_to_fix", 3),
        ("stock_variance", 2),
        ("tally_on_time", 2),
        ("hours_to_resolve", 1),
    ):
        url, _shown = links[key]
        listing = client.get(url).get_data(as_text=True)
        assert _rows(listing, url) == records, key
        assert "前海" not in listing, key
    # Every registered metric offers a drill-down.
    assert all(mt.drill for mt in m.all_metrics())


def test_sup_east_gets_no_south_figure_anywhere(login, dbs, dataset, tmp_path):  # noqa: F811
    south_links = _drill_links(
        login("sup_south").get(f"/dashboard/?{PERIOD}").get_data(as_text=True), "SZ01"
    )
    client = login("sup_east")
    page = client.get(f"/dashboard/?{PERIOD}").get_data(as_text=True)
    assert "SZ0" not in page and "深圳" not in page and "前海" not in page
    # The SOUTH drill-down URLs, replayed by sup_east, list nothing of SOUTH.
    for key, (url, _shown) in south_links.items():
        resp = client.get(url)
        body = resp.get_data(as_text=True)
        assert resp.status_code in (200, 403, 404), key
        assert "深圳湾" not in body and "details/?id=" not in body, key
    # Exports of the drill-down lists, and the PDF.
    for key, (url, _shown) in south_links.items():
        if "flt0_site_equals" not in url:
            continue
        resp = client.get(url.replace("/?", "/export/csv/?", 1))
        assert resp.status_code in (200, 403) and "深圳" not in resp.get_data(as_text=True), key
    assert client.get(f"/dashboard/site/{dataset['SZ01']}/2026-10.pdf").status_code == 404
    # The metrics service itself, in sup_east's request, finds nothing of SZ01.
    from flask import current_app  # noqa: F401

    values = m.collect([dataset["SZ01"]], OCT, END)  # unscoped here: the dataset is there …
    assert (
        values["visitors"][dataset["SZ01"]] == 4
    )  # … so the empty pages above come from the scope


def test_site_pdf_has_the_new_sections_in_chinese(login, dataset, tmp_path):  # noqa: F811
    body = login("sup_south").get(f"/dashboard/site/{dataset['SZ01']}/2026-10.pdf").data
    path = tmp_path / "r.pdf"
    path.write_bytes(body)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    for words in (
        "深圳湾售楼处",
        "2026-10",
        "来访人数",
        "人均饮料",
        "盘点库存差异",
        "当日完成盘点",
        "检查表按时完成（开门≤10:00",
        "物品差异",
        "交接 12 小时内签收",
        "卫生整改未完成",
        "卫生整改逾期",
        "仪容仪表得分",
        "未完成报修",
        "损坏",
        "按品种消耗",
        "每周来访",
        "盘点差异",
        "报修与损坏",
        "卫生整改",
        "交接完整性",
        "仪容仪表检查",
    ):
        assert words in text, words
    # Key figures: 4 visitors, 0.75 drinks per visitor, 87.5 grooming points.
    assert re.search(r"来访人数\s+人\s+4\b", text) or re.search(r"来访人数.*\b4\b", text)
    assert "0.75" in text and "87.5" in text
    folder = os.path.join(ARTIFACTS, "pdf")  # git-ignored; absent on a fresh clone
    os.makedirs(folder, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-r", "70", "-png", str(path), os.path.join(folder, "site_SZ01_domains")],
        check=True,
    )
