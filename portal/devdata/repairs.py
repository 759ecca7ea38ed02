"""Development data of repairs: tickets in several states at SZ01/SZ02 (some for an inventory
item, one overdue), the closed tickets of the past days, and the benchmark's tickets with
their timelines."""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from portal import clock
from portal.devdata.bench import CHUNK, stamped, weighted
from portal.devdata.history import at, bulk
from portal.devdata.org import demo_user
from portal.extensions import db
from portal.models import Item, RepairEvent, RepairTicket
from portal.services import repairs

# site, reporter, equipment, location, description, priority, actions to play
TICKETS = [
    (
        "SZ01",
        "clerk_sz01",
        "沙盘区落地灯",
        "沙盘区东侧",
        "落地灯开关按下后不亮，换灯泡后仍不亮，疑似线路问题。",
        "high",
        [],
    ),
    (
        "SZ01",
        "clerk_sz01",
        "洽谈区空调",
        "洽谈区 2 号桌上方",
        "空调出风口滴水，桌面和沙发已用毛巾垫上。",
        "urgent",
        ["assign"],
    ),
    (
        "SZ01",
        "guard_sz01",
        "入口自动感应门",
        "主入口",
        "感应门关闭时有异响，偶尔卡在半开位置。",
        "normal",
        ["assign", "start", "wait_parts"],
    ),
    (
        "SZ01",
        "clerk_sz01",
        "咖啡机",
        "水吧台",
        "咖啡机提示“除垢”后无法出水。",
        "normal",
        ["assign", "start", "resolve"],
    ),
    (
        "SZ02",
        "clerk_sz02",
        "电动窗帘",
        "展示区落地窗",
        "左侧电动窗帘遥控无反应，只能手动拉开。",
        "low",
        ["assign", "start"],
    ),
    (
        "SZ02",
        "clerk_sz02",
        "音响系统",
        "影音室",
        "影音室左声道无声，已检查音源线连接。",
        "high",
        ["assign", "start", "resolve", "close"],
    ),
]
# Tickets about an item of the site's list: equipment → item name (inventory.ITEMS).
TICKET_ITEMS = {"沙盘区落地灯": "落地灯", "咖啡机": "咖啡机", "音响系统": "音响主机"}
OVERDUE = "洽谈区空调"  # so the supervisor's overdue counter shows something

DUE_HOURS = {"urgent": 4, "high": 24, "normal": 72, "low": 168}
HISTORY_FAULTS = [
    ("空调", "接待大厅", "不制冷，有异响"),
    ("咖啡机", "水吧", "出水慢"),
    ("感应门", "入口", "开关卡顿"),
    ("投影仪", "影音室", "画面发黄"),
    ("筒灯", "洽谈区", "两盏不亮"),
    ("马桶", "卫生间", "冲水不止"),
    ("沙盘灯光", "沙盘区", "部分灯带不亮"),
]
BENCH_EQUIPMENT = (
    "空调",
    "电动窗帘",
    "咖啡机",
    "投影仪",
    "门禁",
    "水龙头",
    "灯带",
    "音响",
    "自动门",
    "饮水机",
)
FLOW = ("new", "assigned", "in_progress", "resolved", "closed")


def item_named(site, name):
    return db.session.scalar(select(Item).where(Item.site_id == site.id, Item.name == name))


def seed(sites):
    if db.session.scalar(select(RepairTicket.id).limit(1)) is not None:
        return
    supervisor, worker = demo_user("sup_south"), demo_user("maint_south")
    for code, reporter, equipment, location, text, priority, actions in TICKETS:
        user = demo_user(reporter)
        name = TICKET_ITEMS.get(equipment)
        item = item_named(sites[code], name) if name else None
        # The overdue one was reported long enough ago to be two hours past its due time,
        # never due before it was reported.
        now = clock.now()
        reported = (
            now - (repairs.due_for(priority, now) - now) - timedelta(hours=2)
            if equipment == OVERDUE
            else None
        )
        ticket = repairs.report(
            sites[code],
            user,
            equipment,
            text,
            priority,
            location=location,
            item=item,
            at=reported,
        )
        for action in actions:
            if action == "assign":
                repairs.transition(ticket, "assign", supervisor, assignee=worker)
            elif action == "resolve":
                repairs.transition(
                    ticket,
                    "resolve",
                    worker,
                    cost=Decimal("180.00"),
                    parts_used="密封圈 1 个",
                    resolution="清洗水路并更换密封圈，试机正常。",
                )
            elif action == "close":
                repairs.transition(ticket, "close", user, note="已确认修好。")
            else:
                repairs.transition(ticket, action, worker)
    overdue = db.session.scalar(select(RepairTicket).where(RepairTicket.equipment == OVERDUE))
    repairs.comment(overdue, worker, "今天下午到场，需要带梯子。")
    db.session.flush()


def history(past):
    """Tickets at the site's repair rate, all closed, resolved around their due time."""
    tickets = []
    for day in past.days:
        rng = past.rng(day, "repairs")
        if rng.random() >= past.c.repair_rate / 7:
            continue
        equipment, location, text = rng.choice(HISTORY_FAULTS)
        priority = rng.choice(("urgent", "high", "normal", "normal", "low"))
        reported = at(day, rng.randint(9, 16), rng.randint(0, 59))
        due = reported + timedelta(hours=DUE_HOURS[priority])
        resolved = reported + timedelta(hours=DUE_HOURS[priority] * rng.uniform(0.2, 1.4))
        tickets.append(
            {
                "site_id": past.site.id,
                "equipment": equipment,
                "location": location,
                "description": text,
                "priority": priority,
                "status": "closed",
                "due_at": due,
                "reporter_id": past.clerk,
                "assignee_id": past.maintenance,
                "resolved_at": resolved,
                "closed_at": resolved + timedelta(hours=2),
                "resolution": "已维修，恢复正常",
                "created_at": reported,
                "updated_at": resolved,
            }
        )
    bulk(RepairTicket, tickets)


def generate(ctx, per_day=0.7):
    """~0.7 repair tickets per site and day with their timeline (report, assignment, work,
    resolution, close); the last weeks' still open."""
    ticket_ids, tickets, events = ctx.ids(RepairTicket), [], []
    maint = {
        site_id: ctx.site_users.get(site_id, {}).get("maintenance", []) for site_id in ctx.site_ids
    }
    for n, day in enumerate(ctx.each_day()):
        age = ctx.days - n
        for site_id in ctx.site_ids:
            if ctx.rng.random() >= per_day:
                continue
            tid, reporter = next(ticket_ids), ctx.someone(site_id, ("clerk", "security"))
            when = ctx.moment(site_id, day)
            assignee = ctx.rng.choice(maint[site_id]) if maint[site_id] else None
            status = "closed" if age > 21 else ctx.rng.choice(FLOW)
            if assignee is None:
                status = "new"
            resolved = (
                when + timedelta(hours=ctx.rng.randint(2, 72))
                if status in ("resolved", "closed")
                else None
            )
            equipment = ctx.rng.choice(BENCH_EQUIPMENT)
            priority = weighted(ctx.rng, (("urgent", 1), ("high", 2), ("normal", 6), ("low", 2)))
            tickets.append(
                {
                    "id": tid,
                    "site_id": site_id,
                    "equipment": equipment,
                    "location": "接待大厅",
                    "description": f"{equipment}故障",
                    "priority": priority,
                    "status": status,
                    "due_at": when + timedelta(days=2),
                    "reporter_id": reporter,
                    "assignee_id": assignee if status != "new" else None,
                    "resolved_at": resolved,
                    "closed_at": (resolved + timedelta(hours=4) if status == "closed" else None),
                    "cost": None,
                    "parts_used": None,
                    "resolution": "已修复" if resolved else None,
                    "deleted_at": None,
                    "deleted_by_id": None,
                    **stamped(when, reporter),
                }
            )
            steps = [("report", None, None, "new", reporter, when)]
            for k in range(1, FLOW.index(status) + 1):
                steps.append(
                    (
                        "transition",
                        FLOW[k],
                        FLOW[k - 1],
                        FLOW[k],
                        assignee,
                        when + timedelta(hours=k),
                    )
                )
            events.extend(
                {
                    "site_id": site_id,
                    "ticket_id": tid,
                    "at": moment,
                    "user_id": who,
                    "kind": kind,
                    "action": action,
                    "from_status": before,
                    "to_status": after,
                    "text": None,
                    "number": None,
                }
                for kind, action, before, after, who, moment in steps
            )
        if len(events) > CHUNK * 2:
            ctx.insert(RepairTicket, tickets)
            ctx.insert(RepairEvent, events)
            tickets, events = [], []
    ctx.insert(RepairTicket, tickets)
    ctx.insert(RepairEvent, events)
