"""Handover book (交接本): entries from one shift to the next, items to follow, comments.

A signed entry is read-only: ``portal.services.handover`` refuses, before any flush, a
change to a signed entry or to the text of its items, whatever route tried it.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import lazy_gettext as _l, local_text
from portal.models.base import (
    SiteScopedMixin,
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
)
from portal.models.org import User
from portal.models.roster import Shift
from portal.models.append_only import make_append_only

ITEM_STATUSES = ("open", "carried", "closed")
ITEM_STATUS_LABELS = {"open": _l("Open"), "carried": _l("Carried over"), "closed": _l("Closed")}


class HandoverEntry(VersionedMixin, SiteScopedMixin, TimestampMixin, SoftDeleteMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    post: Mapped[str] = mapped_column(String(20), default="reception")
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    outgoing_shift_id: Mapped[int | None] = mapped_column(ForeignKey("shift.id"), index=True)
    incoming_shift_id: Mapped[int | None] = mapped_column(ForeignKey("shift.id"), index=True)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    text: Mapped[str] = mapped_column(Text)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])
    outgoing_shift: Mapped[Shift | None] = relationship(foreign_keys=[outgoing_shift_id])
    incoming_shift: Mapped[Shift | None] = relationship(foreign_keys=[incoming_shift_id])
    items: Mapped[list["HandoverItem"]] = relationship(
        back_populates="entry", order_by="HandoverItem.id", foreign_keys="HandoverItem.entry_id"
    )
    comments: Mapped[list["HandoverComment"]] = relationship(
        back_populates="entry", order_by="HandoverComment.id"
    )

    @property
    def is_signed(self):
        return self.signed_at is not None

    @property
    def is_self_confirmed(self):
        """Signed by its author: only allowed as her own confirmation at her next shift, when
        nobody else works the post (``portal.services.handover.signable_entries``)."""
        return self.signed_at is not None and self.signed_by_id == self.author_id

    def __str__(self):
        return f"{local_text(self.written_at, self.site)} {self.text[:30]}"


# Once signed, an entry is frozen by the database itself (SQLite and PostgreSQL triggers), below
# every route and the ORM rule in services/handover.py; corrections are comments.
make_append_only(HandoverEntry.__table__, allow_update_where="OLD.signed_at IS NULL")


class HandoverItem(SiteScopedMixin, TimestampMixin, db.Model):
    """A thing to follow. Carrying it forward makes a new item (same ``root_id``) that joins
    the carrying shift's next entry, so the chain of shifts stays visible on one page."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # None while a carried item waits for the next entry of its site.
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("handover_entry.id"), index=True)
    root_id: Mapped[int | None] = mapped_column(ForeignKey("handover_item.id"), index=True)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("handover_item.id"))
    text: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    carried_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    carried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_note: Mapped[str | None] = mapped_column(String(500))

    entry: Mapped[HandoverEntry | None] = relationship(
        back_populates="items", foreign_keys=[entry_id]
    )
    carried_by: Mapped[User | None] = relationship(foreign_keys=[carried_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    @property
    def chain_id(self):
        return self.root_id or self.id

    def __str__(self):
        return self.text[:60]


class HandoverComment(SiteScopedMixin, TimestampMixin, db.Model):
    """A correction or remark on an entry (signed entries are only ever commented on)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("handover_entry.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    text: Mapped[str] = mapped_column(Text)

    entry: Mapped[HandoverEntry] = relationship(back_populates="comments")
    author: Mapped[User] = relationship(foreign_keys=[author_id])

    def __str__(self):
        return self.text[:60]
