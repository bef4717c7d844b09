"""Deals: create, list, move through the pipeline (with history)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from crm_core import audit, rules
from crm_core.access import (
    can_assign_owner,
    can_see_owner,
    customer_filter,
    ensure_customer_access,
)
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.errors import Invalid, PermissionDenied
from crm_core.models import Customer, Deal, Product, StageChange, User
from crm_core.stages import Stage
from crm_core.text import name_key

MAX_AMOUNT = rules.MAX_AMOUNT
MAX_TITLE = 300
MAX_REASON = 500
MAX_QUANTITY = 10_000_000


def create_deal(
    ctx: Ctx,
    customer: Customer,
    title: str,
    *,
    amount: Decimal | None = None,
    currency: str | None = None,
    expected_close: date | None = None,
    stage: str | None = None,
    owner: User | None = None,
    product: Product | None = None,
    quantity: int | None = None,
) -> Deal:
    """Open a deal on a customer; its first stage is recorded in the history.

    With a product and no amount, the amount is the product's price times the quantity.
    """
    ensure_customer_access(ctx.actor, customer)
    title = rules.name("title", title, MAX_TITLE)
    if not title:
        raise Invalid("error.deal_title_missing")
    if amount is not None:
        rules.amount(amount)
    if expected_close is not None:
        rules.day("close date", expected_close)
    target = ctx.pipeline.get(stage) if stage else ctx.pipeline.first_open
    if target is None:
        raise Invalid("error.stage_unknown", value=stage or "", stages=_stage_list(ctx))
    if target.closed:
        raise Invalid("error.deal_new_closed", stage=target.name)
    owner = owner or ctx.actor
    if not owner.active:
        raise Invalid("error.owner_inactive", owner=owner.name)
    if not can_assign_owner(ctx.actor, owner):
        raise PermissionDenied("error.cannot_assign_owner", owner=owner.name)
    if not can_see_owner(owner, customer.owner_id, customer.owner.team_id):
        # A deal owned by someone who cannot see its customer would vanish from their pipeline.
        raise Invalid("error.deal_owner_cannot_see", owner=owner.name, customer=customer.name)
    if currency is not None:
        currency = rules.currency(currency)
    if quantity is not None and not 1 <= quantity <= MAX_QUANTITY:
        raise Invalid("error.quantity_invalid", value=str(quantity))
    if product is not None and amount is None and product.price is not None:
        amount = rules.amount(product.price * (quantity or 1))
        currency = currency or product.currency
    key = name_key(title)
    for other in ctx.session.scalars(select(Deal).where(Deal.customer_id == customer.id)):
        if other.title_key == key and not _stage_closed(ctx, other.stage):
            raise Invalid("error.deal_exists", title=other.title, customer=customer.name)
    now = ctx.now()
    deal = Deal(
        customer_id=customer.id,
        title=title,
        title_key=key,
        amount=amount.quantize(Decimal("0.01")) if amount is not None else None,
        currency=(currency or ctx.default_currency).upper(),
        stage=target.name,
        owner_id=owner.id,
        expected_close=expected_close,
        product_id=product.id if product is not None else None,
        quantity=quantity,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(deal)
    ctx.session.flush()
    ctx.session.add(
        StageChange(
            deal_id=deal.id,
            from_stage=None,
            to_stage=target.name,
            changed_at=now,
            actor_id=ctx.actor.id,
        )
    )
    audit.record(ctx.session, ctx.actor, "deal.create", deal, None)
    return deal


def _stage_closed(ctx: Ctx, name: str) -> bool:
    stage = ctx.pipeline.get(name)
    return bool(stage and stage.closed)


def _stage_list(ctx: Ctx) -> str:
    return ", ".join(s.name for s in ctx.pipeline.stages)


def move_deal(ctx: Ctx, deal: Deal, stage_name: str, *, reason: str | None = None) -> StageChange:
    """Move a deal to another stage; losing needs a reason; closing stamps closed_at."""
    # The stage it moves from is the one it is in now, not the one seen when it was resolved.
    lock_for_update(ctx.session, deal)
    ensure_customer_access(ctx.actor, deal.customer)
    target: Stage | None = ctx.pipeline.get(stage_name)
    if target is None:
        raise Invalid("error.stage_unknown", value=stage_name, stages=_stage_list(ctx))
    if target.name == deal.stage:
        raise Invalid("error.deal_already_in", title=deal.title, stage=target.name)
    reason = rules.name("reason", reason or "", MAX_REASON) or None
    if target.lost and not reason:
        raise Invalid("error.lost_reason_missing", title=deal.title, stage=target.name)
    before = audit.snapshot(deal)
    now = ctx.now()
    change = StageChange(
        deal_id=deal.id,
        from_stage=deal.stage,
        to_stage=target.name,
        changed_at=now,
        actor_id=ctx.actor.id,
        reason=reason,
    )
    deal.stage = target.name
    deal.closed_at = now if target.closed else None
    deal.lost_reason = reason if target.lost else None
    deal.updated_at = now
    ctx.session.add(change)
    audit.record(ctx.session, ctx.actor, "deal.move", deal, before)
    return change


def customer_deals(ctx: Ctx, customer: Customer) -> list[Deal]:
    """A customer's deals: open ones first by expected close, then closed ones, newest first."""
    ensure_customer_access(ctx.actor, customer)
    deals = ctx.session.scalars(select(Deal).where(Deal.customer_id == customer.id)).all()
    order = {s.name: s.order for s in ctx.pipeline.stages}

    def sort_key(d: Deal) -> tuple[int, int, date, int]:
        closed = _stage_closed(ctx, d.stage)
        when = d.expected_close or date.max
        return (1 if closed else 0, order.get(d.stage, 99) if not closed else 0, when, -d.id)

    return sorted(deals, key=sort_key)


def open_deals(ctx: Ctx, *, limit: int = 25) -> list[tuple[Deal, Customer]]:
    """The open deals the actor may see, soonest expected close first."""
    open_names = [s.name for s in ctx.pipeline.open_stages]
    rows = ctx.session.execute(
        select(Deal, Customer)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(customer_filter(ctx.actor), Deal.stage.in_(open_names))
        .order_by(Deal.expected_close.is_(None), Deal.expected_close, Deal.id)
        .limit(limit)
    ).all()
    return [(deal, customer) for deal, customer in rows]


FORECAST_CATEGORIES = ("pipeline", "best_case", "commit")


def set_forecast_category(ctx: Ctx, deal: Deal, category: str | None) -> None:
    """Put an open deal in a forecast category, or (None) let its stage decide again."""
    ensure_customer_access(ctx.actor, deal.customer)
    if category is not None and category not in FORECAST_CATEGORIES:
        raise Invalid("error.forecast_category", value=category)
    if _stage_closed(ctx, deal.stage):
        raise Invalid("error.forecast_closed", title=deal.title, stage=deal.stage)
    if deal.forecast_category == category:
        return
    before = audit.snapshot(deal)
    deal.forecast_category = category
    deal.updated_at = ctx.now()
    audit.record(ctx.session, ctx.actor, "deal.forecast", deal, before)
