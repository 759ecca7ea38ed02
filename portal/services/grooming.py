"""Grooming and conduct inspections: each point pass/fail, score = % of points passed."""

from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import func, select

from portal.errors import DomainError
from portal.extensions import db
from portal.models.grooming import GROOMING_POINTS, GroomingInspection, GroomingResult

INSPECT_ROLES = frozenset({"admin", "supervisor"})


def score_of(results):
    """Per cent of points passed, rounded (0 when nothing was judged)."""
    results = list(results)
    return (
        round(100 * sum(1 for _, passed, _ in results if passed) / len(results)) if results else 0
    )


def inspect(site, staff_member, inspector, results, note=None, at=None):
    """``results`` is [(point_key, passed, note)] over the procedure's points; returns the
    inspection."""
    if inspector.role not in INSPECT_ROLES:
        raise DomainError(_l("Only a supervisor inspects grooming and conduct."))
    if staff_member.site_id != site.id:
        raise DomainError(_l("This person is not on the roster of this site."))
    keys = [key for key, _ in GROOMING_POINTS]
    given = {key: (passed, point_note) for key, passed, point_note in results}
    if set(given) != set(keys):
        raise DomainError(_l("Judge every point."))
    ordered = [(key, given[key][0], given[key][1]) for key in keys]
    inspection = GroomingInspection(
        site_id=site.id,
        staff_member=staff_member,
        inspector=inspector,
        inspected_at=at or clock.now(),
        score=score_of(ordered),
        note=note or None,
    )
    for key, passed, point_note in ordered:
        inspection.results.append(
            GroomingResult(
                site_id=site.id, point=key, passed=bool(passed), note=(point_note or None)
            )
        )
    db.session.add(inspection)
    return inspection


def average_scores(site_ids=None):
    """{site_id: (average score, inspections)} over the session's scope."""
    stmt = select(
        GroomingInspection.site_id, func.avg(GroomingInspection.score), func.count()
    ).group_by(GroomingInspection.site_id)
    if site_ids is not None:
        stmt = stmt.where(GroomingInspection.site_id.in_(list(site_ids)))
    return {sid: (round(float(avg)), n) for sid, avg, n in db.session.execute(stmt)}
