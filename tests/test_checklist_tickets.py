"""Repair tickets reported from a failed checklist answer: the short form, its prefill, the
ticket it makes (titled by the item, not the question), scope and bad input, over HTTP."""

import subprocess
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.models import (
    ChecklistAnswer,
    ChecklistFollowUp,
    ChecklistTemplate,
    Item,
    RepairTicket,
    Site,
)
from portal.services import checklists as svc
from tests import checklist_helpers
from tests.checklist_helpers import system

seeded = checklist_helpers.seeded  # the fixture

LAMPS = "打开并检查所有灯具（台灯除外）"


def _item_id(s, code, name):
    site_id = s.scalar(select(Site.id).where(Site.code == code))
    return s.scalar(select(Item.id).where(Item.site_id == site_id, Item.name == name))


@pytest.fixture
def lamps_failed(app, seeded):
    """SZ01's opening run of today with the lamps question answered "no" (saved)."""
    with system(app) as s:
        site = s.scalar(select(Site).where(Site.code == "SZ01"))
        template = s.scalar(select(ChecklistTemplate).where(ChecklistTemplate.kind == "opening"))
        lamps = next(i for i in template.items if i.label == LAMPS)
        run = svc.start_run(site, template, None, clock.local_day(site))
        svc.save_answers(run, {lamps.id: "no"})
        s.commit()
        return {
            "run": run.id,
            "item": lamps.id,
            "url": f"/checklists/run/{run.id}/repair/{lamps.id}",
            "chandelier": _item_id(s, "SZ01", "水晶吊灯"),
            "other_site_item": _item_id(s, "SZ02", "水晶吊灯"),
        }


def _form(case, **changes):
    data = {
        "item": case["chandelier"],
        "equipment": "",
        "fault": "不亮",
        "location": "",
        "priority": "urgent",
        "description": f"{LAMPS} — 吊灯一半灯泡不亮",
    }
    data.update(changes)
    return data


def _count(s, model):
    return s.scalar(select(func.count()).select_from(model))


def test_the_repair_button_of_a_failed_answer_opens_a_prefilled_form(app, login, lamps_failed):
    clerk = login("clerk_sz01")
    run_url = f"/checklists/run/{lamps_failed['run']}"
    page = clerk.get(run_url).get_data(as_text=True)
    assert f'value="repair-{lamps_failed["item"]}"' in page  # 报修 on the failed answer
    # Tapping it (with the answers on the page and a note) saves them and opens the form.
    other = _other_yes_no(app, lamps_failed["item"])
    resp = clerk.post(
        run_url,
        {
            f"item-{lamps_failed['item']}": "no",
            f"item-{other}": "yes",
            f"note-{lamps_failed['item']}": "吊灯一半灯泡不亮",
            "action": f"repair-{lamps_failed['item']}",
        },
    )
    assert resp.status_code == 303
    target = urlparse(resp.headers["Location"])
    assert target.path == lamps_failed["url"]
    assert parse_qs(target.query)["note"] == ["吊灯一半灯泡不亮"]
    with system(app) as s:
        assert s.scalar(
            select(ChecklistAnswer.value_bool).where(
                ChecklistAnswer.run_id == lamps_failed["run"], ChecklistAnswer.item_id == other
            )
        )
        assert _count(s, RepairTicket) == 0  # nothing reported yet: the form asks first
    form = clerk.get(resp.headers["Location"])
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert "报修" in html and "其他设备" in html and "故障简述" in html
    assert f"{LAMPS} — 吊灯一半灯泡不亮</textarea>" in html  # description: question + note
    assert '<option selected value="normal">普通</option>' in html
    assert ">水晶吊灯 · 接待大厅</option>" in html  # the site's item list


def _other_yes_no(app, lamps_id):
    with system(app) as s:
        template = s.scalar(select(ChecklistTemplate).where(ChecklistTemplate.kind == "opening"))
        return next(i.id for i in template.items if i.kind == "yes_no" and i.id != lamps_id)


def test_the_ticket_is_titled_by_the_item_and_linked_to_it_and_the_answer(app, login, lamps_failed):
    clerk = login("clerk_sz01")
    resp = clerk.post(lamps_failed["url"], _form(lamps_failed))
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"#item-{lamps_failed['item']}")
    with system(app) as s:
        ticket = s.scalar(select(RepairTicket))
        assert ticket.equipment == "水晶吊灯 不亮"  # not the question
        assert ticket.item_id == lamps_failed["chandelier"]
        assert ticket.location == "接待大厅"  # the item's, none having been written
        assert ticket.priority == "urgent"
        assert ticket.description == f"{LAMPS} — 吊灯一半灯泡不亮"
        follow_up = s.scalar(select(ChecklistFollowUp))
        assert (follow_up.run_id, follow_up.item_id) == (lamps_failed["run"], lamps_failed["item"])
        assert (follow_up.target_type, follow_up.target_id) == ("repair", ticket.id)
        ticket_id = ticket.id
    page = clerk.get(f"/checklists/run/{lamps_failed['run']}").get_data(as_text=True)
    assert f"报修单 #{ticket_id} 水晶吊灯 不亮 已提交。" in page
    assert f'href="/repairs/{ticket_id}/"' in page
    detail = clerk.get(f"/repairs/{ticket_id}/").get_data(as_text=True)
    assert "水晶吊灯 不亮" in detail and "接待大厅" in detail and "紧急" in detail
    listing = clerk.get("/repairs/").get_data(as_text=True)
    assert "水晶吊灯 不亮" in listing
    # One ticket per answer: a second report is refused.
    again = clerk.post(lamps_failed["url"], _form(lamps_failed))
    assert again.status_code == 400 and "这一项已经报修过了" in again.get_data(as_text=True)
    with system(app) as s:
        assert _count(s, RepairTicket) == 1


def test_other_equipment_and_a_written_location(app, login, lamps_failed):
    clerk = login("clerk_sz01")
    data = _form(lamps_failed, item="0", equipment="沙盘旁落地灯", location="沙盘区东侧")
    assert clerk.post(lamps_failed["url"], data).status_code == 302
    with system(app) as s:
        ticket = s.scalar(select(RepairTicket))
        assert (ticket.equipment, ticket.item_id, ticket.location) == (
            "沙盘旁落地灯 不亮",
            None,
            "沙盘区东侧",
        )


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"item": "0", "equipment": ""}, "请选择物品，或在“其他设备”中填写设备名称。"),
        ({"fault": " "}, "请简要写明故障，例如：不亮。"),
        ({"fault": "不" * 61}, "最多"),
        ({"description": ""}, "请描述故障情况。"),
        ({"priority": "whenever"}, "请选择优先级。"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_nothing_is_made(
    app, login, lamps_failed, changes, message
):
    clerk = login("clerk_sz01")
    resp = clerk.post(lamps_failed["url"], _form(lamps_failed, **changes))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in html and "有些内容需要更正" in html
    with system(app) as s:
        assert _count(s, RepairTicket) == 0 and _count(s, ChecklistFollowUp) == 0


def test_items_of_another_site_and_runs_out_of_scope_answer_404(app, login, lamps_failed):
    clerk = login("clerk_sz01")
    other = _form(lamps_failed, item=lamps_failed["other_site_item"])
    assert clerk.post(lamps_failed["url"], other).status_code == 404
    assert clerk.post(lamps_failed["url"], _form(lamps_failed, item="99999")).status_code == 404
    # Head office sees every site: an SZ02 item is still not one of this run's site.
    assert login("admin").post(lamps_failed["url"], other).status_code == 404
    # Another site's clerk does not see the run at all.
    outsider = login("clerk_sz02")
    assert outsider.get(lamps_failed["url"]).status_code == 404
    assert outsider.post(lamps_failed["url"], _form(lamps_failed)).status_code == 404
    with system(app) as s:
        assert _count(s, RepairTicket) == 0


def test_only_a_failed_answer_reports_a_repair(app, login, lamps_failed):
    clerk = login("clerk_sz01")
    other = _other_yes_no(app, lamps_failed["item"])
    url = f"/checklists/run/{lamps_failed['run']}/repair/{other}"
    resp = clerk.post(url, _form(lamps_failed))
    assert resp.status_code == 400 and "只有回答“否”的项目才能报修" in resp.get_data(as_text=True)
    with system(app) as s:
        assert _count(s, RepairTicket) == 0


def test_the_month_report_pdf_names_the_item_not_the_question(app, login, lamps_failed):
    from portal.reports import pdf
    from portal.services import report_data

    assert login("clerk_sz01").post(lamps_failed["url"], _form(lamps_failed)).status_code == 302
    with system(app) as s:
        site = s.scalar(select(Site).where(Site.code == "SZ01"))
        data = report_data.site_month(site.id, clock.local_day(site).replace(day=1))
        document = pdf.site_report_pdf(data)
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=document, capture_output=True, check=True
    ).stdout.decode()
    assert "水晶吊灯 不亮" in text
    assert "台灯除外" not in text


def test_follow_up_buttons_work_before_anything_is_saved(app, login, seeded):
    """A fresh run: every yes/no item carries its buttons (shown on "no" while filling in); a
    cleaning issue tapped on an unsaved "no" saves the answers typed so far with it."""
    from portal.models import CleaningIssue

    clerk = login("clerk_sz01")
    with system(app) as s:
        template = s.scalar(select(ChecklistTemplate).where(ChecklistTemplate.kind == "opening"))
        floor = next(i.id for i in template.items if i.label.startswith("室内地面"))
        first = template.items[0].id
        template_id = template.id
    resp = clerk.post("/checklists/start", {"site_id": seeded["SZ01"], "template_id": template_id})
    run_url = resp.headers["Location"]
    page = clerk.get(run_url).get_data(as_text=True)
    assert f'value="repair-{floor}"' in page and f'value="cleaning-{floor}"' in page
    resp = clerk.post(
        run_url,
        {f"item-{first}": "yes", f"item-{floor}": "no", "action": f"cleaning-{floor}"},
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"#item-{floor}")
    with system(app) as s:
        assert _count(s, CleaningIssue) == 1
        run_id = int(run_url.rstrip("/").split("/")[-1])
        saved = dict(
            s.execute(
                select(ChecklistAnswer.item_id, ChecklistAnswer.value_bool).where(
                    ChecklistAnswer.run_id == run_id
                )
            ).all()
        )
        assert saved == {first: True, floor: False}
    # 报修 on an item tapped "yes" is refused, and the answers on the page are kept.
    resp = clerk.post(run_url, {f"item-{first}": "yes", "action": f"repair-{first}"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "只有回答“否”的项目才能报修" in html
    assert f'name="item-{first}" value="yes" autocomplete="off" checked' in html
