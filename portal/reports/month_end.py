"""Month-end without anyone remembering: the last month's PDFs archived, and people told.

    archive_last_month(now=None) -> the archived paths, or None (nothing to do)

A periodic job of the queue (``flask jobs worker`` adds it, hourly): the first run after the
month has ended at every site (each at its own midnight; all demo sites share Beijing time)
archives every site's month-end PDF and each region's comparison (``archive.generate``, what
``flask reports monthly`` runs), then tells head office (admins) and each supervisor where to
find them. Done once per month: an ``EscalationSent`` row (rule ``month_end_archive``, the
month as YYYYMM) is written with the notifications, and a later run that finds it does
nothing — no second archive, no second message. A worker that was down on the 1st does it on
its first run after.
"""

from flask_babel import gettext as _
from sqlalchemy import exists, select

from portal import clock
from portal.extensions import db
from portal.models import User
from portal.models.notifications import EscalationSent
from portal.reports import archive
from portal.services import escalation, metrics, notify

RULE = "month_end_archive"


def month_key(first_day):
    return first_day.year * 100 + first_day.month


def _done(key):
    return db.session.scalar(
        select(exists().where(EscalationSent.rule == RULE, EscalationSent.object_id == key))
    )


def archive_last_month(now=None):
    now = now or clock.now()
    # The org's calendar (the default zone); has_ended waits for the last site's midnight.
    this_month = metrics.month_start(clock.local_day(clock.DEFAULT_ZONE, now))
    month = metrics.previous_month(this_month)
    key = month_key(month)
    if not metrics.has_ended(metrics.month_end(month), now) or _done(key):
        return None
    # Built in this process: the worker's job has time, and no second writer meets our claim.
    paths = archive.generate(month)
    if not escalation.claim(RULE, key, 1):  # another worker finished first
        db.session.rollback()
        return None
    label = f"{month:%Y-%m}"
    people = db.session.scalars(
        select(User)
        .where(User.role.in_(("admin", "supervisor")), User.active.is_(True))
        .order_by(User.id)
    ).all()
    title = _("Month-end reports archived: %(month)s", month=label)
    body = _("%(count)s PDF(s) of every site and region", count=len(paths))
    for person in people:
        regions = [r for r in person.regions] if person.role == "supervisor" else []
        url = f"/dashboard/region/{regions[0].id}/{label}.pdf" if regions else "/dashboard/"
        notify.notify([person], "archived", title, body, url)
    db.session.commit()
    return paths
