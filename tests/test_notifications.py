"""Navbar counters: what waits for each role, ≤ 3 COUNT queries, each opening its filtered list."""

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.models import DamageReport, RepairTicket
from portal.services import damage, notifications
from tests.querycount import count_queries
from tests.repairs_helpers import new_ticket, site, system, user


def _badge(page, key):
    m = re.search(
        rf'id="notice-{key}"[^>]*href="([^"]+)"|href="([^"]+)"[^>]*id="notice-{key}"', page
    )
    count = re.search(rf'id="notice-{key}".*?data-count="(\d+)"', page, re.S)
    assert m and count, f"no {key} badge"
    return (m.group(1) or m.group(2)).replace("&amp;", "&"), int(count.group(1))


def _arrange(app):
    assigned = new_ticket(app, "assigned")
    new_ticket(app, "in_progress")
    late = new_ticket(app, "assigned", code="SZ02", reporter="clerk_sz02")
    resolved = new_ticket(app, "resolved")
    new_ticket(app, "assigned", code="SH01", reporter="clerk_sh01")
    with system(app) as s:
        s.get(RepairTicket, late).due_at = datetime.now(timezone.utc) - timedelta(hours=3)
        damage.file_report(
            site(s, "SZ01"),
            user(s, "clerk_sz01"),
            "花瓶",
            "碰倒",
            user(s, "sales_sz01"),
            "客户",
            datetime.now(timezone.utc),
        )
        s.commit()
    return assigned, late, resolved


@pytest.mark.parametrize(
    "username,key,count",
    [
        ("maint_south", "assigned", 2),
        ("sales_sz01", "to_confirm", 1),
        ("sup_south", "overdue", 1),
        ("sup_south", "to_review", 0),
        ("clerk_sz01", "to_close", 1),
    ],
)
def test_each_role_sees_its_counter_and_it_opens_the_list(app, login, username, key, count):
    assigned, late, resolved = _arrange(app)
    client = login(username)
    page = client.get("/account/").get_data(as_text=True)
    url, shown = _badge(page, key)
    assert shown == count
    listing = client.get(url)
    assert listing.status_code == 200
    body = listing.get_data(as_text=True)
    if key == "assigned":
        assert f'data-ticket="{assigned}"' in body and f'data-ticket="{late}"' in body
    if key == "overdue":
        assert f'data-ticket="{late}"' in body and f'data-ticket="{assigned}"' not in body
    if key == "to_close":
        assert f'data-ticket="{resolved}"' in body and f'data-ticket="{assigned}"' not in body
    if key == "to_confirm":
        assert body.count("data-report=") == 1


def test_supervisor_review_counter_follows_the_salesperson(app, login):
    _arrange(app)
    with system(app) as s:
        report = s.scalar(select(DamageReport))
        damage.confirm(report, user(s, "sales_sz01"))
        s.commit()
    url, shown = _badge(login("sup_south").get("/account/").get_data(as_text=True), "to_review")
    assert shown == 1 and "status=answered" in url


def test_east_supervisor_counts_only_his_region(app, login):
    _arrange(app)
    _url, shown = _badge(login("sup_east").get("/account/").get_data(as_text=True), "overdue")
    assert shown == 0


@pytest.mark.parametrize(
    "username", ["maint_south", "sales_sz01", "sup_south", "admin", "clerk_sz01", "guard_sz01"]
)
def test_counts_take_at_most_three_queries(app, dbs, username):
    me = user(dbs, username)
    with count_queries(app) as q:
        notices = notifications.counts_for(me)
    assert 1 <= len(notices) <= 3 and q.count <= 3


@pytest.mark.parametrize("username", ["clerk_sz01", "sup_south", "admin"])
def test_my_notifications_have_one_way_in_the_bell(login, username):
    page = login(username).get("/today/" if username == "clerk_sz01" else "/dashboard/")
    html = page.get_data(as_text=True)
    links = re.findall(r'<a [^>]*href="/notifications/"[^>]*>', html)
    assert len(links) == 1 and 'id="notice-bell"' in links[0], links
    assert login(username).get("/notifications/").status_code == 200
