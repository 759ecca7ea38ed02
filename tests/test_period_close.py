"""Month close: a site's figures are stored when its month is over, and stay what they were.

Closing happens by ``flask figures close`` and on first need (the dashboard or the PDF asks for a
month that is over); a correction made later marks the month "amended after close" on the
dashboard, and only a re-close (audited) changes the stored figures and the month-end PDF.
"""

import threading
from datetime import date, datetime, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from portal import clock
from portal.models import AuditEvent, PeriodAmendment, PeriodClose, PeriodFigure, Site, Visit
from portal.services import metrics as m
from portal.services import period_close

NOV = date(2026, 11, 1)
# Beijing time: the first of December, 09:00. November is over at every demo site.
AFTER = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
# 23:30 on the last day of November in Beijing: November is still running.
BEFORE = datetime(2026, 11, 30, 15, 30, tzinfo=timezone.utc)


def _visit(dbs, site_id, at, adults):
    visit = Visit(site_id=site_id, arrived_at=at, adults=adults, children=0)
    dbs.add(visit)
    dbs.commit()
    return visit.id


@pytest.fixture
def november(dbs, site_ids):
    """Two visits of SZ01 in November (5 visitors) and one of SZ02 (3)."""
    sz01, sz02 = site_ids["SZ01"], site_ids["SZ02"]
    first = _visit(dbs, sz01, datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc), 2)
    _visit(dbs, sz01, datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc), 3)
    _visit(dbs, sz02, datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc), 3)
    return {"first_visit": first, **site_ids}


def _stored(dbs, site_id, key="visitors", period="2026-11"):
    dbs.expire_all()
    return dbs.scalar(
        select(PeriodFigure.value).where(
            PeriodFigure.site_id == site_id,
            PeriodFigure.period == period,
            PeriodFigure.figure == key,
        )
    )


def _dashboard_visitors(client, site_code):
    """The visitors cell of a site's row on the dashboard's November page."""
    page = client.get("/dashboard/?period=month&on=2026-11-01").get_data(as_text=True)
    row = page[page.index(f'<tr data-site="{site_code}">') :]
    row = row[: row.index("</tr>")]
    cell = row[row.index('data-metric="visitors">') + len('data-metric="visitors">') :]
    return cell[: cell.index("<")], "amended-after-close" in row


def _correct_first_visit(dbs, ids, adults=10):
    visit = dbs.get(Visit, ids["first_visit"])
    visit.adults = adults
    dbs.commit()


def test_the_cli_closes_every_site_whose_month_is_over_once(app, dbs, november):
    runner = app.test_cli_runner()
    with time_machine.travel(BEFORE, tick=False):
        result = runner.invoke(args=["figures", "close", "--month", "2026-11"])
    assert result.exit_code == 0, result.output
    assert "0 site(s) closed now" in result.output  # November still runs in Beijing
    with time_machine.travel(AFTER, tick=False):
        result = runner.invoke(args=["figures", "close"])  # the last month by default
        assert "2026-11: 4 site(s) closed now" in result.output, result.output
        again = runner.invoke(args=["figures", "close", "--month", "2026-11"])
        assert "2026-11: 0 site(s) closed now, 4 closed in all" in again.output
    assert _stored(dbs, november["SZ01"]) == 5
    assert _stored(dbs, november["SZ02"]) == 3
    figures = dbs.scalar(
        select(func.count()).select_from(PeriodFigure).where(PeriodFigure.period == "2026-11")
    )
    assert figures == 4 * len(m.all_metrics())
    close = dbs.scalar(
        select(PeriodClose).where(
            PeriodClose.site_id == november["SZ01"], PeriodClose.period == "2026-11"
        )
    )
    latest = dbs.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.site_id == close.site_id))
    assert close.source_event_id == latest
    assert close.report is not None and close.report["site"]["code"] == "SZ01"


def test_a_month_still_running_is_computed_live_and_never_stored(app, dbs, login, november):
    with time_machine.travel(BEFORE, tick=False):
        admin = login("admin")
        assert _dashboard_visitors(admin, "SZ01") == ("5", False)
        _visit(dbs, november["SZ01"], datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc), 1)
        assert _dashboard_visitors(admin, "SZ01") == ("6", False)
    # (The trend chart's earlier months are over: they were closed on first need.)
    november_rows = select(func.count()).select_from(PeriodFigure)
    assert dbs.scalar(november_rows.where(PeriodFigure.period == "2026-11")) == 0


def test_a_correction_after_close_changes_nothing_until_the_month_is_closed_again(
    app, dbs, login, november
):
    sz01 = november["SZ01"]
    pdf_url = f"/dashboard/site/{sz01}/2026-11.pdf"
    with time_machine.travel(AFTER, tick=False):
        admin = login("admin")
        # First need: the dashboard closes November as it shows it.
        assert _dashboard_visitors(admin, "SZ01") == ("5", False)
        assert _stored(dbs, sz01) == 5
        first_pdf = admin.get(pdf_url)
        assert first_pdf.status_code == 200
        assert admin.get(pdf_url).data == first_pdf.data  # the same file every time

        # A late correction of a November visit (10 adults instead of 2).
        _correct_first_visit(dbs, november)
        assert _stored(dbs, sz01) == 5
        assert _dashboard_visitors(admin, "SZ01") == ("5", True)  # stored figure, marked
        assert _dashboard_visitors(admin, "SZ02")[1] is False
        assert admin.get(pdf_url).data == first_pdf.data
        amendments = admin.get(f"/dashboard/amendments/{sz01}/2026-11").get_data(as_text=True)
        assert "amendment-list" in amendments and f"#{november['first_visit']}" in amendments
        # The figures of a month still running are not touched: December is live.
        assert dbs.scalar(select(func.count()).select_from(PeriodAmendment)) == 1

        # Head office closes it again: the new figure is stored, the mark goes, it is audited.
        resp = admin.post(f"/dashboard/reclose/{sz01}/2026-11", {})
        assert resp.status_code == 302
        assert _stored(dbs, sz01) == 13
        assert _dashboard_visitors(admin, "SZ01") == ("13", False)
        event = dbs.scalars(
            select(AuditEvent).where(AuditEvent.action == "reclose", AuditEvent.site_id == sz01)
        ).one()
        assert event.after["changed"]["visitors"] == [5, 13]
        assert event.after["amendments"] == 1
        reclosed_pdf = admin.get(pdf_url).data
        assert reclosed_pdf != first_pdf.data
        assert admin.get(pdf_url).data == reclosed_pdf


def test_a_supervisor_recloses_his_region_only(app, dbs, login, november):
    sz01, sh01 = november["SZ01"], november["SH01"]
    with time_machine.travel(AFTER, tick=False):
        period_close.close_month(NOV)
        dbs.commit()
        _correct_first_visit(dbs, november)
        east, south = login("sup_east"), login("sup_south")
        # Another region's site: not found, for the list and the re-close alike.
        assert east.get(f"/dashboard/amendments/{sz01}/2026-11").status_code == 404
        assert east.post(f"/dashboard/reclose/{sz01}/2026-11", {}).status_code == 404
        assert _stored(dbs, sz01) == 5
        # Roles without the dashboard cannot re-close at all.
        clerk = login("clerk_sz01")
        assert clerk.post(f"/dashboard/reclose/{sz01}/2026-11", {}).status_code == 403
        # The site's own supervisor can.
        assert south.post(f"/dashboard/reclose/{sz01}/2026-11", {}).status_code == 302
        assert _stored(dbs, sz01) == 13
        # His own region's site is found, another's is not.
        assert east.get(f"/dashboard/amendments/{sh01}/2026-11").status_code == 200


def test_reclose_needs_a_csrf_token(app, login, november):
    with time_machine.travel(AFTER, tick=False):
        admin = login("admin")
        resp = admin.http.post(f"/dashboard/reclose/{november['SZ01']}/2026-11")
    assert resp.status_code == 400


def test_a_month_not_over_cannot_be_reclosed(app, login, november):
    with time_machine.travel(BEFORE, tick=False):
        admin = login("admin")
        resp = admin.post(f"/dashboard/reclose/{november['SZ01']}/2026-11", {})
    assert resp.status_code == 409


def test_changes_to_records_of_open_months_or_master_data_amend_nothing(app, dbs, november):
    from portal.models import Item

    with time_machine.travel(AFTER, tick=False):
        period_close.close_month(NOV)
        dbs.commit()
        _visit(dbs, november["SZ01"], datetime(2026, 12, 1, 0, 30, tzinfo=timezone.utc), 4)
        item = dbs.scalars(select(Item).where(Item.site_id == november["SZ01"])).first()
        if item is not None:
            item.name = item.name + "（新）"
            dbs.commit()
    assert dbs.scalar(select(func.count()).select_from(PeriodAmendment)) == 0


def test_the_amendments_of_a_site_in_another_zone_name_its_clock(app, dbs, login, november):
    """Head office reads in Beijing time; an Urumqi site's close and corrections are shown on
    the site's clock, which is named."""
    sz01 = november["SZ01"]
    dbs.get(Site, sz01).timezone = "Asia/Urumqi"
    dbs.commit()
    with time_machine.travel(AFTER, tick=False):
        admin = login("admin")
        _dashboard_visitors(admin, "SZ01")  # closes November
        _correct_first_visit(dbs, november)
        page = admin.get(f"/dashboard/amendments/{sz01}/2026-11").get_data(as_text=True)
    # 01:00 UTC is 07:00 in Urumqi (09:00 in Beijing).
    closed_at = page.split('class="text-muted closed-at">', 1)[1].split("</p>", 1)[0]
    assert "2026-12-01 07:00 乌鲁木齐时间" in closed_at
    row = page.split('class="table table-sm amendment-list">', 1)[1].split("</tr>", 2)[1]
    assert "<td>2026-12-01 07:00 乌鲁木齐时间</td>" in row


def test_a_late_entry_and_a_deletion_are_amendments_of_their_month(app, dbs, november):
    sz01 = november["SZ01"]
    with time_machine.travel(AFTER, tick=False):
        period_close.close_month(NOV)
        dbs.commit()
        late = _visit(dbs, sz01, datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc), 1)
        dbs.get(Visit, late).soft_delete()
        dbs.commit()
        # Moving a visit out of November amends November too (its old arrival was there).
        visit = dbs.get(Visit, november["first_visit"])
        visit.arrived_at = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
        dbs.commit()
    rows = dbs.execute(
        select(PeriodAmendment.period, PeriodAmendment.object_id, PeriodAmendment.action).order_by(
            PeriodAmendment.id
        )
    ).all()
    assert rows == [
        ("2026-11", late, "create"),
        ("2026-11", late, "delete"),
        ("2026-11", november["first_visit"], "update"),
    ]


def test_concurrent_closers_store_one_set_of_figures(app, november):
    """Two closers of the same month at once (the dashboard and the CLI, two workers): neither
    fails, and every figure is stored once."""
    errors, barrier = [], threading.Barrier(2)

    def closer():
        try:
            with app.app_context():
                from portal.extensions import db

                with time_machine.travel(AFTER, tick=False):
                    ids = list(db.session.scalars(select(Site.id)))
                    barrier.wait()
                    with m.zone_cache():
                        values = period_close.stored_figures(ids, NOV, m.all_metrics())
                    assert values[november["SZ01"]]["visitors"] == 5
                db.session.remove()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=closer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with app.app_context():
        from portal.extensions import db

        assert db.session.scalar(select(func.count()).select_from(PeriodClose)) == 4
        assert db.session.scalar(select(func.count()).select_from(PeriodFigure)) == 4 * len(
            m.all_metrics()
        )


# ---------------------------------------------------------------- the real browser


def test_supervisor_sees_the_amended_mark_and_recloses_in_the_browser(
    page, live_server, dbs, site_ids
):
    from tests.conftest import browser_login, screenshot

    # Last month of the real clock (the live server runs on it): over, whenever this runs.
    sz01 = dbs.get(Site, site_ids["SZ01"])
    last = m.previous_month(m.month_start(clock.local_day(sz01)))
    visit = _visit(dbs, sz01.id, datetime(last.year, last.month, 12, 2, 0, tzinfo=timezone.utc), 2)
    period_close.close_month(last)
    dbs.commit()
    dbs.get(Visit, visit).adults = 5
    dbs.commit()

    browser_login(page, live_server, "sup_south")
    page.goto(f"{live_server}/dashboard/?period=month&on={last.isoformat()}")
    mark = page.locator('tr[data-site="SZ01"] a.amended-after-close')
    assert mark.inner_text() == "修改于结账后"
    assert page.locator('tr[data-site="SZ02"] a.amended-after-close').count() == 0
    screenshot(page, "period-close-dashboard-amended")

    with page.expect_navigation():
        mark.click()
    assert page.locator("table.amendment-list tbody tr").count() == 1
    assert f"#{visit}" in page.inner_text("table.amendment-list")
    screenshot(page, "period-close-amendments")

    with page.expect_navigation():
        page.click("button.reclose")
    assert "已重新结账" in page.inner_text("body")
    assert page.locator('tr[data-site="SZ01"] a.amended-after-close').count() == 0
    screenshot(page, "period-close-reclosed")
