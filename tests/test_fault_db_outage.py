"""The database goes away: a throwaway PostgreSQL cluster of this test (never the shared one on
5432) is stopped with ``pg_ctl stop -m immediate`` under a logged-in clerk, then started again.

While it is down every page answers the friendly 503 (Chinese, error id, no traceback) and
nothing is written; when it is back the same app (no restart) serves and writes again
(``pool_pre_ping``), and the audit chain still verifies.
"""

import os
import shutil
import socket
import subprocess
import tempfile

import pytest
from sqlalchemy import create_engine, func, select, text

from portal import create_app
from portal.extensions import db
from tests.conftest import TEST_CONFIG, PortalClient

PG_BIN = "/usr/lib/postgresql/15/bin"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A private PostgreSQL cluster run as the postgres user in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="portal-pgfault-")
        self.data = os.path.join(self.dir, "data")
        self.port = _free_port()
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            f"{PG_BIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8"
        )

    def _as_postgres(self, *cmd):
        prefix = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            prefix + list(cmd), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def start(self):
        self._as_postgres(
            f"{PG_BIN}/pg_ctl",
            "-D",
            self.data,
            "-o",
            f"-p {self.port} -k {self.dir}",
            "-l",
            os.path.join(self.dir, "server.log"),
            "-w",
            "start",
        )

    def stop(self):
        self._as_postgres(f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def url(self, database):
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster():
    if not os.path.exists(f"{PG_BIN}/initdb"):
        pytest.fail("initdb is missing: install the postgresql package (the CI machine has it)")
    c = Cluster()
    c.start()
    engine = create_engine(c.url("postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE DATABASE portal ENCODING 'UTF8' TEMPLATE template0"))
    engine.dispose()
    yield c
    c.remove()


@pytest.fixture
def outage_app(cluster, tmp_path):
    from portal import devdata

    app = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": cluster.url("portal"),
            "UPLOAD_FOLDER": str(tmp_path),
        }
    )
    with app.app_context():
        db.create_all()
        devdata.seed_demo()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _visits(app):
    from portal.models import AuditEvent, Visit

    with app.app_context():
        counts = (
            db.session.scalar(select(func.count()).select_from(Visit)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)),
        )
        db.session.remove()
    return counts


def _assert_friendly_503(resp):
    body = resp.get_data(as_text=True)
    assert resp.status_code == 503, (resp.status_code, body[:500])
    assert "服务暂时不可用" in body and "错误编号" in body
    assert "Traceback" not in body and "OperationalError" not in body and "psycopg" not in body


def test_database_outage_gives_503_and_the_app_recovers(outage_app, cluster):
    app = outage_app
    clerk = PortalClient(app)
    assert clerk.login("clerk_sz01").status_code == 302
    token = clerk.token()
    before = _visits(app)
    assert clerk.get("/today/").status_code == 200

    cluster.stop()
    pages = ["/today/", "/visits/", "/repairs/", "/visit/", "/handover/"]
    for url in pages:
        _assert_friendly_503(clerk.get(url))
    _assert_friendly_503(clerk.post("/visits/arrive", {"party": "2:0", "csrf_token": token}))
    visitor = PortalClient(app)
    assert visitor.get("/login").status_code == 200  # the login form itself needs no database
    _assert_friendly_503(
        visitor.post("/login", {"username": "clerk_sz02", "password": "demo12345"})
    )
    assert app.test_client().get("/healthz").status_code == 503

    cluster.start()
    assert _visits(app) == before, "something was written while the database was down"
    assert clerk.get("/today/").status_code == 200  # same app, same session: no restart needed
    assert clerk.post("/visits/arrive", {"party": "2:0", "csrf_token": token}).status_code == 302
    visits_after, audit_after = _visits(app)
    assert visits_after == before[0] + 1 and audit_after > before[1]
    from portal.services import audit

    with app.app_context():
        with db.engine.connect() as conn:
            assert not audit.verify(conn)
    print(
        f"\nfault: {len(pages) + 4} requests during the outage → 503, 0 rows written; "
        "recovered without restart"
    )
