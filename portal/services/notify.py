"""One notification service: tell people about work waiting for them.

    notify(users, kind, title, body, url, site=None) -> [Notification]
    deliver(delivery_id)          (run by the job queue, never in a web request)
    unread_count(user) / mine(user, limit) / mark_read(user, id) / mark_all_read(user)
    channels_of(user) / save_channels(user, email, by_email, by_robot)

``notify`` writes the in-portal notifications in the caller's transaction, and one delivery row
per channel the person chose (e-mail; the site's group robot, else its region's). Once that
transaction commits, each delivery is handed to the job queue (``after_commit``); a rollback
forgets them. A channel that fails is retried by the queue and logged on its delivery row; the
in-portal notification is never touched by it.

``url`` is the record's path (``/repairs/12/``); messages sent out of the portal carry it as an
absolute link, on ``PUBLIC_BASE_URL``.
"""

import json
import smtplib
import urllib.request
from email.message import EmailMessage

from flask import current_app, has_app_context
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from portal import clock
from portal.errors import DomainError
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Site
from portal.models.notifications import (
    Notification,
    NotificationDelivery,
    NotifyChannels,
    RobotWebhook,
)

PENDING_KEY = "notify_pending_deliveries"
HTTP_TIMEOUT = 10


def notify(users, kind, title, body, url, site=None):
    users = [u for u in {u.id: u for u in users if u is not None}.values()]
    if not users:
        return []
    notes = [
        Notification(
            user_id=u.id,
            site_id=getattr(site, "id", None),
            kind=kind,
            title=str(title)[:200],
            body=str(body or ""),
            url=url,
        )
        for u in users
    ]
    db.session.add_all(notes)
    db.session.flush()
    prefs = {
        c.user_id: c
        for c in db.session.scalars(
            select(NotifyChannels).where(NotifyChannels.user_id.in_([u.id for u in users]))
        )
    }
    robots = _robots_of(site) if site is not None else []
    deliveries = []
    for note in notes:
        pref = prefs.get(note.user_id)
        if pref is None:
            continue
        if pref.by_email and pref.email:
            deliveries.append(
                NotificationDelivery(notification_id=note.id, channel="email", target=pref.email)
            )
        if pref.by_robot:
            deliveries += [
                NotificationDelivery(
                    notification_id=note.id, channel=robot.kind, target=f"robot:{robot.id}"
                )
                for robot in robots
            ]
    if deliveries:
        db.session.add_all(deliveries)
        db.session.flush()
        db.session.info.setdefault(PENDING_KEY, []).extend(d.id for d in deliveries)
    return notes


def _robots_of(site):
    """The site's active robots; without any, its region's."""
    stmt = select(RobotWebhook).where(RobotWebhook.active.is_(True))
    own = db.session.scalars(stmt.where(RobotWebhook.site_id == site.id)).all()
    if own:
        return own
    region_id = site.region_id if isinstance(site, Site) else None
    if region_id is None:
        return []
    return db.session.scalars(
        stmt.where(RobotWebhook.region_id == region_id, RobotWebhook.site_id.is_(None))
    ).all()


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session):
    pending = session.info.pop(PENDING_KEY, None)
    if not pending or not has_app_context():
        return
    jobs = current_app.extensions["portal_jobs"]
    for delivery_id in pending:
        try:
            jobs.enqueue_delivery(delivery_id)
        except Exception:  # the queue is down: the row stays "queued", the notification stays
            current_app.logger.exception("could not enqueue delivery %s", delivery_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session):
    session.info.pop(PENDING_KEY, None)


# --- delivery (in the worker) ---------------------------------------------------------------


def absolute(url):
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if not url or url.startswith(("http://", "https://")):
        return url or base
    return base + url


def message_text(note):
    link = absolute(note.url)
    return f"{note.title}\n{note.body}\n{link}".strip()


def deliver(delivery_id):
    """Send one delivery. Raises on failure (after logging it) so the queue retries."""
    row = db.session.get(NotificationDelivery, delivery_id)
    if row is None or row.status == "sent":
        return
    note = row.notification
    row.attempts = (row.attempts or 0) + 1
    row.attempted_at = clock.now()
    db.session.commit()
    try:
        if row.channel == "email":
            _send_mail(row.target, note)
        else:
            robot = db.session.get(RobotWebhook, int(row.target.partition(":")[2]))
            if robot is None or not robot.active:
                raise RuntimeError("robot removed or switched off")
            _post_robot(robot, note)
    except Exception as exc:
        db.session.rollback()
        row = db.session.get(NotificationDelivery, delivery_id)
        row.status = "failed"
        row.last_error = f"{type(exc).__name__}: {exc}"[:500]
        db.session.commit()
        raise
    row.status = "sent"
    row.sent_at = clock.now()
    row.last_error = None
    db.session.commit()


def robot_payload(kind, note):
    link = absolute(note.url)
    who = note.user.display_name
    text = f"**{note.title}**\n\n{who}：{note.body}\n\n[{link}]({link})"
    if kind == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": note.title, "text": text}}
    return {"msgtype": "markdown", "markdown": {"content": text}}


def _post_robot(robot, note):
    data = json.dumps(robot_payload(robot.kind, note), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        robot.url, data=data, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    if not robot.url.startswith(("http://", "https://")):
        raise RuntimeError("the robot URL must start with http:// or https://")
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as resp:  # nosec B310 (checked)
        answer = json.loads(resp.read().decode("utf-8") or "{}")
    # Both robots answer 200 with {"errcode": 0} when the message was accepted.
    if answer.get("errcode", 0) != 0:
        raise RuntimeError(f"robot refused: {answer.get('errcode')} {answer.get('errmsg')}")


def _send_mail(address, note):
    cfg = current_app.config
    host = cfg.get("SMTP_HOST")
    if not host:
        raise RuntimeError("PORTAL_SMTP_HOST is not set")
    msg = EmailMessage()
    msg["Subject"] = note.title
    msg["From"] = cfg.get("SMTP_FROM") or "portal@localhost"
    msg["To"] = address
    msg.set_content(message_text(note))
    with smtplib.SMTP(host, int(cfg.get("SMTP_PORT") or 25), timeout=HTTP_TIMEOUT) as smtp:
        if cfg.get("SMTP_STARTTLS"):
            smtp.starttls()
        if cfg.get("SMTP_USER"):
            smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD") or "")
        smtp.send_message(msg)


# --- the bell -------------------------------------------------------------------------------


def unread_column(user_id):
    """The user's unread count as a scalar subquery: the session's user loader reads it with the
    user, so the bell costs no query of its own."""
    return (
        select(func.count())
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .correlate_except(Notification)
        .scalar_subquery()
    )


def unread_count(user):
    loaded = getattr(user, "unread_loaded", None)
    if loaded is not None:
        return loaded
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def mine(user, limit=100):
    return db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
        .limit(limit)
    ).all()


def get_mine(user, notification_id):
    """The user's own notification, or None (someone else's is as good as missing)."""
    note = db.session.get(Notification, notification_id)
    return note if note is not None and note.user_id == user.id else None


def mark_read(note):
    if note.read_at is None:
        note.read_at = clock.now()
    return note


def mark_all_read(user):
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
    )


def channels_of(user):
    return db.session.scalar(select(NotifyChannels).where(NotifyChannels.user_id == user.id))


def save_channels(user, email, by_email, by_robot):
    email = (email or "").strip()[:255] or None
    if email is not None and ("@" not in email or " " in email):
        raise DomainError(_l("Enter a valid e-mail address."), "email")
    if by_email and not email:
        raise DomainError(_l("Enter the e-mail address to send to."), "email")
    row = channels_of(user) or NotifyChannels(user_id=user.id)
    row.email, row.by_email, row.by_robot = email, bool(by_email), bool(by_robot)
    db.session.add(row)
    return row
