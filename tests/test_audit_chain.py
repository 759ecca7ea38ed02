"""The audit trail is insert-only (database triggers) and tamper-evident (hash chain per site)."""

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from portal.extensions import db
from portal.models import AuditEvent, StaffMember
from portal.services import audit
from portal.models.append_only import append_only_ddl, drop_append_only_ddl


def _verify(app):
    with app.app_context(), db.engine.connect() as conn:
        return audit.verify(conn)


def _cli_verify(app):
    with app.app_context():  # as the flask command line does
        return app.test_cli_runner().invoke(args=["audit", "verify"])


def _add_staff(session, site_id, name):
    session.add(StaffMember(site_id=site_id, name=name, kind="cleaner"))
    session.commit()


def test_demo_data_chain_verifies(app, dbs, site_ids):
    _add_staff(dbs, site_ids["SZ01"], "保洁 张")
    events = dbs.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert events and all(e.hash for e in events)
    sz01 = [e for e in events if e.site_id == site_ids["SZ01"]]
    # Each row of a site's chain points at the previous row of the same site.
    assert sz01[0].prev_hash == audit.GENESIS and sz01[-1].prev_hash == sz01[-2].hash
    assert _verify(app) is None
    result = _cli_verify(app)
    assert result.exit_code == 0 and "audit chain OK" in result.output


def test_orm_update_and_delete_are_refused(dbs, site_ids):
    _add_staff(dbs, site_ids["SZ01"], "保洁 李")
    event = dbs.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    event.summary = "nothing happened"
    with pytest.raises(DatabaseError, match="append-only"):
        dbs.commit()
    dbs.rollback()
    dbs.delete(dbs.get(AuditEvent, event.id))
    with pytest.raises(DatabaseError, match="append-only"):
        dbs.commit()
    dbs.rollback()
    assert dbs.get(AuditEvent, event.id).summary != "nothing happened"


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_event SET summary = 'x'", "DELETE FROM audit_event"]
)
def test_raw_sql_update_and_delete_are_refused(app, dbs, statement):
    count = dbs.scalar(select(db.func.count()).select_from(AuditEvent))
    assert count > 0
    with app.app_context(), pytest.raises(DatabaseError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(text(statement))
    assert dbs.scalar(select(db.func.count()).select_from(AuditEvent)) == count


def _tamper(app, statement):
    """What an attacker with DDL rights could do: drop the trigger, edit, put the trigger back."""
    with app.app_context(), db.engine.begin() as conn:
        dialect = conn.dialect.name
        for ddl in drop_append_only_ddl("audit_event", dialect):
            conn.execute(text(ddl))
        conn.execute(text(statement))
        for ddl in append_only_ddl("audit_event", dialect):
            conn.execute(text(ddl))


def test_edited_row_is_detected(app, dbs, site_ids):
    for name in ("甲", "乙", "丙"):
        _add_staff(dbs, site_ids["SZ02"], name)
    target = dbs.scalars(
        select(AuditEvent.id)
        .where(AuditEvent.site_id == site_ids["SZ02"])
        .order_by(AuditEvent.id.desc())
    ).all()[1]
    dbs.rollback()  # release the read lock: the tampering below drops a trigger
    _tamper(app, f"UPDATE audit_event SET summary = 'forged' WHERE id = {target}")
    assert _verify(app)[:2] == (site_ids["SZ02"], target)
    result = _cli_verify(app)
    assert result.exit_code == 1
    assert f"site={site_ids['SZ02']} event={target}" in result.output


def test_removed_row_is_detected(app, dbs, site_ids):
    for name in ("甲", "乙", "丙"):
        _add_staff(dbs, site_ids["SZ02"], name)
    ids = dbs.scalars(
        select(AuditEvent.id)
        .where(AuditEvent.site_id == site_ids["SZ02"])
        .order_by(AuditEvent.id.desc())
    ).all()
    dbs.rollback()
    _tamper(app, f"DELETE FROM audit_event WHERE id = {ids[1]}")
    # The row after the removed one no longer links to its predecessor.
    assert _verify(app)[:2] == (site_ids["SZ02"], ids[0])


def test_concurrent_writers_keep_every_chain_valid(app, site_ids):
    errors = []

    def writer(n):
        try:
            with app.app_context():
                for i in range(8):
                    site = site_ids["SZ01"] if i % 2 else site_ids["SZ02"]
                    db.session.add(StaffMember(site_id=site, name=f"w{n}-{i}", kind="other"))
                    db.session.flush()
                    audit.record("note", object_type="Test", site_id=site, summary=f"w{n}-{i}")
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # reported below, a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _verify(app) is None
    with app.app_context():
        notes = db.session.scalar(
            select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "note")
        )
        db.session.remove()
    assert notes == 32
