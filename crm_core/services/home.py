"""A person's own dashboard: reminders due today, open deals by stage, recent customers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from crm_core.access import customer_filter, live_customer
from crm_core.context import Ctx
from crm_core.models import Customer, Deal, Interaction, Reminder, ReminderStatus


@dataclass
class Home:
    """What the App Home tab (or any dashboard) shows for one person."""

    reminders: list[Reminder] = field(default_factory=list)
    # Stage name -> the person's open deals in it (with their customers), in pipeline order.
    deals: dict[str, list[tuple[Deal, Customer]]] = field(default_factory=dict)
    customers: list[Customer] = field(default_factory=list)


def end_of_today(ctx: Ctx) -> datetime:
    """Midnight at the end of the actor's local day, as aware UTC."""
    local = ctx.now().astimezone(ctx.tz).date() + timedelta(days=1)
    return datetime.combine(local, time(0), tzinfo=ctx.tz).astimezone(UTC)


def reminders_due_today(ctx: Ctx, *, limit: int = 10) -> list[Reminder]:
    """The actor's pending reminders due by the end of their day (overdue ones first)."""
    return list(
        ctx.session.scalars(
            select(Reminder)
            .where(
                Reminder.owner_id == ctx.actor.id,
                Reminder.status == ReminderStatus.pending,
                Reminder.due_at < end_of_today(ctx),
            )
            .order_by(Reminder.due_at)
            .limit(limit)
        )
    )


def my_open_deals_by_stage(
    ctx: Ctx, *, per_stage: int = 5
) -> dict[str, list[tuple[Deal, Customer]]]:
    """The actor's own open deals grouped by stage (soonest expected close first)."""
    open_names = [s.name for s in ctx.pipeline.open_stages]
    rows = ctx.session.execute(
        select(Deal, Customer)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(
            Deal.owner_id == ctx.actor.id, Deal.stage.in_(open_names), customer_filter(ctx.actor)
        )
        .order_by(Deal.expected_close.is_(None), Deal.expected_close, Deal.id)
    ).all()
    grouped: dict[str, list[tuple[Deal, Customer]]] = {}
    for name in open_names:
        picked = [(d, c) for d, c in rows if d.stage == name][:per_stage]
        if picked:
            grouped[name] = picked
    return grouped


def my_recent_customers(ctx: Ctx, *, limit: int = 5) -> list[Customer]:
    """Customers the actor logged notes on most recently, topped up with their newest own ones."""
    latest = (
        select(Interaction.customer_id, func.max(Interaction.occurred_at).label("at"))
        .where(Interaction.author_id == ctx.actor.id, Interaction.deleted_at.is_(None))
        .group_by(Interaction.customer_id)
        .subquery()
    )
    found = list(
        ctx.session.scalars(
            select(Customer)
            .join(latest, latest.c.customer_id == Customer.id)
            .where(customer_filter(ctx.actor))
            .order_by(latest.c.at.desc(), Customer.id)
            .limit(limit)
        )
    )
    if len(found) < limit:
        seen = [c.id for c in found]
        found += ctx.session.scalars(
            select(Customer)
            .where(Customer.owner_id == ctx.actor.id, live_customer(), Customer.id.not_in(seen))
            .order_by(Customer.created_at.desc(), Customer.id.desc())
            .limit(limit - len(found))
        )
    return found


def home(ctx: Ctx) -> Home:
    """Everything on the actor's dashboard."""
    return Home(reminders_due_today(ctx), my_open_deals_by_stage(ctx), my_recent_customers(ctx))
