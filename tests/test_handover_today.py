"""The Today sections this domain registers (rendered on the clerk's and security's landing
page)."""

from datetime import timedelta

from flask import render_template

from portal.models import utcnow
from portal.services import cleaning, handover, roster
from portal.services.today import sections_for
from tests.handover_helpers import site, staff, user


def test_sections_put_unsigned_handover_first_and_render(app, dbs):
    where = site(dbs, "SZ01")
    # Written at the end of the guard's shift on the front desk; the clerk's shift there has
    # started since, so hers is the sign button.
    now = utcnow()
    handover.write_entry(
        where,
        user(dbs, "guard_sz01"),
        "夜班：大门感应门偶尔不开",
        ["继续观察感应门"],
        at=now - timedelta(hours=2),
    )
    roster.plan(
        where,
        "reception",
        staff(dbs, "SZ01", username="clerk_sz01"),
        now - timedelta(hours=1),
        now + timedelta(hours=7),
    )
    areas = cleaning.ensure_default_areas(where)
    cleaning.inspect(
        where,
        user(dbs, "guard_sz01"),
        [(areas[0], False, "地面有水渍")],
        cleaner=staff(dbs, "SZ01", kind="cleaner"),
        due_at=utcnow(),
    )
    dbs.commit()
    clerk = user(dbs, "clerk_sz01")
    sections = sections_for(where, utcnow().date(), clerk)
    keys = [s.key for s, _ in sections]
    assert keys[0] == "handover" and {"on_duty", "cleaning", "breaks"} <= set(keys)
    with app.test_request_context("/"):
        html = {s.key: render_template(s.template, data=data) for s, data in sections}
    assert "夜班：大门感应门偶尔不开" in html["handover"] and "/handover/sign/" in html["handover"]
    assert "已逾期" in html["cleaning"] and "地面有水渍" in html["cleaning"]
    assert 'id="start-break"' in html["breaks"]
    # The author sees her entry but no sign button on it.
    guard_sections = dict(
        (s.key, d) for s, d in sections_for(where, utcnow().date(), user(dbs, "guard_sz01"))
    )
    with app.test_request_context("/"):
        guard_html = render_template("handover/_today.html", data=guard_sections["handover"])
    assert "/handover/sign/" not in guard_html
    # Sales has no Today sections of this domain.
    assert not [
        s
        for s, _ in sections_for(where, utcnow().date(), user(dbs, "sales_sz01"))
        if s.key in ("handover", "cleaning")
    ]


def test_demo_week_for_sz01_is_complete_and_idempotent(app, dbs):
    from sqlalchemy import func, select

    from portal.models import BreakLog, CleaningInspection, GroomingInspection, HandoverEntry, Shift
    from portal import devdata

    devdata.seed_demo()
    counts = lambda: {  # noqa: E731
        m.__name__: dbs.scalar(
            select(func.count()).select_from(m).where(m.site_id == site(dbs, "SZ01").id)
        )
        for m in (Shift, HandoverEntry, CleaningInspection, GroomingInspection, BreakLog)
    }
    first = counts()
    assert first["HandoverEntry"] == 7 and first["CleaningInspection"] == 7 and first["Shift"] >= 14
    assert first["GroomingInspection"] >= 2 and first["BreakLog"] >= 7
    devdata.seed_demo()
    assert counts() == first
    unsigned = dbs.scalars(
        select(HandoverEntry).where(
            HandoverEntry.signed_at.is_(None), HandoverEntry.site_id == site(dbs, "SZ01").id
        )
    ).all()
    assert len(unsigned) == 1 and unsigned[0].items
