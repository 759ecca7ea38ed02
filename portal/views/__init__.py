"""Wiring of every page: the Admin object, the domain views, auth, health and errors."""

from importlib import import_module

from flask import request
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import get_locale

from portal.domains import DOMAINS, ref
from portal.i18n import LOCALES
from portal.i18n import lazy_gettext as _l
from portal.models.org import ROLE_LABELS, SITE_STATUS_LABELS
from portal.security import csp_nonce
from portal.services import record_types, report_data

# Aliased: importing the submodule portal.views.today rebinds the name ``today`` in this package.
from portal.services import today as today_registry
from portal.views import audit, auth, errors, health, home


class PortalAdmin(Admin):
    """Flask-Admin's ``Admin`` that tells the record-type registry
    (``portal.services.record_types``) the menu name and place of every view it adds: the audit
    viewer, the PDF and the recycle bin name record types from it; and keeps the main menu's
    markup (``menu_html``)."""

    def __init__(self, *args, **kwargs):
        self._menu_markup = {}
        super().__init__(*args, **kwargs)

    def add_view(self, view):
        super().add_view(view)
        model = getattr(view, "model", None)
        record_types.add_view(view.endpoint, view.name, getattr(model, "__name__", None))

    def menu_html(self, view, render):
        """The main menu on ``view``'s page: ``render()`` (Flask-Admin's menu macro), kept per
        distinct menu. Which entries the user may see is still asked of every entry on every
        request; only the markup is reused, and it depends on nothing else than those answers,
        the language, the page's own entry (shown active) and the URL prefix. The macro cost
        about 5 ms a page (a translation and an escape per entry, each entry asked three times)."""
        key = (
            tuple(item.is_accessible() and item.is_visible() for item in self._menu_entries()),
            str(get_locale()),
            view.endpoint,
            request.script_root,
        )
        markup = self._menu_markup.get(key)
        if markup is None:
            markup = self._menu_markup[key] = render()
        return markup

    def _menu_entries(self):
        """The menu's entries that are not categories, in order (a category shows when one of
        its entries does)."""
        stack, entries = list(reversed(self.menu())), []
        while stack:
            item = stack.pop()
            if item.is_category():
                stack.extend(reversed(item._children))
            else:
                entries.append(item)
        return entries


def register_all(admin):
    """Register every domain's views (in the order of ``DOMAINS``: the menu), then what its
    descriptor lists for the shared registries: Today sections, PDF sections, dashboard figures,
    audit value labels. The one place they are registered from; the recycle bin reads the
    descriptors' trash labels itself."""
    for domain in DOMAINS:
        if domain.views:
            import_module(domain.views).register(admin)
        for s in domain.today:
            today_registry.register_section(
                s.key, s.order, ref(s.provider), s.template, roles=s.roles
            )
        for s in domain.reports:
            report_data.register_section(s.key, s.title, ref(s.provider), order=s.order)
        if domain.figures:
            ref(domain.figures)()
        for (model, field_name), labels in domain.value_labels.items():
            audit.register_value_labels(model, field_name, ref(labels))


def _csp_nonce():
    return csp_nonce()


def init_views(app):
    # Built per app (not at module level) so tests can create several apps (flask-admin #910).
    admin = PortalAdmin(
        app,
        name=_l("Sales Office Portal"),
        url="/",
        index_view=home.HomeView(name=_l("Home"), url="/", endpoint="home"),
        theme=Bootstrap4Theme(swatch="flatly", fluid=True, base_template="portal_master.html"),
        static_url_path="/static/admin",
        csp_nonce_generator=_csp_nonce,  # inline scripts of Flask-Admin carry the CSP nonce
    )
    # Every domain's views, Today and PDF sections and figures, in menu order (portal/domains.py).
    register_all(admin)
    auth.register(app, admin)
    health.register(app)
    errors.register(app)
    app.extensions["portal_admin"] = admin
    _template_helpers(app)
    return admin


def _template_helpers(app):
    @app.context_processor
    def _helpers():
        return {
            "role_label": lambda role: ROLE_LABELS.get(role, role),
            "site_status_label": lambda site: SITE_STATUS_LABELS.get(site.status, site.status),
            "portal_locales": LOCALES,
            "current_locale": str(get_locale() or "zh_Hans_CN"),
        }
