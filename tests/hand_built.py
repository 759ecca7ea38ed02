"""Helpers for tests that build a site's records by hand, each at the instant it happened."""

import time_machine
from sqlalchemy import select

from portal.models import Product, User


def user(dbs, username):
    return dbs.scalar(select(User).where(User.username == username))


def at(dbs, when, action):
    """``action()`` run and committed with the clock at ``when``; its result."""
    with time_machine.travel(when, tick=False):
        result = action()
        dbs.commit()
    return result


def two_drinks(dbs, site, clerk):
    """酸梅汤 and 矿泉水, drinks of ``site``, each restocked with 20 (the caller commits)."""
    from portal.services import stock

    sour = Product(site_id=site.id, name="酸梅汤", kind="drink", unit="杯")
    water = Product(site_id=site.id, name="矿泉水", kind="drink", unit="瓶")
    dbs.add_all([sour, water])
    dbs.flush()
    stock.restock(site, sour, 20, clerk)
    stock.restock(site, water, 20, clerk)
    return sour, water
