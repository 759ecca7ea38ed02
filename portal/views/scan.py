"""QR labels: the sheet of labels of a site (PDF) and the pages a label opens on a phone.

A label's QR code holds the absolute URL of ``/scan/item/<id>`` or ``/scan/area/<id>`` (the id
and nothing else). Scanned by someone not logged in, it goes to the login page and, after
login, back to the same scan page (``next``, checked by ``auth.safe_next``). The page loads the
record through the site scope, so an item of another site answers 404, and offers one big
button for what a person at that spot does: report a fault (the repair form with the site and
the item chosen), start the site's item check, or inspect the cleaning of the site's areas.

Configuration: ``PUBLIC_BASE_URL`` (env ``PORTAL_PUBLIC_BASE_URL``, e.g.
``https://portal.example.cn``) is the address phones reach the portal at, printed in every
code. Unset, the address of the request that printed the sheet is used
(``url_for(..., _external=True)``): print from the public address, not from ``localhost``.
"""

from flask import Response, abort, current_app, request, url_for
from flask_babel import force_locale, gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.utils import secure_filename

from portal import clock
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import CleaningArea, CleaningIssue, Item, Site
from portal.models.inventory import CONDITION_LABELS
from portal.models.repairs import OPEN_STATUSES
from portal.reports import qr_labels
from portal.services import cleaning
from portal.services import inventory as item_checks
from portal.services import repairs
from portal.views.base import PortalView, bad_parameter, expose, get_or_404
from portal.views.cleaning import FRONT_ROLES, area_label
from portal.views.exports import report_slot
from portal.views.inventory import CATEGORY_LABELS, CHECKER_ROLES, ITEM_READERS
from portal.views.repairs import READERS as FAULT_ROLES

# Who prints label sheets (for the sites in their scope) and who may open a scanned label.
LABEL_ROLES = frozenset({"admin", "supervisor", "clerk"})
SCAN_ROLES = FAULT_ROLES | ITEM_READERS | FRONT_ROLES


def scan_url(kind, record_id):
    """The absolute URL a label of ``kind`` ("item" / "area") encodes."""
    endpoint, arg = ("scan.item", "item_id") if kind == "item" else ("scan.area", "area_id")
    base = (current_app.config["PUBLIC_BASE_URL"] or "").rstrip("/")
    if base:
        return base + url_for(endpoint, **{arg: record_id})
    return url_for(endpoint, _external=True, **{arg: record_id})


class ScanView(PortalView):
    read_roles = SCAN_ROLES
    write_roles = frozenset()

    def is_visible(self):
        return current_user.is_authenticated and current_user.role in LABEL_ROLES

    def _labels_allowed(self):
        if current_user.role not in LABEL_ROLES:
            abort(403)

    # ------------------------------------------------------------ the sheets
    @expose("/")
    def index(self):
        self._labels_allowed()
        sites = db.session.scalars(select(Site).order_by(Site.code).limit(500)).all()
        items = dict(
            db.session.execute(
                select(Item.site_id, func.count())
                .where(Item.active.is_(True))
                .group_by(Item.site_id)
            ).all()
        )
        areas = dict(
            db.session.execute(
                select(CleaningArea.site_id, func.count())
                .where(CleaningArea.active.is_(True))
                .group_by(CleaningArea.site_id)
            ).all()
        )
        return self.render(
            "scan/index.html",
            rows=[(s, items.get(s.id, 0), areas.get(s.id, 0)) for s in sites],
            layouts=qr_labels.LAYOUTS,
            default_layout=qr_labels.DEFAULT_LAYOUT,
            page_title=_l("QR labels"),
        )

    @expose("/labels/<int:site_id>.pdf")
    def labels(self, site_id):
        self._labels_allowed()
        site = get_or_404(Site, site_id)
        layout = request.args.get("layout") or qr_labels.DEFAULT_LAYOUT
        if layout not in qr_labels.LAYOUTS:
            bad_parameter(_("Choose one of the label layouts offered."))
        with report_slot(), force_locale("zh_Hans_CN"):  # labels are stuck up at the site
            labels = qr_labels.site_labels(site, scan_url)
            body = qr_labels.render(
                labels,
                layout,
                title=_("QR labels of %(site)s", site=site.name),
                outline=request.args.get("outline") == "1",
                empty_text=_("This site has no items or cleaning areas yet."),
            )
        name = secure_filename(f"qr-labels-{site.code}-{layout}.pdf") or "qr-labels.pdf"
        return Response(
            body,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )

    # ------------------------------------------------------------ what a label opens
    @expose("/item/<int:item_id>")
    def item(self, item_id):
        item = get_or_404(Item, item_id)
        site = item.site
        role = current_user.role
        check_status = None
        if site.active and role in ITEM_READERS:
            check_status = item_checks.item_check_status(site, clock.local_day(site))
        tickets = []
        if role in ITEM_READERS:
            tickets = [t for t in repairs.tickets_of_item(item, 20) if t.status in OPEN_STATUSES]
        return self.render(
            "scan/item.html",
            item=item,
            site=site,
            kind=qr_labels.item_kind(item),
            kind_label=qr_labels.KIND_LABELS[qr_labels.item_kind(item)],
            category=CATEGORY_LABELS.get(item.category, item.category),
            condition=CONDITION_LABELS.get(item.condition, item.condition),
            can_report=site.active and role in FAULT_ROLES,
            can_read_item=role in ITEM_READERS,
            check_status=check_status,
            can_check=role in CHECKER_ROLES,
            tickets=tickets,
            page_title=item.name,
            hide_page_title=True,  # the page has its own, larger title
        )

    @expose("/area/<int:area_id>")
    def area(self, area_id):
        area = get_or_404(CleaningArea, area_id)
        site = area.site
        role = current_user.role
        issues = []
        if role in FRONT_ROLES:
            issues = db.session.scalars(
                select(CleaningIssue)
                .where(
                    CleaningIssue.area_id == area.id,
                    CleaningIssue.status.in_(("open", "fixed")),
                )
                .order_by(CleaningIssue.due_at)
                .limit(10)
            ).all()
        return self.render(
            "scan/area.html",
            area=area,
            site=site,
            name=area_label(area),
            can_inspect=site.active and area.active and role in cleaning.INSPECT_ROLES,
            can_report=site.active and role in FAULT_ROLES,
            can_see_issues=role in FRONT_ROLES,
            issues=issues,
            page_title=area_label(area),
            hide_page_title=True,
        )


def register(admin):
    admin.add_view(
        ScanView(name=_l("QR labels"), category=_l("Inventory"), endpoint="scan", url="/scan")
    )
