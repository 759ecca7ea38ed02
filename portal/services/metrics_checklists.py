"""Checklists and item checks: checklist completion on time, item discrepancies, and the
month-end discrepancies section. Imported by ``portal.views.checklists.register``."""

from datetime import time

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import ChecklistRun, Item, ItemCheckLine
from portal.services import metrics as m
from portal.services.report_data import register_section

# "On time": the opening checklist done before 10:00, the closing one before 18:00 (site-local).
DEADLINES = {"opening": time(10, 0), "closing": time(18, 0)}
PERIOD_DRILL = "{start} to {end}"


def is_on_time(kind, day, status, completed_at, zone=clock.DEFAULT_ZONE):
    """Done before the deadline on the site's wall clock (``zone``: ``metrics.zone_of(site_id)``)."""
    return (
        status == "done"
        and completed_at is not None
        and completed_at < clock.local_at(day, DEADLINES[kind], zone)
    )


def checklists_on_time(site_ids, start, end):
    """% of the period's opening and closing checklist runs completed by their deadline."""
    stmt = select(
        ChecklistRun.site_id,
        ChecklistRun.kind,
        ChecklistRun.day,
        ChecklistRun.status,
        ChecklistRun.completed_at,
    ).where(
        ChecklistRun.site_id.in_(site_ids),
        ChecklistRun.kind.in_(tuple(DEADLINES)),
        ChecklistRun.day >= start,
        ChecklistRun.day <= end,
    )
    return {
        sid: m.percent(sum(1 for row in rows if is_on_time(*row, zone=m.zone_of(sid))), len(rows))
        for sid, rows in m.rows_by_site(stmt).items()
    }


def item_discrepancies(site_ids, start, end):
    """Item check lines of the period whose count or condition did not match."""
    stmt = (
        select(ItemCheckLine.site_id, func.count())
        .where(
            ItemCheckLine.site_id.in_(site_ids),
            ItemCheckLine.is_discrepancy.is_(True),
            ItemCheckLine.day >= start,
            ItemCheckLine.day <= end,
        )
        .group_by(ItemCheckLine.site_id)
    )
    return m.counts(stmt, site_ids)


def register_metrics():
    m.register_metric(
        "checklists_on_time",
        _l("Checklists done on time (opening by 10:00, closing by 18:00)"),
        "%",
        checklists_on_time,
        better="higher",
        order=50,
        decimals=0,
        short=_l("Checklists on time"),
        drill=(
            "checklistrun.index_view",
            {
                "flt0_site_equals": "{site_id}",
                "flt1_day_between": PERIOD_DRILL,
                "flt2_kind_in_list": ",".join(DEADLINES),
            },
        ),
    )
    m.register_metric(
        "item_discrepancies",
        _l("Item discrepancies"),
        _l("items"),
        item_discrepancies,
        better="lower",
        order=60,
        drill=(
            "discrepancy.index_view",
            {"flt0_site_equals": "{site_id}", "flt1_day_between": PERIOD_DRILL},
        ),
    )


def _discrepancies(site_id, start, end):
    from portal.views.inventory import CONDITION_LABELS

    stmt = (
        select(
            ItemCheckLine.day,
            Item.name,
            ItemCheckLine.expected_quantity,
            ItemCheckLine.counted_quantity,
            ItemCheckLine.condition,
            ItemCheckLine.dealt_with,
        )
        .join(Item, Item.id == ItemCheckLine.item_id)
        .where(
            ItemCheckLine.site_id == site_id,
            ItemCheckLine.is_discrepancy.is_(True),
            ItemCheckLine.day >= start,
            ItemCheckLine.day <= end,
        )
        .order_by(ItemCheckLine.day, Item.name)
    )
    rows = [
        [
            day.isoformat(),
            name,
            expected,
            counted,
            str(CONDITION_LABELS.get(cond, cond)),
            _("Yes") if dealt else _("No"),
        ]
        for day, name, expected, counted, cond, dealt in db.session.execute(stmt)
    ]
    return {
        "headers": [
            _("Day"),
            _("Item"),
            _("Expected"),
            _("Counted"),
            _("Condition"),
            _("Dealt with"),
        ],
        "rows": rows,
    }


register_metrics()
register_section("discrepancies", _l("Item discrepancies"), _discrepancies, order=40)
