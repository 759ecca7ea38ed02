"""Names typed by users never become HTML inside translated messages.

A clerk may name a product ``<img src=/photos/1><form action=/logout …>``. Every message that
carries such a value (an error of a service, a flash after a redirect, a page title) must show
it as text, escaped exactly once: the tag never reaches the page as markup, and a plain name
with quotes, ``&`` or Chinese reads the same as typed (no visible ``&lt;`` or ``&amp;``).
Each path runs through real HTTP requests as the roles that see the message.
"""

from html.parser import HTMLParser

import pytest
from flask import render_template_string
from flask.json.tag import TaggedJSONSerializer
from markupsafe import escape
from sqlalchemy import select

from portal import clock
from portal.i18n import lazy_gettext
from portal.models import ChecklistTemplate, DamageReport, Product, RepairTicket, Site, User
from portal.services import checklists, damage, stock, visits
from tests import checklist_helpers
from tests.repairs_helpers import ids, system

MARKUP_NAME = "<img src=/photos/1><form action=/logout method=post><button>X</button></form>"
MARKUP_UNIT = "<u>u</u>"
# What must never appear in a page: the tags as live markup.
RAW_TAGS = ("<img src=/photos/1>", "<form action=/logout", "<u>u</u>")
# Names that must read exactly as typed: markup, and an ordinary name with quotes and "&".
NAMES = {
    "markup": (MARKUP_NAME, MARKUP_UNIT),
    "plain": ('“零度” 可乐 "Zero" & 雪碧 <冰>', "瓶"),
}
ROLES = ("clerk_sz01", "sup_south", "admin")

seeded = checklist_helpers.seeded  # the checklist demo templates, as a fixture


class _Text(HTMLParser):
    """The text a browser shows (character references decoded, tags dropped)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def visible_text(html):
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def assert_shown_as_text(html, *values):
    for tag in RAW_TAGS:
        assert tag not in html, f"{tag!r} reached the page as markup"
    assert "&amp;lt;" not in html and "&amp;amp;" not in html and "&amp;#34;" not in html, (
        "escaped twice"
    )
    text = visible_text(html)
    for value in values:
        assert value in text, f"{value!r} is not shown as typed"


def _site(s, code="SZ01"):
    return s.scalar(select(Site).where(Site.code == code))


def arrange_product(app, name, unit, qty=1):
    """A product of SZ01 with ``qty`` in stock and an open visit: (product id, visit id)."""
    with system(app) as s:
        site = _site(s)
        product = Product(
            site_id=site.id, name=name, kind="drink", unit=unit, reorder_level=0, active=True
        )
        s.add(product)
        s.flush()
        stock.restock(site, product, qty)
        visit = visits.record_arrival(site, 2, 0)
        s.commit()
        return product.id, visit.id


def at_site(client, code="SZ01"):
    """A head-office or supervisor login picks the site its stock pages work on."""
    _users, sites = ids(client.app)
    if client.post("/today/site", {"site_id": sites[code]}).status_code != 302:
        raise AssertionError("could not pick the site")
    return client


# ---------------------------------------------------------------- the reported case, step by step


def test_a_product_named_with_markup_in_the_form_stays_text_when_out_of_stock(app, login):
    _users, sites = ids(app)
    clerk = login("clerk_sz01")
    form = {
        "site": sites["SZ01"],
        "name": MARKUP_NAME,
        "kind": "drink",
        "unit": MARKUP_UNIT,
        "reorder_level": 0,
        "active": "y",
    }
    assert clerk.post("/product/new/", form).status_code == 302
    with system(app) as s:
        product_id = s.scalar(select(Product.id).where(Product.name == MARKUP_NAME))
        visit_id = visits.record_arrival(_site(s), 1, 0).id
        s.commit()
    assert (
        clerk.post("/stock/", {"kind": "restock", "product": product_id, "quantity": 1}).status_code
        == 302
    )

    served = clerk.post("/visits/serve", {"id": visit_id, "product": product_id, "quantity": 3})
    assert served.status_code == 400
    assert_shown_as_text(served.get_data(as_text=True), f"库存只剩 1 {MARKUP_UNIT}", MARKUP_NAME)

    wasted = clerk.post(
        "/stock/", {"kind": "wastage", "product": product_id, "quantity": 5, "reason": "过期"}
    )
    assert wasted.status_code == 400
    assert_shown_as_text(wasted.get_data(as_text=True), f"库存只剩 1 {MARKUP_UNIT}", MARKUP_NAME)
    with system(app) as s:
        assert stock.balance(_site(s), s.get(Product, product_id)) == 1  # nothing was taken out


# ------------------------------------------------------------ every path, every role that sees it


@pytest.mark.parametrize("kind", sorted(NAMES))
@pytest.mark.parametrize("username", ROLES)
def test_out_of_stock_when_serving_shows_the_name_as_typed(app, login, username, kind):
    name, unit = NAMES[kind]
    product_id, visit_id = arrange_product(app, name, unit, qty=1)
    resp = login(username).post(
        "/visits/serve", {"id": visit_id, "product": product_id, "quantity": 3}
    )
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert_shown_as_text(html, f"{name} 库存只剩 1 {unit}，不能出库 3。")


@pytest.mark.parametrize("kind", sorted(NAMES))
@pytest.mark.parametrize("username", ROLES)
def test_out_of_stock_when_recording_wastage_shows_the_name_as_typed(app, login, username, kind):
    name, unit = NAMES[kind]
    product_id, _visit = arrange_product(app, name, unit, qty=1)
    client = login(username)
    if username != "clerk_sz01":
        at_site(client)
    resp = client.post(
        "/stock/", {"kind": "wastage", "product": product_id, "quantity": 5, "reason": "过期"}
    )
    assert resp.status_code == 400
    assert_shown_as_text(resp.get_data(as_text=True), f"{name} 库存只剩 1 {unit}，不能出库 5。")


@pytest.mark.parametrize("kind", sorted(NAMES))
@pytest.mark.parametrize("username", ROLES)
def test_the_served_notice_after_the_redirect_shows_the_name_as_typed(app, login, username, kind):
    # A flashed lazy message travels through the session, where Flask keeps HTML-ish objects as
    # markup.
    name, unit = NAMES[kind]
    product_id, visit_id = arrange_product(app, name, unit, qty=5)
    resp = login(username).post(
        "/visits/serve",
        {"id": visit_id, "product": product_id, "quantity": 2},
        follow_redirects=True,
    )
    assert resp.status_code == 200
    assert_shown_as_text(resp.get_data(as_text=True), f"已登记 {name} × 2。")


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_the_repair_ticket_notice_shows_the_equipment_as_typed(app, login, kind):
    name, _unit = NAMES[kind]
    _users, sites = ids(app)
    resp = login("clerk_sz01").post(
        "/repairs/new/",
        {"site": sites["SZ01"], "equipment": name, "description": "不亮", "priority": "normal"},
        follow_redirects=True,
    )
    assert resp.status_code == 200
    with system(app) as s:
        ticket_id = s.scalar(select(RepairTicket.id).where(RepairTicket.equipment == name))
    assert_shown_as_text(resp.get_data(as_text=True), f"报修单 #{ticket_id} {name} 已提交。")


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_the_damage_report_notices_show_the_equipment_as_typed(app, login, kind):
    name, _unit = NAMES[kind]
    users, sites = ids(app)
    clerk = login("clerk_sz01")
    resp = clerk.post(
        "/damage/new/",
        {
            "site": sites["SZ01"],
            "equipment": name,
            "location": "样板房",
            "visit_description": "李女士两位",
            "visit_at": "2026-03-02T14:30",
            "salesperson": users["sales_sz01"],
            "description": "弄脏",
        },
        follow_redirects=True,
    )
    assert resp.status_code == 200
    with system(app) as s:
        report_id = s.scalar(select(DamageReport.id).where(DamageReport.equipment == name))
    assert_shown_as_text(
        resp.get_data(as_text=True), f"物品损坏确认单 #{report_id} {name} 已提交，已请销售员确认。"
    )
    # The supervisor's one click on a reviewed report opens a ticket, announced with its equipment.
    with system(app) as s:
        report = s.get(DamageReport, report_id)
        damage.confirm(report, s.get(User, users["sales_sz01"]))
        damage.review(report, s.get(User, users["sup_south"]), "waived")
        s.commit()
    resp = login("sup_south").post(
        f"/damage/{report_id}/repair", {"priority": "high"}, follow_redirects=True
    )
    assert resp.status_code == 200
    with system(app) as s:
        ticket_id = s.get(DamageReport, report_id).repair_ticket_id
    assert_shown_as_text(resp.get_data(as_text=True), f"已生成报修单 #{ticket_id} {name}。")


@pytest.mark.parametrize("kind", sorted(NAMES))
@pytest.mark.parametrize("username", ROLES)
def test_the_today_title_shows_the_site_name_as_typed(app, login, username, kind):
    name, _unit = NAMES[kind]
    with system(app) as s:
        _site(s).name = name
        s.commit()
    client = login(username)
    if username != "clerk_sz01":
        at_site(client)
    resp = client.get("/today/")
    assert resp.status_code == 200
    assert_shown_as_text(resp.get_data(as_text=True), f"今日 · {name}")


@pytest.mark.parametrize("kind", sorted(NAMES))
@pytest.mark.parametrize("follow_up", ["note", "repair", "cleaning"])
def test_the_checklist_follow_up_notice_shows_the_item_as_typed(
    app, login, seeded, kind, follow_up
):
    name = (
        NAMES[kind][0] + " 清洁"
    )  # a cleanliness item, so that a cleaning issue can be opened too
    with system(app) as s:
        site = _site(s)
        template = s.scalar(select(ChecklistTemplate).where(ChecklistTemplate.kind == "opening"))
        item = next(i for i in template.items if i.kind == "yes_no")
        item.label = name
        run = checklists.start_run(site, template, None, clock.local_day(site))
        checklists.save_answers(run, {item.id: "no"})
        s.commit()
        run_id, item_id = run.id, item.id
    resp = login("clerk_sz01").post(
        f"/checklists/run/{run_id}/follow-up",
        {"item_id": item_id, "kind": follow_up, "note": ""},
        follow_redirects=True,
    )
    assert resp.status_code == 200
    if follow_up == "repair":  # the ticket's short form, the item written as other equipment
        resp = login("clerk_sz01").post(
            f"/checklists/run/{run_id}/repair/{item_id}",
            {
                "item": "0",
                "equipment": name,
                "fault": "坏了",
                "priority": "normal",
                "description": name,
            },
            follow_redirects=True,
        )
        assert resp.status_code == 200
    with system(app) as s:
        ticket_id = s.scalar(
            select(RepairTicket.id).where(RepairTicket.equipment == f"{name} 坏了")
        )
    expected = {
        "note": f"已建立跟进：{name}",
        "repair": f"报修单 #{ticket_id} {name} 坏了 已提交。",
        "cleaning": f"已开保洁整改：{name}",
    }[follow_up]
    assert_shown_as_text(resp.get_data(as_text=True), expected)


# ---------------------------------------------------------------- the mechanism itself


def test_a_lazy_message_is_plain_text_as_a_string_and_escaped_once_as_html(app):
    message = lazy_gettext("Served %(name)s × %(n)s.", name=MARKUP_NAME, n=2)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        plain = f"已登记 {MARKUP_NAME} × 2。"
        assert str(message) == plain  # logs, PDFs, form values: as typed
        shown = render_template_string("{{ m }}|{{ m|e }}|{{ s }}", m=message, s=plain).split("|")
        assert shown == [str(escape(plain))] * 3
        # A flash goes through the session serialiser, which keeps objects with __html__ as Markup.
        session_codec = TaggedJSONSerializer()
        assert session_codec.loads(session_codec.dumps({"m": message}))["m"] == escape(plain)
