"""Finish: a confirm step before reopening (static portal.js, no inline script). The title and
favicon of every main page are checked in test_usability_main_pages.py."""

from sqlalchemy import select

from portal.extensions import db
from portal.models import RepairTicket, Site, User
from portal.services import repairs
from tests.conftest import browser_login
from tests.usability_helpers import TABLET


def resolved_ticket(app):
    with app.app_context():
        site = db.session.scalar(select(Site).where(Site.code == "SZ01"))
        users = {u.username: u for u in db.session.scalars(select(User))}
        ticket = repairs.report(site, users["clerk_sz01"], "射灯", "不亮", "normal")
        repairs.transition(ticket, "assign", users["sup_south"], assignee=users["maint_south"])
        repairs.transition(ticket, "start", users["maint_south"])
        repairs.transition(ticket, "resolve", users["maint_south"], cost="0")
        db.session.commit()
        tid = ticket.id
        db.session.remove()
    return tid


def test_reopening_asks_first_and_a_no_changes_nothing(browser, live_server, app, dbs):
    tid = resolved_ticket(app)
    ctx = browser.new_context(locale="zh-CN", viewport=TABLET)
    page = ctx.new_page()
    browser_login(page, live_server, "clerk_sz01")
    page.goto(f"{live_server}/repairs/{tid}/")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("#action-reopen")
    page.wait_for_timeout(300)
    assert asked and "重新打开" in asked[0]
    assert dbs.get(RepairTicket, tid).status == "resolved"
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.click("#action-reopen")
    dbs.expire_all()
    assert dbs.get(RepairTicket, tid).status == "assigned"
    ctx.close()
