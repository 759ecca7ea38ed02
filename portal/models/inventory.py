"""Inventory: the items of a site and the opening / closing item checks
(物品核查记录单 / 物品确认单)."""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models.base import (
    SiteScopedMixin,
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
)

ITEM_CATEGORIES = (
    "decoration",
    "audio_video",
    "furniture",
    "appliance",
    "key",
    "lamp",
    "artwork",
    "other",
)
ITEM_CATEGORY_LABELS = {
    "decoration": _l("Decoration"),
    "audio_video": _l("Audio / video"),
    "furniture": _l("Furniture"),
    "appliance": _l("Appliance"),
    "key": _l("Key"),
    "lamp": _l("Lamp"),
    "artwork": _l("Artwork"),
    "other": _l("Other"),
}
CONDITIONS = ("ok", "damaged", "missing")
CONDITION_LABELS = {"ok": _l("OK"), "damaged": _l("Damaged"), "missing": _l("Missing")}
ITEM_CHECK_KINDS = ("opening", "closing")
CHECK_KIND_LABELS = {"opening": _l("Opening item check"), "closing": _l("Closing item check")}


class Item(VersionedMixin, SiteScopedMixin, TimestampMixin, SoftDeleteMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(20), default="other", index=True)
    location: Mapped[str | None] = mapped_column(String(100))
    expected_quantity: Mapped[int] = mapped_column(Integer, default=1)
    asset_tag: Mapped[str | None] = mapped_column(String(50), index=True)
    condition: Mapped[str] = mapped_column(String(10), default="ok")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self):
        return self.name


class ItemCheck(SiteScopedMixin, TimestampMixin, db.Model):
    # One opening and one closing check per site and day.
    __table_args__ = (UniqueConstraint("site_id", "kind", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The categories the clerk ticked "本类已清点" for, comma-separated codes: a check completes
    # only once every category of its lines is confirmed (None on checks made before the rule).
    confirmed_categories: Mapped[str | None] = mapped_column(String(200))

    user = relationship("User", foreign_keys=[user_id])
    lines: Mapped[list["ItemCheckLine"]] = relationship(
        back_populates="check", order_by="ItemCheckLine.position", cascade="all, delete-orphan"
    )

    @property
    def is_done(self):
        return self.status == "done"

    @property
    def confirmed(self):
        return set(filter(None, (self.confirmed_categories or "").split(",")))

    def __str__(self):
        return f"{self.day:%Y-%m-%d} {CHECK_KIND_LABELS.get(self.kind, self.kind)}"


class ItemCheckLine(VersionedMixin, SiteScopedMixin, TimestampMixin, db.Model):
    """One item on one check. ``is_discrepancy`` is kept on save so supervisors list them fast."""

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("item_check.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    day: Mapped[date] = mapped_column(
        Date, index=True
    )  # the check's day, for filtering discrepancies
    position: Mapped[int] = mapped_column(Integer, default=0)
    expected_quantity: Mapped[int] = mapped_column(Integer)
    counted_quantity: Mapped[int] = mapped_column(Integer)
    # False while an item expected more than once has not been counted by hand: its count is
    # typed, never taken from the pre-fill (None on lines made before the rule: counted).
    count_entered: Mapped[bool | None] = mapped_column(Boolean)
    condition: Mapped[str] = mapped_column(String(10), default="ok")
    note: Mapped[str | None] = mapped_column(Text)
    is_discrepancy: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    dealt_with: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    dealt_note: Mapped[str | None] = mapped_column(Text)
    dealt_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    dealt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the supervisor opened for it in one click (the discrepancy list links them).
    repair_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("repair_ticket.id"), index=True)
    damage_report_id: Mapped[int | None] = mapped_column(ForeignKey("damage_report.id"), index=True)

    check: Mapped[ItemCheck] = relationship(back_populates="lines")
    # The item may be soft-deleted later; the line still names it.
    item: Mapped[Item] = relationship()
    dealt_by = relationship("User", foreign_keys=[dealt_by_id])
    repair_ticket = relationship("RepairTicket")
    damage_report = relationship("DamageReport")

    @property
    def needs_count(self):
        return self.count_entered is False

    def __str__(self):
        name = self.item.name if self.item else ""
        return f"{name} {self.counted_quantity}/{self.expected_quantity}"
