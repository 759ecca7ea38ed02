"""Damage confirmation forms: file, the salesperson confirms or disputes, the supervisor reviews,
one click opens a linked repair ticket; scope and role rules over HTTP."""

import io
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, DamageReport, Photo, RepairTicket
from portal.services import damage, repairs
from tests.querycount import count_queries
from tests.repairs_helpers import ids, image_bytes, site, system, user
from tests.refusals import refused

VISIT_AT = datetime(2026, 3, 2, 6, 30, tzinfo=timezone.utc)


def _file(s, **kw):
    args = dict(
        equipment="装饰花瓶",
        description="小朋友碰倒花瓶",
        salesperson=user(s, "sales_sz01"),
        visit_description="王先生一家三口",
        visit_at=VISIT_AT,
        estimated_cost="350",
    )
    args.update(kw)
    report = damage.file_report(site(s, "SZ01"), user(s, "clerk_sz01"), **args)
    s.commit()
    return report


def new_report(app, **kw):
    with system(app) as s:
        return _file(s, **kw).id


def report_state(app, report_id):
    with system(app) as s:
        r = s.get(DamageReport, report_id)
        return r.status, r.sales_answer, r.outcome, r.repair_ticket_id


def test_file_confirm_review_and_open_a_repair(app, dbs):
    report = _file(dbs)
    assert report.status == "pending" and report.estimated_cost == Decimal("350.00")
    with refused(403):
        damage.confirm(report, user(dbs, "clerk_sz01"))
    with refused():
        damage.review(report, user(dbs, "sup_south"), "waived")
    damage.confirm(report, user(dbs, "sales_sz01"), "确有此事")
    with refused():
        damage.dispute(report, user(dbs, "sales_sz01"), "改主意")
    with refused(403):
        damage.review(report, user(dbs, "clerk_sz01"), "waived")
    with refused():
        damage.review(report, user(dbs, "sup_south"), "forgotten")
    damage.review(report, user(dbs, "sup_south"), "pending", "等客户回复")
    damage.review(
        report, user(dbs, "sup_south"), "compensated", "客户已赔偿"
    )  # pending may be revisited
    with refused():
        damage.review(report, user(dbs, "sup_south"), "waived")
    ticket = damage.open_repair_ticket(report, user(dbs, "clerk_sz01"), "high")
    dbs.commit()
    assert report.repair_ticket_id == ticket.id and damage.report_for_ticket(ticket).id == report.id
    assert (
        ticket.equipment == "装饰花瓶"
        and ticket.priority == "high"
        and ticket.site_id == report.site_id
    )
    assert any(e.kind == "damage" and e.number == report.id for e in repairs.timeline(ticket))
    with refused():
        damage.open_repair_ticket(report, user(dbs, "clerk_sz01"))
    actions = dbs.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "DamageReport")
    ).all()
    assert {"create", "confirm", "review"} <= set(actions)


def test_dispute_needs_a_reason(app, dbs):
    report = _file(dbs)
    with refused():
        damage.dispute(report, user(dbs, "sales_sz01"), "  ")
    damage.dispute(report, user(dbs, "sales_sz01"), "当时不在场")
    assert report.status == "disputed" and report.sales_answer == "disputed"


@pytest.mark.parametrize(
    "field,value",
    [
        ("equipment", ""),
        ("description", ""),
        ("visit_description", ""),
        ("visit_at", None),
        ("estimated_cost", "lots"),
        ("salesperson", None),
    ],
)
def test_filing_refuses_bad_input(app, dbs, field, value):
    with refused():
        _file(dbs, **{field: value})
    dbs.rollback()
    assert dbs.scalar(select(DamageReport.id)) is None


def test_salesperson_must_be_a_sales_user_of_the_site(app, dbs):
    with refused():
        _file(dbs, salesperson=user(dbs, "clerk_sz01"))
    dbs.rollback()
    assert [u.username for u in damage.salesperson_choices(site(dbs, "SZ01"))] == ["sales_sz01"]
    assert damage.salesperson_choices(site(dbs, "SH01")) == []


def test_form_says_never_collect_money_and_files_with_photo(app, login):
    users, sites = ids(app)
    clerk = login("clerk_sz01")
    page = clerk.get("/damage/new/").get_data(as_text=True)
    assert "请勿当场要求客户赔偿" in page and "黄俊杰" in page
    bad = clerk.post(
        "/damage/new/",
        {
            "site": sites["SZ01"],
            "equipment": "",
            "visit_description": "",
            "visit_at": "2026-03-02T14:30",
            "salesperson": users["sales_sz01"],
            "description": "",
        },
    )
    assert bad.status_code == 400 and "is-invalid" in bad.get_data(as_text=True)
    resp = clerk.post(
        "/damage/new/",
        {
            "site": sites["SZ01"],
            "equipment": "样板房抱枕",
            "location": "样板房客厅",
            "visit_description": "李女士两位",
            "visit_at": "2026-03-02T14:30",
            "salesperson": users["sales_sz01"],
            "description": "抱枕被饮料弄脏",
            "estimated_cost": "80",
            "photos": (io.BytesIO(image_bytes()), "抱枕.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    with system(app) as s:
        report = s.scalar(select(DamageReport).where(DamageReport.equipment == "样板房抱枕"))
        # 14:30 in Shenzhen is 06:30 UTC
        assert report.visit_at == datetime(2026, 3, 2, 6, 30, tzinfo=timezone.utc)
        assert (
            s.scalar(select(Photo.owner_type).where(Photo.owner_id == report.id)) == "damage_report"
        )


def test_forged_salesperson_or_site_is_refused(app, login):
    users, sites = ids(app)
    clerk = login("clerk_sz01")
    data = {
        "site": sites["SZ01"],
        "equipment": "花瓶",
        "visit_description": "客户",
        "visit_at": "2026-03-02T14:30",
        "salesperson": users["clerk_sz02"],
        "description": "碰倒",
    }
    assert clerk.post("/damage/new/", data).status_code == 400
    assert clerk.post(
        "/damage/new/", {**data, "site": sites["SH01"], "salesperson": users["sales_sz01"]}
    ).status_code in (400, 404)
    with system(app) as s:
        assert s.scalar(select(DamageReport.id)) is None


def test_salesperson_confirms_from_his_own_login(app, login):
    report_id = new_report(app)
    sales = login("sales_sz01")
    assert sales.get("/damage/").status_code == 200
    assert f'data-report="{report_id}"' in sales.get("/damage/").get_data(as_text=True)
    # the clerk and the supervisor cannot answer for him
    assert login("clerk_sz01").post(f"/damage/{report_id}/confirm", {}).status_code == 403
    assert login("sup_south").post(f"/damage/{report_id}/confirm", {}).status_code == 403
    assert report_state(app, report_id)[0] == "pending"
    assert sales.post(f"/damage/{report_id}/dispute", {"note": ""}).status_code == 400
    assert sales.post(f"/damage/{report_id}/confirm", {"note": "属实"}).status_code == 302
    assert report_state(app, report_id)[:2] == ("confirmed", "confirmed")
    assert sales.post(f"/damage/{report_id}/dispute", {"note": "x"}).status_code == 400
    # he cannot review nor open repairs
    assert sales.post(f"/damage/{report_id}/review", {"outcome": "waived"}).status_code == 403
    assert sales.post(f"/damage/{report_id}/repair", {"priority": "normal"}).status_code == 403
    assert report_state(app, report_id) == ("confirmed", "confirmed", None, None)


def test_supervisor_reviews_and_one_click_repair_is_linked_both_ways(app, login):
    report_id = new_report(app)
    sup = login("sup_south")
    assert (
        sup.post(f"/damage/{report_id}/review", {"outcome": "waived"}).status_code == 400
    )  # not answered yet
    login("sales_sz01").post(f"/damage/{report_id}/confirm", {})
    assert sup.post(f"/damage/{report_id}/review", {"outcome": "bribe"}).status_code == 400
    assert (
        sup.post(
            f"/damage/{report_id}/review", {"outcome": "waived", "note": "小朋友无心之失"}
        ).status_code
        == 302
    )
    assert report_state(app, report_id)[:3] == ("reviewed", "confirmed", "waived")
    clerk = login("clerk_sz01")
    resp = clerk.post(f"/damage/{report_id}/repair", {"priority": "high"})
    assert resp.status_code == 302
    ticket_id = report_state(app, report_id)[3]
    assert resp.headers["Location"].endswith(f"/repairs/{ticket_id}/")
    page = clerk.get(f"/repairs/{ticket_id}/").get_data(as_text=True)
    assert f"/damage/{report_id}/" in page
    assert f"/repairs/{ticket_id}/" in clerk.get(f"/damage/{report_id}/").get_data(as_text=True)
    assert clerk.post(f"/damage/{report_id}/repair", {"priority": "high"}).status_code == 400
    with system(app) as s:
        assert (
            s.scalar(select(RepairTicket.id).where(RepairTicket.equipment == "装饰花瓶").limit(2))
            == ticket_id
        )


def test_damage_scope_and_role_rules(app, login):
    report_id = new_report(app)
    assert login("clerk_sh01").get(f"/damage/{report_id}/").status_code == 404
    assert login("clerk_sh01").post(f"/damage/{report_id}/repair", {}).status_code == 404
    assert login("guard_sz01").get(f"/damage/{report_id}/").status_code == 403
    assert login("maint_south").get("/damage/").status_code == 403
    assert login("guard_sz01").get("/damage/new/").status_code == 403
    assert login("sales_sz01").get("/damage/new/").status_code == 403


def test_sales_see_only_their_own_reports(app, login):
    from portal.services import auth as accounts

    with system(app) as s:
        accounts.create_user(
            "sales_sz01b", "郑凯", "sales", "demo12345", ("SZ01",), (), check_policy=False
        )
        s.commit()
    report_id = new_report(app)
    other = login("sales_sz01b")
    assert other.get(f"/damage/{report_id}/").status_code == 404
    assert other.post(f"/damage/{report_id}/confirm", {}).status_code == 404


def test_damage_list_query_count_is_constant(app, login):
    new_report(app)
    sup = login("sup_south")
    with count_queries(app) as few:
        sup.get("/damage/?status=all")
    for _ in range(8):
        new_report(app)
    with count_queries(app) as many:
        sup.get("/damage/?status=all")
    assert many.count == few.count and many.count <= 10
