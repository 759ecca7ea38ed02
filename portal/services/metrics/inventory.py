"""Item check figures: item discrepancies, and the month-end discrepancies section."""

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Item, ItemCheckLine
from portal.models.inventory import CONDITION_LABELS
from portal.services import metrics as m


PERIOD_DRILL = "{start} to {end}"


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


def register_figures():
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


# ------------------------------------------------------------ month-end section


def discrepancies_section(site_id, start, end):
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
