"""New site from a template: the form, the preview of what will be created, the confirmed copy,
and the roster pattern a copied site starts from (``portal.services.site_copy``)."""

from flask import abort, flash, redirect, request, url_for
from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.errors import DomainError
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Site
from portal.models.consumables import PRODUCT_KIND_LABELS
from portal.models.inventory import ITEM_CATEGORY_LABELS as CATEGORY_LABELS
from portal.models.org import SITE_STATUS_LABELS
from portal.services import site_copy
from portal.views.base import PortalView, as_id, expose, get_or_404
from portal.views.checklists import KIND_LABELS as CHECKLIST_KIND_LABELS
from portal.views.checklists import ITEM_KIND_LABELS
from portal.views.roster import POST_LABELS
from portal.models.cleaning import area_name

ROLES = frozenset({"admin", "supervisor"})


def weekday_name(weekday):
    """Monday (0) … Sunday (6) in the reader's language (Babel's names: 星期一…)."""
    return get_day_names("wide", locale=get_locale())[weekday]


CHANGED_SINCE_PREVIEW = _l(
    "The set-up of the source site changed after your preview: check the new preview and "
    "confirm again."
)


class SiteSetupView(PortalView):
    read_roles = ROLES
    write_roles = ROLES

    # ------------------------------------------------------------ step 1: the form

    @expose("/")
    def index(self):
        return redirect(url_for(".new", **request.args))

    @expose("/new", methods=("GET", "POST"))
    def new(self):
        if request.method == "POST":  # "change" on the preview: the form again, as typed
            return self._form(_values())
        source = None
        if request.args.get("source"):
            source = get_or_404(Site, request.args["source"])
        return self._form(site_copy.default_values(source))

    def _form(self, values, errors=None, status=200):
        return (
            self.render(
                "site_setup/new.html",
                values=values,
                errors=errors or {},
                sources=site_copy.source_sites(),
                regions=site_copy.creatable_regions(current_user),
                zones=site_copy.COMMON_ZONES,
                in_setup=site_copy.sites_in_setup(),
                status_labels=SITE_STATUS_LABELS,
            ),
            status,
        )

    # ------------------------------------------------------------ step 2: the preview

    @expose("/preview", methods=("POST",))
    def preview(self):
        values = _values()
        try:
            the_plan = self._plan(values)
        except DomainError as exc:
            db.session.rollback()
            return self._form(values, exc.errors or {exc.field: exc.message}, exc.status)
        return self._preview(the_plan, values)

    def _preview(self, the_plan, values, errors=None, status=200, message=None):
        return (
            self.render(
                "site_setup/preview.html",
                page_title=_(
                    "Preview: new site %(code)s %(name)s",
                    code=the_plan.new.code,
                    name=the_plan.new.name,
                ),
                plan=the_plan,
                values=values,
                errors=errors or {},
                message=message,
                fields=site_copy.FIELDS,
                global_templates=site_copy.global_template_count(),
                factor=site_copy.OPENING_STOCK_FACTOR,
                category_labels=CATEGORY_LABELS,
                product_kind_labels=PRODUCT_KIND_LABELS,
                checklist_kind_labels=CHECKLIST_KIND_LABELS,
                item_kind_labels=ITEM_KIND_LABELS,
                post_labels=POST_LABELS,
                weekdays=weekday_name,
                area_name=area_name,
                status_labels=SITE_STATUS_LABELS,
            ),
            status,
        )

    # ------------------------------------------------------------ step 3: the confirmed copy

    @expose("/create", methods=("POST",))
    def create(self):
        values = _values()
        try:
            the_plan = self._plan(values)
        except DomainError as exc:
            db.session.rollback()
            return self._form(values, exc.errors or {exc.field: exc.message}, exc.status)
        if values.get("fingerprint") != the_plan.fingerprint:
            return self._preview(the_plan, values, status=409, message=CHANGED_SINCE_PREVIEW)
        try:
            openings = site_copy.read_openings(the_plan, request.form)
            site = site_copy.create(the_plan, openings, current_user)
        except DomainError as exc:
            db.session.rollback()
            if exc.field in site_copy.FIELDS:
                return self._form(values, exc.errors or {exc.field: exc.message}, exc.status)
            return self._preview(the_plan, values, exc.errors or {exc.field: exc.message}, 400)
        db.session.commit()
        flash(
            _l(
                "Site %(code)s created in set-up from %(source)s: %(items)s items, "
                "%(products)s products, %(templates)s checklist templates. Open it from its "
                "readiness page when it is ready.",
                code=site.code,
                source=the_plan.source.code,
                items=len(the_plan.items),
                products=len(the_plan.products),
                templates=len(the_plan.templates),
            ),
            "success",
        )
        return redirect(url_for("site.details_view", id=site.id))

    def _plan(self, values):
        """The plan of ``values``: 404 for a source or region the user may not use, DomainError
        (every bad field) for bad input."""
        errors = {}
        source = region = None
        if values.get("source"):
            source = get_or_404(Site, values["source"])
        else:
            errors["source"] = _l("Choose the site whose set-up is copied.")
        if values.get("region"):
            wanted = as_id(values["region"])
            regions = site_copy.creatable_regions(current_user)
            region = next((r for r in regions if r.id == wanted), None) or abort(404)
        else:
            errors["region"] = _l("Choose the region of the new site.")
        new = site_copy.read_new_site(values, region.id if region else None, errors)
        return site_copy.plan(source, new, region)

    # ------------------------------------------------------------ afterwards

    @expose("/<int:site_id>/roster")
    def roster(self, site_id):
        site = get_or_404(Site, site_id)
        event = site_copy.copy_event(site)
        return self.render(
            "site_setup/roster.html",
            page_title=_("Roster pattern of %(site)s", site=str(site)),
            site=site,
            event=event,
            post_labels=POST_LABELS,
            weekdays=weekday_name,
        )


def _values():
    return {
        key: (request.form.get(key) or "").strip() for key in (*site_copy.FIELDS, "fingerprint")
    }


def register(admin):
    admin.add_view(
        SiteSetupView(
            name=_l("New site from a template"),
            category=_l("Organisation"),
            endpoint="sitesetup",
            url="/site-setup",
        )
    )
