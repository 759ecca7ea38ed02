"""visit tour times: when the salesperson started and ended the tour of the show unit

Revision ID: a7c4e2b9d5f1
Revises: f3b8d1c6a2e7
Create Date: 2026-12-04 20:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7c4e2b9d5f1"
down_revision = "f3b8d1c6a2e7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("visit") as batch:
        batch.add_column(sa.Column("tour_started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("tour_ended_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("visit") as batch:
        batch.drop_column("tour_ended_at")
        batch.drop_column("tour_started_at")
