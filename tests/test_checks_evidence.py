"""Checks that cannot be finished without looking: an item check asks for one "category checked"
per category and a typed count of every item expected more than once; grooming points come from
head office's list per post, results keep theirs; the person inspected sees their result;
discrepancies and inspections carry photos, in the site scope."""

import io
import re

from sqlalchemy import select

from portal.models import (
    GroomingInspection,
    GroomingPoint,
    ItemCheck,
    ItemCheckLine,
    Photo,
    StaffMember,
)
from portal.models.inventory import ITEM_CATEGORY_LABELS
from portal.services import grooming
from portal.services import inventory as svc
from tests import checklist_helpers
from tests.checklist_helpers import system
from tests.handover_helpers import staff, system_session
from tests.repairs_helpers import image_bytes

seeded = checklist_helpers.seeded  # the fixture


def _start(clerk, site_id, kind="opening"):
    resp = clerk.post("/item-checks/start", {"site_id": site_id, "kind": kind})
    assert resp.status_code == 302
    url = resp.headers["Location"]
    return url, int(url.rstrip("/").split("/")[-1])


def _state(app, check_id):
    with system(app) as s:
        check = s.get(ItemCheck, check_id)
        return (
            check.status,
            check.confirmed,
            {line.item.name: line for line in check.lines},
            svc.categories_of(check),
        )


# ------------------------------------------------------------------ item check


def test_an_item_check_cannot_be_completed_in_one_tap(app, login, seeded):
    clerk = login("clerk_sz01")
    url, check_id = _start(clerk, seeded["SZ01"])
    page = clerk.get(url).get_data(as_text=True)
    _, _, lines, categories = _state(app, check_id)
    # One "本类已清点" per category; the count of an item expected more than once is blank.
    assert page.count('name="confirmed"') == len(categories) and "本类已清点" in page
    sofa = lines["沙发垫"]
    assert sofa.expected_quantity > 1
    assert re.search(rf'name="counted-{sofa.id}" value=""', page)

    # The one tap of before: refused with what is missing, nothing completed.
    resp = clerk.post(url, {"action": "complete"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'id="check-missing"' in body
    assert "物品核查还不能完成" in body and "本类已清点" in body and "沙发垫" in body
    assert "请输入清点数量" in body
    status, confirmed, _, _ = _state(app, check_id)
    assert status == "open" and confirmed == set()

    # Everything counted and confirmed but one category: refused, naming only that category;
    # what was typed is kept as a draft.
    with system(app) as s:
        check = s.get(ItemCheck, check_id)
        counts = {
            f"counted-{line.id}": str(line.expected_quantity)
            for line in check.lines
            if line.needs_count
        }
    last = categories[-1]
    resp = clerk.post(url, {**counts, "confirmed": categories[:-1], "action": "complete"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    missing = body[body.index('id="check-missing"') :].split("</div>")[0]
    with app.test_request_context():
        assert str(ITEM_CATEGORY_LABELS[last]) in missing
    assert "沙发垫" not in missing and "请输入清点数量" not in body
    status, confirmed, lines, _ = _state(app, check_id)
    assert status == "open" and confirmed == set(categories[:-1])
    assert not lines["沙发垫"].needs_count and lines["沙发垫"].counted_quantity == 12

    # A count typed back to blank is again missing; then the last category completes it.
    resp = clerk.post(
        url, {f"counted-{sofa.id}": "", "confirmed": categories, "action": "complete"}
    )
    assert resp.status_code == 422 and "沙发垫" in resp.get_data(as_text=True)
    resp = clerk.post(
        url, {f"counted-{sofa.id}": "11", "confirmed": categories, "action": "complete"}
    )
    assert resp.status_code == 302
    status, confirmed, lines, _ = _state(app, check_id)
    assert status == "done" and confirmed == set(categories)
    assert lines["沙发垫"].is_discrepancy and lines["沙发垫"].counted_quantity == 11
    page = clerk.get(url).get_data(as_text=True)
    assert 'id="complete-button"' not in page and "1 项差异已提交主管" in page


def test_a_discrepancy_carries_photos_in_its_site_scope(app, login, seeded):
    clerk = login("clerk_sz01")
    url, check_id = _start(clerk, seeded["SZ01"], kind="closing")
    _, _, lines, categories = _state(app, check_id)
    lamp = next(line for line in lines.values() if line.expected_quantity == 1)
    fine = next(
        line for line in lines.values() if line.expected_quantity == 1 and line.id != lamp.id
    )

    # A photo on a line that is as expected: refused, nothing written.
    resp = clerk.post(
        url,
        {
            f"condition-{lamp.id}": "damaged",
            f"photo-{fine.id}": (io.BytesIO(image_bytes()), "正常.jpg"),
            "action": "save",
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and "只有与预期不符的物品才能附照片" in resp.get_data(
        as_text=True
    )
    with system(app) as s:
        assert s.scalar(select(Photo.id).where(Photo.owner_type == svc.PHOTO_OWNER)) is None
        assert s.get(ItemCheckLine, lamp.id).condition == "ok"
    # A file that is no photo: refused next to its line.
    resp = clerk.post(
        url,
        {f"photo-{lamp.id}": (io.BytesIO(b"not a photo"), "a.jpg"), "action": "save"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400 and "不是" in resp.get_data(as_text=True)

    resp = clerk.post(
        url,
        {
            f"condition-{lamp.id}": "damaged",
            f"note-{lamp.id}": "灯罩裂了",
            f"photo-{lamp.id}": [
                (io.BytesIO(image_bytes()), "灯罩.jpg"),
                (io.BytesIO(image_bytes(color=(0, 90, 200))), "灯罩2.jpg"),
            ],
            "action": "save",
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    with system(app) as s:
        photo_ids = s.scalars(
            select(Photo.id).where(Photo.owner_type == svc.PHOTO_OWNER, Photo.owner_id == lamp.id)
        ).all()
    assert len(photo_ids) == 2
    page = clerk.get(url).get_data(as_text=True)
    assert f"/photos/{photo_ids[0]}/thumb" in page
    assert clerk.get(f"/photos/{photo_ids[0]}").status_code == 200
    # The supervisor of the region sees it; another site's clerk and another region's supervisor
    # get 404, as for any record out of their scope.
    assert login("sup_south").get(f"/photos/{photo_ids[0]}").status_code == 200
    # Once complete, the supervisor's "dealt with" page of the line shows the photos.
    with system(app) as s:
        check = s.get(ItemCheck, check_id)
        counts = {
            f"counted-{line.id}": str(line.expected_quantity)
            for line in check.lines
            if line.needs_count
        }
    resp = clerk.post(url, {**counts, "confirmed": categories, "action": "complete"})
    assert resp.status_code == 302
    edit = login("sup_south").get(f"/discrepancies/edit/?id={lamp.id}").get_data(as_text=True)
    assert f"/photos/{photo_ids[1]}/thumb" in edit
    assert login("clerk_sh01").get(f"/photos/{photo_ids[0]}").status_code == 404
    assert login("sup_east").get(f"/photos/{photo_ids[0]}/thumb").status_code == 404
    # The styled picker with a Chinese label, not the browser's "Choose Files".
    assert 'class="sr-only photo-upload-input"' in page and "fa-camera" in page


# ------------------------------------------------------------------ grooming


def _form(points, failed=(), notes=None):
    notes = notes or {}
    form = {f"point-{p}": ("fail" if p in failed else "pass") for p in points}
    form.update({f"note-{p}": n for p, n in notes.items()})
    return form


def test_grooming_points_come_from_the_post_and_history_keeps_its_own(app, login):
    with system_session(app) as s:
        clerk_id = staff(s, "SZ01", username="clerk_sz01").id
        guard_id = staff(s, "SZ01", username="guard_sz01").id
        for post in ("clerk", "security"):
            s.add_all(grooming.default_points(post))  # as the migration seeds them
    sup = login("sup_south")
    desk = sup.get(f"/grooming/inspect/{clerk_id}").get_data(as_text=True)
    guard = sup.get(f"/grooming/inspect/{guard_id}").get_data(as_text=True)
    assert "肤色丝袜" in desk and "帽子、腰带佩戴规范" not in desk
    assert "帽子、腰带佩戴规范" in guard and "肤色丝袜" not in guard
    with system_session(app) as s:
        guard_keys = [p.key for p in grooming.points_for("security")]
    resp = sup.post(
        f"/grooming/inspect/{guard_id}",
        _form(guard_keys, failed=("cap_belt",), notes={"cap_belt": "未戴帽子"}),
    )
    assert resp.status_code == 302
    # Head office renames a point and switches another off (through the admin list).
    admin = login("admin")
    with system_session(app) as s:
        cap = s.scalar(
            select(GroomingPoint).where(
                GroomingPoint.post == "security", GroomingPoint.key == "cap_belt"
            )
        )
        cap_id, version = cap.id, cap.version
        s.scalar(
            select(GroomingPoint).where(
                GroomingPoint.post == "security", GroomingPoint.key == "posture"
            )
        ).active = False
    resp = admin.post(
        f"/groomingpoint/edit/?id={cap_id}",
        {
            "post": "security",
            "key": "cap_belt",
            "label": "帽子端正",
            "position": "2",
            "active": "y",
            "version": version,
        },
    )
    assert resp.status_code == 302
    # A duplicate code in the same post is refused with a Chinese message.
    resp = admin.post(
        "/groomingpoint/new/", {"post": "security", "key": "nails", "label": "x", "position": "9"}
    )
    assert resp.status_code == 400 and "该岗位已有相同代码的检查项" in resp.get_data(as_text=True)
    assert login("sup_south").get("/groomingpoint/").status_code == 403

    # The past result still reads as it was judged; a new inspection asks the new list.
    history = sup.get(f"/grooming/person/{guard_id}").get_data(as_text=True)
    assert "帽子、腰带佩戴规范" in history and "帽子端正" not in history
    guard = sup.get(f"/grooming/inspect/{guard_id}").get_data(as_text=True)
    assert "帽子端正" in guard and "站姿端正" not in guard
    with system_session(app) as s:
        new_keys = [p.key for p in grooming.points_for("security")]
    assert "posture" not in new_keys
    # Every point of the new list must be judged; then it is saved.
    resp = sup.post(f"/grooming/inspect/{guard_id}", _form(new_keys[:-1]))
    assert resp.status_code == 400 and "请选择合格或不合格" in resp.get_data(as_text=True)
    assert sup.post(f"/grooming/inspect/{guard_id}", _form(new_keys)).status_code == 302
    with system_session(app) as s:
        labels = [
            [r.label for r in i.results]
            for i in s.scalars(
                select(GroomingInspection)
                .where(GroomingInspection.staff_member_id == guard_id)
                .order_by(GroomingInspection.id)
            )
        ]
    assert "帽子、腰带佩戴规范" in labels[0] and "站姿端正，不倚靠" in labels[0]
    assert "帽子端正" in labels[1] and "站姿端正，不倚靠" not in labels[1]


def test_the_person_inspected_sees_the_result_and_photos(app, login):
    with system_session(app) as s:
        clerk_id = staff(s, "SZ01", username="clerk_sz01").id
        guard_id = staff(s, "SZ01", username="guard_sz01").id
    sup = login("sup_south")
    keys = [k for k, _ in grooming.DEFAULT_GROOMING_POINTS["clerk"]]
    assert "my-grooming-result" not in login("clerk_sz01").get("/today/").get_data(as_text=True)
    # A file that is no photo: refused, nothing saved.
    resp = sup.post(
        f"/grooming/inspect/{clerk_id}",
        {**_form(keys), "photos": (io.BytesIO(b"nope"), "x.jpg")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400
    with system_session(app) as s:
        assert s.scalar(select(GroomingInspection.id)) is None
    resp = sup.post(
        f"/grooming/inspect/{clerk_id}",
        {
            **_form(keys, failed=("nails", "hair"), notes={"hair": "长发未盘起"}),
            "photos": (io.BytesIO(image_bytes()), "发型.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    with system_session(app) as s:
        photo_id = s.scalar(select(Photo.id).where(Photo.owner_type == grooming.PHOTO_OWNER))
    clerk = login("clerk_sz01")
    today = clerk.get("/today/").get_data(as_text=True)
    mine = today[today.index('id="my-grooming-result"') :]
    assert "75%" in mine and "短指甲" in mine and "长发未盘起" in mine and "肤色丝袜" not in mine
    assert f"/photos/{photo_id}/thumb" in mine
    assert clerk.get(f"/photos/{photo_id}").status_code == 200
    # The guard of the same site has his own page without the clerk's result, and may not open
    # the clerk's photo; another region's supervisor gets 404.
    assert "my-grooming-result" not in login("guard_sz01").get("/visits/").get_data(as_text=True)
    assert login("guard_sz01").get(f"/photos/{photo_id}").status_code == 404
    assert login("sup_east").get(f"/photos/{photo_id}").status_code == 404
    assert f"/photos/{photo_id}/thumb" in sup.get(f"/grooming/person/{clerk_id}").get_data(
        as_text=True
    )
    # The guard's own result shows on his landing page (the visit log).
    with system_session(app) as s:
        guard_keys = [p.key for p in grooming.points_of(s.get(StaffMember, guard_id))]
    sup.post(f"/grooming/inspect/{guard_id}", _form(guard_keys))
    page = login("guard_sz01").get("/visits/").get_data(as_text=True)
    assert 'id="my-grooming-result"' in page and "所有检查项均合格" in page
