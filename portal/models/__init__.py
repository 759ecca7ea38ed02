"""All models, imported here so Alembic and the scope registry see every table."""

from portal.models.audit import AuditEvent
from portal.models.base import (
    SiteScopedMixin,
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
    utcnow,
)
from portal.models.breaks import BreakLog
from portal.models.checklists import (
    CHECKLIST_KINDS,
    FOLLOW_UP_STATUSES,
    ITEM_KINDS,
    ChecklistAnswer,
    ChecklistFollowUp,
    ChecklistItem,
    ChecklistRun,
    ChecklistTemplate,
)
from portal.models.cleaning import (
    CleaningArea,
    CleaningInspection,
    CleaningIssue,
    CleaningIssueEvent,
    CleaningResult,
)
from portal.models.consumables import (
    MOVEMENT_KINDS,
    PRODUCT_KINDS,
    ConsumptionLine,
    DailyTally,
    DailyTallyLine,
    Product,
    StockBalance,
    StockMovement,
)
from portal.models.damage import DAMAGE_OUTCOMES, DAMAGE_STATUSES, DamageReport
from portal.models.grooming import (
    GROOMING_POINTS,
    GroomingInspection,
    GroomingPoint,
    GroomingResult,
)
from portal.models.handover import HandoverComment, HandoverEntry, HandoverItem
from portal.models.leases import ReportLease
from portal.models.inventory import (
    CONDITIONS,
    ITEM_CATEGORIES,
    ITEM_CHECK_KINDS,
    Item,
    ItemCheck,
    ItemCheckLine,
)
from portal.models import perf  # noqa: F401  (indexes for scale)
from portal.models.org import (
    ROLES,
    STAFF_KINDS,
    Region,
    ShowUnit,
    Site,
    StaffMember,
    SiteSpell,
    StaffSpell,
    User,
    user_region,
    user_site,
)
from portal.models.periods import (
    DayChange,
    DayCount,
    DayFigure,
    PeriodAmendment,
    PeriodClose,
    PeriodFigure,
)
from portal.models.photos import Photo
from portal.models.repairs import (
    OPEN_STATUSES,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    RepairEvent,
    RepairTicket,
)
from portal.models.roster import POSTS, Shift
from portal.models.visits import DIRECTIONS, Visit
from importlib import import_module
from portal.domains import DOMAINS


def _import_domain_models():
    """The models module of every domain descriptor (portal/domains.py), so that a new domain's
    tables are known without a line here; they are imported from their own module."""
    for domain in DOMAINS:
        if domain.models:
            import_module(domain.models)


_import_domain_models()

__all__ = [
    "AuditEvent",
    "SiteScopedMixin",
    "SoftDeleteMixin",
    "TimestampMixin",
    "UTCDateTime",
    "VersionedMixin",
    "utcnow",
    "BreakLog",
    "CHECKLIST_KINDS",
    "FOLLOW_UP_STATUSES",
    "ITEM_KINDS",
    "ChecklistAnswer",
    "ChecklistFollowUp",
    "ChecklistItem",
    "ChecklistRun",
    "ChecklistTemplate",
    "CleaningArea",
    "CleaningInspection",
    "CleaningIssue",
    "CleaningIssueEvent",
    "CleaningResult",
    "MOVEMENT_KINDS",
    "PRODUCT_KINDS",
    "ConsumptionLine",
    "DailyTally",
    "DailyTallyLine",
    "Product",
    "StockBalance",
    "StockMovement",
    "DAMAGE_OUTCOMES",
    "DAMAGE_STATUSES",
    "DamageReport",
    "GROOMING_POINTS",
    "GroomingPoint",
    "GroomingInspection",
    "GroomingResult",
    "HandoverComment",
    "HandoverEntry",
    "HandoverItem",
    "CONDITIONS",
    "ITEM_CATEGORIES",
    "ITEM_CHECK_KINDS",
    "Item",
    "ItemCheck",
    "ItemCheckLine",
    "ROLES",
    "STAFF_KINDS",
    "Region",
    "ShowUnit",
    "Site",
    "StaffMember",
    "SiteSpell",
    "StaffSpell",
    "User",
    "user_region",
    "user_site",
    "PeriodAmendment",
    "PeriodClose",
    "PeriodFigure",
    "DayChange",
    "DayCount",
    "DayFigure",
    "Photo",
    "ReportLease",
    "OPEN_STATUSES",
    "TICKET_PRIORITIES",
    "TICKET_STATUSES",
    "RepairEvent",
    "RepairTicket",
    "POSTS",
    "Shift",
    "DIRECTIONS",
    "Visit",
]
