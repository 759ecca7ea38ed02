"""Photo uploads: attacks refused with a clear message and nothing stored; good photos cleaned,
stored outside static/, scoped and served safely."""

import io

import pytest
from PIL import Image
from sqlalchemy import select

from portal.models import Photo, RepairTicket
from portal.services import photos as photo_service
from portal.services.storage import InvalidKey, LocalStorage
from tests.repairs_helpers import (
    ids,
    image_bytes,
    new_ticket,
    photo_count,
    png_header_only,
    stored_files,
    system,
)


def _jpeg_with_exif(orientation=6, gps=True):
    img = Image.new("RGB", (80, 40), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    if gps:
        exif[0x8825] = {1: "N", 2: (22.0, 31.0, 5.0), 3: "E", 4: (113.0, 56.0, 40.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _valid_jpeg():
    return image_bytes("JPEG", (120, 90))


ATTACKS = {
    "php renamed .jpg": ("shell.jpg", b"<?php system($_GET['c']); ?>\n", "not a JPEG"),
    "html renamed .jpg": (
        "page.jpg",
        b"<html><body><script>alert(document.cookie)</script></body></html>",
        "not a JPEG",
    ),
    "svg renamed .jpg": (
        "vector.jpg",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
        "not a JPEG",
    ),
    "truncated jpeg": ("cut.jpg", None, "damaged or incomplete"),
    "decompression bomb": ("bomb.png", png_header_only(30000, 30000), "too many pixels"),
    "over the pixel limit": ("huge.png", png_header_only(9000, 6000), "too many pixels"),
    "empty file": ("empty.jpg", b"", "empty"),
    "path as file name": ("../../x.jpg", None, "file name is not allowed"),
    "oversized file": ("big.jpg", None, "too large"),
}


def _attack_bytes(name):
    filename, data, message = ATTACKS[name]
    if name == "truncated jpeg":
        full = image_bytes("JPEG", (400, 300), quality=95)
        data = full[: len(full) // 2]
    elif name == "path as file name":
        data = _valid_jpeg()
    elif name == "oversized file":
        data = _valid_jpeg() + b"\0" * (10 * 1024 * 1024)
    return filename, data, message


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_on_the_report_form_is_refused_and_nothing_stored(app, login, attack):
    filename, data, message = _attack_bytes(attack)
    files_before = stored_files(app)
    with system(app) as s:
        photos_before, tickets_before = (
            photo_count(s),
            s.scalar(select(RepairTicket.id).order_by(RepairTicket.id.desc()).limit(1)),
        )
    _users, sites = ids(app)
    clerk = login("clerk_sz01")
    clerk.http.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    resp = clerk.post(
        "/repairs/new/",
        {
            "site": sites["SZ01"],
            "equipment": "落地灯",
            "description": "不亮",
            "priority": "normal",
            "photos": (io.BytesIO(data), filename),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert message in page and "invalid-feedback" in page
    assert stored_files(app) == files_before
    with system(app) as s:
        assert photo_count(s) == photos_before
        assert (
            s.scalar(select(RepairTicket.id).order_by(RepairTicket.id.desc()).limit(1))
            == tickets_before
        )


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_through_the_service_raises_upload_rejected(app, attack):
    from werkzeug.datastructures import FileStorage

    filename, data, _message = _attack_bytes(attack)
    files_before = stored_files(app)
    with app.test_request_context():
        with system(app) as s:
            from tests.repairs_helpers import site, user

            with pytest.raises(photo_service.UploadRejected) as err:
                photo_service.accept_upload(
                    FileStorage(io.BytesIO(data), filename),
                    site(s, "SZ01"),
                    "repair_ticket",
                    1,
                    user(s, "clerk_sz01"),
                )
            assert str(err.value.message)
            s.rollback()
            assert photo_count(s) == 0
    assert stored_files(app) == files_before


def test_the_chinese_message_is_shown_in_chinese(app, login):
    _users, sites = ids(app)
    clerk = login("clerk_sz01")
    resp = clerk.post(
        "/repairs/new/",
        {
            "site": sites["SZ01"],
            "equipment": "灯",
            "description": "坏",
            "priority": "normal",
            "photos": (io.BytesIO(b"<?php ?>"), "a.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400 and "不是 JPEG、PNG、WebP 或 HEIC 照片" in resp.get_data(
        as_text=True
    )


def _upload_to_ticket(client, ticket_id, data, filename="灯.jpg"):
    return client.post(
        f"/repairs/{ticket_id}/photos",
        {"photos": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_good_photo_is_upright_stripped_and_served_safely(app, login):
    ticket_id = new_ticket(app)
    clerk = login("clerk_sz01")
    assert (
        _upload_to_ticket(clerk, ticket_id, _jpeg_with_exif(), '门口 灯"x.jpg').status_code == 302
    )
    with system(app) as s:
        photo = s.scalar(
            select(Photo).where(Photo.owner_type == "repair_ticket", Photo.owner_id == ticket_id)
        )
        assert photo.site_id == ids(app)[1]["SZ01"] and photo.uploaded_by.username == "clerk_sz01"
        assert (photo.width, photo.height) == (40, 80)  # orientation 6: turned upright
        photo_id, key = photo.id, photo.storage_key
    # stored under the upload folder, not static/, with a random name
    assert any(path.endswith(key) for path in stored_files(app))
    assert "门口" not in key and app.static_folder not in app.config["UPLOAD_FOLDER"]
    resp = clerk.get(f"/photos/{photo_id}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "image/jpeg"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("inline;") and '"x' not in disposition and "\n" not in disposition
    served = Image.open(io.BytesIO(resp.data))
    assert served.size == (40, 80)
    assert not served.getexif()  # no orientation, maker or GPS left
    thumb = clerk.get(f"/photos/{photo_id}/thumb")
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.data)).size[1] <= 400


@pytest.mark.parametrize("fmt,content_type", [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_keep_their_type(app, login, fmt, content_type):
    ticket_id = new_ticket(app)
    clerk = login("clerk_sz01")
    assert (
        _upload_to_ticket(clerk, ticket_id, image_bytes(fmt), f"p.{fmt.lower()}").status_code == 302
    )
    with system(app) as s:
        photo = s.scalar(select(Photo).where(Photo.owner_id == ticket_id))
        assert photo.content_type == content_type
        photo_id = photo.id
    assert clerk.get(f"/photos/{photo_id}").headers["Content-Type"] == content_type


def test_photo_of_another_site_is_404_even_with_its_url(app, login):
    ticket_id = new_ticket(app)
    clerk = login("clerk_sz01")
    _upload_to_ticket(clerk, ticket_id, _valid_jpeg())
    with system(app) as s:
        photo_id = s.scalar(select(Photo.id).where(Photo.owner_id == ticket_id))
    other = login("clerk_sh01")
    assert other.get(f"/photos/{photo_id}").status_code == 404
    assert other.get(f"/photos/{photo_id}/thumb").status_code == 404
    assert _upload_to_ticket(other, ticket_id, _valid_jpeg()).status_code == 404
    # sales have no repair tickets: their photos are hidden from them too
    assert login("sales_sz01").get(f"/photos/{photo_id}").status_code == 404
    assert login("maint_south").get(f"/photos/{photo_id}").status_code == 200
    assert login("clerk_sz01").get("/photos/99999999").status_code == 404


def test_several_photos_at_once_and_a_bad_one_spoils_none(app, login):
    _users, sites = ids(app)
    clerk = login("clerk_sz01")
    resp = clerk.post(
        "/repairs/new/",
        {
            "site": sites["SZ01"],
            "equipment": "吊灯",
            "description": "不亮",
            "priority": "low",
            "photos": [(io.BytesIO(_valid_jpeg()), "a.jpg"), (io.BytesIO(b""), "b.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400
    resp = clerk.post(
        "/repairs/new/",
        {
            "site": sites["SZ01"],
            "equipment": "吊灯",
            "description": "不亮",
            "priority": "low",
            "photos": [
                (io.BytesIO(_valid_jpeg()), "a.jpg"),
                (io.BytesIO(image_bytes("PNG")), "b.png"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    with system(app) as s:
        ticket = s.scalar(select(RepairTicket).where(RepairTicket.equipment == "吊灯"))
        assert len(photo_service.photos_of("repair_ticket", ticket.id)) == 2


def test_local_storage_refuses_keys_that_are_paths(tmp_path):
    store = LocalStorage(tmp_path)
    key = "0" * 32 + ".jpg"
    store.save(key, b"data")
    assert store.open(key).read() == b"data"
    for bad in ("../../etc/passwd", "/etc/passwd", "a" * 32 + ".php", "..", ""):
        with pytest.raises(InvalidKey):
            store.save(bad, b"x")
    store.delete(key)
    with pytest.raises(FileNotFoundError):
        store.open(key)
