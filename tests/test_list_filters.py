"""Filtering a list by site (or region) through the URL, as the benchmark and the home page
links do: on PostgreSQL too, where an integer column compared with the URL's text failed."""

from portal.models import Region
from portal.services import audit


def test_staff_list_filtered_by_site(login, full_demo):
    page = login("admin").get(f"/staff/?flt0_site_equals={full_demo['SZ02']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "钱阿姨" in html and "林晓东" in html  # SZ02's people
    assert "孙阿姨" not in html and "马阿姨" not in html  # SZ01's and SH01's


def test_audit_list_filtered_by_site(login, full_demo, dbs):
    sz02 = full_demo["SZ02"]
    audit.record("sign", object_type="handover", site_id=sz02, summary="SZ02 签字")
    audit.record("sign", object_type="handover", site_id=full_demo["SH01"], summary="SH01 签字")
    dbs.commit()
    html = login("admin").get(f"/audit/?flt0_site_equals={sz02}").get_data(as_text=True)
    assert "SZ02 签字" in html and "SH01 签字" not in html


def test_site_and_show_unit_lists_filtered(login, full_demo, dbs):
    from sqlalchemy import select

    east = dbs.scalar(select(Region.id).where(Region.code == "EAST"))
    admin = login("admin")
    sites = admin.get(f"/site/?flt0_region_equals={east}").get_data(as_text=True)
    assert "陆家嘴售楼处" in sites and "深圳湾售楼处" not in sites
    units = admin.get(f"/showunit/?flt0_site_equals={full_demo['SH02']}").get_data(as_text=True)
    assert "虹桥天地样板房" in units and "深圳湾一号样板房" not in units


def test_a_filter_value_that_is_not_a_number_is_ignored(login, full_demo):
    resp = login("admin").get("/staff/?flt0_site_equals=abc")
    assert resp.status_code == 200
