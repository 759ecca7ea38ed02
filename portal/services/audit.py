"""Audit trail written automatically for every create / update / delete of our models.

A listener on the session turns each flushed change into an ``audit_event`` row in the
same transaction, so a rolled-back change leaves no audit row and a committed one
always has one. Services call ``record`` for events that are not a plain row change
(login, sign, export…).
"""

import hashlib
import json
from datetime import date, datetime, time, timezone
from decimal import Decimal
from functools import cache

from sqlalchemy import event, func, insert, inspect, select, text, union_all
from sqlalchemy.orm import Session

from portal import clock
from portal.extensions import db
from portal.models.audit import CHANGES_ONLY, AuditEvent
from portal.models.base import current_actor_id
from flask import has_request_context, request
from portal.models import Site

# Never copied into the trail.
SECRET_FIELDS = {"password_hash", "session_token"}
# Bookkeeping that changes on every save and says nothing.
NOISE_FIELDS = {"updated_at", "updated_by_id", "created_at", "created_by_id", "version"}


def _plain(value):
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _is_audited(obj):
    return not isinstance(obj, AuditEvent) and getattr(type(obj), "__audited__", True)


def _columns(obj):
    return [a for a in inspect(type(obj)).column_attrs if a.key not in SECRET_FIELDS]


def _snapshot(obj):
    return {a.key: _plain(getattr(obj, a.key)) for a in _columns(obj) if a.key not in NOISE_FIELDS}


def _changes(obj):
    state = inspect(obj)
    before, after = {}, {}
    for attr in _columns(obj):
        if attr.key in NOISE_FIELDS:
            continue
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            before[attr.key] = _plain(hist.deleted[0]) if hist.deleted else None
            after[attr.key] = _plain(hist.added[0]) if hist.added else None
    for key in _links(obj):
        hist = state.attrs[key].history
        if hist.has_changes():
            before[key] = _labels([*hist.unchanged, *hist.deleted])
            after[key] = _labels([*hist.unchanged, *hist.added])
    return before, after


def _links(obj):
    """Many-to-many collections (a user's sites and regions): their rows are link-table rows, not
    objects of ours, so no other event records a change to them."""
    relationships = inspect(type(obj)).relationships
    return [rel.key for rel in relationships if rel.secondary is not None and not rel.viewonly]


def _labels(objs):
    """The linked records as people read them ("SZ01 深圳湾售楼处", "华南区"), sorted."""
    return sorted(str(o) for o in objs)


def _loaded_links(obj):
    """The many-to-many collections already in memory, as lists of labels (reads nothing)."""
    loaded = inspect(obj).dict
    return {key: _labels(loaded[key]) for key in _links(obj) if key in loaded}


def _site_id(obj):
    if type(obj).__name__ == "Site":
        return obj.id
    return getattr(obj, "site_id", None) or getattr(getattr(obj, "audit_site", None), "id", None)


def _row(obj, action, before, after):
    return {
        "at": clock.now(),
        "user_id": current_actor_id.get(),
        "site_id": _site_id(obj),
        "action": action,
        "object_type": type(obj).__name__,
        "object_id": getattr(obj, "id", None),
        "summary": str(obj)[:255],
        "before": before,
        "after": after,
    }


@event.listens_for(Session, "before_flush")
def _collect(session, flush_context, instances):
    # History is gone after the flush, so the "before" side is read now.
    pending = session.info.setdefault("audit_pending", [])
    for obj in session.dirty:
        if _is_audited(obj) and session.is_modified(obj):
            before, after = _changes(obj)
            if not after:
                continue
            action = "update"
            if "deleted_at" in after:
                action = "delete" if after["deleted_at"] else "restore"
            elif "status" in after:
                action = "status"
            pending.append((obj, action, before, after))
    for obj in session.deleted:
        if _is_audited(obj):
            # The flush reads a deleted row's links anyway (to delete them): the trail keeps them.
            links = {key: _labels(getattr(obj, key)) for key in _links(obj)}
            pending.append((obj, "delete", {**_snapshot(obj), **links}, None))
    for obj in session.new:
        if _is_audited(obj):
            pending.append((obj, "create", None, None))


@event.listens_for(Session, "after_flush")
def _write(session, flush_context):
    pending = session.info.pop("audit_pending", [])
    rows = []
    for obj, action, before, after in pending:
        if action == "create":
            after = {**_snapshot(obj), **_loaded_links(obj)}  # ids and defaults are known only now
        rows.append(_row(obj, action, before, after))
    if rows:
        _insert_chained(session.connection(), rows)


@event.listens_for(Session, "after_rollback")
def _discard(session):
    session.info.pop("audit_pending", None)


def record(
    action, obj=None, *, object_type=None, site_id=None, summary=None, before=None, after=None
):
    """Write an event that is not a row change (login, sign, export…), in the current
    transaction. ``summary`` names the record; what changed goes in ``before``/``after`` as
    stored values, which the audit viewer shows in the reader's language."""
    row = {
        "at": clock.now(),
        "user_id": current_actor_id.get(),
        "site_id": site_id if site_id is not None else (_site_id(obj) if obj is not None else None),
        "action": action,
        "object_type": object_type or (type(obj).__name__ if obj is not None else "-"),
        "object_id": getattr(obj, "id", None),
        "summary": (summary or (str(obj) if obj is not None else ""))[:255],
        "before": before,
        "after": after,
    }
    _insert_chained(db.session.connection(), [row])


# ------------------------------------------------------------------ hash chain

CHAINED_FIELDS = (
    "at",
    "user_id",
    "site_id",
    "action",
    "object_type",
    "object_id",
    "summary",
    "before",
    "after",
)
_TABLE = AuditEvent.__table__


def latest_change(object_types):
    """Id of the newest audit event that changed records of these types (0 if none): a version
    number of those records, since every change to them writes an event in its own transaction
    (logins are not changes). Read past the site scope — events about users and regions have no
    site — and never shown; once per request."""
    memo = request.environ.setdefault("portal.latest_change", {}) if has_request_context() else {}
    key = tuple(sorted(object_types))
    if key not in memo:
        memo[key] = db.session.scalar(_latest_change_stmt(key)) or 0
    return memo[key]


@cache  # built once (HACKING.md, "Statements built once")
def _latest_change_stmt(object_types):
    # One newest id per type (an index lookup each), then the newest of those.
    newest = union_all(
        *(
            select(func.max(AuditEvent.id).label("id")).where(
                AuditEvent.object_type == object_type, CHANGES_ONLY
            )
            for object_type in object_types
        )
    ).subquery()
    return select(func.max(newest.c.id)).execution_options(bypass_scope=True)


def site_versions(site_ids):
    """{site_id: id of its latest audit event (0 if none)}: each site's *data version*, in one
    query (an index lookup per site), once per request; through the scope, so a site outside it
    has no version and nothing is ever kept for it.

    Exact and ordered by commit: every change to a site's records writes an event in the same
    transaction, and writers of one site's chain hold its lock until they commit
    (``_lock_chain``), so a later commit always has a higher id than every earlier one."""
    # On the request itself, not on ``g``: an app context may outlive several requests.
    memo = request.environ.setdefault("portal.site_versions", {}) if has_request_context() else {}
    key = tuple(sorted(site_ids))
    if key in memo:
        return memo[key]
    latest = (
        select(func.max(AuditEvent.id))
        .where(AuditEvent.site_id == Site.id)
        .correlate(Site)
        .scalar_subquery()
    )
    rows = db.session.execute(select(Site.id, latest).where(Site.id.in_(list(site_ids))))
    memo[key] = versions = {site_id: version or 0 for site_id, version in rows}
    return versions


def canonical(row):
    """The bytes a row's hash covers: its fields as canonical JSON, UTC times to the microsecond."""
    data = {}
    for key in CHAINED_FIELDS:
        value = row.get(key)
        if isinstance(value, datetime):
            value = value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        data[key] = value
    return json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode()


# What the first row of a chain points at: every row has a predecessor's hash.
GENESIS = "0" * 64


def chain_hash(prev_hash, row):
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(row)).hexdigest()


def _lock_chain(conn, site_id):
    """Serialise writers of one chain until the transaction ends, so no two rows share a parent."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(74110, :k)"), {"k": site_id or 0})
    elif conn.dialect.name == "sqlite":
        # A write statement takes SQLite's single write lock (waiting busy_timeout) before we read
        # the chain head; it matches no row, so the append-only trigger does not fire.
        conn.execute(text("DELETE FROM audit_event WHERE 0"))


def chain_head(conn, site_id):
    """The hash of the newest row of a site's chain: what the next row points at."""
    where = _TABLE.c.site_id.is_(None) if site_id is None else _TABLE.c.site_id == site_id
    last = select(func.max(_TABLE.c.id)).where(where).scalar_subquery()
    head = conn.execute(select(_TABLE.c.hash).where(_TABLE.c.id == last)).scalar()
    return GENESIS if head is None else head  # None: the chain has no row yet


def seal(row, heads):
    """Chain ``row`` to the head of its site in ``heads`` ({site_id: hash}) and make it the new
    head.

    The rows must then be inserted in the order they were sealed (ids follow the chain)."""
    row["prev_hash"] = heads[row["site_id"]]
    row["hash"] = heads[row["site_id"]] = chain_hash(row["prev_hash"], row)
    return row


def _insert_chained(conn, rows):
    """Insert audit rows in order, each sealed with the hash of its site's previous row."""
    heads = {}
    for site_id in sorted({r["site_id"] for r in rows}, key=lambda s: (s is not None, s or 0)):
        _lock_chain(conn, site_id)
        heads[site_id] = chain_head(conn, site_id)
    # One statement per row keeps ids in chain order on every database.
    for row in rows:
        conn.execute(insert(_TABLE), [seal(row, heads)])


def verify(conn):
    """Check every chain; returns None when intact, else ``(site_id, event_id, reason)`` of the
    first break."""
    heads = {}
    query = select(_TABLE).order_by(_TABLE.c.id).execution_options(yield_per=1000)
    for row in conn.execute(query).mappings():
        expected_prev = heads.get(row["site_id"], GENESIS)
        if row["prev_hash"] != expected_prev:
            return (
                row["site_id"],
                row["id"],
                "broken link (a row before it was changed, removed or inserted)",
            )
        if row["hash"] != chain_hash(row["prev_hash"], dict(row)):
            return (
                row["site_id"],
                row["id"],
                "content does not match its hash (the row was changed)",
            )
        heads[row["site_id"]] = row["hash"]
    return None
