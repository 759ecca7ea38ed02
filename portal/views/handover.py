"""Handover book pages: read and sign unsigned entries, carry or close items, write an
entry, comment, and the history of an item; plus the list of all entries."""

from datetime import timedelta

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin.contrib.sqla.filters import FilterEqual
from portal import clock
from portal.i18n import lazy_gettext as _l, local_text
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import MultipleFileField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.views.audit import LocalDateBetweenFilter
from portal.extensions import db
from portal.models import HandoverEntry, HandoverItem, Shift, Site
from portal.services import handover, roster, today
from portal.services import photos as photo_service
from portal.views.base import (
    PortalForm,
    PortalView,
    ScopedModelView,
    domain_errors,
    expose,
    get_or_404,
    options_of,
)
from portal.views.roster import POST_LABELS, chosen_site, scoped_sites
from portal.views.auth import safe_next

BOOK_ROLES = frozenset({"admin", "supervisor", "clerk", "security"})


class EntryForm(PortalForm):
    post = SelectField(_l("Post"), choices=[])
    outgoing_shift = SelectField(_l("Outgoing shift"), coerce=int, choices=[])
    incoming_shift = SelectField(_l("Incoming shift"), coerce=int, choices=[])
    text = TextAreaField(_l("Handover"), validators=[DataRequired(), Length(max=5000)])
    items = TextAreaField(_l("Items to follow (one per line)"), validators=[Length(max=5000)])
    photos = MultipleFileField(_l("Photos"))


class PhotoForm(PortalForm):
    photos = MultipleFileField(_l("Photos"))


def _entry_form(site, formdata=None):
    form = EntryForm(formdata=formdata)
    form.post.choices = list(POST_LABELS.items())
    now = clock.now()
    shifts = db.session.scalars(
        select(Shift)
        .options(joinedload(Shift.staff_member))
        .where(
            Shift.site_id == site.id,
            Shift.ends_at > now - timedelta(days=1),
            Shift.starts_at < now + timedelta(days=2),
        )
        .order_by(Shift.starts_at)
    ).all()
    choices = [(0, "—")] + [(s.id, f"{POST_LABELS.get(s.post, s.post)} · {s}") for s in shifts]
    form.outgoing_shift.choices = form.incoming_shift.choices = choices
    if formdata is None:
        mine = roster.current_shift_of(current_user, site, now)
        if mine is not None:
            form.post.data = mine.post
            form.outgoing_shift.data = mine.id
            following = roster.next_shift(site, mine.post, mine.ends_at - timedelta(minutes=1))
            if following is not None and following.id != mine.id:
                form.incoming_shift.data = following.id
    return form, {s.id: s for s in shifts}


class HandoverBookView(PortalView):
    read_roles = BOOK_ROLES
    write_roles = BOOK_ROLES

    @expose("/")
    def index(self, form=None, status=200, site_id=None):
        sites = scoped_sites()
        site = chosen_site(sites, site_id)
        if form is None:
            form, _ = _entry_form(site)
        signed = db.session.scalars(
            select(HandoverEntry)
            .options(joinedload(HandoverEntry.author), joinedload(HandoverEntry.signed_by))
            .where(HandoverEntry.site_id == site.id, HandoverEntry.signed_at.is_not(None))
            .order_by(HandoverEntry.written_at.desc())
            .limit(10)
        ).all()
        body = self.render(
            "handover/book.html",
            site=site,
            sites=sites,
            form=form,
            unsigned=handover.unsigned_entries(site),
            open_items=handover.open_items(site),
            signed=signed,
            signable=_signable_ids(),
            post_labels=POST_LABELS,
            accept=photo_service.ACCEPT,
        )
        return body if status == 200 else current_app.response_class(body, status=status)

    @expose("/write", methods=("POST",))
    def write(self):
        site = chosen_site()
        form, shifts = _entry_form(site, request.form)
        if not form.validate():
            return self.index(form=form, status=400)
        try:
            # The form reads ``request.form`` only (its choices are built first): files apart.
            prepared = photo_service.inspect_all(request.files.getlist(form.photos.name))
        except photo_service.UploadRejected as exc:
            form.photos.errors = [exc.message]
            return self.index(form=form, status=exc.status)
        entry = handover.write_entry(
            site,
            current_user,
            form.text.data,
            (form.items.data or "").splitlines(),
            post=form.post.data,
            outgoing_shift=shifts.get(form.outgoing_shift.data),
            incoming_shift=shifts.get(form.incoming_shift.data),
            photos=prepared,
        )
        db.session.commit()
        flash(_l("Handover entry saved."), "success")
        return redirect(url_for(".entry", id=entry.id))

    @expose("/sign/<id>", methods=("POST",))
    def sign(self, id):
        entry = get_or_404(HandoverEntry, id)
        return self._act(
            entry.site_id,
            lambda: handover.sign(entry, current_user),
            _l("Entry signed."),
            _next() or url_for(".index", site=entry.site_id),
        )

    @expose("/carry/<id>", methods=("POST",))
    def carry(self, id):
        item = get_or_404(HandoverItem, id)
        return self._act(
            item.site_id,
            lambda: handover.carry_forward(item, current_user),
            _l("Item carried forward to the next shift."),
            _next() or url_for(".index", site=item.site_id),
        )

    @expose("/close/<id>", methods=("POST",))
    def close(self, id):
        item = get_or_404(HandoverItem, id)
        return self._act(
            item.site_id,
            lambda: handover.close_item(item, current_user, request.form.get("note")),
            _l("Item closed."),
            _next() or url_for(".index", site=item.site_id),
        )

    @expose("/entry/<id>", methods=("GET", "POST"))
    def entry(self, id):
        entry = get_or_404(HandoverEntry, id)
        status, error = 200, None
        if request.method == "POST":
            with domain_errors(flash_message=False) as refused:  # shown next to the comment
                handover.comment(entry, current_user, request.form.get("comment"))
                db.session.commit()
            if not refused:
                flash(_l("Comment added."), "success")
                return redirect(url_for(".entry", id=entry.id))
            status, error = refused.status, refused.message
        return _entry_page(self, entry, status, error=error)

    @expose("/entry/<id>/photos", methods=("POST",))
    def add_photos(self, id):
        entry = get_or_404(HandoverEntry, id)
        if not self.can_write():
            abort(403)
        form = PhotoForm()
        if not form.validate():
            return _entry_page(self, entry, 400, photo_form=form)
        try:
            prepared = photo_service.inspect_all(form.photos.data or [])
            if not prepared:
                raise photo_service.UploadRejected(_l("Choose a photo first."))
        except photo_service.UploadRejected as exc:
            form.photos.errors = [exc.message]
            return _entry_page(self, entry, exc.status, photo_form=form)
        with domain_errors(flash_message=False) as refused:
            handover.add_photos(entry, current_user, prepared)
            db.session.commit()
        if refused:
            form.photos.errors = [refused.message]
            return _entry_page(self, entry, refused.status, photo_form=form)
        flash(_l("Photos added."), "success")
        return redirect(url_for(".entry", id=entry.id))

    @expose("/item/<id>")
    def item(self, id):
        item = get_or_404(HandoverItem, id)
        chain = handover.item_history(item)
        return self.render(
            "handover/item.html", item=item, chain=chain, site=item.site
        )

    def _act(self, site_id, fn, success, target):
        if not self.can_write():
            abort(403)
        with domain_errors() as refused:
            fn()
        if refused:  # the book again with the reason on top
            return self.index(status=refused.status, site_id=site_id)
        db.session.commit()
        flash(success, "success")
        return redirect(target)


def _signable_ids():
    """The entries the current user may sign or confirm now: their buttons show."""
    return set(db.session.scalars(handover.signable_entries(current_user)))


def _entry_page(view, entry, status=200, error=None, photo_form=None, **kw):
    """One entry with its items, photos and comments; the sign button when it falls to the
    user."""
    body = view.render(
        "handover/entry.html",
        entry=entry,
        site=entry.site,
        error=error,
        post_labels=POST_LABELS,
        can_sign=not entry.is_signed and entry.id in _signable_ids(),
        photos=handover.entry_photos(entry),
        photo_form=photo_form or PhotoForm(formdata=None),
        accept=photo_service.ACCEPT,
        **kw,
    )
    return current_app.response_class(body, status=status)


def _signed_formatter(view, context, model, name):
    if model.signed_at is None:
        return _l("Not signed")
    if model.is_self_confirmed:  # the author alone on her post, at her next shift
        return str(
            _l(
                "%(name)s: self-confirmed at the start of her next shift, %(at)s",
                name=model.signed_by,
                at=local_text(model.signed_at, model.site, "%m-%d %H:%M"),
            )
        )
    return f"{model.signed_by} · {local_text(model.signed_at, model.site, '%m-%d %H:%M')}"


class HandoverEntryView(ScopedModelView):
    """Every entry of the book; an unsigned entry may be corrected, a signed one never."""

    read_roles = BOOK_ROLES
    write_roles = BOOK_ROLES
    _creatable = False  # entries are written in the book, with their items
    list_template = "handover/entry_list.html"
    column_list = ("site", "post", "written_at", "author", "text", "signed_at")
    column_details_list = (
        "site",
        "post",
        "written_at",
        "author",
        "outgoing_shift",
        "incoming_shift",
        "text",
        "items",
        "signed_at",
        "comments",
    )
    column_export_list = ("site", "post", "written_at", "author", "text", "signed_at")
    form_columns = ("text",)
    # No inline (x-editable) editing: its ajax save carries no version, so two corrections of
    # the same entry would silently overwrite each other. The edit form is versioned (409).
    column_select_related_list = (HandoverEntry.site, HandoverEntry.author, HandoverEntry.signed_by)
    column_sortable_list = ("written_at",)
    column_default_sort = ("written_at", True)
    column_searchable_list = ("text",)
    column_filters = (
        FilterEqual(
            HandoverEntry.site_id, _l("Site"), options=options_of(Site, order_by=Site.code)
        ),
        LocalDateBetweenFilter(HandoverEntry.written_at, _l("Written")),
    )
    column_labels = {
        "site": _l("Site"),
        "post": _l("Post"),
        "written_at": _l("Written at"),
        "author": _l("Author"),
        "text": _l("Handover"),
        "signed_at": _l("Signed"),
        "outgoing_shift": _l("Outgoing shift"),
        "incoming_shift": _l("Incoming shift"),
        "items": _l("Items"),
        "comments": _l("Comments"),
    }
    column_formatters = {
        "signed_at": _signed_formatter,
        "post": lambda v, c, m, n: POST_LABELS.get(m.post, m.post),
    }
    column_formatters_detail = {
        **column_formatters,
        "items": lambda v, c, m, n: "；".join(str(i) for i in m.items),
        "comments": lambda v, c, m, n: "；".join(str(i) for i in m.comments),
    }
    column_formatters_export = column_formatters

    def on_model_change(self, form, model, is_created):
        handover.check_correction(model, current_user)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        entry = self.get_one(request.args.get("id"))
        if entry.is_signed:
            flash(
                _l("This entry is signed and can no longer be changed; add a comment instead."),
                "error",
            )
            # Shown read-only instead of a form; a POST is refused with 409 and changes nothing.
            return _entry_page(
                self,
                entry,
                409 if request.method == "POST" else 200,
                page_title=_l("Handover entry"),
            )
        return super().edit_view()

    @expose("/ajax/update/", methods=("POST",))
    def ajax_update(self):
        abort(404)  # inline editing is not offered (see column list above)

    def delete_model(self, model):
        try:
            model.soft_delete()
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            if not self.handle_view_exception(exc):
                raise
            return False
        return True


def register(admin):
    group = _l("Shifts and handover")
    admin.add_view(
        HandoverBookView(
            name=_l("Handover book"), category=group, endpoint="handover", url="/handover"
        )
    )
    admin.add_view(
        HandoverEntryView(
            HandoverEntry, name=_l("Handover entries"), category=group, endpoint="handover_entry"
        )
    )


def handover_section(site, day, user):
    """Today section (top): unsigned entries to sign and open items to follow."""
    unsigned = today.kept(
        site, day, "handover.unsigned", lambda: handover.unsigned_entries(site, limit=5)
    )
    open_items = today.kept(
        site, day, "handover.open_items", lambda: handover.open_items(site, limit=10)
    )
    return {
        "site": site,
        "unsigned": unsigned,
        "open_items": open_items,
        "user": user,
        # Per user, not kept with the site's lists: whose button shows depends on the roster.
        "signable": set(db.session.scalars(handover.signable_entries(user))),
    }


def _next():
    return safe_next(request.form.get("next"))
