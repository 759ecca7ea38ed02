"""Audit trail viewer: who changed what, when, on which site, before → after.

The list filters by site, user, record type and period; the details page shows a
readable diff (field label, old → new). The session scope limits supervisors to their
sites' events; head office sees everything (including events without a site).
Field and record-type labels are taken from the admin view that edits that model, so
every domain's records read in their own words without a table here.
"""

from flask import current_app, has_app_context
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from flask_admin.model import filters
from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import inspect as sa_inspect

from portal.extensions import db
from portal.models import AuditEvent, Site, User
from portal.services.metrics import in_period
from portal.models.audit import ACTION_LABELS
from portal.services.record_types import label as record_type_label
from portal.views.base import ScopedModelView, options_of

# Fields every model shares, for records whose view does not label them.
COMMON_FIELD_LABELS = {
    "id": _l("Record id"),
    "site_id": _l("Site"),
    "name": _l("Name"),
    "active": _l("Active"),
    "deleted_at": _l("Deleted at"),
    "deleted_by_id": _l("Deleted by"),
    "status": _l("Status"),
    "notes": _l("Notes"),
}


class LocalDateBetweenFilter(BaseSQLAFilter, filters.BaseDateBetweenFilter):
    """Local days ``a to b`` (inclusive) on an aware UTC timestamp column, each row's days cut at
    its site's local midnight — the very condition the dashboard figures count with
    (``metrics.in_period``)."""

    def __init__(self, column, name, options=None, data_type=None):
        super().__init__(column, name, options, data_type="daterangepicker")

    def apply(self, query, value, alias=None):
        column = self.get_column(alias)
        site_column = getattr(column.class_, "site_id", None) if alias is None else None
        if site_column is None:  # no site (or an alias): Beijing time
            lo, hi = clock.period_bounds(value[0], value[1])
            return query.filter(column >= lo, column < hi)
        return query.filter(in_period(column, site_column, value[0], value[1]))


class PeriodClauseFilter(BaseSQLAFilter, filters.BaseDateBetweenFilter):
    """Local days ``a to b`` given to a metric's own condition ``clause(start, end)`` (e.g. "open at
    the end of the period"), so a drill-down lists exactly the records behind a figure."""

    def __init__(self, clause, name, operation=None):
        super().__init__(None, name, None, data_type="daterangepicker")
        self.clause = clause
        self._operation = operation

    def apply(self, query, value, alias=None):
        return query.filter(self.clause(value[0], value[1]))

    def operation(self):
        return self._operation or super().operation()


def _model_views():
    """{model class name: admin view} of every registered model view (empty before start-up)."""
    if not has_app_context() or "portal_admin" not in current_app.extensions:
        return {}
    admin = current_app.extensions["portal_admin"]
    return {v.model.__name__: v for v in admin._views if getattr(v, "model", None) is not None}


def field_label(object_type, key):
    view = _model_views().get(object_type)
    labels = dict(getattr(view, "column_labels", None) or {})
    for candidate in (key, key[:-3] if key.endswith("_id") else None):
        if candidate and candidate in labels:
            return str(labels[candidate])
    if key in COMMON_FIELD_LABELS:
        return str(COMMON_FIELD_LABELS[key])
    return key.replace("_", " ")


# Stored codes shown in words: (record type, field) -> {code: label}. Each domain declares its
# own in its descriptor (``value_labels=``, portal/domains.py); ``register_all`` adds them here.
VALUE_LABELS: dict[tuple[str, str], dict] = {}
# Bookkeeping fields the diff leaves out.
HIDDEN_FIELDS = {"id"}


def register_value_labels(object_type, field, labels):
    VALUE_LABELS[(object_type, field)] = labels


def _model_class(object_type):
    for mapper in db.Model.registry.mappers:
        if mapper.class_.__name__ == object_type:
            return mapper.class_
    return None


def _references(event, keys):
    """{field: {id: display}} for foreign-key fields, read through the scope (unknown → the id)."""
    model = _model_class(event.object_type)
    if model is None:
        return {}
    mapper = sa_inspect(model)
    found = {}
    for rel in mapper.relationships:
        if rel.direction.name != "MANYTOONE":
            continue
        for column in rel.local_columns:
            key = mapper.get_property_by_column(column).key
            if key not in keys:
                continue
            ids = {
                v
                for v in ((event.before or {}).get(key), (event.after or {}).get(key))
                if isinstance(v, int)
            }
            found[key] = {
                i: str(obj)
                for i in ids
                if (obj := db.session.get(rel.mapper.class_, i)) is not None
            }
    return found


def _show(value):
    if isinstance(value, list):  # linked records (a user's sites), already as labels
        return "、".join(map(str, value)) if value else "–"
    if value is None or value == "":
        return "–"
    if value is True:
        return str(_l("Yes"))
    if value is False:
        return str(_l("No"))
    return str(value)


def _word(words, value):
    return value if isinstance(value, (list, dict)) else words.get(value, value)


def diff_rows(event):
    """[(label, old, new)] of an event, in field order; old/new are display strings."""
    before, after = event.before or {}, event.after or {}
    keys = [
        k for k in list(after) + [k for k in before if k not in after] if k not in HIDDEN_FIELDS
    ]
    references = _references(event, keys)
    rows = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if event.action == "update" and old == new:
            continue
        words = VALUE_LABELS.get((event.object_type, key)) or references.get(key) or {}
        label = field_label(event.object_type, key)
        rows.append((label, _show(_word(words, old)), _show(_word(words, new))))
    return rows


def _record_type_options():
    return sorted(
        ((name, str(view.name)) for name, view in _model_views().items()), key=lambda p: p[1]
    )


class AuditEventView(ScopedModelView):
    read_roles = frozenset({"admin", "supervisor"})
    write_roles = frozenset()
    _creatable = False
    _editable = False
    _deletable = False
    details_template = "audit/details.html"
    column_list = ("at", "user", "site", "action", "object_type", "object_id", "summary")
    column_details_list = ("at", "user", "site", "action", "object_type", "object_id", "summary")
    column_export_list = ("at", "user", "site", "action", "object_type", "object_id", "summary")
    column_select_related_list = (AuditEvent.user, AuditEvent.site)
    column_default_sort = ("at", True)
    column_sortable_list = ("at",)
    # URL names (flt0_site_equals, flt1_when_between…) are what metric drill-downs link to.
    column_filters = (
        FilterEqual(AuditEvent.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)),
        LocalDateBetweenFilter(AuditEvent.at, _l("When")),
        FilterEqual(
            AuditEvent.user_id, _l("User"), options=options_of(User, order_by=User.username)
        ),
        FilterEqual(AuditEvent.object_type, _l("Record type"), options=_record_type_options),
        FilterEqual(
            AuditEvent.action,
            _l("Action"),
            options=lambda: [(k, str(v)) for k, v in ACTION_LABELS.items()],
        ),
    )
    column_labels = {
        "at": _l("When"),
        "user": _l("Who"),
        "site": _l("Site"),
        "action": _l("Action"),
        "object_type": _l("Record type"),
        "object_id": _l("Record id"),
        "summary": _l("Record"),
        "before": _l("Before"),
        "after": _l("After"),
    }
    # Flask-Admin formats details with their own table: use the list's (local time, Yes/No).
    column_type_formatters_detail = ScopedModelView.column_type_formatters
    column_formatters = {
        "user": lambda v, c, m, n: m.user or _l("System"),
        "action": lambda v, c, m, n: ACTION_LABELS.get(m.action, m.action),
        "object_type": lambda v, c, m, n: record_type_label(m.object_type),
    }
    column_formatters_export = {
        "user": lambda v, c, m, n: str(m.user or _l("System")),
        "action": lambda v, c, m, n: str(ACTION_LABELS.get(m.action, m.action)),
        "object_type": lambda v, c, m, n: record_type_label(m.object_type),
    }

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs["diff"] = diff_rows(kwargs["model"])
        return super().render(template, **kwargs)


def register(admin):
    admin.add_view(
        AuditEventView(AuditEvent, name=_l("Audit trail"), category=_l("Reports"), endpoint="audit")
    )
