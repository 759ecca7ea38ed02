"""site life: a site is in set-up, open or closed, with the spells it worked

Revision ID: b5e2d7a1c9f4
Revises: 7c3e1f0a9d52
Create Date: 2026-12-04 16:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b5e2d7a1c9f4"
down_revision = "7c3e1f0a9d52"
branch_labels = None
depends_on = None


def _append_only(table, allow_update_where=None):
    """Triggers refusing every DELETE of ``table``, and every UPDATE unless ``allow_update_where``
    (the SQL of portal/models/append_only.py as it was written)."""
    if op.get_context().dialect.name == "sqlite":
        refuse = "BEGIN SELECT RAISE(ABORT, 'append-only'); END"
    else:
        refuse = "EXECUTE FUNCTION portal_append_only()"
    when = f" WHEN (NOT ({allow_update_where}))" if allow_update_where else ""
    op.execute(
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} FOR EACH ROW{when} {refuse}"
    )
    op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} FOR EACH ROW {refuse}")


def _drop_append_only(table):
    on = f" ON {table}" if op.get_context().dialect.name == "postgresql" else ""
    for name in ("no_update", "no_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_{name}{on}")


def upgrade():
    op.add_column(
        "site", sa.Column("status", sa.String(length=10), server_default="open", nullable=False)
    )
    op.execute("UPDATE site SET status = 'closed' WHERE NOT active")
    op.create_table(
        "site_spell",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_site_spell_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_spell")),
    )
    op.create_index(op.f("ix_site_spell_site_id"), "site_spell", ["site_id"])
    op.create_index("ix_site_spell_site_first", "site_spell", ["site_id", "first_day"])
    # Every site worked from its opening day; one no longer active stopped at its last change.
    conn = op.get_bind()
    site = sa.table(
        "site",
        sa.column("id", sa.Integer),
        sa.column("opened_on", sa.Date),
        sa.column("active", sa.Boolean),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    spell = sa.table(
        "site_spell",
        sa.column("site_id", sa.Integer),
        sa.column("first_day", sa.Date),
        sa.column("last_day", sa.Date),
    )
    rows = conn.execute(sa.select(site).order_by(site.c.id)).all()
    for row in rows:
        last = None
        if not row.active:
            last = max(row.opened_on, row.updated_at.date())
        conn.execute(spell.insert().values(site_id=row.id, first_day=row.opened_on, last_day=last))
    _append_only("site_spell", allow_update_where="OLD.last_day IS NULL")
    with op.batch_alter_table("site") as batch:
        batch.drop_column("active")


def downgrade():
    with op.batch_alter_table("site") as batch:
        batch.add_column(
            sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.execute("UPDATE site SET active = (status <> 'closed')")
    with op.batch_alter_table("site") as batch:
        batch.drop_column("status")
    _drop_append_only("site_spell")
    op.drop_index("ix_site_spell_site_first", table_name="site_spell")
    op.drop_index(op.f("ix_site_spell_site_id"), table_name="site_spell")
    op.drop_table("site_spell")
