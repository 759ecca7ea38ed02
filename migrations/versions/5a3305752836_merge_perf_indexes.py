"""merge perf indexes

Revision ID: 5a3305752836
Revises: 1d401546dcd7, e4147136362f
Create Date: 2026-11-27 20:23:59.282865

"""
from alembic import op
import sqlalchemy as sa
import portal.models.base


# revision identifiers, used by Alembic.
revision = '5a3305752836'
down_revision = ('1d401546dcd7', 'e4147136362f')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
