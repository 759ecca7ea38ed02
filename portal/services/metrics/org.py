"""Organisation figures: staff on the roster, and the month-end roster section."""

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import and_, func, select

from portal.extensions import db
from portal.models import StaffMember
from portal.models.org import STAFF_KIND_LABELS
from portal.services import metrics as m


def roster_by_end_clause(start, end):
    """Active roster members added before the end of the period (shared with the staff list's filter)."""
    return and_(
        StaffMember.active.is_(True),
        m.local_period(StaffMember.site_id, start, end, lambda lo, hi: StaffMember.created_at < hi),
    )


def _staff_on_roster(site_ids, start, end):
    """Active roster members who were on the roster by the end of the period."""
    stmt = (
        select(StaffMember.site_id, func.count())
        .where(StaffMember.site_id.in_(site_ids), roster_by_end_clause(start, end))
        .group_by(StaffMember.site_id)
    )
    counts = dict(db.session.execute(stmt).all())
    return {sid: counts.get(sid, 0) for sid in site_ids}


def register_figures():
    m.register_metric(
        "staff_on_roster",
        _l("Staff on the roster"),
        _l("people"),
        _staff_on_roster,
        better="higher",
        drill=(
            "staff.index_view",
            {
                "flt0_site_equals": "{site_id}",
                "flt1_on_the_roster_at_period_end_between": "{start} to {end}",
            },
        ),
        order=900,
    )


# ------------------------------------------------------------ month-end section


def roster_section(site_id, start, end):
    stmt = (
        select(StaffMember.name, StaffMember.kind, StaffMember.phone)
        .where(StaffMember.site_id == site_id, StaffMember.active.is_(True))
        .order_by(StaffMember.kind, StaffMember.name)
    )
    rows = [
        [name, str(STAFF_KIND_LABELS.get(kind, kind)), phone or ""]
        for name, kind, phone in db.session.execute(stmt)
    ]
    return {"headers": [_("Full name"), _("Kind"), _("Phone")], "rows": rows}
