"""merge handover

Revision ID: b8fb54c10bb2
Revises: 591508d3266d, 938cfaf7d8db
Create Date: 2026-11-27 19:57:09.462551

"""
from alembic import op
import sqlalchemy as sa
import portal.models.base


# revision identifiers, used by Alembic.
revision = 'b8fb54c10bb2'
down_revision = ('591508d3266d', '938cfaf7d8db')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
