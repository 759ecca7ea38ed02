"""Photo uploads, checked by content, cleaned and stored; usable by every domain.

API:
    inspect_upload(file_storage) -> PreparedPhoto       # validates, raises UploadRejected
    store(prepared, site, owner_type, owner_id, user) -> Photo   # saves files + adds the row
    accept_upload(file_storage, site, owner_type, owner_id, user) -> Photo   # both steps
    photos_of(owner_type, owner_id) -> [Photo]
    register_owner(owner_type, can_read)                 # extra read rule per owner type

Checks: size (``UPLOAD_MAX_BYTES``), empty file, file name (no paths), real image
content (Pillow open + verify + full decode; JPEG, PNG, WebP, and HEIC when Pillow has a
plugin for it), pixel limit (``UPLOAD_MAX_PIXELS``, plus Pillow's decompression-bomb
guard). The image is turned upright (EXIF orientation) and re-encoded, which drops all
EXIF data (GPS position included). A thumbnail is made. Nothing is written before every
check passed. The caller commits.
"""
import io
import secrets
import unicodedata
import warnings
from dataclasses import dataclass

from flask import current_app
from portal.i18n import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from portal.extensions import db
from portal.models import Photo
from portal.services.storage import get_storage

# Pillow format -> (stored format, extension, content type). HEIF is stored as JPEG: browsers can't show it.
FORMATS = {
    "JPEG": ("JPEG", "jpg", "image/jpeg"),
    "MPO": ("JPEG", "jpg", "image/jpeg"),  # phone cameras: a JPEG with extra frames
    "PNG": ("PNG", "png", "image/png"),
    "WEBP": ("WEBP", "webp", "image/webp"),
    "HEIF": ("JPEG", "jpg", "image/jpeg"),
}
THUMB_SIZE = (400, 400)
ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif"

# owner_type -> fn(owner_id, user) -> bool: who may see the photos of such an owner beyond the site scope.
_OWNER_READERS = {}


class UploadRejected(Exception):
    """The upload is not a usable photo; ``message`` is translatable and meant for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


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
        raise UploadRejected(_l("The photo is too large (at most %(mb)s MB).", mb=limit // (1024 * 1024)))
    return data


def _open_checked(data, max_pixels):
    """Open, verify and fully decode; return the decoded image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in FORMATS:
                raise UploadRejected(_l("This file is not a JPEG, PNG, WebP or HEIC photo."))
            if probe.width * probe.height > max_pixels:
                raise UploadRejected(_l("The photo has too many pixels."))
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected(_l("The photo has too many pixels.")) from None
    except UnidentifiedImageError:
        raise UploadRejected(_l("This file is not a JPEG, PNG, WebP or HEIC photo.")) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise UploadRejected(_l("The photo is damaged or incomplete. Please take it again.")) from None
    return image


def _encode(image, fmt):
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=85)
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def inspect_upload(file_storage):
    """Check an uploaded file (werkzeug FileStorage) and return the cleaned image; writes nothing."""
    if file_storage is None:
        raise UploadRejected(_l("No file was sent."))
    name = clean_name(file_storage.filename)
    if name is None:
        raise UploadRejected(_l("The file name is not allowed. Please rename the photo and try again."))
    data = _read_limited(file_storage, current_app.config["UPLOAD_MAX_BYTES"])
    if not data:
        raise UploadRejected(_l("The file is empty."))
    image = _open_checked(data, current_app.config["UPLOAD_MAX_PIXELS"])
    stored_format, extension, content_type = FORMATS[image.format]
    # Upright as the phone showed it; re-encoding without passing exif= drops every EXIF tag.
    upright = ImageOps.exif_transpose(image)
    upright.info.pop("exif", None)
    body = _encode(upright, stored_format)
    thumb = upright.copy()
    thumb.thumbnail(THUMB_SIZE)
    return PreparedPhoto(body, _encode(thumb, stored_format), extension, content_type,
                         upright.width, upright.height, name)


def store(prepared, site, owner_type, owner_id, user):
    """Save the files and add the Photo row to the session (the caller commits)."""
    token = secrets.token_hex(16)
    key, thumb_key = f"{token}.{prepared.extension}", f"{token}.thumb.{prepared.extension}"
    storage = get_storage()
    storage.save(key, prepared.data)
    storage.save(thumb_key, prepared.thumb)
    photo = Photo(site_id=site.id, owner_type=owner_type, owner_id=owner_id, storage_key=key, thumb_key=thumb_key,
                  content_type=prepared.content_type, size=len(prepared.data), width=prepared.width,
                  height=prepared.height, original_name=prepared.original_name,
                  uploaded_by_id=user.id if user is not None else None)
    db.session.add(photo)
    return photo


def accept_upload(file_storage, site, owner_type, owner_id, user):
    """Check and store one upload → Photo; raises UploadRejected (nothing stored)."""
    return store(inspect_upload(file_storage), site, owner_type, owner_id, user)


def inspect_all(files):
    """Check several uploads (empty form slots skipped) before anything is written."""
    return [inspect_upload(f) for f in files if f is not None and f.filename]


def photos_of(owner_type, owner_id):
    stmt = select(Photo).where(Photo.owner_type == owner_type, Photo.owner_id == owner_id).order_by(Photo.id)
    return db.session.scalars(stmt).all()


def register_owner(owner_type, can_read):
    """Let a domain add a read rule for its photos (e.g. sales see only their own damage reports)."""
    _OWNER_READERS[owner_type] = can_read


def can_read(photo, user):
    rule = _OWNER_READERS.get(photo.owner_type)
    return rule is None or rule(photo.owner_id, user)


def discard_files(photos):
    """Remove stored files of photos whose transaction was rolled back."""
    storage = get_storage()
    for photo in photos:
        storage.delete(photo.storage_key)
        storage.delete(photo.thumb_key)
