"""A site's life: in set-up, open, closed, reopened — and which sites a period is about.

The status is on the site; the stretches of days it worked are ``SiteSpell`` rows the model
keeps in the same flush. Questions about a past period read the spells, never today's status:
a site closed in December still worked in October."""

from sqlalchemy import event, exists, func, inspect, or_, select
from sqlalchemy.orm import Session

from portal import clock
from portal.errors import DomainError
from portal.extensions import db
from portal.models.base import among
from portal.i18n import lazy_gettext as _l
from portal.models import Site, SiteSpell, StaffMember, User, user_site
from portal.models.audit import AuditEvent
from portal.services import audit
from portal.services import auth as accounts

# Roles whose sight comes from their regions or from head office: closing one of their sites
# never ends their login.
_OVERSEERS = frozenset({"admin", "supervisor"})


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
        .where(among(SiteSpell.site_id, site_ids))
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


def close_site(site, move_people_to=None):
    """Open → closed: today is its last working day; nothing of its history is touched.

    Its people: with ``move_people_to`` (a site in scope that is not closed) their active staff
    records and their logins' membership move there. Without it their staff records become
    inactive, a login whose only site this is is deactivated (every session of it ends), and a
    login with other sites keeps those and loses this one. Head office and supervisors are never
    deactivated: they see their regions. One transaction (the caller commits), audited."""
    if site.status != "open":
        raise DomainError(_l("Only an open site can be closed."), status=409)
    target = _move_target(site, move_people_to)
    staff = db.session.scalars(
        select(StaffMember)
        .where(StaffMember.site_id == site.id, StaffMember.active.is_(True))
        .order_by(StaffMember.id)
    ).all()
    members = db.session.scalars(
        select(User)
        .where(User.id.in_(select(user_site.c.user_id).where(user_site.c.site_id == site.id)))
        .order_by(User.id)
    ).all()
    moved, ended, deactivated, left = [], [], [], []
    if target is not None:
        already_there = set(
            db.session.scalars(
                select(StaffMember.user_id).where(
                    StaffMember.site_id == target.id,
                    StaffMember.active.is_(True),
                    StaffMember.user_id.is_not(None),
                )
            )
        )
        for person in staff:
            if person.user_id is not None and person.user_id in already_there:
                person.active = False  # already on the other site's roster: no second record
                ended.append(person.name)
            else:
                person.site_id = target.id
                moved.append(person.name)
        for user in members:
            user.sites.remove(site)
            if target not in user.sites:
                user.sites.append(target)
            left.append(user.username)
    else:
        for person in staff:
            person.active = False
            ended.append(person.name)
        others = _other_memberships(site, members)
        for user in members:
            if others.get(user.id) or user.role in _OVERSEERS:
                user.sites.remove(site)
                left.append(user.username)
            elif user.active:
                # Kept as a member (history, a later reopen), but no longer able to log in.
                accounts.set_active(user, False)
                deactivated.append(user.username)
    site.status = "closed"
    db.session.flush()
    audit.record(
        "close",
        site,
        summary=str(site),
        after={
            "moved_to": str(target) if target is not None else None,
            "staff_moved": moved,
            "staff_ended": ended,
            "logins_ended": deactivated,
            "memberships_moved" if target is not None else "memberships_ended": left,
        },
    )


def _other_memberships(site, users):
    """{user_id: how many sites besides ``site`` the user belongs to}, all of them counted."""
    if not users:
        return {}
    rows = db.session.execute(
        select(user_site.c.user_id, func.count())
        .where(user_site.c.user_id.in_([u.id for u in users]), user_site.c.site_id != site.id)
        .group_by(user_site.c.user_id)
    ).all()
    return dict(rows)


def _move_target(site, move_people_to):
    if move_people_to is None:
        return None
    target_id = getattr(move_people_to, "id", move_people_to)
    try:
        target_id = int(target_id)
    except (TypeError, ValueError):
        target_id = None
    # Through the session's scope: a site outside it reads as missing.
    target = db.session.get(Site, target_id) if target_id and 0 < target_id < 2**63 else None
    if target is None:
        raise DomainError(_l("Choose a site to move the people to."), "move_people_to", status=404)
    if target.id == site.id or target.status == "closed":
        raise DomainError(
            _l("The people can only move to another site that is not closed."), "move_people_to"
        )
    return target


def reopen_site(site):
    """Closed → open again from today (a new spell). Its people are not reactivated: head office
    gives logins and roster places back one by one (a reactivated login that is still a member
    of the site gets its staff record back when saved, see ``portal.services.people``)."""
    if site.status != "closed":
        raise DomainError(_l("Only a closed site can be reopened."), status=409)
    site.status = "open"
    db.session.flush()
    audit.record("reopen", site, summary=str(site))


# ------------------------------------------------------------------ nothing new at a closed site
# One rule below every route, import and service: a new row of a closed site is refused in the
# flush. Bookkeeping kept by the portal itself is exempt: the audit trail and every model that is
# not audited (the spells of sites and staff, stored period figures and closes, stock balances),
# whose rows follow from changes that are themselves checked here.


def _is_record(obj):
    model = type(obj)
    return (
        not isinstance(obj, AuditEvent)
        and getattr(model, "__audited__", True)
        and "site_id" in inspect(model).columns
    )


def _site_of(obj):
    """The new row's site: a ``Site`` already in the session, or its id."""
    site = inspect(obj).dict.get("site")
    if isinstance(site, Site):
        return site
    return obj.site_id


@event.listens_for(Session, "before_flush")
def _refuse_new_rows_of_closed_sites(session, flush_context, instances):
    wanted = set()
    for obj in session.new:
        if not _is_record(obj):
            continue
        site = _site_of(obj)
        if isinstance(site, Site) and "status" in inspect(site).dict:
            if site.status == "closed":
                _refuse()
            continue
        site_id = site.id if isinstance(site, Site) else site
        if site_id is None:
            continue
        known = session.identity_map.get(inspect(Site).identity_key_from_primary_key((site_id,)))
        if known is not None and "status" in inspect(known).dict:
            if known.status == "closed":
                _refuse()
            continue
        wanted.add(site_id)
    if wanted:
        with session.no_autoflush:
            closed = session.execute(
                select(Site.id).where(Site.id.in_(wanted), Site.status == "closed").limit(1)
            ).first()
        if closed is not None:
            _refuse()


def _refuse():
    raise DomainError(_l("This sales office is closed; no new records can be added."), status=409)


__all__ = [
    "close_site",
    "open_site",
    "reopen_site",
    "spells",
    "taking_records",
    "worked_between",
    "worked_on",
]
