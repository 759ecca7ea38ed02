"""Damage confirmation forms (物品损坏确认单): the clerk files, the salesperson confirms or
disputes from his own login, the supervisor reviews; one click opens a repair ticket."""

from flask import abort, flash, redirect, request, url_for
from portal import clock
from portal.i18n import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload
from wtforms import (
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.errors import DomainError
from portal.extensions import db
from portal.models import DAMAGE_OUTCOMES, DamageReport, Item, ItemCheckLine, Site, User, Visit
from portal.services import damage as damage_service
from portal.services import inventory as inventory_service
from portal.services import photos as photo_service
from portal.services.metrics import damage as damage_figures
from portal.views.base import (
    PortalForm,
    PortalView,
    domain_errors,
    expose,
    get_or_404,
    period_args,
    show_refusal,
    site_choices_query,
)
from portal.views.inventory import ITEM_READERS, DiscrepancyView, item_choices
from portal.models.damage import STATUS_LABELS
from portal.views.repairs import PRIORITY_LABELS

READERS = frozenset({"admin", "supervisor", "clerk", "sales"})
OUTCOME_LABELS = {
    "waived": _l("Waived"),
    "compensated": _l("Compensated"),
    "written_off": _l("Written off / lost"),
    "pending": _l("Pending"),
}
LIST_FILTERS = {
    "open": _l("Open"),
    "pending": STATUS_LABELS["pending"],
    "answered": _l("Waiting for review"),
    "reviewed": STATUS_LABELS["reviewed"],
    "all": _l("All"),
}


class DamageForm(PortalForm):
    site = SelectField(_l("Site"), coerce=int, validators=[InputRequired()])
    visit = SelectField(
        _l("Recorded visit"),
        coerce=int,
        default=0,
        description=_l("Today and the last two days; its salesperson is asked to confirm."),
    )
    item = SelectField(_l("Item from the site's list"), coerce=int, default=0)
    equipment = StringField(
        _l("Damaged item or equipment"),
        validators=[Optional(), Length(max=200)],
        description=_l("Free text when the item is not on the list."),
    )
    location = StringField(_l("Location"), validators=[Optional(), Length(max=200)])
    visit_description = StringField(
        _l("The visit"),
        validators=[Optional(), Length(max=255)],
        description=_l(
            "Only when the visit is not recorded: e.g. family of three, toured show unit A"
        ),
    )
    visit_at = DateTimeLocalField(
        _l("Visit time"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    salesperson = SelectField(
        _l("Salesperson of the visit"),
        coerce=int,
        default=0,
        description=_l("Only when the recorded visit names no salesperson."),
    )
    line = HiddenField()  # the item-check discrepancy this report answers, if any
    description = TextAreaField(_l("What happened"), validators=[DataRequired(), Length(max=4000)])
    estimated_cost = DecimalField(
        _l("Estimated cost (CNY)"),
        places=2,
        validators=[Optional(), NumberRange(min=0, max=99999999)],
    )
    photos = MultipleFileField(_l("Photos"))


class AnswerForm(PortalForm):
    note = TextAreaField(_l("Remarks"), validators=[Optional(), Length(max=2000)])


class ReviewForm(PortalForm):
    outcome = SelectField(_l("Outcome"), choices=[(o, OUTCOME_LABELS[o]) for o in DAMAGE_OUTCOMES])
    quantity = IntegerField(
        _l("Quantity written off"),
        validators=[Optional(), NumberRange(min=1, max=100000)],
    )
    note = TextAreaField(_l("Review note"), validators=[Optional(), Length(max=2000)])


class RepairForm(PortalForm):
    priority = SelectField(
        _l("Priority"),
        choices=[(p, PRIORITY_LABELS[p]) for p in ("urgent", "high", "normal", "low")],
        default="normal",
    )


class DamageView(PortalView):
    read_roles = READERS
    write_roles = READERS

    @expose("/")
    def index(self):
        status = request.args.get("status") or (
            "pending" if current_user.role == "sales" else "open"
        )
        status = status if status in LIST_FILTERS else "open"
        # ?site= and ?start=&end= (local days the report was filed on): the dashboard's damage
        # figure drills in here with the same condition it counts with.
        site_id = request.args.get("site", type=int)
        start, end, errors = period_args(request.args)
        stmt = damage_service.visible_query(current_user).options(
            joinedload(DamageReport.site), joinedload(DamageReport.salesperson)
        )
        if status == "open":
            stmt = stmt.where(DamageReport.status != "reviewed")
        elif status == "answered":
            stmt = stmt.where(DamageReport.status.in_(("confirmed", "disputed")))
        elif status != "all":
            stmt = stmt.where(DamageReport.status == status)
        if site_id:
            stmt = stmt.where(DamageReport.site_id == site_id)
        if start is not None:
            stmt = stmt.where(damage_figures.reported_clause(start, end))
        limit = 1000 if start is not None else 200
        reports = db.session.scalars(stmt.order_by(DamageReport.id.desc()).limit(limit)).all()
        keep = {k: v for k, v in (("site", site_id), ("start", start), ("end", end)) if v}
        body = self.render(
            "damage/index.html",
            reports=reports,
            status=status,
            filters=LIST_FILTERS,
            status_labels=STATUS_LABELS,
            outcome_labels=OUTCOME_LABELS,
            keep=keep,
            sites=[(s.id, str(s)) for s in site_choices_query()],
            site_id=site_id,
            start=request.args.get("start", ""),
            end=request.args.get("end", ""),
            errors=errors,
            period=(start, end) if start is not None else None,
            can_file=current_user.role in damage_service.FILERS,
            page_title=_l("Damage reports"),
        )
        return (body, 400) if errors else body

    @expose("/new/", methods=("GET", "POST"))
    def new(self):
        if current_user.role not in damage_service.FILERS:
            abort(403)
        form = DamageForm()
        form.site.choices = [(s.id, str(s)) for s in site_choices_query()]
        if not form.site.choices:
            abort(403)
        if request.method == "GET":
            self._prefill(form)
        site_id = form.site.data if isinstance(form.site.data, int) else form.site.choices[0][0]
        form.site.data = site_id
        site = get_or_404(Site, site_id)  # ?site= of another site: 404, as everywhere
        self._choices(form, site)
        if form.validate_on_submit():
            try:
                prepared = photo_service.inspect_all(form.photos.data or [])
                report = damage_service.file_report(
                    site,
                    current_user,
                    form.equipment.data,
                    form.description.data,
                    db.session.get(User, form.salesperson.data) if form.salesperson.data else None,
                    form.visit_description.data,
                    clock.from_local(form.visit_at.data, site),
                    form.estimated_cost.data,
                    location=form.location.data,
                    item=db.session.get(Item, form.item.data) if form.item.data else None,
                    visit=db.session.get(Visit, form.visit.data) if form.visit.data else None,
                    photos=prepared,
                )
                line = self._line(form.line.data)
                if line is not None:
                    inventory_service.record_damage_report(line, report, current_user)
                db.session.commit()
            except photo_service.UploadRejected as exc:
                db.session.rollback()
                form.photos.errors = [exc.message]
            except DomainError as exc:
                show_refusal(exc, form)
            else:
                flash(
                    _l(
                        "Damage report %(report)s filed; "
                        "the salesperson has been asked to confirm.",
                        report=str(report),
                    ),
                    "success",
                )
                return redirect(url_for(".detail", report_id=report.id))
        # A visit or item of another site is not among the choices: say so plainly.
        if form.visit.errors:
            form.visit.errors = [_l("Choose a visit of this site.")]
        if form.item.errors:
            form.item.errors = [_l("Choose an item of this site.")]
        if request.method == "GET" and not form.visit_at.data:
            # Default: now, on the site's wall clock (the form field is naive local time).
            form.visit_at.data = clock.local_now(site).replace(second=0, microsecond=0, tzinfo=None)
        status = 400 if request.method == "POST" else 200
        return self.render(
            "damage/new.html",
            form=form,
            accept=photo_service.ACCEPT,
            page_title=_l("New damage report"),
        ), status

    def _prefill(self, form):
        """?site=, or ?item= with ?line= (one click from an item-check discrepancy)."""
        item = (
            get_or_404(Item, request.args.get("item", type=int))
            if request.args.get("item")
            else None
        )
        if item is not None:
            form.site.data, form.item.data, form.location.data = (
                item.site_id,
                item.id,
                item.location,
            )
        else:
            form.site.data = request.args.get("site", type=int)
        form.line.data = request.args.get("line", type=int) or ""

    def _choices(self, form, site):
        people = damage_service.salesperson_choices(site) if site else []
        form.salesperson.choices = [(0, _l("— the visit's salesperson —"))] + [
            (u.id, str(u)) for u in people
        ]
        visits = damage_service.recent_visits(site) if site else []
        form.visit.choices = [(0, _l("— not recorded —"))] + [
            (v.id, damage_service.visit_label(v, site.timezone)) for v in visits
        ]
        form.item.choices = item_choices(site, _l("— not on the list —"))

    def _line(self, line_id):
        """The discrepancy to record the report on: only for those who deal with discrepancies."""
        if not (line_id or "").isdigit() or current_user.role not in DiscrepancyView.write_roles:
            return None
        return get_or_404(ItemCheckLine, int(line_id))

    def _report(self, report_id):
        report = get_or_404(DamageReport, report_id)
        if not damage_service.can_read(report.id, current_user):
            abort(404)
        return report

    @expose("/<int:report_id>/")
    def detail(self, report_id):
        return self._detail(self._report(report_id))

    def _detail(self, report, forms=None, status=200, error=None):
        forms = forms or {}
        user = current_user
        can_answer = report.status == "pending" and report.salesperson_id == user.id
        can_review = user.role in damage_service.REVIEWERS and (
            report.status in ("confirmed", "disputed")
            or (report.status == "reviewed" and report.outcome in damage_service.REVIEWABLE_AGAIN)
        )
        can_repair = user.role in damage_service.FILERS and report.repair_ticket_id is None
        return self.render(
            "damage/detail.html",
            report=report,
            error=error,
            status_labels=STATUS_LABELS,
            outcome_labels=OUTCOME_LABELS,
            photos=photo_service.photos_of(damage_service.OWNER_TYPE, report.id),
            answer_form=forms.get("answer") or (AnswerForm(formdata=None) if can_answer else None),
            review_form=forms.get("review") or (ReviewForm(formdata=None) if can_review else None),
            repair_form=forms.get("repair") or (RepairForm(formdata=None) if can_repair else None),
            item_link=current_user.role in ITEM_READERS,
            page_title=f"{_l('Damage report')} {report}",
        ), status

    def _do(self, report, form_key, form, fn):
        if not form.validate():
            return self._detail(report, {form_key: form}, 400)
        with domain_errors(flash_message=False) as refused:
            result = fn()
            db.session.commit()
        if refused:
            return self._detail(
                self._report(report.id), {form_key: form}, refused.status, error=refused.message
            )
        return result

    @expose("/<int:report_id>/confirm", methods=("POST",))
    def confirm(self, report_id):
        return self._answer(report_id, "confirm")

    @expose("/<int:report_id>/dispute", methods=("POST",))
    def dispute(self, report_id):
        return self._answer(report_id, "dispute")

    def _answer(self, report_id, how):
        report = self._report(report_id)
        if report.salesperson_id != current_user.id:
            abort(403)
        form = AnswerForm()
        fn = damage_service.confirm if how == "confirm" else damage_service.dispute
        result = self._do(report, "answer", form, lambda: fn(report, current_user, form.note.data))
        if not isinstance(result, DamageReport):
            return result
        flash(_l("Thank you, your answer has been recorded."), "success")
        return redirect(url_for(".detail", report_id=report.id))

    @expose("/<int:report_id>/review", methods=("POST",))
    def review(self, report_id):
        report = self._report(report_id)
        if current_user.role not in damage_service.REVIEWERS:
            abort(403)
        form = ReviewForm()
        result = self._do(
            report,
            "review",
            form,
            lambda: damage_service.review(
                report, current_user, form.outcome.data, form.note.data, form.quantity.data
            ),
        )
        if not isinstance(result, DamageReport):
            return result
        flash(_l("Review recorded."), "success")
        return redirect(url_for(".detail", report_id=report.id))

    @expose("/<int:report_id>/repair", methods=("POST",))
    def open_repair(self, report_id):
        report = self._report(report_id)
        if current_user.role not in damage_service.FILERS:
            abort(403)
        form = RepairForm()
        result = self._do(
            report,
            "repair",
            form,
            lambda: damage_service.open_repair_ticket(report, current_user, form.priority.data),
        )
        if isinstance(result, tuple):
            return result
        flash(_l("Repair ticket %(ticket)s opened.", ticket=str(result)), "success")
        return redirect(url_for("repairs.detail", ticket_id=result.id))


def register(admin):
    admin.add_view(DamageView(name=_l("Damage reports"), endpoint="damage", url="/damage"))
