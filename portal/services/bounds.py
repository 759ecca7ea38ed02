"""Sane ranges for what people type and for what URLs ask: one rule per field, here.

Services call these checks before writing (so every path that writes is bound: workflow pages,
admin forms, scripts); forms show the same message next to the field. Each check returns the
translated message, or None when the value is fine. Nothing here reads the request.

The ranges:
- Head counts of a visit: a sales-office group, a family or a bus tour, not a stadium.
- Quantities of drinks and snacks: a serving is what one group drinks; a delivery or a count
  is what a sales-office store room holds.
- Event times (a visit's arrival and departure, the visit of a damage report): not before the
  site opened (``Site.opened_on``, its local day) and not in the future, give or take a few
  minutes of clock difference between a tablet and the server.
- Tally days: since the site opened, today at most, and no further back than the config key
  ``TALLY_MAX_DAYS_BACK`` (closing a tally moves live stock: a forgotten day is caught up within
  the week, not years later).
- Dates in URLs (``?on=``, ``?day=``, filters): years 2000 to five years ahead; anything else is
  a typing mistake or a probe, and would overflow the date arithmetic behind the page.
"""

from dataclasses import dataclass
from datetime import date, timedelta, timezone

from flask import current_app, has_app_context
from portal.errors import DomainError
from portal import clock
from portal.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class Bound:
    low: int
    high: int


ADULTS = Bound(0, 50)
CHILDREN = Bound(0, 30)
SERVED = Bound(1, 100)  # one serving line of one visit
STOCK_QUANTITY = Bound(1, 10_000)  # a delivery, a write-off
COUNTED = Bound(0, 10_000)  # stock counted on the shelf

CLOCK_SKEW = timedelta(minutes=5)
TALLY_MAX_DAYS_BACK = 7  # default of the config key of the same name (portal/config.py)
FIRST_PARAM_DAY = date(2000, 1, 1)
PARAM_YEARS_AHEAD = 5


def whole_number(value):
    """``value`` as an int, or None when it is not a whole number."""
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        return None


def adults_error(value):
    n = whole_number(value)
    if n is None or not ADULTS.low <= n <= ADULTS.high:
        return _l("Adults must be between 0 and %(n)s.", n=ADULTS.high)
    return None


def children_error(value):
    n = whole_number(value)
    if n is None or not CHILDREN.low <= n <= CHILDREN.high:
        return _l("Children must be between 0 and %(n)s.", n=CHILDREN.high)
    return None


def quantity_error(value, bound):
    """The message for a quantity outside ``bound`` (SERVED, STOCK_QUANTITY or COUNTED)."""
    n = whole_number(value)
    if n is None:
        return _l("Enter a whole number.")
    if not bound.low <= n <= bound.high:
        return _l("Enter a number between %(low)s and %(high)s.", low=bound.low, high=bound.high)
    return None


# ---------------------------------------------------------------- times and days of a site


def opened_on(site):
    """The first local day of the site (sites created before the column existed: their creation)."""
    if site.opened_on is not None:
        return site.opened_on
    return clock.local_day(site, site.created_at)


def event_time_error(site, at, now=None):
    """The message for an event time (aware) before the site opened or in the future."""
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    first = opened_on(site)
    if at < clock.day_bounds(first, site)[0]:
        return _l("The time cannot be before the site opened (%(day)s).", day=first.isoformat())
    if at > (now or clock.now()) + CLOCK_SKEW:
        return _l("The time cannot be in the future.")
    return None


def tally_max_days_back():
    if has_app_context():
        return int(current_app.config.get("TALLY_MAX_DAYS_BACK", TALLY_MAX_DAYS_BACK))
    return TALLY_MAX_DAYS_BACK


def tally_day_error(site, day, today):
    """The message for a tally day that may not be closed: before the site opened, after
    ``today`` (the site's), or further back than TALLY_MAX_DAYS_BACK."""
    first = opened_on(site)
    if day < first:
        return _l(
            "The site opened on %(day)s: there is no tally before that day.", day=first.isoformat()
        )
    if day > today:
        return _l("A tally cannot be closed for a day still to come.")
    days_back = tally_max_days_back()
    if (today - day).days > days_back:
        return _l("A tally can be closed at most %(n)s days back.", n=days_back)
    return None


# ---------------------------------------------------------------- dates in URLs


def last_param_day(today=None):
    return date((today or clock.local_day(clock.DEFAULT_ZONE)).year + PARAM_YEARS_AHEAD, 12, 31)


def check_day(day):
    """``day`` if within the years a page can show; DomainError (400) otherwise."""
    last = last_param_day()
    if not FIRST_PARAM_DAY <= day <= last:
        raise DomainError(
            _l(
                "Choose a date between %(first)s and %(last)s.",
                first=FIRST_PARAM_DAY.isoformat(),
                last=last.isoformat(),
            )
        )
    return day


def parse_day(text):
    """The one parser of a date in a URL: ``YYYY-MM-DD`` within the years a page can show.
    Raises DomainError (400) with the message to show."""
    text = (text or "").strip()
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise DomainError(_l("Enter a date as YYYY-MM-DD."))
    return check_day(day)
