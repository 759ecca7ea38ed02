"""``flask reports monthly --month YYYY-MM [--site CODE]``: the month-end PDFs, archived."""

import time

import click
from flask.cli import AppGroup
from portal.reports import archive
from portal.services import report_data

reports_cli = AppGroup("reports", help="Month-end reports.")


@reports_cli.command("monthly")
@click.option("--month", required=True, help="The month, as YYYY-MM (e.g. 2026-11).")
@click.option(
    "--site",
    "site_code",
    default=None,
    help="Only this site (code); default: every site and region.",
)
@click.option(
    "--out",
    "folder",
    default=None,
    type=click.Path(file_okay=False),
    help="Archive folder (default: instance/reports).",
)
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=None,
    help="Parallel processes (default: CPUs).",
)
def monthly_command(month, site_code, folder, processes):
    """Generate each site's monthly PDF and each region's summary, under <out>/<YYYY-MM>/."""

    try:
        report_data.parse_month(month)
    except ValueError:
        raise click.BadParameter("use YYYY-MM, e.g. 2026-11", param_hint="--month") from None
    started = time.perf_counter()
    try:
        paths = archive.generate(
            month,
            site_code,
            folder,
            processes,
            parallel=True,
        )
    except LookupError:
        raise click.BadParameter(f"no site with code {site_code}", param_hint="--site") from None
    for path in paths:
        click.echo(path)
    click.echo(f"{len(paths)} report(s) in {time.perf_counter() - started:.1f} s.")
