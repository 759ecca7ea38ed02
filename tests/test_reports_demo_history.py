"""The demo-history generator skeleton: deterministic streams and the days it fills."""
from datetime import date

from portal.services import demo_history


def test_same_site_and_day_give_the_same_numbers():
    a = demo_history.rng_for("SZ01", date(2026, 11, 3))
    b = demo_history.rng_for("SZ01", date(2026, 11, 3))
    c = demo_history.rng_for("SZ02", date(2026, 11, 3))
    first = [a.random() for _ in range(3)]
    assert first == [b.random() for _ in range(3)] != [c.random() for _ in range(3)]


def test_history_covers_three_months_before_today():
    days = demo_history.history_days(date(2026, 11, 27))
    assert days[0] == date(2026, 8, 27) and days[-1] == date(2026, 11, 26) and len(days) == 92


def test_seed_is_a_no_op_without_generators(dbs, site_ids):
    from portal.models import Site

    sites = {s.code: s for s in dbs.query(Site)}
    demo_history.seed(sites)  # must not fail nor write
    assert not dbs.new and not dbs.dirty
