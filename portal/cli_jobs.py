"""``flask jobs worker``: the background queue's consumer (huey), next to gunicorn.

Storage as the web app's (``portal.services.jobs``): instance/jobs.db, or Redis when
``PORTAL_REDIS_URL`` is set; run as many workers on as many machines as needed with Redis.
"""

import click
from flask import current_app
from flask.cli import AppGroup
from huey import crontab

from portal.reports import month_end
from portal.services import jobs

jobs_cli = AppGroup("jobs", help="Background jobs (notification deliveries).")


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="Threads of this consumer.")
def worker_command(workers):
    """Run the consumer until stopped (Ctrl-C / SIGTERM)."""
    queue = jobs.jobs_of(current_app._get_current_object())
    add_month_end(queue)
    huey = queue.huey
    # An idle consumer polls SQLite at most a second apart (Redis blocks on the queue instead), so
    # a notification leaves within about a second of its request.
    consumer = huey.create_consumer(
        workers=workers, worker_type="thread", periodic=True, max_delay=1.0
    )
    consumer.run()


def add_month_end(queue):
    """The month-end archive: hourly, it does its work once, on the first run after a month
    ended everywhere (``portal.reports.month_end``)."""
    queue.add_periodic("portal.month_end", crontab(minute="7"), month_end.archive_last_month)
