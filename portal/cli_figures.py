"""``flask figures close [--month YYYY-MM]``: store the figures of every site whose month is
over."""

import click
from flask.cli import AppGroup

from portal import clock
from portal.extensions import db
from portal.services import metrics, period_close, report_data

figures_cli = AppGroup("figures", help="Dashboard figures of closed months.")


@figures_cli.command("close")
@click.option("--month", default=None, help="The month, as YYYY-MM; default: the last month.")
def close_command(month):
    """Close the month of every active site whose month is over (at its own local midnight):
    its figures and its month-end report data are computed once and stored. Sites closed
    before are left as they are (re-closing a corrected month is done on the dashboard)."""
    if month is None:
        first_day = metrics.previous_month(metrics.month_start(clock.local_day(None)))
    else:
        try:
            first_day = report_data.parse_month(month)
        except ValueError:
            raise click.BadParameter("use YYYY-MM, e.g. 2026-11", param_hint="--month") from None
    closed = period_close.close_month(first_day)
    db.session.commit()
    period = period_close.period_of(first_day)
    click.echo(
        f"{period}: {len(closed)} site(s) closed now, "
        f"{period_close.close_count(period)} closed in all."
    )
