"""The live-day scenario: supervisors read the dashboard while the offices write their day.

    python bench/run.py --scenario live --db sqlite postgres --sites 200 --days 365 --duration 60

For each database and each gunicorn worker count (--workers, default 5 and 2): a private copy of
the generated dataset (SQLite: a file copy; PostgreSQL: ``CREATE DATABASE … TEMPLATE``; the
seeded databases are never written), gunicorn on it, then

* the day so far: every reader page read by each role from as many threads as workers (every
  worker has served pages, the month's past days are counted and kept, as on a server that
  has run since the morning);
* writers: each site's clerk, guard and maintenance worker, logged in once with a real POST,
  record what an office does (arrivals, drinks served, departures, checklist answers, repair
  tickets reported and resolved, cleaning inspections and fixes) through the portal's routes,
  one write per site every --write-interval seconds on average;
* after --warmup seconds of writes, the first view of every dashboard page (nothing of the
  writes seen yet by the page: the "first" column), by an admin and a supervisor;
* then --readers supervisors and admins at once, each with its own session, reading the
  dashboards, drill-downs, a site PDF and the floor page for --duration seconds: p50 / p95
  per page, errors;
* database lock waits: PostgreSQL's pg_stat_activity (wait_event_type 'Lock') and ungranted
  pg_locks sampled every 200 ms; SQLite's "database is locked" in gunicorn's log and 5xx.

Writes bench/results/live-<db>-<dataset>-w<workers>.json and bench/results/live-summary.md.
"""

import http.client
import json
import os
import random
import re
import shutil
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

import pages as page_list
import run as bench

LIVE_DATA = bench.HERE / "data"  # the private copies: always this worktree's, never --data
LOCATION_ID = re.compile(r"/(\d+)/?(?:$|[?#])")

# What one write is, and how often an office does it (weights, not percentages).
ACTIONS = {
    "arrival": 30,
    "drinks served": 22,
    "departure": 10,
    "checklist answers": 15,
    "repair reported": 8,
    "repair resolved": 5,
    "cleaning inspection": 6,
    "cleaning fixed": 4,
}

# What a clerk answers to a checklist item of each kind (yes_no and photo: "yes").
ANSWERS = {"number": "24", "text": "正常"}

# The dashboard drill-downs read in the live day (this month so far, one site of the reader).
DRILLS = (
    ("drinks per visitor", "drinks_per_visitor"),
    ("checklists on time", "checklists_on_time"),
    ("tickets open at month end", "tickets_open"),
    ("cleaning fixes", "cleaning_hours_to_fix"),
)


@dataclass(frozen=True)
class LivePage:
    name: str
    url: str  # {site}, {region}, {month_start}, {today}, {last_month_ym}: of the reader
    kind: str = "dashboard"


LIVE_PAGES = (
    LivePage("floor", page_list.FLOOR_URL, "floor"),
    LivePage("dashboard month, all sites", "/dashboard/?period=month"),
    LivePage("dashboard today, all sites", "/dashboard/?period=day"),
    LivePage("dashboard month, region", "/dashboard/?period=month&region={region}"),
    *(
        LivePage(
            f"drill: {name}",
            f"/dashboard/records/?metric={metric}&site={{site}}"
            "&start={month_start}&end={today}",
            "drill",
        )
        for name, metric in DRILLS
    ),
    LivePage("site PDF last month", "/dashboard/site/{site}/{last_month_ym}.pdf", "pdf"),
)


def add_arguments(parser):
    live = parser.add_argument_group("live-day scenario (--scenario live)")
    live.add_argument(
        "--workers", type=int, nargs="+", default=[5, 2], help="gunicorn worker counts to compare"
    )
    live.add_argument("--readers", type=int, default=20, help="supervisors and admins at once")
    live.add_argument(
        "--write-interval",
        type=float,
        default=30.0,
        help="seconds between two writes of one site, on average (200 sites: ~6.7 writes/s)",
    )
    live.add_argument("--writers", type=int, default=12, help="writer threads (offices at once)")
    live.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="a reader's mean pause between two pages, seconds (uniform 0 .. 2×think)",
    )
    live.add_argument(
        "--warmup", type=float, default=5.0, help="seconds of writes before the first views"
    )
    live.add_argument(
        "--keep", action="store_true", help="keep the private database copies (to look at them)"
    )


def log(msg):
    bench.log(f"live: {msg}")


# ------------------------------------------------------------------ the private database


def source_url(args, db, tag, env):
    """The seeded dataset, seeded first if there is none. A finished seed is used as it is
    (like --reuse): it may be shared with other runs, so it is never rebuilt from here."""
    url = bench.database_url(args, db, tag)
    if not (args.data / f"{db}-{tag}.seeded").exists():
        bench.prepare(args, db, "large", tag, url, env)
    return url


def copy_database(args, db, source, name):
    """A private copy of ``source`` named ``name``; returns its URL."""
    if db == "sqlite":
        LIVE_DATA.mkdir(exist_ok=True)
        src = Path(source.removeprefix("sqlite:///"))
        dst = LIVE_DATA / f"{name}.db"
        for extra in ("", "-wal", "-shm"):
            Path(f"{dst}{extra}").unlink(missing_ok=True)
        # The WAL holds committed pages not yet in the main file: both or the copy lacks rows.
        for extra in ("", "-wal"):
            if Path(f"{src}{extra}").exists():
                shutil.copyfile(f"{src}{extra}", f"{dst}{extra}")
        return f"sqlite:///{dst}"
    server, template = source.rsplit("/", 1)
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            # A template must have no other connection: another run may be reading it.
            for attempt in range(60):
                try:
                    conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
                    break
                except Exception as exc:  # noqa: BLE001 - "being accessed by other users"
                    if "being accessed" not in str(exc) or attempt == 59:
                        raise
                    time.sleep(3)
    finally:
        admin.dispose()
    return f"{server}/{name}"


def drop_database(db, url):
    if db == "sqlite":
        for extra in ("", "-wal", "-shm"):
            Path(f"{url.removeprefix('sqlite:///')}{extra}").unlink(missing_ok=True)
        return
    server, name = url.rsplit("/", 1)
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def open_todays_checklists(url):
    """The seed fills today's opening and closing checklists already; the live day fills them
    in again, so each site's local today starts without them."""
    engine = create_engine(url)
    with engine.begin() as conn:
        sites = conn.execute(text("SELECT id, timezone FROM site")).all()
        for zone in {tz for _, tz in sites}:
            day = datetime.now(ZoneInfo(zone)).date()
            runs = (
                "SELECT r.id FROM checklist_run r JOIN site s ON s.id = r.site_id "
                "WHERE r.day = :day AND s.timezone = :zone"
            )
            where = {"day": day, "zone": zone}
            for table in ("checklist_answer", "checklist_follow_up"):
                conn.execute(text(f"DELETE FROM {table} WHERE run_id IN ({runs})"), where)
            conn.execute(text(f"DELETE FROM checklist_run WHERE id IN ({runs})"), where)
    engine.dispose()


# ------------------------------------------------------------------ who works where


class Session:
    """One user logged in once with a real POST; the CSRF token of the logged-in session."""

    def __init__(self, port, username):
        self.port, self.username = port, username
        self.cookies = bench.login(port, username)
        # Logging in clears the session: the token comes from a page of the new one.
        status, _, html, jar = bench.request(port, "GET", page_list.FLOOR_URL, cookies=self.cookies)
        match = bench.TOKEN.search(html)
        if status != 200 or not match:
            raise RuntimeError(f"{username}: no CSRF token after login ({status})")
        self.cookies.update(jar)
        self.token = match.group(1) or match.group(2)

    def get(self, path):
        return bench.request(self.port, "GET", path, cookies=self.cookies)

    def post(self, path, form):
        # The session cookie is not updated from the answer: the flash message it would carry
        # is never read here, and the cookie of the login stays valid.
        return bench.request(
            self.port, "POST", path, cookies=self.cookies, form={"csrf_token": self.token, **form}
        )


@dataclass
class Office:
    """One site as its writers see it."""

    id: int
    clerk: str
    guard: str | None
    maintenance: str | None
    products: list
    areas: list
    cleaners: list
    sessions: dict = field(default_factory=dict)  # role -> Session
    runs: dict = field(default_factory=dict)  # checklist kind -> (run id, items answered)
    tickets: list = field(default_factory=list)  # reported here, not resolved yet
    lock: threading.Lock = field(default_factory=threading.Lock)


def first_by_site(conn, role):
    rows = conn.execute(
        text(
            "SELECT us.site_id, min(u.username) FROM user_site us "
            "JOIN user_account u ON u.id = us.user_id "
            "WHERE u.role = :role AND u.active GROUP BY us.site_id"
        ),
        {"role": role},
    )
    return dict(rows.all())


def by_site(conn, sql):
    out = defaultdict(list)
    for site_id, value in conn.execute(text(sql)):
        out[site_id].append(value)
    return out


def read_setup(url, count):
    """The offices (sites with a clerk), the checklist templates, and ``count`` readers:
    admins and supervisors, each with a site and a region of its scope."""
    engine = create_engine(url)
    with engine.connect() as conn:
        clerks = first_by_site(conn, "clerk")
        guards = first_by_site(conn, "security")
        maintenance = first_by_site(conn, "maintenance")
        products = by_site(conn, "SELECT site_id, id FROM product WHERE active ORDER BY id")
        areas = by_site(conn, "SELECT site_id, id FROM cleaning_area WHERE active ORDER BY id")
        cleaners = by_site(
            conn, "SELECT site_id, id FROM staff_member WHERE kind = 'cleaner' AND active"
        )
        offices = [
            Office(
                site_id,
                clerk,
                guards.get(site_id),
                maintenance.get(site_id),
                products[site_id],
                areas[site_id],
                cleaners[site_id],
            )
            for site_id, clerk in sorted(clerks.items())
        ]
        templates = {
            kind: (
                template_id,
                conn.execute(
                    text(
                        "SELECT id, kind FROM checklist_item WHERE template_id = :t AND active "
                        "ORDER BY position, id"
                    ),
                    {"t": template_id},
                ).all(),
            )
            for kind, template_id in conn.execute(
                text(
                    "SELECT kind, min(id) FROM checklist_template "
                    "WHERE site_id IS NULL AND active AND deleted_at IS NULL "
                    "AND kind IN ('opening', 'closing') GROUP BY kind"
                )
            )
        }
        sz01, south = (conn.execute(text(page_list.PARAMS[k])).scalar() for k in ("sz01", "south"))
        admins = (
            conn.execute(
                text(
                    "SELECT username FROM user_account WHERE role = 'admin' AND active ORDER BY id"
                )
            )
            .scalars()
            .all()
        )
        supervisors = conn.execute(
            text(
                "SELECT u.username, ur.region_id, "
                "(SELECT min(s.id) FROM site s WHERE s.region_id = ur.region_id) "
                "FROM user_account u JOIN user_region ur ON ur.user_id = u.id "
                "WHERE u.role = 'supervisor' AND u.active ORDER BY u.id"
            )
        ).all()
    engine.dispose()
    readers = [("admin", name, sz01, south) for name in admins]
    seen = set()
    for name, region, site in supervisors:  # one region each (a supervisor may have several)
        if name not in seen and site is not None:
            seen.add(name)
            readers.append(("supervisor", name, site, region))
    # Admins and supervisors alternate, so a small --readers still has both.
    admins_first = [r for r in readers if r[0] == "admin"]
    sups = [r for r in readers if r[0] == "supervisor"]
    mixed = []
    while admins_first or sups:
        for group in (admins_first, sups):
            if group:
                mixed.append(group.pop(0))
    return offices, templates, mixed[:count]


def reader_urls(site, region):
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the dashboard's default zone
    values = {
        "site": site,
        "region": region,
        "month_start": today.replace(day=1).isoformat(),
        "today": today.isoformat(),
        **page_list.derived_params(today),
    }
    return [(page, page.url.format(**values)) for page in LIVE_PAGES]


# ------------------------------------------------------------------ recording


class Recorder:
    """Latencies and outcomes, per key, from many threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times = defaultdict(list)
        self.counts = defaultdict(lambda: defaultdict(int))

    def add(self, key, ms, outcome):
        with self.lock:
            if ms is not None:
                self.times[key].append(ms)
            self.counts[key][outcome] += 1


def outcome_of(status):
    if status is None:
        return "connection error"
    if status < 400:
        return "ok"
    if status < 500:
        return "refused"  # 4xx: the portal said no (a rule, a missing row): not a failure
    return "5xx"


def timed(recorder, key, call):
    """Run one request, record its time and outcome; returns the response or None."""
    started = time.perf_counter()
    try:
        response = call()
    except (OSError, http.client.HTTPException):
        recorder.add(key, None, "connection error")
        return None
    recorder.add(key, (time.perf_counter() - started) * 1000, outcome_of(response[0]))
    return response


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


# ------------------------------------------------------------------ writers


class Writers:
    """One write per site every ``interval`` seconds on average, spread over the sites."""

    def __init__(self, port, offices, templates, url, interval, threads, recorder):
        self.port, self.offices, self.templates = port, offices, templates
        self.interval, self.threads, self.rec = interval, threads, recorder
        self.stop = threading.Event()
        self.pending = []
        self.cond = threading.Condition()
        self.behind = []  # seconds a write waited for a free writer thread
        # The ids a clerk sees on her screen (open visits, open issues) are read here, not parsed
        # out of the pages: a few indexed reads.
        self.engine = create_engine(url, pool_size=threads, max_overflow=0)
        self.actions, self.weights = list(ACTIONS), list(ACTIONS.values())

    # -------------------------------------------------------------- setup
    def log_in(self, sessions_at_once):
        """Every office's users, once each (a maintenance worker serves several sites)."""
        users = {}
        for office in self.offices:
            for role in ("clerk", "guard", "maintenance"):
                if getattr(office, role):
                    users[getattr(office, role)] = None
        names = list(users)
        lock = threading.Lock()

        def work():
            while True:
                with lock:
                    if not names:
                        return
                    name = names.pop()
                users[name] = Session(self.port, name)

        threads = [threading.Thread(target=work) for _ in range(sessions_at_once)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        missing = [n for n, s in users.items() if s is None]
        if missing:
            raise RuntimeError(f"could not log in: {missing[:5]}")
        for office in self.offices:
            for role in ("clerk", "guard", "maintenance"):
                if getattr(office, role):
                    office.sessions[role] = users[getattr(office, role)]
        return len(users)

    # -------------------------------------------------------------- running
    def start(self):
        self.workers = [
            threading.Thread(target=self._work, daemon=True) for _ in range(self.threads)
        ]
        for t in self.workers:
            t.start()
        self.producer = threading.Thread(target=self._produce, daemon=True)
        self.producer.start()

    def finish(self):
        self.stop.set()
        with self.cond:
            self.cond.notify_all()
        self.producer.join()
        for t in self.workers:
            t.join(timeout=120)
        self.engine.dispose()

    def _produce(self):
        # A Poisson stream: the sum of the sites' rates, each write at a random site.
        rate = len(self.offices) / self.interval
        due = time.perf_counter()
        while not self.stop.is_set():
            due += random.expovariate(rate)
            pause = due - time.perf_counter()
            if pause > 0 and self.stop.wait(pause):
                return
            office = random.choice(self.offices)
            action = random.choices(self.actions, self.weights)[0]
            with self.cond:
                self.pending.append((due, office, action))
                self.cond.notify()

    def _work(self):
        while True:
            with self.cond:
                while not self.pending and not self.stop.is_set():
                    self.cond.wait()
                if self.stop.is_set():
                    return
                due, office, action = self.pending.pop(0)
            self.behind.append(max(0.0, time.perf_counter() - due))
            with office.lock:  # a desk does one thing at a time
                self.do(office, action)

    def do(self, office, action):
        handler = {
            "arrival": self.arrival,
            "drinks served": self.serve,
            "departure": self.depart,
            "checklist answers": self.checklist,
            "repair reported": self.report_repair,
            "repair resolved": self.resolve_repair,
            "cleaning inspection": self.inspect,
            "cleaning fixed": self.fix_cleaning,
        }[action]
        handler(office)

    def post(self, key, session, path, form):
        return timed(self.rec, key, lambda: session.post(path, form))

    def one(self, sql, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    # -------------------------------------------------------------- what an office does
    def arrival(self, office):
        who = office.sessions.get("guard") if random.random() < 0.5 else None
        party = f"{random.choice((1, 1, 2, 2, 3, 4))}:{random.choice((0, 0, 0, 1, 2))}"
        self.post("arrival", who or office.sessions["clerk"], "/visits/arrive", {"party": party})

    def open_visit(self, office):
        return self.one(
            "SELECT max(id) FROM visit WHERE site_id = :site AND left_at IS NULL "
            "AND deleted_at IS NULL",
            site=office.id,
        )

    def serve(self, office):
        visit = self.open_visit(office)
        if visit is None or not office.products:
            return self.arrival(office)
        form = {"id": visit, "product": random.choice(office.products), "quantity": "1"}
        self.post("drinks served", office.sessions["clerk"], "/visits/serve", form)

    def depart(self, office):
        visit = self.open_visit(office)
        if visit is None:
            return self.arrival(office)
        self.post("departure", office.sessions["clerk"], "/visits/depart", {"id": visit})

    def checklist(self, office):
        """The opening list, then the closing one: a few answers at a time, then complete."""
        session = office.sessions.get("guard") or office.sessions["clerk"]
        for kind in ("opening", "closing"):
            if kind not in self.templates:
                continue
            template_id, items = self.templates[kind]
            run_id, answered = office.runs.get(kind, (None, 0))
            if answered > len(items):
                continue  # complete
            if run_id is None:
                response = self.post(
                    "checklist started",
                    session,
                    "/checklists/start",
                    {"site_id": office.id, "template_id": template_id},
                )
                match = response and LOCATION_ID.search(response[1].get("Location") or "")
                if not match:
                    return
                run_id = int(match.group(1))
            batch = items[answered : answered + 3]
            form = {f"item-{item}": ANSWERS.get(kind, "yes") for item, kind in batch}
            form["action"] = "save" if batch else "complete"
            self.post("checklist answers", session, f"/checklists/run/{run_id}", form)
            office.runs[kind] = (run_id, answered + max(len(batch), 1))
            return
        self.inspect(office)  # both lists done today

    def report_repair(self, office):
        form = {
            "site": office.id,
            "item": "0",
            "equipment": random.choice(("空调", "饮水机", "投影仪", "门禁", "灯")),
            "location": "",
            "description": "不能正常使用",
            "priority": random.choice(("normal", "normal", "high", "low")),
        }
        response = self.post("repair reported", office.sessions["clerk"], "/repairs/new/", form)
        match = response and LOCATION_ID.search(response[1].get("Location") or "")
        if match:
            office.tickets.append(int(match.group(1)))

    def resolve_repair(self, office):
        """The site's maintenance worker claims a new ticket, starts and resolves it."""
        session = office.sessions.get("maintenance")
        ticket = office.tickets.pop(0) if office.tickets else None
        if ticket is None:
            ticket = self.one(
                "SELECT max(id) FROM repair_ticket WHERE site_id = :site AND status = 'new'",
                site=office.id,
            )
        if session is None or ticket is None:
            return self.report_repair(office)
        for action, form in (
            ("claim", {}),
            ("start", {}),
            ("resolve", {"resolve-cost": "0", "resolve-resolution": "已修好"}),
        ):
            response = self.post(
                f"repair {action}", session, f"/repairs/{ticket}/action/{action}", form
            )
            if response is None or response[0] >= 400:
                return

    def inspect(self, office):
        if not office.areas or not office.cleaners:
            return self.arrival(office)
        form = {f"area-{area}": "pass" for area in office.areas}
        if random.random() < 0.3:
            failed = random.choice(office.areas)
            form[f"area-{failed}"] = "fail"
            form[f"note-{failed}"] = "地面有水渍"
        form.update({"cleaner": random.choice(office.cleaners), "due_hours": "2"})
        self.post("cleaning inspection", office.sessions["clerk"], "/cleaning/inspect", form)

    def fix_cleaning(self, office):
        issue = self.one(
            "SELECT max(id) FROM cleaning_issue WHERE site_id = :site AND status = 'open'",
            site=office.id,
        )
        if issue is None:
            return self.inspect(office)
        self.post(
            "cleaning fixed", office.sessions["clerk"], f"/cleaning/issue/{issue}/fix", {"note": ""}
        )


# ------------------------------------------------------------------ readers and locks


def read_loop(session, role, urls, recorder, stop, think):
    order = list(urls)
    random.shuffle(order)  # readers do not all start on the same page
    while not stop.is_set():
        for page, url in order:
            if stop.is_set():
                return
            timed(recorder, (page.name, role), lambda url=url: session.get(url))
            stop.wait(random.uniform(0, 2 * think))


class LockSampler:
    """PostgreSQL: every 200 ms, the sessions of this database waiting for a lock."""

    def __init__(self, db, url):
        self.db, self.url, self.samples = db, url, []
        self.stop = threading.Event()

    def __enter__(self):
        if self.db == "postgres":
            self.thread = threading.Thread(target=self._sample, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.db == "postgres":
            self.thread.join()

    def _sample(self):
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT", pool_size=1)
        sql = text(
            "SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'), "
            "(SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE NOT l.granted AND d.datname = current_database())"
        )
        with engine.connect() as conn:
            while not self.stop.wait(0.2):
                self.samples.append(tuple(conn.execute(sql).one()))
        engine.dispose()

    def summary(self):
        if self.db != "postgres":
            return None
        waiting = [max(a, b) for a, b in self.samples]
        return {
            "samples": len(waiting),
            "samples_with_lock_wait": sum(1 for w in waiting if w),
            "max_waiting": max(waiting, default=0),
            "mean_waiting": round(sum(waiting) / len(waiting), 3) if waiting else 0,
        }


# ------------------------------------------------------------------ one run


def run_once(args, db, tag, source, workers):
    name = f"live-{tag}-w{workers}" if db == "sqlite" else f"portal_live_{os.getpid()}_w{workers}"
    log(f"{db}/{tag}, {workers} workers: copying the dataset")
    url = copy_database(args, db, source, name)
    env = bench.server_env(url)
    try:
        bench.flask(env, "db", "upgrade")  # the copy, never the seeded source
        open_todays_checklists(url)
        bench.analyze(db, url)
        offices, templates, readers = read_setup(url, args.readers)
        return measure(args, db, tag, url, env, workers, offices, templates, readers)
    finally:
        if not args.keep:
            drop_database(db, url)


def read_earlier_in_the_day(reader_sessions, workers):
    """Every page read by each role from ``workers`` threads at once, before any write: what
    the day's earlier views have done on a server that runs all day (every worker has served
    pages; the month's days that are over have been counted and kept). The first views after
    the writes then measure what the writes cost, not a worker's start or a new dataset."""

    def read_all():
        for role in ("admin", "supervisor"):
            mine = next((r for r in reader_sessions if r[0] == role), None)
            for _page, page_url in reader_urls(mine[2], mine[3]) if mine else ():
                mine[1].get(page_url)

    threads = [threading.Thread(target=read_all) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)


def measure(args, db, tag, url, env, workers, offices, templates, readers):
    writes, reads, firsts = Recorder(), Recorder(), {}
    server_log = LIVE_DATA / f"live-{db}-{tag}-w{workers}.log"
    LIVE_DATA.mkdir(exist_ok=True)
    with server_log.open("w") as out, bench.Server(env, workers, log=out) as server:
        started = time.perf_counter()
        writers = Writers(
            server.port, offices, templates, url, args.write_interval, args.writers, writes
        )
        users = writers.log_in(max(2, workers))
        reader_sessions = [
            (role, Session(server.port, name), site, region) for role, name, site, region in readers
        ]
        log(
            f"{users} writers and {len(reader_sessions)} readers logged in "
            f"in {time.perf_counter() - started:.0f} s"
        )
        read_earlier_in_the_day(reader_sessions, workers)
        # Those reads kept the month's days: their statistics, as autovacuum would have them.
        bench.analyze(db, url)
        load_before = os.getloadavg()[0]
        with LockSampler(db, url) as locks:
            writers.start()
            time.sleep(args.warmup)
            # The first view of each page after writes, once per role, before the steady load.
            for role in ("admin", "supervisor"):
                mine = next((r for r in reader_sessions if r[0] == role), None)
                if mine is None:
                    continue
                for page, page_url in reader_urls(mine[2], mine[3]):
                    if page.kind == "floor":
                        continue
                    t0 = time.perf_counter()
                    status = mine[1].get(page_url)[0]
                    firsts[(page.name, role)] = (
                        round((time.perf_counter() - t0) * 1000, 1),
                        status,
                    )
            stop = threading.Event()
            threads = [
                threading.Thread(
                    target=read_loop,
                    args=(session, role, reader_urls(site, region), reads, stop, args.think),
                    daemon=True,
                )
                for role, session, site, region in reader_sessions
            ]
            steady_start = time.perf_counter()
            writes_before = sum(sum(c.values()) for c in writes.counts.values())
            for t in threads:
                t.start()
            time.sleep(args.duration)
            stop.set()
            for t in threads:
                t.join(timeout=120)
            steady = time.perf_counter() - steady_start
            writes_during = sum(sum(c.values()) for c in writes.counts.values()) - writes_before
            writers.finish()
        load_after = os.getloadavg()[0]
    logged = server_log.read_text(errors="replace")
    return {
        "scenario": "live",
        "db": db,
        "dataset": tag,
        "workers": workers,
        "sites": len(offices),
        "readers": len(reader_sessions),
        "reader_roles": sorted({r[0] for r in reader_sessions}),
        "write_interval_s": args.write_interval,
        "think_s": args.think,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "cpus": os.cpu_count(),
        "load_avg": [load_before, load_after],
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "pages": page_rows(reads, firsts),
        "writes": write_rows(writes),
        "target_writes_per_s": round(len(offices) / args.write_interval, 2),
        "write_requests_per_s": round(writes_during / steady, 2),
        "reads_per_s": round(sum(len(v) for v in reads.times.values()) / steady, 2),
        "writer_lag_p95_s": percentile(writers.behind, 0.95),
        "locks": {
            "postgres": locks.summary(),
            "sqlite_database_is_locked": logged.count("database is locked"),
            "server_errors_logged": logged.count("Traceback"),
        },
    }


def page_rows(reads, firsts):
    floors = {
        role: percentile(reads.times[("floor", role)], 0.5) for role in ("admin", "supervisor")
    }
    rows = []
    for page in LIVE_PAGES:
        for role in ("admin", "supervisor"):
            key = (page.name, role)
            if key not in reads.counts and key not in firsts:
                continue
            times, counts = reads.times[key], reads.counts[key]
            p50 = percentile(times, 0.5)
            first_ms, first_status = firsts.get(key, (None, None))
            rows.append(
                {
                    "page": page.name,
                    "role": role,
                    "kind": page.kind,
                    "first_ms": first_ms,
                    "first_status": first_status,
                    "n": len(times),
                    "p50_ms": p50,
                    "p95_ms": percentile(times, 0.95),
                    "ratio": round(p50 / floors[role], 2) if p50 and floors.get(role) else None,
                    "refused": counts["refused"],
                    "errors": counts["5xx"] + counts["connection error"],
                }
            )
    return rows


def write_rows(writes):
    return [
        {
            "action": key,
            "n": sum(writes.counts[key].values()),
            "p50_ms": percentile(writes.times[key], 0.5),
            "p95_ms": percentile(writes.times[key], 0.95),
            "refused": writes.counts[key]["refused"],
            "errors": writes.counts[key]["5xx"] + writes.counts[key]["connection error"],
        }
        for key in sorted(writes.counts)
    ]


# ------------------------------------------------------------------ summary


def fmt(value, spec=".1f"):
    return bench.fmt(value, spec)


def table(result):
    lines = [
        "| page | role | first view | steady p50 | p95 | n | ratio to floor | refused (4xx) "
        "| errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in result["pages"]:
        lines.append(
            f"| {p['page']} | {p['role']} | {fmt(p['first_ms'])} | {fmt(p['p50_ms'])} | "
            f"{fmt(p['p95_ms'])} | {p['n']} | {fmt(p['ratio'], '.2f')} | {p['refused']} | "
            f"{p['errors']} |"
        )
    lines += [
        "",
        "| write | n | p50 | p95 | refused (4xx) | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for w in result["writes"]:
        lines.append(
            f"| {w['action']} | {w['n']} | {fmt(w['p50_ms'])} | {fmt(w['p95_ms'])} | "
            f"{w['refused']} | {w['errors']} |"
        )
    return lines


def overall(result):
    """The figures the worker counts are compared on."""
    reads = [p for p in result["pages"] if p["kind"] != "floor" and p["p95_ms"]]
    writes = [w for w in result["writes"] if w["p95_ms"]]
    weighted = sum(w["p95_ms"] * w["n"] for w in writes) / max(1, sum(w["n"] for w in writes))
    return {
        "read_p95_median": percentile([p["p95_ms"] for p in reads], 0.5),
        "dashboard_p95_max": max((p["p95_ms"] for p in reads), default=None),
        "write_p95_mean": round(weighted, 1) if writes else None,
        "errors": sum(p["errors"] for p in result["pages"])
        + sum(w["errors"] for w in result["writes"]),
    }


def comparison(results):
    """Per database and dataset: the worker counts side by side, and which was better."""
    lines = []
    groups = defaultdict(list)
    for r in results:
        groups[(r["db"], r["dataset"])].append(r)
    for (db, tag), runs in sorted(groups.items()):
        if len(runs) < 2:
            continue
        runs.sort(key=lambda r: r["workers"])
        lines += [
            f"## Worker count on {db} — {tag}",
            "",
            "| workers | reads/s | median page p95 | worst page p95 | write p95 (mean) "
            "| writes/s | errors | lock waits |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in runs:
            o = overall(r)
            lines.append(
                f"| {r['workers']} | {r['reads_per_s']} | {fmt(o['read_p95_median'])} | "
                f"{fmt(o['dashboard_p95_max'])} | {fmt(o['write_p95_mean'])} | "
                f"{r['write_requests_per_s']} | {o['errors']} | {lock_text(r)} |"
            )
        best = min(
            runs,
            key=lambda r: (overall(r)["errors"], overall(r)["read_p95_median"] or 0)
            + (overall(r)["write_p95_mean"] or 0,),
        )
        lines += [
            "",
            f"Better here: **{best['workers']} workers** (fewest errors, then the lower median "
            "page p95).",
            "",
        ]
    return lines


def lock_text(r):
    if r["db"] == "postgres":
        s = r["locks"]["postgres"] or {}
        return (
            f"{s.get('samples_with_lock_wait', 0)}/{s.get('samples', 0)} samples, "
            f"max {s.get('max_waiting', 0)}"
        )
    return f"{r['locks']['sqlite_database_is_locked']} 'database is locked'"


def summary_markdown(results):
    lines = [
        "# Live-day results",
        "",
        "Writers record an office day (one write per site every N s) while admins and "
        "supervisors read at once, each with its own session. Latency in ms; first view = the "
        "page's first request after the writes started (one admin, one supervisor; every page "
        "was read before the writes, as earlier in the day); steady = "
        "every reader during the run; ratio = steady p50 / the floor page's steady p50 (same "
        "role, same run); refused = 4xx (a rule said no); errors = 5xx and connection errors.",
        "",
    ]
    for r in sorted(results, key=lambda r: (r["db"], r["dataset"], r["workers"])):
        load = r.get("load_avg") or [0, 0]
        lines += [
            f"## {r['db']} — {r['dataset']}, {r['workers']} workers "
            f"({r['duration_s']} s, {r['measured_at']})",
            "",
            f"{r['sites']} sites writing, every {r['write_interval_s']} s each "
            f"({r.get('target_writes_per_s')} writes/s wanted): "
            f"{r['write_requests_per_s']} write requests/s done; {r['readers']} readers "
            f"(think {r['think_s']} s): {r['reads_per_s']} pages/s; writer lag p95 "
            f"{fmt(r['writer_lag_p95_s'], '.2f')} s; lock waits: {lock_text(r)}; "
            f"tracebacks logged: {r['locks']['server_errors_logged']}; load average "
            f"{load[0]:.1f}–{load[1]:.1f} on {r['cpus']} CPUs.",
            "",
            *table(r),
            "",
        ]
    lines += comparison(results)
    return "\n".join(lines) + "\n"


def load_results():
    return [json.loads(p.read_text()) for p in sorted(bench.RESULTS.glob("live-*.json"))]


def main(args):
    tag = f"{args.sites}x{args.days}"
    for db in args.db:
        source = source_url(args, db, tag, bench.server_env(bench.database_url(args, db, tag)))
        for workers in args.workers:
            result = run_once(args, db, tag, source, workers)
            bench.RESULTS.mkdir(exist_ok=True)
            path = bench.RESULTS / f"live-{db}-{tag}-w{workers}.json"
            path.write_text(json.dumps(result, indent=2, ensure_ascii=False))
            print(f"\n{db} — {tag}, {workers} workers\n" + "\n".join(table(result)), flush=True)
    (bench.RESULTS / "live-summary.md").write_text(summary_markdown(load_results()))
    log(f"written {bench.RESULTS / 'live-summary.md'}")
