"""Key register: hand out and take back, one person at a time, the Today section, the
dashboard figure and its drill-down, a lost key becoming a lock-change ticket, and the scope."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.models import AuditEvent, RepairTicket, StaffMember
from portal.models.keys import KeyItem, KeyLoan
from portal.services import keys as svc


def _key(dbs, site_id, code):
    return dbs.scalar(select(KeyItem).where(KeyItem.site_id == site_id, KeyItem.code == code))


def _open(dbs, key_id):
    dbs.expire_all()
    return dbs.scalars(
        select(KeyLoan).where(KeyLoan.key_id == key_id, KeyLoan.returned_at.is_(None))
    ).all()


def test_clerk_hands_out_to_a_contractor_and_takes_it_back(login, dbs, full_demo):
    key = _key(dbs, full_demo["SZ01"], "B-01")
    clerk = login("clerk_sz01")
    page = clerk.get("/keys/").get_data(as_text=True)
    assert "样板房 B 户型大门" in page and "在柜" in page
    resp = clerk.post(
        f"/keys/{key.id}/out",
        {"holder_name": "李师傅", "holder_phone": "13912345678", "purpose": "维修水管"},
    )
    assert resp.status_code == 302
    (loan,) = _open(dbs, key.id)
    assert loan.holder == "李师傅 13912345678" and loan.purpose == "维修水管"
    # Out to one person at a time.
    again = clerk.post(
        f"/keys/{key.id}/out", {"holder_name": "张三", "holder_phone": "1", "purpose": "x"}
    )
    assert again.status_code == 409 and "这把钥匙已借出" in again.get_data(as_text=True)
    assert len(_open(dbs, key.id)) == 1
    assert clerk.post(f"/keys/loan/{loan.id}/return").status_code == 302
    assert _open(dbs, key.id) == []
    dbs.expire_all()
    back = dbs.get(KeyLoan, loan.id)
    assert back.received_by.username == "clerk_sz01" and back.returned_day is not None
    assert clerk.post(f"/keys/loan/{loan.id}/return").status_code == 409
    actions = dbs.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "KeyLoan", AuditEvent.object_id == loan.id
        )
    ).all()
    assert set(actions) >= {"create", "update"}


def test_bad_hand_out_is_refused_next_to_the_field(login, dbs, full_demo):
    key = _key(dbs, full_demo["SZ01"], "G-01")
    guard = login("guard_sz01")
    resp = guard.post(
        f"/keys/{key.id}/out", {"holder_name": "李师傅", "holder_phone": "", "purpose": "看房"}
    )
    assert resp.status_code == 400 and "请填写施工人员电话" in resp.get_data(as_text=True)
    resp = guard.post(f"/keys/{key.id}/out", {"holder_name": "", "purpose": "看房"})
    assert resp.status_code == 400 and "请选择人员" in resp.get_data(as_text=True)
    other = dbs.scalar(select(StaffMember).where(StaffMember.site_id == full_demo["SZ02"]))
    resp = guard.post(f"/keys/{key.id}/out", {"staff_member": other.id, "purpose": "看房"})
    assert resp.status_code == 404  # a person of another site is out of the guard's scope
    assert _open(dbs, key.id) == []


def test_the_database_holds_one_open_loan_per_key(dbs, full_demo):
    """Two hand-outs racing past the check: the second insert fails on the partial index."""
    key = _key(dbs, full_demo["SZ01"], "A-01")  # out in the demo
    assert len(_open(dbs, key.id)) == 1
    dbs.add(
        KeyLoan(
            site_id=key.site_id,
            key_id=key.id,
            holder_name="x",
            purpose="y",
            out_at=key.created_at,
            out_day=date.today(),
        )
    )
    with pytest.raises(IntegrityError):
        dbs.flush()
    dbs.rollback()


def test_roles(login, dbs, full_demo):
    key = _key(dbs, full_demo["SZ01"], "B-01")
    assert login("sales_sz01").get("/keys/").status_code == 403
    assert login("maint_south").get("/keys/").status_code == 403
    sup = login("sup_south")
    assert sup.get("/keys/").status_code == 200
    resp = sup.post(
        f"/keys/{key.id}/out", {"holder_name": "a", "holder_phone": "1", "purpose": "b"}
    )
    assert resp.status_code == 403 and _open(dbs, key.id) == []
    # Out of scope: another region's clerk gets 404 on SZ01's key.
    assert login("clerk_sh01").get(f"/keys/{key.id}/out").status_code == 404


def test_today_shows_keys_still_out_and_overnight(login, dbs, full_demo):
    key = _key(dbs, full_demo["SZ01"], "A-01")
    (loan,) = _open(dbs, key.id)
    body = login("clerk_sz01").get("/today/").get_data(as_text=True)
    assert "钥匙未归还" in body and "样板房 A 户型大门" in body and "隔夜未还" not in body
    loan.out_day -= timedelta(days=1)
    loan.out_at -= timedelta(days=1)
    dbs.commit()
    body = login("clerk_sz01").get("/today/").get_data(as_text=True)
    assert "隔夜未还" in body


def test_figure_counts_exactly_the_loans_its_drill_down_lists(app, login, dbs, full_demo):
    sz01 = full_demo["SZ01"]
    key, spare = _key(dbs, sz01, "A-01"), _key(dbs, sz01, "B-01")
    (loan,) = _open(dbs, key.id)
    day = loan.out_day
    # Back the same day: not counted.
    dbs.add(
        KeyLoan(
            site_id=sz01,
            key_id=spare.id,
            holder_name="王",
            holder_phone="1",
            purpose="看",
            out_at=loan.out_at,
            out_day=day - timedelta(days=2),
            returned_at=loan.out_at,
            returned_day=day - timedelta(days=2),
        )
    )
    # Back the next morning: counted.
    dbs.add(
        KeyLoan(
            site_id=sz01,
            key_id=spare.id,
            holder_name="赵",
            holder_phone="1",
            purpose="修",
            out_at=loan.out_at,
            out_day=day - timedelta(days=1),
            returned_at=loan.out_at,
            returned_day=day,
        )
    )
    dbs.commit()
    with app.app_context():
        figure = svc.keys_out_overnight([sz01], day - timedelta(days=5), day)
    assert figure == {sz01: 2}  # the one back next morning and the demo key still out
    start, end = (day - timedelta(days=5)).isoformat(), day.isoformat()
    sup = login("sup_south")
    listed = sup.get(
        f"/keyloan/?flt0_site_equals={sz01}&flt1_out_overnight_between={start}+to+{end}"
    )
    body = listed.get_data(as_text=True)
    assert listed.status_code == 200 and "赵" in body and "王 1" not in body
    assert "钥匙未当天归还" in sup.get("/dashboard/").get_data(as_text=True)


def test_lost_key_becomes_a_lock_change_ticket(login, dbs, full_demo):
    key = _key(dbs, full_demo["SZ01"], "A-01")
    resp = login("clerk_sz01").post(f"/keys/{key.id}/lost")
    assert resp.status_code == 302
    dbs.expire_all()
    key = dbs.get(KeyItem, key.id)
    assert key.lost_at is not None and not key.active
    ticket = dbs.get(RepairTicket, key.lock_ticket_id)
    assert ticket.site_id == key.site_id and "A-01" in ticket.description
    assert _open(dbs, key.id) == []
    assert dbs.scalar(
        select(AuditEvent.id).where(AuditEvent.action == "lost", AuditEvent.object_id == key.id)
    )
    assert login("clerk_sz01").post(f"/keys/{key.id}/lost").status_code == 409
