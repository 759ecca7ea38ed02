"""Notifications: the navbar bell, my notifications (mark one / all read), my channels; and for
head office the group robots (企业微信 / 钉钉) and the delivery log (read-only)."""

from flask import abort, redirect, request, url_for
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectField
from wtforms.validators import ValidationError

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models.notifications import (
    CHANNEL_LABELS,
    DELIVERY_STATUS_LABELS,
    NOTIFY_KIND_LABELS,
    ROBOT_KINDS,
    NotificationDelivery,
    RobotWebhook,
)
from portal.services import notify as svc
from portal.views.base import PortalView, ScopedModelView, as_id, domain_errors, expose

EVERYONE = frozenset({"admin", "supervisor", "clerk", "security", "sales", "maintenance"})


class NotificationsView(PortalView):
    read_roles = EVERYONE
    write_roles = EVERYONE

    def is_visible(self):
        return False  # the bell in the bar opens it, on a phone as on a wide screen

    def _page(self, status=200):
        return (
            self.render(
                "notifications/index.html",
                notes=svc.mine(current_user),
                unread=svc.unread_count(current_user),
                channels=svc.channels_of(current_user),
                form=request.form,
                kind_labels=NOTIFY_KIND_LABELS,
            ),
            status,
        )

    @expose("/")
    def index(self):
        return self._page()

    @expose("/<note_id>/read", methods=("POST",))
    def read(self, note_id):
        note = svc.get_mine(current_user, as_id(note_id))
        if note is None:
            abort(404)
        svc.mark_read(note)
        db.session.commit()
        if request.form.get("open") and note.url and note.url.startswith("/"):
            return redirect(note.url)
        return redirect(url_for(".index"))

    @expose("/read-all", methods=("POST",))
    def read_all(self):
        svc.mark_all_read(current_user)
        db.session.commit()
        return redirect(url_for(".index"))

    @expose("/channels", methods=("POST",))
    def channels(self):
        with domain_errors() as refused:
            svc.save_channels(
                current_user,
                request.form.get("email"),
                bool(request.form.get("by_email")),
                bool(request.form.get("by_robot")),
            )
            db.session.commit()
        if refused:
            return self._page(refused.status)
        return redirect(url_for(".index"))


def _label(labels):
    return lambda view, context, model, name: labels.get(getattr(model, name), getattr(model, name))


class RobotWebhookView(ScopedModelView):
    read_roles = write_roles = delete_roles = frozenset({"admin"})
    export_roles = frozenset()
    # The URL carries the robot's key: edited in the form, never listed nor shown.
    column_list = ("name", "kind", "site", "region", "active")
    column_details_list = column_list
    column_export_list = column_list
    column_sortable_list = ("name",)
    column_select_related_list = (RobotWebhook.site, RobotWebhook.region)
    form_columns = ("name", "kind", "site", "region", "url", "active")
    form_overrides = {"kind": SelectField}
    form_args = {
        "kind": {"choices": [(k, CHANNEL_LABELS[k]) for k in ROBOT_KINDS]},
        "url": {"description": _l("The group robot's webhook address (it contains its key).")},
    }
    column_formatters = {"kind": _label(CHANNEL_LABELS)}
    column_labels = {
        "name": _l("Name"),
        "kind": _l("Channel"),
        "site": _l("Site"),
        "region": _l("Region"),
        "url": _l("Webhook address"),
        "active": _l("Active"),
    }

    def on_model_change(self, form, model, is_created):
        url = (model.url or "").strip()
        if not url.startswith(("https://", "http://")):
            raise ValidationError(_("The webhook address must start with https://"))
        if (model.site is None) == (model.region is None):
            raise ValidationError(_("Choose either a site or a region."))
        model.url = url


class DeliveryView(ScopedModelView):
    read_roles = write_roles = frozenset({"admin"})
    delete_roles = export_roles = frozenset()
    _creatable = _editable = _deletable = False
    column_list = (
        "created_at",
        "notification",
        "channel",
        "target",
        "status",
        "attempts",
        "last_error",
        "sent_at",
    )
    column_details_list = column_list
    column_export_list = column_list
    column_sortable_list = ("created_at",)
    column_default_sort = ("id", True)
    column_select_related_list = (NotificationDelivery.notification,)
    form_columns = ()
    column_formatters = {
        "channel": _label(CHANNEL_LABELS),
        "status": _label(DELIVERY_STATUS_LABELS),
    }
    column_filters = (
        FilterEqual(
            NotificationDelivery.status,
            _l("Status"),
            options=list(DELIVERY_STATUS_LABELS.items()),
        ),
    )
    column_labels = {
        "created_at": _l("Created"),
        "notification": _l("Notification"),
        "channel": _l("Channel"),
        "target": _l("Sent to"),
        "status": _l("Status"),
        "attempts": _l("Attempts"),
        "last_error": _l("Last error"),
        "sent_at": _l("Sent at"),
    }


def register(admin):
    admin.add_view(
        NotificationsView(
            name=_l("My notifications"), endpoint="notifications", url="/notifications"
        )
    )
    category = _l("Notifications")
    admin.add_view(
        RobotWebhookView(
            RobotWebhook,
            name=_l("Group robots"),
            category=category,
            endpoint="robotwebhook",
            url="/robotwebhook",
        )
    )
    admin.add_view(
        DeliveryView(
            NotificationDelivery,
            name=_l("Delivery log"),
            category=category,
            endpoint="delivery",
            url="/delivery",
        )
    )

    @admin.app.context_processor
    def _bell():
        def portal_unread():
            if not current_user.is_authenticated:
                return 0
            return svc.unread_count(current_user)

        return {"portal_unread": portal_unread}
