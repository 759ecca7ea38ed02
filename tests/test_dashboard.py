"""The comparison dashboard through real HTTP: scope, period picker, sorting, region
average, highlighted deviations, drill-down links, bad input and query counts."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.models import Region, Site, StaffMember
from tests.querycount import count_queries
from tests.conftest import without_random_values


def _rows(page):
    return re.findall(r'<tr data-site="(\w+)">', page)


def test_supervisor_lands_on_the_dashboard_with_his_sites_only(login):
    client = login("sup_south")
    resp = client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/dashboard/")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert _rows(page) == ["SZ01", "SZ02"]
    assert "陆家嘴" not in page and "虹桥" not in page and "华东区" not in page
    assert "华南区 平均" in page and "售楼处对比看板" in page
    assert "<svg" in page and "排名" in page


def test_sup_east_gets_no_south_figure_anywhere(login, site_ids):
    client = login("sup_east")
    page = client.get("/dashboard/?period=month&on=2026-11-05").get_data(as_text=True)
    assert _rows(page) == ["SH01", "SH02"]
    page = without_random_values(page)
    assert "深圳" not in page and "前海" not in page and "SZ0" not in page
    # Drilling into a SOUTH site's audit events shows nothing of it.
    drill = client.get(f"/audit/?flt0_site_equals={site_ids['SZ01']}").get_data(as_text=True)
    assert "深圳湾" not in drill
    assert (
        client.get(f"/staff/?flt0_site_equals={site_ids['SZ01']}")
        .get_data(as_text=True)
        .count("孙阿姨")
        == 0
    )


def test_admin_sees_every_site_and_filters_by_region(login, dbs):
    client = login("admin")
    assert _rows(client.get("/dashboard/").get_data(as_text=True)) == [
        "SH01",
        "SH02",
        "SZ01",
        "SZ02",
    ]
    east = dbs.scalar(select(Region.id).where(Region.code == "EAST"))
    assert _rows(client.get(f"/dashboard/?region={east}").get_data(as_text=True)) == [
        "SH01",
        "SH02",
    ]


def test_sorting_by_a_figure_and_back(login, dbs, site_ids):
    # SZ02 gets many more people on the roster than SZ01.
    for n in range(6):
        dbs.add(StaffMember(site_id=site_ids["SZ02"], name=f"新人{n}", kind="cleaner"))
    dbs.commit()
    client = login("admin")
    page = client.get("/dashboard/?sort=staff_on_roster&dir=desc").get_data(as_text=True)
    assert _rows(page)[0] == "SZ02"
    assert (
        _rows(client.get("/dashboard/?sort=staff_on_roster&dir=asc").get_data(as_text=True))[-1]
        == "SZ02"
    )
    # The header link of the sorted column reverses the order.
    assert "sort=staff_on_roster&amp;dir=asc" in page or "dir=asc&amp;sort=staff_on_roster" in page
    assert _rows(client.get("/dashboard/?sort=site&dir=desc").get_data(as_text=True))[0] == "SZ02"


def test_deviation_from_region_average_is_highlighted(login, dbs, site_ids):
    # SZ02 takes on many more people: SZ01 falls far below the SOUTH average. (Deactivating
    # SZ01's people would not do: someone who leaves this month was still on this month's
    # roster, by the figure's definition.)
    for n in range(30):
        dbs.add(StaffMember(site_id=site_ids["SZ02"], name=f"新人{n}", kind="cleaner"))
    dbs.commit()
    page = login("sup_south").get("/dashboard/").get_data(as_text=True)
    sz01 = page.split('<tr data-site="SZ01">')[1].split("</tr>")[0]
    sz02 = page.split('<tr data-site="SZ02">')[1].split("</tr>")[0]
    assert "deviation" in sz01 and "比区域平均差" in sz01
    assert "deviation" not in sz02


def test_numbers_link_to_the_records_behind_them(login, site_ids):
    # This month at the site (the demo organisation's audit events are from today).
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    client = login("sup_south")
    page = client.get(f"/dashboard/?period=custom&start={first}&end={last}").get_data(as_text=True)
    sz01 = site_ids["SZ01"]
    # Every number leads to the page of the records behind it (the figure's own rows).
    link = re.search(
        r'href="(/dashboard/records/\?[^"]*metric=audit_events[^"]*)" class="drill"[^>]*>(\d+)</a>',
        page.split('<tr data-site="SZ01">')[1],
    )
    url, shown = link.group(1).replace("&amp;", "&"), link.group(2)
    assert f"site={sz01}" in url and f"start={first}" in url and f"end={last}" in url
    resp = client.get(url)
    listing = resp.get_data(as_text=True)
    # The page behind the number has exactly that many rows, all of SZ01.
    assert resp.status_code == 200 and f"{first} 至 {last}" in listing
    assert listing.count("<tr data-record=") == int(shown)
    assert "前海售楼处" not in listing


def test_periods_day_week_month(login):
    client = login("admin")
    assert "2026-11-11 至 2026-11-11" in client.get(
        "/dashboard/?period=day&on=2026-11-11"
    ).get_data(as_text=True)
    assert "2026-11-09 至 2026-11-15" in client.get(
        "/dashboard/?period=week&on=2026-11-11"
    ).get_data(as_text=True)
    assert "2026-11-01 至 2026-11-30" in client.get(
        "/dashboard/?period=month&on=2026-11-11"
    ).get_data(as_text=True)


def test_bad_input_is_shown_next_to_the_field_with_400(login):
    client = login("admin")
    resp = client.get("/dashboard/?period=custom&start=2026-11-30&end=2026-11-01")
    assert resp.status_code == 400
    assert "结束日期不能早于开始日期。" in resp.get_data(as_text=True)
    resp = client.get("/dashboard/?period=custom&start=yesterday&end=2026-11-01")
    assert resp.status_code == 400 and "请按 YYYY-MM-DD 格式输入日期。" in resp.get_data(
        as_text=True
    )
    assert client.get("/dashboard/?period=year").status_code == 400
    assert client.get("/dashboard/?region=abc").status_code == 400
    assert (
        client.get("/dashboard/?period=custom&start=2024-01-01&end=2026-01-01").status_code == 400
    )


def test_sup_east_cannot_filter_on_a_south_region(login, dbs):
    south = dbs.scalar(select(Region.id).where(Region.code == "SOUTH"))
    resp = login("sup_east").get(f"/dashboard/?region={south}")
    assert resp.status_code == 400 and "深圳" not in resp.get_data(as_text=True)


def test_other_roles_are_refused(login):
    for user in ("clerk_sz01", "guard_sz01", "sales_sz01", "maint_south"):
        assert login(user).get("/dashboard/").status_code == 403


def test_query_count_does_not_grow_with_sites(app, login, dbs):
    client = login("admin")
    client.get("/dashboard/")
    with count_queries(app) as few:
        assert client.get("/dashboard/").status_code == 200
    region = dbs.scalar(select(Region).where(Region.code == "SOUTH"))
    for n in range(25):
        dbs.add(Site(code=f"T{n:02d}", name=f"测试售楼处{n}", region=region))
    dbs.commit()
    client.get("/dashboard/")  # the new sites' ended months of the trend are closed, as above
    with count_queries(app) as many:
        page = client.get("/dashboard/").get_data(as_text=True)
    assert "T24" in page
    # One query per metric for the facts of the period, plus the four facts some figures also
    # need (what the visitors figures share is read twice, and the opening days for tally and
    # checklist days); the chosen metric's 6-month trend: five ended months read from storage
    # and the running month's three (its kept days, and today's facts); the "amended after close"
    # marks; the page itself (user, sites, regions, header counts). Reading facts instead of
    # stored status columns raised the bound from 34 to 36 statements, keeping the running
    # month's days to 37; reading every figure's kept days in one statement per zone brought
    # it to 31, the same for 4 or 29 sites.
    from portal.services import metrics as m

    assert many.count == few.count <= len(m.all_metrics()) + 4 + (5 + 3) + 1 + 6, few.count
