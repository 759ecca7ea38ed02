"""Development data of checklists: the procedure's opening, closing and grooming lists
(global) and a custom list of SZ01; yesterday's completed opening checklist at SZ01; the runs
of the past days; the benchmark's runs with some answers."""

from datetime import timedelta

from sqlalchemy import select

from portal import clock
from portal.devdata.bench import CHUNK, local, stamp, stamped
from portal.devdata.history import at, bulk
from portal.extensions import db
from portal.models import ChecklistAnswer, ChecklistItem, ChecklistRun, ChecklistTemplate
from portal.services import checklists

OPENING = (
    "开店检查（早班）",
    [
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
    ],
)
CLOSING = (
    "闭店检查（下班前）",
    [
        ("门窗已关闭", "yes_no"),
        ("窗帘已拉上", "yes_no"),
        ("当天使用的拖鞋已交保洁清洗", "yes_no"),
        ("杯具已放入消毒柜", "yes_no"),
        ("咖啡机已清洗（如当天使用）", "yes_no"),
        ("空调已关闭", "yes_no"),
        ("灯光及电器已关闭", "yes_no"),
        ("其他情况说明", "text"),
    ],
)
GROOMING = (
    "仪容仪表检查",
    [
        ("工装干净整洁，佩戴工牌", "yes_no"),
        ("穿肉色丝袜、黑色皮鞋", "yes_no"),
        ("指甲短而整洁，只涂浅色指甲油", "yes_no"),
        ("最多佩戴一枚戒指", "yes_no"),
        ("耳环小巧", "yes_no"),
        ("淡妆，暖色调", "yes_no"),
        ("头发整齐", "yes_no"),
        ("站姿坐姿端正，不闲聊、手机调振动", "yes_no"),
    ],
)
SZ01_CUSTOM = (
    "样板房巡查（深圳湾）",
    [
        ("样板房门锁完好", "yes_no"),
        ("样板房鞋套充足", "yes_no"),
        ("样板房灯光、空调正常", "yes_no"),
    ],
)
# The hour by which each kind of run is due (the history's on-time share).
DEADLINES = {"opening": 10, "closing": 18}


def seed(sites):
    opening = _template(*OPENING, "opening")
    _template(*CLOSING, "closing")
    _template(*GROOMING, "grooming")
    if "SZ01" in sites:
        _template(*SZ01_CUSTOM, "custom", site=sites["SZ01"])
    db.session.flush()
    if "SZ01" in sites:
        _yesterday_at(sites["SZ01"], opening)


def _template(name, items, kind, site=None):
    template = db.session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.name == name))
    if template is None:
        template = ChecklistTemplate(name=name, kind=kind, site=site, active=True)
        for position, (label, item_kind) in enumerate(items, start=1):
            template.items.append(
                ChecklistItem(position=position, label=label, kind=item_kind, site=site)
            )
        db.session.add(template)
    return template


def _yesterday_at(site, opening):
    if (
        db.session.scalar(select(ChecklistRun.id).where(ChecklistRun.site_id == site.id).limit(1))
        is not None
    ):
        return
    run = checklists.start_run(site, opening, None, clock.local_day(site) - timedelta(days=1))
    checklists.save_answers(
        run, {i.id: {"number": "24", "text": ""}.get(i.kind, "yes") for i in opening.items}
    )
    checklists.complete_run(run)


def history(past):
    """An opening and a closing run a day, mostly done before their deadline."""
    sid, runs = past.site.id, []
    templates = dict(
        db.session.execute(
            select(ChecklistTemplate.kind, ChecklistTemplate.id).where(
                ChecklistTemplate.kind.in_(tuple(DEADLINES)),
                ChecklistTemplate.active.is_(True),
                (ChecklistTemplate.site_id == sid) | ChecklistTemplate.site_id.is_(None),
            )
        ).all()
    )
    for day in past.days:
        rng = past.rng(day, "checklists")
        for kind, template_id in sorted(templates.items()):
            hour = DEADLINES[kind]
            done = (
                at(day, hour - 1, rng.randint(0, 55))
                if rng.random() < past.c.on_time_rate
                else at(day, hour, rng.randint(5, 90))
            )
            runs.append(
                {
                    "site_id": sid,
                    "template_id": template_id,
                    "kind": kind,
                    "day": day,
                    "user_id": past.clerk,
                    "status": "done",
                    "completion": 100,
                    "completed_at": done,
                    "created_at": done - timedelta(minutes=20),
                    "updated_at": done,
                }
            )
    bulk(ChecklistRun, runs)


def generate(ctx, answers_per_run=3):
    """An opening and a closing run per site and day, done by a clerk. Only the first
    ``answers_per_run`` items are answered (the full 8–11 would add ~1.4M rows at 200×365)."""
    templates = [
        ("opening", *_template_items(ctx, *OPENING, "opening")),
        ("closing", *_template_items(ctx, *CLOSING, "closing")),
    ]
    run_ids, runs, answers = ctx.ids(ChecklistRun), [], []
    for day in ctx.each_day():
        for site_id in ctx.site_ids:
            for kind, template_id, items in templates:
                run_id, user = next(run_ids), ctx.someone(site_id, ("clerk",))
                hour = 9 if kind == "opening" else 18
                when = local(ctx, site_id, day, hour, ctx.rng.randrange(30))
                runs.append(
                    {
                        "id": run_id,
                        "site_id": site_id,
                        "template_id": template_id,
                        "kind": kind,
                        "day": day,
                        "user_id": user,
                        "status": "done",
                        "completion": round(100 * min(answers_per_run, len(items)) / len(items)),
                        "completed_at": when,
                        **stamped(when, user),
                    }
                )
                for item_id, item_kind in items[:answers_per_run]:
                    answers.append(
                        {
                            "site_id": site_id,
                            "run_id": run_id,
                            "item_id": item_id,
                            "value_bool": ctx.rng.random() > 0.03
                            if item_kind == "yes_no"
                            else None,
                            "value_number": ctx.rng.randint(0, 30)
                            if item_kind == "number"
                            else None,
                            "value_text": None,
                            "photo_name": None,
                            **stamped(when, user),
                        }
                    )
        if len(answers) > CHUNK * 4:
            ctx.insert(ChecklistRun, runs)
            ctx.insert(ChecklistAnswer, answers)
            runs, answers = [], []
    ctx.insert(ChecklistRun, runs)
    ctx.insert(ChecklistAnswer, answers)


def _template_items(ctx, name, items, kind):
    """A global checklist template (the demo's) and its items: [(item id, kind)]."""
    template_id = db.session.scalar(
        select(ChecklistTemplate.id).where(ChecklistTemplate.name == name)
    )
    if template_id is None:
        template_id = next(ctx.ids(ChecklistTemplate))
        ctx.insert(
            ChecklistTemplate,
            [
                {
                    "id": template_id,
                    "site_id": None,
                    "name": name,
                    "kind": kind,
                    "active": True,
                    "description": None,
                    "deleted_at": None,
                    "deleted_by_id": None,
                    **stamp(ctx),
                }
            ],
        )
        ctx.insert(
            ChecklistItem,
            [
                {
                    "site_id": None,
                    "template_id": template_id,
                    "position": n,
                    "label": label,
                    "kind": item_kind,
                    "active": True,
                    **stamp(ctx),
                }
                for n, (label, item_kind) in enumerate(items, start=1)
            ],
        )
    rows = db.session.execute(
        select(ChecklistItem.id, ChecklistItem.kind)
        .where(ChecklistItem.template_id == template_id)
        .order_by(ChecklistItem.position)
    ).all()
    return template_id, rows
