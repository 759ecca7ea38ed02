"""Audit events a test writes with fields of its choosing (a past time, another site), sealed in
their site's hash chain as the application seals its own: the database holds no unsealed row."""

from datetime import datetime, timezone

from sqlalchemy import insert

from portal.models import AuditEvent
from portal.services import audit


def add_event(session, **fields):
    """Insert one event in the session's transaction (committed with it); returns its id."""
    row = {"at": datetime.now(timezone.utc), "site_id": None, "action": "update", **fields}
    heads = {row["site_id"]: audit.chain_head(session.connection(), row["site_id"])}
    return session.execute(
        insert(AuditEvent).values(audit.seal(row, heads)).returning(AuditEvent.id)
    ).scalar_one()
