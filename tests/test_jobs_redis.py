"""Two workers on one queue deliver each message exactly once, and how fast.

Two ``flask jobs worker`` processes share this test's own queue — on Redis (127.0.0.1:6379,
a unique queue name per test, its keys removed afterwards) and on the SQLite store — and a real
HTTP receiver on 127.0.0.1 stands in for the site's group robot. Events are made one at a time
through the repairs service (a ticket assigned to a worker who chose the robot channel); the
receiver notes when each message arrives. The median delay from the event's commit to the
receiver is printed (``pytest -s``); it is reported, not asserted (no wall-clock assertions).
"""

import statistics
import time
import uuid

import pytest
import redis
from sqlalchemy import select

from portal.extensions import db
from portal.models import RepairTicket, User
from portal.models.notifications import NotificationDelivery, NotifyChannels, RobotWebhook
from portal.services import jobs, repairs
from tests.repairs_helpers import make_ticket
from tests.test_notify import BASE, REDIS_URL, Robot, Worker, wait_for

EVENTS = 20


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.close()


@pytest.fixture(params=["redis", "sqlite"])
def two_worker_queue(request, app, monkeypatch, tmp_path):
    name = f"portal-test-{uuid.uuid4().hex}"
    if request.param == "redis":
        settings = {"REDIS_URL": REDIS_URL, "JOBS_NAME": name, "JOBS_RETRY_DELAY": 1}
    else:
        settings = {"JOBS_SQLITE_FILE": str(tmp_path / "jobs.db"), "JOBS_RETRY_DELAY": 1}
    monkeypatch.setitem(app.extensions, "portal_jobs", jobs.Jobs(app, **settings))
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    yield request.param, settings
    if request.param == "redis":
        conn = redis.Redis.from_url(REDIS_URL)
        for key in conn.scan_iter(f"*{name}*"):
            conn.delete(key)


def _assign(app, ticket_id):
    """One event: the supervisor assigns the ticket; returns the instant it committed."""
    with app.app_context():
        s = db.session
        ticket = s.get(RepairTicket, ticket_id)
        sup = s.scalar(select(User).where(User.username == "sup_south"))
        worker = s.scalar(select(User).where(User.username == "maint_south"))
        repairs.transition(ticket, "assign", sup, assignee=worker)
        started = time.monotonic()
        s.commit()  # the delivery is handed to the queue as the transaction commits
        s.remove()
    return started


def test_two_workers_deliver_each_message_once(app, dbs, site_ids, robot, two_worker_queue):
    backend, settings = two_worker_queue
    maint = dbs.scalar(select(User).where(User.username == "maint_south"))
    dbs.add(NotifyChannels(user_id=maint.id, by_robot=True))
    dbs.add(RobotWebhook(name="深圳湾群", kind="wecom", site_id=site_ids["SZ01"], url=robot.url))
    tickets = [make_ticket(dbs) for _ in range(EVENTS + 1)]
    dbs.commit()
    dbs.remove()

    workers = [Worker(app, settings), Worker(app, settings)]
    try:
        # A first message, once both workers are up, so the timings below leave out start-up.
        _assign(app, tickets[0])
        assert wait_for(lambda: robot.count() == 1, timeout=60), workers[0].proc.stderr
        delays = []
        for n, ticket_id in enumerate(tickets[1:], start=2):
            started = _assign(app, ticket_id)
            assert wait_for(lambda n=n: robot.count() >= n, timeout=30)
            delays.append(robot.arrived[n - 1] - started)
        time.sleep(2)  # a duplicate would arrive within this
        assert all(w.proc.poll() is None for w in workers)
    finally:
        for w in workers:
            w.stop()

    contents = [body["markdown"]["content"] for _, body in robot.received]
    links = [f"{BASE}/repairs/{t}/" for t in tickets]
    assert len(contents) == EVENTS + 1
    assert sorted(next(link for link in links if link in c) for c in contents) == sorted(links)
    dbs.expire_all()
    rows = dbs.scalars(select(NotificationDelivery)).all()
    assert len(rows) == EVENTS + 1
    assert all(r.status == "sent" and r.attempts == 1 for r in rows)
    median = statistics.median(delays)
    print(
        f"\n[{backend}] two workers, {EVENTS} events: event → receiver median "
        f"{median * 1000:.0f} ms, min {min(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms"
    )
