"""Fixtures: the app on a real database (SQLite file, or PostgreSQL when
``PORTAL_TEST_DATABASE_URL`` points at a server), the demo organisation in every test,
logged-in clients per user, a live server and a real Chromium for browser tests.

Each test starts from the demo organisation (4 sites, one user per role) and its rows
are wiped afterwards, so tests are isolated on both databases.
"""

import contextvars
import os
import re
import threading
import uuid

import pytest
from flask.testing import FlaskClient
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
    uploads = tmp_path_factory.mktemp("uploads")
    application = create_app(
        {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "UPLOAD_FOLDER": str(uploads)}
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


@pytest.fixture(autouse=True)
def demo_org(app):
    """The demo organisation (regions, 4 sites, one user per role) in every test."""
    from portal.extensions import limiter
    from portal import devdata

    limiter.reset()
    with app.app_context():
        sites = devdata.seed_org()
        db.session.commit()
        ids = {code: s.id for code, s in sites.items()}
        db.session.remove()
    yield ids
    wipe(app)


@pytest.fixture
def site_ids(demo_org):
    return demo_org


class PortalClient:
    """A test client that logs in and sends forms with their CSRF token, like a browser."""

    TOKEN = re.compile(
        r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
    )

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()

    def token(self):
        page = self.http.get("/login" if not self.logged_in else "/account/").get_data(as_text=True)
        m = self.TOKEN.search(page)
        assert m, "no CSRF token on the page"
        return m.group(1) or m.group(2)

    logged_in = False

    def login(self, username, password="demo12345"):
        resp = self.http.post(
            "/login", data={"username": username, "password": password, "csrf_token": self.token()}
        )
        self.logged_in = resp.status_code == 302
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


def screenshot(page, name):
    """Save a full-page screenshot under artifacts/screenshots/ (git-ignored)."""
    folder = os.path.join(ARTIFACTS, "screenshots")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.png")
    page.screenshot(path=path, full_page=True)
    return path


def browser_login(page, live_server, username, password="demo12345"):
    page.goto(f"{live_server}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-button")
    page.wait_for_load_state("networkidle")
