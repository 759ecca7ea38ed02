"""Dashboard details a supervisor reads: sites that score the same share a place (1, 2, 2, 4),
the month in progress is drawn and labelled as partial, and the checklist drill-down marks
the late and the missing runs."""

import re
from datetime import date, timedelta

from portal import clock
from portal.models import Region, Site, StaffMember
from tests.test_figures_true import ur01  # noqa: F401 (fixture: a site with November's facts)


def _ranking(page):
    block = page.split('id="ranking"')[1].split("</ol>")[0]
    return re.findall(r'data-place="(\d+)"><span>\d+\. (\w+) ', block)


def test_sites_that_score_the_same_share_a_place(login, dbs):
    region = Region(code="WEST", name="西区")
    dbs.add(region)
    dbs.flush()
    # Alike in everything but the people on their roster: 3, 2, 2 and 1.
    for code, people in (("XA01", 3), ("XA02", 2), ("XA03", 2), ("XA04", 1)):
        site = Site(code=code, name=f"{code} 售楼处", region=region, opened_on=date(2020, 1, 1))
        dbs.add(site)
        dbs.flush()
        dbs.add_all(
            StaffMember(site_id=site.id, name=f"{code}员工{n}", kind="cleaner")
            for n in range(people)
        )
    dbs.commit()
    page = login("admin").get(f"/dashboard/?period=month&region={region.id}")
    assert page.status_code == 200
    assert _ranking(page.get_data(as_text=True)) == [
        ("1", "XA01"),
        ("2", "XA02"),
        ("2", "XA03"),
        ("4", "XA04"),
    ]


def test_the_month_in_progress_is_drawn_as_partial(login):
    today = clock.local_day(clock.DEFAULT_ZONE)
    client = login("admin")
    page = client.get("/dashboard/?period=month").get_data(as_text=True)
    charts = page.split('id="charts"')[-1] if 'id="charts"' in page else page
    assert f"本月截至{today.day}日" in charts  # the trend's last month, shaded and labelled
    assert f"· 截至{today.day}日" in charts  # the bar chart's title
    last_month = today.replace(day=1) - timedelta(days=1)
    page = client.get(f"/dashboard/?period=month&on={last_month}").get_data(as_text=True)
    assert "本月截至" not in page and "· 截至" not in page  # a month that is over is whole


def test_checklist_drill_down_marks_late_and_missing_runs(login, ur01):  # noqa: F811
    url = (
        f"/dashboard/records/?metric=checklists_on_time&site={ur01.id}"
        "&start=2026-11-01&end=2026-11-30"
    )
    page = login("admin").get(url).get_data(as_text=True)
    marks = {}
    for attrs, cells in re.findall(r"<tr data-record=\"[^\"]+\"([^>]*)>(.*?)</tr>", page, re.S):
        day, kind = re.findall(r"<td>([^<]*)</td>", cells)[:2]
        mark = re.search(r'data-mark="(\w+)"', attrs)
        marks[(day, kind)] = mark.group(1) if mark else None
    assert marks[("2026-11-28", "开店")] is None  # done at 10:00 sharp: on time
    assert marks[("2026-11-28", "闭店")] == "late"  # a second past 18:00
    assert marks[("2026-11-29", "开店")] == "missing"  # done with nothing answered
    assert marks[("2026-11-30", "开店")] == "missing"  # no run at all
    assert 'class="record-late"' in page and 'class="record-missing"' in page
