"""Who signs a handover entry: someone on the next shift of the same post (the roster says
who); the clerk alone on her post confirms her own entry at the start of her next shift."""

from datetime import date, timedelta

from sqlalchemy import func, select

from portal import clock
from portal.models import AuditEvent, HandoverEntry, Shift, Site, StaffMember
from portal.services import handover
from tests.handover_helpers import clerk, handed_over, local, on_shift, system_session, user
from tests.refusals import refused


def _signable(dbs, username, at):
    return set(dbs.scalars(handover.signable_entries(user(dbs, username), at)))


def test_someone_on_the_next_shift_of_the_same_post_signs(dbs):
    clerk(dbs, "SZ01", "clerk2_sz01", "陈小雨")
    entry = handed_over(dbs)
    day = entry.written_at.date() + timedelta(days=1)
    on_shift(dbs, "SZ01", "clerk2_sz01", "reception", day)
    on_shift(dbs, "SZ01", "guard_sz01", "door", day)
    on_shift(dbs, "SZ01", "clerk_sz01", "reception", day + timedelta(days=1))
    morning = local(day, 8, 40)
    # Not before her shift starts, and never the guard of the door post or the author.
    assert entry.id not in _signable(dbs, "clerk2_sz01", local(day, 8, 0))
    with refused(409, "Sign the entry once your shift has started."):
        handover.sign(entry, user(dbs, "clerk2_sz01"), at=local(day, 8, 0))
    assert entry.id not in _signable(dbs, "guard_sz01", morning)
    with refused(403, "Only someone on the next shift of this post signs the entry."):
        handover.sign(entry, user(dbs, "guard_sz01"), at=morning)
    with refused(403, "The next shift of this post signs the entry, not its author."):
        handover.sign(entry, user(dbs, "clerk_sz01"), at=local(day, 20))
    assert not entry.is_signed
    assert _signable(dbs, "clerk2_sz01", morning) == {entry.id}
    # As others use it: inside a query of the entries themselves.
    ids = handover.signable_entries(user(dbs, "clerk2_sz01"), morning)
    assert dbs.scalars(select(HandoverEntry).where(HandoverEntry.id.in_(ids))).all() == [entry]
    handover.sign(entry, user(dbs, "clerk2_sz01"), at=morning)
    assert entry.signed_by.username == "clerk2_sz01" and not entry.is_self_confirmed
    assert _signable(dbs, "clerk2_sz01", morning) == set()


def test_the_lone_clerk_confirms_her_own_entry_at_her_next_shift_not_before(dbs):
    entry = handed_over(dbs)
    day = entry.written_at.date() + timedelta(days=1)
    on_shift(dbs, "SZ01", "guard_sz01", "door", day)
    on_shift(dbs, "SZ01", "clerk_sz01", "reception", day)
    msg = (
        "You are the only one on this post: confirm the entry yourself at the start "
        "of your next shift, not during the shift you wrote it in."
    )
    for too_early in (entry.written_at + timedelta(minutes=10), local(day, 8, 0)):
        assert _signable(dbs, "clerk_sz01", too_early) == set()
        with refused(409, msg):
            handover.sign(entry, user(dbs, "clerk_sz01"), at=too_early)
    with refused(403, "Only someone on the next shift of this post signs the entry."):
        handover.sign(entry, user(dbs, "guard_sz01"), at=local(day, 9))
    assert _signable(dbs, "clerk_sz01", local(day, 8, 31)) == {entry.id}
    handover.sign(entry, user(dbs, "clerk_sz01"), at=local(day, 8, 31))
    dbs.commit()
    assert entry.is_self_confirmed and entry.signed_at == local(day, 8, 31)
    audit = dbs.scalar(
        select(AuditEvent).where(
            AuditEvent.object_type == "HandoverEntry",
            AuditEvent.object_id == entry.id,
            AuditEvent.action == "confirm_self",
        )
    )
    assert audit.summary == str(entry)


def test_alone_on_the_post_with_nobody_planned_she_confirms_at_her_next_shift(dbs):
    entry = handed_over(dbs, author="guard_sz01", post="door")
    # No door shift planned after the entry: the guard's next shift (even on another post).
    day = entry.written_at.date() + timedelta(days=2)
    assert _signable(dbs, "guard_sz01", local(day, 9)) == set()
    on_shift(dbs, "SZ01", "guard_sz01", "reception", day)
    assert _signable(dbs, "guard_sz01", local(day, 9)) == {entry.id}
    assert _signable(dbs, "clerk_sz01", local(day, 9)) == set()


def test_the_book_shows_confirm_only_to_whom_it_falls(login, app):
    with system_session(app) as s:
        entry = handed_over(s, day=None)
        entry_id, day = entry.id, entry.written_at.date() + timedelta(days=1)
        on_shift(s, "SZ01", "clerk_sz01", "reception", day)
        on_shift(s, "SZ01", "guard_sz01", "door", day)
    # The entry was written weeks ago and her next shift has started since: she confirms.
    guard = login("guard_sz01")
    page = guard.get("/handover/").get_data(as_text=True)
    assert f'action="/handover/sign/{entry_id}"' not in page
    resp = guard.post(f"/handover/sign/{entry_id}")
    assert resp.status_code == 403 and "只有该岗位下一班" in resp.get_data(as_text=True)
    clerk_ = login("clerk_sz01")
    page = clerk_.get("/handover/").get_data(as_text=True)
    assert f'action="/handover/sign/{entry_id}"' in page and "本人接班确认" in page
    assert clerk_.post(f"/handover/sign/{entry_id}").status_code == 302
    with system_session(app) as s:
        signed = s.get(HandoverEntry, entry_id)
        assert signed.is_self_confirmed
    page = clerk_.get(f"/handover/entry/{entry_id}").get_data(as_text=True)
    assert "本人接班确认" in page


def _fits_the_rule(dbs, entry):
    """Was ``entry`` taken over as the rule says, by the roster of its site?"""
    takers = handover.next_shift_people(entry)
    others = [s for s in takers if s.staff_member.user_id not in (None, entry.author_id)]
    if not entry.is_self_confirmed:
        return any(
            s.staff_member.user_id == entry.signed_by_id and s.starts_at <= entry.signed_at
            for s in others
        )
    own_next = dbs.scalar(
        select(func.min(Shift.starts_at))
        .join(StaffMember, Shift.staff_member_id == StaffMember.id)
        .where(StaffMember.user_id == entry.author_id, Shift.starts_at > entry.written_at)
    )
    return not others and own_next is not None and own_next <= entry.signed_at


def test_demo_data_signs_no_entry_by_its_author_but_as_a_confirmation_at_her_next_shift(app, dbs):
    from portal import devdata

    devdata.seed_demo()
    signed = dbs.scalars(select(HandoverEntry).where(HandoverEntry.signed_at.is_not(None))).all()
    assert signed
    assert [e.id for e in signed if not _fits_the_rule(dbs, e)] == []
    # The history (seeded outside tests) and the benchmark's: self-confirmed the next morning,
    # never the evening they were written, never by another post.
    from portal.devdata.handover import history
    from portal.devdata.history import SitePast, CHARACTERS, history_days

    site_ = dbs.scalar(select(Site).where(Site.code == "SZ01"))
    history(
        SitePast(site_, "SZ01", CHARACTERS["SZ01"], history_days(local(date.today(), 0).date(), 5))
    )
    dbs.flush()
    past = dbs.scalars(select(HandoverEntry).where(HandoverEntry.outgoing_shift_id.is_(None))).all()
    assert past
    for e in past:
        assert e.signed_by_id == e.author_id
        assert clock.to_local(e.signed_at, site_) >= local(
            clock.to_local(e.written_at, site_).date() + timedelta(days=1), 8, 30
        )
