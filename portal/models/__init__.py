"""All models, imported here so Alembic and the scope registry see every table."""
from portal.models.audit import AuditEvent
from portal.models.base import SiteScopedMixin, SoftDeleteMixin, TimestampMixin, UTCDateTime, utcnow
from portal.models import perf  # noqa: F401  (indexes for scale)
from portal.models.org import ROLES, STAFF_KINDS, Region, ShowUnit, Site, StaffMember, User, user_region, user_site

__all__ = [
    "AuditEvent", "SiteScopedMixin", "SoftDeleteMixin", "TimestampMixin", "UTCDateTime", "utcnow",
    "ROLES", "STAFF_KINDS", "Region", "ShowUnit", "Site", "StaffMember", "User", "user_region", "user_site",
]
