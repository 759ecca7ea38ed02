"""CSV / XLSX exports of every scoped list: BOM for Excel, filters and scope honoured,
formula injection neutralised, XLSX with Chinese headers."""

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from portal.models import Region, StaffMember
from portal.views.exports import neutralise


def _csv(resp):
    assert resp.status_code == 200, resp.status_code
    raw = resp.data
    assert raw.startswith(b"\xef\xbb\xbf"), raw[:10]  # UTF-8 BOM: Excel reads Chinese
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_sites_csv_has_bom_chinese_headers_and_honours_filters(login, dbs):
    client = login("admin")
    rows = _csv(client.get("/site/export/csv/"))
    assert rows[0][:3] == ["编码", "名称", "区域"]
    assert sorted(r[0] for r in rows[1:]) == ["SH01", "SH02", "SZ01", "SZ02"]
    east = dbs.scalar(select(Region.id).where(Region.code == "EAST"))
    rows = _csv(client.get(f"/site/export/csv/?flt0_region_equals={east}"))
    assert sorted(r[0] for r in rows[1:]) == ["SH01", "SH02"]


def test_staff_csv_honours_site_filter_and_scope(login, site_ids):
    rows = _csv(login("admin").get(f"/staff/export/csv/?flt0_site_equals={site_ids['SZ02']}"))
    names = {r[1] for r in rows[1:]}
    assert "钱阿姨" in names and "孙阿姨" not in names
    # sup_east gets no SZ01 row, filtered or not.
    client = login("sup_east")
    assert all("深圳" not in r[0] for r in _csv(client.get("/staff/export/csv/"))[1:])
    assert len(_csv(client.get(f"/staff/export/csv/?flt0_site_equals={site_ids['SZ01']}"))) == 1
    assert all("SZ0" not in r[0] for r in _csv(client.get("/site/export/csv/"))[1:])


def test_formula_injection_is_neutralised_in_csv_and_xlsx(login, dbs, site_ids):
    dbs.add(
        StaffMember(
            site_id=site_ids["SZ01"],
            name='=HYPERLINK("http://evil","点我")',
            kind="cleaner",
            phone="+8613800000000",
        )
    )
    dbs.add(StaffMember(site_id=site_ids["SZ01"], name="@SUM(A1:A9)", kind="cleaner", phone="-1"))
    dbs.add(StaffMember(site_id=site_ids["SZ01"], name="\tTAB", kind="cleaner"))
    dbs.commit()
    client = login("sup_south")
    rows = _csv(client.get(f"/staff/export/csv/?flt0_site_equals={site_ids['SZ01']}"))
    cells = [c for r in rows for c in r]
    assert '\'=HYPERLINK("http://evil","点我")' in cells and "'+8613800000000" in cells
    assert "'@SUM(A1:A9)" in cells and "'-1" in cells and "'\tTAB" in cells
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    resp = client.get(f"/staff/export/xlsx/?flt0_site_equals={site_ids['SZ01']}")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:2] == ["售楼处", "姓名"]
    flat = [v for row in values for v in row if isinstance(v, str)]
    assert '\'=HYPERLINK("http://evil","点我")' in flat and not any(
        v.startswith(("=", "+", "@")) for v in flat
    )


def test_xlsx_scope_and_chinese(login):
    resp = login("sup_east").get("/staff/export/xlsx/")
    sheet = load_workbook(io.BytesIO(resp.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert "姓名" in rows[0]
    assert rows[1:] and all("深圳" not in str(r[0]) and "前海" not in str(r[0]) for r in rows[1:])


def test_audit_export_has_bom_and_is_scoped(login):
    rows = _csv(login("sup_east").get("/audit/export/csv/"))
    assert rows[0][:3] == ["时间", "操作人", "售楼处"]
    assert all("深圳" not in c for r in rows[1:] for c in r)


def test_neutralise_leaves_numbers_and_plain_text():
    assert neutralise(-5) == -5 and neutralise(3.5) == 3.5 and neutralise(None) is None
    assert neutralise("深圳") == "深圳" and neutralise("a=b") == "a=b"
    assert neutralise("\rx") == "'\rx"


def test_a_filter_value_that_is_not_an_id_is_ignored(login):
    client = login("admin")
    for url in (
        "/staff/?flt0_site_equals=abc",
        "/staff/export/csv/?flt0_site_equals=1%20OR%201=1",
        "/audit/?flt0_user_equals=x",
    ):
        assert client.get(url).status_code == 200, url


def test_xlsx_keeps_numbers_as_numbers(login):
    resp = login("admin").get("/audit/export/xlsx/")
    sheet = load_workbook(io.BytesIO(resp.data)).active
    ids = [row[5].value for row in sheet.iter_rows(min_row=2)]
    assert ids and all(isinstance(v, int) for v in ids if v is not None)
