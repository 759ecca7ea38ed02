"""merge links

Revision ID: c19e5502dc82
Revises: 5a3305752836, 8e92f3cdcd92
Create Date: 2026-11-27 21:21:15.666822

"""
from alembic import op
import sqlalchemy as sa
import portal.models.base


# revision identifiers, used by Alembic.
revision = 'c19e5502dc82'
down_revision = ('5a3305752836', '8e92f3cdcd92')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
