"""Organisation figures: staff on the roster during the period (from the roster spells, not
today's ``active`` flag), and the month-end roster section listing exactly them."""

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db
from portal.models import Site, StaffMember
from portal.models.org import STAFF_KIND_LABELS
from portal.services import metrics as m
from portal.services import period_facts as facts


def roster(site_ids, start, end):
    """{site_id: [RosterMember]}: on the site's roster at some time in the period (up to now,
    while it runs): a leaver of the period is in it, a later joiner is not."""
    return m.per_zone(
        site_ids,
        start,
        end,
        lambda ids, lo, hi: facts.staff_on_roster(ids, lo, m.judged_at(hi)),
    )


def roster_by_end_clause(start, end):
    """The people of ``roster`` as a condition (the staff list's period filter)."""
    found = roster(db.session.scalars(select(Site.id)).all(), start, end)
    ids = sorted({p.staff_member_id for people in found.values() for p in people})
    return StaffMember.id.in_(ids or [-1])


def _staff_on_roster(site_ids, start, end):
    """The number of people of ``roster``."""
    return m.per_zone(
        site_ids,
        start,
        end,
        lambda ids, lo, hi: facts.staff_on_roster_counts(ids, lo, m.judged_at(hi)),
    )


def _local_day(at, site_id):
    return at.astimezone(m.zone_of(site_id)).date().isoformat() if at else "–"


def roster_records(site_id, start, end):
    people = roster([site_id], start, end)[site_id]
    rows = [
        [
            p.name,
            str(STAFF_KIND_LABELS.get(p.kind, p.kind)),
            _local_day(p.joined_at, site_id),
            _local_day(p.left_at, site_id),
        ]
        for p in people
    ]
    return m.table(
        [_("Full name"), _("Kind"), _("Joined"), _("Left")],
        rows,
        [p.staff_member_id for p in people],
    )


def register_figures():
    m.register_metric(
        "staff_on_roster",
        _l("Staff on the roster"),
        _l("people"),
        _staff_on_roster,
        better="higher",
        order=900,
        definition=_l(
            "People on the site's roster at any time during the period (up to now, while it "
            "runs): someone who left during the period counts, someone who joined after it "
            "does not; each person once."
        ),
        records=roster_records,
    )


# ------------------------------------------------------------ month-end section


def roster_section(site_id, start, end):
    """Exactly the people of the "staff on the roster" figure, with when they joined and left."""
    table = roster_records(site_id, start, end)
    return {"headers": table["headers"], "rows": table["rows"]}
