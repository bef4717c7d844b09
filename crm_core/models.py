"""The domain model: SQLAlchemy 2.0 typed tables."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite wants INTEGER PRIMARY KEY for rowid aliasing; PostgreSQL gets 64-bit keys.
PK = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns an aware UTC datetime, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with constraint names Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING)


class SendLog:
    """The columns of a send that must happen once (schedules/sendlog.py claims and finishes it).

    A row is inserted (claimed) before the send; a second worker's insert fails on the table's
    unique key. Mapped columns of a mixin come after the table's own.
    """

    # "sending" (claimed), "sent", "retry" (a retryable failure) or "failed".
    status: Mapped[str] = mapped_column(String(16), default="sending")
    attempts: Mapped[int] = mapped_column(default=1)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))


class Role(enum.StrEnum):
    """What a staff member may see: their own book, their team's, or everything."""

    rep = "rep"
    manager = "manager"
    admin = "admin"


class InteractionKind(enum.StrEnum):
    """Kinds of logged interaction."""

    call = "call"
    meeting = "meeting"
    visit = "visit"
    email = "email"
    chat = "chat"
    note = "note"


class ReminderStatus(enum.StrEnum):
    """Lifecycle of a reminder."""

    pending = "pending"
    sent = "sent"
    done = "done"
    cancelled = "cancelled"
    # Every delivery attempt failed; the owner was told where possible.
    failed = "failed"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings so adding a value needs no PostgreSQL ALTER TYPE.
    return Enum(cls, name=name, native_enum=False, length=16, validate_strings=True)


class Team(Base):
    """A sales team; its managers see its members' customers."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The regional office the team works from; reports group by it.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    members: Mapped[list[User]] = relationship(back_populates="team")
    region: Mapped[Region | None] = relationship()


class Region(Base):
    """A sales region (a regional office); teams belong to one."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Product(Base):
    """An item on the price list; a deal may name one."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Normalised name for lookup (`GTXPro` and `gtx pro` find `GTX Pro`).
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    # The product family or series ("GTX").
    family: Mapped[str | None] = mapped_column(String(100))
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class User(Base):
    """A staff member: a rep, a manager or an admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.rep)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str] = mapped_column(String(16), default="en")
    # `language auto`: answer in the language of each message; `locale` is then the fallback
    # (messages with no words, and everything sent unasked: reminders, digests).
    locale_auto: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    team: Mapped[Team | None] = relationship(back_populates="members")
    identities: Mapped[list[Identity]] = relationship(back_populates="user")


class Identity(Base):
    """A platform account (Slack, Telegram, ...) linked to a staff member."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="identities")


class Customer(Base):
    """A company (or person) the team sells to."""

    __tablename__ = "customers"
    __table_args__ = (
        # A book (a rep's, a team's) as ids of live customers: an index-only range read per
        # owner. Without it a manager's book of 3,400 among 100,000 customers was a scan of
        # the whole table (98 ms of the 197 ms `pipeline` query on PostgreSQL).
        Index(
            "ix_customers_live_owner",
            "owner_id",
            "id",
            postgresql_where=sql_text("archived_at IS NULL AND merged_into IS NULL"),
            sqlite_where=sql_text("archived_at IS NULL AND merged_into IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    # Normalised name (case, punctuation, legal suffixes removed) for lookup and dedup.
    name_key: Mapped[str] = mapped_column(String(300), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    industry: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Set when this customer was merged into another: a tombstone that lists, search and
    # reports leave out, and that `customer #id` and its old name resolve to the survivor.
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    # Set while archived: lists, search, pipeline, digests and reports leave it out; its card
    # still opens (marked archived) and writes on it are refused until it is unarchived.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Values of the declared custom fields (CustomField), by field name, in stored form.
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship()
    contacts: Mapped[list[Contact]] = relationship(back_populates="customer")
    deals: Mapped[list[Deal]] = relationship(back_populates="customer")


class NameIndexVersion(Base):
    """A token per copied table (1: customers, 2: contacts) that triggers (migration 0019)
    change whenever a row is added or removed or a column the in-process name index copies
    changes; the index compares it with the token of its copy (`crm_core/name_index.py`)."""

    __tablename__ = "name_index_version"
    # Derived, not data: backups leave it out; a restore's own inserts write fresh tokens.
    __table_args__ = ({"info": {"derived": True}},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[int] = mapped_column(BigInteger)
    # Row 1 only (migration 0032): a counter every change of customers moves, in commit order,
    # and a random value given when the row is created (the counter starts over then).
    seq: Mapped[int] = mapped_column(BigInteger, server_default="0")
    epoch: Mapped[int] = mapped_column(BigInteger, server_default="0")


class CustomerIndexChange(Base):
    """The customers added, removed or changed since a point, for the name index to re-read:
    per customer, the `NameIndexVersion.seq` of its last change (triggers, migration 0032)."""

    __tablename__ = "customer_index_changes"
    # Derived, not data: a restore's own inserts write it again.
    __table_args__ = (
        Index("ix_customer_index_changes_seq", "seq"),
        {"info": {"derived": True}},
    )

    # No foreign key: a deleted customer's row stays, telling that it went.
    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)


class Contact(Base):
    """A person at a customer."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    # A birthday typed without a year is stored in 1904 (a leap year, so Feb 29 fits);
    # crm_core.services.contacts.NO_YEAR names it.
    birthday: Mapped[date | None] = mapped_column(Date)
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class Deal(Base):
    """An opportunity with a customer, moving through the pipeline stages."""

    __tablename__ = "deals"
    __table_args__ = (
        Index("ix_deals_stage_customer", "stage", "customer_id"),
        # Covers the whole-company pipeline report: an index-only scan, no table reads.
        Index("ix_deals_stage_currency_amount", "stage", "currency", "amount"),
        # The forecast's overdue list: dated deals in order, their customer and stage read from
        # the index alone until 20 of a team's open ones are found (migration 0031).
        Index("ix_deals_close_order", "expected_close", "id", "customer_id", "stage", "currency"),
        # The months a period funnel's bounds cut, read by the hour of opening.
        Index("ix_deals_created_at", "created_at"),
        # The forecast's wins in a partial month (crm_core.analytics.forecast).
        Index("ix_deals_closed_at", "closed_at"),
        # `report activity`'s cut hours look each move's customer up by its deal: from the
        # index alone on PostgreSQL (migration 0035).
        Index("ix_deals_id_customer", "id", postgresql_include=["customer_id"]),
    )

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    title_key: Mapped[str] = mapped_column(String(300), index=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    stage: Mapped[str] = mapped_column(String(50))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    expected_close: Mapped[date | None] = mapped_column(Date)
    lost_reason: Mapped[str | None] = mapped_column(String(500))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    quantity: Mapped[int | None] = mapped_column(Integer)
    # pipeline / best_case / commit, set by hand; None follows the stage's probability band.
    forecast_category: Mapped[str | None] = mapped_column(String(16))
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="deals")
    owner: Mapped[User] = relationship()
    product: Mapped[Product | None] = relationship()
    history: Mapped[list[StageChange]] = relationship(
        back_populates="deal", order_by="StageChange.changed_at"
    )


class PipelineTotal(Base):
    """Deals of live customers per customer owner, stage and currency: count, count with an
    amount, and the amounts' sum in cents, kept by triggers (migration 0026) on every deal and
    customer write, so the pipeline report reads a few rows instead of every open deal."""

    __tablename__ = "pipeline_totals"
    # Derived, not data: backups leave it out; a restore's own inserts rebuild it.
    __table_args__ = ({"info": {"derived": True}},)

    owner_id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=False)
    stage: Mapped[str] = mapped_column(String(50), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    deals: Mapped[int] = mapped_column(BigInteger)
    priced: Mapped[int] = mapped_column(BigInteger)
    cents: Mapped[int] = mapped_column(BigInteger)


class DealReach(Base):
    """The stage names a deal has been in (its stage and its history's), sorted, tab-separated,
    kept by triggers (migration 0030): the funnel ranks the set instead of reading history."""

    __tablename__ = "deal_reach"
    __table_args__ = ({"info": {"derived": True}},)

    deal_id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=False)
    reached: Mapped[str | None] = mapped_column(String(1000))


class FunnelTotal(Base):
    """Deals per customer owner, customer state, currency and set of stages reached: count and
    the amounts' sum in cents, kept by triggers (migration 0030) for the all-time funnel."""

    __tablename__ = "funnel_totals"
    __table_args__ = ({"info": {"derived": True}},)

    owner_id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=False)
    # 0 live, 1 merged away, 2 archived: an admin's reports count merged customers' deals.
    state: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    reached: Mapped[str] = mapped_column(String(1000), primary_key=True)
    deals: Mapped[int] = mapped_column(BigInteger)
    cents: Mapped[int] = mapped_column(BigInteger)


class DealMonthTotal(Base):
    """Deals per customer owner, customer state, currency, stage, forecast category and month
    (kind 'e': of the expected close, with the category; 'c': of closed_at in UTC, category
    ''; month 0: none): count and cents, kept by triggers (migration 0030) for the forecast."""

    __tablename__ = "deal_month_totals"
    __table_args__ = (
        # An admin's forecast reads every owner's open rows from this alone (migration 0035).
        Index(
            "ix_deal_month_totals_kind",
            "kind",
            "stage",
            "state",
            "currency",
            "month",
            "category",
            postgresql_include=["deals", "cents"],
        ),
        {"info": {"derived": True}},
    )

    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    owner_id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=False)
    state: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    stage: Mapped[str] = mapped_column(String(50), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    deals: Mapped[int] = mapped_column(BigInteger)
    cents: Mapped[int] = mapped_column(BigInteger)


class FunnelMonthTotal(Base):
    """FunnelTotal per UTC month of opening (the deal's created_at, yyyymm), kept by the same
    triggers (migration 0031): a period's funnel sums whole months, reads only the cut ones."""

    __tablename__ = "funnel_month_totals"
    __table_args__ = (
        Index("ix_funnel_month_totals_month", "month"),
        {"info": {"derived": True}},
    )

    owner_id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=False)
    state: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    reached: Mapped[str] = mapped_column(String(1000), primary_key=True)
    deals: Mapped[int] = mapped_column(BigInteger)
    cents: Mapped[int] = mapped_column(BigInteger)


class DealCloseTotal(Base):
    """Deals per customer owner, customer state, UTC month of closed_at (yyyymm; 0: none), deal
    owner, currency and stage: count, cents and days, kept by triggers (migrations 0033, 0037), so
    a win rate by rep, team, region, month or quarter and a cycle by rep sum whole months instead
    of reading every deal."""

    __tablename__ = "deal_close_totals"
    __table_args__ = (
        Index("ix_deal_close_totals_month", "month"),
        {"info": {"derived": True}},
    )

    owner_id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=False)
    state: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    deal_owner_id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=False)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    stage: Mapped[str] = mapped_column(String(50), primary_key=True)
    deals: Mapped[int] = mapped_column(BigInteger)
    cents: Mapped[int] = mapped_column(BigInteger)
    # Their days from opening to close, never below 0 (migration 0037: `report cycle by rep`).
    days: Mapped[Decimal] = mapped_column(Numeric, server_default="0")


class NoteDayTotal(Base):
    """Live notes per customer owner, customer state, UTC day of occurred_at (yyyymmdd; each
    note is also in its month's row, day yyyymm), author and kind, kept by triggers (migration
    0034) for `report activity`."""

    __tablename__ = "note_day_totals"
    __table_args__ = (
        Index("ix_note_day_totals_day", "day"),
        {"info": {"derived": True}},
    )

    owner_id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=False)
    state: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    author_id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    notes: Mapped[int] = mapped_column(BigInteger)


class MoveDayTotal(Base):
    """Stage moves (history rows with a from_stage) per the deal's customer owner and state, UTC
    day of changed_at (and month, yyyymm, as NoteDayTotal), actor (0: none) and stage
    reached, kept by triggers (migration 0034)."""

    __tablename__ = "move_day_totals"
    __table_args__ = (
        Index("ix_move_day_totals_day", "day"),
        {"info": {"derived": True}},
    )

    owner_id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=False)
    state: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    actor_id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=False)
    to_stage: Mapped[str] = mapped_column(String(50), primary_key=True)
    moves: Mapped[int] = mapped_column(BigInteger)


class CycleTotal(Base):
    """Deals and their history per customer owner and state, UTC month of closed_at (yyyymm; 0:
    none; -1: all time, where every deal is kept too), currency, deal stage and step, kept by
    triggers (migration 0035) for `report cycle`: step '' counts the deals (n_in) and sums their
    days from opening to close (in_days, never below 0); step S counts and sums the times (days
    since 2000-01-01 UTC) of their history rows into S (n_in, in_days) and out of S (n_out,
    out_days). The medians are read from the deals through `ix_deals_cycle` (migration 0035:
    an expression index the model does not declare, each database writing it its own way)."""

    __tablename__ = "cycle_totals"
    __table_args__ = (
        Index(
            "ix_cycle_totals_month",
            "month",
            "stage",
            "currency",
            "step",
            "state",
            "owner_id",
            postgresql_include=["n_in", "in_days", "n_out", "out_days"],
        ),
        {"info": {"derived": True}},
    )

    owner_id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=False)
    state: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    stage: Mapped[str] = mapped_column(String(50), primary_key=True)
    step: Mapped[str] = mapped_column(String(50), primary_key=True)
    n_in: Mapped[int] = mapped_column(BigInteger)
    in_days: Mapped[Decimal] = mapped_column(Numeric())
    n_out: Mapped[int] = mapped_column(BigInteger)
    out_days: Mapped[Decimal] = mapped_column(Numeric())


class CycleDayTotal(Base):
    """Deals per customer owner and state, UTC month of closed_at (yyyymm; 0: none), currency,
    stage and whole day from opening to close (floor of `ix_deals_cycle`'s days: none 0, a close
    before the opening negative), kept by triggers (migration 0039): how many of a book's deals
    lie before a day, so a cycle median's walk of `ix_deals_cycle` starts at its day, and their
    days (a month's counts and mean for `report cycle by month`)."""

    __tablename__ = "cycle_day_totals"
    __table_args__ = ({"info": {"derived": True}},)

    owner_id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=False)
    state: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    stage: Mapped[str] = mapped_column(String(50), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    deals: Mapped[int] = mapped_column(BigInteger)
    # Their days from opening to close as the report counts them (never below 0).
    days: Mapped[Decimal] = mapped_column(Numeric())


class CustomField(Base):
    """A field an admin declared on customers, contacts or deals; values live in `custom`."""

    __tablename__ = "custom_fields"
    __table_args__ = (UniqueConstraint("record", "name"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    # customer / contact / deal
    record: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(30))
    # text / number / date / choice / yesno (crm_core.rules.CUSTOM_KINDS)
    kind: Mapped[str] = mapped_column(String(16))
    # A choice field's choices, in the order declared; empty for the other kinds.
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StageChange(Base):
    """One move of a deal from a stage to another; the deal's history."""

    __tablename__ = "stage_changes"
    # `report activity` reads the moves of the hours a period's bound cuts (migration 0034):
    # an admin's by time, anyone else's by their people and time (0038).
    __table_args__ = (
        Index("ix_stage_changes_changed_at", "changed_at"),
        Index("ix_stage_changes_actor_changed", "actor_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(50))
    to_stage: Mapped[str] = mapped_column(String(50))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(String(500))

    deal: Mapped[Deal] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


class Interaction(Base):
    """A logged call, meeting, visit, email, chat or note."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_customer_occurred", "customer_id", "occurred_at"),
        # Live notes only: "when was this customer last contacted" (the segments' quiet and
        # contacted filters, a deal score's touches) answered from the index alone.
        Index(
            "ix_interactions_live_customer_occurred",
            "customer_id",
            "occurred_at",
            postgresql_where=sql_text("deleted_at IS NULL"),
            sqlite_where=sql_text("deleted_at IS NULL"),
        ),
        Index("ix_interactions_occurred", "occurred_at"),
        # A rep's or a manager's `report activity`: their people's notes of the cut hours (0038).
        Index(
            "ix_interactions_author_occurred",
            "author_id",
            "occurred_at",
            postgresql_where=sql_text("deleted_at IS NULL"),
            sqlite_where=sql_text("deleted_at IS NULL"),
        ),
        UniqueConstraint("idempotency_key"),
    )

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[InteractionKind] = mapped_column(_enum(InteractionKind, "interaction_kind"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32), default="console")
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # Where the note came from, when it has an address (a Slack message permalink).
    link: Mapped[str | None] = mapped_column(String(500))
    # Where a visit took place, when the platform sent a location.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[Customer] = relationship()
    deal: Mapped[Deal | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    author: Mapped[User] = relationship()


class Reminder(Base):
    """Something a user must do at a time; delivery lives in schedules/."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"))
    status: Mapped[ReminderStatus] = mapped_column(
        _enum(ReminderStatus, "reminder_status"), default=ReminderStatus.pending
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # "weekly:0@09:00" etc. (crm_core.services.reminders); None for a one-off reminder.
    recurrence: Mapped[str | None] = mapped_column(String(40))
    # The person named a clock time: such a reminder is sent even outside working hours.
    explicit_time: Mapped[bool] = mapped_column(default=False)
    # The first reminder of a recurring series (its own id for the first one).
    series_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    # Delivery bookkeeping (schedules/reminders.py): a claim is a token with a lease.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    late: Mapped[bool] = mapped_column(default=False)
    last_error: Mapped[str | None] = mapped_column(String(200))

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    customer: Mapped[Customer | None] = relationship()
    deal: Mapped[Deal | None] = relationship()


class AuditEntry(Base):
    """Who changed what and when, with the before and after of each changed field."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entity", "entity_type", "entity_id"),
        # A customer's history, newest first, a page at a time (crm_core.services.history).
        Index("ix_audit_customer", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who acted when no user did (an import, a migration): "import", "cli", ...
    actor_label: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(PK)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The customer the entity belongs to (itself, for a customer): its history's entries.
    # No foreign key: the log outlives what it describes.
    customer_id: Mapped[int | None] = mapped_column(PK)


class ApiToken(Base):
    """A personal token for the REST API: it acts as its user with that user's access rules."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # SHA-256 of the whole token: a database reader cannot use it, and the token is never kept.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters, shown by `token list` so a person can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    # "read" (GET only) or "write".
    scope: Mapped[str] = mapped_column(String(8), default="read")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class Webhook(Base):
    """An outgoing webhook: events posted as signed JSON to a URL (admins add them)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    # Event names it receives ("deal.won", ...), crm_core.services.webhooks.EVENTS.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The HMAC-SHA256 key of its signatures: the receiver holds it too, so it is kept as is.
    signing_secret: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """One event owed to one webhook: written with the change, claimed before it is posted."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"), index=True)
    # The event's id (a UUID): the same in every retry, so a receiver can drop repeats.
    event_id: Mapped[str] = mapped_column(String(36))
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # "pending" (waiting or between retries), "sent", "failed" (every attempt failed) or
    # "dropped" (still owed when an admin removed the webhook: cancelled, not a failure).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last failure: an HTTP status or an error class name, never a response body.
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ButtonToken(Base):
    """A button's action kept server-side, for platforms with tiny button payloads (Telegram)."""

    __tablename__ = "button_tokens"

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LinkCode(Base):
    """A one-time code an admin gives a person to link their chat account to a staff member."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    # SHA-256 of the code: a database reader cannot use a pending code.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LinkAttempt(Base):
    """Wrong link codes from one platform account, to stop guessing."""

    __tablename__ = "link_attempts"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProcessedDelivery(Base):
    """A platform delivery (Slack event or trigger, Telegram update) already handled once."""

    __tablename__ = "processed_deliveries"
    __table_args__ = (UniqueConstraint("platform", "delivery_id"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Quota(Base):
    """What a person should win in a period (a quarter, a month, a year), in one currency."""

    __tablename__ = "quotas"
    __table_args__ = (UniqueConstraint("user_id", "period_start", "period_end", "currency"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    # The day after the period's last day.
    period_end: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()


# --- reminders and digests ---


class SchedulePrefs(Base):
    """A user's digest and working-hours settings; no row means the defaults."""

    __tablename__ = "schedule_prefs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    # Minutes after local midnight; None means the configured default (08:30).
    digest_minute: Mapped[int | None] = mapped_column(Integer)
    # "weekdays" or "daily".
    digest_days: Mapped[str] = mapped_column(String(16), default="weekdays")
    digest_off: Mapped[bool] = mapped_column(default=False)
    # Personal quiet hours in the person's zone, minutes after midnight (start > end spans
    # midnight: 20:00-08:00); None: only the configured working hours apply.
    quiet_start: Mapped[int | None] = mapped_column(Integer)
    quiet_end: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class DigestLog(SendLog, Base):
    """One digest per user per local day: the row is claimed (inserted) before sending."""

    __tablename__ = "digest_log"
    __table_args__ = (UniqueConstraint("user_id", "local_date"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    local_date: Mapped[date] = mapped_column(Date)


class WeeklyReportLog(SendLog, Base):
    """A manager's weekly report to one target ("dm" or a team channel): claimed before sending."""

    __tablename__ = "weekly_report_log"
    __table_args__ = (UniqueConstraint("user_id", "week_start", "target"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The local Monday the report is sent on; it covers the seven days before.
    week_start: Mapped[date] = mapped_column(Date)
    # "dm", "slack:C0123" or "telegram:-100123".
    target: Mapped[str] = mapped_column(String(200))


class BackupLog(SendLog, Base):
    """One UTC day's scheduled backup: claimed (inserted) by one worker before it is written."""

    __tablename__ = "backup_log"

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)


class ScoreModel(Base):
    """A trained deal-score model (crm_core/marketing/scores.py): one row per UTC training day,
    inserted by the worker that claims the day's training, updated as deals close."""

    __tablename__ = "score_models"
    # Derived, not data: rebuilt from the deals by training; backups leave it out.
    __table_args__ = ({"info": {"derived": True}},)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    # "training" (claimed), "ready", or "failed".
    status: Mapped[str] = mapped_column(String(16), default="training")
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    trained_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Closed deals it has learned from (training plus the deals closed since).
    won: Mapped[int] = mapped_column(default=0)
    lost: Mapped[int] = mapped_column(default=0)
    # The counts, bands and calibration (crm_core.marketing.score_model.Model.to_json);
    # empty when the book had too few closed deals to learn from.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seconds: Mapped[float | None] = mapped_column(Float)
    # Bumped whenever the params change (training, a deal learned as it closes): a score
    # stored with an older version is stale.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DealScore(Base):
    """An open deal's score as last computed (crm_core/marketing/scores.py), for the segment
    filter `score >60`: computed again when the model is retrained or the deal changed."""

    __tablename__ = "deal_scores"
    # Derived, not data: recomputed from the deals and the model; backups leave it out.
    __table_args__ = ({"info": {"derived": True}},)

    deal_id: Mapped[int] = mapped_column(
        ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # The ScoreModel row it was scored with (a newer model makes it stale).
    model_id: Mapped[int] = mapped_column(PK)
    # 1-99.
    score: Mapped[int] = mapped_column(Integer)
    # The deal's updated_at when it was scored: a deal changed since is scored again.
    deal_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # What else the score read, as it was: the model's version, the customer's updated_at
    # (industry, city), and the deal's interactions (how many, the last one's time).
    model_version: Mapped[int] = mapped_column(Integer)
    customer_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    touches: Mapped[int] = mapped_column(Integer)
    last_touch: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When its day-counted factors (age, silence) next change: stale from then on.
    fresh_until: Mapped[datetime] = mapped_column(UTCDateTime())


class ChannelAlert(Base):
    """A deal move posted (or being posted) to a team channel: at most once per target."""

    __tablename__ = "channel_alerts"
    __table_args__ = (UniqueConstraint("stage_change_id", "target"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    stage_change_id: Mapped[int] = mapped_column(ForeignKey("stage_changes.id"))
    # "slack:C0123" or "telegram:-100123".
    target: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="sending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OwnerNotice(Base):
    """A message owed to a customer's old or new owner after a reassignment: sent at most once.

    The row is claimed (pending -> sending, a conditional UPDATE) before the send, like the
    channel alerts, so a second worker or a restart never tells anyone twice.
    """

    __tablename__ = "owner_notices"
    __table_args__ = (Index("ix_owner_notices_status", "status", "id"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The other owner: whom the customer came from (gained) or went to (lost).
    other_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    gained: Mapped[bool] = mapped_column(Boolean)
    deals: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --- the note index ---


class IndexOutbox(Base):
    """A note whose text or visibility changed, waiting for the note index to catch up.

    Written in the same transaction as the change; the index worker reads the note's current
    state when it drains the row, so one row per change is enough and order does not matter.
    """

    __tablename__ = "index_outbox"
    __table_args__ = (Index("ix_index_outbox_pending", "indexed_at", "id"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    # No foreign key: the row outlives nothing it points to, and purges need no ordering.
    interaction_id: Mapped[int] = mapped_column(PK, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    indexed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    # The error's class name only: messages can quote note text.
    last_error: Mapped[str | None] = mapped_column(String(200))


# --- the service desk ---


class TicketStatus(enum.StrEnum):
    """Lifecycle of a ticket: new -> open -> waiting (on the customer) -> resolved -> closed."""

    new = "new"
    open = "open"
    waiting = "waiting"
    resolved = "resolved"
    closed = "closed"


class TicketPriority(enum.StrEnum):
    """How fast a ticket must be answered and fixed (crm_core.sla's policies)."""

    urgent = "urgent"
    high = "high"
    normal = "normal"
    low = "low"


class ServiceCalendar(Base):
    """A team's business hours for SLAs and where its triage alerts go; no row: the defaults."""

    __tablename__ = "service_calendars"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    # An IANA zone; None means the team's manager's zone.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # ISO 3166 country whose public holidays are off (CN adds the make-up working days).
    country: Mapped[str | None] = mapped_column(String(8))
    # Working weekdays as digits, Monday = 0: "01234".
    days: Mapped[str] = mapped_column(String(7), default="01234")
    # Minutes after local midnight.
    start_minute: Mapped[int] = mapped_column(Integer, default=9 * 60)
    end_minute: Mapped[int] = mapped_column(Integer, default=18 * 60)
    # "slack:C0123" or "telegram:-100123": breach notices and unassigned tickets go there.
    triage_target: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SlaPolicy(Base):
    """A team's SLA targets for one priority, set by an admin; no row: the default targets."""

    __tablename__ = "sla_policies"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    # "urgent", "high", "normal" or "low" (crm_core.sla.PRIORITIES).
    priority: Mapped[str] = mapped_column(String(16), primary_key=True)
    # Business minutes.
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class TriageSummaryLog(SendLog, Base):
    """One triage summary per team per local day: the row is claimed (inserted) before sending."""

    __tablename__ = "triage_summary_log"
    __table_args__ = (UniqueConstraint("team_id", "local_date"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    local_date: Mapped[date] = mapped_column(Date)


class CustomerChannel(Base):
    """A chat where a customer's people write to the team: a Slack channel (Slack Connect
    included) or a Telegram group, linked to one customer."""

    __tablename__ = "customer_channels"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    # The platform's id: a Slack channel id, a Telegram chat id.
    chat_id: Mapped[str] = mapped_column(String(64))
    # How people named it when linking (`#acme-support`, the group's title).
    name: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # A message from a non-staff person opens a ticket on its own.
    auto: Mapped[bool] = mapped_column(Boolean, default=False)
    # Tickets of this channel resolved so far: CSAT sampling asks every Nth.
    resolved_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    customer: Mapped[Customer] = relationship()


class Ticket(Base):
    """A customer's service request, tracked from first message to resolution."""

    __tablename__ = "tickets"
    __table_args__ = (
        # Lists walk these in queue order and stop at a page: no sort, no count of the rest.
        Index("ix_tickets_queue", "queue_at"),
        Index("ix_tickets_assignee_queue", "assignee_id", "queue_at"),
        Index("ix_tickets_team_queue", "team_id", "queue_at"),
        # Covering on PostgreSQL: a rep's lists read their customers' active tickets from the
        # index alone (a heap page per ticket made `tickets team` slow at 100,000 tickets).
        Index(
            "ix_tickets_customer_queue",
            "customer_id",
            "queue_at",
            "id",
            postgresql_include=["team_id"],
        ),
        # The SLA sweep: open tickets whose next warning or breach is due.
        Index("ix_tickets_next_alert", "next_alert_at"),
        # Reports by period.
        Index("ix_tickets_created", "created_at"),
        Index("ix_tickets_mirror_due", "mirror_due_at"),
    )

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[TicketPriority] = mapped_column(
        _enum(TicketPriority, "ticket_priority"), default=TicketPriority.normal
    )
    status: Mapped[TicketStatus] = mapped_column(
        _enum(TicketStatus, "ticket_status"), default=TicketStatus.new
    )
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The team whose calendar counts the SLA and whose triage channel hears of it.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Where it came from: "console", "slack", "telegram", "import".
    source: Mapped[str] = mapped_column(String(32), default="console")
    # The platform message it was opened from: the same message twice makes one ticket.
    source_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    source_link: Mapped[str | None] = mapped_column(String(500))
    source_text: Mapped[str | None] = mapped_column(Text)
    # Opened in a customer channel: the channel, and who asked (their platform id and name)
    # and where to answer them (the thread: "C123:1700000000.000200", "-100123:45").
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("customer_channels.id"))
    requester_id: Mapped[str | None] = mapped_column(String(128))
    requester_name: Mapped[str | None] = mapped_column(String(200))
    requester_where: Mapped[str | None] = mapped_column(String(200))
    # Set when the status changed: the scheduler puts the status's reaction on the source
    # message (a command typed anywhere shows on the customer's message too).
    mirror_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Derived from the events by crm_core.sla whenever the ticket changes (None: not running).
    response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Place in the work queue: the soonest due time while a clock runs, a far date while
    # waiting on the customer, None once resolved or closed (lists show only queued tickets).
    queue_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The earliest warning or breach not yet passed; the sweep reads only these.
    next_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[Customer] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    team: Mapped[Team | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="[TicketEvent.at, TicketEvent.id]"
    )


class TicketEvent(Base):
    """One step of a ticket's timeline, with the status it left the ticket in."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_at", "ticket_id", "at"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    # The import's id; for a step said in chat, the platform message's key (the bot's
    # acknowledgement's on `created`): a reply to that message finds the ticket by it.
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    # created, assigned, reply, wait, resume, resolve, reopen, close, priority
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[TicketStatus] = mapped_column(_enum(TicketStatus, "ticket_status"))
    # The new priority, or the new assignee's handle.
    value: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str | None] = mapped_column(Text)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Feedback(Base):
    """A satisfaction score from a customer: CSAT 1-5 or NPS 0-10, with a comment."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_customer_created", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    # "csat" or "nps".
    kind: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    customer: Mapped[Customer] = relationship()
    ticket: Mapped[Ticket | None] = relationship()


class TicketAlert(SendLog, Base):
    """An SLA warning or breach notice owed to one target: claimed (inserted) before sending."""

    __tablename__ = "ticket_alerts"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "target"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    # response_warn, response_breach, resolution_warn, resolution_breach, unassigned
    kind: Mapped[str] = mapped_column(String(32))
    # "user:12" (the assignee, wherever they are) or a channel "slack:C0123".
    target: Mapped[str] = mapped_column(String(200))


class CsatRequest(Base):
    """A satisfaction question owed to a ticket's requester: claimed (status) before sending."""

    __tablename__ = "csat_requests"
    __table_args__ = (Index("ix_csat_requests_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    # Where the requester is: the chat and the thread (Slack ts, Telegram message id).
    chat_id: Mapped[str] = mapped_column(String(64))
    thread: Mapped[str | None] = mapped_column(String(64))
    requester_id: Mapped[str] = mapped_column(String(128))
    # due -> sending -> asked -> answered; withdrawn (reopened), expired, failed.
    status: Mapped[str] = mapped_column(String(16), default="due")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id"))
    last_error: Mapped[str | None] = mapped_column(String(200))

    ticket: Mapped[Ticket] = relationship()


# --- membership tiers and care dates ---


class TierProgram(Base):
    """The tier rules an admin set: levels by threshold on won value over a trailing window.

    One row (id 1) at most: a book has one tier ladder.
    """

    __tablename__ = "tier_program"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # [{"name": "gold", "threshold": "200000"}, ...], lowest threshold first.
    levels: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    months: Mapped[int] = mapped_column(Integer, default=12)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # None: the levels are won value; a customer number field's name: they are its points.
    points_field: Mapped[str | None] = mapped_column(String(30))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CustomerTier(Base):
    """A customer's current tier, and whether an admin pinned it."""

    __tablename__ = "customer_tiers"
    __table_args__ = (Index("ix_customer_tiers_tier", "tier"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    tier: Mapped[str | None] = mapped_column(String(50))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TierChange(Base):
    """A customer's tier moved: the history, and the owner's ping (claimed once before sending).

    status: "pending" (to ping), "sending", "sent", "failed", or "silent" (shown in the digest
    only: tiers assigned when the rules were set or imported).
    """

    __tablename__ = "tier_changes"
    __table_args__ = (
        Index("ix_tier_changes_status", "status", "id"),
        Index("ix_tier_changes_owner_at", "owner_id", "at"),
    )

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_tier: Mapped[str | None] = mapped_column(String(50))
    to_tier: Mapped[str | None] = mapped_column(String(50))
    # "won", "review", "pin", "unpin" or "rules".
    reason: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TierReview(SendLog, Base):
    """One month's tier review (downgrades happen only here), claimed by one worker like backups."""

    __tablename__ = "tier_reviews"

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), unique=True)  # "2027-01"


class CareDate(Base):
    """A date field declared a care date: its record's owner is pinged `lead_days` before it."""

    __tablename__ = "care_dates"
    __table_args__ = (UniqueConstraint("record", "field", name="uq_care_dates_record_field"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    record: Mapped[str] = mapped_column(String(16))  # customer, contact or deal
    # A custom date field's name, or a built-in one: contact `birthday`, deal `close`.
    field: Mapped[str] = mapped_column(String(64))
    lead_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CarePing(SendLog, Base):
    """One care date's ping to its owner: inserted (claimed) once before it is sent."""

    __tablename__ = "care_pings"
    __table_args__ = (
        UniqueConstraint("care_id", "entity_id", "day", name="uq_care_pings_care_entity_day"),
    )

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    care_id: Mapped[int] = mapped_column(ForeignKey("care_dates.id", ondelete="CASCADE"))
    entity_id: Mapped[int] = mapped_column(Integer)
    # The care date itself (this year's for a birthday).
    day: Mapped[date] = mapped_column(Date)


# --- segments ---


class Segment(Base):
    """A saved customer list: its filter text, read again at each look (live) or frozen."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # Lower-cased name, one segment per name across the company.
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
    # The filters as typed after `list customers` (crm_core.marketing.filters reads them).
    filters: Mapped[str] = mapped_column(Text)
    # Frozen at save time: its members are the segment_members rows, not the filters.
    snapshot: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User] = relationship()


class SegmentMember(Base):
    """A customer frozen into a snapshot segment (as its saver saw the book then)."""

    __tablename__ = "segment_members"

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)


class SegmentFollow(Base):
    """A person told when a customer enters a segment (in their own view of it)."""

    __tablename__ = "segment_follows"
    __table_args__ = (UniqueConstraint("segment_id", "user_id"),)

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SegmentEntry(Base):
    """A customer a follower already saw in a segment: inserted (claimed) before the ping.

    One row per follow and customer ever: a customer who leaves and comes back is not pinged
    twice. The members present when the follow began are rows with status "seen".
    """

    __tablename__ = "segment_entries"

    follow_id: Mapped[int] = mapped_column(
        ForeignKey("segment_follows.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    # "sending" once claimed, "sent" or "failed" after the ping; "seen" for the first members.
    status: Mapped[str] = mapped_column(String(16), default="seen")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SegmentCount(Base):
    """A segment's member count on one UTC day, in one book (scope), for its chart."""

    __tablename__ = "segment_counts"

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    # Whose view was counted: "all" (admins), "team:3" (a manager's), "user:12" (a rep's).
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


# --- campaigns ---


class Campaign(Base):
    """A frozen segment reached out to by its owners, with a random holdout left alone.

    The report compares the contacted members with the holdout from `started_at` to `ended_at`
    (or now); `seed` drew the holdout, so the same members give the same groups again.
    """

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Folded name: one campaign per name across the company.
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
    # The segment as it was named and read when frozen (the segment may change or go later).
    segment_name: Mapped[str] = mapped_column(String(100))
    filters: Mapped[str] = mapped_column(Text)
    # The template owners adapt; `{name}` and `{contact}` are filled in on each card.
    message: Mapped[str] = mapped_column(Text)
    holdout_percent: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CampaignMember(Base):
    """One frozen customer: contacted (a task for its owner) or held out, with its outcomes."""

    __tablename__ = "campaign_members"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id"),
        Index("ix_campaign_members_owner", "owner_id", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # The owner when frozen: the one told and given the task.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    holdout: Mapped[bool] = mapped_column(Boolean)
    # Position in the seeded shuffle: the first `holdout_percent` of members were held out.
    draw: Mapped[int] = mapped_column(Integer)
    # The latest outcome: "reached", "replied", "not_interested" or "converted".
    outcome: Mapped[str | None] = mapped_column(String(16))
    reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    not_interested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CampaignNotice(Base):
    """An owner's "you have N campaign tasks" message: claimed pending -> sending, sent once."""

    __tablename__ = "campaign_notices"
    __table_args__ = (
        UniqueConstraint("campaign_id", "user_id"),
        Index("ix_campaign_notices_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(PK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    tasks: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
