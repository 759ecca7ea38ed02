"""Demo data of checklists and inventory: the procedure's opening, closing and grooming
lists (global), a custom list of SZ01, ~30 items per site, and yesterday's completed
opening checklist and item check at SZ01 (with one discrepancy)."""
from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import ChecklistItem, ChecklistRun, ChecklistTemplate, Item, ItemCheck
from portal.services import checklists, inventory

OPENING = ("开店检查（早班）", [
    ("阅读交接班记录本，签收或转交未完成事项", "yes_no"),
    ("打开并检查所有灯具（台灯除外）", "yes_no"),
    ("窗帘开启正常", "yes_no"),
    ("音响、视频设备开启并检查正常", "yes_no"),
    ("室内地面、玻璃、装饰摆件清洁", "yes_no"),
    ("室外地面、玻璃、装饰清洁", "yes_no"),
    ("冰箱饮料、小食已清点", "yes_no"),
    ("冰箱饮料数量（瓶）", "number"),
    ("安全员已在门口就位迎宾", "yes_no"),
    ("沙盘模型灯光拍照留存", "photo"),
    ("其他情况说明", "text"),
])
CLOSING = ("闭店检查（下班前）", [
    ("门窗已关闭", "yes_no"),
    ("窗帘已拉上", "yes_no"),
    ("当天使用的拖鞋已交保洁清洗", "yes_no"),
    ("杯具已放入消毒柜", "yes_no"),
    ("咖啡机已清洗（如当天使用）", "yes_no"),
    ("空调已关闭", "yes_no"),
    ("灯光及电器已关闭", "yes_no"),
    ("其他情况说明", "text"),
])
GROOMING = ("仪容仪表检查", [
    ("工装干净整洁，佩戴工牌", "yes_no"),
    ("穿肉色丝袜、黑色皮鞋", "yes_no"),
    ("指甲短而整洁，只涂浅色指甲油", "yes_no"),
    ("最多佩戴一枚戒指", "yes_no"),
    ("耳环小巧", "yes_no"),
    ("淡妆，暖色调", "yes_no"),
    ("头发整齐", "yes_no"),
    ("站姿坐姿端正，不闲聊、手机调振动", "yes_no"),
])
SZ01_CUSTOM = ("样板房巡查（深圳湾）", [
    ("样板房门锁完好", "yes_no"),
    ("样板房鞋套充足", "yes_no"),
    ("样板房灯光、空调正常", "yes_no"),
])

# name, category, location, expected quantity
ITEMS = [
    ("装饰摆件（陶瓷花瓶）", "decoration", "接待大厅", 4), ("装饰摆件（铜雕）", "decoration", "洽谈区", 2),
    ("绿植盆栽", "decoration", "接待大厅", 6), ("仿真花艺", "decoration", "前台", 3),
    ("音响主机", "audio_video", "音控室", 1), ("无线麦克风", "audio_video", "音控室", 2),
    ("吸顶音箱", "audio_video", "接待大厅", 6), ("电视（75 寸）", "audio_video", "洽谈区", 2),
    ("投影仪", "audio_video", "影音室", 1), ("遥控器", "audio_video", "前台", 4),
    ("沙发", "furniture", "洽谈区", 4), ("沙发垫", "furniture", "洽谈区", 12),
    ("洽谈椅子", "furniture", "洽谈区", 16), ("洽谈桌", "furniture", "洽谈区", 4),
    ("台布", "furniture", "洽谈区", 8), ("儿童椅", "furniture", "儿童区", 4),
    ("雨伞架", "furniture", "入口", 1), ("咖啡机", "appliance", "水吧", 1),
    ("冰箱", "appliance", "水吧", 1), ("饮水机", "appliance", "水吧", 2),
    ("消毒柜", "appliance", "水吧", 1), ("电热水壶", "appliance", "水吧", 1),
    ("大门钥匙", "key", "前台保险柜", 2), ("样板房钥匙", "key", "前台保险柜", 3),
    ("储物间钥匙", "key", "前台保险柜", 1), ("水晶吊灯", "lamp", "接待大厅", 1),
    ("台灯", "lamp", "洽谈区", 4), ("落地灯", "lamp", "洽谈区", 2),
    ("墙上挂画", "artwork", "接待大厅", 5), ("沙盘模型", "other", "沙盘区", 1),
    ("楼书展架", "other", "入口", 2),
]


def _template(name, kind, items, site=None):
    template = db.session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.name == name))
    if template is None:
        template = ChecklistTemplate(name=name, kind=kind, site=site, active=True)
        for position, (label, item_kind) in enumerate(items, start=1):
            template.items.append(ChecklistItem(position=position, label=label, kind=item_kind, site=site))
        db.session.add(template)
    return template


def _items(site):
    if db.session.scalar(select(Item.id).where(Item.site_id == site.id).limit(1)) is not None:
        return
    for number, (name, category, location, quantity) in enumerate(ITEMS, start=1):
        db.session.add(Item(site=site, name=name, category=category, location=location,
                            expected_quantity=quantity, asset_tag=f"{site.code}-{number:03d}", condition="ok"))


def _yesterday_at_sz01(site, opening):
    day = checklists.site_today(site) - timedelta(days=1)
    if db.session.scalar(select(ChecklistRun.id).where(ChecklistRun.site_id == site.id).limit(1)) is None:
        run = checklists.start_run(site, opening, None, day)
        checklists.save_answers(run, {i.id: {"number": "24", "text": ""}.get(i.kind, "yes")
                                      for i in opening.items})
        checklists.complete_run(run)
    if db.session.scalar(select(ItemCheck.id).where(ItemCheck.site_id == site.id).limit(1)) is None:
        check = inventory.start_item_check(site, "opening", None, day)
        # One cushion missing: the discrepancy the supervisor sees in the demo.
        cushion = next(line for line in check.lines if line.item.name == "沙发垫")
        inventory.save_lines(check, {cushion.id: {"counted": "11", "condition": "missing", "note": "洽谈区少一个沙发垫"}})
        inventory.complete_item_check(check)


def seed(sites):
    opening = _template(OPENING[0], "opening", OPENING[1])
    _template(CLOSING[0], "closing", CLOSING[1])
    _template(GROOMING[0], "grooming", GROOMING[1])
    if "SZ01" in sites:
        _template(SZ01_CUSTOM[0], "custom", SZ01_CUSTOM[1], site=sites["SZ01"])
    for site in sites.values():
        _items(site)
    db.session.flush()
    if "SZ01" in sites:
        _yesterday_at_sz01(sites["SZ01"], opening)
