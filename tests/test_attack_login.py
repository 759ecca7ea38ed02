"""Password guessing is counted per account in the database, whichever way the password
arrives (form, JSON, the account page) and whichever worker or server answers."""

import http.client
import json
import logging
import os
import re
import threading
from urllib.parse import urlencode

from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db
from portal.models import User
from portal.models.org import LoginFailure
from tests.conftest import TEST_CONFIG
from tests.servers import gunicorn, postgres_database

REFUSED = "登录失败次数过多"
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def _json_login(client, username, password, addr="127.0.0.1"):
    token = client.token()
    return client.http.post(
        "/login",
        json={"username": username, "password": password},
        headers={"X-CSRFToken": token},
        environ_base={"REMOTE_ADDR": addr},
    )


def test_a_json_login_works_and_its_failures_count_for_the_account(client):
    fresh = type(client)(client.app)
    assert _json_login(fresh, "clerk_sz01", "demo12345").status_code == 302
    for _ in range(3):
        assert _json_login(client, "clerk_sz01", "wrong-password").status_code == 401
    for _ in range(2):
        assert (
            client.post("/login", {"username": "Clerk_SZ01", "password": "nope"}).status_code == 401
        )
    # The sixth try, as JSON or as a form and with the right password, is refused.
    resp = _json_login(client, "clerk_sz01", "demo12345")
    assert resp.status_code == 429 and REFUSED in resp.get_data(as_text=True)
    assert (
        client.post("/login", {"username": "clerk_sz01", "password": "demo12345"}).status_code
        == 429
    )


def test_changing_address_does_not_reset_the_count_of_an_account(client):
    for n in range(5):
        assert _json_login(client, "clerk_sz01", "wrong", addr=f"10.0.0.{n}").status_code == 401
    assert _json_login(client, "clerk_sz01", "demo12345", addr="10.9.9.9").status_code == 429


def test_unknown_and_known_accounts_are_refused_in_the_same_words(client, caplog):
    caplog.set_level(logging.INFO)
    answers = {}
    for name in ("clerk_sz01", "nobody_here"):
        for _ in range(5):
            assert client.post("/login", {"username": name, "password": "wrong"}).status_code == 401
        resp = client.post("/login", {"username": name, "password": "demo12345"})
        answers[name] = (
            resp.status_code,
            re.sub(r'value="[^"]*"', "", resp.get_data(as_text=True)),
        )
    assert answers["clerk_sz01"][0] == answers["nobody_here"][0] == 429
    assert REFUSED in answers["nobody_here"][1]
    assert answers["clerk_sz01"][1].replace("clerk_sz01", "X") == answers["nobody_here"][1].replace(
        "nobody_here", "X"
    )
    lines = [r.getMessage() for r in caplog.records if "event=login_throttled" in r.getMessage()]
    assert any("username=clerk_sz01" in m for m in lines) and any(
        "username=nobody_here" in m for m in lines
    )


def test_one_address_guessing_many_accounts_is_stopped(client):
    for n in range(30):
        assert (
            client.post("/login", {"username": f"guess{n}", "password": "wrong"}).status_code == 401
        )
    assert (
        client.post("/login", {"username": "clerk_sz01", "password": "demo12345"}).status_code
        == 429
    )
    # Another office (another address) still logs in.
    other = type(client)(client.app)
    resp = other.http.post(
        "/login",
        data={"username": "clerk_sz01", "password": "demo12345", "csrf_token": other.token()},
        environ_base={"REMOTE_ADDR": "10.1.1.1"},
    )
    assert resp.status_code == 302


def test_a_right_password_is_not_counted_as_a_failure(client, login, dbs):
    for _ in range(8):
        login("clerk_sz01")
    assert dbs.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_current_password_guesses_on_the_account_page_are_limited(login, dbs):
    clerk = login("clerk_sz01")
    before = dbs.scalar(select(User.password_hash).where(User.username == "clerk_sz01"))
    form = {"new": "a-new-long-passphrase", "confirm": "a-new-long-passphrase"}
    for n in range(5):
        resp = clerk.post("/account/", {**form, "current": f"guess-{n}"})
        assert resp.status_code == 400 and "当前密码不正确" in resp.get_data(as_text=True)
    resp = clerk.post("/account/", {**form, "current": "demo12345"})
    assert resp.status_code == 429 and REFUSED in resp.get_data(as_text=True)
    dbs.expire_all()
    assert dbs.scalar(select(User.password_hash).where(User.username == "clerk_sz01")) == before
    # The same account count: the login form now refuses this account too.
    fresh = type(clerk)(clerk.app)
    assert fresh.login("clerk_sz01").status_code == 429


# ---------------------------------------------------------------- a real gunicorn, 2 workers

PARALLEL = 16
LIMIT = 5


def _request(port, method, path, body=None, headers=None, cookies=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Accept-Language": "zh-CN", **(headers or {})}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read().decode("utf-8", "replace")
    jar = dict(cookies or {})
    for header in resp.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";", 1)[0]
    conn.close()
    return resp.status, data, jar


def _guesser(port, n, barrier, results):
    """One attacker's browser: a session and a token, then a wrong password, all at once."""
    try:
        _, page, jar = _request(port, "GET", "/login")
        token = TOKEN.search(page).group(1)
        if n % 2:  # half of them as JSON, the way the limiter used to miss
            body = json.dumps({"username": "admin", "password": f"guess-{n}"})
            headers = {"Content-Type": "application/json", "X-CSRFToken": token}
        else:
            body = urlencode({"username": "admin", "password": f"guess-{n}", "csrf_token": token})
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        barrier.wait(timeout=60)
        results.append(_request(port, "POST", "/login", body, headers, jar)[0])
    except Exception as exc:  # surfaced by the main thread
        results.append(repr(exc))


def _parallel_guesses(url, tmp_path):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        from portal import devdata as demo

        db.create_all()
        demo.seed_org()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    log = tmp_path / "gunicorn.log"
    # `make run`: two workers, no Redis, the default limits.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        {
            "PORTAL_DATABASE_URL": url,
            "PORTAL_SECRET_KEY": "throttle-secret",
            "PORTAL_PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        }
    )
    with gunicorn(env, app="portal:create_app()", workers=2, log=log) as port:
        barrier, results = threading.Barrier(PARALLEL), []
        threads = [
            threading.Thread(target=_guesser, args=(port, n, barrier, results))
            for n in range(PARALLEL)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Even the right password is refused now, on whichever worker answers.
        after = []
        for _ in range(4):
            _, page, jar = _request(port, "GET", "/login")
            body = urlencode(
                {
                    "username": "admin",
                    "password": "demo12345",
                    "csrf_token": TOKEN.search(page).group(1),
                }
            )
            after.append(
                _request(
                    port,
                    "POST",
                    "/login",
                    body,
                    {"Content-Type": "application/x-www-form-urlencoded"},
                    jar,
                )[0]
            )
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    return results, after


def _assert_at_most_the_limit_tried(results, after):
    assert all(r in (401, 429) for r in results), results
    tried = results.count(401)
    print(f"\n{PARALLEL} parallel wrong passwords: {tried} checked, {results.count(429)} refused")
    assert 1 <= tried <= LIMIT, results
    assert after == [429] * 4


def test_parallel_guesses_through_two_workers_on_sqlite(tmp_path):
    _assert_at_most_the_limit_tried(
        *_parallel_guesses(f"sqlite:///{tmp_path / 'throttle.db'}", tmp_path)
    )


def test_parallel_guesses_through_two_workers_on_postgresql(tmp_path):
    with postgres_database("portal_throttle") as url:
        _assert_at_most_the_limit_tried(*_parallel_guesses(url, tmp_path))
