#!/usr/bin/env python
"""Benchmark the portal: real gunicorn (2 sync workers, production config) measured with wrk.

    python bench/run.py --db sqlite postgres --dataset demo large --sites 200 --days 365

For each database × dataset: create the database (SQLite under bench/data/, PostgreSQL
``portal_bench_<dataset>`` on --pg), ``flask db upgrade``, seed (``flask seed-demo`` or
``flask bench seed``; kept and reused unless --fresh), start gunicorn on a free port, log in
per role with a real POST, then per page of bench/pages.py: one request for the status and
``X-Query-Count``, and ``wrk -c 8 -t 2 -d N`` for p50 / p95 / requests/s. Writes
bench/results/<db>-<dataset>.json and bench/results/summary.md (every result file).
"""

import argparse
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
# liveday.py imports this module as ``run``; when run.py is the script it is ``__main__``, and
# without this alias its helpers would be imported a second time.
sys.modules.setdefault("run", sys.modules[__name__])
import liveday  # noqa: E402
import pages as page_list  # noqa: E402

TOKEN = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def log(msg):
    print(f"[bench {datetime.now():%H:%M:%S}] {msg}", flush=True)


# ------------------------------------------------------------------ database


def dataset_tag(args, dataset):
    return "demo" if dataset == "demo" else f"{args.sites}x{args.days}"


def database_url(args, db, tag):
    if db == "sqlite":
        args.data.mkdir(exist_ok=True)
        return f"sqlite:///{args.data / f'{tag}.db'}"
    return f"{args.pg.rstrip('/')}/portal_bench_{tag}"


def recreate_database(db, url):
    if db == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for extra in ("", "-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
        return
    server, name = url.rsplit("/", 1)
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    admin.dispose()


def server_env(url):
    env = dict(os.environ)
    env.update(
        {
            "FLASK_APP": "wsgi:app",
            "PORTAL_DATABASE_URL": url,
            "PORTAL_PORTAL_ENV": "production",
            "PORTAL_SECRET_KEY": secrets.token_hex(32),
            "PORTAL_QUERY_COUNT_HEADER": "true",
            "PORTAL_BENCH_FLOOR_PAGE": "true",
            "PORTAL_SESSION_COOKIE_SECURE": "false",  # plain http on 127.0.0.1
            # The benchmark measures pages, not sign-in: its users log in with a password only.
            "PORTAL_TWO_FACTOR_ROLES": "[]",
        }
    )
    return env


def flask(env, *argv):
    subprocess.run([sys.executable, "-m", "flask", *argv], env=env, cwd=ROOT, check=True)


def prepare(args, db, dataset, tag, url, env):
    """Migrate and seed unless a finished seed of the same parameters is there; returns seconds
    spent seeding."""
    marker = args.data / f"{db}-{tag}.seeded"
    args.data.mkdir(exist_ok=True)
    fingerprint = seed_fingerprint(args)
    kept = json.loads(marker.read_text()) if marker.exists() else None
    if kept and not args.fresh and (args.reuse or kept.get("fingerprint") == fingerprint):
        log(f"{db}/{tag}: reusing the seeded database")
        flask(env, "db", "upgrade")
        return None
    marker.unlink(missing_ok=True)
    recreate_database(db, url)
    flask(env, "db", "upgrade")
    started = time.perf_counter()
    if dataset == "demo":
        flask(env, "seed-demo")
    else:
        flask(
            env,
            "bench",
            "seed",
            "--sites",
            str(args.sites),
            "--days",
            str(args.days),
            "--seed",
            str(args.seed),
        )
    seconds = time.perf_counter() - started
    marker.write_text(json.dumps({"seed_seconds": seconds, "fingerprint": fingerprint}))
    return seconds


def analyze(db, url):
    """Fresh planner statistics, as a production database has them (PostgreSQL's autovacuum,
    SQLite's ``PRAGMA optimize``): a database seeded a second ago has none, and indexes added
    by migrations since the seed have none either."""
    engine = (
        create_engine(url, isolation_level="AUTOCOMMIT") if db == "postgres" else create_engine(url)
    )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def seed_fingerprint(args):
    """Changes when what a seed would produce changes: the development data (portal/devdata), the
    migrations, the seed. A kept database with another fingerprint is rebuilt."""
    digest = hashlib.sha256(str(args.seed).encode())
    sources = [
        *sorted((ROOT / "portal/devdata").glob("*.py")),
        *sorted((ROOT / "migrations/versions").glob("*.py")),
        *sorted((ROOT / "portal/models").glob("*.py")),
    ]
    for path in sources:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def resolve_params(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        values = {name: conn.execute(text(sql)).scalar() for name, sql in page_list.PARAMS.items()}
    engine.dispose()
    values.update(page_list.derived_params())
    return values


# ------------------------------------------------------------------ server and HTTP


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with 2 sync workers on a free port, the way production runs it; ``log``: a file
    for its output (the live-day scenario counts the errors it logs)."""

    def __init__(self, env, workers=2, log=None):
        self.env, self.workers, self.port, self.log = env, workers, free_port(), log

    def __enter__(self):
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(self.workers),
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ]
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=self.log, stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if request(self.port, "GET", "/healthz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def request(port, method, path, cookies=None, form=None):
    """One HTTP request; returns (status, headers, body text, new cookies)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Accept-Language": "zh-CN"}
    if cookies:
        headers["Cookie"] = cookie_header(cookies)
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read().decode("utf-8", "replace")
    jar = {}
    for value in resp.headers.get_all("Set-Cookie") or []:
        name, _, rest = value.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    conn.close()
    return resp.status, resp.headers, data, jar


def cookie_header(cookies):
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def login(port, username):
    status, _, html, jar = request(port, "GET", "/login")
    match = TOKEN.search(html)
    if status != 200 or not match:
        raise RuntimeError(f"login page: status {status}, no CSRF token")
    form = {
        "username": username,
        "password": page_list.PASSWORD,
        "csrf_token": match.group(1) or match.group(2),
    }
    status, _, _, new = request(port, "POST", "/login", cookies=jar, form=form)
    if status != 302:
        raise RuntimeError(f"login as {username} failed: {status}")
    jar.update(new)
    return jar


def sequential_median(port, path, cookies, count):
    """Median latency of ``count`` requests one after the other (one keep-alive connection):
    the service time without queueing, steadier than wrk's figures on a busy machine."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {
        "Accept-Language": "zh-CN",
        **({"Cookie": cookie_header(cookies)} if cookies else {}),
    }
    times = []
    for _ in range(count):
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        conn.getresponse().read()
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    times.sort()
    return round(times[len(times) // 2], 3)


def wrk(port, path, cookies, duration, connections, threads):
    cmd = [
        "wrk",
        "-c",
        str(connections),
        "-t",
        str(threads),
        "-d",
        f"{duration}s",
        "--timeout",
        "30s",
        "-s",
        str(HERE / "wrk_report.lua"),
        "-H",
        "Accept-Language: zh-CN",
    ]
    if cookies:
        cmd += ["-H", f"Cookie: {cookie_header(cookies)}"]
    out = subprocess.run(
        cmd + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    )
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line)


# ------------------------------------------------------------------ one run


def measure(args, port, sessions, role, name, path, kind):
    # The first view: what a page costs before anything is kept (Today's rows, the dashboard's
    # figures, the filter dropdowns) in the worker that answers it; its query count is the one
    # shown.
    started = time.perf_counter()
    status, headers, body, _ = request(port, "GET", path, cookies=sessions.get(role))
    row = {
        "page": name,
        "role": role or "anonymous",
        "url": path,
        "kind": kind,
        "status": status,
        "first_ms": round((time.perf_counter() - started) * 1000, 1),
        "queries": int(headers.get("X-Query-Count", -1)),
        "bytes": len(body.encode()),
    }
    if status != 200:
        log(f"  {name}: status {status}, not measured")
        return row
    row.update(wrk(port, path, sessions.get(role), args.duration, args.connections, args.threads))
    row["seq_ms"] = sequential_median(port, path, sessions.get(role), args.sequential)
    log(
        f"  {name:<38} p50 {row['p50_ms']:8.1f} ms  p95 {row['p95_ms']:8.1f} ms  "
        f"{row['rps']:7.1f} req/s  alone {row['seq_ms']:6.1f} ms  {row['queries']:3d} queries"
    )
    return row


def run_one(args, db, dataset):
    tag = dataset_tag(args, dataset)
    url = database_url(args, db, tag)
    env = server_env(url)
    log(f"{db}/{tag}: preparing {url}")
    seed_seconds = prepare(args, db, dataset, tag, url, env)
    analyze(db, url)
    params = resolve_params(url)
    roles = sorted(
        {p.role for p in page_list.PAGES if p.role}, key=list(page_list.ROLE_USERS).index
    )
    rows = []
    with Server(env) as server:
        sessions = {role: login(server.port, page_list.ROLE_USERS[role]) for role in roles}
        wrk(
            server.port, page_list.FLOOR_URL, sessions[roles[0]], 2, args.connections, args.threads
        )  # warm-up
        load_before = os.getloadavg()[0]
        floors = {role: [] for role in roles}
        for role in roles:
            floors[role].append(
                measure(
                    args,
                    server.port,
                    sessions,
                    role,
                    f"floor ({role})",
                    page_list.FLOOR_URL,
                    "floor",
                )
            )
        for page in page_list.PAGES:
            if args.only and not any(part in page.name for part in args.only):
                continue
            rows.append(
                measure(
                    args,
                    server.port,
                    sessions,
                    page.role,
                    page.name,
                    page.url.format(**params),
                    page.kind,
                )
            )
        # The floor again at the end: on a busy machine the two differ, and the mean is fairer to
        # every page.
        for role in roles:
            floors[role].append(
                measure(
                    args,
                    server.port,
                    sessions,
                    role,
                    f"floor ({role}, end)",
                    page_list.FLOOR_URL,
                    "floor",
                )
            )
        load_after = os.getloadavg()[0]
    floor_rows = [row for role in roles for row in floors[role]]
    floors = {role: _mean([r.get("p50_ms") for r in floors[role]]) for role in roles}
    rows = floor_rows + rows
    if args.only:  # a partial run: shown above, never written over the full results
        return
    base = floors.get("clerk") or next(iter(floors.values()))
    seq_floors = {
        role: _mean([r.get("seq_ms") for r in floor_rows if r["role"] == role]) for role in roles
    }
    for row in rows:
        floor = floors.get(row["role"], base)
        if row.get("p50_ms") and floor:
            row["ratio"] = round(row["p50_ms"] / floor, 2)
        seq_floor = seq_floors.get(row["role"]) or seq_floors.get("clerk")
        if row.get("seq_ms") and seq_floor:
            row["seq_ratio"] = round(row["seq_ms"] / seq_floor, 2)
    result = {
        "db": db,
        "dataset": tag,
        "sites": None if dataset == "demo" else args.sites,
        "days": None if dataset == "demo" else args.days,
        "seed_seconds": seed_seconds,
        "duration_s": args.duration,
        "connections": args.connections,
        "workers": 2,
        "floor_p50_ms": floors,
        "cpus": os.cpu_count(),
        "load_avg": [load_before, load_after],
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "pages": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{db}-{tag}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return result


def _mean(values):
    values = [v for v in values if v]
    return sum(values) / len(values) if values else None


# ------------------------------------------------------------------ summary


def load_results():
    # live-*.json are the live-day scenario's (bench/liveday.py), with a summary of their own.
    return [
        json.loads(p.read_text())
        for p in sorted(RESULTS.glob("*.json"))
        if not p.name.startswith("live-")
    ]


def fmt(value, spec=".1f"):
    return "—" if value is None else format(value, spec)


def summary_markdown(results):
    lines = [
        "# Benchmark results",
        "",
        "gunicorn, 2 sync workers, production config; wrk -c 8 -t 2. Latency in ms; "
        "ratio = page p50 / floor p50 (same role, same run); "
        "alone = median of requests sent one at a time (no queueing), "
        "alone ratio = the same against the floor; "
        "first = the page's first view in the run (nothing kept yet), "
        "queries = those of the first view.",
        "",
    ]
    for r in results:
        seeded = f", seeded in {r['seed_seconds']:.0f} s" if r.get("seed_seconds") else ""
        load = r.get("load_avg") or [0, 0]
        busy = (
            (
                f"**machine busy: load average {load[0]:.1f}–{load[1]:.1f} on {r['cpus']} CPUs, "
                "latencies are inflated and noisy**"
            )
            if max(load) > (r.get("cpus") or 1)
            else ""
        )
        lines += [
            f"## {r['db']} — {r['dataset']} "
            f"({r['duration_s']} s per page{seeded}, {r['measured_at']})",
            "",
            *([busy, ""] if busy else []),
            "| page | role | p50 | p95 | req/s | ratio | alone | alone ratio | first | queries "
            "| non-2xx |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for p in r["pages"]:
            lines.append(
                f"| {p['page']} | {p['role']} | {fmt(p.get('p50_ms'))} | {fmt(p.get('p95_ms'))} | "
                f"{fmt(p.get('rps'))} | {fmt(p.get('ratio'), '.2f')} | {fmt(p.get('seq_ms'))} | "
                f"{fmt(p.get('seq_ratio'), '.2f')} | {fmt(p.get('first_ms'))} | {p['queries']} | "
                f"{p.get('non2xx', p['status'])} |"
            )
        lines.append("")
    lines += growth_tables(results)
    return "\n".join(lines) + "\n"


def growth_tables(results):
    """Per database: each page's p50 on the demo dataset against the largest generated one."""
    out = []
    for db in sorted({r["db"] for r in results}):
        demo = next((r for r in results if r["db"] == db and r["dataset"] == "demo"), None)
        large = sorted(
            (r for r in results if r["db"] == db and r["dataset"] != "demo"),
            key=lambda r: (r["sites"] or 0) * (r["days"] or 0),
        )
        if not demo or not large:
            continue
        large = large[-1]
        before = {p["page"]: p for p in demo["pages"]}
        out += [
            f"## Growth on {db}: demo → {large['dataset']}",
            "",
            "| page | demo p50 | large p50 | growth | demo ratio | large ratio "
            "| alone demo → large | growth alone | queries demo → large |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for p in large["pages"]:
            d = before.get(p["page"], {})
            growth = p["p50_ms"] / d["p50_ms"] if p.get("p50_ms") and d.get("p50_ms") else None
            alone = p["seq_ms"] / d["seq_ms"] if p.get("seq_ms") and d.get("seq_ms") else None
            out.append(
                f"| {p['page']} | {fmt(d.get('p50_ms'))} | {fmt(p.get('p50_ms'))} | "
                f"{fmt(growth, '.2f')} | "
                f"{fmt(d.get('ratio'), '.2f')} | {fmt(p.get('ratio'), '.2f')} | "
                f"{fmt(d.get('seq_ms'))} → {fmt(p.get('seq_ms'))} | {fmt(alone, '.2f')} | "
                f"{d.get('queries', '—')} → {p['queries']} |"
            )
        out.append("")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario",
        choices=("pages", "live"),
        default="pages",
        help="pages: wrk per page (below); live: the live-day scenario of bench/liveday.py "
        "(writers and 20 readers at once, on a copy of the generated dataset)",
    )
    parser.add_argument("--db", nargs="+", choices=("sqlite", "postgres"), default=["sqlite"])
    parser.add_argument(
        "--dataset", nargs="+", choices=("demo", "large"), default=["demo", "large"]
    )
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help="directory of the seeded SQLite files and seed markers (default bench/data)",
    )
    parser.add_argument(
        "--duration",
        type=int,
        default=10,
        help="seconds of wrk per page; --scenario live: seconds of live day per worker count",
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--sequential", type=int, default=21, help="one-at-a-time requests per page (median)"
    )
    parser.add_argument(
        "--pg",
        default="postgresql+psycopg://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL (no database)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="recreate and reseed even if a seeded database exists"
    )
    parser.add_argument(
        "--seed-only", action="store_true", help="prepare the databases, measure nothing"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep a seeded database even if the generator or the schema changed since "
        "(it is migrated to the current schema; rows of new generators are missing)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="TEXT",
        help="measure only the pages whose name contains one of these (and the floors); "
        "prints the figures, writes no results",
    )
    liveday.add_arguments(parser)
    args = parser.parse_args(argv)
    # kill <pid> ends the run like Ctrl-C: the gunicorn it started is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if args.scenario == "live":
        liveday.main(args)
        return
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk (or make bench-deps)")
    for db in args.db:
        for dataset in args.dataset:
            if args.seed_only:
                tag = dataset_tag(args, dataset)
                url = database_url(args, db, tag)
                prepare(args, db, dataset, tag, url, server_env(url))
            else:
                run_one(args, db, dataset)
    if args.seed_only:
        return
    (RESULTS / "summary.md").write_text(summary_markdown(load_results()))
    log(f"written {RESULTS / 'summary.md'}")


if __name__ == "__main__":
    main()
