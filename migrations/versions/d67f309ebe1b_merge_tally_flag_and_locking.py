"""merge tally flag and locking

Revision ID: d67f309ebe1b
Revises: a7d3c9e1b2f4, c7e4f2ffb381
Create Date: 2026-11-27 22:57:04.653726

"""
from alembic import op
import sqlalchemy as sa
import portal.models.base


# revision identifiers, used by Alembic.
revision = 'd67f309ebe1b'
down_revision = ('a7d3c9e1b2f4', 'c7e4f2ffb381')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
