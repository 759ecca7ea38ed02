"""The site scope: clerk_sz02 never reaches an SZ01 record by any route, and nobody can
create or move a record into a site outside their scope."""

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, ShowUnit, Site, StaffMember, User
from portal.services import scope
from tests.conftest import without_random_values


def _sz01_records(dbs, site_ids):
    staff = dbs.scalar(
        select(StaffMember.id).where(StaffMember.site_id == site_ids["SZ01"]).limit(1)
    )
    unit = dbs.scalar(select(ShowUnit.id).where(ShowUnit.site_id == site_ids["SZ01"]))
    return {"staff": staff, "showunit": unit, "site": site_ids["SZ01"]}


def _audit_count(dbs):
    return dbs.scalar(select(func.count()).select_from(AuditEvent))


def test_clerk_of_another_site_cannot_list_open_edit_delete_or_export_sz01(login, dbs, site_ids):
    records = _sz01_records(dbs, site_ids)
    c = login("clerk_sz02")
    before = _audit_count(dbs)
    for endpoint, record_id in records.items():
        listing = c.get(f"/{endpoint}/").get_data(as_text=True)
        assert "深圳湾" not in listing, endpoint
        assert c.get(f"/{endpoint}/details/?id={record_id}").status_code == 404, endpoint
        assert c.get(f"/{endpoint}/edit/?id={record_id}").status_code in (302, 404), endpoint
        c.post(f"/{endpoint}/delete/", data={"id": record_id})
        c.post(f"/{endpoint}/action/", data={"action": "delete", "rowid": [record_id]})
    # Still there, untouched, and nothing written to the trail.
    assert _sz01_records(dbs, site_ids) == records
    assert _audit_count(dbs) == before


def test_supervisor_of_another_region_gets_404_and_no_sz01_in_exports(login, dbs, site_ids):
    records = _sz01_records(dbs, site_ids)
    c = login("sup_east")
    for endpoint, record_id in records.items():
        assert c.get(f"/{endpoint}/details/?id={record_id}").status_code == 404
        assert c.get(f"/{endpoint}/edit/?id={record_id}").status_code in (302, 404)
        export = c.get(f"/{endpoint}/export/csv/")
        assert export.status_code == 200
        assert "深圳湾" not in export.get_data(as_text=True) and "SZ01" not in export.get_data(
            as_text=True
        )
    users = c.get("/user/export/csv/").get_data(as_text=True)
    assert "clerk_sz01" not in users and "clerk_sh01" in users


def test_ajax_lookup_offers_only_people_of_the_users_sites(login):
    found = json.loads(
        login("sup_east").get("/staff/ajax/lookup/?name=user&query=clerk").get_data(as_text=True)
    )
    names = {label for _id, label in found}
    assert "刘婷" in names  # clerk_sh01
    assert "李晓梅" not in names and "张丽娜" not in names  # SZ01 and SZ02 clerks


def test_forged_site_id_on_create_is_refused_and_nothing_written(login, dbs, site_ids):
    c = login("sup_east")
    before = dbs.scalar(select(func.count()).select_from(StaffMember))
    resp = c.post("/staff/new/", data={"site": site_ids["SZ01"], "name": "伪造", "kind": "cleaner"})
    assert resp.status_code == 400
    assert "不是有效的选项" in resp.get_data(as_text=True)
    assert dbs.scalar(select(func.count()).select_from(StaffMember)) == before


def test_moving_a_record_into_another_site_is_refused(login, dbs, site_ids):
    staff_id = dbs.scalar(
        select(StaffMember.id).where(StaffMember.site_id == site_ids["SH01"]).limit(1)
    )
    c = login("sup_east")
    resp = c.post(
        f"/staff/edit/?id={staff_id}",
        data={"site": site_ids["SZ01"], "name": "搬家", "kind": "cleaner"},
    )
    assert resp.status_code == 400
    dbs.expire_all()
    assert dbs.get(StaffMember, staff_id).site_id == site_ids["SH01"]


def test_forged_related_id_through_ajax_field_is_refused(login, dbs, site_ids):
    clerk_sz01 = dbs.scalar(select(User.id).where(User.username == "clerk_sz01"))
    c = login("sup_east")
    resp = c.post(
        "/staff/new/",
        data={"site": site_ids["SH01"], "name": "冒名", "kind": "clerk", "user": clerk_sz01},
    )
    assert resp.status_code == 400
    assert (
        dbs.scalar(select(func.count()).select_from(StaffMember).where(StaffMember.name == "冒名"))
        == 0
    )


def test_service_layer_write_outside_scope_raises(app, site_ids):
    with app.app_context():
        sup = db.session.scalar(select(User).where(User.username == "sup_east"))
        scope.activate(scope.scope_for_user(sup))
        db.session.add(StaffMember(site_id=site_ids["SZ01"], name="越权", kind="cleaner"))
        with pytest.raises(scope.ScopeViolation):
            db.session.flush()
        db.session.rollback()
        assert db.session.get(Site, site_ids["SZ01"]) is None  # not even readable
        assert db.session.scalar(select(func.count()).select_from(Site)) == 2


@pytest.mark.parametrize(
    "username,expected",
    [
        ("admin", {"SZ01", "SZ02", "SH01", "SH02"}),
        ("sup_south", {"SZ01", "SZ02"}),
        ("sup_east", {"SH01", "SH02"}),
        ("clerk_sz01", {"SZ01"}),
        ("maint_south", {"SZ01", "SZ02"}),
    ],
)
def test_each_role_sees_exactly_its_sites(app, login, username, expected):
    page = login(username).get("/site/").get_data(as_text=True)
    assert {code for code in ("SZ01", "SZ02", "SH01", "SH02") if code in page} == expected


def test_alternating_scopes_in_one_process_never_see_each_others_rows(app, site_ids):
    """The scope's criteria are built once per scope and SQL is cached per statement shape:
    the site ids must still be the current scope's, query after query, whichever ran before."""
    from portal.models import Region, Visit

    scopes = {
        code: scope.SiteScope(frozenset({site_ids[code]})) for code in ("SZ01", "SZ02", "SH01")
    }
    with app.app_context():
        for _ in range(3):
            for code, one in scopes.items():
                scope.activate(one)
                seen = {
                    "staff": set(db.session.scalars(select(StaffMember.site_id))),
                    "visits": set(db.session.scalars(select(Visit.site_id))),
                    "sites": set(db.session.scalars(select(Site.id))),
                    "count": db.session.scalar(select(func.count()).select_from(StaffMember)),
                    "regions": set(db.session.scalars(select(Region.code))),
                    "users": set(db.session.scalars(select(User.username))),
                }
                scope.deactivate()
                everyone = db.session.scalar(
                    select(func.count())
                    .select_from(StaffMember)
                    .where(StaffMember.site_id == site_ids[code])
                )
                assert seen["staff"] == {site_ids[code]}, code
                assert seen["visits"] <= {site_ids[code]}, code
                assert seen["sites"] == {site_ids[code]}, code
                assert seen["count"] == everyone, code
                assert seen["regions"] == {"SOUTH" if code.startswith("SZ") else "EAST"}, code
                assert f"clerk_{code.lower()}" in seen["users"], code
                assert (
                    not {f"clerk_{other.lower()}" for other in scopes if other != code}
                    & seen["users"]
                ), code


def test_statements_built_once_still_run_through_the_scope(app, dbs, site_ids):
    """The Today sections run statements built once per process (bind parameters for the site):
    asked for another site's records, each returns nothing in a scope without that site, and
    the same statement object serves the next scope with that scope's rows."""
    from portal.models import HandoverEntry, Visit
    from portal.services import handover, visits

    sz01 = dbs.get(Site, site_ids["SZ01"])
    dbs.add(Visit(site_id=sz01.id, adults=2))
    clerk = dbs.scalar(select(User).where(User.username == "clerk_sz01"))
    dbs.add(
        HandoverEntry(
            site_id=sz01.id,
            post="reception",
            text="built-once check",
            author_id=clerk.id,
            written_at=datetime.now(timezone.utc),
        )
    )
    dbs.commit()
    with app.app_context():
        site = db.session.get(Site, site_ids["SZ01"])
        for _ in range(2):
            for code in ("SZ01", "SH01"):
                scope.activate(scope.SiteScope(frozenset({site_ids[code]})))
                open_visits, unsigned = visits.open_visits(site), handover.unsigned_entries(site)
                scope.deactivate()
                if code == "SZ01":
                    assert open_visits and {v.site_id for v in open_visits} == {sz01.id}
                    assert "built-once check" in {e.text for e in unsigned}
                else:
                    assert open_visits == [] and unsigned == []
                db.session.expunge_all()


def _site_filter_labels(page):
    data = json.loads(
        page.split('id="filter-groups-data" class="d-none">', 1)[1].split("</div>", 1)[0]
    )
    return {
        label for group in data.values() for flt in group for _, label in (flt["options"] or [])
    }


def test_kept_dropdowns_follow_every_change_and_each_scope(login, dbs, site_ids):
    """Dropdowns of sites and people are kept per process and scope: a new or renamed site shows
    at once, and each scope still gets its own sites."""
    admin, sup_east = login("admin"), login("sup_east")
    assert "SZ01 深圳湾售楼处" in _site_filter_labels(admin.get("/visit/").get_data(as_text=True))
    assert "SZ01 深圳湾售楼处" not in _site_filter_labels(
        sup_east.get("/visit/").get_data(as_text=True)
    )
    region_id = dbs.get(Site, site_ids["SZ01"]).region_id
    dbs.add(Site(code="SZ09", name="前海新售楼处", region_id=region_id))
    dbs.get(Site, site_ids["SZ02"]).name = "南山改名售楼处"
    dbs.commit()
    labels = _site_filter_labels(admin.get("/visit/").get_data(as_text=True))
    assert {"SZ09 前海新售楼处", "SZ02 南山改名售楼处"} <= labels
    assert not any(
        label.startswith("SZ")
        for label in _site_filter_labels(sup_east.get("/visit/").get_data(as_text=True))
    )


def test_filter_dropdowns_offer_only_sites_and_people_in_scope(login, dbs):
    """Filter options are read as plain columns (not whole rows): still through the scope."""
    south_only = {
        u.display_name for u in dbs.scalars(select(User)) if u.username.endswith(("_sz01", "_sz02"))
    }
    page = without_random_values(login("sup_east").get("/audit/").get_data(as_text=True))
    assert "SH01" in page and "SZ01" not in page and "SZ02" not in page
    data = json.loads(
        page.split('id="filter-groups-data" class="d-none">', 1)[1].split("</div>", 1)[0]
    )
    labels = {
        label for group in data.values() for flt in group for _, label in (flt["options"] or [])
    }
    assert labels and not labels & south_only
