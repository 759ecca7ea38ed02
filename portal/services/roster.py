"""Shift roster rules: plan a shift, copy last week, find gaps, who is on duty now."""

from datetime import time, timedelta
from functools import cache

from portal.i18n import lazy_gettext as _l
from sqlalchemy import bindparam, select

from portal.errors import DomainError
from portal import clock
from portal.extensions import db
from portal.models.org import StaffMember
from portal.models.roster import POSTS, Shift
from sqlalchemy.orm import joinedload

OPENING_HOURS = (time(9, 0), time(18, 0))


def plan(site, post, staff_member, starts_at, ends_at):
    """Add a shift; refuses an empty span, a person of another site or a double booking."""
    if post not in POSTS:
        raise DomainError(_l("Unknown post."))
    if ends_at <= starts_at:
        raise DomainError(_l("The shift must end after it starts."))
    if staff_member.site_id != site.id:
        raise DomainError(_l("This person is not on the roster of this site."))
    clash = db.session.scalar(
        select(Shift.id)
        .where(
            Shift.staff_member_id == staff_member.id,
            Shift.starts_at < ends_at,
            Shift.ends_at > starts_at,
        )
        .limit(1)
    )
    if clash:
        raise DomainError(_l("This person already has a shift at that time."))
    shift = Shift(
        site=site, post=post, staff_member=staff_member, starts_at=starts_at, ends_at=ends_at
    )
    db.session.add(shift)
    return shift


def week_start(site, day):
    """The Monday of the site-local week containing ``day``."""
    return day - timedelta(days=day.weekday())


def shifts_between(site, start, end):
    stmt = (
        select(Shift)
        .options(joinedload(Shift.staff_member))
        .where(Shift.site_id == site.id, Shift.starts_at >= start, Shift.starts_at < end)
        .order_by(Shift.starts_at, Shift.post)
    )
    return db.session.scalars(stmt).all()


def copy_last_week(site, monday):
    """Create this week's shifts (week of ``monday``) from last week's; existing copies are kept,
    so running it twice adds nothing. Returns the new shifts."""
    this_start, _ = clock.day_bounds(monday, site)
    last_start = this_start - timedelta(days=7)
    existing = {
        (s.staff_member_id, s.post, s.starts_at)
        for s in shifts_between(site, this_start, this_start + timedelta(days=7))
    }
    created = []
    for old in shifts_between(site, last_start, this_start):
        key = (old.staff_member_id, old.post, old.starts_at + timedelta(days=7))
        if key in existing:
            continue
        shift = Shift(
            site_id=site.id,
            post=old.post,
            staff_member_id=old.staff_member_id,
            starts_at=old.starts_at + timedelta(days=7),
            ends_at=old.ends_at + timedelta(days=7),
        )
        db.session.add(shift)
        created.append(shift)
    return created


def gaps(site, day, hours=OPENING_HOURS, posts=POSTS):
    """{post: [(from, to)…]} site-local times during opening hours when nobody is on that post."""
    open_at, close_at = clock.local_at(day, hours[0], site), clock.local_at(day, hours[1], site)
    shifts = db.session.scalars(
        select(Shift).where(
            Shift.site_id == site.id, Shift.starts_at < close_at, Shift.ends_at > open_at
        )
    ).all()
    result = {}
    for post in posts:
        spans = sorted((s.starts_at, s.ends_at) for s in shifts if s.post == post)
        cursor, holes = open_at, []
        for start, end in spans:
            if start > cursor:
                holes.append((cursor, min(start, close_at)))
            cursor = max(cursor, end)
            if cursor >= close_at:
                break
        if cursor < close_at:
            holes.append((cursor, close_at))
        if holes:
            result[post] = [(clock.to_local(a, site), clock.to_local(b, site)) for a, b in holes]
    return result


def on_duty_now(site, at):
    """Shifts running at ``at`` (aware datetime), with their people loaded."""
    return running_at(shifts_of_day(site, clock.local_day(site, at)), at)


def running_at(shifts, at):
    """The shifts of ``shifts`` that run at ``at``."""
    return [s for s in shifts if s.starts_at <= at < s.ends_at]


def shifts_of_day(site, day):
    """Shifts that run during some of the site-local ``day`` (night shifts from the evening
    before too), by post, with their people loaded."""
    start, end = clock.day_bounds(day, site)
    return db.session.scalars(
        _shifts_of_day_stmt(), {"site_id": site.id, "start": start, "end": end}
    ).all()


@cache  # built once, run with parameters (HACKING.md, "Statements built once")
def _shifts_of_day_stmt():
    start, end = (
        bindparam("start", type_=Shift.starts_at.type),
        bindparam("end", type_=Shift.starts_at.type),
    )
    return (
        select(Shift)
        .options(joinedload(Shift.staff_member))
        .where(Shift.site_id == bindparam("site_id"), Shift.starts_at < end, Shift.ends_at > start)
        .order_by(Shift.post, Shift.starts_at)
    )


def current_shift_of(user, site, at):
    """The shift the user's staff record is working at ``at`` (or None)."""
    stmt = (
        select(Shift)
        .join(StaffMember, Shift.staff_member_id == StaffMember.id)
        .where(
            StaffMember.user_id == user.id,
            Shift.site_id == site.id,
            Shift.starts_at <= at,
            Shift.ends_at > at,
        )
        .limit(1)
    )
    return db.session.scalar(stmt)


def next_shift(site, post, after):
    """The first shift of this post starting at or after ``after``."""
    stmt = (
        select(Shift)
        .where(Shift.site_id == site.id, Shift.post == post, Shift.starts_at >= after)
        .order_by(Shift.starts_at)
        .limit(1)
    )
    return db.session.scalar(stmt)
