"""Configuration: defaults here, then ``instance/config.py``, then ``PORTAL_*`` env vars."""

import os
import secrets
from datetime import timedelta

from portal.clock import DEFAULT_ZONE_NAME


class DefaultConfig:
    # "demo" generates and keeps a secret key under instance/; "production" refuses to start
    # without one.
    PORTAL_ENV = "demo"
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = None  # default: sqlite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    WTF_CSRF_TIME_LIMIT = (
        None  # a token lives as long as the session: clerks leave forms open for hours
    )
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = DEFAULT_ZONE_NAME
    LANGUAGES = ("zh_Hans_CN", "en")
    REDIS_URL = None
    # The address phones reach the portal at (https://portal.example.cn), printed in every QR
    # label; unset, the address of the request that printed the sheet.
    PUBLIC_BASE_URL = None
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    # Failed password or code checks, counted in the database (shared by every worker and server):
    # per account (the name as typed, known or not) and per address (one office shares one).
    LOGIN_FAILURE_LIMIT = "5 per 15 minutes"
    LOGIN_ADDRESS_FAILURE_LIMIT = "30 per 15 minutes"
    # Roles that must sign in with a second factor (authenticator code). None: admin and
    # supervisor in production, nobody in the demo (its users share a published password).
    TWO_FACTOR_ROLES = None
    TWO_FACTOR_ISSUER = "Sales Office Portal"
    # Time between the right password and the code before the password must be given again.
    TWO_FACTOR_PENDING_MINUTES = 10
    PASSWORD_HASH_METHOD = "scrypt"
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    # Photos (portal.services.photos). Per file: bytes, and pixels (a 50 MP phone photo fits).
    UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    UPLOAD_MAX_PIXELS = 51_000_000
    # Per request, over all its photo fields: files, and pixels to decode (a WebP's count 3×).
    # A JPEG is decoded at 1/2-1/8 of its size (~3 MP), so eight 12-50 MP phone photos fit,
    # or one 32 MP PNG; about half a second of CPU either way.
    UPLOAD_MAX_FILES = 8
    UPLOAD_MAX_REQUEST_PIXELS = 32_000_000
    # Stored photos are shrunk to this many pixels on their long side.
    UPLOAD_MAX_SIDE = 2048
    FLASK_ADMIN_SWATCH = None
    # How many days back a forgotten daily tally may still be closed (portal.services.bounds):
    # closing moves live stock, so an old day is not reopened for counting.
    TALLY_MAX_DAYS_BACK = 7
    # Slow reports (PDFs built on demand, exports) a user may have in progress at once, on every
    # worker and server together (portal.services.leases). One: with 2 sync workers per server,
    # a user's burst of PDFs keeps one worker at most, and the other answers everybody else. A
    # lease held by a worker that died frees itself after REPORT_LEASE_SECONDS (longer than
    # gunicorn's timeout, so never while its report may still be running).
    REPORT_LEASES_PER_USER = 1
    REPORT_LEASE_SECONDS = 120
    REPORT_RETRY_AFTER_SECONDS = 5
    # Month-end PDFs written by `flask reports monthly` (default: instance/reports).
    REPORTS_FOLDER = None
    # An export of more rows is refused before any work, asking for a narrower filter.
    EXPORT_MAX_ROWS = 20_000
    # Background jobs (huey, portal.services.jobs): SQLite file (default instance/jobs.db), or
    # Redis when REDIS_URL is set. A failed delivery is retried JOBS_RETRIES times, every
    # JOBS_RETRY_DELAY seconds.
    JOBS_SQLITE_FILE = None
    JOBS_RETRIES = 5
    JOBS_RETRY_DELAY = 60
    # Escalations (portal.services.escalation, its RULES table): minutes after each rule's
    # starting point (a report, a due time, local midnight, the tally time, a shift's start).
    ESCALATE_UNASSIGNED_MINUTES = 30
    ESCALATE_TICKET_OVERDUE_MINUTES = 0
    ESCALATE_CLEANING_OVERDUE_MINUTES = 0
    ESCALATE_OPENING_CHECKLIST_MINUTES = 600  # 10:00 local
    ESCALATE_TALLY_MINUTES = 40  # the clerks
    ESCALATE_TALLY_SUPERVISOR_MINUTES = 100  # then the supervisors
    ESCALATE_HANDOVER_MINUTES = 120
    ESCALATE_BREAK_MINUTES = 10
    # E-mail notifications (SMTP).
    SMTP_HOST = None
    SMTP_PORT = 25
    SMTP_USER = None
    SMTP_PASSWORD = None
    SMTP_FROM = None
    SMTP_STARTTLS = False


def load_config(app, test_config=None):
    """Layer the configuration and derive the values that depend on others."""
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PORTAL")
    if test_config:
        app.config.from_mapping(test_config)

    os.makedirs(app.instance_path, exist_ok=True)
    # PORTAL_DATABASE_URL is the documented name; keep it as the one way to point at a database.
    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        url = "sqlite:///" + os.path.join(app.instance_path, "portal.db")
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(url)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # No JIT: the figure queries' estimates cross jit_above_cost, and compiling them took
        # 0.6 s of a 0.15 s query at 200 sites (bench, README "Benchmark"); our queries are
        # short, index-driven reads that never win it back. An index read costed as a cached
        # page (random_page_cost 1.1, the usual value for SSDs and data in memory): at 4, the
        # default for spinning disks, the planner read whole tables of tickets and events for
        # the dashboard's figures (its statements took 260 ms at 200 sites instead of 175).
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("options", "-c jit=off -c random_page_cost=1.1")
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": connect_args}
    if app.config.get("REDIS_URL"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    app.config["TWO_FACTOR_ROLES"] = _two_factor_roles(app.config)
    app.config.setdefault("UPLOAD_FOLDER", os.path.join(app.instance_path, "uploads"))
    app.config["SECRET_KEY"] = _secret_key(app)


def _two_factor_roles(cfg):
    roles = cfg.get("TWO_FACTOR_ROLES")
    if roles is None:
        production = cfg["PORTAL_ENV"] == "production"
        return frozenset({"admin", "supervisor"}) if production else frozenset()
    if isinstance(roles, str):  # PORTAL_TWO_FACTOR_ROLES=admin,supervisor
        roles = roles.replace(",", " ").split()
    return frozenset(roles)


def _normalise_db_url(url):
    # psycopg 3 is the driver we ship; accept the bare scheme people paste from elsewhere.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _secret_key(app):
    key = app.config.get("SECRET_KEY")
    if key:
        return key
    if app.config["PORTAL_ENV"] == "production":
        raise RuntimeError(
            "SECRET_KEY is not set: set PORTAL_SECRET_KEY or SECRET_KEY in instance/config.py"
        )
    path = os.path.join(app.instance_path, "secret_key")
    if not os.path.exists(path):
        # O_EXCL: two gunicorn workers starting together must end with one key, not two.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        except FileExistsError:
            pass
    with open(path) as fh:
        return fh.read().strip()
