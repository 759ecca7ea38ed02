"""Item check figures: item discrepancies, and the month-end discrepancies section (every line
of the figure, an item retired since included under its name, marked)."""

from flask_babel import gettext as _
from portal.i18n import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db
from portal.models.base import among
from portal.models import Item, ItemCheckLine
from portal.models.inventory import CONDITION_LABELS
from portal.services import metrics as m
from portal.services.metrics.visits import WITHDRAWN
from portal.services.scope import including_deleted


def discrepancy_lines(site_ids, start, end):
    """{site_id: [row]}: item check lines of the period's days whose count or condition did not
    match, with their item's name even when the item was retired (switched off or deleted)."""
    stmt = (
        select(
            ItemCheckLine.site_id,
            ItemCheckLine.id,
            ItemCheckLine.day,
            Item.name,
            Item.active.is_(False) | Item.deleted_at.is_not(None),
            ItemCheckLine.expected_quantity,
            ItemCheckLine.counted_quantity,
            ItemCheckLine.condition,
            ItemCheckLine.dealt_with,
        )
        .outerjoin(Item, Item.id == ItemCheckLine.item_id)
        .where(
            among(ItemCheckLine.site_id, site_ids),
            ItemCheckLine.is_discrepancy.is_(True),
            ItemCheckLine.day >= start,
            ItemCheckLine.day <= end,
        )
        .order_by(ItemCheckLine.day, Item.name, ItemCheckLine.id)
    )
    found = {sid: [] for sid in site_ids}
    for row in db.session.execute(including_deleted(stmt)):
        found[row[0]].append(row[1:])
    return found


def item_discrepancies(site_ids, start, end):
    """Item check lines of the period whose count or condition did not match."""
    return {sid: len(rows) for sid, rows in discrepancy_lines(site_ids, start, end).items()}


def _rows(found):
    return [
        [
            day.isoformat(),
            f"{name}（{WITHDRAWN}）" if retired else (name or ""),
            expected,
            counted,
            str(CONDITION_LABELS.get(cond, cond)),
            _("Yes") if dealt else _("No"),
        ]
        for _id, day, name, retired, expected, counted, cond, dealt in found
    ]


HEADERS = ("Day", "Item", "Expected", "Counted", "Condition", "Dealt with")


def discrepancy_records(site_id, start, end):
    found = discrepancy_lines([site_id], start, end)[site_id]
    return m.table([_(h) for h in HEADERS], _rows(found), [row[0] for row in found])


def register_figures():
    m.register_metric(
        "item_discrepancies",
        _l("Item discrepancies"),
        _l("items"),
        item_discrepancies,
        better="lower",
        order=60,
        definition=_l(
            "Lines of the item checks of the period's days whose count or condition did not "
            "match, items retired since included."
        ),
        records=discrepancy_records,
    )


# ------------------------------------------------------------ month-end section


def discrepancies_section(site_id, start, end):
    found = discrepancy_lines([site_id], start, end)[site_id]
    return {"headers": [_(h) for h in HEADERS], "rows": _rows(found)}
