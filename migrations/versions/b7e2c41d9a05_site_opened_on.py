"""site opened on: the first day a sales office worked (bounds of event times and tallies)

Revision ID: b7e2c41d9a05
Revises: a3f19c6d2b74
Create Date: 2026-12-04 09:30:00

"""
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7e2c41d9a05'
down_revision = 'a3f19c6d2b74'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_on', sa.Date(), nullable=True))
    # Existing sites opened at the latest when they were created; head office can move the day
    # earlier in the site form if older records are kept.
    bind = op.get_bind()
    site = sa.table('site', sa.column('id', sa.Integer), sa.column('created_at', sa.String),
                    sa.column('opened_on', sa.Date))
    for site_id, created_at in bind.execute(sa.select(site.c.id, site.c.created_at)).all():
        if isinstance(created_at, datetime):
            day = created_at.date()
        else:
            day = date.fromisoformat(str(created_at)[:10]) if created_at else date.today()
        bind.execute(site.update().where(site.c.id == site_id).values(opened_on=day))
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.alter_column('opened_on', existing_type=sa.Date(), nullable=False)


def downgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_column('opened_on')
