"""Development data lives apart from the domain code: nothing under portal/services, views,
models or reports imports portal.devdata (it imports them, one way), and every domain module
of the list offers the same entry points."""

import ast
import inspect
from pathlib import Path

from portal import devdata

PORTAL = Path(devdata.__file__).resolve().parent.parent
ENTRY_POINTS = {"seed": "sites", "history": "past", "generate": "ctx"}


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_the_domain_code_never_imports_development_data():
    offenders = [
        str(path.relative_to(PORTAL))
        for part in ("services", "views", "models", "reports")
        for path in (PORTAL / part).rglob("*.py")
        if any(name.startswith("portal.devdata") for name in _imports(path))
    ]
    assert offenders == []


def test_each_domain_module_offers_the_shared_entry_points():
    """seed(sites), history(past), generate(ctx): the same names and first parameters in every
    domain module, so the list can run them all alike."""
    for module in devdata.DOMAINS:
        offered = {name: getattr(module, name) for name in ENTRY_POINTS if hasattr(module, name)}
        assert offered, module.__name__
        for name, function in offered.items():
            first = next(iter(inspect.signature(function).parameters))
            assert first == ENTRY_POINTS[name], f"{module.__name__}.{name}"
