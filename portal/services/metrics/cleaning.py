"""Cleaning figures: issues open / overdue at the period's end and hours to fix, read from the
issues' histories (``period_facts``), and the month-end cleaning section."""

from flask_babel import gettext as _
from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from portal.extensions import db
from portal.models import CleaningArea, CleaningIssue
from portal.models.cleaning import area_name
from portal.services import metrics as m
from portal.services import period_facts as facts
from portal.services.scope import including_deleted


def overdue_clause(now=None):
    """Fixed after its due time, or still open past it now (the issue list's "Overdue" filter:
    today's state, not a period's)."""
    now = now or clock.now()
    return or_(
        CleaningIssue.fixed_at > CleaningIssue.due_at,
        and_(CleaningIssue.fixed_at.is_(None), CleaningIssue.due_at < now),
    )


def open_ids(site_ids, start, end, now=None):
    """{site_id: [issue id]}: issues open at the end of the period (now, while it runs)."""
    return m.open_at_end(facts.cleaning_open_and_overdue_at, site_ids, start, end, now)


def overdue_ids(site_ids, start, end, now=None):
    """{site_id: [issue id]}: of those, the ones past the due time in force then."""
    return m.overdue_at_end(facts.cleaning_open_and_overdue_at, site_ids, start, end, now)


def fixes(site_ids, start, end):
    return m.per_zone(site_ids, start, end, facts.cleaning_fixes)


def cleaning_open(site_ids, start, end):
    return {sid: len(ids) for sid, ids in open_ids(site_ids, start, end).items()}


def cleaning_overdue(site_ids, start, end):
    return {sid: len(ids) for sid, ids in overdue_ids(site_ids, start, end).items()}


def cleaning_hours_to_fix(site_ids, start, end):
    """Mean hours from raised to first fixed in the period, over the issues fixed in it."""
    return m.mean_hours_to_first(
        "cleaning_hours_to_fix",
        facts.cleaning_fixes,
        lambda fix: fix.fixed_at,
        site_ids,
        start,
        end,
    )


def _issues(ids):
    stmt = (
        select(
            CleaningIssue.id,
            CleaningArea.name,
            CleaningIssue.description,
            CleaningIssue.created_at,
            CleaningIssue.due_at,
        )
        .join(CleaningArea, CleaningArea.id == CleaningIssue.area_id)
        .where(CleaningIssue.id.in_(list(ids) or [-1]))
    )
    return {row.id: row for row in db.session.execute(including_deleted(stmt))}


def _state_records(overdue):
    def records(site_id, start, end):
        ((_ids, _lo, hi),) = m.zone_bounds([site_id], start, end)
        found = (overdue_ids if overdue else open_ids)([site_id], start, end)[site_id]
        issues = _issues(found)
        rows = [
            [
                area_name(issues[i].name),
                issues[i].description,
                m.local_time(issues[i].created_at, site_id),
                m.local_time(issues[i].due_at, site_id),
                m.local_time(m.judged_at(hi), site_id),
            ]
            for i in found
        ]
        return m.table(
            [_("Area"), _("Description"), _("Raised"), _("Due now"), _("Judged at")], rows, found
        )

    return records


def fix_records(site_id, start, end):
    found = fixes([site_id], start, end)[site_id]
    issues = _issues(f.issue_id for f in found)
    rows = [
        [
            area_name(issues[f.issue_id].name),
            issues[f.issue_id].description,
            m.local_time(f.raised_at, site_id),
            m.local_time(f.fixed_at, site_id),
            f"{f.hours:.2f}",
        ]
        for f in found
    ]
    return m.table(
        [_("Area"), _("Description"), _("Raised"), _("Fixed"), _("Hours")],
        rows,
        [f.issue_id for f in found],
    )


def register_figures():
    m.register_metric(
        "cleaning_open",
        _l("Cleaning issues still open"),
        _l("issues"),
        cleaning_open,
        better="lower",
        order=80,
        definition=_l(
            "Cleaning issues open at the end of the period on the site's clock (now, while the "
            "period runs): raised before then and not fixed by then, judged from the issue's "
            "history (an issue reopened later was still fixed then)."
        ),
        records=_state_records(False),
    )
    m.register_metric(
        "cleaning_overdue",
        _l("Cleaning issues overdue"),
        _l("issues"),
        cleaning_overdue,
        better="lower",
        order=81,
        definition=_l(
            "Of the cleaning issues open at the end of the period, those whose due time in "
            "force then had passed."
        ),
        records=_state_records(True),
    )
    m.register_metric(
        "cleaning_hours_to_fix",
        _l("Hours to fix a cleaning issue"),
        _l("hours"),
        cleaning_hours_to_fix,
        better="lower",
        order=82,
        decimals=1,
        short=_l("Cleaning fix hours"),
        definition=_l(
            "Mean hours from an issue being raised to its first fix in the period, over the "
            "issues fixed in the period (each once, even if reopened later)."
        ),
        records=fix_records,
    )


# ------------------------------------------------------------ month-end section


def cleaning_section(site_id, start, end):
    """The issues behind the cleaning figures, by area: open and overdue at the period's end,
    fixed in it with their mean hours (each column adds up to its figure)."""
    still_open = open_ids([site_id], start, end)[site_id]
    overdue = overdue_ids([site_id], start, end)[site_id]
    fixed = fixes([site_id], start, end)[site_id]
    issues = _issues(set(still_open) | {f.issue_id for f in fixed})
    areas = {}
    for i in still_open:
        areas.setdefault(area_name(issues[i].name), [0, 0, []])[0] += 1
    for i in overdue:
        areas[area_name(issues[i].name)][1] += 1
    for f in fixed:
        areas.setdefault(area_name(issues[f.issue_id].name), [0, 0, []])[2].append(f.micros)
    rows = [
        [
            area,
            n_open,
            n_overdue,
            len(micros),
            f"{facts.mean_hours(sum(micros), len(micros)):.1f}" if micros else "–",
        ]
        for area, (n_open, n_overdue, micros) in sorted(areas.items())
    ]
    return {
        "headers": [
            _("Area"),
            _("Open at period end"),
            _("Overdue at period end"),
            _("Fixed"),
            _("Hours to fix"),
        ],
        "rows": rows,
    }
