"""Grooming and conduct inspections (仪容仪表): points pass/fail, a score in per cent."""

from datetime import datetime

from portal.i18n import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import SiteScopedMixin, TimestampMixin, UTCDateTime
from portal.models.org import StaffMember, User

# The points of the procedure, in order (key, label). Our own list, independent of checklists.
GROOMING_POINTS = (
    ("uniform", _l("Uniform clean, badge worn")),
    ("stockings_shoes", _l("Skin-tone stockings, black formal shoes")),
    ("nails", _l("Short nails, pale or clear polish")),
    ("ring", _l("At most one ring")),
    ("earrings", _l("Small earrings only")),
    ("makeup", _l("Light make-up in warm tones")),
    ("hair", _l("Tidy hair; long hair up with black clips")),
    ("conduct", _l("Posture and conduct: no slouching, chatting, phones or talk about sales")),
)
POINT_LABELS = dict(GROOMING_POINTS)


class GroomingInspection(SiteScopedMixin, TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    score: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)

    staff_member: Mapped[StaffMember] = relationship()
    inspector: Mapped[User] = relationship(foreign_keys=[inspector_id])
    results: Mapped[list["GroomingResult"]] = relationship(
        back_populates="inspection", order_by="GroomingResult.id"
    )

    def __str__(self):
        return f"{self.staff_member} {self.inspected_at:%Y-%m-%d} {self.score}%"


class GroomingResult(SiteScopedMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("grooming_inspection.id"), index=True)
    point: Mapped[str] = mapped_column(String(30))
    passed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(500))

    inspection: Mapped[GroomingInspection] = relationship(back_populates="results")

    @property
    def label(self):
        return POINT_LABELS.get(self.point, self.point)

    def __str__(self):
        return self.point
