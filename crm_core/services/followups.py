"""Follow-ups: a reminder to the actor to get back to a customer on a given day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from crm_core import audit
from crm_core.access import ensure_customer_access
from crm_core.context import Ctx
from crm_core.errors import Invalid
from crm_core.models import Customer, Deal, Reminder, ReminderStatus

# A follow-up day means the start of that working day in the actor's zone (or now, for today).
FOLLOW_UP_AT = time(9, 0)
MAX_TEXT = 2_000


def add_follow_up(
    ctx: Ctx, customer: Customer, day: date, text: str, *, deal: Deal | None = None
) -> Reminder:
    """Create a pending reminder for the actor on `day` at 09:00 local time."""
    ensure_customer_access(ctx.actor, customer)
    text = " ".join(text.split())
    if not text:
        raise Invalid("error.follow_up_text_missing")
    if len(text) > MAX_TEXT:
        raise Invalid("error.too_long", field="text", limit=MAX_TEXT)
    now = ctx.now()
    if day < now.astimezone(ctx.tz).date():
        raise Invalid("error.follow_up_in_past", day=day.isoformat())
    if deal is not None and deal.customer_id != customer.id:
        raise Invalid("error.deal_other_customer", deal=deal.title, customer=customer.name)
    due = max(datetime.combine(day, FOLLOW_UP_AT, tzinfo=ctx.tz).astimezone(UTC), now)
    reminder = Reminder(
        owner_id=ctx.actor.id,
        due_at=due,
        text=text,
        customer_id=customer.id,
        deal_id=deal.id if deal else None,
        status=ReminderStatus.pending,
        created_by_id=ctx.actor.id,
        created_at=now,
    )
    ctx.session.add(reminder)
    audit.record(ctx.session, ctx.actor, "reminder.create", reminder, None)
    return reminder
