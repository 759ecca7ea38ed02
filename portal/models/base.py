"""Column types and mixins shared by every domain."""

from contextvars import ContextVar
from datetime import datetime, timezone

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, TypeDecorator
from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.sql.functions import FunctionElement

from portal import clock
from portal.extensions import db

# Who is acting right now (set per request by the app, per command by the CLI).
# Models read it to fill created_by/updated_by without knowing about requests.
current_actor_id: ContextVar[int | None] = ContextVar("current_actor_id", default=None)


def utcnow():
    """The column defaults' "now": reads ``clock.now()`` at call time, so moving the clock in a
    test moves them too. Code outside column definitions calls ``clock.now()`` itself."""
    return clock.now()


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime")
        value = value.astimezone(timezone.utc)
        # SQLite stores text: keep it naive-UTC there so string comparison sorts correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class epoch_microseconds(FunctionElement):  # noqa: N801 (used like a SQL function)
    """SQL: a ``UTCDateTime`` column as whole microseconds since 1970, exact on both databases,
    so a query can compare two instants' distance (``a - b > 1_000_000``) in the database."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_microseconds, "postgresql")
def _epoch_microseconds_pg(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"


@compiles(epoch_microseconds, "sqlite")
def _epoch_microseconds_sqlite(element, compiler, **kw):
    # Stored as naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff": whole seconds, then the digits.
    column = compiler.process(element.clauses, **kw)
    return (
        f"(CAST(strftime('%s', {column}) AS INTEGER) * 1000000"
        f" + CAST(substr({column}, 21, 6) AS INTEGER))"
    )


_INT_ARRAY = postgresql.ARRAY(Integer)


class _among(FunctionElement):  # noqa: N801 (used like a SQL operator)
    type = Boolean()
    inherit_cache = True
    # A condition in itself: never compared with true/false around it.
    _is_implicitly_boolean = True


def among(column, ids):
    """SQL: ``column IN ids``. On PostgreSQL the ids go as ONE array parameter
    (``column = ANY(:ids)``): an ``IN`` of 200 site ids is 200 parameters, and psycopg parses
    such a statement again on every execution (it keeps only statements of up to 50
    parameters): at 200 sites, 15 % of the all-sites dashboard's time in Python. SQLite keeps
    the list of literals: its planner moves them into each branch of an ``OR`` (a site's period
    cut per time zone) and reads the (site, time) index; from a parameter it cannot."""
    ids = list(ids)
    if db.session.get_bind().dialect.name != "postgresql":
        return column.in_(ids)
    return _among(column, bindparam(None, sorted({int(i) for i in ids}), type_=_INT_ARRAY))


@compiles(_among, "postgresql")
def _among_pg(element, compiler, **kw):
    column, ids = element.clauses
    return f"{compiler.process(column, **kw)} = ANY({compiler.process(ids, **kw)})"


class TimestampMixin:
    """created/updated at (UTC) and by (user id)."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:
        return mapped_column(
            Integer, ForeignKey("user_account.id"), default=lambda: current_actor_id.get()
        )

    @declared_attr
    def updated_by_id(cls) -> Mapped[int | None]:
        return mapped_column(
            Integer,
            ForeignKey("user_account.id"),
            default=lambda: current_actor_id.get(),
            onupdate=lambda: current_actor_id.get(),
        )


class SoftDeleteMixin:
    """Rows that reports need are hidden, never removed; the scope layer filters them out."""

    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @declared_attr
    def deleted_by_id(cls) -> Mapped[int | None]:
        return mapped_column(Integer, ForeignKey("user_account.id"), default=None)

    def soft_delete(self):
        self.deleted_at = clock.now()
        self.deleted_by_id = current_actor_id.get()

    def restore(self):
        self.deleted_at = None
        self.deleted_by_id = None


class SiteScopedMixin:
    """A row that belongs to one site. ``scope_criteria`` is what the site scope applies."""

    @declared_attr
    def site_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("site.id"), nullable=False, index=True)

    @classmethod
    def scope_criteria(cls, site_ids):
        return cls.site_id.in_(site_ids)

    @declared_attr
    def site(cls):
        return relationship("Site")


class VersionedMixin:
    """Optimistic locking: every UPDATE checks and bumps ``version``.

    A save based on an old copy of the row matches no row and raises ``StaleDataError``
    instead of silently overwriting someone else's change. ``ScopedModelView`` puts the
    version in a hidden field of its edit form and answers 409 to a stale save.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.version}
