"""Every domain of the portal, described once, in the order of the menu.

A ``Domain`` names the modules of one domain (views with ``register(admin)``, models, development
data) and lists what the shared registries need from it: Today sections, dashboard figures, PDF
sections, labels for the recycle bin and the audit viewer, bench pages, and for the tests its
access rights, an edit sample for the locking test and the models behind its URL arguments.

Functions are named by text (``"portal.views.keys:today_section"``) and looked up when they are
used: this module imports nothing of the portal but the core (``portal.i18n`` for its texts), so
models, services and views may all read it without an import cycle, and a registry never imports
a domain's views to learn about it.
``portal.views.register_all`` is the one place that registers them.

Adding a domain: write its own modules and append one ``Domain(...)`` to ``DOMAINS``.
"""

from dataclasses import dataclass, field
from importlib import import_module

from portal.i18n import lazy_gettext as _l

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
    # … and the relations that name reads, loaded with the rows ({model: (relationship, …)}).
    trash_loads: dict = field(default_factory=dict)
    # Audit viewer: {(model, field): "module:attribute"} a dict {stored code: label}.
    value_labels: dict = field(default_factory=dict)
    bench_pages: tuple = ()  # BenchPage…
    # For the tests: {endpoint: Access}, {endpoint: (field, first value, second value)} of
    # every editable admin view, {URL path argument: model name}.
    access: dict = field(default_factory=dict)
    edit_samples: dict = field(default_factory=dict)
    url_args: dict = field(default_factory=dict)


DOMAINS = (
    # The working day first …
    Domain("today", views="portal.views.today"),
    Domain(
        "dashboard",
        views="portal.views.dashboard",
        type_labels={
            "PeriodClose": (_l("Month closes"), "dashboard"),
            "PeriodFigure": (_l("Closed figures"), "dashboard"),
            "PeriodAmendment": (_l("Changes after month close"), "dashboard"),
            "DayCount": (_l("Counts of past days"), "dashboard"),
        },
    ),
    Domain("figure_records", views="portal.views.figure_records"),
    Domain(
        "checklists",
        type_labels={
            "ChecklistItem": (_l("Checklist items"), "checklisttemplate"),
            "ChecklistAnswer": (_l("Checklist answers"), "checklistrun"),
            "ChecklistFollowUp": (_l("Checklist follow-ups"), "checklistrun"),
        },
        views="portal.views.checklists",
        models="portal.models.checklists",
        devdata="portal.devdata.checklists",
        seed_order=10,
        figures="portal.services.metrics.checklists:register_figures",
        today=(
            TodaySection(
                "checklist_opening",
                10,
                "portal.views.checklists:opening_section",
                "checklists/_today_checklist.html",
            ),
            TodaySection(
                "checklist_closing",
                40,
                "portal.views.checklists:closing_section",
                "checklists/_today_checklist.html",
            ),
        ),
    ),
    Domain(
        "inventory",
        views="portal.views.inventory",
        models="portal.models.inventory",
        devdata="portal.devdata.inventory",
        seed_order=20,
        figures="portal.services.metrics.inventory:register_figures",
        today=(
            TodaySection(
                "item_check_opening",
                11,
                "portal.views.inventory:opening_check_section",
                "inventory/_today_item_check.html",
                roles=("admin", "supervisor", "clerk"),
            ),
            TodaySection(
                "item_check_closing",
                41,
                "portal.views.inventory:closing_check_section",
                "inventory/_today_item_check.html",
                roles=("admin", "supervisor", "clerk"),
            ),
            TodaySection(
                "discrepancies",
                50,
                "portal.views.inventory:discrepancies_section",
                "inventory/_today_discrepancies.html",
                roles=("admin", "supervisor", "clerk"),
            ),
        ),
        reports=(
            ReportSection(
                "discrepancies",
                _l("Item discrepancies"),
                "portal.services.metrics.inventory:discrepancies_section",
                order=40,
            ),
        ),
    ),
    Domain(
        "visits",
        views="portal.views.visits",
        models="portal.models.visits",
        devdata="portal.devdata.visits",
        seed_order=30,
        figures="portal.services.metrics.visits:register_figures",
        today=(
            TodaySection(
                "visits.open",
                30,
                "portal.views.visits:open_visits_section",
                "today/_open_visits.html",
            ),
        ),
        reports=(
            ReportSection(
                "visits",
                _l("Visits by week"),
                "portal.services.metrics.visits:visits_section",
                order=20,
            ),
        ),
        trash_labels={"Visit": "portal.services.trash:visit_label"},
    ),
    Domain(
        "consumables",
        type_labels={
            "ConsumptionLine": (_l("Consumption lines"), "visit"),
            "DailyTallyLine": (_l("Tally lines"), "dailytally"),
            "StockBalance": (_l("Stock balances"), "stock"),
        },
        views="portal.views.consumables",
        models="portal.models.consumables",
        figures="portal.services.metrics.consumables:register_figures",
        today=(
            TodaySection(
                "consumables.tally",
                80,
                "portal.views.consumables:tally_section",
                "today/_tally.html",
                roles=("admin", "supervisor", "clerk"),
            ),
            TodaySection(
                "consumables.low_stock",
                60,
                "portal.views.consumables:low_stock_section",
                "today/_low_stock.html",
                roles=("admin", "supervisor", "clerk"),
            ),
            TodaySection(
                "consumables.tallies_missing",
                85,
                "portal.views.consumables:tallies_missing_section",
                "today/_tallies_missing.html",
                roles=("admin", "supervisor"),
            ),
        ),
        reports=(
            ReportSection(
                "consumption",
                _l("Consumption by product"),
                "portal.services.metrics.consumables:consumption_section",
                order=10,
            ),
            ReportSection(
                "tally_variances",
                _l("Tally variances"),
                "portal.services.metrics.consumables:tally_variances_section",
                order=30,
            ),
        ),
    ),
    Domain(
        "repairs",
        views="portal.views.repairs",
        models="portal.models.repairs",
        devdata="portal.devdata.repairs",
        seed_order=90,
        figures="portal.services.metrics.repairs:register_figures",
        reports=(
            ReportSection(
                "repairs_damage",
                _l("Repairs and damage"),
                "portal.services.metrics.repairs:repairs_damage_section",
                order=50,
            ),
        ),
        type_labels={
            "RepairTicket": (_l("Repair tickets"), "repairs"),
            "RepairEvent": (_l("Repair ticket history"), "repairs"),
        },
        value_labels={
            ("RepairTicket", "status"): "portal.models.repairs:STATUS_LABELS",
            ("RepairEvent", "action"): "portal.models.repairs:EVENT_ACTION_LABELS",
            ("RepairEvent", "kind"): "portal.models.repairs:EVENT_KIND_LABELS",
            ("RepairEvent", "from_status"): "portal.models.repairs:STATUS_LABELS",
            ("RepairEvent", "to_status"): "portal.models.repairs:STATUS_LABELS",
        },
    ),
    Domain(
        "damage",
        views="portal.views.damage",
        models="portal.models.damage",
        devdata="portal.devdata.damage",
        seed_order=100,
        figures="portal.services.metrics.damage:register_figures",
        type_labels={"DamageReport": (_l("Damage reports"), "damage")},
        value_labels={("DamageReport", "status"): "portal.models.damage:STATUS_LABELS"},
    ),
    Domain(
        "handover",
        type_labels={
            "HandoverItem": (_l("Handover items"), "handover"),
            "HandoverComment": (_l("Handover comments"), "handover"),
        },
        value_labels={("HandoverItem", "status"): "portal.models.handover:ITEM_STATUS_LABELS"},
        views="portal.views.handover",
        models="portal.models.handover",
        devdata="portal.devdata.handover",
        seed_order=50,
        figures="portal.services.metrics.handover:register_figures",
        today=(
            TodaySection(
                "handover", 1, "portal.views.handover:handover_section", "handover/_today.html"
            ),
        ),
        reports=(
            ReportSection(
                "handover",
                _l("Handover completeness"),
                "portal.services.metrics.handover:handover_section",
                order=70,
            ),
        ),
        trash_labels={"HandoverEntry": "portal.services.trash:handover_entry_label"},
    ),
    Domain(
        "cleaning",
        type_labels={
            "CleaningInspection": (_l("Cleaning inspections"), "cleaning"),
            "CleaningResult": (_l("Cleaning results"), "cleaning"),
            "CleaningIssueEvent": (_l("Cleaning issue history"), "cleaning_issue"),
        },
        value_labels={
            ("CleaningIssue", "status"): "portal.models.cleaning:STATUS_LABELS",
            ("CleaningIssueEvent", "action"): "portal.models.cleaning:ISSUE_ACTION_LABELS",
            ("CleaningIssueEvent", "to_status"): "portal.models.cleaning:STATUS_LABELS",
            ("CleaningArea", "name"): "portal.models.cleaning:AREA_LABELS",
        },
        views="portal.views.cleaning",
        models="portal.models.cleaning",
        devdata="portal.devdata.cleaning",
        seed_order=60,
        figures="portal.services.metrics.cleaning:register_figures",
        today=(
            TodaySection(
                "cleaning", 30, "portal.views.cleaning:cleaning_section", "cleaning/_today.html"
            ),
        ),
        reports=(
            ReportSection(
                "cleaning",
                _l("Cleaning issues"),
                "portal.services.metrics.cleaning:cleaning_section",
                order=60,
            ),
        ),
        trash_loads={"CleaningIssue": ("area",)},
    ),
    # QR labels of a site's items and areas, and the pages a scanned label opens.
    Domain(
        "scan",
        views="portal.views.scan",
        access={"scan": Access(read="admin supervisor clerk", page=True)},
        url_args={"item_id": "Item", "area_id": "CleaningArea"},
    ),
    Domain(
        "breaks",
        type_labels={
            "BreakLog": (_l("Breaks"), "breaks"),
        },
        views="portal.views.breaks",
        models="portal.models.breaks",
        devdata="portal.devdata.breaks",
        seed_order=80,
        today=(
            TodaySection("breaks", 90, "portal.views.breaks:breaks_section", "breaks/_today.html"),
        ),
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
    Domain(
        "photos",
        views="portal.views.photos",
        models="portal.models.photos",
        type_labels={"Photo": (_l("Photos"), "photos")},
    ),
    # … then planning, organisation and oversight.
    Domain(
        "roster",
        views="portal.views.roster",
        models="portal.models.roster",
        devdata="portal.devdata.roster",
        seed_order=40,
        today=(
            TodaySection(
                "on_duty", 15, "portal.views.roster:on_duty_section", "roster/_today.html"
            ),
        ),
        trash_loads={"Shift": ("staff_member",)},
    ),
    Domain(
        "grooming",
        type_labels={
            "GroomingInspection": (_l("Grooming inspections"), "grooming"),
            "GroomingResult": (_l("Grooming results"), "grooming"),
            "GroomingPoint": (_l("Grooming points"), "groomingpoint"),
        },
        value_labels={("GroomingResult", "point"): "portal.models.grooming:POINT_LABELS"},
        views="portal.views.grooming",
        models="portal.models.grooming",
        devdata="portal.devdata.grooming",
        seed_order=70,
        figures="portal.services.metrics.grooming:register_figures",
        reports=(
            ReportSection(
                "grooming",
                _l("Grooming inspections"),
                "portal.services.metrics.grooming:grooming_section",
                order=80,
            ),
        ),
        access={"groomingpoint": Access(read="admin", write="admin", export="admin")},
        edit_samples={"groomingpoint": ("label", "指甲短而干净", "指甲修剪整齐")},
    ),
    Domain(
        "org",
        type_labels={
            "StaffSpell": (_l("Roster spells"), "staff"),
            "LoginFailure": (_l("Failed logins"), "user"),
            "TwoFactor": (_l("Two-step sign-in"), "user"),
            "RecoveryCode": (_l("Recovery codes"), "user"),
            "ReportLease": (_l("Report slots"), "user"),
        },
        views="portal.views.org",
        models="portal.models.org",
        devdata="portal.devdata.org",
        seed_order=0,
        figures="portal.services.metrics.org:register_figures",
        reports=(
            ReportSection(
                "roster",
                _l("Staff on the roster"),
                "portal.services.metrics.org:roster_section",
                order=900,
            ),
        ),
        value_labels={
            ("StaffMember", "kind"): "portal.models.org:STAFF_KIND_LABELS",
            ("User", "role"): "portal.models.org:ROLE_LABELS",
            ("Site", "status"): "portal.models.org:SITE_STATUS_LABELS",
        },
    ),
    # A site's own page: readiness, working spells, open / close / reopen.
    Domain(
        "site_page",
        views="portal.views.site_page",
        today=(
            TodaySection(
                "site_readiness", 1, "portal.views.site_page:today_section", "site_page/_today.html"
            ),
        ),
        access={"sitepage": Access(read="admin supervisor", page=True)},
        url_args={"site_id": "Site"},
    ),
    Domain(
        "imports",
        views="portal.views.imports",
        access={"imports": Access(read="admin supervisor", page=True)},
    ),
    # A new site from the set-up of an existing one (issue 19): head office and supervisors.
    Domain(
        "site_setup",
        views="portal.views.site_setup",
        access={"sitesetup": Access(read="admin supervisor", page=True)},
    ),
    Domain(
        "audit",
        views="portal.views.audit",
        models="portal.models.audit",
        devdata="portal.devdata.audit",
        seed_order=1000,
        figures="portal.services.metrics.audit:register_figures",
        reports=(
            ReportSection(
                "changes",
                _l("Changes recorded"),
                "portal.services.metrics.audit:changes_section",
                order=910,
            ),
        ),
    ),
    # Notifications (issue 20): the bell and my list for everyone; robots and the delivery log
    # for head office.
    Domain(
        "notifications",
        views="portal.views.notifications",
        models="portal.models.notifications",
        devdata="portal.devdata.notifications",
        seed_order=900,  # after the users and sites it names
        access={
            "notifications": Access(
                read="admin supervisor clerk security sales maintenance", page=True
            ),
            "robotwebhook": Access(read="admin", write="admin", delete="admin"),
            "delivery": Access(read="admin"),
        },
        edit_samples={"robotwebhook": ("name", "深圳一店企业微信群", "深圳一店钉钉群")},
    ),
    Domain("trash", views="portal.views.trash"),
    Domain("bench", views="portal.views.bench"),  # the floor page, only when BENCH_FLOOR_PAGE is on
)


def by_name(name):
    return next(d for d in DOMAINS if d.name == name)


def collected(attribute):
    """One dict merged from every domain's ``attribute`` (a dict field)."""
    merged = {}
    for domain in DOMAINS:
        merged.update(getattr(domain, attribute))
    return merged
