"""The migrations: ``flask db upgrade`` on an empty database builds exactly the schema the models
describe, insert-only triggers included, and a downgrade takes everything away again."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError, IntegrityError

from portal import create_app
from portal.extensions import db
from tests.conftest import TEST_CONFIG, _make_database


@pytest.fixture
def migrated_app(tmp_path_factory):
    """The app on a new, empty database of the test server's kind (SQLite or PostgreSQL)."""
    url, cleanup = _make_database(tmp_path_factory)
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    yield application
    with application.app_context():
        db.engine.dispose()
    cleanup()


def _flask_db(application, *args):
    """Run ``flask db ...`` as an operator would."""
    result = application.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, result.output
    return result


def _differences(conn):
    return compare_metadata(
        MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
    )


def _triggers(conn):
    """{name: definition} of the database's triggers (and PostgreSQL's trigger function)."""
    if conn.dialect.name == "sqlite":
        return dict(
            conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
        )
    triggers = "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal"
    functions = (
        "SELECT proname, pg_get_functiondef(oid) FROM pg_proc WHERE proname = 'portal_append_only'"
    )
    return dict(conn.execute(text(f"{triggers} UNION ALL {functions}")).all())


def _tables(conn):
    if conn.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        query = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return set(conn.execute(text(query)).scalars())


def test_migrations_build_the_schema_the_models_describe(migrated_app):
    with migrated_app.app_context():
        _flask_db(migrated_app, "upgrade")
        with db.engine.connect() as conn:
            assert _differences(conn) == [], "models and migrations differ"


def test_migrated_triggers_are_the_ones_the_models_create(migrated_app, app):
    """The migration spells the insert-only triggers out; the test schema gets them from the
    models."""
    with app.app_context(), db.engine.connect() as conn:
        from_models = _triggers(conn)
    with migrated_app.app_context():
        _flask_db(migrated_app, "upgrade")
        with db.engine.connect() as conn:
            migrated = _triggers(conn)
    assert {
        "audit_event_no_update",
        "audit_event_no_delete",
        "handover_entry_no_update",
        "handover_entry_no_delete",
    } <= set(migrated)
    assert migrated == from_models


AUDIT_ROW = (
    "INSERT INTO audit_event (at, action, object_type, prev_hash, hash) "
    "VALUES (CURRENT_TIMESTAMP, 'note', 'Test', :prev, :hash)"
)


def test_migrated_audit_trail_is_insert_only_and_sealed(migrated_app):
    with migrated_app.app_context():
        _flask_db(migrated_app, "upgrade")
        with db.engine.begin() as conn:
            conn.execute(text(AUDIT_ROW), {"prev": "0" * 64, "hash": "a" * 64})
        for statement in ("UPDATE audit_event SET summary = 'forged'", "DELETE FROM audit_event"):
            with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
                conn.execute(text(statement))
        # Every row is sealed in the hash chain: the database refuses a row without its hashes.
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text(AUDIT_ROW), {"prev": "0" * 64, "hash": None})
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT summary, hash FROM audit_event")).all() == [
                (None, "a" * 64)
            ]


def test_upgrade_downgrade_upgrade(migrated_app):
    with migrated_app.app_context():
        _flask_db(migrated_app, "upgrade")
        _flask_db(migrated_app, "downgrade", "base")
        with db.engine.connect() as conn:
            assert _tables(conn) == {"alembic_version"}
            assert _triggers(conn) == {}
        _flask_db(migrated_app, "upgrade")
        with db.engine.connect() as conn:
            assert _differences(conn) == []
            assert len(_triggers(conn)) >= 4
