"""Cleaning inspections of a site's areas and the follow-up issues they open."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, event, insert
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.extensions import db
from portal.i18n import lazy_gettext as _l, local_text
from portal.models.append_only import make_append_only
from portal.models.base import (
    SiteScopedMixin,
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
)
from portal.models.org import Site, StaffMember, User

DEFAULT_AREAS = ("Floor", "Glass", "Decorations", "Restroom", "Outdoor", "Slippers")
ISSUE_STATUSES = ("open", "fixed", "verified")
# What happened to an issue, and the status it left the issue in.
ISSUE_ACTIONS = {"raised": "open", "fixed": "fixed", "verified": "verified", "reopened": "open"}
STATUS_LABELS = {"open": _l("Open"), "fixed": _l("Fixed"), "verified": _l("Verified")}
ISSUE_ACTION_LABELS = {
    "raised": _l("Issue raised"),
    "fixed": _l("Fixed"),
    "verified": _l("Verified"),
    "reopened": _l("Issue reopened"),
}
# The standard areas are stored under their English code (seeded for every site, matched by
# ``AREA_WORDS``) and shown in the reader's language; a name a site typed in is shown as typed.
AREA_LABELS = {
    "Floor": _l("Floor"),
    "Glass": _l("Glass"),
    "Decorations": _l("Decorations"),
    "Restroom": _l("Restroom"),
    "Outdoor": _l("Outdoor"),
    "Slippers": _l("Slippers"),
}


def area_name(name):
    """A stored area name in the reader's language."""
    return str(AREA_LABELS.get(name, name))


class CleaningArea(VersionedMixin, SiteScopedMixin, TimestampMixin, db.Model):
    """An area inspected at a site (configurable per site)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self):
        return area_name(self.name)


class CleaningInspection(SiteScopedMixin, TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    note: Mapped[str | None] = mapped_column(Text)

    inspector: Mapped[User] = relationship(foreign_keys=[inspector_id])
    results: Mapped[list["CleaningResult"]] = relationship(
        back_populates="inspection", order_by="CleaningResult.id"
    )

    @property
    def failed_count(self):
        return sum(1 for r in self.results if not r.passed)

    def __str__(self):
        return local_text(self.inspected_at, self.site)


class CleaningResult(SiteScopedMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("cleaning_inspection.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("cleaning_area.id"))
    passed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(500))
    # Hook for the photo upload built by the repairs domain: the stored file name.
    photo: Mapped[str | None] = mapped_column(String(255))

    inspection: Mapped[CleaningInspection] = relationship(back_populates="results")
    area: Mapped[CleaningArea] = relationship()

    def __str__(self):
        return f"{self.area}"


class CleaningIssue(SiteScopedMixin, TimestampMixin, SoftDeleteMixin, db.Model):
    """A failed area to be cleaned again: open → fixed → verified (or reopened)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int | None] = mapped_column(ForeignKey("cleaning_result.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("cleaning_area.id"))
    description: Mapped[str] = mapped_column(String(500))
    cleaner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    fixed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    last_note: Mapped[str | None] = mapped_column(String(500))

    result: Mapped[CleaningResult | None] = relationship()
    area: Mapped[CleaningArea] = relationship()
    cleaner: Mapped[StaffMember | None] = relationship()
    fixed_by: Mapped[User | None] = relationship(foreign_keys=[fixed_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])

    def is_overdue(self, now):
        return self.status == "open" and self.due_at < now

    def __str__(self):
        return f"{self.area}: {self.description[:40]}"


class CleaningIssueEvent(SiteScopedMixin, db.Model):
    """One step of an issue's history: raised, fixed, verified, reopened, with its time.

    Insert-only (enforced by the database): a reopen clears the issue's ``fixed_at``, but the
    fixed event keeps it, and the period figures (``portal.services.period_facts``) read these
    rows. ``to_status`` is what the issue was from ``at`` on; ``due_at`` is the due time the
    event set (raised, reopened), None when it left it alone."""

    __table_args__ = (Index("ix_cleaning_issue_event_site_at", "site_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("cleaning_issue.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))

    issue: Mapped[CleaningIssue] = relationship()

    def __str__(self):
        return f"{ISSUE_ACTION_LABELS.get(self.action, self.action)} #{self.issue_id}"


make_append_only(CleaningIssueEvent.__table__)


@event.listens_for(Site, "after_insert")
def _standard_areas_for_a_new_site(mapper, connection, site):
    """Every new site starts with the standard areas (its supervisor may change them), so the
    first inspection needs no set-up step and opening the form never writes."""
    now = clock.now()
    connection.execute(
        insert(CleaningArea.__table__),
        [
            {
                "site_id": site.id,
                "name": name,
                "position": i,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for i, name in enumerate(DEFAULT_AREAS)
        ],
    )
