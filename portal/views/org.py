"""Admin views of the organisation: regions, sites, show units, users, staff."""

from flask import url_for
from markupsafe import Markup, escape
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from portal.i18n import lazy_gettext as _l
from sqlalchemy.orm import selectinload
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.extensions import db
from portal.models import ROLES, STAFF_KINDS, Region, ShowUnit, Site, StaffMember, User
from portal.services import auth as accounts
from portal.services import people
from portal.services import repairs
from portal.services.metrics import org as org_figures
from portal.views.audit import PeriodClauseFilter
from portal.views.base import ALL_ROLES, ScopedModelView, options_of
from portal.models.org import ROLE_LABELS, SITE_STATUS_LABELS, STAFF_KIND_LABELS
from portal.views.base import yes_no
from wtforms.validators import ValidationError

# From the least powerful role to the most: the order of the role choices.
ROLES_BY_POWER = ("clerk", "security", "sales", "maintenance", "supervisor", "admin")
SITE_ROLES = frozenset({"admin", "supervisor", "clerk", "security", "sales", "maintenance"})


class RegionView(ScopedModelView):
    read_roles = frozenset({"admin", "supervisor"})
    column_list = ("code", "name", "active")
    column_details_list = ("code", "name", "active", "sites", "created_at")
    column_export_list = ("code", "name", "active")
    form_columns = ("code", "name", "active")
    column_sortable_list = ("code",)
    column_searchable_list = ("code", "name")
    column_labels = {
        "code": _l("Code"),
        "name": _l("Name"),
        "active": _l("Active"),
        "sites": _l("Sites"),
        "created_at": _l("Created at"),
    }
    column_formatters = {"active": yes_no}


class SiteView(ScopedModelView):
    read_roles = SITE_ROLES
    # "Create" leads to a new site from a template (portal/views/site_setup.py); the blank form
    # stays one link further.
    list_template = "site_setup/site_list.html"
    create_template = "site_setup/site_create.html"
    column_list = ("code", "name", "region", "address", "tally_time", "status")
    column_details_list = (
        "code",
        "name",
        "region",
        "address",
        "timezone",
        "tally_time",
        "opened_on",
        "status",
        "show_units",
        "created_at",
    )
    column_export_list = ("code", "name", "region", "address", "timezone", "tally_time", "status")
    form_columns = (
        "code",
        "name",
        "region",
        "address",
        "timezone",
        "tally_time",
        "opened_on",
        "default_maintenance",
    )
    column_select_related_list = (Site.region,)
    column_sortable_list = ("code",)
    column_searchable_list = ("code", "name", "address")
    column_filters = (
        IntEqualFilter(
            Site.region_id, _l("Region"), options=options_of(Region, order_by=Region.code)
        ),
    )
    column_labels = {
        "code": _l("Code"),
        "name": _l("Name"),
        "region": _l("Region"),
        "address": _l("Address"),
        "timezone": _l("Time zone"),
        "tally_time": _l("Tally time"),
        "status": _l("Status"),
        "opened_on": _l("Opened on"),
        "default_maintenance": _l("Default maintenance worker"),
        "show_units": _l("Show units"),
        "created_at": _l("Created at"),
    }
    # The status leads to the site's own page: its readiness and the open / close buttons.
    column_formatters = {
        "status": lambda v, c, m, n: Markup(
            '<a href="{}" class="site-page-link">{}</a>'.format(
                escape(url_for("sitepage.site", site_id=m.id)),
                escape(SITE_STATUS_LABELS.get(m.status, m.status)),
            )
        )
    }
    column_descriptions = {
        "opened_on": _l("No visit, report or tally can be dated before this day."),
        "default_maintenance": _l("New repair tickets of the site go to him automatically."),
    }

    def _offer_maintenance(self, form, site):
        """Only the site's own maintenance workers (none yet for a site being created)."""
        if "default_maintenance" in form:
            workers = repairs.assignee_choices(site) if site is not None else []
            field = form.default_maintenance
            field.query, field.query_factory, field._object_list = None, lambda: workers, None

    def create_form(self, obj=None):
        form = super().create_form(obj)
        self._offer_maintenance(form, None)
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        self._offer_maintenance(form, obj)
        return form


class ShowUnitView(ScopedModelView):
    read_roles = SITE_ROLES
    write_roles = frozenset({"admin", "supervisor"})
    column_list = ("site", "name", "location", "active")
    column_details_list = ("site", "name", "location", "active", "created_at")
    column_export_list = ("site", "name", "location", "active")
    form_columns = ("site", "name", "location", "active")
    column_select_related_list = (ShowUnit.site,)
    column_sortable_list = ("name",)
    column_filters = (
        IntEqualFilter(ShowUnit.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)),
    )
    column_labels = {
        "site": _l("Site"),
        "name": _l("Name"),
        "location": _l("Location"),
        "active": _l("Active"),
        "created_at": _l("Created at"),
    }
    column_formatters = {"active": yes_no}


class UserView(ScopedModelView):
    read_roles = frozenset({"admin", "supervisor"})
    # Explicit allow-lists everywhere: the password hash and session token never leave the database.
    column_list = ("username", "display_name", "role", "sites", "active", "last_login_at")
    column_details_list = (
        "username",
        "display_name",
        "role",
        "sites",
        "regions",
        "locale",
        "active",
        "last_login_at",
        "created_at",
    )
    column_export_list = ("username", "display_name", "role", "active", "last_login_at")
    form_columns = (
        "username",
        "display_name",
        "role",
        "sites",
        "regions",
        "locale",
        "active",
        "new_password",
        "phone",
        "post",
    )
    column_sortable_list = ("username",)
    column_searchable_list = ("username", "display_name")
    # A user's sites in a second statement for the page's 25 users: Flask-Admin's automatic
    # joined load of this many-to-many made SQLite join every membership of every site first
    # (2 ms at 2,000 users, growing with them).
    column_auto_select_related = False
    column_filters = (
        FilterEqual(User.role, _l("Role"), options=lambda: list(ROLE_LABELS.items())),
    )
    column_labels = {
        "username": _l("User name"),
        "display_name": _l("Full name"),
        "role": _l("Role"),
        "sites": _l("Sites"),
        "regions": _l("Regions (supervisors)"),
        "locale": _l("Language"),
        "active": _l("Active"),
        "last_login_at": _l("Last login"),
        "created_at": _l("Created at"),
        "new_password": _l("New password"),
    }
    column_formatters = {
        "active": yes_no,
        "role": lambda v, c, m, n: ROLE_LABELS.get(m.role, m.role),
        "sites": lambda v, c, m, n: "、".join(s.code for s in m.sites),
    }
    form_overrides = {"role": SelectField, "locale": SelectField}
    form_args = {
        # No role is chosen for the user: the form opens on "please choose", the least powerful
        # roles first, head office last.
        "role": {
            "choices": [("", _l("Please choose"))]
            + [(r, ROLE_LABELS[r]) for r in sorted(ROLES, key=ROLES_BY_POWER.index)],
            "validators": [DataRequired()],
            "default": "",
        },
        "locale": {"choices": [("zh_Hans_CN", "中文"), ("en", "English")]},
    }
    form_extra_fields = {
        "new_password": PasswordField(
            _l("New password"),
            validators=[Optional()],
            description=_l(
                "At least %(n)d characters, not a common password and not containing the user "
                "name. Required for a new user; leave empty to keep the current one.",
                n=accounts.MIN_PASSWORD,
            ),
        ),
        "phone": StringField(
            _l("Phone"),
            validators=[Optional(), Length(max=30)],
            description=_l("Written on the staff record of each of the user's sites."),
        ),
        "post": StringField(
            _l("Post or duty"),
            validators=[Optional(), Length(max=100)],
            description=_l("Written in the notes of the staff record, e.g. reception, shuttle."),
        ),
    }
    form_widget_args = {"new_password": {"autocomplete": "new-password"}}

    def get_query(self):
        return super().get_query().options(selectinload(User.sites))

    def on_form_prefill(self, form, id):
        # The phone and post of the login's staff record (the first active one).
        linked = people.linked_staff(self.get_one(id))
        if linked and linked[0].active:
            form.phone.data = linked[0].phone
            notes = linked[0].notes or ""
            # Notes of several lines are more than a post: left alone (an empty post keeps them).
            if "\n" not in notes and len(notes) <= 100:
                form.post.data = notes

    def on_model_change(self, form, model, is_created):
        password = form.new_password.data
        if is_created and not password:
            raise_validation(_l("A new user needs a password."))
        if password:
            accounts.check_password_policy(password, model.username)  # DomainError: the form again
            model.set_password(password, accounts.hash_method())
            accounts.end_all_sessions(model)
        if is_created or not model.session_token:
            model.session_token = accounts.new_session_token()
        elif not model.active:
            # Deactivation ends the sessions this user has open, at their next request.
            accounts.set_active(model, False)
        # The person's staff record at each of the login's sites, in the same transaction.
        people.sync_staff(model, phone=form.phone.data, post=form.post.data)

    def on_model_delete(self, model):
        # The person stays on the rosters (and in their history), without a login.
        people.unlink_staff(model)


def raise_validation(message):
    raise ValidationError(message)


class StaffView(ScopedModelView):
    read_roles = SITE_ROLES
    write_roles = frozenset({"admin", "supervisor"})
    column_list = ("site", "name", "kind", "phone", "user", "active")
    column_details_list = ("site", "name", "kind", "phone", "user", "active", "notes", "created_at")
    column_export_list = ("site", "name", "kind", "phone", "active")
    form_columns = ("site", "name", "kind", "phone", "user", "active", "notes")
    column_select_related_list = (StaffMember.site, StaffMember.user)
    column_sortable_list = ("name",)
    column_searchable_list = ("name", "phone")
    column_filters = (
        IntEqualFilter(
            StaffMember.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)
        ),
        FilterEqual(StaffMember.kind, _l("Kind"), options=lambda: list(STAFF_KIND_LABELS.items())),
        # The dashboard's "staff on the roster" figure drills in with this (same condition).
        PeriodClauseFilter(
            lambda a, b: org_figures.roster_by_end_clause(a, b), _l("On the roster at period end")
        ),
    )
    column_labels = {
        "site": _l("Site"),
        "name": _l("Full name"),
        "kind": _l("Kind"),
        "phone": _l("Phone"),
        "user": _l("Login"),
        "active": _l("Active"),
        "notes": _l("Notes"),
        "created_at": _l("Created at"),
    }
    column_formatters = {
        "active": yes_no,
        "kind": lambda v, c, m, n: STAFF_KIND_LABELS.get(m.kind, m.kind),
    }
    form_overrides = {"kind": SelectField}
    form_args = {"kind": {"choices": [(k, STAFF_KIND_LABELS[k]) for k in STAFF_KINDS]}}
    # The lookup runs through the scoped session: it only offers people of the user's sites.
    form_ajax_refs = {
        "user": QueryAjaxModelLoader(
            "user",
            db.session,
            User,
            fields=("username", "display_name"),
            order_by="username",
            page_size=10,
        )
    }


def register(admin):
    org = _l("Organisation")
    admin.add_view(SiteView(Site, name=_l("Sites"), category=org, endpoint="site"))
    admin.add_view(ShowUnitView(ShowUnit, name=_l("Show units"), category=org, endpoint="showunit"))
    admin.add_view(StaffView(StaffMember, name=_l("Staff"), category=org, endpoint="staff"))
    admin.add_view(UserView(User, name=_l("Users"), category=org, endpoint="user"))
    admin.add_view(RegionView(Region, name=_l("Regions"), category=org, endpoint="region"))


__all__ = ["ALL_ROLES", "register"]
