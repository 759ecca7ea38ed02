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
    # Fields of records that have no list of their own to label them.
    "answered_at": _l("Answered at"),
    "carried_at": _l("Carried over at"),
    "carried_by_id": _l("Carried over by"),
    "close_note": _l("Closing note"),
    "corrections": _l("Corrections"),
    "counted": _l("Counted"),
    "damage_report_id": _l("Damage report"),
    "ended_at": _l("Ended at"),
    "entry_id": _l("Handover entry"),
    "estimated_cost": _l("Estimated cost"),
    "expected": _l("Expected"),
    "from_status": _l("Status before"),
    "holder_name": _l("Holder"),
    "inspected_at": _l("Inspected at"),
    "inspection_id": _l("Inspection"),
    "inspector_id": _l("Inspector"),
    "is_discrepancy": _l("Discrepancy"),
    "issue_id": _l("Issue"),
    "lock_ticket_id": _l("Lock change ticket"),
    "movement_id": _l("Stock movement"),
    "net_variance": _l("Net variance"),
    "number": _l("Number"),
    "opening": _l("Opening stock"),
    "out_day": _l("Day lent"),
    "outcome": _l("Outcome"),
    "parts_used": _l("Parts used"),
    "passed": _l("Passed"),
    "photo": _l("Photo"),
    "photo_name": _l("Photo file"),
    "point": _l("Inspection point"),
    "previous_id": _l("Carried over from"),
    "repair_ticket_id": _l("Repair ticket"),
    "resolution": _l("Resolution"),
    "restock": _l("Restocked"),
    "result_id": _l("Result"),
    "returned_day": _l("Day returned"),
    "review_note": _l("Review note"),
    "reviewed_at": _l("Reviewed at"),
    "reviewed_by_id": _l("Reviewed by"),
    "root_id": _l("First raised as"),
    "run_id": _l("Checklist run"),
    "sales_answer": _l("Salesperson's answer"),
    "sales_note": _l("Salesperson's note"),
    "score": _l("Score"),
    "served": _l("Served"),
    "signed_by_id": _l("Signed by"),
    "started_at": _l("Started at"),
    "tally_id": _l("Daily tally"),
    "ticket_id": _l("Repair ticket"),
    "to_status": _l("Status after"),
    "value_bool": _l("Answer (yes/no)"),
    "value_number": _l("Answer (number)"),
    "value_text": _l("Answer (text)"),
    "variance": _l("Variance"),
    "visit_at": _l("Visit time"),
    "visit_description": _l("Visit"),
    "wastage": _l("Wastage"),
    "withdrawn_at": _l("Withdrawn at"),
    "written_off_quantity": _l("Quantity written off"),
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


def _labelled(labels, key):
    for candidate in (key, key[:-3] if key.endswith("_id") else None):
        if candidate and candidate in labels:
            return str(labels[candidate])
    return None


def field_label(object_type, key):
    """A field in the reader's words: as the view editing that model labels it, else as every
    model calls it, else as another view labels a field of that name (records without a view
    of their own, e.g. grooming results, damage reports); the field name only as a last resort."""
    views = _model_views()
    view = views.get(object_type)
    found = _labelled(dict(getattr(view, "column_labels", None) or {}), key)
    if found is None and key in COMMON_FIELD_LABELS:
        found = str(COMMON_FIELD_LABELS[key])
    for other in views.values() if found is None else ():
        found = _labelled(dict(getattr(other, "column_labels", None) or {}), key)
        if found is not None:
            break
    return found if found is not None else key.replace("_", " ")


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
