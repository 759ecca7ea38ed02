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

# Phase 2: the domain lists, scoped to a site (or the scope's IN) and sorted by their date
# column, read one index range in order instead of sorting the scope's rows.
from portal.models.checklists import ChecklistRun  # noqa: E402
from portal.models.consumables import StockMovement  # noqa: E402
from portal.models.handover import HandoverEntry  # noqa: E402
from portal.models.inventory import ItemCheck, ItemCheckLine  # noqa: E402
from portal.models.repairs import RepairTicket  # noqa: E402

Index("ix_stock_movement_site_id_at", StockMovement.site_id, StockMovement.at)
Index("ix_stock_movement_at", StockMovement.at)  # the ledger's sortable column, all sites
Index("ix_checklist_run_site_id_day", ChecklistRun.site_id, ChecklistRun.day)
Index("ix_item_check_site_id_day", ItemCheck.site_id, ItemCheck.day)
# The discrepancy list: discrepancies only, newest day first.
Index("ix_item_check_line_discrepancy_day", ItemCheckLine.is_discrepancy, ItemCheckLine.day)
Index("ix_handover_entry_site_id_written_at", HandoverEntry.site_id, HandoverEntry.written_at)
# The maintenance queue: the scope's open tickets by due date.
Index("ix_repair_ticket_site_id_due_at", RepairTicket.site_id, RepairTicket.due_at)
