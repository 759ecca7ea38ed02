"""The site scope: the one place that decides which rows a user may read or write.

Every ORM query run in a session whose scope is set gets, for each model that defines
``scope_criteria(site_ids)``, that criterion added (``with_loader_criteria``) — lists,
counts, ``session.get``, relationship loads, ajax lookups, exports and aggregates
alike. Soft-deleted rows are filtered the same way. Before a flush, every new or
changed row and every row it points at must be inside the scope, so a forged
``site_id`` or foreign id is refused on the server.

Requests activate the scope of the logged-in user; CLI commands and services run
unscoped (system context) unless they activate one. Code that must read outside the
scope (the login form looking up a username) says so with
``execution_options(bypass_scope=True)``.
"""
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, with_loader_criteria

from portal.extensions import db
from portal.models.base import SiteScopedMixin, SoftDeleteMixin

SCOPE_KEY = "site_scope"


class ScopeViolation(Exception):
    """A write touched a row outside the user's sites."""


@dataclass(frozen=True)
class SiteScope:
    """The sites a user may see; ``site_ids is None`` means every site (head office)."""

    site_ids: frozenset | None
    user_id: int | None = None

    @property
    def is_global(self):
        return self.site_ids is None

    def allows(self, site_id):
        return self.is_global or site_id in self.site_ids


NOTHING = SiteScope(frozenset())


def scope_for_user(user):
    """Admin: all sites; supervisor: every site of his regions plus his own; others: their sites."""
    from portal.models import Site

    if user is None or not getattr(user, "is_authenticated", False):
        return NOTHING
    if user.role == "admin":
        return SiteScope(None, user.id)
    ids = {s.id for s in user.sites}
    if user.role == "supervisor" and user.regions:
        region_ids = [r.id for r in user.regions]
        stmt = select(Site.id).where(Site.region_id.in_(region_ids))
        ids |= set(db.session.execute(stmt.execution_options(bypass_scope=True)).scalars())
    return SiteScope(frozenset(ids), user.id)


def activate(scope, session=None):
    (session or db.session).info[SCOPE_KEY] = scope


def deactivate(session=None):
    (session or db.session).info.pop(SCOPE_KEY, None)


def current_scope(session=None):
    return (session or db.session).info.get(SCOPE_KEY)


def scoped_models():
    """Every mapped class that holds site data (defines ``scope_criteria``)."""
    return [m.class_ for m in db.Model.registry.mappers if hasattr(m.class_, "scope_criteria")]


def _soft_deletable_models():
    return [m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, SoftDeleteMixin)]


@event.listens_for(Session, "do_orm_execute")
def _apply_scope(state):
    if not state.is_select or state.is_column_load:
        return
    if state.execution_options.get("bypass_scope"):
        return
    scope = state.session.info.get(SCOPE_KEY)
    ids = None if scope is None or scope.is_global else (tuple(sorted(scope.site_ids)) or (-1,))
    options = _scope_options(ids, bool(state.execution_options.get("include_deleted")))
    if options:
        state.statement = state.statement.options(*options)


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
        options.append(with_loader_criteria(SoftDeleteMixin, lambda cls: cls.deleted_at.is_(None),
                                            include_aliases=True))
    if site_ids is not None:
        options.append(with_loader_criteria(SiteScopedMixin, lambda cls: cls.site_id.in_(site_ids),
                                            include_aliases=True))
        options += [with_loader_criteria(m, lambda cls: cls.scope_criteria(site_ids), include_aliases=True)
                    for m in scoped_models() if not _uses_site_column_rule(m)]
    return tuple(options)


def _uses_site_column_rule(model):
    """True when the model's rule is SiteScopedMixin's own ``site_id IN (...)``."""
    return issubclass(model, SiteScopedMixin) and model.scope_criteria.__func__ is SiteScopedMixin.scope_criteria.__func__


@event.listens_for(Session, "before_flush")
def _check_writes(session, flush_context, instances):
    scope = session.info.get(SCOPE_KEY)
    if scope is None or scope.is_global:
        return
    for obj in list(session.new) + list(session.dirty):
        if not hasattr(type(obj), "scope_criteria"):
            continue
        site_id = getattr(obj, "site_id", None)
        if site_id is None and getattr(obj, "site", None) is not None:
            site_id = obj.site.id
        if "site_id" in inspect(type(obj)).columns and not scope.allows(site_id):
            raise ScopeViolation(f"{type(obj).__name__}: site {site_id} is outside the scope")
        _check_references(session, obj)
    for obj in session.deleted:
        if hasattr(type(obj), "site_id") and not scope.allows(obj.site_id):
            raise ScopeViolation(f"{type(obj).__name__}: delete outside the scope")


def _check_references(session, obj):
    """Every many-to-one target of a scoped row must itself be readable in the scope."""
    mapper = inspect(type(obj))
    for rel in mapper.relationships:
        if rel.direction.name != "MANYTOONE" or rel.viewonly:
            continue
        target = rel.mapper.class_
        if not hasattr(target, "scope_criteria"):
            continue
        (local_col,) = [c for c, _ in rel.local_remote_pairs]
        value = getattr(obj, rel.key)
        ref_id = value.id if value is not None else getattr(obj, mapper.get_property_by_column(local_col).key)
        if ref_id is None:
            continue
        with session.no_autoflush:
            found = session.execute(select(target.id).where(target.id == ref_id)).first()
        if found is None:
            raise ScopeViolation(f"{type(obj).__name__}.{rel.key}: {target.__name__} {ref_id} is outside the scope")
