"""A site's life: in set-up, open, closed, reopened — and which sites a period is about.

The status is on the site; the stretches of days it worked are ``SiteSpell`` rows the model
keeps in the same flush. Questions about a past period read the spells, never today's status:
a site closed in December still worked in October."""

from sqlalchemy import exists, or_, select

from portal import clock
from portal.errors import DomainError
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Site, SiteSpell


def taking_records():
    """The condition on ``Site`` of the sites a new record may be put in (not closed)."""
    return Site.status != "closed"


def worked_between(start, end):
    """The condition on ``Site`` of the sites that worked on some local day of ``start..end``."""
    return exists().where(
        SiteSpell.site_id == Site.id,
        SiteSpell.first_day <= end,
        or_(SiteSpell.last_day.is_(None), SiteSpell.last_day >= start),
    )


def spells(site_ids):
    """{site_id: [(first_day, last_day or None)]} in order."""
    rows = db.session.execute(
        select(SiteSpell.site_id, SiteSpell.first_day, SiteSpell.last_day)
        .where(SiteSpell.site_id.in_(list(site_ids)))
        .order_by(SiteSpell.site_id, SiteSpell.first_day, SiteSpell.id)
    ).all()
    result = {sid: [] for sid in site_ids}
    for sid, first, last in rows:
        result[sid].append((first, last))
    return result


def worked_on(site_spells, day):
    """Whether one of ``site_spells`` (a list of ``spells()``) covers ``day``."""
    return any(first <= day and (last is None or day <= last) for first, last in site_spells)


def open_site(site, first_day=None):
    """Set-up → open: the site starts working on ``first_day`` (its local today by default)."""
    if site.status != "setup":
        raise DomainError(_l("Only a site in set-up can be opened."))
    site.opened_on = first_day or clock.local_day(site.timezone)
    site.status = "open"
    db.session.flush()


def close_site(site):
    """Open → closed: today is its last working day; nothing of its history is touched."""
    if site.status != "open":
        raise DomainError(_l("Only an open site can be closed."))
    site.status = "closed"
    db.session.flush()


def reopen_site(site):
    """Closed → open again from today."""
    if site.status != "closed":
        raise DomainError(_l("Only a closed site can be reopened."))
    site.status = "open"
    db.session.flush()


__all__ = [
    "close_site",
    "open_site",
    "reopen_site",
    "spells",
    "taking_records",
    "worked_between",
    "worked_on",
]
