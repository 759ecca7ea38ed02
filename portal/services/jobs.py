"""The background job queue (huey): deliveries of notifications, run outside the web request,
and the periodic jobs: the escalations (``portal.services.escalation``, every minute) and
those the layers above add with ``Jobs.add_periodic`` before the queue is built (the month-end
archive, ``portal.reports.month_end``, added by ``flask jobs worker``).

Storage: SQLite in the instance folder by default (``instance/jobs.db``, ``JOBS_SQLITE_FILE``),
Redis when ``PORTAL_REDIS_URL`` is set (several workers on several machines share it). Workers
run with ``flask jobs worker`` (``make run`` starts one next to gunicorn).

    jobs_of(app) -> Jobs;  Jobs.huey, Jobs.enqueue_delivery(delivery_id)
    Jobs.add_periodic(name, schedule, function)   (function runs in an app context)

The huey instance is built on first use, so an app that never enqueues anything (most tests, the
CLI) opens no queue. ``JOBS_IMMEDIATE`` runs each task at once in the caller (for tests only).
"""

import os

from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.exceptions import TaskLockedException

from portal.services import escalation, notify

# A worker killed while it ran a periodic job leaves its lock: it lapses after this long.
LOCK_TTL = 3600


class Jobs:
    def __init__(self, app, **settings):
        self.app = app
        self.settings = settings  # overrides of app.config (tests: their own queue)
        self._huey = None
        self._deliver = None
        self._periodic = {}  # name -> (crontab, function)
        self.periodic = {}  # name -> the huey periodic task, once built

    def add_periodic(self, name, schedule, function):
        """A periodic job of the consumer; at most one runs at a time across every worker
        (a huey lock in the queue's storage), so two workers never run it twice at once."""
        if self._huey is not None:
            raise RuntimeError("add periodic jobs before the queue is built")
        self._periodic[name] = (schedule, function)

    @property
    def huey(self):
        if self._huey is None:
            self._huey = self._build()
        return self._huey

    def _build(self):
        cfg = {**self.app.config, **self.settings}
        name = cfg.get("JOBS_NAME") or "portal"
        if cfg.get("JOBS_IMMEDIATE"):
            huey = MemoryHuey(name, immediate=True)
        elif cfg.get("REDIS_URL"):
            huey = RedisHuey(name, url=cfg["REDIS_URL"])
        else:
            path = cfg.get("JOBS_SQLITE_FILE") or os.path.join(self.app.instance_path, "jobs.db")
            huey = SqliteHuey(name, filename=path)
        app = self.app

        def deliver(delivery_id):
            with app.app_context():
                notify.deliver(delivery_id)

        self._deliver = huey.task(
            retries=int(cfg.get("JOBS_RETRIES", 5)),
            retry_delay=int(cfg.get("JOBS_RETRY_DELAY", 60)),
            name="portal.deliver",
        )(deliver)

        # Every minute (a break past its 10 minutes is told while it runs); each escalation is
        # recorded once, so a missed run catches up without a storm.
        periodic = {"portal.escalate": (crontab(), escalation.run_all), **self._periodic}
        for task_name, (schedule, function) in periodic.items():
            self.periodic[task_name] = huey.periodic_task(schedule, name=task_name)(
                _locked(huey, app, task_name, function)
            )
        self.escalate = self.periodic["portal.escalate"]
        return huey

    def enqueue_delivery(self, delivery_id):
        self.huey  # noqa: B018 (builds the queue and its tasks)
        return self._deliver(delivery_id)


def _locked(huey, app, name, function):
    def run():
        # Each worker's consumer enqueues the periodic jobs: with two workers, two runs of the
        # same minute would otherwise overlap. The loser skips; the claims make it safe anyway.
        try:
            with huey.lock_task(name, ttl=LOCK_TTL):
                with app.app_context():
                    return function()
        except TaskLockedException:
            return None

    run.__name__ = name.rpartition(".")[2]
    return run


def jobs_of(app):
    jobs = app.extensions.get("portal_jobs")
    if jobs is None:
        jobs = app.extensions["portal_jobs"] = Jobs(app)
    return jobs
