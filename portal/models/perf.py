"""Indexes for the list views at scale (issue 7): scope + sort, and every sortable column.

Kept apart from the domain models so they are reviewed together with the benchmark.
"""
from sqlalchemy import Index

from portal.models.audit import AuditEvent
from portal.models.org import ShowUnit, StaffMember

# The audit list of one site (or a handful: the scope's IN) newest first: no sort of the site's rows.
Index("ix_audit_event_site_id_at", AuditEvent.site_id, AuditEvent.at)
# Sortable columns of the organisation lists (column_sortable_list).
Index("ix_staff_member_name", StaffMember.name)
Index("ix_show_unit_name", ShowUnit.name)
