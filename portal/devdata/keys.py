"""Development data of the key register: four keys per demo site, one of them out to a
salesperson since this morning."""

from datetime import timedelta

from sqlalchemy import select

from portal import clock
from portal.devdata.org import roster_of
from portal.extensions import db
from portal.models.keys import KeyItem, KeyLoan

KEYS = (
    ("A-01", "样板房 A 户型大门", "model_unit"),
    ("B-01", "样板房 B 户型大门", "model_unit"),
    ("G-01", "沙盘展柜", "cabinet"),
    ("O-01", "财务室", "office"),
)


def seed(sites):
    for site in sites.values():
        if db.session.scalar(select(KeyItem.id).where(KeyItem.site_id == site.id).limit(1)):
            continue
        keys = [
            KeyItem(site_id=site.id, code=code, label=label, kind=kind)
            for code, label, kind in KEYS
        ]
        db.session.add_all(keys)
        sales = roster_of(site, "sales")
        # Out since an hour ago, or since the start of the site's day just after midnight:
        # the demo's loan is today's, not an overnight one.
        now = clock.now()
        out_at = max(
            now - timedelta(hours=1), clock.day_bounds(clock.local_day(site, now), site)[0]
        )
        loan = KeyLoan(
            site_id=site.id,
            key=keys[0],
            purpose="带客户看样板房",
            out_at=out_at,
            out_day=clock.local_day(site, out_at),
        )
        if sales:
            loan.staff_member = sales[0]
        else:
            loan.holder_name, loan.holder_phone = "装修师傅 王", "13700000000"
        db.session.add(loan)
    db.session.flush()
