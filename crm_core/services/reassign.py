"""Reassigning a customer (and its open deals) to another owner, who is told, as is the old one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from crm_core import audit
from crm_core.access import can_assign_owner, ensure_customer_access
from crm_core.context import Ctx
from crm_core.db import lock_deals_of, lock_for_update
from crm_core.errors import Invalid, PermissionDenied
from crm_core.models import Customer, Deal, OwnerNotice, Role, User


@dataclass(frozen=True)
class Reassigned:
    """What a reassignment did."""

    customer: Customer
    old_owner: User
    new_owner: User
    deals: list[Deal]


def reassign_customer(
    ctx: Ctx, customer: Customer, new_owner: User, *, with_deals: bool = False
) -> Reassigned:
    """Give `customer` (and with `with_deals` its open deals) to `new_owner`; audited.

    Managers within their team, admins anyone; reps are refused. The old and the new owner
    each get a notice row, sent once by the scheduler (schedules/notices.py).
    """
    if ctx.actor.role == Role.rep:
        raise PermissionDenied("error.reassign_rep")
    # A customer outside the manager's book answers like a missing one.
    ensure_customer_access(ctx.actor, customer)
    if not can_assign_owner(ctx.actor, new_owner):
        key = "error.reassign_inactive" if not new_owner.active else "error.reassign_outside"
        raise Invalid(key, name=new_owner.name, customer=customer.name)
    if with_deals:
        # Deals before the customer, the order a deal write takes its locks in.
        lock_deals_of(ctx.session, customer.id, open_only=True)
    lock_for_update(ctx.session, customer)
    old_owner = customer.owner
    if old_owner.id == new_owner.id:
        raise Invalid("error.reassign_same", customer=customer.name, name=new_owner.name)
    before = audit.snapshot(customer)
    customer.owner_id = new_owner.id
    customer.updated_at = ctx.now()
    audit.record(ctx.session, ctx.actor, "customer.reassign", customer, before)
    moved: list[Deal] = []
    if with_deals:
        open_deals = ctx.session.scalars(
            select(Deal)
            .where(Deal.customer_id == customer.id, Deal.closed_at.is_(None))
            .order_by(Deal.id)
        ).all()
        for deal in open_deals:
            lock_for_update(ctx.session, deal)
            if deal.closed_at is not None or deal.owner_id == new_owner.id:
                continue
            was = audit.snapshot(deal)
            deal.owner_id = new_owner.id
            audit.record(ctx.session, ctx.actor, "deal.reassign", deal, was)
            moved.append(deal)
    # The person who did it has the reply; the notices are for owners who were not there.
    for user, other, gained in ((old_owner, new_owner, False), (new_owner, old_owner, True)):
        if user.id != ctx.actor.id:
            ctx.session.add(
                OwnerNotice(
                    user_id=user.id,
                    customer_id=customer.id,
                    actor_id=ctx.actor.id,
                    other_id=other.id,
                    gained=gained,
                    deals=len(moved),
                    status="pending",
                    created_at=ctx.now(),
                )
            )
    ctx.session.flush()
    return Reassigned(customer, old_owner, new_owner, moved)
