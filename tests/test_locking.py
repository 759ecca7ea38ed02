"""Optimistic locking: two people edit the same record; the second save is refused with 409."""

import re


import pytest
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import select

from portal.domains import collected
from portal.extensions import db
from tests.forms import Forms
from portal.models import (
    ChecklistTemplate,
    CleaningArea,
    HandoverEntry,
    Item,
    ItemCheckLine,
    Product,
    Region,
    Shift,
    ShowUnit,
    Site,
    StaffMember,
    User,
    Visit,
)
from portal.views.base import VERSION_FIELD

VERSION = re.compile(
    r'id="version" name="version" type="hidden" value="(\d+)"'
    r'|name="version" type="hidden" value="(\d+)"'
)


def _version_in(page):
    m = VERSION.search(page)
    assert m, "the edit form has no version field"
    return m.group(1) or m.group(2)


def _staff_form(staff, **changes):
    data = {
        "site": str(staff.site_id),
        "name": staff.name,
        "kind": staff.kind,
        "phone": staff.phone or "",
        "user": "",
        "notes": staff.notes or "",
    }
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
        staff = s.scalars(
            select(StaffMember)
            .where(StaffMember.site_id == site_ids["SZ01"])
            .order_by(StaffMember.id)
        ).first()
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

    phone, version = _read(
        app, lambda s: (s.get(StaffMember, staff_id).phone, s.get(StaffMember, staff_id).version)
    )
    assert phone == "13800000001" != original_phone
    assert version == int(v1) + 1
    # Reopening the form shows the new version, and saving from it works.
    v3 = _version_in(second.get(url).get_data(as_text=True))
    assert second.post(url, {**form, "phone": "13900000002", "version": v3}).status_code == 302


def test_save_without_version_is_refused(app, login, site_ids):
    def arrange(s):
        staff = s.scalars(
            select(StaffMember)
            .where(StaffMember.site_id == site_ids["SZ01"])
            .order_by(StaffMember.id)
        ).first()
        return staff.id, _staff_form(staff, name="改名")

    staff_id, form = _read(app, arrange)
    resp = login("admin").post(f"/staff/edit/?id={staff_id}", form)
    assert resp.status_code == 409
    assert _read(app, lambda s: s.get(StaffMember, staff_id).name) != "改名"


@pytest.mark.parametrize(
    "model",
    [
        Site,
        StaffMember,
        User,
        Region,
        ShowUnit,
        Item,
        ItemCheckLine,
        Product,
        Visit,
        ChecklistTemplate,
        Shift,
        CleaningArea,
        HandoverEntry,
    ],
)
def test_versioned_models(model):
    assert model.__mapper__.version_id_col is not None


# ------------------------------------------------------------------ every versioned admin form

# Endpoint → (field, first person's value, second person's value, extra condition on the record).
CONCURRENT_EDITS = {
    "site": ("address", "深圳南山区一号", "深圳南山区二号", None),
    "showunit": ("location", "A 栋 1201", "B 栋 1502", None),
    "staff": ("phone", "13800000001", "13900000002", None),
    "user": ("display_name", "第一个人改的", "第二个人改的", None),
    "region": ("name", "华南一区", "华南二区", None),
    "item": ("location", "前台左侧", "前台右侧", None),
    "product": ("reorder_level", "7", "9", None),
    "visit": ("notes", "第一位的备注", "第二位的备注", None),
    "checklisttemplate": ("description", "第一位改的说明", "第二位改的说明", None),
    "shift": ("post", "door", "reception", None),
    "cleaning_area": ("name", "大堂地面", "大堂玻璃", None),
    "handover_entry": (
        "text",
        "第一位更正的交接内容",
        "第二位更正的交接内容",
        lambda m: m.signed_at.is_(None),
    ),
    "discrepancy": (
        "dealt_note",
        "第一位：已补齐",
        "第二位：已报修",
        lambda m: m.is_discrepancy.is_(True),
    ),
}
# Domains declare theirs in their descriptor (portal/domains.py).
CONCURRENT_EDITS.update(
    {endpoint: (*sample, None) for endpoint, sample in collected("edit_samples").items()}
)


def edit_form(html):
    forms = [
        {name: value or "" for name, _, value in f["fields"]}
        for f in Forms(html, first_option=False).forms
    ]
    forms = [f for f in forms if VERSION_FIELD in f]
    assert len(forms) == 1, "the page has no (or several) edit forms with a version"
    return forms[0]


def _editable_views(app):
    return {
        v.endpoint: v
        for v in app.extensions["portal_admin"]._views
        if isinstance(v, ModelView) and v._editable
    }


def test_every_editable_admin_view_is_versioned_and_tested(app):
    views = _editable_views(app)
    unversioned = sorted(e for e, v in views.items() if v.model.__mapper__.version_id_col is None)
    assert not unversioned, (
        f"admin edit forms without optimistic locking (VersionedMixin): {unversioned}"
    )
    assert set(views) == set(CONCURRENT_EDITS), (
        "CONCURRENT_EDITS must list every editable admin view"
    )


def _second_person(view, record_site_id, site_ids):
    """Another person who may edit the record: the SZ01 supervisor where his role may, else the
    administrator on a second tablet (own session)."""
    if "supervisor" in view.write_roles and record_site_id == site_ids["SZ01"]:
        return "sup_south"
    return "admin"


@pytest.mark.parametrize("endpoint", sorted(CONCURRENT_EDITS))
def test_two_people_save_the_same_record(app, login, full_demo, endpoint):
    view = _editable_views(app)[endpoint]
    model = view.model
    field, first_value, second_value, condition = CONCURRENT_EDITS[endpoint]

    def arrange(s):
        stmt = select(model).order_by(model.id)
        if model is Site:
            stmt = stmt.where(Site.id == full_demo["SZ01"])
        elif "site_id" in model.__table__.c:
            stmt = stmt.where(model.site_id == full_demo["SZ01"])
        if condition is not None:
            stmt = stmt.where(condition(model))
        record = s.scalars(stmt).first()
        assert record is not None, f"no SZ01 {model.__name__} in the demo data"
        return record.id, getattr(record, "site_id", None), record.version

    record_id, record_site, stored = _read(app, arrange)
    first = login("admin")
    second = login(_second_person(view, record_site, full_demo))
    url = f"{view.url.rstrip('/')}/edit/?id={record_id}"
    form1 = edit_form(first.get(url).get_data(as_text=True))
    form2 = edit_form(second.get(url).get_data(as_text=True))
    assert form1[VERSION_FIELD] == form2[VERSION_FIELD] == str(stored)

    resp = first.post(url, {**form1, field: first_value})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    resp = second.post(url, {**form2, field: second_value})
    assert resp.status_code == 409
    assert "其他人已保存了这条记录" in resp.get_data(as_text=True)

    def stored_now(s):
        s.expire_all()
        record = s.get(model, record_id)
        return str(getattr(record, field)), record.version

    value, version = _read(app, stored_now)
    assert value == first_value
    assert version == stored + 1
    # Reopened, the form carries the new version and the second person's save goes through.
    form3 = edit_form(second.get(url).get_data(as_text=True))
    assert form3[VERSION_FIELD] == str(stored + 1)
    assert second.post(url, {**form3, field: second_value}).status_code == 302
    assert _read(app, stored_now) == (second_value, stored + 2)


def test_a_save_that_changes_only_related_rows_bumps_the_version(app, login, full_demo):
    """A template saved with only an item relabelled still refuses an older copy of the form."""

    def arrange(s):
        template = s.scalars(
            select(ChecklistTemplate)
            .where(ChecklistTemplate.site_id.is_(None))
            .order_by(ChecklistTemplate.id)
        ).first()
        return template.id, template.version

    template_id, stored = _read(app, arrange)
    first, second = login("admin"), login("admin")
    url = f"/checklisttemplate/edit/?id={template_id}"
    form1 = edit_form(first.get(url).get_data(as_text=True))
    form2 = edit_form(second.get(url).get_data(as_text=True))
    assert first.post(url, {**form1, "items-0-label": "只改了第一项"}).status_code == 302
    assert _read(app, lambda s: s.get(ChecklistTemplate, template_id).version) == stored + 1
    assert second.post(url, {**form2, "description": "过期的副本"}).status_code == 409


def test_a_workflow_page_answers_409_to_a_stale_write(app, login, full_demo):
    """Outside the admin forms (the visit log's departure), a lost race is a 409 page, never a
    500."""
    from sqlalchemy import event

    def arrange(s):
        visit = s.scalars(
            select(Visit)
            .where(Visit.site_id == full_demo["SZ01"], Visit.left_at.is_(None))
            .order_by(Visit.id)
        ).first()
        return visit.id if visit else None

    visit_id = _read(app, arrange)
    assert visit_id is not None
    clerk = login("clerk_sz01")

    def someone_else_saves_first(session, flush_context, instances):
        # Between this request's read and its write, another person saves the same visit.
        if any(isinstance(o, Visit) and o.id == visit_id for o in session.dirty):
            session.connection().execute(
                Visit.__table__.update()
                .where(Visit.__table__.c.id == visit_id)
                .values(version=Visit.__table__.c.version + 1)
            )

    event.listen(db.session, "before_flush", someone_else_saves_first)
    try:
        resp = clerk.post("/visits/depart", {"id": visit_id, "direction": "main_gate"})
    finally:
        event.remove(db.session, "before_flush", someone_else_saves_first)
    assert resp.status_code == 409
    assert "其他人已保存了这条记录" in resp.get_data(as_text=True)
    assert _read(app, lambda s: s.get(Visit, visit_id).left_at) is None
