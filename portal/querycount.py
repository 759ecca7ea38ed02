"""``X-Query-Count`` on every response: how many SQL statements the request sent.

For the benchmark (config ``QUERY_COUNT_HEADER``); off in normal operation. Counts in
``flask.g``, which is per request (each request pushes its own app context).
"""

from flask import g, has_app_context
from sqlalchemy import event

from portal.extensions import db


def init_app(app):
    if not app.config.get("QUERY_COUNT_HEADER"):
        return
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        if has_app_context():
            g.query_count = g.get("query_count", 0) + 1

    @app.after_request
    def _header(resp):
        resp.headers["X-Query-Count"] = str(g.get("query_count", 0))
        return resp
