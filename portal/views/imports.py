"""Spreadsheet import (导入): a site's item register, products and staff from an XLSX or CSV
file, with a template to download for each. Every row is checked first; a file with any
problem is refused whole (400, the problems listed by line and column, nothing written)."""

import io

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.services import imports as svc
from portal.views.base import PortalView, domain_errors, expose
from portal.views.roster import chosen_site, scoped_sites

LIST_ENDPOINTS = {"items": "item", "products": "product", "staff": "staff"}


class ImportView(PortalView):
    read_roles = svc.ROLES
    write_roles = svc.ROLES

    def _page(self, status=200, kind=None, site=None, plan=None, error=None, done=None):
        sites = scoped_sites()
        kind = kind if kind in svc.KINDS else request.values.get("kind")
        kind = kind if kind in svc.KINDS else "items"
        if site is None:
            site = chosen_site(sites)
        layout = svc.LAYOUTS[kind]
        html = self.render(
            "imports/index.html",
            sites=sites,
            site=site,
            kind=kind,
            kinds=[(k, svc.KIND_LABELS[k]) for k in svc.KINDS],
            layout=layout,
            notes=[(c, svc.column_note(layout, c)) for c in layout.columns],
            plan=plan,
            error=error,
            done=done,
            max_rows=svc.MAX_ROWS,
            max_mb=svc.MAX_BYTES // (1024 * 1024),
            list_url=_list_url(kind, site),
        )
        return current_app.response_class(html, status=status)

    @expose("/")
    def index(self):
        done = request.args.get("done")
        return self._page(done=done if done in svc.KINDS else None)

    @expose("/", methods=("POST",))
    def upload(self):
        kind = request.form.get("kind")
        site_id = request.form.get("site", type=int)
        if site_id is None:
            return self._page(400, kind, error=_l("Choose a site."))
        site = chosen_site(scoped_sites(), site_id=site_id)  # 404 outside the user's sites
        upload = request.files.get("file")
        data = upload.stream.read(svc.MAX_BYTES + 1) if upload else b""
        filename = upload.filename if upload else ""
        with domain_errors(flash_message=False) as refused:
            plan = svc.plan(kind, site, filename, data)
        if refused:
            return self._page(refused.status, kind, site, error=refused.message)
        if not plan.ok:
            db.session.rollback()
            return self._page(400, kind, site, plan=plan)
        if request.form.get("check"):
            db.session.rollback()
            return self._page(200, kind, site, plan=plan)
        with domain_errors(flash_message=False) as refused:
            counts = svc.apply(plan, current_user)
            db.session.commit()
        if refused:
            return self._page(refused.status, kind, site, error=refused.message)
        flash(
            _(
                "Imported %(file)s into %(site)s: %(created)s created, %(updated)s updated, "
                "%(unchanged)s unchanged.",
                file=filename,
                site=str(site),
                created=counts["create"],
                updated=counts["update"],
                unchanged=counts["unchanged"],
            ),
            "success",
        )
        return redirect(url_for(".index", kind=kind, site=site.id, done=kind))

    @expose("/template/<kind>.xlsx")
    def template(self, kind):
        if kind not in svc.KINDS:
            abort(404)
        data = svc.template(kind)
        name = f"{svc.LAYOUTS[kind].sheet}导入模板.xlsx"
        return send_file(
            io.BytesIO(data), mimetype=svc.XLSX_TYPE, as_attachment=True, download_name=name
        )


def _list_url(kind, site):
    """The list of what was imported, filtered to the site."""
    return url_for(f"{LIST_ENDPOINTS[kind]}.index_view", flt0_site_equals=site.id)


def register(admin):
    admin.add_view(
        ImportView(
            name=_l("Import from a spreadsheet"),
            category=_l("Organisation"),
            endpoint="imports",
            url="/import",
        )
    )
