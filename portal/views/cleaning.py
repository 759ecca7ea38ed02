"""Cleaning pages: inspect the areas, follow the issues (fix, verify, reopen), areas per site."""

from datetime import timedelta
from functools import cache

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin.contrib.sqla.filters import FilterEqual
from portal import clock
from portal.i18n import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from portal.services.metrics import cleaning as cleaning_figures
from portal.views.audit import LocalDateBetweenFilter
from portal.views.dashboard import ClauseFilter
from portal.extensions import db
from portal.models import (
    CleaningArea,
    CleaningInspection,
    CleaningIssue,
    CleaningResult,
    Site,
    StaffMember,
)
from portal.models.cleaning import STATUS_LABELS, area_name
from portal.services import cleaning
from portal.services import photos as photo_service
from portal.services import today
from portal.views.base import (
    PortalView,
    ScopedModelView,
    as_id,
    domain_errors,
    expose,
    get_or_404,
    options_of,
)
from portal.views.roster import chosen_site, scoped_sites

FRONT_ROLES = frozenset({"admin", "supervisor", "clerk", "security"})
DUE_CHOICES = (
    (1, _l("In 1 hour")),
    (2, _l("In 2 hours")),
    (4, _l("In 4 hours")),
    (24, _l("Tomorrow")),
)


def area_label(area):
    """Standard area names are translated; names a site typed in are shown as typed."""
    return area_name(area.name)


def _cleaners(site):
    return cleaning.cleaners_of(site)


class CleaningView(PortalView):
    read_roles = FRONT_ROLES
    write_roles = cleaning.INSPECT_ROLES

    @expose("/")
    def index(self, status=200, site_id=None):
        sites = scoped_sites()
        site = chosen_site(sites, site_id)
        now = clock.now()
        issues = db.session.scalars(
            select(CleaningIssue)
            .options(joinedload(CleaningIssue.area), joinedload(CleaningIssue.cleaner))
            .where(CleaningIssue.site_id == site.id, CleaningIssue.status.in_(("open", "fixed")))
            .order_by(CleaningIssue.due_at)
            .limit(100)
        ).all()
        inspections = (
            db.session.scalars(
                select(CleaningInspection)
                .options(
                    joinedload(CleaningInspection.inspector),
                    joinedload(CleaningInspection.results).joinedload(CleaningResult.area),
                )
                .where(CleaningInspection.site_id == site.id)
                .order_by(CleaningInspection.inspected_at.desc())
                .limit(10)
            )
            .unique()
            .all()
        )
        result_ids = {i.result_id for i in issues if i.result_id} | {
            r.id for ins in inspections for r in ins.results
        }
        body = self.render(
            "cleaning/index.html",
            site=site,
            sites=sites,
            issues=issues,
            inspections=inspections,
            result_photos=cleaning.photos_by_result(result_ids),
            now=now,
            actions=lambda i: cleaning.issue_actions(i, current_user),
            cleaners=_cleaners(site) if current_user.role in cleaning.ASSIGN_ROLES else [],
            area_label=area_label,
            status_labels=STATUS_LABELS,
            overdue=cleaning.overdue_issues(now)
            if current_user.role in ("admin", "supervisor")
            else [],
        )
        return body if status == 200 else current_app.response_class(body, status=status)

    @expose("/inspect", methods=("GET", "POST"))
    def inspect(self):
        if not self.can_write():
            abort(403)
        site = chosen_site()
        areas = cleaning.areas_of(site)
        cleaners = _cleaners(site)
        errors, status = {}, 200
        if request.method == "POST":
            results, errors = self._read_results(areas)
            uploads = self._read_photos(areas, errors)
            cleaner = next((c for c in cleaners if str(c.id) == request.form.get("cleaner")), None)
            hours = {str(h): h for h, _label in DUE_CHOICES}.get(request.form.get("due_hours", "2"))
            if hours is None:  # a forged value: -1 h, or years that overflow the date
                errors["due_hours"] = _l("Choose when the failed areas must be fixed.")
            if not errors:
                with domain_errors(flash_message=False) as refused:
                    inspection = cleaning.inspect(
                        site,
                        current_user,
                        results,
                        cleaner=cleaner,
                        due_at=clock.now() + timedelta(hours=hours),
                        note=request.form.get("note", "").strip(),
                    )
                    db.session.flush()
                    cleaning.attach_result_photos(inspection, uploads, current_user)
                if refused:
                    errors["cleaner"] = refused.message
                else:
                    db.session.commit()
                    failed = inspection.failed_count
                    flash(
                        _l("Inspection saved; %(n)s issues opened.", n=failed)
                        if failed
                        else _l("Inspection saved; everything is clean."),
                        "success",
                    )
                    return redirect(url_for(".index", site=site.id))
            status = 400
        body = self.render(
            "cleaning/inspect.html",
            site=site,
            areas=areas,
            cleaners=cleaners,
            errors=errors,
            due_choices=DUE_CHOICES,
            area_label=area_label,
            accept=photo_service.ACCEPT,
        )
        return current_app.response_class(body, status=status)

    def _read_photos(self, areas, errors):
        """area id → checked photos (optional, one or more per area); a rejected file → error on
        that area."""
        uploads = {}
        for area in areas:
            try:
                uploads[area.id] = photo_service.inspect_all(
                    request.files.getlist(f"photo-{area.id}")
                )
            except photo_service.UploadRejected as exc:
                errors[f"area-{area.id}"] = exc.message
        return uploads

    def _read_results(self, areas):
        results, errors = [], {}
        for area in areas:
            value = request.form.get(f"area-{area.id}")
            if value not in ("pass", "fail"):
                errors[f"area-{area.id}"] = _l("Choose pass or fail.")
                continue
            note = request.form.get(f"note-{area.id}", "").strip()[:500]
            if value == "fail" and not note:
                errors[f"area-{area.id}"] = _l("Say what is not clean.")
            results.append((area, value == "pass", note))
        return results, errors

    @expose("/issue/<id>/assign", methods=("POST",))
    def assign(self, id):
        """The clerk or the supervisor gives the issue to another cleaner of its site."""
        issue = get_or_404(CleaningIssue, id)
        if current_user.role not in cleaning.ASSIGN_ROLES:
            abort(403)
        wanted = request.form.get("cleaner", "")
        cleaner = db.session.get(StaffMember, as_id(wanted)) if wanted else None
        with domain_errors() as refused:
            cleaning.reassign(issue, cleaner, current_user)
        if refused:  # nothing written (domain_errors rolled back); the page with the reason
            return self.index(status=refused.status, site_id=issue.site_id)
        db.session.commit()
        flash(_l("Assigned to %(name)s.", name=cleaner.name), "success")
        return redirect(url_for(".index", site=issue.site_id))

    @expose("/issue/<id>/<step>", methods=("POST",))
    def transition(self, id, step):
        issue = get_or_404(CleaningIssue, id)
        steps = {"fix": cleaning.mark_fixed, "verify": cleaning.verify, "reopen": cleaning.reopen}
        if step not in steps:
            abort(404)
        if current_user.role not in FRONT_ROLES:
            abort(403)
        with domain_errors() as refused:
            if step == "reopen":
                cleaning.reopen(issue, current_user, request.form.get("note"))
            else:
                steps[step](issue, current_user, request.form.get("note"))
        if refused:  # the page again with the reason on top
            return self.index(status=refused.status, site_id=issue.site_id)
        db.session.commit()
        flash(
            {"fix": _l("Marked fixed."), "verify": _l("Verified."), "reopen": _l("Reopened.")}[
                step
            ],
            "success",
        )
        return redirect(url_for(".index", site=issue.site_id))


class CleaningAreaView(ScopedModelView):
    read_roles = FRONT_ROLES
    write_roles = frozenset({"admin", "supervisor"})
    delete_roles = frozenset({"admin"})
    column_list = ("site", "name", "position", "active")
    column_details_list = ("site", "name", "position", "active", "created_at")
    column_export_list = ("site", "name", "position", "active")
    form_columns = ("site", "name", "position", "active")
    column_select_related_list = (CleaningArea.site,)
    column_sortable_list = ("position",)
    column_filters = (
        FilterEqual(CleaningArea.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)),
    )
    column_labels = {
        "site": _l("Site"),
        "name": _l("Area"),
        "position": _l("Order"),
        "active": _l("Active"),
        "created_at": _l("Created at"),
    }
    column_formatters = {"name": lambda v, c, m, n: area_label(m)}


class CleaningIssueView(ScopedModelView):
    """All cleaning issues; their state changes on the cleaning page only."""

    read_roles = FRONT_ROLES
    _creatable = False
    _editable = False
    column_list = ("site", "area", "description", "cleaner", "due_at", "status")
    column_details_list = (
        "site",
        "area",
        "description",
        "cleaner",
        "due_at",
        "status",
        "fixed_by",
        "fixed_at",
        "verified_by",
        "verified_at",
        "reopen_count",
        "last_note",
    )
    column_export_list = (
        "site",
        "area",
        "description",
        "cleaner",
        "due_at",
        "status",
        "fixed_at",
        "verified_at",
    )
    column_select_related_list = (CleaningIssue.site, CleaningIssue.area, CleaningIssue.cleaner)
    column_sortable_list = ("due_at",)
    column_default_sort = ("due_at", True)
    column_filters = (
        FilterEqual(
            CleaningIssue.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)
        ),
        FilterEqual(
            CleaningIssue.status, _l("Status"), options=lambda: list(STATUS_LABELS.items())
        ),
        # For the dashboard's drill-downs (portal.services.metrics.cleaning).
        LocalDateBetweenFilter(CleaningIssue.created_at, _l("Raised")),
        LocalDateBetweenFilter(CleaningIssue.fixed_at, _l("Fixed")),
        ClauseFilter(lambda: cleaning_figures.overdue_clause(), _l("Overdue")),
        # For the landing page's "waiting for you" (portal.services.waiting).
        ClauseFilter(lambda: CleaningIssue.cleaner_id.is_(None), _l("No cleaner")),
    )
    column_labels = {
        "site": _l("Site"),
        "area": _l("Area"),
        "description": _l("Description"),
        "cleaner": _l("Cleaner"),
        "due_at": _l("Due"),
        "status": _l("Status"),
        "fixed_by": _l("Fixed by"),
        "fixed_at": _l("Fixed at"),
        "verified_by": _l("Verified by"),
        "verified_at": _l("Verified at"),
        "reopen_count": _l("Reopened"),
        "last_note": _l("Note"),
    }
    _fmt = {
        "area": lambda v, c, m, n: area_label(m.area),
        "status": lambda v, c, m, n: STATUS_LABELS.get(m.status, m.status),
    }
    column_formatters = _fmt
    column_formatters_export = _fmt

    def delete_model(self, model):
        model.soft_delete()
        db.session.commit()
        return True


def register(admin):
    group = _l("Cleaning")
    admin.add_view(
        CleaningView(
            name=_l("Cleaning inspections"), category=group, endpoint="cleaning", url="/cleaning"
        )
    )
    admin.add_view(
        CleaningIssueView(
            CleaningIssue, name=_l("Cleaning issues"), category=group, endpoint="cleaning_issue"
        )
    )
    admin.add_view(
        CleaningAreaView(
            CleaningArea, name=_l("Cleaning areas"), category=group, endpoint="cleaning_area"
        )
    )


@cache  # built once, run with parameters (HACKING.md, "Statements built once")
def _open_issues_stmt():
    return (
        select(CleaningIssue)
        .options(joinedload(CleaningIssue.area), joinedload(CleaningIssue.cleaner))
        .where(
            CleaningIssue.site_id == bindparam("site_id"),
            CleaningIssue.status.in_(("open", "fixed")),
        )
        .order_by(CleaningIssue.due_at)
        .limit(20)
    )


def cleaning_section(site, day, user):
    """Today section: the site's open cleaning issues, overdue ones first and marked."""
    now = clock.now()
    issues = today.kept(
        site,
        day,
        "cleaning.open_issues",
        lambda: db.session.scalars(_open_issues_stmt(), {"site_id": site.id}).all(),
    )
    if not issues:
        return None
    return {
        "site": site,
        "issues": issues,
        "now": now,
        "area_label": area_label,
        "status_labels": STATUS_LABELS,
    }
