"""Two real gunicorn servers on one PostgreSQL and one Redis behave as one portal:
login throttling counts across both, and a session is honoured and revoked on both."""

import http.client
import os
import re
import time
from urllib.parse import urlencode

import pytest

from portal import create_app
from portal.extensions import db
from tests.conftest import TEST_CONFIG
from tests.servers import postgres_database, start_gunicorn, stop, wait_until_serving

REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture(scope="module")
def pg_database():
    with postgres_database("portal_multi") as url:
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            from portal import devdata

            db.create_all()
            devdata.seed_org()
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        yield url


@pytest.fixture(scope="module")
def servers(pg_database):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": pg_database,
        "PORTAL_REDIS_URL": REDIS_URL,
        "PORTAL_SECRET_KEY": "shared-multiserver-secret",
        "PORTAL_PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    }
    started = [start_gunicorn(env) for _ in range(2)]
    procs, ports = [p for p, _ in started], [port for _, port in started]
    try:
        deadline = time.monotonic() + 30
        for port in ports:
            wait_until_serving(port, deadline)
        yield ports
    finally:
        stop(*procs, timeout=10)


class Browser:
    """Just enough of a browser: one cookie jar, usable against either server."""

    def __init__(self, port, cookies=None):
        self.port = port
        self.cookies = cookies if cookies is not None else {}

    def request(self, method, path, form=None, port=None):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=10)
        headers = {"Accept-Language": "zh-CN"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        for header in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Expires=Thu, 01 Jan 1970" not in header:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        result = resp.status, resp.getheader("Location") or "", resp.read().decode()
        conn.close()
        return result

    def get(self, path, port=None):
        return self.request("GET", path, port=port)

    def post(self, path, form, port=None, token_from="/login"):
        page = self.get(token_from, port=port)[2]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return self.request("POST", path, {**form, "csrf_token": token}, port=port)


def test_failed_logins_count_across_servers(servers):
    a, b = servers
    statuses = []
    for i in range(5):
        port = a if i % 2 else b
        statuses.append(
            Browser(port).post("/login", {"username": "clerk_sz01", "password": "wrong"})[0]
        )
    assert statuses == [401] * 5
    for port in (a, b):  # the 6th is refused on either, even with the right password
        assert (
            Browser(port).post("/login", {"username": "clerk_sz01", "password": "demo12345"})[0]
            == 429
        )


def test_session_is_shared_and_revoked_across_servers(servers):
    a, b = servers
    user = Browser(a)
    status, location, _ = user.post("/login", {"username": "guard_sz01", "password": "demo12345"})
    assert status == 302 and "/login" not in location
    assert user.get("/account/", port=b)[0] == 200  # issued by A, honoured by B
    copy = Browser(b, cookies=dict(user.cookies))
    status, location, _ = user.post("/logout", {}, port=a, token_from="/account/")
    assert status == 302
    status, location, _ = copy.get("/account/", port=b)
    assert status == 302 and "/login" in location
