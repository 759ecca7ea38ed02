"""period facts: the histories a past period's figures are read from

* ``repair_event`` becomes insert-only and keeps the due time a report or reopen set;
* ``cleaning_issue_event``: raised / fixed / verified / reopened, with their times;
* ``staff_spell``: when a person joined and left a site's roster;
* ``product.withdrawn_at``: when a product stopped being offered.

Existing rows get the history their current columns still tell (a reopen before this
migration had already erased the earlier fix; nothing can bring that back).

Revision ID: 84acbe5627a9
Revises: 15d1ac79ab34
Create Date: 2026-12-05 09:00:00

"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "84acbe5627a9"
down_revision = "15d1ac79ab34"
branch_labels = None
depends_on = None

# The portal's default due hours by priority when this was written (a reopen or a report whose
# due time the ticket no longer holds gets its due time from these).
DUE_HOURS = {"urgent": 4, "high": 24, "normal": 72, "low": 168}
OPEN_STATUSES = ("new", "assigned", "in_progress", "waiting_parts")


def _append_only(table, allow_update_where=None):
    """Triggers refusing every DELETE of ``table``, and every UPDATE unless ``allow_update_where``
    (the SQL of portal/models/append_only.py as it was written; PostgreSQL's function
    ``portal_append_only`` exists since the initial revision)."""
    if op.get_context().dialect.name == "sqlite":
        refuse = "BEGIN SELECT RAISE(ABORT, 'append-only'); END"
    else:
        refuse = "EXECUTE FUNCTION portal_append_only()"
    when = f" WHEN (NOT ({allow_update_where}))" if allow_update_where else ""
    op.execute(
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} FOR EACH ROW{when} {refuse}"
    )
    op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} FOR EACH ROW {refuse}")


def _drop_append_only(table):
    on = f" ON {table}" if op.get_context().dialect.name == "postgresql" else ""
    for name in ("no_update", "no_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_{name}{on}")


def upgrade():
    # ---- repair tickets: the due time on the events, history for tickets that had none
    op.add_column("repair_event", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_repair_event_site_at", "repair_event", ["site_id", "at"])
    _backfill_repair_events()
    _append_only("repair_event")

    # ---- cleaning issues
    op.create_table(
        "cleaning_issue_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["cleaning_issue.id"],
            name=op.f("fk_cleaning_issue_event_issue_id_cleaning_issue"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_cleaning_issue_event_site_id_site")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_cleaning_issue_event_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleaning_issue_event")),
    )
    op.create_index(op.f("ix_cleaning_issue_event_issue_id"), "cleaning_issue_event", ["issue_id"])
    op.create_index(op.f("ix_cleaning_issue_event_site_id"), "cleaning_issue_event", ["site_id"])
    op.create_index("ix_cleaning_issue_event_site_at", "cleaning_issue_event", ["site_id", "at"])
    _backfill_cleaning_events()
    _append_only("cleaning_issue_event")

    # ---- staff on a site's roster
    op.create_table(
        "staff_spell",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_member_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_staff_spell_site_id_site")),
        sa.ForeignKeyConstraint(
            ["staff_member_id"],
            ["staff_member.id"],
            name=op.f("fk_staff_spell_staff_member_id_staff_member"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_spell")),
    )
    op.create_index(op.f("ix_staff_spell_site_id"), "staff_spell", ["site_id"])
    op.create_index(op.f("ix_staff_spell_staff_member_id"), "staff_spell", ["staff_member_id"])
    op.create_index("ix_staff_spell_site_joined", "staff_spell", ["site_id", "joined_at"])
    # Joined when the record was made; a person no longer active left at his last change.
    op.execute(
        "INSERT INTO staff_spell (site_id, staff_member_id, joined_at, left_at) "
        "SELECT site_id, id, created_at, CASE WHEN active THEN NULL ELSE updated_at END "
        "FROM staff_member ORDER BY id"
    )
    _append_only("staff_spell", allow_update_where="OLD.left_at IS NULL")

    # ---- products
    op.add_column("product", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE product SET withdrawn_at = CASE WHEN deleted_at IS NOT NULL THEN deleted_at "
        "ELSE updated_at END WHERE deleted_at IS NOT NULL OR NOT active"
    )


def _backfill_repair_events():
    conn = op.get_bind()
    ticket = sa.table(
        "repair_ticket",
        sa.column("id", sa.Integer),
        sa.column("site_id", sa.Integer),
        sa.column("priority", sa.String),
        sa.column("status", sa.String),
        sa.column("due_at", sa.DateTime(timezone=True)),
        sa.column("reporter_id", sa.Integer),
        sa.column("assignee_id", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("resolved_at", sa.DateTime(timezone=True)),
        sa.column("closed_at", sa.DateTime(timezone=True)),
    )
    event = sa.table(
        "repair_event",
        sa.column("id", sa.Integer),
        sa.column("site_id", sa.Integer),
        sa.column("ticket_id", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("user_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("action", sa.String),
        sa.column("from_status", sa.String),
        sa.column("to_status", sa.String),
        sa.column("due_at", sa.DateTime(timezone=True)),
    )
    # Tickets written without a timeline (bulk imports): the steps their columns still show.
    has_status_event = (
        sa.select(event.c.id)
        .where(event.c.ticket_id == ticket.c.id, event.c.to_status.is_not(None))
        .exists()
    )
    rows = conn.execute(sa.select(ticket).where(~has_status_event).order_by(ticket.c.id)).all()
    new_events = []
    for t in rows:
        steps = [("report", None, None, "new", t.reporter_id, t.created_at, t.due_at)]
        if t.status in OPEN_STATUSES and t.status != "new":
            steps.append(("transition", None, "new", t.status, None, t.updated_at, None))
        if t.resolved_at is not None:
            steps.append(("transition", "resolve", "new", "resolved", t.assignee_id,
                          t.resolved_at, None))  # fmt: skip
        if t.closed_at is not None:
            steps.append(("transition", "close", "resolved", "closed", None, t.closed_at, None))
        new_events += [
            {
                "site_id": t.site_id,
                "ticket_id": t.id,
                "kind": kind,
                "action": action,
                "from_status": before,
                "to_status": after,
                "user_id": who,
                "at": at,
                "due_at": due,
            }
            for kind, action, before, after, who, at, due in steps
            if at is not None
        ]
    if new_events:
        conn.execute(sa.insert(event), new_events)
    # The due time each report and reopen set: the ticket still holds its latest one; the
    # earlier ones follow from the priority.
    stmt = (
        sa.select(event.c.id, event.c.ticket_id, event.c.at, ticket.c.priority, ticket.c.due_at)
        .join(ticket, ticket.c.id == event.c.ticket_id)
        .where(
            event.c.due_at.is_(None),
            sa.or_(event.c.kind == "report", event.c.action == "reopen"),
        )
        .order_by(event.c.ticket_id, event.c.at, event.c.id)
    )
    setters = list(conn.execute(stmt))
    last = {}
    for row in setters:
        last[row.ticket_id] = row.id
    for row in setters:
        if last[row.ticket_id] == row.id:
            due = row.due_at
        else:
            due = row.at + timedelta(hours=DUE_HOURS.get(row.priority, 72))
        conn.execute(sa.update(event).where(event.c.id == row.id).values(due_at=due))


def _backfill_cleaning_events():
    # Raised when the issue was made (with its due time, unless a reopen has moved it since),
    # fixed and verified at the times the issue still holds.
    op.execute(
        "INSERT INTO cleaning_issue_event (site_id, issue_id, at, user_id, action, to_status, "
        "due_at) SELECT site_id, id, created_at, created_by_id, 'raised', 'open', "
        "CASE WHEN reopen_count = 0 THEN due_at ELSE NULL END FROM cleaning_issue ORDER BY id"
    )
    op.execute(
        "INSERT INTO cleaning_issue_event (site_id, issue_id, at, user_id, action, to_status) "
        "SELECT site_id, id, fixed_at, fixed_by_id, 'fixed', 'fixed' FROM cleaning_issue "
        "WHERE fixed_at IS NOT NULL ORDER BY id"
    )
    op.execute(
        "INSERT INTO cleaning_issue_event (site_id, issue_id, at, user_id, action, to_status) "
        "SELECT site_id, id, verified_at, verified_by_id, 'verified', 'verified' "
        "FROM cleaning_issue WHERE verified_at IS NOT NULL AND status = 'verified' ORDER BY id"
    )


def downgrade():
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")

    _drop_append_only("staff_spell")
    op.drop_index("ix_staff_spell_site_joined", table_name="staff_spell")
    op.drop_index(op.f("ix_staff_spell_staff_member_id"), table_name="staff_spell")
    op.drop_index(op.f("ix_staff_spell_site_id"), table_name="staff_spell")
    op.drop_table("staff_spell")

    _drop_append_only("cleaning_issue_event")
    op.drop_index("ix_cleaning_issue_event_site_at", table_name="cleaning_issue_event")
    op.drop_index(op.f("ix_cleaning_issue_event_site_id"), table_name="cleaning_issue_event")
    op.drop_index(op.f("ix_cleaning_issue_event_issue_id"), table_name="cleaning_issue_event")
    op.drop_table("cleaning_issue_event")

    _drop_append_only("repair_event")
    op.drop_index("ix_repair_event_site_at", table_name="repair_event")
    with op.batch_alter_table("repair_event", schema=None) as batch_op:
        batch_op.drop_column("due_at")
