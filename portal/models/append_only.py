"""Insert-only tables, enforced by the database itself (not by the ORM).

A trigger refuses every UPDATE and DELETE of the table, so neither a bug, a raw SQL
statement nor a person with the application's database login can rewrite history.

Usage (in the model module, right after the model class)::

    from portal.models.append_only import make_append_only
    make_append_only(AuditEvent.__table__)
    # rows may be updated only while unsigned; signed ones are frozen:
    make_append_only(HandoverEntry.__table__, allow_update_where="OLD.signed_at IS NULL")

``make_append_only`` makes ``db.create_all()`` create the triggers (test schema). The
migrations write the same SQL out in full (migrations/versions/0001_initial.py): a migration
never imports application code, which changes after it; a test checks that both agree.

``allow_update_where`` is an SQL condition over ``OLD``/``NEW`` (same syntax on SQLite and
PostgreSQL) under which an UPDATE is let through; DELETE is always refused.

On PostgreSQL, TRUNCATE (used by the test suite to wipe the database) is not a row
operation and is not blocked; the application never truncates.
"""

from contextlib import contextmanager

from sqlalchemy import DDL, event, text

MESSAGE = "append-only"
_TABLES = {}  # table name -> allow_update_where, for ``suspended``


def _pg_function():
    return (
        "CREATE OR REPLACE FUNCTION portal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  RAISE EXCEPTION '{MESSAGE}: % on % is not allowed', TG_OP, TG_TABLE_NAME\n"
        "    USING ERRCODE = 'insufficient_privilege';\n"
        "END $$"
    )


def append_only_ddl(table_name, dialect_name, allow_update_where=None):
    """The SQL statements that make ``table_name`` insert-only on this dialect."""
    update_when = f" WHEN (NOT ({allow_update_where}))" if allow_update_where else ""
    if dialect_name == "sqlite":
        raise_ = f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        return [
            f"CREATE TRIGGER {table_name}_no_update BEFORE UPDATE ON {table_name} "
            f"FOR EACH ROW{update_when} {raise_}",
            f"CREATE TRIGGER {table_name}_no_delete BEFORE DELETE ON {table_name} "
            f"FOR EACH ROW {raise_}",
        ]
    if dialect_name == "postgresql":
        return [
            _pg_function(),
            f"CREATE TRIGGER {table_name}_no_update BEFORE UPDATE ON {table_name} "
            f"FOR EACH ROW{update_when} EXECUTE FUNCTION portal_append_only()",
            f"CREATE TRIGGER {table_name}_no_delete BEFORE DELETE ON {table_name} FOR EACH ROW "
            "EXECUTE FUNCTION portal_append_only()",
        ]
    # The portal runs on SQLite and PostgreSQL only; another database would hold the audit
    # trail without its insert-only guarantee, so it is refused outright.
    raise RuntimeError(
        f"the portal supports SQLite and PostgreSQL, not {dialect_name}: "
        "no append-only triggers for the audit trail"
    )


def drop_append_only_ddl(table_name, dialect_name):
    """The statements that remove the triggers again (downgrade, restore tooling, tests)."""
    on = f" ON {table_name}" if dialect_name == "postgresql" else ""
    return [f"DROP TRIGGER IF EXISTS {table_name}_{op}{on}" for op in ("no_update", "no_delete")]


def make_append_only(table, allow_update_where=None):
    """Create the triggers whenever ``table`` is created by ``metadata.create_all``."""
    _TABLES[table.name] = allow_update_where

    def _create(target, connection, **kw):
        for statement in append_only_ddl(target.name, connection.dialect.name, allow_update_where):
            connection.execute(DDL(statement.replace("%", "%%")))

    event.listen(table, "after_create", _create)
    return table


def tables():
    """Names of the insert-only tables."""
    return frozenset(_TABLES)


@contextmanager
def suspended(connection):
    """Drop the triggers of every append-only table for the block, then put them back.

    Only for wiping a test database or restoring a backup — never in the application.
    """
    dialect = connection.dialect.name
    for name in _TABLES:
        for statement in drop_append_only_ddl(name, dialect):
            connection.execute(text(statement))
    try:
        yield connection
    finally:
        for name, where in _TABLES.items():
            for statement in append_only_ddl(name, dialect, where):
                connection.execute(text(statement.replace(":", "\\:")))
