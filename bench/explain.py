#!/usr/bin/env python
"""Explain plans of the SQL one page sends, on the benchmark database.

    python bench/explain.py --url sqlite:///bench/data/200x365.db --user admin '/audit/?flt0_0=1'

Runs the page in-process as that user (test client, CSRF off), records every statement,
then prints each with its plan: ``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN (ANALYZE,
BUFFERS)`` on PostgreSQL, and the time the statement took.
"""

import argparse
import sys
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="database URL")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="demo12345")
    parser.add_argument("--all", action="store_true", help="also statements faster than 1 ms")
    parser.add_argument("path")
    args = parser.parse_args(argv)

    from portal import create_app
    from portal.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.url,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "explain",
            "BENCH_FLOOR_PAGE": True,
        }
    )
    client = app.test_client()
    resp = client.post("/login", data={"username": args.user, "password": args.password})
    assert resp.status_code == 302, f"login failed: {resp.status_code}"
    with app.app_context():
        engine = db.engine
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["t0"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters, (time.perf_counter() - conn.info["t0"]) * 1000))

    client.get(args.path)  # warm caches
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    resp = client.get(args.path)
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    print(f"GET {args.path} as {args.user}: {resp.status_code}, {len(seen)} statements\n")
    prefix = (
        "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    )
    with engine.connect() as conn:
        for statement, parameters, ms in seen:
            if ms < 1 and not args.all:
                continue
            print(f"--- {ms:.1f} ms\n{statement}\n{parameters}")
            for row in conn.exec_driver_sql(prefix + statement, parameters):
                print("   ", " ".join(str(v) for v in row))
            print()


if __name__ == "__main__":
    main()
