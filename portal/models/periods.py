"""Closed months: each site's figures stored when its month is over, and later corrections.

A site's month is *closed* once its figures have been computed and stored
(``portal.services.period_close``): from then on the dashboard, the month-end PDF and the
regional comparison read them from ``period_figure`` instead of computing them again, so a
month's figures stay what they were when the month ended.

``period_figure.value`` is the number the figure's provider returned, stored exactly: an
integer or a decimal as it is, a float as the shortest decimal that reads back as the same
float (PostgreSQL ``numeric`` without a scale; SQLite keeps the double itself). A regional
figure is the mean of its sites' figures, so the stored values combine into exactly the average
a live computation gives. NULL: the figure had no value for the site ("–").

A change made later to a record of a closed month leaves the stored figures alone and writes a
``period_amendment`` row instead; the dashboard marks the month "amended after close" until an
authorised person closes it again.

None of these rows is audited row by row: closing is a computation, and a re-close writes its
own audit event (``audit.record``).
"""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import SiteScopedMixin, UTCDateTime

# "2026-11": a calendar month of the site's own local days.
PERIOD_LENGTH = 7


class PeriodClose(SiteScopedMixin, db.Model):
    """One site's month, closed: when, by whom (None: the system, on first need or by the CLI),
    from which data (the site's latest audit event then), and the month-end report's data as it
    was at close (the PDF is built from it, so it is the same file whenever it is produced)."""

    __tablename__ = "period_close"
    __audited__ = False
    __table_args__ = (UniqueConstraint("site_id", "period", name="uq_period_close_site_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(PERIOD_LENGTH))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The id of the site's newest audit event when its figures were computed (0: none yet).
    source_event_id: Mapped[int] = mapped_column(Integer, default=0)
    # How many times it was closed again after corrections (0: never).
    reclosed: Mapped[int] = mapped_column(Integer, default=0)
    # The data of the site's month-end PDF (``report_data.site_month``), taken when first
    # needed after the close and replaced by a re-close; None until then.
    report: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))

    closed_by = relationship("User", foreign_keys=[closed_by_id])


class PeriodFigure(SiteScopedMixin, db.Model):
    """One figure of one site's closed month."""

    __tablename__ = "period_figure"
    __audited__ = False
    __table_args__ = (
        UniqueConstraint("site_id", "period", "figure", name="uq_period_figure_site_period_figure"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(PERIOD_LENGTH))
    figure: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Numeric(asdecimal=False))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_event_id: Mapped[int] = mapped_column(Integer, default=0)


class PeriodAmendment(SiteScopedMixin, db.Model):
    """A record of a closed month created, changed or deleted after the close. ``settled_at``
    is set when the month is closed again (its figures then include the change)."""

    __tablename__ = "period_amendment"
    __audited__ = False
    __table_args__ = (Index("ix_period_amendment_open", "site_id", "period", "settled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(PERIOD_LENGTH))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # create / update / delete
    summary: Mapped[str] = mapped_column(String(255), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", foreign_keys=[user_id])


class DayCount(SiteScopedMixin, db.Model):
    """A count of one site's local day that is over, kept the first time a figure needs it, for
    facts that no later change can touch (``portal.services.day_counts``): a running month's
    figure then adds up its past days from here and counts only today. ``zone``: the time zone
    the day was cut in; a site moved to another zone has its days counted again."""

    __tablename__ = "day_count"
    __audited__ = False
    __table_args__ = (
        UniqueConstraint(
            "site_id", "figure", "zone", "day", name="uq_day_count_site_figure_zone_day"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    figure: Mapped[str] = mapped_column(String(64))
    zone: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    value: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DayChange(SiteScopedMixin, db.Model):
    """How often a site's local day has been written to: raised by every change to a record dated
    on it, in the writer's own transaction (``portal.services.day_figures``). The row dated
    ``day_figures.SITE_WIDE`` counts changes that may touch any day of the site (a product, an
    item). A kept ``DayFigure`` holds only while these have not moved since it was counted."""

    __tablename__ = "day_change"
    __audited__ = False
    __table_args__ = (UniqueConstraint("site_id", "day", name="uq_day_change_site_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    generation: Mapped[int] = mapped_column(Integer)


class DayFigure(SiteScopedMixin, db.Model):
    """One site's share of a running month's figure on one local day that is over (checklists on
    time, drinks, hours to fix…), kept the first time a figure needs it
    (``portal.services.day_figures``). ``value`` and ``count`` are what the figure adds up (units
    on time and units expected, microseconds and fixes…). ``stamp``: the day's and the site's
    ``DayChange`` generations added up when it was counted: it is valid while they still add up
    to it. ``zone``: the time zone the day was cut in."""

    __tablename__ = "day_figure"
    __audited__ = False
    __table_args__ = (
        UniqueConstraint(
            "site_id", "figure", "zone", "day", name="uq_day_figure_site_figure_zone_day"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    figure: Mapped[str] = mapped_column(String(64))
    zone: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    stamp: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)
