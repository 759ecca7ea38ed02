"""Friendly error pages in the user's language, with an error id the log also has."""

import uuid

from flask import current_app, g, render_template, request
from portal.i18n import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from portal.errors import DomainError
from portal.extensions import db
from portal.security import log_event
from werkzeug.exceptions import HTTPException
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from portal.views.base import STALE_MESSAGE

MESSAGES = {
    400: _l("The request could not be processed. Please check what you entered and try again."),
    403: _l("You do not have permission to do this."),
    404: _l("The page or record you asked for does not exist."),
    405: _l("This action is not allowed here."),
    413: _l("The file is too large."),
    429: _l("Too many attempts. Please wait a few minutes and try again."),
    500: _l(
        "Something went wrong on our side. Please try again; if it happens again, tell head office."
    ),
    503: _l("The service is temporarily unavailable. Please try again in a moment."),
}


def _page(code, message=None):
    error_id = uuid.uuid4().hex[:10]
    if code >= 500:
        current_app.logger.exception("error_id=%s path=%s", error_id, request.path)
    return render_template(
        "errors/error.html",
        code=code,
        message=message or MESSAGES.get(code, MESSAGES[500]),
        error_id=error_id,
    ), code


def register(app):
    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, lambda e, code=code: _page(code))

    @app.errorhandler(CSRFError)
    def _csrf(e):
        log_event("csrf_failure")
        return _page(
            400,
            _l(
                "The form has expired or was not sent from this site. Reload the page and try again."
            ),
        )

    @app.errorhandler(DomainError)
    def _refused(e):
        # A service's refusal no page caught: the error page with its message and status.
        db.session.rollback()
        return _page(e.status, e.message)

    @app.errorhandler(500)
    def _server_error(e):
        db.session.rollback()
        return _page(500)

    @app.errorhandler(Exception)
    def _unhandled(e):
        if isinstance(e, HTTPException):
            return e
        db.session.rollback()

        if isinstance(e, StaleDataError):
            # A workflow page saved a versioned record someone changed meanwhile: a conflict, not a crash.
            return _page(409, STALE_MESSAGE)

        if isinstance(e, OperationalError):
            # The database is unreachable: render the page as a visitor, or loading the user again
            # (locale, menu, headers) would raise once more and end in a bare traceback page.
            g._login_user = current_app.login_manager.anonymous_user()
            return _page(503)
        return _page(500)
