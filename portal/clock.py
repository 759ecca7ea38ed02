"""The portal's one clock, and a site's local day.

Everything that asks "what time is it" calls ``now()`` through the module
(``from portal import clock``; ``clock.now()``), never a copy of it imported by name, and the
column defaults read it at call time (``portal.models.base.utcnow``): a test that moves the
clock (time-machine) moves the whole portal with it.

Instants are stored and compared as aware UTC datetimes. A site's *day* is its own calendar
day, cut at its local midnight (``Site.timezone``); most sites are on Beijing time.

Where a function takes ``where``, it accepts a site (anything with a ``timezone`` attribute),
a zone name, a ``tzinfo``, or None (the default zone).

**One rule for a bad zone:** an empty, unknown or malformed zone name means the default zone
(Beijing time). ``Site.timezone`` is free text edited by head office; one typo must not take
the site's pages down, and a site in China is far more likely on Beijing time than anything
else. The rule lives only in ``zone``.
"""

from datetime import datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE_NAME = "Asia/Shanghai"
DEFAULT_ZONE = ZoneInfo(DEFAULT_ZONE_NAME)


def now():
    """The current instant, aware, in UTC: the one source of "now"."""
    return datetime.now(timezone.utc)


def zone(name):
    """The ZoneInfo called ``name``; the default zone for an empty, unknown or bad name."""
    if not name or not isinstance(name, str):
        return DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # unknown, or not a zone key ("../x", "UTC+8")
        return DEFAULT_ZONE


def site_zone(site):
    """The site's ZoneInfo (``zone`` rule for a bad name); the default zone without a site."""
    return zone(getattr(site, "timezone", None))


def _zone_of(where):
    if isinstance(where, tzinfo):
        return where
    if where is None or isinstance(where, str):
        return zone(where)
    return site_zone(where)


def to_local(at, where):
    """The instant ``at`` on the wall clock of ``where`` (a naive ``at`` is taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(_zone_of(where))


def local_now(where, at=None):
    """Now (or the instant ``at``) on the wall clock of ``where``."""
    return to_local(at or now(), where)


def local_day(where, at=None):
    """The local calendar day of ``where`` now, or at the instant ``at``."""
    return local_now(where, at).date()


def local_at(day, wall_time, where):
    """The aware instant (in the local zone) when ``where``'s clock shows ``wall_time`` on
    ``day``."""
    return datetime.combine(day, wall_time, _zone_of(where))


def nearest_local(wall_time, where, instant):
    """The aware UTC instant nearest ``instant`` at which ``where``'s clock shows ``wall_time``:
    on the local day of ``instant``, the day before or the day after. A time typed for a
    record (a tour at 00:10 of a visit that arrived at 23:55) belongs to the night it
    happened, not to the morning of the record's day."""
    day = local_day(where, instant)
    candidates = (
        local_at(day + timedelta(days=d), wall_time, where).astimezone(timezone.utc)
        for d in (-1, 0, 1)
    )
    return min(candidates, key=lambda at: abs(at - instant))


def from_local(value, where):
    """A naive wall-clock datetime of ``where`` (a form field) as aware UTC. Aware values are
    already an instant and pass unchanged; None stays None."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=_zone_of(where)).astimezone(timezone.utc)


def day_bounds(day, where):
    """``[start, end)`` of the local ``day`` of ``where``, as aware UTC instants."""
    return period_bounds(day, day, where)


def period_bounds(start, end, where=DEFAULT_ZONE):
    """``[lo, hi)`` of the local days ``start..end`` (inclusive) of ``where``, aware UTC."""
    lo = local_at(start, time.min, where)
    hi = local_at(end + timedelta(days=1), time.min, where)
    return lo.astimezone(timezone.utc), hi.astimezone(timezone.utc)
