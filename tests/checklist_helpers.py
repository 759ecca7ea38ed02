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
