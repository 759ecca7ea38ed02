"""What the landing page of a site shows today, assembled from every domain.

Each domain registers a *section*: a provider ``fn(site, day, user) -> dict | None`` (None:
nothing to show) and the template partial that renders its dict. The Today page (the
clerk's and security's landing page) renders the sections in ``order``. This keeps the
page in one place while each domain owns its own figures.

The rows a section shows are read through ``kept``: kept per process while the site's data
version (its latest audit event) and the version of the shared records it names (people,
checklist templates) stay the same. Everything that depends on the time of day (what is due,
what is overdue, who is on duty now) is worked out from them on every view.
"""

from collections import OrderedDict
from dataclasses import dataclass
from functools import wraps
from threading import Lock

from flask import current_app, g, has_request_context, request
from portal.services import audit


@dataclass(frozen=True)
class Section:
    key: str
    order: int
    provider: object
    template: str
    roles: frozenset


_SECTIONS: dict[str, Section] = {}


def register_section(
    key, order, provider, template, roles=("admin", "supervisor", "clerk", "security")
):
    """Add (or replace) a section; called from a domain's ``register(admin)``."""
    _SECTIONS[key] = Section(key, order, provider, template, frozenset(roles))


def sections_for(site, day, user):
    """[(section, data)] for this site, day and user, in display order, skipping empty ones."""
    result = []
    for section in sorted(_SECTIONS.values(), key=lambda s: s.order):
        if user.role not in section.roles:
            continue
        data = section.provider(site, day, user)
        if data is not None:
            result.append((section, data))
    return result


def once_per_request(fn):
    """Read ``fn(site, day)`` once per request: the opening and the closing sections of a domain
    show two halves of the same day's records."""

    @wraps(fn)
    def wrapper(site, day):
        cache = g.setdefault("_today_once", {})
        key = (fn.__module__, fn.__qualname__, site.id, day)
        if key not in cache:
            cache[key] = fn(site, day)
        return cache[key]

    return wrapper


# ------------------------------------------------------------------ rows kept per site version

# Records that sections show but that belong to no site (their events have no site id): the
# names of people, the checklist templates every site uses.
SHARED_TYPES = ("User", "ChecklistTemplate", "ChecklistItem")
MAX_KEPT = 5000

_kept: "OrderedDict[tuple, object]" = OrderedDict()
_kept_lock = Lock()


def kept(site, day, name, compute):
    """``compute()`` (a section's rows for ``site`` on ``day``), kept per process while the site's
    records and the shared records do not change.

    Exact without expiry or invalidation hooks: every change to a site's records writes an audit
    event for that site in the same transaction, and the ids of a site's events follow the order
    of their commits (``audit.site_versions``), so the key changes with every committed change.
    The version is read before the rows: rows newer than their key only cost one more read.
    Rows are the same for every user allowed to see the site; the scope decides that (a site
    outside it has no version, and nothing is kept or served for it). Only the rows of GET
    requests are kept, which commit nothing that would expire them once they are detached.
    ``name`` tells sections apart and carries anything else the rows depend on (a user id).
    """
    if not (
        current_app.config.get("TODAY_CACHE", True)
        and has_request_context()
        and request.method == "GET"
    ):
        return compute()
    version = audit.site_versions([site.id]).get(site.id)
    if version is None:
        return compute()
    key = (name, site.id, day, version, audit.latest_change(SHARED_TYPES))
    with _kept_lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    value = compute()
    with _kept_lock:
        _kept[key] = value
        while len(_kept) > MAX_KEPT:
            _kept.popitem(last=False)
    return value


def clear_kept():
    with _kept_lock:
        _kept.clear()
