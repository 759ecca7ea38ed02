"""Configuration: defaults here, then ``instance/config.py``, then ``PORTAL_*`` env vars."""
import os
import secrets
from datetime import timedelta

from portal.clock import DEFAULT_ZONE_NAME


class DefaultConfig:
    # "demo" generates and keeps a secret key under instance/; "production" refuses to start without one.
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
    WTF_CSRF_TIME_LIMIT = None  # a token lives as long as the session: clerks leave forms open for hours
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = DEFAULT_ZONE_NAME
    LANGUAGES = ("zh_Hans_CN", "en")
    REDIS_URL = None
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    LOGIN_FAILURE_LIMIT = "5 per 15 minutes"
    PASSWORD_HASH_METHOD = "scrypt"
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    UPLOAD_MAX_PIXELS = 40_000_000
    FLASK_ADMIN_SWATCH = None
    # Dashboard figures of ended periods kept per process (portal.services.figure_cache).
    FIGURE_CACHE = True
    # Rows of the Today sections kept per process and site data version (portal.services.today.kept).
    TODAY_CACHE = True
    # How many days back a forgotten daily tally may still be closed (portal.services.bounds):
    # closing moves live stock, so an old day is not reopened for counting.
    TALLY_MAX_DAYS_BACK = 7


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
    if app.config.get("REDIS_URL"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    app.config.setdefault("UPLOAD_FOLDER", os.path.join(app.instance_path, "uploads"))
    app.config["SECRET_KEY"] = _secret_key(app)


def _normalise_db_url(url):
    # psycopg 3 is the driver we ship; accept the bare scheme people paste from elsewhere.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _secret_key(app):
    key = app.config.get("SECRET_KEY")
    if key:
        return key
    if app.config["PORTAL_ENV"] == "production":
        raise RuntimeError("SECRET_KEY is not set: set PORTAL_SECRET_KEY or SECRET_KEY in instance/config.py")
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
