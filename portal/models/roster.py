"""Shift roster (排班): who is on which post of a site, from when to when."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.extensions import db
from portal.models.base import (
    SiteScopedMixin,
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
)
from portal.models.org import StaffMember

# The posts of a sales office; gaps are reported per post.
POSTS = ("reception", "door")


class Shift(VersionedMixin, SiteScopedMixin, TimestampMixin, SoftDeleteMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    post: Mapped[str] = mapped_column(String(20))
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    staff_member: Mapped[StaffMember] = relationship()

    __table_args__ = (Index("ix_shift_site_starts", "site_id", "starts_at"),)

    def __str__(self):
        # Shown in the site's own time zone: "李晓梅 11-28 08:30–18:30".
        start, end = (
            clock.to_local(self.starts_at, self.site),
            clock.to_local(self.ends_at, self.site),
        )
        return f"{self.staff_member} {start:%m-%d %H:%M}–{end:%H:%M}"
