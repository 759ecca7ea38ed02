"""Photos attached to any record (ticket, damage report, checklist answer…).

The owner is generic (``owner_type`` + ``owner_id``) so every domain can attach photos;
the photo carries its own ``site_id`` so the site scope applies to it directly.
"""

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import SiteScopedMixin, SoftDeleteMixin, TimestampMixin


class Photo(SiteScopedMixin, TimestampMixin, SoftDeleteMixin, db.Model):
    __table_args__ = (Index("ix_photo_owner", "owner_type", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(30))
    owner_id: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)
    thumb_key: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    # The user's file name, cleaned; shown and used in Content-Disposition only, never as a path.
    original_name: Mapped[str] = mapped_column(String(120))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id])

    def __str__(self):
        return f"{self.owner_type} #{self.owner_id}: {self.original_name}"
