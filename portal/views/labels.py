"""Display labels for stored codes, translated at render time."""

from portal.i18n import lazy_gettext as _l
from markupsafe import Markup

ROLE_LABELS = {
    "admin": _l("Head office"),
    "supervisor": _l("Supervisor"),
    "clerk": _l("Clerk"),
    "security": _l("Security"),
    "sales": _l("Sales"),
    "maintenance": _l("Maintenance"),
}

STAFF_KIND_LABELS = {
    "clerk": _l("Clerk"),
    "security": _l("Security"),
    "sales": _l("Sales"),
    "cleaner": _l("Cleaner"),
    "maintenance": _l("Maintenance"),
    "supervisor": _l("Supervisor"),
    "other": _l("Other"),
}


def yes_no(view, context, model, name):
    value = getattr(model, name)
    # Static markup only: no user data goes through Markup.
    if value:
        return Markup('<span class="badge badge-success">%s</span>') % _l("Yes")
    return Markup('<span class="badge badge-secondary">%s</span>') % _l("No")
