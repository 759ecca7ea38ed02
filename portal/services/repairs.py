"""Repair tickets: report, the one transition table, comments, queues, due times.

API:
    due_for(priority, from_time) -> datetime
    report(site, user, equipment, description, priority, location=None, item=None, photos=())
        -> RepairTicket
    transition(ticket, action, user, **data) -> RepairTicket
    allowed_actions(ticket, user) -> [action]
    comment(ticket, user, text) -> RepairEvent
    my_queue(user, filters=None) -> [RepairTicket]
    site_summary(now=None) -> [(Site, open_count, overdue_count)]
    assignee_choices(site) -> [User]
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app, has_app_context
from flask_babel import gettext as _
from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import case, func, select, update

from portal.errors import DomainError
from portal.extensions import db
from portal.models import (
    OPEN_STATUSES,
    Item,
    TICKET_PRIORITIES,
    RepairEvent,
    RepairTicket,
    Site,
    User,
    user_site,
)
from portal.models.repairs import PRIORITY_LABELS
from portal.services import audit, notify
from portal.services import photos as photo_service
from sqlalchemy.orm import joinedload

OWNER_TYPE = "repair_ticket"
DEFAULT_DUE_HOURS = {"urgent": 4, "high": 24, "normal": 72, "low": 168}


@dataclass(frozen=True)
class Transition:
    sources: tuple
    target: str
    # Roles, plus "reporter" (the user who reported the ticket) and "assignee" (the maintenance
    # worker it is assigned to): maintenance work only on their own tickets; "site_maintenance"
    # (a maintenance worker of the ticket's site, while nobody holds it) may claim it.
    who: frozenset


def _who(spec):
    return frozenset(spec.split())


# THE transition table: which action moves which states, and who may do it.
TRANSITIONS = {
    "assign": Transition(
        ("new", "assigned", "in_progress", "waiting_parts"), "assigned", _who("supervisor admin")
    ),
    "claim": Transition(("new",), "assigned", _who("site_maintenance")),
    "start": Transition(("assigned",), "in_progress", _who("assignee")),
    "wait_parts": Transition(("in_progress",), "waiting_parts", _who("assignee")),
    "resume": Transition(("waiting_parts",), "in_progress", _who("assignee")),
    "resolve": Transition(("in_progress", "waiting_parts"), "resolved", _who("assignee")),
    "close": Transition(("resolved",), "closed", _who("supervisor admin reporter")),
    "reopen": Transition(("resolved", "closed"), "assigned", _who("supervisor admin reporter")),
}


def due_for(priority, from_time):
    """When a ticket of this priority must be fixed; hours come from ``REPAIR_DUE_HOURS`` when
    set."""
    hours = dict(DEFAULT_DUE_HOURS)
    if has_app_context():
        hours.update(current_app.config.get("REPAIR_DUE_HOURS") or {})
    if priority not in hours:
        raise DomainError(_l("Choose a priority."))
    return from_time + timedelta(hours=hours[priority])


def _roles_of(ticket, user):
    roles = {user.role}
    if ticket.reporter_id == user.id:
        roles.add("reporter")
    if user.role == "maintenance" and ticket.assignee_id == user.id:
        roles.add("assignee")
    if (
        user.role == "maintenance"
        and ticket.assignee_id is None
        and ticket.site_id in {s.id for s in user.sites}
    ):
        roles.add("site_maintenance")
    return roles


def may(ticket, action, user):
    rule = TRANSITIONS.get(action)
    return rule is not None and bool(rule.who & _roles_of(ticket, user))


def allowed_actions(ticket, user):
    """Actions this user may take on this ticket now, in table order."""
    return [
        a
        for a, rule in TRANSITIONS.items()
        if ticket.status in rule.sources and may(ticket, a, user)
    ]


def _event(ticket, user, kind, at=None, **fields):
    event = RepairEvent(
        site_id=ticket.site_id,
        ticket=ticket,
        user_id=user.id if user else None,
        kind=kind,
        at=at or clock.now(),
        **fields,
    )
    db.session.add(event)
    return event


def _text(value, limit=None):
    value = (value or "").strip()
    return value[:limit] if limit else value


def report(
    site, user, equipment, description, priority, location=None, item=None, photos=(), at=None
):
    """Open a ticket. ``photos``: PreparedPhoto from ``photos.inspect_all`` (already checked).
    ``item``: the site's inventory item it is about (its name is the equipment when none is
    given). ``at``: when it was reported, for the demo's earlier tickets (else now)."""
    equipment, description = _text(equipment, 200), _text(description)
    if item is not None and item.site_id != site.id:
        raise DomainError(_l("Choose an item of this site."))
    if item is not None and not equipment:
        equipment = str(item)[:200]
    if not equipment:
        raise DomainError(_l("Say which equipment is broken."))
    if not description:
        raise DomainError(_l("Describe the fault."))
    if priority not in TICKET_PRIORITIES:
        raise DomainError(_l("Choose a priority."))
    now = at or clock.now()
    ticket = RepairTicket(
        site_id=site.id,
        equipment=equipment,
        location=_text(location, 200) or None,
        description=description,
        priority=priority,
        status="new",
        due_at=due_for(priority, now),
        reporter_id=user.id,
        item_id=item.id if item is not None else None,
        created_at=now,  # the same instant as its report event
    )
    db.session.add(ticket)
    db.session.flush()
    _event(ticket, user, "report", at=now, to_status="new", text=description, due_at=ticket.due_at)
    add_photos(ticket, user, photos)
    _assign_default(site, ticket, now)
    return ticket


def _assign_default(site, ticket, now):
    """A site that names its maintenance worker gives him every new ticket: an assignment by
    the system (no user on the event), on the timeline and in the audit trail."""
    worker_id = site.default_maintenance_id
    if worker_id is None or worker_id not in {u.id for u in assignee_choices(site)}:
        return  # none named, or he left the site / the role: the ticket waits to be claimed
    ticket.assignee_id, ticket.status = worker_id, "assigned"
    worker = db.session.get(User, worker_id)
    _event(
        ticket,
        None,
        "transition",
        at=now,
        action="assign",
        from_status="new",
        to_status="assigned",
        text=str(worker),
    )
    db.session.flush()
    audit.record("assign_default", ticket, summary=f"{ticket} → {worker}")
    _tell_assignee(ticket, worker)


def _tell_assignee(ticket, worker):
    notify.notify(
        [worker],
        "assigned",
        _("Repair ticket assigned to you: %(title)s", title=ticket.equipment),
        _("%(site)s · %(text)s", site=ticket.site.name, text=ticket.description or ""),
        f"/repairs/{ticket.id}/",
        site=ticket.site,
    )


def add_photos(ticket, user, prepared):
    stored = [photo_service.store(p, ticket.site, OWNER_TYPE, ticket.id, user) for p in prepared]
    if stored:
        _event(ticket, user, "photo", number=len(stored))
    return stored


def _money(value):
    if value in (None, ""):
        raise DomainError(_l("Enter the repair cost (0 if none)."))
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(_l("Enter the repair cost as a number.")) from None
    if amount < 0 or amount >= Decimal("100000000"):
        raise DomainError(_l("Enter the repair cost as a number."))
    return amount


def transition(ticket, action, user, **data):
    """Move a ticket by the table. Data: assign → assignee (User); resolve → cost, parts_used,
    resolution; any → note (goes on the timeline). Raises ``DomainError``: 403 not allowed, 400
    otherwise."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise DomainError(_l("Unknown action."))
    if not may(ticket, action, user):
        raise DomainError(_l("You may not do this on this ticket."), status=403)
    if ticket.status not in rule.sources:
        raise DomainError(_l("This ticket has already moved on; reload the page."))
    before = ticket.status
    # Claim the move in one statement: of two people pressing at once, the second finds the status
    # changed (PostgreSQL re-checks after the row lock, SQLite holds the write lock) and is refused.
    table = RepairTicket.__table__
    claim = (
        update(table).where(table.c.id == ticket.id, table.c.status == before).values(status=before)
    )
    if db.session.execute(claim).rowcount != 1:
        raise DomainError(_l("This ticket has already moved on; reload the page."))
    now = clock.now()
    if action == "assign":
        assignee = data.get("assignee")
        if assignee is None or assignee.id not in {u.id for u in assignee_choices(ticket.site)}:
            raise DomainError(_l("Choose a maintenance worker who serves this site."))
        ticket.assignee_id = assignee.id
        _tell_assignee(ticket, assignee)
    elif action == "claim":  # one tap: the maintenance worker takes the ticket himself
        if user.id not in {u.id for u in assignee_choices(ticket.site)}:
            raise DomainError(_l("Choose a maintenance worker who serves this site."))
        ticket.assignee_id = user.id
    elif action == "resolve":
        ticket.cost = _money(data.get("cost"))
        ticket.parts_used = _text(data.get("parts_used")) or None
        ticket.resolution = _text(data.get("resolution")) or None
        ticket.resolved_at = now
    elif action == "close":
        ticket.closed_at = now
    elif action == "reopen":
        # Back to the worker, with a fresh deadline from now.
        ticket.resolved_at = ticket.closed_at = None
        ticket.due_at = due_for(ticket.priority, now)
    ticket.status = rule.target
    text = _text(data.get("note"))
    if action == "assign":
        text = " ".join(x for x in (str(data["assignee"]), text) if x)
    elif action == "resolve":
        text = ticket.resolution or text
    _event(
        ticket,
        user,
        "transition",
        at=now,
        action=action,
        from_status=before,
        to_status=rule.target,
        text=text or None,
        # A reopen sets a fresh deadline: the event keeps it, as the resolve event keeps the
        # resolution time the ticket itself has just forgotten.
        due_at=ticket.due_at if action == "reopen" else None,
    )
    if action in ("close", "reopen", "claim"):
        audit.record(
            action,
            ticket,
            summary=str(ticket),
            before={"status": before},
            after={"status": rule.target},
        )
    if action == "reopen":
        _tell_reopened(ticket, user, before, text)
    return ticket


def _tell_reopened(ticket, user, before, note):
    """The worker whose repair comes back: rejected at verification (it was resolved, not yet
    closed) or reopened after it was closed."""
    if ticket.assignee_id is None or ticket.assignee_id == user.id:
        return
    worker = db.session.get(User, ticket.assignee_id)
    rejected = before == "resolved"
    if rejected:
        title = _("Repair rejected at verification: %(title)s", title=ticket.equipment)
    else:
        title = _("Repair ticket reopened: %(title)s", title=ticket.equipment)
    notify.notify(
        [worker],
        "rejected" if rejected else "reopened",
        title,
        _("%(site)s · %(who)s: %(text)s", site=ticket.site.name, who=user, text=note or "—"),
        f"/repairs/{ticket.id}/",
        site=ticket.site,
    )


EDIT_ROLES = frozenset({"supervisor", "admin"})


def _deadline_start(ticket):
    """When the current deadline started counting: the last event that set a due time (the
    report, or a reopen), else the report time."""
    start = db.session.scalar(
        select(RepairEvent.at)
        .where(
            RepairEvent.ticket_id == ticket.id,
            RepairEvent.due_at.is_not(None),
            RepairEvent.kind != "edit",
        )
        .order_by(RepairEvent.at.desc(), RepairEvent.id.desc())
        .limit(1)
    )
    return start or ticket.created_at


def edit(ticket, user, equipment, location, item, priority):
    """The supervisor corrects an open ticket's equipment (its title), location, item and
    priority. A new priority recomputes the due time from when the current deadline started;
    the edit event keeps that due time, so the history still knows the earlier one."""
    if user.role not in EDIT_ROLES:
        raise DomainError(_l("Only a supervisor edits a ticket."), status=403)
    if ticket.status not in OPEN_STATUSES:
        raise DomainError(_l("Only an open ticket can be edited."))
    if item is not None and item.site_id != ticket.site_id:
        raise DomainError(_l("Choose an item of this site."))
    equipment = _text(equipment, 200) or (str(item)[:200] if item is not None else "")
    if not equipment:
        raise DomainError(_l("Say which equipment is broken."))
    if priority not in TICKET_PRIORITIES:
        raise DomainError(_l("Choose a priority."))
    new = {
        "equipment": equipment,
        "location": _text(location, 200) or None,
        "item_id": item.id if item is not None else None,
        "priority": priority,
    }
    changed = [k for k, v in new.items() if getattr(ticket, k) != v]
    if not changed:
        return ticket
    shown = {  # the history line in words, as the reader knows the fields
        "equipment": (_l("Equipment"), str),
        "location": (_l("Location"), str),
        "item_id": (_l("Inventory item"), lambda i: str(db.session.get(Item, i).name)),
        "priority": (_l("Priority"), lambda p: str(PRIORITY_LABELS[p])),
    }

    def word(k, v):
        return shown[k][1](v) if v is not None else "—"

    before = {k: getattr(ticket, k) for k in changed}
    for k in changed:
        setattr(ticket, k, new[k])
    due = None
    if "priority" in changed:
        due = ticket.due_at = due_for(priority, _deadline_start(ticket))
    text = "; ".join(f"{shown[k][0]}: {word(k, before[k])} → {word(k, new[k])}" for k in changed)
    _event(ticket, user, "edit", text=text[:4000], due_at=due)
    db.session.flush()
    audit.record("correct", ticket, summary=f"{ticket}: {text}")
    return ticket


def note_link(ticket, user, kind, other_id):
    """A timeline line naming a linked record (e.g. the damage report the ticket came from)."""
    return _event(ticket, user, kind, number=other_id)


def comment(ticket, user, text):
    text = _text(text)
    if not text:
        raise DomainError(_l("Write a comment first."))
    return _event(ticket, user, "comment", text=text)


def assignee_choices(site):
    """Maintenance users who serve this site (members of it), active."""
    # IN (subquery), not a join: the scope's own user_site EXISTS must not auto-correlate with it.
    members = select(user_site.c.user_id).where(user_site.c.site_id == site.id)
    stmt = (
        select(User)
        .where(User.id.in_(members), User.role == "maintenance", User.active.is_(True))
        .order_by(User.display_name)
    )
    return db.session.scalars(stmt).all()


def _visible(stmt, user):
    """Role rules on top of the site scope: security sees the tickets she reported; sales none."""
    if user.role == "sales":
        stmt = stmt.where(False)
    elif user.role == "security":
        stmt = stmt.where(RepairTicket.reporter_id == user.id)
    return stmt


def queue_query(user, filters=None, now=None):
    """The select behind the queue: filters site_id, status ('open', 'overdue', 'all' or a status),
    priority, mine (assigned to me, or reported by me for non-maintenance roles)."""
    filters = filters or {}
    now = now or clock.now()
    stmt = _visible(select(RepairTicket), user)
    if filters.get("site_id"):
        stmt = stmt.where(RepairTicket.site_id == filters["site_id"])
    status = filters.get("status") or "open"
    if status == "open":
        stmt = stmt.where(RepairTicket.status.in_(OPEN_STATUSES))
    elif status == "overdue":
        stmt = stmt.where(RepairTicket.status.in_(OPEN_STATUSES), RepairTicket.due_at < now)
    elif status != "all":
        stmt = stmt.where(RepairTicket.status == status)
    if filters.get("priority"):
        stmt = stmt.where(RepairTicket.priority == filters["priority"])
    if filters.get("mine"):
        column = (
            RepairTicket.assignee_id if user.role == "maintenance" else RepairTicket.reporter_id
        )
        stmt = stmt.where(column == user.id)
    overdue_first = case(
        (RepairTicket.status.in_(OPEN_STATUSES) & (RepairTicket.due_at < now), 0), else_=1
    )
    return stmt.order_by(overdue_first, RepairTicket.due_at, RepairTicket.id)


def my_queue(user, filters=None, limit=200):
    """Tickets for this user's queue, overdue first, then by due time (site, assignee loaded)."""
    stmt = queue_query(user, filters).options(
        joinedload(RepairTicket.site), joinedload(RepairTicket.assignee)
    )
    return db.session.scalars(stmt.limit(limit)).unique().all()


def site_summary(now=None):
    """[(site, open, overdue)] for every site in scope, in one GROUP BY plus the sites."""
    now = now or clock.now()
    overdue = func.sum(case((RepairTicket.due_at < now, 1), else_=0))
    rows = db.session.execute(
        select(RepairTicket.site_id, func.count(), overdue)
        .where(RepairTicket.status.in_(OPEN_STATUSES))
        .group_by(RepairTicket.site_id)
    ).all()
    counts = {site_id: (n, int(late or 0)) for site_id, n, late in rows}
    sites = db.session.scalars(select(Site).order_by(Site.code)).all()
    return [(s, *counts.get(s.id, (0, 0))) for s in sites]


def tickets_of_item(item, limit=50):
    """The item's tickets, newest first (the item's page lists them)."""
    stmt = (
        select(RepairTicket).where(RepairTicket.item_id == item.id).order_by(RepairTicket.id.desc())
    )
    return db.session.scalars(stmt.limit(limit)).all()


def timeline(ticket):
    stmt = (
        select(RepairEvent)
        .where(RepairEvent.ticket_id == ticket.id)
        .options(joinedload(RepairEvent.user))
    )
    return db.session.scalars(stmt.order_by(RepairEvent.id)).all()


def can_read(ticket_id, user):
    stmt = _visible(select(RepairTicket.id).where(RepairTicket.id == ticket_id), user)
    return db.session.scalar(stmt) is not None


photo_service.register_owner(OWNER_TYPE, can_read)
