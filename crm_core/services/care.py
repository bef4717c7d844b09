"""Care dates: a date field declared one (`care renewal_date 15d`) pings the owner ahead of it.

Any custom date field of customers, contacts or deals can be declared, and two built-in ones:
a contact's `birthday` (every year, on its month and day) and a deal's `close` (its expected
close, while the deal is open). The ping is due on the owner's local day `lead` days before the
date (the scheduler sends it in their working hours, once: schedules/care.py); the digest lists
the dates coming within their lead time.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core import audit, rules
from crm_core.access import live_customer
from crm_core.context import Ctx
from crm_core.errors import Invalid, NotFound, PermissionDenied
from crm_core.json_paths import custom_text
from crm_core.models import CareDate, CarePing, Contact, Customer, CustomField, Deal, Role, User
from crm_core.stages import Pipeline
from crm_core.zones import zone

MAX_LEAD_DAYS = 365
# Built-in date fields: (record, name) -> whether it comes back every year.
BUILT_IN = {("contact", "birthday"): True, ("deal", "close"): False}
BUILT_IN_ALIASES = {"expected_close": "close", "close_date": "close", "birthdays": "birthday"}


@dataclass(frozen=True)
class CareItem:
    """One record's date under a care declaration."""

    care: CareDate
    entity_id: int
    label: str  # the contact's or deal's name; the customer's for a customer field
    customer_id: int
    customer_name: str
    owner_id: int
    stored: date

    def on_or_after(self, day: date) -> date:
        """The date itself, or for a yearly one its first occurrence on or after `day`."""
        if not BUILT_IN.get((self.care.record, self.care.field), False):
            return self.stored
        for year in (day.year, day.year + 1):
            month, dom = self.stored.month, self.stored.day
            if (month, dom) == (2, 29) and not calendar.isleap(year):
                dom = 28
            found = date(year, month, dom)
            if found >= day:
                return found
        raise AssertionError("a yearly date falls within two years")


@dataclass(frozen=True)
class Coming:
    """A care date within its lead time, for the digest and the ping."""

    item: CareItem
    day: date
    days: int  # from the owner's local today


def _admin(ctx: Ctx) -> None:
    if ctx.actor.role != Role.admin:
        raise PermissionDenied("error.care_admin_only")


def cares(session: Session) -> list[CareDate]:
    """Every declared care date, by record then field."""
    order = {r: i for i, r in enumerate(rules.CUSTOM_RECORDS)}
    found = session.scalars(select(CareDate)).all()
    return sorted(found, key=lambda c: (order.get(c.record, 9), c.field))


def _date_fields(session: Session) -> list[tuple[str, str]]:
    """(record, name) of every date field a care date can name, built-in ones first."""
    custom = session.execute(
        select(CustomField.record, CustomField.name)
        .where(CustomField.kind == "date")
        .order_by(CustomField.id)
    ).all()
    return [*BUILT_IN, *((r, n) for r, n in custom)]


def resolve_field(session: Session, record: str | None, name: str) -> tuple[str, str]:
    """(record, field) a typed name means; Invalid names the date fields there are."""
    wanted = name.strip().lower()
    wanted = BUILT_IN_ALIASES.get(wanted, wanted)
    fields = _date_fields(session)
    known = ", ".join(f"{r} {n}" for r, n in fields)
    hits = [(r, n) for r, n in fields if n == wanted and (record is None or r == record)]
    if not hits:
        exists = session.scalar(
            select(CustomField.kind).where(
                CustomField.name == wanted,
                *((CustomField.record == record,) if record is not None else ()),
            )
        )
        if exists is not None:
            raise Invalid("error.care_not_date", field=wanted, kind=exists, known=known or "-")
        raise Invalid("error.care_unknown_field", field=name.strip(), known=known or "-")
    if len(hits) > 1:
        raise Invalid(
            "error.care_which_record",
            field=wanted,
            records=", ".join(f"`care {r} {n} …`" for r, n in hits),
        )
    return hits[0]


def declare(ctx: Ctx, record: str | None, name: str, lead_days: int) -> tuple[CareDate, bool]:
    """Declare (or change the lead time of) a care date (admins); True when it is new."""
    _admin(ctx)
    if not 0 <= lead_days <= MAX_LEAD_DAYS:
        raise Invalid("error.care_lead", max=MAX_LEAD_DAYS)
    rec, field = resolve_field(ctx.session, record, name)
    found = ctx.session.scalar(
        select(CareDate).where(CareDate.record == rec, CareDate.field == field)
    )
    if found is not None:
        if found.lead_days == lead_days:
            raise Invalid("error.care_same", record=rec, field=field, days=lead_days)
        before = audit.snapshot(found)
        found.lead_days = lead_days
        audit.record(ctx.session, ctx.actor, "care.change", found, before)
        return found, False
    care = CareDate(record=rec, field=field, lead_days=lead_days, created_at=ctx.now())
    ctx.session.add(care)
    audit.record(ctx.session, ctx.actor, "care.create", care, None)
    return care, True


def remove(ctx: Ctx, record: str | None, name: str) -> CareDate:
    """Stop a care date (admins); its sent pings go with it."""
    _admin(ctx)
    wanted = BUILT_IN_ALIASES.get(name.strip().lower(), name.strip().lower())
    found = [
        c
        for c in cares(ctx.session)
        if c.field == wanted and (record is None or c.record == record)
    ]
    if not found:
        raise NotFound(
            "error.care_not_declared",
            field=name.strip(),
            known=", ".join(f"{c.record} {c.field}" for c in cares(ctx.session)) or "-",
        )
    if len(found) > 1:
        raise Invalid(
            "error.care_which_record",
            field=wanted,
            records=", ".join(f"`care remove {c.record} {c.field}`" for c in found),
        )
    care = found[0]
    before = audit.snapshot(care)
    audit.record(ctx.session, ctx.actor, "care.remove", care, before).changes = audit.diff(
        before, None
    )
    for ping in ctx.session.scalars(select(CarePing).where(CarePing.care_id == care.id)):
        ctx.session.delete(ping)
    ctx.session.delete(care)
    ctx.session.flush()
    return care


def _stored(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def items(
    session: Session,
    care: CareDate,
    pipeline: Pipeline,
    owner_id: int | None = None,
    within: tuple[date, date] | None = None,
) -> Iterator[CareItem]:
    """Each live record holding a date under `care` (only `owner_id`'s, when given).

    `within` (first, last): only dates in that span, found by the database (a yearly birthday
    is read whole: its date is this year's or next).
    """
    if care.record == "customer":
        stmt: Any = select(
            Customer.id, Customer.custom, Customer.id, Customer.name, Customer.owner_id
        )
        label_is_customer = True
    elif care.record == "contact":
        value = Contact.birthday if care.field == "birthday" else Contact.custom
        stmt = select(
            Contact.id, value, Customer.id, Customer.name, Customer.owner_id, Contact.name
        )
        stmt = stmt.join(Customer, Customer.id == Contact.customer_id)
        label_is_customer = False
    else:
        value = Deal.expected_close if care.field == "close" else Deal.custom
        stmt = select(Deal.id, value, Customer.id, Customer.name, Deal.owner_id, Deal.title)
        stmt = stmt.join(Customer, Customer.id == Deal.customer_id)
        if care.field == "close":
            stmt = stmt.where(Deal.stage.in_([st.name for st in pipeline.open_stages]))
        label_is_customer = False
    stmt = stmt.where(live_customer())
    if owner_id is not None:
        owner_col = Deal.owner_id if care.record == "deal" else Customer.owner_id
        stmt = stmt.where(owner_col == owner_id)
    builtin = (care.record, care.field) in BUILT_IN
    if within is not None and not BUILT_IN.get((care.record, care.field), False):
        model: Any = {"customer": Customer, "contact": Contact, "deal": Deal}[care.record]
        # Dates are stored as ISO strings in `custom`: they compare in order as text.
        column = model.expected_close if builtin else custom_text(model.custom, care.field)
        first, last = within
        stmt = stmt.where(
            column.between(first, last) if builtin else column.between(str(first), str(last))
        )
    for row in session.execute(stmt):
        raw = row[1] if builtin else (row[1] or {}).get(care.field)
        day = _stored(raw)
        if day is None:
            continue
        label = row[3] if label_is_customer else row[5]
        yield CareItem(care, row[0], label, row[2], row[3], row[4], day)


def coming_for(item: CareItem, today: date) -> Coming | None:
    """The item's date when `today` is within its lead time (the date itself included)."""
    day = item.on_or_after(today)
    days = (day - today).days
    if 0 <= days <= item.care.lead_days:
        return Coming(item, day, days)
    return None


def coming(ctx: Ctx, today: date, limit: int = 10) -> list[Coming]:
    """The actor's care dates within their lead time from their local `today`, soonest first."""
    out = []
    for care in cares(ctx.session):
        span = (today, today + timedelta(days=care.lead_days))
        for item in items(ctx.session, care, ctx.pipeline, ctx.actor.id, span):
            found = coming_for(item, today)
            if found is not None:
                out.append(found)
    out.sort(key=lambda c: (c.day, c.item.care.field, c.item.label, c.item.entity_id))
    return out[:limit]


def due_pings(session: Session, pipeline: Pipeline, now: datetime) -> list[tuple[Coming, User]]:
    """Every care date whose ping is due on its owner's local today and not yet claimed."""
    declared = cares(session)
    if not declared:
        return []
    # Only pings of dates still to come matter (every zone's today is after UTC's yesterday).
    since = now.date() - timedelta(days=1)
    done = {
        (care_id, entity_id, day)
        for care_id, entity_id, day, status in session.execute(
            select(CarePing.care_id, CarePing.entity_id, CarePing.day, CarePing.status).where(
                CarePing.day >= since
            )
        )
        if status != "retry"
    }
    owners = {u.id: u for u in session.scalars(select(User).where(User.active.is_(True)))}
    # Each owner's local today, once: the day a ping is due is the owner's, not UTC's.
    todays = {uid: now.astimezone(zone(u.timezone)).date() for uid, u in owners.items()}
    out = []
    utc_today = now.date()
    for care in declared:
        # Every owner's today lies within a day of UTC's.
        span = (utc_today - timedelta(days=1), utc_today + timedelta(days=care.lead_days + 1))
        for item in items(session, care, pipeline, within=span):
            owner = owners.get(item.owner_id)
            if owner is None:
                continue
            found = coming_for(item, todays[owner.id])
            if found is None or (care.id, item.entity_id, found.day) in done:
                continue
            out.append((found, owner))
    out.sort(key=lambda pair: (pair[0].day, pair[0].item.care.id, pair[0].item.entity_id))
    return out
