"""the discrepancy list's index holds discrepancies only (partial)

Revision ID: 9c4d7e2a1f08
Revises: 5b8e2d41c9a7
Create Date: 2026-12-03 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c4d7e2a1f08'
down_revision = '5b8e2d41c9a7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('item_check_line', schema=None) as batch_op:
        batch_op.drop_index('ix_item_check_line_discrepancy_day')
        # Written as each database renders ``is_discrepancy IS true`` in queries, so they match.
        batch_op.create_index('ix_item_check_line_discrepancies_by_day', ['day'], unique=False,
                              sqlite_where=sa.text('is_discrepancy IS 1'),
                              postgresql_where=sa.text('is_discrepancy IS true'))


def downgrade():
    with op.batch_alter_table('item_check_line', schema=None) as batch_op:
        batch_op.drop_index('ix_item_check_line_discrepancies_by_day')
        batch_op.create_index('ix_item_check_line_discrepancy_day', ['is_discrepancy', 'day'], unique=False)
