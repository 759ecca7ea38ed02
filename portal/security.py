"""HTTP security in one place: response headers (CSP with a per-request nonce), idle
session timeout and structured security log lines.

Registered from ``create_app`` with ``security.init_app(app)``. Everything here is
generic: it applies to every view, including views registered later by other domains.
"""

import base64
import hashlib
import os
import re
import secrets

import flask_admin
from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Site, user_site

# Flask-Admin's filter menu carries ``onclick="return false;"``: allow exactly that handler by
# its hash ('unsafe-hashes' only admits listed hashes, never other inline code).
_ALLOWED_HANDLERS = ("return false;",)


def _handler_hashes():
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode() + "'"
        for code in _ALLOWED_HANDLERS
    )


def csp_nonce():
    """The nonce of this response; Flask-Admin calls it for its few inline scripts."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce):
    # Inline styles stay allowed: Bootstrap/select2 set style attributes from JavaScript.
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}' 'unsafe-hashes' "
        f"{_handler_hashes()}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


def set_headers(resp):
    # A response that set its own policy keeps it: served photos carry a stricter one
    # (``default-src 'none'; sandbox``) than the pages.
    resp.headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    if request.endpoint in _STATIC_ENDPOINTS:
        # Stylesheets and scripts are the same for everyone. A versioned address (``?v=``, see
        # ``static_version``) changes with the file, so the browser keeps it for good instead
        # of fetching twenty files again on every page a tablet opens.
        if request.args.get("v") and resp.status_code == 200:
            resp.cache_control.no_cache = None  # Flask's "ask again every time"
            resp.cache_control.public = True
            resp.cache_control.max_age = STATIC_MAX_AGE
            resp.cache_control.immutable = True
    elif current_user and current_user.is_authenticated:
        # Shared tablets: the back button must not show another person's pages after logout.
        resp.headers["Cache-Control"] = "no-store"
    if request.is_secure:
        resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return resp


# ------------------------------------------------------------------ idle timeout

LAST_SEEN = "_last_seen"
_STATIC_ENDPOINTS = ("static", "home.static", "swatch_css")
_VERSIONED_ENDPOINTS = ("static", "home.static")
STATIC_MAX_AGE = 365 * 24 * 3600
ADMIN_ROLES = frozenset({"admin", "supervisor"})


def idle_limit_minutes(role):
    cfg = current_app.config
    if role in ADMIN_ROLES:
        return int(cfg.get("ADMIN_IDLE_TIMEOUT_MINUTES", 60))
    return int(cfg.get("IDLE_TIMEOUT_MINUTES", 480))


def _now():
    return clock.now().timestamp()


def check_idle():
    """Log out a session that has been idle too long; otherwise note that it is alive."""
    if request.endpoint in _STATIC_ENDPOINTS or not current_user.is_authenticated:
        return None
    last_seen = session.get(LAST_SEEN)
    now = _now()
    if (
        last_seen is not None
        and now - float(last_seen) > idle_limit_minutes(current_user.role) * 60
    ):
        log_event("session_idle_timeout")
        logout_user()
        session.clear()
        flash(_l("You were logged out after a period of inactivity. Please log in again."), "info")
        return redirect(
            url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        )
    session[LAST_SEEN] = now
    return None


# ------------------------------------------------------------------ security log


def _clean(value, limit=200):
    """One log line per event: CR/LF, spaces, '=' and other non-printables are escaped."""
    text = "-" if value is None or value == "" else str(value)[:limit]
    return "".join(
        c
        if c.isprintable() and c not in " ="
        else f"\\x{ord(c):02x}"
        if ord(c) < 256
        else f"\\u{ord(c):04x}"
        for c in text
    )


def _site_codes(user_id):
    # Read past the site scope: at login the request is still scoped as anonymous.
    stmt = (
        select(Site.code)
        .join(user_site, user_site.c.site_id == Site.id)
        .where(user_site.c.user_id == int(user_id))
        .order_by(Site.code)
    )
    return ",".join(db.session.execute(stmt.execution_options(bypass_scope=True)).scalars()) or None


def log_event(event, username=None, user=None, site=None):
    """Write ``security event=... user=... site=... addr=... path=...`` as one line."""
    if user is None and current_user and current_user.is_authenticated:
        user = current_user.id
    if site is None and user not in (None, "-"):
        site = _site_codes(user)
    fields = {
        "event": event,
        "user": user,
        "username": username,
        "site": site,
        "addr": request.remote_addr,
        "path": request.path,
    }
    line = " ".join(
        f"{k}={_clean(v)}" for k, v in fields.items() if k != "username" or v is not None
    )
    current_app.logger.warning("security %s", line)


def _log_refusals(resp):
    if request.endpoint in _STATIC_ENDPOINTS:
        return resp
    if resp.status_code == 403:
        log_event("forbidden")
    elif resp.status_code == 404:
        log_event("not_found")
    return resp


# ------------------------------------------------------------------ theme without web fonts

_SWATCH_CSS = {}


def swatch_css(swatch):
    """Bootswatch's CSS minus its Google Fonts @import: the CSP forbids it, and the site is
    unreachable from mainland China (each page would wait for it to time out)."""
    if not re.fullmatch(r"[a-z]+", swatch):
        abort(404)
    if swatch not in _SWATCH_CSS:
        path = os.path.join(
            os.path.dirname(flask_admin.__file__),
            "static",
            "bootstrap",
            "bootstrap4",
            "swatch",
            swatch,
            "bootstrap.min.css",
        )
        if not os.path.exists(path):
            abort(404)
        with open(path, encoding="utf-8") as fh:
            _SWATCH_CSS[swatch] = re.sub(r"@import url\([^)]*\);", "", fh.read())
    resp = current_app.response_class(_SWATCH_CSS[swatch], mimetype="text/css")
    resp.cache_control.public = True
    resp.cache_control.max_age = 3600
    return resp


def static_version(endpoint, values):
    """``url_for("static", filename=…)`` gets ``v=`` a hash of the file's bytes: the address
    changes when the file does (a deploy), and is the same on every worker and server. Read on
    each call: the files are a few kilobytes, and nothing then needs to be kept up to date.
    Flask-Admin's own files get one too where its templates give none."""
    if endpoint not in _VERSIONED_ENDPOINTS or "v" in values or not values.get("filename"):
        return
    if endpoint == "static":
        folder = current_app.static_folder
    else:
        folder = current_app.blueprints[endpoint.rsplit(".", 1)[0]].static_folder
    path = os.path.join(folder, values["filename"])
    try:
        with open(path, "rb") as fh:
            values["v"] = hashlib.sha256(fh.read()).hexdigest()[:12]
    except OSError:
        pass  # a missing file answers 404 with or without a version


def refuse_nul():
    """A NUL character is never text a person typed, and PostgreSQL cannot store it: 400."""
    if request.method == "POST" and any("\x00" in v for v in request.form.values()):
        log_event("nul_in_form")
        abort(400)


def init_app(app):
    # More specific than Flask-Admin's /static/admin/<path:filename>, so it wins for these files.
    app.add_url_rule(
        "/static/admin/bootstrap/bootstrap4/swatch/<swatch>/bootstrap.min.css",
        "swatch_css",
        swatch_css,
    )
    app.config.setdefault("IDLE_TIMEOUT_MINUTES", 480)
    app.config.setdefault("ADMIN_IDLE_TIMEOUT_MINUTES", 60)
    # The session cookie carries the last-seen time; the remember-me cookie is never issued.
    app.before_request(check_idle)
    app.before_request(refuse_nul)
    app.after_request(_log_refusals)
    app.after_request(set_headers)
    app.url_defaults(static_version)
