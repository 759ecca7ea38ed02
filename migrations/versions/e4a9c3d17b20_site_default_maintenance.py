"""site default maintenance: the worker a new repair ticket of the site goes to

Revision ID: e4a9c3d17b20
Revises: c8f1a2d4e6b0
Create Date: 2026-12-04 17:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e4a9c3d17b20"
down_revision = "c8f1a2d4e6b0"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("site") as batch:
        batch.add_column(sa.Column("default_maintenance_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_site_default_maintenance_id_user_account"),
            "user_account",
            ["default_maintenance_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("site") as batch:
        batch.drop_constraint(
            batch.f("fk_site_default_maintenance_id_user_account"), type_="foreignkey"
        )
        batch.drop_column("default_maintenance_id")
