"""merge checklists and inventory

Revision ID: 79eb39f68435
Revises: b8fb54c10bb2, e12e6a00d595
Create Date: 2026-11-27 20:05:00.985574

"""
from alembic import op
import sqlalchemy as sa
import portal.models.base


# revision identifiers, used by Alembic.
revision = '79eb39f68435'
down_revision = ('b8fb54c10bb2', 'e12e6a00d595')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
