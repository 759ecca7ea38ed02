"""Stock of drinks and snacks, kept as a ledger with an atomically maintained balance.

Every change inserts one ``StockMovement`` and changes ``stock.qty`` with ONE UPDATE in the
same transaction. A decrease is ``UPDATE stock SET qty = qty - :n WHERE ... AND qty >= :n``:
the database checks and changes the number in one step, so two clerks serving the last
bottle at the same moment cannot both succeed and no concurrent change is lost (a
read-modify-write in Python loses them; SECURITY.md §4). The caller commits once.
"""

from datetime import timedelta
from functools import cache

from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import bindparam, select, update

from portal.errors import DomainError
from portal.extensions import db
from portal.models import ConsumptionLine, Product, StockBalance, StockMovement
from portal.services import audit, bounds

MAX_QUANTITY = bounds.STOCK_QUANTITY.high


def _quantity(qty, bound=bounds.STOCK_QUANTITY):
    """``qty`` as an int within ``bound`` (bounds.SERVED, STOCK_QUANTITY or COUNTED)."""
    message = bounds.quantity_error(qty, bound)
    if message is not None:
        raise DomainError(message, "quantity")
    return bounds.whole_number(qty)


def _check_product(site, product):
    if product is None or product.site_id != site.id:
        raise DomainError(_l("Choose a product of this site."), "product")


def _change_balance(product, delta):
    """Add ``delta`` to the balance in one statement; False when it would go below zero."""
    table = StockBalance.__table__
    stmt = update(table).where(table.c.product_id == product.id).values(qty=table.c.qty + delta)
    if delta < 0:
        stmt = stmt.where(table.c.qty >= -delta)
    return db.session.execute(stmt).rowcount == 1


def _lock_balances(site_id, product_id=None):
    """Take the write lock on balance rows (a no-op UPDATE) before reading them to set a count.

    On PostgreSQL this locks the rows; on SQLite it takes the database write lock. Either way a
    serve that starts now waits for our commit, so the count is not computed from a stale number.
    """
    table = StockBalance.__table__
    stmt = update(table).where(table.c.site_id == site_id).values(qty=table.c.qty)
    if product_id is not None:
        stmt = stmt.where(table.c.product_id == product_id)
    db.session.execute(stmt)


def _move(
    site, product, kind, delta, user=None, at=None, day=None, reason=None, visit=None, tally=None
):
    _check_product(site, product)
    if not _change_balance(product, delta):
        left = balance(site, product)
        raise DomainError(
            _l(
                "Only %(left)s %(unit)s of %(name)s left in stock: you cannot take out %(n)s.",
                left=left,
                unit=product.unit,
                name=product.name,
                n=-delta,
            ),
            "quantity",
        )
    at = at or clock.now()
    movement = StockMovement(
        site_id=site.id,
        product=product,
        kind=kind,
        quantity=delta,
        at=at,
        day=day or clock.local_day(site, at),
        reason=reason or None,
        visit=visit,
        tally_id=tally.id if tally is not None else None,
    )
    if user is not None:
        movement.created_by_id = movement.updated_by_id = user.id
    db.session.add(movement)
    db.session.flush()
    return movement


# ---------------------------------------------------------------- movements


def restock(site, product, qty, user=None, at=None, reason=None, day=None):
    return _move(site, product, "restock", _quantity(qty), user, at, day, reason)


def serve(visit, product, qty, user=None, at=None):
    """Serve ``qty`` of ``product`` to ``visit``: a consumption slip line and its ledger row.

    Raises ``DomainError`` (nothing written) when the stock is short.
    """
    if visit.site_id != product.site_id:
        raise DomainError(_l("Choose a product of this site."), "product")
    if not product.active:
        raise DomainError(_l("This product is no longer offered."), "product")
    qty = _quantity(qty, bounds.SERVED)
    movement = _move(visit.site, product, "served", -qty, user, at, visit=visit)
    line = ConsumptionLine(
        site_id=visit.site_id, visit=visit, product=product, quantity=qty, movement=movement
    )
    if user is not None:
        line.created_by_id = line.updated_by_id = user.id
    db.session.add(line)
    db.session.flush()
    audit.record(
        "serve",
        visit,
        summary=f"{product.name} × {qty}",
        after={"visit_id": visit.id, "product_id": product.id, "quantity": qty},
    )
    return line


def serve_many(visit, items, user=None):
    """Serve several products to ``visit`` at once: ``items`` is [(product, qty)]. One
    transaction: when any line is refused (stock short, bad quantity) nothing is written; the
    caller commits."""
    if not items:
        raise DomainError(_l("Choose at least one product."), "product")
    with db.session.begin_nested():
        return [serve(visit, product, qty, user=user) for product, qty in items]


# How long after serving the clerk can take a line back with one tap (a mistap, not a return).
UNDO_WINDOW = timedelta(minutes=5)


def can_undo(line, now=None):
    return (now or clock.now()) - line.created_at <= UNDO_WINDOW


def undo_serve(line, user=None, now=None):
    """Take back a served line: a reversing "served" movement puts the stock back (one UPDATE,
    never read-modify-write), the slip line goes, and the audit trail keeps both. Refused after
    ``UNDO_WINDOW``; the caller commits."""
    if not can_undo(line, now):
        raise DomainError(
            _l("Too late to undo: a served line can be undone within %(n)s minutes.",
               n=int(UNDO_WINDOW.total_seconds() // 60)),
        )
    visit, product, qty = line.visit, line.product, line.quantity
    # The reversal counts on the day of the serving it cancels: the day's figures net out.
    _move(
        visit.site, product, "served", qty, user, day=line.movement.day, reason="undo", visit=visit
    )
    audit.record(
        "unserve",
        visit,
        summary=f"{product.name} × {qty}",
        after={"visit_id": visit.id, "product_id": product.id, "quantity": -qty},
    )
    db.session.delete(line)
    db.session.flush()
    return product, qty


def record_wastage(site, product, qty, user=None, reason=None, at=None):
    return _move(site, product, "wastage", -_quantity(qty), user, at, reason=reason)


def correct_count(site, product, counted, user=None, reason=None, at=None):
    """Bring the ledger to the counted stock with one correction movement (None if it matches)."""
    if not (reason or "").strip():
        raise DomainError(_l("Give a reason for the correction."), "reason")
    _check_product(site, product)
    counted = _quantity(counted, bounds.COUNTED)
    _lock_balances(site.id, product.id)
    delta = counted - balance(site, product)
    if delta == 0:
        return None
    movement = _move(site, product, "correction", delta, user, at, reason=reason.strip())
    audit.record(
        "correct",
        movement,
        summary=f"{product.name}: {counted} ({delta:+d}) {reason.strip()}"[:255],
        after={"product_id": product.id, "counted": counted, "delta": delta},
    )
    return movement


# ---------------------------------------------------------------- reading


def balance(site, product):
    stmt = select(StockBalance.qty).where(
        StockBalance.site_id == site.id, StockBalance.product_id == product.id
    )
    return db.session.execute(stmt).scalar() or 0


def balances(site, active_only=True):
    """[(product, qty)] of a site, drinks first, by name."""
    rows = db.session.execute(_balances_stmt(active_only), {"site_id": site.id}).all()
    return [(p, qty or 0) for p, qty in rows]


@cache  # built once, run with parameters (HACKING.md, "Statements built once")
def _balances_stmt(active_only):
    stmt = (
        select(Product, StockBalance.qty)
        .outerjoin(StockBalance, StockBalance.product_id == Product.id)
        .where(Product.site_id == bindparam("site_id"))
        .order_by(Product.kind, Product.name)
    )
    return stmt.where(Product.active.is_(True)) if active_only else stmt


def low_stock(site):
    """[(product, qty)] of active products at or below their reorder level."""
    return [(p, qty) for p, qty in balances(site) if qty <= p.reorder_level]


def product_of_site(site, product_id):
    """A product of this site by id (through the scope), or None."""
    try:
        value = int(product_id)
    except (TypeError, ValueError):
        return None
    product = db.session.get(Product, value) if 0 < value < 2**63 else None
    return product if product is not None and product.site_id == site.id else None
