"""Development data of damage reports: one for the morning's family visit at SZ01, the
reviewed reports of the past days, and the benchmark's reports (a few percent of its repair
tickets come with one)."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal import clock
from portal.devdata.bench import stamped
from portal.devdata.history import at, bulk
from portal.devdata.org import demo_user
from portal.devdata.repairs import item_named
from portal.extensions import db
from portal.models import DamageReport, RepairTicket, Site, Visit
from portal.services import damage

HISTORY_DAMAGES = [
    ("沙盘模型", "沙盘区", "儿童碰落一栋楼模型"),
    ("墙上挂画", "接待大厅", "画框被碰裂"),
    ("台灯", "洽谈区", "灯罩被撞凹"),
]


def seed(sites):
    if "SZ01" not in sites or db.session.scalar(select(DamageReport.id).limit(1)) is not None:
        return
    site = sites["SZ01"]
    # For the morning's family visit (the first of the day at SZ01, hosted by sales_sz01), when
    # recorded.
    visit = db.session.scalar(
        select(Visit).where(Visit.site_id == site.id, Visit.children > 0).order_by(Visit.arrived_at)
    )
    damage.file_report(
        site,
        demo_user("clerk_sz01"),
        "样板房 A 户型装饰花瓶",
        "参观时小朋友碰倒装饰花瓶，瓶口缺损一角，无人受伤。",
        demo_user("sales_sz01"),
        "王先生一家三口，参观样板房 A 户型",
        clock.now() - timedelta(hours=3),
        Decimal("350.00"),
        location="样板房 A 户型客厅",
        item=item_named(site, "装饰摆件（陶瓷花瓶）"),
        visit=visit,
    )
    db.session.flush()


def history(past):
    """Now and then (3% of the days) a report, confirmed by the salesperson and reviewed."""
    reports = []
    for day in past.days:
        rng = past.rng(day, "damage")
        if rng.random() >= 0.03:
            continue
        equipment, location, text = rng.choice(HISTORY_DAMAGES)
        visit_at = at(day, rng.randint(10, 16), rng.randint(0, 59))
        reports.append(
            {
                "site_id": past.site.id,
                "equipment": equipment,
                "location": location,
                "visit_description": "带孩子的看房客户",
                "visit_at": visit_at,
                "description": text,
                "estimated_cost": Decimal(rng.choice((80, 150, 300))),
                "status": "reviewed",
                "reporter_id": past.guard,
                "salesperson_id": past.sales_user,
                "sales_answer": "confirmed",
                "answered_at": visit_at + timedelta(hours=2),
                "outcome": rng.choice(("waived", "compensated")),
                "reviewed_by_id": past.supervisor,
                "reviewed_at": visit_at + timedelta(days=1),
                "created_at": visit_at,
                "updated_at": visit_at + timedelta(days=1),
            }
        )
    bulk(DamageReport, reports)


def generate(ctx, share=0.06):
    """A damage report for ``share`` of the generated repair tickets (the repair it caused):
    reviewed when the ticket is older than three weeks, else pending."""
    zones = {
        site_id: ZoneInfo(tz)
        for site_id, tz in db.session.execute(
            select(Site.id, Site.timezone).where(Site.id.in_(ctx.site_ids))
        )
    }
    tickets = db.session.execute(
        select(
            RepairTicket.id,
            RepairTicket.site_id,
            RepairTicket.equipment,
            RepairTicket.created_at,
            RepairTicket.reporter_id,
        )
        .where(RepairTicket.site_id.in_(ctx.site_ids))
        .order_by(RepairTicket.id)
    )
    reports = []
    for tid, site_id, equipment, reported, reporter in tickets:
        if ctx.rng.random() >= share:
            continue
        day = reported.astimezone(zones[site_id]).date()
        old = (ctx.end - day).days >= 21
        sales = ctx.site_users.get(site_id, {}).get("sales") or [reporter]
        reports.append(
            {
                "site_id": site_id,
                "equipment": equipment,
                "location": "样板房",
                "visit_description": "看房客户",
                "visit_at": reported - timedelta(hours=1),
                "description": f"客户参观时{equipment}损坏",
                "estimated_cost": None,
                "status": "reviewed" if old else "pending",
                "reporter_id": reporter,
                "salesperson_id": ctx.rng.choice(sales),
                "sales_answer": None,
                "sales_note": None,
                "answered_at": None,
                "outcome": "waived" if old else None,
                "review_note": None,
                "reviewed_by_id": None,
                "reviewed_at": None,
                "repair_ticket_id": tid,
                "deleted_at": None,
                "deleted_by_id": None,
                **stamped(reported, reporter),
            }
        )
    ctx.insert(DamageReport, reports)
