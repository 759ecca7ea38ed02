"""grooming points per post, item checks confirmed per category

Head office's list of grooming points per post (seeded with the defaults), results keeping
their point's label; item checks confirmed per category and counted by hand.

Revision ID: f3b8d1c6a2e7
Revises: d4a7c2e9b1f6
Create Date: 2026-12-04 20:20:00

"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f3b8d1c6a2e7"
down_revision = "d4a7c2e9b1f6"
branch_labels = None
depends_on = None

# The defaults, written out here: a migration never imports application code.
DEFAULT_POINTS = {
    "clerk": (
        ("uniform", "制服整洁，佩戴工牌"),
        ("stockings_shoes", "肤色丝袜，黑色正装鞋"),
        ("nails", "短指甲，浅色或透明指甲油"),
        ("ring", "戒指不超过一枚"),
        ("earrings", "只戴小耳环"),
        ("makeup", "淡妆，暖色系"),
        ("hair", "发型整洁；长发用黑色发夹盘起"),
        ("conduct", "仪态与行为：不倚靠、不闲聊、不玩手机、不谈论销售"),
    ),
    "security": (
        ("uniform", "制服整洁，佩戴工牌"),
        ("cap_belt", "帽子、腰带佩戴规范"),
        ("shoes", "黑色皮鞋干净"),
        ("hair", "短发整齐，不留胡须"),
        ("nails", "指甲短而干净"),
        ("posture", "站姿端正，不倚靠"),
        ("conduct", "岗位上不玩手机、不聊天"),
    ),
}


def upgrade():
    points = op.create_table(
        "grooming_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=30), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_grooming_point_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_grooming_point_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grooming_point")),
        sa.UniqueConstraint("post", "key", name=op.f("uq_grooming_point_post")),
    )
    op.create_index(op.f("ix_grooming_point_post"), "grooming_point", ["post"])
    now = datetime.now(timezone.utc)
    op.bulk_insert(
        points,
        [
            {
                "post": post,
                "key": key,
                "label": label,
                "position": position,
                "active": True,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for post, rows in DEFAULT_POINTS.items()
            for position, (key, label) in enumerate(rows, start=1)
        ],
    )
    # Plain ADD COLUMN (no table copy on SQLite, so the tables keep their triggers).
    op.add_column("grooming_result", sa.Column("point_label", sa.String(length=200), nullable=True))
    op.add_column(
        "item_check", sa.Column("confirmed_categories", sa.String(length=200), nullable=True)
    )
    op.add_column("item_check_line", sa.Column("count_entered", sa.Boolean(), nullable=True))


def downgrade():
    op.drop_column("item_check_line", "count_entered")
    op.drop_column("item_check", "confirmed_categories")
    op.drop_column("grooming_result", "point_label")
    op.drop_index(op.f("ix_grooming_point_post"), table_name="grooming_point")
    op.drop_table("grooming_point")
