"""The access matrix: for every registered view, what each role may do.

Each domain has a module here with a ``MATRIX`` dict: view endpoint → ``Rights``, or declares
``access`` in its descriptor (``portal.domains``).
``tests/test_access_matrix.py`` fails when a registered view has no entry.
"""

from dataclasses import dataclass, field

ROLES = ("admin", "supervisor", "clerk", "security", "sales", "maintenance")
# The demo user who plays each role; all of them work at SZ01, so SZ01 records are in their scope.
ROLE_USERS = {
    "admin": "admin",
    "supervisor": "sup_south",
    "clerk": "clerk_sz01",
    "security": "guard_sz01",
    "sales": "sales_sz01",
    "maintenance": "maint_south",
}


def _roles(spec):
    return frozenset(spec.split()) if isinstance(spec, str) else frozenset(spec)


@dataclass(frozen=True)
class Rights:
    """Model view rights. ``page=True`` marks a custom page (only its index is checked)."""

    read: frozenset = field(default_factory=frozenset)
    write: frozenset = field(default_factory=frozenset)
    delete: frozenset = field(default_factory=frozenset)
    export: frozenset = field(default_factory=frozenset)
    page: bool = False


def rights(read="", write="", delete="", export=""):
    return Rights(_roles(read), _roles(write), _roles(delete), _roles(export))


def page(read=""):
    return Rights(_roles(read), page=True)


EVERYONE = " ".join(ROLES)


def all_entries():
    import importlib
    import pkgutil

    import tests.matrix as pkg

    merged = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        module = importlib.import_module(f"tests.matrix.{info.name}")
        for endpoint, entry in getattr(module, "MATRIX", {}).items():
            assert endpoint not in merged, f"{endpoint} appears twice in tests/matrix/"
            merged[endpoint] = entry
    # A domain that declares its rights in its descriptor (portal/domains.py) needs no file here.
    from portal.domains import DOMAINS

    for domain in DOMAINS:
        for endpoint, access in domain.access.items():
            assert endpoint not in merged, (
                f"{endpoint} appears twice (tests/matrix/, {domain.name})"
            )
            merged[endpoint] = (
                page(access.read)
                if access.page
                else rights(access.read, access.write, access.delete, access.export)
            )
    return merged
