"""Development data of the inventory: ~30 items per site, yesterday's completed item check
at SZ01 (with one discrepancy), the opening checks of the past days, and the benchmark's
items and checks."""

from datetime import timedelta

from sqlalchemy import select

from portal import clock
from portal.devdata.bench import local, stamp, stamped
from portal.devdata.history import at, bulk
from portal.extensions import db
from portal.models import Item, ItemCheck, ItemCheckLine
from portal.services import inventory

# name, category, location, expected quantity
ITEMS = [
    ("装饰摆件（陶瓷花瓶）", "decoration", "接待大厅", 4),
    ("装饰摆件（铜雕）", "decoration", "洽谈区", 2),
    ("绿植盆栽", "decoration", "接待大厅", 6),
    ("仿真花艺", "decoration", "前台", 3),
    ("音响主机", "audio_video", "音控室", 1),
    ("无线麦克风", "audio_video", "音控室", 2),
    ("吸顶音箱", "audio_video", "接待大厅", 6),
    ("电视（75 寸）", "audio_video", "洽谈区", 2),
    ("投影仪", "audio_video", "影音室", 1),
    ("遥控器", "audio_video", "前台", 4),
    ("沙发", "furniture", "洽谈区", 4),
    ("沙发垫", "furniture", "洽谈区", 12),
    ("洽谈椅子", "furniture", "洽谈区", 16),
    ("洽谈桌", "furniture", "洽谈区", 4),
    ("台布", "furniture", "洽谈区", 8),
    ("儿童椅", "furniture", "儿童区", 4),
    ("雨伞架", "furniture", "入口", 1),
    ("咖啡机", "appliance", "水吧", 1),
    ("冰箱", "appliance", "水吧", 1),
    ("饮水机", "appliance", "水吧", 2),
    ("消毒柜", "appliance", "水吧", 1),
    ("电热水壶", "appliance", "水吧", 1),
    ("大门钥匙", "key", "前台保险柜", 2),
    ("样板房钥匙", "key", "前台保险柜", 3),
    ("储物间钥匙", "key", "前台保险柜", 1),
    ("水晶吊灯", "lamp", "接待大厅", 1),
    ("台灯", "lamp", "洽谈区", 4),
    ("落地灯", "lamp", "洽谈区", 2),
    ("墙上挂画", "artwork", "接待大厅", 5),
    ("沙盘模型", "other", "沙盘区", 1),
    ("楼书展架", "other", "入口", 2),
]


def seed(sites):
    for site in sites.values():
        _items(site)
    db.session.flush()
    if "SZ01" in sites:
        _yesterday_at(sites["SZ01"])


def _items(site):
    if db.session.scalar(select(Item.id).where(Item.site_id == site.id).limit(1)) is not None:
        return
    for number, (name, category, location, quantity) in enumerate(ITEMS, start=1):
        db.session.add(
            Item(
                site=site,
                name=name,
                category=category,
                location=location,
                expected_quantity=quantity,
                asset_tag=f"{site.code}-{number:03d}",
                condition="ok",
            )
        )


def _yesterday_at(site):
    if (
        db.session.scalar(select(ItemCheck.id).where(ItemCheck.site_id == site.id).limit(1))
        is not None
    ):
        return
    day = clock.local_day(site) - timedelta(days=1)
    check = inventory.start_item_check(site, "opening", None, day)
    # One cushion missing: the discrepancy the supervisor sees in the demo.
    cushion = next(line for line in check.lines if line.item.name == "沙发垫")
    # Every count typed and every category confirmed, as the clerk does.
    counts = {line.id: {"counted": str(line.expected_quantity)} for line in check.lines}
    counts[cushion.id] = {"counted": "11", "condition": "missing", "note": "洽谈区少一个沙发垫"}
    inventory.save_lines(check, counts, confirmed=inventory.categories_of(check))
    inventory.complete_item_check(check)


def history(past):
    """The opening item check of every day; a few lines (the site's discrepancy rate) damaged
    or missing, and dealt with."""
    sid, checks, check_lines = past.site.id, [], []
    items = db.session.execute(
        select(Item.id, Item.expected_quantity)
        .where(Item.site_id == sid, Item.active.is_(True))
        .order_by(Item.id)
    ).all()
    if not items:
        return
    for day in past.days:
        rng = past.rng(day, "item_checks")
        done = at(day, 9, rng.randint(0, 40))
        checks.append(
            {
                "site_id": sid,
                "kind": "opening",
                "day": day,
                "user_id": past.clerk,
                "status": "done",
                "completed_at": done,
                "created_at": done,
                "updated_at": done,
            }
        )
        for position, (item_id, expected) in enumerate(items):
            off = rng.random() < past.c.discrepancy_rate
            condition = rng.choice(("damaged", "missing")) if off else "ok"
            counted = expected - 1 if condition == "missing" else expected
            check_lines.append(
                {
                    "site_id": sid,
                    "item_id": item_id,
                    "day": day,
                    "position": position,
                    "expected_quantity": expected,
                    "counted_quantity": counted,
                    "condition": condition,
                    "is_discrepancy": off,
                    "dealt_with": off,
                    "dealt_note": "已报修或补齐" if off else None,
                    "created_at": done,
                    "updated_at": done,
                    "check_index": len(checks) - 1,
                }
            )
    check_ids = bulk(ItemCheck, checks, returning=True)
    for line in check_lines:
        line["check_id"] = check_ids[line.pop("check_index")]
    bulk(ItemCheckLine, check_lines)


def generate(ctx):
    items = _generate_items(ctx)
    ctx.reseed("item_checks")
    _generate_checks(ctx, items)


def _generate_items(ctx, per_site=30):
    """30 items per site (the demo inventory list), asset-tagged; returns
    {site id: [(item id, expected quantity)]}."""
    ids, rows, items = ctx.ids(Item), [], {}
    for site_id in ctx.site_ids:
        items[site_id] = []
        for number, (name, category, location, quantity) in enumerate(ITEMS[:per_site], start=1):
            item_id = next(ids)
            items[site_id].append((item_id, quantity))
            rows.append(
                {
                    "id": item_id,
                    "site_id": site_id,
                    "name": name,
                    "category": category,
                    "location": location,
                    "expected_quantity": quantity,
                    "asset_tag": f"S{site_id}-{number:03d}",
                    "condition": "ok",
                    "active": True,
                    "deleted_at": None,
                    "deleted_by_id": None,
                    **stamp(ctx),
                }
            )
    ctx.insert(Item, rows)
    return items


def _generate_checks(ctx, items, every=14, recent=7):
    """Opening and closing item checks of every item, on every ``every``-th day and the last
    ``recent`` days (every day would be 4.4M lines at 200×365); ~2% of lines are
    discrepancies."""
    check_ids, checks, lines = ctx.ids(ItemCheck), [], []
    done = set(
        tuple(row)
        for row in db.session.execute(select(ItemCheck.site_id, ItemCheck.kind, ItemCheck.day))
    )
    days = [d for n, d in enumerate(ctx.each_day()) if n % every == 0 or n >= ctx.days - recent]
    for day in days:
        for site_id in ctx.site_ids:
            for kind, hour in (("opening", 9), ("closing", 18)):
                if (site_id, kind, day) in done:
                    continue
                check_id, user = next(check_ids), ctx.someone(site_id, ("clerk",))
                when = local(ctx, site_id, day, hour)
                checks.append(
                    {
                        "id": check_id,
                        "site_id": site_id,
                        "kind": kind,
                        "day": day,
                        "user_id": user,
                        "status": "done",
                        "completed_at": when,
                        **stamped(when, user),
                    }
                )
                for position, (item_id, expected) in enumerate(items.get(site_id, ()), start=1):
                    bad = ctx.rng.random() < 0.02
                    lines.append(
                        {
                            "site_id": site_id,
                            "check_id": check_id,
                            "item_id": item_id,
                            "day": day,
                            "position": position,
                            "expected_quantity": expected,
                            "counted_quantity": expected - 1 if bad else expected,
                            "condition": "missing" if bad else "ok",
                            "note": "少一件" if bad else None,
                            "is_discrepancy": bad,
                            "dealt_with": bad and day < ctx.end - timedelta(days=recent),
                            "dealt_note": None,
                            "dealt_by_id": None,
                            "dealt_at": None,
                            **stamped(when, user),
                        }
                    )
        ctx.insert(ItemCheck, checks)
        ctx.insert(ItemCheckLine, lines)
        checks, lines = [], []
