"""Read-only audit trail list (the full viewer with filters comes with the reports)."""
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from flask_babel import lazy_gettext as _l

from portal.models import AuditEvent, Site
from portal.views.base import ScopedModelView, options_of


class AuditEventView(ScopedModelView):
    read_roles = frozenset({"admin", "supervisor"})
    write_roles = frozenset()
    _creatable = False
    _editable = False
    _deletable = False
    column_list = ("at", "user", "site", "action", "object_type", "object_id", "summary")
    column_details_list = ("at", "user", "site", "action", "object_type", "object_id", "summary", "before", "after")
    column_export_list = ("at", "user", "site", "action", "object_type", "object_id", "summary")
    column_select_related_list = (AuditEvent.user, AuditEvent.site)
    column_default_sort = ("at", True)
    column_sortable_list = ("at",)
    column_filters = (
        # IntEqualFilter, not FilterEqual: the URL value is text, and PostgreSQL refuses integer = varchar.
        IntEqualFilter(AuditEvent.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)),
        FilterEqual(AuditEvent.object_type, _l("Record type")),
        FilterEqual(AuditEvent.action, _l("Action")),
    )
    column_labels = {"at": _l("When"), "user": _l("Who"), "site": _l("Site"), "action": _l("Action"),
                     "object_type": _l("Record type"), "object_id": _l("Record id"), "summary": _l("Record"),
                     "before": _l("Before"), "after": _l("After")}


def register(admin):
    admin.add_view(AuditEventView(AuditEvent, name=_l("Audit trail"), category=_l("Reports"), endpoint="audit"))
