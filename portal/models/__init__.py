"""All models, imported here so Alembic and the scope registry see every table."""
from portal.models.audit import AuditEvent
from portal.models.base import SiteScopedMixin, SoftDeleteMixin, TimestampMixin, UTCDateTime, utcnow
from portal.models.damage import DAMAGE_OUTCOMES, DAMAGE_STATUSES, DamageReport
from portal.models.org import ROLES, STAFF_KINDS, Region, ShowUnit, Site, StaffMember, User, user_region, user_site
from portal.models.photos import Photo
from portal.models.repairs import OPEN_STATUSES, TICKET_PRIORITIES, TICKET_STATUSES, RepairEvent, RepairTicket
from portal.models.visits import DIRECTIONS, Visit
from portal.models.consumables import (MOVEMENT_KINDS, PRODUCT_KINDS, ClosedTallyError, ConsumptionLine, DailyTally,
                                      DailyTallyLine, Product, StockBalance, StockMovement)

__all__ = [
    "AuditEvent", "SiteScopedMixin", "SoftDeleteMixin", "TimestampMixin", "UTCDateTime", "utcnow",
    "ROLES", "STAFF_KINDS", "Region", "ShowUnit", "Site", "StaffMember", "User", "user_region", "user_site",
    "DAMAGE_OUTCOMES", "DAMAGE_STATUSES", "DamageReport", "Photo",
    "OPEN_STATUSES", "TICKET_PRIORITIES", "TICKET_STATUSES", "RepairEvent", "RepairTicket",
    "DIRECTIONS", "Visit",
    "MOVEMENT_KINDS", "PRODUCT_KINDS", "ClosedTallyError", "ConsumptionLine", "DailyTally", "DailyTallyLine", "Product",
    "StockBalance", "StockMovement",
]
from portal.models.roster import POSTS, Shift  # noqa: E402
from portal.models.handover import HandoverComment, HandoverEntry, HandoverItem  # noqa: E402
from portal.models.cleaning import CleaningArea, CleaningInspection, CleaningIssue, CleaningResult  # noqa: E402
from portal.models.grooming import GROOMING_POINTS, GroomingInspection, GroomingResult  # noqa: E402
from portal.models.breaks import BreakLog  # noqa: E402

__all__ += [
    "POSTS", "Shift", "HandoverComment", "HandoverEntry", "HandoverItem",
    "CleaningArea", "CleaningInspection", "CleaningIssue", "CleaningResult",
    "GROOMING_POINTS", "GroomingInspection", "GroomingResult", "BreakLog",
]
