"""Grooming and conduct inspections: each point pass/fail, score = % of points passed. The
points come from head office's list for the post of the person inspected (front desk,
security); a result keeps its point's label, so editing the list never rewrites history."""

from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.errors import DomainError
from portal.extensions import db
from portal.models import Photo, StaffMember
from portal.models.grooming import (
    DEFAULT_GROOMING_POINTS,
    GROOMING_POSTS,
    GroomingInspection,
    GroomingPoint,
    GroomingResult,
)
from portal.services import photos

INSPECT_ROLES = frozenset({"admin", "supervisor"})
# Photos of an inspection (portal/services/photos.py): evidence where paper had it.
PHOTO_OWNER = "grooming_inspection"


def score_of(results):
    """Per cent of points passed, rounded (0 when nothing was judged)."""
    results = list(results)
    return (
        round(100 * sum(1 for _, passed, _ in results if passed) / len(results)) if results else 0
    )


def post_of(staff_member):
    """The post whose points apply to this person: their staff kind; anyone else inspected (a
    salesperson standing in at the desk) is judged on the front desk's points."""
    return staff_member.kind if staff_member.kind in GROOMING_POSTS else "clerk"


def points_for(post):
    """The active points of a post, in head office's order. A post head office has no list for
    at all (a database made without the migration's defaults) gets the built-in list."""
    rows = db.session.scalars(
        select(GroomingPoint)
        .where(GroomingPoint.post == post)
        .order_by(GroomingPoint.position, GroomingPoint.id)
    ).all()
    if not rows:
        return default_points(post)
    return [p for p in rows if p.active]


def default_points(post):
    """The built-in points of a post, as rows not yet added (the demo seeds them)."""
    return [
        GroomingPoint(post=post, key=key, label=str(label), position=n, active=True)
        for n, (key, label) in enumerate(DEFAULT_GROOMING_POINTS.get(post, ()), start=1)
    ]


def points_of(staff_member):
    """The points to inspect this person on; refused when their post has none."""
    points = points_for(post_of(staff_member))
    if not points:
        raise DomainError(
            _l("Head office has set no grooming points for this person's post."), status=422
        )
    return points


def inspect(site, staff_member, inspector, results, note=None, at=None, prepared_photos=()):
    """``results`` is [(point_key, passed, note)] over the active points of the person's post;
    ``prepared_photos`` from ``photos.inspect_all`` (already checked). Returns the inspection."""
    if inspector.role not in INSPECT_ROLES:
        raise DomainError(_l("Only a supervisor inspects grooming and conduct."))
    if staff_member.site_id != site.id:
        raise DomainError(_l("This person is not on the roster of this site."))
    points = points_of(staff_member)
    given = {key: (passed, point_note) for key, passed, point_note in results}
    if set(given) != {p.key for p in points}:
        raise DomainError(_l("Judge every point."))
    ordered = [(p, given[p.key][0], given[p.key][1]) for p in points]
    inspection = GroomingInspection(
        site_id=site.id,
        staff_member=staff_member,
        inspector=inspector,
        inspected_at=at or clock.now(),
        score=score_of((p.key, passed, n) for p, passed, n in ordered),
        note=note or None,
    )
    for point, passed, point_note in ordered:
        inspection.results.append(
            GroomingResult(
                site_id=site.id,
                point=point.key,
                point_label=point.label,
                passed=bool(passed),
                note=(point_note or None),
            )
        )
    db.session.add(inspection)
    if prepared_photos:
        db.session.flush()  # the photos name the inspection by id
        for prepared in prepared_photos:
            photos.store(prepared, site, PHOTO_OWNER, inspection.id, inspector)
    return inspection


def inspection_photos(inspections):
    """{inspection id: [Photo]} (one query)."""
    return photos.photos_of_owners(PHOTO_OWNER, [i.id for i in inspections])


def latest_of_user(user):
    """(latest inspection of the person this login is, its photos): (None, []) when they were
    never inspected. Two queries whatever the data (the landing page's query count stays
    constant): the inspection with its results, then its photos."""
    inspection = None
    if user is not None and getattr(user, "id", None):
        inspection = (
            db.session.scalars(
                select(GroomingInspection)
                .join(GroomingInspection.staff_member)
                .where(StaffMember.user_id == user.id)
                .options(
                    joinedload(GroomingInspection.results),
                    joinedload(GroomingInspection.inspector),
                    joinedload(GroomingInspection.site),
                )
                .order_by(GroomingInspection.inspected_at.desc(), GroomingInspection.id.desc())
                .limit(1)
            )
            .unique()
            .first()
        )
    found = db.session.scalars(
        select(Photo)
        .where(
            Photo.owner_type == PHOTO_OWNER,
            Photo.owner_id == (inspection.id if inspection is not None else 0),
        )
        .order_by(Photo.id)
    ).all()
    return inspection, found


def _can_read_photo(inspection_id, user):
    # The site scope already hid other sites' inspections; beyond it, supervisors and head
    # office, or the person inspected.
    inspection = db.session.get(GroomingInspection, inspection_id)
    if inspection is None:
        return False
    if user.role in INSPECT_ROLES:
        return True
    return inspection.staff_member.user_id == user.id


photos.register_owner(PHOTO_OWNER, _can_read_photo)


def average_scores(site_ids=None):
    """{site_id: (average score, inspections)} over the session's scope."""
    stmt = select(
        GroomingInspection.site_id, func.avg(GroomingInspection.score), func.count()
    ).group_by(GroomingInspection.site_id)
    if site_ids is not None:
        stmt = stmt.where(GroomingInspection.site_id.in_(list(site_ids)))
    return {sid: (round(float(avg)), n) for sid, avg, n in db.session.execute(stmt)}
