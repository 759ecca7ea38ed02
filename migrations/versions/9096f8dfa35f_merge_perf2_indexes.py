"""merge perf2 indexes

Revision ID: 9096f8dfa35f
Revises: 7a438871b814, c19e5502dc82
Create Date: 2026-11-27 21:21:37.518168

"""
from alembic import op
import sqlalchemy as sa
import portal.models.base


# revision identifiers, used by Alembic.
revision = '9096f8dfa35f'
down_revision = ('7a438871b814', 'c19e5502dc82')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
