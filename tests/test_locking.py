"""Optimistic locking: two people edit the same record; the second save is refused with 409."""
import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Site, StaffMember, User

VERSION = re.compile(r'id="version" name="version" type="hidden" value="(\d+)"|name="version" type="hidden" value="(\d+)"')


def _version_in(page):
    m = VERSION.search(page)
    assert m, "the edit form has no version field"
    return m.group(1) or m.group(2)


def _staff_form(staff, **changes):
    data = {"site": str(staff.site_id), "name": staff.name, "kind": staff.kind, "phone": staff.phone or "",
            "user": "", "notes": staff.notes or ""}
    if staff.active:
        data["active"] = "y"
    data.update(changes)
    return data


# Requests run outside the ``dbs`` app context: Flask would reuse it, and with it
# Flask-Login's cached user, across the two clients.
def _read(app, fn):
    with app.app_context():
        try:
            return fn(db.session)
        finally:
            db.session.remove()


def test_second_stale_save_gets_409_and_first_value_stays(app, login, site_ids):
    def arrange(s):
        staff = s.scalars(select(StaffMember).where(StaffMember.site_id == site_ids["SZ01"])
                          .order_by(StaffMember.id)).first()
        return staff.id, staff.phone, _staff_form(staff)

    staff_id, original_phone, form = _read(app, arrange)
    first, second = login("admin"), login("sup_south")
    url = f"/staff/edit/?id={staff_id}&url=/staff/"
    v1 = _version_in(first.get(url).get_data(as_text=True))
    v2 = _version_in(second.get(url).get_data(as_text=True))
    assert v1 == v2

    resp = first.post(url, {**form, "phone": "13800000001", "version": v1})
    assert resp.status_code == 302
    resp = second.post(url, {**form, "phone": "13900000002", "version": v2})
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    assert "其他人已保存了这条记录" in page

    phone, version = _read(app, lambda s: (s.get(StaffMember, staff_id).phone, s.get(StaffMember, staff_id).version))
    assert phone == "13800000001" != original_phone
    assert version == int(v1) + 1
    # Reopening the form shows the new version, and saving from it works.
    v3 = _version_in(second.get(url).get_data(as_text=True))
    assert second.post(url, {**form, "phone": "13900000002", "version": v3}).status_code == 302


def test_save_without_version_is_refused(app, login, site_ids):
    def arrange(s):
        staff = s.scalars(select(StaffMember).where(StaffMember.site_id == site_ids["SZ01"])
                          .order_by(StaffMember.id)).first()
        return staff.id, _staff_form(staff, name="改名")

    staff_id, form = _read(app, arrange)
    resp = login("admin").post(f"/staff/edit/?id={staff_id}", form)
    assert resp.status_code == 409
    assert _read(app, lambda s: s.get(StaffMember, staff_id).name) != "改名"


@pytest.mark.parametrize("model", [Site, StaffMember, User])
def test_versioned_models(model):
    assert model.__mapper__.version_id_col is not None
