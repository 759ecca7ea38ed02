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
