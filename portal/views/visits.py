"""The visit log (arrive / left now in one or two taps), serving drinks to a visit, and the
visit records list (details, salesperson, show unit, notes)."""

from datetime import time

from flask import abort, flash, redirect, request, url_for
from flask_admin.contrib.sqla.filters import FilterEqual
from portal import clock
from portal.i18n import lazy_gettext as _l, site_time
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from flask_admin.form.fields import DateTimeField
from flask_admin.helpers import is_form_submitted
from wtforms import SelectField
from wtforms.validators import Optional, ValidationError

from portal.views.audit import LocalDateBetweenFilter
from portal.errors import DomainError
from portal.extensions import db
from portal.models import DIRECTIONS, ConsumptionLine, ShowUnit, Site, StaffMember, Visit
from portal.services import stock, today, visits
from portal.views.auth import safe_next
from portal.views.base import (
    PortalView,
    ScopedModelView,
    domain_errors,
    expose,
    get_or_404,
    options_of,
)
from portal.views.home import set_landing
from portal.views.base import yes_no
from portal.views.today import DIRECTION_LABELS, STOCK_ROLES, my_sites, site_or_picker
from portal.services import damage

WRITE_ROLES = frozenset({"admin", "supervisor", "clerk", "security"})
# The arrival grid: adults × children; a larger group is keyed in on the "More" number pad.
ADULT_PRESETS = (1, 2, 3, 4)
LARGE_PRESETS = (5, 6, 7, 8, 10, 12, 15, 20)
CHILD_PRESETS = (0, 1, 2)
SERVE_PRESETS = (1, 2, 3)


def direction_label(code):
    return DIRECTION_LABELS.get(code, code or "")


LOCAL_FORMAT = "%Y-%m-%d %H:%M"


def known_choice(form, field):
    """A submitted id that is not among the (scoped) choices is an error, not a silent blank."""
    raw = [v for v in (field.raw_data or []) if v not in ("", "__None")]
    if raw and field.data is None:
        raise ValidationError(_l("Choose from the list."))


def _hosted_filter():
    return Visit.salesperson_id.in_(
        select(StaffMember.id).where(StaffMember.user_id == current_user.id)
    )


class VisitLogView(PortalView):
    read_roles = WRITE_ROLES | {"sales"}
    write_roles = WRITE_ROLES

    @expose("/")
    def index(self):
        if current_user.role == "sales":
            # Who is in the office now is everyone's business on the site; details only of his own.
            in_office = [v for site in my_sites() for v in visits.open_visits(site)]
            return self.render(
                "visits/mine.html",
                visits=visits.hosted_by(current_user),
                in_office=in_office,
                page_title=_l("Visits"),
            )
        site, picker = site_or_picker(self, "visits.index")
        if picker is not None:
            return picker
        day = clock.local_day(site)
        return self.render(
            "visits/log.html",
            site=site,
            day=day,
            open_visits=visits.open_visits(site),
            left_today=visits.visits_of_day(site, day, only_left=True),
            adult_presets=ADULT_PRESETS,
            large_presets=LARGE_PRESETS,
            open_pad=request.method == "POST" and "party" not in request.form,
            child_presets=CHILD_PRESETS,
            directions=DIRECTIONS,
            can_serve=current_user.role in STOCK_ROLES,
            page_title=_l("Visit log"),
        )

    @expose("/arrive", methods=("POST",))
    def arrive(self):
        self._require_write()
        site, picker = site_or_picker(self, "visits.index")
        if picker is not None:
            return picker
        if "party" in request.form:
            adults, _, children = request.form["party"].partition(":")
        else:  # the number pad of a larger group
            adults = request.form.get("adults", "").strip()
            children = request.form.get("children", "").strip() or "0"
        with domain_errors() as refused:
            visit = visits.record_arrival(site, adults, children, user=current_user)
        if refused:  # the visit log again with the reason on top
            return self.index(), refused.status
        db.session.commit()
        flash(
            _l(
                "Arrival recorded: %(n)s people at %(time)s.",
                n=visit.headcount,
                time=site_time(visit.arrived_at, site),
            ),
            "success",
        )
        return redirect(safe_next(request.form.get("next")) or url_for(".index"))

    @expose("/depart", methods=("POST",))
    def depart(self):
        self._require_write()
        visit = get_or_404(Visit, request.form.get("id"))
        with domain_errors() as refused:
            visits.record_departure(visit, request.form.get("direction") or None, user=current_user)
        if refused:
            return self.index(), refused.status
        db.session.commit()
        flash(_l("Departure recorded."), "success")
        return redirect(safe_next(request.form.get("next")) or url_for(".index"))

    @expose("/serve", methods=("GET", "POST"))
    def serve_view(self):
        if current_user.role not in STOCK_ROLES:
            abort(403)
        visit = get_or_404(Visit, request.values.get("id"))
        error, status = None, 200
        if request.method == "POST":
            with domain_errors(flash_message=False) as refused:
                lines = stock.serve_many(visit, self._serve_items(visit), user=current_user)
                db.session.commit()
            if not refused:
                flash(
                    _l("Served %(name)s × %(n)s.", name=lines[0].product.name, n=lines[0].quantity)
                    if len(lines) == 1
                    else _l("Served %(lines)s.", lines="、".join(str(line) for line in lines)),
                    "success",
                )
                return redirect(safe_next(request.form.get("next")) or url_for("today.index"))
            error, status = refused.message, refused.status
        next_url = safe_next(request.values.get("next")) or url_for("today.index")
        return self._serve_page(visit, error, next_url), status

    def _serve_page(self, visit, error, next_url):
        lines = visit.consumption_lines
        last = max(lines, key=lambda line: line.id) if lines else None
        return self.render(
            "visits/serve.html",
            visit=visit,
            site=visit.site,
            error=error,
            products=stock.balances(visit.site),
            presets=SERVE_PRESETS,
            undo_line=last if last is not None and stock.can_undo(last) else None,
            next_url=next_url,
            page_title=_l("Serve drinks and snacks"),
        )

    @staticmethod
    def _serve_items(visit):
        """[(product, quantity)] of the serve form: one ``product`` + ``quantity`` (one tap on a
        quantity) or the list built on the page, ``qty-<product id>`` per product (0 or empty:
        not served)."""
        if "product" in request.form:
            pairs = [(request.form.get("product"), request.form.get("quantity"))]
        else:
            pairs = [
                (key.removeprefix("qty-"), value.strip())
                for key, value in request.form.items()
                if key.startswith("qty-") and value.strip() not in ("", "0")
            ]
        items = []
        for product_id, qty in pairs:
            product = stock.product_of_site(visit.site, product_id)
            if product is None:
                raise DomainError(_l("Choose a product of this site."), "product")
            items.append((product, qty))
        return items

    @expose("/unserve", methods=("POST",))
    def unserve(self):
        """Undo a served line (a mistap) within the short window; the stock goes back."""
        if current_user.role not in STOCK_ROLES:
            abort(403)
        line = get_or_404(ConsumptionLine, request.form.get("line"))
        visit_id = line.visit_id
        with domain_errors(flash_message=False) as refused:
            product, qty = stock.undo_serve(line, user=current_user)
            db.session.commit()
        target = safe_next(request.form.get("next")) or url_for("today.index")
        if refused:  # the serve page of the visit with the reason on top
            return self._serve_page(get_or_404(Visit, visit_id), refused.message, target), 400
        flash(_l("Undone: %(name)s × %(n)s.", name=product.name, n=qty), "success")
        return redirect(target)

    @expose("/tour", methods=("GET", "POST"))
    def tour_view(self):
        """The tour of the show unit, as a page for the front desk: salesperson, shuttle, start
        and end with one tap each, notes."""
        visit = get_or_404(Visit, request.values.get("id"))
        if current_user.role == "sales" and not visits.is_hosted_by(visit, current_user):
            abort(404)
        site = visit.site
        next_url = safe_next(request.values.get("next")) or url_for(".index")
        error, status = None, 200
        if request.method == "POST":
            self._require_write()
            with domain_errors(flash_message=False) as refused:
                visits.save_tour(visit, **self._tour_fields(visit), user=current_user)
                db.session.commit()
            if not refused:
                flash(_l("Tour saved."), "success")
                action = request.form.get("action")
                if action in ("start", "end"):  # stay: the next tap is on this page
                    return redirect(url_for(".tour_view", id=visit.id, next=next_url))
                return redirect(next_url)
            error, status = refused.message, refused.status
            visit = get_or_404(Visit, visit.id)  # the record as it is, not the refused values
        return self.render(
            "visits/tour.html",
            visit=visit,
            site=site,
            staff=visits.sales_staff(site),
            show_units=[u for u in site.show_units if u.active],
            form=request.form if request.method == "POST" else None,
            error=error,
            next_url=next_url,
            can_write=self.can_write(),
            can_correct=current_user.role in CORRECT_ROLES,
            page_title=_l("Tour of the show unit"),
        ), status

    @staticmethod
    def _tour_fields(visit):
        form, site = request.form, visit.site
        salesperson = None
        if form.get("salesperson"):
            salesperson = next(
                (s for s in visits.sales_staff(site) if str(s.id) == form["salesperson"]), None
            )
            if salesperson is None:
                raise DomainError(_l("Choose a salesperson of this site."), "salesperson")
        show_unit = None
        if form.get("show_unit"):
            show_unit = stock_show_unit(site, form["show_unit"])
        if form.get("shuttle") not in ("0", "1"):
            raise DomainError(_l("Choose whether the shuttle was used."), "shuttle")
        started, ended = (
            kept_or_local_time(visit, name, form.get(name))
            for name in ("tour_started_at", "tour_ended_at")
        )
        if form.get("action") == "start" and started is None:
            started = clock.now()
        if form.get("action") == "end" and ended is None:
            ended = clock.now()
        return {
            "salesperson": salesperson,
            "show_unit": show_unit,
            "shuttle_used": form.get("shuttle") == "1",
            "started_at": started,
            "ended_at": ended,
            "notes": form.get("notes", "")[:2000],
        }

    def _require_write(self):
        if not self.can_write():
            abort(403)


# Who may correct a visit record on the full form (times of arrival, head counts, site).
CORRECT_ROLES = frozenset({"admin", "supervisor"})


def stock_show_unit(site, unit_id):
    """A show unit of ``site`` by id, or a refusal."""
    try:
        unit = db.session.get(ShowUnit, int(unit_id))
    except (TypeError, ValueError, OverflowError):
        unit = None
    if unit is None or unit.site_id != site.id or not unit.active:
        raise DomainError(_l("Choose a show unit of this site."), "show_unit")
    return unit


def kept_or_local_time(visit, field, text):
    """The time of ``field`` from the form; the stored instant when the minute shown is sent
    back unchanged (the page shows minutes, the tap recorded seconds)."""
    stored = getattr(visit, field)
    if stored is not None and (text or "").strip() == site_time(stored, visit.site):
        return stored
    return local_time(visit, text, field)


def local_time(visit, text, field):
    """"HH:MM" on the site's clock, the minute nearest the visit's arrival, as UTC; None when
    empty."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        wall = time(hours, minutes)
    except (TypeError, ValueError):
        raise DomainError(_l("Give the time as hours:minutes, e.g. 14:30."), field) from None
    return clock.nearest_local(wall, visit.site, visit.arrived_at)


def _damage_reports(visit):
    """Links to the damage reports filed for this visit (the damage domain owns the read rule)."""
    return Markup('<ul class="mb-0" id="visit-damage-reports">%s</ul>') % Markup("").join(
        Markup('<li><a href="%s">%s</a></li>') % (url_for("damage.detail", report_id=r.id), r)
        for r in damage.reports_of_visit(visit, current_user)
    )


class VisitView(ScopedModelView):
    """Every visit record; salespeople see only the visits they hosted."""

    read_roles = WRITE_ROLES | {"sales"}
    write_roles = WRITE_ROLES
    column_list = (
        "arrived_at",
        "site",
        "adults",
        "children",
        "salesperson",
        "show_unit",
        "shuttle_used",
        "left_at",
        "departure_direction",
    )
    column_export_list = (
        "site",
        "arrived_at",
        "left_at",
        "adults",
        "children",
        "salesperson",
        "show_unit",
        "shuttle_used",
        "departure_direction",
        "notes",
    )
    column_details_list = column_export_list + ("consumption_lines", "damage_reports", "created_at")
    form_columns = (
        "site",
        "arrived_at",
        "left_at",
        "adults",
        "children",
        "salesperson",
        "show_unit",
        "shuttle_used",
        "departure_direction",
        "notes",
    )
    column_select_related_list = (Visit.site, Visit.salesperson, Visit.show_unit)
    column_default_sort = ("arrived_at", True)
    column_sortable_list = ("arrived_at",)
    column_searchable_list = ("notes",)
    column_filters = (
        FilterEqual(Visit.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)),
        LocalDateBetweenFilter(Visit.arrived_at, _l("Arrived")),
    )
    column_labels = {
        "site": _l("Site"),
        "arrived_at": _l("Arrived at"),
        "left_at": _l("Left at"),
        "adults": _l("Adults"),
        "children": _l("Children"),
        "salesperson": _l("Salesperson"),
        "show_unit": _l("Show unit toured"),
        "shuttle_used": _l("Shuttle used"),
        "departure_direction": _l("Departure direction"),
        "notes": _l("Notes"),
        "consumption_lines": _l("Served"),
        "damage_reports": _l("Damage reports"),
        "created_at": _l("Created at"),
    }
    column_formatters = {
        "left_at": lambda v, c, m, n: site_time(m.left_at, m.site, "%H:%M")
        if m.left_at
        else _l("Still here"),
        "shuttle_used": yes_no,
        "departure_direction": lambda v, c, m, n: direction_label(m.departure_direction),
        "consumption_lines": lambda v, c, m, n: "、".join(
            str(line) for line in m.consumption_lines
        ),
    }
    column_formatters_detail = {
        **column_formatters,
        "damage_reports": lambda v, c, m, n: _damage_reports(m),
    }
    column_formatters_export = {
        "departure_direction": lambda v, c, m, n: direction_label(m.departure_direction),
    }
    # Times are entered in site time (what the guard's watch says) and stored in UTC.
    form_overrides = {
        "departure_direction": SelectField,
        "arrived_at": DateTimeField,
        "left_at": DateTimeField,
    }
    form_args = {
        "arrived_at": {
            "format": LOCAL_FORMAT,
            "validators": [Optional()],
            "label": _l("Arrived at"),
            "description": _l("Site time; leave empty for now."),
        },
        "left_at": {
            "format": LOCAL_FORMAT,
            "validators": [Optional()],
            "label": _l("Left at"),
            "description": _l("Site time; leave empty while the visitors are still here."),
        },
        "departure_direction": {
            "choices": [("", "—")] + [(d, DIRECTION_LABELS[d]) for d in DIRECTIONS],
            "label": _l("Departure direction"),
        },
        "salesperson": {
            "query_factory": lambda: db.session.query(StaffMember)
            .filter(StaffMember.kind == "sales", StaffMember.active.is_(True))
            .order_by(StaffMember.name),
            "validators": [known_choice],
            "blank_text": "—",
        },
        "show_unit": {
            "query_factory": lambda: db.session.query(ShowUnit).filter(ShowUnit.active.is_(True)),
            "validators": [known_choice],
            "blank_text": "—",
        },
    }

    def get_query(self):
        query = super().get_query()
        return query.filter(_hosted_filter()) if current_user.role == "sales" else query

    def get_count_query(self):
        query = super().get_count_query()
        return query.filter(_hosted_filter()) if current_user.role == "sales" else query

    one_options = (selectinload(Visit.consumption_lines).joinedload(ConsumptionLine.product),)

    def get_one(self, id):
        visit = super().get_one(id)
        if current_user.role == "sales" and not visits.is_hosted_by(visit, current_user):
            abort(404)
        return visit

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if request.method == "GET" and obj is not None:
            for name in ("arrived_at", "left_at"):
                value = getattr(obj, name)
                getattr(form, name).data = (
                    clock.local_now(obj.site, value).replace(tzinfo=None) if value else None
                )
        return form

    def validate_form(self, form):
        """The visit's bounds (head counts, times within the site's life), each message next to
        its field: the same rules ``visits.check_visit`` applies when the record is saved."""
        ok = super().validate_form(form)
        site = form.site.data if hasattr(form, "site") else None
        if is_form_submitted() and site is not None:
            arrived_at = clock.from_local(form.arrived_at.data, site) or clock.now()
            left_at = clock.from_local(form.left_at.data, site)
            errors = visits.visit_errors(
                site, form.adults.data, form.children.data, arrived_at, left_at
            )
            for name, message in errors.items():
                field = getattr(form, name)
                if not field.errors:  # one message a field; "not a number" comes first
                    field.errors = list(field.errors) + [str(message)]
            ok = ok and not errors
        return ok

    def on_model_change(self, form, model, is_created):
        site = model.site if model.site is not None else db.session.get(Site, model.site_id)
        model.arrived_at = clock.from_local(model.arrived_at, site) or clock.now()
        model.left_at = clock.from_local(model.left_at, site)
        visits.check_visit(model, site)  # a DomainError: the form again with the reason
        site_id = site.id
        if model.salesperson is not None and model.salesperson.site_id != site_id:
            raise ValidationError(_l("Choose a salesperson of this site."))
        if model.show_unit is not None and model.show_unit.site_id != site_id:
            raise ValidationError(_l("Choose a show unit of this site."))
        model.departure_direction = model.departure_direction or None

    def delete_model(self, model):
        # Reports count visits: hide, never remove.
        model.soft_delete()
        db.session.commit()
        return True


# ---------------------------------------------------------------- Today section


def open_visits_section(site, day, user):
    open_visits = today.kept(site, day, "visits.open", lambda: visits.open_visits(site))
    return {
        "site": site,
        "visits": open_visits,
        "can_serve": user.role in STOCK_ROLES,
        "directions": DIRECTIONS,
    }


def register(admin):
    admin.app.add_template_global(direction_label, "direction_label")
    admin.app.add_template_global(stock.can_undo, "can_undo_serve")
    # Two entries side by side, no 来访 menu holding one of them: the reception's log (one
    # tap for the front desk) and the records list.
    admin.add_view(VisitLogView(name=_l("Visit log"), endpoint="visits", url="/visits"))
    admin.add_view(VisitView(Visit, name=_l("Visit records"), endpoint="visit", url="/visit"))
    set_landing("security", "visits.index")
    set_landing("sales", "visits.index")
