"""Every domain of the portal, described once, in the order of the menu.

A ``Domain`` names the modules of one domain (views with ``register(admin)``, models, development
data) and lists what the shared registries need from it: Today sections, dashboard figures, PDF
sections, labels for the recycle bin and the audit viewer, bench pages, and for the tests its
access rights, an edit sample for the locking test and the models behind its URL arguments.

Functions are named by text (``"portal.views.keys:today_section"``) and looked up when they are
used: this module imports nothing of the portal, so models, services and views may all read it
without an import cycle, and a registry never imports a domain's views to learn about it.

Adding a domain: write its own modules and append one ``Domain(...)`` to ``DOMAINS``.
"""

from dataclasses import dataclass, field
from importlib import import_module

STAFF_ROLES = ("admin", "supervisor", "clerk", "security")


def ref(text):
    """The object named by ``"package.module:attribute"``."""
    module, _, attribute = text.partition(":")
    return getattr(import_module(module), attribute)


@dataclass(frozen=True)
class TodaySection:
    """A section of the Today page (``portal.services.today.register_section``)."""

    key: str
    order: int
    provider: str  # "module:function", fn(site, day, user) -> dict | None
    template: str
    roles: tuple = STAFF_ROLES


@dataclass(frozen=True)
class ReportSection:
    """A detail table of the monthly PDF (``portal.services.report_data.register_section``)."""

    key: str
    title: object
    provider: str  # "module:function", fn(site_id, start, end) -> {"headers", "rows"} | None
    order: int = 100


@dataclass(frozen=True)
class Access:
    """Who may do what on one view endpoint (role names separated by spaces). ``page=True``: a
    workflow page, only its index is checked. Read by ``tests/test_access_matrix.py``."""

    read: str = ""
    write: str = ""
    delete: str = ""
    export: str = ""
    page: bool = False


@dataclass(frozen=True)
class BenchPage:
    name: str
    role: str
    url: str
    kind: str = "list"


@dataclass(frozen=True)
class Domain:
    name: str
    views: str | None = None  # module with register(admin)
    models: str | None = None  # module of its models (imported with portal.models)
    devdata: str | None = None  # module with seed(sites) / history(past) / generate(ctx)
    seed_order: int = 500  # development data runs after the domains its rows point at
    figures: str | None = None  # "module:function" registering its dashboard figures
    today: tuple = ()  # TodaySection…
    reports: tuple = ()  # ReportSection…
    # Recycle bin: how a deleted row is named ({model: "module:fn"}), and record types that have
    # no admin list of their own ({model: (label, page endpoint)}).
    trash_labels: dict = field(default_factory=dict)
    type_labels: dict = field(default_factory=dict)
    # Audit viewer: {(model, field): "module:attribute"} a dict {stored code: label}.
    value_labels: dict = field(default_factory=dict)
    bench_pages: tuple = ()  # BenchPage…
    # For the tests: {endpoint: Access}, {endpoint: (field, first value, second value)} of
    # every editable admin view, {URL path argument: model name}.
    access: dict = field(default_factory=dict)
    edit_samples: dict = field(default_factory=dict)
    url_args: dict = field(default_factory=dict)


def _l(text):
    from portal.i18n import lazy_gettext

    return lazy_gettext(text)


DOMAINS = (
    # The working day first …
    Domain("today", views="portal.views.today"),
    Domain("dashboard", views="portal.views.dashboard"),
    Domain(
        "checklists",
        views="portal.views.checklists",
        models="portal.models.checklists",
        devdata="portal.devdata.checklists",
        seed_order=10,
    ),
    Domain(
        "inventory",
        views="portal.views.inventory",
        models="portal.models.inventory",
        devdata="portal.devdata.inventory",
        seed_order=20,
    ),
    Domain(
        "visits",
        views="portal.views.visits",
        models="portal.models.visits",
        devdata="portal.devdata.visits",
        seed_order=30,
    ),
    Domain("consumables", views="portal.views.consumables", models="portal.models.consumables"),
    Domain(
        "repairs",
        views="portal.views.repairs",
        models="portal.models.repairs",
        devdata="portal.devdata.repairs",
        seed_order=90,
    ),
    Domain(
        "damage",
        views="portal.views.damage",
        models="portal.models.damage",
        devdata="portal.devdata.damage",
        seed_order=100,
    ),
    Domain(
        "handover",
        views="portal.views.handover",
        models="portal.models.handover",
        devdata="portal.devdata.handover",
        seed_order=50,
    ),
    Domain(
        "cleaning",
        views="portal.views.cleaning",
        models="portal.models.cleaning",
        devdata="portal.devdata.cleaning",
        seed_order=60,
    ),
    Domain(
        "breaks",
        views="portal.views.breaks",
        models="portal.models.breaks",
        devdata="portal.devdata.breaks",
        seed_order=80,
    ),
    Domain(
        "keys",
        views="portal.views.keys",
        models="portal.models.keys",
        devdata="portal.devdata.keys",
        seed_order=110,
        figures="portal.services.keys:register_figures",
        today=(
            TodaySection("keys.out", 45, "portal.views.keys:today_section", "keys/_today.html"),
        ),
        reports=(
            ReportSection(
                "keys",
                _l("Keys not back the same day"),
                "portal.services.keys:report_section",
                order=85,
            ),
        ),
        value_labels={("KeyItem", "kind"): "portal.models.keys:KEY_KIND_LABELS"},
        bench_pages=(
            BenchPage("key register", "clerk", "/keys/", "other"),
            BenchPage("key loans (supervisor)", "supervisor", "/keyloan/"),
        ),
        access={
            "keys": Access(read="admin supervisor clerk security", page=True),
            "keyitem": Access(
                read="admin supervisor clerk security",
                write="admin supervisor",
                delete="admin supervisor",
                export="admin supervisor",
            ),
            "keyloan": Access(read="admin supervisor clerk security", export="admin supervisor"),
        },
        edit_samples={"keyitem": ("label", "样板房 A 户型大门", "样板房 B 户型大门")},
        url_args={"key_id": "KeyItem", "loan_id": "KeyLoan"},
    ),
    Domain("photos", views="portal.views.photos", models="portal.models.photos"),
    # … then planning, organisation and oversight.
    Domain(
        "roster",
        views="portal.views.roster",
        models="portal.models.roster",
        devdata="portal.devdata.roster",
        seed_order=40,
    ),
    Domain(
        "grooming",
        views="portal.views.grooming",
        models="portal.models.grooming",
        devdata="portal.devdata.grooming",
        seed_order=70,
    ),
    Domain(
        "org",
        views="portal.views.org",
        models="portal.models.org",
        devdata="portal.devdata.org",
        seed_order=0,
    ),
    Domain(
        "audit",
        views="portal.views.audit",
        models="portal.models.audit",
        devdata="portal.devdata.audit",
        seed_order=1000,
    ),
    Domain("trash", views="portal.views.trash"),
    Domain("bench", views="portal.views.bench"),  # the floor page, only when BENCH_FLOOR_PAGE is on
)


def by_name(name):
    return next(d for d in DOMAINS if d.name == name)


def register_all(admin):
    """Register every domain's views, then what its descriptor lists for the shared registries
    (Today sections, PDF sections, dashboard figures, audit value labels): the one place they
    are registered from."""
    from portal.services import report_data, today
    from portal.views import audit

    for domain in DOMAINS:
        if domain.views:
            import_module(domain.views).register(admin)
        for s in domain.today:
            today.register_section(s.key, s.order, ref(s.provider), s.template, roles=s.roles)
        for s in domain.reports:
            report_data.register_section(s.key, s.title, ref(s.provider), order=s.order)
        if domain.figures:
            ref(domain.figures)()
        for (model, field_name), labels in domain.value_labels.items():
            audit.register_value_labels(model, field_name, ref(labels))


def collected(attribute):
    """One dict merged from every domain's ``attribute`` (a dict field)."""
    merged = {}
    for domain in DOMAINS:
        merged.update(getattr(domain, attribute))
    return merged
