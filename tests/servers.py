"""Real servers for the tests that need more than one process: gunicorn started the way
`make run` starts it, and a PostgreSQL database of the test's own."""

import http.client
import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")
ROOT = os.path.dirname(os.path.dirname(__file__))
PG_SERVER = os.environ.get(
    "PORTAL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status
    finally:
        conn.close()


def wait_until_serving(port, deadline):
    """Poll /healthz until the server answers (503 counts: it is up, its database is not)."""
    while True:
        try:
            if _health(port) in (200, 503):
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, "gunicorn did not start"
        time.sleep(0.2)


def start_gunicorn(env, app="wsgi:app", workers=2, args=(), log=None):
    """A gunicorn process on a free port; returns (process, port). ``log`` is a path for its
    output (else it is thrown away)."""
    port = free_port()
    command = [GUNICORN, "-w", str(workers), "-b", f"127.0.0.1:{port}", *args, app]
    if log is None:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    else:
        with open(log, "w") as fh:
            proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=fh, stderr=fh)
    return proc, port


def stop(*procs, timeout=30):
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=timeout)


@contextmanager
def gunicorn(env, app="wsgi:app", workers=2, args=(), log=None, start_timeout=60):
    """A running gunicorn for the ``with`` block; yields its port."""
    proc, port = start_gunicorn(env, app, workers, args, log)
    try:
        wait_until_serving(port, time.monotonic() + start_timeout)
        yield port
    finally:
        stop(proc)


@contextmanager
def postgres_database(prefix):
    """A new, empty PostgreSQL database on the test server for the ``with`` block; yields its
    URL and drops it afterwards."""
    server = make_url(PG_SERVER)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    except Exception as exc:  # the only reason to skip
        admin.dispose()
        pytest.fail(f"PostgreSQL must run on 127.0.0.1:5432 for this test: {exc}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
