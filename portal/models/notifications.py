"""Notifications (通知): what the portal tells a person, and how it reached him.

* ``Notification`` — one message to one user, shown under the navbar bell until he reads it.
* ``NotificationDelivery`` — the delivery log: one row per channel a notification was sent on
  (e-mail, a WeCom or DingTalk group robot), with its attempts and last error. The target is an
  e-mail address or the robot's name, never a robot's URL (its key is a secret).
* ``NotifyChannels`` — the channels a person chose beyond the portal (in-portal always).
* ``EscalationSent`` — which escalation went out for which record at which level, and for an
  overdue record which due time it had passed (unique): a periodic job that runs again, or two
  workers running it at once, never send it twice; a record given a new due time (a reopened
  ticket, a changed priority) is watched again.
* ``RobotWebhook`` — a site's or a region's group robot (企业微信 / 钉钉 group-robot URL),
  kept by head office. Not audited, and its URL is never listed: the URL carries the key.
"""

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models.base import TimestampMixin, UTCDateTime, VersionedMixin, utcnow
from portal.models.org import Region, Site, User

NOTIFY_KIND_LABELS = {
    "assigned": _l("Assigned to you"),
    "to_confirm": _l("Waiting for your confirmation"),
    "overdue": _l("Overdue"),
    "reopened": _l("Reopened"),
    "rejected": _l("Rejected at verification"),
    "archived": _l("Reports archived"),
}
CHANNELS = ("email", "wecom", "dingtalk")
CHANNEL_LABELS = {"email": _l("E-mail"), "wecom": _l("WeCom"), "dingtalk": _l("DingTalk")}
ROBOT_KINDS = ("wecom", "dingtalk")
DELIVERY_STATUSES = ("queued", "sent", "failed")
DELIVERY_STATUS_LABELS = {
    "queued": _l("Queued"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}


class Notification(db.Model):
    __tablename__ = "notification"
    __audited__ = False  # a message to one person, not a record of the business
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    site: Mapped[Site | None] = relationship()

    def __str__(self):
        return self.title


class NotificationDelivery(db.Model):
    __tablename__ = "notification_delivery"
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    # An e-mail address, or "robot:<id>" (never the URL).
    target: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    notification: Mapped[Notification] = relationship()


class NotifyChannels(VersionedMixin, db.Model):
    """The channels one person chose; without a row, the portal only."""

    __tablename__ = "notify_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    email: Mapped[str | None] = mapped_column(String(255))
    by_email: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    by_robot: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class RobotWebhook(VersionedMixin, TimestampMixin, db.Model):
    """A group robot of one site, or of a region (used for its sites without their own)."""

    __tablename__ = "robot_webhook"
    __audited__ = False  # the URL carries the robot's key

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10), default="wecom")
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    site: Mapped[Site | None] = relationship()
    region: Mapped[Region | None] = relationship()

    def __str__(self):
        return self.name


# The ``due_at`` of an escalation whose rule watches no due time (a checklist not done by 10:00).
NO_DUE = datetime(1970, 1, 1, tzinfo=timezone.utc)


class EscalationSent(db.Model):
    __tablename__ = "escalation_sent"
    __audited__ = False
    __table_args__ = (
        UniqueConstraint(
            "rule", "object_id", "level", "due_at", name="uq_escalation_sent_rule_object_level_due"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer, default=1)
    # The due time the record had passed: NO_DUE for the rules without one.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=NO_DUE, nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
