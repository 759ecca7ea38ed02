"""Breaks: one tap to start or end one's own break; the supervisor's day view per person."""

from datetime import timedelta

from flask import current_app, flash, redirect, request, url_for
from portal import clock
from portal.i18n import lazy_gettext as _l
from flask_login import current_user

from portal.extensions import db
from portal.services import breaks, today
from portal.views.base import ALL_ROLES, PortalView, day_param, domain_errors, expose
from portal.views.roster import chosen_site, scoped_sites

OVERVIEW_ROLES = frozenset({"admin", "supervisor"})


class BreaksView(PortalView):
    read_roles = ALL_ROLES
    write_roles = ALL_ROLES

    @expose("/")
    def index(self):
        staff, current = breaks.staff_and_open_break(current_user)
        context = {
            "staff": staff,
            "current": current,
            "now": clock.now(),
            "limit_minutes": 10,
        }
        if staff is not None:
            context["mine"] = breaks.breaks_per_day(staff.site, clock.local_day(staff.site)).get(
                staff, []
            )
        if current_user.role in OVERVIEW_ROLES:
            sites = scoped_sites()
            site = chosen_site(sites)
            day = day_param(request.args.get("day"), clock.local_day(site))
            context.update(
                sites=sites,
                site=site,
                day=day,
                per_person=breaks.breaks_per_day(site, day),
                one_day=timedelta(days=1),
            )
        return self.render("breaks/index.html", **context)

    @expose("/start", methods=("POST",))
    def start(self):
        return self._tap(breaks.start, _l("Break started. At most 10 minutes."))

    @expose("/end", methods=("POST",))
    def end(self):
        return self._tap(breaks.end, _l("Break ended."))

    def _tap(self, fn, message):
        with domain_errors() as refused:
            log = fn(current_user)
        if refused:
            return current_app.response_class(self.index(), status=refused.status)
        db.session.commit()
        if log.ended_at and log.is_flagged():
            flash(_l("This break lasted more than 10 minutes."), "warning")
        else:
            flash(message, "success")
        return redirect(url_for(".index"))


def register(admin):
    admin.add_view(
        BreaksView(
            name=_l("Breaks"), category=_l("Staff on duty"), endpoint="breaks", url="/breaks"
        )
    )


def breaks_section(site, day, user):
    """Today section: the one-tap break button for the user's own staff record."""
    # The user's own staff record and running break: site records, kept per user.
    staff, current = today.kept(
        site, day, ("breaks", user.id), lambda: breaks.staff_and_open_break(user, site)
    )
    if staff is None:
        return None
    return {"staff": staff, "current": current, "site": site, "now": clock.now()}
