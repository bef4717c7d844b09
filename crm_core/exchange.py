"""JSON Lines import and export: one record per line, `type` first, references by external_id."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from functools import cached_property
from typing import Annotated, Any, Literal, TextIO, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from crm_core import audit, note_outbox, rules
from crm_core.audit import diff, jsonable
from crm_core.errors import CrmError
from crm_core.marketing.campaigns import MAX_HOLDOUT as CAMPAIGN_HOLDOUT
from crm_core.marketing.campaigns import MAX_MESSAGE as CAMPAIGN_MESSAGE
from crm_core.marketing.campaigns import MAX_NAME as CAMPAIGN_NAME
from crm_core.models import (
    AuditEntry,
    Base,
    Campaign,
    CampaignMember,
    CareDate,
    Contact,
    CsatRequest,
    Customer,
    CustomerChannel,
    CustomerTier,
    CustomField,
    Deal,
    Feedback,
    Identity,
    Interaction,
    InteractionKind,
    Product,
    Quota,
    Region,
    Reminder,
    ReminderStatus,
    Role,
    SchedulePrefs,
    Segment,
    SegmentMember,
    ServiceCalendar,
    SlaPolicy,
    StageChange,
    Team,
    Ticket,
    TicketEvent,
    TicketPriority,
    TicketStatus,
    TierChange,
    TierProgram,
    User,
    utcnow,
)
from crm_core.services import tiers
from crm_core.services.care import BUILT_IN as BUILT_IN_DATES
from crm_core.services.tickets import ACTIVE, MAX_TARGET, refresh_sla
from crm_core.sla import PRIORITIES
from crm_core.stages import Pipeline, Stage
from crm_core.text import fold, name_key

# Dependency order: a record only refers to types before it (users to teams, deals to customers).
TYPES: tuple[str, ...] = (
    "region",
    "team",
    "user",
    "identity",
    "custom_field",
    "care_date",
    "customer",
    "contact",
    "product",
    "deal",
    "stage_change",
    "interaction",
    "reminder",
    "quota",
    "customer_channel",
    "ticket",
    "ticket_event",
    "feedback",
    "segment",
)
# Record types outside the table specs: the tier ladder (one line) and pinned tiers, written
# after everything else (a pin names a customer and a tier of the ladder).
TIER_TYPES: tuple[str, ...] = ("tier_rules", "tier_pin")
# Campaigns come last: a campaign names its creator and its members' customers and owners.
CAMPAIGN = "campaign"
_ALL_TYPES = (*TYPES, *TIER_TYPES, CAMPAIGN)
MAX_ERRORS = 50
MAX_AMOUNT = rules.MAX_AMOUNT
_CENT = Decimal("0.01")
_BATCH = 5000
_MAX_MINUTES = int(MAX_TARGET.total_seconds() // 60)
# Above this many wanted keys one scan of the table beats thousands of IN (...) queries.
_SCAN_ABOVE = 5000
_IN_CHUNK = 900
# Mirrors crm_core.audit: bookkeeping columns that say nothing about the business.
_NOT_AUDITED = {"id", "created_at", "updated_at", "name_key", "title_key"}
_DERIVED = ("name_key", "title_key")
# Reference fields and the record type they name.
_REFS = {
    "owner": "user",
    "author": "user",
    "actor": "user",
    "user": "user",
    "team": "team",
    "region": "region",
    "product": "product",
    "customer": "customer",
    "deal": "deal",
    "contact": "contact",
    "created_by": "user",
    "series": "reminder",
    "merged_into": "customer",
    "assignee": "user",
    "recorded_by": "user",
    "ticket": "ticket",
    "channel": "customer_channel",
}
# References whose column is not named `<field>_id`.
_REF_COLUMNS = {"merged_into": "merged_into"}
# Reference fields written after their whole type: a series names a reminder of the same file,
# a merged customer the customer it was merged into.
_DEFERRED = {"series": "reminder", "merged_into": "customer"}
# Characters str.splitlines() breaks on that json.dumps(ensure_ascii=False) leaves raw.
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


# ---------------------------------------------------------------------------------------------
# Record schemas


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+05:00 is before the first moment Python can hold in UTC.
        raise ValueError(
            f"{value.isoformat()} is outside {rules.FIRST_DAY.year}..{rules.LAST_DAY.year}"
        ) from None


def _stage(value: str, info: ValidationInfo) -> str:
    name = value.strip().lower()
    names = (info.context or {}).get("stages")
    if names is not None and name not in names:
        raise ValueError(f"unknown stage {value!r}; the stages are {', '.join(names)}")
    return name


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {value!r}") from exc
    return value


def _recurrence(value: str) -> str:
    from crm_core.services.reminders import parse_recurrence

    parse_recurrence(value)  # raises ValueError naming the expected form
    return value.strip()


def _clock(value: str) -> str:
    from crm_core.settings import parse_clock

    at = parse_clock(value)  # raises ValueError naming the expected form
    return f"{at.hour:02d}:{at.minute:02d}"


def _quiet(value: str) -> str:
    start, sep, end = value.partition("-")
    if not sep or _clock(start) == _clock(end):
        raise ValueError(f"{value!r} is not quiet hours like 20:00-08:00")
    return f"{_clock(start)}-{_clock(end)}"


def _minutes(clock: str) -> int:
    hour, _, minute = clock.partition(":")
    return int(hour) * 60 + int(minute)


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(_CENT)


def _s(max_length: int, min_length: int = 0) -> StringConstraints:
    return StringConstraints(min_length=min_length, max_length=max_length)


ExtId = Annotated[str, StringConstraints(min_length=1, max_length=100)]
When = Annotated[AwareDatetime, AfterValidator(_utc)]
StageName = Annotated[str, StringConstraints(min_length=1, max_length=50), AfterValidator(_stage)]
Amount = Annotated[
    Decimal | None, Field(ge=0, le=MAX_AMOUNT, decimal_places=2), AfterValidator(_cents)
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$", to_upper=True)]
TimezoneName = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_timezone)
]


class _Record(BaseModel):
    # Unknown fields are refused: a typo ("ownr") must not silently drop data.
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        """A null where a field has a default (`"source": null`) means the default: other
        tools write null for what they do not know."""
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        return {
            k: v
            for k, v in data.items()
            if not (
                v is None
                and k in fields
                and not fields[k].is_required()
                and fields[k].default is not None
            )
        }


class RegionRecord(_Record):
    """A sales region (a regional office)."""

    type: Literal["region"]
    external_id: ExtId
    name: Annotated[str, _s(200, 1)]


def _country(value: str) -> str:
    from crm_core.business_calendar import country_known

    if not country_known(value):
        raise ValueError(f"no holiday calendar for country {value!r}")
    return value.upper()


def _triage(value: str) -> str:
    from crm_core.services.tickets import TRIAGE_TARGET

    if not TRIAGE_TARGET.match(value):
        raise ValueError(f"{value!r} is not a channel like slack:C0123 or telegram:-100123")
    return value


class ServiceSettings(_Record):
    """A team's service calendar as an admin set it (`team East zone|holidays|triage`)."""

    timezone: TimezoneName | None = None
    holidays: Annotated[str, AfterValidator(_country)] | None = None
    triage: Annotated[str, _s(200, 1), AfterValidator(_triage)] | None = None


class SlaTargets(_Record):
    """A team's SLA targets for one priority, in business minutes."""

    first_response_minutes: Annotated[int, Field(ge=1, le=_MAX_MINUTES)]
    resolution_minutes: Annotated[int, Field(ge=1, le=_MAX_MINUTES)]


def _sla(value: dict[str, SlaTargets]) -> dict[str, SlaTargets]:
    for priority, targets in value.items():
        if targets.first_response_minutes > targets.resolution_minutes:
            raise ValueError(f"{priority}: first response must not come after resolution")
    return value


SlaPolicies = Annotated[
    dict[Literal["urgent", "high", "normal", "low"], SlaTargets], AfterValidator(_sla)
]


class TeamRecord(_Record):
    """A sales team, optionally in a region (the region's external_id).

    `service` is present only for teams whose service calendar an admin set; `sla` only for
    teams with SLA targets an admin set (the priorities not named keep the defaults).
    """

    type: Literal["team"]
    external_id: ExtId
    name: Annotated[str, _s(200, 1)]
    region: ExtId | None = None
    service: ServiceSettings | None = None
    sla: SlaPolicies | None = None


class ProductRecord(_Record):
    """An item on the price list."""

    type: Literal["product"]
    external_id: ExtId
    name: Annotated[str, _s(200, 1)]
    family: Annotated[str, _s(100)] | None = None
    price: Amount = None
    currency: Currency = "USD"


class DigestSettings(_Record):
    """A user's morning digest: local time (None: the configured default), days, or off; and
    their own quiet hours (`20:00-08:00`), present only when they set some."""

    at: Annotated[str, AfterValidator(_clock)] | None = None
    days: Literal["weekdays", "daily"] = "weekdays"
    off: bool = False
    quiet: Annotated[str, AfterValidator(_quiet)] | None = None


class UserRecord(_Record):
    """A staff member; `team` is a team's external_id or name (unknown names create the team).

    `digest` is present only for users who changed their digest settings.
    """

    type: Literal["user"]
    external_id: ExtId
    name: Annotated[str, _s(200, 1)]
    email: Annotated[str, _s(320)] | None = None
    role: Role = Role.rep
    team: Annotated[str, _s(200, 1)] | None = None
    timezone: TimezoneName = "UTC"
    locale: Annotated[str, _s(16, 1)] = "en"
    active: bool = True
    digest: DigestSettings | None = None


class IdentityRecord(_Record):
    """A platform account linked to a user; keyed by (platform, platform_user_id)."""

    type: Literal["identity"]
    user: ExtId
    platform: Annotated[str, _s(32, 1)]
    platform_user_id: Annotated[str, _s(128, 1)]


class CustomFieldRecord(_Record):
    """A custom field declared on customers, contacts or deals; keyed by (record, name)."""

    type: Literal["custom_field"]
    record: Literal["customer", "contact", "deal"]
    name: Annotated[str, _s(rules.MAX_CUSTOM_NAME, 1)]
    kind: Literal["text", "number", "date", "choice", "yesno"]
    choices: list[str] = Field(default_factory=list)


class CareDateRecord(_Record):
    """A date field declared a care date: its owner is told `lead_days` before each date."""

    type: Literal["care_date"]
    record: Literal["customer", "contact", "deal"]
    field: Annotated[str, _s(rules.MAX_CUSTOM_NAME, 1)]
    lead_days: Annotated[int, Field(ge=0, le=365)]


# A record's custom field values by field name: text, number and date as strings, yes/no as
# booleans (crm_core.rules.custom_value gives the stored forms).
CustomValues = dict[Annotated[str, _s(rules.MAX_CUSTOM_NAME, 1)], str | bool]


class CustomerRecord(_Record):
    """A customer company."""

    type: Literal["customer"]
    external_id: ExtId
    name: Annotated[str, _s(300, 1)]
    owner: ExtId
    industry: Annotated[str, _s(100)] | None = None
    city: Annotated[str, _s(100)] | None = None
    tags: list[str] = Field(default_factory=list)
    # When it was archived (out of lists and reports until unarchived); null: not archived.
    archived_at: When | None = None
    # Set on a customer merged into another: the tombstone and the survivor's external_id.
    merged_into: ExtId | None = None
    # When it was added (`added 30d` lists and segments read it); null: the import time.
    created_at: When | None = None
    custom: CustomValues = Field(default_factory=dict)


class ContactRecord(_Record):
    """A person at a customer."""

    type: Literal["contact"]
    external_id: ExtId
    customer: ExtId
    name: Annotated[str, _s(200, 1)]
    title: Annotated[str, _s(200)] | None = None
    email: Annotated[str, _s(320)] | None = None
    phone: Annotated[str, _s(64)] | None = None
    birthday: date | None = None
    custom: CustomValues = Field(default_factory=dict)


class DealRecord(_Record):
    """A deal; `owner` defaults to the customer's owner, `created_at` to the import time."""

    type: Literal["deal"]
    external_id: ExtId
    customer: ExtId
    title: Annotated[str, _s(300, 1)]
    amount: Amount = None
    currency: Currency = "USD"
    stage: StageName
    owner: ExtId | None = None
    expected_close: date | None = None
    lost_reason: Annotated[str, _s(500)] | None = None
    product: ExtId | None = None
    quantity: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    forecast_category: Literal["pipeline", "best_case", "commit"] | None = None
    created_at: When | None = None
    closed_at: When | None = None
    custom: CustomValues = Field(default_factory=dict)


class StageChangeRecord(_Record):
    """One move of a deal between stages."""

    type: Literal["stage_change"]
    external_id: ExtId
    deal: ExtId
    from_stage: StageName | None = None
    to_stage: StageName
    changed_at: When
    actor: ExtId | None = None
    reason: Annotated[str, _s(500)] | None = None


class InteractionRecord(_Record):
    """A logged call, meeting, visit, email, chat or note."""

    type: Literal["interaction"]
    external_id: ExtId
    customer: ExtId
    deal: ExtId | None = None
    contact: ExtId | None = None
    author: ExtId
    kind: InteractionKind
    occurred_at: When
    text: str
    source: Annotated[str, _s(32, 1)] = "import"
    link: Annotated[str, _s(500)] | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None


class ReminderRecord(_Record):
    """Something a user must do at a time."""

    type: Literal["reminder"]
    external_id: ExtId
    owner: ExtId
    due_at: When
    text: str
    customer: ExtId | None = None
    deal: ExtId | None = None
    status: ReminderStatus = ReminderStatus.pending
    # "weekly:0@09:00" and the like (crm_core.services.reminders); None for a one-off.
    recurrence: Annotated[str, AfterValidator(_recurrence)] | None = None
    # Whether a clock time was named (such reminders are sent even outside working hours).
    explicit_time: bool = False
    # Who set it (a manager may remind a rep), and the first reminder of its recurring series.
    created_by: ExtId | None = None
    series: ExtId | None = None


class QuotaRecord(_Record):
    """What a user should win in [period_start, period_end), in one currency."""

    type: Literal["quota"]
    external_id: ExtId
    user: ExtId
    period_start: date
    period_end: date
    amount: Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=2), AfterValidator(_cents)]
    currency: Currency = "USD"


class TicketRecord(_Record):
    """A service ticket; its SLA figures are recomputed from its events on import."""

    type: Literal["ticket"]
    external_id: ExtId
    customer: ExtId
    subject: Annotated[str, _s(300, 1)]
    description: str | None = None
    priority: TicketPriority = TicketPriority.normal
    status: TicketStatus = TicketStatus.new
    assignee: ExtId | None = None
    team: ExtId | None = None
    created_by: ExtId | None = None
    source: Annotated[str, _s(32, 1)] = "import"
    source_key: Annotated[str, _s(200)] | None = None
    source_link: Annotated[str, _s(500)] | None = None
    source_text: str | None = None
    # Opened in a customer channel ("slack:C0123"): who asked, and where to answer them.
    channel: Annotated[str, _s(97, 3)] | None = None
    requester_id: Annotated[str, _s(128)] | None = None
    requester_name: Annotated[str, _s(200)] | None = None
    requester_where: Annotated[str, _s(200)] | None = None
    created_at: When
    first_response_at: When | None = None
    resolved_at: When | None = None
    closed_at: When | None = None
    # Present only for tickets with CSAT questions: each question, oldest first.
    csat: list[CsatQuestion] | None = None


class CustomerChannelRecord(_Record):
    """A chat linked to a customer (a Slack channel, a Telegram group); keyed by where it is."""

    type: Literal["customer_channel"]
    platform: Annotated[str, _s(32, 1), StringConstraints(pattern=r"^[^:]+$")]
    chat_id: Annotated[str, _s(64, 1)]
    name: Annotated[str, _s(200, 1)]
    customer: ExtId
    auto: bool = False
    # Tickets of the channel resolved so far: CSAT sampling asks every Nth.
    resolved_count: Annotated[int, Field(ge=0)] = 0
    created_by: ExtId | None = None
    created_at: When | None = None


class CsatQuestion(_Record):
    """A satisfaction question owed or put to a ticket's requester, and its answer."""

    platform: Annotated[str, _s(32, 1)]
    chat_id: Annotated[str, _s(64, 1)]
    thread: Annotated[str, _s(64)] | None = None
    requester_id: Annotated[str, _s(128, 1)]
    # A claim in flight is exported as "due": the claim belongs to a worker, not to the data.
    status: Literal["due", "asked", "answered", "withdrawn", "expired", "failed"]
    created_at: When
    expires_at: When
    sent_at: When | None = None
    answered_at: When | None = None
    # The answer: a `feedback` record's external_id.
    feedback: ExtId | None = None


class TicketEventRecord(_Record):
    """One step of a ticket's timeline, with the status it left the ticket in."""

    type: Literal["ticket_event"]
    external_id: ExtId
    ticket: ExtId
    kind: Literal[
        "created",
        "assigned",
        "reply",
        "wait",
        "resume",
        "resolve",
        "reopen",
        "close",
        "priority",
        "comment",
        "customer",
    ]
    at: When
    actor: ExtId | None = None
    status: TicketStatus
    value: Annotated[str, _s(100)] | None = None
    text: str | None = None


class FeedbackRecord(_Record):
    """A CSAT (1-5) or NPS (0-10) score from a customer, maybe about one ticket."""

    type: Literal["feedback"]
    external_id: ExtId
    customer: ExtId
    ticket: ExtId | None = None
    kind: Literal["csat", "nps"]
    score: Annotated[int, Field(ge=0, le=10)]
    comment: str | None = None
    recorded_by: ExtId | None = None
    created_at: When


class TierLevelValue(_Record):
    """One rung of the tier ladder."""

    name: Annotated[str, _s(50, 1)]
    threshold: Decimal


class TierRulesRecord(_Record):
    """The tier ladder: levels lowest first, on won value over `months`, in `currency`."""

    type: Literal["tier_rules"]
    levels: list[TierLevelValue]
    months: int
    currency: Annotated[str, _s(3, 3)]
    # The customer number field holding points, when the levels are points.
    points_field: Annotated[str, _s(30, 1)] | None = None


class TierPinRecord(_Record):
    """A customer's tier an admin pinned."""

    type: Literal["tier_pin"]
    customer: ExtId
    tier: Annotated[str, _s(50, 1)]


class SegmentRecord(_Record):
    """A saved customer list: its filters (as typed after `list customers`), live or a snapshot.

    `members` (customers' external ids) is present only for a snapshot: the frozen members.
    """

    type: Literal["segment"]
    external_id: ExtId
    name: Annotated[str, _s(100, 1)]
    filters: Annotated[str, _s(2000, 1)]
    snapshot: bool = False
    owner: ExtId
    created_at: When
    members: list[ExtId] | None = None


class CampaignMemberValue(_Record):
    """One frozen customer of a campaign: its group, draw place, outcomes and task state."""

    customer: ExtId
    # The customer's owner when the campaign froze it: the one given the task.
    owner: ExtId
    group: Literal["contacted", "holdout"]
    draw: Annotated[int, Field(ge=0)]
    outcome: Literal["reached", "replied", "not_interested", "converted"] | None = None
    reached_at: When | None = None
    replied_at: When | None = None
    not_interested_at: When | None = None
    converted_at: When | None = None
    outcome_by: ExtId | None = None
    snoozed_until: When | None = None


class CampaignRecord(_Record):
    """A campaign, keyed by its name, with its frozen members in draw order."""

    type: Literal["campaign"]
    name: Annotated[str, _s(CAMPAIGN_NAME, 1)]
    segment: Annotated[str, _s(100, 1)]
    filters: Annotated[str, _s(2000)]
    message: Annotated[str, _s(CAMPAIGN_MESSAGE, 1)]
    holdout_percent: Annotated[int, Field(ge=1, le=CAMPAIGN_HOLDOUT)]
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)]
    owner: ExtId
    started_at: When
    ended_at: When | None = None
    ended_by: ExtId | None = None
    members: list[CampaignMemberValue]


Record = Annotated[
    RegionRecord
    | TeamRecord
    | ProductRecord
    | UserRecord
    | IdentityRecord
    | CustomFieldRecord
    | CareDateRecord
    | CustomerRecord
    | ContactRecord
    | DealRecord
    | StageChangeRecord
    | InteractionRecord
    | ReminderRecord
    | QuotaRecord
    | CustomerChannelRecord
    | TicketRecord
    | TicketEventRecord
    | FeedbackRecord
    | TierRulesRecord
    | TierPinRecord
    | SegmentRecord
    | CampaignRecord,
    Field(discriminator="type"),
]
_RECORD: TypeAdapter[Record] = TypeAdapter(Record)


# ---------------------------------------------------------------------------------------------
# Table specs shared by import and export


@dataclass(frozen=True)
class _Spec:
    rtype: str
    model: type[Base]
    # Record fields in export order, key fields included.
    fields: tuple[str, ...]
    key: tuple[str, ...] = ("external_id",)
    # A key of several columns that references name as one string ("slack:C0123").
    join: str | None = None

    @property
    def table(self) -> Table:
        return cast(Table, self.model.__table__)

    @cached_property
    def data_fields(self) -> tuple[str, ...]:
        return tuple(f for f in self.fields if f not in self.key)

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """Columns the import writes besides the key (references as *_id, derived keys)."""
        cols = [_column(f) for f in self.data_fields if f not in _DEFERRED]
        cols += [c for c in _DERIVED if c in self.table.c]
        return tuple(cols)


def _column(record_field: str) -> str:
    if record_field in _REF_COLUMNS:
        return _REF_COLUMNS[record_field]
    return f"{record_field}_id" if record_field in _REFS else record_field


SPECS: dict[str, _Spec] = {
    s.rtype: s
    for s in (
        _Spec("region", Region, ("external_id", "name")),
        _Spec("team", Team, ("external_id", "name", "region")),
        _Spec(
            "user",
            User,
            ("external_id", "name", "email", "role", "team", "timezone", "locale", "active"),
        ),
        _Spec(
            "identity",
            Identity,
            ("user", "platform", "platform_user_id"),
            key=("platform", "platform_user_id"),
        ),
        _Spec(
            "custom_field",
            CustomField,
            ("record", "name", "kind", "choices"),
            key=("record", "name"),
        ),
        _Spec("care_date", CareDate, ("record", "field", "lead_days"), key=("record", "field")),
        _Spec(
            "customer",
            Customer,
            (
                "external_id",
                "name",
                "owner",
                "industry",
                "city",
                "tags",
                "archived_at",
                "merged_into",
                "created_at",
                "custom",
            ),
        ),
        _Spec(
            "contact",
            Contact,
            ("external_id", "customer", "name", "title", "email", "phone", "birthday", "custom"),
        ),
        _Spec("product", Product, ("external_id", "name", "family", "price", "currency")),
        _Spec(
            "deal",
            Deal,
            (
                "external_id",
                "customer",
                "title",
                "amount",
                "currency",
                "stage",
                "owner",
                "expected_close",
                "lost_reason",
                "product",
                "quantity",
                "forecast_category",
                "created_at",
                "closed_at",
                "custom",
            ),
        ),
        _Spec(
            "stage_change",
            StageChange,
            ("external_id", "deal", "from_stage", "to_stage", "changed_at", "actor", "reason"),
        ),
        _Spec(
            "interaction",
            Interaction,
            (
                "external_id",
                "customer",
                "deal",
                "contact",
                "author",
                "kind",
                "occurred_at",
                "text",
                "source",
                "link",
                "latitude",
                "longitude",
            ),
        ),
        _Spec(
            "reminder",
            Reminder,
            (
                "external_id",
                "owner",
                "due_at",
                "text",
                "customer",
                "deal",
                "status",
                "recurrence",
                "explicit_time",
                "created_by",
                "series",
            ),
        ),
        _Spec(
            "quota",
            Quota,
            ("external_id", "user", "period_start", "period_end", "amount", "currency"),
        ),
        _Spec(
            "customer_channel",
            CustomerChannel,
            (
                "platform",
                "chat_id",
                "name",
                "customer",
                "auto",
                "resolved_count",
                "created_by",
                "created_at",
            ),
            key=("platform", "chat_id"),
            join=":",
        ),
        _Spec(
            "ticket",
            Ticket,
            (
                "external_id",
                "customer",
                "subject",
                "description",
                "priority",
                "status",
                "assignee",
                "team",
                "created_by",
                "source",
                "source_key",
                "source_link",
                "source_text",
                "channel",
                "requester_id",
                "requester_name",
                "requester_where",
                "created_at",
                "first_response_at",
                "resolved_at",
                "closed_at",
            ),
        ),
        _Spec(
            "ticket_event",
            TicketEvent,
            ("external_id", "ticket", "kind", "at", "actor", "status", "value", "text"),
        ),
        _Spec(
            "feedback",
            Feedback,
            (
                "external_id",
                "customer",
                "ticket",
                "kind",
                "score",
                "comment",
                "recorded_by",
                "created_at",
            ),
        ),
        _Spec(
            "segment",
            Segment,
            ("external_id", "name", "filters", "snapshot", "owner", "created_at"),
        ),
    )
}


# ---------------------------------------------------------------------------------------------
# Export


def _out(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.quantize(_CENT))
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_out(v) for v in value]
    if isinstance(value, dict):
        # Custom field values: by name, so the same values always export the same line.
        return {k: _out(v) for k, v in sorted(value.items())}
    return value


def _dump(record: dict[str, Any]) -> str:
    line = json.dumps(record, ensure_ascii=False, sort_keys=False)
    # Keep one record per line even for readers that split on Unicode line separators.
    if any(ch in line for ch in _LINE_BREAKS):
        for ch, escaped in _LINE_BREAKS.items():
            line = line.replace(ch, escaped)
    return line


def _live(spec: _Spec) -> list[Any]:
    # Soft-deleted interactions are gone as far as the user is concerned; they are not exported.
    return [spec.table.c.deleted_at.is_(None)] if spec.rtype == "interaction" else []


def _external_ids(session: Session, spec: _Spec) -> dict[int, str]:
    """id -> external_id for a table, giving rows without one a stable `type-id` and saving it.

    Saved (and audited as `export.assign_id`) rather than computed on each export: a file
    exported, edited and imported back must find these same rows again by their ids.
    """
    t = spec.table
    rows = session.execute(select(t.c.id, t.c.external_id).where(*_live(spec)).order_by(t.c.id))
    ids: dict[int, str] = {}
    missing: list[int] = []
    for row_id, ext in rows:
        if ext is None:
            missing.append(row_id)
        else:
            ids[row_id] = ext
    if not missing:
        return ids
    taken = set(session.scalars(select(t.c.external_id).where(t.c.external_id.is_not(None))))
    assigned: list[dict[str, Any]] = []
    for row_id in missing:
        ext, n = f"{spec.rtype}-{row_id}", 1
        while ext in taken:
            n += 1
            ext = f"{spec.rtype}-{row_id}-{n}"
        taken.add(ext)
        ids[row_id] = ext
        assigned.append({"b_id": row_id, "b_ext": ext})
    # Core UPDATE so giving a row an id does not bump its updated_at.
    values: dict[str, Any] = {"external_id": bindparam("b_ext")}
    if "updated_at" in t.c:
        values["updated_at"] = t.c.updated_at
    stmt = update(t).where(t.c.id == bindparam("b_id")).values(values)
    now = utcnow()
    audits = [
        {
            "at": now,
            "actor_id": None,
            "actor_label": "export",
            "action": "export.assign_id",
            "entity_type": t.name,
            "entity_id": a["b_id"],
            "changes": {"external_id": [None, a["b_ext"]]},
            # A customer's own entries belong to its history; others' owner is not read here.
            "customer_id": a["b_id"] if t.name == "customers" else None,
        }
        for a in assigned
    ]
    for start in range(0, len(assigned), _BATCH):
        session.execute(stmt, assigned[start : start + _BATCH])
        session.execute(insert(cast(Table, AuditEntry.__table__)), audits[start : start + _BATCH])
    return ids


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _digest_out(prefs: SchedulePrefs) -> dict[str, Any]:
    minute = prefs.digest_minute
    out: dict[str, Any] = {
        "at": None if minute is None else _hhmm(minute),
        "days": prefs.digest_days,
        "off": prefs.digest_off,
    }
    if prefs.quiet_start is not None and prefs.quiet_end is not None:
        out["quiet"] = f"{_hhmm(prefs.quiet_start)}-{_hhmm(prefs.quiet_end)}"
    return out


def _service_out(row: ServiceCalendar) -> dict[str, Any]:
    return {"timezone": row.timezone, "holidays": row.country, "triage": row.triage_target}


def _sla_out(rows: list[SlaPolicy]) -> dict[str, Any]:
    by = {r.priority: r for r in rows}
    return {
        p: {
            "first_response_minutes": by[p].first_response_minutes,
            "resolution_minutes": by[p].resolution_minutes,
        }
        for p in PRIORITIES
        if p in by
    }


def _csat_out(row: CsatRequest, feedback: dict[int, str]) -> dict[str, Any]:
    return {
        "platform": row.platform,
        "chat_id": row.chat_id,
        "thread": row.thread,
        "requester_id": row.requester_id,
        "status": "due" if row.status == "sending" else row.status,
        "created_at": _out(row.created_at),
        "expires_at": _out(row.expires_at),
        "sent_at": _out(row.sent_at),
        "answered_at": _out(row.answered_at),
        "feedback": None if row.feedback_id is None else feedback[row.feedback_id],
    }


def _joined(spec: _Spec, values: Any) -> str:
    assert spec.join is not None
    return spec.join.join(str(values[k]) for k in spec.key)


def export_jsonl(session: Session, out: TextIO) -> dict[str, int]:
    """Write every record as JSON Lines in dependency order; returns counts per type."""
    counts: dict[str, int] = {}
    ext_of: dict[str, dict[int, str]] = {}
    digests = {p.user_id: p for p in session.scalars(select(SchedulePrefs))}
    services = {c.team_id: c for c in session.scalars(select(ServiceCalendar))}
    slas: dict[int, list[SlaPolicy]] = {}
    for policy in session.scalars(select(SlaPolicy)):
        slas.setdefault(policy.team_id, []).append(policy)
    questions: dict[int, list[CsatRequest]] = {}
    for question in session.scalars(
        select(CsatRequest).order_by(CsatRequest.created_at, CsatRequest.id)
    ):
        questions.setdefault(question.ticket_id, []).append(question)
    frozen: dict[int, list[int]] = {}
    for seg_id, cust_id in session.execute(
        select(SegmentMember.segment_id, SegmentMember.customer_id)
    ):
        frozen.setdefault(seg_id, []).append(cust_id)
    for spec in SPECS.values():
        t = spec.table
        if "external_id" in spec.key:
            ext_of[spec.rtype] = _external_ids(session, spec)
        elif spec.join is not None:
            ext_of[spec.rtype] = {}
        cols = ["id", *(_column(f) for f in spec.fields)]
        stmt = select(*(t.c[c] for c in cols)).where(*_live(spec)).order_by(t.c.id)
        n = 0
        for row in session.execute(stmt):
            values = row._mapping
            if spec.join is not None:
                ext_of[spec.rtype][values["id"]] = _joined(spec, values)
            record: dict[str, Any] = {"type": spec.rtype}
            for f in spec.fields:
                if f == "external_id":
                    record[f] = ext_of[spec.rtype][values["id"]]
                elif f in _REFS:
                    ref = values[_column(f)]
                    record[f] = None if ref is None else ext_of[_REFS[f]][ref]
                else:
                    record[f] = _out(values[f])
            if spec.rtype == "user" and (prefs := digests.get(values["id"])) is not None:
                record["digest"] = _digest_out(prefs)
            if spec.rtype == "team" and (service := services.get(values["id"])) is not None:
                record["service"] = _service_out(service)
            if spec.rtype == "team" and values["id"] in slas:
                record["sla"] = _sla_out(slas[values["id"]])
            if spec.rtype == "ticket" and values["id"] in questions:
                if "feedback" not in ext_of:
                    # Answers are feedback lines, written later: their ids are settled now.
                    ext_of["feedback"] = _external_ids(session, SPECS["feedback"])
                feedback = ext_of["feedback"]
                record["csat"] = [_csat_out(q, feedback) for q in questions[values["id"]]]
            if spec.rtype == "segment" and values["snapshot"]:
                names = ext_of["customer"]
                record["members"] = sorted(names[c] for c in frozen.get(values["id"], []))
            out.write(_dump(record))
            out.write("\n")
            n += 1
        counts[spec.rtype] = n
    counts.update(_export_tiers(session, out, ext_of["customer"]))
    counts[CAMPAIGN] = _export_campaigns(session, out, ext_of["customer"], ext_of["user"])
    return counts


def _export_tiers(session: Session, out: TextIO, customers: dict[int, str]) -> dict[str, int]:
    """The tier ladder and the pinned tiers (current tiers are derived: not exported)."""
    counts = dict.fromkeys(TIER_TYPES, 0)
    prog = session.get(TierProgram, tiers.PROGRAM_ID)
    if prog is not None and prog.levels:
        levels = [
            {"name": lv["name"], "threshold": _out(Decimal(lv["threshold"]))} for lv in prog.levels
        ]
        rec = {"type": "tier_rules", "levels": levels, "months": prog.months}
        rec["currency"] = prog.currency
        if prog.points_field is not None:
            rec["points_field"] = prog.points_field
        out.write(_dump(rec) + "\n")
        counts["tier_rules"] = 1
    pins = session.execute(
        select(CustomerTier.customer_id, CustomerTier.tier)
        .where(CustomerTier.pinned.is_(True), CustomerTier.tier.is_not(None))
        .order_by(CustomerTier.customer_id)
    )
    for customer_id, tier in pins:
        out.write(_dump({"type": "tier_pin", "customer": customers[customer_id], "tier": tier}))
        out.write("\n")
        counts["tier_pin"] += 1
    return counts


_MEMBER_TIMES = ("reached_at", "replied_at", "not_interested_at", "converted_at")


def _member_out(m: CampaignMember, customers: dict[int, str], users: dict[int, str]) -> Any:
    return {
        "customer": customers[m.customer_id],
        "owner": users[m.owner_id],
        "group": "holdout" if m.holdout else "contacted",
        "draw": m.draw,
        "outcome": m.outcome,
        **{f: _out(getattr(m, f)) for f in _MEMBER_TIMES},
        "outcome_by": None if m.outcome_by is None else users[m.outcome_by],
        "snoozed_until": _out(m.snoozed_until),
    }


def _export_campaigns(
    session: Session, out: TextIO, customers: dict[int, str], users: dict[int, str]
) -> int:
    """Each campaign with its frozen members in draw order (owners' notices are not carried)."""
    members: dict[int, list[CampaignMember]] = {}
    for m in session.scalars(
        select(CampaignMember).order_by(CampaignMember.campaign_id, CampaignMember.draw)
    ):
        members.setdefault(m.campaign_id, []).append(m)
    n = 0
    for c in session.scalars(select(Campaign).order_by(Campaign.id)):
        rec = {
            "type": CAMPAIGN,
            "name": c.name,
            "segment": c.segment_name,
            "filters": c.filters,
            "message": c.message,
            "holdout_percent": c.holdout_percent,
            "seed": c.seed,
            "owner": users[c.owner_id],
            "started_at": _out(c.started_at),
            "ended_at": _out(c.ended_at),
            "ended_by": None if c.ended_by is None else users[c.ended_by],
            "members": [_member_out(m, customers, users) for m in members.get(c.id, [])],
        }
        out.write(_dump(rec) + "\n")
        n += 1
    return n


# ---------------------------------------------------------------------------------------------
# Import


class ImportFailed(CrmError):
    """The file has bad lines; nothing was imported. `errors` holds (line number, reason)."""

    def __init__(self, errors: list[tuple[int, str]], *, truncated: bool = False) -> None:
        super().__init__("error.import_failed", count=len(errors), truncated=truncated)
        self.errors = sorted(errors)
        self.truncated = truncated

    def __str__(self) -> str:
        lines = [f"line {n}: {reason}" for n, reason in self.errors]
        if self.truncated:
            lines.append(f"(stopped after {MAX_ERRORS} errors)")
        return "\n".join(lines)


@dataclass
class ImportReport:
    """How many records of each type were created, updated or already up to date."""

    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TYPES, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TYPES, 0))
    unchanged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TYPES, 0))

    @property
    def changed(self) -> bool:
        """Whether the import wrote anything."""
        return any(self.created.values()) or any(self.updated.values())

    def summary(self) -> str:
        """One line per type that the file mentioned."""
        return "\n".join(
            f"{t}: {self.created[t]} created, {self.updated.get(t, 0)} updated, "
            f"{self.unchanged.get(t, 0)} unchanged"
            for t in self.created
            if self.created[t] or self.updated.get(t) or self.unchanged.get(t)
        )

    def count(self, rtype: str, outcome: str) -> None:
        """One more record of a type outside TYPES created, updated or unchanged."""
        for kind in (self.created, self.updated, self.unchanged):
            kind.setdefault(rtype, 0)
        getattr(self, outcome)[rtype] += 1

    def __str__(self) -> str:
        return self.summary() or "The file has no records."


class _TooMany(Exception):
    pass


class _Errors:
    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, reason: str) -> None:
        self.items.append((line, reason))
        if len(self.items) >= MAX_ERRORS:
            raise _TooMany

    def raise_if_any(self, *, truncated: bool = False) -> None:
        if self.items:
            raise ImportFailed(self.items, truncated=truncated)


def _label(rtype: str, data: Any) -> str:
    if isinstance(data, dict):
        if rtype == CAMPAIGN and data.get("name") is not None:
            return f"campaign {str(data['name'])!r}"
        if rtype == "identity" and "platform" in data:
            return f"identity '{data.get('platform')}:{data.get('platform_user_id')}'"
        if data.get("external_id") is not None:
            return f"{rtype} {str(data['external_id'])!r}"
    return rtype


def _describe(exc: ValidationError, raw: str | bytes) -> str:
    """A person-readable reason for a line pydantic refused."""
    try:
        data = json.loads(raw)
    except ValueError as bad:
        return f"not valid JSON ({bad})"
    if not isinstance(data, dict):
        return "a record must be a JSON object"
    rtype = data.get("type")
    reasons: list[str] = []
    for err in exc.errors(include_url=False):
        kind = err["type"]
        loc = [str(p) for p in err["loc"][1:]]  # the first element is the record type
        where = ".".join(loc)
        if kind == "union_tag_not_found":
            return f"missing 'type' (one of {', '.join(_ALL_TYPES)})"
        if kind == "union_tag_invalid":
            return f"unknown type {rtype!r} (one of {', '.join(_ALL_TYPES)})"
        if kind == "missing":
            reasons.append(f"missing required field '{where}'")
        elif kind == "extra_forbidden":
            reasons.append(f"unknown field '{where}'")
        elif kind == "value_error":
            reasons.append(f"{where}: {err['ctx']['error']}")
        else:
            reasons.append(f"{where}: {err['msg']} (got {json.dumps(err['input'])[:60]})")
    return f"{_label(str(rtype), data)}: {'; '.join(reasons)}"


def _optional(field: str, value: str | None, limit: int) -> None:
    if value is not None:
        rules.optional(field, value, limit)


def _apply_rules(rec: Any) -> None:
    """The checks chat makes before the same write (crm_core.rules); raises rules.Rule."""
    for f, value in rec:
        # Every text in every record: NUL cannot be stored on PostgreSQL, surrogates anywhere.
        if isinstance(value, str):
            rules.readable(f, value)
    if rec.type == "team":
        rules.name("name", rec.name, 200)
    elif rec.type == "user":
        rules.name("name", rec.name, 200)
        rules.email(rec.email)
        rec.locale = rules.locale(rec.locale)
    elif rec.type == "custom_field":
        rec.name = rules.custom_name(rec.name)
        rec.choices = rules.custom_choices(rec.kind, rec.choices)
        if rec.name in rules.CUSTOM_RESERVED[rec.record]:
            raise rules.Rule(
                "error.custom_name_taken",
                f"{rec.name!r} is a {rec.record}'s own field",
                field=rec.name,
                record=rec.record,
            )
    elif rec.type == "customer":
        rules.name("name", rec.name)
        _optional("industry", rec.industry, rules.MAX_FIELD)
        _optional("city", rec.city, rules.MAX_FIELD)
        rules.tags(rec.tags)
        if rec.created_at is not None:
            rules.moment("created_at", rec.created_at)
    elif rec.type == "contact":
        rules.name("name", rec.name, 200)
        _optional("title", rec.title, 200)
        rules.email(rec.email)
        if rec.birthday is not None and rec.birthday.year < 1900:
            raise rules.Rule(
                "error.contact_birthday_invalid",
                f"birthday {rec.birthday.isoformat()} is before 1900",
                value=rec.birthday.isoformat(),
            )
    elif rec.type == "deal":
        rules.name("title", rec.title)
        rules.currency(rec.currency)
        if rec.amount is not None:
            rules.amount(rec.amount)
        if rec.expected_close is not None:
            rules.day("expected_close", rec.expected_close)
        for f in ("created_at", "closed_at"):
            if getattr(rec, f) is not None:
                rules.moment(f, getattr(rec, f))
    elif rec.type == "stage_change":
        rules.moment("changed_at", rec.changed_at)
    elif rec.type == "interaction":
        rules.text("text", rec.text, rules.MAX_NOTE, "error.log_text_missing")
        rules.moment("occurred_at", rec.occurred_at)
    elif rec.type == "reminder":
        rules.text("text", rec.text, rules.MAX_REMINDER, "error.reminder_text_missing")
        rules.moment("due_at", rec.due_at)
    elif rec.type == "customer_channel":
        rules.name("name", rec.name, 200)
    elif rec.type == "ticket":
        rules.name("subject", rec.subject, 300)
        for f in ("created_at", "first_response_at", "resolved_at", "closed_at"):
            if getattr(rec, f) is not None:
                rules.moment(f, getattr(rec, f))
    elif rec.type == "ticket_event":
        rules.moment("at", rec.at)
    elif rec.type == "feedback":
        low, high = (1, 5) if rec.kind == "csat" else (0, 10)
        if not low <= rec.score <= high:
            raise rules.Rule(
                "error.feedback_score_range",
                f"a {rec.kind} score runs from {low} to {high}, not {rec.score}",
                kind=rec.kind.upper(),
                low=low,
                high=high,
            )
        rules.moment("created_at", rec.created_at)
    elif rec.type == CAMPAIGN:
        rules.name("name", rec.name, CAMPAIGN_NAME)
        rules.moment("started_at", rec.started_at)
        for m in rec.members:
            for f in ("snoozed_until", *_MEMBER_TIMES):
                if getattr(m, f) is not None:
                    rules.moment(f, getattr(m, f))
        if rec.ended_at is not None:
            rules.moment("ended_at", rec.ended_at)


def _slug(name: str) -> str:
    return re.sub(r"[^\w]+", "-", fold(name)).strip("-")[:100] or "team"


def _norm(value: Any) -> Any:
    """A value in the form both the file and the database give, for comparison."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, Decimal):
        return value.quantize(_CENT)
    return value


def _same(old: Any, new: Any) -> bool:
    # Most values compare equal as they are; only the rest pay for normalising.
    return bool(old == new) or _norm(old) == _norm(new)


def _key_of(spec: _Spec, rec: Any) -> Any:
    if len(spec.key) == 1:
        return getattr(rec, spec.key[0])
    if spec.join is not None:
        return spec.join.join(getattr(rec, k) for k in spec.key)
    return tuple(getattr(rec, k) for k in spec.key)


def _load(session: Session, spec: _Spec, wanted: set[Any] | None) -> dict[Any, dict[str, Any]]:
    """Existing rows by key (None loads the whole table): one scan or a few IN queries."""
    t = spec.table
    cols = [t.c.id, *(t.c[k] for k in spec.key), *(t.c[c] for c in spec.columns)]
    if spec.rtype == "interaction":
        cols.append(t.c.deleted_at)

    def keyed(rows: Iterable[Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
        for row in rows:
            m = dict(row._mapping)
            if len(spec.key) == 1:
                yield m[spec.key[0]], m
            else:
                yield (_joined(spec, m) if spec.join else tuple(m[k] for k in spec.key)), m

    if wanted is None or len(wanted) > _SCAN_ABOVE or len(spec.key) > 1:
        found = dict(keyed(session.execute(select(*cols))))
        return found if wanted is None else {k: v for k, v in found.items() if k in wanted}
    found = {}
    keys = sorted(wanted)
    col = t.c[spec.key[0]]
    for start in range(0, len(keys), _IN_CHUNK):
        chunk = keys[start : start + _IN_CHUNK]
        found.update(keyed(session.execute(select(*cols).where(col.in_(chunk)))))
    return found


class _Importer:
    """One import run: parse, check everything, then write type by type."""

    def __init__(self, session: Session, stages: tuple[Stage, ...]) -> None:
        self.session = session
        self.stage_names = [s.name for s in stages]
        self.stages = {s.name: s for s in stages}
        self.user_active: dict[str, bool] = {}
        # Row ids the batch writer found up to date (a later pass may still change them).
        self.unchanged: dict[str, set[int]] = {t: set() for t in TYPES}
        self.errors = _Errors()
        self.records: dict[str, list[tuple[int, Any]]] = {t: [] for t in TYPES}
        self.in_file: dict[str, dict[Any, int]] = {t: {} for t in TYPES}
        self.db: dict[str, dict[Any, dict[str, Any]]] = {}
        self.ids: dict[str, dict[Any, int]] = {t: {} for t in TYPES}
        # Team of each user record (a team external_id), and teams the users' records create.
        self.user_team: dict[str, str] = {}
        self.new_teams: dict[str, str] = {}
        # Teams whose service calendar this file changed: their tickets' due times are redone.
        self.calendar_teams: set[int] = set()
        self.customer_owner: dict[str, int] = {}
        self.file_customer: dict[str, dict[str, str]] = {}
        # External ids of stored tickets by row id, built when an answer needs one.
        self.ticket_ext: dict[int, str | None] | None = None
        self.broken: dict[str, set[str]] = {t: set() for t in TYPES}
        self.report = ImportReport()
        self.now = utcnow()
        # The tier ladder and pins of the file (not table specs: written last).
        self.tier_records: list[tuple[int, TierRulesRecord | TierPinRecord]] = []
        self.tier_lines: dict[str, dict[str, int]] = {t: {} for t in TIER_TYPES}
        # Campaigns of the file by folded name (not table specs: written after the tiers).
        self.campaigns: list[tuple[int, CampaignRecord]] = []
        self.campaign_lines: dict[str, int] = {}

    # -- phase 1: parse ----------------------------------------------------------------------

    def parse(self, lines: Iterable[str]) -> None:
        context = {"stages": self.stage_names}
        for lineno, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                rec = _RECORD.validate_json(raw, context=context)
            except ValidationError as exc:
                self._note_broken(raw)
                self.errors.add(lineno, _describe(exc, raw))
                continue
            try:
                _apply_rules(rec)
            except rules.Rule as broken:
                self._note_broken(raw)
                self.errors.add(lineno, f"{self._label(rec)}: {broken.reason}")
                continue
            if isinstance(rec, TierRulesRecord | TierPinRecord):
                tkey = rec.customer if isinstance(rec, TierPinRecord) else "rules"
                if tkey in self.tier_lines[rec.type]:
                    self.errors.add(lineno, f"{rec.type} {tkey!r} appears twice")
                    continue
                self.tier_lines[rec.type][tkey] = lineno
                self.tier_records.append((lineno, rec))
                continue
            if isinstance(rec, CampaignRecord):
                ckey = fold(rec.name)
                if ckey in self.campaign_lines:
                    also = self.campaign_lines[ckey]
                    self.errors.add(lineno, f"{self._label(rec)} appears twice (also line {also})")
                    continue
                self.campaign_lines[ckey] = lineno
                self.campaigns.append((lineno, rec))
                continue
            spec = SPECS[rec.type]
            key = _key_of(spec, rec)
            seen = self.in_file[rec.type]
            if key in seen:
                self.errors.add(lineno, f"{self._label(rec)} appears twice (also line {seen[key]})")
                continue
            seen[key] = lineno
            self.records[rec.type].append((lineno, rec))

    def _note_broken(self, raw: str | bytes) -> None:
        # A bad line's record still "exists" for references, so one typo is one error, not many.
        try:
            data = json.loads(raw)
        except ValueError:
            return
        if isinstance(data, dict) and data.get("type") == "customer_channel":
            self.broken["customer_channel"].add(f"{data.get('platform')}:{data.get('chat_id')}")
        elif isinstance(data, dict) and data.get("type") in self.broken:
            self.broken[data["type"]].add(str(data.get("external_id")))

    def _label(self, rec: Any) -> str:
        if rec.type == CAMPAIGN:
            return f"campaign {rec.name!r}"
        if rec.type == "custom_field":
            return f"custom_field '{rec.record}.{rec.name}'"
        if rec.type == "care_date":
            return f"care_date '{rec.record}.{rec.field}'"
        if rec.type == "identity":
            return f"identity '{rec.platform}:{rec.platform_user_id}'"
        if rec.type == "customer_channel":
            return f"customer_channel '{rec.platform}:{rec.chat_id}'"
        return f"{rec.type} {rec.external_id!r}"

    # -- phase 2: load what exists, check every reference ------------------------------------

    def load(self) -> None:
        wanted: dict[str, set[Any]] = {t: set(self.in_file[t]) for t in TYPES}
        for rtype in TYPES:
            for _, rec in self.records[rtype]:
                for f in SPECS[rtype].data_fields:
                    target = _REFS.get(f)
                    value = getattr(rec, f)
                    if target and target != "team" and value is not None:
                        wanted[target].add(value)
        wanted["customer"] |= set(self.tier_lines["tier_pin"])
        for _, camp in self.campaigns:
            wanted["customer"].update(m.customer for m in camp.members)
        for _, rec in self.records["segment"]:
            wanted["customer"].update(rec.members or [])
        for _, rec in self.records["ticket"]:
            wanted["feedback"].update(q.feedback for q in rec.csat or [] if q.feedback)
        for rtype, spec in SPECS.items():
            # Staff tables are small and users' teams may be named rather than referenced;
            # every record's custom values are checked against all declared fields.
            everything = rtype in ("team", "user", "identity", "custom_field")
            self.db[rtype] = _load(self.session, spec, None if everything else wanted[rtype])
            self.ids[rtype] = {k: row["id"] for k, row in self.db[rtype].items()}
        for ext, row in self.db["customer"].items():
            self.customer_owner[ext] = row["owner_id"]

    def _known(self, rtype: str, ext: str) -> bool:
        return ext in self.in_file[rtype] or ext in self.db[rtype] or ext in self.broken[rtype]

    def check(self) -> None:
        self.file_customer = {
            t: {rec.external_id: rec.customer for _, rec in self.records[t]}
            for t in ("deal", "contact", "ticket")
        }
        self._check_teams()
        self.user_active = {rec.external_id: rec.active for _, rec in self.records["user"]}
        for rtype in TYPES:
            for lineno, rec in self.records[rtype]:
                for f in SPECS[rtype].data_fields:
                    target = _REFS.get(f)
                    value = getattr(rec, f)
                    # Users name their team (created on the fly); other records refer to one.
                    if target is None or (target == "team" and rtype == "user") or value is None:
                        continue
                    if not self._known(target, value):
                        # A region is a record of its own, easily taken for a free-text name.
                        hint = (
                            ': add a line {"type": "region", "external_id": '
                            f'{json.dumps(value, ensure_ascii=False)}, "name": ...}} before it'
                            if target == "region"
                            else ""
                        )
                        self.errors.add(
                            lineno, f"{self._label(rec)} has unknown {f} {value!r}{hint}"
                        )
                self._check_consistency(lineno, rec)
                self._check_owner(lineno, rec)
        for lineno, rec in self.records["segment"]:
            for member in rec.members or []:
                if not self._known("customer", member):
                    self.errors.add(lineno, f"{self._label(rec)} has unknown member {member!r}")
            if rec.members and not rec.snapshot:
                self.errors.add(lineno, f"{self._label(rec)}: only a snapshot lists members")
        for lineno, rec in self.records["ticket"]:
            asked = [q.created_at for q in rec.csat or []]
            if len(set(asked)) != len(asked):
                self.errors.add(lineno, f"{self._label(rec)}: two CSAT questions made at one time")
            for q in rec.csat or []:
                if q.feedback is not None and not self._known("feedback", q.feedback):
                    self.errors.add(
                        lineno, f"{self._label(rec)} has unknown feedback {q.feedback!r}"
                    )
        self._check_feedback()
        self._check_segment_names()
        self._check_histories()
        self._check_deactivated()
        self._check_custom()
        self._check_tiers()
        self._check_cares()
        for lineno, camp in self.campaigns:
            self._check_campaign(lineno, camp)

    def _points_field(self, name: str) -> bool:
        """A customer number field of that name, declared in the file or the database."""
        kinds = {
            n: row["kind"] for (r, n), row in self.db["custom_field"].items() if r == "customer"
        }
        kinds |= {r.name: r.kind for _, r in self.records["custom_field"] if r.record == "customer"}
        return kinds.get(name) == "number"

    def _check_cares(self) -> None:
        """A care date names a date field: built in, or declared in the file or the database."""
        dates = {key for key in BUILT_IN_DATES}
        dates |= {k for k, row in self.db["custom_field"].items() if row["kind"] == "date"}
        file_kinds = {(r.record, r.name): r.kind for _, r in self.records["custom_field"]}
        dates -= {k for k, kind in file_kinds.items() if kind != "date"}
        dates |= {k for k, kind in file_kinds.items() if kind == "date"}
        for lineno, rec in self.records["care_date"]:
            if (rec.record, rec.field) not in dates:
                self.errors.add(
                    lineno,
                    f"{self._label(rec)} names no date field (a custom date field, contact "
                    "birthday or deal close)",
                )

    def _check_tiers(self) -> None:
        ladder: list[str] | None = None
        for lineno, rec in self.tier_records:
            if isinstance(rec, TierRulesRecord):
                try:
                    prog = tiers.check_levels(
                        [(lv.name, lv.threshold) for lv in rec.levels], rec.months, rec.currency
                    )
                    if rec.points_field is not None and not self._points_field(rec.points_field):
                        self.errors.add(
                            lineno,
                            f"tier_rules: points_field {rec.points_field!r} is not a customer "
                            "number field (declare it in a custom_field record)",
                        )
                        continue
                except CrmError:
                    self.errors.add(
                        lineno,
                        "tier_rules: levels need names once each and thresholds above zero, "
                        f"rising, in whole cents; months 1..{tiers.MAX_MONTHS}; an ISO currency",
                    )
                    continue
                ladder = [lv.name for lv in prog.levels]
        if ladder is None:
            found = tiers.program(self.session)
            ladder = [lv.name for lv in found.levels] if found is not None else []
        for lineno, rec in self.tier_records:
            if not isinstance(rec, TierPinRecord):
                continue
            if not self._known("customer", rec.customer):
                self.errors.add(lineno, f"tier_pin has unknown customer {rec.customer!r}")
            elif rec.tier not in ladder:
                self.errors.add(
                    lineno,
                    f"tier_pin for {rec.customer!r} names tier {rec.tier!r}, not one of the "
                    f"tier rules ({', '.join(ladder) or 'none set'})",
                )

    def _check_campaign(self, lineno: int, rec: CampaignRecord) -> None:
        """Known people and customers, one place per member, outcomes a task could have had."""
        label = self._label(rec)
        for f in ("owner", "ended_by"):
            user = getattr(rec, f)
            if user is not None and not self._known("user", user):
                self.errors.add(lineno, f"{label} has unknown {f} {user!r}")
        if rec.ended_at is None and rec.ended_by is not None:
            self.errors.add(lineno, f"{label}: ended_by needs ended_at")
        if rec.ended_at is not None and rec.ended_at < rec.started_at:
            self.errors.add(lineno, f"{label}: ended_at is before started_at")
        customers: set[str] = set()
        draws: set[int] = set()
        for m in rec.members:
            who = f"{label} member {m.customer!r}"
            if not self._known("customer", m.customer):
                self.errors.add(
                    lineno,
                    f"{who}: no customer {m.customer!r} in this file or the book "
                    "(add its customer line before the campaign)",
                )
            if m.customer in customers:
                self.errors.add(lineno, f"{who} appears twice")
            if m.draw in draws:
                self.errors.add(lineno, f"{who}: draw {m.draw} is another member's")
            customers.add(m.customer)
            draws.add(m.draw)
            for f in ("owner", "outcome_by"):
                user = getattr(m, f)
                if user is not None and not self._known("user", user):
                    self.errors.add(lineno, f"{who} has unknown {f} {user!r}")
            times = [f for f in (*_MEMBER_TIMES, "snoozed_until") if getattr(m, f) is not None]
            if m.group == "holdout" and (m.outcome or m.outcome_by or times):
                self.errors.add(lineno, f"{who}: a holdout member is never contacted (no outcome)")
            elif m.outcome is None and (m.outcome_by or set(times) - {"snoozed_until"}):
                self.errors.add(lineno, f"{who}: outcome times or outcome_by without an outcome")
            elif m.outcome is not None and getattr(m, f"{m.outcome}_at") is None:
                self.errors.add(lineno, f"{who}: outcome {m.outcome} needs {m.outcome}_at")

    def _check_teams(self) -> None:
        by_name: dict[str, str] = {}
        for ext, row in self.db["team"].items():
            if ext not in self.in_file["team"]:
                by_name[row["name"]] = ext
        for lineno, rec in self.records["team"]:
            other = by_name.get(rec.name)
            if other is not None and other != rec.external_id:
                self.errors.add(
                    lineno,
                    f"team {rec.external_id!r} has name {rec.name!r}, used by team {other!r}",
                )
            by_name[rec.name] = rec.external_id
        exts = set(self.in_file["team"]) | set(self.db["team"])
        folded = {fold(name): ext for name, ext in by_name.items()}
        for _, rec in self.records["user"]:
            if rec.team is None:
                continue
            team = rec.team
            if team in exts:
                ext = team
            elif fold(team) in folded:
                ext = folded[fold(team)]
            else:
                ext = _slug(team)
                if ext not in exts:
                    # A team only named by users' records: create it.
                    self.new_teams[ext] = team
                    exts.add(ext)
                    folded[fold(team)] = ext
            self.user_team[rec.external_id] = ext

    def _check_segment_names(self) -> None:
        """One segment per folded name: against this file's segments and the database's."""
        # Looked up by name, not external id: the holder may be a segment the file never names.
        wanted = sorted({fold(rec.name) for _, rec in self.records["segment"]})
        holder: dict[str, str | None] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            rows = self.session.execute(
                select(Segment.name_key, Segment.external_id).where(Segment.name_key.in_(chunk))
            )
            holder.update({key: ext for key, ext in rows})
        in_file: dict[str, tuple[int, str]] = {}
        for lineno, rec in self.records["segment"]:
            key = fold(rec.name)
            if key in in_file:
                other_line, other = in_file[key]
                self.errors.add(
                    lineno,
                    f"{self._label(rec)} has name {rec.name!r}, "
                    f"used by segment {other!r} (line {other_line})",
                )
                continue
            in_file[key] = (lineno, rec.external_id)
            if key in holder and holder[key] != rec.external_id:
                # Even a segment this file renames keeps the name until its own row is written.
                other_ext = holder[key]
                who = "another segment" if other_ext is None else f"segment {other_ext!r}"
                self.errors.add(lineno, f"{self._label(rec)} has name {rec.name!r}, used by {who}")

    def _active(self, user: str) -> bool:
        """Whether the user is active once this file is in (unknown users are reported apart)."""
        if user in self.user_active:
            return self.user_active[user]
        row = self.db["user"].get(user)
        return True if row is None else bool(row["active"])

    def _check_owner(self, lineno: int, rec: Any) -> None:
        """Customers, open deals and pending reminders belong to active users, as in chat."""
        owner = getattr(rec, "owner", None)
        if rec.type == "deal":
            stage = self.stages.get(rec.stage)
            if stage is not None and stage.closed:
                return  # history: a won or lost deal may have been a former colleague's
        elif rec.type == "reminder":
            if rec.status != ReminderStatus.pending:
                return
        elif rec.type != "customer":
            return
        elif rec.merged_into is not None:
            return  # a tombstone: no one works it, and a leaver may have owned the duplicate
        if owner is not None and not self._active(owner):
            self.errors.add(lineno, f"{self._label(rec)}: owner {owner!r} is not active")

    def _check_custom(self) -> None:
        """Custom fields keep their kind and choices; each value fits its declared field."""
        declared: dict[tuple[str, str], Any] = {}
        for (record, name), row in self.db["custom_field"].items():
            declared[(record, name)] = (row["kind"], list(row["choices"] or []))
        for lineno, rec in self.records["custom_field"]:
            old = declared.get((rec.record, rec.name))
            if old is not None and old[0] != rec.kind:
                self.errors.add(
                    lineno, f"{self._label(rec)}: kind cannot change from {old[0]} to {rec.kind}"
                )
            elif old is not None and set(old[1]) - set(rec.choices):
                gone = ", ".join(sorted(set(old[1]) - set(rec.choices)))
                self.errors.add(lineno, f"{self._label(rec)}: choices cannot be dropped ({gone})")
            declared[(rec.record, rec.name)] = (rec.kind, rec.choices)
        for rtype in ("customer", "contact", "deal"):
            for lineno, rec in self.records[rtype]:
                cleaned: dict[str, Any] = {}
                for name, value in rec.custom.items():
                    found = declared.get((rtype, name))
                    if found is None:
                        self.errors.add(
                            lineno, f"{self._label(rec)} has unknown custom field {name!r}"
                        )
                        continue
                    try:
                        stored = rules.custom_value(name, found[0], found[1], value)
                    except rules.Rule as broken:
                        self.errors.add(lineno, f"{self._label(rec)}: {broken.reason}")
                        continue
                    if stored is not None:
                        cleaned[name] = stored
                rec.custom = dict(sorted(cleaned.items()))

    def _check_histories(self) -> None:
        """A deal's latest stage change in the file must end in the stage the deal is in."""
        latest: dict[str, tuple[datetime, int, Any]] = {}
        for lineno, rec in self.records["stage_change"]:
            seen = latest.get(rec.deal)
            if seen is None or rec.changed_at >= seen[0]:
                latest[rec.deal] = (rec.changed_at, lineno, rec)
        file_stage = {rec.external_id: rec.stage for _, rec in self.records["deal"]}
        for deal, (_, lineno, rec) in latest.items():
            row = self.db["deal"].get(deal)
            stage = file_stage.get(deal) or (row["stage"] if row else None)
            if stage is not None and rec.to_stage != stage:
                self.errors.add(
                    lineno,
                    f"{self._label(rec)}: the latest move of deal {deal!r} ends in "
                    f"{rec.to_stage!r} but the deal is in {stage!r}",
                )

    def _check_deactivated(self) -> None:
        """A user the file makes inactive must not keep what the file leaves them: live
        customers, open deals, open tickets assigned to them, pending reminders.

        Each would be stranded with someone who can no longer sign in. The refusal names the
        records and what to type to move them. A merged-away customer (a tombstone) is not
        one they own: no list shows it and its records went with the merge.
        """
        for lineno, rec in self.records["user"]:
            row = self.db["user"].get(rec.external_id)
            if rec.active or row is None:
                continue
            held = self._still_held(int(row["id"]))
            if held:
                self.errors.add(
                    lineno,
                    f"{self._label(rec)}: cannot be made inactive while holding "
                    + "; ".join(held)
                    + "; move them first (or give them to someone else in the same file)",
                )

    def _still_held(self, user_id: int) -> list[str]:
        """What `user_id` still holds that this file does not hand to someone else, by kind."""

        def left(model: Any, *where: Any) -> list[tuple[int, str]]:
            rows = self.session.execute(
                select(model.id, model.external_id).where(*where).order_by(model.id)
            ).all()
            seen = self.in_file[model.__tablename__.rstrip("s")]
            return [(int(i), str(ext)) for i, ext in rows if ext is None or ext not in seen]

        def ids(rows: list[tuple[int, str]]) -> str:
            shown = ", ".join(f"#{i}" for i, _ in rows[:5])
            return shown + (", ..." if len(rows) > 5 else "")

        held: list[str] = []
        customers = left(Customer, Customer.owner_id == user_id, Customer.merged_into.is_(None))
        if customers:
            held.append(
                f"{len(customers)} customer(s) ({ids(customers)}: "
                f"`reassign #{customers[0][0]} to @<name>`)"
            )
        deals = left(Deal, Deal.owner_id == user_id, Deal.closed_at.is_(None))
        if deals:
            held.append(
                f"{len(deals)} open deal(s) ({ids(deals)}: "
                f"`edit deal #{deals[0][0]}: owner @<name>`)"
            )
        tickets = left(Ticket, Ticket.assignee_id == user_id, Ticket.status.in_(ACTIVE))
        if tickets:
            held.append(
                f"{len(tickets)} open ticket(s) assigned ({ids(tickets)}: "
                f"`assign #{tickets[0][0]} to @<name>`)"
            )
        reminders = left(
            Reminder, Reminder.owner_id == user_id, Reminder.status == ReminderStatus.pending
        )
        if reminders:
            held.append(
                f"{len(reminders)} pending reminder(s) ({ids(reminders)}: "
                f"`cancel #{reminders[0][0]}`, then `remind @<name> ...` to set it again)"
            )
        return held

    def _belongs(self, rtype: str, ext: str, customer: str) -> bool:
        """Whether the deal or contact `ext` is (or will be, after this file) `customer`'s."""
        in_file = self.file_customer[rtype].get(ext)
        if in_file is not None:
            return in_file == customer
        if ext in self.broken[rtype]:
            return True  # already reported on its own line
        row = self.db[rtype].get(ext)
        cust = self.db["customer"].get(customer)
        return row is not None and cust is not None and row["customer_id"] == cust["id"]

    def _check_consistency(self, lineno: int, rec: Any) -> None:
        """A note's deal and contact, and a reminder's deal, must belong to its customer."""
        if rec.type not in ("interaction", "reminder") or rec.customer is None:
            return
        customer = rec.customer
        if not self._known("customer", customer):
            return
        if (
            rec.deal is not None
            and self._known("deal", rec.deal)
            and not self._belongs("deal", rec.deal, customer)
        ):
            self.errors.add(
                lineno,
                f"{self._label(rec)}: deal {rec.deal!r} is not a deal of customer {customer!r}",
            )
        contact = getattr(rec, "contact", None)
        if (
            contact is not None
            and self._known("contact", contact)
            and not self._belongs("contact", contact, customer)
        ):
            self.errors.add(
                lineno,
                f"{self._label(rec)}: contact {contact!r} does not work at customer {customer!r}",
            )

    def _check_feedback(self) -> None:
        """A score's ticket is its customer's; a CSAT answer is a CSAT score about its question's
        ticket (questions of the file, or in the database for tickets the file leaves alone)."""
        in_file = {rec.external_id: rec for _, rec in self.records["feedback"]}
        for lineno, rec in self.records["feedback"]:
            if (
                rec.ticket is not None
                and self._known("ticket", rec.ticket)
                and self._known("customer", rec.customer)
                and not self._belongs("ticket", rec.ticket, rec.customer)
            ):
                self.errors.add(
                    lineno,
                    f"{self._label(rec)}: ticket {rec.ticket!r} is not a ticket of customer "
                    f"{rec.customer!r}",
                )
        for lineno, rec in self.records["ticket"]:
            seen: dict[str, datetime] = {}
            for q in rec.csat or []:
                answer = q.feedback
                if answer is None or answer in self.broken["feedback"]:
                    continue
                # The same question twice is told above.
                if seen.setdefault(answer, q.created_at) != q.created_at:
                    self.errors.add(
                        lineno, f"{self._label(rec)}: answer {answer!r} answers two questions"
                    )
                wrong = self._wrong_answer(rec, answer, in_file)
                if wrong:
                    self.errors.add(lineno, f"{self._label(rec)}: CSAT answer {answer!r}{wrong}")
        self._check_database_questions(in_file)

    def _wrong_answer(self, ticket: TicketRecord, answer: str, in_file: dict[str, Any]) -> str:
        """What is wrong with `answer` as the answer to a question of `ticket` ('' if nothing)."""
        rec = in_file.get(answer)
        if rec is not None:
            kind, about = rec.kind, rec.ticket
            line = f" (line {self.in_file['feedback'][answer]})"
        else:
            row = self.db["feedback"].get(answer)
            if row is None:
                return ""  # unknown: reported already
            kind, line = row["kind"], ""
            about = self._ticket_ext(row["ticket_id"])
        if kind != "csat":
            return f"{line} is an {kind} score, not a CSAT one"
        if about != ticket.external_id:
            where = "no ticket" if about is None else f"ticket {about!r}"
            return f"{line} is about {where}, not this one"
        if rec is None:
            # A score in the database about this ticket: the file may have moved the ticket.
            cust = self.db["customer"].get(ticket.customer)
            row = self.db["feedback"][answer]
            if cust is None or row["customer_id"] != cust["id"]:
                return f" is a score of another customer than {ticket.customer!r}"
        return ""

    def _ticket_ext(self, ticket_id: int | None) -> str | None:
        """A ticket's external id by row id (only for the few answers the file names)."""
        if ticket_id is None:
            return None
        if self.ticket_ext is None:
            self.ticket_ext = {row["id"]: str(ext) for ext, row in self.db["ticket"].items()}
        if ticket_id not in self.ticket_ext:
            self.ticket_ext[ticket_id] = self.session.scalar(
                select(Ticket.external_id).where(Ticket.id == ticket_id)
            )
        return self.ticket_ext[ticket_id]

    def _check_database_questions(self, in_file: dict[str, Any]) -> None:
        """A score of the file answering a question already stored stays about that ticket."""
        ids = {self.db["feedback"][ext]["id"]: ext for ext in in_file if ext in self.db["feedback"]}
        replaced = {rec.external_id for _, rec in self.records["ticket"] if rec.csat is not None}
        keys = sorted(ids)
        for start in range(0, len(keys), _IN_CHUNK):
            rows = self.session.execute(
                select(CsatRequest.feedback_id, Ticket.external_id)
                .join(Ticket, Ticket.id == CsatRequest.ticket_id)
                .where(CsatRequest.feedback_id.in_(keys[start : start + _IN_CHUNK]))
            )
            for feedback_id, ticket in rows:
                rec = in_file[ids[feedback_id]]
                if ticket in replaced or rec.ticket == ticket:
                    continue
                lineno = self.in_file["feedback"][rec.external_id]
                self.errors.add(
                    lineno,
                    f"{self._label(rec)} answers a CSAT question of ticket {ticket!r}, so it is "
                    f"about that ticket, not {rec.ticket!r}",
                )

    # -- phase 3: write ----------------------------------------------------------------------

    def write(self) -> None:
        for rtype in TYPES:
            items = self.records[rtype]
            if rtype == "team":
                items = items + [
                    (0, TeamRecord(type="team", external_id=ext, name=name))
                    for ext, name in self.new_teams.items()
                ]
            for start in range(0, len(items), _BATCH):
                self._write_batch(SPECS[rtype], items[start : start + _BATCH])
            if rtype == "user":
                self._write_digests()
            if rtype == "team":
                self._write_service_calendars()
                self._write_sla_policies()
            if rtype == "feedback":
                self._write_csat()
            if rtype == "segment":
                self._write_segment_members()
        for f, rtype in _DEFERRED.items():
            self._write_deferred(rtype, f)
        # Bulk statements bypass the identity map; do not let stale objects linger.
        self.session.expire_all()
        self._refresh_tickets()
        self._write_tiers()
        self._write_campaigns()

    def _write_rules(self, rec: TierRulesRecord) -> bool:
        s = self.session
        levels = [{"name": lv.name, "threshold": str(lv.threshold)} for lv in rec.levels]
        row = s.get(TierProgram, tiers.PROGRAM_ID)
        wanted = (
            [(lv.name, lv.threshold) for lv in rec.levels],
            rec.months,
            rec.currency.upper(),
            rec.points_field,
        )
        if row is not None:
            held = [(lv["name"], Decimal(lv["threshold"])) for lv in row.levels]
            if (held, row.months, row.currency, row.points_field) == wanted:
                self.report.count("tier_rules", "unchanged")
                return False
        before = audit.snapshot(row) if row is not None else None
        if row is None:
            row = TierProgram(id=tiers.PROGRAM_ID)
            s.add(row)
        row.levels, row.months, row.currency = levels, rec.months, rec.currency.upper()
        row.points_field = rec.points_field
        row.updated_at = self.now
        audit.record(s, None, "tiers.set", row, before, actor_label="import")
        self.report.count("tier_rules", "updated" if before else "created")
        return True

    def _write_pin(self, customer: Customer, tier: str) -> bool:
        s = self.session
        row = s.get(CustomerTier, customer.id)
        if row is not None and row.pinned and row.tier == tier:
            self.report.count("tier_pin", "unchanged")
            return False
        if row is None:
            row = CustomerTier(customer_id=customer.id, tier=None, pinned=False, since=self.now)
            s.add(row)
            s.flush()
        before = audit.snapshot(row)
        if row.tier != tier:
            s.add(
                TierChange(
                    customer_id=customer.id,
                    owner_id=customer.owner_id,
                    from_tier=row.tier,
                    to_tier=tier,
                    reason="pin",
                    at=self.now,
                    status="silent",
                )
            )
        self.report.count("tier_pin", "updated" if row.pinned else "created")
        row.tier, row.pinned, row.since = tier, True, self.now
        audit.record(s, None, "customer.tier", row, before, actor_label="import")
        return True

    def _write_tiers(self) -> None:
        """The ladder and pins; then customers earning a higher tier get it, as in chat."""
        if not self.tier_records:
            self._points_upgrades()
            return
        s = self.session
        changed = False
        for _, rec in self.tier_records:
            if isinstance(rec, TierRulesRecord):
                changed = self._write_rules(rec) or changed
        pins = [rec for _, rec in self.tier_records if isinstance(rec, TierPinRecord)]
        by_ext = {
            c.external_id: c
            for c in s.scalars(
                select(Customer).where(Customer.external_id.in_([p.customer for p in pins]))
            )
        }
        for pin in pins:
            changed = self._write_pin(by_ext[pin.customer], pin.tier) or changed
        prog = tiers.program(s)
        if changed and prog is not None:
            pipeline = Pipeline(tuple(self.stages.values()))
            tiers.settle(
                s, prog, pipeline, self.now, None, downgrade=False, silent=True, label="import"
            )
        else:
            self._points_upgrades()

    def _points_upgrades(self) -> None:
        """Under a ladder on points, the file's customers whose points now earn a higher tier
        get it (points fed from a shop or loyalty system by import), silently as in bulk."""
        prog = tiers.program(self.session)
        if prog is None or prog.points_field is None or not self.records["customer"]:
            return
        known = self.ids["customer"]
        ids = [
            known[rec.external_id]
            for _, rec in self.records["customer"]
            if rec.external_id in known
        ]
        pipeline = Pipeline(tuple(self.stages.values()))
        tiers.settle(
            self.session,
            prog,
            pipeline,
            self.now,
            None,
            downgrade=False,
            silent=True,
            label="import",
            customer_ids=ids,
        )

    def _write_campaigns(self) -> None:
        """Campaigns matched by folded name, then each one's members as the file lists them."""
        if not self.campaigns:
            return
        s = self.session
        users = self.ids["user"]
        have = {
            c.name_key: c
            for c in s.scalars(select(Campaign).where(Campaign.name_key.in_(self.campaign_lines)))
        }
        for _, rec in self.campaigns:
            key = fold(rec.name)
            new: dict[str, Any] = {
                "name": rec.name,
                "segment_name": rec.segment,
                "filters": rec.filters,
                "message": rec.message,
                "holdout_percent": rec.holdout_percent,
                "seed": rec.seed,
                "owner_id": users[rec.owner],
                "started_at": rec.started_at,
                "ended_at": rec.ended_at,
                "ended_by": None if rec.ended_by is None else users[rec.ended_by],
            }
            row = have.get(key)
            outcome = "unchanged"
            if row is None:
                row = Campaign(name_key=key, **new)
                s.add(row)
                audit.record(s, None, "import.create", row, None, actor_label="import")
                outcome = "created"
            elif changed := {k: v for k, v in new.items() if not _same(getattr(row, k), v)}:
                before = audit.snapshot(row)
                for k, v in changed.items():
                    setattr(row, k, v)
                audit.record(s, None, "import.update", row, before, actor_label="import")
                outcome = "updated"
            if self._write_campaign_members(row.id, rec) and outcome == "unchanged":
                outcome = "updated"
            self.report.count(CAMPAIGN, outcome)
        s.flush()

    def _write_campaign_members(self, campaign_id: int, rec: CampaignRecord) -> bool:
        """The file's members replace the campaign's: matched by customer; True if any changed."""
        s = self.session
        users, customers = self.ids["user"], self.ids["customer"]
        have = {
            m.customer_id: m
            for m in s.scalars(
                select(CampaignMember).where(CampaignMember.campaign_id == campaign_id)
            )
        }
        audits: list[dict[str, Any]] = []
        inserts: list[dict[str, Any]] = []
        for m in rec.members:
            customer_id = customers[m.customer]
            new: dict[str, Any] = {
                "owner_id": users[m.owner],
                "holdout": m.group == "holdout",
                "draw": m.draw,
                "outcome": m.outcome,
                **{f: getattr(m, f) for f in _MEMBER_TIMES},
                "outcome_by": None if m.outcome_by is None else users[m.outcome_by],
                "snoozed_until": m.snoozed_until,
            }
            row = have.pop(customer_id, None)
            if row is None:
                inserts.append({"campaign_id": campaign_id, "customer_id": customer_id, **new})
                continue
            changes = {
                k: [jsonable(getattr(row, k)), jsonable(v)]
                for k, v in new.items()
                if not _same(getattr(row, k), v)
            }
            if changes:
                for k in changes:
                    setattr(row, k, new[k])
                audits.append(self._member_audit("import.update", row.id, customer_id, changes))
        for gone in have.values():
            audits.append(
                self._member_audit(
                    "import.delete", gone.id, gone.customer_id, diff(audit.snapshot(gone), None)
                )
            )
            s.delete(gone)
        s.flush()
        if inserts:
            table = cast(Table, CampaignMember.__table__)
            for start in range(0, len(inserts), _BATCH):
                s.execute(insert(table), inserts[start : start + _BATCH])
            rows = s.execute(
                select(CampaignMember.customer_id, CampaignMember.id).where(
                    CampaignMember.campaign_id == campaign_id
                )
            )
            ids = {customer: member for customer, member in rows}
            audited = [c.key for c in table.c if c.key not in _NOT_AUDITED]
            for values in inserts:
                snap = {c: jsonable(values.get(c)) for c in audited}
                audits.append(
                    self._member_audit(
                        "import.create",
                        ids[values["customer_id"]],
                        values["customer_id"],
                        diff(None, snap),
                    )
                )
        for start in range(0, len(audits), _BATCH):
            s.execute(insert(cast(Table, AuditEntry.__table__)), audits[start : start + _BATCH])
        return bool(audits)

    def _member_audit(
        self, action: str, member_id: int, customer_id: int, changes: dict[str, Any]
    ) -> dict[str, Any]:
        # Part of the customer's history, as a member's outcome recorded in chat is.
        return {
            "at": self.now,
            "actor_id": None,
            "actor_label": "import",
            "action": action,
            "entity_type": CampaignMember.__tablename__,
            "entity_id": member_id,
            "changes": changes,
            "customer_id": customer_id,
        }

    def _refresh_tickets(self) -> None:
        """SLA due times of the tickets this file touched, from their events as imported."""
        touched = {rec.external_id for _, rec in self.records["ticket"]}
        touched |= {rec.ticket for _, rec in self.records["ticket_event"]}
        ids = [self.ids["ticket"][ext] for ext in touched if ext in self.ids["ticket"]]
        # Their texts are owed to the note index, in this same transaction.
        note_outbox.enqueue_tickets(self.session, ids, now=self.now)
        if self.calendar_teams:
            # A team's new calendar moves the due times of its tickets this file did not name.
            ids += self.session.scalars(
                select(Ticket.id).where(
                    Ticket.team_id.in_(self.calendar_teams), Ticket.status.in_(ACTIVE)
                )
            ).all()
            ids = list(dict.fromkeys(ids))
        if not ids:
            return
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            for ticket in self.session.scalars(select(Ticket).where(Ticket.id.in_(chunk))):
                refresh_sla(self.session, ticket)
        self.session.flush()

    def _values(self, spec: _Spec, rec: Any, fields: Iterable[str]) -> dict[str, Any]:
        """Column values for the given record fields, references resolved to ids."""
        out: dict[str, Any] = {}
        for f in fields:
            if f in _DEFERRED:
                continue
            value = getattr(rec, f)
            if f == "team" and spec.rtype == "user":
                out["team_id"] = (
                    None if value is None else self.ids["team"][self.user_team[rec.external_id]]
                )
            elif f in _REFS:
                out[f"{f}_id"] = None if value is None else self.ids[_REFS[f]][value]
            else:
                out[f] = value
        if spec.rtype in ("customer", "product") and "name" in out:
            out["name_key"] = name_key(out["name"])
        if spec.rtype == "deal" and "title" in out:
            out["title_key"] = name_key(out["title"])
        if spec.rtype == "segment" and "name" in out:
            out["name_key"] = fold(out["name"])
        return out

    def _write_batch(self, spec: _Spec, items: list[tuple[int, Any]]) -> None:
        table = spec.table
        columns = spec.columns
        has_updated = "updated_at" in table.c
        existing = self.db[spec.rtype]
        inserts: list[dict[str, Any]] = []
        insert_keys: list[Any] = []
        updates: list[dict[str, Any]] = []
        audits: list[dict[str, Any]] = []
        for _, rec in items:
            key = _key_of(spec, rec)
            row = existing.get(key)
            if row is None:
                values = self._values(spec, rec, spec.data_fields)
                self._fill_defaults(spec, rec, values)
                for k in spec.key:
                    values[k] = getattr(rec, k)
                values.setdefault("created_at", self.now)
                if has_updated:
                    values["updated_at"] = self.now
                inserts.append(values)
                insert_keys.append(key)
                continue
            given_set = rec.model_fields_set
            given = [f for f in spec.data_fields if f in given_set]
            values = self._values(spec, rec, given)
            if spec.rtype in ("deal", "customer_channel", "customer"):
                # Not-null columns: an explicit null means "keep what is there".
                for col in ("owner_id", "created_at"):
                    if values.get(col, 0) is None:
                        del values[col]
            changes = {
                col: [jsonable(row[col]), jsonable(new)]
                for col, new in values.items()
                if col not in _DERIVED and not _same(row[col], new)
            }
            if not changes:
                self.report.unchanged[spec.rtype] += 1
                self.unchanged[spec.rtype].add(row["id"])
                continue
            merged = {col: row[col] for col in columns}
            merged.update(values)
            update_row = {"id": row["id"], **merged}
            if has_updated:
                update_row["updated_at"] = self.now
            updates.append(update_row)
            audits.append(self._audit("import.update", spec, row["id"], changes, merged))
            self.report.updated[spec.rtype] += 1
            self._remember(spec, key, merged)
        if updates:
            self.session.execute(update(spec.model), updates)
        if inserts:
            # A plain Core executemany, then one lookup of the new ids by key: far faster than
            # the ORM's bulk INSERT, and than RETURNING, which SQLite runs a row at a time when
            # the rows must come back in order.
            self.session.execute(insert(table), inserts)
            created = self._fetch_ids(spec, insert_keys)
            new_ids = [created[key] for key in insert_keys]
            audited = [c.key for c in table.c if c.key not in _NOT_AUDITED]
            for key, new_id, values in zip(insert_keys, new_ids, inserts, strict=True):
                snapshot = {c: jsonable(values.get(c)) for c in audited}
                audits.append(
                    self._audit("import.create", spec, new_id, diff(None, snapshot), values)
                )
                self.ids[spec.rtype][key] = new_id
                self._remember(spec, key, values)
            self.report.created[spec.rtype] += len(inserts)
        if audits:
            self.session.execute(insert(cast(Table, AuditEntry.__table__)), audits)
        if spec.rtype == "interaction":
            # New and changed notes are owed to the note index, in this same transaction.
            changed = [row["id"] for row in updates] + [
                self.ids["interaction"][k] for k in insert_keys
            ]
            note_outbox.enqueue(self.session, changed, now=self.now)

    def _changed(self, rtype: str, row_id: int) -> None:
        """Count a row the batch writer saw unchanged as updated after all."""
        if row_id in self.unchanged[rtype]:
            self.unchanged[rtype].discard(row_id)
            self.report.unchanged[rtype] -= 1
            self.report.updated[rtype] += 1

    def _write_service_calendars(self) -> None:
        """Service calendars of the teams that carry them (a ServiceCalendar row each)."""
        given = [rec for _, rec in self.records["team"] if rec.service is not None]
        audits = []
        for rec in given:
            team_id = self.ids["team"][rec.external_id]
            c = rec.service
            new = {"timezone": c.timezone, "country": c.holidays, "triage_target": c.triage}
            row = self.session.get(ServiceCalendar, team_id)
            old = {k: getattr(row, k) for k in new} if row is not None else dict.fromkeys(new)
            changes = {k: [old[k], v] for k, v in new.items() if old[k] != v}
            if row is not None and not changes:
                continue
            if row is None:
                row = ServiceCalendar(
                    team_id=team_id, days="01234", start_minute=540, end_minute=1080
                )
                self.session.add(row)
            for k, v in new.items():
                setattr(row, k, v)
            row.updated_at = self.now
            self.calendar_teams.add(team_id)
            audits.append(self._import_audit(ServiceCalendar.__tablename__, team_id, changes))
            self._changed("team", team_id)
        self._flush(audits)

    def _flush(self, audits: list[dict[str, Any]]) -> None:
        """Write what the ORM holds, then the audit entries for it."""
        self.session.flush()
        if audits:
            self.session.execute(insert(cast(Table, AuditEntry.__table__)), audits)

    def _import_audit(self, table: str, entity_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        return {
            "at": self.now,
            "actor_id": None,
            "actor_label": "import",
            "action": "import.update",
            "entity_type": table,
            "entity_id": entity_id,
            "changes": changes,
        }

    def _write_sla_policies(self) -> None:
        """SLA targets of the teams that carry them: the file's priorities, the rest default."""
        audits = []
        for _, rec in self.records["team"]:
            if rec.sla is None:
                continue
            team_id = self.ids["team"][rec.external_id]
            have = {
                r.priority: r
                for r in self.session.scalars(select(SlaPolicy).where(SlaPolicy.team_id == team_id))
            }
            old = {p: [r.first_response_minutes, r.resolution_minutes] for p, r in have.items()}
            new = {p: [t.first_response_minutes, t.resolution_minutes] for p, t in rec.sla.items()}
            if old == new:
                continue
            for priority in have.keys() - new.keys():
                self.session.delete(have[priority])
            for priority, (first, resolution) in new.items():
                row = have.get(priority)
                if row is None:
                    row = SlaPolicy(team_id=team_id, priority=priority)
                    self.session.add(row)
                row.first_response_minutes, row.resolution_minutes = first, resolution
                row.updated_at = self.now
            # Its active tickets' due times follow the new targets, as `sla Team high 2h` does.
            self.calendar_teams.add(team_id)
            audits.append(self._import_audit(SlaPolicy.__tablename__, team_id, {"sla": [old, new]}))
            self._changed("team", team_id)
        self._flush(audits)

    def _write_csat(self) -> None:
        """CSAT questions of the tickets that carry them, matched by when each was made."""
        audits = []
        for _, rec in self.records["ticket"]:
            if rec.csat is None:
                continue
            ticket_id = self.ids["ticket"][rec.external_id]
            have = {
                r.created_at: r
                for r in self.session.scalars(
                    select(CsatRequest).where(CsatRequest.ticket_id == ticket_id)
                )
            }
            before = {at.isoformat(): r.status for at, r in have.items()}
            changed = False
            for q in rec.csat:
                new: dict[str, Any] = {
                    "platform": q.platform,
                    "chat_id": q.chat_id,
                    "thread": q.thread,
                    "requester_id": q.requester_id,
                    "status": q.status,
                    "expires_at": q.expires_at,
                    "sent_at": q.sent_at,
                    "answered_at": q.answered_at,
                    "feedback_id": None if q.feedback is None else self.ids["feedback"][q.feedback],
                }
                row = have.pop(q.created_at, None)
                if row is None:
                    self.session.add(
                        CsatRequest(ticket_id=ticket_id, created_at=q.created_at, attempts=0, **new)
                    )
                    changed = True
                    continue
                if row.status == "sending" and q.status == "due":
                    del new["status"]  # a claim in flight is left to its worker
                for k, v in new.items():
                    if getattr(row, k) != v:
                        setattr(row, k, v)
                        changed = True
            for gone in have.values():
                self.session.delete(gone)
                changed = True
            if changed:
                after = {q.created_at.isoformat(): q.status for q in rec.csat}
                audits.append(
                    self._import_audit(
                        CsatRequest.__tablename__, ticket_id, {"csat": [before, after]}
                    )
                )
                self._changed("ticket", ticket_id)
        self._flush(audits)

    def _write_segment_members(self) -> None:
        """A snapshot's frozen members as the file lists them (unchanged sets are left alone)."""
        for _, rec in self.records["segment"]:
            if not rec.snapshot:
                continue
            seg_id = self.ids["segment"][rec.external_id]
            wanted = {self.ids["customer"][m] for m in rec.members or []}
            have = set(
                self.session.scalars(
                    select(SegmentMember.customer_id).where(SegmentMember.segment_id == seg_id)
                )
            )
            if wanted == have:
                continue
            self.session.execute(
                delete(SegmentMember).where(
                    SegmentMember.segment_id == seg_id,
                    SegmentMember.customer_id.in_(have - wanted),
                )
            )
            self.session.add_all(
                SegmentMember(segment_id=seg_id, customer_id=c) for c in sorted(wanted - have)
            )
            self._changed("segment", seg_id)
        self.session.flush()

    def _write_digests(self) -> None:
        """Digest settings of the users that carry them (a SchedulePrefs row each)."""
        given = [rec for _, rec in self.records["user"] if rec.digest is not None]
        if not given:
            return
        user_ids = [self.ids["user"][rec.external_id] for rec in given]
        current = {
            p.user_id: p
            for p in self.session.scalars(
                select(SchedulePrefs).where(SchedulePrefs.user_id.in_(user_ids))
            )
        }
        audits = []
        for rec, user_id in zip(given, user_ids, strict=True):
            d = rec.digest
            hour, _, minute = (d.at or "").partition(":")
            new = {
                "digest_minute": int(hour) * 60 + int(minute) if d.at else None,
                "digest_days": d.days,
                "digest_off": d.off,
                "quiet_start": _minutes(d.quiet.split("-")[0]) if d.quiet else None,
                "quiet_end": _minutes(d.quiet.split("-")[1]) if d.quiet else None,
            }
            prefs = current.get(user_id)
            old = {k: getattr(prefs, k) for k in new} if prefs is not None else dict.fromkeys(new)
            changes = {k: [old[k], v] for k, v in new.items() if old[k] != v}
            if not changes:
                continue
            if prefs is None:
                self.session.add(SchedulePrefs(user_id=user_id, updated_at=self.now, **new))
            else:
                for k, v in new.items():
                    setattr(prefs, k, v)
                prefs.updated_at = self.now
            audits.append(self._import_audit(SchedulePrefs.__tablename__, user_id, changes))
            self._changed("user", user_id)
        self._flush(audits)

    def _write_deferred(self, rtype: str, f: str) -> None:
        """A reference to a record of the same type, once every record of the file has its id."""
        given = [rec for _, rec in self.records[rtype] if f in rec.model_fields_set]
        if not given:
            return
        spec = SPECS[rtype]
        t = spec.table
        column = _column(f)
        ids = [self.ids[rtype][rec.external_id] for rec in given]
        current: dict[int, int | None] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            rows = self.session.execute(select(t.c.id, t.c[column]).where(t.c.id.in_(chunk)))
            current.update((row_id, ref) for row_id, ref in rows)
        updates, audits = [], []
        for rec, row_id in zip(given, ids, strict=True):
            value = getattr(rec, f)
            ref = None if value is None else self.ids[_REFS[f]][value]
            if current[row_id] == ref:
                continue
            updates.append({"b_id": row_id, "b_ref": ref})
            audits.append(
                self._audit("import.update", spec, row_id, {column: [current[row_id], ref]})
            )
            self._changed(rtype, row_id)
        if updates:
            stmt = update(t).where(t.c.id == bindparam("b_id")).values({column: bindparam("b_ref")})
            self.session.execute(stmt, updates)
            self.session.execute(insert(cast(Table, AuditEntry.__table__)), audits)

    def _fetch_ids(self, spec: _Spec, keys: list[Any]) -> dict[Any, int]:
        t = spec.table
        if len(spec.key) > 1:
            wanted = set(keys)
            rows = self.session.execute(select(t.c.id, *(t.c[k] for k in spec.key)))
            keyed = ((_joined(spec, r._mapping) if spec.join else tuple(r[1:]), r[0]) for r in rows)
            return {k: i for k, i in keyed if k in wanted}
        col = t.c[spec.key[0]]
        found: dict[Any, int] = {}
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            found.update(
                (k, i) for i, k in self.session.execute(select(t.c.id, col).where(col.in_(chunk)))
            )
        return found

    def _fill_defaults(self, spec: _Spec, rec: Any, values: dict[str, Any]) -> None:
        if spec.rtype in ("customer_channel", "customer") and values.get("created_at") is None:
            values["created_at"] = self.now
        if spec.rtype != "deal":
            return
        if values.get("owner_id") is None:
            values["owner_id"] = self.customer_owner[rec.customer]
        if values.get("created_at") is None:
            values["created_at"] = self.now

    def _remember(self, spec: _Spec, key: Any, values: dict[str, Any]) -> None:
        # A deal without an owner gets its customer's, as this file leaves it.
        if spec.rtype == "customer":
            self.customer_owner[key] = values["owner_id"]

    def _audit(
        self,
        action: str,
        spec: _Spec,
        entity_id: int,
        changes: dict[str, Any],
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        # The customer whose history the entry is part of (a reminder's series update: none).
        customer_id = (
            entity_id if spec.table.name == "customers" else (values or {}).get("customer_id")
        )
        return {
            "at": self.now,
            "actor_id": None,
            "actor_label": "import",
            "action": action,
            "entity_type": spec.table.name,
            "entity_id": entity_id,
            "changes": changes,
            "customer_id": customer_id if isinstance(customer_id, int) else None,
        }


def import_jsonl(
    session: Session, lines: Iterable[str], *, stages: tuple[Stage, ...]
) -> ImportReport:
    """Upsert a JSON Lines file by external_id; raises ImportFailed (nothing written) if bad."""
    importer = _Importer(session, stages)
    try:
        importer.parse(lines)
        importer.load()
        importer.check()
    except _TooMany:
        importer.errors.raise_if_any(truncated=True)
    importer.errors.raise_if_any()
    importer.write()
    return importer.report
