"""audit events that change records, by type (latest_change without counting logins)

Revision ID: 5b8e2d41c9a7
Revises: 213c98c4c40b
Create Date: 2026-12-03 10:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b8e2d41c9a7'
down_revision = '213c98c4c40b'
branch_labels = None
depends_on = None

CHANGES_ONLY = sa.text("action <> 'login'")


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_changes_by_type', ['object_type', 'id'], unique=False,
                              postgresql_where=CHANGES_ONLY, sqlite_where=CHANGES_ONLY)


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_changes_by_type')
