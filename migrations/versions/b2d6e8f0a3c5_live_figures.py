"""live figures: a period's drinks found from its stock movements; counts of past days kept

Revision ID: b2d6e8f0a3c5
Revises: a7c4e2b9d5f1
Create Date: 2026-12-04 23:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b2d6e8f0a3c5"
down_revision = "a7c4e2b9d5f1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_consumption_line_movement_id", "consumption_line", ["movement_id"])
    op.create_index("ix_daily_tally_closed_at", "daily_tally", ["closed_at"])
    op.create_table(
        "day_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("figure", sa.String(length=64), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "site_id", "figure", "zone", "day", name="uq_day_count_site_figure_zone_day"
        ),
    )
    op.create_index("ix_day_count_site_id", "day_count", ["site_id"], unique=False)


def downgrade():
    op.drop_index("ix_day_count_site_id", table_name="day_count")
    op.drop_table("day_count")
    op.drop_index("ix_daily_tally_closed_at", table_name="daily_tally")
    op.drop_index("ix_consumption_line_movement_id", table_name="consumption_line")
