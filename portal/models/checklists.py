"""Checklists: templates (opening, closing, grooming, custom) with ordered items, and runs.

A template is global (``site_id`` empty: head office's, valid for every site) or belongs
to one site; items carry the template's ``site_id`` so scoping stays one ``IN``. A run
answers the items of one template at one site on one day.
"""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    or_,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from portal.extensions import db
from portal.models.base import (
    SiteScopedMixin,
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
)

CHECKLIST_KINDS = ("opening", "closing", "grooming", "custom")
ITEM_KINDS = ("yes_no", "number", "text", "photo")
RUN_STATUSES = ("open", "done")
FOLLOW_UP_STATUSES = ("open", "closed")


class _GlobalOrSiteMixin:
    """A row that is global (no site) or belongs to one site: global rows are visible everywhere."""

    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)

    @classmethod
    def scope_criteria(cls, site_ids):
        return or_(cls.site_id.is_(None), cls.site_id.in_(site_ids))

    @declared_attr
    def site(cls):
        return relationship("Site")


class ChecklistTemplate(
    VersionedMixin, _GlobalOrSiteMixin, TimestampMixin, SoftDeleteMixin, db.Model
):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)

    items: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="template", order_by="ChecklistItem.position", cascade="all, delete-orphan"
    )

    def __str__(self):
        return self.name


class ChecklistItem(_GlobalOrSiteMixin, TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_template.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(20), default="yes_no")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    template: Mapped[ChecklistTemplate] = relationship(back_populates="items")

    def __str__(self):
        return self.label


class ChecklistRun(SiteScopedMixin, TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_template.id"), index=True)
    kind: Mapped[str] = mapped_column(
        String(20), index=True
    )  # copied from the template, for the Today page
    day: Mapped[date] = mapped_column(Date, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    completion: Mapped[int] = mapped_column(Integer, default=0)  # percent of active items answered
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # A past run shows the template it was filled in from, even once head office has hidden it.
    template: Mapped[ChecklistTemplate] = relationship(info={"shows_hidden": True})
    user = relationship("User", foreign_keys=[user_id])
    answers: Mapped[list["ChecklistAnswer"]] = relationship(
        back_populates="run", cascade="all, delete-orphan"
    )
    follow_ups: Mapped[list["ChecklistFollowUp"]] = relationship(
        back_populates="run", order_by="ChecklistFollowUp.id", cascade="all, delete-orphan"
    )

    @property
    def is_done(self):
        return self.status == "done"

    def __str__(self):
        return f"{self.template.name if self.template else ''} {self.day:%Y-%m-%d}".strip()


class ChecklistAnswer(SiteScopedMixin, TimestampMixin, db.Model):
    __table_args__ = (UniqueConstraint("run_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("checklist_run.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_item.id"), index=True)
    value_bool: Mapped[bool | None] = mapped_column(Boolean)
    value_number = mapped_column(Numeric(12, 2), nullable=True)
    value_text: Mapped[str | None] = mapped_column(Text)
    # Nothing writes it: a photo item's photos are Photo rows owned by the answer
    # (services.photos); dropping the column takes a migration.
    photo_name: Mapped[str | None] = mapped_column(String(255))

    run: Mapped[ChecklistRun] = relationship(back_populates="answers")
    item: Mapped[ChecklistItem] = relationship()

    @property
    def is_answered(self):
        return self.value_bool is not None or self.value_number is not None or bool(self.value_text)

    @property
    def failed(self):
        return self.value_bool is False

    def __str__(self):
        return f"{self.item.label if self.item else ''}"


class ChecklistFollowUp(SiteScopedMixin, TimestampMixin, db.Model):
    """What a failed item led to. Today a note; later a repair ticket or cleaning issue
    (``target_type`` "repair_ticket" / "cleaning_issue" and its ``target_id``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("checklist_run.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_item.id"), index=True)
    note: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[int | None] = mapped_column(Integer)

    run: Mapped[ChecklistRun] = relationship(back_populates="follow_ups")
    item: Mapped[ChecklistItem | None] = relationship()
    created_by = relationship("User", foreign_keys="ChecklistFollowUp.created_by_id")

    def __str__(self):
        return self.note[:80]
