"""Damage confirmation forms (物品损坏确认单).

The damaged thing is free text, optionally an inventory item (``item``); the visit is a
recorded visit (``visit``, whose salesperson is asked to confirm) or, failing one, a free-text
description and time with the salesperson chosen among the site's sales users. The free-text
fields are always filled (from the item / visit when linked) so lists and PDFs need no join.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models.base import SiteScopedMixin, SoftDeleteMixin, TimestampMixin, UTCDateTime

# pending: waiting for the salesperson; confirmed / disputed: waiting for the supervisor;
# reviewed: done.
DAMAGE_STATUSES = ("pending", "confirmed", "disputed", "reviewed")
# written_off: the item is broken beyond use or lost; its expected count is lowered by
# written_off_quantity (restored if the outcome changes again).
DAMAGE_OUTCOMES = ("waived", "compensated", "written_off", "pending")
STATUS_LABELS = {
    "pending": _l("Waiting for the salesperson"),
    "confirmed": _l("Confirmed by the salesperson"),
    "disputed": _l("Disputed by the salesperson"),
    "reviewed": _l("Reviewed"),
}


class DamageReport(SiteScopedMixin, TimestampMixin, SoftDeleteMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    equipment: Mapped[str] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    visit_description: Mapped[str] = mapped_column(String(255))
    visit_at: Mapped[datetime] = mapped_column(UTCDateTime)
    description: Mapped[str] = mapped_column(Text)
    estimated_cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    salesperson_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    sales_answer: Mapped[str | None] = mapped_column(
        String(20)
    )  # confirmed / disputed, kept after review
    sales_note: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20), index=True)
    # Units taken off item.expected_quantity by the written_off outcome (None: nothing taken off).
    written_off_quantity: Mapped[int | None] = mapped_column(Integer)
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    repair_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("repair_ticket.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)

    reporter = relationship("User", foreign_keys=[reporter_id])
    salesperson = relationship("User", foreign_keys=[salesperson_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    repair_ticket = relationship("RepairTicket", foreign_keys=[repair_ticket_id])
    item = relationship("Item")
    visit = relationship("Visit")

    def __str__(self):
        return f"#{self.id} {self.equipment}"
