"""day rules: the quantity a damage report wrote off its item

Revision ID: d4a7c2e9b1f6
Revises: b5e2d7a1c9f4
Create Date: 2026-12-04 17:25:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4a7c2e9b1f6"
down_revision = "b5e2d7a1c9f4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("damage_report") as batch:
        batch.add_column(sa.Column("written_off_quantity", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("damage_report") as batch:
        batch.drop_column("written_off_quantity")
