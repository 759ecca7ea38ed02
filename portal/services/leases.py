"""A few slow reports at a time per user, whatever worker or server answers.

A PDF or an export costs seconds of CPU; one user firing dozens at once would hold every
worker. Each user has ``REPORT_LEASES_PER_USER`` slots, rows of ``report_lease`` keyed by
(user, slot), so every gunicorn worker and every server sharing the database sees the
same slots. Taking a slot is one atomic upsert: it inserts the row, or takes it over only
if its lease has expired (the worker holding it died), so two requests never share a slot.
Leases are written in their own short transaction, outside the request's session: other
workers see them at once, and a request that rolls back never loses its release.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from portal import clock
from portal.extensions import db
from portal.models.leases import ReportLease

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class Busy(Exception):
    """Every slot of the user is taken; try again in ``retry_after`` seconds."""

    def __init__(self, retry_after):
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Lease:
    engine: object
    user_id: int
    slot: int
    token: str

    def release(self):
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    delete(ReportLease).where(
                        ReportLease.user_id == self.user_id,
                        ReportLease.slot == self.slot,
                        ReportLease.token == self.token,
                    )
                )  # not a slot taken over after expiry
        except SQLAlchemyError:
            # The lease expires by itself; the report's own outcome matters more.
            current_app.logger.warning(
                "could not release report lease of user %s", self.user_id, exc_info=True
            )


def acquire(user_id):
    """A free slot of the user's, or ``Busy``."""
    config = current_app.config
    now = clock.now()
    token = uuid.uuid4().hex
    engine = db.engine
    insert = _INSERTS[engine.dialect.name]
    table = ReportLease.__table__
    for slot in range(config["REPORT_LEASES_PER_USER"]):
        values = {
            "user_id": user_id,
            "slot": slot,
            "token": token,
            "expires_at": now + timedelta(seconds=config["REPORT_LEASE_SECONDS"]),
        }
        stmt = insert(table).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.user_id, table.c.slot],
            set_={"token": stmt.excluded.token, "expires_at": stmt.excluded.expires_at},
            where=table.c.expires_at < now,
        ).returning(table.c.token)
        with engine.begin() as conn:
            # A row comes back only if this statement inserted or took over the slot.
            if conn.execute(stmt).scalar() == token:
                return Lease(engine, user_id, slot, token)
    raise Busy(config["REPORT_RETRY_AFTER_SECONDS"])
