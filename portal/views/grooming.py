"""Grooming and conduct inspections: inspect a person, scores per site, history per person."""

from flask import abort, current_app, flash, redirect, request, url_for
from portal.i18n import lazy_gettext as _l, site_time
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from flask_admin.contrib.sqla.filters import FilterEqual
from wtforms import SelectField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from portal.models import GroomingInspection, GroomingPoint, StaffMember
from portal.models.grooming import GROOMING_POST_LABELS as POST_LABELS
from portal.models.grooming import GROOMING_POSTS
from portal.services import grooming
from portal.services import photos as photo_service
from portal.services import metrics as m
from portal.services.metrics import grooming as grooming_figures
from portal.views.base import (
    PortalView,
    ScopedModelView,
    domain_errors,
    expose,
    get_or_404,
    period_args,
    yes_no,
)
from portal.views.roster import scoped_sites

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
        errors, status, points = {}, 200, []
        with domain_errors() as refused:  # a post without points: nothing to inspect on
            points = grooming.points_of(person)
        if refused:
            status = refused.status
        elif request.method == "POST":
            results = []
            for point in points:
                value = request.form.get(f"point-{point.key}")
                if value not in ("pass", "fail"):
                    errors[point.key] = _l("Choose pass or fail.")
                results.append(
                    (
                        point.key,
                        value == "pass",
                        request.form.get(f"note-{point.key}", "").strip()[:500],
                    )
                )
            try:
                prepared = photo_service.inspect_all(request.files.getlist("photos"))
            except photo_service.UploadRejected as exc:
                errors["photos"] = exc.message
            if not errors:
                with domain_errors() as refused:
                    inspection = grooming.inspect(
                        person.site,
                        person,
                        current_user,
                        results,
                        note=request.form.get("note", "").strip(),
                        prepared_photos=prepared,
                    )
                    db.session.commit()
                if not refused:
                    flash(
                        _l("Inspection saved: score %(score)s%%.", score=inspection.score),
                        "success",
                    )
                    return redirect(url_for(".person", staff_id=person.id))
            status = refused.status if refused else 400
        body = self.render(
            "grooming/inspect.html",
            person=person,
            points=points,
            errors=errors,
            post_label=POST_LABELS[grooming.post_of(person)],
            accept=photo_service.ACCEPT,
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
        return self.render(
            "grooming/person.html",
            person=person,
            history=history,
            photos=grooming.inspection_photos(history),
        )


class GroomingPointView(ScopedModelView):
    """Head office's list of the points inspected at each post. Switch a point off rather than
    delete it: past results keep their own copy of the label either way."""

    read_roles = frozenset({"admin"})
    write_roles = frozenset({"admin"})
    delete_roles = frozenset()
    export_roles = frozenset({"admin"})
    column_list = ("post", "position", "key", "label", "active")
    column_export_list = column_list
    # Bookkeeping columns (created, updated, version) have no words for the reader here.
    column_details_list = column_list
    form_columns = ("post", "key", "label", "position", "active")
    column_default_sort = [("post", False), ("position", False)]
    column_sortable_list = ("post", "position")
    column_searchable_list = ("label",)
    column_filters = (
        FilterEqual(GroomingPoint.post, _l("Post"), options=lambda: list(POST_LABELS.items())),
    )
    column_labels = {
        "post": _l("Post"),
        "position": _l("Order"),
        "key": _l("Code"),
        "label": _l("Point"),
        "active": _l("Active"),
    }
    column_descriptions = {
        "key": _l("Short code in letters, unique per post (e.g. nails)."),
    }
    column_formatters = {
        "post": lambda v, c, m, n: POST_LABELS.get(m.post, m.post),
        "active": yes_no,
    }
    column_formatters_export = {"post": lambda v, c, m, n: POST_LABELS.get(m.post, m.post)}
    form_overrides = {"post": SelectField}
    form_args = {
        "post": {"choices": [(k, POST_LABELS[k]) for k in GROOMING_POSTS]},
        "key": {"validators": [DataRequired(), Regexp(r"^[a-z][a-z0-9_]{0,29}$")]},
        "label": {"validators": [DataRequired(), Length(max=200)]},
        "position": {"default": 1},
    }

    def on_model_change(self, form, model, is_created):
        with db.session.no_autoflush:  # the new row itself would be flushed into the clash
            taken = db.session.scalar(
                select(GroomingPoint.id).where(
                    GroomingPoint.post == model.post,
                    GroomingPoint.key == model.key,
                    GroomingPoint.id != (model.id or 0),
                )
            )
        if taken is not None:
            raise ValidationError(_l("This post already has a point with this code."))


def my_grooming_result():
    """The latest inspection of the signed-in person, with its photos, for their landing page
    (``grooming/_my_result.html``); None when they were never inspected."""
    if not current_user.is_authenticated:
        return None
    inspection, photos = grooming.latest_of_user(current_user)
    if inspection is None:
        return None
    return {
        "inspection": inspection,
        "failed": [r for r in inspection.results if not r.passed],
        "photos": photos,
        "when": site_time(inspection.inspected_at, inspection.site, "%Y-%m-%d %H:%M"),
    }


def register(admin):
    admin.add_view(
        GroomingView(
            name=_l("Grooming inspections"),
            category=_l("Staff on duty"),
            endpoint="grooming",
            url="/grooming",
        )
    )
    admin.add_view(
        GroomingPointView(
            GroomingPoint,
            name=_l("Grooming points"),
            category=_l("Staff on duty"),
            endpoint="groomingpoint",
        )
    )
    admin.app.add_template_global(my_grooming_result, "my_grooming_result")
