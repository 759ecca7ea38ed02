"""live figures: a period's drinks are found from the stock movements of its days

Revision ID: b2d6e8f0a3c5
Revises: a7c4e2b9d5f1
Create Date: 2026-12-04 23:40:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "b2d6e8f0a3c5"
down_revision = "a7c4e2b9d5f1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_consumption_line_movement_id", "consumption_line", ["movement_id"])


def downgrade():
    op.drop_index("ix_consumption_line_movement_id", table_name="consumption_line")
