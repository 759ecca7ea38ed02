"""Drinks and snacks: products, the stock ledger, restock / wastage / count forms, and the
daily tally (close at the site's tally time; supervisors see which tallies are missing)."""

from flask import abort, flash, redirect, request, url_for
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, DateBetweenFilter, FilterEqual
from portal import clock
from portal.i18n import lazy_gettext as _l, site_time
from flask_login import current_user
from markupsafe import Markup
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from portal.errors import DomainError
from portal.extensions import db
from sqlalchemy.orm import undefer

from portal.models import PRODUCT_KINDS, DailyTally, Product, Site, StockMovement
from portal.models.consumables import MOVEMENT_LABELS
from portal.models.consumables import PRODUCT_KIND_LABELS as KIND_LABELS
from portal.services import bounds, stock, tally, today
from portal.views.base import (
    PortalForm,
    PortalView,
    ScopedModelView,
    day_param,
    domain_errors,
    expose,
    options_of,
)
from portal.views.base import yes_no
from portal.views.today import STOCK_ROLES, my_sites, site_or_picker

SUPERVISOR_ROLES = frozenset({"admin", "supervisor"})
# A site without products has nothing to count: it says so instead of an empty tally.
NO_PRODUCTS = _l(
    "This sales office has no products registered yet, so there is nothing to count. "
    "Contact the service centre to finish setting the site up."
)


def _balance(view, context, model, name):
    qty = model.balance.qty if model.balance is not None else 0
    if qty <= model.reorder_level:
        return Markup('<span class="badge badge-warning">%s</span>') % qty
    return qty


class ProductView(ScopedModelView):
    read_roles = STOCK_ROLES
    write_roles = STOCK_ROLES
    column_list = ("site", "name", "kind", "unit", "balance", "reorder_level", "active")
    column_details_list = (
        "site",
        "name",
        "kind",
        "unit",
        "balance",
        "reorder_level",
        "active",
        "created_at",
    )
    column_export_list = ("site", "name", "kind", "unit", "reorder_level", "active")
    # The stock is not a form field: it changes only through ledger movements.
    form_columns = ("site", "name", "kind", "unit", "reorder_level", "active")
    column_select_related_list = (Product.site, Product.balance)
    column_sortable_list = ("name",)
    column_default_sort = "name"
    column_searchable_list = ("name",)
    column_filters = (
        FilterEqual(Product.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)),
        FilterEqual(Product.kind, _l("Kind"), options=lambda: list(KIND_LABELS.items())),
    )
    column_labels = {
        "site": _l("Site"),
        "name": _l("Name"),
        "kind": _l("Kind"),
        "unit": _l("Unit"),
        "balance": _l("In stock"),
        "reorder_level": _l("Reorder level"),
        "active": _l("Active"),
        "created_at": _l("Created at"),
    }
    column_formatters = {
        "kind": lambda v, c, m, n: KIND_LABELS.get(m.kind, m.kind),
        "balance": _balance,
        "active": yes_no,
    }
    column_formatters_export = {"kind": lambda v, c, m, n: KIND_LABELS.get(m.kind, m.kind)}
    form_overrides = {"kind": SelectField}
    form_args = {
        "kind": {"choices": [(k, KIND_LABELS[k]) for k in PRODUCT_KINDS]},
        "reorder_level": {"validators": [InputRequired(), NumberRange(min=0, max=10000)]},
        "name": {"validators": [InputRequired(), Length(max=100)]},
        "unit": {"validators": [InputRequired(), Length(max=20)]},
    }

    def delete_model(self, model):
        # Ledger rows and tallies point at the product: hide it, never remove it.
        model.soft_delete()
        db.session.commit()
        return True


class StockMovementView(ScopedModelView):
    """The ledger: read-only; a mistake is corrected by a new movement."""

    read_roles = STOCK_ROLES
    write_roles = frozenset()
    _creatable = _editable = _deletable = False
    column_list = ("at", "site", "product", "kind", "quantity", "visit", "reason", "user")
    column_details_list = (
        "at",
        "day",
        "site",
        "product",
        "kind",
        "quantity",
        "visit",
        "reason",
        "user",
    )
    column_export_list = ("at", "day", "site", "product", "kind", "quantity", "reason", "user")
    column_select_related_list = (
        StockMovement.site,
        StockMovement.product,
        StockMovement.visit,
        StockMovement.user,
    )
    column_default_sort = ("id", True)
    column_sortable_list = ("at",)
    column_filters = (
        FilterEqual(
            StockMovement.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)
        ),
        FilterEqual(StockMovement.kind, _l("Kind"), options=lambda: list(MOVEMENT_LABELS.items())),
        DateBetweenFilter(StockMovement.day, _l("Day")),
    )
    column_labels = {
        "at": _l("When"),
        "day": _l("Business day"),
        "site": _l("Site"),
        "product": _l("Product"),
        "kind": _l("Movement"),
        "quantity": _l("Quantity"),
        "visit": _l("Visit"),
        "reason": _l("Reason"),
        "user": _l("Who"),
    }
    column_formatters = {
        "kind": lambda v, c, m, n: MOVEMENT_LABELS.get(m.kind, m.kind),
        "quantity": lambda v, c, m, n: f"{m.quantity:+d}",
        "visit": lambda v, c, m, n: (
            f"#{m.visit.id} {site_time(m.visit.arrived_at, m.site)}" if m.visit else ""
        ),
        "reason": lambda v, c, m, n: _l("Daily tally count")
        if m.reason == tally.TALLY_REASON
        else (m.reason or ""),
    }
    column_formatters_export = column_formatters


def _same_day(view, context, model, name):
    if model.same_day:
        return Markup('<span class="badge badge-success">%s</span>') % _l("Yes")
    return Markup('<span class="badge badge-danger">%s</span>') % _l("No, late")


class DailyTallyView(ScopedModelView):
    """Closed tallies, read-only (closed tallies never change): the records behind the
    dashboard's "tally closed the same day" and "stock variance at the tally" figures."""

    read_roles = STOCK_ROLES
    write_roles = frozenset()
    _creatable = _editable = _deletable = False
    column_list = (
        "day",
        "site",
        "closed_at",
        "same_day",
        "closed_by",
        "early_reason",
        "visitors",
        "drinks_served",
        "units_off",
    )
    column_details_list = (
        "day",
        "site",
        "closed_at",
        "same_day",
        "closed_by",
        "early_reason",
        "visits",
        "visitors",
        "drinks_served",
        "snacks_served",
        "units_off",
        "lines",
    )
    column_export_list = (
        "day",
        "site",
        "closed_at",
        "same_day",
        "closed_by",
        "early_reason",
        "visits",
        "visitors",
        "drinks_served",
        "snacks_served",
        "units_off",
    )
    column_select_related_list = (DailyTally.site, DailyTally.closed_by)
    column_default_sort = ("day", True)
    column_sortable_list = ("day",)
    # URL names (flt0_site_equals, flt1_day_between, flt2_closed_the_same_day_equals) are what
    # the dashboard's drill-downs link to.
    column_filters = (
        FilterEqual(DailyTally.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)),
        DateBetweenFilter(DailyTally.day, _l("Day")),
        BooleanEqualFilter(DailyTally.same_day, _l("Closed the same day")),
    )
    column_labels = {
        "day": _l("Business day"),
        "site": _l("Site"),
        "closed_at": _l("Closed at"),
        "same_day": _l("Closed the same day"),
        "closed_by": _l("Closed by"),
        "early_reason": _l("Closed before the tally time because"),
        "visits": _l("Visits"),
        "visitors": _l("Visitors"),
        "drinks_served": _l("Drinks served"),
        "snacks_served": _l("Snacks served"),
        "units_off": _l("Units off at the count"),
        "lines": _l("Counted stock"),
    }
    column_descriptions = {
        "units_off": _l("Counted minus expected, summed over the products either way.")
    }
    _fmt = {
        "units_off": lambda v, c, m, n: m.units_off,
    }
    column_formatters = {**_fmt, "same_day": _same_day}
    column_formatters_export = {
        **_fmt,
        "same_day": lambda v, c, m, n: str(_l("Yes") if m.same_day else _l("No")),
    }
    column_formatters_detail = column_formatters

    def get_query(self):
        return super().get_query().options(undefer(DailyTally.units_off))


class MovementForm(PortalForm):
    kind = SelectField(
        _l("Kind of change"),
        choices=[
            ("restock", _l("Restock (delivery)")),
            ("wastage", _l("Wastage (broken, expired)")),
            ("correction", _l("Count correction")),
        ],
    )
    product = SelectField(_l("Product"), coerce=int, validate_choice=False)
    quantity = IntegerField(
        _l("Quantity (for a correction: the counted stock)"), validators=[InputRequired()]
    )
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=255)])

    def validate_quantity(self, field):
        # The service's bound for this kind of change, with its message, next to the field.
        bound = bounds.COUNTED if self.kind.data == "correction" else bounds.STOCK_QUANTITY
        message = bounds.quantity_error(field.data, bound)
        if message is not None:
            raise ValidationError(message)


class StockView(PortalView):
    """Balances of the chosen site and the restock / wastage / correction form."""

    read_roles = STOCK_ROLES
    write_roles = STOCK_ROLES

    @expose("/", methods=("GET", "POST"))
    def index(self):
        site, picker = site_or_picker(self, "stock.index")
        if picker is not None:
            return picker
        rows = stock.balances(site)
        form = MovementForm(
            data={
                "kind": request.args.get("kind", "restock"),
                "product": request.args.get("product", type=int),
            }
        )
        form.product.choices = [(p.id, f"{p.name} ({qty} {p.unit})") for p, qty in rows]
        status = 200
        if request.method == "POST":
            if form.validate_on_submit() and self._apply(site, form):
                db.session.commit()
                flash(_l("Stock updated."), "success")
                return redirect(url_for(".index"))
            db.session.rollback()
            status = 400
            rows = stock.balances(site)
        return self.render(
            "consumables/stock.html",
            site=site,
            rows=rows,
            form=form,
            page_title=_l("Drinks and snacks stock"),
        ), status

    def _apply(self, site, form):
        product = stock.product_of_site(site, form.product.data)
        if product is None:
            form.product.errors = [_l("Choose a product of this site.")]
            return False
        kind, qty, reason = form.kind.data, form.quantity.data, (form.reason.data or "").strip()
        with domain_errors(form) as refused:  # the reason next to its field
            if kind == "restock":
                stock.restock(site, product, qty, current_user, reason=reason)
            elif kind == "wastage":
                stock.record_wastage(site, product, qty, current_user, reason=reason)
            else:
                stock.correct_count(site, product, qty, current_user, reason=reason)
        return not refused


class TallyView(PortalView):
    """The 17:50 tally of the chosen site and day."""

    read_roles = STOCK_ROLES
    write_roles = STOCK_ROLES

    @expose("/")
    def index(self):
        site, picker = site_or_picker(self, "tally.index")
        if picker is not None:
            return picker
        return self._page(site, self._day(site))

    @expose("/close", methods=("POST",))
    def close(self):
        site, picker = site_or_picker(self, "tally.index")
        if picker is not None:
            return picker
        day = self._day(site, request.form.get("day"))
        counts = {
            key[len("count_") :]: value.strip()
            for key, value in request.form.items()
            if key.startswith("count_")
        }
        early_reason = request.form.get("early_reason", "")
        with domain_errors(flash_message=False) as refused:
            if not tally.compute_tally(site, day).rows:
                raise DomainError(NO_PRODUCTS)  # nothing to count: not a tally "without variance"
            tally.close_tally(
                site,
                day,
                counts,
                current_user,
                early_reason=early_reason,
                on_site_confirmed=request.form.get("on_site_confirmed") == "1",
            )
        if refused:
            on_site = refused.error.field == "on_site"
            return self._page(
                site,
                day,
                error=None if on_site else refused.message,
                warning=refused.message if on_site else None,
                errors=refused.errors,
                entered=counts,
                early_reason=early_reason,
            ), refused.status
        db.session.commit()
        flash(_l("The tally of %(day)s is closed.", day=day.isoformat()), "success")
        return redirect(
            url_for("today.index") if day == clock.local_day(site) else url_for(".index", day=day)
        )

    @expose("/missing")
    def missing(self):
        if current_user.role not in SUPERVISOR_ROLES:
            abort(403)
        return self.render(
            "consumables/tally_missing.html",
            missing=tally.tally_missing(my_sites()),
            page_title=_l("Tallies missing"),
        )

    def _day(self, site, raw=None):
        raw = raw if raw is not None else request.args.get("day")
        today = clock.local_day(site)
        day = day_param(raw, today)
        if day > today:
            abort(404)
        return day

    def _page(
        self, site, day, error=None, errors=None, entered=None, warning=None, early_reason=""
    ):
        figures = tally.compute_tally(site, day)
        today = clock.local_day(site)
        closable_error = bounds.tally_day_error(site, day, today)
        if not figures.rows and not figures.closed:
            closable_error = NO_PRODUCTS
        return self.render(
            "consumables/tally.html",
            site=site,
            day=day,
            figures=figures,
            error=error,
            closable_error=closable_error,
            errors=errors or {},
            entered=entered or {},
            warning=warning,
            early_reason=early_reason,
            due=tally.tally_time_passed(site, day),
            today=today,
            can_close=self.can_write(),
            is_supervisor=current_user.role in SUPERVISOR_ROLES,
            page_title=_l("Daily tally %(day)s", day=day.isoformat()),
        )


# ---------------------------------------------------------------- Today sections


def tally_section(site, day, user):
    return {
        "site": site,
        "day": day,
        "due": tally.tally_time_passed(site, day),
        "closed": today.kept(
            site, day, "tally.closed", lambda: tally.closed_tally(site, day, summary=True)
        ),
        "tally_time": site.tally_time,
    }


def low_stock_section(site, day, user):
    return {
        "site": site,
        "items": today.kept(site, day, "stock.low", lambda: stock.low_stock(site)),
    }


def tallies_missing_section(site, day, user):
    # The supervisor's view across all his sites, not only the one picked.
    return {"missing": tally.tally_missing(my_sites())}


def register(admin):
    category = _l("Drinks and snacks")
    admin.add_view(StockView(name=_l("Stock"), endpoint="stock", url="/stock", category=category))
    admin.add_view(
        TallyView(name=_l("Daily tally"), endpoint="tally", url="/tally", category=category)
    )
    admin.add_view(
        ProductView(
            Product, name=_l("Products"), endpoint="product", url="/product", category=category
        )
    )
    admin.add_view(
        StockMovementView(
            StockMovement,
            name=_l("Stock ledger"),
            endpoint="stockmovement",
            url="/stockmovement",
            category=category,
        )
    )
    admin.add_view(
        DailyTallyView(
            DailyTally,
            name=_l("Closed tallies"),
            endpoint="dailytally",
            url="/dailytally",
            category=category,
        )
    )
