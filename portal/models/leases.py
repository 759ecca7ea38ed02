"""Leases on slow work (PDF reports, exports): a few at a time per user, across every worker."""

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import UTCDateTime


class ReportLease(db.Model):
    """One of a user's report slots, taken until ``expires_at`` (``portal.services.leases``).
    Not site data: written outside the request's session, never audited, never scoped."""

    __tablename__ = "report_lease"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
