"""Shared helpers of the repairs / damage / upload tests: demo users, tickets, images."""

import io
import os
from contextlib import contextmanager
import struct
import zlib

from PIL import Image
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Photo, RepairTicket, Site, User


def user(dbs, username):
    return dbs.scalar(select(User).where(User.username == username))


def site(dbs, code):
    return dbs.scalar(select(Site).where(Site.code == code))


def make_ticket(
    dbs, status="new", code="SZ01", reporter="clerk_sz01", assignee="maint_south", priority="normal"
):
    """A ticket put straight into ``status`` (through the service for 'new')."""
    from portal.services import repairs

    ticket = repairs.report(
        site(dbs, code), user(dbs, reporter), "落地灯", "不亮", priority, location="沙盘区"
    )
    if status != "new":
        ticket.status = status
        ticket.assignee_id = user(dbs, assignee).id
    dbs.commit()
    return ticket.id


def image_bytes(fmt="JPEG", size=(64, 48), color=(200, 30, 30), **save):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()


def png_header_only(width, height):
    """A PNG that claims ``width`` × ``height`` pixels with almost no data (a decompression
    bomb)."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def stored_files(app):
    root = app.config["UPLOAD_FOLDER"]
    return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)


def photo_count(dbs):
    dbs.expire_all()
    return dbs.scalar(
        select(func.count()).select_from(Photo).execution_options(include_deleted=True)
    )


def ticket_count(dbs):
    return dbs.scalar(select(func.count()).select_from(RepairTicket))


@contextmanager
def system(app):
    """A short-lived unscoped session. HTTP tests use this instead of ``dbs``: a test-wide app
    context would be shared by the test client's requests (and their logged-in user)."""
    with app.app_context():
        yield db.session
        db.session.remove()


def new_ticket(app, *args, **kw):
    with system(app) as s:
        return make_ticket(s, *args, **kw)


def ticket_status(app, ticket_id):
    with system(app) as s:
        return s.scalar(select(RepairTicket.status).where(RepairTicket.id == ticket_id))


def ids(app):
    """{username: id} and {code: site id} of the demo data."""
    with system(app) as s:
        return (
            {u.username: u.id for u in s.scalars(select(User))},
            {x.code: x.id for x in s.scalars(select(Site))},
        )
