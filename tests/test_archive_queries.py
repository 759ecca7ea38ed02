"""The month-end archive reads what its PDFs share once for all the sites: making the PDFs of a
closed month sends as many statements for four sites as for two, and a report built anew adds
only its own detail tables, never the figures of the region or of the trend months again."""

from sqlalchemy import select

from portal import clock
from portal.models import PeriodClose
from portal.reports import archive
from portal.services import metrics as m
from portal.services import report_data
from tests.querycount import count_queries


def _month():
    return m.previous_month(m.month_start(clock.local_day(clock.DEFAULT_ZONE)))


def _site_jobs(site_ids, codes):
    return [("site", site_ids[code]) for code in codes]


def test_archiving_a_closed_month_sends_as_many_statements_for_four_sites_as_for_two(
    app, dbs, site_ids, tmp_path
):
    month = _month()
    four = _site_jobs(site_ids, ("SH01", "SH02", "SZ01", "SZ02"))
    two = four[:2]
    with app.app_context():
        # The first run closes the months and stores each site's report data.
        first = archive.make_pdfs(four, month, str(tmp_path / "first"), processes=1)
        with count_queries(app) as for_two:
            archive.make_pdfs(two, month, str(tmp_path / "two"), processes=1)
        with count_queries(app) as for_four:
            paths = archive.make_pdfs(four, month, str(tmp_path / "four"), processes=1)
    assert for_two.count == for_four.count
    assert len(paths) == 4
    # Drawn from the stored data, the PDFs are the very files of the first run.
    for before, after in zip(first, paths, strict=True):
        with open(before, "rb") as a, open(after, "rb") as b:
            assert a.read() == b.read()


def test_a_report_built_anew_reads_no_figure_again(app, dbs, site_ids, tmp_path):
    """Each site's report still to build runs its detail tables (one provider per table, per
    site) and nothing else per site: the figures come from the run's shared read."""
    month = _month()
    codes = ("SH01", "SH02", "SZ01", "SZ02")
    with app.app_context():
        archive.close_for_reports(month, list(site_ids.values()))
        dbs.commit()
        with count_queries(app) as run:
            archive.make_pdfs(_site_jobs(site_ids, codes), month, str(tmp_path), processes=1)
    stored = dbs.scalars(
        select(PeriodClose.report).where(PeriodClose.period == f"{month:%Y-%m}")
    ).all()
    assert len(stored) == 4 and all(report is not None for report in stored)
    # No statement reads the stored figures once per site.
    figure_reads = [s for s in run.statements if "period_figure" in s and "SELECT" in s]
    assert len(figure_reads) <= len(report_data.report_months(month))
