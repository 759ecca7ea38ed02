"""People in one step: a login and the person's staff records follow each other.

A person is a staff record first (``StaffMember``: the roster, breaks, visits, follow-ups
assigned by name); a login is optional (cleaners and shuttle drivers have none). Creating or
changing a login of a site role keeps its staff records in step, in the same transaction as the
login (the audit trail records every staff row it creates or changes):

- at each site of the login that is not closed, the person has one active staff record linked
  to the login: an existing linked one (reactivated if it had ended), else a record of the same
  name at that site without a login (linked to it), else a new one;
- a linked record at a site the login no longer has ends (inactive; its StaffSpell closes);
- the staff kind follows the role, the name follows the login's full name; a phone and a post
  given with the login are written on the records.

Head office and supervisors get no staff record from their login: they see their regions rather
than stand at a site. One who is on a site's roster too (a supervisor covering reception) is
added on the staff form and linked to the login there; this module leaves such records alone.
An inactive login changes nothing here (closing a site ends logins and staff records itself);
when it is made active again, saving it brings its staff records back."""

from sqlalchemy import select

from portal.extensions import db
from portal.models import StaffMember

# Login role → the kind of staff record it stands on the roster as.
ROLE_STAFF_KINDS = {
    "clerk": "clerk",
    "security": "security",
    "sales": "sales",
    "maintenance": "maintenance",
}


def staff_kind_of(role):
    """The staff kind of a login role, or None for roles that get no staff record."""
    return ROLE_STAFF_KINDS.get(role)


def linked_staff(user):
    """The staff records linked to the login, active first, oldest first."""
    if user.id is None:
        return []
    return list(
        db.session.scalars(
            select(StaffMember)
            .where(StaffMember.user_id == user.id)
            .order_by(StaffMember.active.desc(), StaffMember.id)
        )
    )


def sync_staff(user, phone=None, post=None):
    """Create, link, move on or end the staff records of ``user`` so that they match its role
    and sites (see the module doc). Returns the active linked records. Flushes nothing itself:
    the caller's transaction writes the records with the login."""
    kind = staff_kind_of(user.role)
    if kind is None or not user.active:
        return []
    # The login's own changes are written once, with the records, when the caller commits: a
    # flush in between would count as a second save of the login (its version, its audit row).
    with db.session.no_autoflush:
        return _sync(user, kind, (phone or "").strip() or None, (post or "").strip() or None)


def _sync(user, kind, phone, post):
    linked = linked_staff(user)
    member_of = {site.id for site in user.sites}
    kept = []
    for site in user.sites:
        if site.status == "closed":
            continue  # nothing new at a closed site; its records ended when it closed
        person = _linked_at(linked, site.id) or _unlinked_namesake(site.id, user.display_name)
        if person is None:
            person = StaffMember(site=site, name=user.display_name, kind=kind, active=True)
            db.session.add(person)
        _fill(person, user, kind, phone, post)
        kept.append(person)
    for person in linked:
        if person.active and person.site_id not in member_of:
            person.active = False  # left the site: its StaffSpell closes with this change
    return kept


def unlink_staff(user):
    """Before a login is deleted: its staff records stay on the rosters (and in the history),
    without a login. Returns them."""
    linked = linked_staff(user)
    for person in linked:
        person.user = None
    return linked


def _linked_at(linked, site_id):
    here = [p for p in linked if p.site_id == site_id]
    return here[0] if here else None  # active first (linked_staff's order)


def _unlinked_namesake(site_id, name):
    """A staff record of that name at the site without a login (the roster had the person
    before the login): the active one first, else the newest that ended."""
    return db.session.scalar(
        select(StaffMember)
        .where(
            StaffMember.site_id == site_id,
            StaffMember.name == name,
            StaffMember.user_id.is_(None),
        )
        .order_by(StaffMember.active.desc(), StaffMember.id.desc())
        .limit(1)
    )


def _fill(person, user, kind, phone, post):
    person.user = user
    person.active = True
    person.name = user.display_name
    if person.kind in ROLE_STAFF_KINDS.values() or not person.kind:
        person.kind = kind  # a hand-set kind (a driver who also logs in) is kept
    if phone:
        person.phone = phone
    if post:
        person.notes = post


__all__ = ["ROLE_STAFF_KINDS", "linked_staff", "staff_kind_of", "sync_staff", "unlink_staff"]
