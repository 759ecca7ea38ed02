"""Grooming figures: the mean inspection score, and the month-end grooming section. Scores are
the exact share of the points passed (``period_facts.grooming_scores``), averaged unrounded and
rounded once, for display."""

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db
from portal.models import StaffMember
from portal.services import metrics as m
from portal.services import period_facts as facts
from portal.services.scope import including_deleted


def scores(site_ids, start, end):
    return m.per_zone(site_ids, start, end, facts.grooming_scores)


def grooming_score(site_ids, start, end):
    """Mean exact score (0–100) of the grooming inspections of the period."""
    return {
        sid: facts.mean(s.score for s in found)
        for sid, found in scores(site_ids, start, end).items()
        if found
    }


def _names(found):
    ids = {s.staff_member_id for s in found} or {-1}
    stmt = select(StaffMember.id, StaffMember.name).where(StaffMember.id.in_(ids))
    return dict(db.session.execute(including_deleted(stmt)).all())


def grooming_records(site_id, start, end):
    found = scores([site_id], start, end)[site_id]
    names = _names(found)
    rows = [
        [
            m.local_time(s.inspected_at, site_id),
            names.get(s.staff_member_id, ""),
            "–" if s.points_judged is None else f"{s.points_passed} / {s.points_judged}",
            f"{s.score:.2f}",
        ]
        for s in found
    ]
    return m.table(
        [_("Inspected at"), _("Full name"), _("Points passed"), _("Score")],
        rows,
        [s.inspection_id for s in found],
    )


def register_figures():
    m.register_metric(
        "grooming_score",
        _l("Grooming score"),
        _l("points"),
        grooming_score,
        better="higher",
        order=90,
        decimals=1,
        definition=_l(
            "Mean score (0–100) of the grooming inspections of the period, each inspection's "
            "score being the exact share of its points passed; rounded once, for display."
        ),
        records=grooming_records,
    )


# ------------------------------------------------------------ month-end section


def grooming_section(site_id, start, end):
    """Per person: inspections, exact average and lowest score; the inspections weighted by
    their number average to the key figure."""
    found = scores([site_id], start, end)[site_id]
    names = _names(found)
    people = {}
    for s in found:
        people.setdefault(names.get(s.staff_member_id, ""), []).append(s.score)
    rows = [
        [name, len(values), f"{facts.mean(values):.1f}", f"{min(values):.1f}"]
        for name, values in sorted(people.items())
    ]
    return {
        "headers": [_("Full name"), _("Inspections"), _("Average score"), _("Lowest score")],
        "rows": rows,
    }
