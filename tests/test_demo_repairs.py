"""The demo repairs data: several states at SZ01/SZ02, a damage report, idempotent."""

from sqlalchemy import func, select

from portal import devdata
from portal.models import DamageReport, RepairEvent, RepairTicket


def test_demo_has_tickets_in_several_states_and_a_damage_report(app, dbs):
    devdata.seed_demo()
    devdata.seed_demo()  # idempotent
    tickets = dbs.scalars(select(RepairTicket)).all()
    assert len(tickets) == 6
    assert {t.status for t in tickets} >= {
        "new",
        "assigned",
        "in_progress",
        "waiting_parts",
        "resolved",
        "closed",
    }
    assert {t.site.code for t in tickets} == {"SZ01", "SZ02"}
    assert any(t.is_overdue() for t in tickets)
    assert dbs.scalar(select(func.count()).select_from(DamageReport)) == 1
    # every ticket has its timeline from the report on
    counts = dict(
        dbs.execute(
            select(RepairEvent.ticket_id, func.count()).group_by(RepairEvent.ticket_id)
        ).all()
    )
    assert all(counts[t.id] >= 1 for t in tickets)


def test_demo_users_see_their_demo_work(app, login):
    with app.app_context():
        devdata.seed_demo()
    page = login("maint_south").get("/repairs/").get_data(as_text=True)
    assert (
        "洽谈区空调" in page and "电动窗帘" in page and "沙盘区落地灯" not in page
    )  # the lamp is not assigned
    assert "样板房 A 户型装饰花瓶" in login("sales_sz01").get("/damage/").get_data(as_text=True)
    assert "陆家嘴" not in login("sup_south").get("/repairs/").get_data(as_text=True)
