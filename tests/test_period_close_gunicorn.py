"""Two gunicorn servers on one database (two workers each) show the same figures right after a
change made through either: nothing is kept per process. Today's rows, the dashboard of the
running month, and a closed month (stored once, marked "amended after close" on both after a
correction, re-closed through one and read back through the other). SQLite and PostgreSQL."""

import os
from contextlib import ExitStack
import re
from datetime import datetime, timezone

from sqlalchemy import select

from portal import clock, create_app
from portal.extensions import db
from portal.services import metrics as m
from tests.conftest import TEST_CONFIG
from tests.servers import gunicorn, postgres_database
from tests.test_concurrency_gunicorn import Browser


def _arrange(url):
    from portal import devdata
    from portal.models import Site, Visit

    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        devdata.seed_demo()
        sz01 = db.session.scalar(select(Site).where(Site.code == "SZ01"))
        last = m.previous_month(m.month_start(clock.local_day(sz01)))
        visit = Visit(
            site_id=sz01.id,
            arrived_at=datetime(last.year, last.month, 15, 2, 0, tzinfo=timezone.utc),
            adults=2,
        )
        db.session.add(visit)
        db.session.commit()
        ids = {"sz01": sz01.id, "visit": visit.id, "month": f"{last:%Y-%m}", "on": last}
        db.session.remove()
        db.engine.dispose()
    return app, ids


def _visitors(browser, query):
    """SZ01's visitors on the dashboard, and whether its row is marked amended after close."""
    status, page, _ = browser.request("GET", f"/dashboard/?{query}")
    assert status == 200, page[-2000:]
    row = page[page.index('<tr data-site="SZ01">') :]
    row = row[: row.index("</tr>")]
    value = re.search(r'data-metric="visitors">([^<]*)<', row).group(1)
    return value, "amended-after-close" in row


def _run(url, tmp_path):
    app, ids = _arrange(url)
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": "two-servers-secret",
        "PORTAL_PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "PORTAL_LOGIN_FAILURE_LIMIT": "1000 per minute",
    }
    with ExitStack() as servers:
        pa, pb = (
            servers.enter_context(
                gunicorn(env, args=("--timeout", "120"), log=tmp_path / f"gunicorn-{name}.log")
            )
            for name in ("a", "b")
        )
        admin_a, admin_b = Browser(pa), Browser(pb)
        clerk_a, clerk_b = Browser(pa), Browser(pb)
        for browser, user in (
            (admin_a, "admin"),
            (admin_b, "admin"),
            (clerk_a, "clerk_sz01"),
            (clerk_b, "clerk_sz01"),
        ):
            browser.login(user)
        today = "period=day"
        month = f"period=month&on={ids['on'].isoformat()}"

        # Today's rows and today's figures, after an arrival through either server.
        for writer, reader, admin_reader, party in (
            (clerk_a, clerk_b, admin_b, "7:0"),
            (clerk_b, clerk_a, admin_a, "9:0"),
        ):
            for browser in (reader, admin_reader):  # each worker has seen the page before
                browser.request("GET", "/today/")
                browser.request("GET", f"/dashboard/?{today}")
            before = _visitors(admin_reader, today)[0]
            assert writer.request("POST", "/visits/arrive", {"party": party})[0] == 302
            adults = party.split(":")[0]
            assert f"{adults} 位成人" in reader.request("GET", "/today/")[1]
            assert int(_visitors(admin_reader, today)[0]) == int(before) + int(adults)
            assert _visitors(admin_a, today) == _visitors(admin_b, today)

        # Last month: closed on first need by one server, read back by the other.
        closed, marked = _visitors(admin_a, month)
        assert not marked and _visitors(admin_b, month) == (closed, False)
        # A correction (made by a third process on the same database) marks it on both.
        with app.app_context():
            from portal.models import Visit

            db.session.get(Visit, ids["visit"]).adults = 6
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        assert _visitors(admin_a, month) == (closed, True)
        assert _visitors(admin_b, month) == (closed, True)
        # Re-closed through B: A shows the new figure at once, unmarked.
        status = admin_b.request("POST", f"/dashboard/reclose/{ids['sz01']}/{ids['month']}", {})[0]
        assert status == 302
        reclosed = str(int(closed.replace(",", "")) + 4)
        assert _visitors(admin_a, month) == (reclosed, False)
        assert _visitors(admin_b, month) == (reclosed, False)
    for name in ("a", "b"):
        server_log = (tmp_path / f"gunicorn-{name}.log").read_text()
        assert "Traceback" not in server_log, server_log[-3000:]


def test_two_servers_agree_on_sqlite(tmp_path):
    _run(f"sqlite:///{tmp_path / 'two-servers.db'}", tmp_path)


def test_two_servers_agree_on_postgresql(tmp_path):
    with postgres_database("portal_two") as url:
        _run(url, tmp_path)
