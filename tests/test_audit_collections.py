"""A user's sites and regions are the most security-relevant change of all: every change to a
many-to-many link is in the audit trail, before → after in words (site codes, region names), in
the same transaction as the change, sealed in the hash chain, and readable in the audit viewer."""

import re

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.models import AuditEvent, Region, Site, User
from portal.services import audit
from portal.services import auth as accounts
from tests.checklist_helpers import system
from tests.forms import Forms


def _user_form(client, user_id):
    """The user's edit form as the browser sends it, multi-selects as lists, without the token."""
    html = client.get(f"/user/edit/?id={user_id}").get_data(as_text=True)
    form = next(
        f
        for f in Forms(html, first_option=False).forms
        if any(n == "version" for n, _, _ in f["fields"])
    )
    data = {
        name: value or ""
        for name, _, value in form["fields"]
        if name not in ("csrf_token", "sites", "regions")
    }
    selected = dict.fromkeys(("sites", "regions"), [])
    for name in selected:
        block = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
        selected[name] = re.findall(
            r'<option[^>]*selected[^>]*value="(\d+)"|<option[^>]*value="(\d+)"[^>]*selected', block
        )
        selected[name] = [a or b for a, b in selected[name]]
    return data, selected


def _ids(app, model, codes):
    with system(app) as s:
        return [str(s.scalar(select(model.id).where(model.code == code))) for code in codes]


def _user(app, username):
    with system(app) as s:
        user = s.scalar(select(User).where(User.username == username))
        return (
            user.id,
            user.version,
            [site.code for site in user.sites],
            [r.name for r in user.regions],
        )


def _events(app, user_id):
    with system(app) as s:
        events = s.scalars(
            select(AuditEvent)
            .options(joinedload(AuditEvent.user))
            .where(AuditEvent.object_type == "User", AuditEvent.object_id == user_id)
            .order_by(AuditEvent.id)
        ).all()
        return events


def _chain_intact(app):
    with system(app) as s:
        return audit.verify(s.connection()) is None


def test_changing_a_users_sites_is_audited_with_before_and_after(app, login):
    admin = login("admin")
    user_id, version, sites, _ = _user(app, "clerk_sz01")
    assert sites == ["SZ01"]
    data, selected = _user_form(admin, user_id)
    assert selected["sites"] == _ids(app, Site, ["SZ01"])

    sent = {**data, "sites": _ids(app, Site, ["SZ01", "SH01"]), "regions": selected["regions"]}
    assert admin.post(f"/user/edit/?id={user_id}", sent).status_code == 302

    _, new_version, sites, _ = _user(app, "clerk_sz01")
    assert sites == ["SH01", "SZ01"] and new_version == version + 1
    event = _events(app, user_id)[-1]
    assert event.action == "update" and event.user.username == "admin"
    assert event.before["sites"] == ["SZ01 深圳湾售楼处"]
    assert event.after["sites"] == ["SH01 陆家嘴售楼处", "SZ01 深圳湾售楼处"]
    assert "regions" not in event.after  # unchanged links are not listed
    assert _chain_intact(app)

    page = admin.get(f"/audit/details/?id={event.id}").get_data(as_text=True).split("变更内容")[1]
    assert re.search(
        r'<th scope="row">售楼处</th>\s*<td class="audit-old">SZ01 深圳湾售楼处</td>.*?'
        r'<td class="audit-new">SH01 陆家嘴售楼处、SZ01 深圳湾售楼处</td>',
        page,
        re.S,
    )

    # Taking every site away is recorded too, and shown as "none".
    data, selected = _user_form(admin, user_id)
    assert (
        admin.post(
            f"/user/edit/?id={user_id}", {**data, "regions": selected["regions"]}
        ).status_code
        == 302
    )
    event = _events(app, user_id)[-1]
    assert event.after["sites"] == [] and event.before["sites"] == [
        "SH01 陆家嘴售楼处",
        "SZ01 深圳湾售楼处",
    ]
    page = admin.get(f"/audit/details/?id={event.id}").get_data(as_text=True).split("变更内容")[1]
    assert re.search(r'<td class="audit-new">–</td>', page)
    assert _chain_intact(app)


def test_changing_a_supervisors_regions_is_audited_by_region_name(app, login):
    admin = login("admin")
    user_id, _, _, regions = _user(app, "sup_east")
    assert regions == ["华东区"]
    data, selected = _user_form(admin, user_id)
    sent = {**data, "sites": selected["sites"], "regions": _ids(app, Region, ["EAST", "SOUTH"])}
    assert admin.post(f"/user/edit/?id={user_id}", sent).status_code == 302
    event = _events(app, user_id)[-1]
    assert event.before["regions"] == ["华东区"] and event.after["regions"] == ["华东区", "华南区"]
    page = admin.get(f"/audit/details/?id={event.id}").get_data(as_text=True)
    assert "负责区域（主管）" in page and "华东区、华南区" in page
    assert _chain_intact(app)


def test_a_refused_save_leaves_neither_the_links_nor_an_event(app, login):
    admin = login("admin")
    user_id, version, sites, _ = _user(app, "clerk_sz01")
    data, selected = _user_form(admin, user_id)
    stale = {
        **data,
        "version": str(version - 1),
        "sites": _ids(app, Site, ["SH01"]),
        "regions": selected["regions"],
    }
    before = [e.id for e in _events(app, user_id)]
    assert admin.post(f"/user/edit/?id={user_id}", stale).status_code == 409
    assert _user(app, "clerk_sz01")[2] == sites
    assert [e.id for e in _events(app, user_id)] == before


def test_a_new_users_sites_are_in_its_creation_event(app, login):
    admin = login("admin")
    sent = {
        "username": "clerk_new",
        "display_name": "新同事",
        "role": "clerk",
        "locale": "zh_Hans_CN",
        "active": "y",
        "new_password": "一个足够长的新密码口令",
        "sites": _ids(app, Site, ["SZ02"]),
    }
    assert admin.post("/user/new/", sent).status_code == 302
    user_id = _user(app, "clerk_new")[0]
    (event,) = [e for e in _events(app, user_id) if e.action == "create"]
    assert event.after["sites"] == ["SZ02 前海售楼处"]
    assert "password_hash" not in event.after and "session_token" not in event.after
    assert _chain_intact(app)


def test_a_deleted_users_sites_are_in_its_deletion_event(app, login):
    with system(app) as s:
        user = accounts.create_user(
            "temp_sz", "临时工", "clerk", "demo12345", ("SZ01", "SZ02"), check_policy=False
        )
        s.commit()
        user_id = user.id
    assert login("admin").post("/user/delete/", {"id": str(user_id)}).status_code == 302
    (event,) = [e for e in _events(app, user_id) if e.action == "delete"]
    assert event.before["sites"] == ["SZ01 深圳湾售楼处", "SZ02 前海售楼处"]
    assert _chain_intact(app)
