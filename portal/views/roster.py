"""Shift roster pages: the week plan with gaps and "copy last week", and the shift list."""

from datetime import datetime, timedelta

from flask import flash, redirect, request, url_for
from flask_admin.contrib.sqla.filters import FilterEqual
from portal import clock
from portal.i18n import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from flask_admin.form import DateTimeField
from wtforms import SelectField
from wtforms.validators import DataRequired
from wtforms.validators import ValidationError

from portal.extensions import db
from portal.models import POSTS, Shift, Site
from portal.services import roster, today
from portal.services import sites as site_life
from portal.views.base import PortalView, ScopedModelView, day_param, expose, options_of
from flask import abort

FRONT_ROLES = frozenset({"admin", "supervisor", "clerk", "security"})
PLAN_ROLES = frozenset({"admin", "supervisor"})
POST_LABELS = {"reception": _l("Reception"), "door": _l("Door / security")}


def scoped_sites():
    """The active sites the user works with, by code (the scope filters the query)."""
    return db.session.scalars(
        select(Site).where(site_life.taking_records()).order_by(Site.code)
    ).all()


def chosen_site(sites=None, site_id=None):
    """The site named by ?site= (or the form), else the user's first site; 404 if out of scope."""
    sites = sites if sites is not None else scoped_sites()
    wanted = site_id if site_id is not None else request.values.get("site", type=int)
    if wanted is None:
        return sites[0] if sites else abort(404)
    for site in sites:
        if site.id == wanted:
            return site
    abort(404)


def _parse_day(value, default):
    return day_param(value, default)


class RosterView(PortalView):
    read_roles = FRONT_ROLES
    write_roles = PLAN_ROLES

    @expose("/")
    def index(self):
        sites = scoped_sites()
        site = chosen_site(sites)
        day = _parse_day(request.args.get("week"), clock.local_day(site))
        monday = roster.week_start(site, day)
        start, _ = clock.day_bounds(monday, site)
        shifts = roster.shifts_between(site, start, start + timedelta(days=7))
        days = [monday + timedelta(days=i) for i in range(7)]
        grid = {(d, p): [] for d in days for p in POSTS}
        for s in shifts:
            grid[(clock.local_day(site, s.starts_at), s.post)].append(s)
        gaps = {d: roster.gaps(site, d) for d in days}
        return self.render(
            "roster/week.html",
            site=site,
            sites=sites,
            days=days,
            grid=grid,
            gaps=gaps,
            posts=POSTS,
            post_labels=POST_LABELS,
            monday=monday,
            data=on_duty_section(site, day, current_user),
            can_plan=self.can_write(),
            prev_week=monday - timedelta(days=7),
            next_week=monday + timedelta(days=7),
        )

    @expose("/copy", methods=("POST",))
    def copy(self):
        if not self.can_write():
            abort(403)
        site = chosen_site()
        monday = roster.week_start(
            site, _parse_day(request.form.get("week"), clock.local_day(site))
        )
        created = roster.copy_last_week(site, monday)
        db.session.commit()
        flash(_l("%(n)s shifts copied from last week.", n=len(created)), "success")
        return redirect(url_for(".index", site=site.id, week=monday.isoformat()))


def _post_label(view, context, model, name):
    return POST_LABELS.get(model.post, model.post)


class ShiftView(ScopedModelView):
    read_roles = FRONT_ROLES
    write_roles = PLAN_ROLES
    delete_roles = PLAN_ROLES
    column_list = ("site", "post", "staff_member", "starts_at", "ends_at")
    column_details_list = ("site", "post", "staff_member", "starts_at", "ends_at", "created_at")
    column_export_list = ("site", "post", "staff_member", "starts_at", "ends_at")
    form_columns = ("site", "post", "staff_member", "starts_at", "ends_at")
    column_select_related_list = (Shift.site, Shift.staff_member)
    column_sortable_list = ("starts_at",)
    column_default_sort = ("starts_at", True)
    column_filters = (
        FilterEqual(Shift.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)),
        FilterEqual(Shift.post, _l("Post"), options=lambda: list(POST_LABELS.items())),
    )
    column_labels = {
        "site": _l("Site"),
        "post": _l("Post"),
        "staff_member": _l("Staff member"),
        "starts_at": _l("Starts"),
        "ends_at": _l("Ends"),
        "created_at": _l("Created at"),
    }
    column_formatters = {
        "post": _post_label,
    }
    column_formatters_detail = column_formatters
    column_formatters_export = column_formatters
    form_overrides = {"post": SelectField, "starts_at": DateTimeField, "ends_at": DateTimeField}
    form_args = {
        "post": {"choices": list(POST_LABELS.items())},
        "starts_at": {
            "description": _l("Site-local time, e.g. 2026-12-01 09:00"),
            "format": "%Y-%m-%d %H:%M",
            "validators": [DataRequired()],
        },
        "ends_at": {
            "description": _l("Site-local time, e.g. 2026-12-01 09:00"),
            "format": "%Y-%m-%d %H:%M",
            "validators": [DataRequired()],
        },
    }

    def on_model_change(self, form, model, is_created):
        # The form gives site-local wall-clock times; store aware UTC.
        for name in ("starts_at", "ends_at"):
            value = getattr(model, name)
            if isinstance(value, datetime):
                setattr(model, name, clock.from_local(value, model.site))
        if model.ends_at <= model.starts_at:
            raise ValidationError(str(_l("The shift must end after it starts.")))
        if model.staff_member is not None and model.staff_member.site_id != model.site.id:
            raise ValidationError(str(_l("This person is not on the roster of this site.")))

    def on_form_prefill(self, form, id):
        shift = self.get_one(id)
        form.starts_at.data = clock.to_local(shift.starts_at, shift.site).replace(tzinfo=None)
        form.ends_at.data = clock.to_local(shift.ends_at, shift.site).replace(tzinfo=None)

    def delete_model(self, model):
        model.soft_delete()
        db.session.commit()
        return True


def register(admin):
    group = _l("Shifts and handover")
    admin.add_view(RosterView(name=_l("Roster"), category=group, endpoint="roster", url="/roster"))
    admin.add_view(ShiftView(Shift, name=_l("Shifts"), category=group, endpoint="shift"))


def on_duty_section(site, day, user):
    """Today section: who is on duty now at the site (from the day's shifts, kept)."""
    shifts = today.kept(site, day, "roster.shifts_of_day", lambda: roster.shifts_of_day(site, day))
    return {
        "site": site,
        "shifts": roster.running_at(shifts, clock.now()),
        "post_labels": POST_LABELS,
    }
