"""Development data of the handover book: an entry every evening of the demo week at SZ01 and
SZ02 (taken over as the rule says: by the next shift of its post, or - one clerk, one guard
per office - confirmed by its author at her next shift; items closed or carried forward; the
last evening's still waiting), the entries of the past days, and the benchmark's entries."""

from datetime import time, timedelta

from sqlalchemy import select

from portal.devdata.bench import CHUNK, stamped
from portal.devdata.history import at, bulk
from portal.devdata.org import demo_supervisor, first_login
from portal.devdata.roster import demo_week, local_at
from portal.extensions import db
from portal.models import HandoverEntry, HandoverItem, Shift, StaffMember
from portal.services import handover, roster

DEMO_ENTRIES = [
    (
        "今日接待客户 12 批，饮料消耗正常；样板房钥匙已交回前台。",
        ["二号洽谈区落地灯不亮，已报修待维修师傅上门"],
    ),
    ("上午音响有杂音，重启后正常；冰箱矿泉水剩 6 瓶，需补货。", ["明早补货矿泉水两箱"]),
    ("下午有团购客户预约，明天 10:00 到访 8 人，请提前准备茶水。", []),
    ("咖啡机已清洁；拖鞋 20 双已交保洁清洗。", ["大门右侧感应门偶尔不开，请继续观察"]),
    ("周末客流较大，沙发靠垫有一个污渍，已通知保洁。", []),
    ("窗帘遥控器电池没电，已更换；消毒柜正常。", ["前台打印机缺纸，已申请"]),
    ("晚班巡查完毕，门窗已关闭，空调和灯光已关闭。", []),
]
LAST_EVENING_ITEM = "明早 10:00 团购客户 8 人到访，提前备好茶水"
HISTORY_TEXTS = [
    "访客登记本已核对，无遗留。",
    "饮料库存已清点，矿泉水需补货。",
    "样板房钥匙已交回保险柜。",
    "晚间巡查完毕，门窗已锁好。",
    "明早有团购客户参观，请提前准备茶歇。",
]
BENCH_TEXTS = (
    "客户预约明早十点看样板房",
    "前台打印机缺纸，已报行政",
    "沙盘区灯带闪烁",
    "停车场东侧道闸反应慢",
    "水吧咖啡豆剩半袋",
    "下午有团购客户约二十人",
    "样板房B户型钥匙交至保安岗",
)


def seed(sites):
    for site, first, days in demo_week(sites):
        if db.session.scalar(
            select(HandoverEntry.id).where(HandoverEntry.site_id == site.id).limit(1)
        ):
            continue
        _evenings(site, first, days)
    db.session.flush()


def _evenings(site, first, days):
    """Clerk and guard write in turns at the end of their shift (the site's supervisor where
    neither has a login); the entry is taken over as the rule says (``_take_over``)."""
    supervisor = demo_supervisor(site)
    writers = [u for u in (first_login(site, "clerk"), first_login(site, "security")) if u]
    writers = writers or [supervisor]
    for i in range(days):
        day = first + timedelta(days=i)
        author = writers[i % len(writers)]
        text, items = DEMO_ENTRIES[i % len(DEMO_ENTRIES)]
        last = i == days - 1
        if last:
            items = items or [LAST_EVENING_ITEM]
        outgoing = roster.current_shift_of(author, site, local_at(site, day, 12))
        # Written half an hour before the shift ends (18:00; 12:30 on the door's short Sunday).
        written = outgoing.ends_at - timedelta(minutes=30) if outgoing else local_at(site, day, 18)
        post = outgoing.post if outgoing else "reception"
        incoming = roster.next_shift(site, post, written + timedelta(minutes=1))
        entry = handover.write_entry(
            site,
            author,
            text,
            items,
            post=post,
            outgoing_shift=outgoing,
            incoming_shift=incoming,
            at=written,
        )
        db.session.flush()
        if last:  # the last evening's entry waits for the next shift
            continue
        taker, at_ = _take_over(entry)
        if taker is None:
            continue
        handover.sign(entry, taker, at=at_)
        for item in list(entry.items):
            if i % 2:
                handover.close_item(item, taker, "已处理完毕", at=at_ + timedelta(hours=2))
            else:
                handover.carry_forward(item, taker, at=at_ + timedelta(minutes=5))


def _take_over(entry):
    """(who, when) takes the entry over: the first other person with a login on the next shift
    of its post, ten minutes into it; else the author alone on her post, ten minutes into her
    own next shift (her self-confirmation). (None, None) when the roster has neither."""
    for shift in handover.next_shift_people(entry):
        person = shift.staff_member.user
        if person is not None and person.id != entry.author_id:
            return person, shift.starts_at + timedelta(minutes=10)
    own = db.session.scalar(
        select(Shift)
        .join(StaffMember, Shift.staff_member_id == StaffMember.id)
        .where(
            StaffMember.user_id == entry.author_id,
            Shift.site_id == entry.site_id,
            Shift.starts_at > entry.written_at,
        )
        .order_by(Shift.starts_at)
        .limit(1)
    )
    if own is None:
        return None, None
    return entry.author, own.starts_at + timedelta(minutes=10)


def history(past):
    """Two entries an evening (reception and door). One clerk and one guard per office: each
    confirms her own entry at the start of her next shift (08:30 the next morning), some late
    (past the first hours of that shift)."""
    entries = []
    for day in past.days:
        rng = past.rng(day, "handover")
        for post, author in (("reception", past.clerk), ("door", past.guard)):
            # The past days' offices close at 21:00: written at the end of the late shift,
            # confirmed as the author's next shift starts at 08:30 (on time: within 12 hours).
            written = at(day, 20, 40 + rng.randint(0, 19))
            late = rng.random() > past.c.on_time_rate
            next_shift = at(day + timedelta(days=1), 8, 30)
            delay = rng.randint(13 * 60, 24 * 60) if late else rng.randint(1, 9)
            signed = next_shift + timedelta(minutes=delay)
            entries.append(
                {
                    "site_id": past.site.id,
                    "post": post,
                    "author_id": author,
                    "written_at": written,
                    "text": rng.choice(HISTORY_TEXTS),
                    "signed_by_id": author,
                    "signed_at": signed,
                    "created_at": written,
                    "updated_at": signed,
                }
            )
    bulk(HandoverEntry, entries)


def generate(ctx, per_day=(0, 2)):
    """~1 handover entry per site and day (signed but for the last day) with 0–2 items to
    follow."""
    entry_ids, entries, items = ctx.ids(HandoverEntry), [], []
    for day in ctx.each_day():
        for site_id in ctx.site_ids:
            for _ in range(ctx.rng.randint(*per_day)):
                entry_id, author = next(entry_ids), ctx.someone(site_id, ("clerk", "security"))
                when = ctx.moment(site_id, day, time(12, 0), time(21, 0))
                signed = day < ctx.end
                # Alone on the post, the author confirms it at the start of her next shift.
                signer = author if signed else None
                signed_at = (
                    ctx.moment(site_id, day + timedelta(days=1), time(8, 30), time(9, 30))
                    if signed
                    else None
                )
                entries.append(
                    {
                        "id": entry_id,
                        "site_id": site_id,
                        "post": "reception",
                        "author_id": author,
                        "outgoing_shift_id": None,
                        "incoming_shift_id": None,
                        "written_at": when,
                        "text": ctx.rng.choice(BENCH_TEXTS),
                        "signed_by_id": signer,
                        "signed_at": signed_at,
                        "deleted_at": None,
                        "deleted_by_id": None,
                        **stamped(when, author),
                    }
                )
                for _ in range(ctx.rng.choice((0, 0, 1, 2))):
                    closed = signed and ctx.rng.random() < 0.9
                    items.append(
                        {
                            "site_id": site_id,
                            "entry_id": entry_id,
                            "root_id": None,
                            "previous_id": None,
                            "text": ctx.rng.choice(BENCH_TEXTS),
                            "status": "closed" if closed else "open",
                            "carried_by_id": None,
                            "carried_at": None,
                            "closed_by_id": signer if closed else None,
                            "closed_at": signed_at + timedelta(hours=2) if closed else None,
                            "close_note": None,
                            **stamped(when, author),
                        }
                    )
        if len(entries) > CHUNK:
            ctx.insert(HandoverEntry, entries)
            ctx.insert(HandoverItem, items)
            entries, items = [], []
    ctx.insert(HandoverEntry, entries)
    ctx.insert(HandoverItem, items)
