"""Damage confirmation forms (物品损坏确认单): file, confirm / dispute, review, open a repair.

API:
    salesperson_choices(site) -> [User]
    file_report(site, user, equipment, description, salesperson, visit_description, visit_at,
                estimated_cost=None, location=None, item=None, visit=None, photos=())
        -> DamageReport
    confirm(report, user, note=None) / dispute(report, user, note) -> DamageReport
    review(report, user, outcome, note=None, quantity=None) -> DamageReport (written_off lowers
        the item's expected count; another outcome later restores it)
    open_repair_ticket(report, user, priority="normal") -> RepairTicket
    visible_query(user) -> select of the reports this user may see
    recent_visits(site, now=None) -> [Visit] (today and the two days before, newest first)
    visit_salesperson(visit) -> User | None
    reports_of_visit(visit, user) / reports_of_item(item) -> [DamageReport]
"""

from datetime import timedelta, timezone
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from portal import clock
from portal.i18n import lazy_gettext as _l, site_time
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.errors import DomainError
from portal.extensions import db
from portal.models import DAMAGE_OUTCOMES, DamageReport, Item, User, Visit, user_site
from portal.services import audit, bounds, notify
from portal.services import photos as photo_service
from portal.services import repairs

OWNER_TYPE = "damage_report"
REVIEWERS = frozenset({"supervisor", "admin"})
FILERS = frozenset({"clerk", "supervisor", "admin"})
RECENT_DAYS = 2  # the form offers today's visits and those of the two days before


def salesperson_choices(site):
    # IN (subquery), not a join: the scope's own user_site EXISTS must not auto-correlate with it.
    members = select(user_site.c.user_id).where(user_site.c.site_id == site.id)
    stmt = (
        select(User)
        .where(User.id.in_(members), User.role == "sales", User.active.is_(True))
        .order_by(User.display_name)
    )
    return db.session.scalars(stmt).all()


def _cost(value):
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(_l("Enter the estimated cost as a number.")) from None
    if amount < 0 or amount >= Decimal("100000000"):
        raise DomainError(_l("Enter the estimated cost as a number."))
    return amount


def recent_visits(site, now=None):
    """The site's visits of today and the last RECENT_DAYS days (site time), newest first."""
    today = clock.local_day(site, now)
    since = clock.day_bounds(today - timedelta(days=RECENT_DAYS), site)[0]
    stmt = (
        select(Visit)
        .where(Visit.site_id == site.id, Visit.arrived_at >= since)
        .options(joinedload(Visit.salesperson))
        .order_by(Visit.arrived_at.desc(), Visit.id.desc())
    )
    return db.session.scalars(stmt.limit(200)).all()


def visit_label(visit, tz_name):
    """ "time · adults/children · salesperson", in site time."""
    at = site_time(visit.arrived_at, tz_name, "%m-%d %H:%M")
    who = visit.salesperson.name if visit.salesperson is not None else "—"
    return f"{at} · {visit.adults}/{visit.children} · {who}"


def visit_salesperson(visit):
    """The login of the visit's salesperson (StaffMember → User), or None when it has none."""
    staff = visit.salesperson if visit is not None else None
    return staff.user if staff is not None else None


def file_report(
    site,
    user,
    equipment,
    description,
    salesperson,
    visit_description,
    visit_at,
    estimated_cost=None,
    location=None,
    item=None,
    visit=None,
    photos=(),
):
    """The clerk files the form after the visit. With a recorded ``visit``, its salesperson is the
    one asked to confirm (``salesperson`` is only the fallback for a visit without one) and its
    time and head-count describe it. ``item``: the site's inventory item. ``photos``:
    PreparedPhoto list."""
    if user.role not in FILERS:
        raise DomainError(_l("You may not file damage reports."), status=403)
    if item is not None and item.site_id != site.id:
        raise DomainError(_l("Choose an item of this site."))
    if visit is not None and visit.site_id != site.id:
        raise DomainError(_l("Choose a visit of this site."))
    equipment = (equipment or (str(item) if item is not None else "")).strip()[:200]
    if not equipment:
        raise DomainError(_l("Say what was damaged."))
    if not (description or "").strip():
        raise DomainError(_l("Describe what happened."))
    allowed = {u.id for u in salesperson_choices(site)}
    if visit is not None:
        hosted_by = visit_salesperson(visit)
        if hosted_by is not None and hosted_by.id in allowed:
            salesperson = hosted_by
        visit_description = visit_description or visit_label(visit, site.timezone)
        visit_at = visit.arrived_at
    if salesperson is None or salesperson.id not in allowed:
        raise DomainError(_l("Choose the salesperson of this visit."))
    visit_description = (visit_description or "").strip()[:255]
    if not visit_description:
        raise DomainError(_l("Describe the visit (visitors, show unit)."))
    if visit_at is None:
        raise DomainError(_l("Enter when the visit took place."))
    if visit_at.tzinfo is None:
        visit_at = visit_at.replace(tzinfo=timezone.utc)
    out_of_bounds = bounds.event_time_error(site, visit_at)
    if out_of_bounds is not None:
        raise DomainError(out_of_bounds, "visit_at")
    report = DamageReport(
        site_id=site.id,
        equipment=equipment,
        location=(location or "").strip()[:200] or None,
        description=description.strip(),
        visit_description=visit_description,
        visit_at=visit_at,
        estimated_cost=_cost(estimated_cost),
        status="pending",
        reporter_id=user.id,
        salesperson_id=salesperson.id,
        item_id=getattr(item, "id", None),
        visit_id=getattr(visit, "id", None),
    )
    db.session.add(report)
    db.session.flush()
    for prepared in photos:
        photo_service.store(prepared, site, OWNER_TYPE, report.id, user)
    notify.notify(
        [salesperson],
        "to_confirm",
        _("Damage report waiting for your confirmation: %(what)s", what=equipment),
        _("%(site)s · %(visit)s", site=site.name, visit=visit_description),
        f"/damage/{report.id}/",
        site=site,
    )
    return report


def reports_of_item(item):
    return db.session.scalars(
        select(DamageReport)
        .where(DamageReport.item_id == item.id)
        .order_by(DamageReport.id.desc())
        .limit(50)
    ).all()


def reports_of_visit(visit, user):
    """The visit's damage reports this user may see (the visit page lists them)."""
    return db.session.scalars(
        visible_query(user).where(DamageReport.visit_id == visit.id).order_by(DamageReport.id)
    ).all()


def _answer(report, user, status, note):
    if report.salesperson_id != user.id:
        raise DomainError(_l("Only the salesperson of this visit can answer."), status=403)
    if report.status != "pending":
        raise DomainError(_l("This report has already been answered."))
    report.status = report.sales_answer = status
    report.sales_note = (note or "").strip() or None
    report.answered_at = clock.now()
    audit.record(
        status == "confirmed" and "confirm" or "dispute",
        report,
        summary=str(report),
        before={"status": "pending"},
        after={"status": status},
    )
    return report


def confirm(report, user, note=None):
    return _answer(report, user, "confirmed", note)


def dispute(report, user, note):
    if not (note or "").strip():
        raise DomainError(_l("Say what you dispute."))
    return _answer(report, user, "disputed", note)


def review(report, user, outcome, note=None, quantity=None):
    """The supervisor records the outcome; a report can be reviewed again while the outcome is
    pending or written off. ``written_off`` (broken beyond use or lost) lowers the linked item's
    expected count by ``quantity`` (default 1) so the next item check does not flag it again;
    a later other outcome gives the units back, exactly once (the report keeps what it took)."""
    if user.role not in REVIEWERS:
        raise DomainError(_l("Only a supervisor can review damage reports."), status=403)
    if report.status == "pending":
        raise DomainError(_l("Wait for the salesperson to confirm or dispute first."))
    if report.status == "reviewed" and report.outcome not in REVIEWABLE_AGAIN:
        raise DomainError(_l("This report has already been reviewed."))
    if outcome not in DAMAGE_OUTCOMES:
        raise DomainError(_l("Choose an outcome."))
    # Both rows locked: two reviews of one report, or two write-offs of one item, one after
    # the other (expected_quantity is read, then written).
    db.session.refresh(report, with_for_update=True)
    item = None
    if report.item_id is not None:
        item = db.session.get(Item, report.item_id, with_for_update=True, populate_existing=True)
    if outcome == "written_off":
        quantity = _write_off_quantity(report, item, quantity)
    _restore_written_off(report, item)
    if outcome == "written_off" and item is not None:
        item.expected_quantity -= quantity
        report.written_off_quantity = quantity
        audit.record(
            "write_off",
            item,
            summary=f"{item} −{quantity} → {item.expected_quantity} ({report})",
        )
    report.status = "reviewed"
    report.outcome = outcome
    report.review_note = (note or "").strip() or None
    report.reviewed_by_id = user.id
    report.reviewed_at = clock.now()
    audit.record("review", report, summary=f"{report} → {outcome}")
    return report


REVIEWABLE_AGAIN = frozenset({"pending", "written_off"})


def _write_off_quantity(report, item, quantity):
    """The units to take off the linked item: 1 by default, at most what it still expects
    (counting back what this report already took)."""
    if quantity in (None, ""):
        quantity = 1
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        raise DomainError(
            _l("Enter the quantity written off as a whole number."), "quantity"
        ) from None
    if item is None:
        return quantity
    available = item.expected_quantity + (report.written_off_quantity or 0)
    if quantity < 1 or quantity > available:
        raise DomainError(
            _l("Write off between 1 and %(n)s units of this item.", n=available), "quantity"
        )
    return quantity


def _restore_written_off(report, item):
    """Give back the units this report took off its item (once: the report forgets them)."""
    taken = report.written_off_quantity
    if not taken:
        return
    if item is not None:
        item.expected_quantity += taken
        audit.record(
            "write_off_restore",
            item,
            summary=f"{item} +{taken} → {item.expected_quantity} ({report})",
        )
    report.written_off_quantity = None


def open_repair_ticket(report, user, priority="normal"):
    """One click: a repair ticket for the damaged thing, linked both ways (report.repair_ticket,
    and the ticket's timeline names the report)."""
    if user.role not in FILERS:
        raise DomainError(_l("You may not open repair tickets from damage reports."), status=403)
    if report.repair_ticket_id is not None:
        raise DomainError(_l("A repair ticket is already open for this report."))
    ticket = repairs.report(
        report.site,
        user,
        report.equipment,
        report.description,
        priority,
        location=report.location,
        item=report.item,
    )
    report.repair_ticket_id = ticket.id
    repairs.note_link(ticket, user, "damage", report.id)
    return ticket


def report_for_ticket(ticket):
    return db.session.scalar(select(DamageReport).where(DamageReport.repair_ticket_id == ticket.id))


def visible_query(user):
    """Reports this user may see: the site scope, plus sales see only their own visits."""
    stmt = select(DamageReport)
    if user.role == "sales":
        stmt = stmt.where(DamageReport.salesperson_id == user.id)
    elif user.role not in FILERS:
        stmt = stmt.where(False)
    return stmt


def can_read(report_id, user):
    return (
        db.session.scalar(
            visible_query(user)
            .where(DamageReport.id == report_id)
            .with_only_columns(DamageReport.id)
        )
        is not None
    )


photo_service.register_owner(OWNER_TYPE, can_read)
