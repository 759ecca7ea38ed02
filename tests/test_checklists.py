"""Checklists: the services directly, then the run page through real HTTP."""

from datetime import date, datetime, time, timezone
from decimal import Decimal

from sqlalchemy import func, select

from portal.models import (
    AuditEvent,
    ChecklistAnswer,
    ChecklistFollowUp,
    ChecklistRun,
    ChecklistTemplate,
    User,
)
from portal.services import checklists as svc
from tests import checklist_helpers
from tests.checklist_helpers import system
from tests.querycount import count_queries
from tests.refusals import refused

seeded = checklist_helpers.seeded  # the fixture

DAY = date(2026, 11, 27)


def _site(dbs, code):
    from portal.models import Site

    return dbs.scalar(select(Site).where(Site.code == code))


def _opening(dbs):
    return dbs.scalar(select(ChecklistTemplate).where(ChecklistTemplate.kind == "opening"))


def _clerk(dbs):
    return dbs.scalar(select(User).where(User.username == "clerk_sz01"))


def _items_by_kind(template):
    out = {}
    for item in template.items:
        out.setdefault(item.kind, []).append(item)
    return out


# ------------------------------------------------------------------ services


def test_demo_templates_follow_the_procedure(seeded, dbs):
    kinds = {
        t.kind: t
        for t in dbs.scalars(select(ChecklistTemplate).where(ChecklistTemplate.site_id.is_(None)))
    }
    assert set(kinds) == {"opening", "closing", "grooming"}
    opening = [i.label for i in kinds["opening"].items]
    assert any("交接班" in label for label in opening) and any("冰箱" in label for label in opening)
    closing = [i.label for i in kinds["closing"].items]
    assert any("拖鞋" in label for label in closing) and any("消毒柜" in label for label in closing)
    assert any("工牌" in i.label for i in kinds["grooming"].items)
    assert {i.kind for i in kinds["opening"].items} == {"yes_no", "number", "photo", "text"}


def test_start_save_half_way_and_complete(seeded, dbs):
    site, template = _site(dbs, "SZ02"), _opening(dbs)
    run = svc.start_run(site, template, _clerk(dbs), DAY)
    assert svc.start_run(site, template, _clerk(dbs), DAY) is run  # one opening run per day
    items = _items_by_kind(template)
    yes_no = items["yes_no"]
    svc.save_answers(run, {yes_no[0].id: "yes", yes_no[1].id: "no", items["number"][0].id: "23.5"})
    dbs.commit()
    assert run.completion == round(100 * 3 / len(template.items))
    # Saving again with other items keeps the first answers.
    svc.save_answers(run, {items["text"][0].id: "一切正常"})
    dbs.commit()
    answers = {
        a.item_id: a
        for a in dbs.scalars(select(ChecklistAnswer).where(ChecklistAnswer.run_id == run.id))
    }
    assert answers[yes_no[0].id].value_bool is True and answers[yes_no[1].id].value_bool is False
    assert answers[items["number"][0].id].value_number == Decimal("23.50")
    assert answers[items["text"][0].id].value_text == "一切正常"
    assert [i.id for i in svc.failed_items(run)] == [yes_no[1].id]

    svc.complete_run(run)
    dbs.commit()
    assert run.status == "done" and run.completed_at is not None
    assert run.completion == round(100 * 4 / len(template.items))
    event = dbs.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "complete",
            AuditEvent.object_id == run.id,
            AuditEvent.object_type == "ChecklistRun",
        )
    )
    assert event is not None and event.site_id == site.id
    with refused():
        svc.save_answers(run, {yes_no[2].id: "yes"})
    with refused():
        svc.complete_run(run)


def test_bad_answers_are_refused_and_nothing_is_written(seeded, dbs):
    template = _opening(dbs)
    run = svc.start_run(_site(dbs, "SZ02"), template, None, DAY)
    items = _items_by_kind(template)
    dbs.commit()
    with refused() as exc:
        svc.save_answers(
            run,
            {
                items["yes_no"][0].id: "yes",
                items["number"][0].id: "twelve",
                items["yes_no"][1].id: "maybe",
            },
        )
    assert set(exc.value.errors) == {items["number"][0].id, items["yes_no"][1].id}
    dbs.rollback()
    assert (
        dbs.scalar(
            select(func.count())
            .select_from(ChecklistAnswer)
            .where(ChecklistAnswer.run_id == run.id)
        )
        == 0
    )


def test_follow_up_on_a_failed_item(seeded, dbs):
    template = _opening(dbs)
    run = svc.start_run(_site(dbs, "SZ02"), template, None, DAY)
    item = template.items[1]
    svc.save_answers(run, {item.id: "no"})
    follow_up = svc.open_follow_up(run, item, "")
    dbs.commit()
    assert (
        follow_up.note == item.label
        and follow_up.status == "open"
        and follow_up.site_id == run.site_id
    )
    assert follow_up.target_type is None and follow_up.target_id is None
    closing = dbs.scalar(select(ChecklistTemplate).where(ChecklistTemplate.kind == "closing"))
    with refused():
        svc.open_follow_up(run, closing.items[0], "not on this list")


def test_due_checklists_opening_from_morning_closing_from_tally_time(seeded, dbs):
    site = _site(dbs, "SZ02")  # Asia/Shanghai, tally 17:50 = 09:50 UTC
    morning = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)
    evening = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
    due = svc.due_checklists(site, DAY, now=morning)
    assert due["opening"]["state"] == "due" and due["closing"]["state"] == "upcoming"
    assert due["closing"]["due_from"] == time(17, 50)
    assert svc.due_checklists(site, DAY, now=evening)["closing"]["state"] == "due"
    site.tally_time = time(19, 0)
    assert svc.due_checklists(site, DAY, now=evening)["closing"]["state"] == "upcoming"

    run = svc.start_run(site, _opening(dbs), None, DAY)
    assert svc.due_checklists(site, DAY, now=morning)["opening"]["state"] == "in_progress"
    svc.complete_run(run)
    done = svc.due_checklists(site, DAY, now=morning)["opening"]
    assert done["state"] == "done" and done["run"] is run


def test_a_site_template_wins_over_the_global_one(seeded, dbs):
    site = _site(dbs, "SZ02")
    own = ChecklistTemplate(name="前海开店检查", kind="opening", site=site)
    dbs.add(own)
    dbs.commit()
    assert svc.template_for(site, "opening") is own
    assert svc.template_for(_site(dbs, "SH01"), "opening").site_id is None


# ------------------------------------------------------------------ HTTP


def _template_info(app, kind="opening"):
    """(id, [(item id, kind, label)]) of the first template of this kind."""
    with system(app) as s:
        template = s.scalar(select(ChecklistTemplate).where(ChecklistTemplate.kind == kind))
        return template.id, [(i.id, i.kind, i.label) for i in template.items]


def _start(client, app, site_id, kind="opening"):
    template_id, items = _template_info(app, kind)
    resp = client.post("/checklists/start", {"site_id": site_id, "template_id": template_id})
    assert resp.status_code == 302, resp.status_code
    return resp.headers["Location"], template_id, items


def _ids(items, kind):
    return [i for i, k, _label in items if k == kind]


def test_clerk_runs_the_opening_checklist_over_http(app, login, seeded):
    clerk = login("clerk_sz01")
    page = clerk.get("/checklists/").get_data(as_text=True)
    assert "开店检查（早班）" in page and "开始" in page
    url, _tid, items = _start(clerk, app, seeded["SZ01"])
    yes_no, number = _ids(items, "yes_no"), _ids(items, "number")
    page = clerk.get(url).get_data(as_text=True)
    assert items[0][2] in page and 'value="yes"' in page

    resp = clerk.post(
        url, {f"item-{yes_no[0]}": "yes", f"item-{yes_no[1]}": "no", "action": "save"}
    )
    assert resp.status_code == 302
    page = clerk.get(url).get_data(as_text=True)
    assert f'name="item-{yes_no[0]}" value="yes" autocomplete="off" checked' in page
    assert f"fu-{yes_no[1]}" in page  # a follow-up button for the failed item

    bad = clerk.post(
        url, {f"item-{number[0]}": "abc", f"item-{yes_no[2]}": "yes", "action": "save"}
    )
    assert bad.status_code == 400
    assert "请输入数字" in bad.get_data(as_text=True)

    run_id = int(url.rstrip("/").split("/")[-1])
    resp = clerk.post(
        f"/checklists/run/{run_id}/follow-up", {"item_id": yes_no[1], "note": "台灯不亮"}
    )
    assert resp.status_code == 302
    with system(app) as s:
        assert (
            s.scalar(select(ChecklistFollowUp.note).where(ChecklistFollowUp.run_id == run_id))
            == "台灯不亮"
        )
        assert len(s.get(ChecklistRun, run_id).answers) == 2  # the refused save wrote nothing

    assert clerk.post(url, {"action": "complete"}).status_code == 302
    with system(app) as s:
        run = s.get(ChecklistRun, run_id)
        assert run.status == "done" and run.completion == round(100 * 2 / len(items))
        assert (
            s.scalar(
                select(AuditEvent.id).where(
                    AuditEvent.action == "complete", AuditEvent.object_id == run_id
                )
            )
            is not None
        )
    # A completed run is read-only: no form buttons, and a POST changes nothing.
    page = clerk.get(url).get_data(as_text=True)
    assert 'id="complete-button"' not in page and "只读" in page
    assert clerk.post(url, {f"item-{yes_no[2]}": "yes", "action": "save"}).status_code == 400
    with system(app) as s:
        assert len(s.get(ChecklistRun, run_id).answers) == 2


def test_scope_and_roles_on_run_pages(app, login, seeded):
    clerk = login("clerk_sz01")
    url, template_id, _items = _start(clerk, app, seeded["SZ01"])
    # Another site's clerk: the run does not exist for her, nor can she start one at SZ01.
    other = login("clerk_sh01")
    assert other.get(url).status_code == 404
    assert other.post(url, {"action": "complete"}).status_code == 404
    assert (
        other.post(
            "/checklists/start", {"site_id": seeded["SZ01"], "template_id": template_id}
        ).status_code
        == 404
    )
    assert other.get("/checklists/run/99999999").status_code == 404
    # The supervisor reads but does not fill in; sales has no access.
    sup = login("sup_south")
    page = sup.get(url)
    assert page.status_code == 200 and 'id="complete-button"' not in page.get_data(as_text=True)
    assert sup.post(url, {"action": "complete"}).status_code == 403
    assert login("sales_sz01").get(url).status_code == 403
    assert login("maint_south").get("/checklists/").status_code == 403
    # Security runs the opening checklist but not custom ones.
    guard = login("guard_sz01")
    assert guard.post(url, {"action": "save"}).status_code == 302
    custom_id, _ = _template_info(app, "custom")
    assert (
        guard.post(
            "/checklists/start", {"site_id": seeded["SZ01"], "template_id": custom_id}
        ).status_code
        == 403
    )
    # CSRF is required.
    assert clerk.post(url, {"action": "save"}, csrf=False).status_code == 400
    with system(app) as s:
        assert (
            s.scalar(select(ChecklistRun.status).where(ChecklistRun.id == int(url.split("/")[-1])))
            == "open"
        )


def _template_named(app, name):
    with system(app) as s:
        template = s.scalar(select(ChecklistTemplate).where(ChecklistTemplate.name == name))
        return (
            None
            if template is None
            else (template.site_id, [(i.label, i.kind, i.site_id) for i in template.items])
        )


def test_supervisor_edits_site_templates_but_not_global_ones(app, login, seeded):
    sup = login("sup_south")
    resp = sup.post(
        "/checklisttemplate/new/",
        {"name": "前海周检", "kind": "custom", "site": seeded["SZ02"], "active": "y"},
    )
    assert resp.status_code == 302
    assert _template_named(app, "前海周检")[0] == seeded["SZ02"]
    resp = sup.post(
        "/checklisttemplate/new/", {"name": "全国模板", "kind": "custom", "site": "", "active": "y"}
    )
    assert resp.status_code == 400
    assert "客户服务中心" in resp.get_data(as_text=True)
    assert _template_named(app, "全国模板") is None
    # A site outside his region is refused.
    resp = sup.post(
        "/checklisttemplate/new/", {"name": "上海模板", "kind": "custom", "site": seeded["SH01"]}
    )
    assert resp.status_code in (400, 404)
    assert _template_named(app, "上海模板") is None


def test_admin_adds_items_inline(app, login, seeded):
    admin = login("admin")
    resp = admin.post(
        "/checklisttemplate/new/",
        {
            "name": "展厅巡查",
            "kind": "custom",
            "site": seeded["SZ01"],
            "active": "y",
            "items-0-position": "1",
            "items-0-label": "展厅灯光正常",
            "items-0-kind": "yes_no",
            "items-0-active": "y",
            "items-1-position": "2",
            "items-1-label": "展厅温度",
            "items-1-kind": "number",
            "items-1-active": "y",
        },
    )
    assert resp.status_code == 302
    site_id, items = _template_named(app, "展厅巡查")
    assert items == [
        ("展厅灯光正常", "yes_no", seeded["SZ01"]),
        ("展厅温度", "number", seeded["SZ01"]),
    ]


def test_run_list_and_run_page_query_counts(app, login, seeded):
    clerk = login("clerk_sz01")
    url, _tid, _items = _start(clerk, app, seeded["SZ01"])
    clerk.get(url)
    with count_queries(app) as q:
        assert clerk.get(url).status_code == 200
    assert q.count <= 12, q.statements
    with count_queries(app) as q:
        assert clerk.get("/checklistrun/").status_code == 200
    assert q.count <= 10, q.statements
    with count_queries(app) as q:
        assert clerk.get("/checklists/").status_code == 200
    assert q.count <= 16, q.statements


def test_an_answered_item_cannot_be_deleted_from_its_template(app, login, seeded):
    clerk = login("clerk_sz01")
    url, template_id, items = _start(clerk, app, seeded["SZ01"], kind="custom")
    first = items[0][0]
    assert clerk.post(url, {f"item-{first}": "yes", "action": "save"}).status_code == 302
    admin = login("admin")
    with system(app) as s:
        template = s.get(ChecklistTemplate, template_id)
        data = {
            "name": template.name,
            "kind": template.kind,
            "site": template.site_id,
            "active": "y",
            "version": template.version,
        }
        for n, item in enumerate(template.items):
            data.update(
                {
                    f"items-{n}-id": item.id,
                    f"items-{n}-position": item.position,
                    f"items-{n}-label": item.label,
                    f"items-{n}-kind": item.kind,
                    f"items-{n}-active": "y",
                }
            )
    data["del-items-0"] = "y"
    resp = admin.post(f"/checklisttemplate/edit/?id={template_id}", data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "取消“启用”" in body, body[
        body.find("alert") : body.find("alert") + 600
    ]
    assert len(_template_named(app, _template_name(app, template_id))[1]) == len(items)


def _template_name(app, template_id):
    with system(app) as s:
        return s.get(ChecklistTemplate, template_id).name


def test_follow_up_is_closed_by_the_supervisor(app, login, seeded):
    clerk = login("clerk_sz01")
    url, _tid, items = _start(clerk, app, seeded["SZ01"])
    failed = _ids(items, "yes_no")[0]
    clerk.post(url, {f"item-{failed}": "no", "action": "save"})
    run_id = int(url.split("/")[-1])
    clerk.post(f"/checklists/run/{run_id}/follow-up", {"item_id": failed, "note": "窗帘卡住"})
    with system(app) as s:
        follow_up_id = s.scalar(
            select(ChecklistFollowUp.id).where(ChecklistFollowUp.run_id == run_id)
        )
    close = f"/checklists/run/{run_id}/follow-up/{follow_up_id}/close"
    assert login("guard_sz01").post(close).status_code == 403
    assert login("sup_east").post(close).status_code == 404
    assert login("sup_south").post(close).status_code == 302
    with system(app) as s:
        assert s.get(ChecklistFollowUp, follow_up_id).status == "closed"
    page = clerk.get(url).get_data(as_text=True)
    assert "窗帘卡住" in page and "已关闭" in page


def test_run_export_is_plain_text(login, seeded):
    resp = login("sup_south").get("/checklistrun/export/csv/")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "开店检查（早班）" in body and "<a " not in body
