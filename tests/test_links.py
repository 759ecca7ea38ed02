"""Links between the domains, end to end over HTTP: items ↔ repair tickets, visits ↔ damage
reports, checklist "no" → repair ticket / cleaning issue, item-check discrepancy → repair ticket /
damage report. Each: one click writes the linked record, both pages show the link; another
site's record is refused (400, nothing written); roles unchanged; query counts constant."""

from datetime import timedelta

from sqlalchemy import func, select

from portal.models import (
    ChecklistFollowUp,
    ChecklistTemplate,
    CleaningIssue,
    DamageReport,
    Item,
    ItemCheckLine,
    RepairTicket,
    StaffMember,
    User,
    Visit,
    utcnow,
)
from portal.services import repairs
from tests import checklist_helpers
from tests.checklist_helpers import system
from tests.querycount import count_queries
from tests.refusals import refused

seeded = (
    checklist_helpers.seeded
)  # the fixture: demo organisation + checklists + items (+ a discrepancy at SZ01)


def _item(app, code_id, name):
    with system(app) as s:
        return s.scalar(select(Item.id).where(Item.site_id == code_id, Item.name == name))


def _count(app, model):
    with system(app) as s:
        return s.scalar(select(func.count()).select_from(model))


def _visit(app, site_id, minutes_ago=30, salesperson="黄俊杰", adults=2, children=1):
    with system(app) as s:
        staff = s.scalar(
            select(StaffMember).where(
                StaffMember.site_id == site_id, StaffMember.name == salesperson
            )
        )
        visit = Visit(
            site_id=site_id,
            arrived_at=utcnow() - timedelta(minutes=minutes_ago),
            adults=adults,
            children=children,
            salesperson_id=staff.id if staff else None,
        )
        s.add(visit)
        s.commit()
        return visit.id


# ------------------------------------------------------------------ item ↔ repair ticket


def test_report_a_fault_for_an_item_and_both_pages_link(app, login, seeded):
    lamp = _item(app, seeded["SZ01"], "台灯")
    clerk = login("clerk_sz01")
    form = clerk.get(f"/repairs/new/?item={lamp}").get_data(as_text=True)
    assert f'<option selected value="{lamp}">台灯' in form and "<optgroup" in form
    resp = clerk.post(
        "/repairs/new/",
        {
            "site": seeded["SZ01"],
            "item": lamp,
            "equipment": "",
            "description": "灯泡不亮",
            "priority": "normal",
        },
    )
    assert resp.status_code == 302
    with system(app) as s:
        ticket = s.scalar(select(RepairTicket).where(RepairTicket.item_id == lamp))
        assert ticket.equipment == "台灯" and ticket.site_id == seeded["SZ01"]
        ticket_id = ticket.id
    page = clerk.get(f"/repairs/{ticket_id}/").get_data(as_text=True)
    assert f"/item/details/?id={lamp}" in page
    item_page = clerk.get(f"/item/details/?id={lamp}").get_data(as_text=True)
    assert f"/repairs/{ticket_id}/" in item_page and f"/repairs/new/?item={lamp}" in item_page
    # Maintenance sees the item named but cannot open the item list (role rules unchanged).
    worker_page = login("maint_south").get(f"/repairs/{ticket_id}/")
    assert worker_page.status_code in (200, 404)


def test_another_sites_item_is_refused_and_nothing_written(app, login, seeded, dbs):
    other = _item(app, seeded["SZ02"], "台灯")
    before = _count(app, RepairTicket)
    for user in ("clerk_sz01", "sup_south"):
        resp = login(user).post(
            "/repairs/new/",
            {
                "site": seeded["SZ01"],
                "item": other,
                "equipment": "台灯",
                "description": "x",
                "priority": "normal",
            },
        )
        assert resp.status_code == 400 and "请选择本售楼处的物品" in resp.get_data(as_text=True)
    assert _count(app, RepairTicket) == before
    assert login("clerk_sz01").get(f"/repairs/new/?item={other}").status_code == 404
    # The service refuses it too, whoever calls it.
    sz01 = dbs.scalar(select(Item).where(Item.id == other)).site
    with refused():
        repairs.report(
            dbs.get(type(sz01), seeded["SZ01"]),
            dbs.scalar(select(User).where(User.username == "sup_south")),
            "",
            "x",
            "normal",
            item=dbs.get(Item, other),
        )


def test_free_text_equipment_still_works(app, login, seeded):
    resp = login("clerk_sz01").post(
        "/repairs/new/",
        {
            "site": seeded["SZ01"],
            "item": 0,
            "equipment": "咖啡机",
            "description": "漏水",
            "priority": "high",
        },
    )
    assert resp.status_code == 302
    resp = login("clerk_sz01").post(
        "/repairs/new/",
        {
            "site": seeded["SZ01"],
            "item": 0,
            "equipment": "",
            "description": "漏水",
            "priority": "high",
        },
    )
    assert resp.status_code == 400 and "请填写故障设备" in resp.get_data(as_text=True)


# ------------------------------------------------------------------ visit ↔ damage report


def test_damage_report_for_a_visit_asks_its_salesperson(app, login, seeded):
    visit_id = _visit(app, seeded["SZ01"])
    old = _visit(app, seeded["SZ01"], minutes_ago=5 * 24 * 60)
    vase = _item(app, seeded["SZ01"], "装饰摆件（陶瓷花瓶）")
    clerk = login("clerk_sz01")
    form = clerk.get("/damage/new/").get_data(as_text=True)
    visits = form.split('id="visit"')[1].split("</select>")[0]
    assert f'value="{visit_id}"' in visits and "2/1 · 黄俊杰" in visits
    assert f'value="{old}"' not in visits  # older than the last two days
    resp = clerk.post(
        "/damage/new/",
        {
            "site": seeded["SZ01"],
            "visit": visit_id,
            "item": vase,
            "salesperson": 0,
            "description": "小朋友碰倒花瓶",
            "estimated_cost": "200",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with system(app) as s:
        report = s.scalar(select(DamageReport).where(DamageReport.visit_id == visit_id))
        assert report.item_id == vase and report.salesperson.username == "sales_sz01"
        assert (
            report.equipment == "装饰摆件（陶瓷花瓶）"
            and "2/1 · 黄俊杰" in report.visit_description
        )
        report_id = report.id
    page = clerk.get(f"/damage/{report_id}/").get_data(as_text=True)
    assert f"/visit/details/?id={visit_id}" in page and f"/item/details/?id={vase}" in page
    assert f"/damage/{report_id}/" in clerk.get(f"/visit/details/?id={visit_id}").get_data(
        as_text=True
    )
    assert f"/damage/{report_id}/" in clerk.get(f"/item/details/?id={vase}").get_data(as_text=True)
    # The salesperson confirms from his own login; he sees it on his visit's page.
    sales = login("sales_sz01")
    assert f"/damage/{report_id}/" in sales.get(f"/visit/details/?id={visit_id}").get_data(
        as_text=True
    )
    assert sales.post(f"/damage/{report_id}/confirm", {"note": ""}).status_code == 302
    # One click: the repair ticket is for the same item.
    assert clerk.post(f"/damage/{report_id}/repair", {"priority": "normal"}).status_code == 302
    with system(app) as s:
        assert (
            s.scalar(
                select(RepairTicket.item_id).where(
                    RepairTicket.id == s.get(DamageReport, report_id).repair_ticket_id
                )
            )
            == vase
        )


def test_visit_without_salesperson_falls_back_to_the_chosen_one(app, login, seeded):
    visit_id = _visit(app, seeded["SZ01"], salesperson=None)
    clerk = login("clerk_sz01")
    data = {
        "site": seeded["SZ01"],
        "visit": visit_id,
        "item": 0,
        "equipment": "沙发",
        "salesperson": 0,
        "description": "沙发划痕",
    }
    resp = clerk.post("/damage/new/", data)
    assert resp.status_code == 400 and "请选择本次接待的销售员" in resp.get_data(as_text=True)
    with system(app) as s:
        sales_id = s.scalar(select(User.id).where(User.username == "sales_sz01"))
    assert clerk.post("/damage/new/", {**data, "salesperson": sales_id}).status_code == 302
    with system(app) as s:
        assert (
            s.scalar(select(DamageReport.salesperson_id).where(DamageReport.visit_id == visit_id))
            == sales_id
        )


def test_another_sites_visit_or_item_is_refused_and_nothing_written(app, login, seeded):
    other_visit = _visit(app, seeded["SZ02"], salesperson="林晓东")
    other_item = _item(app, seeded["SZ02"], "沙发")
    before = _count(app, DamageReport)
    for user in ("clerk_sz01", "sup_south"):
        client = login(user)
        resp = client.post(
            "/damage/new/",
            {
                "site": seeded["SZ01"],
                "visit": other_visit,
                "item": 0,
                "equipment": "沙发",
                "description": "x",
                "salesperson": 0,
            },
        )
        assert resp.status_code == 400 and "请选择本售楼处的接待记录" in resp.get_data(as_text=True)
        resp = client.post(
            "/damage/new/",
            {
                "site": seeded["SZ01"],
                "visit": 0,
                "item": other_item,
                "description": "x",
                "visit_description": "一家三口",
                "visit_at": "2026-11-27T10:00",
            },
        )
        assert resp.status_code == 400 and "请选择本售楼处的物品" in resp.get_data(as_text=True)
    assert _count(app, DamageReport) == before
    assert login("clerk_sz01").get(f"/damage/new/?site={seeded['SZ02']}").status_code == 404


# --------------------------------------------------------------- checklist "no" → repair / cleaning


def _opening_run(app, client, site_id):
    with system(app) as s:
        template = s.scalar(select(ChecklistTemplate).where(ChecklistTemplate.kind == "opening"))
        items = {i.label: i.id for i in template.items}
    resp = client.post("/checklists/start", {"site_id": site_id, "template_id": template.id})
    return resp.headers["Location"], items


def test_checklist_no_reports_a_repair_named_by_the_item(app, login, seeded):
    clerk = login("clerk_sz01")
    url, items = _opening_run(app, clerk, seeded["SZ01"])
    lamps, floor = items["打开并检查所有灯具（台灯除外）"], items["室内地面、玻璃、装饰摆件清洁"]
    clerk.post(url, {f"item-{lamps}": "no", f"item-{floor}": "no", "action": "save"})
    page = clerk.get(url).get_data(as_text=True)
    # Every yes/no item offers 报修 once answered "no"; 保洁整改 only on cleanliness.
    assert f'value="repair-{lamps}"' in page and f'value="cleaning-{floor}"' in page
    assert f'value="cleaning-{lamps}"' not in page
    run_id = int(url.rstrip("/").split("/")[-1])
    resp = clerk.post(
        f"/checklists/run/{run_id}/follow-up", {"item_id": lamps, "kind": "repair", "note": ""}
    )
    # 报修 asks which item, where and how urgent before a ticket exists.
    form_url = f"/checklists/run/{run_id}/repair/{lamps}"
    assert resp.status_code in (302, 303) and resp.headers["Location"].endswith(form_url)
    with system(app) as s:
        assert s.scalar(select(ChecklistFollowUp).where(ChecklistFollowUp.item_id == lamps)) is None
    resp = clerk.post(
        form_url,
        {"item": "0", "equipment": "落地灯", "fault": "不亮", "location": "沙盘旁",
         "priority": "normal", "description": "灯具检查：落地灯不亮"},
    )
    assert resp.status_code == 302
    with system(app) as s:
        follow_up = s.scalar(select(ChecklistFollowUp).where(ChecklistFollowUp.item_id == lamps))
        ticket = s.get(RepairTicket, follow_up.target_id)
        assert follow_up.target_type == "repair" and ticket.equipment == "落地灯 不亮"
        assert ticket.site_id == seeded["SZ01"] and ticket.reporter.username == "clerk_sz01"
        ticket_id = ticket.id
    assert f"/repairs/{ticket_id}/" in clerk.get(url).get_data(as_text=True)

    resp = clerk.post(
        f"/checklists/run/{run_id}/follow-up",
        {"item_id": floor, "kind": "cleaning", "note": "地面有水渍"},
    )
    assert resp.status_code == 302
    with system(app) as s:
        follow_up = s.scalar(select(ChecklistFollowUp).where(ChecklistFollowUp.item_id == floor))
        issue = s.get(CleaningIssue, follow_up.target_id)
        assert (
            follow_up.target_type == "cleaning"
            and issue.status == "open"
            and "地面有水渍" in issue.description
        )
        assert (
            issue.area.name == "Floor"
            and issue.result.inspection.inspector.username == "clerk_sz01"
        )
        issue_id = issue.id
    assert f"/cleaning_issue/details/?id={issue_id}" in clerk.get(url).get_data(as_text=True)


def test_checklist_follow_up_rules(app, login, seeded):
    clerk = login("clerk_sz01")
    url, items = _opening_run(app, clerk, seeded["SZ01"])
    lamps, curtains = items["打开并检查所有灯具（台灯除外）"], items["窗帘开启正常"]
    clerk.post(url, {f"item-{lamps}": "no", f"item-{curtains}": "yes", "action": "save"})
    run_id = int(url.rstrip("/").split("/")[-1])
    before = (_count(app, RepairTicket), _count(app, CleaningIssue), _count(app, ChecklistFollowUp))
    # Answered "yes": no repair; not about cleanliness: no cleaning issue.
    assert (
        clerk.post(
            f"/checklists/run/{run_id}/follow-up", {"item_id": curtains, "kind": "repair"}
        ).status_code
        == 400
    )
    assert (
        clerk.post(
            f"/checklists/run/{run_id}/follow-up", {"item_id": lamps, "kind": "cleaning"}
        ).status_code
        == 400
    )
    # Another site's clerk and the supervisor (who does not run checklists) cannot.
    assert (
        login("clerk_sz02")
        .post(f"/checklists/run/{run_id}/follow-up", {"item_id": lamps, "kind": "repair"})
        .status_code
        == 404
    )
    assert (
        login("sup_south")
        .post(f"/checklists/run/{run_id}/follow-up", {"item_id": lamps, "kind": "repair"})
        .status_code
        == 403
    )
    assert (
        _count(app, RepairTicket),
        _count(app, CleaningIssue),
        _count(app, ChecklistFollowUp),
    ) == before


# -------------------------------------------------------- item-check discrepancy → repair / damage


def _discrepancy(app, site_id):
    with system(app) as s:
        line = s.scalar(
            select(ItemCheckLine).where(
                ItemCheckLine.site_id == site_id, ItemCheckLine.is_discrepancy.is_(True)
            )
        )
        return line.id, line.item_id, line.check_id


def test_discrepancy_opens_a_repair_ticket_in_one_click(app, login, seeded):
    line_id, item_id, check_id = _discrepancy(app, seeded["SZ01"])
    sup = login("sup_south")
    listing = sup.get(f"/discrepancies/?flt0_site_equals={seeded['SZ01']}").get_data(as_text=True)
    assert (
        f"/item-checks/line/{line_id}/repair" in listing
        and f"/damage/new/?item={item_id}&amp;line={line_id}" in listing
    )
    assert f"/item-checks/line/{line_id}/repair" in sup.get(f"/item-checks/{check_id}").get_data(
        as_text=True
    )
    assert login("clerk_sz01").post(f"/item-checks/line/{line_id}/repair").status_code == 403
    assert login("sup_east").post(f"/item-checks/line/{line_id}/repair").status_code == 404
    resp = sup.post(f"/item-checks/line/{line_id}/repair")
    assert resp.status_code == 302
    with system(app) as s:
        line = s.get(ItemCheckLine, line_id)
        ticket = s.get(RepairTicket, line.repair_ticket_id)
        assert ticket.item_id == item_id and line.dealt_with and str(ticket) in line.dealt_note
        assert "物品核查发现：实盘 11，应有 12，状态：缺失" in ticket.description
        ticket_id = ticket.id
    assert f"/repairs/{ticket_id}/" in sup.get(
        f"/discrepancies/?flt0_site_equals={seeded['SZ01']}"
    ).get_data(as_text=True)
    assert f"/repairs/{ticket_id}/" in sup.get(f"/item-checks/{check_id}").get_data(as_text=True)
    # A second click does not open a second ticket.
    before = _count(app, RepairTicket)
    sup.post(f"/item-checks/line/{line_id}/repair")
    assert _count(app, RepairTicket) == before


def test_discrepancy_opens_a_damage_report(app, login, seeded):
    line_id, item_id, _check = _discrepancy(app, seeded["SZ01"])
    visit_id = _visit(app, seeded["SZ01"])
    sup = login("sup_south")
    form = sup.get(f"/damage/new/?item={item_id}&line={line_id}").get_data(as_text=True)
    assert f'<option selected value="{item_id}">' in form and f'value="{line_id}"' in form
    resp = sup.post(
        "/damage/new/",
        {
            "site": seeded["SZ01"],
            "item": item_id,
            "visit": visit_id,
            "salesperson": 0,
            "line": line_id,
            "description": "开店核查发现损坏",
        },
    )
    assert resp.status_code == 302
    with system(app) as s:
        line = s.get(ItemCheckLine, line_id)
        report = s.get(DamageReport, line.damage_report_id)
        assert report.item_id == item_id and report.visit_id == visit_id and line.dealt_with
        report_id = report.id
    assert f"/damage/{report_id}/" in sup.get(
        f"/discrepancies/?flt0_site_equals={seeded['SZ01']}"
    ).get_data(as_text=True)


# ------------------------------------------------------------------ query counts


def test_touched_pages_query_counts_stay_constant(app, login, seeded):
    sup = login("sup_south")
    clerk = login("clerk_sz01")
    lamp = _item(app, seeded["SZ01"], "台灯")

    def counts():
        result = {}
        for name, client, url in (
            ("discrepancies", sup, f"/discrepancies/?flt0_site_equals={seeded['SZ01']}"),
            ("item", clerk, f"/item/details/?id={lamp}"),
            ("repair_form", clerk, "/repairs/new/"),
            ("damage_form", clerk, "/damage/new/"),
        ):
            with count_queries(app) as q:
                assert client.get(url).status_code == 200
            result[name] = q.count
        return result

    counts()  # warm: the filter dropdowns are read on the first view only
    first = counts()
    for i in range(5):  # more tickets, visits, reports: the pages make the same number of queries
        _visit(app, seeded["SZ01"], minutes_ago=10 + i)
        clerk.post(
            "/repairs/new/",
            {"site": seeded["SZ01"], "item": lamp, "description": f"故障{i}", "priority": "low"},
        )
    assert counts() == first
    assert max(first.values()) <= 25


# --------------------------------------------------------------- photos on checklists and cleaning


def _photos(app, owner_type):
    from portal.models import Photo

    with system(app) as s:
        return [
            (p.id, p.owner_id)
            for p in s.scalars(select(Photo).where(Photo.owner_type == owner_type))
        ]


def test_checklist_photo_item_takes_a_real_photo(app, login, seeded):
    import io

    from tests.repairs_helpers import image_bytes

    clerk = login("clerk_sz01")
    url, items = _opening_run(app, clerk, seeded["SZ01"])
    photo_item = items["沙盘模型灯光拍照留存"]
    page = clerk.get(url).get_data(as_text=True)
    assert (
        f'name="photo-{photo_item}"' in page
        and "upload pending" not in page
        and 'capture="environment"' in page
    )
    # Not an image: refused next to the item, nothing written.
    bad = clerk.post(
        url, {f"photo-{photo_item}": (io.BytesIO(b"<?php ?>"), "a.jpg"), "action": "save"}
    )
    assert bad.status_code == 400 and _photos(app, "checklist_answer") == []
    resp = clerk.post(
        url, {f"photo-{photo_item}": (io.BytesIO(image_bytes()), "sand.jpg"), "action": "save"}
    )
    assert resp.status_code == 302
    [(photo_id, answer_id)] = _photos(app, "checklist_answer")
    with system(app) as s:
        from portal.models import ChecklistAnswer

        answer = s.get(ChecklistAnswer, answer_id)
        assert answer.item_id == photo_item and answer.value_bool is True
    assert f"/photos/{photo_id}/thumb" in clerk.get(url).get_data(as_text=True)
    assert clerk.get(f"/photos/{photo_id}/thumb").status_code == 200
    assert login("sup_south").get(f"/photos/{photo_id}").status_code == 200
    assert login("clerk_sz02").get(f"/photos/{photo_id}").status_code == 404  # another site
    assert (
        login("maint_south").get(f"/photos/{photo_id}").status_code == 404
    )  # role that does not read checklists


def test_cleaning_inspection_result_takes_an_optional_photo(app, login, seeded):
    import io

    from portal.models import CleaningArea
    from portal.services import cleaning
    from tests.repairs_helpers import image_bytes

    with system(app) as s:
        from portal.models import Site

        cleaning.ensure_default_areas(s.get(Site, seeded["SZ01"]))
        s.commit()
        areas = s.scalars(
            select(CleaningArea.id)
            .where(CleaningArea.site_id == seeded["SZ01"])
            .order_by(CleaningArea.position)
        ).all()
        cleaner = s.scalar(
            select(StaffMember.id).where(
                StaffMember.site_id == seeded["SZ01"], StaffMember.kind == "cleaner"
            )
        )
    clerk = login("clerk_sz01")
    url = f"/cleaning/inspect?site={seeded['SZ01']}"
    assert f'name="photo-{areas[0]}"' in clerk.get(url).get_data(as_text=True)
    data = {f"area-{a}": "pass" for a in areas}
    data.update(
        {
            f"area-{areas[0]}": "fail",
            f"note-{areas[0]}": "地面有水渍",
            "cleaner": cleaner,
            f"photo-{areas[0]}": (io.BytesIO(image_bytes()), "floor.jpg"),
        }
    )
    resp = clerk.post(url, data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    [(photo_id, result_id)] = _photos(app, "cleaning_result")
    with system(app) as s:
        from portal.models import CleaningResult

        assert s.get(CleaningResult, result_id).area_id == areas[0]
    assert f"/photos/{photo_id}/thumb" in clerk.get(f"/cleaning/?site={seeded['SZ01']}").get_data(
        as_text=True
    )
    assert login("clerk_sz02").get(f"/photos/{photo_id}").status_code == 404
    assert login("sales_sz01").get(f"/photos/{photo_id}").status_code == 404


def test_demo_tickets_point_at_items_and_the_damage_report_at_a_visit(app, dbs):
    from portal import devdata

    devdata.seed_demo()
    linked = dbs.scalars(select(RepairTicket).where(RepairTicket.item_id.is_not(None))).all()
    assert {t.item.name for t in linked} == {"落地灯", "咖啡机", "音响主机"}
    assert all(t.item.site_id == t.site_id for t in linked)
    report = dbs.scalar(select(DamageReport))
    assert (
        report.visit is not None
        and report.visit.site_id == report.site_id
        and report.item.name == "装饰摆件（陶瓷花瓶）"
    )
    assert report.visit.salesperson.user_id == report.salesperson_id
