"""Drinks and snacks: products, the stock ledger, consumption slips and the daily tally.

Stock is never a bare editable number: every change is a ``StockMovement`` (the ledger)
and ``StockBalance`` is its running sum per product, updated atomically in the same
transaction as the ledger row (see ``portal.services.stock``).
"""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    insert,
    inspect,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Mapped, column_property, deferred, mapped_column, relationship

from portal.errors import DomainError
from portal import clock
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models.base import (
    SiteScopedMixin,
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    utcnow,
    VersionedMixin,
)
from portal.models.visits import Visit
from portal.models.org import Site

PRODUCT_KINDS = ("drink", "snack")
PRODUCT_KIND_LABELS = {"drink": _l("Drink"), "snack": _l("Snack")}
# restock: +, served: −, wastage: −, correction: ± (a count brings the ledger to what is on the
# shelf).
MOVEMENT_KINDS = ("restock", "served", "wastage", "correction")
MOVEMENT_LABELS = {
    "restock": _l("Restock"),
    "served": _l("Served"),
    "wastage": _l("Wastage"),
    "correction": _l("Count correction"),
}


class Product(VersionedMixin, SiteScopedMixin, SoftDeleteMixin, TimestampMixin, db.Model):
    __table_args__ = (
        UniqueConstraint("site_id", "name", name="uq_product_site_name"),
        CheckConstraint("reorder_level >= 0", name="reorder_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10), default="drink")
    unit: Mapped[str] = mapped_column(String(20), default="瓶")
    reorder_level: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # When the product stopped being offered: switched off (``active``) or moved to the recycle
    # bin (``deleted_at``), whichever came first; None while it is offered. Its name and its
    # servings stay readable for the periods before (``portal.services.period_facts``).
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    balance: Mapped["StockBalance"] = relationship(
        back_populates="product", uselist=False, viewonly=True
    )

    def __str__(self):
        return self.name


@event.listens_for(Product, "before_insert")
@event.listens_for(Product, "before_update")
def _withdrawn_at(mapper, connection, product):
    offered = product.active is not False and product.deleted_at is None
    if offered:
        product.withdrawn_at = None
    elif product.withdrawn_at is None:
        product.withdrawn_at = product.deleted_at or clock.now()


class StockBalance(SiteScopedMixin, db.Model):
    """The running sum of a product's ledger; only ``services.stock`` changes it, with one
    UPDATE."""

    __tablename__ = "stock"
    __table_args__ = (CheckConstraint("qty >= 0", name="qty_not_negative"),)
    # The ledger rows are the audit trail of this number.
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), unique=True)
    qty: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    product: Mapped[Product] = relationship(back_populates="balance")


@event.listens_for(Product, "after_insert")
def _open_balance(mapper, connection, product):
    # Every product has its balance row from the start, so stock changes are always one UPDATE.
    connection.execute(
        insert(StockBalance), [{"site_id": product.site_id, "product_id": product.id, "qty": 0}]
    )


class StockMovement(SiteScopedMixin, TimestampMixin, db.Model):
    """One line of the stock ledger; never edited or deleted (a mistake is corrected by a new
    line)."""

    __table_args__ = (
        Index("ix_stock_movement_site_day", "site_id", "day"),
        CheckConstraint("quantity <> 0", name="quantity_not_zero"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    # Signed change of the stock: + restock, − served / wastage, ± correction.
    quantity: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # The site-local business day the movement counts for in the daily tally.
    day: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(255))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    tally_id: Mapped[int | None] = mapped_column(ForeignKey("daily_tally.id"))

    product: Mapped[Product] = relationship()
    visit: Mapped[Visit | None] = relationship()
    user = relationship("User", foreign_keys="StockMovement.created_by_id", viewonly=True)

    def __str__(self):
        kind = MOVEMENT_LABELS.get(self.kind, self.kind)
        return f"{kind} {self.quantity:+d} {self.product.name if self.product else ''}"


class ConsumptionLine(SiteScopedMixin, TimestampMixin, db.Model):
    """A line of the drink consumption slip (饮料消耗单): what a visit was served."""

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    # Indexed: a period's drinks are found from its stock movements (the day they were served).
    movement_id: Mapped[int] = mapped_column(ForeignKey("stock_movement.id"), index=True)

    visit: Mapped[Visit] = relationship(backref="consumption_lines")
    product: Mapped[Product] = relationship()
    movement: Mapped[StockMovement] = relationship()

    def __str__(self):
        return f"{self.product.name if self.product else ''} × {self.quantity}"


class DailyTally(SiteScopedMixin, TimestampMixin, db.Model):
    """The 17:50 tally of one site and day; once closed it is read-only."""

    __table_args__ = (UniqueConstraint("site_id", "day", name="uq_daily_tally_site_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    # Indexed: the supervisors' "waiting for you" counts read the last day's early closes.
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Closed before the site's local midnight at the end of ``day`` (fixed at closing, from the
    # site's time zone then): what the dashboard's "tally closed the same day" counts.
    same_day: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    visits: Mapped[int] = mapped_column(Integer, default=0)
    visitors: Mapped[int] = mapped_column(Integer, default=0)
    drinks_served: Mapped[int] = mapped_column(Integer, default=0)
    snacks_served: Mapped[int] = mapped_column(Integer, default=0)
    # Closed before the tally time ("unless there are special circumstances"): why, in the
    # clerk's words; None when closed on time. Shown to the supervisor with the tally.
    early_reason: Mapped[str | None] = mapped_column(Text)

    closed_by = relationship("User", foreign_keys=[closed_by_id])
    lines: Mapped[list["DailyTallyLine"]] = relationship(
        back_populates="tally", order_by="DailyTallyLine.id"
    )

    @property
    def drinks_per_visitor(self):
        return round(self.drinks_served / self.visitors, 2) if self.visitors else None

    def __str__(self):
        return f"{self.day:%Y-%m-%d}"


class DailyTallyLine(SiteScopedMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    tally_id: Mapped[int] = mapped_column(ForeignKey("daily_tally.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    opening: Mapped[int] = mapped_column(Integer)
    restock: Mapped[int] = mapped_column(Integer)
    served: Mapped[int] = mapped_column(Integer)
    wastage: Mapped[int] = mapped_column(Integer)
    corrections: Mapped[int] = mapped_column(Integer)
    expected: Mapped[int] = mapped_column(Integer)
    counted: Mapped[int] = mapped_column(Integer)
    variance: Mapped[int] = mapped_column(Integer)

    tally: Mapped[DailyTally] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()

    def __str__(self):
        return f"{self.product.name if self.product else ''}: {self.counted}"


# Units counted off at the tally, either way: sum of |counted − expected| over its lines (what the
# dashboard's "stock variance at the tally" adds up). Deferred: loaded only where it is shown.
DailyTally.units_off = deferred(
    column_property(
        select(func.coalesce(func.sum(func.abs(DailyTallyLine.variance)), 0))
        .where(DailyTallyLine.tally_id == DailyTally.id)
        .correlate_except(DailyTallyLine)
        .scalar_subquery()
    )
)
# Net variance of the day (counted − expected, summed with signs), as the tally page totals it.
DailyTally.net_variance = deferred(
    column_property(
        select(func.coalesce(func.sum(DailyTallyLine.variance), 0))
        .where(DailyTallyLine.tally_id == DailyTally.id)
        .correlate_except(DailyTallyLine)
        .scalar_subquery()
    )
)


# A closed tally (or one of its lines) was about to be changed: a conflict with the closed day.
CLOSED_TALLY = _l(
    "A closed tally cannot be changed; a later count is recorded as a correction in "
    "the stock ledger."
)


def closed_same_day(day, closed_at, timezone):
    """Whether a tally of ``day`` closed at ``closed_at`` was closed before that day's local
    midnight; ``timezone``: the site's (a name or a ZoneInfo)."""
    return closed_at < clock.day_bounds(day, timezone)[1]


@event.listens_for(DailyTally, "before_insert")
def _same_day(mapper, connection, target):
    # The service sets it; a tally made any other way (imports, tests) gets it from its site.
    if target.same_day is None and target.day is not None:
        if target.closed_at is None:
            target.closed_at = clock.now()
        tz = connection.scalar(select(Site.timezone).where(Site.id == target.site_id))
        target.same_day = closed_same_day(target.day, target.closed_at, tz)


@event.listens_for(DailyTally, "before_update")
@event.listens_for(DailyTallyLine, "before_update")
def _closed_is_read_only(mapper, connection, target):
    # before_update also fires for rows whose collections changed; only column changes count.
    state = inspect(target)
    if any(state.attrs[attr.key].history.has_changes() for attr in mapper.column_attrs):
        raise DomainError(CLOSED_TALLY, status=409)


@event.listens_for(DailyTally, "before_delete")
@event.listens_for(DailyTallyLine, "before_delete")
def _closed_is_never_deleted(mapper, connection, target):
    raise DomainError(CLOSED_TALLY, status=409)
