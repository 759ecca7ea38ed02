"""Inventory: item checks and discrepancies through the services, then over HTTP."""

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from portal.models import AuditEvent, Item, ItemCheck, ItemCheckLine, Site
from portal.services import inventory as svc
from tests import checklist_helpers
from tests.checklist_helpers import system
from tests.querycount import count_queries
from tests.refusals import refused

seeded = checklist_helpers.seeded  # the fixture

DAY = date(2026, 11, 27)


def _site(dbs, code):
    return dbs.scalar(select(Site).where(Site.code == code))


def _line(check, name):
    return next(line for line in check.lines if line.item.name == name)


def _count_the_rest(check):
    """What the clerk does before completing: type the count of every line that needs one (as
    expected) and tap "category checked" for every category."""
    svc.save_lines(
        check,
        {
            line.id: {"counted": str(line.expected_quantity)}
            for line in check.lines
            if line.needs_count
        },
        confirmed=svc.categories_of(check),
    )


# ------------------------------------------------------------------ services


def test_demo_items_are_realistic(seeded, dbs):
    items = dbs.scalars(select(Item).where(Item.site_id == seeded["SZ02"])).all()
    assert len(items) >= 30
    names = {i.name for i in items}
    assert {"沙盘模型", "咖啡机", "冰箱", "墙上挂画", "雨伞架", "消毒柜", "饮水机"} <= names
    assert {i.category for i in items} >= {
        "decoration",
        "audio_video",
        "furniture",
        "appliance",
        "key",
        "lamp",
        "artwork",
        "other",
    }


def test_a_new_check_is_prefilled_as_expected_and_ok(seeded, dbs):
    site = _site(dbs, "SZ02")
    sofa = dbs.scalar(select(Item).where(Item.site_id == site.id, Item.name == "洽谈椅子"))
    retired = dbs.scalar(select(Item).where(Item.site_id == site.id, Item.name == "楼书展架"))
    retired.active = False
    dbs.commit()
    check = svc.start_item_check(site, "closing", None, DAY)
    assert svc.start_item_check(site, "closing", None, DAY) is check  # one closing check per day
    assert "楼书展架" not in {line.item.name for line in check.lines}
    line = _line(check, "洽谈椅子")
    assert (line.expected_quantity, line.counted_quantity, line.condition) == (
        sofa.expected_quantity,
    ) * 2 + ("ok",)
    assert svc.discrepancies(check) == []
    # An item expected more than once waits for its typed count; a single one is pre-filled.
    assert sofa.expected_quantity > 1 and line.needs_count
    single = next(x for x in check.lines if x.expected_quantity == 1)
    assert not single.needs_count


def test_discrepancy_detection(seeded, dbs):
    site = _site(dbs, "SZ02")
    check = svc.start_item_check(site, "opening", None, DAY)
    chairs, lamp, fridge, keys = (_line(check, n) for n in ("洽谈椅子", "台灯", "冰箱", "大门钥匙"))
    svc.save_lines(
        check,
        {
            chairs.id: {
                "counted": str(chairs.expected_quantity - 1),
                "condition": "ok",
            },  # one short
            lamp.id: {
                "counted": str(lamp.expected_quantity),
                "condition": "damaged",
                "note": "灯罩破损",
            },
            fridge.id: {"counted": str(fridge.expected_quantity), "condition": "ok"},  # as expected
            keys.id: {
                "counted": str(keys.expected_quantity + 1),
                "condition": "ok",
            },  # one too many
        },
    )
    dbs.commit()
    assert {line.item.name for line in svc.discrepancies(check)} == {"洽谈椅子", "台灯", "大门钥匙"}
    assert chairs.is_discrepancy and lamp.is_discrepancy and not fridge.is_discrepancy
    assert lamp.note == "灯罩破损"
    # Not yet complete: the supervisor does not see it yet.
    assert svc.open_discrepancies(site) == []
    _count_the_rest(check)
    svc.complete_item_check(check)
    dbs.commit()
    assert {line.item.name for line in svc.open_discrepancies(site)} == {
        "洽谈椅子",
        "台灯",
        "大门钥匙",
    }
    assert (
        dbs.scalar(
            select(AuditEvent.id).where(
                AuditEvent.action == "complete",
                AuditEvent.object_type == "ItemCheck",
                AuditEvent.object_id == check.id,
            )
        )
        is not None
    )
    svc.deal_with(chairs, None, "在仓库找到")
    dbs.commit()
    assert {line.item.name for line in svc.open_discrepancies(site)} == {"台灯", "大门钥匙"}
    with refused():
        svc.save_lines(check, {fridge.id: {"counted": "0"}})


def test_bad_counts_are_refused_and_nothing_is_written(seeded, dbs):
    check = svc.start_item_check(_site(dbs, "SZ02"), "opening", None, DAY)
    dbs.commit()
    first, second = check.lines[0], check.lines[1]
    with refused() as exc:
        svc.save_lines(
            check, {first.id: {"counted": "0"}, second.id: {"counted": "-2", "condition": "lost"}}
        )
    assert set(exc.value.errors) == {second.id} and set(exc.value.errors[second.id]) == {
        "counted",
        "condition",
    }
    dbs.rollback()
    assert dbs.get(ItemCheckLine, first.id).counted_quantity == first.expected_quantity


def test_item_check_status_follows_the_tally_time(seeded, dbs):
    site = _site(dbs, "SZ02")
    morning = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)
    evening = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
    status = svc.item_check_status(site, DAY, now=morning)
    assert status["opening"]["state"] == "due" and status["closing"]["state"] == "upcoming"
    assert svc.item_check_status(site, DAY, now=evening)["closing"]["state"] == "due"
    check = svc.start_item_check(site, "opening", None, DAY)
    assert svc.item_check_status(site, DAY, now=morning)["opening"]["state"] == "in_progress"
    svc.save_lines(check, {check.lines[0].id: {"condition": "missing"}})
    _count_the_rest(check)
    svc.complete_item_check(check)
    done = svc.item_check_status(site, DAY, now=morning)["opening"]
    assert done["state"] == "done" and done["discrepancies"] == 1


# ------------------------------------------------------------------ HTTP


def _lines(app, check_id):
    with system(app) as s:
        return {
            line.item.name: (
                line.id,
                line.expected_quantity,
                line.counted_quantity,
                line.condition,
                line.is_discrepancy,
            )
            for line in s.get(ItemCheck, check_id).lines
        }


def _typed_counts_and_confirmations(app, check_id):
    """The form fields of a clerk who counted everything as expected and confirmed every
    category (the counts to type, and one "category checked" per category)."""
    with system(app) as s:
        check = s.get(ItemCheck, check_id)
        form = {
            f"counted-{line.id}": str(line.expected_quantity)
            for line in check.lines
            if line.needs_count
        }
        form["confirmed"] = svc.categories_of(check)
    return form


def test_clerk_does_the_closing_item_check_over_http(app, login, seeded):
    clerk = login("clerk_sz01")
    page = clerk.get("/item-checks/").get_data(as_text=True)
    assert "闭店物品确认" in page
    resp = clerk.post("/item-checks/start", {"site_id": seeded["SZ01"], "kind": "closing"})
    assert resp.status_code == 302
    url = resp.headers["Location"]
    check_id = int(url.rstrip("/").split("/")[-1])
    page = clerk.get(url).get_data(as_text=True)
    assert "沙盘模型" in page and "咖啡机" in page
    lines = _lines(app, check_id)
    cushion_id, expected = lines["沙发垫"][:2]
    # Only the exception is sent (radio buttons of untouched lines stay "OK").
    bad = clerk.post(url, {f"counted-{cushion_id}": "很多", "action": "save"})
    assert bad.status_code == 400 and "请输入 0 或以上的整数" in bad.get_data(as_text=True)
    assert _lines(app, check_id)["沙发垫"][2] == expected
    resp = clerk.post(
        url,
        {
            **_typed_counts_and_confirmations(app, check_id),
            f"counted-{cushion_id}": str(expected - 2),
            f"condition-{cushion_id}": "ok",
            f"note-{cushion_id}": "少两个",
            "action": "complete",
        },
    )
    assert resp.status_code == 302
    lines = _lines(app, check_id)
    assert lines["沙发垫"][2:] == (expected - 2, "ok", True)
    assert sum(1 for v in lines.values() if v[4]) == 1
    page = clerk.get(url).get_data(as_text=True)
    assert "1 项差异已提交主管" in page and 'id="complete-button"' not in page
    assert clerk.post(url, {f"counted-{cushion_id}": "0", "action": "save"}).status_code == 400

    # The supervisor sees it in his discrepancy list, filters it, and deals with it.
    sup = login("sup_south")
    listing = sup.get(f"/discrepancies/?flt0_site_equals={seeded['SZ01']}").get_data(as_text=True)
    assert "少两个" in listing
    assert "少两个" not in sup.get(f"/discrepancies/?flt0_site_equals={seeded['SZ02']}").get_data(
        as_text=True
    )
    with system(app) as s:
        day = s.get(ItemCheck, check_id).day
    today_list = sup.get(f"/discrepancies/?flt0_day_equals={day:%Y-%m-%d}").get_data(as_text=True)
    assert "少两个" in today_list and "洽谈区少一个沙发垫" not in today_list
    earlier = sup.get(
        f"/discrepancies/?flt0_day_equals={day - timedelta(days=1):%Y-%m-%d}"
    ).get_data(as_text=True)
    assert "少两个" not in earlier and "洽谈区少一个沙发垫" in earlier  # yesterday's demo check
    with system(app) as s:
        version = s.get(ItemCheckLine, cushion_id).version
    resp = sup.post(
        f"/discrepancies/edit/?id={cushion_id}",
        {"dealt_with": "y", "dealt_note": "已补齐", "version": version},
    )
    assert resp.status_code == 302
    with system(app) as s:
        line = s.get(ItemCheckLine, cushion_id)
        assert line.dealt_with and line.dealt_note == "已补齐" and line.dealt_by_id is not None


def test_item_check_scope_and_roles(app, login, seeded):
    clerk = login("clerk_sz01")
    url = clerk.post("/item-checks/start", {"site_id": seeded["SZ01"], "kind": "opening"}).headers[
        "Location"
    ]
    other = login("clerk_sh01")
    assert other.get(url).status_code == 404
    assert (
        other.post("/item-checks/start", {"site_id": seeded["SZ01"], "kind": "opening"}).status_code
        == 404
    )
    assert (
        clerk.post("/item-checks/start", {"site_id": seeded["SZ01"], "kind": "weekly"}).status_code
        == 400
    )
    assert login("guard_sz01").get(url).status_code == 403
    assert login("sales_sz01").get("/discrepancies/").status_code == 403
    sup = login("sup_south")
    assert sup.get(url).status_code == 200
    assert sup.post(url, {"action": "complete"}).status_code == 403
    # Supervisors of another region do not see SZ01's discrepancy lines.
    with system(app) as s:
        line_id = s.scalar(select(ItemCheckLine.id).where(ItemCheckLine.site_id == seeded["SZ01"]))
    east = login("sup_east")
    assert east.get(f"/discrepancies/edit/?id={line_id}").status_code == 404
    assert east.post(f"/discrepancies/edit/?id={line_id}", {"dealt_with": "y"}).status_code == 404


def test_deleting_an_item_keeps_it_for_past_checks(app, login, seeded):
    sup = login("sup_south")
    with system(app) as s:
        item_id = s.scalar(
            select(Item.id).where(Item.site_id == seeded["SZ01"], Item.name == "雨伞架")
        )
    assert sup.post("/item/delete/", {"id": item_id, "url": "/item/"}).status_code == 302
    with system(app) as s:
        row = s.execute(
            select(Item.deleted_at)
            .where(Item.id == item_id)
            .execution_options(include_deleted=True)
        ).one()
        assert row.deleted_at is not None
    assert login("clerk_sz01").get(f"/item/details/?id={item_id}").status_code == 404


def test_item_check_pages_query_counts_do_not_grow_with_items(app, login, seeded):
    clerk = login("clerk_sz01")
    url = clerk.post("/item-checks/start", {"site_id": seeded["SZ01"], "kind": "closing"}).headers[
        "Location"
    ]
    with count_queries(app) as q:
        assert clerk.get(url).status_code == 200
    assert q.count <= 10, "\n".join(s[:150] for s in q.statements)
    sup = login("sup_south")
    for path in ("/discrepancies/", "/item/", "/itemcheckrecord/", "/item-checks/"):
        with count_queries(app) as q:
            assert sup.get(path).status_code == 200
        assert q.count <= 14, (path, q.count, q.statements)


def test_today_sections_render(app, login, seeded):
    from flask import render_template
    from flask_login import login_user

    from portal.models import User
    from portal.services import today

    with app.test_request_context("/"):
        from portal.extensions import db

        user = db.session.scalar(select(User).where(User.username == "sup_south"))
        login_user(user)
        site = db.session.get(Site, seeded["SZ01"])
        sections = {
            s.key: (s, data) for s, data in today.sections_for(site, date(2026, 11, 27), user)
        }
        assert {
            "checklist_opening",
            "checklist_closing",
            "item_check_opening",
            "item_check_closing",
            "discrepancies",
        } <= set(sections)
        html = {
            key: render_template(section.template, data=data)
            for key, (section, data) in sections.items()
        }
        assert "沙发垫" in html["discrepancies"] and "/discrepancies/edit/" in html["discrepancies"]
        assert "card" in html["checklist_opening"] and "card" in html["item_check_closing"]
        guard = db.session.scalar(select(User).where(User.username == "guard_sz01"))
        keys = {s.key for s, _ in today.sections_for(site, date(2026, 11, 27), guard)}
        assert (
            "checklist_opening" in keys
            and "discrepancies" not in keys
            and "item_check_opening" not in keys
        )


def test_supervisor_marks_discrepancies_dealt_with_in_one_action(app, login, seeded):
    with system(app) as s:
        sz01 = s.scalar(
            select(ItemCheckLine.id).where(
                ItemCheckLine.site_id == seeded["SZ01"], ItemCheckLine.is_discrepancy.is_(True)
            )
        )
    # The east supervisor's action skips a line outside his region.
    east = login("sup_east")
    east.post("/discrepancies/action/", {"action": "dealt_with", "rowid": [sz01]})
    with system(app) as s:
        assert not s.get(ItemCheckLine, sz01).dealt_with
    assert (
        login("clerk_sz01")
        .post("/discrepancies/action/", {"action": "dealt_with", "rowid": [sz01]})
        .status_code
        == 403
    )
    sup = login("sup_south")
    page = sup.get(f"/discrepancies/edit/?id={sz01}").get_data(as_text=True)
    assert "沙发垫" in page and "洽谈区少一个沙发垫" in page
    resp = sup.post("/discrepancies/action/", {"action": "dealt_with", "rowid": [sz01]})
    assert resp.status_code == 302
    with system(app) as s:
        line = s.get(ItemCheckLine, sz01)
        assert line.dealt_with and line.dealt_at is not None
    assert "沙发垫" not in login("sup_south").get(
        "/discrepancies/?flt0_dealt_with_equals=0"
    ).get_data(as_text=True)
