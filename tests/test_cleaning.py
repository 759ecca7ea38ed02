"""Cleaning inspections and the issue state machine: open → fixed → verified (or reopened),
only by the right roles, also when the request is a forged POST."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, CleaningIssue, User, utcnow
from portal.services import cleaning, scope
from portal.services import metrics as m
from tests.handover_helpers import site, staff, system_session, user
from tests.querycount import count_queries
from tests.refusals import refused


def _inspect(s, code="SZ01", by="clerk_sz01", fail=("Floor",), due_in=timedelta(hours=2)):
    where = site(s, code)
    areas = cleaning.ensure_default_areas(where)
    results = [(a, a.name not in fail, "地面有水渍" if a.name in fail else "") for a in areas]
    return cleaning.inspect(
        where,
        user(s, by),
        results,
        cleaner=staff(s, code, kind="cleaner"),
        due_at=utcnow() + due_in,
    )


def _issue(app, **kw):
    with system_session(app) as s:
        _inspect(s, **kw)
        s.flush()
        return s.scalar(select(CleaningIssue.id).order_by(CleaningIssue.id.desc()))


def _status(app, issue_id):
    with system_session(app) as s:
        i = s.get(CleaningIssue, issue_id)
        return i.status, i.reopen_count


def test_failed_area_opens_an_issue_for_the_cleaner(dbs):
    ins = _inspect(dbs, fail=("Floor", "Slippers"))
    dbs.commit()
    issues = dbs.scalars(select(CleaningIssue).order_by(CleaningIssue.id)).all()
    assert [i.area.name for i in issues] == ["Floor", "Slippers"] and ins.failed_count == 2
    assert {i.cleaner.name for i in issues} == {"孙阿姨"} and all(
        i.status == "open" for i in issues
    )


def test_a_failed_area_needs_a_cleaner_of_the_site(dbs):
    where = site(dbs, "SZ01")
    areas = cleaning.ensure_default_areas(where)
    with refused():
        cleaning.inspect(where, user(dbs, "clerk_sz01"), [(areas[0], False, "脏")])
    with refused():
        cleaning.inspect(
            where,
            user(dbs, "clerk_sz01"),
            [(areas[0], False, "脏")],
            cleaner=staff(dbs, "SZ02", kind="cleaner"),
        )
    with refused():
        cleaning.inspect(where, user(dbs, "sales_sz01"), [(areas[0], True, "")])


def test_state_machine_in_the_service(dbs):
    _inspect(dbs)
    issue = dbs.scalar(select(CleaningIssue))
    clerk, guard, sup = user(dbs, "clerk_sz01"), user(dbs, "guard_sz01"), user(dbs, "sup_south")
    with refused():
        cleaning.verify(issue, sup)  # not fixed yet
    with refused():
        cleaning.mark_fixed(issue, sup)  # the front desk marks it fixed
    cleaning.mark_fixed(issue, clerk)
    with refused():
        cleaning.verify(issue, clerk)  # not by the one who fixed it
    with refused():
        cleaning.reopen(issue, guard, "")  # a reason is needed
    cleaning.reopen(issue, guard, "角落仍有水渍")
    assert issue.status == "open" and issue.reopen_count == 1
    cleaning.mark_fixed(issue, guard)
    cleaning.verify(issue, clerk)  # another colleague takes the second look
    assert issue.status == "verified"
    with refused():
        cleaning.reopen(issue, sup, "又脏了")


def test_overdue_issues_for_the_supervisor_of_both_sites(dbs):
    _inspect(dbs, "SZ01", due_in=timedelta(hours=-1))
    _inspect(dbs, "SZ02", by="clerk_sz02", due_in=timedelta(hours=-2))
    _inspect(dbs, "SZ01", fail=("Glass",), due_in=timedelta(hours=3))
    dbs.commit()
    overdue = cleaning.overdue_issues(utcnow())
    assert sorted(i.site.code for i in overdue) == ["SZ01", "SZ02"]


def test_routes_follow_the_state_machine_and_roles(app, login):
    issue_id = _issue(app)
    sup, clerk, guard, sales = (
        login("sup_south"),
        login("clerk_sz01"),
        login("guard_sz01"),
        login("sales_sz01"),
    )
    url = f"/cleaning/issue/{issue_id}"
    assert sup.post(f"{url}/verify").status_code == 400  # open issues are not verified
    assert sales.post(f"{url}/fix").status_code == 403
    assert sup.post(f"{url}/fix").status_code == 400  # supervisors verify, they do not mark fixed
    assert _status(app, issue_id) == ("open", 0)
    assert clerk.post(f"{url}/fix").status_code == 302
    assert clerk.post(f"{url}/verify").status_code == 400  # not her own fix
    assert clerk.post(f"{url}/fix").status_code == 400  # already fixed
    assert guard.post(f"{url}/reopen", {"note": ""}).status_code == 400
    assert guard.post(f"{url}/reopen", {"note": "玻璃仍有手印"}).status_code == 302
    assert _status(app, issue_id) == ("open", 1)
    assert guard.post(f"{url}/fix").status_code == 302
    assert sup.post(f"{url}/verify").status_code == 302
    assert _status(app, issue_id) == ("verified", 1)
    with system_session(app) as s:
        trail = s.execute(
            select(AuditEvent.action, User.username)
            .join(User, AuditEvent.user_id == User.id)
            .where(AuditEvent.object_type == "CleaningIssue", AuditEvent.object_id == issue_id)
            .order_by(AuditEvent.id)
        ).all()
    assert [tuple(t) for t in trail] == [
        ("status", "clerk_sz01"),
        ("status", "guard_sz01"),
        ("status", "guard_sz01"),
        ("status", "sup_south"),
        ("verify", "sup_south"),
    ]
    assert clerk.post(f"{url}/nonsense").status_code == 404
    assert clerk.post(f"{url}/fix", csrf=False).status_code == 400


def test_other_sites_issues_are_404(app, login):
    issue_id = _issue(app)
    assert login("clerk_sz02").post(f"/cleaning/issue/{issue_id}/fix").status_code == 404
    assert login("clerk_sz02").get(f"/cleaning_issue/details/?id={issue_id}").status_code == 404
    assert _status(app, issue_id) == ("open", 0)


def test_inspection_form(app, login):
    c = login("clerk_sz01")
    page = c.get("/cleaning/inspect").get_data(as_text=True)
    assert "地面" in page and "拖鞋" in page
    with system_session(app) as s:
        areas = [(a.id, a.name) for a in cleaning.areas_of(site(s, "SZ01"))]
        cleaner_id = staff(s, "SZ01", kind="cleaner").id
    data = {f"area-{i}": "pass" for i, _ in areas}
    data[f"area-{areas[0][0]}"] = "fail"
    # A failed area without a note is refused next to the area, nothing written.
    resp = c.post("/cleaning/inspect", {**data, "cleaner": cleaner_id, "due_hours": "2"})
    assert resp.status_code == 400 and "请说明哪里不干净" in resp.get_data(as_text=True)
    # Without a cleaner: refused.
    resp = c.post("/cleaning/inspect", {**data, f"note-{areas[0][0]}": "有水渍", "due_hours": "2"})
    assert resp.status_code == 400
    # A due time that is not one of the choices (a forged form): refused next to the field.
    for forged in ("-3", "99999999999", "soon"):
        resp = c.post(
            "/cleaning/inspect",
            {**data, f"note-{areas[0][0]}": "有水渍", "cleaner": cleaner_id, "due_hours": forged},
        )
        page = resp.get_data(as_text=True)
        assert resp.status_code == 400 and "请选择不合格区域的整改期限" in page
        # The judgements made are still shown as chosen (the toggle buttons' ``active``).
        assert page.count("btn-outline-danger btn-lg active") == 1
        assert page.count("btn-outline-success btn-lg active") == len(areas) - 1
    with system_session(app) as s:
        assert s.scalar(select(CleaningIssue.id)) is None
    resp = c.post(
        "/cleaning/inspect",
        {**data, f"note-{areas[0][0]}": "有水渍", "cleaner": cleaner_id, "due_hours": "2"},
    )
    assert resp.status_code == 302
    page = c.get("/cleaning/").get_data(as_text=True)
    assert "有水渍" in page and "孙阿姨" in page
    assert login("sales_sz01").get("/cleaning/inspect").status_code == 403


def test_supervisor_sees_overdue_issues_of_both_sites(app, login):
    _issue(app, due_in=timedelta(hours=-1))
    _issue(app, code="SZ02", by="clerk_sz02", fail=("Glass",), due_in=timedelta(hours=-1))
    page = login("sup_south").get("/cleaning/").get_data(as_text=True)
    assert "overdue-all" in page and "SZ01" in page and "SZ02" in page
    clerk_page = login("clerk_sz01").get("/cleaning/").get_data(as_text=True)
    assert (
        "overdue-all" not in clerk_page
        and "已逾期" in clerk_page
        and clerk_page.count("cleaning-issue ") == 1
    )


def test_cleaning_page_query_count_is_constant(app, login):
    c = login("sup_south")
    _issue(app)
    with count_queries(app) as few:
        c.get("/cleaning/")
    for _ in range(6):
        _issue(app, fail=("Floor", "Glass"), due_in=timedelta(hours=-1))
    with count_queries(app) as many:
        assert c.get("/cleaning/").status_code == 200
    assert many.count == few.count and many.count <= 20, "\n".join(
        many.statements[len(few.statements) - 3 :]
    )


def test_every_site_starts_with_the_standard_areas_and_the_form_never_writes(app, login):
    with system_session(app) as s:
        names = [a.name for a in cleaning.areas_of(site(s, "SH02"))]
    assert names == ["Floor", "Glass", "Decorations", "Restroom", "Outdoor", "Slippers"]
    from tests.querycount import count_queries as cq

    c = login("clerk_sz01")
    with cq(app) as q:
        assert c.get("/cleaning/inspect").status_code == 200
    assert not [
        st for st in q.statements if st.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def test_forged_site_or_cleaner_is_refused(app, login):
    with system_session(app) as s:
        sz02 = site(s, "SZ02").id
        area_ids = [a.id for a in cleaning.areas_of(site(s, "SZ01"))]
        foreign_cleaner = staff(s, "SZ02", kind="cleaner").id
    c = login("clerk_sz01")
    assert c.get(f"/cleaning/inspect?site={sz02}").status_code == 404
    data = {f"area-{i}": "pass" for i in area_ids}
    data.update(
        {f"area-{area_ids[0]}": "fail", f"note-{area_ids[0]}": "有水渍", "cleaner": foreign_cleaner}
    )
    assert c.post(f"/cleaning/inspect?site={sz02}", data).status_code == 404
    assert c.post("/cleaning/inspect", data).status_code == 400
    with system_session(app) as s:
        assert s.scalar(select(CleaningIssue.id)) is None


def test_an_inspection_recorded_afterwards_raises_its_issues_at_its_own_time(app, dbs):
    """The demo records a past week of inspections: their issues must count as raised that day,
    and the hours to fix from then (not from the moment the records were written)."""
    sh = ZoneInfo("Asia/Shanghai")
    where = site(dbs, "SZ01")
    areas = cleaning.ensure_default_areas(where)
    inspected = datetime(2026, 10, 5, 9, 30, tzinfo=sh)
    cleaning.inspect(
        where,
        user(dbs, "clerk_sz01"),
        [(areas[0], False, "地面有水渍")],
        cleaner=staff(dbs, "SZ01", kind="cleaner"),
        at=inspected,
    )
    issue = dbs.scalars(select(CleaningIssue)).one()
    cleaning.mark_fixed(issue, user(dbs, "clerk_sz01"), at=datetime(2026, 10, 5, 11, tzinfo=sh))
    dbs.commit()
    assert issue.created_at == inspected and issue.due_at == inspected + cleaning.DEFAULT_DUE
    with app.test_request_context():
        scope.activate(scope.SiteScope(None))
        values = m.collect(
            [where.id],
            date(2026, 10, 1),
            date(2026, 10, 31),
            [m.get_metric("cleaning_hours_to_fix"), m.get_metric("cleaning_overdue")],
        )
        db.session.remove()
    assert values["cleaning_hours_to_fix"][where.id] == 1.5  # fixed before its due time (11:30)
    assert values["cleaning_overdue"][where.id] == 0
