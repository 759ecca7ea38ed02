""" "Waiting for you" (等你处理): first on each role's landing page, counted in one statement, each
line one tap from its record (or the list of exactly those records), never another site's."""

import re
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from portal.models import DamageReport, HandoverEntry, RepairTicket, StaffMember
from portal.services import cleaning, damage, handover, roster
from tests.querycount import count_queries
from tests.repairs_helpers import new_ticket, site, system, user

LANDING = {
    "clerk_sz01": "/today/",
    "guard_sz01": "/visits/",
    "sales_sz01": "/visits/",
    "maint_south": "/repairs/",
    "sup_south": "/dashboard/",
    "admin": "/dashboard/",
}


def _lines(page):
    """{key: (count, href, text)} of the waiting block."""
    block = re.search(r'<section class="waiting-block.*?</section>', page, re.S)
    assert block, "no waiting block"
    found = {}
    for m in re.finditer(
        r'id="waiting-(\w+)" data-count="(\d+)" href="([^"]+)">(.*?)</a>', block.group(0), re.S
    ):
        text = re.sub(r"<[^>]+>", "", m.group(4))
        found[m.group(1)] = (
            int(m.group(2)),
            m.group(3).replace("&amp;", "&"),
            " ".join(text.split()),
        )
    return found, block.group(0)


def _landing(client, username):
    resp = client.get("/", follow_redirects=True)
    assert resp.status_code == 200
    assert resp.request.path == LANDING[username]
    return _lines(resp.get_data(as_text=True))


def _damage(app, code="SZ01", sales="sales_sz01"):
    with system(app) as s:
        report = damage.file_report(
            site(s, code),
            user(s, f"clerk_{code.lower()}"),
            "花瓶",
            "碰倒",
            user(s, sales),
            "客户",
            datetime.now(timezone.utc),
        )
        s.commit()
        return report.id


def _entry(app, code="SZ01", author="clerk_sz01"):
    with system(app) as s:
        entry = handover.write_entry(site(s, code), user(s, author), "前台钥匙已交保安")
        s.commit()
        return entry.id


def guard_covers_front_desk(app, entry_id):
    """The guard is rostered on the front desk's next shift after the entry; its start."""
    with system(app) as s:
        start = s.get(HandoverEntry, entry_id).written_at + timedelta(minutes=1)
        guard = s.scalar(select(StaffMember).where(StaffMember.user.has(username="guard_sz01")))
        roster.plan(site(s, "SZ01"), "reception", guard, start, start + timedelta(hours=8))
        s.commit()
    return start


def _issue(app, code="SZ01", cleaner=True, overdue=False):
    with system(app) as s:
        issue = cleaning.open_issue_from_checklist(
            site(s, code), user(s, f"clerk_{code.lower()}"), "地面清洁不合格"
        )
        s.flush()
        if not cleaner:
            issue.cleaner = None
        if overdue:
            issue.due_at = datetime.now(timezone.utc) - timedelta(hours=2)
        s.commit()
        return issue.id


def _late(app, ticket_id):
    with system(app) as s:
        s.get(RepairTicket, ticket_id).due_at = datetime.now(timezone.utc) - timedelta(hours=3)
        s.commit()


@pytest.mark.parametrize("username", sorted(LANDING))
def test_nothing_waiting_is_one_calm_line(login, username):
    found, block = _landing(login(username), username)
    assert found == {}
    assert "没有等你处理的事" in block and "等你处理" in block
    assert "list-group" not in block


def test_sales_sees_his_damage_report_and_one_tap_opens_it(app, login):
    report_id = _damage(app)
    client = login("sales_sz01")
    found, _ = _landing(client, "sales_sz01")
    count, href, text = found["damage_to_confirm"]
    assert (count, href, text) == (1, f"/damage/{report_id}/", "1 张损坏单等你确认")
    assert 'id="confirm-damage"' in client.get(href).get_data(as_text=True)
    # A second report: the line opens the list of exactly the two.
    second = _damage(app)
    found, _ = _landing(client, "sales_sz01")
    count, href, _text = found["damage_to_confirm"]
    body = client.get(href).get_data(as_text=True)
    assert count == 2 and set(re.findall(r'data-report="(\d+)"', body)) == {
        str(report_id),
        str(second),
    }
    # Confirmed: it is no longer waiting.
    client.post(f"/damage/{report_id}/confirm", {"note": ""})
    client.post(f"/damage/{second}/confirm", {"note": ""})
    assert "damage_to_confirm" not in _landing(client, "sales_sz01")[0]


def test_supervisor_review_and_navbar_agree(app, login):
    report_id = _damage(app)
    with system(app) as s:
        damage.confirm(s.get(DamageReport, report_id), user(s, "sales_sz01"))
        s.commit()
    client = login("sup_south")
    resp = client.get("/dashboard/")
    found, _ = _lines(resp.get_data(as_text=True))
    assert found["damage_to_review"][:2] == (1, f"/damage/{report_id}/")
    navbar = re.search(
        r'id="notice-to_review".*?data-count="(\d+)"', resp.get_data(as_text=True), re.S
    )
    assert navbar and int(navbar.group(1)) == 1


def test_guard_on_the_next_front_desk_shift_signs_and_it_leaves_his_block(app, login):
    entry_id = _entry(app)
    guard = login("guard_sz01")
    # Working the door, the guard has nothing of the front desk's to sign.
    assert "to_sign" not in _landing(guard, "guard_sz01")[0]
    start = guard_covers_front_desk(app, entry_id)
    with time_machine.travel(start + timedelta(minutes=5), tick=True):
        found, _ = _landing(guard, "guard_sz01")
        assert found["to_sign"][:2] == (1, f"/handover/entry/{entry_id}")
        assert found["to_sign"][2] == "1 条交接记录等你签收"
        # Someone else takes the front desk over: the author does not sign her own entry.
        assert "to_sign" not in _landing(login("clerk_sz01"), "clerk_sz01")[0]
        guard.post(f"/handover/sign/{entry_id}", {})
        assert "to_sign" not in _landing(guard, "guard_sz01")[0]


def test_reporter_confirms_a_resolved_repair(app, login):
    resolved = new_ticket(app, "resolved")
    client = login("clerk_sz01")
    found, _ = _landing(client, "clerk_sz01")
    assert found["to_close"][:2] == (1, f"/repairs/{resolved}/")
    assert "action-close" in client.get(f"/repairs/{resolved}/").get_data(as_text=True)
    client.post(f"/repairs/{resolved}/action/close", {"close-note": ""})
    with system(app) as s:
        assert s.get(RepairTicket, resolved).status == "closed"
    assert "to_close" not in _landing(client, "clerk_sz01")[0]


def test_maintenance_to_start_to_claim_and_overdue(app, login):
    mine = new_ticket(app, "assigned")
    fresh = new_ticket(app, "new", code="SZ02", reporter="clerk_sz02")
    new_ticket(app, "new", code="SH01", reporter="clerk_sh01")  # not his site
    _late(app, mine)
    client = login("maint_south")
    found, _ = _landing(client, "maint_south")
    assert found["new_for_me"][:2] == (1, f"/repairs/{mine}/")
    assert found["to_claim"][:2] == (1, f"/repairs/{fresh}/")
    assert found["tickets_overdue"][:2] == (1, f"/repairs/{mine}/")
    client.post(f"/repairs/{fresh}/action/claim", {"claim-note": ""})
    found, _ = _landing(client, "maint_south")
    assert "to_claim" not in found and found["new_for_me"][0] == 2
    body = client.get(found["new_for_me"][1]).get_data(as_text=True)
    assert set(re.findall(r'data-ticket="(\d+)"', body)) == {str(mine), str(fresh)}


def test_supervisor_to_assign_no_cleaner_and_overdue_lists_match(app, login):
    first = new_ticket(app, "new")
    second = new_ticket(app, "new", code="SZ02", reporter="clerk_sz02")
    new_ticket(app, "new", code="SH01", reporter="clerk_sh01")  # another region
    bare = _issue(app, cleaner=False)
    late_a = _issue(app, overdue=True)
    late_b = _issue(app, code="SZ02", overdue=True)
    _issue(app, code="SH01", cleaner=False, overdue=True)  # another region
    client = login("sup_south")
    found, _ = _landing(client, "sup_south")
    assert found["to_assign"][0] == 2
    body = client.get(found["to_assign"][1]).get_data(as_text=True)
    assert set(re.findall(r'data-ticket="(\d+)"', body)) == {str(first), str(second)}
    with system(app) as s:
        sz01 = site(s, "SZ01").id
    assert found["cleaning_no_cleaner"][:2] == (1, f"/cleaning/?site={sz01}#issue-{bare}")
    assert f'id="issue-{bare}"' in client.get(f"/cleaning/?site={sz01}").get_data(as_text=True)
    assert found["cleaning_overdue"][0] == 2
    listing = client.get(found["cleaning_overdue"][1]).get_data(as_text=True)
    shown = set(re.findall(r'name="rowid" value="(\d+)"', listing)) or set(
        re.findall(r"/cleaning_issue/details/\?id=(\d+)", listing)
    )
    assert shown == {str(late_a), str(late_b)}
    assert str(bare) not in shown
    # Assigned to someone: the ticket leaves "to assign".
    with system(app) as s:
        s.get(RepairTicket, first).status = "assigned"
        s.get(RepairTicket, first).assignee_id = user(s, "maint_south").id
        s.commit()
    found, _ = _landing(client, "sup_south")
    assert found["to_assign"][:2] == (1, f"/repairs/{second}/")


def test_another_sites_records_are_never_counted(app, login):
    moved = _damage(app)  # his name on a record of a site not his
    with system(app) as s:
        s.get(DamageReport, moved).site_id = site(s, "SH01").id
        s.commit()
    _entry(app, code="SH01", author="clerk_sh01")
    late = new_ticket(app, "assigned", code="SH01", reporter="clerk_sh01")
    _late(app, late)
    _issue(app, code="SH01", cleaner=False, overdue=True)
    assert _landing(login("sales_sz01"), "sales_sz01")[0] == {}
    assert _landing(login("guard_sz01"), "guard_sz01")[0] == {}
    assert _landing(login("clerk_sz01"), "clerk_sz01")[0] == {}
    assert _landing(login("sup_south"), "sup_south")[0] == {}
    found, _ = _landing(login("admin"), "admin")
    assert found["tickets_overdue"][0] == 1 and found["cleaning_no_cleaner"][0] == 1


@pytest.mark.parametrize("username", sorted(LANDING))
def test_the_block_and_the_navbar_cost_one_statement(app, login, username):
    _damage(app)
    _entry(app)
    new_ticket(app, "resolved")
    client = login(username)
    client.get(LANDING[username])  # warm up (site choice, caches of the layout)
    with count_queries(app) as q:
        resp = client.get(LANDING[username])
    assert resp.status_code == 200
    waiting = [s for s in q.statements if "count(*)" in s and "min(" in s]
    assert len(waiting) == 1, waiting


def test_landing_page_query_count_stays_small(app, login):
    for _ in range(3):
        _damage(app)
    client = login("sales_sz01")
    client.get("/visits/")
    with count_queries(app) as q:
        client.get("/visits/")
    few = q.count
    for _ in range(5):
        _damage(app)
    with count_queries(app) as q:
        client.get("/visits/")
    assert q.count == few


def test_counts_outside_a_request_see_the_whole_organisation(app):
    from portal.services import waiting

    _damage(app)
    with system(app) as s:
        lines = {w.key: w for w in waiting.for_user(user(s, "sales_sz01"))}
        assert lines["damage_to_confirm"].count == 1
