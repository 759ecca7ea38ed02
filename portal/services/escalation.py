"""Escalations on a schedule (periodic jobs of the queue, ``portal.services.jobs``).

    run_all(now=None) -> {rule: number of records escalated}   (the periodic job)
    tickets_unassigned(now=None) / tickets_overdue(now=None) -> number escalated

Each rule sends once per record and level: an ``EscalationSent`` row with a unique key is
written in the same transaction as the notifications, so a job that runs again (after an
outage, or on two workers at once) finds it and sends nothing.

Rules (``RULES``, in the order they run):
* ``ticket_unassigned`` — a new ticket nobody took ``ESCALATE_UNASSIGNED_MINUTES`` (30) after
  it was reported → the supervisors of its site's region;
* ``ticket_overdue`` — an open ticket past its due time → the supervisors of its site's region.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import clock
from portal.extensions import db
from portal.models import OPEN_STATUSES, RepairTicket, User, user_region
from portal.models.notifications import EscalationSent
from portal.services import notify

TICKET_OVERDUE = "ticket_overdue"
TICKET_UNASSIGNED = "ticket_unassigned"


def supervisors_of(site):
    """Active supervisors of the site's region."""
    members = select(user_region.c.user_id).where(user_region.c.region_id == site.region_id)
    return db.session.scalars(
        select(User)
        .where(User.id.in_(members), User.role == "supervisor", User.active.is_(True))
        .order_by(User.id)
    ).all()


def _claim(rule, object_id, level):
    """Record the escalation; False when it was already sent (by an earlier run, or another
    worker that got there first)."""
    try:
        with db.session.begin_nested():
            db.session.add(EscalationSent(rule=rule, object_id=object_id, level=level))
    except IntegrityError:
        return False
    return True


def _not_sent(rule, level=1):
    return ~exists().where(
        EscalationSent.rule == rule,
        EscalationSent.object_id == RepairTicket.id,
        EscalationSent.level == level,
    )


def _tickets(*criteria):
    return db.session.scalars(
        select(RepairTicket)
        .options(joinedload(RepairTicket.site), joinedload(RepairTicket.assignee))
        .where(*criteria)
        .order_by(RepairTicket.id)
    ).all()


def _escalate(rule, tickets, title, body):
    """Tell each ticket's region supervisors, once per ticket (one transaction per ticket)."""
    count = 0
    for ticket in tickets:
        if not _claim(rule, ticket.id, 1):
            continue
        notify.notify(
            supervisors_of(ticket.site),
            "overdue",
            title(ticket),
            body(ticket),
            f"/repairs/{ticket.id}/",
            site=ticket.site,
        )
        db.session.commit()
        count += 1
    return count


def _local(at, site):
    return clock.to_local(at, site).strftime("%m-%d %H:%M")


def tickets_unassigned(now=None):
    now = now or clock.now()
    minutes = int(current_app.config.get("ESCALATE_UNASSIGNED_MINUTES", 30))
    tickets = _tickets(
        RepairTicket.status == "new",
        RepairTicket.assignee_id.is_(None),
        RepairTicket.created_at <= now - timedelta(minutes=minutes),
        _not_sent(TICKET_UNASSIGNED),
    )
    return _escalate(
        TICKET_UNASSIGNED,
        tickets,
        lambda t: _("Repair ticket still unassigned: %(title)s", title=t.equipment),
        lambda t: _(
            "%(site)s · reported %(at)s · nobody has taken it",
            site=t.site.name,
            at=_local(t.created_at, t.site),
        ),
    )


def tickets_overdue(now=None):
    now = now or clock.now()
    tickets = _tickets(
        RepairTicket.status.in_(OPEN_STATUSES),
        RepairTicket.due_at < now,
        _not_sent(TICKET_OVERDUE),
    )
    return _escalate(
        TICKET_OVERDUE,
        tickets,
        lambda t: _("Repair ticket overdue: %(title)s", title=t.equipment),
        lambda t: _(
            "%(site)s · due %(due)s · assigned to %(who)s",
            site=t.site.name,
            due=_local(t.due_at, t.site),
            who=t.assignee.display_name if t.assignee else _("nobody"),
        ),
    )


RULES = {TICKET_UNASSIGNED: tickets_unassigned, TICKET_OVERDUE: tickets_overdue}


def run_all(now=None):
    now = now or clock.now()
    return {name: rule(now) for name, rule in RULES.items()}
