"""Arranging handover-domain data for tests: users, sites, shifts, entries, through the services."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from contextlib import contextmanager

from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.services import handover, roster
from portal.services.auth import new_session_token

from portal.models import Shift, Site, StaffMember, User

SHANGHAI = ZoneInfo("Asia/Shanghai")


def user(dbs, username):
    return dbs.scalar(select(User).where(User.username == username))


def site(dbs, code):
    return dbs.scalar(select(Site).where(Site.code == code))


def staff(dbs, code, name=None, kind=None, username=None):
    stmt = select(StaffMember).join(Site).where(Site.code == code)
    if name:
        stmt = stmt.where(StaffMember.name == name)
    if kind:
        stmt = stmt.where(StaffMember.kind == kind)
    if username:
        stmt = stmt.where(StaffMember.user_id == user(dbs, username).id)
    return dbs.scalars(stmt.order_by(StaffMember.id)).first()


def local(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def monday_of(day):
    return day - timedelta(days=day.weekday())


@contextmanager
def system_session(app):
    """The unscoped session in its own app context, closed before the next HTTP request
    (a request inside an open app context would share its session, scope and user)."""
    with app.app_context():
        try:
            yield db.session
            db.session.commit()
        finally:
            db.session.remove()


def clerk(dbs, code, username, name):
    """A second front-desk clerk with a login and a roster record at the site."""
    where = site(dbs, code)
    account = User(
        username=username,
        display_name=name,
        role="clerk",
        active=True,
        session_token=new_session_token(),
        sites=[where],
    )
    account.set_password("demo12345")
    dbs.add(account)
    dbs.add(StaffMember(site_id=where.id, name=name, kind="clerk", user=account))
    dbs.flush()
    return account


def on_shift(dbs, code, username, post, day, start=(8, 30), end=(18, 30)):
    """Plan ``username``'s shift on ``post`` for the site-local ``day``."""
    where = site(dbs, code)
    shift = roster.plan(
        where, post, staff(dbs, code, username=username), local(day, *start), local(day, *end)
    )
    dbs.flush()
    return shift


def handed_over(dbs, author="clerk_sz01", code="SZ01", post="reception", day=None, **kw):
    """An entry written at 18:00 on ``day`` (some past day) at the end of the author's shift,
    with the author's shift of that day planned; returns the entry."""
    day = day or clock.local_day(site(dbs, code)) - timedelta(days=20)
    outgoing = on_shift(dbs, code, author, post, day)
    entry = handover.write_entry(
        site(dbs, code),
        user(dbs, author),
        kw.get("text", "今日接待 8 批客户"),
        list(kw.get("items", ("落地灯不亮",))),
        post=post,
        outgoing_shift=outgoing,
        at=local(day, 18),
    )
    dbs.flush()
    return entry


def sign_as(dbs, entry, username):
    """``username`` takes ``entry`` over: put on the roster for the entry's post right after it
    was written (a minute-long shift, shared by the entries written meanwhile), then signs it
    (or, as its author alone on the post, confirms it) once that shift has started."""
    dbs.flush()
    person = staff(dbs, entry.site.code, username=username)
    shift = dbs.scalar(
        select(Shift)
        .where(
            Shift.staff_member_id == person.id,
            Shift.post == entry.post,
            Shift.starts_at > entry.written_at,
        )
        .order_by(Shift.starts_at)
        .limit(1)
    )
    if shift is None:
        start = entry.written_at + timedelta(minutes=1)
        shift = roster.plan(entry.site, entry.post, person, start, start + timedelta(minutes=1))
        dbs.flush()
    return handover.sign(entry, user(dbs, username), at=shift.starts_at + timedelta(seconds=30))
