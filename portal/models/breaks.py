"""Break log (休息): seated rest of at most 10 minutes."""

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import local_text
from portal.models.base import SiteScopedMixin, TimestampMixin, UTCDateTime
from portal.models.org import StaffMember

BREAK_LIMIT = timedelta(minutes=10)


class BreakLog(SiteScopedMixin, TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff_member: Mapped[StaffMember] = relationship()

    def duration(self, now=None):
        end = self.ended_at or now
        return (end - self.started_at) if end else None

    def is_flagged(self, now=None):
        length = self.duration(now)
        return length is not None and length > BREAK_LIMIT

    def __str__(self):
        return f"{self.staff_member} {local_text(self.started_at, self.site)}"
