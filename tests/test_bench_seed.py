"""The benchmark dataset generator (``flask bench seed``), the X-Query-Count header and the
benchmark floor page, at a tiny size on the test database."""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal import create_app, devdata
from portal.extensions import db
from portal.models import (
    GROOMING_POINTS,
    AuditEvent,
    BreakLog,
    ChecklistAnswer,
    ChecklistItem,
    ChecklistRun,
    ChecklistTemplate,
    CleaningArea,
    CleaningInspection,
    CleaningIssue,
    CleaningResult,
    ConsumptionLine,
    DailyTally,
    DamageReport,
    DayChange,
    GroomingInspection,
    GroomingResult,
    HandoverEntry,
    HandoverItem,
    Item,
    ItemCheck,
    ItemCheckLine,
    Product,
    Region,
    RepairEvent,
    RepairTicket,
    ShowUnit,
    Site,
    StaffMember,
    StockBalance,
    StockMovement,
    User,
    Visit,
    user_region,
    user_site,
)
from tests.conftest import TEST_CONFIG, IsolatedClient, PortalClient, wipe, without_random_values

END = date(2026, 3, 31)
# The domain tables (their rows are all generated, timestamps included).
DOMAIN_TABLES = (
    Item,
    Product,
    StockBalance,
    Visit,
    StockMovement,
    ConsumptionLine,
    DailyTally,
    ChecklistTemplate,
    ChecklistItem,
    ChecklistRun,
    ChecklistAnswer,
    ItemCheck,
    ItemCheckLine,
    HandoverEntry,
    HandoverItem,
    RepairTicket,
    RepairEvent,
    DamageReport,
    CleaningInspection,
    CleaningResult,
    CleaningIssue,
    GroomingInspection,
    GroomingResult,
    BreakLog,
)
# Cleaning areas: the demo sites' come from the Site listener, the generated sites' from the
# generator.
TABLES = (Region, Site, ShowUnit, User, StaffMember, AuditEvent, CleaningArea, *DOMAIN_TABLES)


def _seed(app, **kw):
    with app.app_context():
        ctx = devdata.generate(sites=6, days=3, seed=7, end=END, progress=lambda msg: None, **kw)
        db.session.remove()
        return ctx


# Salted per run, or stamped "now" on the demo organisation's rows (made through the ORM); the
# generated audit rows' hashes chain onto the demo organisation's trail, stamped "now" too.
NOT_COMPARED = {"password_hash", "session_token", "created_at", "updated_at", "prev_hash", "hash"}


def _snapshot(app):
    """Every row of every table the generator writes, but for the columns above."""
    with app.app_context():
        rows = {}
        for model in TABLES:
            columns = [c for c in model.__table__.columns if c.name not in NOT_COMPARED]
            stmt = select(*columns).order_by(model.id)
            if model is AuditEvent:  # the generated history, not the demo organisation's own trail
                stmt = stmt.where(
                    AuditEvent.site_id.is_not(None),
                    AuditEvent.at < datetime(2026, 4, 1, tzinfo=timezone.utc),
                )
            rows[model.__tablename__] = db.session.execute(stmt).all()
        for table in (user_site, user_region):
            rows[table.name] = db.session.execute(select(table).order_by(*table.c)).all()
        db.session.remove()
        return rows


def test_generates_the_organisation_people_and_history(app, dbs):
    ctx = _seed(app)
    count = lambda stmt: dbs.scalar(select(func.count()).select_from(stmt))  # noqa: E731
    assert count(Site) == 6 and count(Region) == 10
    assert (
        dbs.scalar(select(Site.code).where(Site.code == "SZ01")) == "SZ01"
    )  # the demo sites are kept
    assert count(select(Site).where(Site.timezone == "Asia/Shanghai").subquery()) == 6
    # two new sites: 2 clerks, 2 guards, 5 salespeople each, 1 maintenance for the pair, and
    # 2 supervisors for each of the 8 new regions, 3 head-office users; the 9 demo users.
    assert count(User) == 9 + 2 * 9 + 1 + 16 + 3
    generated = User.created_at == datetime(2026, 3, 29, 8, 0, tzinfo=timezone.utc)
    assert count(select(User).where(generated).subquery()) == 2 * 9 + 1 + 16 + 3
    assert dbs.scalar(select(func.count(func.distinct(User.password_hash))).where(generated)) == 1
    assert count(select(StaffMember).where(StaffMember.kind == "cleaner").subquery()) >= 6
    assert count(select(ShowUnit).subquery()) >= 4 + 2 * 2
    history = AuditEvent.at < datetime(
        2026, 4, 1, tzinfo=timezone.utc
    )  # not the demo organisation's own trail
    events = dbs.execute(
        select(func.count(), func.min(AuditEvent.at), func.count(AuditEvent.site_id)).where(history)
    ).one()
    assert events[0] == ctx.counts["audit_event"] >= 6 * 3 * 7
    assert events[1].date() >= date(2026, 3, 28)
    assert events[2] == events[0]  # every event belongs to a site
    per_site = dict(
        dbs.execute(
            select(AuditEvent.site_id, func.count()).where(history).group_by(AuditEvent.site_id)
        ).all()
    )
    assert sorted(per_site) == sorted(ctx.site_ids)


def test_generates_the_domains_history(app, dbs):
    """6 sites × 3 days: every domain table has rows, tied together as the services would."""
    ctx = _seed(app)
    count = lambda model: dbs.scalar(select(func.count()).select_from(model))  # noqa: E731
    for model in DOMAIN_TABLES:
        assert count(model) == ctx.counts[model.__tablename__] > 0, model.__tablename__
    assert count(Item) == 6 * 30 and count(Product) == count(StockBalance) == 6 * 10
    assert count(DailyTally) == 6 * 3
    # Each worked day was written to, as the services note it: its kept figures can be checked.
    assert dbs.execute(select(DayChange.site_id, DayChange.day).order_by(DayChange.id)).all() == [
        tuple(row)
        for row in dbs.execute(
            select(DailyTally.site_id, DailyTally.day).order_by(DailyTally.site_id, DailyTally.day)
        )
    ]
    assert count(ChecklistRun) == 6 * 3 * 2  # opening and closing, every site and day
    assert count(ItemCheck) == 6 * 3 * 2 and count(ItemCheckLine) == count(ItemCheck) * 30
    # Every balance is its ledger's sum, never negative.
    ledger = dict(
        dbs.execute(
            select(StockMovement.product_id, func.sum(StockMovement.quantity)).group_by(
                StockMovement.product_id
            )
        ).all()
    )
    balances = dict(dbs.execute(select(StockBalance.product_id, StockBalance.qty)).all())
    assert balances == {pid: ledger.get(pid, 0) for pid in balances} and min(balances.values()) >= 0
    # A consumption line is a served movement of its visit, same product and quantity.
    mismatched = dbs.scalar(
        select(func.count())
        .select_from(ConsumptionLine)
        .join(StockMovement, StockMovement.id == ConsumptionLine.movement_id)
        .where(
            (StockMovement.kind != "served")
            | (StockMovement.visit_id != ConsumptionLine.visit_id)
            | (StockMovement.quantity != -ConsumptionLine.quantity)
            | (StockMovement.product_id != ConsumptionLine.product_id)
        )
    )
    assert mismatched == 0
    # Tallies count the day's visits; every ticket has its report event; a visit belongs to its
    # site's day.
    assert dbs.scalar(select(func.sum(DailyTally.visits))) == count(Visit)
    assert dbs.scalar(select(func.count(func.distinct(RepairEvent.ticket_id)))) == count(
        RepairTicket
    )
    assert dbs.scalar(select(func.min(Visit.arrived_at))).date() >= date(2026, 3, 28)
    # The generated ids are past the sequences: the ORM can add rows afterwards (PostgreSQL).
    with app.app_context():
        site = db.session.get(Site, ctx.site_ids[-1])
        db.session.add(Item(site_id=site.id, name="新物品", category="other", expected_quantity=1))
        db.session.add(Visit(site_id=site.id, adults=1, children=0))
        db.session.commit()
        db.session.remove()


def test_generates_cleaning_grooming_and_breaks(app, dbs):
    """6 sites × 3 days: the rows the cleaning, grooming and break services would write, every
    reference on the row's own site, statuses matching their timestamps."""
    from portal.services import cleaning

    ctx = _seed(app)
    count = lambda model: dbs.scalar(select(func.count()).select_from(model))  # noqa: E731
    staff = {
        sid: (site_id, kind, user_id)
        for sid, site_id, kind, user_id in dbs.execute(
            select(StaffMember.id, StaffMember.site_id, StaffMember.kind, StaffMember.user_id)
        )
    }
    tz = {sid: ZoneInfo(name) for sid, name in dbs.execute(select(Site.id, Site.timezone))}
    local_day = lambda site_id, at: at.astimezone(tz[site_id]).date()  # noqa: E731
    first = END - timedelta(days=2)

    # Cleaning: the standard areas everywhere; one inspection per site and day judging each area.
    assert count(CleaningArea) == 6 * 6
    assert count(CleaningInspection) == 6 * 3 and count(CleaningResult) == 6 * 3 * 6
    areas = {
        aid: site_id for aid, site_id in dbs.execute(select(CleaningArea.id, CleaningArea.site_id))
    }
    inspections = {
        iid: (site_id, at, user)
        for iid, site_id, at, user in dbs.execute(
            select(
                CleaningInspection.id,
                CleaningInspection.site_id,
                CleaningInspection.inspected_at,
                CleaningInspection.inspector_id,
            )
        )
    }
    assert sorted((s, local_day(s, at)) for s, at, _ in inspections.values()) == sorted(
        (s, first + timedelta(days=n)) for s in ctx.site_ids for n in range(3)
    )
    roles = dict(dbs.execute(select(User.id, User.role)).all())
    assert {roles[user] for _, _, user in inspections.values()} <= cleaning.INSPECT_ROLES
    results = {
        rid: row
        for rid, *row in dbs.execute(
            select(
                CleaningResult.id,
                CleaningResult.site_id,
                CleaningResult.inspection_id,
                CleaningResult.area_id,
                CleaningResult.passed,
                CleaningResult.note,
            )
        )
    }
    for site_id, inspection_id, area_id, passed, note in results.values():
        assert inspections[inspection_id][0] == areas[area_id] == site_id
        assert (note is None) == passed
    # One issue per failed result, same site and area, for a cleaner of the site.
    issues = dbs.scalars(select(CleaningIssue).order_by(CleaningIssue.id)).all()
    assert sorted(i.result_id for i in issues) == sorted(
        r for r, row in results.items() if not row[3]
    )
    assert count(CleaningIssue) == ctx.counts["cleaning_issue"] > 0
    for issue in issues:
        site_id, _, area_id, _, note = results[issue.result_id]
        raised = inspections[results[issue.result_id][1]][1]
        assert (issue.site_id, issue.area_id, issue.description) == (site_id, area_id, note)
        assert staff[issue.cleaner_id][:2] == (site_id, "cleaner")
        assert issue.status in ("open", "fixed", "verified") and issue.deleted_at is None
        assert issue.created_at == raised and issue.due_at >= raised + cleaning.DEFAULT_DUE
        assert (issue.fixed_at is None) == (issue.fixed_by_id is None) == (issue.status == "open")
        assert (
            (issue.verified_at is None)
            == (issue.verified_by_id is None)
            == (issue.status != "verified")
        )
        if issue.fixed_at:
            assert issue.fixed_at > raised and roles[issue.fixed_by_id] in cleaning.FIX_ROLES
        if issue.verified_at:
            assert issue.verified_at > issue.fixed_at and issue.verified_by_id != issue.fixed_by_id
            assert roles[issue.verified_by_id] in ("admin", "supervisor", "clerk", "security")
        last = max(t for t in (raised, issue.fixed_at, issue.verified_at) if t)
        assert issue.updated_at == last if not issue.reopen_count else issue.updated_at >= last
        assert issue.reopen_count in (0, 1) and (issue.last_note is not None) == bool(
            issue.reopen_count
        )
    now = datetime.combine(END, time(23, 59), timezone.utc)
    with app.app_context():
        overdue = cleaning.overdue_issues(now)
        assert overdue and all(i.status == "open" and i.due_at < now for i in overdue)
        db.session.remove()

    # Grooming: a supervisor of the site's region judges a clerk or guard of the site on every
    # point.
    assert 0 < count(GroomingInspection) == ctx.counts["grooming_inspection"]
    assert count(GroomingResult) == count(GroomingInspection) * len(GROOMING_POINTS)
    supervisors = set(
        dbs.execute(
            select(Site.id, user_region.c.user_id).join(
                user_region, user_region.c.region_id == Site.region_id
            )
        )
    )
    points = {}
    for inspection_id, site_id, point, passed in dbs.execute(
        select(
            GroomingResult.inspection_id,
            GroomingResult.site_id,
            GroomingResult.point,
            GroomingResult.passed,
        )
    ):
        points.setdefault(inspection_id, []).append((site_id, point, passed))
    for inspection in dbs.scalars(select(GroomingInspection)):
        judged = points[inspection.id]
        assert staff[inspection.staff_member_id][:2] in {
            (inspection.site_id, "clerk"),
            (inspection.site_id, "security"),
        }
        assert (inspection.site_id, inspection.inspector_id) in supervisors or roles[
            inspection.inspector_id
        ] == "admin"
        assert {s for s, _, _ in judged} == {inspection.site_id}
        assert sorted(p for _, p, _ in judged) == sorted(k for k, _ in GROOMING_POINTS)
        assert inspection.score == round(100 * sum(ok for _, _, ok in judged) / len(judged))
        assert first <= local_day(inspection.site_id, inspection.inspected_at) <= END

    # Breaks: 2–6 a site and day, of people of the site with a login, never overlapping for one
    # person.
    logs = dbs.scalars(
        select(BreakLog).order_by(BreakLog.staff_member_id, BreakLog.started_at)
    ).all()
    assert len(logs) == ctx.counts["break_log"] > 0
    per_day = {}
    for log in logs:
        site_id, kind, user_id = staff[log.staff_member_id]
        assert site_id == log.site_id and user_id is not None and log.created_by_id == user_id
        day = local_day(site_id, log.started_at)
        per_day[(site_id, day)] = per_day.get((site_id, day), 0) + 1
        assert first <= day <= END and time(10) <= log.started_at.astimezone(
            tz[site_id]
        ).time() < time(18)
        assert log.ended_at is None and day == END or log.ended_at > log.started_at
    assert all(2 <= n <= 6 for n in per_day.values())
    for a, b in zip(logs, logs[1:], strict=False):
        if a.staff_member_id == b.staff_member_id:
            assert a.ended_at is not None and a.ended_at <= b.started_at
    assert any(log.is_flagged() for log in logs) and not all(
        log.is_flagged() for log in logs if log.ended_at
    )

    # The services carry on from the generated rows (on PostgreSQL: the sequences are past the
    # explicit ids).
    from portal.services import grooming

    with app.app_context():
        site = db.session.get(Site, ctx.site_ids[-1])
        clerk = db.session.get(User, ctx.site_users[site.id]["clerk"][0])
        cleaner = db.session.scalars(
            select(StaffMember).where(StaffMember.site_id == site.id, StaffMember.kind == "cleaner")
        ).first()
        areas = cleaning.areas_of(site)
        assert [a.name for a in areas] == [
            "Floor",
            "Glass",
            "Decorations",
            "Restroom",
            "Outdoor",
            "Slippers",
        ]
        inspection = cleaning.inspect(
            site, clerk, [(a, n != 0, "") for n, a in enumerate(areas)], cleaner=cleaner
        )
        person = db.session.scalars(
            select(StaffMember).where(StaffMember.site_id == site.id, StaffMember.kind == "clerk")
        ).first()
        supervisor = db.session.get(User, next(u for s, u in supervisors if s == site.id))
        grooming.inspect(site, person, supervisor, [(k, True, "") for k, _ in GROOMING_POINTS])
        db.session.add(BreakLog(site_id=site.id, staff_member=person, started_at=now))
        db.session.commit()
        assert inspection.id > max(inspections) and inspection.failed_count == 1
        db.session.remove()


def test_generated_cleaning_grooming_and_breaks_show_in_the_app(app, login):
    """The pages of the three domains open on the generated rows."""
    _seed(app)
    clerk = login("clerk_sz01")
    for url in ("/cleaning/", "/cleaning_issue/", "/breaks/", "/today/"):
        assert clerk.get(url).status_code == 200, url
    assert login("sup_south").get("/grooming/").status_code == 200


def test_same_seed_same_rows(app):
    wipe(app)
    _seed(app)
    first = _snapshot(app)
    wipe(app)
    _seed(app)
    assert _snapshot(app) == first
    assert len(first["audit_event"]) > 100


def test_generated_history_is_sealed_in_the_audit_chain(app):
    _seed(app)
    with app.app_context():  # as the flask command line does
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "audit chain OK" in result.output


def test_generated_users_can_log_in(app, dbs):
    _seed(app)
    username = dbs.scalar(
        select(User.username)
        .where(
            User.role == "clerk", User.username != "clerk_sz01", User.username.not_like("clerk_s%")
        )
        .order_by(User.id)
    )
    c = PortalClient(app)
    assert c.login(username).status_code == 302
    site_list = without_random_values(c.get("/site/").get_data(as_text=True))
    assert "SZ01" not in site_list  # only his own site


@pytest.fixture(scope="module")
def bench_app(database_url):
    """The app as the benchmark serves it: floor page and query-count header on."""
    application = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "BENCH_FLOOR_PAGE": True,
            "QUERY_COUNT_HEADER": True,
        }
    )
    application.test_client_class = IsolatedClient
    yield application
    with application.app_context():
        db.engine.dispose()


def test_floor_page_needs_a_login_and_shows_the_layout(bench_app):
    anonymous = bench_app.test_client().get("/_floor/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    c = PortalClient(bench_app)
    c.login("clerk_sz01")
    resp = c.get("/_floor/")
    assert resp.status_code == 200
    assert 'class="navbar' in resp.get_data(as_text=True)
    # Loading the user and his sites; nothing else.
    assert 1 <= int(resp.headers["X-Query-Count"]) <= 4


def test_query_count_header_counts_the_requests_queries(bench_app):
    c = PortalClient(bench_app)
    c.login("admin")
    floor = int(c.get("/_floor/").headers["X-Query-Count"])
    listing = int(c.get("/audit/").headers["X-Query-Count"])
    assert listing > floor


def test_floor_page_and_header_are_off_by_default(app, login):
    resp = login("clerk_sz01").get("/_floor/")
    assert resp.status_code == 404
    assert "X-Query-Count" not in resp.headers


PAGES_AT_SCALE = [
    ("admin", "/?overview=1"),
    ("admin", "/audit/"),
    ("admin", "/audit/?flt0_0=1"),
    ("sup_south", "/audit/"),
    ("admin", "/staff/?sort=1"),
    ("admin", "/user/"),
    ("clerk_sz01", "/site/"),
]


def test_query_counts_do_not_grow_with_the_dataset(app, login):
    """The same pages send as many statements on the demo organisation as on 14 sites in
    10 regions with their people and history (no query per site, region or row)."""
    from tests.querycount import count_queries

    def counts():
        result = {}
        for user, url in PAGES_AT_SCALE:
            c = login(user)
            with count_queries(app) as q:
                assert c.get(url).status_code == 200, url
            result[(user, url)] = q.count
        return result

    small = counts()
    with app.app_context():
        devdata.generate(
            sites=14, days=2, seed=3, end=END, only=["audit"], progress=lambda msg: None
        )
        db.session.remove()
    assert counts() == small


def test_cli_seeds_and_refuses_a_second_run(app, dbs):
    runner = app.test_cli_runner()
    first = runner.invoke(
        args=["bench", "seed", "--sites", "5", "--days", "2", "--end", "2026-03-31"]
    )
    assert first.exit_code == 0, first.output
    assert "audit_event" in first.output and "total" in first.output
    assert dbs.scalar(select(func.count()).select_from(Site)) == 5
    again = runner.invoke(args=["bench", "seed", "--sites", "5", "--days", "2"])
    assert again.exit_code != 0 and "empty" in again.output
    assert dbs.scalar(select(func.count()).select_from(Site)) == 5
