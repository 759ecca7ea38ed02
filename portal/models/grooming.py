"""Grooming and conduct inspections (仪容仪表): points pass/fail, a score in per cent."""

from datetime import datetime

from portal.i18n import lazy_gettext as _l, local_text
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import SiteScopedMixin, TimestampMixin, UTCDateTime, VersionedMixin
from portal.models.org import StaffMember, User

# The posts inspected, each with its own list of points (GroomingPoint): the staff kind of the
# person inspected names the post.
GROOMING_POSTS = ("clerk", "security")
GROOMING_POST_LABELS = {"clerk": _l("Front desk"), "security": _l("Security")}

# The front desk's points of the procedure, in order (key, label): the labels of results stored
# before the points became a list per post, and the front desk's default list.
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
# The security post's default list (seeded by the migration and the demo).
SECURITY_GROOMING_POINTS = (
    ("uniform", "制服整洁，佩戴工牌"),
    ("cap_belt", "帽子、腰带佩戴规范"),
    ("shoes", "黑色皮鞋干净"),
    ("hair", "短发整齐，不留胡须"),
    ("nails", "指甲短而干净"),
    ("posture", "站姿端正，不倚靠"),
    ("conduct", "岗位上不玩手机、不聊天"),
)
DEFAULT_GROOMING_POINTS = {"clerk": GROOMING_POINTS, "security": SECURITY_GROOMING_POINTS}


class GroomingPoint(VersionedMixin, TimestampMixin, db.Model):
    """One point inspected at one post, set by head office. The same for every site (no site
    scope). Inspections copy the label into their results, so editing or switching off a point
    later leaves past results as they were."""

    __table_args__ = (UniqueConstraint("post", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post: Mapped[str] = mapped_column(String(20), index=True)
    key: Mapped[str] = mapped_column(String(30))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self):
        return self.label


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
        day = local_text(self.inspected_at, self.site, "%Y-%m-%d")
        return f"{self.staff_member} {day} {self.score}%"


class GroomingResult(SiteScopedMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("grooming_inspection.id"), index=True)
    point: Mapped[str] = mapped_column(String(30))
    passed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(500))
    # The point's label when the inspection was made (None on results made before the points
    # became a list per post: their label is the built-in one).
    point_label: Mapped[str | None] = mapped_column(String(200))

    inspection: Mapped[GroomingInspection] = relationship(back_populates="results")

    @property
    def label(self):
        return self.point_label or POINT_LABELS.get(self.point, self.point)

    def __str__(self):
        return str(self.label)
