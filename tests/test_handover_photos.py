"""Photos on handover entries: the same checked upload path as tickets, scoped to the site,
only while the entry is unsigned."""

import io

from sqlalchemy import func, select

from portal.models import HandoverEntry, Photo
from portal.services import handover
from tests.handover_helpers import sign_as, site, system_session, user
from tests.repairs_helpers import image_bytes


def _entry(app, code="SZ01", author="clerk_sz01"):
    with system_session(app) as s:
        entry = handover.write_entry(site(s, code), user(s, author), "前台打印机卡纸")
        s.flush()
        return entry.id


def _photos(app, entry_id):
    with system_session(app) as s:
        return s.scalars(
            select(Photo.id).where(
                Photo.owner_type == handover.PHOTO_OWNER, Photo.owner_id == entry_id
            )
        ).all()


def _upload(client, entry_id, data, name="卡纸.jpg"):
    return client.post(
        f"/handover/entry/{entry_id}/photos",
        {"photos": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_written_with_photos_and_added_later_shown_on_the_entry(app, login):
    clerk = login("clerk_sz01")
    book = clerk.get("/handover/").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in book and "拍照或选择照片" in book
    resp = clerk.post(
        "/handover/write",
        {
            "post": "reception",
            "outgoing_shift": "0",
            "incoming_shift": "0",
            "text": "门口地垫破损",
            "photos": [(io.BytesIO(image_bytes()), "地垫.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    with system_session(app) as s:
        entry_id = s.scalar(select(HandoverEntry.id).where(HandoverEntry.text == "门口地垫破损"))
    assert len(_photos(app, entry_id)) == 1
    assert _upload(clerk, entry_id, image_bytes("PNG"), "第二张.png").status_code == 302
    photo_ids = _photos(app, entry_id)
    assert len(photo_ids) == 2
    page = clerk.get(f"/handover/entry/{entry_id}").get_data(as_text=True)
    assert all(f"/photos/{p}/thumb" in page for p in photo_ids)
    assert clerk.get(f"/photos/{photo_ids[0]}").status_code == 200


def test_a_file_that_is_no_photo_is_refused_next_to_the_field(app, login):
    entry_id = _entry(app)
    resp = _upload(login("clerk_sz01"), entry_id, b"<?php system($_GET['c']); ?>", "x.jpg")
    assert resp.status_code == 400 and "不是" in resp.get_data(as_text=True)
    empty = login("clerk_sz01").post(
        f"/handover/entry/{entry_id}/photos", {}, content_type="multipart/form-data"
    )
    assert empty.status_code == 400
    assert _photos(app, entry_id) == []


def test_another_sites_entry_and_photo_are_404_and_sales_does_not_see_them(app, login):
    entry_id = _entry(app, "SZ02", "clerk_sz02")
    assert _upload(login("clerk_sz02"), entry_id, image_bytes()).status_code == 302
    (photo_id,) = _photos(app, entry_id)
    outsider = login("clerk_sz01")
    assert outsider.get(f"/photos/{photo_id}").status_code == 404
    assert outsider.get(f"/photos/{photo_id}/thumb").status_code == 404
    assert _upload(outsider, entry_id, image_bytes()).status_code == 404
    assert len(_photos(app, entry_id)) == 1
    # Sales does not read the handover book, nor its photos.
    own_id = _entry(app)
    assert _upload(outsider, own_id, image_bytes()).status_code == 302
    (own_photo,) = _photos(app, own_id)
    assert outsider.get(f"/photos/{own_photo}").status_code == 200
    assert login("sales_sz01").get(f"/photos/{own_photo}").status_code == 404


def test_a_signed_entry_takes_no_more_photos(app, login):
    with system_session(app) as s:
        entry = handover.write_entry(site(s, "SZ01"), user(s, "clerk_sz01"), "门窗已关闭")
        sign_as(s, entry, "clerk_sz01")
        entry_id = entry.id
    clerk = login("clerk_sz01")
    assert "拍照或选择照片" not in clerk.get(f"/handover/entry/{entry_id}").get_data(as_text=True)
    resp = _upload(clerk, entry_id, image_bytes())
    assert resp.status_code == 409 and "已签收" in resp.get_data(as_text=True)
    with system_session(app) as s:
        assert s.scalar(select(func.count(Photo.id))) == 0
