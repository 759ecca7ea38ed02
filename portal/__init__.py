"""Sales Office Portal: the application factory."""

import logging
import os

from flask import Flask, g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

# models: imported so every table is known to Alembic.
from portal import i18n, models, querycount, security  # noqa: F401
from portal.cli import register as register_cli
from portal.config import load_config
from portal.extensions import babel, csrf, db, limiter, login_manager, migrate
from portal.i18n import user_timezone
from portal.models.base import current_actor_id
from portal.services import audit, jobs, scope  # noqa: F401  (audit: session listeners)
from portal.views import init_views


def create_app(config=None):
    """Build the app; ``config`` (a mapping) overrides everything else, for tests."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, config)
    jobs.jobs_of(app)  # the background queue (huey), built on first use
    register_extensions(app)
    register_request_hooks(app)
    security.init_app(app)
    register_views(app)
    register_commands(app)
    querycount.init_app(app)  # X-Query-Count header, only when QUERY_COUNT_HEADER is on (benchmark)
    logging.basicConfig(level=logging.INFO)
    return app


def register_extensions(app):
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.install_template_gettext(app)
    i18n.install_template_helpers(app)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    app.session_interface = _SessionInterface()
    if app.config.get("PROXY_COUNT"):
        # Behind N reverse proxies: trust their X-Forwarded-For/Proto so is_secure and addresses
        # are right.
        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    _sqlite_pragmas(app)


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app):
        return bool(
            app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure)
        )


def _sqlite_pragmas(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            # WAL lets readers work while a clerk writes; busy_timeout waits instead of
            # "database is locked".
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()


def register_request_hooks(app):
    @app.before_request
    def _activate_scope():
        # Loading current_user happens unscoped (see auth.load_user); everything after is scoped.
        user = current_user._get_current_object()
        g.actor_token = current_actor_id.set(user.id if user.is_authenticated else None)
        scope.activate(scope.scope_for_user(user))
        g.portal_tz = user_timezone(user)

    @app.teardown_request
    def _reset_actor(_exc):
        token = g.pop("actor_token", None)
        if token is not None:
            current_actor_id.reset(token)


def register_views(app):
    init_views(app)


def register_commands(app):
    register_cli(app)
