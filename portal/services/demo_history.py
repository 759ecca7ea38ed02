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
* rows are bulk-inserted (``insert(Model)`` with a list of dicts: a few statements per site
  instead of one flush per row) and keep the domains' invariants: every served drink is a
  ledger movement and a consumption line, each tally line is opening + restock − served with
  its variance booked as a correction, and the stock balance equals the sum of the ledger;
* the day before today is left to the other seeders (their "yesterday" scenes).

``flask seed-demo`` runs ``seed_demo_history`` (in ``demo.SEEDERS``); it does nothing when
the app is under test (``TESTING``), where many tests seed the demo data and count rows of
today — the history's own tests call ``seed`` directly.
"""
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import insert, select, update

from portal.extensions import db
from portal.models import (ChecklistRun, ChecklistTemplate, CleaningArea, CleaningIssue, ConsumptionLine, DailyTally,
                           DailyTallyLine, DamageReport, GroomingInspection, HandoverEntry, Item, ItemCheck,
                           ItemCheckLine, Product, RepairTicket, StaffMember, StockBalance, StockMovement, User,
                           Visit)
from portal.models.consumables import closed_same_day
from portal.services.metrics import LOCAL_TZ

HISTORY_DAYS = 92


@dataclass(frozen=True)
class SiteCharacter:
    visitors_per_day: tuple  # (weekday mean, weekend mean) of visits
    drinks_per_visitor: float
    on_time_rate: float  # checklists, tallies, handovers signed on time
    repair_rate: float  # tickets per week
    cleanliness: float  # 0..1, chance of a day without a cleaning issue
    grooming: int = 90  # mean grooming score
    hours_to_fix: tuple = (1, 5)  # a cleaning issue is fixed within this many hours
    discrepancy_rate: float = 0.01  # share of item check lines that do not match


CHARACTERS = {
    "SZ01": SiteCharacter((18, 45), 1.4, 0.97, 0.5, 0.95, 94, (1, 4), 0.004),
    "SZ02": SiteCharacter((8, 20), 1.1, 0.80, 0.3, 0.80, 82, (3, 30), 0.02),
    "SH01": SiteCharacter((20, 50), 1.6, 0.92, 1.5, 0.90, 89, (1, 8), 0.008),
    "SH02": SiteCharacter((12, 30), 1.2, 0.90, 0.6, 0.88, 87, (2, 10), 0.01),
}
DUE_HOURS = {"urgent": 4, "high": 24, "normal": 72, "low": 168}
EQUIPMENT = [("空调", "接待大厅", "不制冷，有异响"), ("咖啡机", "水吧", "出水慢"), ("感应门", "入口", "开关卡顿"),
             ("投影仪", "影音室", "画面发黄"), ("筒灯", "洽谈区", "两盏不亮"), ("马桶", "卫生间", "冲水不止"),
             ("沙盘灯光", "沙盘区", "部分灯带不亮")]
DAMAGE = [("沙盘模型", "沙盘区", "儿童碰落一栋楼模型"), ("墙上挂画", "接待大厅", "画框被碰裂"),
          ("台灯", "洽谈区", "灯罩被撞凹")]
HANDOVER_TEXTS = ["访客登记本已核对，无遗留。", "饮料库存已清点，矿泉水需补货。", "样板房钥匙已交回保险柜。",
                  "晚间巡查完毕，门窗已锁好。", "明早有团购客户参观，请提前准备茶歇。"]


def rng_for(site_code, day):
    """The same random stream for the same site and day, run after run."""
    return random.Random(f"{site_code}:{day.isoformat()}")


def history_days(today, days=HISTORY_DAYS):
    """The past days to fill, oldest first (today excluded: it is being lived)."""
    return [today - timedelta(days=n) for n in range(days, 0, -1)]


def at(day, hour, minute=0):
    """Aware datetime of a site-local time; minutes may run past 59 (timedelta arithmetic)."""
    return datetime.combine(day, time(0), LOCAL_TZ) + timedelta(hours=hour, minutes=minute)


def seed_demo_history(sites):
    """The ``demo.SEEDERS`` entry: the history, except in the test suite (see the module doc)."""
    if current_app.testing:
        return
    seed(sites)


def seed(sites, today=None):
    """Generate the history for the demo sites (``sites``: {code: Site}); a site that already
    has history (a tally on the first history day) is skipped."""
    today = today or datetime.now(LOCAL_TZ).date()
    days = history_days(today)[:-1]  # yesterday belongs to the other seeders
    for code, site in sorted(sites.items()):
        character = CHARACTERS.get(code)
        if character is None or _has_history(site, days[0]):
            continue
        _SiteHistory(site, code, character, days).write()
    db.session.flush()


def _has_history(site, first_day):
    return db.session.scalar(select(DailyTally.id).where(DailyTally.site_id == site.id, DailyTally.day == first_day)
                             .limit(1)) is not None


def _bulk(model, rows, returning=False):
    """One INSERT for many rows (executemany); with ``returning``, the new ids in row order."""
    if not rows:
        return []
    if returning:
        stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(db.session.scalars(stmt, rows))
    db.session.execute(insert(model), rows)
    return []


class _SiteHistory:
    """Everything of one site, built in memory, then written table by table."""

    def __init__(self, site, code, character, days):
        self.site, self.code, self.c, self.days = site, code, character, days
        sid = site.id
        users = {name: uid for name, uid in db.session.execute(select(User.username, User.id))}
        supervisor = users.get("sup_south" if code.startswith("SZ") else "sup_east")
        self.clerk = users.get(f"clerk_{code.lower()}") or supervisor
        self.guard = users.get(f"guard_{code.lower()}") or self.clerk
        self.supervisor = supervisor or self.clerk
        self.maintenance = users.get("maint_south") if code.startswith("SZ") else None
        self.sales_user = users.get(f"sales_{code.lower()}") or self.clerk
        staff = db.session.execute(select(StaffMember.id, StaffMember.kind).where(
            StaffMember.site_id == sid, StaffMember.active.is_(True)).order_by(StaffMember.id)).all()
        self.sales = [i for i, kind in staff if kind == "sales"] or [None]
        self.inspected = [i for i, kind in staff if kind in ("clerk", "security")]
        self.drinks = list(db.session.scalars(select(Product.id).where(
            Product.site_id == sid, Product.kind == "drink", Product.active.is_(True)).order_by(Product.id)))
        self.templates = {kind: tid for kind, tid in db.session.execute(
            select(ChecklistTemplate.kind, ChecklistTemplate.id).where(
                ChecklistTemplate.kind.in_(("opening", "closing")), ChecklistTemplate.active.is_(True),
                (ChecklistTemplate.site_id == sid) | ChecklistTemplate.site_id.is_(None)))}
        self.items = db.session.execute(select(Item.id, Item.expected_quantity).where(
            Item.site_id == sid, Item.active.is_(True)).order_by(Item.id)).all()
        self.areas = list(db.session.scalars(select(CleaningArea.id).where(CleaningArea.site_id == sid)))

    def write(self):
        self._visits_and_stock()
        self._checklists_and_item_checks()
        self._handover_cleaning_grooming()
        self._repairs_and_damage()

    def _rng(self, day, salt):
        return rng_for(f"{self.code}:{salt}", day)

    # ------------------------------------------------------------ visits, drinks, tallies
    def _visits_and_stock(self):
        sid, visits, served = self.site.id, [], []  # served: (visit index, product, qty, day, at)
        for day in self.days:
            rng = self._rng(day, "visits")
            mean = self.c.visitors_per_day[1 if day.weekday() >= 5 else 0]
            for _ in range(max(0, round(rng.gauss(mean, mean / 5)))):
                arrived = at(day, rng.randint(9, 17), rng.randint(0, 59))
                adults, children = rng.choice((1, 2, 2, 2, 3)), rng.choice((0, 0, 0, 1, 2))
                visits.append({"site_id": sid, "arrived_at": arrived, "created_at": arrived, "updated_at": arrived,
                               "left_at": arrived + timedelta(minutes=rng.randint(25, 100)), "adults": adults,
                               "children": children, "salesperson_id": rng.choice(self.sales),
                               "shuttle_used": rng.random() < 0.2, "departure_direction": "main_gate"})
                drinks = sum(1 for _ in range(adults + children) if rng.random() < self.c.drinks_per_visitor / 2) * 2
                for _ in range(drinks // 2 if self.drinks else 0):
                    served.append((len(visits) - 1, rng.choice(self.drinks), rng.choice((1, 1, 2)), day, arrived))
        visit_ids = _bulk(Visit, visits, returning=True)
        moves = [{"site_id": sid, "product_id": p, "kind": "served", "quantity": -q, "at": t, "day": d,
                  "visit_id": visit_ids[v], "created_at": t, "updated_at": t, "created_by_id": self.clerk}
                 for v, p, q, d, t in served]
        move_ids = _bulk(StockMovement, moves, returning=True)
        _bulk(ConsumptionLine, [{"site_id": sid, "visit_id": visit_ids[v], "product_id": p, "quantity": q,
                                 "movement_id": mid, "created_at": t, "updated_at": t}
                                for (v, p, q, d, t), mid in zip(served, move_ids, strict=True)])
        per_day = {}
        for _v, p, q, d, _t in served:
            per_day.setdefault(d, {}).setdefault(p, 0)
            per_day[d][p] += q
        self._tallies(per_day)

    def _tallies(self, per_day):
        """A tally per day. Each morning the fridge is refilled to what the day will need plus a
        small buffer; the 17:50 count books its variance as a correction. What is left at the
        end of the history stays in stock (added to the balance, so ledger and balance agree)."""
        sid, tallies, lines, moves = self.site.id, [], [], []
        stock = {p: 0 for p in self.drinks}  # the ledger before the history is empty
        for day in self.days:
            rng = self._rng(day, "tally")
            on_time = rng.random() < self.c.on_time_rate
            closed = at(day, 17, rng.randint(50, 70)) if on_time else at(day + timedelta(days=1), 9, rng.randint(0, 50))
            served = per_day.get(day, {})
            tallies.append({"site_id": sid, "day": day, "closed_at": closed, "closed_by_id": self.clerk,
                            "same_day": closed_same_day(day, closed, self.site.timezone),
                            "visits": 0, "visitors": 0, "drinks_served": sum(served.values()), "snacks_served": 0,
                            "created_at": closed, "updated_at": closed, "created_by_id": self.clerk})
            day_lines = []
            for p in self.drinks:
                opening, out = stock[p], served.get(p, 0)
                restock = max(0, out + rng.randint(6, 12) - opening)
                expected = opening + restock - out
                variance = rng.choice((-1, -1, 1, -2)) if out >= 3 and rng.random() > self.c.on_time_rate else 0
                variance = max(variance, -expected)
                if restock:
                    moves.append({"site_id": sid, "product_id": p, "kind": "restock", "quantity": restock,
                                  "at": at(day, 8, 45), "day": day, "reason": "早班补货", "created_by_id": self.clerk})
                if variance:
                    moves.append({"site_id": sid, "product_id": p, "kind": "correction", "quantity": variance,
                                  "at": closed, "day": day, "reason": "盘点差异", "created_by_id": self.clerk,
                                  "tally_index": len(tallies) - 1})
                day_lines.append({"site_id": sid, "product_id": p, "opening": opening, "restock": restock,
                                  "served": out, "wastage": 0, "corrections": 0, "expected": expected,
                                  "counted": expected + variance, "variance": variance})
                stock[p] = expected + variance
            lines.append(day_lines)
        tally_ids = _bulk(DailyTally, tallies, returning=True)
        for move in moves:
            index = move.pop("tally_index", None)
            move["tally_id"] = tally_ids[index] if index is not None else None
        _bulk(StockMovement, moves)
        _bulk(DailyTallyLine, [dict(line, tally_id=tid) for tid, day_lines in zip(tally_ids, lines, strict=True)
                               for line in day_lines])
        for product_id, left in stock.items():
            if left:
                stmt = update(StockBalance).where(StockBalance.product_id == product_id)
                if db.session.execute(stmt.values(qty=StockBalance.qty + left)).rowcount == 0:
                    db.session.add(StockBalance(site_id=sid, product_id=product_id, qty=left))

    # ------------------------------------------------------------ checklists and item checks
    def _checklists_and_item_checks(self):
        sid, runs, checks, check_lines = self.site.id, [], [], []
        deadlines = {"opening": 10, "closing": 18}
        for day in self.days:
            rng = self._rng(day, "checklists")
            for kind, template_id in sorted(self.templates.items()):
                hour = deadlines[kind]
                done = at(day, hour - 1, rng.randint(0, 55)) if rng.random() < self.c.on_time_rate \
                    else at(day, hour, rng.randint(5, 90))
                runs.append({"site_id": sid, "template_id": template_id, "kind": kind, "day": day,
                             "user_id": self.clerk, "status": "done", "completion": 100, "completed_at": done,
                             "created_at": done - timedelta(minutes=20), "updated_at": done})
            if not self.items:
                continue
            done = at(day, 9, rng.randint(0, 40))
            checks.append({"site_id": sid, "kind": "opening", "day": day, "user_id": self.clerk, "status": "done",
                           "completed_at": done, "created_at": done, "updated_at": done})
            for position, (item_id, expected) in enumerate(self.items):
                off = rng.random() < self.c.discrepancy_rate
                condition = rng.choice(("damaged", "missing")) if off else "ok"
                counted = expected - 1 if condition == "missing" else expected
                check_lines.append({"site_id": sid, "item_id": item_id, "day": day, "position": position,
                                    "expected_quantity": expected, "counted_quantity": counted,
                                    "condition": condition, "is_discrepancy": off, "dealt_with": off,
                                    "dealt_note": "已报修或补齐" if off else None, "created_at": done,
                                    "updated_at": done, "check_index": len(checks) - 1})
        _bulk(ChecklistRun, runs)
        check_ids = _bulk(ItemCheck, checks, returning=True)
        for line in check_lines:
            line["check_id"] = check_ids[line.pop("check_index")]
        _bulk(ItemCheckLine, check_lines)

    # ------------------------------------------------------------ handover, cleaning, grooming
    def _handover_cleaning_grooming(self):
        sid, entries, issues, inspections = self.site.id, [], [], []
        for day in self.days:
            rng = self._rng(day, "handover")
            for post, author in (("reception", self.clerk), ("door", self.guard)):
                written = at(day, 18, rng.randint(0, 40))
                late = rng.random() > self.c.on_time_rate
                signed = written + timedelta(hours=rng.randint(13, 30) if late else rng.uniform(0.2, 11.5))
                entries.append({"site_id": sid, "post": post, "author_id": author, "written_at": written,
                                "text": rng.choice(HANDOVER_TEXTS), "signed_by_id": self.clerk, "signed_at": signed,
                                "created_at": written, "updated_at": signed})
            if self.areas and rng.random() > self.c.cleanliness:
                raised = at(day, rng.randint(9, 15), rng.randint(0, 59))
                fixed = raised + timedelta(hours=rng.uniform(*self.c.hours_to_fix))
                issues.append({"site_id": sid, "area_id": rng.choice(self.areas), "description": "地面有水渍，需清理",
                               "due_at": raised + timedelta(hours=4), "status": "verified", "fixed_by_id": self.clerk,
                               "fixed_at": fixed, "verified_by_id": self.supervisor,
                               "verified_at": fixed + timedelta(hours=1), "created_at": raised, "updated_at": fixed})
            if day.weekday() in (1, 4):
                for staff_id in self.inspected:
                    when = at(day, 9, rng.randint(0, 30))
                    score = max(40, min(100, round(rng.gauss(self.c.grooming, 5))))
                    inspections.append({"site_id": sid, "staff_member_id": staff_id, "inspector_id": self.supervisor,
                                        "inspected_at": when, "score": score, "created_at": when, "updated_at": when})
        _bulk(HandoverEntry, entries)
        _bulk(CleaningIssue, issues)
        _bulk(GroomingInspection, inspections)

    # ------------------------------------------------------------ repairs and damage
    def _repairs_and_damage(self):
        sid, tickets, reports = self.site.id, [], []
        for day in self.days:
            rng = self._rng(day, "repairs")
            if rng.random() < self.c.repair_rate / 7:
                equipment, location, text = rng.choice(EQUIPMENT)
                priority = rng.choice(("urgent", "high", "normal", "normal", "low"))
                reported = at(day, rng.randint(9, 16), rng.randint(0, 59))
                due = reported + timedelta(hours=DUE_HOURS[priority])
                resolved = reported + timedelta(hours=DUE_HOURS[priority] * rng.uniform(0.2, 1.4))
                tickets.append({"site_id": sid, "equipment": equipment, "location": location, "description": text,
                                "priority": priority, "status": "closed", "due_at": due, "reporter_id": self.clerk,
                                "assignee_id": self.maintenance, "resolved_at": resolved,
                                "closed_at": resolved + timedelta(hours=2), "resolution": "已维修，恢复正常",
                                "created_at": reported, "updated_at": resolved})
            if rng.random() < 0.03:
                equipment, location, text = rng.choice(DAMAGE)
                visit_at = at(day, rng.randint(10, 16), rng.randint(0, 59))
                reports.append({"site_id": sid, "equipment": equipment, "location": location,
                                "visit_description": "带孩子的看房客户", "visit_at": visit_at, "description": text,
                                "estimated_cost": Decimal(rng.choice((80, 150, 300))), "status": "reviewed",
                                "reporter_id": self.guard, "salesperson_id": self.sales_user,
                                "sales_answer": "confirmed", "answered_at": visit_at + timedelta(hours=2),
                                "outcome": rng.choice(("waived", "compensated")), "reviewed_by_id": self.supervisor,
                                "reviewed_at": visit_at + timedelta(days=1), "created_at": visit_at,
                                "updated_at": visit_at + timedelta(days=1)})
        _bulk(RepairTicket, tickets)
        _bulk(DamageReport, reports)
