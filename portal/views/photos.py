"""Serving photos: only through the scoped session, never from static/.

A photo of another site is 404 even with its exact URL (``get_or_404`` goes through the
site scope); the owner's own read rule applies too (``photos.can_read``).
"""

from urllib.parse import quote

from flask import abort, redirect, send_file, url_for
from portal.i18n import lazy_gettext as _l
from flask_login import current_user

from portal.models import Photo
from portal.services import photos as photo_service
from portal.services.storage import get_storage
from portal.views.base import ALL_ROLES, PortalView, expose, get_or_404


def _disposition(photo):
    # ASCII fallback plus the UTF-8 name (RFC 6266); the stored name never contains a path.
    ext = photo.storage_key.rsplit(".", 1)[-1]
    ascii_name = f"photo-{photo.id}.{ext}"
    return (
        f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(photo.original_name, safe='')}"
    )


class PhotosView(PortalView):
    read_roles = ALL_ROLES

    def is_visible(self):
        return False

    @expose("/")
    def index(self):
        return redirect(url_for("home.index"))

    def _serve(self, photo_id, thumb):
        photo = get_or_404(Photo, photo_id)
        if not photo_service.can_read(photo, current_user):
            abort(404)
        try:
            fh = get_storage().open(photo.thumb_key if thumb else photo.storage_key)
        except FileNotFoundError:
            abort(404)
        resp = send_file(fh, mimetype=photo.content_type, max_age=3600, conditional=False)
        resp.headers["Content-Disposition"] = _disposition(photo)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Cache-Control"] = "private, max-age=3600"
        resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return resp

    @expose("/<int:photo_id>")
    def show(self, photo_id):
        return self._serve(photo_id, thumb=False)

    @expose("/<int:photo_id>/thumb")
    def thumb(self, photo_id):
        return self._serve(photo_id, thumb=True)


def register(admin):
    admin.add_view(PhotosView(name=_l("Photos"), endpoint="photos", url="/photos"))
