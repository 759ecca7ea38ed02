"""merge visits and repairs

Revision ID: 938cfaf7d8db
Revises: 4d281761ecc0, ac89e9d8e0eb
Create Date: 2026-11-27 19:51:21.308715

"""
from alembic import op
import sqlalchemy as sa
import portal.models.base


# revision identifiers, used by Alembic.
revision = '938cfaf7d8db'
down_revision = ('4d281761ecc0', 'ac89e9d8e0eb')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
