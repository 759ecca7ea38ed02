"""Audit trail: one row per create / update / delete / sign / status change."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, literal_column
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models.base import UTCDateTime, utcnow
from portal.models.append_only import make_append_only

# Audit actions in words (the audit viewer shows the same).
ACTION_LABELS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "restore": _l("Restored"),
    "status": _l("Status changed"),
    "login": _l("Logged in"),
    "sign": _l("Signed"),
    "complete": _l("Completed"),
    "verify": _l("Verified"),
    "review": _l("Reviewed"),
    "close": _l("Closed"),
    "reclose": _l("Closed again"),
    "carry": _l("Carried over"),
    "lost": _l("Reported lost"),
    "confirm": _l("Confirmed"),
    "confirm_self": _l("Confirmed by the writer at the next shift"),
    "add_photos": _l("Photos added"),
    "dispute": _l("Disputed"),
    "serve": _l("Served"),
    "correct": _l("Corrected"),
    "two_factor_enrol": _l("Two-step sign-in set up"),
    "two_factor_reset": _l("Two-step sign-in reset"),
    "recovery_code_used": _l("Recovery code used"),
    "recovery_codes_renewed": _l("Recovery codes renewed"),
    "import": _l("Imported from a spreadsheet"),
    "assign": _l("Assigned"),
    "assign_default": _l("Assigned to the site's default worker"),
    "claim": _l("Claimed"),
    "report": _l("Fault reported"),
    "start": _l("Work started"),
    "wait_parts": _l("Waiting for parts"),
    "resume": _l("Work resumed"),
    "resolve": _l("Marked as fixed"),
    "reopen": _l("Ticket reopened"),
    "unserve": _l("Serving undone"),
    "write_off": _l("Written off"),
    "write_off_restore": _l("Write-off undone"),
}


class AuditEvent(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    object_type: Mapped[str] = mapped_column(String(50), index=True)
    object_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str | None] = mapped_column(String(255))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    # Hash chain per site (site NULL is its own chain): each row seals the one before it,
    # so an edited, removed or reordered row breaks the chain (``flask audit verify``). The first
    # row of a chain points at ``portal.services.audit.GENESIS``.
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)

    user = relationship("User", foreign_keys=[user_id])
    site = relationship("Site", foreign_keys=[site_id])

    @classmethod
    def scope_criteria(cls, site_ids):
        # Events without a site (users, regions) are head office's business only.
        return cls.site_id.in_(site_ids)

    def __str__(self):
        return f"{self.action} {self.object_type}#{self.object_id}"


# Events that change records: every event but a login (which records who came in, and is the
# most frequent event about users by far). Written out, not bound, so that the database can
# match a query's condition with the partial index of the same condition (models/perf.py).
CHANGES_ONLY = AuditEvent.action != literal_column("'login'")


# Insert-only, enforced by database triggers (portal/models/append_only.py).
make_append_only(AuditEvent.__table__)
