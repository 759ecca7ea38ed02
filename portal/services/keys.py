"""The key register's rules: hand a key out, take it back, report it lost.

A key is out to one person at a time. The check before the insert gives the clear message; the
unique partial index on open loans (``uq_key_loan_open``) makes it hold when two clerks hand out
the same key at the same moment: the second insert fails and is refused the same way. Taking a
key back updates a versioned row, so two people receiving it at once cannot both succeed.
"""

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import clock
from portal.errors import DomainError
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import StaffMember
from portal.models.base import among
from portal.models.keys import KeyItem, KeyLoan
from portal.services import audit
from portal.services import metrics as m
from portal.services import repairs

HANDLER_ROLES = frozenset({"clerk", "security"})
LOST_ROLES = frozenset({"admin", "supervisor", "clerk", "security"})


def _text(value, limit):
    return (value or "").strip()[:limit]


def open_loan(key):
    return db.session.scalar(
        select(KeyLoan).where(KeyLoan.key_id == key.id, KeyLoan.returned_at.is_(None))
    )


def register_of(site):
    """[(key, open loan or None)] of the site's keys in use, by code."""
    keys = db.session.scalars(
        select(KeyItem)
        .where(KeyItem.site_id == site.id, KeyItem.active.is_(True))
        .order_by(KeyItem.code)
    ).all()
    loans = {loan.key_id: loan for loan in open_loans(site)}
    return [(key, loans.get(key.id)) for key in keys]


def open_loans(site):
    stmt = (
        select(KeyLoan)
        .where(KeyLoan.site_id == site.id, KeyLoan.returned_at.is_(None))
        .options(joinedload(KeyLoan.key), joinedload(KeyLoan.staff_member))
        .order_by(KeyLoan.out_at)
    )
    return db.session.scalars(stmt).unique().all()


def _refuse_unless(user, roles):
    if user.role not in roles:
        raise DomainError(_l("Your role may not do this."), status=403)


def hand_out(key, user, purpose, staff_member=None, holder_name=None, holder_phone=None):
    """Give ``key`` to a staff member of its site, or to a contractor by name and phone."""
    _refuse_unless(user, HANDLER_ROLES)
    purpose = _text(purpose, 200)
    holder_name, holder_phone = _text(holder_name, 80), _text(holder_phone, 40)
    if not key.active:
        raise DomainError(_l("This key is no longer in use."), status=409)
    if staff_member is not None and staff_member.site_id != key.site_id:
        raise DomainError(_l("Choose a person of this site."), "staff_member")
    if staff_member is None and not holder_name:
        raise DomainError(_l("Choose a person or write the contractor's name."), "holder_name")
    if staff_member is None and not holder_phone:
        raise DomainError(_l("Write the contractor's phone number."), "holder_phone")
    if not purpose:
        raise DomainError(_l("Say what the key is for."), "purpose")
    if open_loan(key) is not None:
        raise DomainError(_l("This key is already out. Take it back first."), status=409)
    now = clock.now()
    loan = KeyLoan(
        site_id=key.site_id,
        key=key,
        purpose=purpose,
        out_at=now,
        out_day=clock.local_day(key.site, now),
        out_by_id=user.id,
        staff_member_id=staff_member.id if staff_member is not None else None,
        holder_name=None if staff_member is not None else holder_name,
        holder_phone=None if staff_member is not None else holder_phone,
    )
    try:
        with db.session.begin_nested():
            db.session.add(loan)
    except IntegrityError:
        # Someone handed out the same key a moment ago.
        raise DomainError(_l("This key is already out. Take it back first."), status=409) from None
    return loan


def give_back(loan, user):
    """The key is back in the cabinet: who received it, and when."""
    _refuse_unless(user, HANDLER_ROLES)
    if loan.returned_at is not None:
        raise DomainError(_l("This key has already been returned."), status=409)
    now = clock.now()
    loan.returned_at, loan.returned_day = now, clock.local_day(loan.site, now)
    loan.received_by_id = user.id
    db.session.flush()
    return loan


def report_lost(key, user):
    """A lost key: its open loan ends as lost, the key is retired and a repair ticket asks for
    the lock to be changed. One transaction; the caller commits."""
    _refuse_unless(user, LOST_ROLES)
    if key.lost_at is not None:
        raise DomainError(_l("This key is already reported lost."), status=409)
    now = clock.now()
    loan = open_loan(key)
    if loan is not None:
        loan.returned_at, loan.returned_day, loan.lost = now, clock.local_day(key.site, now), True
        loan.received_by_id = user.id
    ticket = repairs.report(
        key.site,
        user,
        _("Lock: %(key)s", key=key.label),
        _("Key %(code)s was lost. Change the lock.", code=key.code),
        "high",
    )
    key.lost_at, key.active, key.lock_ticket_id = now, False, ticket.id
    db.session.flush()
    audit.record("lost", key, summary=_("Key %(code)s lost, lock change requested", code=key.code))
    return ticket


def staff_choices(site):
    return db.session.scalars(
        select(StaffMember)
        .where(StaffMember.site_id == site.id, StaffMember.active.is_(True))
        .order_by(StaffMember.name)
    ).all()


# ------------------------------------------------------------------ dashboard and month-end


def overnight_clause(start, end):
    """Loans that went out on a local day of the period and were not back that day (still out
    counts: the key is out for the night). Shared with the loan list's filter."""
    return and_(
        KeyLoan.out_day.between(start, end),
        or_(KeyLoan.returned_day.is_(None), KeyLoan.returned_day > KeyLoan.out_day),
    )


def keys_out_overnight(site_ids, start, end):
    stmt = (
        select(KeyLoan.site_id, func.count())
        .where(among(KeyLoan.site_id, site_ids), overnight_clause(start, end))
        .group_by(KeyLoan.site_id)
    )
    return m.counts(stmt, site_ids)


def register_figures():
    m.register_metric(
        "keys_out_overnight",
        _l("Keys not back the same day"),
        _l("keys"),
        keys_out_overnight,
        better="lower",
        order=85,
        definition=_l(
            "Key loans handed out on the period's days (site's clock) and not returned the same "
            "day, whether returned later or still out."
        ),
        drill=(
            "keyloan.index_view",
            {"flt0_site_equals": "{site_id}", "flt1_out_overnight_between": "{start} to {end}"},
        ),
    )


def report_section(site_id, start, end):
    stmt = (
        select(KeyLoan)
        .where(KeyLoan.site_id == site_id, overnight_clause(start, end))
        .options(joinedload(KeyLoan.key), joinedload(KeyLoan.staff_member))
        .order_by(KeyLoan.out_at)
    )
    rows = [
        [
            loan.out_day.isoformat(),
            str(loan.key),
            loan.holder,
            loan.purpose,
            loan.returned_day.isoformat() if loan.returned_day else _("Still out"),
        ]
        for loan in db.session.scalars(stmt).unique()
    ]
    return {
        "headers": [_("Day out"), _("Key"), _("Holder"), _("Purpose"), _("Back on")],
        "rows": rows,
    }
