"""What the landing page of a site shows today, assembled from every domain.

Each domain registers a *section*: a provider ``fn(site, day, user) -> dict | None`` (None:
nothing to show) and the template partial that renders its dict. The Today page (the
clerk's and security's landing page) renders the sections in ``order``. This keeps the
page in one place while each domain owns its own figures.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    order: int
    provider: object
    template: str
    roles: frozenset


_SECTIONS: dict[str, Section] = {}


def register_section(key, order, provider, template, roles=("admin", "supervisor", "clerk", "security")):
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
