"""Shared arrangements for the checklist and inventory tests.

HTTP tests read the database inside ``system(app)`` blocks rather than through the
``dbs`` fixture: a test-client request made while ``dbs``'s app context is pushed runs
in that same session and leaves its user's site scope on it.
"""

from contextlib import contextmanager

import pytest
from sqlalchemy import select

from portal import devdata
from portal.extensions import db
from portal.models import Site


@contextmanager
def system(app):
    """The unscoped session in a fresh app context (closed afterwards)."""
    with app.app_context():
        yield db.session
        db.session.remove()


@pytest.fixture
def seeded(app, site_ids):
    """The checklist and inventory demo data on top of the demo organisation; returns site ids by
    code."""
    with system(app) as s:
        sites = {site.code: site for site in s.scalars(select(Site))}
        devdata.checklists.seed(sites)
        devdata.inventory.seed(sites)
        s.commit()
    return site_ids


def count_item_check(page):
    """In the browser, what the clerk does on an item check before completing it: type the count
    of every item still to count (as expected) and tap "本类已清点" for every category not yet
    confirmed. Returns the number of taps and fields typed."""
    taps = 0
    for line in page.locator("li.item-line[data-typed-count]").all():
        field = line.locator("input.counted-input")
        if not field.input_value():
            field.fill(line.get_attribute("data-expected"))
            taps += 1
    for button in page.locator("label.category-confirm").all():
        if "active" not in (button.get_attribute("class") or "").split():
            button.click()
            taps += 1
    return taps
