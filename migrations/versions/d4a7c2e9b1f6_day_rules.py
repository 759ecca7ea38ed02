"""day rules: the quantity a damage report wrote off its item; why a tally closed early

Revision ID: d4a7c2e9b1f6
Revises: e4a9c3d17b20
Create Date: 2026-12-04 17:25:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4a7c2e9b1f6"
down_revision = "e4a9c3d17b20"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no table copy on SQLite, so the tables keep their triggers).
    op.add_column("damage_report", sa.Column("written_off_quantity", sa.Integer(), nullable=True))
    op.add_column("daily_tally", sa.Column("early_reason", sa.Text(), nullable=True))


def downgrade():
    op.drop_column("daily_tally", "early_reason")
    op.drop_column("damage_report", "written_off_quantity")
