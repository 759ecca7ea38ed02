"""cleaning issues by site and the time they were raised (the dashboard's cleaning figures)

Revision ID: a3f19c6d2b74
Revises: 9c4d7e2a1f08
Create Date: 2026-12-03 13:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a3f19c6d2b74'
down_revision = '9c4d7e2a1f08'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cleaning_issue', schema=None) as batch_op:
        batch_op.create_index('ix_cleaning_issue_site_id_created_at', ['site_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('cleaning_issue', schema=None) as batch_op:
        batch_op.drop_index('ix_cleaning_issue_site_id_created_at')
