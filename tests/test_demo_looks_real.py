"""The demo data reads like a real office's: a closed tally counts the day's visitors (not 0
next to 48 drinks) and no repair ticket was due before it was reported."""

from sqlalchemy import select

from portal import devdata
from portal.models import DailyTally, RepairEvent, RepairTicket
from portal.services.visits import day_counts


def test_demo_tallies_count_visitors_and_tickets_are_due_after_reported(app, dbs):
    devdata.seed_history(devdata.seed_demo())
    dbs.commit()
    tallies = dbs.scalars(select(DailyTally).where(DailyTally.closed_at.is_not(None))).all()
    served = [t for t in tallies if t.drinks_served]
    assert len(served) > 30
    for tally in served:
        assert tally.visitors > 0, (tally.site.code, tally.day, tally.drinks_served)
    # The counts are those of the visits themselves, as the tally service counts them.
    for tally in served[::25]:
        assert (tally.visits, tally.visitors) == day_counts(tally.site, tally.day)

    tickets = dbs.scalars(select(RepairTicket)).all()
    assert tickets and any(t.is_overdue() for t in tickets)
    for ticket in tickets:
        assert ticket.due_at > ticket.created_at, (ticket.equipment, ticket.created_at)
    reports = dbs.scalars(select(RepairEvent).where(RepairEvent.kind == "report")).all()
    for event in reports:
        assert event.due_at > event.at, event.ticket_id
