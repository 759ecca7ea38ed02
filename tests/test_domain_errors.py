"""Refusals of the services (``DomainError``) reach the user as a page with the reason and the
refusal's status, whichever way the view meets them: caught by the page, by the admin views, or
by nothing (the error page, never a 500)."""

from sqlalchemy import select

from portal.models import HandoverEntry
from portal.services import handover
from tests.handover_helpers import sign_as, site, system_session, user


def test_a_refusal_no_page_catches_is_the_error_page_with_its_reason(login):
    resp = login("clerk_sz01").get("/tally/?day=0001-01-01")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "请选择" in body and "之间的日期" in body  # "Choose a date between … and …"
    assert "出错了" not in body


def test_deleting_a_signed_entry_in_the_admin_list_says_why_and_keeps_it(login, app):
    with system_session(app) as s:
        entry = handover.write_entry(
            site(s, "SZ01"), user(s, "clerk_sz01"), "今日接待 3 批客户", ["门铃坏了"]
        )
        s.flush()
        sign_as(s, entry, "guard_sz01")
        entry_id = entry.id
    admin = login("admin")
    resp = admin.post("/handover_entry/delete/", {"id": entry_id, "url": "/handover_entry/"})
    assert resp.status_code == 302
    assert "该交接记录已签收，不能再修改" in admin.get("/handover_entry/").get_data(as_text=True)
    with system_session(app) as s:
        kept = s.execute(
            select(HandoverEntry)
            .where(HandoverEntry.id == entry_id)
            .execution_options(include_deleted=True)
        ).scalar_one()
        assert kept.deleted_at is None and kept.signed_at is not None
