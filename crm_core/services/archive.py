"""Archiving a customer: out of every list and report, its card kept, writes refused."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from crm_core import audit
from crm_core.access import can_see_owner
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.errors import NotFound
from crm_core.models import Customer, Deal, Ticket, TicketStatus


@dataclass(frozen=True)
class ArchivePlan:
    """What archiving a customer takes out of view: its open deals leave the pipeline too."""

    customer: Customer
    open_deals: int
    # Its tickets not yet resolved: they stay open and workable (see ticket_branches).
    open_tickets: list[int] = field(default_factory=list)


def _check(ctx: Ctx, customer: Customer) -> None:
    # Who may archive is who may change the customer: the owner (a rep archives their own,
    # as archiving is undone by unarchive and loses nothing), their manager, an admin.
    owner = customer.owner
    if customer.merged_into is not None or not can_see_owner(ctx.actor, owner.id, owner.team_id):
        raise NotFound("error.customer_ref_not_found", id=customer.id)


def plan_archive(ctx: Ctx, customer: Customer) -> ArchivePlan:
    """The preview of archiving `customer`; writes nothing."""
    _check(ctx, customer)
    closed = [st.name for st in ctx.pipeline.stages if st.closed]
    deals = ctx.session.scalar(
        select(func.count())
        .select_from(Deal)
        .where(Deal.customer_id == customer.id, Deal.stage.not_in(closed))
    )
    done = (TicketStatus.resolved, TicketStatus.closed)
    tickets = ctx.session.scalars(
        select(Ticket.id)
        .where(Ticket.customer_id == customer.id, Ticket.status.not_in(done))
        .order_by(Ticket.id)
    )
    return ArchivePlan(customer, int(deals or 0), list(tickets))


def set_archived(ctx: Ctx, customer: Customer, archived: bool) -> bool:
    """Archive or unarchive `customer`; False when it already was (nothing written)."""
    _check(ctx, customer)
    lock_for_update(ctx.session, customer)
    if (customer.archived_at is not None) == archived:
        return False
    before = audit.snapshot(customer)
    customer.archived_at = ctx.now() if archived else None
    customer.updated_at = ctx.now()
    action = "customer.archive" if archived else "customer.unarchive"
    audit.record(ctx.session, ctx.actor, action, customer, before)
    return True
