"""Handover book: writing, signing, carrying items forward, closing, comments, history,
and above all: a signed entry can never be changed, whatever the route or role."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.models import AuditEvent, HandoverEntry, HandoverItem
from portal.services import handover, roster
from tests.handover_helpers import sign_as, site, staff, system_session, user
from tests.querycount import count_queries
from tests.refusals import refused


def _entry(
    dbs,
    author="clerk_sz01",
    code="SZ01",
    text="今日接待 8 批客户",
    items=("落地灯不亮",),
    signer=None,
):
    e = handover.write_entry(site(dbs, code), user(dbs, author), text, list(items))
    dbs.flush()
    if signer:
        sign_as(dbs, e, signer)
    dbs.commit()
    return e.id


# ---------------------------------------------------------------- services


def test_write_sign_and_audit(dbs):
    entry_id = _entry(dbs)
    entry = dbs.get(HandoverEntry, entry_id)
    assert [i.text for i in entry.items] == ["落地灯不亮"] and not entry.is_signed
    with refused(409):  # alone on her post, the author confirms it only at her next shift
        handover.sign(entry, user(dbs, "clerk_sz01"))
    with refused(403):
        handover.sign(entry, user(dbs, "sales_sz01"))
    with refused(403):  # the guard does not work the front desk
        handover.sign(entry, user(dbs, "guard_sz01"))
    sign_as(dbs, entry, "guard_sz01")  # ... unless the roster puts him there next
    dbs.commit()
    assert entry.signed_by.username == "guard_sz01" and entry.signed_at is not None
    assert dbs.scalar(
        select(AuditEvent.id).where(AuditEvent.action == "sign", AuditEvent.object_id == entry_id)
    )
    with refused():
        handover.sign(entry, user(dbs, "sup_south"))


def test_empty_entry_is_refused(dbs):
    with refused():
        handover.write_entry(site(dbs, "SZ01"), user(dbs, "clerk_sz01"), "   ")


def test_carry_forward_keeps_the_chain_across_three_shifts(dbs):
    first = dbs.get(HandoverEntry, _entry(dbs, signer="guard_sz01"))
    item = first.items[0]
    nxt = handover.carry_forward(item, user(dbs, "guard_sz01"))
    dbs.commit()
    assert item.status == "carried" and nxt.status == "open" and nxt.entry_id is None
    # The guard's own entry at the end of her shift picks the carried item up.
    second = handover.write_entry(
        site(dbs, "SZ01"),
        user(dbs, "guard_sz01"),
        "夜班无异常",
        at=first.signed_at + timedelta(minutes=1),
    )
    dbs.flush()
    assert [i.text for i in second.items] == ["落地灯不亮"]
    sign_as(dbs, second, "clerk_sz01")
    handover.close_item(second.items[0], user(dbs, "clerk_sz01"), "维修师傅已更换灯泡")
    dbs.commit()
    chain = handover.item_history(item)
    assert [(link.status, link.entry_id) for link in chain] == [
        ("carried", first.id),
        ("closed", second.id),
    ]
    assert handover.item_history(second.items[0]) == chain
    with refused():
        handover.carry_forward(second.items[0], user(dbs, "clerk_sz01"))
    actions = dbs.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "HandoverItem", AuditEvent.action.in_(("carry", "close"))
        )
    ).all()
    assert sorted(actions) == ["carry", "close"]


def test_close_needs_a_note(dbs):
    entry = dbs.get(HandoverEntry, _entry(dbs))
    with refused():
        handover.close_item(entry.items[0], user(dbs, "guard_sz01"), " ")


def test_signed_entry_is_read_only_in_the_model_layer(dbs):
    entry = dbs.get(HandoverEntry, _entry(dbs, signer="guard_sz01"))
    entry.text = "改过的内容"
    with refused(409):
        dbs.flush()
    dbs.rollback()
    entry = dbs.get(HandoverEntry, entry.id)
    entry.soft_delete()
    with refused(409):
        dbs.flush()
    dbs.rollback()
    dbs.delete(dbs.get(HandoverEntry, entry.id))
    with refused(409):
        dbs.flush()
    dbs.rollback()
    item = dbs.get(HandoverEntry, entry.id).items[0]
    item.text = "别的事项"
    with refused(409):
        dbs.flush()
    dbs.rollback()
    dbs.get(HandoverEntry, entry.id).items.append(
        HandoverItem(site_id=entry.site_id, text="后加的事项")
    )
    with refused(409):
        dbs.flush()
    dbs.rollback()
    unsign = dbs.get(HandoverEntry, entry.id)
    unsign.signed_at = None
    with refused(409):
        dbs.flush()
    dbs.rollback()
    # Comments are how a signed entry is corrected.
    handover.comment(dbs.get(HandoverEntry, entry.id), user(dbs, "clerk_sz01"), "更正：接待 9 批")
    dbs.commit()
    assert dbs.get(HandoverEntry, entry.id).text == "今日接待 8 批客户"


# ---------------------------------------------------------------- routes


def _arrange(app, **kw):
    with system_session(app) as s:
        return _entry(s, **kw)


def _load(app, entry_id):
    """(text, signed_at, deleted_at, signer, item ids) of an entry, read unscoped."""
    with system_session(app) as s:
        e = s.execute(
            select(HandoverEntry)
            .where(HandoverEntry.id == entry_id)
            .execution_options(include_deleted=True)
        ).scalar_one()
        return (
            e.text,
            e.signed_at,
            e.deleted_at,
            e.signed_by and e.signed_by.username,
            [i.id for i in e.items],
        )


def test_clerk_writes_and_guard_signs_in_two_taps(login, app):
    clerk = login("clerk_sz01")
    resp = clerk.get("/handover/")
    assert resp.status_code == 200 and "填写交接" in resp.get_data(as_text=True)
    resp = clerk.post(
        "/handover/write",
        {
            "post": "reception",
            "outgoing_shift": "0",
            "incoming_shift": "0",
            "text": "样板房钥匙已交回",
            "items": "冰箱补货\n打印机缺纸",
        },
    )
    assert resp.status_code == 302
    with system_session(app) as s:
        entry = s.scalar(select(HandoverEntry).where(HandoverEntry.text == "样板房钥匙已交回"))
        entry_id = entry.id
        assert sorted(i.text for i in entry.items) == ["冰箱补货", "打印机缺纸"]
    guard = login("guard_sz01")
    page = guard.get("/handover/").get_data(as_text=True)
    # The guard works the door, not the front desk: no button, and a forged sign is refused.
    assert "样板房钥匙已交回" in page and f'action="/handover/sign/{entry_id}"' not in page
    assert guard.post(f"/handover/sign/{entry_id}").status_code == 403
    assert _load(app, entry_id)[1] is None
    # Put on the front desk's next shift, he signs it once that shift has started.
    with system_session(app) as s:
        written = s.get(HandoverEntry, entry_id).written_at
        start = written + timedelta(minutes=1)
        roster.plan(
            site(s, "SZ01"),
            "reception",
            staff(s, "SZ01", username="guard_sz01"),
            start,
            start + timedelta(hours=8),
        )
    with time_machine.travel(start + timedelta(minutes=5), tick=True):
        page = guard.get("/handover/").get_data(as_text=True)
        assert f'action="/handover/sign/{entry_id}"' in page
        assert guard.post(f"/handover/sign/{entry_id}").status_code == 302
    assert _load(app, entry_id)[3] == "guard_sz01"


def test_empty_handover_form_is_refused_next_to_the_field(login, app):
    resp = login("clerk_sz01").post(
        "/handover/write",
        {"post": "reception", "outgoing_shift": "0", "incoming_shift": "0", "text": ""},
    )
    assert resp.status_code == 400
    assert "invalid-feedback" in resp.get_data(as_text=True)
    with system_session(app) as s:
        assert s.scalar(select(HandoverEntry.id)) is None


@pytest.mark.parametrize("username", ["admin", "sup_south", "clerk_sz01", "guard_sz01"])
def test_no_role_can_change_a_signed_entry_through_any_route(login, app, username):
    # Signed by someone else than the one trying, or confirmed by its author alone on her post.
    author, signer = (
        ("guard_sz01", "guard_sz01") if username == "clerk_sz01" else ("clerk_sz01", "guard_sz01")
    )
    if username == "guard_sz01":
        signer = "clerk_sz01"
    entry_id = _arrange(app, author=author, signer=signer)
    before = _load(app, entry_id)
    c = login(username)
    # The edit form shows the entry read-only, and a posted form is refused.
    page = c.get(f"/handover_entry/edit/?id={entry_id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "已签收" in body and 'name="text"' not in body
    assert c.post(f"/handover_entry/edit/?id={entry_id}", {"text": "篡改"}).status_code == 409
    # Inline editing in the list (x-editable's ajax update).
    assert (
        c.post(
            "/handover_entry/ajax/update/", {"list_form_pk": entry_id, "text": "篡改"}
        ).status_code
        != 200
    )
    # Bulk action and single delete.
    c.post(
        "/handover_entry/action/",
        {"action": "delete", "rowid": [entry_id], "url": "/handover_entry/"},
    )
    c.post("/handover_entry/delete/", {"id": entry_id, "url": "/handover_entry/"})
    # Signing it again, closing its item with a forged item text: refused or no change to the entry.
    assert c.post(f"/handover/sign/{entry_id}").status_code in (400, 403)
    assert _load(app, entry_id) == before
    assert before[1] is not None and before[2] is None
    # The list offers no way to edit it either.
    listing = c.get("/handover_entry/").get_data(as_text=True)
    assert (
        f"/handover_entry/edit/?id={entry_id}" not in listing
        and f'data-pk="{entry_id}"' not in listing
    )


def test_unsigned_entry_is_corrected_through_the_versioned_form_not_inline(login, app):
    entry_id = _arrange(app)
    clerk = login("clerk_sz01")
    listing = clerk.get("/handover_entry/").get_data(as_text=True)
    assert (
        f"/handover_entry/edit/?id={entry_id}" in listing and f'data-pk="{entry_id}"' not in listing
    )
    # Inline saves carry no version (a silent overwrite): the route is gone.
    assert (
        clerk.post(
            "/handover_entry/ajax/update/", {"list_form_pk": entry_id, "text": "x"}
        ).status_code
        == 404
    )
    assert _load(app, entry_id)[0] == "今日接待 8 批客户"
    with system_session(app) as s:
        version = s.get(HandoverEntry, entry_id).version
    resp = clerk.post(
        f"/handover_entry/edit/?id={entry_id}", {"text": "更正后的内容", "version": version}
    )
    assert resp.status_code == 302
    assert _load(app, entry_id)[0] == "更正后的内容"


def test_only_the_author_or_a_supervisor_corrects_an_unsigned_entry(login, app):
    entry_id = _arrange(app)  # written by clerk_sz01
    with system_session(app) as s:
        version = s.get(HandoverEntry, entry_id).version
    form = {"text": "x", "version": version}
    assert login("guard_sz01").post(f"/handover_entry/edit/?id={entry_id}", form).status_code == 400
    assert _load(app, entry_id)[0] == "今日接待 8 批客户"
    form = {"text": "主管更正", "version": version}
    assert login("sup_south").post(f"/handover_entry/edit/?id={entry_id}", form).status_code == 302
    assert _load(app, entry_id)[0] == "主管更正"


def test_items_of_a_deleted_entry_are_not_open(login, app):
    entry_id = _arrange(app)
    admin = login("admin")
    admin.post("/handover_entry/delete/", {"id": entry_id, "url": "/handover_entry/"})
    assert _load(app, entry_id)[2] is not None  # soft-deleted, kept for reports
    assert "落地灯不亮" not in login("guard_sz01").get("/handover/").get_data(as_text=True)


def test_carry_and_close_by_route_and_history_page(login, app):
    entry_id = _arrange(app, signer="guard_sz01")
    item_id = _load(app, entry_id)[4][0]
    guard = login("guard_sz01")
    assert guard.post(f"/handover/carry/{item_id}").status_code == 302
    assert guard.post(f"/handover/carry/{item_id}").status_code == 400  # already carried
    assert (
        guard.post(
            "/handover/write",
            {"post": "door", "outgoing_shift": "0", "incoming_shift": "0", "text": "晚班交接"},
        ).status_code
        == 302
    )
    with system_session(app) as s:
        later = s.scalar(select(HandoverItem).where(HandoverItem.root_id == item_id))
        later_id, later_text = later.id, later.entry.text
    assert later_text == "晚班交接"
    clerk = login("clerk_sz01")
    assert clerk.post(f"/handover/close/{later_id}", {"note": ""}).status_code == 400
    assert clerk.post(f"/handover/close/{later_id}", {"note": "已修好"}).status_code == 302
    page = clerk.get(f"/handover/item/{item_id}").get_data(as_text=True)
    assert "已顺延" in page and "已关闭" in page and "已修好" in page
    history = page[page.index('<ol class="list-group mb-3 item-history">') : page.index("</ol>")]
    later_page = clerk.get(f"/handover/item/{later_id}").get_data(as_text=True)
    assert history in later_page and history.count("<li") == 2


def test_comment_on_signed_entry(login, app):
    entry_id = _arrange(app, signer="guard_sz01")
    c = login("clerk_sz01")
    resp = c.post(f"/handover/entry/{entry_id}", {"comment": ""})
    assert resp.status_code == 400 and "备注内容为空" in resp.get_data(as_text=True)
    assert c.post(f"/handover/entry/{entry_id}", {"comment": "更正：接待 9 批"}).status_code == 302
    assert "更正：接待 9 批" in c.get(f"/handover/entry/{entry_id}").get_data(as_text=True)


def test_other_sites_entries_are_404_and_sales_is_403(login, app):
    entry_id = _arrange(app)
    item_id = _load(app, entry_id)[4][0]
    other = login("clerk_sz02")
    assert other.post(f"/handover/sign/{entry_id}").status_code == 404
    assert other.post(f"/handover/carry/{item_id}").status_code == 404
    assert other.get(f"/handover/entry/{entry_id}").status_code == 404
    assert other.get(f"/handover/item/{item_id}").status_code == 404
    assert (
        other.post(
            "/handover_entry/ajax/update/", {"list_form_pk": entry_id, "text": "x"}
        ).status_code
        == 404
    )
    assert "今日接待" not in other.get("/handover/").get_data(as_text=True)
    assert login("sales_sz01").post(f"/handover/sign/{entry_id}").status_code == 403
    assert login("guard_sz01").post("/handover/sign/abc").status_code == 404
    assert _load(app, entry_id)[1] is None and _load(app, entry_id)[0] == "今日接待 8 批客户"


def test_state_changes_need_the_csrf_token(login, app):
    entry_id = _arrange(app)
    assert login("guard_sz01").post(f"/handover/sign/{entry_id}", csrf=False).status_code == 400
    assert _load(app, entry_id)[1] is None


def test_book_and_list_pages_have_a_constant_number_of_queries(app, login):
    c = login("guard_sz01")
    _arrange(app)
    c.get("/handover_entry/")  # warm: the filter dropdowns are read on the first view only
    with count_queries(app) as few:
        c.get("/handover/")
    with count_queries(app) as few_list:
        c.get("/handover_entry/")
    for n in range(8):
        _arrange(app, text=f"第 {n} 条", items=("甲", "乙"), signer="guard_sz01" if n % 2 else None)
    with count_queries(app) as many:
        assert c.get("/handover/").status_code == 200
    with count_queries(app) as many_list:
        assert c.get("/handover_entry/").status_code == 200
    assert many.count == few.count and many.count <= 20
    assert many_list.count == few_list.count and many_list.count <= 15


def test_forged_shift_or_site_is_refused(login, app):
    from datetime import date

    from portal.models import Shift
    from tests.handover_helpers import local, site as site_of, staff

    with system_session(app) as s:
        sz02 = site_of(s, "SZ02")
        shift = Shift(
            site=sz02,
            post="reception",
            staff_member=staff(s, "SZ02", kind="clerk"),
            starts_at=local(date(2026, 11, 20), 9),
            ends_at=local(date(2026, 11, 20), 18),
        )
        s.add(shift)
        s.flush()
        shift_id, sz02_id = shift.id, sz02.id
    c = login("clerk_sz01")
    form = {
        "post": "reception",
        "outgoing_shift": shift_id,
        "incoming_shift": "0",
        "text": "伪造班次",
    }
    assert c.post("/handover/write", form).status_code == 400
    assert (
        c.post(f"/handover/write?site={sz02_id}", {**form, "outgoing_shift": "0"}).status_code
        == 404
    )
    with system_session(app) as s:
        assert s.scalar(select(HandoverEntry.id)) is None
