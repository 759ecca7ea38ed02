"""Audit trail viewer: who changed what, when, on which site, before → after, with
filters by site, user, record type and period; supervisors see their sites only."""

import re
from datetime import datetime, timezone

from sqlalchemy import select

from portal.models import AuditEvent, StaffMember, User
from tests.audit_rows import add_event
from tests.repairs_helpers import make_ticket


def _edit_staff(client, person, **changes):
    data = {
        "site": str(person.site_id),
        "name": person.name,
        "kind": person.kind,
        "phone": person.phone or "",
        "user": "",
        "active": "y",
        "notes": "",
        "version": person.version,
    }
    data.update(changes)
    return client.post(f"/staff/edit/?id={person.id}&url=/staff/", data=data)


def _event_ids(page):
    return [int(i) for i in re.findall(r"/audit/details/\?id=(\d+)", page)]


def test_details_show_a_readable_diff(login, dbs, site_ids):
    person = dbs.scalar(select(StaffMember).where(StaffMember.name == "孙阿姨"))
    client = login("sup_south")
    resp = _edit_staff(client, person, phone="13800001111", notes="夜班")
    assert resp.status_code == 302
    event = dbs.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "StaffMember", AuditEvent.action == "update")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event.user.username == "sup_south" and event.site_id == site_ids["SZ01"]
    page = client.get(f"/audit/details/?id={event.id}").get_data(as_text=True)
    diff = page.split("变更内容")[1]
    # Field labels come from the staff view; old → new per changed field, nothing else.
    assert re.search(
        r"<th scope=\"row\">电话</th>\s*<td class=\"audit-old\">–</td>"
        r".*?<td class=\"audit-new\">13800001111</td>",
        diff,
        re.S,
    )
    assert re.search(r"<th scope=\"row\">备注</th>.*?<td class=\"audit-new\">夜班</td>", diff, re.S)
    assert "姓名" not in diff
    listing = client.get("/audit/").get_data(as_text=True)
    assert "修改" in listing and "人员" in listing  # action and record type in words


def test_filters_by_site_user_type_and_period(login, dbs, site_ids):
    admin_id = dbs.scalar(select(User.id).where(User.username == "admin"))
    rows = [
        (site_ids["SZ01"], admin_id, "StaffMember", datetime(2020, 10, 15, 2, tzinfo=timezone.utc)),
        (site_ids["SZ01"], None, "Site", datetime(2020, 11, 15, 2, tzinfo=timezone.utc)),
        (site_ids["SZ02"], admin_id, "StaffMember", datetime(2020, 11, 16, 2, tzinfo=timezone.utc)),
    ]
    ids = []
    for site_id, user_id, kind, at in rows:
        ids.append(
            add_event(dbs, site_id=site_id, user_id=user_id, object_type=kind, at=at, summary="x")
        )
    dbs.commit()
    client = login("admin")

    def shown(query):
        return set(_event_ids(client.get(f"/audit/?{query}").get_data(as_text=True))) & set(ids)

    assert shown(f"flt0_site_equals={site_ids['SZ01']}") == {ids[0], ids[1]}
    assert shown(f"flt0_user_equals={admin_id}") == {ids[0], ids[2]}
    assert shown("flt0_record_type_equals=StaffMember") == {ids[0], ids[2]}
    assert shown("flt0_when_between=2020-11-01+to+2020-11-30") == {ids[1], ids[2]}
    assert shown(
        f"flt0_site_equals={site_ids['SZ01']}&flt1_when_between=2020-11-01+to+2020-11-30"
    ) == {ids[1]}


def test_supervisors_see_only_their_sites_events(login, dbs, site_ids):
    event_id = add_event(dbs, site_id=site_ids["SZ01"], object_type="Site", summary="深圳湾")
    dbs.commit()
    client = login("sup_east")
    assert event_id not in _event_ids(client.get("/audit/").get_data(as_text=True))
    assert client.get(f"/audit/details/?id={event_id}").status_code == 404
    assert login("sup_south").get(f"/audit/details/?id={event_id}").status_code == 200
    assert login("clerk_sz01").get("/audit/").status_code == 403


def test_audit_list_query_count_is_constant(app, login, dbs, site_ids):
    from tests.querycount import count_queries

    client = login("admin")
    client.get("/audit/")
    with count_queries(app) as few:
        client.get("/audit/")
    for n in range(30):
        add_event(dbs, site_id=site_ids["SZ02"], object_type="StaffMember", summary=f"x{n}")
    dbs.commit()
    with count_queries(app) as many:
        client.get("/audit/")
    assert many.count == few.count <= 15


def test_created_record_diff_names_references_and_codes(login, dbs, site_ids):
    event = dbs.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "StaffMember",
            AuditEvent.action == "create",
            AuditEvent.summary == "郑凯",
        )
    ).first()
    page = login("sup_south").get(f"/audit/details/?id={event.id}").get_data(as_text=True)
    diff = page.split("变更内容")[1]
    assert "SZ01 深圳湾售楼处" in diff and "销售员" in diff  # the site by name, the kind in words
    assert "记录编号" not in diff
    assert "系统" in page  # created by the seed, not by a person
    assert "+00:00" not in page  # local time, to the minute


def test_a_reopened_ticket_reads_in_words_in_the_trail(login, dbs, site_ids):
    """A status change is kept as stored values, so the trail shows it in the reader's words
    (not the codes a service wrote)."""
    ticket_id = make_ticket(dbs, status="resolved")
    sup = login("sup_south")
    resp = sup.post(f"/repairs/{ticket_id}/action/reopen", {"reopen-note": "灯还是不亮"})
    assert resp.status_code == 302
    event = dbs.scalar(
        select(AuditEvent).where(
            AuditEvent.object_type == "RepairTicket",
            AuditEvent.object_id == ticket_id,
            AuditEvent.action == "reopen",
        )
    )
    listing = sup.get("/audit/?flt0_object_type_equals=RepairTicket").get_data(as_text=True)
    assert f"/audit/details/?id={event.id}" in listing
    assert "resolved" not in listing and "→ assigned" not in listing
    diff = sup.get(f"/audit/details/?id={event.id}").get_data(as_text=True).split("变更内容")[1]
    assert re.search(
        r"<th scope=\"row\">状态</th>\s*<td class=\"audit-old\">已修好</td>"
        r".*?<td class=\"audit-new\">已派单</td>",
        diff,
        re.S,
    ), diff
