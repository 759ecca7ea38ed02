"""Crafted URL parameters answer a clear 400 (or are cut), never a server error: dates far
outside the years a page can show, a page number past any list, a search of two thousand words,
and four clerks closing the same tally at the same moment."""

import threading
from datetime import time, timedelta
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.models import DailyTally, Product, Site, StockMovement
from portal.services import stock, visits
from tests.test_concurrency_gunicorn import Browser

OUT_OF_RANGE = "请选择 2000-01-01 至"  # "Choose a date between 2000-01-01 and …"


def _refused(resp, message=OUT_OF_RANGE):
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400, (resp.status_code, body[:300])
    assert message in body
    return body


@pytest.mark.parametrize(
    "query, field",
    [
        ("period=month&on=9999-12-31", "on"),
        ("period=week&on=0001-01-01", "on"),
        ("period=custom&start=0001-01-01&end=9999-12-31", "start"),
    ],
)
def test_dashboard_days_outside_the_years_are_refused_next_to_the_field(login, query, field):
    body = _refused(login("sup_south").get(f"/dashboard/?{query}"))
    # The message sits under the field it is about.
    after_field = body[body.index(f'id="{field}"') :]
    assert after_field.index(OUT_OF_RANGE) < after_field.index("</div>") + 200


@pytest.mark.parametrize("month", ["0001-01", "9999-12"])
def test_month_pdf_of_year_one_or_9999_is_refused(login, site_ids, month):
    _refused(login("sup_south").get(f"/dashboard/site/{site_ids['SZ01']}/{month}.pdf"))


def test_damage_list_period_outside_the_years_is_refused_next_to_the_fields(login):
    body = _refused(login("clerk_sz01").get("/damage/?start=0001-01-01&end=9999-12-31"))
    assert body.count(OUT_OF_RANGE) == 2  # under "start" and under "end"


@pytest.mark.parametrize(
    "user, url",
    [
        ("sup_south", "/roster/?week=9999-12-31"),
        ("clerk_sz01", "/tally/?day=0001-01-01"),
        ("sup_south", "/breaks/?day=9999-12-31"),
    ],
)
def test_workflow_day_outside_the_years_is_refused(login, user, url):
    _refused(login(user).get(url))


def test_workflow_day_that_is_not_a_date_is_said_so(login):
    _refused(login("sup_south").get("/roster/?week=2026-02-30"), "请按 YYYY-MM-DD 格式输入日期")


@pytest.mark.parametrize(
    "url",
    [
        "/visit/?flt1_arrived_between=0001-01-01+to+9999-12-31",
        "/dailytally/?flt1_day_between=0001-01-01+to+9999-12-31",
    ],
)
def test_list_date_filter_outside_the_years_is_refused(login, url):
    _refused(login("sup_south").get(url))


def test_list_date_filter_within_the_years_still_filters(login):
    url = "/visit/?flt1_arrived_between=2026-01-01+to+2026-12-31"
    assert login("sup_south").get(url).status_code == 200


def test_list_page_past_any_list_is_refused(login):
    _refused(login("sup_south").get("/visit/?page=100000000000000000000"), "请选择第 1 至")
    assert login("sup_south").get("/visit/?page=2").status_code == 200


def test_search_of_two_thousand_words_is_cut_with_a_message(app, login, dbs, site_ids):
    site = dbs.get(Site, site_ids["SZ01"])
    found = visits.record_arrival(site, 2, 0, notes="东门 老客户").id
    other = visits.record_arrival(site, 1, 0, notes="西门").id
    dbs.commit()
    words = " ".join(["东门", "客户"] * 975)  # 1,950 words
    resp = login("sup_south").get("/visit/", query_string={"search": words})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "搜索内容过长" in body
    # The first words still search.
    assert f"id={found}&" in body and f"id={other}&" not in body


# ---------------------------------------------------------------- four clerks close one tally


@pytest.mark.parametrize("with_stock", [True, False], ids=["stock", "no-products"])
def test_concurrent_tally_closes_answer_the_losers_like_a_second_close(
    app, live_server, dbs, site_ids, with_stock
):
    """Four tablets press "close" together: one tally, three clear refusals, no server error.
    Without products, four plain refusals: there is nothing to count."""
    site = dbs.get(Site, site_ids["SZ01"])
    site.tally_time = time(0, 0)  # due whenever the test runs
    counts = {}
    if with_stock:
        water = Product(
            site_id=site.id, name="矿泉水", kind="drink", unit="瓶", reorder_level=5, active=True
        )
        dbs.add(water)
        dbs.flush()
        stock.restock(site, water, 10, day=clock.local_day(site) - timedelta(days=1))
        counts = {f"count_{water.id}": "7"}
    dbs.commit()
    port = urlparse(live_server).port
    tablets = []
    for _ in range(4):
        tablet = Browser(port)
        tablet.login("clerk_sz01")
        tablets.append(tablet)
    start, answers = threading.Barrier(4), []

    def close(tablet):
        start.wait()
        status, body, _ = tablet.request("POST", "/tally/close", counts)
        answers.append((status, body))

    threads = [threading.Thread(target=close, args=(t,)) for t in tablets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    statuses = sorted(status for status, _ in answers)
    dbs.expire_all()
    if not with_stock:
        # A site without products has nothing to count: every tablet is told so, none closes.
        assert statuses == [400, 400, 400, 400], statuses
        assert all("还没有登记商品，无可盘点" in body for _, body in answers)
        assert dbs.scalar(select(func.count()).select_from(DailyTally)) == 0
        return
    assert statuses == [302, 400, 400, 400], statuses
    for status, body in answers:
        if status == 400:
            assert "这一天已经日结过了。" in body  # what a second close says
    assert dbs.scalar(select(func.count()).select_from(DailyTally)) == 1
    if with_stock:
        # One correction of -3, not four.
        corrections = dbs.scalars(
            select(StockMovement.quantity).where(StockMovement.kind == "correction")
        ).all()
        assert corrections == [-3]
