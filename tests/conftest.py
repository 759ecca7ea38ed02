"""Fixtures: the app on a real database (SQLite file, or PostgreSQL when
``PORTAL_TEST_DATABASE_URL`` points at a server), the demo organisation in every test,
logged-in clients per user, a live server and a real Chromium for browser tests.

Each test starts from the demo organisation (4 sites, one user per role): the database is
put back to it before every test (``Baseline``), so tests are isolated on both databases.
"""

import contextvars
import os
import re
import secrets
import threading
import uuid

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db

ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "artifacts")
PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")


def _make_database(tmp_path_factory):
    """A fresh database for this test session; returns (url, cleanup)."""
    if not PG_URL:
        path = tmp_path_factory.mktemp("db") / "portal-test.db"
        return f"sqlite:///{path}", lambda: None
    server = make_url(PG_URL)
    name = f"portal_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))

    def cleanup():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), cleanup


TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    # A cheap work factor: hundreds of logins per run. Production keeps scrypt's default.
    "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    "RATELIMIT_STORAGE_URI": "memory://",
    # The existing fixtures log admins and supervisors in with a password alone; the
    # second-factor tests switch it on.
    "TWO_FACTOR_ROLES": (),
}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url, cleanup = _make_database(tmp_path_factory)
    yield url
    cleanup()


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in a real server: with its own app context
    and database session, even while the test itself holds an app context (``dbs``)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault(
            "buffered", True
        )  # streamed bodies (exports) are read inside that context
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    # Files of its own: never the archived PDFs a developer's `flask reports monthly` left in
    # instance/reports (the dashboard serves an archived month's PDF from there).
    application = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
            "REPORTS_FOLDER": str(tmp_path_factory.mktemp("reports")),
        }
    )
    application.test_client_class = IsolatedClient
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def wipe(application):
    """Delete every row of every table (keeps the schema)."""
    with application.app_context():
        db.session.remove()
        tables = list(reversed(db.metadata.sorted_tables))
        if db.engine.dialect.name == "postgresql":
            _truncate(tables)
            return
        # SQLite: the audit trail is insert-only (database triggers): lift them for the wipe only.
        from portal.models.append_only import suspended

        with db.engine.begin() as conn:
            with suspended(conn):
                for t in tables:
                    conn.execute(t.delete())
            if conn.execute(
                text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")
            ).first():
                conn.execute(text("DELETE FROM sqlite_sequence"))


def _truncate(tables, attempts=10):
    """TRUNCATE every table. A browser test's live server may still be answering the page's
    last request: PostgreSQL then reports a deadlock and rolls the TRUNCATE back, so try again."""
    import time

    from sqlalchemy.exc import OperationalError

    names = ", ".join(f'"{t.name}"' for t in tables)
    for attempt in range(attempts):
        try:
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        except OperationalError as exc:
            if "deadlock" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.5)


def _seed_org(application):
    from portal import devdata

    with application.app_context():
        sites = devdata.seed_org()
        db.session.commit()
        ids = {code: s.id for code, s in sites.items()}
        db.session.remove()
    return ids


def _seed_demo(application):
    """The demo organisation and the full demo data (``seed_demo`` seeds the org first)."""
    from portal import devdata

    with application.app_context():
        sites = devdata.seed_demo()
        ids = {code: s.id for code, s in sites.items()}
        db.session.remove()
    return ids


def _day():
    """The day in UTC and in the demo sites' zone: a baseline seeded on another day is stale."""
    from portal import clock

    now = clock.now()
    return now.date(), clock.to_local(now, clock.DEFAULT_ZONE).date()


class Baseline:
    """The database as ``wipe`` + ``seed`` (``devdata.seed_org()`` unless told) leave it,
    seeded once per session and put back when asked, with the same rows, ids and sequences.

    SQLite: a copy of the database file taken with SQLite's backup API and written back with
    it. PostgreSQL: the seeded rows kept in memory; every table is emptied with DELETE (the
    insert-only triggers and the foreign keys are off for that transaction only, through
    ``session_replication_role``), the rows inserted again and the sequences set back. A
    server role that may not set ``session_replication_role`` falls back to TRUNCATE and
    seeding again."""

    def __init__(self, application, seed=_seed_org):
        self.app, self.seed = application, seed
        self.take()

    def take(self):
        wipe(self.app)
        self.ids = self.seed(self.app)
        self.day = _day()
        with self.app.app_context():
            self.dialect = db.engine.dialect.name
            if self.dialect == "sqlite":
                self._take_sqlite()
            else:
                self._take_postgresql()

    def restore(self):
        if self.day != _day():  # the rows' times would belong to yesterday
            self.take()
            return
        with self.app.app_context():
            db.session.remove()
            if self.dialect == "sqlite":
                self._restore_sqlite()
            elif self.rows is None:
                _truncate(list(reversed(db.metadata.sorted_tables)))
                self.ids = self.seed(self.app)
            else:
                self._restore_postgresql()

    # SQLite ------------------------------------------------------------------------------

    def _take_sqlite(self):
        import sqlite3

        self.copy = sqlite3.connect(":memory:", check_same_thread=False)
        raw = db.engine.raw_connection()
        try:
            raw.driver_connection.backup(self.copy)
        finally:
            raw.close()

    def _restore_sqlite(self):
        raw = db.engine.raw_connection()
        try:
            self.copy.backup(raw.driver_connection)
        finally:
            raw.close()

    # PostgreSQL --------------------------------------------------------------------------

    def _take_postgresql(self):
        from sqlalchemy.exc import ProgrammingError

        tables = db.metadata.sorted_tables
        with db.engine.connect() as conn:
            self.rows = {}
            for t in tables:
                rows = [dict(r._mapping) for r in conn.execute(t.select())]
                if rows:
                    self.rows[t] = rows
            sequences = conn.execute(
                text(
                    "SELECT schemaname, sequencename, start_value, last_value FROM pg_sequences "
                    "WHERE schemaname = current_schema()"
                )
            ).all()
        try:
            with db.engine.begin() as conn:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
        except ProgrammingError:  # not a superuser: TRUNCATE and seed again
            self.rows = None
            return
        quote = db.engine.dialect.identifier_preparer.quote
        self.empty = "SET LOCAL session_replication_role = replica; " + " ".join(
            f"DELETE FROM {quote(t.name)};" for t in reversed(tables)
        )
        resets = []
        for schema, name, start, last in sequences:
            seq = f"{quote(schema)}.{quote(name)}".replace("'", "''")
            if last is None:
                resets.append(f"setval('{seq}', {int(start)}, false)")
            else:
                resets.append(f"setval('{seq}', {int(last)}, true)")
        self.sequences = f"SELECT {', '.join(resets)}" if resets else None

    def _restore_postgresql(self):
        with db.engine.begin() as conn:
            raw = conn.connection.driver_connection
            raw.execute(self.empty)  # one round trip, several statements: no parameters
            for table, rows in self.rows.items():
                conn.execute(table.insert(), rows)
            if self.sequences:
                raw.execute(self.sequences)


@pytest.fixture(scope="session")
def baseline(app):
    return Baseline(app)


@pytest.fixture(autouse=True)
def demo_org(app, baseline):
    """The demo organisation (regions, 4 sites, one user per role) in every test: the
    database is put back to the freshly seeded organisation before each test."""
    from portal.extensions import limiter

    limiter.reset()
    baseline.restore()
    return dict(baseline.ids)


@pytest.fixture
def site_ids(demo_org):
    return demo_org


@pytest.fixture(scope="session")
def demo_baseline(app):
    return Baseline(app, seed=_seed_demo)


@pytest.fixture
def full_demo(demo_org, demo_baseline):
    """The demo organisation with the full demo data (a week of visits, checklists, tickets…;
    ``devdata.seed_demo()``), put back from a copy taken once per session: seeding it took
    0.5 s (SQLite) to 1.2 s (PostgreSQL) in each of the ~80 tests that use it."""
    demo_baseline.restore()
    return dict(demo_baseline.ids)


# Random values a page carries (its forms' CSRF tokens, its scripts' nonce): a site code
# looked for in a page must not be found inside one of them by chance.
_RANDOM_VALUES = (re.compile(r"<[^>]*csrf[^>]*>", re.IGNORECASE), re.compile(r'nonce="[^"]*"'))


def without_random_values(html):
    """The page without the tags carrying its CSRF tokens and with its script nonces blanked."""
    for pattern in _RANDOM_VALUES:
        html = pattern.sub("", html)
    return html


class PortalClient:
    """A test client that logs in and sends forms with their CSRF token, like a browser."""

    # The token as a form page carries it.
    TOKEN = re.compile(
        r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
    )

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()

    def token(self):
        """The token a form page would carry for this client's session: Flask-WTF's signature
        of the raw token kept in the session, which gets one as on a browser's first form page.
        Signed here rather than read from a rendered page: rendering a page before every POST
        was a third of the off-host redirect walk's time. The pages carrying the token are
        tested themselves (test_auth, test_multiserver)."""
        with self.http.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        key = self.app.config.get("WTF_CSRF_SECRET_KEY") or self.app.config["SECRET_KEY"]
        return URLSafeTimedSerializer(key, salt="wtf-csrf-token").dumps(raw)

    def login(self, username, password="demo12345"):
        resp = self.http.post(
            "/login", data={"username": username, "password": password, "csrf_token": self.token()}
        )
        return resp

    def get(self, url, **kw):
        return self.http.get(url, **kw)

    def post(self, url, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.token()
        return self.http.post(url, data=data, **kw)


@pytest.fixture
def client(app):
    return PortalClient(app)


@pytest.fixture
def login(app):
    """``login("clerk_sz01")`` → a PortalClient logged in as that demo user."""

    def _login(username, password="demo12345"):
        c = PortalClient(app)
        resp = c.login(username, password)
        assert resp.status_code == 302, f"login as {username} failed: {resp.status_code}"
        return c

    return _login


@pytest.fixture
def dbs(app):
    """An app context with the unscoped (system) session, for arranging and checking data."""
    with app.app_context():
        yield db.session
        db.session.remove()


# ---------------------------------------------------------------- browser tests


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over real HTTP on a free port (threaded, like a small gunicorn)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


# Screenshots are for people to look at, never asserted on: `make screenshots` saves them. A
# full-page PNG costs ~0.1 s and the suite would take ~300 of them.
SCREENSHOTS = os.environ.get("PORTAL_TEST_SCREENSHOTS") == "1"
SCREENSHOT_FOLDER = os.path.join(ARTIFACTS, "screenshots")


def screenshot(page, name, folder=SCREENSHOT_FOLDER, full_page=True):
    """Save a screenshot under artifacts/screenshots/ (git-ignored) when SCREENSHOTS is on;
    returns its path either way."""
    path = os.path.join(folder, f"{name}.png")
    if SCREENSHOTS:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=path, full_page=full_page)
    return path


def browser_login(page, live_server, username, password="demo12345"):
    page.goto(f"{live_server}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    # The page the login lands on (or the login page again), loaded: waiting for the network
    # to stay idle instead cost half a second more per login.
    with page.expect_navigation():
        page.click("#login-button")


# ---------------------------------------------------------------- order of the files

_SLOW_FIXTURES = {"browser", "live_server", "page"}


def pytest_collection_modifyitems(config, items):
    """Files that drive a real browser or start servers run first: with `--dist loadfile` the
    two processes then end together instead of one waiting for the other's last browser file.
    The tests of a file keep their order."""
    slow = set()
    for item in items:
        names = vars(item.module).values() if getattr(item, "module", None) else ()
        if _SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or any(
            getattr(value, "__module__", None) == "tests.servers" for value in names
        ):
            slow.add(item.fspath)
    items.sort(key=lambda item: item.fspath not in slow)
