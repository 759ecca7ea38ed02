"""All models, imported here so Alembic and the scope registry see every table."""
from portal.models.audit import AuditEvent
from portal.models.base import SiteScopedMixin, SoftDeleteMixin, TimestampMixin, UTCDateTime, utcnow
from portal.models.checklists import (CHECKLIST_KINDS, FOLLOW_UP_STATUSES, ITEM_KINDS, ChecklistAnswer,
                                      ChecklistFollowUp, ChecklistItem, ChecklistRun, ChecklistTemplate)
from portal.models.inventory import CONDITIONS, ITEM_CATEGORIES, ITEM_CHECK_KINDS, Item, ItemCheck, ItemCheckLine
from portal.models.org import ROLES, STAFF_KINDS, Region, ShowUnit, Site, StaffMember, User, user_region, user_site

__all__ = [
    "AuditEvent", "SiteScopedMixin", "SoftDeleteMixin", "TimestampMixin", "UTCDateTime", "utcnow",
    "ROLES", "STAFF_KINDS", "Region", "ShowUnit", "Site", "StaffMember", "User", "user_region", "user_site",
    "CHECKLIST_KINDS", "FOLLOW_UP_STATUSES", "ITEM_KINDS", "ChecklistAnswer", "ChecklistFollowUp", "ChecklistItem",
    "ChecklistRun", "ChecklistTemplate",
    "CONDITIONS", "ITEM_CATEGORIES", "ITEM_CHECK_KINDS", "Item", "ItemCheck", "ItemCheckLine",
]
