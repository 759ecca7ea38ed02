"""Break rules: start / end in one tap for the user's staff record; over 10 minutes is flagged."""

from collections import defaultdict
from functools import cache

from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from portal.errors import DomainError
from portal.extensions import db
from portal.models.breaks import BREAK_LIMIT, BreakLog
from portal.models.org import StaffMember


def staff_and_open_break(user, site=None):
    """The user's own active staff record (at ``site`` if given) and its running break or None,
    in one statement; (None, None) without a record."""
    params = {"user_id": user.id} if site is None else {"user_id": user.id, "site_id": site.id}
    row = db.session.execute(_staff_and_break_stmt(site is not None), params).first()
    return (row[0], row[1]) if row is not None else (None, None)


@cache  # built once, run with parameters (HACKING.md, "Statements built once")
def _staff_and_break_stmt(at_site):
    stmt = (
        select(StaffMember, BreakLog)
        .outerjoin(
            BreakLog, (BreakLog.staff_member_id == StaffMember.id) & BreakLog.ended_at.is_(None)
        )
        .where(StaffMember.user_id == bindparam("user_id"), StaffMember.active.is_(True))
    )
    if at_site:
        stmt = stmt.where(StaffMember.site_id == bindparam("site_id"))
    return stmt.order_by(StaffMember.id, BreakLog.id).limit(1)


def start(user, at=None, site=None):
    staff, current = staff_and_open_break(user, site)
    if staff is None:
        raise DomainError(
            _l("You have no staff record; ask your supervisor to add you to the roster.")
        )
    if current is not None:
        raise DomainError(_l("Your break has already started."))
    log = BreakLog(site_id=staff.site_id, staff_member=staff, started_at=at or clock.now())
    db.session.add(log)
    return log


def end(user, at=None, site=None):
    _staff, current = staff_and_open_break(user, site)
    if current is None:
        raise DomainError(_l("You are not on a break."))
    current.ended_at = max(at or clock.now(), current.started_at)
    return current


def flagged(logs, now=None):
    """The breaks among ``logs`` longer than the limit (running breaks count up to ``now``)."""
    return [b for b in logs if b.is_flagged(now)]


def breaks_per_day(site, day):
    """{staff member: [breaks]} of one site-local day, people by name."""
    start_at, end_at = clock.day_bounds(day, site)
    stmt = (
        select(BreakLog)
        .options(joinedload(BreakLog.staff_member))
        .where(
            BreakLog.site_id == site.id,
            BreakLog.started_at >= start_at,
            BreakLog.started_at < end_at,
        )
        .order_by(BreakLog.started_at)
    )
    result = defaultdict(list)
    for log in db.session.scalars(stmt):
        result[log.staff_member].append(log)
    return dict(sorted(result.items(), key=lambda kv: kv[0].name))


__all__ = ["BREAK_LIMIT", "breaks_per_day", "end", "flagged", "staff_and_open_break", "start"]
