"""``flask backup create [--to DIR]`` and ``flask backup restore FILE``."""

import os

import click
from flask import current_app

from portal.extensions import db
from portal.services import backup


@click.group("backup")
def backup_group():
    """Back up and restore the database and the uploads folder."""


@backup_group.command("create")
@click.option(
    "--to", "to_dir", default=None, help="Folder for the backup (default: instance/backups)."
)
def create_command(to_dir):
    """Take a consistent backup while the portal keeps running."""
    cfg = current_app.config
    to_dir = to_dir or os.path.join(current_app.instance_path, "backups")
    path = backup.create(cfg["SQLALCHEMY_DATABASE_URI"], cfg["UPLOAD_FOLDER"], to_dir)
    click.echo(f"backup written: {path}")


@backup_group.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(archive, yes):
    """Replace the database and uploads with a backup (stop the app servers first)."""
    if not yes:
        click.confirm("This replaces the current database and uploads. Continue?", abort=True)
    cfg = current_app.config
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold the old database open
    try:
        manifest = backup.restore(archive, cfg["SQLALCHEMY_DATABASE_URI"], cfg["UPLOAD_FOLDER"])
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"restored backup of {manifest['created_at']}; run `flask audit verify` to check the trail"
    )
