"""What the landing page of a site shows today, assembled from every domain.

Each domain registers a *section*: a provider ``fn(site, day, user) -> dict | None`` (None:
nothing to show) and the template partial that renders its dict. The Today page (the
clerk's and security's landing page) renders the sections in ``order``. This keeps the
page in one place while each domain owns its own figures.

The rows a section shows are read through ``kept`` on every view; everything that depends on
the time of day (what is due, what is overdue, who is on duty now) is worked out from them.
"""

from dataclasses import dataclass
from functools import wraps

from flask import g


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


# ------------------------------------------------------------------ a section's rows


def kept(site, day, name, compute):
    """A section's rows for ``site`` on ``day``: ``compute()``, read on every view. Nothing is
    kept between requests: a copy per process could be out of date on another worker or server,
    and the benchmark shows the page does not need one. ``name`` tells sections apart."""
    return compute()
