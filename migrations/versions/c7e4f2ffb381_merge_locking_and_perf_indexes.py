"""merge locking and perf indexes

Revision ID: c7e4f2ffb381
Revises: 0d1460261cc7, 794475695386
Create Date: 2026-11-27 22:49:49.006557

"""
from alembic import op
import sqlalchemy as sa
import portal.models.base


# revision identifiers, used by Alembic.
revision = 'c7e4f2ffb381'
down_revision = ('0d1460261cc7', '794475695386')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
