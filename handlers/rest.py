"""The REST API's resources: JSON in, the chat verbs' services acting as the token's user, JSON out.

The HTTP adapter (bot/api) only maps paths and status codes; everything it answers comes from
here, so the API and chat share one set of services, access rules and audit entries.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from crm_core import rules
from crm_core.access import ensure_customer_access
from crm_core.context import Ctx
from crm_core.db import lock_for_update, retrying, unit_of_work
from crm_core.errors import Ambiguous, CrmError, Invalid, NotFound, PermissionDenied
from crm_core.models import (
    Contact,
    Customer,
    CustomField,
    Deal,
    Interaction,
    InteractionKind,
    Reminder,
    ReminderStatus,
    Ticket,
    TicketEvent,
    TicketPriority,
    TicketStatus,
    User,
)
from crm_core.resolve import find_user
from crm_core.services import contacts as contact_svc
from crm_core.services import custom_fields as field_svc
from crm_core.services import customers as customer_svc
from crm_core.services import deals as deal_svc
from crm_core.services import interactions as interaction_svc
from crm_core.services import pages
from crm_core.services import reminders as reminder_svc
from crm_core.services import tickets as ticket_svc
from crm_core.services.api_tokens import Caller, authenticate
from crm_core.services.contacts import NO_YEAR
from handlers.dispatcher import Dispatcher
from handlers.i18n import Translator

# Ids are 64-bit in PostgreSQL: a larger number is no record, not a database error.
MAX_ID = 2**63 - 1
MAX_KEY = 200
DEFAULT_LIMIT = 50
# Where a call's context keeps the language the client asked for.
API_LOCALE = "api_locale"


class ApiError(Exception):
    """A refusal in the API's one error shape; `code` picks the HTTP status in the adapter."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        """The JSON the client gets."""
        return {"error": {"code": self.code, "message": self.message}}


@dataclass(frozen=True)
class Call:
    """One API request as the adapter hands it over: which id, which query, which body."""

    record_id: int | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class Answer:
    """What a call answers: the JSON and whether it created a record."""

    body: dict[str, Any]
    created: bool = False
    # A removal answers 204 with no body.
    empty: bool = False


# --- reading what the client sent ----------------------------------------------------------


class Fields:
    """A JSON object body, read field by field; unknown fields and wrong types are refused."""

    def __init__(self, body: Any, allowed: tuple[str, ...], t: Translator) -> None:
        if not isinstance(body, dict):
            raise ApiError("invalid", t("api.body_not_object"))
        unknown = sorted(k for k in body if k not in allowed)
        if unknown:
            raise ApiError(
                "invalid", t("api.field_unknown", field=unknown[0], fields=", ".join(allowed))
            )
        self.raw: dict[str, Any] = body
        self.t = t

    def _wrong(self, name: str, kind: str) -> ApiError:
        return ApiError("invalid", self.t("api.field_type", field=name, expected=self.t(kind)))

    def has(self, name: str) -> bool:
        """Whether the client sent this field (null included)."""
        return name in self.raw

    def text(self, name: str, *, required: bool = False) -> str | None:
        """A string field; None when absent."""
        value = self.raw.get(name)
        if value is None:
            if required:
                raise ApiError("invalid", self.t("api.field_missing", field=name))
            return None
        if not isinstance(value, str):
            raise self._wrong(name, "api.type_string")
        return rules.readable(name, value)

    def required(self, name: str) -> str:
        """A string field the call cannot do without."""
        value = self.text(name, required=True)
        assert value is not None
        return value

    def ident(self, name: str, *, required: bool = False) -> int | None:
        """A record id field."""
        value = self.raw.get(name)
        if value is None:
            if required:
                raise ApiError("invalid", self.t("api.field_missing", field=name))
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
            raise self._wrong(name, "api.type_id")
        return value

    def flag(self, name: str) -> bool:
        """A boolean field (false when absent)."""
        value = self.raw.get(name, False)
        if not isinstance(value, bool):
            raise self._wrong(name, "api.type_boolean")
        return value

    def strings(self, name: str) -> list[str] | None:
        """A list-of-strings field."""
        value = self.raw.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._wrong(name, "api.type_strings")
        return [rules.readable(name, v) for v in value]

    def custom(self, name: str = "custom") -> dict[str, Any] | None:
        """Custom field values by field name: text, a number, true/false, or null to clear."""
        value = self.raw.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._wrong(name, "api.type_custom")
        out: dict[str, Any] = {}
        for key, item in value.items():
            rules.readable(name, key)
            if isinstance(item, str):
                out[key] = rules.readable(key, item)
            elif item is None or isinstance(item, bool):
                out[key] = item
            elif isinstance(item, int | float):
                # A JSON number for a number field: read as its digits, as chat reads them.
                out[key] = str(item)
            else:
                raise self._wrong(f"{name}.{key}", "api.type_custom_value")
        return out

    def decimal(self, name: str) -> Decimal | None:
        """A money amount, as a JSON number or a decimal string."""
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self._wrong(name, "api.type_decimal")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise self._wrong(name, "api.type_decimal") from None
        if not amount.is_finite() or abs(amount) > rules.MAX_AMOUNT * 10:
            raise Invalid("error.amount_invalid", value=str(value)[:40])
        return amount

    def day(self, name: str) -> date | None:
        """A calendar day, `YYYY-MM-DD`."""
        value = self.text(name)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self._wrong(name, "api.type_date") from None

    def moment(self, name: str, *, required: bool = False) -> datetime | None:
        """A moment with its offset, ISO 8601 (`2026-12-01T09:00:00+01:00`)."""
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise self._wrong(name, "api.type_datetime") from None
        if when.tzinfo is None or when.utcoffset() is None:
            raise self._wrong(name, "api.type_datetime")
        try:
            return when.astimezone(UTC)
        except OverflowError:
            raise self._wrong(name, "api.type_datetime") from None


def _query_int(call: Call, name: str, t: Translator) -> int | None:
    raw = call.query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise ApiError("invalid", t("api.param_invalid", param=name, expected=t("api.type_id")))
    return int(raw)


def _query_text(call: Call, name: str) -> str | None:
    raw = call.query.get(name)
    return rules.readable(name, raw) if raw else None


def _query_flag(call: Call, name: str, t: Translator) -> bool | None:
    raw = call.query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in ("true", "false"):
        raise ApiError(
            "invalid", t("api.param_invalid", param=name, expected=t("api.type_boolean"))
        )
    return raw == "true"


def _limit(call: Call, t: Translator) -> int:
    raw = call.query.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= pages.MAX_PAGE:
        raise ApiError("invalid", t("error.api_limit_invalid", limit=pages.MAX_PAGE))
    return int(raw)


def encode_cursor(after: int) -> str:
    """The opaque `next` of a page."""
    return base64.urlsafe_b64encode(f"after:{after}".encode()).decode().rstrip("=")


def _cursor(call: Call, t: Translator) -> int | None:
    raw = call.query.get("cursor")
    if raw is None or raw == "":
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise ApiError("invalid", t("api.cursor_invalid")) from None
    kind, _, number = text.partition(":")
    if kind != "after" or not number.isascii() or not number.isdigit() or int(number) > MAX_ID:
        raise ApiError("invalid", t("api.cursor_invalid"))
    return int(number)


def _page_json(
    ctx: Ctx, page: pages.Page[Any], render: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    _prime(ctx, [getattr(i, "owner_id", None) or getattr(i, "author_id", None) for i in page.items])
    return {
        "items": [render(item) for item in page.items],
        "next": encode_cursor(page.after) if page.after is not None else None,
    }


# --- records as JSON -------------------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _prime(ctx: Ctx, user_ids: list[int | None]) -> dict[int, str]:
    """Handles of these users, read in one query and kept for the rest of the request."""
    # Kept in the session's info: the identity map holds users weakly, so a page of 200 records
    # would otherwise read the same few owners again and again.
    known: dict[int, str] = ctx.session.info.setdefault("api_handles", {})
    missing = {i for i in user_ids if i is not None and i not in known}
    if missing:
        rows = ctx.session.execute(select(User.id, User.external_id).where(User.id.in_(missing)))
        known.update({int(r[0]): str(r[1]) for r in rows})
    return known


def _handle(ctx: Ctx, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return _prime(ctx, [user_id]).get(user_id)


def _custom(values: dict[str, Any] | None) -> dict[str, Any]:
    """Custom field values in their stored forms, by name (sorted, as export writes them)."""
    return dict(sorted((values or {}).items()))


def customer_json(ctx: Ctx, c: Customer) -> dict[str, Any]:
    """A customer as the API shows it."""
    return {
        "id": c.id,
        "name": c.name,
        "owner": _handle(ctx, c.owner_id),
        "industry": c.industry,
        "city": c.city,
        "tags": list(c.tags or []),
        "archived": c.archived_at is not None,
        "merged_into": c.merged_into,
        "custom": _custom(c.custom),
        "created_at": _when(c.created_at),
        "updated_at": _when(c.updated_at),
    }


def contact_json(ctx: Ctx, c: Contact) -> dict[str, Any]:
    """A contact as the API shows it (a birthday without a year is `--MM-DD`)."""
    birthday = None
    if c.birthday is not None:
        birthday = (
            c.birthday.strftime("--%m-%d") if c.birthday.year == NO_YEAR else c.birthday.isoformat()
        )
    return {
        "id": c.id,
        "customer_id": c.customer_id,
        "name": c.name,
        "title": c.title,
        "email": c.email,
        "phone": c.phone,
        "birthday": birthday,
        "custom": _custom(c.custom),
        "created_at": _when(c.created_at),
    }


def deal_json(ctx: Ctx, d: Deal) -> dict[str, Any]:
    """A deal as the API shows it (the amount as a decimal string: money is never a float)."""
    return {
        "id": d.id,
        "customer_id": d.customer_id,
        "title": d.title,
        "amount": str(d.amount) if d.amount is not None else None,
        "currency": d.currency,
        "stage": d.stage,
        "owner": _handle(ctx, d.owner_id),
        "expected_close": d.expected_close.isoformat() if d.expected_close else None,
        "closed_at": _when(d.closed_at),
        "lost_reason": d.lost_reason,
        "custom": _custom(d.custom),
        "created_at": _when(d.created_at),
        "updated_at": _when(d.updated_at),
    }


def interaction_json(ctx: Ctx, n: Interaction) -> dict[str, Any]:
    """An interaction (a logged call, visit, note...) as the API shows it."""
    return {
        "id": n.id,
        "customer_id": n.customer_id,
        "deal_id": n.deal_id,
        "contact_id": n.contact_id,
        "author": _handle(ctx, n.author_id),
        "kind": n.kind.value,
        "occurred_at": _when(n.occurred_at),
        "text": n.text,
        "source": n.source,
        "created_at": _when(n.created_at),
    }


def reminder_json(ctx: Ctx, r: Reminder) -> dict[str, Any]:
    """A reminder as the API shows it."""
    return {
        "id": r.id,
        "owner": _handle(ctx, r.owner_id),
        "text": r.text,
        "due_at": _when(r.due_at),
        "status": r.status.value,
        "customer_id": r.customer_id,
        "deal_id": r.deal_id,
        "recurrence": r.recurrence,
        "created_at": _when(r.created_at),
    }


def event_json(ctx: Ctx, e: TicketEvent) -> dict[str, Any]:
    """One step of a ticket's timeline."""
    return {
        "kind": e.kind,
        "at": _when(e.at),
        "actor": _handle(ctx, e.actor_id),
        "status": e.status.value,
        "value": e.value,
        "text": e.text,
    }


def ticket_json(ctx: Ctx, k: Ticket, *, events: bool = False) -> dict[str, Any]:
    """A ticket as the API shows it; with its timeline when read alone."""
    out: dict[str, Any] = {
        "id": k.id,
        "customer_id": k.customer_id,
        "subject": k.subject,
        "description": k.description,
        "priority": k.priority.value,
        "status": k.status.value,
        "assignee": _handle(ctx, k.assignee_id),
        "team": k.team.name if k.team is not None else None,
        "created_by": _handle(ctx, k.created_by_id),
        "source": k.source,
        "created_at": _when(k.created_at),
        "updated_at": _when(k.updated_at),
        "first_response_at": _when(k.first_response_at),
        "resolved_at": _when(k.resolved_at),
        "closed_at": _when(k.closed_at),
        "response_due_at": _when(k.response_due_at),
        "resolution_due_at": _when(k.resolution_due_at),
    }
    if events:
        timeline = ctx.session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == k.id)
            .order_by(TicketEvent.at, TicketEvent.id)
        ).all()
        _prime(ctx, [e.actor_id for e in timeline])
        out["events"] = [event_json(ctx, e) for e in timeline]
    return out


def field_json(f: CustomField) -> dict[str, Any]:
    """A declared custom field."""
    return {"record": f.record, "name": f.name, "kind": f.kind, "choices": list(f.choices or [])}


# --- the operations --------------------------------------------------------------------------


def _t(ctx: Ctx) -> Translator:
    # The language the client asked for (Accept-Language), else the token user's.
    return Translator(str(ctx.memo.get(API_LOCALE) or ctx.actor.locale))


def _owner(ctx: Ctx, handle: str | None) -> User | None:
    if handle is None:
        return None
    try:
        return find_user(ctx.session, handle)
    except NotFound as exc:
        # A body naming nobody is bad input (422), not a missing resource.
        raise Invalid(exc.key, **exc.params) from None


def _id_of(user: User | None) -> int | None:
    return user.id if user is not None else None


def _owner_filter(ctx: Ctx, call: Call) -> int | None:
    # `me` as the tickets' `assignee` filter takes it: one reading for every user filter.
    return _id_of(_assignee(ctx, _query_text(call, "owner")))


def _id(call: Call) -> int:
    assert call.record_id is not None, "the route supplies the id"
    return call.record_id


def list_customers(ctx: Ctx, call: Call) -> Answer:
    """GET /customers."""
    t = _t(ctx)
    page = pages.customers_page(
        ctx,
        after=_cursor(call, t),
        limit=_limit(call, t),
        query=_query_text(call, "q"),
        owner_id=_owner_filter(ctx, call),
        city=_query_text(call, "city"),
        industry=_query_text(call, "industry"),
    )
    return Answer(_page_json(ctx, page, lambda c: customer_json(ctx, c)))


def get_customer(ctx: Ctx, call: Call) -> Answer:
    """GET /customers/{id}."""
    return Answer(customer_json(ctx, pages.customer_by_id(ctx, _id(call))))


def create_customer(ctx: Ctx, call: Call) -> Answer:
    """POST /customers."""
    t = _t(ctx)
    f = Fields(call.body, ("name", "industry", "city", "tags", "owner", "force"), t)
    name = f.required("name")
    try:
        customer = customer_svc.create_customer(
            ctx,
            name,
            industry=f.text("industry"),
            city=f.text("city"),
            tags=f.strings("tags"),
            owner=_owner(ctx, f.text("owner")),
            force=f.flag("force"),
        )
    except customer_svc.DuplicateCustomer as dup:
        # Chat answers with buttons; a client needs the existing id and the field to send.
        first = dup.existing[0]
        key = "api.customer_duplicate_exact" if dup.exact else "api.customer_duplicate"
        raise ApiError("invalid", t(key, id=first.id, name=first.label, new=name)) from None
    ctx.session.flush()
    return Answer(customer_json(ctx, customer), created=True)


def update_customer(ctx: Ctx, call: Call) -> Answer:
    """PATCH /customers/{id}."""
    f = Fields(call.body, ("name", "industry", "city", "tags", "custom"), _t(ctx))
    custom = f.custom()
    customer = pages.writable_customer(ctx, _id(call))
    customer_svc.update_customer(
        ctx,
        customer,
        name=f.text("name"),
        # null clears a detail, as "" does in chat.
        industry=(f.text("industry") or "") if f.has("industry") else None,
        city=(f.text("city") or "") if f.has("city") else None,
        tags=(f.strings("tags") or []) if f.has("tags") else None,
        custom=custom,
    )
    return Answer(customer_json(ctx, customer))


def list_contacts(ctx: Ctx, call: Call) -> Answer:
    """GET /contacts."""
    t = _t(ctx)
    page = pages.contacts_page(
        ctx,
        after=_cursor(call, t),
        limit=_limit(call, t),
        customer_id=_query_int(call, "customer_id", t),
        query=_query_text(call, "q"),
    )
    return Answer(_page_json(ctx, page, lambda c: contact_json(ctx, c)))


def get_contact(ctx: Ctx, call: Call) -> Answer:
    """GET /contacts/{id}."""
    return Answer(contact_json(ctx, pages.contact_by_id(ctx, _id(call))))


def create_contact(ctx: Ctx, call: Call) -> Answer:
    """POST /contacts."""
    f = Fields(call.body, ("customer_id", "name", "title", "email", "phone", "birthday"), _t(ctx))
    customer_id = f.ident("customer_id", required=True)
    assert customer_id is not None
    name = f.required("name")
    birthday = f.text("birthday")
    customer = pages.writable_customer(ctx, customer_id)
    contact = contact_svc.add_contact(
        ctx,
        customer,
        name,
        title=f.text("title"),
        email=f.text("email"),
        phone=f.text("phone"),
        birthday=contact_svc.check_birthday(birthday) if birthday else None,
    )
    ctx.session.flush()
    return Answer(contact_json(ctx, contact), created=True)


def update_contact(ctx: Ctx, call: Call) -> Answer:
    """PATCH /contacts/{id}."""
    f = Fields(call.body, ("name", "title", "email", "phone", "birthday", "custom"), _t(ctx))
    custom = f.custom()
    contact = pages.contact_by_id(ctx, _id(call))

    def cleared(name: str) -> str | None:
        return (f.text(name) or "") if f.has(name) else None

    contact_svc.update_contact(
        ctx,
        contact,
        name=f.text("name"),
        title=cleared("title"),
        email=cleared("email"),
        phone=cleared("phone"),
        birthday=cleared("birthday"),
        custom=custom,
    )
    return Answer(contact_json(ctx, contact))


def delete_contact(ctx: Ctx, call: Call) -> Answer:
    """DELETE /contacts/{id}: remove a contact as chat's `contact remove` does (its notes stay
    on the customer, unlinked; one audit entry keeps the removed values)."""
    contact_svc.remove_contact(ctx, pages.contact_by_id(ctx, _id(call)))
    return Answer({}, empty=True)


def list_deals(ctx: Ctx, call: Call) -> Answer:
    """GET /deals."""
    t = _t(ctx)
    page = pages.deals_page(
        ctx,
        after=_cursor(call, t),
        limit=_limit(call, t),
        customer_id=_query_int(call, "customer_id", t),
        stage=_query_text(call, "stage"),
        owner_id=_owner_filter(ctx, call),
        is_open=_query_flag(call, "open", t),
    )
    return Answer(_page_json(ctx, page, lambda d: deal_json(ctx, d)))


def get_deal(ctx: Ctx, call: Call) -> Answer:
    """GET /deals/{id}."""
    return Answer(deal_json(ctx, pages.deal_by_id(ctx, _id(call))))


def create_deal(ctx: Ctx, call: Call) -> Answer:
    """POST /deals."""
    f = Fields(
        call.body,
        ("customer_id", "title", "amount", "currency", "expected_close", "stage", "owner"),
        _t(ctx),
    )
    customer_id = f.ident("customer_id", required=True)
    assert customer_id is not None
    title = f.required("title")
    amount, currency, close = f.decimal("amount"), f.text("currency"), f.day("expected_close")
    stage, owner = f.text("stage"), _owner(ctx, f.text("owner"))
    customer = pages.writable_customer(ctx, customer_id)
    deal = deal_svc.create_deal(
        ctx,
        customer,
        title,
        amount=amount,
        currency=currency,
        expected_close=close,
        stage=stage,
        owner=owner,
    )
    ctx.session.flush()
    return Answer(deal_json(ctx, deal), created=True)


def update_deal(ctx: Ctx, call: Call) -> Answer:
    """PATCH /deals/{id} (null clears the amount or the expected close)."""
    f = Fields(
        call.body, ("title", "amount", "currency", "expected_close", "owner", "custom"), _t(ctx)
    )
    title, currency, custom = f.text("title"), f.text("currency"), f.custom()
    amount = f.decimal("amount") if f.has("amount") else deal_svc.KEEP
    close = f.day("expected_close") if f.has("expected_close") else deal_svc.KEEP
    owner = _owner(ctx, f.text("owner"))
    deal = pages.deal_by_id(ctx, _id(call))
    deal_svc.update_deal(
        ctx,
        deal,
        title=title,
        amount=amount,
        currency=currency,
        expected_close=close,
        owner=owner,
        custom=custom,
    )
    return Answer(deal_json(ctx, deal))


def move_deal(ctx: Ctx, call: Call) -> Answer:
    """POST /deals/{id}/stage: a stage move, with the history and audit chat's `move` writes."""
    f = Fields(call.body, ("stage", "reason"), _t(ctx))
    stage, reason = f.required("stage"), f.text("reason")
    deal = pages.deal_by_id(ctx, _id(call))
    # As it is now: a retry racing its own first attempt sees that attempt's stage.
    lock_for_update(ctx.session, deal)
    target = ctx.pipeline.get(stage)
    if target is not None and target.name == deal.stage:
        ensure_customer_access(ctx.actor, deal.customer)
        same_reason = reason is None or not target.lost
        if (
            same_reason
            or rules.name("reason", reason or "", deal_svc.MAX_REASON) == deal.lost_reason
        ):
            # A retry of a move that was made (its answer lost on the way): the deal as it is,
            # with no second stage change, audit entry or webhook event (PUT semantics).
            return Answer(deal_json(ctx, deal))
    deal_svc.move_deal(ctx, deal, stage, reason=reason)
    return Answer(deal_json(ctx, deal))


def list_interactions(ctx: Ctx, call: Call) -> Answer:
    """GET /interactions."""
    t = _t(ctx)
    kind_text = _enum_param(call, "kind", list(InteractionKind.__members__), t)
    kind = InteractionKind(kind_text) if kind_text is not None else None
    page = pages.interactions_page(
        ctx,
        after=_cursor(call, t),
        limit=_limit(call, t),
        customer_id=_query_int(call, "customer_id", t),
        deal_id=_query_int(call, "deal_id", t),
        kind=kind,
    )
    return Answer(_page_json(ctx, page, lambda n: interaction_json(ctx, n)))


def get_interaction(ctx: Ctx, call: Call) -> Answer:
    """GET /interactions/{id}."""
    return Answer(interaction_json(ctx, pages.interaction_by_id(ctx, _id(call))))


def create_interaction(ctx: Ctx, call: Call) -> Answer:
    """POST /interactions: log a call, meeting, visit, email, chat or note."""
    t = _t(ctx)
    f = Fields(
        call.body,
        (
            "customer_id",
            "kind",
            "text",
            "occurred_at",
            "deal_id",
            "contact_id",
            "idempotency_key",
        ),
        t,
    )
    customer_id = f.ident("customer_id", required=True)
    assert customer_id is not None
    kind_text = f.required("kind").lower()
    if kind_text not in InteractionKind.__members__:
        raise ApiError(
            "invalid",
            t("api.field_type", field="kind", expected=", ".join(InteractionKind.__members__)),
        )
    text = f.required("text")
    occurred_at = f.moment("occurred_at")
    deal_id, contact_id = f.ident("deal_id"), f.ident("contact_id")
    key = f.text("idempotency_key")
    if key is not None and not key.strip():
        raise ApiError("invalid", t("api.field_empty", field="idempotency_key"))
    if key is not None and len(key) > MAX_KEY:
        raise Invalid("error.too_long", field="idempotency_key", limit=MAX_KEY)
    customer = pages.writable_customer(ctx, customer_id)
    deal = pages.deal_by_id(ctx, deal_id) if deal_id is not None else None
    contact = pages.contact_by_id(ctx, contact_id) if contact_id is not None else None
    note, new = interaction_svc.log_interaction(
        ctx,
        customer,
        InteractionKind(kind_text),
        text,
        occurred_at=occurred_at,
        deal=deal,
        contact=contact,
        source="api",
        # Keys of API clients never meet the chat platforms' delivery keys.
        idempotency_key=f"api:{ctx.actor.id}:{key}" if key else None,
    )
    ctx.session.flush()
    if not new:
        asked = (
            customer.id,
            InteractionKind(kind_text),
            interaction_svc.check_note_text(text),
            deal.id if deal else None,
            contact.id if contact else None,
        )
        logged = (note.customer_id, note.kind, note.text, note.deal_id, note.contact_id)
        # Without occurred_at the first call's "now" stands: a retry a minute later is the same.
        moved = occurred_at is not None and rules.moment("time", occurred_at) != note.occurred_at
        if asked != logged or moved:
            # The IETF idempotency-key draft's answer (422): a key names one request, and
            # answering the first note would lose this one without a word.
            raise ApiError("invalid", t("api.idempotency_key_reused", given=key, id=note.id))
    return Answer(interaction_json(ctx, note), created=new)


def update_interaction(ctx: Ctx, call: Call) -> Answer:
    """PATCH /interactions/{id}: replace the text (a rep: only what they wrote)."""
    f = Fields(call.body, ("text",), _t(ctx))
    text = f.required("text")
    note = pages.interaction_by_id(ctx, _id(call))
    interaction_svc.edit_interaction(ctx, note.id, text)
    return Answer(interaction_json(ctx, note))


def list_reminders(ctx: Ctx, call: Call) -> Answer:
    """GET /reminders."""
    t = _t(ctx)
    status = _enum_param(call, "status", list(ReminderStatus.__members__), t)
    page = pages.reminders_page(
        ctx,
        after=_cursor(call, t),
        limit=_limit(call, t),
        status=status,
        owner_id=_owner_filter(ctx, call),
        customer_id=_query_int(call, "customer_id", t),
    )
    return Answer(_page_json(ctx, page, lambda r: reminder_json(ctx, r)))


def get_reminder(ctx: Ctx, call: Call) -> Answer:
    """GET /reminders/{id}."""
    return Answer(reminder_json(ctx, pages.reminder_by_id(ctx, _id(call))))


def create_reminder(ctx: Ctx, call: Call) -> Answer:
    """POST /reminders."""
    f = Fields(call.body, ("text", "due_at", "owner", "customer_id", "deal_id"), _t(ctx))
    text = f.required("text")
    due = f.moment("due_at", required=True)
    assert due is not None
    owner = _owner(ctx, f.text("owner")) or ctx.actor
    customer_id, deal_id = f.ident("customer_id"), f.ident("deal_id")
    customer = pages.writable_customer(ctx, customer_id) if customer_id is not None else None
    deal = pages.deal_by_id(ctx, deal_id) if deal_id is not None else None
    reminder = reminder_svc.create_reminder(ctx, owner, due, text, customer=customer, deal=deal)
    ctx.session.flush()
    return Answer(reminder_json(ctx, reminder), created=True)


def update_reminder(ctx: Ctx, call: Call) -> Answer:
    """PATCH /reminders/{id}: `status` done or cancelled, or a new `due_at` (a snooze)."""
    t = _t(ctx)
    f = Fields(call.body, ("status", "due_at"), t)
    status, due = f.text("status"), f.moment("due_at")
    status = status.lower() if status is not None else None
    if status not in (None, "done", "cancelled"):
        raise ApiError("invalid", t("api.field_type", field="status", expected="done, cancelled"))
    if (status is None) == (due is None):
        raise ApiError("invalid", t("api.reminder_change"))
    reminder_id = _id(call)
    reminder = reminder_svc.get_reminder(ctx, reminder_id, for_update=True)
    if status is not None and reminder.status.value == status:
        # A retry of a change that was made: the reminder as it is, nothing written again.
        return Answer(reminder_json(ctx, reminder))
    if status == "done":
        reminder_svc.complete(ctx, reminder_id)
    elif status == "cancelled":
        reminder_svc.cancel(ctx, reminder_id)
    else:
        assert due is not None
        reminder_svc.snooze(ctx, reminder_id, due)
    return Answer(reminder_json(ctx, pages.reminder_by_id(ctx, reminder_id)))


def _enum_param(call: Call, name: str, members: list[str], t: Translator) -> str | None:
    # Any case, as `stage` and the bodies' `priority` are read: `OPEN` is open.
    value = _query_text(call, name)
    value = value.lower() if value is not None else None
    if value is not None and value not in members:
        raise ApiError("invalid", t("api.param_invalid", param=name, expected=", ".join(members)))
    return value


def list_tickets(ctx: Ctx, call: Call) -> Answer:
    """GET /tickets."""
    t = _t(ctx)
    status = _enum_param(call, "status", [s.value for s in TicketStatus], t)
    priority = _enum_param(call, "priority", [p.value for p in TicketPriority], t)
    page = pages.tickets_page(
        ctx,
        after=_cursor(call, t),
        limit=_limit(call, t),
        status=TicketStatus(status) if status else None,
        priority=TicketPriority(priority) if priority else None,
        assignee_id=_id_of(_assignee(ctx, _query_text(call, "assignee"))),
        customer_id=_query_int(call, "customer_id", t),
    )
    _prime(ctx, [k.created_by_id for k in page.items])
    return Answer(_page_json(ctx, page, lambda k: ticket_json(ctx, k)))


def get_ticket(ctx: Ctx, call: Call) -> Answer:
    """GET /tickets/{id}: the ticket with its timeline."""
    return Answer(ticket_json(ctx, pages.ticket_by_id(ctx, _id(call)), events=True))


def _assignee(ctx: Ctx, handle: str | None) -> User | None:
    if handle is not None and handle.strip().lower() == "me":
        return ctx.actor
    return _owner(ctx, handle)


def _priority(value: str | None) -> TicketPriority | None:
    return ticket_svc.check_priority(value) if value is not None else None


def create_ticket(ctx: Ctx, call: Call) -> Answer:
    """POST /tickets: open a ticket, as `ticket Acme: ...` does."""
    f = Fields(
        call.body, ("customer_id", "subject", "description", "priority", "assignee"), _t(ctx)
    )
    customer_id = f.ident("customer_id", required=True)
    assert customer_id is not None
    subject, description = f.required("subject"), f.text("description")
    priority = _priority(f.text("priority")) or TicketPriority.normal
    assignee = _assignee(ctx, f.text("assignee"))
    customer = pages.writable_customer(ctx, customer_id)
    ticket, _ = ticket_svc.open_ticket(
        ctx,
        customer,
        subject,
        description=description,
        priority=priority,
        assignee=assignee,
        source="api",
    )
    ctx.session.flush()
    return Answer(ticket_json(ctx, ticket, events=True), created=True)


def update_ticket(ctx: Ctx, call: Call) -> Answer:
    """PATCH /tickets/{id}: assign, change the priority, log a reply, move the status.

    Each change goes through the service its chat verb uses (`assign`, `priority`, `reply`,
    `wait`, `resolve`, `reopen`), in that order and in one transaction: the same checks, SLA
    clocks, timeline events and audit entries.
    """
    t = _t(ctx)
    f = Fields(call.body, ("status", "text", "assignee", "priority", "reply"), t)
    status = f.text("status")
    status = status.lower() if status is not None else None
    if status is not None and status not in [s.value for s in TicketStatus]:
        raise ApiError(
            "invalid",
            t("api.field_type", field="status", expected=", ".join(s.value for s in TicketStatus)),
        )
    text, reply = f.text("text"), f.text("reply")
    assignee = _assignee(ctx, f.text("assignee"))
    priority = _priority(f.text("priority"))
    if status is None and assignee is None and priority is None and reply is None:
        raise ApiError("invalid", t("api.ticket_change"))
    if text is not None and status is None:
        raise ApiError("invalid", t("api.ticket_text_alone"))
    if status == TicketStatus.new:
        raise ApiError("invalid", t("api.ticket_not_new"))
    ticket_id = _id(call)
    ticket = pages.ticket_by_id(ctx, ticket_id)
    if assignee is not None:
        ticket_svc.assign_ticket(ctx, ticket_id, assignee)
    if priority is not None:
        ticket_svc.set_priority(ctx, ticket_id, priority)
    if reply is not None:
        ticket_svc.reply_ticket(ctx, ticket_id, reply)
    lock_for_update(ctx.session, ticket)
    if status is not None and ticket.status.value == status:
        # A retry of a status change that was made: nothing is written again (PUT semantics).
        status = None
    if status == TicketStatus.waiting:
        ticket_svc.wait_ticket(ctx, ticket_id, text)
    elif status == TicketStatus.resolved:
        ticket_svc.resolve_ticket(ctx, ticket_id, text or "")
    elif status == TicketStatus.open:
        ticket_svc.reopen_ticket(ctx, ticket_id, text)
    elif status == TicketStatus.closed:
        ticket_svc.close_ticket(ctx, ticket_id)
    ctx.session.flush()
    return Answer(ticket_json(ctx, ticket, events=True))


def list_fields(ctx: Ctx, call: Call) -> Answer:
    """GET /fields: the custom fields declared on customers, contacts and deals."""
    t = _t(ctx)
    record = _enum_param(call, "record", list(rules.CUSTOM_RECORDS), t)
    found = [f for f in field_svc.all_fields(ctx) if record is None or f.record == record]
    return Answer({"items": [field_json(f) for f in found], "next": None})


@dataclass(frozen=True)
class Operation:
    """One API operation: its function and whether it writes (read tokens may not)."""

    run: Callable[[Ctx, Call], Answer]
    writes: bool


OPERATIONS: dict[str, Operation] = {
    "listCustomers": Operation(list_customers, False),
    "getCustomer": Operation(get_customer, False),
    "createCustomer": Operation(create_customer, True),
    "updateCustomer": Operation(update_customer, True),
    "listContacts": Operation(list_contacts, False),
    "getContact": Operation(get_contact, False),
    "createContact": Operation(create_contact, True),
    "updateContact": Operation(update_contact, True),
    "deleteContact": Operation(delete_contact, True),
    "listDeals": Operation(list_deals, False),
    "getDeal": Operation(get_deal, False),
    "createDeal": Operation(create_deal, True),
    "updateDeal": Operation(update_deal, True),
    "moveDeal": Operation(move_deal, True),
    "listInteractions": Operation(list_interactions, False),
    "getInteraction": Operation(get_interaction, False),
    "createInteraction": Operation(create_interaction, True),
    "updateInteraction": Operation(update_interaction, True),
    "listReminders": Operation(list_reminders, False),
    "getReminder": Operation(get_reminder, False),
    "createReminder": Operation(create_reminder, True),
    "updateReminder": Operation(update_reminder, True),
    "listTickets": Operation(list_tickets, False),
    "getTicket": Operation(get_ticket, False),
    "createTicket": Operation(create_ticket, True),
    "updateTicket": Operation(update_ticket, True),
    "listFields": Operation(list_fields, False),
}


class RestApi:
    """The API's front door for the HTTP adapter: who a token is, and running one operation."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    def authenticate(self, token: str) -> Caller | None:
        """The caller a bearer token acts as, or None (unknown, revoked, inactive user)."""
        with unit_of_work(self.dispatcher.session_factory) as session:
            return authenticate(session, token, now=self.dispatcher.clock())

    def refusal(self, code: str, key: str, *, locale: str = "en", **params: Any) -> ApiError:
        """An error outside an operation, in `locale` (the client's Accept-Language, else the
        token user's once known, else English)."""
        return ApiError(code, Translator(locale)(key, **params))

    def run(
        self, caller: Caller, operation: str, call: Call, *, locale: str | None = None
    ) -> Answer:
        """Run one operation as the token's user in one unit of work; refusals raise ApiError.

        Messages are in `locale` when the client asked for one (Accept-Language), else in the
        token user's language.
        """
        op = OPERATIONS[operation]
        t = Translator(locale or "en")

        def once() -> Answer:
            nonlocal t
            with unit_of_work(self.dispatcher.session_factory) as session:
                user = session.get(User, caller.user_id)
                if user is None or not user.active:
                    raise ApiError("unauthorized", t("api.unauthorized"))
                t = Translator(locale or user.locale)
                if op.writes and not caller.may_write:
                    raise ApiError("forbidden", t("api.read_only", handle=user.external_id))
                ctx = self.dispatcher.context(session, user)
                if locale:
                    ctx.memo[API_LOCALE] = locale
                answer = op.run(ctx, call)
                if not op.writes:
                    # Reads write nothing; a service's incidental flush is not kept.
                    session.rollback()
                return answer

        try:
            # A deadlock or serialization failure with another worker: the whole unit of work
            # again, as the dispatcher does (crm_core.db.retrying).
            return retrying(once)
        except NotFound as exc:
            raise ApiError("not_found", self.message(exc, t)) from None
        except PermissionDenied as exc:
            raise ApiError("forbidden", self.message(exc, t)) from None
        except (Invalid, Ambiguous) as exc:
            raise ApiError("invalid", self.message(exc, t)) from None
        except CrmError as exc:
            raise ApiError("invalid", self.message(exc, t)) from None

    def message(self, exc: CrmError, t: Translator) -> str:
        """A service's refusal worded for a program's author: what to send, not what to type.

        The API's own wording (`api.<key>`) where the chat message is an instruction to type;
        otherwise the chat message without its sentences that quote a chat command.
        """
        own = f"api.{exc.key}"
        if t.has(own):
            exc.params.setdefault("max_amount", str(rules.MAX_AMOUNT))
            return self.dispatcher.message(exc, t, key=own)
        return without_chat_commands(self.dispatcher.message(exc, t))


# A sentence: up to a full stop, question or exclamation mark that ends it (not one inside
# 1200.50), or a Chinese one.
_SENTENCE = re.compile(r".*?(?:[.!?](?=\s|$)|[。！？]|$)\s*", re.DOTALL)


def without_chat_commands(text: str) -> str:
    """`text` without the sentences that quote a chat command (`customers`, `move #18 to
    lost: ...`): the API refuses them, and its client sends fields, not commands."""
    sentences = [m.group(0) for m in _SENTENCE.finditer(text) if m.group(0)]
    kept = "".join(s for s in sentences if "`" not in s).strip()
    return kept or text


__all__ = ["OPERATIONS", "Answer", "ApiError", "Call", "Caller", "RestApi"]
