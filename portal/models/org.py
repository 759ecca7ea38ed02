"""Organisation: regions, sites, show units, users and the staff roster."""

from datetime import date, datetime, time

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    Time,
    and_,
    event,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import inspect as inspect_
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal import clock
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models.append_only import make_append_only
from portal.models.base import SiteScopedMixin, TimestampMixin, UTCDateTime, VersionedMixin

ROLES = ("admin", "supervisor", "clerk", "security", "sales", "maintenance")
STAFF_KINDS = (
    "clerk",
    "security",
    "sales",
    "cleaner",
    "driver",
    "maintenance",
    "supervisor",
    "other",
)
# Stored codes in words, translated when shown.
ROLE_LABELS = {
    "admin": _l("Head office"),
    "supervisor": _l("Supervisor"),
    "clerk": _l("Clerk"),
    "security": _l("Security"),
    "sales": _l("Sales"),
    "maintenance": _l("Maintenance"),
}

# A site's life: in set-up (copied or imported, not yet working), open, closed (history kept).
SITE_STATUSES = ("setup", "open", "closed")
SITE_STATUS_LABELS = {
    "setup": _l("In set-up"),
    "open": _l("Open for business"),  # not "Open" (未完成: an open ticket)
    "closed": _l("Closed"),
}

STAFF_KIND_LABELS = {
    "clerk": _l("Clerk"),
    "security": _l("Security"),
    "sales": _l("Sales"),
    "cleaner": _l("Cleaner"),
    "driver": _l("Driver"),
    "maintenance": _l("Maintenance"),
    "supervisor": _l("Supervisor"),
    "other": _l("Other"),
}

user_site = Table(
    "user_site",
    db.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("site.id", ondelete="CASCADE"), primary_key=True, index=True),
)
# Regions a supervisor is responsible for: he sees every site in them, including sites added later.
user_region = Table(
    "user_region",
    db.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("region.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Region(VersionedMixin, TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    sites: Mapped[list["Site"]] = relationship(back_populates="region", order_by="Site.code")

    @classmethod
    def scope_criteria(cls, site_ids):
        return cls.id.in_(select(Site.region_id).where(Site.id.in_(site_ids)))

    # What __str__ reads: filter dropdowns select these columns instead of whole rows.
    option_columns = ("name",)

    def __str__(self):
        return self.name


def _local_today(context):
    """Default of ``Site.opened_on``: the new site's own local day (the create form, which
    calls it without a context, gets the default zone's)."""
    return clock.local_day(context.get_current_parameters().get("timezone") if context else None)


class Site(VersionedMixin, TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(50), default=clock.DEFAULT_ZONE_NAME)
    tally_time: Mapped[time] = mapped_column(Time, default=time(17, 50))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    # setup → open → closed → open …; every change of it is kept as a SiteSpell below.
    status: Mapped[str] = mapped_column(String(10), default="open", server_default="open")
    # The first day the sales office worked: no visit, report or tally can be dated before it.
    opened_on: Mapped[date] = mapped_column(Date, default=_local_today)
    # The maintenance worker a new repair ticket of the site goes to (one of the site's own).
    default_maintenance_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    region: Mapped[Region] = relationship(back_populates="sites")
    default_maintenance: Mapped["User | None"] = relationship(foreign_keys=[default_maintenance_id])
    show_units: Mapped[list["ShowUnit"]] = relationship(viewonly=True, order_by="ShowUnit.name")

    @classmethod
    def scope_criteria(cls, site_ids):
        return cls.id.in_(site_ids)

    @property
    def active(self):
        """Taking new records: in set-up or open, not closed."""
        return self.status != "closed"

    option_columns = ("code", "name")

    def __str__(self):
        return f"{self.code} {self.name}"


class SiteSpell(SiteScopedMixin, db.Model):
    """A stretch of local days a site worked: ``first_day`` to ``last_day`` (both included;
    None while it still works). A site in set-up has none; closing ends the open spell,
    reopening starts a new one, so a past period knows whether the site worked in it.

    Kept by the Site listeners below in the flush that changes ``status``. A closed spell is
    frozen by the database (insert-only once ``last_day`` is set). The site's own audit rows
    (``status``) are the trail, so the spells are not audited again."""

    __audited__ = False
    __table_args__ = (Index("ix_site_spell_site_first", "site_id", "first_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date | None] = mapped_column(Date)

    def __str__(self):
        return f"{self.site_id} {self.first_day}–{self.last_day or ''}"


make_append_only(SiteSpell.__table__, allow_update_where="OLD.last_day IS NULL")


@event.listens_for(Site, "after_insert")
def _site_created(mapper, connection, site):
    if site.status == "open":
        connection.execute(
            insert(SiteSpell.__table__).values(
                site_id=site.id, first_day=site.opened_on or clock.local_day(site.timezone)
            )
        )


@event.listens_for(Site, "after_update")
def _site_opened_or_closed(mapper, connection, site):
    history = inspect_(site).attrs.status.history
    if not history.has_changes():
        return
    before = history.deleted[0] if history.deleted else None
    today = clock.local_day(site.timezone)
    table = SiteSpell.__table__
    if site.status == "open" and before != "open":
        # From set-up: the opening day the service set; from closed: today.
        first = site.opened_on if before == "setup" and site.opened_on else today
        connection.execute(insert(table).values(site_id=site.id, first_day=first))
    elif before == "open":
        # Closed today: today was its last working day (a closing is done after the day's work).
        connection.execute(
            update(table)
            .where(and_(table.c.site_id == site.id, table.c.last_day.is_(None)))
            .values(last_day=today)
        )


class ShowUnit(VersionedMixin, SiteScopedMixin, TimestampMixin, db.Model):
    """样板房: a model apartment visitors are taken to."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self):
        return self.name


class User(VersionedMixin, UserMixin, TimestampMixin, db.Model):
    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), index=True)
    locale: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Part of the login cookie: rotating it ends every session of this user everywhere.
    session_token: Mapped[str] = mapped_column(String(64))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sites: Mapped[list[Site]] = relationship(secondary=user_site, order_by=Site.code)
    regions: Mapped[list[Region]] = relationship(secondary=user_region, order_by=Region.code)

    @classmethod
    def scope_criteria(cls, site_ids):
        # People one works with: members of the sites in scope, the supervisors of their
        # regions, and head office.
        member = exists().where(user_site.c.user_id == cls.id, user_site.c.site_id.in_(site_ids))
        supervisor = exists().where(
            user_region.c.user_id == cls.id,
            user_region.c.region_id.in_(select(Site.region_id).where(Site.id.in_(site_ids))),
        )
        return or_(member, supervisor, cls.role == "admin")

    # Flask-Login: the cookie carries id and token, so a rotated token logs the cookie out.
    def get_id(self):
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self):
        return bool(self.active)

    def set_password(self, password, method="scrypt"):
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    option_columns = ("display_name", "username")

    def __str__(self):
        return self.display_name or self.username


class StaffMember(VersionedMixin, SiteScopedMixin, TimestampMixin, db.Model):
    """A person on a site's roster; cleaners and salespeople often have no login."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    phone: Mapped[str | None] = mapped_column(String(30))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    def __str__(self):
        return self.name


class StaffSpell(SiteScopedMixin, db.Model):
    """A stretch of time a person was on a site's roster: from joining (created, reactivated or
    moved in) to leaving (deactivated or moved out); ``left_at`` None while still there.

    Kept by the StaffMember listeners below, in the flush that changes the person, whatever
    made the change (the staff form, an import, the demo data). A closed spell is frozen by
    the database (insert-only once ``left_at`` is set): a leaver stays on the rosters of the
    periods he worked in. The person's own audit rows (``active``, ``site_id``) are the trail
    of these changes, so the spells are not audited again."""

    __audited__ = False
    __table_args__ = (Index("ix_staff_spell_site_joined", "site_id", "joined_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff_member: Mapped[StaffMember] = relationship()

    def __str__(self):
        return f"{self.staff_member_id} {self.joined_at:%Y-%m-%d}–{self.left_at or ''}"


make_append_only(StaffSpell.__table__, allow_update_where="OLD.left_at IS NULL")


def _open_spell(connection, person, at):
    connection.execute(
        insert(StaffSpell.__table__).values(
            site_id=person.site_id, staff_member_id=person.id, joined_at=at, left_at=None
        )
    )


def _close_spell(connection, person_id, at):
    table = StaffSpell.__table__
    connection.execute(
        update(table)
        .where(and_(table.c.staff_member_id == person_id, table.c.left_at.is_(None)))
        .values(left_at=at)
    )


@event.listens_for(StaffMember, "after_insert")
def _joined(mapper, connection, person):
    # Joined when the record was made (an import may date ``created_at`` back: that is the day).
    if person.active is not False:
        _open_spell(connection, person, person.created_at or clock.now())


@event.listens_for(StaffMember, "after_update")
def _left_or_moved(mapper, connection, person):
    state = inspect_(person)
    active, site = state.attrs.active.history, state.attrs.site_id.history
    if not (active.has_changes() or site.has_changes()):
        return
    now = clock.now()
    # One rule for every change: close the spell that was open, open one where the person now
    # is (if still on a roster). A reactivation opens a new spell; a leaver's stays closed.
    _close_spell(connection, person.id, now)
    if person.active:
        _open_spell(connection, person, now)


class TwoFactor(db.Model):
    """A user's authenticator (TOTP) secret. Its own table, kept out of the automatic audit
    trail so the secret is never copied there; enrolment and reset are audited by name."""

    __tablename__ = "two_factor"
    __audited__ = False

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(64))
    # The newest 30-second time step whose code was accepted: a code is good once.
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecoveryCode(db.Model):
    """A single-use code for a lost phone, stored hashed like a password."""

    __tablename__ = "recovery_code"
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(db.Model):
    """One failed (or still running) password or code check. Counting these rows over a window
    is the login throttle: every worker and server shares the database, so they all count."""

    __tablename__ = "login_failure"
    __audited__ = False
    __table_args__ = (
        Index("ix_login_failure_account_at", "account", "at"),
        Index("ix_login_failure_addr_at", "addr", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64))  # the name as typed, lower case: known or not
    addr: Mapped[str] = mapped_column(String(45))
    kind: Mapped[str] = mapped_column(String(20))  # password, code
    at: Mapped[datetime] = mapped_column(UTCDateTime)
