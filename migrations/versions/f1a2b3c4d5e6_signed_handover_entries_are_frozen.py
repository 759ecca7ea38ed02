"""signed handover entries are frozen by database triggers

Revision ID: f1a2b3c4d5e6
Revises: 9096f8dfa35f
Create Date: 2026-11-27 21:35:00

"""
from alembic import op

from portal.models.append_only import append_only_ddl, drop_append_only_ddl

revision = "f1a2b3c4d5e6"
down_revision = "9096f8dfa35f"
branch_labels = None
depends_on = None

CONDITION = "OLD.signed_at IS NULL"


def upgrade():
    for statement in append_only_ddl("handover_entry", op.get_bind().dialect.name, CONDITION):
        op.execute(statement)


def downgrade():
    for statement in drop_append_only_ddl("handover_entry", op.get_bind().dialect.name):
        op.execute(statement)
