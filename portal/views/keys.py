"""Key register pages: the site's keys with one big button each (hand out, take back, lost),
the keys list head office and supervisors edit, and every loan as a list (the dashboard's
drill-down)."""

from flask import current_app, flash, redirect, request, url_for
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_login import current_user
from wtforms import SelectField

from portal import clock
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Site, StaffMember
from portal.models.keys import KEY_KIND_LABELS, KEY_KINDS, KeyItem, KeyLoan
from portal.services import keys as svc
from portal.services import today
from portal.views.audit import PeriodClauseFilter
from portal.views.base import (
    PortalView,
    ScopedModelView,
    domain_errors,
    expose,
    get_or_404,
    options_of,
)
from portal.views.base import yes_no
from portal.views.roster import chosen_site, scoped_sites

READ_ROLES = frozenset({"admin", "supervisor", "clerk", "security"})
EDIT_ROLES = frozenset({"admin", "supervisor"})


class KeysView(PortalView):
    read_roles = READ_ROLES
    write_roles = READ_ROLES  # each action checks its own roles in the service

    @expose("/")
    def index(self):
        sites = scoped_sites()
        site = chosen_site(sites)
        return self.render(
            "keys/index.html",
            sites=sites,
            site=site,
            rows=svc.register_of(site),
            today=clock.local_day(site),
            kind_labels=KEY_KIND_LABELS,
            can_handle=current_user.role in svc.HANDLER_ROLES,
            can_report_lost=current_user.role in svc.LOST_ROLES,
        )

    def _form(self, key, status=200, error=None):
        html = self.render(
            "keys/hand_out.html",
            key=key,
            staff=svc.staff_choices(key.site),
            form=request.form,
            error=error,
        )
        return current_app.response_class(html, status=status)

    @expose("/<int:key_id>/out", methods=("GET", "POST"))
    def hand_out(self, key_id):
        key = get_or_404(KeyItem, key_id)
        if request.method == "GET":
            return self._form(key)
        staff_id = request.form.get("staff_member", type=int)
        staff = get_or_404(StaffMember, staff_id) if staff_id else None
        with domain_errors(flash_message=False) as refused:
            svc.hand_out(
                key,
                current_user,
                request.form.get("purpose"),
                staff_member=staff,
                holder_name=request.form.get("holder_name"),
                holder_phone=request.form.get("holder_phone"),
            )
        if refused:
            return self._form(key, refused.status, refused.error)
        db.session.commit()
        flash(_l("Key %(code)s handed out.", code=key.code), "success")
        return redirect(url_for(".index", site=key.site_id))

    @expose("/loan/<int:loan_id>/return", methods=("POST",))
    def give_back(self, loan_id):
        loan = get_or_404(KeyLoan, loan_id)
        with domain_errors() as refused:
            svc.give_back(loan, current_user)
        if refused:
            return current_app.response_class(self.index(), status=refused.status)
        db.session.commit()
        flash(_l("Key %(code)s is back.", code=loan.key.code), "success")
        return redirect(url_for(".index", site=loan.site_id))

    @expose("/<int:key_id>/lost", methods=("POST",))
    def lost(self, key_id):
        key = get_or_404(KeyItem, key_id)
        with domain_errors() as refused:
            ticket = svc.report_lost(key, current_user)
        if refused:
            return current_app.response_class(self.index(), status=refused.status)
        db.session.commit()
        flash(
            _l(
                "Key %(code)s reported lost; repair ticket %(id)s asks for a new lock.",
                code=key.code,
                id=ticket.id,
            ),
            "warning",
        )
        return redirect(url_for(".index", site=key.site_id))


class KeyItemView(ScopedModelView):
    read_roles = READ_ROLES
    write_roles = EDIT_ROLES
    delete_roles = EDIT_ROLES
    export_roles = EDIT_ROLES
    column_list = ("site", "code", "label", "kind", "active")
    column_details_list = ("site", "code", "label", "kind", "active", "lost_at", "created_at")
    column_export_list = ("site", "code", "label", "kind", "active")
    form_columns = ("site", "code", "label", "kind", "active")
    column_select_related_list = (KeyItem.site,)
    column_sortable_list = ()
    column_default_sort = ("id", False)
    column_searchable_list = ("code", "label")
    column_filters = (
        FilterEqual(KeyItem.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)),
    )
    column_labels = {
        "site": _l("Site"),
        "code": _l("Tag"),
        "label": _l("Key"),
        "kind": _l("Kind"),
        "active": _l("In use"),
        "lost_at": _l("Lost"),
        "created_at": _l("Created at"),
    }
    column_formatters = {
        "active": yes_no,
        "kind": lambda v, c, m, n: KEY_KIND_LABELS.get(m.kind, m.kind),
    }
    column_formatters_detail = column_formatters
    column_formatters_export = {"kind": lambda v, c, m, n: str(KEY_KIND_LABELS.get(m.kind, m.kind))}
    form_overrides = {"kind": SelectField}
    form_args = {"kind": {"choices": [(k, KEY_KIND_LABELS[k]) for k in KEY_KINDS]}}

    def delete_model(self, model):
        model.soft_delete()
        db.session.commit()
        return True


class KeyLoanView(ScopedModelView):
    """Every loan as a list (read-only: loans change on the register page); its period filter is
    the dashboard figure's own condition."""

    read_roles = READ_ROLES
    write_roles = frozenset()
    export_roles = EDIT_ROLES
    _creatable = _editable = _deletable = False
    column_list = ("site", "key", "holder", "purpose", "out_at", "returned_at", "lost")
    column_details_list = (
        "site",
        "key",
        "holder",
        "holder_phone",
        "purpose",
        "out_at",
        "out_by",
        "returned_at",
        "received_by",
        "lost",
    )
    column_export_list = ("site", "key", "holder", "purpose", "out_at", "returned_at", "lost")
    column_select_related_list = (KeyLoan.site, KeyLoan.key, KeyLoan.staff_member)
    column_sortable_list = ()
    column_default_sort = ("id", True)
    column_filters = (
        FilterEqual(KeyLoan.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)),
        PeriodClauseFilter(lambda a, b: svc.overnight_clause(a, b), _l("Out overnight")),
    )
    column_labels = {
        "site": _l("Site"),
        "key": _l("Key"),
        "holder": _l("Holder"),
        "holder_phone": _l("Phone"),
        "purpose": _l("Purpose"),
        "out_at": _l("Handed out"),
        "out_by": _l("Handed out by"),
        "returned_at": _l("Returned"),
        "received_by": _l("Received by"),
        "lost": _l("Lost"),
    }
    _fmt = {
        "holder": lambda v, c, m, n: m.holder,
    }
    column_formatters = {**_fmt, "lost": yes_no}
    column_formatters_detail = column_formatters
    column_formatters_export = _fmt


def register(admin):
    category = _l("Keys")
    admin.add_view(
        KeysView(name=_l("Key register"), category=category, endpoint="keys", url="/keys")
    )
    admin.add_view(
        KeyItemView(
            KeyItem, name=_l("Key list"), category=category, endpoint="keyitem", url="/keyitem"
        )
    )
    admin.add_view(
        KeyLoanView(
            KeyLoan, name=_l("Key loans"), category=category, endpoint="keyloan", url="/keyloan"
        )
    )


def today_section(site, day, user):
    """Today: keys still out, those out since an earlier day first flagged (钥匙未归还)."""
    loans = today.kept(site, day, "keys.out", lambda: svc.open_loans(site))
    if not loans:
        return None
    return {
        "site": site,
        "loans": loans,
        "day": day,
        "can_handle": user.role in svc.HANDLER_ROLES,
    }
