"""Escalations on a schedule (periodic jobs of the queue, ``portal.services.jobs``).

    tickets_overdue(now=None) -> number of tickets escalated

Each rule sends once per record and level: an ``EscalationSent`` row with a unique key is
written in the same transaction as the notifications, so a job that runs again (after an
outage, or on two workers at once) finds it and sends nothing.

Rules: an open repair ticket past its due time → the supervisors of its site's region (level 1).
"""

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


def tickets_overdue(now=None):
    now = now or clock.now()
    sent = exists().where(
        EscalationSent.rule == TICKET_OVERDUE,
        EscalationSent.object_id == RepairTicket.id,
        EscalationSent.level == 1,
    )
    tickets = db.session.scalars(
        select(RepairTicket)
        .options(joinedload(RepairTicket.site), joinedload(RepairTicket.assignee))
        .where(RepairTicket.status.in_(OPEN_STATUSES), RepairTicket.due_at < now, ~sent)
        .order_by(RepairTicket.due_at)
    ).all()
    count = 0
    for ticket in tickets:
        if not _claim(TICKET_OVERDUE, ticket.id, 1):
            continue
        due = clock.to_local(ticket.due_at, ticket.site).strftime("%m-%d %H:%M")
        who = ticket.assignee.display_name if ticket.assignee else _("nobody")
        notify.notify(
            supervisors_of(ticket.site),
            "overdue",
            _("Repair ticket overdue: %(title)s", title=ticket.equipment),
            _(
                "%(site)s · due %(due)s · assigned to %(who)s",
                site=ticket.site.name,
                due=due,
                who=who,
            ),
            f"/repairs/{ticket.id}/",
            site=ticket.site,
        )
        db.session.commit()
        count += 1
    return count
