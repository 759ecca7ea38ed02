"""Visits: who came to the sales office, when, with whom, and which way they left."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import local_text
from portal.models.base import (
    SiteScopedMixin,
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    utcnow,
    VersionedMixin,
)
from portal.models.org import ShowUnit, StaffMember

# Which way the party left: all posts are told (procedure: reception).
DIRECTIONS = ("main_gate", "east_gate", "west_gate", "parking", "show_unit", "other")


class Visit(VersionedMixin, SiteScopedMixin, SoftDeleteMixin, TimestampMixin, db.Model):
    __table_args__ = (
        CheckConstraint(
            "adults >= 0 AND children >= 0 AND adults + children > 0", name="headcount"
        ),
        Index("ix_visit_site_arrived", "site_id", "arrived_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    arrived_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False, index=True
    )
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The tour of the show unit with the salesperson: started and ended with one tap each.
    tour_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tour_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    adults: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    children: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # A StaffMember of kind sales; a sales user is reached through StaffMember.user.
    salesperson_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"), index=True)
    show_unit_id: Mapped[int | None] = mapped_column(ForeignKey("show_unit.id"))
    shuttle_used: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    departure_direction: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)

    salesperson: Mapped[StaffMember | None] = relationship(foreign_keys=[salesperson_id])
    show_unit: Mapped[ShowUnit | None] = relationship(foreign_keys=[show_unit_id])

    @property
    def headcount(self):
        return (self.adults or 0) + (self.children or 0)

    @property
    def is_open(self):
        return self.left_at is None

    def __str__(self):
        return f"#{self.id} {local_text(self.arrived_at, self.site)} ({self.headcount})"
