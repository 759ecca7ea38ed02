"""Handover book rules: write, sign, carry an item forward, close it, comment, item history.

Who signs: someone on the next shift of the entry's post (the roster says who); a clerk alone
on her post confirms her own entry at the start of her next shift (``signable_entries``).

"Signed = read-only" is enforced here, below every route: a ``before_flush`` listener
refuses any change to a signed entry (or to the text of its items) and its deletion.
"""

from functools import cache

from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import and_, bindparam, event, exists, false, func, inspect, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm import Session, joinedload

from portal.errors import DomainError
from portal.extensions import db
from portal.models.handover import HandoverComment, HandoverEntry, HandoverItem
from portal.models.org import StaffMember
from portal.models.roster import Shift
from portal.services import audit
from portal.services import photos as photo_service

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
# Photos of an entry are ``Photo`` rows of this owner type (the shared upload path).
PHOTO_OWNER = "handover_entry"


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
    photos=(),
):
    """A new unsigned entry with its items; items carried forward at this site join it.
    ``photos``: uploads already checked (``photos.inspect_all``), stored with the entry."""
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
    if photos:
        add_photos(entry, author, photos)
    return entry


def add_photos(entry, user, prepared):
    """Photos join an entry while it is unsigned; once taken over it is read-only."""
    if entry.is_signed:
        raise DomainError(
            _l("This entry is signed and can no longer be changed; add a comment instead."),
            status=409,
        )
    db.session.flush()  # the entry's id names the photos' owner
    stored = [photo_service.store(p, entry.site, PHOTO_OWNER, entry.id, user) for p in prepared]
    if stored:
        audit.record("add_photos", entry, summary=f"{entry} (+{len(stored)})")
    return stored


def entry_photos(entry):
    return photo_service.photos_of(PHOTO_OWNER, entry.id)


def _can_read_photo(entry_id, user):
    """An entry's photos are read by the book's readers who can see the entry itself (the site
    scope and the soft delete apply through the session)."""
    return user.role in SIGNING_ROLES and db.session.get(HandoverEntry, entry_id) is not None


photo_service.register_owner(PHOTO_OWNER, _can_read_photo)


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
    """Take the entry over: someone on the next shift of its post signs it; the author alone on
    her post confirms it herself from the start of her own next shift (recorded as the
    author's signature, shown and audited as a self-confirmation)."""
    when = at or clock.now()
    if entry.is_signed:
        raise DomainError(_l("This entry is already signed."))
    allowed = db.session.scalar(
        select(HandoverEntry.id).where(
            HandoverEntry.id == entry.id, HandoverEntry.id.in_(signable_entries(user, when))
        )
    )
    if allowed is None:
        raise _why_not(entry, user, when)
    entry.signed_by = user
    entry.signed_at = when
    db.session.flush()
    if entry.is_self_confirmed:
        audit.record("confirm_self", entry, summary=str(entry))
    else:
        audit.record("sign", entry, summary=str(entry))
    return entry


def _next_start(site_id, post, after):
    """When the next shift of ``post`` starts after ``after`` (a correlated scalar when the
    arguments are columns)."""
    return (
        select(func.min(Shift.starts_at))
        .where(
            Shift.site_id == site_id,
            Shift.post == post,
            Shift.starts_at > after,
            Shift.deleted_at.is_(None),
        )
        # Nested two levels deep in ``signable_entries``: say outright that the entry is the
        # enclosing query's (automatic correlation looks one level up only).
        .correlate_except(Shift)
        .scalar_subquery()
    )


def next_shift_people(entry):
    """The shifts that take the entry's post over: those of that post starting first after the
    entry was written (people who start together share the next shift)."""
    stmt = (
        select(Shift)
        .options(joinedload(Shift.staff_member))
        .where(
            Shift.site_id == entry.site_id,
            Shift.post == entry.post,
            Shift.deleted_at.is_(None),
            Shift.starts_at == _next_start(entry.site_id, entry.post, entry.written_at),
        )
        .order_by(Shift.id)
    )
    return db.session.scalars(stmt).all()


def _why_not(entry, user, at):
    """The refusal that says why ``user`` may not sign ``entry`` at ``at``."""
    if user.role not in SIGNING_ROLES:
        return DomainError(_l("Your role cannot sign the handover book."), status=403)
    shifts = next_shift_people(entry)
    others = [s for s in shifts if s.staff_member.user_id not in (None, entry.author_id)]
    if entry.author_id == user.id:
        if others:
            return DomainError(
                _l("The next shift of this post signs the entry, not its author."), status=403
            )
        return DomainError(
            _l(
                "You are the only one on this post: confirm the entry yourself at the start "
                "of your next shift, not during the shift you wrote it in."
            ),
            status=409,
        )
    mine = [s for s in others if s.staff_member.user_id == user.id]
    if mine:
        return DomainError(_l("Sign the entry once your shift has started."), status=409)
    return DomainError(
        _l("Only someone on the next shift of this post signs the entry."), status=403
    )


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


# Aliased: the select is used inside queries of HandoverEntry (``id.in_(...)``), which would
# otherwise correlate its FROM away. Made once: an alias builds a copy of every column of its
# table, and the navbar asks for these entries on every page (5 ms a page when made per call).
_SIGNABLE_ALIASES = (
    aliased(HandoverEntry, name="signable_entry"),
    aliased(Shift, name="next_shift"),
    aliased(StaffMember, name="next_shift_person"),
    aliased(Shift, name="own_shift"),
    aliased(StaffMember, name="own_shift_person"),
)


def signable_entries(user, at=None):
    """A Select of HandoverEntry.id the user may sign or confirm now.

    Unsigned entries whose post's next shift (the shifts of that post starting first after the
    entry was written) has the user on it, started by ``at``, when the user is not the author;
    or, the author's own entry when nobody else with a login is on that next shift (she is
    alone on her post), from the start of her own next shift at the site. ``user.id`` and ``at``
    may be bound parameters (``waiting`` builds its statement once)."""
    if at is None:
        at = clock.now()
    if user.role not in SIGNING_ROLES:
        return select(HandoverEntry.id).where(false())
    entry, taker, person, own, me = _SIGNABLE_ALIASES
    on_next_shift = (
        select(taker.id)
        .join(person, taker.staff_member_id == person.id)
        .where(
            taker.site_id == entry.site_id,
            taker.post == entry.post,
            taker.deleted_at.is_(None),
            taker.starts_at == _next_start(entry.site_id, entry.post, entry.written_at),
        )
    )
    someone_else_takes_over = exists(
        on_next_shift.where(person.user_id.is_not(None), person.user_id != entry.author_id)
    )
    i_take_over = exists(on_next_shift.where(person.user_id == user.id, taker.starts_at <= at))
    my_next_shift_started = exists(
        select(own.id)
        .join(me, own.staff_member_id == me.id)
        .where(
            me.user_id == user.id,
            own.site_id == entry.site_id,
            own.deleted_at.is_(None),
            own.starts_at > entry.written_at,
            own.starts_at <= at,
        )
    )
    return select(entry.id).where(
        entry.signed_at.is_(None),
        or_(
            and_(entry.author_id != user.id, i_take_over),
            and_(entry.author_id == user.id, ~someone_else_takes_over, my_next_shift_started),
        ),
    )
