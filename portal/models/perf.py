"""Indexes for the list views at scale (hundreds of sites, years of rows): scope + sort, and
every sortable column.

Kept apart from the domain models so they are reviewed together with the benchmark.
"""

from sqlalchemy import Index

from portal.models.audit import CHANGES_ONLY, AuditEvent
from portal.models.org import ShowUnit, StaffMember

# The audit list of one site (or a handful: the scope's IN) newest first: no sort of the site's
# rows.
Index("ix_audit_event_site_id_at", AuditEvent.site_id, AuditEvent.at)
# Sortable columns of the organisation lists (column_sortable_list).
Index("ix_staff_member_name", StaffMember.name)
Index("ix_show_unit_name", ShowUnit.name)

# The domain lists, scoped to a site (or the scope's IN) and sorted by their date
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
# The discrepancy list: discrepancies only, newest day first. Partial: it holds the few lines
# that are discrepancies, and its size tells SQLite's planner so (with an index on the flag it
# expects half the lines and builds Bloom filters over every joined table, 20× slower).
DISCREPANCIES_ONLY = ItemCheckLine.is_discrepancy.is_(True)
Index(
    "ix_item_check_line_discrepancies_by_day",
    ItemCheckLine.day,
    postgresql_where=DISCREPANCIES_ONLY,
    sqlite_where=DISCREPANCIES_ONLY,
)
Index("ix_handover_entry_site_id_written_at", HandoverEntry.site_id, HandoverEntry.written_at)
# The maintenance queue: the scope's open tickets by due date.
Index("ix_repair_ticket_site_id_due_at", RepairTicket.site_id, RepairTicket.due_at)

# What the Today page and the queues read — the open work of one site — must not
# walk the site's whole history. Partial indexes hold only the open rows (a few per site),
# so they stay small however many years are kept; SQLite and PostgreSQL both use them when
# the query repeats the index's condition (``left_at IS NULL`` ...).
from sqlalchemy import text  # noqa: E402

from portal.models.breaks import BreakLog  # noqa: E402
from portal.models.cleaning import CleaningIssue  # noqa: E402
from portal.models.handover import HandoverItem  # noqa: E402
from portal.models.visits import Visit  # noqa: E402


def _partial(name, *columns, where):
    return Index(name, *columns, sqlite_where=text(where), postgresql_where=text(where))


_partial("ix_visit_open", Visit.site_id, Visit.arrived_at, where="left_at IS NULL")
_partial(
    "ix_handover_entry_unsigned",
    HandoverEntry.site_id,
    HandoverEntry.written_at,
    where="signed_at IS NULL",
)
_partial("ix_break_log_open", BreakLog.staff_member_id, where="ended_at IS NULL")
Index("ix_break_log_site_id_started_at", BreakLog.site_id, BreakLog.started_at)
Index("ix_handover_item_site_id_status", HandoverItem.site_id, HandoverItem.status)
Index(
    "ix_cleaning_issue_site_id_status_due_at",
    CleaningIssue.site_id,
    CleaningIssue.status,
    CleaningIssue.due_at,
)
# A site's discrepancies waiting for the supervisor, newest day first.
Index(
    "ix_item_check_line_site_open_discrepancy",
    ItemCheckLine.site_id,
    ItemCheckLine.is_discrepancy,
    ItemCheckLine.dealt_with,
    ItemCheckLine.day,
)
# "Resolved tickets waiting for you" in the navbar: the reporter's tickets by status.
Index("ix_repair_ticket_reporter_id_status", RepairTicket.reporter_id, RepairTicket.status)
# Navbar counters on every page (portal.services.notifications): open tickets past due, the
# assignee's new tickets, the salesperson's reports to confirm — not a walk over past tickets.
from portal.models.damage import DamageReport  # noqa: E402

Index("ix_repair_ticket_status_due_at", RepairTicket.status, RepairTicket.due_at)
Index(
    "ix_repair_ticket_site_id_status_due_at",
    RepairTicket.site_id,
    RepairTicket.status,
    RepairTicket.due_at,
)
Index("ix_repair_ticket_assignee_id_status", RepairTicket.assignee_id, RepairTicket.status)
Index("ix_damage_report_salesperson_id_status", DamageReport.salesperson_id, DamageReport.status)
# Each site's data version (portal.services.audit.site_versions): its latest audit event, one index
# lookup per site. (SQLite's site_id index already ends with the rowid; PostgreSQL needs the id.)
Index("ix_audit_event_site_id_id", AuditEvent.site_id, AuditEvent.id)
# The newest change to records of one type (audit.latest_change), one index lookup per type
# however many logins have been recorded since.
Index(
    "ix_audit_event_changes_by_type",
    AuditEvent.object_type,
    AuditEvent.id,
    postgresql_where=CHANGES_ONLY,
    sqlite_where=CHANGES_ONLY,
)
# Head office's list of closed tallies, newest business day first across every site.
from portal.models.consumables import DailyTally  # noqa: E402

Index("ix_daily_tally_day", DailyTally.day)
# The grooming page of one site and period (the dashboard's grooming drill-down).
from portal.models.grooming import GroomingInspection  # noqa: E402

Index(
    "ix_grooming_inspection_site_id_inspected_at",
    GroomingInspection.site_id,
    GroomingInspection.inspected_at,
)
# The cleaning issues raised at the scope's sites in a period (the dashboard's cleaning figures,
# "cleaning issues overdue" on every view; the issue list's "raised" filter): one index range
# per site instead of every issue the site ever had.
Index("ix_cleaning_issue_site_id_created_at", CleaningIssue.site_id, CleaningIssue.created_at)
