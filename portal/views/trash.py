"""The recycle bin (回收站): head office lists soft-deleted records and restores them.

Only administrators. Rows are read through the site scope (``include_deleted``, never
``bypass_scope``); a restore is a POST with the CSRF token, confirmed in the browser, and
the audit trail records it (action "restore") like any other change.
"""

from flask import current_app, flash, redirect, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select

from portal.errors import DomainError
from portal.extensions import db
from portal.models import Site
from portal.services import trash
from portal.views.auth import safe_next
from portal.views.base import PortalView, domain_errors, expose

# Record types shown on a page of their own rather than in an admin list: where a restored row is.
_RECORD_PAGES = {
    "RepairTicket": ("repairs.detail", "ticket_id"),
    "DamageReport": ("damage.detail", "report_id"),
}


def record_url(key, record_id):
    """The page that shows a record of this type again (its details), or None."""
    if key in _RECORD_PAGES:
        endpoint, arg = _RECORD_PAGES[key]
        return url_for(endpoint, **{arg: record_id})
    admin = current_app.extensions["portal_admin"]
    for view in admin._views:
        if getattr(getattr(view, "model", None), "__name__", None) == key and view.can_view_details:
            return url_for(f"{view.endpoint}.details_view", id=record_id)
    return None


def _when(value):
    # Stored in UTC; shown as the admin lists show times.
    return format_datetime(value, "yyyy-MM-dd HH:mm")


class TrashView(PortalView):
    read_roles = frozenset({"admin"})
    write_roles = frozenset({"admin"})

    @expose("/")
    def index(self):
        return self._page()

    def _filters(self):
        args = request.args
        key = args.get("type") or None
        site = args.get("site") or ""
        page = args.get("page") or ""
        return {
            "type": key if key in trash.trash_types() else None,
            "site_id": int(site)
            if site.isascii() and site.isdigit() and int(site) < 2**63
            else None,
            "page": min(int(page), 10_000) if page.isascii() and page.isdigit() else 0,
        }

    def _page(self, status=200):
        filters = self._filters()
        rows, more = trash.deleted_rows(filters["type"], filters["site_id"], filters["page"])
        counts = trash.counts(filters["site_id"])
        types = [(key, trash.type_label(key), counts.get(key, 0)) for key in trash.trash_types()]
        sites = db.session.scalars(select(Site).order_by(Site.code)).all()
        here = url_for(
            ".index",
            **{
                k: v
                for k, v in (
                    ("type", filters["type"]),
                    ("site", filters["site_id"]),
                    ("page", filters["page"] or None),
                )
                if v is not None
            },
        )
        return self.render(
            "trash/index.html",
            rows=rows,
            more=more,
            filters=filters,
            types=types,
            sites=sites,
            total=sum(counts.values()),
            here=here,
            when=_when,
        ), status

    @expose("/restore", methods=("POST",))
    def restore(self):
        key, raw_id = request.form.get("type"), request.form.get("id") or ""
        with domain_errors() as refused:
            if not (raw_id.isascii() and raw_id.isdigit() and 0 < int(raw_id) < 2**63):
                raise DomainError(_l("That record does not exist."), status=404)
            row = trash.restore(key, int(raw_id))
            label = trash.row_label(row)
            db.session.commit()
        if refused:  # the list again with the reason on top
            return self._page(refused.status)
        message = escape(
            _(
                "Restored: %(type)s “%(label)s”. It is back in its list.",
                type=trash.type_label(key),
                label=label,
            )
        )
        link = record_url(key, int(raw_id))
        if link:
            message += Markup(' <a href="%s">%s</a>') % (link, _("Open it"))
        flash(message, "success")
        return redirect(safe_next(request.form.get("next")) or url_for(".index"))


def register(admin):
    admin.add_view(
        TrashView(
            name=_l("Deleted records"), category=_l("Organisation"), endpoint="trash", url="/trash"
        )
    )
