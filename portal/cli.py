"""Command-line tools: ``flask seed-demo``, ``flask create-user``, ``flask config-info``."""

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from portal import cli_audit, cli_backup
from portal.cli_reports import reports_cli
from portal.cli_bench import bench_cli
from portal.cli_figures import figures_cli
from portal.cli_jobs import jobs_cli
from portal.extensions import db
from portal import devdata
from portal.errors import DomainError
from portal.models import Site
from portal.services import auth as accounts
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import Migrate  # noqa: F401


def register(app):
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(config_info_command)
    app.cli.add_command(reports_cli)  # flask reports monthly (portal/cli_reports.py)
    app.cli.add_command(cli_audit.audit_group)
    app.cli.add_command(cli_backup.backup_group)
    app.cli.add_command(bench_cli)
    app.cli.add_command(figures_cli)  # flask figures close (portal/cli_figures.py)
    app.cli.add_command(jobs_cli)  # flask jobs worker (portal/cli_jobs.py)


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Only when the database holds no site yet.")
def seed_demo_command(if_empty):
    """Load the demo organisation and its data (idempotent)."""
    if if_empty and not devdata.is_empty():
        click.echo("Database already has data; demo not loaded.")
        return
    sites = devdata.seed_demo()
    click.echo(
        f"Demo data ready: {len(sites)} sites; users log in with password {devdata.DEMO_PASSWORD}."
    )


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "supervisor", "clerk", "security", "sales", "maintenance"]),
)
@click.option("--site", "sites", multiple=True, help="Site code; repeat for several sites.")
@click.option("--region", "regions", multiple=True, help="Region code (supervisors).")
@click.option(
    "--name", "display_name", default=None, help="Display name (defaults to the user name)."
)
@click.password_option()
def create_user_command(username, role, sites, regions, display_name, password):
    """Create a user; prompts for the password."""
    if accounts.find_user(username):
        raise click.ClickException(f"user {username} already exists")
    known = set(db.session.scalars(db.select(Site.code).where(Site.code.in_(sites))))
    missing = sorted(set(sites) - known)
    if missing:
        raise click.ClickException(f"unknown site code(s): {', '.join(missing)}")
    try:
        accounts.create_user(username, display_name or username, role, password, sites, regions)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {role} {username}.")


@click.command("config-info")
@with_appcontext
def config_info_command():
    """Print the configuration in force, the database (password masked) and the migration state."""
    cfg = current_app.config
    url = make_url(cfg["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    click.echo(f"environment:   {cfg['PORTAL_ENV']}")
    click.echo(f"database:      {url}")
    click.echo(f"instance:      {current_app.instance_path}")
    click.echo(f"uploads:       {cfg['UPLOAD_FOLDER']}")
    limits = cfg["RATELIMIT_STORAGE_URI"]
    if "://" in limits and not limits.startswith("memory"):
        limits = make_url(limits).render_as_string(hide_password=True)
    click.echo(f"rate limits:   {limits}")
    click.echo(f"default locale:{cfg['BABEL_DEFAULT_LOCALE']}")
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = script.get_current_head()
    state = "up to date" if current == head else "NOT up to date: run flask db upgrade"
    click.echo(f"migrations:    current={current} head={head} ({state})")
