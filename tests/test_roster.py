"""Shift roster: planning rules, copy last week (idempotent), gaps, who is on duty."""

from datetime import date, timedelta

from sqlalchemy import func, select

from portal import clock
from portal.models import Shift
from portal.services import roster
from tests.handover_helpers import local, monday_of, site, staff, system_session
from tests.querycount import count_queries
from tests.refusals import refused

MONDAY = monday_of(date(2026, 11, 16))


def _plan_week(s, monday=MONDAY):
    where = site(s, "SZ01")
    clerk, guard = staff(s, "SZ01", kind="clerk"), staff(s, "SZ01", kind="security")
    for i in range(5):
        day = monday + timedelta(days=i)
        roster.plan(where, "reception", clerk, local(day, 9), local(day, 18))
        roster.plan(where, "door", guard, local(day, 9), local(day, 13))
    s.flush()
    return where


def test_plan_refuses_bad_shifts(dbs):
    where = _plan_week(dbs)
    clerk = staff(dbs, "SZ01", kind="clerk")
    with refused():
        roster.plan(
            where, "reception", clerk, local(MONDAY, 12), local(MONDAY, 20)
        )  # double booking
    with refused():
        roster.plan(where, "reception", clerk, local(MONDAY, 20), local(MONDAY, 19))
    with refused():
        roster.plan(
            where,
            "reception",
            staff(dbs, "SZ02", kind="clerk"),
            local(MONDAY, 9),
            local(MONDAY, 10),
        )
    with refused():
        roster.plan(
            where, "kitchen", clerk, local(MONDAY + timedelta(days=6), 9), local(MONDAY, 10)
        )


def test_copy_last_week_is_idempotent(dbs):
    where = _plan_week(dbs)
    created = roster.copy_last_week(where, MONDAY + timedelta(days=7))
    dbs.flush()
    assert len(created) == 10
    assert roster.copy_last_week(where, MONDAY + timedelta(days=7)) == []
    dbs.flush()
    assert dbs.scalar(select(func.count()).select_from(Shift)) == 20
    copied = roster.shifts_between(
        where, local(MONDAY + timedelta(days=7), 0), local(MONDAY + timedelta(days=8), 0)
    )
    assert {(s.post, s.starts_at.astimezone(clock.site_zone(where)).hour) for s in copied} == {
        ("reception", 9),
        ("door", 9),
    }


def test_gaps_during_opening_hours(dbs):
    where = _plan_week(dbs)
    gaps = roster.gaps(where, MONDAY)
    assert "reception" not in gaps
    assert [(a.strftime("%H:%M"), b.strftime("%H:%M")) for a, b in gaps["door"]] == [
        ("13:00", "18:00")
    ]
    sunday = roster.gaps(where, MONDAY + timedelta(days=6))
    assert [(a.hour, b.hour) for a, b in sunday["reception"]] == [(9, 18)]


def test_on_duty_now(dbs):
    where = _plan_week(dbs)
    shifts = roster.shifts_of_day(where, MONDAY)
    names = {s.staff_member.name for s in roster.running_at(shifts, local(MONDAY, 14))}
    assert names == {"李晓梅"}
    assert {s.staff_member.name for s in roster.running_at(shifts, local(MONDAY, 10))} == {
        "李晓梅",
        "赵建国",
    }


def test_week_page_shows_gaps_and_copy_button_for_supervisor(app, login):
    with system_session(app) as s:
        _plan_week(s)
        site_id = site(s, "SZ01").id
    sup = login("sup_south")
    page = sup.get(f"/roster/?site={site_id}&week={MONDAY.isoformat()}").get_data(as_text=True)
    assert "李晓梅" in page and "空岗 13:00–18:00" in page and 'id="copy-week"' in page
    assert (
        sup.post(
            "/roster/copy", {"site": site_id, "week": (MONDAY + timedelta(days=7)).isoformat()}
        ).status_code
        == 302
    )
    assert (
        sup.post(
            "/roster/copy", {"site": site_id, "week": (MONDAY + timedelta(days=7)).isoformat()}
        ).status_code
        == 302
    )
    with system_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Shift)) == 20
    clerk = login("clerk_sz01")
    assert 'id="copy-week"' not in clerk.get("/roster/").get_data(as_text=True)
    assert (
        clerk.post("/roster/copy", {"site": site_id, "week": MONDAY.isoformat()}).status_code == 403
    )
    assert login("clerk_sz02").get(f"/roster/?site={site_id}").status_code == 404


def test_shift_form_takes_site_local_times_and_refuses_bad_input(app, login):
    with system_session(app) as s:
        site_id, clerk_id = site(s, "SZ01").id, staff(s, "SZ01", kind="clerk").id
        other_site_staff = staff(s, "SZ02", kind="clerk").id
    sup = login("sup_south")
    form = {
        "site": site_id,
        "post": "reception",
        "staff_member": clerk_id,
        "starts_at": "2026-12-01 09:00",
        "ends_at": "2026-12-01 18:00",
    }
    assert sup.post("/shift/new/", {**form, "ends_at": "2026-12-01 08:00"}).status_code == 400
    assert sup.post("/shift/new/", {**form, "staff_member": other_site_staff}).status_code == 400
    assert sup.post("/shift/new/", form).status_code == 302
    with system_session(app) as s:
        shift = s.scalar(select(Shift))
        assert shift.starts_at.astimezone(clock.site_zone(shift.site)).hour == 9
        assert shift.starts_at.hour == 1  # 09:00 in Shanghai is 01:00 UTC
    # A clerk reads the roster but cannot plan: Flask-Admin sends her back, nothing is written.
    login("clerk_sz01").post(
        "/shift/new/", {**form, "starts_at": "2026-12-02 09:00", "ends_at": "2026-12-02 18:00"}
    )
    with system_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Shift)) == 1


def test_week_and_breaks_pages_have_a_constant_number_of_queries(app, login):
    from portal.models import BreakLog

    sup = login("sup_south")
    with system_session(app) as s:
        site_id = site(s, "SZ01").id
    urls = (
        f"/roster/?site={site_id}&week={MONDAY.isoformat()}",
        f"/breaks/?site={site_id}&day={MONDAY.isoformat()}",
    )
    with count_queries(app) as few:
        for url in urls:
            sup.get(url)
    with system_session(app) as s:
        _plan_week(s)
        for n, person in enumerate(
            (staff(s, "SZ01", kind="clerk"), staff(s, "SZ01", kind="security"))
        ):
            for k in range(4):
                start = local(MONDAY, 10 + k, 5 * n)
                s.add(
                    BreakLog(
                        site_id=site_id,
                        staff_member=person,
                        started_at=start,
                        ended_at=start + timedelta(minutes=9 + k),
                    )
                )
    with count_queries(app) as many:
        for url in urls:
            assert sup.get(url).status_code == 200
    assert many.count == few.count, "\n".join(many.statements)
