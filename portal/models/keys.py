"""Key register (钥匙登记): model-flat and cabinet keys handed out to salespeople and contractors.

A key is out to one person at a time: at most one open loan per key, held by a unique partial
index, so two clerks handing out the same key at once cannot both succeed.
"""

from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, false, text, true
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
from portal.models.org import StaffMember, User

KEY_KINDS = ("model_unit", "cabinet", "office", "other")
KEY_KIND_LABELS = {
    "model_unit": _l("Model flat"),
    "cabinet": _l("Cabinet"),
    "office": _l("Office"),
    "other": _l("Other"),
}


class KeyItem(SiteScopedMixin, TimestampMixin, SoftDeleteMixin, VersionedMixin, db.Model):
    __tablename__ = "key_item"
    __table_args__ = (UniqueConstraint("site_id", "code", name="uq_key_item_site_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20))  # the tag on the key ring
    label: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default="model_unit")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lock_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("repair_ticket.id"))

    def __str__(self):
        return f"{self.code} {self.label}"


class KeyLoan(SiteScopedMixin, TimestampMixin, VersionedMixin, db.Model):
    """One hand-out of a key: to a staff member of the site, or to a contractor by name."""

    __tablename__ = "key_loan"
    __table_args__ = (
        # The one open loan of a key (written as each database renders IS NULL in queries).
        Index(
            "uq_key_loan_open",
            "key_id",
            unique=True,
            sqlite_where=text("returned_at IS NULL"),
            postgresql_where=text("returned_at IS NULL"),
        ),
        Index("ix_key_loan_site_id_out_day", "site_id", "out_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("key_item.id"), index=True)
    staff_member_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    holder_name: Mapped[str | None] = mapped_column(String(80))  # a contractor
    holder_phone: Mapped[str | None] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(200))
    out_at: Mapped[datetime] = mapped_column(UTCDateTime)
    out_day: Mapped[date]  # the site's local day it went out
    out_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_day: Mapped[date | None]
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    lost: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    key: Mapped[KeyItem] = relationship()
    staff_member: Mapped[StaffMember | None] = relationship()
    out_by: Mapped[User | None] = relationship(foreign_keys=[out_by_id])
    received_by: Mapped[User | None] = relationship(foreign_keys=[received_by_id])

    @property
    def holder(self):
        if self.staff_member is not None:
            return str(self.staff_member)
        return f"{self.holder_name} {self.holder_phone or ''}".strip()

    def __str__(self):
        return f"{self.key} → {self.holder}"
