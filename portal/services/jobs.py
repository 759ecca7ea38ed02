"""The background job queue (huey): deliveries of notifications, run outside the web request,
and the periodic escalations (``portal.services.escalation``, every 5 minutes).

Storage: SQLite in the instance folder by default (``instance/jobs.db``, ``JOBS_SQLITE_FILE``),
Redis when ``PORTAL_REDIS_URL`` is set (several workers on several machines share it). Workers
run with ``flask jobs worker`` (``make run`` starts one next to gunicorn).

    jobs_of(app) -> Jobs;  Jobs.huey, Jobs.enqueue_delivery(delivery_id)

The huey instance is built on first use, so an app that never enqueues anything (most tests, the
CLI) opens no queue. ``JOBS_IMMEDIATE`` runs each task at once in the caller (for tests only).
"""

import os

from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab

from portal.services import escalation, notify


class Jobs:
    def __init__(self, app, **settings):
        self.app = app
        self.settings = settings  # overrides of app.config (tests: their own queue)
        self._huey = None
        self._deliver = None

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

        def escalate():
            with app.app_context():
                escalation.run_all()

        # Every 5 minutes; each escalation is recorded once (a missed run catches up, no storm).
        self.escalate = huey.periodic_task(crontab(minute="*/5"), name="portal.escalate")(escalate)
        return huey

    def enqueue_delivery(self, delivery_id):
        self.huey  # noqa: B018 (builds the queue and its tasks)
        return self._deliver(delivery_id)


def jobs_of(app):
    jobs = app.extensions.get("portal_jobs")
    if jobs is None:
        jobs = app.extensions["portal_jobs"] = Jobs(app)
    return jobs
