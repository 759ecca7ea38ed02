"""Grooming and conduct inspections: score = % of points passed; history per person and site."""

from sqlalchemy import select

from portal.models import GROOMING_POINTS, GroomingInspection
from portal.services import grooming
from tests.handover_helpers import site, staff, system_session, user
from tests.querycount import count_queries
from tests.refusals import refused

KEYS = [k for k, _ in GROOMING_POINTS]


def _inspect(s, code="SZ01", failed=("nails",), kind="clerk"):
    person = staff(s, code, kind=kind)
    keys = [p.key for p in grooming.points_of(person)]  # the points of the person's post
    results = [(k, k not in failed, "指甲油颜色偏深" if k in failed else "") for k in keys]
    return grooming.inspect(site(s, code), person, user(s, "sup_south"), results)


def test_score_is_the_share_of_points_passed(dbs):
    assert len(KEYS) == 8
    ins = _inspect(dbs, failed=("nails", "ring"))
    dbs.commit()
    assert ins.score == 75 and [r.point for r in ins.results] == KEYS
    assert grooming.score_of([]) == 0


def test_only_supervisors_inspect_every_point(dbs):
    person = staff(dbs, "SZ01", kind="clerk")
    all_pass = [(k, True, "") for k in KEYS]
    with refused():
        grooming.inspect(site(dbs, "SZ01"), person, user(dbs, "clerk_sz01"), all_pass)
    with refused():
        grooming.inspect(site(dbs, "SZ01"), person, user(dbs, "sup_south"), all_pass[:-1])
    with refused():
        grooming.inspect(site(dbs, "SZ02"), person, user(dbs, "sup_south"), all_pass)


def test_supervisor_inspects_in_the_browser_form(app, login):
    with system_session(app) as s:
        person_id = staff(s, "SZ01", kind="clerk").id
    sup = login("sup_south")
    form = {f"point-{k}": "pass" for k in KEYS}
    resp = sup.post(f"/grooming/inspect/{person_id}", {**form, "point-hair": ""})
    assert resp.status_code == 400 and "请选择合格或不合格" in resp.get_data(as_text=True)
    resp = sup.post(
        f"/grooming/inspect/{person_id}", {**form, "point-hair": "fail", "note-hair": "长发未盘起"}
    )
    assert resp.status_code == 302
    page = sup.get(f"/grooming/person/{person_id}").get_data(as_text=True)
    assert "88%" in page and "长发未盘起" in page
    with system_session(app) as s:
        assert s.scalar(select(GroomingInspection.score)) == 88
    assert login("clerk_sz01").get(f"/grooming/inspect/{person_id}").status_code == 403
    assert login("sup_east").get(f"/grooming/person/{person_id}").status_code == 404


def test_supervisor_sees_scores_of_both_his_sites(app, login):
    with system_session(app) as s:
        _inspect(s, "SZ01", failed=())
        _inspect(s, "SZ02", failed=("makeup", "hair"))
    page = login("sup_south").get("/grooming/").get_data(as_text=True)
    assert "100%" in page and "75%" in page and "深圳湾售楼处" in page and "前海售楼处" in page
    assert "陆家嘴" not in page


def test_grooming_page_query_count_is_constant(app, login):
    c = login("sup_south")
    with system_session(app) as s:
        _inspect(s)
    with count_queries(app) as few:
        c.get("/grooming/")
    with system_session(app) as s:
        for _ in range(5):
            _inspect(s, "SZ02")
            _inspect(s, "SZ01", kind="security")
    with count_queries(app) as many:
        assert c.get("/grooming/").status_code == 200
    assert many.count == few.count and many.count <= 15


def test_history_per_site(app, login):
    with system_session(app) as s:
        _inspect(s, "SZ01", failed=())
        _inspect(s, "SZ02", failed=("makeup", "hair"))
        sz02 = site(s, "SZ02").id
    page = login("sup_south").get(f"/grooming/?site={sz02}").get_data(as_text=True)
    table = page[page.index("grooming-recent") :]
    assert "张丽娜" in table and "李晓梅" not in table.split("</table>")[0]
    # Looking at one site, the people offered for an inspection are that site's.
    people = table.split("</table>")[1]
    assert "SZ02 · " in people and "SZ01 · " not in people
    everyone = login("sup_south").get("/grooming/").get_data(as_text=True)
    assert "SZ01 · " in everyone and "SZ02 · " in everyone
