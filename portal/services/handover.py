"""Handover book rules: write, sign, carry an item forward, close it, comment, item history.

"Signed = read-only" is enforced here, below every route: a ``before_flush`` listener
refuses any change to a signed entry (or to the text of its items) and its deletion.
"""

from functools import cache

from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import bindparam, event, inspect, or_, select
from sqlalchemy.orm import Session, joinedload

from portal.errors import DomainError
from portal.extensions import db
from portal.models.handover import HandoverComment, HandoverEntry, HandoverItem
from portal.services import audit

# Item fields the workflow may still change after its entry is signed.
ITEM_WORKFLOW_FIELDS = {
    "status",
    "carried_by_id",
    "carried_at",
    "closed_by_id",
    "closed_at",
    "close_note",
    "updated_at",
    "updated_by_id",
}
SIGNING_ROLES = frozenset({"admin", "supervisor", "clerk", "security"})


def _item_entry_signed(session, item):
    """Is the entry the item belongs (or belonged, before this change) to signed?"""
    hist = inspect(item).attrs.entry_id.history
    ids = {i for i in list(hist.deleted) + list(hist.unchanged) if i is not None}
    if item.entry is not None and item.entry.signed_at is not None:
        return True
    with session.no_autoflush:
        return any(
            session.get(HandoverEntry, i).signed_at is not None
            for i in ids
            if session.get(HandoverEntry, i)
        )


def _was_signed(entry):
    hist = inspect(entry).attrs.signed_at.history
    if hist.deleted or hist.unchanged:
        return (hist.deleted or hist.unchanged)[0] is not None
    if entry.id is None:
        return False
    # Not loaded: ask the database what is committed.
    stmt = (
        select(HandoverEntry.signed_at)
        .where(HandoverEntry.id == entry.id)
        .execution_options(bypass_scope=True)
    )
    return db.session.execute(stmt).scalar() is not None


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_signed(session, flush_context, instances):
    for obj in session.dirty:
        if isinstance(obj, HandoverEntry) and session.is_modified(obj, include_collections=False):
            if _was_signed(obj):
                raise DomainError(
                    _l("This entry is signed and can no longer be changed; add a comment instead."),
                    status=409,
                )
        elif isinstance(obj, HandoverItem) and session.is_modified(obj, include_collections=False):
            state = inspect(obj)
            changed = {
                c.key for c in state.mapper.column_attrs if state.attrs[c.key].history.has_changes()
            }
            if changed - ITEM_WORKFLOW_FIELDS and _item_entry_signed(session, obj):
                raise DomainError(
                    _l("This entry is signed and can no longer be changed; add a comment instead."),
                    status=409,
                )
    for obj in session.new:
        # Adding an item to a signed entry changes it too.
        if (
            isinstance(obj, HandoverItem)
            and obj.entry is not None
            and obj.entry.signed_at is not None
            and obj.entry.id is not None
            and _was_signed(obj.entry)
        ):
            raise DomainError(
                _l("This entry is signed and can no longer be changed; add a comment instead."),
                status=409,
            )
    for obj in session.deleted:
        if isinstance(obj, HandoverEntry) and _was_signed(obj):
            raise DomainError(_l("A signed entry cannot be deleted."), status=409)
        if isinstance(obj, (HandoverItem, HandoverComment)):
            entry = obj.entry
            if entry is not None and entry.signed_at is not None:
                raise DomainError(_l("A signed entry cannot be deleted."), status=409)


def write_entry(
    site,
    author,
    text,
    items=(),
    post="reception",
    outgoing_shift=None,
    incoming_shift=None,
    at=None,
):
    """A new unsigned entry with its items; items carried forward at this site join it."""
    text = (text or "").strip()
    if not text:
        raise DomainError(_l("Write what the next shift needs to know."))
    entry = HandoverEntry(
        site=site,
        post=post,
        author=author,
        text=text,
        written_at=at or clock.now(),
        outgoing_shift=outgoing_shift,
        incoming_shift=incoming_shift,
    )
    db.session.add(entry)
    for line in items:
        if line and line.strip():
            entry.items.append(HandoverItem(site=site, text=line.strip()[:500]))
    for waiting in pending_items(site):
        waiting.entry = entry
    return entry


def pending_items(site):
    """Items carried forward that wait for the next entry of the site."""
    stmt = (
        select(HandoverItem)
        .where(
            HandoverItem.site_id == site.id,
            HandoverItem.entry_id.is_(None),
            HandoverItem.status == "open",
        )
        .order_by(HandoverItem.id)
    )
    return db.session.scalars(stmt).all()


def sign(entry, user, at=None):
    """The next shift acknowledges the entry (by / at). The author cannot sign her own entry."""
    if user.role not in SIGNING_ROLES:
        raise DomainError(_l("Your role cannot sign the handover book."))
    if entry.is_signed:
        raise DomainError(_l("This entry is already signed."))
    if entry.author_id == user.id:
        raise DomainError(_l("The next shift signs the entry, not its author."))
    entry.signed_by = user
    entry.signed_at = at or clock.now()
    db.session.flush()
    audit.record("sign", entry, summary=str(entry))
    return entry


def carry_forward(item, user, at=None):
    """Hand an open item on to the next shift: this link is marked carried and a new open
    link (same chain) waits for the next entry of the site."""
    if user.role not in SIGNING_ROLES:
        raise DomainError(_l("Your role cannot change the handover book."))
    if item.status != "open" or item.entry_id is None:
        raise DomainError(_l("Only an open item of an entry can be carried forward."))
    when = at or clock.now()
    item.status, item.carried_by, item.carried_at = "carried", user, when
    nxt = HandoverItem(
        site_id=item.site_id, text=item.text, root_id=item.chain_id, previous_id=item.id
    )
    db.session.add(nxt)
    db.session.flush()
    audit.record("carry", item, summary=item.text[:200])
    return nxt


def close_item(item, user, note, at=None):
    note = (note or "").strip()
    if user.role not in SIGNING_ROLES:
        raise DomainError(_l("Your role cannot change the handover book."))
    if item.status != "open":
        raise DomainError(_l("Only an open item can be closed."))
    if not note:
        raise DomainError(_l("Say how the item was settled."))
    item.status, item.closed_by, item.closed_at, item.close_note = (
        "closed",
        user,
        at or clock.now(),
        note[:500],
    )
    db.session.flush()
    audit.record("close", item, summary=note[:200])
    return item


def comment(entry, user, text):
    text = (text or "").strip()
    if not text:
        raise DomainError(_l("The comment is empty."))
    c = HandoverComment(site_id=entry.site_id, entry=entry, author=user, text=text)
    db.session.add(c)
    return c


def item_history(item):
    """Every link of the item's chain across shifts, oldest first, with entries and people."""
    root = item.chain_id
    stmt = (
        select(HandoverItem)
        .options(
            joinedload(HandoverItem.entry).joinedload(HandoverEntry.author),
            joinedload(HandoverItem.entry).joinedload(HandoverEntry.signed_by),
            joinedload(HandoverItem.carried_by),
            joinedload(HandoverItem.closed_by),
        )
        .where((HandoverItem.id == root) | (HandoverItem.root_id == root))
        .order_by(HandoverItem.id)
    )
    return db.session.scalars(stmt).unique().all()


def unsigned_entries(site, limit=20):
    return db.session.scalars(_unsigned_stmt(limit), {"site_id": site.id}).all()


@cache  # built once, run with parameters (HACKING.md, "Statements built once")
def _unsigned_stmt(limit):
    return (
        select(HandoverEntry)
        .options(joinedload(HandoverEntry.author))
        .where(HandoverEntry.site_id == bindparam("site_id"), HandoverEntry.signed_at.is_(None))
        .order_by(HandoverEntry.written_at.desc())
        .limit(limit)
    )


def open_items(site, limit=50):
    """Open items of the site: on live entries, or carried and waiting for the next entry."""
    return db.session.scalars(_open_items_stmt(limit), {"site_id": site.id}).all()


@cache  # built once, run with parameters (HACKING.md, "Statements built once")
def _open_items_stmt(limit):
    return (
        select(HandoverItem)
        .outerjoin(HandoverItem.entry)
        .where(
            HandoverItem.site_id == bindparam("site_id"),
            HandoverItem.status == "open",
            # The scope hides deleted entries in the join, so a live entry is one that joined.
            or_(HandoverItem.entry_id.is_(None), HandoverEntry.id.is_not(None)),
        )
        .order_by(HandoverItem.id)
        .limit(limit)
    )


def check_correction(entry, user):
    """An unsigned entry may be corrected by its author or a supervisor; a signed one by nobody."""
    if entry.is_signed:
        raise DomainError(
            _l("This entry is signed and can no longer be changed; add a comment instead."),
            status=409,
        )
    if entry.author_id != user.id and user.role not in ("admin", "supervisor"):
        raise DomainError(_l("Only the author or a supervisor corrects an unsigned entry."))


def signable_entries(user, at=None):
    """A Select of HandoverEntry.id the user may sign or confirm now."""
    # ``at`` is part of the shared signature; signing is not bound to a time under this rule.
    if user.role not in SIGNING_ROLES:
        return select(HandoverEntry.id).where(False)
    # The site scope, applied when the select runs, keeps it to the user's sites.
    return select(HandoverEntry.id).where(
        HandoverEntry.signed_at.is_(None), HandoverEntry.author_id != user.id
    )
