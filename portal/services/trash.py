"""The recycle bin (回收站): soft-deleted rows of every type, and putting them back.

Rows with ``SoftDeleteMixin`` are hidden everywhere by the site scope. Here they are read
through the same scope with ``include_deleted`` (never ``bypass_scope``): head office sees
every site's deleted rows, and a restore is an ordinary UPDATE of ``deleted_at`` that the
audit trail records as "restore" by itself. No HTTP here: the view shows the messages.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l, local_text
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.domains import collected, ref
from portal.errors import DomainError
from portal.extensions import db
from portal.models import SoftDeleteMixin, User
from portal.services import record_types

PAGE_SIZE = 25


def visit_label(visit):
    text = _(
        "Visit of %(time)s, %(n)s people",
        time=local_text(visit.arrived_at, visit.site),
        n=visit.headcount,
    )
    return f"{text} · {visit.notes}" if visit.notes else text


def handover_entry_label(entry):
    return f"{local_text(entry.written_at, entry.site)} {entry.text[:60]}"


# How a deleted row is named where ``str(row)`` is not readable enough (UTC times, codes): a
# domain names a function in its descriptor (``trash_labels=``); these two show site time.


def row_label(row):
    label = collected("trash_labels").get(type(row).__name__)
    return ref(label)(row) if label else str(row)


@dataclass(frozen=True)
class TrashRow:
    key: str  # record type (model class name, as in the audit trail)
    type_label: str
    id: int
    label: str
    site: object  # Site or None (a head-office record)
    deleted_at: datetime
    deleted_by: object  # User or None (deleted by a command or an unknown user)


def type_label(key):
    """A record type's name: declared in its domain's descriptor (``type_labels=``, types with no
    admin list of their own), else the menu name of the view listing it."""
    declared = collected("type_labels").get(key)
    return str(declared[0] if declared else record_types.label(key))


def _menu_position(key):
    """The place in the menu of the view listing the type, or of the page that stands for it."""
    declared = collected("type_labels").get(key)
    return record_types.position(key, page=declared[1] if declared else None)


def trash_types():
    """{record type: model} of every soft-deletable model, in the order of the menu."""
    models = [m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, SoftDeleteMixin)]
    return {
        m.__name__: m
        for m in sorted(models, key=lambda m: (_menu_position(m.__name__), m.__name__))
    }


def model_of(key):
    model = trash_types().get(key or "")
    if model is None:
        raise DomainError(_l("There is no record type of that name."), status=404)
    return model


def _deleted(model, site_id=None):
    stmt = select(model).where(model.deleted_at.is_not(None))
    if site_id is not None:
        stmt = stmt.where(model.site_id == site_id)
    return stmt.execution_options(include_deleted=True)


def counts(site_id=None):
    """{record type: number of deleted rows} (in scope, of one site if given); types with none
    are left out."""
    found = {}
    for key, model in trash_types().items():
        stmt = select(func.count()).select_from(model).where(model.deleted_at.is_not(None))
        if site_id is not None:
            stmt = stmt.where(model.site_id == site_id)
        n = db.session.execute(stmt.execution_options(include_deleted=True)).scalar()
        if n:
            found[key] = n
    return found


def deleted_rows(key=None, site_id=None, page=0, per_page=None, keys=None):
    """One page of deleted rows, newest deletion first: ``(rows, more)``.

    ``key`` limits to one record type; otherwise the types in ``keys`` (default: all) are
    merged. Each type is one query (the row, its site, what its label needs) plus one query
    for the people who deleted them, whatever the page size.
    """
    per_page = per_page or PAGE_SIZE
    types = trash_types()
    chosen = [model_of(key)] if key else [types[k] for k in (keys if keys is not None else types)]
    wanted = (page + 1) * per_page + 1
    found = []
    # Relations a row's label reads, loaded with the row instead of one query each.
    loads = collected("trash_loads")
    for model in chosen:
        options = [joinedload(model.site)] + [
            joinedload(getattr(model, rel)) for rel in loads.get(model.__name__, ())
        ]
        stmt = (
            _deleted(model, site_id)
            .options(*options)
            .order_by(model.deleted_at.desc(), model.id.desc())
            .limit(wanted)
        )
        found += db.session.scalars(stmt).unique().all()
    found.sort(key=lambda r: (r.deleted_at, r.id), reverse=True)
    more = len(found) > (page + 1) * per_page
    found = found[page * per_page : (page + 1) * per_page]
    people = _users({r.deleted_by_id for r in found if r.deleted_by_id})
    rows = [
        TrashRow(
            type(r).__name__,
            type_label(type(r).__name__),
            r.id,
            row_label(r),
            r.site,
            r.deleted_at,
            people.get(r.deleted_by_id),
        )
        for r in found
    ]
    return rows, more


def _users(ids):
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def get_deleted(key, record_id):
    """The row of that type and id, deleted or not, if it is in the scope; ``DomainError`` 404
    otherwise."""
    model = model_of(key)
    stmt = select(model).where(model.id == record_id).execution_options(include_deleted=True)
    row = db.session.scalars(stmt).first()
    if row is None:
        raise DomainError(_l("That record does not exist."), status=404)
    return row


def restore(key, record_id):
    """Put a deleted row back where it was; the caller commits. Refused if it is not deleted."""
    row = get_deleted(key, record_id)
    if row.deleted_at is None:
        raise DomainError(_l("This record is not deleted; there is nothing to restore."))
    row.restore()
    db.session.flush()
    return row
