"""optimistic locking on the records people edit in admin forms: a version column

Revision ID: 794475695386
Revises: f1a2b3c4d5e6
Create Date: 2026-11-27 22:20:01.604561

Existing rows start at version 1 (server default). On SQLite, adding a column with a constant
default is a plain ``ALTER TABLE``, but dropping it (downgrade) rebuilds the table and with it
loses the triggers that freeze signed handover entries: they are created again afterwards.
"""
import sqlalchemy as sa
from alembic import op

from portal.models.append_only import append_only_ddl, drop_append_only_ddl


# revision identifiers, used by Alembic.
revision = '794475695386'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None

TABLES = ('checklist_template', 'cleaning_area', 'handover_entry', 'item', 'item_check_line', 'product',
          'region', 'shift', 'show_unit', 'visit')
# Same condition as migration f1a2b3c4d5e6 and the model (portal/models/handover.py).
FROZEN = ('handover_entry', 'OLD.signed_at IS NULL')


def _refreeze():
    table, condition = FROZEN
    dialect = op.get_bind().dialect.name
    for statement in drop_append_only_ddl(table, dialect) + append_only_ddl(table, dialect, condition):
        op.execute(statement)


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    _refreeze()


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
    _refreeze()
