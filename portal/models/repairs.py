"""Repair tickets (设备设施报修) and their timeline.

A ticket names its equipment in free text, and optionally the site's inventory item it is
about (``item``): the item's page lists its tickets.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models.append_only import make_append_only
from portal.models.base import SiteScopedMixin, SoftDeleteMixin, TimestampMixin, UTCDateTime, utcnow

TICKET_PRIORITIES = ("urgent", "high", "normal", "low")
TICKET_STATUSES = ("new", "assigned", "in_progress", "waiting_parts", "resolved", "closed")
OPEN_STATUSES = ("new", "assigned", "in_progress", "waiting_parts")
STATUS_LABELS = {
    "new": _l("New"),
    "assigned": _l("Assigned"),
    "in_progress": _l("In progress"),
    "waiting_parts": _l("Waiting for parts"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
}
# What a ticket's history line says happened (``RepairEvent.action``, ``kind``), in the past tense.
EVENT_ACTION_LABELS = {
    "assign": _l("Assigned"),
    "claim": _l("Claimed"),
    "start": _l("Work started"),
    "wait_parts": _l("Waiting for parts"),
    "resume": _l("Work resumed"),
    "resolve": _l("Resolved"),
    "close": _l("Closed"),
    "reopen": _l("Ticket reopened"),
}
PRIORITY_LABELS = {
    "urgent": _l("Urgent"),
    "high": _l("High"),
    "normal": _l("Normal"),
    "low": _l("Low"),
}
EVENT_KIND_LABELS = {
    "report": _l("Ticket reported"),
    "transition": _l("Status changed"),
    "comment": _l("Comment"),
    "photo": _l("Photo"),
    "edit": _l("Ticket edited"),
}


class RepairTicket(SiteScopedMixin, TimestampMixin, SoftDeleteMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    equipment: Mapped[str] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Recorded on resolution.
    cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    parts_used: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)

    reporter = relationship("User", foreign_keys=[reporter_id])
    assignee = relationship("User", foreign_keys=[assignee_id])
    item = relationship("Item")
    events: Mapped[list["RepairEvent"]] = relationship(
        back_populates="ticket", order_by="RepairEvent.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def is_overdue(self, now=None):
        return self.is_open and self.due_at < (now or clock.now())

    def __str__(self):
        return f"#{self.id} {self.equipment}"


class RepairEvent(SiteScopedMixin, db.Model):
    """One line of a ticket's timeline: its report, each state change, each comment.

    The timeline is the ticket's history and never changes (insert-only, enforced by the
    database): a reopen clears the ticket's ``resolved_at``, but the resolve event keeps its time,
    and the period figures (``portal.services.period_facts``) read the events, not the ticket.
    A status event (``to_status`` set) says what the ticket was from ``at`` on; the report and
    reopen events carry the due time they set (``due_at``)."""

    __table_args__ = (Index("ix_repair_event_site_at", "site_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("repair_ticket.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(20))  # report / transition / comment / photo
    action: Mapped[str | None] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)
    number: Mapped[int | None] = mapped_column(Integer)  # e.g. photos added
    # The due time this event set (report, reopen); None when it left the due time alone.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[RepairTicket] = relationship(back_populates="events")
    user = relationship("User", foreign_keys=[user_id])

    def __str__(self):
        kind = EVENT_KIND_LABELS.get(self.kind, self.kind)
        action = EVENT_ACTION_LABELS.get(self.action, self.action or "")
        return " ".join(str(part) for part in (kind, action, f"#{self.ticket_id}") if part)


make_append_only(RepairEvent.__table__)
