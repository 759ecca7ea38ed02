"""The month-end archive closes the month, and the months its trends show, for every site at
once: the statements it sends do not grow with the number of sites."""

from sqlalchemy import func, select

from portal import clock
from portal.models import PeriodClose, Site
from portal.reports import archive
from portal.services import metrics as m
from portal.services import report_data
from tests.querycount import count_queries


def test_closing_for_the_archive_sends_as_many_statements_for_more_sites(app, dbs):
    month = m.previous_month(m.month_start(clock.local_day(clock.DEFAULT_ZONE)))
    site_ids = dbs.scalars(select(Site.id).order_by(Site.id)).all()
    assert len(site_ids) >= 4
    few, many = site_ids[:1], site_ids[1:]
    with app.app_context():
        with count_queries(app) as one_site:
            archive.close_for_reports(month, few)
        with count_queries(app) as the_others:
            archive.close_for_reports(month, many)
    assert one_site.count == the_others.count
    months = m.months_back(month, report_data.TREND_MONTHS)
    closed = dbs.scalar(
        select(func.count())
        .select_from(PeriodClose)
        .where(PeriodClose.period.in_([f"{mo:%Y-%m}" for mo in months]))
    )
    assert closed == len(site_ids) * len(months)
