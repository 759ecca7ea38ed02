"""The daily tally (17:50): per product, opening + restock − served − wastage ± corrections
against the counted stock, and the day's visitors.

The ledger is the truth: a day's figures are sums of its movements (by site-local business
day), the opening stock is the sum of every earlier movement. Closing writes one correction
per product whose count differs, so the ledger ends at the counted value, and stores the
figures: a closed day always shows what was closed, whatever is recorded later.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, undefer

from portal.errors import DomainError
from portal.extensions import db
from portal.models import DailyTally, DailyTallyLine, Product, StockMovement, Visit
from portal.models.consumables import closed_same_day
from portal.services import audit, bounds, stock
from portal.services.visits import day_counts

TALLY_REASON = "Daily tally count"
ALREADY_CLOSED = _l("The tally of this day is closed already.")


@dataclass
class TallyRow:
    product: Product
    opening: int = 0
    restock: int = 0
    served: int = 0
    wastage: int = 0
    corrections: int = 0
    counted: int | None = None
    variance: int | None = None

    @property
    def expected(self):
        return self.opening + self.restock - self.served - self.wastage + self.corrections


@dataclass
class Tally:
    site: object
    day: date
    rows: list = field(default_factory=list)
    visits: int = 0
    visitors: int = 0
    drinks_served: int = 0
    snacks_served: int = 0
    closed: DailyTally | None = None

    @property
    def drinks_per_visitor(self):
        return round(self.drinks_served / self.visitors, 2) if self.visitors else None

    @property
    def total_variance(self):
        return sum(r.variance or 0 for r in self.rows)


# ---------------------------------------------------------------- computing


def closed_tally(site, day, summary=False):
    """The closed tally of ``day`` or None. ``summary``: with its net variance and who closed it,
    in the same statement (the Today card)."""
    return db.session.scalars(_closed_tally_stmt(summary), {"site_id": site.id, "day": day}).first()


@cache  # built once, run with parameters (HACKING.md, "Statements built once")
def _closed_tally_stmt(summary):
    stmt = select(DailyTally).where(
        DailyTally.site_id == bindparam("site_id"), DailyTally.day == bindparam("day")
    )
    if summary:
        stmt = stmt.options(undefer(DailyTally.net_variance), joinedload(DailyTally.closed_by))
    return stmt


def compute_tally(site, day):
    """The day's figures: the stored ones if the day is closed, else from the ledger."""
    closed = closed_tally(site, day)
    if closed is not None:
        return _from_closed(site, closed)
    tally = Tally(site, day)
    opening = dict(
        db.session.execute(
            select(StockMovement.product_id, func.sum(StockMovement.quantity))
            .where(StockMovement.site_id == site.id, StockMovement.day < day)
            .group_by(StockMovement.product_id)
        ).all()
    )
    kinds = {}
    for product_id, kind, qty in db.session.execute(
        select(StockMovement.product_id, StockMovement.kind, func.sum(StockMovement.quantity))
        .where(StockMovement.site_id == site.id, StockMovement.day == day)
        .group_by(StockMovement.product_id, StockMovement.kind)
    ).all():
        kinds.setdefault(product_id, {})[kind] = int(qty)
    moved = set(opening) | set(kinds)
    products = db.session.scalars(
        select(Product)
        .where(Product.site_id == site.id)
        .where(Product.active.is_(True) | Product.id.in_(moved or {-1}))
        .order_by(Product.kind, Product.name)
    ).all()
    for product in products:
        k = kinds.get(product.id, {})
        row = TallyRow(
            product,
            opening=int(opening.get(product.id) or 0),
            restock=k.get("restock", 0),
            served=-k.get("served", 0),
            wastage=-k.get("wastage", 0),
            corrections=k.get("correction", 0),
        )
        tally.rows.append(row)
        if product.kind == "drink":
            tally.drinks_served += row.served
        else:
            tally.snacks_served += row.served
    tally.visits, tally.visitors = day_counts(site, day)
    return tally


def _from_closed(site, closed):
    # A product withdrawn since still shows in the closed figures.
    lines = db.session.execute(
        select(DailyTallyLine, Product)
        .where(DailyTallyLine.tally_id == closed.id)
        .join(Product, Product.id == DailyTallyLine.product_id)
        .order_by(Product.kind, Product.name)
        .execution_options(include_deleted=True)
    ).all()
    rows = [
        TallyRow(
            product,
            line.opening,
            line.restock,
            line.served,
            line.wastage,
            line.corrections,
            line.counted,
            line.variance,
        )
        for line, product in lines
    ]
    return Tally(
        site,
        closed.day,
        rows,
        closed.visits,
        closed.visitors,
        closed.drinks_served,
        closed.snacks_served,
        closed,
    )


# ---------------------------------------------------------------- due, closing, missing


def tally_time_passed(site, day, now=None):
    """Whether the site's tally time on ``day`` has come (site-local)."""
    local = clock.local_now(site, now)
    return local.date() > day or (local.date() == day and local.time() >= site.tally_time)


def visitors_on_site(site, now=None):
    """Open visits of the site (arrived, not left yet): (visits, visitors)."""
    row = db.session.execute(
        select(
            func.count(Visit.id), func.coalesce(func.sum(Visit.adults + Visit.children), 0)
        ).where(
            Visit.site_id == site.id,
            Visit.left_at.is_(None),
            Visit.arrived_at <= (now or clock.now()),
        )
    ).one()
    return int(row[0]), int(row[1])


def close_tally(site, day, counts, user=None, now=None, early_reason=None, on_site_confirmed=True):
    """Close ``day``: ``counts`` maps product id → counted stock (every product of the tally).

    Writes a correction movement for each variance (the ledger then ends at the count), the
    tally and its lines, in the caller's transaction. Raises ``DomainError`` and writes nothing
    when the day is closed already, a count is missing or not a number, or it is before the
    tally time without ``early_reason`` (the procedure's "unless there are special
    circumstances": the reason is kept on the tally). ``on_site_confirmed=False``: refused with
    a warning (field "on_site") while visitors are still on site; the clerk confirms and closes.
    """
    out_of_bounds = bounds.tally_day_error(site, day, clock.local_day(site, now))
    if out_of_bounds is not None:
        raise DomainError(out_of_bounds)
    reason = None
    if not tally_time_passed(site, day, now):
        reason = (early_reason or "").strip()[:500]
        if not reason:
            raise DomainError(
                _l(
                    "Before %(time)s (site time) the tally closes only with a reason: "
                    "say why it is closed early.",
                    time=site.tally_time.strftime("%H:%M"),
                ),
                "early_reason",
            )
    if not on_site_confirmed and day == clock.local_day(site, now):
        visits, visitors = visitors_on_site(site, now)
        if visits:
            raise DomainError(
                _l(
                    "%(visitors)s visitors (%(visits)s visits) are still on site. Record them "
                    "as left first, or confirm and close anyway.",
                    visitors=visitors,
                    visits=visits,
                ),
                "on_site",
            )
    # Lock the balances first: a serve arriving now waits, so the figures below stay true; and a
    # second close of the same day waits here, then finds the first one below.
    stock._lock_balances(site.id)
    if closed_tally(site, day) is not None:
        raise DomainError(ALREADY_CLOSED)
    tally = compute_tally(site, day)
    errors, parsed = {}, {}
    for row in tally.rows:
        raw = counts.get(row.product.id, counts.get(str(row.product.id)))
        try:
            parsed[row.product.id] = stock._quantity(raw, bounds.COUNTED)
        except DomainError as exc:
            errors[row.product.id] = (
                exc.message if raw not in (None, "") else _l("Enter the counted stock.")
            )
    if errors:
        raise DomainError(_l("Enter the counted stock of every product."), errors=errors)
    closed_at = now or clock.now()
    closed = DailyTally(
        site_id=site.id,
        day=day,
        closed_at=closed_at,
        closed_by_id=user.id if user else None,
        same_day=closed_same_day(day, closed_at, site.timezone),
        visits=tally.visits,
        visitors=tally.visitors,
        drinks_served=tally.drinks_served,
        snacks_served=tally.snacks_served,
        early_reason=reason,
    )
    _insert_once(closed)
    for row in tally.rows:
        row.counted = parsed[row.product.id]
        row.variance = row.counted - row.expected
        if row.variance:
            stock._move(
                site,
                row.product,
                "correction",
                row.variance,
                user,
                day=day,
                reason=TALLY_REASON,
                tally=closed,
            )
        db.session.add(
            DailyTallyLine(
                site_id=site.id,
                tally=closed,
                product_id=row.product.id,
                opening=row.opening,
                restock=row.restock,
                served=row.served,
                wastage=row.wastage,
                corrections=row.corrections,
                expected=row.expected,
                counted=row.counted,
                variance=row.variance,
            )
        )
    db.session.flush()
    audit.record(
        "close",
        closed,
        summary=str(
            _l(
                "Daily tally %(day)s: %(n)s products, variance %(variance)s",
                day=f"{day:%Y-%m-%d}",
                n=len(tally.rows),
                variance=f"{tally.total_variance:+d}",
            )
        )
        + (str(_l(", closed early: %(reason)s", reason=reason)) if reason else ""),
    )
    return closed


def _insert_once(closed):
    """Insert the closed tally; a concurrent close of the same day that committed first (the
    unique site/day key; no balance rows to lock, or a snapshot read before it) is refused with
    the same message as a second close, and only this insert is undone (a savepoint)."""
    try:
        with db.session.begin_nested():
            db.session.add(closed)
            db.session.flush()
    except IntegrityError:
        raise DomainError(ALREADY_CLOSED) from None


def tally_missing(sites, days=7, now=None):
    """[(site, day)] of the last ``days`` site-local days (before today) without a closed tally.

    Days before the site was set up are not missing. Newest first, then by site code.
    """
    sites = list(sites)
    if not sites:
        return []
    todays = {s.id: clock.local_day(s, now) for s in sites}
    earliest = min(todays.values()) - timedelta(days=days)
    closed = set(
        db.session.execute(
            select(DailyTally.site_id, DailyTally.day).where(
                DailyTally.site_id.in_([s.id for s in sites]), DailyTally.day >= earliest
            )
        ).all()
    )
    missing = []
    for site in sites:
        first = (
            clock.local_day(site, site.created_at)
            if isinstance(site.created_at, datetime)
            else earliest
        )
        for back in range(1, days + 1):
            day = todays[site.id] - timedelta(days=back)
            if day >= first and (site.id, day) not in closed:
                missing.append((site, day))
    return sorted(missing, key=lambda pair: (-pair[1].toordinal(), pair[0].code))
