"""Shared arrangements for the checklist and inventory tests."""
from sqlalchemy import select

from portal.models import Site
from portal.services import demo_checklists


def seed_checklists(dbs):
    """The checklist and inventory demo data on top of the demo organisation; returns sites by code."""
    sites = {s.code: s for s in dbs.scalars(select(Site))}
    demo_checklists.seed(sites)
    dbs.commit()
    return sites
