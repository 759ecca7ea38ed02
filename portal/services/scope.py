"""The site scope: the one place that decides which rows a user may read or write.

Every ORM query run in a session whose scope is set gets, for each model that defines
``scope_criteria(site_ids)``, that criterion added (``with_loader_criteria``) — lists,
counts, ``session.get``, relationship loads, ajax lookups, exports and aggregates
alike. Soft-deleted rows are filtered the same way, except along a relationship marked
``info={"shows_hidden": True}`` (a past record's reference to what it was made from).

Reading is not writing. Before a flush, in a site scope (not head office's):

* a row with a site may be created, changed or deleted only when its site as stored *and*
  its new site are both in the scope (so nobody moves a row into, or out of, his sites);
* a row with no site — a record shared by every site (a head-office checklist template) —
  and the organisation's own rows (sites, regions, users), readable by many scopes but
  belonging to none, are head office's: refused, except a user's own account fields
  (``OWN_ACCOUNT_FIELDS``: password, language, sign-out);
* every row a new or changed row points at must be readable in the scope, so a forged
  foreign id is refused on the server.

**One exception, for a supervisor opening a site in his region** (``portal.services.site_copy``):
a new ``Site`` whose region is one of the scope's ``region_ids`` (a supervisor's own regions)
may be created, and ``widen_to(site)``, called after that site is flushed, adds that one new
site to the request's scope so its set-up rows can be written in the same transaction. Nothing
else is widened: existing sites, other regions and organisation rows stay refused.

``may_change(row)`` answers the same question for a view that must not offer an edit the
flush would refuse.

Requests activate the scope of the logged-in user; CLI commands and services run
unscoped (system context) unless they activate one. Code that must read outside the
scope (the login form looking up a username) says so with
``execution_options(bypass_scope=True)``. Code that must read soft-deleted rows (the recycle
bin, a past period's figures) uses ``including_deleted(stmt)``: still scoped to the sites.
"""

from dataclasses import dataclass, replace
from functools import lru_cache

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, with_loader_criteria

from portal.extensions import db
from portal.models.base import SiteScopedMixin, SoftDeleteMixin
from portal.models import Region, Site
from portal.models import User

SCOPE_KEY = "site_scope"


class ScopeViolation(Exception):
    """A write touched a row outside the user's sites."""


@dataclass(frozen=True)
class SiteScope:
    """The sites a user may see; ``site_ids is None`` means every site (head office)."""

    site_ids: frozenset | None
    user_id: int | None = None
    # Regions a new site may be created in by this scope (a supervisor's own; see ``widen_to``).
    region_ids: frozenset = frozenset()

    @property
    def is_global(self):
        return self.site_ids is None

    def allows(self, site_id):
        return self.is_global or site_id in self.site_ids


NOTHING = SiteScope(frozenset())


def scope_for_user(user):
    """Admin: all sites; supervisor: every site of his regions plus his own; others: their sites."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NOTHING
    if user.role == "admin":
        return SiteScope(None, user.id)
    ids = {s.id for s in user.sites}
    region_ids = frozenset()
    if user.role == "supervisor" and user.regions:
        region_ids = frozenset(r.id for r in user.regions)
        stmt = select(Site.id).where(Site.region_id.in_(region_ids))
        ids |= set(db.session.execute(stmt.execution_options(bypass_scope=True)).scalars())
    return SiteScope(frozenset(ids), user.id, region_ids)


def including_deleted(stmt):
    """``stmt`` reading soft-deleted rows too, still within the site scope: the sanctioned way for
    a past period's figures to see what existed then (a product withdrawn since, a ticket
    deleted since). Only the hiding is lifted — never the sites — so the query decides itself,
    with the row's ``deleted_at``, which deleted rows count (``period_facts.existed_at``)."""
    return stmt.execution_options(include_deleted=True)


# The sites created in this session under the region rule: the only ones ``widen_to`` accepts.
CREATED_SITES_KEY = "site_scope_created_sites"


def widen_to(site, session=None):
    """Add ``site`` — a site this session has just created and flushed under the region rule (a
    supervisor's new site in one of his regions) — to the session's scope, for the rest of the
    request, so the rows of its set-up can be written in the same transaction.

    Refused (``ScopeViolation``) for any other site: an existing one, one of another region, one
    not yet flushed. A head-office (global) or unscoped session needs nothing and is left alone.
    The next request computes its scope afresh (the new site is then in the region's sites)."""
    session = session or db.session
    scope = session.info.get(SCOPE_KEY)
    if scope is None or scope.is_global:
        return
    created = session.info.get(CREATED_SITES_KEY, ())
    state = inspect(site)
    if not any(s is site for s in created) or not state.persistent or site.id is None:
        raise ScopeViolation(f"widen to site {site.id}: not a site created in this request")
    activate(replace(scope, site_ids=scope.site_ids | {site.id}), session)


def activate(scope, session=None):
    (session or db.session).info[SCOPE_KEY] = scope


def deactivate(session=None):
    (session or db.session).info.pop(SCOPE_KEY, None)


def current_scope(session=None):
    return (session or db.session).info.get(SCOPE_KEY)


def scoped_models():
    """Every mapped class that holds site data (defines ``scope_criteria``)."""
    return [m.class_ for m in db.Model.registry.mappers if hasattr(m.class_, "scope_criteria")]


@event.listens_for(Session, "do_orm_execute")
def _apply_scope(state):
    if not state.is_select or state.is_column_load:
        return
    if state.execution_options.get("bypass_scope"):
        return
    scope = state.session.info.get(SCOPE_KEY)
    ids = None if scope is None or scope.is_global else (tuple(sorted(scope.site_ids)) or (-1,))
    include_deleted = bool(state.execution_options.get("include_deleted")) or _shows_hidden(state)
    options = _scope_options(ids, include_deleted)
    if options:
        state.statement = state.statement.options(*options)


def _shows_hidden(state):
    """A relationship load along a relationship marked ``info={"shows_hidden": True}``: a past
    record (a checklist run) still shows what it was made from after head office hid that
    (soft-deleted it). Only the hiding is lifted: the site scope applies as everywhere."""
    if not state.is_relationship_load:
        return False
    path = state.loader_strategy_path
    prop = getattr(path, "prop", None)
    return bool(prop is not None and prop.info.get("shows_hidden"))


@lru_cache(maxsize=1024)
def _scope_options(site_ids, include_deleted):
    """The loader criteria for one scope (``None``: every site), built once per scope and shared.

    Each criterion is part of every statement's cache key, so their number matters: one
    criterion on ``SoftDeleteMixin`` and one on ``SiteScopedMixin`` cover most models (the
    lambda is applied to each mapped subclass; ``site_ids`` becomes a bound parameter), and
    the few models with their own rule get one each. Lambdas, because SQLAlchemy caches their
    SQL by code location: a plain expression is walked again for every statement's cache key."""
    options = []
    if not include_deleted:
        # Not handed down to the relationship loads of the rows found: each of those passes
        # through here itself, so that one marked ``shows_hidden`` can leave it out.
        options.append(
            with_loader_criteria(
                SoftDeleteMixin,
                lambda cls: cls.deleted_at.is_(None),
                include_aliases=True,
                propagate_to_loaders=False,
            )
        )
    if site_ids is not None:
        options.append(
            with_loader_criteria(
                SiteScopedMixin, lambda cls: cls.site_id.in_(site_ids), include_aliases=True
            )
        )
        options += [
            with_loader_criteria(m, lambda cls: cls.scope_criteria(site_ids), include_aliases=True)
            for m in scoped_models()
            if not _uses_site_column_rule(m)
        ]
    return tuple(options)


def _uses_site_column_rule(model):
    """True when the model's rule is SiteScopedMixin's own ``site_id IN (...)``."""
    return (
        issubclass(model, SiteScopedMixin)
        and model.scope_criteria.__func__ is SiteScopedMixin.scope_criteria.__func__
    )


# What a user may change on his own account row: his password, his language, and signing out of
# every session (the token). Role, sites, regions and "active" are head office's to change.
OWN_ACCOUNT_FIELDS = frozenset({"password_hash", "session_token", "locale", "last_login_at"})
# Filled in by the ORM on every save.
_BOOKKEEPING = frozenset({"updated_at", "updated_by_id", "version"})


# First of every before-flush check: a write across the scope answers as if the row did not
# exist, before any domain rule (a signed entry, a closed tally) could say something about it.
@event.listens_for(Session, "before_flush", insert=True)
def _check_writes(session, flush_context, instances):
    scope = session.info.get(SCOPE_KEY)
    if scope is None or scope.is_global:
        return
    changes = (
        [(obj, "create") for obj in session.new]
        + [(obj, "update") for obj in session.dirty if session.is_modified(obj)]
        + [(obj, "delete") for obj in session.deleted]
    )
    for obj, change in changes:
        if not hasattr(type(obj), "scope_criteria"):
            continue
        if change == "create" and _new_site_in_own_region(scope, obj):
            session.info.setdefault(CREATED_SITES_KEY, []).append(obj)
            _check_references(session, obj, scope)
            continue
        refusal = _refusal(session, scope, obj, change)
        if refusal:
            raise ScopeViolation(f"{change} {type(obj).__name__} {_ident(obj)}: {refusal}")
        if change != "delete":
            _check_references(session, obj, scope)


def _new_site_in_own_region(scope, obj):
    """A new Site in one of the scope's ``region_ids``: the one organisation row a supervisor may
    create (the rule of ``widen_to``)."""
    if not isinstance(obj, Site) or not scope.region_ids:
        return False
    region = inspect(obj).dict.get("region")
    region_id = region.id if region is not None else obj.region_id
    return region_id is not None and region_id in scope.region_ids


def may_change(obj, session=None):
    """Whether the current scope may change or delete ``obj`` as it is stored: what the flush
    checks, asked before a view offers an edit or delete of it."""
    session = session or db.session
    scope = session.info.get(SCOPE_KEY)
    if scope is None or scope.is_global:
        return True
    return _refusal(session, scope, obj, "delete") is None


def _refusal(session, scope, obj, change):
    """Why ``scope`` may not make this change to ``obj`` (None: it may)."""
    if not _has_site_column(type(obj)):
        own_account = change == "update" and _is_own_account(scope, obj)
        if own_account and _changed_keys(obj) <= OWN_ACCOUNT_FIELDS:
            return None
        return "an organisation record; only head office changes it"
    if change != "create":
        stored = _stored_site_id(session, obj)
        if stored is _UNREADABLE:
            return "the stored row is outside the scope"
        if stored is None:
            return "a record shared by every site; only head office changes it"
        if not scope.allows(stored):
            return f"its site {stored} is outside the scope"
    if change != "delete":
        new = _new_site_id(obj)
        if not scope.allows(new):
            return f"site {new} is outside the scope"
    return None


_UNREADABLE = object()


def _has_site_column(model):
    return "site_id" in inspect(model).columns


def _ident(obj):
    identity = inspect(obj).identity
    return identity[0] if identity and len(identity) == 1 else identity


def _is_own_account(scope, obj):
    return isinstance(obj, User) and scope.user_id is not None and _ident(obj) == scope.user_id


def _changed_keys(obj):
    """Columns and relationships (collections too) changed since the row was loaded."""
    state = inspect(obj)
    return {attr.key for attr in state.attrs if attr.history.has_changes()} - _BOOKKEEPING


def _stored_site_id(session, obj):
    """The row's site as the database has it, before this flush (``_UNREADABLE`` if the scope
    cannot read the row at all)."""
    history = inspect(obj).attrs.site_id.history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    # Not loaded, or overwritten without its old value known: read it, through the scope.
    model = type(obj)
    mapper = inspect(model)
    identity = inspect(obj).identity
    where = [column == value for column, value in zip(mapper.primary_key, identity, strict=True)]
    stmt = select(model.site_id).where(*where).execution_options(include_deleted=True)
    with session.no_autoflush:
        row = session.execute(stmt).first()
    return _UNREADABLE if row is None else row[0]


def _new_site_id(obj):
    """The site the row will have after the flush: a changed ``site`` relationship is copied into
    ``site_id`` only during the flush, so it wins over the column."""
    mapper = inspect(type(obj))
    state = inspect(obj)
    site_column = mapper.columns["site_id"]
    for rel in mapper.relationships:
        if rel.direction.name != "MANYTOONE" or rel.viewonly:
            continue
        sets_site = any(c is site_column for c in rel.local_columns)
        if sets_site and state.attrs[rel.key].history.has_changes():
            target = getattr(obj, rel.key)
            return None if target is None else target.id
    return obj.site_id


def _check_references(session, obj, scope=None):
    """Every many-to-one target of a scoped row must itself be readable in the scope (a region
    of the scope's ``region_ids`` counts as readable: a new site may go into one with no site
    yet)."""
    mapper = inspect(type(obj))
    for rel in mapper.relationships:
        if rel.direction.name != "MANYTOONE" or rel.viewonly:
            continue
        target = rel.mapper.class_
        if not hasattr(target, "scope_criteria"):
            continue
        (local_col,) = [c for c, _ in rel.local_remote_pairs]
        value = getattr(obj, rel.key)
        ref_id = (
            value.id
            if value is not None
            else getattr(obj, mapper.get_property_by_column(local_col).key)
        )
        if ref_id is None:
            continue
        if target is Region and scope is not None and ref_id in scope.region_ids:
            continue
        with session.no_autoflush:
            found = session.execute(select(target.id).where(target.id == ref_id)).first()
        if found is None:
            raise ScopeViolation(
                f"{type(obj).__name__}.{rel.key}: {target.__name__} {ref_id} is outside the scope"
            )
