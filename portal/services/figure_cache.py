"""Dashboard figures of ended periods, kept per process and keyed by each site's data version.

Computing seventeen figures for two hundred sites costs far more than showing them, and a
supervisor looks at last month again and again. A site's *data version* is the id of its
latest audit event (``audit.site_versions``): every change to a site's records writes one in
the same transaction. A figure of a period that is over (every site's local midnight after its
last day has passed: ``metrics.has_ended``) only changes when its records do, so it is valid
exactly as long as its site's version is the one it was computed at: no expiry, no
invalidation hooks, and a change to one site recomputes that site's figures only. The one
kind of figure that still moves after its period (one that compares a due time with "now",
``Metric.moves_with_clock``) is never kept.

The figures are per site and computed from that site's records, which the user's scope
either shows in full or not at all, so a figure cached for one user is the same for every
user allowed to see the site; the scope still decides which sites are asked for.
"""

from collections import OrderedDict
from threading import Lock

from flask import current_app, has_app_context

MAX_ENTRIES = 200_000

_entries: "OrderedDict[tuple, object]" = OrderedDict()
_lock = Lock()
_stats = {"hits": 0, "misses": 0}


def enabled():
    return not has_app_context() or current_app.config.get("FIGURE_CACHE", True)


def lookup(metric_key, start, end, versions):
    """({site_id: value} found, [site_id missing])."""
    found, missing = {}, []
    with _lock:
        for site_id, version in versions.items():
            key = (metric_key, start, end, site_id, version)
            if key in _entries:
                _entries.move_to_end(key)
                found[site_id] = _entries[key]
            else:
                missing.append(site_id)
        _stats["hits"] += len(found)
        _stats["misses"] += len(missing)
    return found, missing


def store(metric_key, start, end, versions, values):
    with _lock:
        for site_id, value in values.items():
            if site_id in versions:  # a site without a version (outside the scope) is never kept
                _entries[(metric_key, start, end, site_id, versions[site_id])] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)


def clear():
    with _lock:
        _entries.clear()
        _stats.update(hits=0, misses=0)


def stats():
    with _lock:
        return dict(_stats, entries=len(_entries))
