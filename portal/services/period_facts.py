"""What happened in a period, read from the histories — never from today's state of a record.

A ticket reopened in December was still resolved in November; a person who left in December
was on November's roster; a drink withdrawn in December was still served in November. The
figures of a past period read the rows below, which keep those facts with their times:

* ``RepairEvent`` (a ticket's report and every transition; insert-only);
* ``CleaningIssueEvent`` (raised, fixed, verified, reopened; insert-only);
* ``StaffSpell`` (joined / left a site's roster; frozen once closed);
* ``ConsumptionLine`` with its ``Product`` even when the product is withdrawn or deleted since
  (``Product.withdrawn_at``), read through ``scope.including_deleted``;
* ``GroomingResult`` (the points judged; the exact score of an inspection is their share).

Every function is a pure question of ``(site_ids, start, end)`` — or ``(site_ids, at)`` for an
instant — with aware UTC instants. A site's period is its own local days: the caller gets the
bounds from ``clock.period_bounds(first_day, last_day, site)`` (``zone_groups`` does it for many
sites at once, one call per time zone). Periods are half-open, ``[start, end)``.

Definitions (the same for every record type):

* **At an instant** ``at`` a record is in the state its last status event *before* ``at`` left it
  in (an event at exactly ``at`` belongs to what comes after): pass the period's ``end`` for
  "at the end of the period".
* **Existence.** A soft-deleted record counts for the instants before its deletion
  (``deleted_at >= at``): a later deletion changes nothing in the past. Over a period, a record
  counts when it still existed at the period's end (one entered by mistake and deleted the same
  month is not counted).
* **Resolved / fixed in a period.** A ticket (issue) counts in every period in which it has a
  resolve (fix) event, once, with the time from its report (raising) to its *first* resolution
  (fix) in that period — even if it was reopened afterwards, in the period or later. A ticket
  resolved in November, reopened and resolved again in December counts in both months, each
  with its own duration.
* **Due.** The due time in force at an instant is the one the last report/raise or reopen
  before it set; for older rows whose events carry none, the record's own ``due_at``. Overdue
  at ``at``: open at ``at`` and due strictly before it. A fix is late when it came after the due
  time in force then.
* **Roster.** A person is on a site's roster during ``[start, end)`` when one of his spells
  there began before ``end`` and had not ended by ``start`` (``left_at`` None or after
  ``start``); at an instant, when a spell began before it and had not ended by it.

Values are exact: durations in hours as ``float`` from ``timedelta.total_seconds()``, scores as
``float`` of the exact share; nothing is rounded here (figures round once, for display).
Queries run through the session's site scope like every other read.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from math import fsum

from sqlalchemy import and_, case, func, or_, select, union

from portal import clock
from portal.extensions import db
from portal.models.base import among
from portal.models import (
    OPEN_STATUSES,
    CleaningIssue,
    CleaningIssueEvent,
    ConsumptionLine,
    GroomingInspection,
    GroomingResult,
    Product,
    RepairEvent,
    RepairTicket,
    StaffMember,
    StaffSpell,
    Visit,
)
from portal.services.scope import including_deleted

CLEANING_OPEN = ("open",)
MICROS_PER_HOUR = 3_600_000_000


# ---------------------------------------------------------------- shapes


@dataclass(frozen=True)
class Resolution:
    """A ticket resolved in the period: from its report to its first resolution in it."""

    site_id: int
    ticket_id: int
    reported_at: datetime
    resolved_at: datetime
    hours: float

    @property
    def micros(self):
        return micros_between(self.reported_at, self.resolved_at)


@dataclass(frozen=True)
class Fix:
    """A cleaning issue fixed in the period: from raising to its first fix in it."""

    site_id: int
    issue_id: int
    raised_at: datetime
    fixed_at: datetime
    due_at: datetime
    hours: float
    late: bool  # fixed after the due time in force then

    @property
    def micros(self):
        return micros_between(self.raised_at, self.fixed_at)


@dataclass(frozen=True)
class RosterMember:
    site_id: int
    staff_member_id: int
    name: str
    kind: str
    joined_at: datetime  # start of his latest spell there that touches the period
    left_at: datetime | None  # its end (None: still there)


@dataclass(frozen=True)
class Serving:
    """A consumption-slip line of a visit that arrived in the period."""

    site_id: int
    line_id: int
    visit_id: int
    arrived_at: datetime
    product_id: int
    product_name: str
    kind: str  # drink / snack
    unit: str
    quantity: int
    withdrawn: bool  # the product is withdrawn (switched off or deleted) now
    withdrawn_at: datetime | None


@dataclass(frozen=True)
class GroomingScore:
    site_id: int
    inspection_id: int
    staff_member_id: int
    inspected_at: datetime
    score: float  # exact: 100 × points passed / points judged
    points_passed: int | None  # None: recorded without its points (the stored score is used)
    points_judged: int | None


# ---------------------------------------------------------------- helpers


def existed_at(model, at):
    """SQL: a soft-deletable ``model``'s row had not been deleted before the instant ``at``."""
    return or_(model.deleted_at.is_(None), model.deleted_at >= at)


def hours_between(earlier, later):
    """Exact hours from ``earlier`` to ``later``."""
    return (later - earlier).total_seconds() / 3600


def micros_between(earlier, later):
    """Exact microseconds from ``earlier`` to ``later``: durations add up without rounding."""
    return (later - earlier) // timedelta(microseconds=1)


def mean_hours(total_micros, count):
    """The mean in hours of ``count`` durations adding up to ``total_micros``, rounded once
    (the same float however the durations were grouped before adding); None for none."""
    return float(Fraction(total_micros, count * MICROS_PER_HOUR)) if count else None


def mean(values):
    """The exact mean (correctly rounded float sum) of the values; None when there are none."""
    values = [v for v in values if v is not None]
    return fsum(values) / len(values) if values else None


def zone_groups(sites, first_day, last_day):
    """[(site_ids, start, end)]: the sites grouped by time zone, each group with the UTC bounds of
    the local days ``first_day..last_day`` (one query per group instead of one per site)."""
    groups = defaultdict(list)
    for site in sites:
        groups[clock.site_zone(site)].append(site.id)
    return [
        (sorted(ids), *clock.period_bounds(first_day, last_day, zone))
        for zone, ids in groups.items()
    ]


def _by_site(site_ids, items):
    result = {sid: [] for sid in site_ids}
    for item in items:
        result.setdefault(item.site_id, []).append(item)
    return result


def _ids_by_site(site_ids, rows):
    result = {sid: [] for sid in site_ids}
    for site_id, record_id in rows:
        result.setdefault(site_id, []).append(record_id)
    return result


def _last_set_before(event, owner_column, value_column, record, at):
    """SQL scalar: ``value_column`` of the record's last event before ``at`` that set it (ties
    on ``at`` go to the later row; None if none did). Looked up per record through the owner's
    index: ranking the sites' events with a window function instead made PostgreSQL read every
    event of the sites (80 ms at 200 sites), and SQLite compare every record with every other
    one's rows."""
    return (
        select(value_column)
        .where(owner_column == record.id, value_column.is_not(None), event.at < at)
        .order_by(event.at.desc(), event.id.desc())
        .limit(1)
        .correlate(record)
        .scalar_subquery()
    )


def _status_at(event, owner_column, record, at):
    """SQL scalar: the status the record's last status event before ``at`` left it in."""
    return _last_set_before(event, owner_column, event.to_status, record, at)


def _maybe_open(record, open_statuses, event, owner_column, site_ids, at):
    """Select of the record ids that may have been open at ``at``: those open now, and those
    with an event at or after ``at``. A record in neither had its last event before ``at`` and
    that event left it in today's status (the status column and the history change in one
    transaction), so it was not open then either. Whatever ``at``, the answer is the same as
    reading every history; for a recent ``at`` (a running period) it reads a few rows instead of
    every event of the sites."""
    return union(
        select(record.id).where(among(record.site_id, site_ids), record.status.in_(open_statuses)),
        select(owner_column).where(among(event.site_id, site_ids), event.at >= at),
    )


def _due_in_force(event, owner_column, record, at):
    """SQL scalar: the due time the record's last event before ``at`` that set one gave it."""
    return _last_set_before(event, owner_column, event.due_at, record, at)


def _first_in(event, owner_column, status, site_ids, start, end, since=None):
    """Subquery (owner_id, first_at): the first event into ``status`` in ``[start, end)``; with
    ``since``, only the records whose first such event came at or after it."""
    stmt = (
        select(owner_column.label("owner_id"), func.min(event.at).label("first_at"))
        .where(
            among(event.site_id, site_ids),
            event.to_status == status,
            event.at >= start,
            event.at < end,
        )
        .group_by(owner_column)
    )
    if since is not None:
        # Only the records with such an event since then: a few, instead of the whole period's.
        recent = select(owner_column).where(
            among(event.site_id, site_ids),
            event.to_status == status,
            event.at >= since,
            event.at < end,
        )
        stmt = stmt.where(owner_column.in_(recent)).having(func.min(event.at) >= since)
    return stmt.subquery()


def _began(event, owner_column, site_ids, owners):
    """Subquery (owner_id, began_at): the first status event (report / raised) of each of
    ``owners`` (a select of owner ids)."""
    return (
        select(owner_column.label("owner_id"), func.min(event.at).label("began_at"))
        .where(
            among(event.site_id, site_ids),
            event.to_status.is_not(None),
            owner_column.in_(owners),
        )
        .group_by(owner_column)
        .subquery()
    )


def _run(stmt):
    return db.session.execute(including_deleted(stmt)).all()


# ---------------------------------------------------------------- repair tickets


def _ticket_candidates(site_ids, at):
    return _maybe_open(
        RepairTicket, OPEN_STATUSES, RepairEvent, RepairEvent.ticket_id, site_ids, at
    )


def _tickets_open_stmt(site_ids, at):
    status = _status_at(RepairEvent, RepairEvent.ticket_id, RepairTicket, at)
    return (
        select(RepairTicket.site_id, RepairTicket.id)
        .where(
            among(RepairTicket.site_id, site_ids),
            RepairTicket.id.in_(_ticket_candidates(site_ids, at)),
            status.in_(OPEN_STATUSES),
            existed_at(RepairTicket, at),
        )
        .order_by(RepairTicket.site_id, RepairTicket.id)
    )


def tickets_open_at(site_ids, at):
    """{site_id: [ticket id]}: tickets reported before ``at`` and open then (not resolved or
    closed, or reopened since), that had not been deleted by then."""
    return tickets_open_and_overdue_at(site_ids, at)[0]


def tickets_overdue_at(site_ids, at):
    """{site_id: [ticket id]}: of ``tickets_open_at``, those whose due time then had passed."""
    return tickets_open_and_overdue_at(site_ids, at)[1]


def tickets_open_and_overdue_at(site_ids, at):
    """(open, overdue) as ``tickets_open_at`` and ``tickets_overdue_at``, from one statement."""
    due = _due_in_force(RepairEvent, RepairEvent.ticket_id, RepairTicket, at)
    return _open_and_overdue(site_ids, at, _tickets_open_stmt, due, RepairTicket.due_at)


def _open_and_overdue(site_ids, at, open_stmt, due_in_force, due_column):
    """({site_id: [id]}, {site_id: [id]}): the records open at ``at`` and, of those, the ones
    whose due time in force then had passed (the record's own due time if no event set one)."""
    site_ids = list(site_ids)
    if not site_ids:
        return {}, {}
    overdue = func.coalesce(due_in_force, due_column) < at
    rows = _run(open_stmt(site_ids, at).add_columns(overdue.label("overdue")))
    return (
        _ids_by_site(site_ids, [(site_id, rid) for site_id, rid, _late in rows]),
        _ids_by_site(site_ids, [(site_id, rid) for site_id, rid, late in rows if late]),
    )


def ticket_resolutions(site_ids, start, end, since=None, alive_at=None):
    """{site_id: [Resolution]}: every ticket with a resolve event in ``[start, end)``, once, from
    its report to its first resolution in the period (see the module doc), by resolution time.
    ``since``: only the first resolutions at or after it (the period's last day alone);
    ``alive_at``: the instant the tickets must still exist at, if not ``end`` (a running
    period's days that are over count the tickets that exist now)."""
    site_ids = list(site_ids)
    if not site_ids:
        return {}
    first = _first_in(RepairEvent, RepairEvent.ticket_id, "resolved", site_ids, start, end, since)
    began = _began(RepairEvent, RepairEvent.ticket_id, site_ids, select(first.c.owner_id))
    stmt = (
        select(RepairTicket.site_id, RepairTicket.id, began.c.began_at, first.c.first_at)
        .join(first, first.c.owner_id == RepairTicket.id)
        .join(began, began.c.owner_id == RepairTicket.id)
        .where(among(RepairTicket.site_id, site_ids), existed_at(RepairTicket, alive_at or end))
        .order_by(first.c.first_at, RepairTicket.id)
    )
    return _by_site(
        site_ids,
        (
            Resolution(sid, tid, _aware(a), _aware(b), hours_between(_aware(a), _aware(b)))
            for sid, tid, a, b in _run(stmt)
        ),
    )


# ---------------------------------------------------------------- cleaning issues


def _issue_candidates(site_ids, at):
    return _maybe_open(
        CleaningIssue, CLEANING_OPEN, CleaningIssueEvent, CleaningIssueEvent.issue_id, site_ids, at
    )


def _issues_open_stmt(site_ids, at):
    status = _status_at(CleaningIssueEvent, CleaningIssueEvent.issue_id, CleaningIssue, at)
    return (
        select(CleaningIssue.site_id, CleaningIssue.id)
        .where(
            among(CleaningIssue.site_id, site_ids),
            CleaningIssue.id.in_(_issue_candidates(site_ids, at)),
            status.in_(CLEANING_OPEN),
            existed_at(CleaningIssue, at),
        )
        .order_by(CleaningIssue.site_id, CleaningIssue.id)
    )


def cleaning_open_at(site_ids, at):
    """{site_id: [issue id]}: issues raised before ``at`` and open then (not fixed yet, or
    reopened since their fix), not deleted by then."""
    return cleaning_open_and_overdue_at(site_ids, at)[0]


def cleaning_overdue_at(site_ids, at):
    """{site_id: [issue id]}: of ``cleaning_open_at``, those whose due time then had passed."""
    return cleaning_open_and_overdue_at(site_ids, at)[1]


def cleaning_open_and_overdue_at(site_ids, at):
    """(open, overdue) as ``cleaning_open_at`` and ``cleaning_overdue_at``, from one statement."""
    due = _due_in_force(CleaningIssueEvent, CleaningIssueEvent.issue_id, CleaningIssue, at)
    return _open_and_overdue(site_ids, at, _issues_open_stmt, due, CleaningIssue.due_at)


def cleaning_fixes(site_ids, start, end, since=None, alive_at=None):
    """{site_id: [Fix]}: every issue with a fix in ``[start, end)``, once, from raising to its
    first fix in the period, with the due time in force at that fix; by fix time. ``since`` and
    ``alive_at`` as for ``ticket_resolutions``."""
    site_ids = list(site_ids)
    if not site_ids:
        return {}
    event = CleaningIssueEvent
    first = _first_in(event, event.issue_id, "fixed", site_ids, start, end, since)
    began = _began(event, event.issue_id, site_ids, select(first.c.owner_id))
    # The due time in force at the fix: the last due set by an event up to it (looked up per
    # fix through the issue's index; joined as a windowed subquery, SQLite compares every fix
    # with every issue's due rows).
    due = (
        select(event.due_at)
        .where(
            event.issue_id == CleaningIssue.id,
            event.due_at.is_not(None),
            event.at <= first.c.first_at,
        )
        .order_by(event.at.desc(), event.id.desc())
        .limit(1)
        .correlate(CleaningIssue, first)
        .scalar_subquery()
    )
    stmt = (
        select(
            CleaningIssue.site_id,
            CleaningIssue.id,
            began.c.began_at,
            first.c.first_at,
            func.coalesce(due, CleaningIssue.due_at),
        )
        .join(first, first.c.owner_id == CleaningIssue.id)
        .join(began, began.c.owner_id == CleaningIssue.id)
        .where(among(CleaningIssue.site_id, site_ids), existed_at(CleaningIssue, alive_at or end))
        .order_by(first.c.first_at, CleaningIssue.id)
    )
    fixes = []
    for sid, iid, raised, fixed, due_at in _run(stmt):
        raised, fixed, due_at = _aware(raised), _aware(fixed), _aware(due_at)
        fixes.append(
            Fix(sid, iid, raised, fixed, due_at, hours_between(raised, fixed), fixed > due_at)
        )
    return _by_site(site_ids, fixes)


# ---------------------------------------------------------------- roster


def _roster(site_ids, spell_clause):
    stmt = (
        select(
            StaffSpell.site_id,
            StaffSpell.staff_member_id,
            StaffMember.name,
            StaffMember.kind,
            StaffSpell.joined_at,
            StaffSpell.left_at,
        )
        .join(StaffMember, StaffMember.id == StaffSpell.staff_member_id)
        .where(among(StaffSpell.site_id, site_ids), spell_clause)
        .order_by(
            StaffSpell.site_id, StaffMember.name, StaffSpell.staff_member_id, StaffSpell.joined_at
        )
    )
    people = {}
    for sid, pid, name, kind, joined, left in _run(stmt):
        # A person with several spells in the period is one member; the latest spell is shown.
        people[(sid, pid)] = RosterMember(sid, pid, name, kind, _aware(joined), _aware(left))
    return _by_site(site_ids, people.values())


def _on_roster_during(start, end):
    return and_(
        StaffSpell.joined_at < end,
        or_(StaffSpell.left_at.is_(None), StaffSpell.left_at > start),
    )


def staff_on_roster(site_ids, start, end):
    """{site_id: [RosterMember]}: people on the site's roster at some time in ``[start, end)``
    (joined before ``end``, not left by ``start``), each once, by name."""
    site_ids = list(site_ids)
    if not site_ids:
        return {}
    return _roster(site_ids, _on_roster_during(start, end))


def staff_on_roster_counts(site_ids, start, end):
    """{site_id: n}: how many people ``staff_on_roster`` lists, counted by the database (the
    figure of every site needs no one's name)."""
    site_ids = list(site_ids)
    if not site_ids:
        return {}
    stmt = (
        select(StaffSpell.site_id, func.count(StaffSpell.staff_member_id.distinct()))
        .where(among(StaffSpell.site_id, site_ids), _on_roster_during(start, end))
        .group_by(StaffSpell.site_id)
    )
    found = dict(_run(stmt))
    return {sid: found.get(sid, 0) for sid in site_ids}


def staff_on_roster_at(site_ids, at):
    """{site_id: [RosterMember]}: people on the site's roster at the instant ``at``."""
    site_ids = list(site_ids)
    if not site_ids:
        return {}
    return _roster(
        site_ids,
        and_(
            StaffSpell.joined_at < at,
            or_(StaffSpell.left_at.is_(None), StaffSpell.left_at >= at),
        ),
    )


# ---------------------------------------------------------------- consumption


def servings(site_ids, start, end, kind=None):
    """{site_id: [Serving]}: the consumption-slip lines of the visits that arrived in
    ``[start, end)`` and were not deleted by ``end``, products withdrawn or deleted since
    included (with their name); ``kind`` "drink" / "snack" for one kind only. By arrival."""
    site_ids = list(site_ids)
    if not site_ids:
        return {}
    stmt = (
        select(
            ConsumptionLine.site_id,
            ConsumptionLine.id,
            ConsumptionLine.visit_id,
            Visit.arrived_at,
            Product.id,
            Product.name,
            Product.kind,
            Product.unit,
            ConsumptionLine.quantity,
            Product.withdrawn_at,
            Product.deleted_at,
        )
        .join(Visit, Visit.id == ConsumptionLine.visit_id)
        .join(Product, Product.id == ConsumptionLine.product_id)
        .where(
            among(ConsumptionLine.site_id, site_ids),
            Visit.arrived_at >= start,
            Visit.arrived_at < end,
            existed_at(Visit, end),
        )
        .order_by(Visit.arrived_at, ConsumptionLine.id)
    )
    if kind is not None:
        stmt = stmt.where(Product.kind == kind)
    rows = (
        Serving(
            sid,
            lid,
            vid,
            _aware(arrived),
            pid,
            name,
            pkind,
            unit,
            qty,
            withdrawn_at is not None or deleted_at is not None,
            _aware(withdrawn_at or deleted_at),
        )  # fmt: skip
        for sid, lid, vid, arrived, pid, name, pkind, unit, qty, withdrawn_at, deleted_at in _run(
            stmt
        )
    )
    return _by_site(site_ids, rows)


# ---------------------------------------------------------------- grooming


def grooming_scores(site_ids, start, end):
    """{site_id: [GroomingScore]}: the inspections of ``[start, end)`` with their exact score
    (share of the points passed; the stored ``score`` is rounded to a whole per cent and is
    only used for an inspection recorded without its points). By time."""
    site_ids = list(site_ids)
    if not site_ids:
        return {}
    passed = func.sum(case((GroomingResult.passed.is_(True), 1), else_=0))
    stmt = (
        select(
            GroomingInspection.site_id,
            GroomingInspection.id,
            GroomingInspection.staff_member_id,
            GroomingInspection.inspected_at,
            GroomingInspection.score,
            passed,
            func.count(GroomingResult.id),
        )
        .outerjoin(GroomingResult, GroomingResult.inspection_id == GroomingInspection.id)
        .where(
            among(GroomingInspection.site_id, site_ids),
            GroomingInspection.inspected_at >= start,
            GroomingInspection.inspected_at < end,
        )
        .group_by(
            GroomingInspection.site_id,
            GroomingInspection.id,
            GroomingInspection.staff_member_id,
            GroomingInspection.inspected_at,
            GroomingInspection.score,
        )
        .order_by(GroomingInspection.inspected_at, GroomingInspection.id)
    )
    scores = []
    for sid, iid, pid, at, stored, ok, judged in _run(stmt):
        if judged:
            scores.append(
                GroomingScore(sid, iid, pid, _aware(at), 100 * int(ok) / judged, int(ok), judged)
            )
        else:
            scores.append(GroomingScore(sid, iid, pid, _aware(at), float(stored), None, None))
    return _by_site(site_ids, scores)


def _aware(value):
    """Aggregates (min, coalesce) may come back without the column type's conversion (naive UTC
    text on SQLite): everything handed out is an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
