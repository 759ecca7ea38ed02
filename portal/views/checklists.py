"""Checklists: templates and runs (admin lists) and the one-page run a clerk fills on a tablet."""

from flask import abort, flash, g, has_request_context, redirect, request, url_for
from flask_admin.contrib.sqla.filters import (
    DateBetweenFilter,
    DateEqualFilter,
    FilterInList,
    FilterEqual,
    IntEqualFilter,
)
from flask_admin.model.form import InlineFormAdmin
from flask_babel import gettext as _
from portal import clock
from portal.i18n import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import ValidationError

from portal.errors import DomainError
from portal.extensions import db
from portal.models import (
    CHECKLIST_KINDS,
    ITEM_KINDS,
    ChecklistAnswer,
    ChecklistFollowUp,
    ChecklistItem,
    ChecklistRun,
    ChecklistTemplate,
    Item,
    Site,
    TICKET_PRIORITIES,
)
from portal.models.repairs import PRIORITY_LABELS
from portal.services import checklists as svc
from portal.services import photos as photo_service
from portal.services import scope
from portal.services import today
from portal.services import sites as site_life
from portal.views.base import (
    PortalForm,
    PortalView,
    ScopedModelView,
    domain_errors,
    expose,
    get_or_404,
    options_of,
)
from portal.views.base import yes_no

KIND_LABELS = {
    "opening": _l("Opening"),
    "closing": _l("Closing"),
    "grooming": _l("Grooming"),
    "custom": _l("Custom"),
}
ITEM_KIND_LABELS = {
    "yes_no": _l("Yes / no"),
    "number": _l("Number"),
    "text": _l("Text"),
    "photo": _l("Photo required"),
}
STATUS_LABELS = {"open": _l("Under way"), "done": _l("Complete")}
# Who fills in checklists: the clerk, security at the door (opening/closing only), head office.
RUNNER_ROLES = frozenset({"admin", "clerk", "security"})
# Who marks a follow-up as done: the supervisor, or the clerk who saw it fixed.
FOLLOW_UP_CLOSERS = frozenset({"admin", "supervisor", "clerk"})


class EnglishFilterUrls:
    """Filter URLs named after the column (``?flt0_site_equals=1``), whatever the UI language:
    Flask-Admin derives them from the label, and a Chinese label leaves only "_equals"."""

    named_filter_urls = True

    def get_filter_arg(self, index, flt):
        name = type(flt).__name__
        operation = "between" if "Between" in name else "in_list" if "InList" in name else "equals"
        return f"{flt.column.key.removesuffix('_id')}_{operation}"


def _template_name(run):
    # A deleted (hidden) template leaves its past runs: they still list and export.
    return run.template.name if run.template is not None else "—"


def _label(labels, attr):
    return lambda v, c, m, n: labels.get(getattr(m, attr), getattr(m, attr))


class ItemInline(InlineFormAdmin):
    form_columns = ("id", "position", "label", "kind", "active")
    form_label = _l("Check items")
    column_labels = {
        "position": _l("Order"),
        "label": _l("Question"),
        "kind": _l("Answer type"),
        "active": _l("Active"),
    }
    form_overrides = {"kind": SelectField}
    form_args = {
        "kind": {
            "choices": [(k, ITEM_KIND_LABELS[k]) for k in ITEM_KINDS],
            "label": _l("Answer type"),
        },
        "label": {"label": _l("Question")},
        "position": {"label": _l("Order")},
        "active": {"label": _l("Active")},
    }


class ChecklistTemplateView(EnglishFilterUrls, ScopedModelView):
    read_roles = frozenset({"admin", "supervisor"})
    write_roles = frozenset({"admin", "supervisor"})
    delete_roles = frozenset({"admin"})
    column_list = ("name", "kind", "site", "active", "updated_at")
    column_details_list = (
        "name",
        "kind",
        "site",
        "active",
        "description",
        "items",
        "created_at",
        "updated_at",
    )
    column_export_list = ("name", "kind", "site", "active")
    form_columns = ("name", "kind", "site", "active", "description")
    inline_models = (ItemInline(ChecklistItem),)
    column_select_related_list = (ChecklistTemplate.site,)
    column_sortable_list = ("name",)
    column_default_sort = ("name", False)
    column_searchable_list = ("name",)
    column_filters = (
        FilterEqual(ChecklistTemplate.kind, _l("Kind"), options=lambda: list(KIND_LABELS.items())),
        IntEqualFilter(
            ChecklistTemplate.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)
        ),
    )
    column_labels = {
        "name": _l("Name"),
        "kind": _l("Kind"),
        "site": _l("Site (empty: all sites)"),
        "active": _l("Active"),
        "description": _l("Description"),
        "items": _l("Check items"),
        "created_at": _l("Created at"),
        "updated_at": _l("Updated at"),
    }
    column_formatters = {
        "active": yes_no,
        "kind": _label(KIND_LABELS, "kind"),
        "site": lambda v, c, m, n: m.site or _("All sites"),
        "items": lambda v, c, m, n: Markup("<ol class='mb-0'>%s</ol>")
        % Markup("").join(
            Markup("<li>%s <span class='text-muted'>(%s)</span></li>")
            % (i.label, ITEM_KIND_LABELS.get(i.kind, i.kind))
            for i in m.items
        ),
    }
    form_overrides = {"kind": SelectField}
    form_args = {
        "kind": {"choices": [(k, KIND_LABELS[k]) for k in CHECKLIST_KINDS]},
        # The empty choice is a template for every site; without a text select2 shows its
        # value, "__None".
        "site": {"blank_text": _l("All sites")},
    }

    # A template shared by every site is head office's: a supervisor can read it but not change it
    # (the site scope refuses the save), so he is offered no edit of it; out of reach → 404.
    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        if not scope.may_change(self.get_one(request.args.get("id"))):
            abort(404)
        return super().edit_view()

    @expose("/details/")
    def details_view(self):
        g.shown_template = self.get_one(request.args.get("id"))
        return super().details_view()

    @property
    def can_edit(self):
        shown = g.get("shown_template") if has_request_context() else None
        return ScopedModelView.can_edit.fget(self) and (shown is None or scope.may_change(shown))

    @can_edit.setter
    def can_edit(self, value):
        self._editable = value

    def row_html(self, row, return_url, with_checkbox, view_only=False):
        view_only = view_only or not scope.may_change(row)
        return super().row_html(row, return_url, with_checkbox, view_only)

    def on_model_change(self, form, model, is_created):
        if model.site is None and current_user.role != "admin":
            raise ValidationError(
                _l("Choose your site: templates for all sites are kept by head office.")
            )
        if not is_created:
            _keep_runs_readable(model)
        # An answered item is history: it can be switched off, not deleted.
        removed = [o.id for o in db.session.deleted if isinstance(o, ChecklistItem)]
        with db.session.no_autoflush:
            answered = (
                removed
                and db.session.scalar(
                    select(ChecklistAnswer.id).where(ChecklistAnswer.item_id.in_(removed)).limit(1)
                )
                is not None
            )
        if answered:
            raise ValidationError(
                _l("An item that has been answered cannot be deleted: untick Active instead.")
            )
        # Items carry the template's site so the scope filters them with one IN.
        for item in model.items:
            item.site = model.site

    def delete_model(self, model):
        # Runs refer to the template: hide it, keep the history.
        model.soft_delete()
        db.session.commit()
        return True


def _keep_runs_readable(template):
    """A template stays readable by every site that has filled it in: moved to one site, the other
    sites' past runs would lose their questions (the scope hides another site's template)."""
    site_id = template.site.id if template.site is not None else None
    if site_id is None:
        return
    with db.session.no_autoflush:
        elsewhere = db.session.scalar(
            select(ChecklistRun.id)
            .where(ChecklistRun.template_id == template.id, ChecklistRun.site_id != site_id)
            .limit(1)
        )
    if elsewhere is not None:
        raise ValidationError(
            _l(
                "This checklist has been filled in at other sites and must stay "
                "available to them. Make a new template for this site instead."
            )
        )


def _answers_html(view, context, model, name):
    rows = []
    by_item = {a.item_id: a for a in model.answers}
    for item in model.template.items:
        answer = by_item.get(item.id)
        rows.append(
            Markup("<li>%s: <strong>%s</strong></li>") % (item.label, answer_text(answer, item))
        )
    return Markup("<ul class='mb-0'>%s</ul>") % Markup("").join(rows)


def answer_text(answer, item):
    if answer is None or not answer.is_answered:
        return "—"
    if item.kind == "photo":
        return _("Photo taken") if answer.value_bool else _("No photo")
    if answer.value_bool is not None:
        return _("Yes") if answer.value_bool else _("No")
    if answer.value_number is not None:
        return f"{answer.value_number.normalize():f}"
    return answer.value_text


class ChecklistRunView(EnglishFilterUrls, ScopedModelView):
    read_roles = frozenset({"admin", "supervisor", "clerk", "security"})
    write_roles = frozenset()
    _creatable = False
    _editable = False
    _deletable = False
    column_list = (
        "day",
        "site",
        "template",
        "kind",
        "user",
        "status",
        "completion",
        "completed_at",
    )
    column_details_list = column_list + ("answers", "follow_ups")
    column_export_list = (
        "day",
        "site",
        "template",
        "kind",
        "user",
        "status",
        "completion",
        "completed_at",
    )
    column_select_related_list = (ChecklistRun.site, ChecklistRun.template, ChecklistRun.user)
    column_default_sort = ("day", True)
    column_sortable_list = ("day",)
    column_filters = (
        IntEqualFilter(
            ChecklistRun.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)
        ),
        FilterEqual(ChecklistRun.kind, _l("Kind"), options=lambda: list(KIND_LABELS.items())),
        DateEqualFilter(ChecklistRun.day, _l("Day")),
        DateBetweenFilter(ChecklistRun.day, _l("Day")),
        FilterInList(ChecklistRun.kind, _l("Kind"), options=lambda: list(KIND_LABELS.items())),
        FilterEqual(ChecklistRun.status, _l("Status"), options=lambda: list(STATUS_LABELS.items())),
    )
    column_labels = {
        "day": _l("Day"),
        "site": _l("Site"),
        "template": _l("Checklist"),
        "kind": _l("Kind"),
        "user": _l("Filled in by"),
        "status": _l("Status"),
        "completion": _l("Completion %"),
        "completed_at": _l("Completed at"),
        "answers": _l("Answers"),
        "follow_ups": _l("Follow-ups"),
    }
    column_formatters = {
        "kind": _label(KIND_LABELS, "kind"),
        "status": _label(STATUS_LABELS, "status"),
        "completion": lambda v, c, m, n: f"{m.completion}%",
        "template": lambda v, c, m, n: Markup('<a href="%s">%s</a>')
        % (url_for("checklist.run", run_id=m.id), _template_name(m)),
    }
    # Spreadsheets get plain text, not links.
    column_formatters_export = {
        "kind": _label(KIND_LABELS, "kind"),
        "status": _label(STATUS_LABELS, "status"),
        "template": lambda v, c, m, n: _template_name(m),
    }
    column_formatters_detail = {
        **column_formatters,
        "answers": _answers_html,
        "follow_ups": lambda v, c, m, n: Markup("<ul class='mb-0'>%s</ul>")
        % Markup("").join(
            Markup("<li>%s — %s</li>")
            % (f.note, STATUS_LABELS.get("open") if f.status == "open" else _("Closed"))
            for f in m.follow_ups
        ),
    }


# ------------------------------------------------------------------ the run page


def _form_photos(run):
    """item id → checked photos of the photo items; a rejected upload → DomainError on that item
    (checked before anything is written)."""
    uploads, errors = {}, {}
    for item in svc.active_items(run):
        if item.kind == "photo":
            try:
                uploads[item.id] = photo_service.inspect_all(
                    request.files.getlist(f"photo-{item.id}")
                )
            except photo_service.UploadRejected as exc:
                errors[item.id] = exc.message
    if errors:
        raise DomainError(_l("Some answers need correcting."), errors=errors)
    return uploads


def _form_answers(run):
    """item id → raw value from the submitted form (only items of this run). A field that was
    not sent (an untapped yes/no) keeps its saved answer; an emptied input clears it."""
    return {
        item.id: request.form[f"item-{item.id}"]
        for item in svc.active_items(run)
        if f"item-{item.id}" in request.form
    }


# The follow-ups a failed answer offers; the run form's buttons say "<kind>-<item id>".
FOLLOW_UP_KINDS = ("note", "repair", "cleaning")


def _run_item(run, item_id):
    """An item of this run's checklist, by id; 404 for anything else."""
    item = get_or_404(ChecklistItem, item_id)
    if item.template_id != run.template_id:
        abort(404)
    return item


def _chosen_item(run, raw):
    """The inventory item picked in the repair form: None for "other equipment"; an item of
    another site, or out of the user's scope, answers 404 as if it did not exist."""
    if raw in (None, "", "0"):
        return None
    item = get_or_404(Item, raw)
    if item.site_id != run.site_id or not item.active:
        abort(404)
    return item


def _item_locations(choices):
    """item id → location of the offered items: picking one fills the location (checklists.js)."""
    ids = [c.value for c in choices if c.value]
    rows = db.session.execute(select(Item.id, Item.location).where(Item.id.in_(ids or [-1])))
    return {str(i): loc for i, loc in rows if loc}


class RepairFromAnswerForm(PortalForm):
    """A repair ticket for a failed checklist answer: the ticket's title is the item (or the
    other equipment) and the fault words, never the question."""

    # Out-of-site items answer 404 (``_chosen_item``), not a choice error.
    item = SelectField(
        _l("Item from the site's list"), coerce=int, default=0, validate_choice=False
    )
    equipment = StringField(_l("Other equipment"))
    fault = StringField(_l("Fault in a few words"))
    location = StringField(_l("Location"))
    priority = SelectField(
        _l("Priority"),
        choices=[(p, PRIORITY_LABELS[p]) for p in TICKET_PRIORITIES],
        default="normal",
        validate_choice=False,
    )
    description = TextAreaField(_l("What is wrong"))


class ChecklistPage(PortalView):
    """Today's checklists of the user's sites, and the one-page run."""

    read_roles = frozenset({"admin", "supervisor", "clerk", "security"})
    write_roles = RUNNER_ROLES

    @expose("/")
    def index(self):
        sites = db.session.scalars(
            select(Site).where(site_life.taking_records()).order_by(Site.code).limit(50)
        ).all()
        rows = []
        for site in sites:
            day = clock.local_day(site)
            rows.append((site, day, svc.due_checklists(site, day), self._other_templates(site)))
        recent = db.session.scalars(
            select(ChecklistRun)
            .options(selectinload(ChecklistRun.template))
            .order_by(ChecklistRun.day.desc(), ChecklistRun.id.desc())
            .limit(10)
        ).all()
        return self.render(
            "checklists/index.html",
            rows=rows,
            recent=recent,
            kind_labels=KIND_LABELS,
            status_labels=STATUS_LABELS,
            can_run=self.can_write(),
        )

    def _other_templates(self, site):
        if current_user.role == "security":
            return []  # security fills in the opening and closing lists only
        return db.session.scalars(
            select(ChecklistTemplate)
            .where(
                ChecklistTemplate.active.is_(True),
                ChecklistTemplate.kind == "custom",
                (ChecklistTemplate.site_id == site.id) | ChecklistTemplate.site_id.is_(None),
            )
            .order_by(ChecklistTemplate.name)
        ).all()

    @expose("/start", methods=("POST",))
    def start(self):
        self._require_write()
        site = get_or_404(Site, request.form.get("site_id"))
        template = get_or_404(ChecklistTemplate, request.form.get("template_id"))
        if current_user.role == "security" and template.kind not in svc.DAILY_KINDS:
            abort(403)
        with domain_errors(flash_message=False) as refused:
            run = svc.start_run(site, template, current_user, clock.local_day(site))
        if refused:
            abort(404)  # a template of another site: as if it did not exist
        db.session.commit()
        return redirect(url_for(".run", run_id=run.id))

    @expose("/run/<int:run_id>", methods=("GET", "POST"))
    def run(self, run_id):
        run = get_or_404(ChecklistRun, run_id)
        errors, status = {}, 200
        if request.method == "POST":
            self._require_write()
            with domain_errors() as refused:
                uploads = _form_photos(run)
                svc.save_answers(run, _form_answers(run))
                svc.attach_photos(run, uploads, current_user)
                action = request.form.get("action") or "save"
                kind, _sep, item_id = action.partition("-")
                if action == "complete":
                    svc.complete_run(run)
                    flash(_("Checklist complete (%(n)s%% answered).", n=run.completion), "success")
                elif kind in FOLLOW_UP_KINDS and item_id:
                    # A follow-up button tapped while filling in: the answers so far are saved
                    # first, in the same transaction, so leaving for the repair form loses none.
                    return self._follow_up(run, _run_item(run, item_id), kind)
                else:
                    flash(_("Saved. You can continue later."), "success")
                db.session.commit()
                return redirect(url_for(".run", run_id=run.id))
            errors, status = refused.errors, refused.status
            run = get_or_404(ChecklistRun, run_id)
        submitted = request.form if request.method == "POST" else None
        return self._render_run(run, errors, submitted), status

    @expose("/run/<int:run_id>/follow-up", methods=("POST",))
    def follow_up(self, run_id):
        """A failed item's follow-up from a saved answer: a note or a cleaning issue at once, a
        repair ticket through its short form."""
        self._require_write()
        run = get_or_404(ChecklistRun, run_id)
        item = get_or_404(ChecklistItem, request.form.get("item_id"))
        with domain_errors() as refused:
            return self._follow_up(run, item, request.form.get("kind") or "note")
        return self._render_run(get_or_404(ChecklistRun, run_id), {}, None), refused.status

    def _follow_up(self, run, item, kind):
        """Open the follow-up ``kind`` for a failed item and commit; the note comes from the
        run form's field of that item, or the follow-up form's."""
        note = request.form.get(f"note-{item.id}", request.form.get("note"))
        if kind == "repair":
            if item.id not in {i.id for i in svc.failed_items(run)}:
                raise DomainError(_l('Only an item answered "no" can open a repair ticket.'))
            db.session.commit()
            target = url_for(".repair", run_id=run.id, item_id=item.id, note=note or None)
            return redirect(target, code=303)
        if kind == "cleaning":
            svc.open_cleaning_issue(run, item, current_user, note)
            message = _("Cleaning issue opened: %(item)s", item=item.label)
        else:
            svc.open_follow_up(run, item, note)
            message = _("Follow-up opened: %(item)s", item=item.label)
        db.session.commit()
        flash(message, "success")
        return redirect(url_for(".run", run_id=run.id) + f"#item-{item.id}")

    @expose("/run/<int:run_id>/repair/<int:item_id>", methods=("GET", "POST"))
    def repair(self, run_id, item_id):
        """The short report-for-repair form of a failed answer: which item, where, how urgent,
        what is wrong; back to the checklist once reported."""
        self._require_write()
        run = get_or_404(ChecklistRun, run_id)
        item = _run_item(run, item_id)
        # Imported here: the inventory views build on this module (EnglishFilterUrls).
        from portal.views.inventory import item_choices

        form = RepairFromAnswerForm()
        choices = item_choices(run.site, _l("— other equipment (write it below) —"))
        form.item.choices = choices
        if request.method == "GET":
            prefill = svc.repair_prefill(run, item, request.args.get("note"))
            for name, value in prefill.items():
                form[name].data = value
        status = 200
        if request.method == "POST":
            chosen = _chosen_item(run, request.form.get("item"))
            if form.validate():
                with domain_errors(form, flash_message=False) as refused:
                    ticket = svc.open_repair(
                        run,
                        item,
                        current_user,
                        fault=form.fault.data,
                        description=form.description.data,
                        priority=form.priority.data,
                        location=form.location.data,
                        inventory_item=chosen,
                        equipment=form.equipment.data,
                    )
                    db.session.commit()
                    flash(_("Repair ticket %(ticket)s reported.", ticket=str(ticket)), "success")
                    return redirect(url_for(".run", run_id=run.id) + f"#item-{item.id}")
                if refused.status == 404:
                    abort(404)
                for name, message in refused.errors.items():
                    form[name].errors = [message]
                status = refused.status
            else:
                status = 400
        return self.render(
            "checklists/repair.html",
            run=run,
            item=item,
            form=form,
            locations=_item_locations(choices),
            kind_labels=KIND_LABELS,
            page_title=_("Report for repair"),
            back_url=url_for(".run", run_id=run.id) + f"#item-{item.id}",
        ), status

    @expose("/run/<int:run_id>/follow-up/<int:follow_up_id>/close", methods=("POST",))
    def close_follow_up(self, run_id, follow_up_id):
        if current_user.role not in FOLLOW_UP_CLOSERS:
            abort(403)
        follow_up = get_or_404(ChecklistFollowUp, follow_up_id)
        if follow_up.run_id != run_id:
            abort(404)
        svc.close_follow_up(follow_up)
        db.session.commit()
        flash(_("Follow-up closed."), "success")
        return redirect(url_for(".run", run_id=run_id) + "#follow-ups")

    def _render_run(self, run, errors, submitted):
        answers = {a.item_id: a for a in run.answers}
        followed = {f.item_id for f in run.follow_ups}
        items = svc.active_items(run)
        if run.is_done:
            # A completed run is history: it shows what was answered, items switched off since too.
            items = [i for i in run.template.items if i.active or i.id in answers]
        return self.render(
            "checklists/run.html",
            run=run,
            items=items,
            answers=answers,
            errors=errors,
            submitted=submitted,
            followed=followed,
            kind_labels=KIND_LABELS,
            status_labels=STATUS_LABELS,
            can_run=self.can_write() and not run.is_done,
            answer_text=answer_text,
            page_title=_template_name(run),
            is_cleanliness=svc.is_cleanliness,
            follow_up_url=follow_up_url,
            run_photos=svc.photos_by_answer(run),
            accept=photo_service.ACCEPT,
            can_close_follow_ups=current_user.role in FOLLOW_UP_CLOSERS,
            completed_local=clock.to_local(run.completed_at, run.site)
            if run.completed_at
            else None,
        )

    def _require_write(self):
        if not self.can_write():
            abort(403)


# ------------------------------------------------------------------ Today page sections


def follow_up_url(follow_up):
    """The page of what a follow-up opened (repair ticket, cleaning issue), or None for a note."""
    if follow_up.target_type == "repair":
        return url_for("repairs.detail", ticket_id=follow_up.target_id)
    if follow_up.target_type == "cleaning":
        return url_for("cleaning_issue.details_view", id=follow_up.target_id)
    return None


@today.once_per_request
def _due_today(site, day):
    return svc.due_checklists(
        site, day, rows=today.kept(site, day, "checklists.due", lambda: svc.due_rows(site, day))
    )


def _today_section(kind):
    def provider(site, day, user):
        return {
            "site": site,
            "day": day,
            "kind": kind,
            "entry": _due_today(site, day)[kind],
            "kind_label": KIND_LABELS[kind],
            "can_run": user.role in RUNNER_ROLES,
        }

    return provider


# Today sections (declared in the domain's descriptor, portal/domains.py).
opening_section = _today_section("opening")
closing_section = _today_section("closing")


def register(admin):
    group = _l("Checklists")
    admin.add_view(
        ChecklistPage(
            name=_l("Checklists today"), category=group, endpoint="checklist", url="/checklists"
        )
    )
    admin.add_view(
        ChecklistRunView(
            ChecklistRun, name=_l("Checklist runs"), category=group, endpoint="checklistrun"
        )
    )
    admin.add_view(
        ChecklistTemplateView(
            ChecklistTemplate,
            name=_l("Checklist templates"),
            category=group,
            endpoint="checklisttemplate",
        )
    )
