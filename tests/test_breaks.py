"""Breaks: one tap to start and end; over 10 minutes is flagged; the supervisor's day view."""

from datetime import date, timedelta

from sqlalchemy import select

from portal.models import BreakLog
from portal.services import breaks
from tests.handover_helpers import local, site, staff, system_session, user
from tests.refusals import refused

DAY = date(2026, 11, 18)


def test_start_end_and_flag(dbs):
    clerk = user(dbs, "clerk_sz01")
    short = breaks.start(clerk, at=local(DAY, 10))
    with refused():
        breaks.start(clerk, at=local(DAY, 10, 2))
    breaks.end(clerk, at=local(DAY, 10, 8))
    breaks.start(clerk, at=local(DAY, 15))
    long = breaks.end(clerk, at=local(DAY, 15, 12))
    with refused():
        breaks.end(clerk)
    dbs.commit()
    assert not short.is_flagged() and long.is_flagged()
    per_day = breaks.breaks_per_day(site(dbs, "SZ01"), DAY)
    ((person, logs),) = per_day.items()
    assert person.name == "李晓梅" and breaks.flagged(logs) == [long]
    assert breaks.breaks_per_day(site(dbs, "SZ01"), DAY + timedelta(days=1)) == {}


def test_a_user_without_a_staff_record_cannot_take_a_break(dbs):
    with refused():
        breaks.start(user(dbs, "sup_south"))


def test_one_tap_buttons(app, login):
    guard = login("guard_sz01")
    assert 'id="start-break"' in guard.get("/breaks/").get_data(as_text=True)
    assert guard.post("/breaks/start").status_code == 302
    assert guard.post("/breaks/start").status_code == 400
    assert 'id="end-break"' in guard.get("/breaks/").get_data(as_text=True)
    assert guard.post("/breaks/end").status_code == 302
    assert guard.post("/breaks/end").status_code == 400
    with system_session(app) as s:
        log = s.scalar(select(BreakLog))
        assert log.staff_member.name == "赵建国" and log.ended_at is not None
    assert guard.post("/breaks/start", csrf=False).status_code == 400


def test_supervisor_sees_breaks_per_person_per_day(app, login):
    with system_session(app) as s:
        s.add(
            BreakLog(
                site_id=site(s, "SZ01").id,
                staff_member=staff(s, "SZ01", kind="clerk"),
                started_at=local(DAY, 15),
                ended_at=local(DAY, 15, 14),
            )
        )
        s.add(
            BreakLog(
                site_id=site(s, "SZ01").id,
                staff_member=staff(s, "SZ01", kind="security"),
                started_at=local(DAY, 16),
                ended_at=local(DAY, 16, 6),
            )
        )
        site_id = site(s, "SZ01").id
    page = (
        login("sup_south")
        .get(f"/breaks/?site={site_id}&day={DAY.isoformat()}")
        .get_data(as_text=True)
    )
    assert "李晓梅" in page and "赵建国" in page and "15:00–15:14" in page
    assert page.count("text-danger font-weight-bold") == 1
    assert login("clerk_sz02").get(f"/breaks/?site={site_id}").status_code == 200  # own view only
    assert "李晓梅" not in login("sup_east").get(f"/breaks/?day={DAY.isoformat()}").get_data(
        as_text=True
    )
