"""Sites in set-up, newly opened or closed are listed with their own figures and a badge, but
left out of the region's averages and ranking — on the dashboard and in the region PDF. A site
closed last month still counts in the month before; a closed site's expected duty days stop
on its closing day."""

import re
import subprocess
from datetime import date, datetime, time, timedelta

import time_machine
from sqlalchemy import select

from portal import clock
from portal.models import Region, Site, StaffMember
from portal.reports import pdf
from portal.services import metrics as m
from portal.services import report_data

KEY = "staff_on_roster"  # a whole number per site, easy to move: people on the roster


def _travel_day():
    """A day of the current month that leaves room for a site opened after the 1st."""
    today = clock.local_day(clock.DEFAULT_ZONE)
    return today if today.day >= 3 else today.replace(day=3)


def _at(day):
    return datetime.combine(day, time(12, 0), tzinfo=clock.DEFAULT_ZONE)


def _site(dbs, code, people, **kw):
    region = dbs.scalar(select(Region).where(Region.code == "SOUTH"))
    site = Site(code=code, name=f"{code} 售楼处", region=region, **kw)
    dbs.add(site)
    dbs.flush()
    for n in range(people):
        dbs.add(StaffMember(site_id=site.id, name=f"{code}员工{n}", kind="cleaner"))
    dbs.commit()
    return site.id


def _row(page, code):
    return page.split(f'<tr data-site="{code}">')[1].split("</tr>")[0]


def _value(page, code):
    found = re.search(rf'data-metric="{KEY}">([\d,]+)</a>', _row(page, code))
    return int(found.group(1).replace(",", ""))


def _south_average(page):
    heads = re.findall(r'class="sort-link" data-metric="(\w+)"', page.split("</thead>")[0])
    avg = page.split('<tr class="region-average">')[1].split("</tr>")[0]
    assert "华南区" in avg
    cells = re.findall(r'<td class="text-right">([^<]*)</td>', avg)
    return cells[heads.index(KEY)]


def _ranking(page):
    block = page.split('id="ranking"')[1].split("</ol>")[0]
    return re.findall(r"\d+\. (\w+) ", block)


def test_setup_and_new_sites_are_marked_and_do_not_move_the_average(login, dbs, app):
    day = _travel_day()
    with time_machine.travel(_at(day) - timedelta(hours=1), tick=False):
        _site(dbs, "SZ03", 40, status="setup")  # 40 people would lift the average a lot
        _site(dbs, "SZ04", 30, status="open", opened_on=day - timedelta(days=1))
    with time_machine.travel(_at(day), tick=False):
        page = login("sup_south").get("/dashboard/").get_data(as_text=True)
        assert "筹备中" in _row(page, "SZ03") and 'data-standing="setup"' in _row(page, "SZ03")
        assert "新开业" in _row(page, "SZ04") and 'data-standing="new"' in _row(page, "SZ04")
        for code in ("SZ01", "SZ02"):
            assert "standing-badge" not in _row(page, code)
        # Their own figures are shown ...
        assert _value(page, "SZ04") == 30
        _value(page, "SZ03")  # whatever its figures say while in set-up, shown as they are
        # ... but the region's average is that of SZ01 and SZ02 alone (a hand computation from
        # the page's own values), and only they are ranked.
        counted = [_value(page, "SZ01"), _value(page, "SZ02")]
        assert _south_average(page) == f"{sum(counted) / 2:,.1f}"
        assert sorted(_ranking(page)) == ["SZ01", "SZ02"]
        assert "deviation" not in _row(page, "SZ03") + _row(page, "SZ04")
        # The legend says why.
        assert 'id="left-out"' in page and "未计入平均值和排名" in page
        assert "只营业了部分期间的数据不能与整期相比" in page
        assert "* 未计入平均线：SZ03, SZ04" in page

        # The region PDF agrees: the month's data and the PDF's text.
        with app.app_context():
            south = dbs.scalar(select(Region.id).where(Region.code == "SOUTH"))
            data = report_data.region_month(south, m.month_start(day))
        by_code = {r["site"]["code"]: r for r in data["rows"]}
        assert "SZ03" not in by_code  # in set-up: no working day in the month
        assert by_code["SZ04"]["standing"] == "new" and not by_code["SZ04"]["counted"]
        i = [c["key"] for c in data["columns"]].index(KEY)
        pdf_counted = [by_code[c]["cells"][i]["value"] for c in ("SZ01", "SZ02")]
        assert data["averages"][i]["value"] == sum(pdf_counted) / 2
        assert sorted(r["site"].split()[0] for r in data["ranking"]) == ["SZ01", "SZ02"]
        assert [r["site"].split()[0] for r in data["left_out"]] == ["SZ04"]
        body = pdf.region_report_pdf(data)
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=body, capture_output=True, check=True
        ).stdout.decode()
        assert "新开业" in text and "未计入平均值和排名" in text

        # A period that does not include today does not list the site in set-up.
        last_month = m.previous_month(m.month_start(day))
        earlier = login("sup_south").get(f"/dashboard/?period=month&on={last_month}")
        assert 'data-site="SZ03"' not in earlier.get_data(as_text=True)


def test_a_site_closed_last_month_still_counts_the_month_before(login, dbs, app):
    day = _travel_day()
    this_month = m.month_start(day)
    last_month = m.previous_month(this_month)
    month_before = m.previous_month(last_month)
    with time_machine.travel(_at(month_before - timedelta(days=40)), tick=False):
        sid = _site(dbs, "SZ05", 3, status="open", opened_on=month_before - timedelta(days=40))
    with time_machine.travel(_at(last_month + timedelta(days=9)), tick=False):
        site = dbs.get(Site, sid)
        site.status = "closed"
        dbs.commit()
    with time_machine.travel(_at(day), tick=False):
        client = login("sup_south")
        before = client.get(f"/dashboard/?period=month&on={month_before}").get_data(as_text=True)
        assert "standing-badge" not in _row(before, "SZ05")
        assert "SZ05" in _ranking(before)
        values = [_value(before, c) for c in ("SZ01", "SZ02", "SZ05")]
        assert _south_average(before) == f"{sum(values) / 3:,.1f}"
        last = client.get(f"/dashboard/?period=month&on={last_month}").get_data(as_text=True)
        assert "已关闭" in _row(last, "SZ05") and 'data-standing="closed"' in _row(last, "SZ05")
        assert "SZ05" not in _ranking(last)
        now = client.get("/dashboard/").get_data(as_text=True)
        assert 'data-site="SZ05"' not in now  # did not work this month
        # Its expected daily duties stop on its closing day: the completion rate of the month
        # it closed does not fall for the days after.
        with app.app_context():
            days = m.counted_days([sid], last_month, m.month_end(last_month))[sid]
        assert days == [last_month + timedelta(days=n) for n in range(10)]


def test_standing_of_a_running_period():
    from portal.services.standing import last_counted_day

    assert last_counted_day(date(2026, 12, 31), date(2026, 12, 4)) == date(2026, 12, 4)
    assert last_counted_day(date(2026, 11, 30), date(2026, 12, 4)) == date(2026, 11, 30)
