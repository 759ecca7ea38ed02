"""Grooming and conduct inspections: inspect a person, scores per site, history per person."""

from flask import abort, current_app, flash, redirect, request, url_for
from portal.i18n import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import GROOMING_POINTS, GroomingInspection, StaffMember
from portal.services import grooming
from portal.services import metrics as m
from portal.services.metrics import grooming as grooming_figures
from portal.views.base import PortalView, expose, get_or_404, period_args
from portal.views.roster import local, scoped_sites

INSPECTED_KINDS = ("clerk", "security")


class GroomingView(PortalView):
    read_roles = frozenset({"admin", "supervisor"})
    write_roles = grooming.INSPECT_ROLES

    @expose("/")
    def index(self):
        sites = scoped_sites()
        # ?site= narrows the history to one site (an id outside the scope simply finds nothing);
        # ?start=&end= (local days) to one period: the dashboard's grooming score drills in here,
        # and the site's card then shows that very figure (same provider, same period).
        only_site = request.args.get("site", type=int)
        start, end, errors = period_args(request.args)
        stmt = (
            select(GroomingInspection)
            .options(
                joinedload(GroomingInspection.staff_member),
                joinedload(GroomingInspection.site),
                joinedload(GroomingInspection.inspector),
            )
            .order_by(GroomingInspection.inspected_at.desc())
        )
        if only_site:
            stmt = stmt.where(GroomingInspection.site_id == only_site)
        if start is not None:
            with m.zone_cache():
                in_period = m.in_period(
                    GroomingInspection.inspected_at, GroomingInspection.site_id, start, end
                )
                averages = self._period_averages([s.id for s in sites], start, end, in_period)
                recent = db.session.scalars(stmt.where(in_period).limit(1000)).all()
        else:
            averages = grooming.average_scores()
            recent = db.session.scalars(stmt.limit(30)).all()
        people = (
            select(StaffMember)
            .options(joinedload(StaffMember.site))
            .where(StaffMember.kind.in_(INSPECTED_KINDS), StaffMember.active.is_(True))
        )
        if only_site:  # looking at one site: its people to inspect, not every site's
            people = people.where(StaffMember.site_id == only_site)
        people = db.session.scalars(people.order_by(StaffMember.site_id, StaffMember.name)).all()
        body = self.render(
            "grooming/index.html",
            sites=sites,
            averages=averages,
            recent=recent,
            people=people,
            local=local,
            only_site=only_site,
            period=(start, end) if start is not None else None,
            errors=errors,
        )
        return current_app.response_class(body, status=400 if errors else 200)

    @staticmethod
    def _period_averages(site_ids, start, end, in_period):
        """{site_id: (score as the dashboard shows it, inspections)} over the period."""
        scores = grooming_figures.grooming_score(site_ids, start, end)
        counts = dict(
            db.session.execute(
                select(GroomingInspection.site_id, func.count())
                .where(in_period)
                .group_by(GroomingInspection.site_id)
            ).all()
        )
        return {sid: (f"{score:.1f}", counts.get(sid, 0)) for sid, score in scores.items()}

    @expose("/inspect/<staff_id>", methods=("GET", "POST"))
    def inspect(self, staff_id):
        if not self.can_write():
            abort(403)
        person = get_or_404(StaffMember, staff_id)
        errors, status = {}, 200
        if request.method == "POST":
            results = []
            for key, _label in GROOMING_POINTS:
                value = request.form.get(f"point-{key}")
                if value not in ("pass", "fail"):
                    errors[key] = _l("Choose pass or fail.")
                results.append(
                    (key, value == "pass", request.form.get(f"note-{key}", "").strip()[:500])
                )
            if not errors:
                inspection = grooming.inspect(
                    person.site,
                    person,
                    current_user,
                    results,
                    note=request.form.get("note", "").strip(),
                )
                db.session.commit()
                flash(_l("Inspection saved: score %(score)s%%.", score=inspection.score), "success")
                return redirect(url_for(".person", staff_id=person.id))
            status = 400
        body = self.render(
            "grooming/inspect.html", person=person, points=GROOMING_POINTS, errors=errors
        )
        return current_app.response_class(body, status=status)

    @expose("/person/<staff_id>")
    def person(self, staff_id):
        person = get_or_404(StaffMember, staff_id)
        history = (
            db.session.scalars(
                select(GroomingInspection)
                .options(
                    joinedload(GroomingInspection.results), joinedload(GroomingInspection.inspector)
                )
                .where(GroomingInspection.staff_member_id == person.id)
                .order_by(GroomingInspection.inspected_at.desc())
                .limit(50)
            )
            .unique()
            .all()
        )
        return self.render("grooming/person.html", person=person, history=history, local=local)


def register(admin):
    admin.add_view(
        GroomingView(
            name=_l("Grooming inspections"),
            category=_l("Staff on duty"),
            endpoint="grooming",
            url="/grooming",
        )
    )
