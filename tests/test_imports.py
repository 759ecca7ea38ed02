"""Spreadsheet import (issue 19, points 2 and 3): the item register, products and staff of a site
from XLSX or CSV, through real HTTP. A file with any problem is refused whole (400, the problems
by line and column, nothing written); the same file again changes nothing; the scope and the
roles hold; the templates download, open with openpyxl and import once filled."""

import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from portal.models import AuditEvent, Item, Product, StaffMember, StockBalance, StockMovement
from tests.conftest import without_random_values

ITEM_HEADERS = ["名称", "类别", "位置", "应有数量", "资产编号", "状态"]
CATEGORIES = ["家具", "电器", "装饰摆件", "灯具", "音响视频", "挂画艺术品"]


def xlsx(headers, rows, sheet="Sheet"):
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def thirty_items():
    return [
        [
            f"物品{i:02d}",
            CATEGORIES[i % len(CATEGORIES)],
            f"样板房 {'AB'[i % 2]} 户型",
            1 + i % 4,
            f"SZ03-{i:04d}",
            "完好",
        ]
        for i in range(1, 31)
    ]


def upload(client, data, filename, kind="items", site=None, check=False):
    form = {"kind": kind, "site": site, "file": (io.BytesIO(data), filename)}
    if check:
        form["check"] = "1"
    return client.post("/import/", form, content_type="multipart/form-data")


def count(dbs, model, site_id):
    dbs.expire_all()
    return dbs.scalar(select(func.count()).select_from(model).where(model.site_id == site_id))


def audit_count(dbs):
    dbs.expire_all()
    return dbs.scalar(select(func.count()).select_from(AuditEvent))


@pytest.fixture
def admin(login):
    return login("admin")


def test_thirty_items_two_bad_rows_refused_then_fixed_then_reimported(admin, dbs, site_ids):
    sh02 = site_ids["SH02"]
    rows = thirty_items()
    rows[5][3] = "三个"  # line 7: quantity not a number
    rows[11][1] = "沙发类"  # line 13: unknown category
    before_items, before_audit = count(dbs, Item, sh02), audit_count(dbs)

    resp = upload(admin, xlsx(ITEM_HEADERS, rows), "物品清单.xlsx", site=sh02)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "未导入任何内容" in page
    assert page.count('class="import-problem"') == 2
    assert "第 7 行" in page and "「应有数量」" in page and "请输入 0 到 100000 的整数" in page
    assert "第 13 行" in page and "「类别」" in page and "请填写以下之一：装饰摆件" in page
    assert count(dbs, Item, sh02) == before_items and audit_count(dbs) == before_audit

    fixed = thirty_items()
    resp = upload(admin, xlsx(ITEM_HEADERS, fixed), "物品清单.xlsx", site=sh02)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    page = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "新建 30 条，更新 0 条，未变 0 条" in page
    assert count(dbs, Item, sh02) == before_items + 30
    item = dbs.scalar(select(Item).where(Item.site_id == sh02, Item.asset_tag == "SZ03-0007"))
    assert (item.name, item.category, item.location, item.expected_quantity, item.condition) == (
        "物品07",
        "appliance",
        "样板房 B 户型",
        4,
        "ok",
    )
    events = audit_count(dbs) - before_audit
    assert events == 31  # one per item and the import itself
    imported = dbs.scalar(select(AuditEvent).where(AuditEvent.action == "import"))
    assert imported.site_id == sh02 and imported.after["create"] == 30

    # The same file again: nothing changes, not even the audit trail.
    audit_before = audit_count(dbs)
    resp = upload(admin, xlsx(ITEM_HEADERS, fixed), "物品清单.xlsx", site=sh02)
    assert resp.status_code == 302
    page = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "新建 0 条，更新 0 条，未变 30 条" in page
    assert count(dbs, Item, sh02) == before_items + 30 and audit_count(dbs) == audit_before

    # One changed row updates its record (matched on the asset tag, even with a new name).
    fixed[6][0], fixed[6][3] = "落地灯", 2
    resp = upload(admin, xlsx(ITEM_HEADERS, fixed), "物品清单.xlsx", site=sh02)
    page = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "新建 0 条，更新 1 条，未变 29 条" in page
    dbs.expire_all()
    item = dbs.get(Item, item.id)
    assert (item.name, item.expected_quantity) == ("落地灯", 2)
    change = dbs.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "Item", AuditEvent.object_id == item.id)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert change.action == "update" and change.after == {"name": "落地灯", "expected_quantity": 2}


def test_check_only_writes_nothing_and_items_without_tag_match_on_name_and_place(
    admin, dbs, site_ids
):
    sz02 = site_ids["SZ02"]
    rows = [["绿植", "装饰摆件", "前台", 2, None, None], ["绿植", "", "洽谈区", "3", None, "损坏"]]
    before = count(dbs, Item, sz02)
    resp = upload(admin, xlsx(ITEM_HEADERS, rows), "a.xlsx", site=sz02, check=True)
    assert resp.status_code == 200 and "导入将新建 2 条" in resp.get_data(as_text=True)
    assert count(dbs, Item, sz02) == before
    assert upload(admin, xlsx(ITEM_HEADERS, rows), "a.xlsx", site=sz02).status_code == 302
    assert count(dbs, Item, sz02) == before + 2
    # Same name and place → same item; the category left empty keeps what is stored.
    rows[1][3] = 5
    resp = upload(admin, xlsx(ITEM_HEADERS, rows), "a.xlsx", site=sz02, check=True)
    assert "导入将新建 0 条，更新 1 条，1 条不变" in resp.get_data(as_text=True)
    # Two lines for the same item are a problem of the second one.
    resp = upload(admin, xlsx(ITEM_HEADERS, rows + [rows[0]]), "a.xlsx", site=sz02)
    assert resp.status_code == 400 and "与第 2 行是同一条记录" in resp.get_data(as_text=True)


def test_products_with_opening_stock(admin, dbs, site_ids):
    sh02 = site_ids["SH02"]
    headers = ["名称", "类别", "单位", "补货线", "期初库存"]
    rows = [
        ["怡宝 555ml", "饮料", "瓶", 24, 48],
        ["雀巢咖啡", "drink", "罐", 12, 20],
        ["奥利奥", "点心", "包", 5, 0],
        ["青柠苏打", "Drink", None, None, None],
    ]
    resp = upload(admin, xlsx(headers, rows), "products.xlsx", kind="products", site=sh02)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    dbs.expire_all()
    stock = dict(
        dbs.execute(
            select(Product.name, StockBalance.qty)
            .join(StockBalance, StockBalance.product_id == Product.id)
            .where(Product.site_id == sh02, Product.name.in_([r[0] for r in rows]))
        ).all()
    )
    assert stock == {"怡宝 555ml": 48, "雀巢咖啡": 20, "奥利奥": 0, "青柠苏打": 0}
    cookie = dbs.scalar(select(Product).where(Product.site_id == sh02, Product.name == "奥利奥"))
    assert (cookie.kind, cookie.unit, cookie.reorder_level) == ("snack", "包", 5)
    soda = dbs.scalar(select(Product).where(Product.site_id == sh02, Product.name == "青柠苏打"))
    assert (soda.kind, soda.unit, soda.reorder_level) == ("drink", "瓶", 0)
    moves = dbs.scalars(select(StockMovement).where(StockMovement.site_id == sh02)).all()
    opening = [m for m in moves if m.reason == "期初库存（表格导入）"]
    assert sorted(m.quantity for m in opening) == [20, 48]
    assert all(m.kind == "restock" for m in opening)

    # Again: nothing changes, the opening stock is not added a second time.
    audit_before = audit_count(dbs)
    resp = upload(admin, xlsx(headers, rows), "products.xlsx", kind="products", site=sh02)
    assert resp.status_code == 302
    assert audit_count(dbs) == audit_before
    dbs.expire_all()
    assert (
        dbs.scalar(
            select(StockBalance.qty)
            .join(Product, StockBalance.product_id == Product.id)
            .where(Product.site_id == sh02, Product.name == "怡宝 555ml")
        )
        == 48
    )
    # Bad values: the line and the column of each.
    rows[1][4] = 20000
    rows[2][1] = "水果"
    resp = upload(admin, xlsx(headers, rows), "products.xlsx", kind="products", site=sh02)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "第 3 行" in page and "「期初库存」" in page and "请输入 0 到 10000 的整数" in page
    assert "第 4 行" in page and "饮料、点心" in page


def test_staff_import_links_an_existing_login(admin, dbs, site_ids):
    sz01 = site_ids["SZ01"]
    headers = ["姓名", "岗位", "电话", "备注", "登录用户名"]
    rows = [
        ["王阿姨", "保洁工", 13800138000, "周一至周五", None],
        ["刘师傅", "维修", "13900001111", None, None],
        ["郑凯", "销售员", "13700002222", None, None],  # on the roster already: gets a phone
        ["陈志强", "客服主管", None, None, "sup_south"],
    ]
    before = count(dbs, StaffMember, sz01)
    resp = upload(admin, xlsx(headers, rows), "staff.xlsx", kind="staff", site=sz01)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    page = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "新建 3 条，更新 1 条，未变 0 条" in page
    assert count(dbs, StaffMember, sz01) == before + 3
    wang = dbs.scalar(select(StaffMember).where(StaffMember.name == "王阿姨"))
    assert (wang.kind, wang.phone, wang.notes, wang.user_id) == (
        "cleaner",
        "13800138000",
        "周一至周五",
        None,
    )
    chen = dbs.scalar(
        select(StaffMember).where(StaffMember.site_id == sz01, StaffMember.name == "陈志强")
    )
    assert chen.user.username == "sup_south" and chen.kind == "supervisor"
    zheng = dbs.scalar(
        select(StaffMember).where(StaffMember.site_id == sz01, StaffMember.name == "郑凯")
    )
    assert zheng.phone == "13700002222" and zheng.user_id is None
    # A login that does not exist is a problem of its row; logins are made on the user form.
    # A login already on another person of the site is one too.
    rows.append(["新人", "客服员", None, None, "nobody_here"])
    rows.append(["小黄", "销售员", None, None, "sales_sz01"])
    resp = upload(admin, xlsx(headers, rows), "staff.xlsx", kind="staff", site=sz01)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "第 6 行" in page and "「登录用户名」" in page
    assert "没有用户名为 nobody_here 的登录账号：登录账号请在用户表单中创建" in page
    assert "第 7 行" in page and "该登录账号已关联本售楼处的 黄俊杰" in page
    assert count(dbs, StaffMember, sz01) == before + 3


@pytest.mark.parametrize(
    "encoding, bom", [("gbk", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-8", b"")]
)
def test_csv_in_gbk_and_utf8(admin, dbs, site_ids, encoding, bom):
    sz02 = site_ids["SZ02"]
    text = (
        "名称,类别,位置,应有数量,资产编号,状态\r\n"
        "茶几,家具,洽谈区,2,,完好\r\n"
        "台灯,灯具,前台,1,QH-L-01,损坏\r\n"
    )
    before = count(dbs, Item, sz02)
    resp = upload(admin, bom + text.encode(encoding), "items.csv", site=sz02)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert count(dbs, Item, sz02) == before + 2
    lamp = dbs.scalar(select(Item).where(Item.site_id == sz02, Item.asset_tag == "QH-L-01"))
    assert (lamp.name, lamp.category, lamp.condition) == ("台灯", "lamp", "damaged")


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"%PDF-1.4 not a spreadsheet\x00\x01", "items.xlsx", "不是可读取的 XLSX 表格"),
        (b"PK\x03\x04garbage", "items.xlsx", "不是可读取的 XLSX 表格"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "items.csv", "既不是表格"),
        (b"name\nx\n", "items.txt", "只能导入 .xlsx 和 .csv 文件"),
        (b"", "items.xlsx", "请选择要导入的文件"),
        (b"\xff\xfe\xfa\xfb\xfc", "items.csv", "既不是 UTF-8 也不是 GBK"),
    ],
)
def test_files_that_are_not_spreadsheets_are_refused_cleanly(
    admin, dbs, site_ids, data, filename, message
):
    sz01 = site_ids["SZ01"]
    before, audit_before = count(dbs, Item, sz01), audit_count(dbs)
    resp = upload(admin, data, filename, site=sz01)
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    assert count(dbs, Item, sz01) == before and audit_count(dbs) == audit_before


def test_an_xlsx_renamed_csv_and_limits(admin, dbs, site_ids):
    sz01 = site_ids["SZ01"]
    data = xlsx(ITEM_HEADERS, [["a", "家具", "", 1, "", ""]])
    resp = upload(admin, data, "items.csv", site=sz01)
    assert resp.status_code == 400 and "是工作簿而不是 CSV" in resp.get_data(as_text=True)
    rows = [[f"x{i}", "家具", "", 1, "", ""] for i in range(2001)]
    resp = upload(admin, xlsx(ITEM_HEADERS, rows), "big.xlsx", site=sz01)
    assert resp.status_code == 400 and "文件超过 2000 行" in resp.get_data(as_text=True)
    resp = upload(admin, b"a" * (2 * 1024 * 1024 + 10), "big.csv", site=sz01)
    assert resp.status_code == 400 and "文件超过 2 MB" in resp.get_data(as_text=True)
    # Unknown and missing columns are named on the header line.
    resp = upload(admin, xlsx(["名字", "类别"], [["a", "家具"]]), "h.xlsx", site=sz01)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "「名字」" in page and "未知的列" in page
    assert "「名称」" in page and "缺少该列" in page


def test_formulas_are_not_evaluated(admin, dbs, site_ids):
    sz01 = site_ids["SZ01"]
    # openpyxl writes no cached value: the cell reads as empty, the default applies.
    data = xlsx(ITEM_HEADERS, [["公式物品", "家具", "", "=1+1", "", ""]])
    resp = upload(admin, data, "f.xlsx", site=sz01)
    assert resp.status_code == 302
    item = dbs.scalar(select(Item).where(Item.site_id == sz01, Item.name == "公式物品"))
    assert item.expected_quantity == 1


def test_supervisor_of_another_region_gets_404_and_nothing_written(login, dbs, site_ids):
    sup = login("sup_south")
    sh01 = site_ids["SH01"]
    before, audit_before = count(dbs, Item, sh01), audit_count(dbs)
    resp = upload(sup, xlsx(ITEM_HEADERS, thirty_items()), "x.xlsx", site=sh01)
    assert resp.status_code == 404
    assert count(dbs, Item, sh01) == before and audit_count(dbs) == audit_before
    # His own region's site works.
    resp = upload(sup, xlsx(ITEM_HEADERS, thirty_items()[:3]), "x.xlsx", site=site_ids["SZ02"])
    assert resp.status_code == 302
    page = without_random_values(sup.get("/import/").get_data(as_text=True))
    assert "SZ02" in page and "SH01" not in page


def test_supervisor_cannot_link_a_login_outside_his_region(login, dbs, site_ids):
    sup = login("sup_south")
    headers = ["姓名", "岗位", "登录用户名"]
    resp = upload(
        sup, xlsx(headers, [["刘婷", "客服员", "clerk_sh01"]]), "s.xlsx", "staff", site_ids["SZ02"]
    )
    assert resp.status_code == 400 and "没有用户名为 clerk_sh01" in resp.get_data(as_text=True)


@pytest.mark.parametrize("user", ["clerk_sz01", "guard_sz01", "sales_sz01", "maint_south"])
def test_other_roles_are_refused(login, dbs, site_ids, user):
    c = login(user)
    assert c.get("/import/").status_code == 403
    assert c.get("/import/template/items.xlsx").status_code == 403
    before = count(dbs, Item, site_ids["SZ01"])
    resp = upload(c, xlsx(ITEM_HEADERS, thirty_items()), "x.xlsx", site=site_ids["SZ01"])
    assert resp.status_code in (403, 404)
    assert count(dbs, Item, site_ids["SZ01"]) == before


def test_without_csrf_token_nothing_is_written(admin, dbs, site_ids):
    before = count(dbs, Item, site_ids["SZ01"])
    form = {"kind": "items", "site": site_ids["SZ01"]}
    form["file"] = (io.BytesIO(xlsx(ITEM_HEADERS, thirty_items())), "x.xlsx")
    resp = admin.post("/import/", form, csrf=False, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert count(dbs, Item, site_ids["SZ01"]) == before


@pytest.mark.parametrize("kind", ["items", "products", "staff"])
def test_templates_open_and_import_once_filled(admin, dbs, site_ids, kind):
    resp = admin.get(f"/import/template/{kind}.xlsx")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in resp.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.data))
    data_sheet, notes = wb.worksheets
    assert notes.title == "说明"
    headers = [c.value for c in data_sheet[1]]
    assert headers[0] in ("名称", "姓名")
    explained = [row[0].value for row in notes.iter_rows(min_row=2, max_row=len(headers) + 1)]
    assert explained == headers
    site = site_ids["SH02"]
    # As downloaded: the example row is skipped, nothing to import.
    resp = upload(admin, resp.data, "t.xlsx", kind=kind, site=site)
    assert resp.status_code == 400 and "文件中没有可导入的行" in resp.get_data(as_text=True)
    # Filled: the example row changed into a real one, another added below.
    example = [c.value for c in data_sheet[2]]
    filled = list(example)
    filled[0] = f"{example[0]}（改）"
    data_sheet.append([f"{example[0]}二号", *example[1:]])
    for i, value in enumerate(filled, start=1):
        data_sheet.cell(row=2, column=i, value=value)
    if kind == "items":  # two items cannot share an asset tag
        data_sheet.cell(row=3, column=headers.index("资产编号") + 1, value="SZ-FUR-0002")
    if kind == "staff":
        data_sheet.cell(row=3, column=headers.index("电话") + 1, value="13800138001")
    out = io.BytesIO()
    wb.save(out)
    resp = upload(admin, out.getvalue(), "filled.xlsx", kind=kind, site=site)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    page = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "新建 2 条" in page
    resp = upload(admin, out.getvalue(), "filled.xlsx", kind=kind, site=site)
    page = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "新建 0 条，更新 0 条，未变 2 条" in page


def test_the_page_explains_the_columns(admin, site_ids):
    page = admin.get(f"/import/?kind=products&site={site_ids['SZ01']}").get_data(as_text=True)
    assert "期初库存" in page and "饮料、点心" in page
    assert 'href="/import/template/staff.xlsx"' in page
    assert admin.get("/import/template/nothing.xlsx").status_code == 404


@pytest.mark.parametrize("kind", ["items", "products", "staff"])
def test_after_an_import_the_page_links_to_the_site_records(admin, site_ids, kind):
    import re

    page = admin.get(f"/import/?kind={kind}&site={site_ids['SZ02']}&done={kind}")
    link = re.search(
        r'id="import-done"><a class="[^"]*" href="([^"]+)"', page.get_data(as_text=True)
    )
    resp = admin.get(link.group(1).replace("&amp;", "&"))
    assert resp.status_code == 200
    assert "SZ02" in resp.get_data(as_text=True)


def test_markup_in_the_file_and_its_name_is_shown_as_text(admin, site_ids):
    rows = [["<script>x</script>", "<img src=x onerror=alert(1)>", "", 1, "", ""]]
    resp = upload(admin, xlsx(ITEM_HEADERS, rows), "<b>evil</b>.xlsx", site=site_ids["SZ01"])
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "<b>evil</b>" not in page and "<img src=x" not in page
    assert "&lt;b&gt;evil&lt;/b&gt;.xlsx" in page
