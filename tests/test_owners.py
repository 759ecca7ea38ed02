"""Issue 20, point 1 (cleaning part): every open cleaning issue has a named cleaner. A new issue
goes to the site's first active cleaner; the clerk or the supervisor gives it to another cleaner
of the same site (audited); a cleaner of another site is refused and nothing is written; an
issue nobody holds says "未指派" plainly."""

from sqlalchemy import func, select

from portal.models import AuditEvent, CleaningIssue, StaffMember, User
from portal.services import cleaning
from tests.handover_helpers import site, staff, system_session, user


def _checklist_issue(app, code="SZ01"):
    """An issue raised the way a checklist "no" raises it: nobody chose a cleaner."""
    with system_session(app) as s:
        issue = cleaning.open_issue_from_checklist(
            site(s, code), user(s, f"clerk_{code.lower()}"), "地面清洁不合格"
        )
        s.flush()
        return issue.id


def _cleaner_of(app, issue_id):
    with system_session(app) as s:
        cleaner = s.get(CleaningIssue, issue_id).cleaner
        return cleaner.name if cleaner else None


def _second_cleaner(app, code="SZ01", name="周阿姨"):
    with system_session(app) as s:
        c = StaffMember(site_id=site(s, code).id, name=name, kind="cleaner")
        s.add(c)
        s.flush()
        return c.id


def _assign_trail(app, issue_id):
    with system_session(app) as s:
        return [
            (a, u, summary)
            for a, u, summary in s.execute(
                select(AuditEvent.action, User.username, AuditEvent.summary)
                .join(User, AuditEvent.user_id == User.id)
                .where(
                    AuditEvent.object_type == "CleaningIssue",
                    AuditEvent.object_id == issue_id,
                    AuditEvent.action == "assign",
                )
                .order_by(AuditEvent.id)
            )
        ]


def test_a_new_issue_goes_to_the_sites_first_cleaner(app, login):
    with system_session(app) as s:
        default = cleaning.default_cleaner(site(s, "SZ01"))
        first, first_id = default.name, default.id
    issue_id = _checklist_issue(app)
    assert _cleaner_of(app, issue_id) == first
    page = login("clerk_sz01").get("/cleaning/").get_data(as_text=True)
    assert f'<span class="issue-cleaner">{first}</span>' in page
    assert "未指派" not in page.split(f'id="issue-{issue_id}"')[1].split("assign-form")[0]
    # The inspection form proposes the same cleaner.
    form = login("clerk_sz01").get("/cleaning/inspect").get_data(as_text=True)
    assert f'<option value="{first_id}" selected>{first}</option>' in form


def test_a_site_without_cleaners_says_unassigned(app, login):
    with system_session(app) as s:
        for c in s.scalars(
            select(StaffMember).where(
                StaffMember.site_id == site(s, "SZ01").id, StaffMember.kind == "cleaner"
            )
        ):
            c.active = False
    issue_id = _checklist_issue(app)
    assert _cleaner_of(app, issue_id) is None
    page = login("clerk_sz01").get("/cleaning/").get_data(as_text=True)
    assert '<span class="issue-cleaner">未指派</span>' in page


def test_clerk_and_supervisor_reassign_within_the_site(app, login):
    issue_id = _checklist_issue(app)
    first = _cleaner_of(app, issue_id)
    other = _second_cleaner(app)
    url = f"/cleaning/issue/{issue_id}/assign"
    clerk, sup = login("clerk_sz01"), login("sup_south")
    assert clerk.post(url, {"cleaner": other}).status_code == 302
    assert _cleaner_of(app, issue_id) == "周阿姨"
    with system_session(app) as s:
        back = staff(s, "SZ01", name=first).id
    assert sup.post(url, {"cleaner": back}).status_code == 302
    assert _cleaner_of(app, issue_id) == first
    trail = _assign_trail(app, issue_id)
    assert [(a, u) for a, u, _s in trail] == [("assign", "clerk_sz01"), ("assign", "sup_south")]
    assert trail[0][2].endswith("→ 周阿姨") and trail[1][2].endswith(f"→ {first}")
    # The page shows the choice to those who may change it, not to security.
    assert "assign-form" in clerk.get("/cleaning/").get_data(as_text=True)
    assert "assign-form" not in login("guard_sz01").get("/cleaning/").get_data(as_text=True)


def test_another_sites_cleaner_or_a_wrong_role_is_refused(app, login):
    issue_id = _checklist_issue(app)
    first = _cleaner_of(app, issue_id)
    with system_session(app) as s:
        foreign = staff(s, "SZ02", kind="cleaner").id
        not_a_cleaner = s.scalar(
            select(StaffMember.id).where(
                StaffMember.site_id == site(s, "SZ01").id, StaffMember.kind != "cleaner"
            )
        )
        events = s.scalar(select(func.count(AuditEvent.id)))
    url = f"/cleaning/issue/{issue_id}/assign"
    # The clerk of SZ01 cannot see SZ02's cleaner; the supervisor sees both sites but the
    # cleaner must belong to the issue's site.
    for who in ("clerk_sz01", "sup_south"):
        resp = login(who).post(url, {"cleaner": foreign})
        assert resp.status_code == 400 and "请选择本售楼处的保洁员" in resp.get_data(as_text=True)
    assert login("clerk_sz01").post(url, {"cleaner": ""}).status_code == 400
    if not_a_cleaner:
        assert login("clerk_sz01").post(url, {"cleaner": not_a_cleaner}).status_code == 400
    assert login("guard_sz01").post(url, {"cleaner": foreign}).status_code == 403
    assert login("sales_sz01").post(url, {"cleaner": foreign}).status_code == 403
    assert login("clerk_sz02").post(url, {"cleaner": foreign}).status_code == 404
    assert login("clerk_sz01").post(url, {"cleaner": foreign}, csrf=False).status_code == 400
    assert _cleaner_of(app, issue_id) == first
    with system_session(app) as s:
        # Logins are audited; nothing else was written.
        new = s.scalars(select(AuditEvent.action).order_by(AuditEvent.id).offset(events)).all()
        assert set(new) <= {"login"}


# Repair tickets: a maintenance worker of the ticket's site claims an unassigned ticket in one
# tap; the supervisor's assign (existing) still names anyone who serves the site.


def _maintenance(app, username, codes):
    from portal.services import auth as accounts

    with system_session(app):
        worker = accounts.create_user(
            username, username, "maintenance", "demo12345", codes, (), check_policy=False
        )
        return worker.id


def _ticket(app, code="SZ01"):
    from tests.repairs_helpers import make_ticket

    with system_session(app) as s:
        return make_ticket(s, "new", code=code)


def _assignee(app, ticket_id):
    from portal.models import RepairTicket

    with system_session(app) as s:
        t = s.get(RepairTicket, ticket_id)
        return t.status, t.assignee.username if t.assignee else None


def test_maintenance_of_the_site_claims_an_unassigned_ticket(app, login):
    ticket_id = _ticket(app)
    worker = login("maint_south")
    page = worker.get(f"/repairs/{ticket_id}/").get_data(as_text=True)
    assert 'id="action-claim"' in page and "我来接单" in page
    assert worker.post(f"/repairs/{ticket_id}/action/claim").status_code == 302
    assert _assignee(app, ticket_id) == ("assigned", "maint_south")
    with system_session(app) as s:
        from portal.models import RepairEvent

        ev = s.scalars(
            select(RepairEvent).where(RepairEvent.ticket_id == ticket_id).order_by(RepairEvent.id)
        ).all()[-1]
        assert (ev.action, ev.from_status, ev.to_status) == ("claim", "new", "assigned")
        assert s.scalar(
            select(AuditEvent.id).where(
                AuditEvent.action == "claim",
                AuditEvent.object_type == "RepairTicket",
                AuditEvent.object_id == ticket_id,
            )
        )
    # Once held, nobody claims it again (the button is gone, a forged POST is refused).
    _maintenance(app, "maint_sz01b", ("SZ01",))
    other = login("maint_sz01b")
    assert 'id="action-claim"' not in other.get(f"/repairs/{ticket_id}/").get_data(as_text=True)
    assert other.post(f"/repairs/{ticket_id}/action/claim").status_code == 403
    assert _assignee(app, ticket_id) == ("assigned", "maint_south")
    detail = worker.get(f"/repairs/{ticket_id}/").get_data(as_text=True)
    assert "已接单" in detail  # the timeline says who took it


def test_maintenance_of_another_site_cannot_claim(app, login):
    ticket_id = _ticket(app)
    _maintenance(app, "maint_sh01x", ("SH01",))
    stranger = login("maint_sh01x")
    assert stranger.get(f"/repairs/{ticket_id}/").status_code == 404
    assert stranger.post(f"/repairs/{ticket_id}/action/claim").status_code == 404
    # Neither clerk nor supervisor "claims"; the supervisor assigns.
    assert login("clerk_sz01").post(f"/repairs/{ticket_id}/action/claim").status_code == 403
    sup = login("sup_south")
    assert 'id="action-claim"' not in sup.get(f"/repairs/{ticket_id}/").get_data(as_text=True)
    assert sup.post(f"/repairs/{ticket_id}/action/claim").status_code == 403
    assert _assignee(app, ticket_id) == ("new", None)


# The supervisor edits a ticket's equipment, location, item and priority; a new priority moves
# the due time (counted from when the deadline started), and the history keeps both.


def test_supervisor_edits_a_ticket_and_the_due_time_follows_the_priority(app, login):
    from datetime import timedelta

    from portal.models import Item, RepairEvent, RepairTicket

    ticket_id = _ticket(app)  # normal priority: due 72 h after the report
    with system_session(app) as s:
        t = s.get(RepairTicket, ticket_id)
        reported, old_due = t.created_at, t.due_at
        item = Item(site_id=t.site_id, name="咖啡机", category="other", expected_quantity=1)
        other = Item(
            site_id=site(s, "SH01").id, name="投影仪", category="other", expected_quantity=1
        )
        s.add_all([item, other])
        s.flush()
        item_id, item_name, foreign_item = item.id, item.name, other.id
    sup = login("sup_south")
    assert 'id="edit-ticket"' in sup.get(f"/repairs/{ticket_id}/").get_data(as_text=True)
    assert sup.get(f"/repairs/{ticket_id}/edit").status_code == 200
    data = {"item": item_id, "equipment": "", "location": "二楼洽谈区", "priority": "urgent"}
    assert sup.post(f"/repairs/{ticket_id}/edit", data).status_code == 302
    with system_session(app) as s:
        t = s.get(RepairTicket, ticket_id)
        assert (t.equipment, t.location, t.item_id, t.priority) == (
            item_name,
            "二楼洽谈区",
            item_id,
            "urgent",
        )
        assert t.due_at == reported + timedelta(hours=4)  # urgent: 4 h from the report
        events = s.scalars(
            select(RepairEvent).where(RepairEvent.ticket_id == ticket_id).order_by(RepairEvent.id)
        ).all()
        assert [(e.kind, e.due_at) for e in events] == [
            ("report", old_due),
            ("edit", reported + timedelta(hours=4)),
        ]
        assert "紧急" in events[-1].text and "普通" in events[-1].text
        assert s.scalar(
            select(AuditEvent.summary).where(
                AuditEvent.action == "correct", AuditEvent.object_id == ticket_id
            )
        )
    page = sup.get(f"/repairs/{ticket_id}/").get_data(as_text=True)
    assert "工单已修改" in page
    # Same priority again: the due time stays; bad input is refused and writes nothing.
    data["location"] = "一楼"
    assert sup.post(f"/repairs/{ticket_id}/edit", data).status_code == 302
    assert sup.post(f"/repairs/{ticket_id}/edit", {**data, "priority": "soon"}).status_code == 400
    if foreign_item:
        assert (
            sup.post(f"/repairs/{ticket_id}/edit", {**data, "item": foreign_item}).status_code
            == 400
        )
    with system_session(app) as s:
        t = s.get(RepairTicket, ticket_id)
        assert (t.location, t.priority, t.due_at) == (
            "一楼",
            "urgent",
            reported + timedelta(hours=4),
        )


def test_clerk_and_maintenance_may_not_edit(app, login):
    from portal.models import RepairTicket

    ticket_id = _ticket(app)
    data = {"item": 0, "equipment": "别的", "location": "", "priority": "low"}
    for who in ("clerk_sz01", "maint_south"):
        c = login(who)
        assert 'id="edit-ticket"' not in c.get(f"/repairs/{ticket_id}/").get_data(as_text=True)
        assert c.get(f"/repairs/{ticket_id}/edit").status_code == 403
        assert c.post(f"/repairs/{ticket_id}/edit", data).status_code == 403
    assert login("clerk_sz02").post(f"/repairs/{ticket_id}/edit", data).status_code in (403, 404)
    with system_session(app) as s:
        assert s.get(RepairTicket, ticket_id).priority == "normal"


# A site names its default maintenance worker (site form: only its own maintenance people);
# every new ticket of the site goes to him, assigned by the system.


def test_default_maintenance_person_gets_new_tickets(app, login):
    from portal.models import RepairEvent, RepairTicket, Site
    from tests.test_attack_bounds import edit_form

    _maintenance(app, "maint_sh01x", ("SH01",))
    with system_session(app) as s:
        sz01 = site(s, "SZ01").id
        wu, stranger = user(s, "maint_south").id, user(s, "maint_sh01x").id
    url = f"/site/edit/?id={sz01}"
    admin = login("admin")
    page = admin.get(url).get_data(as_text=True)
    assert "吴师傅" in page and "maint_sh01x" not in page  # only SZ01's maintenance offered
    form = edit_form(admin, url)
    # A forged worker of another site is not among the choices: Flask-Admin's select with a
    # blank choice reads it as "none", so he is never set.
    admin.post(url, {**form, "default_maintenance": str(stranger)})
    with system_session(app) as s:
        assert s.get(Site, sz01).default_maintenance_id is None
    form = edit_form(admin, url)
    assert admin.post(url, {**form, "default_maintenance": str(wu)}).status_code == 302
    with system_session(app) as s:
        assert s.get(Site, sz01).default_maintenance_id == wu

    clerk = login("clerk_sz01")
    resp = clerk.post(
        "/repairs/new/",
        {"site": sz01, "item": 0, "equipment": "空调", "description": "不制冷", "priority": "high"},
    )
    assert resp.status_code == 302
    with system_session(app) as s:
        t = s.scalars(select(RepairTicket).order_by(RepairTicket.id.desc())).first()
        assert (t.status, t.assignee_id) == ("assigned", wu)
        last = s.scalars(
            select(RepairEvent).where(RepairEvent.ticket_id == t.id).order_by(RepairEvent.id)
        ).all()[-1]
        assert (last.kind, last.action, last.user_id, last.to_status) == (
            "transition",
            "assign",
            None,
            "assigned",
        )
        # The trail says it went to the site's default worker, in the reader's words.
        assert s.scalar(
            select(AuditEvent.summary).where(
                AuditEvent.action == "assign_default", AuditEvent.object_id == t.id
            )
        ) == f"{t} → 吴师傅"
    # Another site without a default: the ticket waits, unassigned, to be claimed.
    with system_session(app) as s:
        t2 = _plain_ticket(s, "SZ02")
        assert (t2.status, t2.assignee_id) == ("new", None)


def _plain_ticket(s, code):
    from portal.services import repairs

    return repairs.report(site(s, code), user(s, "clerk_sz02"), "门锁", "坏了", "normal")
