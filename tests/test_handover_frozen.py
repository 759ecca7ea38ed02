"""A signed handover entry is frozen by the database itself, not only by the app."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from portal.services import handover
from tests.handover_helpers import sign_as, site, user


def _entries(dbs):
    author = user(dbs, "clerk_sz01")
    signed = handover.write_entry(site(dbs, "SZ01"), author, "交接：门窗已关闭")
    open_entry = handover.write_entry(site(dbs, "SZ01"), author, "交接：明早备茶水")
    dbs.flush()
    sign_as(dbs, signed, "guard_sz01")  # on the front desk's next shift
    dbs.commit()
    return signed.id, open_entry.id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE handover_entry SET text = '改过的内容' WHERE id = :id",
        "UPDATE handover_entry SET signed_at = NULL WHERE id = :id",
        "DELETE FROM handover_entry WHERE id = :id",
    ],
)
def test_raw_sql_cannot_change_a_signed_entry(dbs, statement):
    signed_id, _ = _entries(dbs)
    with pytest.raises(DatabaseError):
        dbs.execute(text(statement), {"id": signed_id})
        dbs.flush()
    dbs.rollback()
    assert (
        dbs.execute(
            text("SELECT text FROM handover_entry WHERE id = :id"), {"id": signed_id}
        ).scalar()
        == "交接：门窗已关闭"
    )


def test_an_unsigned_entry_can_still_be_corrected(dbs):
    _, open_id = _entries(dbs)
    dbs.execute(
        text("UPDATE handover_entry SET text = '交接：明早 10 点备茶水' WHERE id = :id"),
        {"id": open_id},
    )
    dbs.commit()
    assert (
        dbs.execute(
            text("SELECT text FROM handover_entry WHERE id = :id"), {"id": open_id}
        ).scalar()
        == "交接：明早 10 点备茶水"
    )
