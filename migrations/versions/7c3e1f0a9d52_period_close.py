"""month close: stored figures of closed months and the corrections made after a close

Revision ID: 7c3e1f0a9d52
Revises: 84acbe5627a9
Create Date: 2026-12-04 13:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "7c3e1f0a9d52"
down_revision = "84acbe5627a9"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "period_close",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("source_event_id", sa.Integer(), nullable=False),
        sa.Column("reclosed", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["closed_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "period", name="uq_period_close_site_period"),
    )
    op.create_index("ix_period_close_site_id", "period_close", ["site_id"], unique=False)
    op.create_table(
        "period_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("figure", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Numeric(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_event_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "site_id", "period", "figure", name="uq_period_figure_site_period_figure"
        ),
    )
    op.create_index("ix_period_figure_site_id", "period_figure", ["site_id"], unique=False)
    op.create_table(
        "period_amendment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_period_amendment_open",
        "period_amendment",
        ["site_id", "period", "settled_at"],
        unique=False,
    )
    op.create_index("ix_period_amendment_site_id", "period_amendment", ["site_id"], unique=False)


def downgrade():
    op.drop_index("ix_period_amendment_site_id", table_name="period_amendment")
    op.drop_index("ix_period_amendment_open", table_name="period_amendment")
    op.drop_table("period_amendment")
    op.drop_index("ix_period_figure_site_id", table_name="period_figure")
    op.drop_table("period_figure")
    op.drop_index("ix_period_close_site_id", table_name="period_close")
    op.drop_table("period_close")
