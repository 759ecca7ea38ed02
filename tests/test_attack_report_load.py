"""One user cannot load the server with reports: a few PDFs or exports at a time (429 with
Retry-After beyond, on every worker alike), archived month-end PDFs served as archived
(within the scope), exports refused above a row limit before any work."""

import csv
import http.cookiejar
import io
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, insert, select

from portal.models import Region, ReportLease, Site, User, utcnow
from portal.reports import archive, pdf

BUSY = "您的其他报表仍在生成中"
TOO_MANY_ROWS = "此次导出将超过 3 行"


@pytest.fixture
def config(app):
    """Set configuration keys for one test; the previous values come back afterwards."""
    saved = {}

    def set_(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield set_
    app.config.update(saved)


def _month(day):
    return day.replace(day=1)


def _last_month():
    return _month(_month(date.today()) - timedelta(days=1))


def _user_id(dbs, username):
    return dbs.scalar(select(User.id).where(User.username == username))


def _leases(dbs, user_id):
    dbs.expire_all()
    return dbs.scalars(select(ReportLease).where(ReportLease.user_id == user_id)).all()


class Browser:
    """A logged-in HTTP client of the live server (its own cookies), usable from a thread."""

    def __init__(self, base, username):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        page = self.opener.open(f"{base}/login").read().decode()
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"username": username, "password": "demo12345", "csrf_token": token}
        )
        self.opener.open(f"{base}/login", data=form.encode()).read()

    def get(self, path):
        """(status, headers, body)"""
        try:
            with self.opener.open(self.base + path) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()


# ------------------------------------------------------------ a few reports at a time per user


def test_parallel_pdfs_of_one_user_beyond_the_cap_get_429_the_others_their_pdf(
    live_server, config, site_ids, dbs
):
    config(REPORT_LEASES_PER_USER=2)
    south = dbs.scalar(select(Region.id).where(Region.code == "SOUTH"))
    url = f"/dashboard/region/{south}/{date.today():%Y-%m}.pdf"  # the open month: built on demand
    browser = Browser(live_server, "sup_south")
    start = threading.Barrier(8)
    results = []

    def fetch():
        start.wait()
        results.append(browser.get(url))

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    statuses = sorted(status for status, _h, _b in results)
    assert len(results) == 8 and set(statuses) <= {200, 429}, statuses
    # The first two to ask always get a slot; the rest arrived while both were taken.
    assert statuses.count(200) >= 2 and statuses.count(429) >= 1, statuses
    for status, headers, body in results:
        if status == 200:
            assert body.startswith(b"%PDF")
        else:
            assert BUSY in body.decode() and headers["Retry-After"] == "5"
    # Every slot was given back once its PDF was built.
    assert _leases(dbs, _user_id(dbs, "sup_south")) == []
    assert browser.get(url)[0] == 200


def test_pdfs_built_at_once_in_one_process_are_each_whole(live_server, config, site_ids):
    """A threaded server builds several PDFs at the same moment; each is the one PDF it would
    have been alone (the embedded font is subset for each, not garbled between them)."""
    config(REPORT_LEASES_PER_USER=6)
    month = f"{date.today() - timedelta(days=40):%Y-%m}"
    urls = [f"/dashboard/site/{site_ids[code]}/{month}.pdf" for code in ("SZ01", "SZ02")]
    browser = Browser(live_server, "sup_south")
    alone = {url: browser.get(url)[2] for url in urls}
    start = threading.Barrier(6)
    results = []
    # Switch threads far more often than the default 5 ms, so a section that is not safe
    # to run in two threads at once is interleaved on every run, not once in a while.
    interval = sys.getswitchinterval()

    def fetch(url):
        start.wait()
        results.append((url, browser.get(url)))

    threads = [threading.Thread(target=fetch, args=(url,)) for url in urls * 3]
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        sys.setswitchinterval(interval)
    assert len(results) == 6
    for url, (status, _headers, body) in results:
        assert status == 200 and body == alone[url], (url, status)


def test_slots_are_shared_through_the_database_and_a_dead_workers_lease_expires(
    login, config, dbs, site_ids
):
    """Leases held elsewhere (another worker or server) count; one whose worker died frees
    itself."""
    config(REPORT_LEASES_PER_USER=1)
    user_id = _user_id(dbs, "sup_south")
    url = f"/dashboard/site/{site_ids['SZ01']}/{date.today():%Y-%m}.pdf"
    client = login("sup_south")
    dbs.execute(
        insert(ReportLease).values(
            user_id=user_id, slot=0, token="x" * 32, expires_at=utcnow() + timedelta(minutes=1)
        )
    )
    dbs.commit()
    resp = client.get(url)
    assert resp.status_code == 429 and BUSY in resp.get_data(as_text=True)
    assert resp.headers["Retry-After"] == "5"
    # Another user's slots are his own.
    assert (
        login("sup_east")
        .get(f"/dashboard/site/{site_ids['SH01']}/{date.today():%Y-%m}.pdf")
        .status_code
        == 200
    )

    dbs.execute(delete(ReportLease))
    dbs.execute(
        insert(ReportLease).values(
            user_id=user_id, slot=0, token="x" * 32, expires_at=utcnow() - timedelta(seconds=1)
        )
    )
    dbs.commit()
    resp = client.get(url)
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    assert _leases(dbs, user_id) == []


def test_a_report_that_fails_gives_its_slot_back(login, config, dbs, site_ids, monkeypatch):
    config(REPORT_LEASES_PER_USER=1)
    url = f"/dashboard/site/{site_ids['SZ01']}/{date.today():%Y-%m}.pdf"
    client = login("sup_south")
    real = pdf.site_report_pdf

    def broken(data):
        raise RuntimeError("the report failed half-way")

    monkeypatch.setattr(pdf, "site_report_pdf", broken)
    assert client.get(url).status_code == 500
    assert _leases(dbs, _user_id(dbs, "sup_south")) == []
    monkeypatch.setattr(pdf, "site_report_pdf", real)
    resp = client.get(url)
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")


def test_exports_take_a_slot_too(login, config, dbs):
    config(REPORT_LEASES_PER_USER=1)
    dbs.execute(
        insert(ReportLease).values(
            user_id=_user_id(dbs, "admin"),
            slot=0,
            token="x" * 32,
            expires_at=utcnow() + timedelta(minutes=1),
        )
    )
    dbs.commit()
    resp = login("admin").get("/site/export/xlsx/")
    assert resp.status_code == 429 and BUSY in resp.get_data(as_text=True)


# ------------------------------------------------------------ archived month-end PDFs


@pytest.fixture
def archived(app, config, tmp_path, dbs):
    """Last month's and this month's PDFs archived by `flask reports monthly`, each file marked
    so that a copy served from the archive can be told from one built again."""
    config(REPORTS_FOLDER=str(tmp_path))
    paths = {}
    for first_day in (_last_month(), _month(date.today())):
        for path in archive.generate(first_day, folder=str(tmp_path), processes=1):
            with open(path, "ab") as fh:
                fh.write(b"% archived copy\n")
            paths[path.rsplit("/", 1)[-1]] = path
    dbs.remove()
    return paths


def _read(path):
    with open(path, "rb") as fh:
        return fh.read()


def test_archived_pdf_of_a_closed_month_is_served_as_archived_within_the_scope(
    archived, login, site_ids, dbs
):
    month = f"{_last_month():%Y-%m}"
    regions = dict(dbs.execute(select(Region.code, Region.id)).all())
    client = login("sup_south")
    resp = client.get(f"/dashboard/site/{site_ids['SZ01']}/{month}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data == _read(archived[f"site_SZ01_{month}.pdf"])
    assert f"report_SZ01_{month}.pdf" in resp.headers["Content-Disposition"]
    resp = client.get(f"/dashboard/region/{regions['SOUTH']}/{month}.pdf")
    assert resp.status_code == 200 and resp.data == _read(archived[f"region_SOUTH_{month}.pdf"])
    # Archived, but another region's: as if it did not exist.
    assert client.get(f"/dashboard/site/{site_ids['SH01']}/{month}.pdf").status_code == 404
    assert client.get(f"/dashboard/region/{regions['EAST']}/{month}.pdf").status_code == 404
    assert login("admin").get(f"/dashboard/site/{site_ids['SH01']}/{month}.pdf").data == _read(
        archived[f"site_SH01_{month}.pdf"]
    )


def test_an_open_months_pdf_is_built_again_not_taken_from_the_archive(archived, login, site_ids):
    month = f"{date.today():%Y-%m}"
    resp = login("sup_south").get(f"/dashboard/site/{site_ids['SZ01']}/{month}.pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    assert resp.data != _read(archived[f"site_SZ01_{month}.pdf"])


def test_archived_regional_pdf_is_not_shown_to_who_sees_only_part_of_the_region(
    archived, login, dbs, site_ids
):
    """The archived regional PDF lists every site of the region: a supervisor who has just one
    of them (his own site in another region) gets one built through his scope instead."""
    sup = dbs.scalar(select(User).where(User.username == "sup_east"))
    sup.sites.append(dbs.get(Site, site_ids["SZ01"]))
    dbs.commit()
    south = dbs.scalar(select(Region.id).where(Region.code == "SOUTH"))
    month = f"{_last_month():%Y-%m}"
    resp = login("sup_east").get(f"/dashboard/region/{south}/{month}.pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    assert resp.data != _read(archived[f"region_SOUTH_{month}.pdf"])


# ------------------------------------------------------------ exports are bounded


def test_export_above_the_row_limit_is_refused_with_a_message_and_under_it_works(
    login, config, dbs
):
    config(EXPORT_MAX_ROWS=3)
    client = login("admin")
    for kind in ("csv", "xlsx"):
        resp = client.get(f"/site/export/{kind}/")  # 4 sites
        assert resp.status_code == 302 and "/site/" in resp.headers["Location"]
        page = client.get(resp.headers["Location"]).get_data(as_text=True)
        assert TOO_MANY_ROWS in page
    east = dbs.scalar(select(Region.id).where(Region.code == "EAST"))
    resp = client.get(f"/site/export/csv/?flt0_region_equals={east}")
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert sorted(r[0] for r in rows[1:]) == ["SH01", "SH02"]
    resp = client.get(f"/site/export/xlsx/?flt0_region_equals={east}")
    assert resp.status_code == 200 and resp.data.startswith(b"PK")


def test_the_row_limit_counts_the_users_scope_only(login, config):
    """sup_south's site export holds his two sites, whatever the organisation has."""
    config(EXPORT_MAX_ROWS=2)
    resp = login("sup_south").get("/site/export/csv/")
    assert resp.status_code == 200
    assert len(list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))) == 3


def test_leases_are_not_left_behind_by_exports(login, dbs):
    client = login("admin")
    assert client.get("/site/export/csv/").status_code == 200
    assert client.get("/site/export/xlsx/").status_code == 200
    assert _leases(dbs, _user_id(dbs, "admin")) == []
