"""Escalations on a schedule, the reopened / rejected events, and the month-end archive job.

The clock is moved with time-machine (the portal reads ``clock.now()`` everywhere): each rule
is run just before its time (nothing), just after (once, to the right people of the right site)
and again later (a second tick, or a run after an outage: nothing more).
"""

import os
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from portal.models import (
    BreakLog,
    ChecklistRun,
    ChecklistTemplate,
    CleaningArea,
    CleaningIssue,
    DailyTally,
    HandoverEntry,
    Shift,
    Site,
    StaffMember,
    User,
)
from portal.models.notifications import EscalationSent, Notification
from portal.reports import month_end
from portal.services import escalation, jobs
from tests.repairs_helpers import make_ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 9)


def at(hour, minute=0, day=DAY):
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def run(now, rule):
    with time_machine.travel(now, tick=False):
        return escalation.run_rule(rule)


def told(dbs):
    """[(username, title)] of every notification so far, in order."""
    dbs.expire_all()
    rows = dbs.execute(
        select(User.username, Notification.title)
        .join(User, User.id == Notification.user_id)
        .order_by(Notification.id)
    ).all()
    return [tuple(r) for r in rows]


def _site(dbs, code):
    return dbs.scalar(select(Site).where(Site.code == code))


def _user(dbs, username):
    return dbs.scalar(select(User).where(User.username == username))


def _staff(dbs, username):
    return dbs.scalar(select(StaffMember).where(StaffMember.user_id == _user(dbs, username).id))


def test_cleaning_issue_overdue_tells_the_sites_clerks_and_supervisor_once(dbs):
    sz01, sh01 = _site(dbs, "SZ01"), _site(dbs, "SH01")
    for site, due in ((sz01, at(15)), (sh01, at(20))):
        area = CleaningArea(site_id=site.id, name="洽谈区")
        dbs.add(area)
        dbs.flush()
        dbs.add(CleaningIssue(site_id=site.id, area_id=area.id, description="地面水渍", due_at=due))
    dbs.commit()
    assert run(at(14, 59), "cleaning_overdue") == 0
    assert run(at(15, 1), "cleaning_overdue") == 1
    assert run(at(15, 2), "cleaning_overdue") == 0
    assert sorted(told(dbs)) == [
        ("clerk_sz01", "保洁问题已逾期：洽谈区"),
        ("sup_south", "保洁问题已逾期：洽谈区"),
    ]
    # Hours later (a worker that was down): the Shanghai issue once, nothing again for Shenzhen.
    assert run(at(23), "cleaning_overdue") == 1
    assert sorted(told(dbs)[2:]) == [
        ("clerk_sh01", "保洁问题已逾期：洽谈区"),
        ("sup_east", "保洁问题已逾期：洽谈区"),
    ]


def test_a_ticket_reopened_with_a_new_due_time_is_escalated_again_once_it_passes(dbs, login):
    from portal.models import RepairTicket

    ticket_id = make_ticket(dbs, status="assigned")
    ticket = dbs.get(RepairTicket, ticket_id)
    ticket.due_at = at(15)
    dbs.commit()
    assert run(at(15, 1), "ticket_overdue") == 1
    # Fixed late, then reopened by the supervisor at 16:00: a new due time from then.
    ticket = dbs.get(RepairTicket, ticket_id)
    ticket.status = "resolved"
    dbs.commit()
    with time_machine.travel(at(16), tick=False):
        resp = login("sup_south").post(
            f"/repairs/{ticket_id}/action/reopen", {"reopen-note": "灯还是不亮"}
        )
    assert resp.status_code == 302
    dbs.expire_all()
    new_due = dbs.get(RepairTicket, ticket_id).due_at
    assert new_due > at(16)
    assert run(at(16, 1), "ticket_overdue") == 0  # the old due time was escalated already
    assert run(new_due - timedelta(minutes=1), "ticket_overdue") == 0
    assert run(new_due + timedelta(minutes=1), "ticket_overdue") == 1
    assert run(new_due + timedelta(hours=3), "ticket_overdue") == 0
    overdue = [(who, title) for who, title in told(dbs) if title.startswith("报修单已逾期")]
    assert overdue == [("sup_south", "报修单已逾期：落地灯")] * 2


def test_a_reopened_cleaning_issue_is_escalated_again_when_its_new_due_time_passes(dbs):
    from portal.services import cleaning

    sz01 = _site(dbs, "SZ01")
    area = CleaningArea(site_id=sz01.id, name="洽谈区")
    dbs.add(area)
    dbs.flush()
    issue = CleaningIssue(site_id=sz01.id, area_id=area.id, description="地面水渍", due_at=at(15))
    dbs.add(issue)
    dbs.commit()
    assert run(at(15, 1), "cleaning_overdue") == 1
    issue.status, issue.fixed_at = "fixed", at(15, 30)
    cleaning.reopen(issue, _user(dbs, "clerk_sz01"), "还有水渍", at=at(16))
    dbs.commit()
    assert issue.due_at > at(16)
    assert run(at(16, 1), "cleaning_overdue") == 0
    assert run(issue.due_at + timedelta(minutes=1), "cleaning_overdue") == 1
    assert run(issue.due_at + timedelta(hours=3), "cleaning_overdue") == 0
    assert [who for who, _title in told(dbs)].count("clerk_sz01") == 2


def test_opening_checklist_not_done_by_ten_tells_the_supervisor_of_open_sites_only(dbs):
    sz01, sh02 = _site(dbs, "SZ01"), _site(dbs, "SH02")
    template = ChecklistTemplate(name="开店检查", kind="opening")
    dbs.add(template)
    dbs.flush()
    dbs.add(
        ChecklistRun(
            site_id=sz01.id,
            template_id=template.id,
            kind="opening",
            day=DAY,
            status="done",
            completion=100,
        )
    )
    sh02.status = "closed"  # a closed site is not watched
    dbs.commit()
    assert run(at(9, 59), "opening_checklist") == 0
    assert run(at(10, 1), "opening_checklist") == 2  # SZ02 and SH01
    assert run(at(11, 30), "opening_checklist") == 0
    assert told(dbs) == [
        ("sup_south", "开店检查未完成：前海售楼处"),
        ("sup_east", "开店检查未完成：陆家嘴售楼处"),
    ]
    # The next day is a new day: told again, once.
    assert run(at(10, 5, DAY + timedelta(days=1)), "opening_checklist") == 3


def test_tally_not_closed_tells_the_clerk_then_the_supervisor(dbs):
    dbs.add(DailyTally(site_id=_site(dbs, "SZ02").id, day=DAY, closed_at=at(17, 55)))
    for code in ("SH01", "SH02"):
        _site(dbs, code).status = "closed"
    dbs.commit()
    # 17:50 + 40 minutes: the clerk of SZ01 (SZ02 closed its tally; SH sites are closed).
    assert run(at(18, 29), "tally_open") == 0
    assert run(at(18, 31), "tally_open") == 1
    assert run(at(18, 45), "tally_open") == 0
    assert told(dbs) == [("clerk_sz01", "日结盘点未完成：深圳湾售楼处")]
    # Another hour on: the supervisor, once.
    assert run(at(19, 29), "tally_open") == 0
    assert run(at(19, 31), "tally_open") == 1
    assert run(at(22), "tally_open") == 0
    assert told(dbs)[1:] == [("sup_south", "日结盘点未完成：深圳湾售楼处")]


def test_tally_after_an_outage_sends_each_level_once(dbs):
    for code in ("SZ02", "SH01", "SH02"):
        _site(dbs, code).status = "closed"
    dbs.commit()
    assert run(at(23), "tally_open") == 2
    assert run(at(23, 1), "tally_open") == 0
    assert sorted(told(dbs)) == [
        ("clerk_sz01", "日结盘点未完成：深圳湾售楼处"),
        ("sup_south", "日结盘点未完成：深圳湾售楼处"),
    ]


def test_tally_time_and_delays_are_the_sites_and_the_configs(app, dbs, monkeypatch):
    sz01 = _site(dbs, "SZ01")
    sz01.tally_time = time(18, 30)
    for code in ("SZ02", "SH01", "SH02"):
        _site(dbs, code).status = "closed"
    dbs.commit()
    monkeypatch.setitem(app.config, "ESCALATE_TALLY_MINUTES", 15)
    assert run(at(18, 44), "tally_open") == 0
    assert run(at(18, 46), "tally_open") == 1


def test_handover_unsigned_two_hours_into_the_next_shift_tells_the_supervisor(dbs):
    sz01 = _site(dbs, "SZ01")
    clerk, guard = _user(dbs, "clerk_sz01"), _user(dbs, "guard_sz01")
    dbs.add(
        Shift(
            site_id=sz01.id,
            post="reception",
            staff_member_id=_staff(dbs, "clerk_sz01").id,
            starts_at=at(14),
            ends_at=at(22),
        )
    )
    unsigned = HandoverEntry(
        site_id=sz01.id,
        post="reception",
        author_id=guard.id,
        written_at=at(13, 30),
        text="钥匙已交",
    )
    signed = HandoverEntry(
        site_id=sz01.id,
        post="reception",
        author_id=guard.id,
        written_at=at(13, 40),
        text="样板房已锁",
        signed_by_id=clerk.id,
        signed_at=at(14, 5),
    )
    dbs.add_all([unsigned, signed])
    dbs.commit()
    assert run(at(15, 59), "handover_unsigned") == 0
    assert run(at(16, 1), "handover_unsigned") == 1
    assert run(at(16, 2), "handover_unsigned") == 0
    notes = dbs.scalars(select(Notification)).all()
    assert [(n.user.username, n.title, n.url) for n in notes] == [
        ("sup_south", "交接班记录未签收：深圳湾售楼处", f"/handover/entry/{unsigned.id}")
    ]


def test_a_break_past_ten_minutes_tells_the_person_while_it_runs(dbs):
    sz01 = _site(dbs, "SZ01")
    running = BreakLog(
        site_id=sz01.id, staff_member_id=_staff(dbs, "clerk_sz01").id, started_at=at(12)
    )
    ended = BreakLog(
        site_id=sz01.id,
        staff_member_id=_staff(dbs, "guard_sz01").id,
        started_at=at(12),
        ended_at=at(12, 8),
    )
    dbs.add_all([running, ended])
    dbs.commit()
    assert run(at(12, 9), "break_long") == 0
    assert run(at(12, 11), "break_long") == 1
    assert run(at(12, 12), "break_long") == 0
    assert told(dbs) == [("clerk_sz01", "你的休息已超过 10 分钟")]


def test_run_all_runs_every_rule_of_the_table(dbs):
    names = [r.name for r in escalation.RULES]
    assert names == [
        "ticket_unassigned",
        "ticket_overdue",
        "cleaning_overdue",
        "opening_checklist",
        "tally_open",
        "handover_unsigned",
        "break_long",
    ]
    with time_machine.travel(at(3), tick=False):
        assert escalation.run_all() == dict.fromkeys(names, 0)


def test_reopened_and_rejected_tickets_tell_the_worker(app, dbs, login):
    rejected = make_ticket(dbs, status="resolved")
    reopened = make_ticket(dbs, status="closed")
    sup = login("sup_south")
    resp = sup.post(f"/repairs/{rejected}/action/reopen", {"reopen-note": "灯还是不亮"})
    assert resp.status_code == 302
    resp = sup.post(f"/repairs/{reopened}/action/reopen", {"reopen-note": "又坏了"})
    assert resp.status_code == 302
    dbs.expire_all()
    notes = dbs.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(n.user.username, n.kind, n.title, n.url) for n in notes] == [
        ("maint_south", "rejected", "维修验收未通过：落地灯", f"/repairs/{rejected}/"),
        ("maint_south", "reopened", "报修单已重新打开：落地灯", f"/repairs/{reopened}/"),
    ]
    assert "灯还是不亮" in notes[0].body and "陈志强" in notes[0].body


def test_month_end_archives_every_site_and_region_and_tells_people_once(
    app, dbs, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "REPORTS_FOLDER", str(tmp_path))
    dbs.add(EscalationSent(rule=month_end.RULE, object_id=202610, level=1))  # October's done
    dbs.commit()
    # Before November ended (30 November, 23:30 in Shanghai): nothing.
    with time_machine.travel(datetime(2026, 11, 30, 23, 30, tzinfo=SHANGHAI), tick=False):
        assert month_end.archive_last_month() is None
    assert not os.path.isdir(tmp_path / "2026-11") and told(dbs) == []
    with time_machine.travel(datetime(2026, 12, 1, 0, 10, tzinfo=SHANGHAI), tick=False):
        paths = month_end.archive_last_month()
    names = sorted(os.path.basename(p) for p in paths)
    assert names == [
        "region_EAST_2026-11.pdf",
        "region_SOUTH_2026-11.pdf",
        "site_SH01_2026-11.pdf",
        "site_SH02_2026-11.pdf",
        "site_SZ01_2026-11.pdf",
        "site_SZ02_2026-11.pdf",
    ]
    stamps = {p: os.stat(p).st_mtime_ns for p in paths}
    notes = dbs.scalars(select(Notification).order_by(Notification.id)).all()
    south = _user(dbs, "sup_south").regions[0].id
    assert [(n.user.username, n.kind, n.title) for n in notes] == [
        ("admin", "archived", "月末报表已归档：2026-11"),
        ("sup_south", "archived", "月末报表已归档：2026-11"),
        ("sup_east", "archived", "月末报表已归档：2026-11"),
    ]
    assert notes[0].url == "/dashboard/"
    assert notes[1].url == f"/dashboard/region/{south}/2026-11.pdf"
    # A second run (the next hour, another worker): nothing archived, nobody told again.
    with time_machine.travel(datetime(2026, 12, 1, 1, 10, tzinfo=SHANGHAI), tick=False):
        assert month_end.archive_last_month() is None
    assert {p: os.stat(p).st_mtime_ns for p in paths} == stamps
    dbs.expire_all()
    assert len(dbs.scalars(select(Notification)).all()) == 3


def test_the_worker_runs_the_month_end_job_hourly(app, monkeypatch, tmp_path):
    from portal.cli_jobs import add_month_end

    queue = jobs.Jobs(app, JOBS_SQLITE_FILE=str(tmp_path / "jobs.db"))
    add_month_end(queue)
    queue.huey  # noqa: B018 (builds the queue)
    check = queue.periodic["portal.month_end"].task_class().validate_datetime
    start = datetime(2026, 12, 1, 0, 0)
    assert [m for m in range(180) if check(start + timedelta(minutes=m))] == [7, 67, 127]
