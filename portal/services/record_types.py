"""Record types (model class names, as the audit trail stores them) as users know them.

A record type is called by the menu name of the first admin view that lists its model, and sorts
by that view's place in the menu. ``portal.views.register_all`` fills this registry while it adds
the views (``PortalAdmin.add_view``), so the audit section of the PDF and the recycle bin never
look inside Flask-Admin.
"""

from dataclasses import dataclass

from portal.domains import collected

UNKNOWN_POSITION = 10_000


@dataclass(frozen=True)
class ListedView:
    endpoint: str
    name: object
    model: str | None  # model class name, None for a page without a model
    position: int


# endpoint -> ListedView, in the order the views were first added (every app adds the same ones).
_VIEWS: dict[str, ListedView] = {}


def add_view(endpoint, name, model=None):
    known = _VIEWS.get(endpoint)
    position = known.position if known else len(_VIEWS)
    _VIEWS[endpoint] = ListedView(endpoint, name, model, position)


def _in_menu_order():
    return sorted(_VIEWS.values(), key=lambda v: v.position)


def label(object_type):
    """A record type in the reader's words: the name its domain declares for a type with no list
    of its own (``type_labels=``), else the menu name of the first view listing it; the type
    itself if neither does."""
    declared = collected("type_labels").get(object_type)
    if declared:
        return str(declared[0])
    for view in _in_menu_order():
        if view.model == object_type:
            return str(view.name)
    return object_type


def position(object_type, page=None):
    """Place in the menu of the first view listing ``object_type`` or of the page ``page``
    (endpoint) that stands for it; after every view when neither is there."""
    for view in _in_menu_order():
        if view.model == object_type or view.endpoint == page:
            return view.position
    return UNKNOWN_POSITION
