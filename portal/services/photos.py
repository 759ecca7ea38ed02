"""Photo uploads, checked by content, cleaned and stored; usable by every domain.

API:
    inspect_upload(file_storage) -> PreparedPhoto       # validates, raises UploadRejected
    store(prepared, site, owner_type, owner_id, user) -> Photo   # saves files + adds the row
    accept_upload(file_storage, site, owner_type, owner_id, user) -> Photo   # both steps
    photos_of(owner_type, owner_id) -> [Photo]
    register_owner(owner_type, can_read)                 # extra read rule per owner type

Checks, all before anything is decoded: size (``UPLOAD_MAX_BYTES``), empty file, file name
(no paths), real image content from the header (JPEG, PNG, WebP, and HEIC when Pillow has a
plugin for it; ``verify``), pixels per photo (``UPLOAD_MAX_PIXELS``, plus Pillow's
decompression-bomb guard), and per request - over every photo field of the form - the number
of files (``UPLOAD_MAX_FILES``) and the pixels decoding will cost (``UPLOAD_MAX_REQUEST_PIXELS``).
Then each photo is decoded small (a JPEG straight at 1/2-1/8 of its size), shrunk to at most
``UPLOAD_MAX_SIDE`` pixels a side, turned upright (EXIF orientation) and re-encoded, which drops
all EXIF data (GPS position included). A thumbnail is made. Nothing is written before every
check passed. The caller commits.
"""

import io
import math
import secrets
import unicodedata
import warnings
import zlib
from dataclasses import dataclass

from flask import current_app, g
from portal.i18n import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from portal.errors import DomainError
from portal.extensions import db
from portal.models import Photo
from portal.services.storage import get_storage

# Pillow format -> (stored format, extension, content type). HEIF is stored as JPEG: browsers
# can't show it.
FORMATS = {
    "JPEG": ("JPEG", "jpg", "image/jpeg"),
    "MPO": ("JPEG", "jpg", "image/jpeg"),  # phone cameras: a JPEG with extra frames
    "PNG": ("PNG", "png", "image/png"),
    "WEBP": ("WEBP", "webp", "image/webp"),
    "HEIF": ("JPEG", "jpg", "image/jpeg"),
}
# What decoding a pixel costs, against a PNG's or a drafted JPEG's (measured: WebP ~3×; Pillow
# has no draft for it). HEIF has no draft either and HEVC is slow.
DECODE_COST = {"WEBP": 3, "HEIF": 3}
THUMB_SIZE = (400, 400)
ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif"

# owner_type -> fn(owner_id, user) -> bool: who may see the photos of such an owner beyond the
# site scope.
_OWNER_READERS = {}


class UploadRejected(DomainError):
    """The upload is not a usable photo. Its own class because forms show it next to the photo
    field the file came from, which the service does not know."""


@dataclass
class PreparedPhoto:
    data: bytes
    thumb: bytes
    extension: str
    content_type: str
    width: int
    height: int
    original_name: str


def clean_name(filename):
    """The file name to show, or None when it tries to be a path."""
    name = (filename or "").strip()
    if not name:
        return "photo"
    if "/" in name or "\\" in name or "\x00" in name or name.startswith(".") or ".." in name:
        return None
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return name[:120] or "photo"


def _read_limited(file_storage, limit):
    data = file_storage.stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRejected(
            _l("The photo is too large (at most %(mb)s MB).", mb=limit // (1024 * 1024))
        )
    return data


def _draft(image, max_side):
    """Let a JPEG decode at 1/2, 1/4 or 1/8 of its size (the DCT does it almost for free), so
    a 12–50 MP photo is never decoded in full; other formats are decoded as they are."""
    ratio = max(image.size) / max_side
    if ratio > 1:
        # Half the stored size: the draft stays at or above it, and the scale it picks is a power
        # of two, so the result lands between half and all of ``max_side``.
        half = (max(1, int(image.width / ratio / 2)), max(1, int(image.height / ratio / 2)))
        image.draft(None, half)
    return image


def _open(data):
    """The image with only its header read; nothing is decoded yet."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data))


def _refusal(exc):
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return UploadRejected(_l("The photo has too many pixels."))
    if isinstance(exc, UnidentifiedImageError):
        return UploadRejected(_l("This file is not a JPEG, PNG, WebP or HEIC photo."))
    return UploadRejected(_l("The photo is damaged or incomplete. Please take it again."))


_IMAGE_ERRORS = (
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
)


def _check_header(data, config):
    """Format and pixel count from the header; returns what decoding will cost, in pixels."""
    try:
        probe = _open(data)
        if probe.format not in FORMATS:
            raise UploadRejected(_l("This file is not a JPEG, PNG, WebP or HEIC photo."))
        if probe.width * probe.height > config["UPLOAD_MAX_PIXELS"]:
            raise UploadRejected(_l("The photo has too many pixels."))
        width, height = _draft(probe, config["UPLOAD_MAX_SIDE"]).size
        cost = width * height * DECODE_COST.get(probe.format, 1)
        probe.verify()
    except UploadRejected:
        raise
    except _IMAGE_ERRORS as exc:
        raise _refusal(exc) from None
    return cost


def _charge(files=0, pixels=0):
    """Count this upload against the request's limits (kept in ``g``: one request, several
    photo fields, one budget). Charged before any decoding, so what a request can make the
    server decode is bounded; once over, every later photo of the request is refused too."""
    config = current_app.config
    used = g.setdefault("photo_upload_budget", {"files": 0, "pixels": 0})
    used["files"] += files
    used["pixels"] += pixels
    if used["files"] > config["UPLOAD_MAX_FILES"]:
        raise UploadRejected(
            _l(
                "At most %(n)s photos can be sent at once. Please send the rest afterwards.",
                n=config["UPLOAD_MAX_FILES"],
            )
        )
    if used["pixels"] > config["UPLOAD_MAX_REQUEST_PIXELS"]:
        raise UploadRejected(
            _l(
                "These photos are too large to process together. Please send fewer "
                "or smaller photos at a time."
            )
        )


def _decode(data, max_side):
    try:
        image = _draft(_open(data), max_side)
        image.load()
    except _IMAGE_ERRORS as exc:
        raise _refusal(exc) from None
    return image


def _shrink(image, max_side):
    """At most ``max_side`` pixels a side. ``reduce`` averages whole blocks of pixels: several
    times cheaper than resampling a big PNG or WebP, and as good for shrinking a photo."""
    ratio = max(image.size) / max_side
    if ratio > 1 and image.mode in ("L", "LA", "RGB", "RGBA"):
        image = image.reduce(math.ceil(ratio))
    # Whatever reduce could not do (palette images, a JPEG past its 1/8 draft): resample.
    image.thumbnail((max_side, max_side), reducing_gap=1.0)
    return image


def _encode(image, fmt):
    # The fast settings: optimize=True, PNG's default compression and WebP's default method cost
    # 3-5 times the CPU (over a second for one 4 MP PNG) for files a few percent smaller.
    # Run-length deflate is the cheapest on noisy PNGs and as small on screenshots.
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=85)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=85, method=0)
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(out, "PNG", compress_level=1, compress_type=zlib.Z_RLE)
    return out.getvalue()


@dataclass
class _Checked:
    """An upload that passed every check that needs no decoding."""

    data: bytes
    name: str


def _check(file_storage):
    if file_storage is None:
        raise UploadRejected(_l("No file was sent."))
    name = clean_name(file_storage.filename)
    if name is None:
        raise UploadRejected(
            _l("The file name is not allowed. Please rename the photo and try again.")
        )
    data = _read_limited(file_storage, current_app.config["UPLOAD_MAX_BYTES"])
    if not data:
        raise UploadRejected(_l("The file is empty."))
    _charge(pixels=_check_header(data, current_app.config))
    return _Checked(data, name)


def _clean(checked):
    """Decode (downscaled), turn upright, re-encode: the only expensive step."""
    max_side = current_app.config["UPLOAD_MAX_SIDE"]
    image = _decode(checked.data, max_side)
    stored_format, extension, content_type = FORMATS[image.format]
    image = _shrink(image, max_side)
    # Upright as the phone showed it; re-encoding without passing exif= drops every EXIF tag.
    upright = ImageOps.exif_transpose(image)
    upright.info.pop("exif", None)
    body = _encode(upright, stored_format)
    thumb = upright.copy()
    thumb.thumbnail(THUMB_SIZE, reducing_gap=1.0)
    return PreparedPhoto(
        body,
        _encode(thumb, stored_format),
        extension,
        content_type,
        upright.width,
        upright.height,
        checked.name,
    )


def inspect_upload(file_storage):
    """Check an uploaded file (werkzeug FileStorage) and return the cleaned image; writes
    nothing."""
    _charge(files=1)
    return _clean(_check(file_storage))


def store(prepared, site, owner_type, owner_id, user):
    """Save the files and add the Photo row to the session (the caller commits)."""
    token = secrets.token_hex(16)
    key, thumb_key = f"{token}.{prepared.extension}", f"{token}.thumb.{prepared.extension}"
    storage = get_storage()
    storage.save(key, prepared.data)
    storage.save(thumb_key, prepared.thumb)
    photo = Photo(
        site_id=site.id,
        owner_type=owner_type,
        owner_id=owner_id,
        storage_key=key,
        thumb_key=thumb_key,
        content_type=prepared.content_type,
        size=len(prepared.data),
        width=prepared.width,
        height=prepared.height,
        original_name=prepared.original_name,
        uploaded_by_id=user.id if user is not None else None,
    )
    db.session.add(photo)
    return photo


def accept_upload(file_storage, site, owner_type, owner_id, user):
    """Check and store one upload → Photo; raises UploadRejected (nothing stored)."""
    return store(inspect_upload(file_storage), site, owner_type, owner_id, user)


def inspect_all(files):
    """Check several uploads (empty form slots skipped) before anything is written. Every file's
    header is checked before the first one is decoded: a refused request costs no decoding."""
    sent = [f for f in files if f is not None and f.filename]
    _charge(files=len(sent))
    checked = [_check(f) for f in sent]
    return [_clean(c) for c in checked]


def photos_of(owner_type, owner_id):
    stmt = (
        select(Photo)
        .where(Photo.owner_type == owner_type, Photo.owner_id == owner_id)
        .order_by(Photo.id)
    )
    return db.session.scalars(stmt).all()


def photos_of_owners(owner_type, owner_ids):
    """{owner id: [Photo]} of many records of one type, in one query."""
    found = {}
    ids = list(owner_ids)
    if ids:
        for photo in db.session.scalars(
            select(Photo)
            .where(Photo.owner_type == owner_type, Photo.owner_id.in_(ids))
            .order_by(Photo.id)
        ):
            found.setdefault(photo.owner_id, []).append(photo)
    return found


def register_owner(owner_type, can_read):
    """Let a domain add a read rule for its photos (e.g. sales see only their own damage
    reports)."""
    _OWNER_READERS[owner_type] = can_read


def can_read(photo, user):
    rule = _OWNER_READERS.get(photo.owner_type)
    return rule is None or rule(photo.owner_id, user)
