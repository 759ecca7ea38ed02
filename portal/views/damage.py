"""Damage confirmation forms (物品损坏确认单): the clerk files, the salesperson confirms or
disputes from his own login, the supervisor reviews; one click opens a repair ticket."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, request, url_for
from markupsafe import escape  # user text inside a lazy message, which renders as markup
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload
from wtforms import DateTimeLocalField, DecimalField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.extensions import db
from portal.models import DAMAGE_OUTCOMES, DamageReport, Site, User
from portal.services import damage as damage_service
from portal.services import photos as photo_service
from portal.services import repairs
from portal.views.base import PortalView, expose, get_or_404, site_choices_query
from portal.views.repairs import PRIORITY_LABELS

READERS = frozenset({"admin", "supervisor", "clerk", "sales"})
STATUS_LABELS = {"pending": _l("Waiting for the salesperson"), "confirmed": _l("Confirmed by the salesperson"),
                 "disputed": _l("Disputed by the salesperson"), "reviewed": _l("Reviewed")}
OUTCOME_LABELS = {"waived": _l("Waived"), "compensated": _l("Compensated"), "pending": _l("Pending")}
LIST_FILTERS = {"open": _l("Open"), "pending": STATUS_LABELS["pending"], "answered": _l("Waiting for review"),
                "reviewed": STATUS_LABELS["reviewed"], "all": _l("All")}


class DamageForm(FlaskForm):
    site = SelectField(_l("Site"), coerce=int, validators=[InputRequired()])
    equipment = StringField(_l("Damaged item or equipment"), validators=[DataRequired(), Length(max=200)])
    location = StringField(_l("Location"), validators=[Optional(), Length(max=200)])
    visit_description = StringField(_l("The visit"), validators=[DataRequired(), Length(max=255)],
                                    description=_l("e.g. family of three, toured show unit A"))
    visit_at = DateTimeLocalField(_l("Visit time"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    salesperson = SelectField(_l("Salesperson of the visit"), coerce=int, validators=[InputRequired()])
    description = TextAreaField(_l("What happened"), validators=[DataRequired(), Length(max=4000)])
    estimated_cost = DecimalField(_l("Estimated cost (CNY)"), places=2,
                                  validators=[Optional(), NumberRange(min=0, max=99999999)])
    photos = MultipleFileField(_l("Photos"))


class AnswerForm(FlaskForm):
    note = TextAreaField(_l("Remarks"), validators=[Optional(), Length(max=2000)])


class ReviewForm(FlaskForm):
    outcome = SelectField(_l("Outcome"), choices=[(o, OUTCOME_LABELS[o]) for o in DAMAGE_OUTCOMES])
    note = TextAreaField(_l("Review note"), validators=[Optional(), Length(max=2000)])


class RepairForm(FlaskForm):
    priority = SelectField(_l("Priority"), choices=[(p, PRIORITY_LABELS[p]) for p in ("urgent", "high", "normal",
                                                                                      "low")], default="normal")


class DamageView(PortalView):
    read_roles = READERS
    write_roles = READERS

    @expose("/")
    def index(self):
        status = request.args.get("status") or ("pending" if current_user.role == "sales" else "open")
        status = status if status in LIST_FILTERS else "open"
        stmt = damage_service.visible_query(current_user).options(
            joinedload(DamageReport.site), joinedload(DamageReport.salesperson))
        if status == "open":
            stmt = stmt.where(DamageReport.status != "reviewed")
        elif status == "answered":
            stmt = stmt.where(DamageReport.status.in_(("confirmed", "disputed")))
        elif status != "all":
            stmt = stmt.where(DamageReport.status == status)
        reports = db.session.scalars(stmt.order_by(DamageReport.id.desc()).limit(200)).all()
        return self.render("damage/index.html", reports=reports, status=status, filters=LIST_FILTERS,
                           status_labels=STATUS_LABELS, outcome_labels=OUTCOME_LABELS,
                           can_file=current_user.role in damage_service.FILERS, page_title=_l("Damage reports"))

    @expose("/new/", methods=("GET", "POST"))
    def new(self):
        if current_user.role not in damage_service.FILERS:
            abort(403)
        form = DamageForm()
        form.site.choices = [(s.id, str(s)) for s in site_choices_query()]
        if not form.site.choices:
            abort(403)
        site_id = form.site.data if request.method == "POST" else (request.args.get("site", type=int)
                                                                   or form.site.choices[0][0])
        form.site.data = site_id
        site = db.session.get(Site, site_id) if isinstance(site_id, int) else None
        people = damage_service.salesperson_choices(site) if site else []
        form.salesperson.choices = [(u.id, str(u)) for u in people]
        if form.validate_on_submit():
            try:
                prepared = photo_service.inspect_all(form.photos.data or [])
                report = damage_service.file_report(
                    site, current_user, form.equipment.data, form.description.data,
                    db.session.get(User, form.salesperson.data), form.visit_description.data,
                    damage_service.as_utc(form.visit_at.data, site.timezone), form.estimated_cost.data,
                    location=form.location.data, photos=prepared)
                db.session.commit()
            except photo_service.UploadRejected as exc:
                db.session.rollback()
                form.photos.errors = [exc.message]
            except repairs.RepairError as exc:
                db.session.rollback()
                if exc.status == 403:
                    abort(403)
                form.form_errors.append(exc.message)
            else:
                flash(_l("Damage report %(report)s filed; the salesperson has been asked to confirm.",
                         report=escape(str(report))), "success")
                return redirect(url_for(".detail", report_id=report.id))
        if request.method == "GET" and site is not None:
            # Default: now, on the site's wall clock (the form field is naive local time).
            local = datetime.now(ZoneInfo(site.timezone)).replace(second=0, microsecond=0, tzinfo=None)
            form.visit_at.data = local
        status = 400 if request.method == "POST" else 200
        return self.render("damage/new.html", form=form, accept=photo_service.ACCEPT,
                           page_title=_l("New damage report")), status

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
            report.status in ("confirmed", "disputed") or (report.status == "reviewed" and report.outcome == "pending"))
        can_repair = user.role in damage_service.FILERS and report.repair_ticket_id is None
        return self.render(
            "damage/detail.html", report=report, error=error, status_labels=STATUS_LABELS,
            outcome_labels=OUTCOME_LABELS, photos=photo_service.photos_of(damage_service.OWNER_TYPE, report.id),
            answer_form=forms.get("answer") or (AnswerForm(formdata=None) if can_answer else None),
            review_form=forms.get("review") or (ReviewForm(formdata=None) if can_review else None),
            repair_form=forms.get("repair") or (RepairForm(formdata=None) if can_repair else None),
            page_title=f"{_l('Damage report')} {report}"), status

    def _do(self, report, form_key, form, fn):
        if not form.validate():
            return self._detail(report, {form_key: form}, 400)
        try:
            result = fn()
            db.session.commit()
        except repairs.RepairError as exc:
            db.session.rollback()
            if exc.status == 403:
                abort(403)
            return self._detail(self._report(report.id), {form_key: form}, 400, error=exc.message)
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
        result = self._do(report, "review", form,
                          lambda: damage_service.review(report, current_user, form.outcome.data, form.note.data))
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
        result = self._do(report, "repair", form,
                          lambda: damage_service.open_repair_ticket(report, current_user, form.priority.data))
        if isinstance(result, tuple):
            return result
        flash(_l("Repair ticket %(ticket)s opened.", ticket=escape(str(result))), "success")
        return redirect(url_for("repairs.detail", ticket_id=result.id))


def register(admin):
    admin.add_view(DamageView(name=_l("Damage reports"), endpoint="damage", url="/damage"))
