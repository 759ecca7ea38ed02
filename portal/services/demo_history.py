"""Three months of believable history for the four demo sites (phase 2 fills it in).

``flask seed-demo`` runs ``seed(sites)`` (added to ``demo.SEEDERS`` once the domain models
are merged) so that the dashboard and the month-end reports have true figures to show:
visits with drinks served, daily tallies with small variances, checklists mostly on time,
a few item discrepancies, repair tickets and damage reports, cleaning issues, handovers
and grooming inspections.

Rules for every generator below:
* deterministic — a ``random.Random`` seeded with the site code and the day, so re-running
  produces the same rows and the same report figures;
* idempotent — a day that already has history for a site is skipped;
* each site has its own character (SZ01 busy and tidy, SZ02 quiet with late tallies,
  SH01 busy with repairs, SH02 average) so the comparison shows real deviations;
* rows are written through the domain services where one exists (tally close, ticket
  transitions), so the history obeys the same rules as real use; one transaction per site.
"""
import random
from dataclasses import dataclass
from datetime import date, timedelta

HISTORY_DAYS = 92


@dataclass(frozen=True)
class SiteCharacter:
    visitors_per_day: tuple  # (weekday mean, weekend mean)
    drinks_per_visitor: float
    on_time_rate: float  # checklists, tallies, handovers signed on time
    repair_rate: float  # tickets per week
    cleanliness: float  # 0..1, share of inspections without an issue


CHARACTERS = {
    "SZ01": SiteCharacter((18, 45), 1.4, 0.97, 0.5, 0.95),
    "SZ02": SiteCharacter((8, 20), 1.1, 0.80, 0.3, 0.85),
    "SH01": SiteCharacter((20, 50), 1.6, 0.92, 1.5, 0.90),
    "SH02": SiteCharacter((12, 30), 1.2, 0.90, 0.6, 0.88),
}

# Generators per domain, called per site and day: fn(site, day, rng, character).
# Phase 2 registers them here once the domains are merged (visits, consumables, checklists…).
DAY_GENERATORS = []


def rng_for(site_code, day):
    """The same random stream for the same site and day, run after run."""
    return random.Random(f"{site_code}:{day.isoformat()}")


def history_days(today, days=HISTORY_DAYS):
    """The past days to fill, oldest first (today excluded: it is being lived)."""
    return [today - timedelta(days=n) for n in range(days, 0, -1)]


def seed(sites, today=None):
    """Generate the history for the demo sites (``sites``: {code: Site}). No-op until the
    domain generators are registered in ``DAY_GENERATORS``."""
    if not DAY_GENERATORS:
        return
    today = today or date.today()
    for code, site in sorted(sites.items()):
        character = CHARACTERS.get(code)
        if character is None:
            continue
        for day in history_days(today):
            rng = rng_for(code, day)
            for generate in DAY_GENERATORS:
                generate(site, day, rng, character)
