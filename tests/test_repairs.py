"""Repair tickets: the transition table (service and HTTP), due times, reopen, timeline, queue."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.errors import DomainError
from portal.models import AuditEvent, RepairTicket
from portal.services import repairs
from tests.querycount import count_queries
from tests.repairs_helpers import ids, make_ticket, new_ticket, site, system, ticket_status, user
from tests.refusals import refused

STATUSES = ("new", "assigned", "in_progress", "waiting_parts", "resolved", "closed")
ACTIONS = ("assign", "start", "wait_parts", "resume", "resolve", "close", "reopen")
# Written out by hand (not derived from repairs.TRANSITIONS): (status, action) -> who may, and
# the result.
SUPERVISORS = {"admin", "supervisor"}
LEGAL = {
    ("new", "assign"): (SUPERVISORS, "assigned"),
    ("assigned", "assign"): (SUPERVISORS, "assigned"),
    ("in_progress", "assign"): (SUPERVISORS, "assigned"),
    ("waiting_parts", "assign"): (SUPERVISORS, "assigned"),
    ("assigned", "start"): ({"assignee"}, "in_progress"),
    ("in_progress", "wait_parts"): ({"assignee"}, "waiting_parts"),
    ("waiting_parts", "resume"): ({"assignee"}, "in_progress"),
    ("in_progress", "resolve"): ({"assignee"}, "resolved"),
    ("waiting_parts", "resolve"): ({"assignee"}, "resolved"),
    ("resolved", "close"): (SUPERVISORS | {"reporter"}, "closed"),
    ("resolved", "reopen"): (SUPERVISORS | {"reporter"}, "assigned"),
    ("closed", "reopen"): (SUPERVISORS | {"reporter"}, "assigned"),
}
# Who plays which part on an SZ01 ticket reported by clerk_sz01 and assigned to maint_south.
ACTORS = {
    "admin": "admin",
    "supervisor": "sup_south",
    "reporter": "clerk_sz01",
    "assignee": "maint_south",
    "other_maintenance": "maint_two",
    "security": "guard_sz01",
    "sales": "sales_sz01",
}
# Which actor's rights each role in LEGAL refers to.
PART = {
    "admin": "admin",
    "supervisor": "supervisor",
    "reporter": "reporter",
    "assignee": "assignee",
}


@pytest.fixture
def second_worker(app, site_ids):
    """A second maintenance worker at SZ01, to prove only the assignee works on a ticket."""
    from portal.services import auth as accounts

    with system(app) as s:
        worker = accounts.create_user(
            "maint_two", "郑师傅", "maintenance", "demo12345", ("SZ01",), (), check_policy=False
        )
        s.commit()
        return worker.id


def _data(action, dbs):
    if action == "assign":
        return {"assignee": user(dbs, "maint_south")}
    if action == "resolve":
        return {"cost": "120.50", "parts_used": "灯泡", "resolution": "更换灯泡"}
    return {}


def _legal(status, action, part):
    who, target = LEGAL.get((status, action), (set(), None))
    return target if part in who else None


def test_every_transition_by_every_role_in_the_service(app, dbs, second_worker):
    wrong = []
    for status in STATUSES:
        for action in ACTIONS:
            for part, username in ACTORS.items():
                ticket_id = make_ticket(dbs, status)
                ticket = dbs.get(RepairTicket, ticket_id)
                expected = _legal(status, action, part)
                try:
                    repairs.transition(ticket, action, user(dbs, username), **_data(action, dbs))
                    dbs.commit()
                    outcome = ticket.status
                except DomainError as exc:
                    dbs.rollback()
                    outcome = None
                    if expected is None and (status, action) in LEGAL and exc.status != 403:
                        wrong.append(
                            f"{status}/{action}/{part}: expected 403-type refusal, got {exc.status}"
                        )
                if outcome != expected:
                    wrong.append(
                        f"{status} --{action}--> by {part}: got {outcome}, expected {expected}"
                    )
                if expected is None:
                    assert dbs.get(RepairTicket, ticket_id).status == status
    assert not wrong, "\n".join(wrong)


def test_allowed_actions_match_the_table(app, dbs):
    ticket_id = make_ticket(dbs, "resolved")
    ticket = dbs.get(RepairTicket, ticket_id)
    assert repairs.allowed_actions(ticket, user(dbs, "clerk_sz01")) == ["close", "reopen"]
    assert repairs.allowed_actions(ticket, user(dbs, "maint_south")) == []
    assert repairs.allowed_actions(ticket, user(dbs, "sup_south")) == ["close", "reopen"]


def _expected_http(status, action, part):
    who, _target = LEGAL.get((status, action), (set(), None))
    # The view checks who may take an action first (403), then whether the state allows it (400).
    rule_roles = {
        "assign": SUPERVISORS,
        "start": {"assignee"},
        "wait_parts": {"assignee"},
        "resume": {"assignee"},
        "resolve": {"assignee"},
        "close": SUPERVISORS | {"reporter"},
        "reopen": SUPERVISORS | {"reporter"},
    }[action]
    if part not in rule_roles:
        return 403
    return 302 if part in who else 400


def _form(action, users):
    if action == "assign":
        return {"assign-assignee": str(users["maint_south"])}
    if action == "resolve":
        return {
            "resolve-cost": "88",
            "resolve-parts_used": "灯泡",
            "resolve-resolution": "更换灯泡",
        }
    return {f"{action}-note": "ok"}


def _snapshot(app, ticket_id):
    with system(app) as s:
        t = s.get(RepairTicket, ticket_id)
        return t.status, t.assignee_id, t.cost, len(t.events)


def test_every_transition_by_direct_post(app, login, second_worker):
    parts = {
        "admin": "admin",
        "supervisor": "sup_south",
        "reporter": "clerk_sz01",
        "assignee": "maint_south",
        "other_maintenance": "maint_two",
        "security": "guard_sz01",
    }
    users, _sites = ids(app)
    clients = {part: login(name) for part, name in parts.items()}
    tokens = {part: c.token() for part, c in clients.items()}
    wrong = []
    for status in STATUSES:
        ticket_id = new_ticket(app, status)
        for action in ACTIONS:
            for part, client in clients.items():
                before = _snapshot(app, ticket_id)
                resp = client.post(
                    f"/repairs/{ticket_id}/action/{action}",
                    {**_form(action, users), "csrf_token": tokens[part]},
                )
                expected = _expected_http(status, action, part)
                if part == "security":
                    expected = 404  # security only sees tickets she reported herself: not even 403
                if resp.status_code != expected:
                    wrong.append(
                        f"{status}/{action}/{part}: got {resp.status_code}, expected {expected}"
                    )
                if expected == 302:
                    assert ticket_status(app, ticket_id) == LEGAL[(status, action)][1]
                    with system(app) as s:  # put it back for the next actor
                        s.get(RepairTicket, ticket_id).status = status
                        s.commit()
                else:
                    assert _snapshot(app, ticket_id) == before, (
                        f"{status}/{action}/{part} changed the ticket"
                    )
    assert not wrong, "\n".join(wrong)


def test_sales_cannot_open_or_act_on_tickets(app, login):
    ticket_id = new_ticket(app, "resolved")
    sales = login("sales_sz01")
    assert sales.get(f"/repairs/{ticket_id}/").status_code == 403
    assert sales.post(f"/repairs/{ticket_id}/action/close", {}).status_code == 403
    assert ticket_status(app, ticket_id) == "resolved"


def test_unknown_action_and_missing_csrf_are_refused(app, login):
    ticket_id = new_ticket(app, "assigned")
    sup = login("sup_south")
    assert sup.post(f"/repairs/{ticket_id}/action/explode", {}).status_code == 400
    assert (
        sup.post(
            f"/repairs/{ticket_id}/action/assign", {"assign-assignee": "1"}, csrf=False
        ).status_code
        == 400
    )
    assert ticket_status(app, ticket_id) == "assigned"


def test_resolve_without_cost_is_400_with_the_error_next_to_the_field(app, login):
    ticket_id = new_ticket(app, "in_progress")
    worker = login("maint_south")
    resp = worker.post(
        f"/repairs/{ticket_id}/action/resolve", {"resolve-cost": "", "resolve-parts_used": "x"}
    )
    assert resp.status_code == 400 and "invalid-feedback" in resp.get_data(as_text=True)
    assert ticket_status(app, ticket_id) == "in_progress"


@pytest.mark.parametrize(
    "priority,hours", [("urgent", 4), ("high", 24), ("normal", 72), ("low", 168)]
)
def test_due_time_follows_priority(app, dbs, priority, hours):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    assert repairs.due_for(priority, start) == start + timedelta(hours=hours)
    ticket = dbs.get(RepairTicket, make_ticket(dbs, priority=priority))
    assert ticket.due_at - ticket.created_at == pytest.approx(
        timedelta(hours=hours), abs=timedelta(seconds=5)
    )


def test_due_hours_come_from_config(app, dbs):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    app.config["REPAIR_DUE_HOURS"] = {"urgent": 2}
    try:
        assert repairs.due_for("urgent", start) == start + timedelta(hours=2)
        assert repairs.due_for("low", start) == start + timedelta(days=7)
    finally:
        app.config.pop("REPAIR_DUE_HOURS")
    with refused():
        repairs.due_for("whenever", start)


def test_full_flow_records_cost_timeline_and_reopen(app, dbs):
    ticket = dbs.get(RepairTicket, make_ticket(dbs))
    sup, worker, clerk = user(dbs, "sup_south"), user(dbs, "maint_south"), user(dbs, "clerk_sz01")
    repairs.transition(ticket, "assign", sup, assignee=worker)
    repairs.transition(ticket, "start", worker)
    repairs.transition(ticket, "wait_parts", worker, note="等镇流器")
    repairs.comment(ticket, worker, "配件周三到")
    repairs.transition(ticket, "resume", worker)
    with refused():
        repairs.transition(ticket, "resolve", worker, cost="abc")
    repairs.transition(
        ticket, "resolve", worker, cost="150", parts_used="镇流器 1 个", resolution="更换镇流器"
    )
    assert (
        ticket.cost == Decimal("150.00")
        and ticket.parts_used == "镇流器 1 个"
        and ticket.resolved_at
    )
    repairs.transition(ticket, "reopen", clerk, note="又不亮了")
    assert ticket.status == "assigned" and ticket.resolved_at is None
    assert ticket.due_at > ticket.created_at
    dbs.commit()
    kinds = [(e.kind, e.action) for e in repairs.timeline(ticket)]
    assert kinds == [
        ("report", None),
        ("transition", "assign"),
        ("transition", "start"),
        ("transition", "wait_parts"),
        ("comment", None),
        ("transition", "resume"),
        ("transition", "resolve"),
        ("transition", "reopen"),
    ]
    audit = dbs.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "RepairTicket")
    ).all()
    assert "create" in audit and "status" in audit and "reopen" in audit


def test_assign_only_to_maintenance_serving_the_site(app, dbs, site_ids):
    ticket = dbs.get(RepairTicket, make_ticket(dbs))
    with refused():
        repairs.transition(
            ticket, "assign", user(dbs, "sup_south"), assignee=user(dbs, "clerk_sz01")
        )
    dbs.rollback()
    # maint_south serves SZ01 and SZ02, not SH01
    sh_ticket = dbs.get(RepairTicket, make_ticket(dbs, code="SH01", reporter="clerk_sh01"))
    with refused():
        repairs.transition(
            sh_ticket, "assign", user(dbs, "sup_east"), assignee=user(dbs, "maint_south")
        )


def test_report_validation_writes_nothing(app, dbs):
    before = dbs.scalar(select(RepairTicket.id).order_by(RepairTicket.id.desc()).limit(1))
    for args in (("", "坏了", "normal"), ("灯", "", "normal"), ("灯", "坏了", "someday")):
        with refused():
            repairs.report(site(dbs, "SZ01"), user(dbs, "clerk_sz01"), *args)
        dbs.rollback()
    assert dbs.scalar(select(RepairTicket.id).order_by(RepairTicket.id.desc()).limit(1)) == before


def test_queue_overdue_first_then_due_and_filters(app, dbs):
    worker = user(dbs, "maint_south")
    late = dbs.get(RepairTicket, make_ticket(dbs, "assigned", priority="low"))
    soon = dbs.get(RepairTicket, make_ticket(dbs, "in_progress", priority="urgent"))
    later = dbs.get(
        RepairTicket,
        make_ticket(dbs, "assigned", code="SZ02", reporter="clerk_sz02", priority="high"),
    )
    done = dbs.get(RepairTicket, make_ticket(dbs, "closed", priority="urgent"))
    late.due_at = datetime.now(timezone.utc) - timedelta(hours=1)
    dbs.commit()
    queue = repairs.my_queue(worker, {"mine": True})
    assert [t.id for t in queue] == [late.id, soon.id, later.id]
    assert done.id not in [t.id for t in queue]
    assert [t.id for t in repairs.my_queue(worker, {"mine": True, "status": "overdue"})] == [
        late.id
    ]
    assert [t.id for t in repairs.my_queue(worker, {"mine": True, "site_id": later.site_id})] == [
        later.id
    ]
    assert [t.id for t in repairs.my_queue(worker, {"mine": True, "priority": "urgent"})] == [
        soon.id
    ]
    assert [t.id for t in repairs.my_queue(worker, {"mine": True, "status": "closed"})] == [done.id]


def test_maintenance_lands_on_his_queue_across_sites(app, login):
    a = new_ticket(app, "assigned")
    b = new_ticket(app, "assigned", code="SZ02", reporter="clerk_sz02")
    c = new_ticket(app, "new")  # not assigned: not in "my tickets"
    _users, sites = ids(app)
    worker = login("maint_south")
    resp = worker.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/repairs/")
    page = worker.get("/repairs/").get_data(as_text=True)
    assert (
        f'data-ticket="{a}"' in page
        and f'data-ticket="{b}"' in page
        and f'data-ticket="{c}"' not in page
    )
    page = worker.get(f"/repairs/?site={sites['SZ02']}&mine=1").get_data(as_text=True)
    assert f'data-ticket="{b}"' in page and f'data-ticket="{a}"' not in page


def test_report_a_fault_over_http(app, login):
    _users, sites = ids(app)
    clerk = login("clerk_sz01")
    resp = clerk.post(
        "/repairs/new/",
        {"site": sites["SZ01"], "equipment": "", "description": "", "priority": "normal"},
    )
    assert resp.status_code == 400 and "is-invalid" in resp.get_data(as_text=True)
    resp = clerk.post(
        "/repairs/new/",
        {
            "site": sites["SZ01"],
            "equipment": "前台射灯",
            "description": "闪烁",
            "priority": "high",
            "location": "前台",
        },
    )
    assert resp.status_code == 302
    with system(app) as s:
        ticket = s.scalar(select(RepairTicket).where(RepairTicket.equipment == "前台射灯"))
        assert (
            ticket.reporter.username == "clerk_sz01"
            and ticket.status == "new"
            and ticket.priority == "high"
        )
        ticket_id = ticket.id
    page = clerk.get(f"/repairs/{ticket_id}/").get_data(as_text=True)
    assert "前台射灯" in page and "闪烁" in page
    # a forged site outside the scope
    resp = clerk.post(
        "/repairs/new/",
        {"site": sites["SH01"], "equipment": "灯", "description": "坏", "priority": "low"},
    )
    assert resp.status_code == 400
    with system(app) as s:
        assert s.scalar(select(RepairTicket).where(RepairTicket.equipment == "灯")) is None


def test_comment_appears_on_the_timeline(app, login):
    ticket_id = new_ticket(app, "assigned")
    worker = login("maint_south")
    assert worker.post(f"/repairs/{ticket_id}/comment", {"text": ""}).status_code == 400
    assert worker.post(f"/repairs/{ticket_id}/comment", {"text": "明早九点到场"}).status_code == 302
    assert "明早九点到场" in login("clerk_sz01").get(f"/repairs/{ticket_id}/").get_data(
        as_text=True
    )


def test_cross_site_ticket_is_404(app, login):
    ticket_id = new_ticket(app, "resolved")
    other = login("clerk_sh01")
    assert other.get(f"/repairs/{ticket_id}/").status_code == 404
    assert other.post(f"/repairs/{ticket_id}/action/close", {}).status_code == 404
    assert other.post(f"/repairs/{ticket_id}/comment", {"text": "x"}).status_code == 404
    assert ticket_status(app, ticket_id) == "resolved"
    assert login("clerk_sz01").get("/repairs/99999999/").status_code == 404


def test_security_sees_only_the_tickets_she_reported(app, login):
    mine = new_ticket(app, reporter="guard_sz01")
    theirs = new_ticket(app)
    guard = login("guard_sz01")
    assert guard.get(f"/repairs/{mine}/").status_code == 200
    assert guard.get(f"/repairs/{theirs}/").status_code == 404
    page = guard.get("/repairs/?mine=0").get_data(as_text=True)
    assert f'data-ticket="{mine}"' in page and f'data-ticket="{theirs}"' not in page


def test_supervisor_sees_open_and_overdue_per_site(app, login):
    late = new_ticket(app, "assigned")
    with system(app) as s:
        s.get(RepairTicket, late).due_at = datetime.now(timezone.utc) - timedelta(days=1)
        s.commit()
    new_ticket(app, "new", code="SZ02", reporter="clerk_sz02")
    page = login("sup_south").get("/repairs/?mine=0&status=overdue").get_data(as_text=True)
    assert "深圳湾售楼处" in page and "前海售楼处" in page and "陆家嘴售楼处" not in page
    assert f'data-ticket="{late}"' in page and "border-danger" in page


def test_queue_page_query_count_is_constant(app, login):
    worker = login("maint_south")
    new_ticket(app, "assigned")
    with count_queries(app) as few:
        worker.get("/repairs/")
    for _ in range(12):
        new_ticket(app, "assigned", code="SZ02", reporter="clerk_sz02")
    with count_queries(app) as many:
        page = worker.get("/repairs/")
    assert page.status_code == 200
    assert many.count == few.count and many.count <= 12
    sup = login("sup_south")
    with count_queries(app) as q:
        sup.get("/repairs/?mine=0")
    assert q.count <= 14


def test_ticket_page_query_count_is_constant(app, login):
    ticket_id = new_ticket(app, "assigned")
    worker = login("maint_south")
    with count_queries(app) as few:
        worker.get(f"/repairs/{ticket_id}/")
    for i in range(10):
        worker.post(f"/repairs/{ticket_id}/comment", {"text": f"备注 {i}"})
    with count_queries(app) as many:
        worker.get(f"/repairs/{ticket_id}/")
    assert many.count == few.count and many.count <= 16


def test_item_names_the_equipment_when_none_is_given(app, dbs):
    from portal.models import Item

    sz01 = site(dbs, "SZ01")
    item = Item(site_id=sz01.id, name="会议桌", category="furniture")
    dbs.add(item)
    dbs.flush()
    ticket = repairs.report(sz01, user(dbs, "clerk_sz01"), "", "桌腿松动", "low", item=item)
    assert ticket.equipment == item.name and ticket.item_id == item.id


def test_pages_are_available_in_english(app, login):
    ticket_id = new_ticket(app, "assigned")
    worker = login("maint_south")
    worker.post("/language", {"lang": "en", "next": "/repairs/"})
    page = worker.get("/repairs/").get_data(as_text=True)
    assert (
        "My tickets" in page and "New tickets assigned to me" in page and "我的报修单" not in page
    )
    page = worker.get(f"/repairs/{ticket_id}/").get_data(as_text=True)
    assert "Start work" in page and "Timeline" in page
