"""Count the SQL statements a block of code sends (to assert there is no N+1)."""

from contextlib import contextmanager

from sqlalchemy import event

from portal.extensions import db


class _Counter:
    def __init__(self):
        self.count = 0
        self.statements = []


@contextmanager
def count_queries(app):
    counter = _Counter()
    with app.app_context():
        engine = db.engine

    def _before(conn, cursor, statement, parameters, context, executemany):
        counter.count += 1
        counter.statements.append(statement)

    event.listen(engine, "before_cursor_execute", _before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", _before)
