"""Checklist figures: opening and closing checklists completed on time.

Every counted day of the period (from the site's opening day) expects one opening and one
closing checklist: a day without a run is a miss, and so is a run marked done with no item
answered. On time is "by" the deadline on the site's wall clock: 10:00:00 itself is on time."""

from datetime import time

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models.base import among
from portal.models import ChecklistRun
from portal.services import metrics as m


# "On time": the opening checklist done by 10:00, the closing one by 18:00 (site-local).
DEADLINES = {"opening": time(10, 0), "closing": time(18, 0)}
KIND_LABELS = {"opening": _l("Opening"), "closing": _l("Closing")}


def deadline(kind, day, zone=clock.DEFAULT_ZONE):
    return clock.local_at(day, DEADLINES[kind], zone)


def is_on_time(status, completed_at, answered, due):
    """Done, with at least one item answered (``answered``: the run's completion percent, fixed
    when it was completed), by ``due`` (``deadline``: on the site's wall clock, the deadline
    itself included)."""
    return status == "done" and answered > 0 and completed_at is not None and completed_at <= due


def _best_runs(site_ids, start, end):
    """{(site_id, day, kind): (day, kind, run id, status, completed_at, answered, on time)}: the
    best run of each site, day and kind of ``start..end`` (on time first, then done, then the
    first recorded)."""
    stmt = select(
        ChecklistRun.site_id,
        ChecklistRun.day,
        ChecklistRun.kind,
        ChecklistRun.id,
        ChecklistRun.status,
        ChecklistRun.completed_at,
        ChecklistRun.completion,
    ).where(
        among(ChecklistRun.site_id, site_ids),
        ChecklistRun.kind.in_(tuple(DEADLINES)),
        ChecklistRun.day >= start,
        ChecklistRun.day <= end,
    )
    zones = m.site_zones()
    deadlines = {}  # (kind, day, zone): the same few dozen instants for every site of a zone
    runs = {}
    for sid, day, kind, rid, status, done_at, answered in db.session.execute(stmt):
        zone = zones.get(sid, clock.DEFAULT_ZONE)
        due = deadlines.get((kind, day, zone))
        if due is None:
            due = deadlines[(kind, day, zone)] = deadline(kind, day, zone)
        answered = answered or 0
        ok = is_on_time(status, done_at, answered, due)
        row = (day, kind, rid, status, done_at, answered, ok)
        best = runs.get((sid, day, kind))
        if best is None or (ok, status == "done", -rid) > (best[6], best[3] == "done", -best[2]):
            runs[(sid, day, kind)] = row
    return runs


def checklist_days(site_ids, start, end, now=None):
    """{site_id: [(day, kind, run id | None, status, completed_at, answered, on time)]}: one row
    per counted day and kind (the best run of the day when there are several; a missing run is
    a row without one). Today counts for a kind once that checklist is done."""
    days = m.counted_days(site_ids, start, end, now)
    runs = _best_runs(site_ids, start, end)
    result = {}
    for sid in site_ids:
        today = m.today_of(sid, now)
        rows = []
        for day in days[sid]:
            for kind in DEADLINES:
                rows.append(runs.get((sid, day, kind), (day, kind, None, None, None, 0, False)))
        for kind in DEADLINES:
            run = runs.get((sid, today, kind))
            if run and start <= today <= end and today not in days[sid] and run[3] == "done":
                rows.append(run)
        # Already in order: the counted days are sorted and end yesterday, kinds in
        # ``DEADLINES`` order, today's rows last.
        result[sid] = rows
    return result


def _on_time_by_day(site_ids, first, last, zone):
    """{(site_id, day): (checklists on time, checklists run)} of every day, counted or not (the
    site's spells are applied when the days are added up)."""
    found = {}
    for (sid, day, _kind), row in _best_runs(site_ids, first, last).items():
        hits, runs = found.get((sid, day), (0, 0))
        found[(sid, day)] = (hits + row[6], runs + 1)
    return found


def checklists_on_time(site_ids, start, end):
    """% of the expected opening and closing checklists done by their deadline."""
    return m.duty_on_time(
        "checklists_on_time",
        site_ids,
        start,
        end,
        _on_time_by_day,
        checklist_days,
        lambda row: row[6],
        per_day=len(DEADLINES),
    )


def checklist_records(site_id, start, end):
    zone = m.zone_of(site_id)
    rows, ids, marks = [], [], []
    for day, kind, rid, status, done_at, answered, ok in checklist_days([site_id], start, end)[
        site_id
    ]:
        # The drill-down shows the misses at a glance: no run at all, or a run not done in time.
        if rid is None:
            verdict, mark = _("Missing: no checklist run"), "missing"
        elif ok:
            verdict, mark = _("On time"), None
        elif status != "done":
            verdict, mark = _("Not done"), "missing"
        elif not answered:
            verdict, mark = _("Not done: no item answered"), "missing"
        else:
            verdict, mark = _("Late"), "late"
        marks.append(mark)
        rows.append(
            [
                day.isoformat(),
                str(KIND_LABELS.get(kind, kind)),
                f"{deadline(kind, day, zone):%H:%M:%S}",
                m.local_time(done_at, site_id),
                f"{answered}%",
                verdict,
                1 if ok else 0,
            ]
        )
        ids.append(rid or f"missing-{day.isoformat()}-{kind}")
    return m.table(
        [
            _("Day"),
            _("Kind"),
            _("Deadline"),
            _("Completed at"),
            _("Share of items answered"),
            _("Result"),
            _("On time"),
        ],
        rows,
        ids,
        marks,
    )


def register_figures():
    m.register_metric(
        "checklists_on_time",
        _l("Checklists done on time (opening by 10:00, closing by 18:00)"),
        "%",
        checklists_on_time,
        better="higher",
        order=50,
        decimals=0,
        short=_l("Checklists on time"),
        definition=_l(
            "Share of the expected checklists done by their deadline on the site's clock "
            "(opening by 10:00:00, closing by 18:00:00, the deadline itself included). Every "
            "day of the period from the site's opening day expects one of each (today once it "
            "is done); a day without a run, a run not done and a run done with no item "
            "answered count as missed."
        ),
        records=checklist_records,
    )
