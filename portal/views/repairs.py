"""Repair tickets: report a fault, the maintenance queue (phone cards), the ticket page with its
timeline and the actions the transition table allows this user."""

from flask import abort, flash, g, redirect, request, url_for
from flask_admin.contrib.sqla.filters import FilterEqual
from markupsafe import Markup
from portal import clock
from portal.i18n import lazy_gettext as _l
from flask_login import current_user
from wtforms import DecimalField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.errors import DomainError
from portal.extensions import db
from portal.models import (
    OPEN_STATUSES,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    Item,
    RepairTicket,
    Site,
    User,
)
from portal.services import damage as damage_service
from portal.services import notifications
from portal.services import waiting
from portal.services import photos as photo_service
from portal.services import repairs
from portal.services.metrics import repairs as repair_figures
from portal.views.base import (
    PortalForm,
    PortalView,
    ScopedModelView,
    domain_errors,
    expose,
    get_or_404,
    options_of,
    show_refusal,
    site_choices_query,
)
from portal.views.audit import LocalDateBetweenFilter, PeriodClauseFilter
from portal.models.repairs import EVENT_ACTION_LABELS, PRIORITY_LABELS, STATUS_LABELS
from portal.views.inventory import ITEM_READERS, item_choices
from portal.views.home import set_landing

READERS = frozenset({"admin", "supervisor", "clerk", "security", "maintenance"})

PRIORITY_BADGES = {"urgent": "danger", "high": "warning", "normal": "info", "low": "secondary"}
ACTION_LABELS = {
    "assign": _l("Assign"),
    "claim": _l("Claim this ticket"),
    "start": _l("Start work"),
    "wait_parts": _l("Waiting for parts"),
    "resume": _l("Parts arrived, resume"),
    "resolve": _l("Mark resolved"),
    "close": _l("Confirm fixed and close"),
    "reopen": _l("Reopen"),
}
ACTION_STYLES = {
    "claim": "success",
    "close": "success",
    "resolve": "success",
    "reopen": "outline-danger",
    "wait_parts": "outline-warning",
}
STATUS_FILTERS = {"open": _l("Open"), "overdue": _l("Overdue"), **STATUS_LABELS, "all": _l("All")}


class ReportForm(PortalForm):
    site = SelectField(_l("Site"), coerce=int, validators=[InputRequired()])
    item = SelectField(_l("Item from the site's list"), coerce=int, default=0)
    equipment = StringField(
        _l("Equipment"),
        validators=[Optional(), Length(max=200)],
        description=_l(
            "Free text when the item is not on the list, "
            "e.g. floor lamp by the sand table, coffee machine"
        ),
    )
    location = StringField(_l("Location"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("What is wrong"), validators=[DataRequired(), Length(max=4000)])
    priority = SelectField(
        _l("Priority"),
        choices=[(p, PRIORITY_LABELS[p]) for p in TICKET_PRIORITIES],
        default="normal",
    )
    photos = MultipleFileField(_l("Photos"))


class EditForm(PortalForm):
    """The supervisor's corrections: the site and the fault description stay as reported."""

    item = SelectField(_l("Item from the site's list"), coerce=int, default=0)
    equipment = StringField(_l("Equipment"), validators=[Optional(), Length(max=200)])
    location = StringField(_l("Location"), validators=[Optional(), Length(max=200)])
    priority = SelectField(
        _l("Priority"), choices=[(p, PRIORITY_LABELS[p]) for p in TICKET_PRIORITIES]
    )


class ActionForm(PortalForm):
    """Forms of the ticket page: several per page, so prefixed; CSRFProtect checks the page
    token."""

    class Meta:
        csrf = False


class AssignForm(ActionForm):
    assignee = SelectField(_l("Maintenance worker"), coerce=int, validators=[InputRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])


class ResolveForm(ActionForm):
    cost = DecimalField(
        _l("Cost (CNY)"), places=2, validators=[InputRequired(), NumberRange(min=0, max=99999999)]
    )
    parts_used = StringField(_l("Parts used"), validators=[Optional(), Length(max=1000)])
    resolution = TextAreaField(_l("What was done"), validators=[Optional(), Length(max=4000)])


class NoteForm(ActionForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])


class CommentForm(PortalForm):
    text = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=4000)])


class PhotoForm(PortalForm):
    photos = MultipleFileField(_l("Photos"))


ACTION_FORMS = {"assign": AssignForm, "resolve": ResolveForm}


def _site_choices():
    return [(s.id, str(s)) for s in site_choices_query()]


class RepairsView(PortalView):
    read_roles = READERS
    write_roles = READERS

    # ------------------------------------------------------------ the queue
    @expose("/")
    def index(self):
        filters = self._filters()
        tickets = repairs.my_queue(current_user, filters)
        summary = repairs.site_summary() if current_user.role in ("supervisor", "admin") else None
        return self.render(
            "repairs/index.html",
            tickets=tickets,
            filters=filters,
            summary=summary,
            sites=_site_choices(),
            now=clock.now(),
            status_filters=STATUS_FILTERS,
            page_title=_l("My tickets") if filters.get("mine") else _l("Repair tickets"),
            **_labels(),
        )

    def _filters(self):
        args = request.args
        mine_default = "1" if current_user.role == "maintenance" else ""
        status = args.get("status") or "open"
        return {
            "site_id": args.get("site", type=int),
            "status": status if status in STATUS_FILTERS else "open",
            "priority": args.get("priority") if args.get("priority") in TICKET_PRIORITIES else None,
            "mine": args.get("mine", mine_default) == "1",
        }

    # ------------------------------------------------------------ report
    @expose("/new/", methods=("GET", "POST"))
    def new(self):
        form = ReportForm()
        form.site.choices = _site_choices()
        if not form.site.choices:
            abort(403)
        if request.method == "GET":
            self._prefill(form)
        site_id = form.site.data if isinstance(form.site.data, int) else form.site.choices[0][0]
        form.item.choices = item_choices(db.session.get(Site, site_id), _l("— not on the list —"))
        if form.validate_on_submit():
            site = self._site(form.site.data)
            try:
                prepared = photo_service.inspect_all(form.photos.data or [])
                ticket = repairs.report(
                    site,
                    current_user,
                    form.equipment.data,
                    form.description.data,
                    form.priority.data,
                    location=form.location.data,
                    item=db.session.get(Item, form.item.data) if form.item.data else None,
                    photos=prepared,
                )
                db.session.commit()
            except photo_service.UploadRejected as exc:
                db.session.rollback()
                form.photos.errors = [exc.message]
            except DomainError as exc:
                show_refusal(exc, form)
            else:
                flash(_l("Repair ticket %(ticket)s reported.", ticket=str(ticket)), "success")
                return redirect(url_for(".detail", ticket_id=ticket.id))
        if form.item.errors:  # an item of another site is not among the choices: say so plainly
            form.item.errors = [_l("Choose an item of this site.")]
        status = 400 if request.method == "POST" else 200
        return self.render(
            "repairs/new.html",
            form=form,
            page_title=_l("Report a fault"),
            accept=photo_service.ACCEPT,
        ), status

    def _prefill(self, form):
        """?site= or ?item= (the item's page links here): the site, item and its location chosen."""
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
        elif request.args.get("site", type=int):
            form.site.data = request.args.get("site", type=int)

    def _site(self, site_id):
        return get_or_404(Site, site_id)

    # ------------------------------------------------------------ one ticket
    def _ticket(self, ticket_id):
        ticket = get_or_404(RepairTicket, ticket_id)
        if not repairs.can_read(ticket.id, current_user):
            abort(404)
        return ticket

    @expose("/<int:ticket_id>/")
    def detail(self, ticket_id):
        return self._detail(self._ticket(ticket_id))

    def _detail(self, ticket, forms=None, status=200, error=None):
        forms = forms or {}
        actions = repairs.allowed_actions(ticket, current_user)
        for action in actions:
            if action not in forms:
                forms[action] = ACTION_FORMS.get(action, NoteForm)(formdata=None, prefix=action)
        if "assign" in forms:
            forms["assign"].assignee.choices = [
                (u.id, str(u)) for u in repairs.assignee_choices(ticket.site)
            ]
            if ticket.assignee_id and not forms["assign"].assignee.data:
                forms["assign"].assignee.data = ticket.assignee_id
        return self.render(
            "repairs/detail.html",
            ticket=ticket,
            actions=actions,
            forms=forms,
            error=error,
            events=repairs.timeline(ticket),
            photos=photo_service.photos_of(repairs.OWNER_TYPE, ticket.id),
            damage_report=damage_service.report_for_ticket(ticket),
            item_link=current_user.role in ITEM_READERS,
            comment_form=forms.get("comment") or CommentForm(formdata=None),
            photo_form=forms.get("photo") or PhotoForm(formdata=None),
            now=clock.now(),
            accept=photo_service.ACCEPT,
            page_title=str(ticket),
            action_labels=ACTION_LABELS,
            event_labels=EVENT_ACTION_LABELS,  # the history says "claimed", not the button
            can_edit=current_user.role in repairs.EDIT_ROLES and ticket.status in OPEN_STATUSES,
            action_styles=ACTION_STYLES,
            **_labels(),
        ), status

    @expose("/<int:ticket_id>/action/<action>", methods=("POST",))
    def act(self, ticket_id, action):
        ticket = self._ticket(ticket_id)
        if action not in repairs.TRANSITIONS:
            abort(400)
        if not repairs.may(ticket, action, current_user):
            abort(403)
        form = ACTION_FORMS.get(action, NoteForm)(prefix=action)
        if action == "assign":
            form.assignee.choices = [(u.id, str(u)) for u in repairs.assignee_choices(ticket.site)]
        if not form.validate():
            return self._detail(ticket, {action: form}, 400)
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        if action == "assign":
            data["assignee"] = db.session.get(User, form.assignee.data)
        with domain_errors(flash_message=False) as refused:
            repairs.transition(ticket, action, current_user, **data)
            db.session.commit()
        if refused:
            return self._detail(
                self._ticket(ticket_id), {action: form}, refused.status, error=refused.message
            )
        flash(_l("Ticket updated: %(status)s.", status=STATUS_LABELS[ticket.status]), "success")
        if action in ("resolve", "close") and current_user.role == "maintenance":
            return redirect(url_for(".index"))
        return redirect(url_for(".detail", ticket_id=ticket.id))

    @expose("/<int:ticket_id>/edit", methods=("GET", "POST"))
    def edit(self, ticket_id):
        """The supervisor corrects equipment, location, item and priority (audited)."""
        ticket = self._ticket(ticket_id)
        if current_user.role not in repairs.EDIT_ROLES:
            abort(403)
        form = EditForm(obj=ticket if request.method == "GET" else None)
        if request.method == "GET":
            form.item.data = ticket.item_id or 0
        form.item.choices = item_choices(ticket.site, _l("— not on the list —"))
        if form.validate_on_submit():
            with domain_errors(form) as refused:
                repairs.edit(
                    ticket,
                    current_user,
                    form.equipment.data,
                    form.location.data,
                    db.session.get(Item, form.item.data) if form.item.data else None,
                    form.priority.data,
                )
                db.session.commit()
            if not refused:
                flash(_l("Ticket %(ticket)s saved.", ticket=str(ticket)), "success")
                return redirect(url_for(".detail", ticket_id=ticket.id))
        if form.item.errors:
            form.item.errors = [_l("Choose an item of this site.")]
        status = 400 if request.method == "POST" else 200
        return self.render(
            "repairs/edit.html", form=form, ticket=ticket, page_title=_l("Edit the ticket")
        ), status

    @expose("/<int:ticket_id>/comment", methods=("POST",))
    def comment(self, ticket_id):
        ticket = self._ticket(ticket_id)
        form = CommentForm()
        if not form.validate():
            return self._detail(ticket, {"comment": form}, 400)
        repairs.comment(ticket, current_user, form.text.data)
        db.session.commit()
        return redirect(url_for(".detail", ticket_id=ticket.id) + "#timeline")

    @expose("/<int:ticket_id>/photos", methods=("POST",))
    def add_photos(self, ticket_id):
        ticket = self._ticket(ticket_id)
        form = PhotoForm()
        if not form.validate():
            return self._detail(ticket, {"photo": form}, 400)
        try:
            prepared = photo_service.inspect_all(form.photos.data or [])
            if not prepared:
                raise photo_service.UploadRejected(_l("Choose a photo first."))
        except photo_service.UploadRejected as exc:
            form.photos.errors = [exc.message]
            return self._detail(ticket, {"photo": form}, 400)
        repairs.add_photos(ticket, current_user, prepared)
        db.session.commit()
        return redirect(url_for(".detail", ticket_id=ticket.id))


def _hours(view, context, model, name):
    if model.resolved_at is None:
        return ""
    return f"{(model.resolved_at - model.created_at).total_seconds() / 3600:.1f}"


def _ticket_link(view, context, model, name):
    # Markup's % escapes the equipment (user text).
    return Markup('<a href="%s">%s</a>') % (
        url_for("repairs.detail", ticket_id=model.id),
        f"#{model.id} {model.equipment}",
    )


class RepairTicketListView(ScopedModelView):
    """Every ticket of the supervisor's sites as a filterable list (read-only: tickets move on
    their own page). Its period filters apply the very conditions of the dashboard's repair
    figures (``portal.services.metrics.repairs``), so a number's drill-down lists exactly them."""

    read_roles = frozenset({"admin", "supervisor"})
    write_roles = frozenset()
    _creatable = _editable = _deletable = False
    column_list = (
        "equipment",
        "site",
        "priority",
        "status",
        "created_at",
        "due_at",
        "resolved_at",
        "hours_to_resolve",
        "assignee",
    )
    column_details_list = (
        "equipment",
        "site",
        "location",
        "description",
        "priority",
        "status",
        "reporter",
        "created_at",
        "due_at",
        "assignee",
        "resolved_at",
        "hours_to_resolve",
        "closed_at",
        "cost",
    )
    column_export_list = (
        "id",
        "equipment",
        "site",
        "location",
        "priority",
        "status",
        "reporter",
        "created_at",
        "due_at",
        "assignee",
        "resolved_at",
        "hours_to_resolve",
        "closed_at",
        "cost",
    )
    column_select_related_list = (RepairTicket.site, RepairTicket.assignee, RepairTicket.reporter)
    column_default_sort = ("id", True)
    column_sortable_list = ("created_at", "due_at")
    # URL names (flt0_site_equals, flt1_open_at_period_end_between…) are what drill-downs link to.
    column_filters = (
        FilterEqual(RepairTicket.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)),
        PeriodClauseFilter(lambda a, b: repair_figures.open_clause(a, b), _l("Open at period end")),
        PeriodClauseFilter(
            lambda a, b: repair_figures.overdue_clause(a, b), _l("Overdue at period end")
        ),
        PeriodClauseFilter(lambda a, b: repair_figures.resolved_clause(a, b), _l("Resolved")),
        LocalDateBetweenFilter(RepairTicket.created_at, _l("Reported")),
        FilterEqual(RepairTicket.status, _l("Status"), options=lambda: list(STATUS_LABELS.items())),
        FilterEqual(
            RepairTicket.priority, _l("Priority"), options=lambda: list(PRIORITY_LABELS.items())
        ),
    )
    column_labels = {
        "id": _l("Ticket"),
        "equipment": _l("Equipment"),
        "site": _l("Site"),
        "location": _l("Location"),
        "description": _l("What is wrong"),
        "priority": _l("Priority"),
        "status": _l("Status"),
        "reporter": _l("Reported by"),
        "created_at": _l("Reported"),
        "due_at": _l("Due"),
        "assignee": _l("Assigned to"),
        "resolved_at": _l("Resolved at"),
        "hours_to_resolve": _l("Hours to resolve"),
        "closed_at": _l("Closed"),
        "cost": _l("Cost (CNY)"),
    }
    _fmt = {
        "priority": lambda v, c, m, n: PRIORITY_LABELS.get(m.priority, m.priority),
        "status": lambda v, c, m, n: STATUS_LABELS.get(m.status, m.status),
        "hours_to_resolve": _hours,
    }
    column_formatters = {**_fmt, "equipment": _ticket_link}
    column_formatters_export = {
        **_fmt,
        "status": lambda v, c, m, n: str(STATUS_LABELS.get(m.status, m.status)),
        "priority": lambda v, c, m, n: str(PRIORITY_LABELS.get(m.priority, m.priority)),
    }
    column_formatters_detail = column_formatters


def _labels():
    return {
        "priority_labels": PRIORITY_LABELS,
        "priority_badges": PRIORITY_BADGES,
        "status_labels": STATUS_LABELS,
        "open_statuses": OPEN_STATUSES,
        "statuses": TICKET_STATUSES,
        "priorities": TICKET_PRIORITIES,
    }


def register(admin):
    admin.add_view(RepairsView(name=_l("Repairs"), endpoint="repairs", url="/repairs"))
    admin.add_view(
        RepairTicketListView(
            RepairTicket,
            name=_l("All repair tickets"),
            endpoint="repairticket",
            url="/repairticket",
            category=_l("Reports"),
        )
    )
    set_landing("maintenance", "repairs.index")

    @admin.app.context_processor
    def _notifications():
        # Lazy: the counts are queried only when the navbar or a landing page renders them, and
        # once per request for both (one statement, so the two never disagree).
        def waiting_for_me():
            if not current_user.is_authenticated:
                return []
            if "_waiting" not in g:
                g._waiting = waiting.for_user(current_user)
            return g._waiting

        def portal_notifications():
            if not current_user.is_authenticated:
                return []
            return notifications.counts_for(current_user, lines=waiting_for_me())

        return {"portal_notifications": portal_notifications, "waiting_for_me": waiting_for_me}
