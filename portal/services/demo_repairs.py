"""Demo repair tickets in several states at SZ01/SZ02 (some for an inventory item) and one damage
report for a recorded visit (idempotent)."""
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.extensions import db
from portal.models import DamageReport, Item, RepairTicket, User, Visit, utcnow
from portal.services import damage, repairs

# site, reporter, equipment, location, description, priority, actions to play
TICKETS = [
    ("SZ01", "clerk_sz01", "沙盘区落地灯", "沙盘区东侧", "落地灯开关按下后不亮，换灯泡后仍不亮，疑似线路问题。", "high", []),
    ("SZ01", "clerk_sz01", "洽谈区空调", "洽谈区 2 号桌上方", "空调出风口滴水，桌面和沙发已用毛巾垫上。", "urgent", ["assign"]),
    ("SZ01", "guard_sz01", "入口自动感应门", "主入口", "感应门关闭时有异响，偶尔卡在半开位置。", "normal",
     ["assign", "start", "wait_parts"]),
    ("SZ01", "clerk_sz01", "咖啡机", "水吧台", "咖啡机提示“除垢”后无法出水。", "normal",
     ["assign", "start", "resolve"]),
    ("SZ02", "clerk_sz02", "电动窗帘", "展示区落地窗", "左侧电动窗帘遥控无反应，只能手动拉开。", "low", ["assign", "start"]),
    ("SZ02", "clerk_sz02", "音响系统", "影音室", "影音室左声道无声，已检查音源线连接。", "high",
     ["assign", "start", "resolve", "close"]),
]

# Tickets about an item of the site's list: equipment → item name (demo_checklists.ITEMS).
TICKET_ITEMS = {"沙盘区落地灯": "落地灯", "咖啡机": "咖啡机", "音响系统": "音响主机"}


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


def _item(site, name):
    if name is None:
        return None
    return db.session.scalar(select(Item).where(Item.site_id == site.id, Item.name == name))


def seed(sites):
    if db.session.scalar(select(RepairTicket.id).limit(1)) is not None:
        return
    supervisor, worker = _user("sup_south"), _user("maint_south")
    for code, reporter, equipment, location, text, priority, actions in TICKETS:
        user = _user(reporter)
        item = _item(sites[code], TICKET_ITEMS.get(equipment))
        ticket = repairs.report(sites[code], user, equipment, text, priority, location=location, item=item)
        for action in actions:
            if action == "assign":
                repairs.transition(ticket, "assign", supervisor, assignee=worker)
            elif action == "resolve":
                repairs.transition(ticket, "resolve", worker, cost=Decimal("180.00"), parts_used="密封圈 1 个",
                                   resolution="清洗水路并更换密封圈，试机正常。")
            elif action == "close":
                repairs.transition(ticket, "close", user, note="已确认修好。")
            else:
                repairs.transition(ticket, action, worker)
    # One ticket overdue, so the supervisor's overdue counter shows something.
    overdue = db.session.scalar(select(RepairTicket).where(RepairTicket.equipment == "洽谈区空调"))
    overdue.due_at = utcnow() - timedelta(hours=2)
    repairs.comment(overdue, worker, "今天下午到场，需要带梯子。")
    if db.session.scalar(select(DamageReport.id).limit(1)) is None:
        # For the morning's family visit (the first of the day at SZ01, hosted by sales_sz01), when recorded.
        visit = db.session.scalar(select(Visit).where(Visit.site_id == sites["SZ01"].id, Visit.children > 0)
                                  .order_by(Visit.arrived_at))
        damage.file_report(sites["SZ01"], _user("clerk_sz01"), "样板房 A 户型装饰花瓶",
                           "参观时小朋友碰倒装饰花瓶，瓶口缺损一角，无人受伤。", _user("sales_sz01"),
                           "王先生一家三口，参观样板房 A 户型", utcnow() - timedelta(hours=3),
                           Decimal("350.00"), location="样板房 A 户型客厅",
                           item=_item(sites["SZ01"], "装饰摆件（陶瓷花瓶）"), visit=visit)
    db.session.flush()
