"""``flask audit verify``: check the tamper-evident hash chains of the audit trail."""

import click

from portal.extensions import db
from portal.services import audit


@click.group("audit")
def audit_group():
    """Audit trail tools."""


@audit_group.command("verify")
def verify_command():
    """Recompute every site's hash chain; exit 1 at the first broken link."""
    with db.engine.connect() as conn:
        broken = audit.verify(conn)
    if broken is None:
        click.echo("audit chain OK")
        return
    site_id, event_id, reason = broken
    click.echo(
        f"audit chain BROKEN: site={site_id if site_id is not None else '-'} event={event_id}: {reason}"
    )
    raise SystemExit(1)
