"""Notifications (issue 20, point 3): the bell, my list, and deliveries by a real job worker.

Real receivers on 127.0.0.1: an http.server thread stands in for the WeCom / DingTalk group
robot, aiosmtpd is the SMTP server. The web request only writes the notification and its
delivery rows; a real consumer (``flask jobs worker`` in a subprocess, on the SQLite store or on
Redis) delivers them.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from email import message_from_bytes, policy
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from portal.models import DamageReport, RepairTicket, User
from portal.models.notifications import (
    Notification,
    NotificationDelivery,
    NotifyChannels,
    RobotWebhook,
)
from portal.services import escalation, jobs
from tests.repairs_helpers import new_ticket

BASE = "https://portal.example.cn"
REDIS_URL = "redis://127.0.0.1:6379/0"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Robot:
    """A group robot's webhook: records every JSON body posted to it, answers errcode 0."""

    def __init__(self):
        self.received = []  # (path, JSON body)
        self.arrived = []  # time.monotonic() of each message, for delivery delays
        self.lock = threading.Lock()
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                with robot.lock:
                    robot.arrived.append(time.monotonic())
                    robot.received.append((self.path, json.loads(self.rfile.read(length))))
                body = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=k1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self):
        with self.lock:
            return len(self.received)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.close()


@pytest.fixture
def mailbox(app, monkeypatch):
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", controller.port)
    box.port = controller.port
    yield box
    controller.stop()


@pytest.fixture
def queue(app, monkeypatch, tmp_path):
    """This test's own queue (SQLite file under tmp_path), as the web app and worker see it."""
    settings = {"JOBS_SQLITE_FILE": str(tmp_path / "jobs.db"), "JOBS_RETRY_DELAY": 1}
    monkeypatch.setitem(app.extensions, "portal_jobs", jobs.Jobs(app, **settings))
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    return settings


@pytest.fixture
def redis_queue(app, monkeypatch):
    name = f"portal-test-{uuid.uuid4().hex}"
    settings = {"REDIS_URL": REDIS_URL, "JOBS_NAME": name, "JOBS_RETRY_DELAY": 1}
    monkeypatch.setitem(app.extensions, "portal_jobs", jobs.Jobs(app, **settings))
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    yield settings
    conn = redis.Redis.from_url(REDIS_URL)
    for key in conn.scan_iter(f"*{name}*"):
        conn.delete(key)


class Worker:
    """``flask jobs worker`` in its own process, on this test's database and queue."""

    def __init__(self, app, settings, smtp_port=None):
        env = {
            **os.environ,
            "FLASK_APP": "portal:create_app",
            "PORTAL_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "PORTAL_PUBLIC_BASE_URL": BASE,
            "PORTAL_SMTP_HOST": "127.0.0.1",
            "PORTAL_SMTP_PORT": str(smtp_port or 1),
        }
        for key, value in settings.items():
            env[f"PORTAL_{key}"] = str(value)
        env.pop("PORTAL_REDIS_URL", None)
        if "REDIS_URL" in settings:
            env["PORTAL_REDIS_URL"] = settings["REDIS_URL"]
        flask = os.path.join(os.path.dirname(sys.executable), "flask")
        self.proc = subprocess.Popen(
            [flask, "jobs", "worker", "--workers", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def wait_for(check, timeout=40):
    """Poll until ``check()`` is true (the worker is another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _user(dbs, username):
    return dbs.scalar(select(User).where(User.username == username))


def _channels(dbs, username, email="worker@example.cn", robot=True):
    u = _user(dbs, username)
    dbs.add(NotifyChannels(user_id=u.id, email=email, by_email=bool(email), by_robot=robot))
    dbs.commit()
    return u


def _robot_for(dbs, site_id, url, kind="wecom"):
    dbs.add(RobotWebhook(name="深圳一店群", kind=kind, site_id=site_id, url=url, active=True))
    dbs.commit()


def _deliveries(dbs):
    dbs.expire_all()
    return dbs.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)).all()


def _all_sent(dbs, n):
    rows = _deliveries(dbs)
    return len(rows) == n and all(r.status == "sent" for r in rows)


def _subject(msg):
    return str(make_header(decode_header(msg["Subject"])))


def test_assigned_ticket_reaches_robot_and_mail_through_the_sqlite_worker(
    app, login, dbs, site_ids, robot, mailbox, queue
):
    maint = _channels(dbs, "maint_south", email="li@example.cn")
    _robot_for(dbs, site_ids["SZ01"], robot.url)
    ticket_id = new_ticket(app)
    sup = login("sup_south")
    resp = sup.post(f"/repairs/{ticket_id}/action/assign", {"assign-assignee": str(maint.id)})
    assert resp.status_code == 302
    # The request wrote the notification and queued the deliveries; nothing was sent yet.
    note = dbs.scalar(select(Notification).where(Notification.user_id == maint.id))
    assert note.kind == "assigned" and note.url == f"/repairs/{ticket_id}/"
    assert note.title == "报修单已派给你：落地灯"
    assert [(d.channel, d.status) for d in _deliveries(dbs)] == [
        ("email", "queued"),
        ("wecom", "queued"),
    ]
    assert robot.received == [] and mailbox.messages == []

    worker = Worker(app, queue, mailbox.port)
    try:
        assert wait_for(lambda: _all_sent(dbs, 2)), worker.proc.stderr
    finally:
        worker.stop()
    link = f"{BASE}/repairs/{ticket_id}/"
    assert len(robot.received) == 1
    path, payload = robot.received[0]
    assert path == "/cgi-bin/webhook/send?key=k1"
    assert payload["msgtype"] == "markdown"
    content = payload["markdown"]["content"]
    assert "报修单已派给你：落地灯" in content and link in content and "不亮" in content
    assert len(mailbox.messages) == 1
    rcpt, msg = mailbox.messages[0]
    assert rcpt == ["li@example.cn"]
    assert _subject(msg) == "报修单已派给你：落地灯"
    assert link in msg.get_content()
    assert all(d.attempts == 1 and d.sent_at for d in _deliveries(dbs))


def test_damage_report_waiting_reaches_dingtalk_and_mail_through_the_redis_worker(
    app, login, dbs, site_ids, robot, mailbox, redis_queue
):
    sales = _channels(dbs, "sales_sz01", email="wang@example.cn")
    _robot_for(dbs, site_ids["SZ01"], robot.url, kind="dingtalk")
    visit_at = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 86400))
    resp = login("clerk_sz01").post(
        "/damage/new/",
        {
            "site": site_ids["SZ01"],
            "equipment": "样板房抱枕",
            "visit_description": "李女士两位",
            "visit_at": visit_at,
            "salesperson": sales.id,
            "description": "抱枕被饮料弄脏",
        },
    )
    assert resp.status_code == 302
    report_id = dbs.scalar(select(func.max(DamageReport.id)))
    worker = Worker(app, redis_queue, mailbox.port)
    try:
        assert wait_for(lambda: _all_sent(dbs, 2)), worker.proc.stderr
    finally:
        worker.stop()
    link = f"{BASE}/damage/{report_id}/"
    assert len(robot.received) == 1
    payload = robot.received[0][1]
    assert payload["msgtype"] == "markdown"
    assert payload["markdown"]["title"] == "损坏单等你确认：样板房抱枕"
    assert link in payload["markdown"]["text"] and "李女士两位" in payload["markdown"]["text"]
    assert len(mailbox.messages) == 1
    assert mailbox.messages[0][0] == ["wang@example.cn"]
    assert _subject(mailbox.messages[0][1]) == "损坏单等你确认：样板房抱枕"
    assert link in mailbox.messages[0][1].get_content()


def test_receiver_down_the_job_retries_and_the_notification_stays(
    app, login, dbs, site_ids, queue, monkeypatch
):
    # Retries travel with the task: the web app's queue says how many.
    settings = {**queue, "JOBS_RETRIES": 2}
    web_jobs = jobs.Jobs(app, **settings)
    monkeypatch.setitem(app.extensions, "portal_jobs", web_jobs)
    maint = _channels(dbs, "maint_south", email=None)
    _robot_for(dbs, site_ids["SZ01"], f"http://127.0.0.1:{_free_port()}/send?key=k1")
    ticket_id = new_ticket(app)
    login("sup_south").post(f"/repairs/{ticket_id}/action/assign", {"assign-assignee": maint.id})
    huey = web_jobs.huey

    def given_up():
        rows = _deliveries(dbs)
        done = rows and rows[0].attempts == 3 and rows[0].status == "failed"
        return done and huey.pending_count() == 0 and huey.scheduled_count() == 0

    worker = Worker(app, settings)
    try:
        # The first try and two retries, a second apart: three attempts, then nothing left.
        assert wait_for(given_up)
    finally:
        worker.stop()
    (row,) = _deliveries(dbs)
    assert row.status == "failed" and row.attempts == 3 and row.sent_at is None
    assert "Connection refused" in row.last_error or "URLError" in row.last_error
    # The in-portal notification is there, unread, on the bell.
    page = login("maint_south").get("/notifications/").get_data(as_text=True)
    assert "报修单已派给你：落地灯" in page
    assert 'id="bell-count">1<' in page
    # Head office sees the attempts in the delivery log; the robot's URL is never shown.
    log = login("admin").get("/delivery/").get_data(as_text=True)
    assert "失败" in log and "robot:" in log and "127.0.0.1" not in log


def test_bell_count_mark_read_and_another_users_notification(app, login, dbs, site_ids):
    maint = _user(dbs, "maint_south")
    first, second = new_ticket(app), new_ticket(app)
    sup = login("sup_south")
    for ticket_id in (first, second):
        sup.post(f"/repairs/{ticket_id}/action/assign", {"assign-assignee": maint.id})
    notes = dbs.scalars(select(Notification).where(Notification.user_id == maint.id)).all()
    assert len(notes) == 2
    assert _deliveries(dbs) == []  # no channels chosen: the portal only, nothing queued
    worker = login("maint_south")
    home = worker.get("/notifications/").get_data(as_text=True)
    assert 'id="bell-count">2<' in home
    # Someone else cannot read or even see it.
    assert sup.post(f"/notifications/{notes[0].id}/read", {}).status_code == 404
    assert worker.post(f"/notifications/{notes[0].id}/read", {}, csrf=False).status_code == 400
    resp = worker.post(f"/notifications/{notes[0].id}/read", {"open": "1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/repairs/{first}/")
    assert 'id="bell-count">1<' in worker.get("/notifications/").get_data(as_text=True)
    assert worker.post("/notifications/read-all", {}).status_code == 302
    page = worker.get("/notifications/").get_data(as_text=True)
    assert 'id="bell-count">0<' in page
    dbs.expire_all()
    assert all(n.read_at for n in dbs.scalars(select(Notification)))
    # The supervisor's own bell is untouched by the maintenance worker's notifications.
    assert 'id="bell-count">0<' in sup.get("/notifications/").get_data(as_text=True)


def test_my_channels_are_saved_and_bad_address_refused(login, dbs):
    c = login("sales_sz01")
    resp = c.post("/notifications/channels", {"by_email": "1", "email": "不是地址"})
    assert resp.status_code == 400
    assert "请输入有效的电子邮件地址" in resp.get_data(as_text=True)
    assert dbs.scalar(select(func.count()).select_from(NotifyChannels)) == 0
    assert c.post("/notifications/channels", {"by_robot": "1", "email": ""}).status_code == 302
    row = dbs.scalar(select(NotifyChannels))
    assert row.by_robot and not row.by_email and row.email is None


def test_overdue_ticket_reaches_the_regions_supervisor_once(
    app, dbs, site_ids, robot, mailbox, queue
):
    sup = _channels(dbs, "sup_south", email="chen@example.cn")
    east = _channels(dbs, "sup_east", email="wang.east@example.cn")
    _robot_for(dbs, site_ids["SZ01"], robot.url)
    ticket_id = new_ticket(app)
    due = dbs.get(RepairTicket, ticket_id).due_at
    # The job runs before the due time, then after it, then again (a later run, or a second
    # worker): the supervisors of the ticket's region are told once.
    with app.app_context():
        with time_machine.travel(due - timedelta(minutes=1), tick=False):
            assert escalation.tickets_overdue() == 0
        with time_machine.travel(due + timedelta(minutes=4), tick=False):
            assert escalation.tickets_overdue() == 1
            assert escalation.tickets_overdue() == 0
    notes = dbs.scalars(select(Notification).where(Notification.kind == "overdue")).all()
    assert [n.user_id for n in notes] == [sup.id]  # not the other region's supervisor
    assert east.id not in {n.user_id for n in dbs.scalars(select(Notification))}
    assert notes[0].title == "报修单已逾期：落地灯"
    worker = Worker(app, queue, mailbox.port)
    try:
        assert wait_for(lambda: _all_sent(dbs, 2)), worker.proc.stderr
    finally:
        worker.stop()
    link = f"{BASE}/repairs/{ticket_id}/"
    assert len(robot.received) == 1
    content = robot.received[0][1]["markdown"]["content"]
    assert "报修单已逾期：落地灯" in content and "陈志强" in content and link in content
    assert [m[0] for m in mailbox.messages] == [["chen@example.cn"]]
    assert _subject(mailbox.messages[0][1]) == "报修单已逾期：落地灯"
    assert link in mailbox.messages[0][1].get_content()


def test_unassigned_ticket_goes_to_the_regions_supervisor_after_30_minutes_once(
    app, login, dbs, site_ids
):
    waiting, taken = new_ticket(app), new_ticket(app)
    maint = _user(dbs, "maint_south")
    login("sup_south").post(f"/repairs/{taken}/action/assign", {"assign-assignee": maint.id})
    reported = dbs.get(RepairTicket, waiting).created_at
    with app.app_context():
        with time_machine.travel(reported + timedelta(minutes=29), tick=False):
            assert escalation.run_all()["ticket_unassigned"] == 0
        with time_machine.travel(reported + timedelta(minutes=31), tick=False):
            assert escalation.run_all()["ticket_unassigned"] == 1
        with time_machine.travel(reported + timedelta(hours=5), tick=False):
            assert escalation.run_all()["ticket_unassigned"] == 0  # once, not again
    # The other rules (the opening checklist by 10:00…) may fire at these hours too.
    notes = dbs.scalars(
        select(Notification).where(
            Notification.kind == "overdue", Notification.url.like("/repairs/%")
        )
    ).all()
    assert [(n.user.username, n.title, n.url) for n in notes] == [
        ("sup_south", "报修单仍无人接单：落地灯", f"/repairs/{waiting}/")
    ]
    assert "至今无人接单" in notes[0].body


def test_the_escalations_are_a_periodic_task_every_minute(app, queue):
    task = app.extensions["portal_jobs"]
    task.huey  # noqa: B018 (builds the queue)
    check = task.escalate.task_class().validate_datetime
    at = datetime(2026, 12, 4, 10, 0)
    assert [m for m in range(5) if check(at + timedelta(minutes=m))] == [0, 1, 2, 3, 4]


def test_head_office_keeps_the_robots_and_their_keys_stay_out_of_lists_and_audit(
    login, dbs, site_ids
):
    from portal.models import AuditEvent

    admin = login("admin")
    dbs.execute(RobotWebhook.__table__.delete())
    dbs.commit()
    good = {
        "name": "深圳湾钉钉群",
        "kind": "dingtalk",
        "site": str(site_ids["SZ01"]),
        "url": "https://oapi.dingtalk.com/robot/send?access_token=SECRET123",
        "active": "y",
    }
    resp = admin.post("/robotwebhook/new/?url=/robotwebhook/", {**good, "url": "ftp://x"})
    assert resp.status_code == 400 and "https://" in resp.get_data(as_text=True)
    resp = admin.post("/robotwebhook/new/?url=/robotwebhook/", {**good, "site": ""})
    assert resp.status_code == 400 and "二选一" in resp.get_data(as_text=True)
    assert dbs.scalar(select(func.count()).select_from(RobotWebhook)) == 0
    assert admin.post("/robotwebhook/new/?url=/robotwebhook/", good).status_code == 302
    robot_id = dbs.scalar(select(RobotWebhook.id))
    listing = admin.get("/robotwebhook/").get_data(as_text=True)
    details = admin.get(f"/robotwebhook/details/?id={robot_id}").get_data(as_text=True)
    assert "深圳湾钉钉群" in listing and "SECRET123" not in listing + details
    events = dbs.scalars(select(AuditEvent)).all()
    assert not [e for e in events if "SECRET123" in repr(e.__dict__)]
    assert login("sup_south").get("/robotwebhook/").status_code == 403
    assert login("sup_south").get("/delivery/").status_code == 403
