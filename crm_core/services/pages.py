"""Records by id and in keyset pages, for the REST API, behind the same access rules as chat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute

from crm_core.access import book_filter, customer_filter, on_visible_customer, ticket_filter
from crm_core.context import Ctx
from crm_core.errors import Invalid, NotFound
from crm_core.models import (
    Contact,
    Customer,
    Deal,
    Interaction,
    InteractionKind,
    Reminder,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from crm_core.resolve import contains
from crm_core.services.reminders import get_reminder, manageable
from crm_core.services.tickets import get_ticket
from crm_core.text import fold, name_key

T = TypeVar("T")
MAX_PAGE = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of records in id order, and the id to continue after (None: the last page)."""

    items: list[T]
    after: int | None


def _page(ctx: Ctx, stmt: Select[Any], id_col: Any, after: int | None, limit: int) -> Page[Any]:
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid("error.api_limit_invalid", limit=MAX_PAGE)
    if after is not None:
        stmt = stmt.where(id_col > after)
    rows: Sequence[Any] = ctx.session.scalars(stmt.order_by(id_col).limit(limit + 1)).all()
    more = len(rows) > limit
    items = list(rows[:limit])
    return Page(items, int(items[-1].id) if more and items else None)


def _unindexed(column: InstrumentedAttribute[str]) -> ColumnElement[str]:
    """`column` as an expression no index serves.

    A stage matches thousands of deals: read through the stage index they must all be sorted
    by id before the first page; walking the id order and testing the stage stops after it.
    """
    return column.concat("")


# --- by id: a record in another book answers exactly like a missing one ----------------------


def customer_by_id(ctx: Ctx, customer_id: int) -> Customer:
    """A customer in the actor's book, archived or merged away included (their state shows)."""
    found = ctx.session.scalar(
        select(Customer).where(Customer.id == customer_id, book_filter(ctx.actor))
    )
    if found is None:
        raise NotFound("error.customer_ref_not_found", id=customer_id)
    return found


def writable_customer(ctx: Ctx, customer_id: int) -> Customer:
    """A customer to write on: a merged-away one names the customer to use instead."""
    found = customer_by_id(ctx, customer_id)
    if found.merged_into is not None:
        raise Invalid("error.api_customer_merged", id=found.id, into=found.merged_into)
    return found


def contact_by_id(ctx: Ctx, contact_id: int) -> Contact:
    """A contact of a customer in the actor's book."""
    found = ctx.session.scalar(
        select(Contact)
        .join(Customer, Customer.id == Contact.customer_id)
        .where(Contact.id == contact_id, book_filter(ctx.actor))
    )
    if found is None:
        raise NotFound("error.contact_ref_not_found", id=contact_id)
    return found


def deal_by_id(ctx: Ctx, deal_id: int) -> Deal:
    """A deal on a customer in the actor's book."""
    found = ctx.session.scalar(
        select(Deal)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(Deal.id == deal_id, book_filter(ctx.actor))
    )
    if found is None:
        raise NotFound("error.deal_ref_not_found", id=deal_id)
    return found


def interaction_by_id(ctx: Ctx, interaction_id: int) -> Interaction:
    """A live (not undone) interaction on a customer in the actor's book."""
    found = ctx.session.scalar(
        select(Interaction)
        .join(Customer, Customer.id == Interaction.customer_id)
        .where(
            Interaction.id == interaction_id,
            Interaction.deleted_at.is_(None),
            book_filter(ctx.actor),
        )
    )
    if found is None:
        raise NotFound("error.interaction_not_found", id=interaction_id)
    return found


def reminder_by_id(ctx: Ctx, reminder_id: int) -> Reminder:
    """A reminder the actor owns, created or manages (the rule `reminders` follows)."""
    return get_reminder(ctx, reminder_id)


def ticket_by_id(ctx: Ctx, ticket_id: int) -> Ticket:
    """A ticket the actor may see (their book's, assigned to them, a manager's team's)."""
    return get_ticket(ctx, ticket_id)


# --- pages -----------------------------------------------------------------------------------


def customers_page(
    ctx: Ctx,
    *,
    after: int | None = None,
    limit: int = 50,
    query: str | None = None,
    owner_id: int | None = None,
    city: str | None = None,
    industry: str | None = None,
) -> Page[Customer]:
    """Live customers in the actor's book, filtered by name part, owner, city or industry."""
    conds: list[ColumnElement[bool]] = [customer_filter(ctx.actor)]
    if query:
        key = name_key(query)
        if not key:
            raise Invalid("error.search_missing")
        conds.append(contains(Customer.name_key, key))
    if owner_id is not None:
        conds.append(Customer.owner_id == owner_id)
    if city:
        conds.append(func.lower(Customer.city) == fold(city))
    if industry:
        conds.append(func.lower(Customer.industry) == fold(industry))
    return _page(ctx, select(Customer).where(*conds), Customer.id, after, limit)


def contacts_page(
    ctx: Ctx,
    *,
    after: int | None = None,
    limit: int = 50,
    customer_id: int | None = None,
    query: str | None = None,
) -> Page[Contact]:
    """Contacts of live customers in the actor's book, by customer or name/email part."""
    stmt = select(Contact).where(on_visible_customer(ctx.actor, Contact.customer_id))
    if customer_id is not None:
        stmt = stmt.where(Contact.customer_id == customer_id)
    if query:
        folded = fold(query)
        stmt = stmt.where(
            contains(func.lower(Contact.name), folded) | contains(func.lower(Contact.email), folded)
        )
    return _page(ctx, stmt, Contact.id, after, limit)


def deals_page(
    ctx: Ctx,
    *,
    after: int | None = None,
    limit: int = 50,
    customer_id: int | None = None,
    stage: str | None = None,
    owner_id: int | None = None,
    is_open: bool | None = None,
) -> Page[Deal]:
    """Deals on live customers in the actor's book, by customer, stage, owner or openness."""
    stmt = select(Deal).where(on_visible_customer(ctx.actor, Deal.customer_id))
    if customer_id is not None:
        stmt = stmt.where(Deal.customer_id == customer_id)
    if stage:
        named = ctx.pipeline.get(stage)
        if named is None:
            raise Invalid(
                "error.stage_unknown",
                value=stage,
                stages=", ".join(s.name for s in ctx.pipeline.stages),
            )
        stmt = stmt.where(_unindexed(Deal.stage) == named.name)
    if owner_id is not None:
        stmt = stmt.where(Deal.owner_id == owner_id)
    if is_open is not None:
        open_names = [s.name for s in ctx.pipeline.open_stages]
        walked = _unindexed(Deal.stage)
        stmt = stmt.where(walked.in_(open_names) if is_open else walked.not_in(open_names))
    return _page(ctx, stmt, Deal.id, after, limit)


def interactions_page(
    ctx: Ctx,
    *,
    after: int | None = None,
    limit: int = 50,
    customer_id: int | None = None,
    deal_id: int | None = None,
    kind: InteractionKind | None = None,
) -> Page[Interaction]:
    """Live interactions on live customers in the actor's book, by customer, deal or kind."""
    stmt = select(Interaction).where(
        on_visible_customer(ctx.actor, Interaction.customer_id), Interaction.deleted_at.is_(None)
    )
    if customer_id is not None:
        stmt = stmt.where(Interaction.customer_id == customer_id)
    if deal_id is not None:
        stmt = stmt.where(Interaction.deal_id == deal_id)
    if kind is not None:
        stmt = stmt.where(Interaction.kind == kind)
    return _page(ctx, stmt, Interaction.id, after, limit)


def reminders_page(
    ctx: Ctx,
    *,
    after: int | None = None,
    limit: int = 50,
    status: str | None = None,
    owner_id: int | None = None,
    customer_id: int | None = None,
) -> Page[Reminder]:
    """Reminders the actor owns, created or manages, by status, owner or customer."""
    stmt = select(Reminder).where(*manageable(ctx.actor))
    if status is not None:
        stmt = stmt.where(Reminder.status == status)
    if owner_id is not None:
        stmt = stmt.where(Reminder.owner_id == owner_id)
    if customer_id is not None:
        stmt = stmt.where(Reminder.customer_id == customer_id)
    return _page(ctx, stmt, Reminder.id, after, limit)


def tickets_page(
    ctx: Ctx,
    *,
    after: int | None = None,
    limit: int = 50,
    status: TicketStatus | None = None,
    priority: TicketPriority | None = None,
    assignee_id: int | None = None,
    customer_id: int | None = None,
) -> Page[Ticket]:
    """Tickets the actor may see (as `tickets` and `ticket #N` decide), by status, priority,
    assignee or customer."""
    stmt = select(Ticket).where(ticket_filter(ctx.actor))
    if status is not None:
        stmt = stmt.where(Ticket.status == status)
    if priority is not None:
        stmt = stmt.where(Ticket.priority == priority)
    if assignee_id is not None:
        stmt = stmt.where(Ticket.assignee_id == assignee_id)
    if customer_id is not None:
        stmt = stmt.where(Ticket.customer_id == customer_id)
    return _page(ctx, stmt, Ticket.id, after, limit)
