"""Cleaning rules: inspect the areas, open issues for failed ones, and the issue state
machine open → fixed → verified (or fixed → open again when the second look fails)."""

from datetime import timedelta

from portal import clock
from portal.i18n import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.errors import DomainError
from portal.extensions import db
from portal.models.cleaning import (
    DEFAULT_AREAS,
    CleaningArea,
    CleaningInspection,
    CleaningIssue,
    CleaningIssueEvent,
    CleaningResult,
)
from portal.services import audit
from portal.services import photos
from portal.models import StaffMember

INSPECT_ROLES = frozenset({"admin", "supervisor", "clerk", "security"})
FIX_ROLES = frozenset({"admin", "clerk", "security"})
ASSIGN_ROLES = frozenset({"admin", "supervisor", "clerk"})
DEFAULT_DUE = timedelta(hours=2)


def areas_of(site):
    stmt = (
        select(CleaningArea)
        .where(CleaningArea.site_id == site.id, CleaningArea.active.is_(True))
        .order_by(CleaningArea.position, CleaningArea.id)
    )
    return db.session.scalars(stmt).all()


def ensure_default_areas(site):
    """Give a site the standard areas the first time it is inspected."""
    areas = areas_of(site)
    if not areas:
        areas = [
            CleaningArea(site_id=site.id, name=name, position=i)
            for i, name in enumerate(DEFAULT_AREAS)
        ]
        db.session.add_all(areas)
        db.session.flush()
    return areas


def inspect(site, inspector, results, cleaner=None, due_at=None, note=None, at=None):
    """Record an inspection. ``results`` is [(area, passed, note)]; every failed area opens an
    issue for ``cleaner`` (a cleaner of the site) due at ``due_at``."""
    if inspector.role not in INSPECT_ROLES:
        raise DomainError(_l("Your role cannot record cleaning inspections."))
    if not results:
        raise DomainError(_l("Judge at least one area."))
    when = at or clock.now()
    if cleaner is not None and (cleaner.kind != "cleaner" or cleaner.site_id != site.id):
        raise DomainError(_l("Choose a cleaner of this site."))
    failed = [r for r in results if not r[1]]
    if failed and cleaner is None:
        raise DomainError(_l("Choose the cleaner who will fix the failed areas."))
    inspection = CleaningInspection(
        site_id=site.id, inspector=inspector, inspected_at=when, note=note or None
    )
    db.session.add(inspection)
    for area, passed, area_note in results:
        if area.site_id != site.id:
            raise DomainError(_l("Unknown area."))
        result = CleaningResult(
            site_id=site.id, area=area, passed=bool(passed), note=(area_note or None)
        )
        inspection.results.append(result)
        if not passed:
            open_issue(result, cleaner, due_at or when + DEFAULT_DUE, raised_at=when)
    db.session.flush()
    return inspection


def open_issue(result, cleaner, due_at, description=None, raised_at=None):
    """``raised_at``: the inspection's time (an inspection recorded afterwards, as the demo's
    week is, raises its issues then: the dashboard counts issues by the time they were raised
    and the hours to fix from it)."""
    issue = CleaningIssue(
        site_id=result.site_id,
        result=result,
        area=result.area,
        cleaner=cleaner,
        due_at=due_at,
        description=(description or result.note or str(result.area))[:500],
        status="open",
        created_at=raised_at or clock.now(),
    )
    db.session.add(issue)
    _event(issue, "raised", issue.created_at, None, due_at=due_at)
    return issue


def _event(issue, action, at, user, due_at=None, note=None):
    """The issue's history line, in the same transaction as the change it records."""
    event = CleaningIssueEvent(
        site_id=issue.site_id,
        issue=issue,
        at=at,
        user_id=user.id if user is not None else None,
        action=action,
        to_status=issue.status,
        due_at=due_at,
        note=(note or None) and note[:500],
    )
    db.session.add(event)
    return event


# Words of a checklist item that point to a standard area (the first area matching wins).
AREA_WORDS = {
    "Floor": ("地面", "floor"),
    "Glass": ("玻璃", "glass"),
    "Decorations": ("摆件", "装饰", "decoration"),
    "Restroom": ("卫生间", "洗手间", "restroom"),
    "Outdoor": ("室外", "outdoor"),
    "Slippers": ("拖鞋", "slipper"),
}


def cleaners_of(site):
    """The site's active cleaners, by name (the first is the default for a new issue)."""
    return db.session.scalars(
        select(StaffMember)
        .where(
            StaffMember.site_id == site.id,
            StaffMember.kind == "cleaner",
            StaffMember.active.is_(True),
        )
        .order_by(StaffMember.name, StaffMember.id)
    ).all()


def default_cleaner(site):
    """Who a new issue goes to when nobody chose: the site's only (or first) active cleaner."""
    cleaners = cleaners_of(site)
    return cleaners[0] if cleaners else None


def reassign(issue, cleaner, user):
    """The clerk or the supervisor gives a not yet verified issue to another cleaner of its site
    (the row change is audited; the audit line says who it went to)."""
    if user.role not in ASSIGN_ROLES:
        raise DomainError(_l("Only the clerk or the supervisor assigns a cleaning issue."))
    if issue.status == "verified":
        raise DomainError(_l("A verified issue is closed."))
    if (
        cleaner is None
        or cleaner.kind != "cleaner"
        or not cleaner.active
        or cleaner.site_id != issue.site_id
    ):
        raise DomainError(_l("Choose a cleaner of this site."))
    if cleaner.id == issue.cleaner_id:
        return issue
    issue.cleaner = cleaner
    db.session.flush()
    audit.record("assign", issue, summary=f"{issue} → {cleaner.name}")
    return issue


def area_for(site, text):
    """The site's area a text (e.g. a checklist item) is about; the first area when none matches."""
    areas = ensure_default_areas(site)
    text = (text or "").lower()
    return next((a for a in areas if any(w in text for w in AREA_WORDS.get(a.name, ()))), areas[0])


def open_issue_from_checklist(site, user, description, at=None):
    """A cleanliness item answered "no" on a checklist → a cleaning issue. An issue comes from a
    failed inspection result, so this records a one-area inspection by the user who answered."""
    if user.role not in INSPECT_ROLES:
        raise DomainError(_l("Your role cannot record cleaning inspections."))
    when = at or clock.now()
    description = (description or "").strip()[:500]
    inspection = CleaningInspection(
        site_id=site.id, inspector=user, inspected_at=when, note=description or None
    )
    result = CleaningResult(
        site_id=site.id, area=area_for(site, description), passed=False, note=description or None
    )
    inspection.results.append(result)
    db.session.add(inspection)
    issue = open_issue(result, default_cleaner(site), when + DEFAULT_DUE, raised_at=when)
    db.session.flush()
    return issue


PHOTO_OWNER = "cleaning_result"


def attach_result_photos(inspection, uploads, user):
    """Store checked photos (``uploads``: area id → [PreparedPhoto]) on the inspection's results."""
    by_area = {r.area_id: r for r in inspection.results}
    return [
        photos.store(p, inspection.site, PHOTO_OWNER, by_area[area_id].id, user)
        for area_id, prepared in uploads.items()
        if area_id in by_area
        for p in prepared
    ]


def photos_by_result(result_ids):
    """result id → [Photo], in one query."""
    return photos.photos_of_owners(PHOTO_OWNER, result_ids)


def _can_read_result_photo(result_id, user):
    return user.role in INSPECT_ROLES and db.session.get(CleaningResult, result_id) is not None


def _check_transition(issue, expected, message):
    if issue.status != expected:
        raise DomainError(message)


def mark_fixed(issue, user, note=None, at=None):
    """The clerk or security reports the area cleaned again."""
    if user.role not in FIX_ROLES:
        raise DomainError(_l("Only the clerk or security marks an issue fixed."))
    _check_transition(issue, "open", _l("Only an open issue can be marked fixed."))
    issue.status, issue.fixed_by_id, issue.fixed_at = "fixed", user.id, at or clock.now()
    issue.last_note = note or None
    _event(issue, "fixed", issue.fixed_at, user, note=note)
    return issue


def _check_second_look(issue, user):
    # The second look is a supervisor's, or another front-desk person's than the one who fixed it.
    if user.role in ("supervisor", "admin"):
        return
    if user.role in ("clerk", "security") and user.id != issue.fixed_by_id:
        return
    raise DomainError(
        _l("A supervisor or another colleague than the one who fixed it takes the second look.")
    )


def verify(issue, user, note=None, at=None):
    _check_transition(issue, "fixed", _l("Only a fixed issue can be verified."))
    _check_second_look(issue, user)
    issue.status, issue.verified_by_id, issue.verified_at = "verified", user.id, at or clock.now()
    issue.last_note = note or issue.last_note
    _event(issue, "verified", issue.verified_at, user, note=note)
    db.session.flush()
    audit.record("verify", issue, summary=str(issue))
    return issue


def reopen(issue, user, note, at=None):
    """The second look failed: back to open, with a new due time."""
    _check_transition(issue, "fixed", _l("Only a fixed issue can be reopened."))
    _check_second_look(issue, user)
    note = (note or "").strip()
    if not note:
        raise DomainError(_l("Say what is still not clean."))
    now = at or clock.now()
    issue.status, issue.fixed_by_id, issue.fixed_at = "open", None, None
    issue.reopen_count += 1
    issue.last_note = note[:500]
    issue.due_at = max(issue.due_at, now + DEFAULT_DUE)
    # The fix it undoes keeps its time in the history; the issue forgets it.
    _event(issue, "reopened", now, user, due_at=issue.due_at, note=note)
    return issue


def overdue_issues(now, site_ids=None, limit=100):
    """Open issues past their due time (in the session's scope; optionally only some sites)."""
    stmt = (
        select(CleaningIssue)
        .options(
            joinedload(CleaningIssue.area),
            joinedload(CleaningIssue.cleaner),
            joinedload(CleaningIssue.site),
        )
        .where(CleaningIssue.status == "open", CleaningIssue.due_at < now)
        .order_by(CleaningIssue.due_at)
    )
    if site_ids is not None:
        stmt = stmt.where(CleaningIssue.site_id.in_(list(site_ids)))
    return db.session.scalars(stmt.limit(limit)).all()


def issue_actions(issue, user):
    """Which transitions this user may take on the issue now (for the buttons)."""
    actions = []
    if issue.status == "open" and user.role in FIX_ROLES:
        actions.append("fix")
    if issue.status == "fixed":
        try:
            _check_second_look(issue, user)
        except DomainError:
            pass
        else:
            actions += ["verify", "reopen"]
    return actions


def _register_photo_owner():
    photos.register_owner(PHOTO_OWNER, _can_read_result_photo)


_register_photo_owner()
