"""Visits: arrivals and departures recorded in seconds, and the site-local day they count for."""

from functools import cache

from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from portal.errors import DomainError
from portal.extensions import db
from portal.models import DIRECTIONS, ConsumptionLine, StaffMember, Visit
from portal.services import bounds


# ---------------------------------------------------------------- arrivals and departures


def record_arrival(site, adults=1, children=0, user=None, at=None, salesperson=None, notes=None):
    """A party arrived at ``site`` (now unless ``at``); the caller commits."""
    adults, children = _headcount(adults, children)
    at = at or clock.now()
    _check_time(site, at, "arrived_at")
    if salesperson is not None and (salesperson.site_id != site.id or salesperson.kind != "sales"):
        raise DomainError(_l("Choose a salesperson of this site."), "salesperson")
    visit = Visit(
        site_id=site.id,
        adults=adults,
        children=children,
        arrived_at=at,
        salesperson=salesperson,
        notes=(notes or None),
    )
    if user is not None:
        visit.created_by_id = user.id
    db.session.add(visit)
    db.session.flush()
    return visit


def record_departure(visit, direction=None, user=None, at=None):
    """The party left (now unless ``at``), optionally by ``direction``; the caller commits."""
    if visit.left_at is not None:
        raise DomainError(_l("This visit has already left."))
    if direction and direction not in DIRECTIONS:
        raise DomainError(_l("Choose a direction from the list."), "direction")
    left_at = at or clock.now()
    if left_at < visit.arrived_at:
        raise DomainError(_l("A visit cannot leave before it arrived."), "left_at")
    _check_time(visit.site, left_at, "left_at")
    visit.left_at = left_at
    visit.departure_direction = direction or None
    if user is not None:
        visit.updated_by_id = user.id
    db.session.flush()
    return visit


def save_tour(
    visit, salesperson, shuttle_used, started_at, ended_at, show_unit=None, notes=None, user=None
):
    """The tour of the show unit: who took the visitors, shuttle or not, when it started and
    ended, and notes. Everything is checked before anything is set (a refusal changes nothing);
    the caller commits."""
    site = visit.site
    if salesperson is not None and (
        salesperson.site_id != site.id or salesperson.kind != "sales" or not salesperson.active
    ):
        raise DomainError(_l("Choose a salesperson of this site."), "salesperson")
    if show_unit is not None and show_unit.site_id != site.id:
        raise DomainError(_l("Choose a show unit of this site."), "show_unit")
    for field, at in (("tour_started_at", started_at), ("tour_ended_at", ended_at)):
        if at is None:
            continue
        _check_time(site, at, field)
        if at < visit.arrived_at:
            raise DomainError(_l("The tour cannot start before the visit arrived."), field)
    if ended_at is not None and started_at is None:
        raise DomainError(_l("Start the tour before ending it."), "tour_ended_at")
    if ended_at is not None and ended_at < started_at:
        raise DomainError(_l("The tour cannot end before it started."), "tour_ended_at")
    visit.salesperson = salesperson
    visit.show_unit = show_unit
    visit.shuttle_used = bool(shuttle_used)
    visit.tour_started_at = started_at
    visit.tour_ended_at = ended_at
    visit.notes = (notes or "").strip() or None
    if user is not None:
        visit.updated_by_id = user.id
    db.session.flush()
    return visit


def sales_staff(site):
    """The active sales staff of ``site``, by name: whom a tour can be given to."""
    stmt = (
        select(StaffMember)
        .where(
            StaffMember.site_id == site.id,
            StaffMember.kind == "sales",
            StaffMember.active.is_(True),
        )
        .order_by(StaffMember.name)
    )
    return db.session.scalars(stmt).all()


def _headcount(adults, children):
    try:
        adults, children = int(adults), int(children)
    except (TypeError, ValueError):
        raise DomainError(_l("Give the number of adults and children."), "adults") from None
    errors = headcount_errors(adults, children)
    if errors:
        field, message = next(iter(errors.items()))
        raise DomainError(message, field)
    return adults, children


def headcount_errors(adults, children):
    """{field: message} of a visit's head counts (bounds.ADULTS, bounds.CHILDREN, one person
    at least)."""
    checks = (
        ("adults", bounds.adults_error(adults)),
        ("children", bounds.children_error(children)),
    )
    errors = {name: message for name, message in checks if message is not None}
    if not errors and int(adults) + int(children) == 0:
        errors["adults"] = _l("A visit has at least one person.")
    return errors


def visit_errors(site, adults, children, arrived_at, left_at=None, now=None):
    """{field: message} of everything out of bounds in a visit record (the admin form shows each
    next to its field; ``check_visit`` refuses the save)."""
    errors = headcount_errors(adults, children)
    for name, at in (("arrived_at", arrived_at), ("left_at", left_at)):
        message = bounds.event_time_error(site, at, now)
        if message is not None:
            errors[name] = message
    left_early = left_at is not None and arrived_at is not None and left_at < arrived_at
    if "left_at" not in errors and left_early:
        errors["left_at"] = _l("A visit cannot leave before it arrived.")
    return errors


def check_visit(visit, site):
    """Refuse (DomainError) a visit record with anything out of bounds, whichever path wrote it."""
    errors = visit_errors(site, visit.adults, visit.children, visit.arrived_at, visit.left_at)
    if errors:
        field, message = next(iter(errors.items()))
        raise DomainError(message, field)


def _check_time(site, at, field):
    message = bounds.event_time_error(site, at)
    if message is not None:
        raise DomainError(message, field)


# ---------------------------------------------------------------- reading


def _with_details(stmt, show_unit=True):
    # The cards show the salesperson and what was served: one query. A visit has a handful of
    # lines, so joining them costs less than selectinload's second statement (measured: half).
    options = [
        joinedload(Visit.salesperson),
        joinedload(Visit.consumption_lines).joinedload(ConsumptionLine.product),
    ]
    if show_unit:
        options.append(joinedload(Visit.show_unit))
    return stmt.options(*options)


def open_visits(site):
    """Visits of ``site`` that have not left, oldest first (everyone on the site sees them)."""
    return db.session.scalars(_open_visits_stmt(), {"site_id": site.id}).unique().all()


@cache  # built once, run with parameters (HACKING.md, "Statements built once")
def _open_visits_stmt():
    stmt = (
        select(Visit)
        .where(Visit.site_id == bindparam("site_id"), Visit.left_at.is_(None))
        .order_by(Visit.arrived_at)
    )
    return _with_details(stmt, show_unit=False)  # the open-visit cards do not name the show unit


def visits_of_day(site, day, only_left=False):
    start, end = clock.day_bounds(day, site)
    stmt = select(Visit).where(
        Visit.site_id == site.id, Visit.arrived_at >= start, Visit.arrived_at < end
    )
    if only_left:
        stmt = stmt.where(Visit.left_at.is_not(None))
    return db.session.scalars(_with_details(stmt.order_by(Visit.arrived_at.desc()))).unique().all()


def hosted_by(user, limit=100):
    """Visits a sales user hosted (his StaffMember records), newest first."""
    stmt = (
        select(Visit)
        .join(StaffMember, Visit.salesperson_id == StaffMember.id)
        .where(StaffMember.user_id == user.id)
        .order_by(Visit.arrived_at.desc())
        .limit(limit)
    )
    return db.session.scalars(_with_details(stmt)).unique().all()


def is_hosted_by(visit, user):
    return visit.salesperson is not None and visit.salesperson.user_id == user.id


def day_counts(site, day):
    """(number of visits, number of visitors) that arrived on a site-local day."""
    start, end = clock.day_bounds(day, site)
    stmt = select(
        func.count(Visit.id), func.coalesce(func.sum(Visit.adults + Visit.children), 0)
    ).where(Visit.site_id == site.id, Visit.arrived_at >= start, Visit.arrived_at < end)
    visits, visitors = db.session.execute(stmt).one()
    return int(visits), int(visitors)
