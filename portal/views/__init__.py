"""Wiring of every page: the Admin object, the domain views, auth, health and errors."""

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from portal.i18n import lazy_gettext as _l


def _csp_nonce():
    from portal.security import csp_nonce

    return csp_nonce()


def init_views(app):
    from portal.domains import register_all
    from portal.views import auth, errors, health, home

    # Built per app (not at module level) so tests can create several apps (flask-admin #910).
    admin = Admin(
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
    from flask_babel import get_locale

    from portal.i18n import LOCALES
    from portal.views.labels import ROLE_LABELS

    @app.context_processor
    def _helpers():
        return {
            "role_label": lambda role: ROLE_LABELS.get(role, role),
            "portal_locales": LOCALES,
            "current_locale": str(get_locale() or "zh_Hans_CN"),
        }
