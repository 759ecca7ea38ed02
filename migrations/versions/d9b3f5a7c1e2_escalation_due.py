"""escalation due: an overdue record's escalation is kept per due time it passed

Revision ID: d9b3f5a7c1e2
Revises: c5e1f7a9d3b2
Create Date: 2026-12-06 00:10:00

"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d9b3f5a7c1e2"
down_revision = "c5e1f7a9d3b2"
branch_labels = None
depends_on = None

# The models' NO_DUE: the due time of an escalation whose rule watches none.
NO_DUE = datetime(1970, 1, 1, tzinfo=timezone.utc)


def upgrade():
    with op.batch_alter_table("escalation_sent") as batch:
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    # Escalations sent so far: an overdue record's was about the due time it has now.
    sent = sa.table(
        "escalation_sent",
        sa.column("rule", sa.String),
        sa.column("object_id", sa.Integer),
        sa.column("due_at", sa.DateTime(timezone=True)),
    )
    for rule, table in (
        ("ticket_overdue", "repair_ticket"),
        ("cleaning_overdue", "cleaning_issue"),
    ):
        record = sa.table(table, sa.column("id", sa.Integer), sa.column("due_at"))
        op.execute(
            sent.update()
            .where(sent.c.rule == rule)
            .values(
                due_at=sa.select(record.c.due_at)
                .where(record.c.id == sent.c.object_id)
                .scalar_subquery()
            )
        )
    # The other rules watch no due time (and a claim whose record is gone has none left).
    op.execute(sent.update().where(sent.c.due_at.is_(None)).values(due_at=NO_DUE))
    with op.batch_alter_table("escalation_sent") as batch:
        batch.alter_column("due_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.drop_constraint("uq_escalation_sent_rule_object_level", type_="unique")
        batch.create_unique_constraint(
            "uq_escalation_sent_rule_object_level_due", ["rule", "object_id", "level", "due_at"]
        )


def downgrade():
    # The first escalation of each record and level stays; later ones were for a later due time.
    op.execute(
        "DELETE FROM escalation_sent WHERE id NOT IN "
        "(SELECT min(id) FROM escalation_sent GROUP BY rule, object_id, level)"
    )
    with op.batch_alter_table("escalation_sent") as batch:
        batch.drop_constraint("uq_escalation_sent_rule_object_level_due", type_="unique")
        batch.create_unique_constraint(
            "uq_escalation_sent_rule_object_level", ["rule", "object_id", "level"]
        )
        batch.drop_column("due_at")
