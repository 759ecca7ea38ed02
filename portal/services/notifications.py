"""The navbar counters: what waits for the logged-in user, in at most 3 COUNT queries.

    counts_for(user, now=None) -> [Notice(key, count, label, endpoint, args)]

Each role gets only the counts that concern it:
  maintenance — tickets newly assigned to me (not started yet);
  sales       — damage reports waiting for my confirmation;
  supervisor / admin — overdue open tickets, and damage reports waiting for review;
  clerk / security — repairs I reported that are resolved and wait for my confirmation.
"""

from dataclasses import dataclass, field

from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import OPEN_STATUSES, DamageReport, RepairTicket


@dataclass(frozen=True)
class Notice:
    key: str
    count: int
    label: object
    endpoint: str
    args: dict = field(default_factory=dict)


def _count(*criteria, model=RepairTicket):
    return db.session.scalar(select(func.count()).select_from(model).where(*criteria)) or 0


def counts_for(user, now=None):
    now = now or clock.now()
    role = user.role
    notices = []
    if role == "maintenance":
        n = _count(RepairTicket.assignee_id == user.id, RepairTicket.status == "assigned")
        notices.append(
            Notice(
                "assigned",
                n,
                _l("New tickets assigned to me"),
                "repairs.index",
                {"mine": 1, "status": "assigned"},
            )
        )
    elif role == "sales":
        n = _count(
            DamageReport.salesperson_id == user.id,
            DamageReport.status == "pending",
            model=DamageReport,
        )
        notices.append(
            Notice(
                "to_confirm",
                n,
                _l("Damage reports to confirm"),
                "damage.index",
                {"status": "pending"},
            )
        )
    elif role in ("supervisor", "admin"):
        n = _count(RepairTicket.status.in_(OPEN_STATUSES), RepairTicket.due_at < now)
        notices.append(
            Notice(
                "overdue", n, _l("Overdue repair tickets"), "repairs.index", {"status": "overdue"}
            )
        )
        n = _count(DamageReport.status.in_(("confirmed", "disputed")), model=DamageReport)
        notices.append(
            Notice(
                "to_review",
                n,
                _l("Damage reports to review"),
                "damage.index",
                {"status": "answered"},
            )
        )
    elif role in ("clerk", "security"):
        n = _count(RepairTicket.reporter_id == user.id, RepairTicket.status == "resolved")
        notices.append(
            Notice(
                "to_close",
                n,
                _l("Repairs waiting for my confirmation"),
                "repairs.index",
                {"mine": 1, "status": "resolved"},
            )
        )
    return notices
