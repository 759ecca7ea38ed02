"""What waits for the logged-in user ("等你处理"): the first block of every landing page and the
navbar counters, so the two never disagree.

    for_user(user, now=None) -> [Waiting(key, count, first_id, site_id, ...)]

One SQL statement per call: each kind of work is a few scalar subqueries (how many, the first
record and its site) in one SELECT. The subqueries read the site-scoped models, so the scope
of the session (``portal.services.scope``) is applied to each of them: another site's records
are never counted. Outside a request (no scope) it counts every site.

Each role gets only the kinds that concern it (``ROLE_KINDS``):
  clerk       — handover entries to sign, her repairs resolved and waiting for her confirmation,
                cleaning issues without a cleaner, overdue tickets and cleaning issues of her site;
  security    — handover entries to sign, her repairs to confirm, overdue tickets she reported;
  sales       — damage reports waiting for his confirmation;
  maintenance — tickets assigned to him not started yet, new tickets at his sites nobody took,
                his overdue tickets;
  supervisor / admin — new tickets nobody took (to assign), cleaning issues without a cleaner,
                damage reports answered and waiting for review, overdue tickets and cleaning
                issues, tallies closed early in the last day, in the region (head office:
                everywhere).
"""

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from types import SimpleNamespace

from sqlalchemy import bindparam, func, select, true

from portal import clock
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    OPEN_STATUSES,
    CleaningIssue,
    DailyTally,
    DamageReport,
    HandoverEntry,
    RepairTicket,
)
from portal.services import handover


@dataclass(frozen=True)
class Kind:
    key: str
    model: type
    # (user, now) -> the WHERE criteria of the records waiting. Called once per role, with the
    # statement's bound parameters for what varies (``_statement``): ``user.id`` and ``now``
    # are ``bindparam``s, ``user.role`` is the role.
    criteria: object
    # Shown with the count: "%(n)s …".
    label: object
    # Where the list of exactly these records is: endpoint and its arguments.
    list_endpoint: str
    list_args: dict = field(default_factory=dict)
    # Where the one record is when there is exactly one: endpoint and the name of its id
    # argument ("site" when the record's page is its site's page).
    one_endpoint: str = ""
    one_arg: str = "id"
    icon: str = "fa-wrench"
    # The record's place on its site's page ("issue-%s"), when that page lists several.
    anchor: str = ""


@dataclass(frozen=True)
class Waiting:
    kind: Kind
    count: int
    first_id: int | None
    site_id: int | None

    @property
    def key(self):
        return self.kind.key

    @property
    def label(self):
        return self.kind.label

    @property
    def text(self):
        """The line as shown: "1 张损坏单等你确认"."""
        return str(self.kind.label) % {"n": self.count}

    @property
    def target(self):
        """(endpoint, args): the record itself when there is exactly one, else its list."""
        if self.count == 1 and self.kind.one_endpoint:
            value = self.site_id if self.kind.one_arg == "site" else self.first_id
            args = {self.kind.one_arg: value}
            if self.kind.anchor:
                args["_anchor"] = self.kind.anchor % self.first_id
            return self.kind.one_endpoint, args
        args = dict(self.kind.list_args)
        if args.pop("_site", False) and self.site_id is not None:
            args["site"] = self.site_id
        return self.kind.list_endpoint, args


def _overdue_tickets(user, now):
    criteria = [RepairTicket.status.in_(OPEN_STATUSES), RepairTicket.due_at < now]
    if user.role == "maintenance":  # his own work; the new ones of his sites are "to claim"
        criteria.append(RepairTicket.assignee_id == user.id)
    elif user.role == "security":  # she sees only the tickets she reported
        criteria.append(RepairTicket.reporter_id == user.id)
    return criteria


# "Closed in the last day" (a bound parameter: ``now - timedelta`` would be arithmetic in SQL).
A_DAY_BEFORE_NOW = bindparam("a_day_before_now")

# The cleaning issue list's filters (named after their labels, see CleaningIssueView).
_CLEANING_OPEN = {"flt0_status_equals": "open"}

KINDS = {
    k.key: k
    for k in (
        Kind(
            "to_sign",
            HandoverEntry,
            lambda user, now: [HandoverEntry.id.in_(handover.signable_entries(user, now))],
            _l("%(n)s handover entries waiting for your signature"),
            "handover.index",
            {"_site": True},
            "handover.entry",
            icon="fa-book",
        ),
        Kind(
            "to_close",
            RepairTicket,
            lambda user, now: [
                RepairTicket.reporter_id == user.id,
                RepairTicket.status == "resolved",
            ],
            _l("%(n)s repairs done, waiting for your confirmation"),
            "repairs.index",
            {"mine": 1, "status": "resolved"},
            "repairs.detail",
            "ticket_id",
            icon="fa-check",
        ),
        Kind(
            "damage_to_confirm",
            DamageReport,
            lambda user, now: [
                DamageReport.salesperson_id == user.id,
                DamageReport.status == "pending",
            ],
            _l("%(n)s damage reports waiting for your confirmation"),
            "damage.index",
            {"status": "pending"},
            "damage.detail",
            "report_id",
            icon="fa-clipboard",
        ),
        Kind(
            "damage_to_review",
            DamageReport,
            lambda user, now: [DamageReport.status.in_(("confirmed", "disputed"))],
            _l("%(n)s damage reports waiting for your review"),
            "damage.index",
            {"status": "answered"},
            "damage.detail",
            "report_id",
            icon="fa-clipboard",
        ),
        Kind(
            "to_assign",
            RepairTicket,
            lambda user, now: [RepairTicket.status == "new"],
            _l("%(n)s new repair tickets waiting to be assigned"),
            "repairs.index",
            {"status": "new", "mine": 0},
            "repairs.detail",
            "ticket_id",
        ),
        Kind(
            "new_for_me",
            RepairTicket,
            lambda user, now: [
                RepairTicket.assignee_id == user.id,
                RepairTicket.status == "assigned",
            ],
            _l("%(n)s repair tickets assigned to you, not started"),
            "repairs.index",
            {"mine": 1, "status": "assigned"},
            "repairs.detail",
            "ticket_id",
        ),
        Kind(
            "to_claim",
            RepairTicket,
            lambda user, now: [RepairTicket.status == "new", RepairTicket.assignee_id.is_(None)],
            _l("%(n)s new repair tickets at your sites nobody has taken"),
            "repairs.index",
            {"status": "new", "mine": 0},
            "repairs.detail",
            "ticket_id",
        ),
        Kind(
            "cleaning_no_cleaner",
            CleaningIssue,
            lambda user, now: [CleaningIssue.status == "open", CleaningIssue.cleaner_id.is_(None)],
            _l("%(n)s cleaning issues without a cleaner"),
            "cleaning_issue.index_view",
            {**_CLEANING_OPEN, "flt1_no_cleaner_equals": "1"},
            "cleaning.index",
            "site",
            icon="fa-tint",
            anchor="issue-%s",
        ),
        Kind(
            "tickets_overdue",
            RepairTicket,
            _overdue_tickets,
            _l("%(n)s repair tickets overdue"),
            "repairs.index",
            {"status": "overdue"},
            "repairs.detail",
            "ticket_id",
            icon="fa-clock-o",
        ),
        Kind(
            "cleaning_overdue",
            CleaningIssue,
            lambda user, now: [CleaningIssue.status == "open", CleaningIssue.due_at < now],
            _l("%(n)s cleaning issues overdue"),
            "cleaning_issue.index_view",
            {**_CLEANING_OPEN, "flt1_overdue_equals": "1"},
            "cleaning.index",
            "site",
            icon="fa-clock-o",
            anchor="issue-%s",
        ),
        Kind(
            # The procedure's "unless there are special circumstances": a tally closed before
            # its time stays in front of the supervisor for a day, with its reason one tap away.
            "tallies_early",
            DailyTally,
            lambda user, now: [
                DailyTally.early_reason.is_not(None),
                DailyTally.closed_at >= A_DAY_BEFORE_NOW,
            ],
            _l("%(n)s tallies closed before the tally time, with a reason"),
            "dailytally.index_view",
            {},
            "dailytally.details_view",
            icon="fa-flag",
        ),
    )
}

ROLE_KINDS = {
    "clerk": ("to_sign", "to_close", "cleaning_no_cleaner", "tickets_overdue", "cleaning_overdue"),
    "security": ("to_sign", "to_close", "tickets_overdue"),
    "sales": ("damage_to_confirm",),
    "maintenance": ("new_for_me", "to_claim", "tickets_overdue"),
    "supervisor": (
        "to_assign",
        "cleaning_no_cleaner",
        "damage_to_review",
        "tickets_overdue",
        "cleaning_overdue",
        "tallies_early",
    ),
}
ROLE_KINDS["admin"] = ROLE_KINDS["supervisor"]


def _counted(kind, user, now):
    """How many, the first record and its site, in one row: a subquery of the kind's records."""
    model = kind.model
    # "+ 0": a bare MIN(id) lets SQLite walk the whole table in id order looking for the first
    # match (24 ms at 200 sites when nothing matches); on an expression it uses the criteria's
    # index like the count does.
    return (
        select(
            func.count().label("n"),
            func.min(model.id + 0).label("first_id"),
            func.min(model.site_id + 0).label("site_id"),
        )
        .select_from(model)
        .where(*kind.criteria(user, now))
        .subquery(kind.key)
    )


@cache  # built once per role, run with parameters (HACKING.md, "Statements built once")
def _statement(role):
    """The SELECT of a role's kinds: one row, joining a one-row subquery per kind. Built once:
    building it cost 3-4 ms of every page (the navbar counters); the user and the time are bound
    parameters. Each kind's criteria appear once (three scalar subqueries of the same criteria,
    one per figure, made every execution cost three times as much: ~5 ms for a clerk)."""
    user = SimpleNamespace(id=bindparam("user_id"), role=role)
    now = bindparam("now")
    rows = [_counted(KINDS[k], user, now) for k in ROLE_KINDS[role]]
    joined = rows[0]
    for row in rows[1:]:
        joined = joined.join(row, true())
    columns = [c for row in rows for c in (row.c.n, row.c.first_id, row.c.site_id)]
    return select(*columns).select_from(joined)


def for_user(user, now=None):
    """[Waiting] for this user's role, in ``ROLE_KINDS`` order, counted in one statement."""
    kinds = [KINDS[k] for k in ROLE_KINDS.get(user.role, ())]
    if not kinds:
        return []
    now = now or clock.now()
    params = {"user_id": user.id, "now": now, "a_day_before_now": now - timedelta(days=1)}
    row = db.session.execute(_statement(user.role), params).one()
    return [
        Waiting(kind, int(row[3 * i] or 0), row[3 * i + 1], row[3 * i + 2])
        for i, kind in enumerate(kinds)
    ]
