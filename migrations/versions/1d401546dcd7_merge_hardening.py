"""merge hardening

Revision ID: 1d401546dcd7
Revises: 0d18dbd906f8, 79eb39f68435
Create Date: 2026-11-27 20:15:09.115656

"""
from alembic import op
import sqlalchemy as sa
import portal.models.base


# revision identifiers, used by Alembic.
revision = '1d401546dcd7'
down_revision = ('0d18dbd906f8', '79eb39f68435')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
