"""Checklist figures: opening and closing checklists completed on time."""

from datetime import time

from portal.i18n import lazy_gettext as _l
from sqlalchemy import select

from portal import clock
from portal.models import ChecklistRun
from portal.services import metrics as m


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


def register_figures():
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
