"""The benchmark dataset generator (``flask bench seed``), the X-Query-Count header and the
benchmark floor page, at a tiny size on the test database."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db
from portal.models import (AuditEvent, ChecklistAnswer, ChecklistItem, ChecklistRun, ChecklistTemplate, ConsumptionLine,
                           DailyTally, DamageReport, HandoverEntry, HandoverItem, Item, ItemCheck, ItemCheckLine, Product,
                           Region, RepairEvent, RepairTicket, ShowUnit, Site, StaffMember, StockBalance, StockMovement,
                           User, Visit, user_region, user_site)
from portal.services import bench_seed
from tests.conftest import TEST_CONFIG, IsolatedClient, PortalClient, wipe

END = date(2026, 3, 31)
# Phase 2: the domain tables (their rows are all generated, timestamps included).
DOMAIN_TABLES = (Item, Product, StockBalance, Visit, StockMovement, ConsumptionLine, DailyTally, ChecklistTemplate,
                 ChecklistItem, ChecklistRun, ChecklistAnswer, ItemCheck, ItemCheckLine, HandoverEntry, HandoverItem,
                 RepairTicket, RepairEvent, DamageReport)
TABLES = (Region, Site, ShowUnit, User, StaffMember, AuditEvent, *DOMAIN_TABLES)


def _seed(app, **kw):
    with app.app_context():
        ctx = bench_seed.seed(sites=6, days=3, seed=7, end=END, progress=lambda msg: None, **kw)
        db.session.remove()
        return ctx


# Salted per run, or stamped "now" on the demo organisation's rows (made through the ORM).
NOT_COMPARED = {"password_hash", "session_token", "created_at", "updated_at"}


def _snapshot(app):
    """Every row of every table the generator writes, but for the columns above."""
    with app.app_context():
        rows = {}
        for model in TABLES:
            columns = [c for c in model.__table__.columns if c.name not in NOT_COMPARED]
            stmt = select(*columns).order_by(model.id)
            if model is AuditEvent:  # the generated history, not the demo organisation's own trail
                stmt = stmt.where(AuditEvent.site_id.is_not(None), AuditEvent.at < datetime(2026, 4, 1, tzinfo=timezone.utc))
            rows[model.__tablename__] = db.session.execute(stmt).all()
        for table in (user_site, user_region):
            rows[table.name] = db.session.execute(select(table).order_by(*table.c)).all()
        db.session.remove()
        return rows


def test_generates_the_organisation_people_and_history(app, dbs):
    ctx = _seed(app)
    count = lambda stmt: dbs.scalar(select(func.count()).select_from(stmt))  # noqa: E731
    assert count(Site) == 6 and count(Region) == 10
    assert dbs.scalar(select(Site.code).where(Site.code == "SZ01")) == "SZ01"  # the demo sites are kept
    assert count(select(Site).where(Site.timezone == "Asia/Shanghai").subquery()) == 6
    # two new sites: 2 clerks, 2 guards, 5 salespeople each, 1 maintenance for the pair, and
    # 2 supervisors for each of the 8 new regions, 3 head-office users; the 9 demo users.
    assert count(User) == 9 + 2 * 9 + 1 + 16 + 3
    generated = User.created_at == datetime(2026, 3, 29, 8, 0, tzinfo=timezone.utc)
    assert count(select(User).where(generated).subquery()) == 2 * 9 + 1 + 16 + 3
    assert dbs.scalar(select(func.count(func.distinct(User.password_hash))).where(generated)) == 1
    assert count(select(StaffMember).where(StaffMember.kind == "cleaner").subquery()) >= 6
    assert count(select(ShowUnit).subquery()) >= 4 + 2 * 2
    history = AuditEvent.at < datetime(2026, 4, 1, tzinfo=timezone.utc)  # not the demo organisation's own trail
    events = dbs.execute(select(func.count(), func.min(AuditEvent.at), func.count(AuditEvent.site_id))
                         .where(history)).one()
    assert events[0] == ctx.counts["audit_event"] >= 6 * 3 * 7
    assert events[1].date() >= date(2026, 3, 28)
    assert events[2] == events[0]  # every event belongs to a site
    per_site = dict(dbs.execute(select(AuditEvent.site_id, func.count()).where(history).group_by(AuditEvent.site_id)).all())
    assert sorted(per_site) == sorted(ctx.site_ids)


def test_generates_the_domains_history(app, dbs):
    """6 sites × 3 days: every domain table has rows, tied together as the services would."""
    ctx = _seed(app)
    count = lambda model: dbs.scalar(select(func.count()).select_from(model))  # noqa: E731
    for model in DOMAIN_TABLES:
        assert count(model) == ctx.counts[model.__tablename__] > 0, model.__tablename__
    assert count(Item) == 6 * 30 and count(Product) == count(StockBalance) == 6 * 10
    assert count(DailyTally) == 6 * 3
    assert count(ChecklistRun) == 6 * 3 * 2  # opening and closing, every site and day
    assert count(ItemCheck) == 6 * 3 * 2 and count(ItemCheckLine) == count(ItemCheck) * 30
    # Every balance is its ledger's sum, never negative.
    ledger = dict(dbs.execute(select(StockMovement.product_id, func.sum(StockMovement.quantity))
                              .group_by(StockMovement.product_id)).all())
    balances = dict(dbs.execute(select(StockBalance.product_id, StockBalance.qty)).all())
    assert balances == {pid: ledger.get(pid, 0) for pid in balances} and min(balances.values()) >= 0
    # A consumption line is a served movement of its visit, same product and quantity.
    mismatched = dbs.scalar(select(func.count()).select_from(ConsumptionLine).join(
        StockMovement, StockMovement.id == ConsumptionLine.movement_id).where(
        (StockMovement.kind != "served") | (StockMovement.visit_id != ConsumptionLine.visit_id)
        | (StockMovement.quantity != -ConsumptionLine.quantity) | (StockMovement.product_id != ConsumptionLine.product_id)))
    assert mismatched == 0
    # Tallies count the day's visits; every ticket has its report event; a visit belongs to its site's day.
    assert dbs.scalar(select(func.sum(DailyTally.visits))) == count(Visit)
    assert dbs.scalar(select(func.count(func.distinct(RepairEvent.ticket_id)))) == count(RepairTicket)
    assert dbs.scalar(select(func.min(Visit.arrived_at))).date() >= date(2026, 3, 28)
    # The generated ids are past the sequences: the ORM can add rows afterwards (PostgreSQL).
    with app.app_context():
        site = db.session.get(Site, ctx.site_ids[-1])
        db.session.add(Item(site_id=site.id, name="新物品", category="other", expected_quantity=1))
        db.session.add(Visit(site_id=site.id, adults=1, children=0))
        db.session.commit()
        db.session.remove()


def test_same_seed_same_rows(app):
    wipe(app)
    _seed(app)
    first = _snapshot(app)
    wipe(app)
    _seed(app)
    assert _snapshot(app) == first
    assert len(first["audit_event"]) > 100


def test_generated_users_can_log_in(app, dbs):
    _seed(app)
    username = dbs.scalar(select(User.username).where(User.role == "clerk", User.username != "clerk_sz01",
                                                      User.username.not_like("clerk_s%")).order_by(User.id))
    c = PortalClient(app)
    assert c.login(username).status_code == 302
    assert "SZ01" not in c.get("/site/").get_data(as_text=True)  # only his own site


@pytest.fixture(scope="module")
def bench_app(database_url):
    """The app as the benchmark serves it: floor page and query-count header on."""
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                              "BENCH_FLOOR_PAGE": True, "QUERY_COUNT_HEADER": True})
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


PAGES_AT_SCALE = [("admin", "/?overview=1"), ("admin", "/audit/"), ("admin", "/audit/?flt0_0=1"),
                  ("sup_south", "/audit/"), ("admin", "/staff/?sort=1"), ("admin", "/user/"), ("clerk_sz01", "/site/")]


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
        bench_seed.seed(sites=14, days=2, seed=3, end=END, only=["audit"], progress=lambda msg: None)
        db.session.remove()
    assert counts() == small


def test_cli_seeds_and_refuses_a_second_run(app, dbs):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["bench", "seed", "--sites", "5", "--days", "2", "--end", "2026-03-31"])
    assert first.exit_code == 0, first.output
    assert "audit_event" in first.output and "total" in first.output
    assert dbs.scalar(select(func.count()).select_from(Site)) == 5
    again = runner.invoke(args=["bench", "seed", "--sites", "5", "--days", "2"])
    assert again.exit_code != 0 and "empty" in again.output
    assert dbs.scalar(select(func.count()).select_from(Site)) == 5
