"""day figures: a running month's figures kept per site and local day, with the days' changes

Revision ID: c5e1f7a9d3b2
Revises: b2d6e8f0a3c5
Create Date: 2026-12-05 20:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c5e1f7a9d3b2"
down_revision = "b2d6e8f0a3c5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "day_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "day", name="uq_day_change_site_day"),
    )
    op.create_index("ix_day_change_site_id", "day_change", ["site_id"], unique=False)
    op.create_table(
        "day_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("figure", sa.String(length=64), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stamp", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "site_id", "figure", "zone", "day", name="uq_day_figure_site_figure_zone_day"
        ),
    )
    op.create_index("ix_day_figure_site_id", "day_figure", ["site_id"], unique=False)


def downgrade():
    op.drop_index("ix_day_figure_site_id", table_name="day_figure")
    op.drop_table("day_figure")
    op.drop_index("ix_day_change_site_id", table_name="day_change")
    op.drop_table("day_change")
