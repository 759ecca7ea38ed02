"""Development data, kept apart from the domain services (which never import it): the demo
organisation and its data (``flask seed-demo``), the demo's three months of history, and the
benchmark's large dataset (``flask bench seed``).

Each module of ``DOMAINS`` (the ``devdata`` of every ``portal.domains`` descriptor) holds one
domain's development data and offers some of the same entry points:
* ``seed(sites)`` — the demo's own records, through the services (idempotent; ``sites`` is
  ``{code: Site}``);
* ``history(past)`` — the demo's past days at one site (``history.SitePast``), bulk-inserted;
* ``generate(ctx)`` — the benchmark's rows (``bench.SeedContext``), bulk-inserted.
They run in the order of the descriptors' ``seed_order`` (a domain after those its records point
at). A new domain writes its module and names it in its descriptor.
"""

import time
from datetime import date
from importlib import import_module

from flask import current_app
from sqlalchemy import select

from portal import clock
from portal.devdata.bench import SeedContext, analyze, reset_sequences
from portal.devdata.facts import derive_history
from portal.devdata.history import CHARACTERS, SitePast, history_days
from portal.devdata.org import DEMO_PASSWORD, seed_org
from portal.domains import DOMAINS as ALL_DOMAINS
from portal.extensions import db
from portal.models import DailyTally, Site

__all__ = [
    "DEMO_PASSWORD",
    "DOMAINS",
    "generate",
    "is_empty",
    "seed_demo",
    "seed_history",
    "seed_org",
]

DOMAINS = [
    import_module(d.devdata) for d in sorted(ALL_DOMAINS, key=lambda d: d.seed_order) if d.devdata
]


def _entries(name):
    """(domain name, function) of every domain offering the entry point ``name``, in order."""
    return [
        (module.__name__.rpartition(".")[2], getattr(module, name))
        for module in DOMAINS
        if hasattr(module, name)
    ]


def is_empty():
    return db.session.scalar(select(Site.id).limit(1)) is None


def seed_demo():
    """Create or complete the demo data; returns the sites by code. The history is left out
    under test, where many tests seed the demo data and count rows of today."""
    sites = seed_org()
    for _name, seed in _entries("seed"):
        seed(sites)
    if not current_app.testing:
        seed_history(sites)
    db.session.commit()
    return sites


def seed_history(sites, today=None):
    """The demo sites' past days, up to the day before yesterday (yesterday belongs to the
    domains' ``seed``); a site that already has history (a tally on its first day) is
    skipped."""
    today = today or clock.local_day(clock.DEFAULT_ZONE)
    days = history_days(today)[:-1]
    pasts = [
        SitePast(site, code, CHARACTERS[code], days)
        for code, site in sorted(sites.items())
        if code in CHARACTERS and not _has_history(site, days[0])
    ]
    for _name, history in _entries("history"):
        for past in pasts:
            history(past)
    db.session.flush()
    derive_history()


def _has_history(site, first_day):
    return (
        db.session.scalar(
            select(DailyTally.id)
            .where(DailyTally.site_id == site.id, DailyTally.day == first_day)
            .limit(1)
        )
        is not None
    )


def generate(sites=200, days=365, seed=1, end=None, only=None, progress=print):
    """The benchmark dataset; returns the ``SeedContext`` (its ``counts`` say what was
    inserted). Same seed and end, same rows: each domain draws from a random stream of its
    own.

    ``only`` (domain names) limits the run to some domains; "org" always runs because the
    others need its ids. Commits after each domain.
    """
    ctx = SeedContext(seed=seed, sites=sites, days=days, end=end or date.today())
    started = time.perf_counter()
    for name, generate_domain in _entries("generate"):
        if only and name not in only and name != "org":
            continue
        ctx.reseed(name)
        before = dict(ctx.counts)
        t0 = time.perf_counter()
        generate_domain(ctx)
        db.session.commit()
        added = {t: n - before.get(t, 0) for t, n in ctx.counts.items() if n != before.get(t, 0)}
        progress(
            f"{name:<12} {time.perf_counter() - t0:7.1f} s  "
            + ", ".join(f"{t} {n:,}" for t, n in added.items())
        )
    reset_sequences(ctx)
    derive_history()
    db.session.commit()
    analyze()
    progress(
        f"{'total':<12} {time.perf_counter() - started:7.1f} s  {sum(ctx.counts.values()):,} rows"
    )
    return ctx
