"""Base views every admin page and workflow page inherits.

Row scoping is not done here: the session's site scope (``portal.services.scope``)
already filters every query these views run, including ``get_one``, ajax lookups,
related dropdowns, exports and actions. What the base views add is the HTTP face of
it: out-of-scope or malformed ids answer 404, a forged reference is refused, a failed
form answers 400, and which role may read or write each view.
"""

from collections import OrderedDict
from datetime import date, datetime, time
from types import SimpleNamespace

from flask import (
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_admin import BaseView, expose
from flask_admin.actions import action
from flask_admin import babel as fa_babel
from flask_admin.babel import gettext as fa_gettext, lazy_gettext as fa_lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from flask_admin.model.fields import AjaxSelectField, AjaxSelectMultipleField
from flask_admin.model import typefmt
from flask_babel import format_date, format_datetime
from portal import clock
from portal.i18n import lazy_gettext as _l, local_text
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from sqlalchemy import DateTime, inspect as sa_inspect, select
from sqlalchemy.orm import RelationshipProperty, joinedload
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField
from markupsafe import Markup, escape
from werkzeug.wrappers import Response as WerkzeugResponse
from urllib.parse import quote as url_quote

from portal.errors import DomainError
from portal.extensions import db
from portal.services import bounds
from portal.services import sites as site_life
from portal.services.scope import ScopeViolation
from portal.views.exports import SafeExportMixin
from portal.models.base import VersionedMixin
import uuid
from portal.models import Site
from flask_babel import force_locale

# Library messages that have no Chinese in the library's own catalogue.
_UNTRANSLATED = {
    "Not a valid choice": _l("Not a valid choice."),
    "Invalid Choice: could not coerce": _l("Not a valid choice."),
}

ALL_ROLES = frozenset({"admin", "supervisor", "clerk", "security", "sales", "maintenance"})


class PortalForm(FlaskForm):
    """The base of every form: a FlaskForm (CSRF from CSRFProtect) that remembers the record it
    edits, as Flask-Admin's own BaseForm does (its Unique validator needs ``_obj`` to recognise
    the same record)."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            # WTForms' own messages from Flask-Admin's Flask-Babel domain of them, loaded once per
            # language and process; Flask-WTF's reads the catalogue file again in every request
            # (~0.9 ms of each page with a form, a list page's delete form included).
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _WTFORMS_TRANSLATIONS

    def __init__(self, formdata=_Auto, obj=None, prefix="", **kwargs):
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)
        self._obj = obj


_WTFORMS_TRANSLATIONS = fa_babel.Translations()


class RoleGuard:
    """Who may open a view (``read_roles``) and who may change its records (``write_roles``)."""

    read_roles = frozenset({"admin"})
    write_roles = frozenset({"admin"})

    def is_accessible(self):
        # Asked of every menu entry on every page: the proxy is looked through once.
        user = current_user._get_current_object()
        return user.is_authenticated and user.role in self.read_roles

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    def can_write(self):
        user = current_user._get_current_object()
        return user.is_authenticated and user.role in self.write_roles


class PortalView(RoleGuard, BaseView):
    """A custom workflow page (checklist run, tally, sign handover…)."""

    def render(self, template, **kwargs):
        kwargs.setdefault("page_title", self.name)
        return super().render(template, **kwargs)


def _format_datetime(view, value, name=None):
    # Stored in UTC; shown in the user's timezone (the site's), to the minute.
    return format_datetime(value, "yyyy-MM-dd HH:mm")


def row_zone(row):
    """The zone of the site a row belongs to. The site loaded with the row is used as it is;
    otherwise every site's zone is read once per request (one small query, never one per row)."""
    zones = g.setdefault("_site_zones", {})
    site_id = row.site_id
    if site_id not in zones:
        loaded = sa_inspect(row).dict.get("site")
        if loaded is not None and loaded.id == site_id:
            zones[site_id] = clock.site_zone(loaded)
        else:
            for sid, name in db.session.execute(select(Site.id, Site.timezone)):
                zones.setdefault(sid, clock.zone(name))
            zones.setdefault(site_id, clock.DEFAULT_ZONE)
    return zones[site_id]


def _format_date(view, value, name=None):
    return format_date(value, "yyyy-MM-dd")


def _format_time(view, value, name=None):
    return value.strftime("%H:%M")


def _format_bool(view, value, name=None):
    return _l("Yes") if value else _l("No")


# SafeExportMixin (reports branch): CSV with BOM, formula injection neutralised, for every view.
class ScopedModelView(SafeExportMixin, RoleGuard, ModelView):
    """A Flask-Admin list/detail/edit view over site data."""

    column_type_formatters = {
        **typefmt.BASE_FORMATTERS,
        datetime: _format_datetime,
        date: _format_date,
        time: _format_time,
        bool: _format_bool,
    }
    # Details pages format like the list (Flask-Admin's own detail formatters print True/False).
    column_type_formatters_detail = column_type_formatters
    column_type_formatters_export = {
        datetime: _format_datetime,
        date: _format_date,
        time: _format_time,
        bool: _format_bool,
        type(None): lambda view, value, name=None: "",
    }

    form_base_class = PortalForm  # not SecureForm: with CSRFProtect it fails silently (STACK.md)
    can_view_details = True
    # Readable, stable filter URLs (?flt0_site_equals=3): dashboard drill-downs and links use them.
    named_filter_urls = True
    page_size = 25
    can_set_page_size = False
    # Counting a million rows costs more than the page: show "next" instead of page numbers.
    simple_list_pager = True
    details_modal = False
    edit_modal = False
    create_modal = False
    # Roles (subset of write_roles) allowed to delete; soft-delete where reports need the rows.
    delete_roles = frozenset({"admin"})
    export_roles = frozenset({"admin", "supervisor"})

    def __init__(self, model, *args, **kwargs):
        # Inline (x-editable) saves carry no record version, so they would overwrite a colleague's
        # change unseen; corrections go through the versioned edit form, and row_html has no
        # inline editors.
        if self.column_editable_list:
            raise TypeError(
                f"{type(self).__name__}: inline editing is not offered (column_editable_list)"
            )
        super().__init__(model, db, *args, **kwargs)

    # Per-user rights: Flask-Admin reads these attributes when it renders and on each POST.
    @property
    def can_create(self):
        return self.can_write() and self._creatable

    @can_create.setter
    def can_create(self, value):
        self._creatable = value

    @property
    def can_edit(self):
        return self.can_write() and self._editable

    @can_edit.setter
    def can_edit(self, value):
        self._editable = value

    @property
    def can_delete(self):
        return self.can_write() and current_user.role in self.delete_roles and self._deletable

    @can_delete.setter
    def can_delete(self, value):
        self._deletable = value

    _creatable = True
    _editable = True
    _deletable = True

    @property
    def can_export(self):
        return self._exportable and bool(self.export_types)

    @can_export.setter
    def can_export(self, value):
        self._exportable = value

    _exportable = True

    @property
    def export_types(self):
        return (
            ["csv", "xlsx"]
            if current_user.is_authenticated and current_user.role in self.export_roles
            else []
        )

    @export_types.setter
    def export_types(self, value):
        pass

    def _get_filter_groups(self):
        """The filters shown on the list page, with their options read now, through the user's
        scope. Flask-Admin builds them once at start-up and keeps them on the view object,
        which every request and thread shares: rebuilding that copy per request would let one
        user's options (sites, people) be read by another request. They are built into a local
        value instead; the filters themselves and their URL names are the same for everybody."""
        if not self._filters:
            return None
        groups = OrderedDict()
        for index, flt in enumerate(self._filters):
            options = flt.get_options(self)
            groups.setdefault(str(flt.name), []).append(
                {
                    "index": index,
                    "arg": self.get_filter_arg(index, flt),
                    "operation": str(flt.operation()),
                    "options": [(key, str(label)) for key, label in options] if options else None,
                    "type": flt.data_type,
                }
            )
        return groups

    def handle_filter(self, filter):
        return super().handle_filter(_int_equal(filter))

    def _get_list_filter_args(self):
        """The list filters of the URL; a date outside the years a page can show (0001-01-01 would
        overflow the local-day arithmetic of the filter) answers 400 with the reason."""
        filters = super()._get_list_filter_args()
        for index, _name, value in filters or ():
            if self._filters[index].data_type in _DATE_FILTER_TYPES:
                for part in str(value).split(" to "):
                    try:
                        bounds.check_day(date.fromisoformat(part.strip()[:10]))
                    except (ValueError, DomainError) as exc:
                        message = getattr(exc, "message", None) or _l("Enter a date as YYYY-MM-DD.")
                        bad_parameter(message)
        return filters

    def _get_list_extra_args(self):
        """Page number and search of the URL, bounded: a page past any real list overflows the
        database's OFFSET, and a search of hundreds of words builds a query SQLite refuses."""
        args = super()._get_list_extra_args()
        if not 0 <= (args.page or 0) <= MAX_LIST_PAGE:
            bad_parameter(_l("Choose a page between 1 and %(n)s.", n=MAX_LIST_PAGE + 1))
        if args.search:
            search = " ".join(args.search.split())
            words = search.split(" ")
            if len(words) > MAX_SEARCH_WORDS or len(search) > MAX_SEARCH_CHARS:
                search = " ".join(words[:MAX_SEARCH_WORDS])[:MAX_SEARCH_CHARS]
                flash(
                    _l(
                        "The search was cut to its first %(n)s words (at most %(chars)s "
                        "characters).",
                        n=MAX_SEARCH_WORDS,
                        chars=MAX_SEARCH_CHARS,
                    ),
                    "warning",
                )
            args.search = search
        return args

    def get_filter_arg(self, index, flt):
        # URL names stay English (flt0_site_equals) so links work in every language; they
        # never change, so each is worked out once.
        names = self.__dict__.setdefault("_filter_arg_names", {})
        if index not in names:
            with force_locale("en"):
                names[index] = super().get_filter_arg(index, flt)
        return names[index]

    list_template = "admin/model/portal_list.html"

    def row_buttons(self, row_id, return_url, view_only=False):
        """The view/edit/delete buttons of one list row (``view_only``: the view button alone, for
        read-only rows). They differ only by the row's id, so they are rendered once per page
        with a placeholder id that is then replaced."""
        cache = g.setdefault("_row_buttons", {})
        key = (self.endpoint, return_url, view_only)
        if key not in cache:
            actions = self.get_list_row_actions()
            if view_only:
                actions = [a for a in actions if type(a).__name__.startswith("View")]
            cache[key] = render_template(
                "admin/model/row_buttons.html",
                admin_view=self,
                get_url=self.get_url,
                list_row_actions=actions,
                row_id=_ROW_ID_PLACEHOLDER,
                return_url=return_url,
                _gettext=fa_gettext,
            )
        return Markup(cache[key].replace(_ROW_ID_PLACEHOLDER, url_quote(str(row_id), safe="")))

    def row_html(self, row, return_url, with_checkbox, view_only=False):
        """The cells of one list row, built here rather than in Jinja: a list page is mostly its
        rows, and a template loop with a macro call per cell cost a third of the page (measured).
        The values are Flask-Admin's own (column and type formatters), escaped as Jinja would."""
        pk = escape(self.get_pk_value(row))
        cells = []
        if with_checkbox:
            title = g.get("_select_record_title")
            if title is None:
                title = g._select_record_title = escape(fa_gettext("Select record"))
            cells.append(
                '<td><input type="checkbox" name="rowid" class="action-checkbox" '
                f'value="{pk}" title="{title}"></td>'
            )
        if self.column_display_actions:
            cells.append(
                '<td class="list-buttons-column">'
                f"{self.row_buttons(pk, return_url, view_only)}</td>"
            )
        formatters, type_formatters = self.column_formatters, self.column_type_formatters
        labels = g.get("_list_column_labels")
        if labels is None:
            # The column's heading on each cell: a phone shows the row as a card of
            # "heading: value" lines (portal.css), the table being too wide for its screen.
            labels = g._list_column_labels = {
                column: escape(name) for column, name in self._list_columns
            }
        for column, _name in self._list_columns:
            value = self._get_list_value(None, row, column, formatters, type_formatters)
            cells.append(
                f'<td data-label="{labels[column]}" class="col-{column}">{escape(value)}</td>'
            )
        return Markup("".join(cells))

    def _get_list_value(self, context, model, name, column_formatters, column_type_formatters):
        # The times of a site's record are the site's own (the list, the details and the
        # exports alike), named when the reader's clock differs; a type formatter gets no row.
        if name not in column_formatters and self._is_site_time(name):
            value = self._get_field_value(model, name)
            if isinstance(value, datetime) and getattr(model, "site_id", None) is not None:
                return local_text(value, row_zone(model))
        return super()._get_list_value(
            context, model, name, column_formatters, column_type_formatters
        )

    def _is_site_time(self, name):
        known = self.__dict__.setdefault("_site_time_columns", {})
        if name not in known:
            column = getattr(self.model, name, None) if isinstance(name, str) else None
            sql_type = getattr(getattr(column, "type", None), "impl", None) or getattr(
                column, "type", None
            )
            known[name] = isinstance(sql_type, DateTime) and hasattr(self.model, "site_id")
        return known[name]

    @expose("/")
    def index_view(self):
        # The list page reads one row past its page: without counting, that is how it knows
        # whether a next page exists, so that 下一页 never opens an empty page. Only the list
        # page: an export reads all its rows through the same get_list.
        g.list_peek = True
        try:
            return super().index_view()
        finally:
            g.list_peek = False

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if g.get("list_peek"):
            g.list_has_next_page = len(rows) > self.page_size
            rows = rows[: self.page_size]
        return count, rows

    def _apply_pagination(self, query, page, page_size):
        query = super()._apply_pagination(query, page, page_size)
        return query.limit(self.page_size + 1) if g.get("list_peek") else query

    def has_next_page(self):
        """Whether the list page just read has rows after it (see ``get_list``)."""
        return g.get("list_has_next_page", False)

    def row_url(self, endpoint, row_id, return_url):
        """``get_url(endpoint, id=row_id, url=return_url)`` for list rows: the URL is built once
        per page and endpoint with a placeholder id, instead of a full ``url_for`` per row and
        button."""
        cache = g.setdefault("_row_urls", {})
        key = (self.endpoint, endpoint, return_url, row_id is None)
        if key not in cache:
            args = {"id": _ROW_ID_PLACEHOLDER} if row_id is not None else {}
            if return_url:
                args["url"] = return_url
            cache[key] = self.get_url(endpoint, **args)
        if row_id is None:
            return cache[key]
        return cache[key].replace(_ROW_ID_PLACEHOLDER, url_quote(str(row_id), safe=""))

    # Loader options for what the details page shows of one record (its lines and their names):
    # loaded with it instead of one statement per line.
    one_options = ()

    def get_one(self, id):
        """The record if it is in scope; 404 otherwise (also for ids that are not ids). Its site
        comes with it: the details show the record's times on the site's clock."""
        site = getattr(self.model, "site", None)
        is_relation = isinstance(getattr(site, "property", None), RelationshipProperty)
        options = [joinedload(site)] if is_relation else []
        return get_or_404(self.model, id, options=options + list(self.one_options))

    @action(
        "delete",
        fa_lazy_gettext("Delete"),
        fa_lazy_gettext("Are you sure you want to delete selected records?"),
    )
    def action_delete(self, ids):
        # Flask-Admin passes the ids as strings; PostgreSQL refuses ``integer = varchar``.
        return super().action_delete([as_id(i) for i in ids])

    def handle_action(self, return_view=None):
        # Bulk actions get the raw ``rowid`` list: refuse non-ids before any query sees them.
        for rowid in request.form.getlist("rowid"):
            as_id(rowid)
        return super().handle_action(return_view)

    def validate_form(self, form):
        # An ajax-picked id that the scoped loader cannot find (forged, or another site's)
        # would silently become "no value": refuse it instead.
        ok = super().validate_form(form)
        for field in form:
            field.errors = [
                str(_UNTRANSLATED.get(e, e)) if isinstance(e, str) else e for e in field.errors
            ]
            raw = request.form.get(field.name) if isinstance(field, AjaxSelectField) else None
            if raw:
                wanted = (
                    len([v for v in raw.split(",") if v])
                    if isinstance(field, AjaxSelectMultipleField)
                    else 1
                )
                found = (
                    len(field.data or [])
                    if isinstance(field, AjaxSelectMultipleField)
                    else int(bool(field.data))
                )
                if found < wanted:
                    field.errors = list(field.errors) + [str(_l("Not a valid choice."))]
                    ok = False
        return ok

    # Optimistic locking for models with VersionedMixin: the edit form carries the version
    # it was opened with; a save based on an older version answers 409 and changes nothing.
    def get_edit_form(self):
        form_class = super().get_edit_form()
        if _is_versioned(self.model):
            form_class = type(form_class.__name__, (form_class,), {VERSION_FIELD: HiddenField()})
        return form_class

    def _on_model_change(self, form, model, is_created):
        super()._on_model_change(form, model, is_created)
        if not is_created and _is_versioned(self.model) and hasattr(model, "updated_at"):
            # A save that changed only related rows (a template's items, a user's sites) issues no
            # UPDATE of its own and would leave the version as it was: bump it all the same.
            model.updated_at = clock.now()

    def update_model(self, form, model):
        if VERSION_FIELD in form:
            # From the request, not the field: WTForms fills a missing field from the model.
            sent = request.form.get(VERSION_FIELD)
            del form[VERSION_FIELD]  # never copied onto the model: the ORM bumps it
            if str(sent) != str(model.version):
                stale_record()
        return super().update_model(form, model)

    def handle_view_exception(self, exc):
        if isinstance(exc, StaleDataError):
            stale_record()
        if isinstance(exc, DomainError):
            # A rule of the service refused the save (on_model_change, delete_model): the form
            # again with the reason on top, answered with the refusal's status.
            db.session.rollback()
            flash(exc.message, "error")
            g.refusal_status = exc.status
            return True
        if isinstance(exc, ScopeViolation):
            db.session.rollback()
            current_app.logger.warning("scope violation by user %s: %s", current_user.get_id(), exc)
            abort(404)
        return super().handle_view_exception(exc)

    # A form that fails validation is re-shown with 400, not 200, so clients and tests see the
    # refusal.
    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        return self._status_for_form(super().create_view())

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        return self._status_for_form(super().edit_view())

    def _status_for_form(self, resp):
        if request.method == "POST" and not isinstance(resp, WerkzeugResponse):
            return current_app.response_class(resp, status=g.pop("refusal_status", 400))
        return resp

    def get_export_name(self, export_type="csv"):
        # secure_filename would strip a Chinese view name to nothing.
        return f"{self.endpoint}_{clock.local_day(clock.DEFAULT_ZONE):%Y%m%d}.{export_type}"


class _IntEqualFilter(IntEqualFilter):
    def validate(self, value):
        return str(value).isascii() and str(value).isdigit() and int(value) < 2**63


def _int_equal(flt):
    """A ``FilterEqual`` on an integer column (site_id, region_id…) as an integer filter:
    PostgreSQL refuses ``integer = varchar`` and a non-number must be ignored, not a 500."""
    if type(flt) is not FilterEqual:
        return flt
    try:
        is_int = flt.column.type.python_type is int
    except (AttributeError, NotImplementedError):
        return flt
    return _IntEqualFilter(flt.column, flt.name, options=flt.options) if is_int else flt


VERSION_FIELD = "version"
# Filters whose values are dates or date ranges (Flask-Admin's widget names).
_DATE_FILTER_TYPES = frozenset(
    {"datepicker", "daterangepicker", "datetimepicker", "datetimerangepicker"}
)
MAX_LIST_PAGE = 100_000  # 2.5 million rows at 25 a page
MAX_SEARCH_WORDS = 10
MAX_SEARCH_CHARS = 200
# Letters and digits only: the same in a URL, an attribute and text.
_ROW_ID_PLACEHOLDER = "rowidplaceholder7f3a"


def _is_versioned(model):
    return issubclass(model, VersionedMixin)


def stale_record():
    """Answer 409: someone saved the record since this form was opened; nothing is written."""
    db.session.rollback()
    body = render_template(
        "errors/error.html", code=409, message=STALE_MESSAGE, error_id=uuid.uuid4().hex[:10]
    )
    abort(current_app.response_class(body, status=409))


STALE_MESSAGE = _l(
    "Someone else saved this record while you were editing it. Your changes were not saved: "
    "reload the record and make them again."
)


def as_id(id):
    """The id as an int, or 404 for anything that is not a possible primary key (PostgreSQL
    would fail on ``'abc'`` or 2**63 with an error instead of finding nothing)."""
    text = str(id) if id is not None else ""
    if not (text.isascii() and text.isdigit()):
        abort(404)
    value = int(text)
    if not 0 < value < 2**63:
        abort(404)
    return value


_ID_MARK = 987654321000  # an id no table reaches: replaced in URLs built once per request


def url_with_ids(endpoint, **ids):
    """``url_for(endpoint, **ids)`` for integer ids, built once per request and endpoint with
    placeholder ids that are then replaced: for markup repeated on every row of a list."""
    patterns = g.setdefault("_url_patterns", {})
    names = tuple(sorted(ids))
    key = (endpoint, names)
    if key not in patterns:
        patterns[key] = url_for(endpoint, **{name: _ID_MARK + i for i, name in enumerate(names)})
    url = patterns[key]
    for i, name in enumerate(names):
        url = url.replace(str(_ID_MARK + i), str(int(ids[name])))
    return url


def get_or_404(model, id, options=()):
    """A record by id through the site scope; 404 when missing, out of scope or not an id."""
    obj = db.session.get(model, as_id(id), options=options)
    if obj is None:
        abort(404)
    return obj


def options_of(model, label=str, order_by=None):
    """Filter options (id, label) of a model, read through the scope; empty outside a request.
    A model that names the columns its ``__str__`` reads (``option_columns``) is read as plain
    rows: building 500 ORM objects for a user dropdown cost more than the list page itself.
    Read on every view: a copy kept per process could be out of date on another worker."""

    def read():
        order = order_by if order_by is not None else model.id
        columns = getattr(model, "option_columns", None)
        if label is str and columns:
            stmt = (
                select(model.id, *(getattr(model, c) for c in columns)).order_by(order).limit(500)
            )
            return [
                (row.id, model.__str__(SimpleNamespace(**row._mapping)))
                for row in db.session.execute(stmt)
            ]
        query = db.session.query(model).order_by(order)
        return [(obj.id, label(obj)) for obj in query.limit(500)]

    def options():
        if not has_request_context():
            return []
        return read()

    return options


def bad_parameter(message):
    """Answer 400 with ``message`` on the error page: a URL parameter no page can show."""
    db.session.rollback()
    body = render_template(
        "errors/error.html", code=400, message=message, error_id=uuid.uuid4().hex[:10]
    )
    abort(current_app.response_class(body, status=400))


def day_param(text, default=None):
    """A date from the URL (``bounds.parse_day``, the one parser of them); ``default`` when it is
    absent; 400 with the reason (the error page) when it is not a date a page can show."""
    if not (text or "").strip():
        return default
    return bounds.parse_day(text)


class domain_errors:
    """Catches the ``DomainError`` a service raises in the block and keeps it for the page::

        with domain_errors(form) as refused:
            service.do_it(...)
            db.session.commit()
        if refused:
            return self.render(...), refused.status

    The refusal is shown as ``show_refusal`` does; ``flash_message=False`` when the page shows
    ``refused.message`` itself. ``refused.errors`` holds the messages of a form of many rows.
    A 403 refusal is not kept: it answers with the error page (``portal.views.errors``), as
    every other "not allowed" does."""

    def __init__(self, form=None, flash_message=True):
        self.form, self.flash_message, self.error = form, flash_message, None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if not isinstance(exc, DomainError) or exc.status == 403:
            return False
        show_refusal(exc, self.form, self.flash_message)
        self.error = exc
        return True

    def __bool__(self):
        return self.error is not None

    @property
    def message(self):
        return self.error.message if self.error is not None else None

    @property
    def errors(self):
        return self.error.errors if self.error is not None else {}

    @property
    def status(self):
        return self.error.status if self.error is not None else 200


def show_refusal(exc, form=None, flash_message=True):
    """A ``DomainError`` caught in a view: the transaction rolled back (nothing written) and the
    message next to its field of ``form`` (above the form, ``form.form_errors``, when the form has
    no such field), or, without a form, in a flash message on top of the page. A 403 goes on to
    the error page. For an ``except`` that sits beside other handlers; else ``domain_errors``."""
    if exc.status == 403:
        raise exc
    db.session.rollback()
    if form is not None:
        field = form[exc.field] if exc.field and exc.field in form else None
        if field is not None:
            field.errors = [*field.errors, exc.message]
        else:
            form.form_errors.append(exc.message)
    elif flash_message:
        flash(exc.message, "error")


def period_args(args):
    """(start, end, errors) from ``?start=&end=`` (ISO local days, both inclusive) of a workflow
    page the dashboard drills into; (None, None, {}) when absent. errors: {field: message}."""
    raw = {key: (args.get(key) or "").strip() for key in ("start", "end")}
    if not raw["start"] and not raw["end"]:
        return None, None, {}
    days, errors = {}, {}
    for key, text in raw.items():
        try:
            days[key] = bounds.parse_day(text)
        except DomainError as exc:
            errors[key] = exc.message
    if not errors and days["end"] < days["start"]:
        errors["end"] = _l("The end date must not be before the start date.")
    if errors:
        return None, None, errors
    return days["start"], days["end"], {}


def site_choices_query():
    """Sites the current user may put a record in (the scope filters the query)."""
    return db.session.query(Site).filter(site_life.taking_records()).order_by(Site.code)


__all__ = [
    "ALL_ROLES",
    "PortalView",
    "RoleGuard",
    "ScopedModelView",
    "_l",
    "expose",
    "get_or_404",
    "options_of",
    "period_args",
    "site_choices_query",
    "day_param",
    "bad_parameter",
    "domain_errors",
    "show_refusal",
]


def yes_no(view, context, model, name):
    value = getattr(model, name)
    # Static markup only: no user data goes through Markup.
    if value:
        return Markup('<span class="badge badge-success">%s</span>') % _l("Yes")
    return Markup('<span class="badge badge-secondary">%s</span>') % _l("No")
