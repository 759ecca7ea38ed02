"""K=16 parallel writers through a real gunicorn (-w 4), on SQLite (WAL, busy timeout) and on
PostgreSQL: each thread is its own logged-in browser. They serve drinks from the same stock
line and comment on / move the same repair ticket. Nothing is lost, nothing answers 5xx and
the server log has no "database is locked". Prints the p95 latency (run with ``-s``).
"""

import http.client
import os
import re
import threading
import time
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db
from tests.conftest import TEST_CONFIG
from tests.servers import gunicorn, postgres_database

K = 16  # parallel writers
ROUNDS = 5  # operations of each kind per writer
START_STOCK = 500
MOVES = ("start", "wait_parts", "resume")  # assigned → in_progress ⇄ waiting_parts


class Browser:
    """One cookie jar over plain HTTP: a tablet at the front desk."""

    def __init__(self, port):
        self.port, self.cookies, self.token = port, {}, None

    def request(self, method, path, form=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Accept-Language": "zh-CN"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode({**form, "csrf_token": self.token})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read().decode("utf-8", "replace")
        elapsed = time.perf_counter() - started
        for header in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return resp.status, data, elapsed

    def login(self, username):
        page = self.request("GET", "/login")[1]
        self.token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(
            1
        )
        status, _, _ = self.request(
            "POST", "/login", {"username": username, "password": "demo12345"}
        )
        assert status == 302, f"login {username}: {status}"
        page = self.request("GET", "/account/")[1]
        self.token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(
            1
        )


def _arrange(url):
    """Demo data plus one stock line, one open visit and one assigned ticket at SZ01."""
    from portal import devdata
    from portal.models import Product, Site, User
    from portal.services import repairs, stock, visits

    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        devdata.seed_demo()
        site = db.session.scalar(select(Site).where(Site.code == "SZ01"))
        users = {u.username: u for u in db.session.scalars(select(User))}
        product = db.session.scalar(
            select(Product)
            .where(Product.site_id == site.id, Product.active.is_(True))
            .order_by(Product.id)
        )
        have = stock.balance(site, product)
        stock.restock(
            site, product, START_STOCK - have if have < START_STOCK else 1, user=users["admin"]
        )
        visit = visits.record_arrival(site, 2, 0, user=users["clerk_sz01"])
        ticket = repairs.report(site, users["clerk_sz01"], "咖啡机", "并发测试：漏水", "normal")
        repairs.transition(ticket, "assign", users["sup_south"], assignee=users["maint_south"])
        db.session.commit()
        ids = {
            "product": product.id,
            "visit": visit.id,
            "ticket": ticket.id,
            "stock": stock.balance(site, product),
        }
        db.session.remove()
        db.engine.dispose()
    return app, ids


def _check(app, ids, results):
    from portal.models import Product, RepairEvent, RepairTicket
    from portal.services import stock

    with app.app_context():
        product = db.session.get(Product, ids["product"])
        final = stock.balance(product.site, product)
        events = db.session.scalars(
            select(RepairEvent)
            .where(RepairEvent.ticket_id == ids["ticket"])
            .order_by(RepairEvent.id)
        ).all()
        ticket = db.session.get(RepairTicket, ids["ticket"])
        status = ticket.status
        db.session.remove()
        db.engine.dispose()
    served = sum(1 for r in results if r[0] == "serve" and r[1] == 302)
    comments = {r[3] for r in results if r[0] == "comment" and r[1] == 302}
    moves = sum(1 for r in results if r[0] == "move" and r[1] == 302)
    assert final == ids["stock"] - served, (
        f"lost stock updates: {ids['stock']} - {served} != {final}"
    )
    on_timeline = {e.text for e in events if e.kind == "comment"}
    assert comments <= on_timeline and len(comments) == K * ROUNDS, (
        "a comment is missing from the timeline"
    )
    transitions = [e for e in events if e.kind == "transition" and e.action in MOVES]
    assert len(transitions) == moves, (
        f"{moves} moves answered 302, {len(transitions)} on the timeline"
    )
    # No double move: each transition starts where the previous one ended.
    chain = [e for e in events if e.kind == "transition"]
    for before, after in zip(chain, chain[1:], strict=False):
        assert after.from_status == before.to_status, (
            f"lost update on the ticket: {before.to_status} → {after.from_status}"
        )
    assert chain[-1].to_status == status
    return final, served, moves


def _writer(port, n, ids, results, errors):
    try:
        b = Browser(port)
        b.login("maint_south" if n % 4 == 3 else "clerk_sz01")
        for i in range(ROUNDS):
            if n % 4 == 3:  # the worker moves the ticket
                action = MOVES[(n + i) % 3]
                status, _, t = b.request(
                    "POST", f"/repairs/{ids['ticket']}/action/{action}", {f"{action}-note": ""}
                )
                results.append(("move", status, t, action))
            else:
                status, _, t = b.request(
                    "POST",
                    "/visits/serve",
                    {"id": ids["visit"], "product": ids["product"], "quantity": 1},
                )
                results.append(("serve", status, t, None))
            note = f"并发评论 {n}-{i}"
            status, _, t = b.request("POST", f"/repairs/{ids['ticket']}/comment", {"text": note})
            results.append(("comment", status, t, note))
    except Exception as exc:  # surfaced by the main thread
        errors.append(repr(exc))


def _run(url, tmp_path):
    app, ids = _arrange(url)
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": "concurrency-secret",
        "PORTAL_PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "PORTAL_LOGIN_FAILURE_LIMIT": "1000 per minute",
    }
    with gunicorn(env, workers=4, args=("--timeout", "120"), log=log) as port:
        results, errors = [], []
        threads = [
            threading.Thread(target=_writer, args=(port, n, ids, results, errors)) for n in range(K)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    server_log = log.read_text()
    if errors or "Traceback" in server_log:
        print(server_log[-6000:])
    assert not errors, errors
    statuses = sorted({r[1] for r in results})
    assert all(s < 500 for s in statuses), (
        f"server errors: {[r for r in results if r[1] >= 500][:5]}"
    )
    assert "database is locked" not in server_log
    assert "Traceback" not in server_log, server_log[-3000:]
    final, served, moves = _check(app, ids, results)
    latencies = sorted(r[2] for r in results)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    name = make_url(url).get_backend_name()
    print(
        f"\nconcurrency[{name}]: {K} writers, {len(results)} POSTs, statuses {statuses}, "
        f"served {served} "
        f"(stock {ids['stock']} → {final}), {K * ROUNDS} comments, {moves} ticket moves, 0 lost, "
        f"p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
    )


def test_parallel_writers_on_sqlite(tmp_path):
    _run(f"sqlite:///{tmp_path / 'concurrency.db'}", tmp_path)


def test_parallel_writers_on_postgresql(tmp_path):
    with postgres_database("portal_conc") as url:
        _run(url, tmp_path)
