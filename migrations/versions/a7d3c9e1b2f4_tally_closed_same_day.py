"""daily tally: closed the same day (before the site's local midnight)

Revision ID: a7d3c9e1b2f4
Revises: f1a2b3c4d5e6
Create Date: 2026-11-28 10:00:00

"""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from portal.models.base import UTCDateTime

revision = "a7d3c9e1b2f4"
down_revision = "f1a2b3c4d5e6"
branch_labels = None
depends_on = None


def _zone(name):
    try:
        return ZoneInfo(name or "Asia/Shanghai")
    except (ValueError, KeyError):
        return ZoneInfo("Asia/Shanghai")


def upgrade():
    with op.batch_alter_table("daily_tally", schema=None) as batch_op:
        batch_op.add_column(sa.Column("same_day", sa.Boolean(), server_default=sa.false(), nullable=False))
    # Closed tallies are history: work the flag out once from each one's day, closing time and site.
    tally = sa.table("daily_tally", sa.column("id", sa.Integer), sa.column("site_id", sa.Integer),
                     sa.column("day", sa.Date), sa.column("closed_at", UTCDateTime()),
                     sa.column("same_day", sa.Boolean))
    site = sa.table("site", sa.column("id", sa.Integer), sa.column("timezone", sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(tally.c.id, tally.c.day, tally.c.closed_at, site.c.timezone)
                        .join(site, site.c.id == tally.c.site_id)).all()
    same = [tid for tid, day, closed_at, tz in rows
            if closed_at is not None and closed_at < datetime.combine(day + timedelta(days=1), time.min, _zone(tz))]
    for start in range(0, len(same), 500):
        bind.execute(sa.update(tally).where(tally.c.id.in_(same[start:start + 500])).values(same_day=True))


def downgrade():
    with op.batch_alter_table("daily_tally", schema=None) as batch_op:
        batch_op.drop_column("same_day")
