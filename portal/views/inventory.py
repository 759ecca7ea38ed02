"""Inventory: items, item checks, discrepancy lines (admin lists) and the one-page item check."""

from flask import abort, flash, redirect, request, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import (
    BooleanEqualFilter,
    DateBetweenFilter,
    DateEqualFilter,
    FilterEqual,
    IntEqualFilter,
)
from flask_babel import gettext as _
from portal import clock
from portal.i18n import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import SelectField

from portal.extensions import db
from portal.models import (
    CONDITIONS,
    ITEM_CATEGORIES,
    ITEM_CHECK_KINDS,
    Item,
    ItemCheck,
    ItemCheckLine,
    Site,
)
from portal.services import inventory as svc
from portal.services import photos as photo_service
from portal.services import today
from portal.services import sites as site_life
from portal.views.checklists import EnglishFilterUrls
from portal.views.base import (
    PortalView,
    ScopedModelView,
    domain_errors,
    expose,
    get_or_404,
    options_of,
    url_with_ids,
)
from portal.models.inventory import CHECK_KIND_LABELS, CONDITION_LABELS
from portal.models.inventory import ITEM_CATEGORY_LABELS as CATEGORY_LABELS
from portal.views.base import yes_no
from wtforms import SelectChoice as Choice
from portal.services import repairs
from portal.services import damage
from wtforms.validators import ValidationError

STATUS_LABELS = {"open": _l("Under way"), "done": _l("Complete")}
CHECKER_ROLES = frozenset({"admin", "clerk"})
ITEM_READERS = frozenset({"admin", "supervisor", "clerk"})


def item_choices(site, blank):
    """A "none" choice (0), then the site's active items grouped by category (<optgroup>), each
    labelled "name · location": the repair and damage forms offer them."""
    choices = [Choice(0, blank)]
    if site is None:
        return choices
    items = db.session.scalars(
        select(Item)
        .where(Item.site_id == site.id, Item.active.is_(True))
        .order_by(Item.category, Item.location, Item.name)
    ).all()
    for item in items:
        label = " · ".join(x for x in (item.name, item.location) if x)
        choices.append(
            Choice(item.id, label, optgroup=str(CATEGORY_LABELS.get(item.category, item.category)))
        )
    return choices


def _label(labels, attr):
    return lambda v, c, m, n: labels.get(getattr(m, attr), getattr(m, attr))


def _links(records, endpoint, arg):
    if not records:
        return Markup("<li class='list-unstyled text-muted'>—</li>")
    return Markup("").join(
        Markup('<li><a href="%s">%s</a></li>') % (url_for(endpoint, **{arg: r.id}), r)
        for r in records
    )


def _item_tickets(item):
    """The item's repair tickets, and a one-click link to report another."""
    report = Markup(
        '<a class="btn btn-outline-primary btn-sm" id="item-report-fault" href="%s">%s</a>'
    ) % (url_for("repairs.new", item=item.id), _("Report a fault"))
    return Markup('<ul class="mb-1" id="item-tickets">%s</ul>%s') % (
        _links(repairs.tickets_of_item(item), "repairs.detail", "ticket_id"),
        report,
    )


def _item_damage_reports(item):
    return Markup('<ul class="mb-0" id="item-damage-reports">%s</ul>') % _links(
        damage.reports_of_item(item), "damage.detail", "report_id"
    )


class ItemView(EnglishFilterUrls, ScopedModelView):
    read_roles = ITEM_READERS
    write_roles = frozenset({"admin", "supervisor"})
    delete_roles = frozenset({"admin", "supervisor"})
    column_list = (
        "site",
        "name",
        "category",
        "location",
        "expected_quantity",
        "asset_tag",
        "condition",
        "active",
    )
    column_details_list = column_list + (
        "created_at",
        "updated_at",
        "repair_tickets",
        "damage_reports",
    )
    column_export_list = column_list
    form_columns = (
        "site",
        "name",
        "category",
        "location",
        "expected_quantity",
        "asset_tag",
        "condition",
        "active",
    )
    column_select_related_list = (Item.site,)
    column_sortable_list = ("name", "category", "asset_tag")
    column_default_sort = ("category", False)
    column_searchable_list = ("name", "asset_tag", "location")
    column_filters = (
        IntEqualFilter(Item.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)),
        FilterEqual(Item.category, _l("Category"), options=lambda: list(CATEGORY_LABELS.items())),
    )
    column_labels = {
        "site": _l("Site"),
        "name": _l("Name"),
        "category": _l("Category"),
        "location": _l("Location"),
        "expected_quantity": _l("Expected quantity"),
        "asset_tag": _l("Asset tag"),
        "condition": _l("Condition"),
        "active": _l("Active"),
        "created_at": _l("Created at"),
        "updated_at": _l("Updated at"),
        "repair_tickets": _l("Repair tickets"),
        "damage_reports": _l("Damage reports"),
    }
    column_formatters = {
        "active": yes_no,
        "category": _label(CATEGORY_LABELS, "category"),
        "condition": _label(CONDITION_LABELS, "condition"),
    }
    column_formatters_detail = {
        **column_formatters,
        "repair_tickets": lambda v, c, m, n: _item_tickets(m),
        "damage_reports": lambda v, c, m, n: _item_damage_reports(m),
    }
    form_overrides = {"category": SelectField, "condition": SelectField}
    form_args = {
        "category": {"choices": [(k, CATEGORY_LABELS[k]) for k in ITEM_CATEGORIES]},
        "condition": {"choices": [(k, CONDITION_LABELS[k]) for k in CONDITIONS]},
        "expected_quantity": {"default": 1},
    }

    def on_model_change(self, form, model, is_created):
        if model.expected_quantity is None or not 0 <= model.expected_quantity <= svc.MAX_QUANTITY:
            raise ValidationError(_l("Enter a whole number of 0 or more."))

    def delete_model(self, model):
        # Past checks name the item: hide it, keep the history.
        model.soft_delete()
        db.session.commit()
        return True


class ItemCheckView(EnglishFilterUrls, ScopedModelView):
    read_roles = frozenset({"admin", "supervisor", "clerk"})
    write_roles = frozenset()
    _creatable = False
    _editable = False
    _deletable = False
    column_list = ("day", "site", "kind", "user", "status", "completed_at")
    column_details_list = ("day", "site", "kind", "user", "status", "completed_at", "lines")
    column_export_list = column_list
    column_select_related_list = (ItemCheck.site, ItemCheck.user)
    column_default_sort = ("day", True)
    column_sortable_list = ("day",)
    column_filters = (
        IntEqualFilter(ItemCheck.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)),
        FilterEqual(ItemCheck.kind, _l("Kind"), options=lambda: list(CHECK_KIND_LABELS.items())),
        DateEqualFilter(ItemCheck.day, _l("Day")),
    )
    column_labels = {
        "day": _l("Day"),
        "site": _l("Site"),
        "kind": _l("Kind"),
        "user": _l("Checked by"),
        "status": _l("Status"),
        "completed_at": _l("Completed at"),
        "lines": _l("Discrepancies"),
    }
    column_formatters = {
        "kind": lambda v, c, m, n: Markup('<a href="%s">%s</a>')
        % (url_for("itemcheck.check", check_id=m.id), CHECK_KIND_LABELS.get(m.kind, m.kind)),
        "status": _label(STATUS_LABELS, "status"),
    }
    column_formatters_export = {
        "kind": lambda v, c, m, n: CHECK_KIND_LABELS.get(m.kind, m.kind),
        "status": _label(STATUS_LABELS, "status"),
    }
    column_formatters_detail = {
        **column_formatters,
        "lines": lambda v, c, m, n: Markup("<ul class='mb-0'>%s</ul>")
        % Markup("").join(
            Markup("<li>%s: %s / %s · %s</li>")
            % (
                line.item.name,
                line.counted_quantity,
                line.expected_quantity,
                CONDITION_LABELS.get(line.condition, line.condition),
            )
            for line in svc.discrepancies(m)
        )
        if svc.discrepancies(m)
        else _("None"),
    }


def follow_up_html(line, can_deal, detached_forms=False):
    """What a discrepancy led to (its repair ticket / damage report), or the buttons that open
    them in one click (``can_deal``). ``detached_forms``: the page renders the POST forms itself,
    outside its own form (no nested forms). Built here, not in a template: the discrepancy
    list shows it on every row."""
    parts = [f'<div class="line-follow-up my-1" id="line-follow-up-{line.id}">']
    if line.repair_ticket_id:
        parts.append(
            f'<a class="badge badge-info p-2 mr-1 line-repair-link" '
            f'href="{url_with_ids("repairs.detail", ticket_id=line.repair_ticket_id)}">'
            f"{escape(_('Repair ticket #%(id)s', id=line.repair_ticket_id))}</a>"
        )
    elif can_deal:
        if not detached_forms:
            parts.append(
                f'<form method="post" class="d-inline" id="line-repair-{line.id}" '
                f'action="{url_with_ids("itemcheck.open_repair", line_id=line.id)}">'
                f'<input type="hidden" name="csrf_token" value="{generate_csrf()}"></form>'
            )
        parts.append(
            f'<button type="submit" form="line-repair-{line.id}" '
            'class="btn btn-outline-danger mr-1 mb-1 '
            f'line-open-repair">{escape(_("Report for repair"))}</button>'
        )
    if line.damage_report_id:
        parts.append(
            f'<a class="badge badge-warning p-2 line-damage-link" '
            f'href="{url_with_ids("damage.detail", report_id=line.damage_report_id)}">'
            f"{escape(_('Damage report #%(id)s', id=line.damage_report_id))}</a>"
        )
    elif can_deal:
        parts.append(
            f'<a class="btn btn-outline-warning mb-1 line-open-damage" '
            f'href="{escape(url_with_ids("damage.new", item=line.item_id, line=line.id))}">'
            f"{escape(_('Damage confirmation form'))}</a>"
        )
    parts.append("</div>")
    return Markup("".join(parts))


class DiscrepancyView(EnglishFilterUrls, ScopedModelView):
    """Lines where counted ≠ expected or the condition is not OK, for the supervisor to deal
    with."""

    read_roles = frozenset({"admin", "supervisor"})
    write_roles = frozenset({"admin", "supervisor"})
    delete_roles = frozenset()
    _creatable = False
    _deletable = False
    column_list = (
        "day",
        "site",
        "item",
        "check",
        "expected_quantity",
        "counted_quantity",
        "condition",
        "note",
        "dealt_with",
        "dealt_note",
        "follow_up",
    )
    column_details_list = column_list + ("dealt_by", "dealt_at")
    column_export_list = column_list[:-1]
    form_columns = ("dealt_with", "dealt_note")
    # The related rows are joined with only what the list shows (see get_query): a supervisor's
    # page of discrepancies otherwise loads four whole rows per line.
    column_auto_select_related = False
    column_default_sort = ("day", True)
    column_sortable_list = ("day",)
    column_filters = (
        IntEqualFilter(
            ItemCheckLine.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)
        ),
        DateEqualFilter(ItemCheckLine.day, _l("Day")),
        DateBetweenFilter(ItemCheckLine.day, _l("Day")),
        BooleanEqualFilter(ItemCheckLine.dealt_with, _l("Dealt with")),
    )
    column_labels = {
        "day": _l("Day"),
        "site": _l("Site"),
        "item": _l("Item"),
        "check": _l("Item check"),
        "expected_quantity": _l("Expected"),
        "counted_quantity": _l("Counted"),
        "condition": _l("Condition"),
        "note": _l("Clerk's note"),
        "dealt_with": _l("Dealt with"),
        "dealt_note": _l("How it was dealt with"),
        "dealt_by": _l("Dealt with by"),
        "dealt_at": _l("Dealt with at"),
        "follow_up": _l("Repair / damage report"),
    }
    column_formatters_export = {
        "dealt_with": lambda v, c, m, n: _("Yes") if m.dealt_with else _("No"),
        "condition": _label(CONDITION_LABELS, "condition"),
        "check": lambda v, c, m, n: CHECK_KIND_LABELS.get(m.check.kind, m.check.kind),
    }
    column_formatters = {
        "dealt_with": yes_no,
        "condition": _label(CONDITION_LABELS, "condition"),
        "check": lambda v, c, m, n: CHECK_KIND_LABELS.get(m.check.kind, m.check.kind),
        "follow_up": lambda v, c, m, n: follow_up_html(
            m, current_user.role in DiscrepancyView.write_roles
        ),
    }

    edit_template = "inventory/discrepancy_edit.html"

    def render(self, template, **kwargs):
        kwargs.setdefault("condition_labels", CONDITION_LABELS)
        # The clerk's photos of the line, on its "dealt with" page (read when shown).
        kwargs.setdefault("line_photos", lambda line: svc.line_photos([line]).get(line.id, []))
        return super().render(template, **kwargs)

    def is_action_allowed(self, name):
        return self.can_write() and super().is_action_allowed(name)

    @action(
        "dealt_with", _l("Mark as dealt with"), _l("Mark the selected discrepancies as dealt with?")
    )
    def action_dealt_with(self, ids):
        lines = db.session.scalars(
            select(ItemCheckLine).where(
                ItemCheckLine.id.in_([int(i) for i in ids if str(i).isdigit()]),
                ItemCheckLine.is_discrepancy.is_(True),
                ItemCheckLine.dealt_with.is_(False),
            )
        ).all()
        for line in lines:
            svc.deal_with(line, current_user, None)
        db.session.commit()
        flash(_("%(n)s discrepancies marked as dealt with.", n=len(lines)), "success")

    def get_query(self):
        return (
            super()
            .get_query()
            .filter(ItemCheckLine.is_discrepancy.is_(True))
            .options(
                joinedload(ItemCheckLine.site).load_only(Site.code, Site.name),
                joinedload(ItemCheckLine.item).load_only(Item.name),
                joinedload(ItemCheckLine.check).load_only(ItemCheck.kind),
            )
        )

    def get_count_query(self):
        return super().get_count_query().filter(ItemCheckLine.is_discrepancy.is_(True))

    def on_model_change(self, form, model, is_created):
        if model.dealt_with:
            model.dealt_by_id = current_user.id
            model.dealt_at = model.dealt_at or clock.now()
        else:
            model.dealt_by_id = None
            model.dealt_at = None


# ------------------------------------------------------------------ the item check page


def _form_lines(check):
    """line id → {"counted", "condition", "note"} from the submitted form (only lines of this
    check)."""
    form = request.form
    return {
        line.id: {
            "counted": form.get(f"counted-{line.id}"),
            "condition": form.get(f"condition-{line.id}"),
            "note": form.get(f"note-{line.id}"),
        }
        for line in check.lines
    }


class ItemCheckPage(PortalView):
    read_roles = frozenset({"admin", "supervisor", "clerk"})
    write_roles = CHECKER_ROLES

    @expose("/")
    def index(self):
        return self._index()

    def _index(self, status=200):
        sites = db.session.scalars(
            select(Site).where(site_life.taking_records()).order_by(Site.code).limit(50)
        ).all()
        rows = [
            (site, clock.local_day(site), svc.item_check_status(site, clock.local_day(site)))
            for site in sites
        ]
        return self.render(
            "inventory/index.html",
            rows=rows,
            kind_labels=CHECK_KIND_LABELS,
            can_check=self.can_write(),
            with_items=svc.sites_with_items([site.id for site in sites]),
        ), status

    @expose("/start", methods=("POST",))
    def start(self):
        self._require_write()
        site = get_or_404(Site, request.form.get("site_id"))
        kind = request.form.get("kind")
        if kind not in ITEM_CHECK_KINDS:
            abort(400)
        with domain_errors() as refused:  # a site without items has nothing to check
            check = svc.start_item_check(site, kind, current_user, clock.local_day(site))
            db.session.commit()
        if refused:
            return self._index(refused.status)
        return redirect(url_for(".check", check_id=check.id))

    @expose("/<int:check_id>", methods=("GET", "POST"))
    def check(self, check_id):
        check = self._load(check_id)
        errors, status, submitted, missing_message = {}, 200, None, None
        if request.method == "POST":
            self._require_write()
            uploads, errors = self._read_photos(check)
            refused = None
            if not errors:
                with domain_errors() as refused:
                    svc.save_lines(
                        check, _form_lines(check), confirmed=request.form.getlist("confirmed")
                    )
                    for line in check.lines:
                        svc.add_line_photos(line, uploads.get(line.id), current_user)
                    db.session.commit()
            if errors or refused:  # bad input: nothing written, the page as it was sent
                errors = errors or refused.errors
                status, submitted = (refused.status if refused else 400), request.form
            elif request.form.get("action") == "complete":
                # The draft is saved above; completing may still be refused (a category not
                # confirmed, a count not typed): the page then says what is missing.
                with domain_errors(flash_message=False) as refused:
                    svc.complete_item_check(check)
                    db.session.commit()
                if not refused:
                    flash(
                        _(
                            "Item check complete: %(n)s discrepancies.",
                            n=len(svc.discrepancies(check)),
                        ),
                        "success",
                    )
                    return redirect(url_for(".check", check_id=check.id))
                errors, status, missing_message = refused.errors, refused.status, refused.message
            else:
                flash(_("Saved. You can continue later."), "success")
                return redirect(url_for(".check", check_id=check.id))
            check = self._load(check_id)
        return self.render(
            "inventory/check.html",
            check=check,
            errors=errors,
            submitted=submitted,
            missing_message=missing_message,
            confirmed=set(submitted.getlist("confirmed")) if submitted else check.confirmed,
            photos=svc.line_photos(check.lines),
            accept=photo_service.ACCEPT,
            condition_labels=CONDITION_LABELS,
            category_labels=CATEGORY_LABELS,
            kind_labels=CHECK_KIND_LABELS,
            status_labels=STATUS_LABELS,
            can_check=self.can_write() and not check.is_done,
            is_discrepancy=svc.is_discrepancy,
            page_title=CHECK_KIND_LABELS[check.kind],
            can_deal=current_user.role in DiscrepancyView.write_roles,
            detached_forms=True,
            follow_up=follow_up_html,
        ), status

    @staticmethod
    def _read_photos(check):
        """line id → checked photos (optional); a rejected file → an error on its line, and
        nothing of the form is saved."""
        uploads, errors = {}, {}
        for line in check.lines:
            try:
                uploads[line.id] = photo_service.inspect_all(
                    request.files.getlist(f"photo-{line.id}")
                )
            except photo_service.UploadRejected as exc:
                errors[line.id] = {"photo": exc.message}
        return uploads, errors

    @expose("/line/<int:line_id>/repair", methods=("POST",))
    def open_repair(self, line_id):
        """One click on a discrepancy: a repair ticket for its item; the line records it."""
        if current_user.role not in DiscrepancyView.write_roles:
            abort(403)
        line = get_or_404(ItemCheckLine, line_id)
        with domain_errors() as refused:
            ticket = svc.open_repair(line, current_user)
            db.session.commit()
        if refused:  # the reason on top of the list of discrepancies
            return redirect(url_for("discrepancy.index_view"))
        flash(_("Repair ticket %(ticket)s reported.", ticket=str(ticket)), "success")
        return redirect(url_for("repairs.detail", ticket_id=ticket.id))

    def _load(self, check_id):
        check = get_or_404(ItemCheck, check_id)
        # Lines and their items in two more queries, however long the list.
        return db.session.scalars(
            select(ItemCheck)
            .where(ItemCheck.id == check.id)
            .options(selectinload(ItemCheck.lines).selectinload(ItemCheckLine.item))
            .execution_options(populate_existing=True)
        ).one()

    def _require_write(self):
        if not self.can_write():
            abort(403)


# ------------------------------------------------------------------ Today page sections


@today.once_per_request
def _item_checks_today(site, day):
    return svc.item_check_status(
        site,
        day,
        rows=today.kept(site, day, "inventory.item_checks", lambda: svc.item_check_rows(site, day)),
    )


@today.once_per_request
def _has_items(site, day):
    return site.id in svc.sites_with_items([site.id])


def _today_item_check(kind):
    def provider(site, day, user):
        entry = _item_checks_today(site, day)[kind]
        return {
            "site": site,
            "day": day,
            "kind": kind,
            "entry": entry,
            "kind_label": CHECK_KIND_LABELS[kind],
            "can_check": user.role in CHECKER_ROLES,
            # Only asked while there is no check today: a started check has its lines.
            "no_items": entry["check"] is None and not _has_items(site, day),
        }

    return provider


# Today sections (declared in the domain's descriptor, portal/domains.py).
opening_check_section = _today_item_check("opening")
closing_check_section = _today_item_check("closing")


def discrepancies_section(site, day, user):
    lines = today.kept(
        site, day, "inventory.open_discrepancies", lambda: svc.open_discrepancies(site, limit=20)
    )
    if not lines:
        return None
    return {
        "site": site,
        "lines": lines,
        "condition_labels": CONDITION_LABELS,
        "can_deal": user.role in DiscrepancyView.write_roles,
    }


def register(admin):
    group = _l("Inventory")
    admin.add_view(
        ItemCheckPage(
            name=_l("Item checks today"), category=group, endpoint="itemcheck", url="/item-checks"
        )
    )
    admin.add_view(
        DiscrepancyView(
            ItemCheckLine,
            name=_l("Discrepancies"),
            category=group,
            endpoint="discrepancy",
            url="/discrepancies",
        )
    )
    admin.add_view(
        ItemCheckView(
            ItemCheck, name=_l("Item check records"), category=group, endpoint="itemcheckrecord"
        )
    )
    admin.add_view(ItemView(Item, name=_l("Inventory items"), category=group, endpoint="item"))
