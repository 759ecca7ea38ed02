"""Development data of notifications: one group robot for the first demo site, switched off
(the demo must not post to a real WeCom group; head office fills in a real address), and one
notification to its maintenance worker whose robot delivery failed, so the delivery log shows
what a failure looks like."""

from sqlalchemy import select

from portal.extensions import db
from portal.models import User
from portal.models.notifications import Notification, NotificationDelivery, RobotWebhook


def seed(sites):
    site = sites.get("SZ01")
    if site is None or db.session.scalar(select(RobotWebhook.id).limit(1)):
        return
    robot = RobotWebhook(
        name="深圳一店企业微信群",
        kind="wecom",
        site_id=site.id,
        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=demo",
        active=False,
    )
    db.session.add(robot)
    worker = db.session.scalar(select(User).where(User.username == "maint_south"))
    if worker is None:
        return
    note = Notification(
        user_id=worker.id,
        site_id=site.id,
        kind="assigned",
        title="报修单已派给你：前台射灯",
        body=f"{site.name} · 前台射灯闪烁",
        url="/repairs/",
    )
    db.session.add(note)
    db.session.flush()
    db.session.add(
        NotificationDelivery(
            notification_id=note.id,
            channel="wecom",
            target=f"robot:{robot.id}",
            status="failed",
            attempts=1,
            last_error="RuntimeError: robot removed or switched off",
        )
    )
