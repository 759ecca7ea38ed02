"""The histories of rows the demo and benchmark data bulk-insert without them.

The domains' services write a ticket's or an issue's events and a person's roster spells in the
same transaction as the change. Bulk-inserted history (``history(past)``, ``generate(ctx)``)
skips the services, so the steps its columns show are written here afterwards, in a few
statements: reported / raised at ``created_at`` with its due time, resolved, closed, fixed and
verified at their times; on the roster from ``created_at`` (to ``updated_at`` for someone no
longer active); a change noted on every day a site worked. Rows that already have a history
are left alone."""

from sqlalchemy import text

from portal.extensions import db

STATEMENTS = [
    # Tickets: the report, then resolved and closed when the ticket says so.
    "INSERT INTO repair_event (site_id, ticket_id, at, user_id, kind, to_status, due_at) "
    "SELECT t.site_id, t.id, t.created_at, t.reporter_id, 'report', 'new', t.due_at "
    "FROM repair_ticket t WHERE NOT EXISTS (SELECT 1 FROM repair_event e "
    "WHERE e.ticket_id = t.id AND e.to_status IS NOT NULL) ORDER BY t.id",
    "INSERT INTO repair_event (site_id, ticket_id, at, user_id, kind, action, from_status, "
    "to_status) SELECT t.site_id, t.id, t.resolved_at, t.assignee_id, 'transition', 'resolve', "
    "'in_progress', 'resolved' FROM repair_ticket t WHERE t.resolved_at IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM repair_event e WHERE e.ticket_id = t.id "
    "AND e.to_status IS NOT NULL AND e.kind <> 'report') ORDER BY t.id",
    "INSERT INTO repair_event (site_id, ticket_id, at, kind, action, from_status, to_status) "
    "SELECT t.site_id, t.id, t.closed_at, 'transition', 'close', 'resolved', 'closed' "
    "FROM repair_ticket t WHERE t.closed_at IS NOT NULL AND NOT EXISTS (SELECT 1 "
    "FROM repair_event e WHERE e.ticket_id = t.id AND e.to_status = 'closed') ORDER BY t.id",
    # Cleaning issues: raised, fixed, verified.
    "INSERT INTO cleaning_issue_event (site_id, issue_id, at, user_id, action, to_status, due_at) "
    "SELECT i.site_id, i.id, i.created_at, i.created_by_id, 'raised', 'open', i.due_at "
    "FROM cleaning_issue i WHERE NOT EXISTS (SELECT 1 FROM cleaning_issue_event e "
    "WHERE e.issue_id = i.id) ORDER BY i.id",
    "INSERT INTO cleaning_issue_event (site_id, issue_id, at, user_id, action, to_status) "
    "SELECT i.site_id, i.id, i.fixed_at, i.fixed_by_id, 'fixed', 'fixed' FROM cleaning_issue i "
    "WHERE i.fixed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cleaning_issue_event e "
    "WHERE e.issue_id = i.id AND e.action = 'fixed') ORDER BY i.id",
    "INSERT INTO cleaning_issue_event (site_id, issue_id, at, user_id, action, to_status) "
    "SELECT i.site_id, i.id, i.verified_at, i.verified_by_id, 'verified', 'verified' "
    "FROM cleaning_issue i WHERE i.status = 'verified' AND i.verified_at IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM cleaning_issue_event e WHERE e.issue_id = i.id "
    "AND e.action = 'verified') ORDER BY i.id",
    # Every day a site worked was written to (its tally closed, at least): the day's generation,
    # which the running month's kept figures are checked against (``services/day_figures``).
    "INSERT INTO day_change (site_id, day, generation) SELECT t.site_id, t.day, 1 "
    "FROM daily_tally t WHERE NOT EXISTS (SELECT 1 FROM day_change c "
    "WHERE c.site_id = t.site_id AND c.day = t.day) ORDER BY t.site_id, t.day",
    # People on the roster.
    "INSERT INTO staff_spell (site_id, staff_member_id, joined_at, left_at) "
    "SELECT s.site_id, s.id, s.created_at, CASE WHEN s.active THEN NULL ELSE s.updated_at END "
    "FROM staff_member s WHERE NOT EXISTS (SELECT 1 FROM staff_spell p "
    "WHERE p.staff_member_id = s.id) ORDER BY s.id",
]


def derive_history():
    """Write the missing histories (in the session's transaction)."""
    for statement in STATEMENTS:
        db.session.execute(text(statement))
