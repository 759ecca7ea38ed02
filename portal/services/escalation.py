"""Escalations on a schedule (the periodic job of the queue, ``portal.services.jobs``, every
minute).

    run_all(now=None) -> {rule: number of messages sent}   (the periodic job)
    run_rule(name, now=None) -> number sent
    RULES                                                   (THE table, below)

Each rule sends once per record and level (and, for an overdue record, per due time: a ticket
reopened with a new due time is escalated again once that one passes): an ``EscalationSent``
row with a unique key is written in the same transaction as the notifications, so a job that
runs again (after an outage, or on two workers at once) finds it and sends nothing. A rule
that was missed for hours sends once when the job runs again, not once per missed run.

Only open sites (``Site.status == "open"``) are watched: a site in set-up or closed has nobody
to tell. Wall-clock times (10:00, the tally time) are each site's own (``Site.timezone``).
Each delay is read from the app config (``ESCALATE_*_MINUTES``) on every run, with the
table's default.

Records of a site and a day (the opening checklist, the tally) have no id of their own to
claim: ``site_day_key`` makes one from the site and the day.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import clock
from portal.extensions import db
from portal.i18n import site_time
from portal.models import (
    OPEN_STATUSES,
    BreakLog,
    ChecklistRun,
    CleaningIssue,
    DailyTally,
    HandoverEntry,
    RepairTicket,
    Shift,
    Site,
    StaffMember,
    User,
    user_region,
    user_site,
)
from portal.models.notifications import NO_DUE, EscalationSent
from portal.services import notify

TICKET_UNASSIGNED = "ticket_unassigned"
TICKET_OVERDUE = "ticket_overdue"
CLEANING_OVERDUE = "cleaning_overdue"
OPENING_CHECKLIST = "opening_checklist"
TALLY_OPEN = "tally_open"
HANDOVER_UNSIGNED = "handover_unsigned"
BREAK_LONG = "break_long"

# A record older than this is not escalated any more (a break nobody ended last week, a
# handover of a month ago): the message would only be noise.
STALE_AFTER = timedelta(days=2)
_EPOCH = date(2000, 1, 1)


@dataclass(frozen=True)
class Level:
    level: int
    config_key: str  # minutes after the rule's starting point (app config)
    default: int
    who: str  # who is told, for the README's and the reader's sake; ``people`` does it


@dataclass(frozen=True)
class Due:
    """One message a rule wants sent: to ``people`` about one record at one level."""

    object_id: int
    level: int
    site: Site
    people: list
    title: str
    body: str
    url: str
    kind: str = "overdue"
    due_at: datetime = NO_DUE  # the due time passed, for the rules that watch one


@dataclass(frozen=True)
class Rule:
    name: str
    watches: str
    levels: tuple
    find: Callable  # (now, {level: timedelta}) -> [Due]


# --- people ---------------------------------------------------------------------------------


def supervisors_of(site):
    """Active supervisors of the site's region."""
    members = select(user_region.c.user_id).where(user_region.c.region_id == site.region_id)
    return db.session.scalars(
        select(User)
        .where(User.id.in_(members), User.role == "supervisor", User.active.is_(True))
        .order_by(User.id)
    ).all()


def clerks_of(site):
    """Active clerks who are members of the site."""
    members = select(user_site.c.user_id).where(user_site.c.site_id == site.id)
    return db.session.scalars(
        select(User)
        .where(User.id.in_(members), User.role == "clerk", User.active.is_(True))
        .order_by(User.id)
    ).all()


# --- claiming -------------------------------------------------------------------------------


def site_day_key(site_id, day):
    """One integer for (site, local day): fits a 32-bit column for 21,000 sites and 270 years."""
    return site_id * 100_000 + (day - _EPOCH).days


def claim(rule, object_id, level, due_at=NO_DUE):
    """Record the escalation; False when it was already sent (by an earlier run, or another
    worker that got there first)."""
    try:
        with db.session.begin_nested():
            db.session.add(
                EscalationSent(rule=rule, object_id=object_id, level=level, due_at=due_at)
            )
    except IntegrityError:
        return False
    return True


def _not_sent(rule, id_column, level=1, due_column=None):
    """Not escalated yet (for ``due_column``'s due time, when the rule watches one)."""
    return ~exists().where(
        EscalationSent.rule == rule,
        EscalationSent.object_id == id_column,
        EscalationSent.level == level,
        EscalationSent.due_at == (NO_DUE if due_column is None else due_column),
    )


def _sent_keys(rule, keys):
    if not keys:
        return set()
    return set(
        db.session.execute(
            select(EscalationSent.object_id, EscalationSent.level).where(
                EscalationSent.rule == rule, EscalationSent.object_id.in_(keys)
            )
        ).all()
    )


def _open_sites():
    return db.session.scalars(select(Site).where(Site.status == "open").order_by(Site.id)).all()


def _at(at, site):
    return site_time(at, site, "%m-%d %H:%M")


# --- the rules ------------------------------------------------------------------------------


def _tickets(*criteria):
    return db.session.scalars(
        select(RepairTicket)
        .join(Site, Site.id == RepairTicket.site_id)
        .options(joinedload(RepairTicket.site), joinedload(RepairTicket.assignee))
        .where(Site.status == "open", *criteria)
        .order_by(RepairTicket.id)
    ).all()


def _find_tickets_unassigned(now, delays):
    tickets = _tickets(
        RepairTicket.status == "new",
        RepairTicket.assignee_id.is_(None),
        RepairTicket.created_at <= now - delays[1],
        _not_sent(TICKET_UNASSIGNED, RepairTicket.id),
    )
    return [
        Due(
            t.id,
            1,
            t.site,
            supervisors_of(t.site),
            _("Repair ticket still unassigned: %(title)s", title=t.equipment),
            _(
                "%(site)s · reported %(at)s · nobody has taken it",
                site=t.site.name,
                at=_at(t.created_at, t.site),
            ),
            f"/repairs/{t.id}/",
        )
        for t in tickets
    ]


def _find_tickets_overdue(now, delays):
    tickets = _tickets(
        RepairTicket.status.in_(OPEN_STATUSES),
        RepairTicket.due_at <= now - delays[1],
        _not_sent(TICKET_OVERDUE, RepairTicket.id, due_column=RepairTicket.due_at),
    )
    return [
        Due(
            t.id,
            1,
            t.site,
            supervisors_of(t.site),
            _("Repair ticket overdue: %(title)s", title=t.equipment),
            _(
                "%(site)s · due %(due)s · assigned to %(who)s",
                site=t.site.name,
                due=_at(t.due_at, t.site),
                who=t.assignee.display_name if t.assignee else _("nobody"),
            ),
            f"/repairs/{t.id}/",
            due_at=t.due_at,
        )
        for t in tickets
    ]


def _find_cleaning_overdue(now, delays):
    issues = db.session.scalars(
        select(CleaningIssue)
        .join(Site, Site.id == CleaningIssue.site_id)
        .options(joinedload(CleaningIssue.area))
        .where(
            Site.status == "open",
            CleaningIssue.status == "open",
            CleaningIssue.due_at <= now - delays[1],
            _not_sent(CLEANING_OVERDUE, CleaningIssue.id, due_column=CleaningIssue.due_at),
        )
        .order_by(CleaningIssue.id)
    ).all()
    sites = {s.id: s for s in _open_sites()}
    due = []
    for issue in issues:
        site = sites[issue.site_id]
        due.append(
            Due(
                issue.id,
                1,
                site,
                [*clerks_of(site), *supervisors_of(site)],
                _("Cleaning issue overdue: %(area)s", area=issue.area.name),
                _(
                    "%(site)s · due %(due)s · %(text)s",
                    site=site.name,
                    due=_at(issue.due_at, site),
                    text=issue.description,
                ),
                f"/cleaning_issue/details/?id={issue.id}",
                due_at=issue.due_at,
            )
        )
    return due


def _per_site_day(rule, now, levels, missing):
    """For each open site: the levels whose local time has come today and whose record
    ``missing(site, day)`` says is still not there. ``levels``: {level: local datetime}.
    One query for what was sent already; ``missing`` only for sites with something left."""
    ripe = []
    for site in _open_sites():
        day = clock.local_day(site, now)
        levels_due = [lv for lv, at in levels(site, day).items() if at <= now]
        if levels_due:
            ripe.append((site, day, site_day_key(site.id, day), levels_due))
    sent = _sent_keys(rule, [key for _, _, key, _ in ripe])
    due = []
    for site, day, key, levels_due in ripe:
        left = [lv for lv in levels_due if (key, lv) not in sent]
        if left and missing(site, day):
            due += [(site, day, key, lv) for lv in left]
    return due


def _find_opening_checklist(now, delays):
    def levels(site, day):
        return {1: clock.local_at(day, time(0), site) + delays[1]}

    def missing(site, day):
        return not db.session.scalar(
            select(
                exists().where(
                    ChecklistRun.site_id == site.id,
                    ChecklistRun.day == day,
                    ChecklistRun.kind == "opening",
                    ChecklistRun.status == "done",
                )
            )
        )

    due = []
    for site, day, key, lv in _per_site_day(OPENING_CHECKLIST, now, levels, missing):
        at = levels(site, day)[lv]
        due.append(
            Due(
                key,
                lv,
                site,
                supervisors_of(site),
                _("Opening checklist not completed: %(site)s", site=site.name),
                _(
                    "%(site)s · %(day)s · not completed by %(at)s",
                    site=site.name,
                    day=day.isoformat(),
                    at=_at(at, site)[-5:],
                ),
                "/checklists/",
            )
        )
    return due


def _find_tally_open(now, delays):
    def levels(site, day):
        start = clock.local_at(day, site.tally_time or time(17, 50), site)
        return {lv: start + delay for lv, delay in delays.items()}

    def missing(site, day):
        return not db.session.scalar(
            select(exists().where(DailyTally.site_id == site.id, DailyTally.day == day))
        )

    due = []
    for site, day, key, lv in _per_site_day(TALLY_OPEN, now, levels, missing):
        people = clerks_of(site) if lv == 1 else supervisors_of(site)
        due.append(
            Due(
                key,
                lv,
                site,
                people,
                _("Tally not closed: %(site)s", site=site.name),
                _(
                    "%(site)s · %(day)s · tally time %(at)s",
                    site=site.name,
                    day=day.isoformat(),
                    at=(site.tally_time or time(17, 50)).strftime("%H:%M"),
                ),
                "/tally/",
            )
        )
    return due


def _next_shift(entry):
    """The shift of the entry's post that takes it over: the one it names, else the first of
    its post at its site starting after it was written."""
    if entry.incoming_shift is not None:
        return entry.incoming_shift
    return db.session.scalar(
        select(Shift)
        .where(
            Shift.site_id == entry.site_id,
            Shift.post == entry.post,
            Shift.starts_at > entry.written_at,
        )
        .order_by(Shift.starts_at)
        .limit(1)
    )


def _find_handover_unsigned(now, delays):
    entries = db.session.scalars(
        select(HandoverEntry)
        .join(Site, Site.id == HandoverEntry.site_id)
        .options(joinedload(HandoverEntry.incoming_shift))
        .where(
            Site.status == "open",
            HandoverEntry.signed_at.is_(None),
            HandoverEntry.written_at >= now - STALE_AFTER,
            HandoverEntry.written_at <= now - delays[1],
            _not_sent(HANDOVER_UNSIGNED, HandoverEntry.id),
        )
        .order_by(HandoverEntry.id)
    ).all()
    sites = {s.id: s for s in _open_sites()}
    due = []
    for entry in entries:
        shift = _next_shift(entry)
        if shift is None or shift.starts_at + delays[1] > now:
            continue
        site = sites[entry.site_id]
        due.append(
            Due(
                entry.id,
                1,
                site,
                supervisors_of(site),
                _("Handover not signed: %(site)s", site=site.name),
                _(
                    "%(site)s · written %(at)s · the next shift began %(start)s",
                    site=site.name,
                    at=_at(entry.written_at, site),
                    start=_at(shift.starts_at, site),
                ),
                f"/handover/entry/{entry.id}",
            )
        )
    return due


def _find_break_long(now, delays):
    rows = db.session.execute(
        select(BreakLog, User)
        .join(Site, Site.id == BreakLog.site_id)
        .join(StaffMember, StaffMember.id == BreakLog.staff_member_id)
        .join(User, User.id == StaffMember.user_id)
        .where(
            Site.status == "open",
            BreakLog.ended_at.is_(None),
            BreakLog.started_at >= now - STALE_AFTER,
            BreakLog.started_at <= now - delays[1],
            User.active.is_(True),
            _not_sent(BREAK_LONG, BreakLog.id),
        )
        .order_by(BreakLog.id)
    ).all()
    sites = {s.id: s for s in _open_sites()}
    minutes = int(delays[1].total_seconds() // 60)
    return [
        Due(
            log.id,
            1,
            sites[log.site_id],
            [user],
            _("Your break is over %(minutes)s minutes", minutes=minutes),
            _("Started %(at)s", at=_at(log.started_at, sites[log.site_id])),
            "/breaks/",
        )
        for log, user in rows
    ]


# THE table: every escalation, what it watches, its delays (config key, default minutes) and
# who is told at each level. The order is the order they run in.
RULES = (
    Rule(
        TICKET_UNASSIGNED,
        "new repair ticket nobody took, from its report",
        (Level(1, "ESCALATE_UNASSIGNED_MINUTES", 30, "region's supervisors"),),
        _find_tickets_unassigned,
    ),
    Rule(
        TICKET_OVERDUE,
        "open repair ticket, from its due time",
        (Level(1, "ESCALATE_TICKET_OVERDUE_MINUTES", 0, "region's supervisors"),),
        _find_tickets_overdue,
    ),
    Rule(
        CLEANING_OVERDUE,
        "open cleaning issue, from its due time",
        (Level(1, "ESCALATE_CLEANING_OVERDUE_MINUTES", 0, "site's clerks and supervisors"),),
        _find_cleaning_overdue,
    ),
    Rule(
        OPENING_CHECKLIST,
        "today's opening checklist not completed, from the site's local midnight",
        (Level(1, "ESCALATE_OPENING_CHECKLIST_MINUTES", 600, "region's supervisors"),),
        _find_opening_checklist,
    ),
    Rule(
        TALLY_OPEN,
        "today's tally not closed, from the site's tally time",
        (
            Level(1, "ESCALATE_TALLY_MINUTES", 40, "site's clerks"),
            Level(2, "ESCALATE_TALLY_SUPERVISOR_MINUTES", 100, "region's supervisors"),
        ),
        _find_tally_open,
    ),
    Rule(
        HANDOVER_UNSIGNED,
        "handover entry not signed, from the start of the next shift of its post",
        (Level(1, "ESCALATE_HANDOVER_MINUTES", 120, "region's supervisors"),),
        _find_handover_unsigned,
    ),
    Rule(
        BREAK_LONG,
        "break still running, from its start",
        (Level(1, "ESCALATE_BREAK_MINUTES", 10, "the person on break"),),
        _find_break_long,
    ),
)
RULES_BY_NAME = {rule.name: rule for rule in RULES}


def delays_of(rule):
    cfg = current_app.config
    return {
        lv.level: timedelta(minutes=int(cfg.get(lv.config_key, lv.default))) for lv in rule.levels
    }


def run_rule(name, now=None):
    """Send what the rule finds due, each once (one transaction per message)."""
    rule = RULES_BY_NAME[name]
    now = now or clock.now()
    count = 0
    for due in rule.find(now, delays_of(rule)):
        if not claim(rule.name, due.object_id, due.level, due.due_at):
            continue
        notify.notify(due.people, due.kind, due.title, due.body, due.url, site=due.site)
        db.session.commit()
        count += 1
    db.session.commit()
    return count


def run_all(now=None):
    now = now or clock.now()
    return {rule.name: run_rule(rule.name, now) for rule in RULES}


def tickets_unassigned(now=None):
    return run_rule(TICKET_UNASSIGNED, now)


def tickets_overdue(now=None):
    return run_rule(TICKET_OVERDUE, now)
