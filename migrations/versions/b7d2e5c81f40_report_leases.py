"""report leases: a few slow reports at a time per user, shared by every worker

Revision ID: b7d2e5c81f40
Revises: 80ec9c5e2f50
Create Date: 2026-12-04 09:40:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base


# revision identifiers, used by Alembic.
revision = 'b7d2e5c81f40'
down_revision = '80ec9c5e2f50'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_lease',
        sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('slot', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('expires_at', portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id', 'slot', name=op.f('pk_report_lease')),
    )


def downgrade():
    op.drop_table('report_lease')
