"""A site's standing in a period's regional comparison: counted, or listed apart and why.

For the local days ``start..end`` a listed site is

* ``setup`` — still in set-up (listed only while the period includes today);
* ``closed`` — not working on the period's last counted day (``end``, or today while the
  period runs), as its spells say (``portal.services.sites.spells``);
* ``new`` — its first working day is after ``start``: it opened during the period;
* ``open`` — worked the whole period: the only standing counted in the region's averages, the
  ranking and the charts' average line.

A site that is not counted keeps its own figures on the dashboard and in the PDF, with a badge
(``STANDING_LABELS``) and the reason in the legend (``STANDING_DEFINITIONS``). One query reads
the spells of every site asked about (shared with the figures inside ``metrics.zone_cache``)."""

from portal import clock
from portal.i18n import lazy_gettext as _l
from portal.services import metrics as m
from portal.services import sites as site_life

COUNTED = "open"
STANDING_LABELS = {
    "setup": _l("In set-up"),
    "new": _l("Newly opened"),
    "closed": _l("Closed"),
}
STANDING_DEFINITIONS = {
    "setup": _l(
        "In set-up: the site has not opened yet; whatever it recorded while being set up is "
        "shown, but not counted."
    ),
    "new": _l(
        "Newly opened: its first working day falls after the first day of the period, so its "
        "figures cover only part of it."
    ),
    "closed": _l(
        "Closed: it was not working on the last day of the period (or today, while the period "
        "runs); its figures stay in the reports of the periods it worked."
    ),
}
LEFT_OUT = _l(
    "Sites marked In set-up, Newly opened or Closed are listed with their own figures but left "
    "out of the region's averages, the ranking and the charts' average line: a part of a "
    "period is not comparable with a whole one."
)


def last_counted_day(end, today=None):
    """The period's last day that counts: ``end``, or today while the period still runs."""
    today = today or clock.local_day(clock.DEFAULT_ZONE)
    return min(end, today)


def standings(sites, start, end, today=None):
    """{site_id: "setup" | "closed" | "new" | "open"} for Site objects (one query)."""
    sites = list(sites)
    spells = m.site_spells([s.id for s in sites])
    result = {}
    for site in sites:
        own = spells.get(site.id, [])
        last = last_counted_day(end, today or clock.local_day(site))
        if site.status == "setup" and not own:
            result[site.id] = "setup"
        elif not own or not site_life.worked_on(own, last):
            result[site.id] = "closed" if own else "setup"
        elif min(first for first, _ in own) > start:
            result[site.id] = "new"
        else:
            result[site.id] = COUNTED
    return result


def counted(standing_of):
    """The site ids counted in averages and rankings, from ``standings()``."""
    return [sid for sid, standing in standing_of.items() if standing == COUNTED]


__all__ = [
    "COUNTED",
    "LEFT_OUT",
    "STANDING_DEFINITIONS",
    "STANDING_LABELS",
    "counted",
    "last_counted_day",
    "standings",
]
