"""``flask bench seed``: the large benchmark dataset (see portal/devdata/bench.py)."""

from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import func, select
from portal import devdata
from portal.devdata.bench import DEMO_SITES
from portal.extensions import db
from portal.models import Site

bench_cli = AppGroup("bench", help="Benchmark tools: a large generated dataset.")


@bench_cli.command("seed")
@click.option(
    "--sites", default=200, show_default=True, help="Total sites (the 4 demo sites included)."
)
@click.option("--days", default=365, show_default=True, help="Days of history, ending --end.")
@click.option(
    "--seed", "seed_value", default=1, show_default=True, help="Random seed: same seed, same rows."
)
@click.option(
    "--end",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of the history (default: today).",
)
@click.option("--only", multiple=True, help="Generate only these domains (org always runs).")
def seed_command(sites, days, seed_value, end, only):
    """Generate a large, deterministic dataset on an empty, migrated database.

    The demo organisation and its users (password demo12345) are included, grown to
    SITES sites in 10 regions with ~10 users per site and DAYS days of history.
    Rows are written with bulk Core inserts, which bypass the ORM flush: the audit-trail
    listener does not log them (acceptable for benchmark data; the audit table is
    generated directly instead).
    """
    if sites < 1 or days < 1:
        raise click.BadParameter("--sites and --days must be at least 1")
    if db.session.scalar(select(func.count()).select_from(Site)) > DEMO_SITES:
        raise click.ClickException(
            "the database already holds more than the demo sites: seed an empty one"
        )
    devdata.generate(
        sites=sites,
        days=days,
        seed=seed_value,
        end=end.date() if end else date.today(),
        only=only or None,
        progress=click.echo,
    )
