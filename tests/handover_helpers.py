"""Arranging handover-domain data for tests: users, sites, shifts, entries, through the services."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from contextlib import contextmanager

from sqlalchemy import select

from portal.extensions import db

from portal.models import Site, StaffMember, User

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
