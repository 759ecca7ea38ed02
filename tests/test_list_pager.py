"""A record list that does not count its rows pages in words, and only where a page is."""

import html
import re
from datetime import timedelta

from portal import clock
from portal.models import Visit


def _pager_links(page):
    """The pager's links as (words, URL)."""
    pager = re.search(r'<ul class="pagination list-pager">(.*?)</ul>', page, re.S)
    if pager is None:
        return []
    links = re.findall(r'<a class="page-link" href="([^"]+)">([^<]+)</a>', pager.group(1))
    return [(html.unescape(" ".join(words.split())), html.unescape(url)) for url, words in links]


def _rows(page):
    return page.count('class="col-arrived_at"')


def _visits(dbs, site_id, n):
    start = clock.now() - timedelta(days=2)
    dbs.add_all(
        Visit(site_id=site_id, arrived_at=start + timedelta(minutes=i), adults=1) for i in range(n)
    )
    dbs.commit()


def test_a_list_of_one_page_has_no_pager(login, site_ids, dbs):
    _visits(dbs, site_ids["SZ01"], 1)
    page = login("clerk_sz01").get("/visit/").get_data(as_text=True)
    assert _rows(page) == 1
    assert _pager_links(page) == [] and 'class="pagination' not in page


def test_a_list_of_exactly_one_full_page_offers_no_next_page(login, site_ids, dbs):
    _visits(dbs, site_ids["SZ01"], 25)
    client = login("clerk_sz01")
    page = client.get("/visit/").get_data(as_text=True)
    assert _rows(page) == 25 and _pager_links(page) == []
    _visits(dbs, site_ids["SZ01"], 1)  # one more: the next page holds it
    page = client.get("/visit/").get_data(as_text=True)
    assert _rows(page) == 25
    (words, url), = _pager_links(page)
    assert words == "下一页 »" and _rows(client.get(url).get_data(as_text=True)) == 1


def test_a_longer_list_pages_forward_and_back_in_words(login, site_ids, dbs):
    _visits(dbs, site_ids["SZ01"], 30)
    client = login("clerk_sz01")
    first = client.get("/visit/").get_data(as_text=True)
    assert _rows(first) == 25
    (words, url), = _pager_links(first)
    assert words == "下一页 »"
    second = client.get(url).get_data(as_text=True)
    assert _rows(second) == 5
    (words, url), = _pager_links(second)
    assert words == "« 上一页"
    assert _rows(client.get(url).get_data(as_text=True)) == 25


def test_the_export_of_a_long_list_holds_every_row_not_a_page(login, site_ids, dbs):
    _visits(dbs, site_ids["SZ01"], 30)
    csv = login("sup_south").get("/visit/export/csv/").get_data(as_text=True)
    assert len(csv.strip().splitlines()) == 1 + 30
